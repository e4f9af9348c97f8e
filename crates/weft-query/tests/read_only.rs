//! Read-only mode: a read-only engine (a replica, a Raft member without a majority) and a
//! read transaction refuse every write before writing anything, keep answering reads, and
//! a read-only engine writes again once the switch is turned off.

use std::collections::BTreeMap;
use weft_query::{AccessMode, Engine, QueryError, ResultValue};

const NOT_A_LEADER: &str = "Neo.ClientError.Cluster.NotALeader";
const ACCESS_MODE: &str = "Neo.ClientError.Statement.AccessMode";

/// One statement of every kind that writes data.
const DATA_WRITES: &[&str] = &[
    "CREATE (:P {id: 9})",
    "MERGE (:P {id: 10})",
    "MATCH (p:P) SET p.name = 'x'",
    "MATCH (p:P) SET p:Q",
    "MATCH (p:P) REMOVE p.id",
    "MATCH (p:P) REMOVE p:P",
    "MATCH ()-[r:KNOWS]->() DELETE r",
    "MATCH (p:P) DETACH DELETE p",
    "UNWIND [1, 2] AS i FOREACH (x IN [i] | CREATE (:P {id: x}))",
    // Writes even though no row reaches the CREATE: refused by what it is, not by luck.
    "MATCH (p:P) WHERE false CREATE (:P)",
    "MATCH (p:P) RETURN p.id AS id UNION MATCH (q:Q) CREATE (:Q) RETURN 1 AS id",
];

/// One statement of every kind that changes the schema.
const SCHEMA_WRITES: &[&str] = &[
    "CREATE INDEX ON :P(name)",
    "DROP INDEX ON :P(id)",
    "CREATE CONSTRAINT ON (p:P) ASSERT p.name IS UNIQUE",
    "DROP CONSTRAINT ON (p:P) ASSERT p.id IS UNIQUE",
];

fn none() -> BTreeMap<String, weft_common::Value> {
    BTreeMap::new()
}

/// Two :P nodes that know each other, an index and a constraint.
fn seeded() -> Engine {
    let engine = Engine::new();
    for query in [
        "CREATE (:P {id: 1})-[:KNOWS]->(:P {id: 2})",
        "CREATE INDEX ON :P(id)",
        "CREATE CONSTRAINT ON (p:P) ASSERT p.id IS UNIQUE",
    ] {
        engine.execute(query, &none()).expect("seed");
    }
    engine
}

/// Everything a write could have changed, as text.
fn snapshot(engine: &Engine) -> String {
    let read = |q: &str| format!("{:?}", engine.execute(q, &none()).expect("read").rows);
    [
        "MATCH (n) RETURN n ORDER BY id(n)",
        "MATCH ()-[r]->() RETURN r",
        "SHOW INDEX INFO",
        "SHOW CONSTRAINT INFO",
    ]
    .map(read)
    .join("\n")
}

fn refused<T>(result: Result<T, QueryError>) -> QueryError {
    match result {
        Ok(_) => panic!("the write was not refused"),
        Err(error) => error,
    }
}

#[test]
fn a_read_only_engine_refuses_every_write_and_writes_nothing() {
    // Set up
    let engine = seeded();
    let before = snapshot(&engine);

    // Act: the switch is flipped on a clone, as a server flips it on its running engine.
    engine.clone().set_read_only(Some("replica of 10.0.0.1:7687".into()));

    // Check: each write fails with the redirect code and a message saying why.
    for query in DATA_WRITES.iter().chain(SCHEMA_WRITES) {
        let error = refused(engine.execute(query, &none()));
        assert_eq!(error.status(), NOT_A_LEADER, "{query}: {error}");
        assert!(error.is_redirect());
        assert!(error.message.contains("replica of 10.0.0.1:7687"), "{error}");
        let error = refused(engine.start(query, &none()));
        assert_eq!(error.status(), NOT_A_LEADER, "{query} (streamed): {error}");
    }
    assert_eq!(snapshot(&engine), before, "nothing was written");
    assert_eq!(engine.read_only().as_deref(), Some("replica of 10.0.0.1:7687"));
}

#[test]
fn a_read_only_engine_answers_reads() {
    let engine = seeded();
    engine.set_read_only(Some("minority".into()));
    let result = engine
        .execute("MATCH (a:P)-[:KNOWS]->(b) RETURN a.id, b.id", &none())
        .expect("read");
    assert_eq!(result.rows, vec![vec![ResultValue::Int(1), ResultValue::Int(2)]]);
    engine
        .execute("EXPLAIN CREATE (:P)", &none())
        .expect("explain only plans");
    engine.execute("SHOW INDEX INFO", &none()).expect("show");
}

