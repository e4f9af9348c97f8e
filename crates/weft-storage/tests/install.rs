//! Installing a snapshot into a running database: the installed state replaces the old
//! one in memory and on disk, later commits log to the WAL on top of it, and a restart
//! recovers exactly the installed state plus those commits, never the replaced history.

use std::path::Path;
use weft_storage::durability::{Durability, DurabilityConfig, DurabilityError};
use weft_storage::{IsolationLevel, Storage, Value};

fn config(dir: &Path) -> DurabilityConfig {
    DurabilityConfig {
        wal_segment_size: 4 << 10,
        ..DurabilityConfig::new(dir)
    }
}

fn add_people(storage: &Storage, from: i64, to: i64) {
    let (person, id) = (storage.label("Person"), storage.property("id"));
    for n in from..to {
        let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
        let v = txn.create_vertex().unwrap();
        txn.add_label(v, person).unwrap();
        txn.set_vertex_property(v, id, Value::Int(n)).unwrap();
        txn.commit().unwrap();
    }
}

fn people(storage: &Storage) -> Vec<i64> {
    let id = storage.property("id");
    let txn = storage.begin(IsolationLevel::SnapshotIsolation);
    let mut ids: Vec<i64> = txn
        .vertices()
        .filter_map(|v| match txn.vertex_property(v, id) {
            Ok(Some(Value::Int(n))) => Some(n),
            _ => None,
        })
        .collect();
    ids.sort_unstable();
    ids
}

#[test]
fn an_installed_snapshot_replaces_a_diverged_history_in_memory_and_on_disk() {
    // Set up: a leader with 50 people and a snapshot of them; a member of the same
    // database that diverged after 20 (its own 20..120) and took a snapshot of that.
    let (leader_dir, member_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let leader = Durability::open(config(leader_dir.path())).unwrap();
    add_people(&leader.storage(), 0, 50);
    let sent = leader.create_snapshot().unwrap();
    std::fs::remove_dir_all(member_dir.path()).unwrap();
    copy_dir(leader_dir.path(), member_dir.path());
    let member = Durability::open(config(member_dir.path())).unwrap();
    drop(leader);
    let old = member.storage();
    add_people(&old, 1000, 1100);
    member.create_snapshot().unwrap();
    add_people(&old, 1100, 1110);

    // Act: install the leader's snapshot, then write on top of it.
    let (installed, written) = member.install_snapshot(&sent.path).unwrap();
    add_people(&installed, 50, 60);

    // Check: the new storage holds the leader's state plus the new writes, the old one
    // logs nothing any more, and a restart recovers exactly the new history.
    assert_eq!(written.ts, sent.ts);
    assert_eq!(people(&installed), (0..60).collect::<Vec<_>>());
    assert_eq!(people(&member.storage()), (0..60).collect::<Vec<_>>());
    assert!(old.commit_sinks().is_empty(), "the replaced storage no longer logs");
    assert_eq!(installed.commit_sinks(), vec!["wal"]);
    drop((old, installed, member));
    let reopened = Durability::open(config(member_dir.path())).unwrap();
    assert_eq!(people(&reopened.storage()), (0..60).collect::<Vec<_>>());
    assert_eq!(reopened.recovery().snapshot.as_ref().map(|s| s.ts), Some(sent.ts));
    assert_eq!(reopened.recovery().wal_records, 10);
}

#[test]
fn a_snapshot_of_another_database_is_refused_and_changes_nothing() {
    let (mine, theirs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let member = Durability::open(config(mine.path())).unwrap();
    add_people(&member.storage(), 0, 5);
    let other = Durability::open(config(theirs.path())).unwrap();
    add_people(&other.storage(), 100, 110);
    let foreign = other.create_snapshot().unwrap();
    assert_ne!(member.db_id(), other.db_id());

    let Err(error) = member.install_snapshot(&foreign.path) else {
        panic!("another database's snapshot was installed");
    };

    assert!(matches!(error, DurabilityError::ForeignDatabase { .. }), "{error}");
    assert_eq!(people(&member.storage()), (0..5).collect::<Vec<_>>());
    add_people(&member.storage(), 5, 6);
    drop(member);
    let reopened = Durability::open(config(mine.path())).unwrap();
    assert_eq!(people(&reopened.storage()), (0..6).collect::<Vec<_>>());
}

/// Copies a data directory (without its lock file, which belongs to the open instance).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.file_name() != "LOCK" {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
