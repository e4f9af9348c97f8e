//! Garbage collection gives memory back: measured from the allocator, not assumed.
//! One test only, because the allocator counter is process-wide.

mod support;

use support::counting_alloc::{live_bytes, Counting};
use weft_storage::{Direction, Gid, IsolationLevel, Storage, Value};

#[global_allocator]
static GLOBAL: Counting = Counting;

const SI: IsolationLevel = IsolationLevel::SnapshotIsolation;
const N: u64 = 20_000;

#[test]
fn gc_returns_the_memory_of_old_versions_and_deleted_objects() {
    // Set up: N labelled vertices with a string property, each linked to the next.
    let storage = Storage::new();
    let empty = live_bytes();
    let (label, edge_type, name) = (storage.label("V"), storage.edge_type("NEXT"), storage.property("name"));
    let mut txn = storage.begin(SI);
    for i in 0..N {
        let v = txn.create_vertex().unwrap();
        txn.add_label(v, label).unwrap();
        txn.set_vertex_property(v, name, Value::from(format!("vertex number {i}")))
            .unwrap();
        if i > 0 {
            txn.create_edge(Gid(i - 1), v, edge_type).unwrap();
        }
    }
    txn.commit().unwrap();
    storage.collect_garbage();
    let loaded = live_bytes();

    // Act 1: rewrite every property five times while a reader pins the first version.
    let reader = storage.begin(SI);
    for round in 0..5 {
        let mut txn = storage.begin(SI);
        for i in 0..N {
            txn.set_vertex_property(Gid(i), name, Value::from(format!("round {round} of {i}")))
                .unwrap();
        }
        txn.commit().unwrap();
    }
    let pinned_stats = storage.collect_garbage();
    let pinned = live_bytes();
    assert_eq!(
        reader.vertex_property(Gid(7), name).unwrap(),
        Some(Value::from("vertex number 7"))
    );
    drop(reader);
    let stats = storage.collect_garbage();
    let updated = live_bytes();

    // Check 1: nothing is freed while the reader needs it; afterwards the old versions are
    // gone and memory is back near the loaded size (the new strings are about as long).
    assert_eq!(pinned_stats.deltas_freed, 0);
    assert!(
        pinned > loaded + 5 * N as usize * 40,
        "deltas must cost memory: {loaded} -> {pinned}"
    );
    assert_eq!(stats.deltas_freed, 5 * N as usize);
    assert!(
        updated < loaded + loaded / 10,
        "after GC {updated} should be near {loaded}"
    );

    // Act 2: delete everything, then collect.
    let mut txn = storage.begin(SI);
    for i in 0..N {
        txn.delete_vertex(Gid(i), true).unwrap();
    }
    txn.commit().unwrap();
    let before_gc = live_bytes();
    let stats = storage.collect_garbage();
    let emptied = live_bytes();

    // Check 2: objects and their heap blocks (properties, adjacency, deltas) are freed;
    // what stays is one chunk of vertex slots. Deleting edges without properties took no
    // edge slots.
    assert_eq!(stats.vertices_freed, N as usize);
    assert_eq!(stats.edge_objects_freed, 0);
    let slots = 65_536 * 56;
    assert!(
        emptied <= empty + slots + slots / 8,
        "after deleting everything: {empty} -> {emptied}"
    );
    assert!(
        before_gc - emptied > loaded - empty - slots,
        "GC freed too little: {before_gc} -> {emptied}"
    );
    assert!(storage.begin(SI).edges(Gid(0), Direction::Out, &[]).is_err());
}