#[test]
fn turning_read_only_off_restores_writes() {
    // Set up: read-only, a refused write.
    let engine = seeded();
    engine.set_read_only(Some("replica".into()));
    refused(engine.execute("CREATE (:P {id: 3})", &none()));

    // Act
    engine.set_read_only(None);

    // Check
    let created = engine.execute("CREATE (:P {id: 3})", &none()).expect("write");
    assert_eq!(created.stats.nodes_created, 1);
    engine.execute("CREATE INDEX ON :P(name)", &none()).expect("schema");
    assert_eq!(engine.read_only(), None);
}

#[test]
fn a_read_transaction_refuses_writes_but_reads_and_commits() {
    // Set up
    let engine = seeded();
    let before = snapshot(&engine);
    let mut txn = engine.begin(AccessMode::Read);

    // Act and check: every data write fails with AccessMode; reads work in the same
    // transaction, which still commits.
    for query in DATA_WRITES {
        let error = refused(engine.execute_in(&mut txn, query, &none()));
        assert_eq!(error.status(), ACCESS_MODE, "{query}: {error}");
        assert!(!error.is_redirect());
    }
    let read = engine
        .execute_in(&mut txn, "MATCH (p:P) RETURN count(p)", &none())
        .expect("read");
    assert_eq!(read.rows, vec![vec![ResultValue::Int(2)]]);
    assert_eq!(txn.mode(), AccessMode::Read);
    txn.commit().expect("commit");
    assert_eq!(snapshot(&engine), before, "nothing was written");
}

#[test]
fn a_read_only_engine_refuses_writes_in_a_read_write_transaction_it_began_earlier() {
    // Set up: a transaction opened while the engine still wrote.
    let engine = seeded();
    let mut txn = engine.begin(AccessMode::ReadWrite);

    // Act
    engine.set_read_only(Some("demoted".into()));

    // Check: the next statement of that transaction may not write.
    let error = refused(engine.execute_in(&mut txn, "CREATE (:P {id: 5})", &none()));
    assert_eq!(error.status(), NOT_A_LEADER);
    txn.abort();
}

#[test]
fn a_transaction_that_wrote_before_the_engine_became_read_only_does_not_commit() {
    // Set up: a write made while the engine still wrote.
    let engine = seeded();
    let before = snapshot(&engine);
    let mut txn = engine.begin(AccessMode::ReadWrite);
    engine
        .execute_in(&mut txn, "CREATE (:P {id: 7})", &none())
        .expect("write");

    // Act
    engine.set_read_only(Some("demoted".into()));
    let error = refused(txn.commit());

    // Check: refused, rolled back; a transaction that only read still commits.
    assert_eq!(error.status(), NOT_A_LEADER);
    assert_eq!(snapshot(&engine), before, "the write was rolled back");
    let mut reader = engine.begin(AccessMode::ReadWrite);
    engine
        .execute_in(&mut reader, "MATCH (p:P) RETURN p", &none())
        .expect("read");
    reader.commit().expect("a reader commits");
}

#[test]
fn a_read_only_engine_refuses_a_transaction_s_schema_changes_at_commit() {
    let engine = seeded();
    let change = match engine
        .classify_in_transaction("CREATE INDEX ON :P(name)")
        .expect("parses")
    {
        weft_query::InTransaction::Schema(change) => change,
        _ => panic!("a schema change"),
    };
    engine.set_read_only(Some("replica".into()));
    let error = refused(engine.apply_schema(&[change]));
    assert_eq!(error.status(), NOT_A_LEADER);
}

#[test]
fn a_cluster_without_quorum_refuses_writes_as_retryable_and_answers_reads() {
    // Set up: read-only because no majority is reachable.
    let engine = seeded();
    let before = snapshot(&engine);
    engine.set_read_only_because(Some((weft_query::ReadOnlyCause::NoQuorum, "leader unknown".into())));

    // Act
    let refused: Vec<QueryError> = DATA_WRITES
        .iter()
        .chain(SCHEMA_WRITES)
        .map(|write| engine.execute(write, &none()).expect_err(write))
        .collect();

    // Check: a transient status naming the reason, nothing written, reads answered.
    for error in &refused {
        assert_eq!(error.status(), "Neo.TransientError.Cluster.NoQuorum", "{error}");
        assert!(error.is_retryable() && !error.is_redirect());
        assert!(error.message.contains("leader unknown"), "{error}");
    }
    assert_eq!(snapshot(&engine), before, "nothing was written");
    assert_eq!(engine.read_only().as_deref(), Some("leader unknown"));
}
