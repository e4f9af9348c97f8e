//! Bolt over TLS (`--bolt-cert`, `--bolt-key`): a self-signed certificate made here, a
//! rustls client trusting it, and the errors for unusable files.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use weft_bolt::BoltValue;
use weft_server::{ServerConfig, TlsConfig};

use support::{Client, TestServer};

/// A file under the system's temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!("weft-tls-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).expect("write temporary file");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn tls_client_runs_a_query() {
    // Set up: a self-signed certificate for localhost, a TLS server, a client trusting it.
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("certificate");
    let cert = TempFile::new("cert.pem", &generated.cert.pem());
    let key = TempFile::new("key.pem", &generated.key_pair.serialize_pem());
    let tls = TlsConfig::load(&cert.0, &key.0).expect("certificate and key load");
    let config = ServerConfig {
        tls: Some(tls),
        ..ServerConfig::default()
    };
    let server = TestServer::start_with(config, false);
    let mut roots = RootCertStore::empty();
    roots.add(generated.cert.der().clone()).expect("trust the certificate");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client_config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from("localhost").expect("server name");
    let connection = ClientConnection::new(Arc::new(client_config), name).expect("client connection");
    let mut client = Client::new(StreamOwned::new(connection, server.tcp()));

    // Act: the Bolt handshake and a query, all inside the TLS tunnel.
    client.open();
    let (records, _) = client.query("RETURN 1 AS one");

    // Check: the query answered as over plain TCP.
    assert_eq!(records, vec![vec![BoltValue::Integer(1)]]);
    server.shutdown();
}

#[test]
fn unusable_files_are_named_in_the_error() {
    // Set up: one missing file and one that is not PEM.
    let missing = std::env::temp_dir().join("weft-tls-no-such-file.pem");
    let garbage = TempFile::new("garbage.pem", "not a certificate\n");

    // Act: load them as certificate and key.
    let missing_error = TlsConfig::load(&missing, &garbage.0).expect_err("missing certificate");
    let garbage_error = TlsConfig::load(&garbage.0, &garbage.0).expect_err("garbage certificate");

    // Check: each error names its file.
    assert!(
        missing_error.to_string().contains("weft-tls-no-such-file.pem"),
        "{missing_error}"
    );
    assert!(garbage_error.to_string().contains("garbage.pem"), "{garbage_error}");
}

#[test]
fn serve_wants_both_cert_and_key() {
    // Act: start the binary with a certificate but no key.
    let output = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["serve", "--bolt-cert", "cert.pem"])
        .env_remove("WEFT_BOLT_KEY")
        .output()
        .expect("run weft");

    // Check: it refuses at once, saying what is missing.
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--bolt-key"), "{stderr}");
}
