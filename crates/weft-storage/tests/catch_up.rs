//! What a MAIN reads back to bring a member up to date: the plan follows the bytes, never
//! offers files that miss commits, and holds what it chose against retention.

use std::path::Path;
use weft_storage::durability::{CatchUpPlan, Durability, DurabilityConfig};
use weft_storage::{IsolationLevel, Storage, Value};

fn open(dir: &Path, retention: usize) -> std::sync::Arc<Durability> {
    open_with_segments(dir, retention, 4 << 10)
}

fn open_with_segments(dir: &Path, retention: usize, segment: u64) -> std::sync::Arc<Durability> {
    Durability::open(DurabilityConfig {
        wal_segment_size: segment,
        snapshot_retention: retention,
        ..DurabilityConfig::new(dir)
    })
    .unwrap()
}

/// `count` commits, each setting `n` on the one vertex: a long WAL, a small snapshot.
fn overwrite(storage: &Storage, count: i64) {
    let n = storage.property("n");
    let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
    let v = txn.create_vertex().unwrap();
    txn.commit().unwrap();
    for i in 0..count {
        let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
        txn.set_vertex_property(v, n, Value::Int(i)).unwrap();
        txn.commit().unwrap();
    }
}

#[test]
fn the_wal_is_read_when_it_is_smaller_and_every_record_after_the_members_newest_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let durability = open(dir.path(), 3);
    overwrite(&durability.storage(), 50);
    durability.create_snapshot().unwrap();
    overwrite(&durability.storage(), 5);
    let last = durability.storage().last_committed();

    // Just behind: a few records beat the whole snapshot.
    let plan = durability.plan_catch_up(last - 3).unwrap().plan;
    assert!(matches!(plan, CatchUpPlan::Wal { .. }), "{plan:?}");
    let (_held, records) = durability.wal_after(last - 3).unwrap().unwrap();
    let timestamps: Vec<u64> = records.map(|r| r.unwrap().0).collect();
    assert_eq!(timestamps, [last - 2, last - 1, last]);
}

#[test]
fn a_snapshot_is_sent_when_it_is_fewer_bytes_than_the_wal() {
    // Small segments, and one large segment, where only the share of it after the
    // snapshot counts.
    for segment in [4 << 10, 64 << 20] {
        snapshot_beats_wal(segment);
    }
}

fn snapshot_beats_wal(segment: u64) {
    let dir = tempfile::tempdir().unwrap();
    let durability = open_with_segments(dir.path(), 3, segment);
    overwrite(&durability.storage(), 1);
    // Retention keeps the WAL from the oldest kept snapshot on: from `held` on here.
    let held = durability.create_snapshot().unwrap().ts;
    overwrite(&durability.storage(), 2_000);
    let snapshot = durability.create_snapshot().unwrap();
    overwrite(&durability.storage(), 3);
    assert!(durability.wal_after(held).unwrap().is_some(), "the WAL could serve too");
    match durability.plan_catch_up(held).unwrap().plan {
        CatchUpPlan::Snapshot {
            snapshot: chosen,
            bytes,
        } => {
            assert_eq!(chosen.ts, snapshot.ts);
            assert!(bytes < durability.info().unwrap().wal_bytes, "{bytes}");
        }
        plan => panic!("the WAL of 2000 overwrites was chosen over a one-vertex snapshot: {plan:?}"),
    }
}

#[test]
fn purged_history_is_never_offered_and_a_snapshot_is_taken_when_none_serves() {
    let dir = tempfile::tempdir().unwrap();
    // Retention 1: each snapshot purges the WAL before it.
    let durability = open(dir.path(), 1);
    overwrite(&durability.storage(), 300);
    durability.create_snapshot().unwrap();
    overwrite(&durability.storage(), 300);
    durability.create_snapshot().unwrap();
    assert!(
        durability.wal_after(0).unwrap().is_none(),
        "the WAL was purged; it cannot serve from 0"
    );

    // A kept snapshot covers a member that has nothing.
    let catch_up = durability.plan_catch_up(0).unwrap();
    let CatchUpPlan::Snapshot { snapshot, .. } = &catch_up.plan else {
        panic!("only a snapshot can serve: {:?}", catch_up.plan);
    };
    // Held by the plan: retention after a newer snapshot leaves it in place until dropped.
    overwrite(&durability.storage(), 10);
    durability.create_snapshot().unwrap();
    assert!(snapshot.path.exists(), "a held snapshot was deleted");
    let path = snapshot.path.clone();
    drop(catch_up);
    assert!(
        !path.exists(),
        "retention's deletion waited for the holder, then happened"
    );

    // Every snapshot's commits are at or below the member's: none serves, one is taken.
    for info in durability.snapshots().unwrap() {
        std::fs::remove_file(&info.path).unwrap();
    }
    let last = durability.storage().last_committed();
    let plan = durability.plan_catch_up(0).unwrap().plan;
    match plan {
        CatchUpPlan::Snapshot { snapshot, .. } => assert_eq!(snapshot.ts, last),
        plan => panic!("{plan:?}"),
    }
}

#[test]
fn a_hole_in_the_wal_stops_the_reading_and_a_snapshot_past_it_is_planned() {
    // Set up: a WAL of small segments, then one segment from the middle gone.
    let dir = tempfile::tempdir().unwrap();
    let durability = open_with_segments(dir.path(), 3, 1 << 10);
    overwrite(&durability.storage(), 200);
    let segments = weft_storage::durability::list_segments(&dir.path().join("wal"), durability.db_id()).unwrap();
    assert!(segments.len() >= 4, "small segments rotate: {}", segments.len());
    std::fs::remove_file(&segments[1].path).unwrap();
    let hole_end = segments[2].from_ts;

    // Act + check: reading from the start stops at the hole with an error that says
    // where it ends, after the records before it; nothing after the hole comes through.
    let (_held, records) = durability.wal_after(0).unwrap().unwrap();
    let mut read = Vec::new();
    let mut failed = None;
    for record in records {
        match record {
            Ok((ts, _)) => read.push(ts),
            Err(error) => {
                failed = Some(error);
                break;
            }
        }
    }
    let error = failed.expect("the hole is an error");
    assert_eq!(error.hole_end(), Some(hole_end), "{error}");
    assert!(read.iter().all(|ts| *ts < segments[1].from_ts), "{read:?}");

    // Act + check: a member that holds everything before the hole is planned the WAL
    // (no snapshot is kept yet) and reads it to its end.
    let last = durability.storage().last_committed();
    let plan = durability.plan_catch_up_past(hole_end - 1, hole_end).unwrap().plan;
    assert!(matches!(plan, CatchUpPlan::Wal { .. }), "{plan:?}");
    let (_held, records) = durability.wal_after(hole_end - 1).unwrap().unwrap();
    let timestamps: Vec<u64> = records.map(|r| r.unwrap().0).collect();
    assert_eq!(timestamps, (hole_end..=last).collect::<Vec<_>>());

    // Act + check: planned past the hole, a member from before it gets a snapshot at or
    // after the commit before the hole's end (none is kept: one is taken).
    let plan = durability.plan_catch_up_past(0, hole_end).unwrap().plan;
    match plan {
        CatchUpPlan::Snapshot { snapshot, .. } => assert!(snapshot.ts + 1 >= hole_end, "{snapshot:?}"),
        plan => panic!("only a snapshot gets past the hole: {plan:?}"),
    }
}
