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
    let owners = ["vertices", "edges", "properties", "indexes", "version_chains", "other"];
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
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let settled = loop {
        let unsettled = info(engine)["labels_unsettled"].clone();
        if unsettled == ResultValue::Int(0) || std::time::Instant::now() > deadline {
            break unsettled;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(settled, ResultValue::Int(0));
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
