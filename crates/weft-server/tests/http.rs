//! The HTTP endpoint: `GET /health` and Prometheus `GET /metrics` reflecting Bolt traffic.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;

use weft_bolt::{Request, Response};
use weft_server::ServerConfig;

use support::{assert_success, run, TestServer, TIMEOUT};

/// A bare HTTP/1.1 GET: the status code and the body.
fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    let (head, body) = response.split_once("\r\n\r\n").expect("headers end");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status code");
    (status, body.to_string())
}

/// The value of the sample line starting with `series` (name and labels), if any.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

#[test]
fn health_reports_ok_and_the_version() {
    // Set up: a server with an HTTP endpoint.
    let server = TestServer::start_with(ServerConfig::default(), true);
    let port = server.http_port.expect("http port");

    // Act: ask for health, and for a path that does not exist.
    let (status, body) = http_get(port, "/health");
    let (missing, _) = http_get(port, "/nope");

    // Check: 200 with status and version; 404 elsewhere.
    assert_eq!(status, 200);
    let expected = format!(r#"{{"status":"ok","version":"{}"}}"#, env!("CARGO_PKG_VERSION"));
    assert_eq!(body, expected);
    assert_eq!(missing, 404);
    server.shutdown();
}

/// A commit stage whose waits fail as a failed fsync does.
struct BrokenDisk;

impl weft_storage::CommitSink for BrokenDisk {
    fn name(&self) -> &str {
        "wal"
    }
    fn append(&self, _: &weft_storage::CommitEntry<'_>) -> Result<weft_storage::SinkTicket, weft_storage::CommitError> {
        Ok(weft_storage::SinkTicket(1))
    }
    fn wait(&self, _: weft_storage::SinkTicket) -> Result<(), weft_storage::CommitError> {
        Err(weft_storage::CommitError::fatal(
            "write-ahead log",
            "fsync failed: Input/output error",
        ))
    }
}

#[test]
fn health_says_writes_are_refused_once_the_commit_pipeline_stopped() {
    // Set up: a server whose storage's only commit stage fails every wait.
    let engine = weft_query::Engine::new();
    engine.storage().add_commit_sink(std::sync::Arc::new(BrokenDisk));
    let server = TestServer::start_engine(engine, ServerConfig::default(), true);
    let port = server.http_port.expect("http port");
    let mut client = server.connect();
    client.open();

    // Act: a write fails on the broken disk; then ask for health.
    let (healthy, _) = http_get(port, "/health");
    assert_success(client.request(run("CREATE (:N)")));
    let refused = client.request(Request::Pull { n: -1, qid: -1 });
    let (status, body) = http_get(port, "/health");

    // Check: 200 before, 503 after, with the reason.
    assert_eq!(healthy, 200);
    assert!(matches!(refused, Response::Failure { .. }), "{refused:?}");
    assert_eq!(status, 503);
    assert!(body.contains(r#""status":"writes_refused""#), "{body}");
    assert!(body.contains("fsync failed"), "{body}");
    server.shutdown();
}

#[test]
fn metrics_count_queries_errors_and_transactions() {
    // Set up: a server with an HTTP endpoint and an open Bolt session.
    let server = TestServer::start_with(ServerConfig::default(), true);
    let port = server.http_port.expect("http port");
    let mut client = server.connect();
    client.open();

    // Act: a read, a write in a committed transaction, a syntax error.
    client.query("RETURN 1 AS one");
    assert_success(client.request(Request::Begin { extra: Vec::new() }));
    client.query("CREATE (:M)");
    assert_success(client.request(Request::Commit));
    client.request(run("RETURN ("));
    assert_success(client.request(Request::Reset));
    let (status, metrics) = http_get(port, "/metrics");

    // Check: every counter moved (at least: tests in one process share the recorder).
    assert_eq!(status, 200);
    let at_least_one = |series: &str| {
        let value = sample(&metrics, series).unwrap_or_else(|| panic!("no {series} in\n{metrics}"));
        assert!(value >= 1.0, "{series} = {value}");
    };
    at_least_one(r#"weft_queries_total{type="r"}"#);
    at_least_one(r#"weft_queries_total{type="w"}"#);
    at_least_one(r#"weft_query_errors_total{classification="ClientError",category="Statement"}"#);
    at_least_one("weft_transactions_committed_total");
    at_least_one("weft_connections_open");
    at_least_one("weft_connections_accepted_total");
    at_least_one("weft_query_duration_seconds_count");
    assert!(
        metrics.contains("weft_query_duration_seconds_bucket{le="),
        "a histogram:\n{metrics}"
    );
    server.shutdown();
}

#[test]
fn while_the_instance_starts_health_says_recovering_and_how_far() {
    // Set up: the starting endpoint, as `weft serve` runs it before the data directory
    // is recovered; a data directory with five commits in its WAL.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    let progress = weft_storage::durability::RecoveryProgress::new();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let serving = runtime.spawn(weft_server::serve_starting(listener, progress.clone(), stopped));
    let dir = tempfile::tempdir().unwrap();
    let config = weft_storage::durability::DurabilityConfig::new(dir.path());
    let durability = weft_storage::durability::Durability::open(config.clone()).unwrap();
    for _ in 0..5 {
        let storage = durability.storage();
        let mut txn = storage.begin(weft_storage::IsolationLevel::SnapshotIsolation);
        txn.create_vertex().unwrap();
        txn.commit().unwrap();
    }
    drop(durability);

    // Act + check: before the recovery, 503 "recovering", phase "starting"; other paths 503.
    let (status, body) = http_get(port, "/health");
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains(r#""status":"recovering""#) && body.contains(r#""phase":"starting""#),
        "{body}"
    );
    assert_eq!(http_get(port, "/metrics").0, 503);

    // Act + check: a recovery through the same progress shows what it applied.
    let recovered = weft_storage::durability::Durability::open(weft_storage::durability::DurabilityConfig {
        progress: progress.clone(),
        ..config
    })
    .unwrap();
    let (status, body) = http_get(port, "/health");
    assert_eq!(status, 503, "still starting until the server serves: {body}");
    assert!(
        body.contains(r#""phase":"done""#) && body.contains(r#""wal_records":5"#),
        "{body}"
    );
    drop(recovered);
    stop.send_replace(true);
    runtime.block_on(serving).unwrap().unwrap();
}
