//! TLS for Bolt: loading the PEM certificate chain and key given to `weft serve`.
//!
//! Owns: reading `--bolt-cert` and `--bolt-key`, building a rustls server configuration
//! (ring provider, TLS 1.2 and 1.3, no client certificates) and handing out the acceptor
//! the accept loop wraps each TCP stream in. Promises: every error names the file it came
//! from and says what to fix; a [`TlsConfig`] that exists is ready to accept. The Bolt
//! bytes inside the tunnel are exactly those of a plain connection, so `connection.rs`
//! serves both through one generic function.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// A loaded certificate and key, ready to accept TLS connections.
#[derive(Clone)]
pub struct TlsConfig {
    acceptor: TlsAcceptor,
    cert: PathBuf,
}

/// Why the certificate or key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{} is not a PEM file with {what}: {detail}", path.display())]
    Pem {
        path: PathBuf,
        what: &'static str,
        detail: String,
    },
    #[error("the key {} does not fit the certificate {}: {source}", key.display(), cert.display())]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        source: rustls::Error,
    },
}

impl TlsConfig {
    /// Loads a PEM certificate chain (leaf first) and its PEM private key (PKCS#8, PKCS#1
    /// or SEC1).
    pub fn load(cert: &Path, key: &Path) -> Result<TlsConfig, TlsError> {
        let chain = read_certificates(cert)?;
        let private_key = read_key(key)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mismatch = |source| TlsError::Mismatch {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            source,
        };
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(mismatch)?
            .with_no_client_auth()
            .with_single_cert(chain, private_key)
            .map_err(mismatch)?;
        Ok(TlsConfig {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            cert: cert.to_path_buf(),
        })
    }

    /// The acceptor that turns an accepted TCP stream into a TLS stream.
    pub(crate) fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("cert", &self.cert)
            .finish_non_exhaustive()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem_error = |detail: String| TlsError::Pem {
        path: path.to_path_buf(),
        what: "a certificate (-----BEGIN CERTIFICATE-----)",
        detail,
    };
    let bytes = read(path)?;
    let chain = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| pem_error(error.to_string()))?;
    if chain.is_empty() {
        return Err(pem_error("no certificate found".to_string()));
    }
    Ok(chain)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read(path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|error| TlsError::Pem {
        path: path.to_path_buf(),
        what: "a private key (-----BEGIN PRIVATE KEY-----)",
        detail: error.to_string(),
    })
}
