//! Commits a fault test can check whole: commit `n` is one vertex with `id = n` and
//! `twice = 2n`, so a half-applied commit shows.

use weft_storage::{IsolationLevel, Storage, StorageError, Value};

/// Commit `n`: one vertex with `id = n` and `twice = 2n`.
pub fn commit(storage: &Storage, n: i64) -> Result<Option<u64>, StorageError> {
    let (id, twice) = (storage.property("id"), storage.property("twice"));
    let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
    let v = txn.create_vertex()?;
    txn.set_vertex_property(v, id, Value::Int(n))?;
    txn.set_vertex_property(v, twice, Value::Int(2 * n))?;
    txn.commit()
}

/// The ids of the commits the storage holds, each checked to be whole.
pub fn commits(storage: &Storage) -> Vec<i64> {
    let (id, twice) = (storage.property("id"), storage.property("twice"));
    let txn = storage.begin(IsolationLevel::SnapshotIsolation);
    let mut ids: Vec<i64> = txn
        .vertices()
        .map(|v| {
            let n = match txn.vertex_property(v, id) {
                Ok(Some(Value::Int(n))) => n,
                other => panic!("vertex without its id: {other:?}"),
            };
            assert_eq!(
                txn.vertex_property(v, twice).unwrap(),
                Some(Value::Int(2 * n)),
                "half-applied commit {n}"
            );
            n
        })
        .collect();
    ids.sort_unstable();
    ids
}
