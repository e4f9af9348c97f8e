//! Results stream across PULLs from a statement that holds its transaction: autocommit
//! commits at the last batch, a hang-up mid-stream rolls back, and the query timeout stops
//! a statement with the Bolt code drivers know.

mod support;

use std::time::{Duration, Instant};
use support::{assert_success, get, run, TestServer};
use weft_bolt::{BoltValue, Request, Response};
use weft_query::Engine;
use weft_server::ServerConfig;

fn count_nodes(server: &TestServer, label: &str) -> i64 {
    let mut client = server.connect();
    client.open();
    let (rows, _) = client.query(&format!("MATCH (n:{label}) RETURN count(n)"));
    match rows[0][0] {
        BoltValue::Integer(n) => n,
        ref other => panic!("not a count: {other:?}"),
    }
}

/// PULL n: the records, then the SUCCESS metadata.
fn pull(client: &mut support::Client<std::net::TcpStream>, n: i64) -> (usize, Vec<(String, BoltValue)>) {
    client.send(Request::Pull { n, qid: -1 });
    let mut records = 0;
    loop {
        match client.recv() {
            Response::Record { .. } => records += 1,
            Response::Success { metadata } => return (records, metadata),
            other => panic!("expected RECORD or SUCCESS, got {other:?}"),
        }
    }
}

#[test]
fn an_autocommit_statement_commits_when_its_last_batch_is_pulled() {
    let server = TestServer::start();
    let mut client = server.connect();
    client.open();
    assert_success(client.request(run("UNWIND range(1, 10) AS i CREATE (:Streamed {i: i}) RETURN i")));
    let (records, metadata) = pull(&mut client, 3);
    assert_eq!(records, 3);
    assert_eq!(get(&metadata, "has_more"), Some(&BoltValue::Boolean(true)));
    assert_eq!(count_nodes(&server, "Streamed"), 0, "not committed while rows remain");
    let (records, metadata) = pull(&mut client, -1);
    assert_eq!(records, 7);
    assert!(get(&metadata, "bookmark").is_some(), "{metadata:?}");
    assert_eq!(count_nodes(&server, "Streamed"), 10);
    server.shutdown();
}

#[test]
fn hanging_up_mid_stream_rolls_the_statement_back() {
    let engine = Engine::new();
    let server = TestServer::start_engine(engine.clone(), ServerConfig::default(), false);
    let mut client = server.connect();
    client.open();
    assert_success(client.request(run("UNWIND range(1, 100000) AS i CREATE (:Gone {i: i}) RETURN i")));
    let (records, _) = pull(&mut client, 5);
    assert_eq!(records, 5);
    drop(client);
    let deadline = Instant::now() + Duration::from_secs(10);
    while engine.storage().active_transactions() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(engine.storage().active_transactions(), 0, "the transaction was freed");
    assert_eq!(count_nodes(&server, "Gone"), 0);
    server.shutdown();
}

#[test]
fn a_statement_past_the_timeout_fails_and_the_session_goes_on() {
    // A zero timeout has passed at the engine's first look at the clock.
    let engine = Engine::new().with_query_timeout(Some(Duration::ZERO));
    let server = TestServer::start_engine(engine, ServerConfig::default(), false);
    let mut client = server.connect();
    client.open();
    assert_success(client.request(run("UNWIND range(1, 1000000) AS i RETURN count(i)")));
    client.send(Request::Pull { n: -1, qid: -1 });
    match client.recv() {
        Response::Failure { code, message } => {
            assert_eq!(code, "Neo.ClientError.Transaction.TransactionTimedOut");
            assert!(message.contains("timeout"), "{message}");
        }
        other => panic!("expected FAILURE, got {other:?}"),
    }
    assert_success(client.request(Request::Reset));
    let (rows, _) = client.query("RETURN 1");
    assert_eq!(rows, vec![vec![BoltValue::Integer(1)]]);
    server.shutdown();
}

#[test]
fn a_slow_query_does_not_hold_up_other_sessions() {
    let config = ServerConfig {
        workers: 2,
        ..ServerConfig::default()
    };
    let server = TestServer::start_engine(Engine::new(), config, false);
    let (finished_tx, finished_rx) = std::sync::mpsc::channel();
    let mut slow = server.connect();
    slow.open();
    let slow_session = std::thread::spawn(move || {
        let (rows, _) = slow.query("UNWIND range(1, 5000000) AS i RETURN count(i)");
        finished_tx.send(rows).unwrap();
    });
    // While it runs on one worker, another session is answered many times over.
    let mut quick = server.connect();
    quick.open();
    let mut answered_during_the_slow_query = 0;
    while finished_rx.try_recv().is_err() && answered_during_the_slow_query < 20 {
        let (rows, _) = quick.query("RETURN 1");
        assert_eq!(rows, vec![vec![BoltValue::Integer(1)]]);
        answered_during_the_slow_query += 1;
    }
    assert_eq!(
        answered_during_the_slow_query, 20,
        "the quick session waited for the slow one"
    );
    slow_session.join().unwrap();
    server.shutdown();
}
