//! Replication through the admin statements, as a user types them: two durable instances
//! in one process, talking over loopback.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use weft_query::{Engine, ResultValue};
use weft_server::{Node, NodeConfig, Role};
use weft_storage::durability::DurabilityConfig;

fn open(dir: &std::path::Path) -> Node {
    Node::open(NodeConfig {
        durability: Some(DurabilityConfig::new(dir)),
        ..NodeConfig::default()
    })
    .unwrap()
}

fn run(engine: &Engine, query: &str) -> Vec<Vec<ResultValue>> {
    engine
        .execute(query, &BTreeMap::new())
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .rows
}

fn text(value: &ResultValue) -> &str {
    match value {
        ResultValue::String(s) => s,
        other => panic!("not a string: {other:?}"),
    }
}

/// A free loopback port (bound, noted, released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until `SHOW REPLICAS` on `engine` shows `name` in `state`; that row.
fn wait_for_state(engine: &Engine, name: &str, state: &str) -> Vec<ResultValue> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let rows = run(engine, "SHOW REPLICAS");
        let row = rows.into_iter().find(|r| text(&r[0]) == name).expect("registered");
        if text(&row[4]) == state {
            return row;
        }
        assert!(Instant::now() < deadline, "{name} never became {state}: {row:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_main_and_a_sync_replica_set_up_by_statements() {
    let (main_dir, replica_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (main, replica) = (open(main_dir.path()), open(replica_dir.path()));
    assert_eq!(
        run(main.engine(), "SHOW REPLICATION ROLE"),
        [[ResultValue::String("main".into())]]
    );
    assert_eq!(main.role(), Role::Main);

    let port = free_port();
    run(
        replica.engine(),
        &format!("SET REPLICATION ROLE TO REPLICA WITH PORT {port}"),
    );
    assert_eq!(replica.role(), Role::Replica);
    assert_eq!(
        run(replica.engine(), "show replication role"),
        [[ResultValue::String("replica".into())]]
    );
    run(
        main.engine(),
        &format!("REGISTER REPLICA r1 SYNC TO '127.0.0.1:{port}'"),
    );
    wait_for_state(main.engine(), "r1", "ready");

    run(main.engine(), "UNWIND range(1, 25) AS i CREATE (:P {i: i})");
    run(main.engine(), "CREATE INDEX ON :P(i)");
    // SYNC: acknowledged only once the replica holds it; reads there see it at once.
    let count = run(replica.engine(), "MATCH (p:P) WHERE p.i > 20 RETURN count(p)");
    assert_eq!(count, [[ResultValue::Int(5)]]);

    let row = wait_for_state(main.engine(), "r1", "ready");
    assert_eq!(text(&row[1]), format!("127.0.0.1:{port}"));
    assert_eq!(text(&row[2]), "SYNC");
    assert_eq!(row[3], ResultValue::Null);
    assert_eq!(row[5], ResultValue::Int(main.engine().last_committed() as i64));
    assert_eq!((&row[6], &row[7]), (&ResultValue::Int(0), &ResultValue::Null));

    // Writes on the replica are redirected to the MAIN, by name.
    let refused = replica.engine().execute("CREATE (:Q)", &BTreeMap::new()).unwrap_err();
    assert_eq!(refused.detail, "NotALeader");
    assert!(
        refused.message.contains("REPLICA of the MAIN at weft"),
        "{}",
        refused.message
    );
    let on_replica = replica
        .engine()
        .execute("REGISTER REPLICA r2 ASYNC TO '127.0.0.1:1'", &BTreeMap::new())
        .unwrap_err();
    assert!(on_replica.message.contains("only a MAIN"), "{}", on_replica.message);

    run(main.engine(), "DROP REPLICA r1");
    assert!(run(main.engine(), "SHOW REPLICAS").is_empty());
    replica.close(false).unwrap();
    main.close(false).unwrap();
}

#[test]
fn register_replica_syntax_and_modes() {
    let (main_dir, replica_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (main, replica) = (open(main_dir.path()), open(replica_dir.path()));
    let port = free_port();
    run(
        replica.engine(),
        &format!("SET REPLICATION ROLE TO REPLICA WITH PORT {port}"),
    );

    run(
        main.engine(),
        &format!("register replica `slow one` sync with timeout 3 to \"127.0.0.1:{port}\""),
    );
    let row = wait_for_state(main.engine(), "slow one", "ready");
    assert_eq!((text(&row[2]), &row[3]), ("SYNC", &ResultValue::Float(3.0)));

    let errors = [
        ("REGISTER REPLICA x SYNC WITH TIMEOUT 0 TO '127.0.0.1:1'", "1 to 86400"),
        ("REGISTER REPLICA x ASYNC TO '127.0.0.1'", "host:port"),
        ("REGISTER REPLICA x LAZY TO '127.0.0.1:1'", "ASYNC"),
        ("SET REPLICATION ROLE TO REPLICA WITH PORT 70000", "not a port"),
        ("DROP REPLICA nobody", "no replica `nobody`"),
        ("SET REPLICATION ROLE TO REPLICA WITH PORT 1", "DROP REPLICA"),
    ];
    for (statement, expected) in errors {
        let error = main.engine().execute(statement, &BTreeMap::new()).unwrap_err();
        assert!(error.message.contains(expected), "{statement}: {}", error.message);
    }
    // The same replica again, as STRICT_SYNC.
    run(main.engine(), "DROP REPLICA `slow one`");
    run(
        main.engine(),
        &format!("REGISTER REPLICA strict STRICT_SYNC TO '127.0.0.1:{port}'"),
    );
    let row = wait_for_state(main.engine(), "strict", "ready");
    assert_eq!((text(&row[2]), &row[3]), ("STRICT_SYNC", &ResultValue::Null));
    run(main.engine(), "CREATE (:Strict)");
    assert_eq!(
        run(replica.engine(), "MATCH (n:Strict) RETURN count(n)"),
        [[ResultValue::Int(1)]]
    );
    main.close(false).unwrap();
    replica.close(false).unwrap();
}

#[test]
fn an_instance_in_memory_is_main_and_says_replication_needs_a_data_directory() {
    let node = Node::open(NodeConfig::default()).unwrap();
    assert_eq!(
        run(node.engine(), "SHOW REPLICATION ROLE"),
        [[ResultValue::String("main".into())]]
    );
    let error = node
        .engine()
        .execute("REGISTER REPLICA r ASYNC TO '127.0.0.1:1'", &BTreeMap::new())
        .unwrap_err();
    assert!(error.message.contains("data directory"), "{}", error.message);
}
