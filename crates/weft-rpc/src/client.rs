//! Channels to other nodes: one lazily connected HTTP/2 channel per peer address, with a
//! connect time-out, a time-out on every request, keep-alive pings that find a dead peer
//! of a long stream, and cluster TLS when configured.

use std::sync::Arc;
use std::time::Duration;

use tonic::transport::{Channel, Endpoint};

use crate::{ClusterTls, RpcError};

/// How this node calls others.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Longest wait for a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Longest wait for a unary call's answer, or for a stream's response to begin.
    pub request_timeout: Duration,
    /// Keep-alive ping interval on idle connections; a peer that misses one is dropped.
    pub keep_alive: Duration,
    pub tls: Option<Arc<ClusterTls>>,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(10),
            keep_alive: Duration::from_secs(5),
            tls: None,
        }
    }
}

/// The host of `address` (`host:port` or `[v6]:port`), checked to have a port.
pub fn host_of(address: &str) -> Result<&str, RpcError> {
    let bad = |reason: &str| RpcError::BadAddress {
        address: address.to_string(),
        reason: reason.to_string(),
    };
    let (host, port) = address.rsplit_once(':').ok_or_else(|| bad("no port"))?;
    port.parse::<u16>()
        .map_err(|_| bad("the port is not a number from 0 to 65535"))?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if host.is_empty() {
        return Err(bad("no host"));
    }
    Ok(host)
}

/// A channel to the node at `address`. It connects on first use and reconnects by itself
/// after a failure; calls made while the peer is down fail with `Unavailable`.
pub fn channel(address: &str, config: &ClientConfig) -> Result<Channel, RpcError> {
    let host = host_of(address)?;
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    let endpoint = Endpoint::from_shared(format!("{scheme}://{address}")).map_err(|e| RpcError::BadAddress {
        address: address.to_string(),
        reason: e.to_string(),
    })?;
    let mut endpoint = endpoint
        .connect_timeout(config.connect_timeout)
        .timeout(config.request_timeout)
        .tcp_nodelay(true)
        .http2_keep_alive_interval(config.keep_alive)
        .keep_alive_timeout(config.keep_alive)
        .keep_alive_while_idle(true);
    if let Some(tls) = &config.tls {
        endpoint = endpoint
            .tls_config(tls.client_config(host))
            .map_err(|e| RpcError::Tls(e.to_string()))?;
    }
    Ok(endpoint.connect_lazy())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_need_a_host_and_a_port() {
        assert_eq!(host_of("10.0.0.1:7000").unwrap(), "10.0.0.1");
        assert_eq!(host_of("[::1]:7000").unwrap(), "::1");
        assert_eq!(host_of("node-2:1").unwrap(), "node-2");
        for bad in ["10.0.0.1", ":7000", "h:port", "h:70000"] {
            assert!(host_of(bad).is_err(), "{bad}");
        }
    }
}
