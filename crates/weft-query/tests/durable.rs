//! The durability admin statements: `CREATE SNAPSHOT`, `SHOW SNAPSHOTS` and the durable
//! figures of `SHOW STORAGE INFO`.

use std::collections::BTreeMap;
use weft_query::{Engine, ResultValue};
use weft_storage::durability::{Durability, DurabilityConfig};

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
    let durability = Durability::open(DurabilityConfig::new(dir.path())).unwrap();
    let engine = Engine::with_durability(durability.clone());
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

    let figures = info(&engine);
    assert_eq!(figures["vertex_count"], ResultValue::Int(21));
    assert_eq!(figures["edge_count"], ResultValue::Int(10));
    assert_eq!(figures["snapshot_count"], ResultValue::Int(2));
    assert_eq!(
        figures["database_id"],
        ResultValue::String(durability.db_id().to_string())
    );
    assert!(matches!(figures["disk_usage"], ResultValue::Int(n) if n > 0));
    assert!(matches!(figures["wal_segments"], ResultValue::Int(n) if n >= 1));
}

#[test]
fn without_a_data_directory_snapshots_are_refused_clearly() {
    let engine = Engine::new();
    let error = engine.execute("CREATE SNAPSHOT", &BTreeMap::new()).unwrap_err();
    assert!(error.message.contains("in memory only"), "{}", error.message);
    assert_eq!(
        info(&engine)["durability"],
        ResultValue::String("off (in memory only)".to_string())
    );
}
