//! What the tests on running members share: free loopback addresses, bounded waits, and
//! items committed through a member's storage and counted on another's.

use std::time::{Duration, Instant};

use weft_raft::machine::{Host, StorageCell};
use weft_storage::{IsolationLevel, Value};

/// Longest any wait of these tests lasts.
pub const WAIT: Duration = Duration::from_secs(30);

/// A loopback address no one listens on now.
pub fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("127.0.0.1:{}", listener.local_addr().unwrap().port())
}

/// Waits until `done`, failing the test after [`WAIT`].
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The `:Item` vertices the member's storage holds.
pub fn items(host: &StorageCell) -> usize {
    let storage = host.storage();
    let txn = storage.begin(IsolationLevel::SnapshotIsolation);
    txn.vertices_with_label(storage.label("Item")).len()
}

/// Commits one `:Item {n}` through the member's storage, retrying while it is not a
/// writable leader yet.
pub fn commit(host: &StorageCell, n: i64) {
    let storage = host.storage();
    let (label, key) = (storage.label("Item"), storage.property("n"));
    // Until the member leads, the first change is refused (a redirect).
    wait_until("the leader takes the commit", || {
        let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
        let Ok(v) = txn.create_vertex() else {
            return false;
        };
        txn.add_label(v, label).unwrap();
        txn.set_vertex_property(v, key, Value::Int(n)).unwrap();
        txn.commit().is_ok()
    });
}
