//! Statements that own their transaction (what a server streaming results across requests
//! uses), and the query timeout.

use std::collections::BTreeMap;
use std::time::Duration;
use weft_query::{AccessMode, Engine, ErrorKind, ResultValue};

fn count(engine: &Engine, query: &str) -> i64 {
    let result = engine.execute(query, &BTreeMap::new()).unwrap();
    match result.rows[0][0] {
        ResultValue::Int(n) => n,
        ref other => panic!("not a count: {other:?}"),
    }
}

#[test]
fn an_autocommit_cursor_hands_back_its_transaction_to_commit() {
    let engine = Engine::new();
    let none = BTreeMap::new();
    let mut cursor = engine
        .start("UNWIND range(1, 5) AS i CREATE (n:S {i: i}) RETURN i", &none)
        .unwrap();
    assert_eq!(cursor.fetch(2).unwrap().len(), 2);
    // Nothing is visible to others until the owner commits.
    assert_eq!(count(&engine, "MATCH (n:S) RETURN count(n)"), 0);
    let (stats, txn) = cursor.close().unwrap();
    assert_eq!(stats.nodes_created, 5, "updates complete even for rows never fetched");
    txn.expect("the cursor owns its transaction").commit().unwrap();
    assert_eq!(count(&engine, "MATCH (n:S) RETURN count(n)"), 5);
}

#[test]
fn dropping_an_owned_cursor_rolls_back() {
    let engine = Engine::new();
    let none = BTreeMap::new();
    let mut cursor = engine
        .start("UNWIND range(1, 3) AS i CREATE (:D {i: i}) RETURN i", &none)
        .unwrap();
    cursor.fetch(1).unwrap();
    drop(cursor);
    assert_eq!(count(&engine, "MATCH (n:D) RETURN count(n)"), 0);
    assert_eq!(engine.storage().active_transactions(), 0);
}

#[test]
fn an_explicit_transaction_passes_through_cursors_and_comes_back() {
    let engine = Engine::new();
    let none = BTreeMap::new();
    let txn = engine.begin(AccessMode::ReadWrite);
    let cursor = engine.start_in(txn, "CREATE (:E {v: 1})", &none).unwrap();
    let (_, txn) = cursor.close().unwrap();
    let mut cursor = engine.start_in(txn.unwrap(), "MATCH (e:E) RETURN e.v", &none).unwrap();
    assert_eq!(cursor.fetch(10).unwrap(), vec![vec![ResultValue::Int(1)]]);
    let (_, txn) = cursor.close().unwrap();
    txn.unwrap().commit().unwrap();
    assert_eq!(count(&engine, "MATCH (e:E) RETURN count(e)"), 1);
}

#[test]
fn admin_statements_start_without_a_transaction_and_are_refused_in_one() {
    let engine = Engine::new();
    let none = BTreeMap::new();
    let cursor = engine.start("CREATE INDEX ON :P(id)", &none).unwrap();
    let (stats, txn) = cursor.close().unwrap();
    assert_eq!(stats.indexes_added, 1);
    assert!(txn.is_none());
    let txn = engine.begin(AccessMode::ReadWrite);
    let error = engine.start_in(txn, "DROP INDEX ON :P(id)", &none).err().unwrap();
    assert_eq!(error.kind, ErrorKind::SemanticError);
}

#[test]
fn a_statement_past_the_query_timeout_stops_with_a_timeout_error() {
    // A zero timeout has passed by the first look at the clock, whatever the machine's speed.
    let engine = Engine::new().with_query_timeout(Some(Duration::ZERO));
    let none = BTreeMap::new();
    let error = engine
        .execute("UNWIND range(1, 1000000) AS i RETURN count(i)", &none)
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::TimedOut);
    assert_eq!(error.status(), "Neo.ClientError.Transaction.TransactionTimedOut");
    // A deep pattern walk is stopped too, not only operator pulls.
    let engine = Engine::new().with_query_timeout(Some(Duration::ZERO));
    engine
        .execute("UNWIND range(1, 200) AS i CREATE (:V)-[:T]->(:V)", &none)
        .unwrap();
    let error = engine
        .execute("MATCH (a:V)-[:T*0..3]-(b) RETURN count(*)", &none)
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::TimedOut);
    // Without a timeout the same statements run.
    let engine = Engine::new().with_query_timeout(None);
    assert_eq!(
        count(&engine, "UNWIND range(1, 1000000) AS i RETURN count(i)"),
        1_000_000
    );
}

#[test]
fn a_terminated_transaction_stops_its_running_statement_and_writes_nothing() {
    let engine = Engine::new();
    let none = BTreeMap::new();
    let txn = engine.begin(AccessMode::ReadWrite);
    let stop = txn.terminator();
    let mut cursor = engine
        .start_in(
            txn,
            "UNWIND range(1, 100000) AS i UNWIND range(1, 100000) AS j CREATE (:T {i: i}) RETURN count(*)",
            &none,
        )
        .unwrap();
    // Another thread (a client's cancel) sets the flag while the statement runs.
    let setter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let error = cursor.fetch(1).unwrap_err();
    setter.join().unwrap();
    assert_eq!(error.kind, ErrorKind::TimedOut);
    assert_eq!(error.status(), "Neo.ClientError.Transaction.Terminated");
    drop(cursor);
    assert_eq!(count(&engine, "MATCH (n:T) RETURN count(n)"), 0);
}

#[test]
fn a_long_expression_over_one_row_answers_the_timeout() {
    // One row, but a reduce over ten million items: the work inside the expression counts.
    let engine = Engine::new().with_query_timeout(Some(Duration::ZERO));
    let error = engine
        .execute(
            "RETURN reduce(s = 0, i IN range(1, 10000000) | s + i) AS total",
            &BTreeMap::new(),
        )
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::TimedOut);
}
