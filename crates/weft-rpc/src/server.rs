//! The server side: a tonic server builder with this crate's settings (keep-alive, no
//! Nagle, cluster TLS when configured) and a listener bound to a node address.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_stream::wrappers::TcpListenerStream;
use tokio_stream::{Stream, StreamExt};
use tonic::transport::Server;

use crate::{ClusterTls, RpcError};

/// How this node serves others.
#[derive(Clone, Debug, Default)]
pub struct ServerConfig {
    pub tls: Option<Arc<ClusterTls>>,
}

/// A server builder: add the layer's services to it and serve [`bind`]'s listener.
pub fn builder(config: &ServerConfig) -> Result<Server, RpcError> {
    let mut server = Server::builder()
        .tcp_nodelay(true)
        .http2_keepalive_interval(Some(Duration::from_secs(5)))
        .http2_keepalive_timeout(Some(Duration::from_secs(5)));
    if let Some(tls) = &config.tls {
        server = server.tls_config(tls.server_config())?;
    }
    Ok(server)
}

/// The connections `listener` accepts, each with Nagle's algorithm off: a server fed
/// its connections (`serve_with_incoming`) does not apply the builder's `tcp_nodelay`, and
/// with Nagle on, a small reply (an acknowledgement, a prepare's answer) waits for the
/// peer's delayed ACK, tens of milliseconds.
pub fn incoming(listener: TcpListener) -> impl Stream<Item = std::io::Result<TcpStream>> {
    TcpListenerStream::new(listener).map(|accepted| {
        let stream = accepted?;
        stream.set_nodelay(true)?;
        Ok(stream)
    })
}

/// Listens on `address` (port 0 picks a free one); the connections to serve (see
/// [`incoming`]) and the address actually bound.
pub async fn bind(address: &str) -> Result<(impl Stream<Item = std::io::Result<TcpStream>>, SocketAddr), RpcError> {
    crate::client::host_of(address)?;
    let listener = TcpListener::bind(address).await.map_err(|e| RpcError::BadAddress {
        address: address.to_string(),
        reason: format!("cannot listen there: {e}"),
    })?;
    let local = listener.local_addr().map_err(|e| RpcError::BadAddress {
        address: address.to_string(),
        reason: e.to_string(),
    })?;
    Ok((incoming(listener), local))
}
