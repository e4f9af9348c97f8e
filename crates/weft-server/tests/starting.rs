//! Bolt while the instance starts (`weft serve` before its data directory is recovered):
//! clients authenticate as usual, `SHOW STORAGE INFO` says how far the recovery is, every
//! other statement fails with a transient error, and once the instance serves, those
//! connections close and the same listener serves the real engine.

mod support;

use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use weft_bolt::{BoltValue, Request, Response};
use weft_server::starting::STARTING;
use weft_server::{Credentials, ServerConfig, UNAUTHORIZED};
use weft_storage::durability::{Durability, DurabilityConfig, RecoveryProgress};
use weft_storage::IsolationLevel;

use support::{assert_success, basic, run, Client};

fn connect(port: u16) -> Client<TcpStream> {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    Client::new(stream)
}

/// The value of one `SHOW STORAGE INFO` row.
fn figure(rows: &[Vec<BoltValue>], name: &str) -> BoltValue {
    let row = rows.iter().find(|row| row[0] == BoltValue::String(name.into()));
    row.unwrap_or_else(|| panic!("no {name} in {rows:?}"))[1].clone()
}

#[test]
fn while_starting_bolt_answers_storage_info_and_refuses_the_rest() {
    // Set up: a data directory with five commits in its WAL; the starting Bolt endpoint
    // with authentication on, as `weft serve` runs it before recovering.
    let dir = tempfile::tempdir().unwrap();
    let config = DurabilityConfig::new(dir.path());
    let durability = Durability::open(config.clone()).unwrap();
    for _ in 0..5 {
        let storage = durability.storage();
        let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
        txn.create_vertex().unwrap();
        txn.commit().unwrap();
    }
    drop(durability);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    let progress = RecoveryProgress::new();
    let server_config = ServerConfig {
        auth: Some(Arc::new(Credentials::new("neo4j", "s3cret"))),
        ..ServerConfig::default()
    };
    let (started, starting) = tokio::sync::watch::channel(false);
    let early = {
        let (progress, server_config) = (progress.clone(), server_config.clone());
        runtime.spawn(async move {
            weft_server::serve_starting_bolt(&listener, progress, &server_config, starting).await;
            listener
        })
    };

    // Act + check: a wrong password is refused as by the real server.
    let mut wrong = connect(port);
    let version = wrong.handshake();
    match wrong.authenticate(version, basic("neo4j", "guess")) {
        Response::Failure { code, .. } => assert_eq!(code, UNAUTHORIZED),
        other => panic!("expected Unauthorized, got {other:?}"),
    }

    // Act + check: the right one opens a session that sees the recovery's phase.
    let mut client = connect(port);
    let version = client.handshake();
    assert_success(client.authenticate(version, basic("neo4j", "s3cret")));
    let (rows, _) = client.query("SHOW STORAGE INFO");
    assert_eq!(figure(&rows, "status"), BoltValue::String("recovering".into()));
    assert_eq!(figure(&rows, "recovery_phase"), BoltValue::String("starting".into()));

    // Act + check: anything else fails with a transient error naming the state, and
    // the session goes on after RESET.
    match client.request(run("MATCH (n) RETURN count(n)")) {
        Response::Failure { code, message } => {
            assert_eq!(code, STARTING);
            assert!(message.contains("recovering"), "{message}");
        }
        other => panic!("expected a FAILURE, got {other:?}"),
    }
    assert_success(client.request(Request::Reset));

    // Act + check: a recovery through the same progress shows what it replayed.
    let recovered = Durability::open(DurabilityConfig {
        progress: progress.clone(),
        ..config
    })
    .unwrap();
    let (rows, _) = client.query("show storage info;");
    assert_eq!(figure(&rows, "recovery_phase"), BoltValue::String("done".into()));
    assert_eq!(figure(&rows, "wal_records_replayed"), BoltValue::Integer(5));

    // Act + check: once started, the early connection is closed and the same listener
    // serves the engine.
    started.send_replace(true);
    let listener = runtime.block_on(early).unwrap();
    client.expect_closed();
    let storage = recovered.storage();
    let node = weft_server::Node::from(weft_query::Engine::with_storage(storage));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = runtime.spawn(weft_server::serve(listener, node, server_config, async move {
        let _ = stopped.await;
    }));
    let mut client = connect(port);
    let version = client.handshake();
    assert_success(client.authenticate(version, basic("neo4j", "s3cret")));
    let (rows, _) = client.query("MATCH (n) RETURN count(n) AS n");
    assert_eq!(rows, vec![vec![BoltValue::Integer(5)]]);
    drop(client);
    let _ = stop.send(());
    runtime.block_on(serving).unwrap().unwrap();
}

#[test]
fn a_client_that_stops_reading_does_not_keep_the_instance_from_serving() {
    // Set up: the starting endpoint and a client that sends requests without end and
    // never reads the answers, so the server's writes to it block.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    let (started, starting) = tokio::sync::watch::channel(false);
    let early = runtime.spawn(async move {
        let config = ServerConfig::default();
        weft_server::serve_starting_bolt(&listener, RecoveryProgress::new(), &config, starting).await;
        listener
    });
    let mut client = connect(port);
    let version = client.handshake();
    assert_success(client.authenticate(version, basic("neo4j", "any")));
    let mut flood = client.stream.try_clone().unwrap();
    std::thread::spawn(move || {
        let mut requests = Vec::new();
        for request in [run("SHOW STORAGE INFO"), Request::Pull { n: -1, qid: -1 }] {
            weft_bolt::ChunkEncoder::default().encode(&request.encode().unwrap(), &mut requests);
        }
        // Ends when the server drops the connection (the write fails).
        for _ in 0..1_000_000 {
            if std::io::Write::write_all(&mut flood, &requests).is_err() {
                return;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(500));

    // Act: the instance is ready.
    started.send_replace(true);

    // Check: the starting endpoint lets go within its drain time, and the listener is
    // free for the real server.
    let began = std::time::Instant::now();
    let listener = runtime.block_on(early).unwrap();
    assert!(began.elapsed() < Duration::from_secs(10), "{:?}", began.elapsed());
    drop(listener);
}
