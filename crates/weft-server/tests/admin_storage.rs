//! The durability admin commands the server registers: `CREATE SNAPSHOT`, `SHOW
//! SNAPSHOTS` and the durable figures of `SHOW STORAGE INFO`; and that the engine alone
//! knows none of them.

use std::collections::BTreeMap;
use weft_query::{Engine, ResultValue};
use weft_server::{Node, NodeConfig};
use weft_storage::durability::DurabilityConfig;

fn info(engine: &Engine) -> BTreeMap<String, ResultValue> {
    let result = engine.execute("SHOW STORAGE INFO", &BTreeMap::new()).unwrap();
    result
        .rows
        .into_iter()
        .map(|row| match &row[..] {
            [ResultValue::String(name), value] => (name.clone(), value.clone()),
            other => panic!("unexpected row {other:?}"),
        })
        .collect()
}

#[test]
fn snapshots_are_taken_and_listed_by_query() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::open(NodeConfig {
        durability: Some(DurabilityConfig::new(dir.path())),
        ..NodeConfig::default()
    })
    .unwrap();
    let engine = node.engine();
    let none = BTreeMap::new();
    engine
        .execute("UNWIND range(1, 10) AS i CREATE (:N {i: i})-[:R]->(:M)", &none)
        .unwrap();
    let taken = engine.execute("CREATE SNAPSHOT", &none).unwrap();
    assert_eq!(taken.columns[..2], ["path".to_string(), "timestamp".to_string()]);
    assert_eq!(taken.rows[0][3], ResultValue::Int(20), "vertices in the snapshot");
    assert_eq!(taken.rows[0][4], ResultValue::Int(10), "edges in the snapshot");
    // A snapshot at the same timestamp is the same image and replaces the file.
    engine.execute("CREATE SNAPSHOT", &none).unwrap();
    assert_eq!(engine.execute("SHOW SNAPSHOTS", &none).unwrap().rows.len(), 1);
    engine.execute("CREATE (:Later)", &none).unwrap();
    engine.execute("CREATE SNAPSHOT", &none).unwrap();
    let listed = engine.execute("SHOW SNAPSHOTS", &none).unwrap();
    assert_eq!(listed.rows.len(), 2);

    let figures = info(engine);
    assert_eq!(figures["vertex_count"], ResultValue::Int(21));
    assert_eq!(figures["edge_count"], ResultValue::Int(10));
    assert_eq!(figures["snapshot_count"], ResultValue::Int(2));
    assert_eq!(
        figures["database_id"],
        ResultValue::String(node.durability().unwrap().db_id().to_string())
    );
    assert!(matches!(figures["disk_usage"], ResultValue::Int(n) if n > 0));
    assert!(matches!(figures["wal_segments"], ResultValue::Int(n) if n >= 1));
    assert_eq!(
        figures["commit_pipeline"],
        ResultValue::String("wal -> replication".to_string())
    );
    // Resident memory by owner: each estimated figure is there, the owners of this graph's
    // objects have some, and "other" is what the estimates leave of resident memory.
    let int = |name: &str| match figures[name] {
        ResultValue::Int(n) => n,
        ref other => panic!("{name}: {other:?}"),
    };
    let owners = [
        "vertices",
        "edges",
        "properties",
        "indexes",
        "version_chains",
        "columns",
        "other",
    ];
    let sum: i64 = owners.iter().map(|o| int(&format!("memory_{o}"))).sum();
    assert!(int("memory_vertices") > 0 && int("memory_edges") > 0 && int("memory_properties") > 0);
    assert_eq!(sum, int("memory_res"));
    node.close(false).unwrap();
}

#[test]
fn without_a_data_directory_snapshots_are_refused_clearly() {
    let node = Node::open(NodeConfig::default()).unwrap();
    let engine = node.engine();
    let error = engine.execute("CREATE SNAPSHOT", &BTreeMap::new()).unwrap_err();
    assert!(error.message.contains("in memory only"), "{}", error.message);
    assert_eq!(
        info(engine)["durability"],
        ResultValue::String("off (in memory only)".to_string())
    );
}

#[test]
fn labels_a_write_changed_settle_once_the_collector_has_run() {
    let node = Node::open(NodeConfig::default()).unwrap();
    let engine = node.engine();
    engine.execute("CREATE (:Person)", &BTreeMap::new()).unwrap();
    // The node's collector runs every second; wait for it (bounded).
    settle(engine);
}

