//! Mutual TLS between nodes (`--cluster-cert`, `--cluster-key`, `--cluster-ca`): every node
//! presents a certificate signed by the cluster's CA and accepts only peers that do.
//!
//! Promises: a node with cluster TLS neither accepts nor makes a plain-text connection;
//! the private key never appears in `Debug` output or errors.

use std::fmt;
use std::path::Path;

use tonic::transport::{Certificate, ClientTlsConfig, Identity as TlsIdentity, ServerTlsConfig};

use crate::RpcError;

/// A node's certificate and key and the cluster CA, all PEM.
#[derive(Clone)]
pub struct ClusterTls {
    cert: Vec<u8>,
    key: Vec<u8>,
    ca: Vec<u8>,
}

impl fmt::Debug for ClusterTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterTls").finish_non_exhaustive()
    }
}

impl ClusterTls {
    /// From PEM text; each part must hold at least one PEM block.
    pub fn from_pem(cert: Vec<u8>, key: Vec<u8>, ca: Vec<u8>) -> Result<ClusterTls, RpcError> {
        for (what, pem) in [("certificate", &cert), ("key", &key), ("CA certificate", &ca)] {
            if !pem.windows(11).any(|w| w == b"-----BEGIN ") {
                return Err(RpcError::Tls(format!(
                    "the cluster {what} is not PEM (no `-----BEGIN` line)"
                )));
            }
        }
        Ok(ClusterTls { cert, key, ca })
    }

    /// From the files of `--cluster-cert`, `--cluster-key` and `--cluster-ca`.
    pub fn from_files(cert: &Path, key: &Path, ca: &Path) -> Result<ClusterTls, RpcError> {
        let read = |what: &'static str, path: &Path| {
            std::fs::read(path).map_err(|source| RpcError::Read {
                what,
                path: path.to_path_buf(),
                source,
            })
        };
        ClusterTls::from_pem(
            read("cluster certificate", cert)?,
            read("cluster key", key)?,
            read("cluster CA", ca)?,
        )
    }

    /// The server side: present this node's certificate, require a client certificate
    /// signed by the cluster CA.
    pub(crate) fn server_config(&self) -> ServerTlsConfig {
        ServerTlsConfig::new()
            .identity(TlsIdentity::from_pem(&self.cert, &self.key))
            .client_ca_root(Certificate::from_pem(&self.ca))
    }

    /// The client side towards `host` (a name or IP address the peer's certificate must
    /// carry): trust only the cluster CA, present this node's certificate.
    pub(crate) fn client_config(&self, host: &str) -> ClientTlsConfig {
        ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&self.ca))
            .identity(TlsIdentity::from_pem(&self.cert, &self.key))
            .domain_name(host)
    }
}