/// Waits (bounded) for the node's collector to settle every label and property key.
fn settle(engine: &Engine) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let figures = info(engine);
        let zero = |name: &str| figures[name] == ResultValue::Int(0);
        if zero("labels_unsettled") && zero("properties_unsettled") {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "still unsettled: {figures:?}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_large_label_aggregation_keeps_columns_that_follow_later_writes() {
    let node = Node::open(NodeConfig::default()).unwrap();
    let engine = node.engine();
    let none = BTreeMap::new();
    let counts = || -> BTreeMap<i64, i64> {
        let result = engine
            .execute("MATCH (p:Person) RETURN p.age AS age, count(*) AS n", &none)
            .unwrap();
        let int = |v: &ResultValue| match v {
            ResultValue::Int(n) => *n,
            other => panic!("not an integer: {other:?}"),
        };
        result.rows.iter().map(|row| (int(&row[0]), int(&row[1]))).collect()
    };
    engine
        .execute("UNWIND range(0, 4999) AS i CREATE (:Person {age: i % 10})", &none)
        .unwrap();
    settle(engine);
    let even: BTreeMap<i64, i64> = (0..10).map(|age| (age, 500)).collect();
    assert_eq!(counts(), even);
    let kept = |engine: &Engine| info(engine)["memory_columns"].clone();
    assert!(
        matches!(kept(engine), ResultValue::Int(n) if n > 5000 * 8),
        "{:?}",
        kept(engine)
    );
    let reads = |engine: &Engine| info(engine)["scans_from_kept_columns"].clone();
    let before = reads(engine);
    assert_eq!(counts(), even);
    let after = reads(engine);
    assert!(
        matches!((&before, &after), (ResultValue::Int(b), ResultValue::Int(a)) if *a == b + 1),
        "answered from the kept columns: {before:?} then {after:?}"
    );

    // A write is seen at once, before and after the collector settles it.
    engine
        .execute("MATCH (p:Person) WHERE p.age = 3 SET p.age = 30", &none)
        .unwrap();
    let mut moved = even.clone();
    moved.remove(&3);
    moved.insert(30, 500);
    assert_eq!(counts(), moved);
    settle(engine);
    assert_eq!(counts(), moved);
    assert_eq!(counts(), moved);
}

#[test]
fn the_engine_alone_knows_no_durability_commands() {
    let error = Engine::new()
        .execute("SHOW STORAGE INFO", &BTreeMap::new())
        .unwrap_err();
    assert_eq!(
        error.status(),
        "Neo.ClientError.Statement.SyntaxError",
        "{}",
        error.message
    );
    assert!(
        error.message.contains("'INDEX INFO', 'CONSTRAINT INFO'"),
        "{}",
        error.message
    );
}

#[test]
fn a_command_that_takes_no_arguments_refuses_them_by_name() {
    let node = Node::open(NodeConfig::default()).unwrap();
    let error = node
        .engine()
        .execute("SHOW STORAGE INFO now", &BTreeMap::new())
        .unwrap_err();
    assert_eq!(
        error.message,
        "Invalid input 'now' in 'SHOW STORAGE INFO': expected end of input"
    );
}

#[test]
fn a_running_instance_installs_a_snapshot_behind_its_barrier() {
    // Set up: 10 nodes, a snapshot of them, 5 more nodes after it.
    let dir = tempfile::tempdir().unwrap();
    let config = || NodeConfig {
        durability: Some(DurabilityConfig::new(dir.path())),
        ..NodeConfig::default()
    };
    let node = Node::open(config()).unwrap();
    let none = BTreeMap::new();
    let count = |engine: &Engine| engine.execute("MATCH (n:N) RETURN count(n) AS c", &none).unwrap().rows[0][0].clone();
    node.engine()
        .execute("UNWIND range(1, 10) AS i CREATE (:N {i: i})", &none)
        .unwrap();
    let snapshot = node.durability().unwrap().create_snapshot().unwrap();
    node.engine()
        .execute("UNWIND range(11, 15) AS i CREATE (:N {i: i})", &none)
        .unwrap();

    // Act and check: a running transaction holds the barrier back, and nothing changes.
    let open = node.engine().begin(weft_query::AccessMode::ReadWrite);
    let busy = node.install_snapshot(&snapshot.path, std::time::Duration::from_millis(50));
    assert!(busy.unwrap_err().to_string().contains("1 transaction(s) still running"));
    assert_eq!(count(node.engine()), ResultValue::Int(15));
    open.abort();

    // Act: install with nothing running, then write on top.
    let ts = node
        .install_snapshot(&snapshot.path, std::time::Duration::from_secs(5))
        .unwrap();
    node.engine().execute("CREATE (:N {i: 100})", &none).unwrap();

    // Check: the snapshot's state plus the new write, in memory and after a restart.
    assert_eq!(ts, snapshot.ts);
    assert_eq!(count(node.engine()), ResultValue::Int(11));
    node.close(false).unwrap();
    drop(node);
    let reopened = Node::open(config()).unwrap();
    assert_eq!(count(reopened.engine()), ResultValue::Int(11));
    reopened.close(false).unwrap();
}
