//! Epochs: the data directory's epoch moves only forward and durably; files written after
//! an advance carry the new epoch; a file from a later epoch than the directory's, or WAL
//! segments whose epochs go down along the log, are refused by name.

use std::path::Path;
use std::sync::Arc;
use weft_storage::durability::{
    list_segments, write_snapshot, DataDir, Durability, DurabilityConfig, DurabilityError, WalOptions, WalWriter,
};
use weft_storage::{IsolationLevel, Storage, Value};

fn add(storage: &Storage, from: i64, to: i64) {
    let id = storage.property("id");
    for n in from..to {
        let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
        let v = txn.create_vertex().unwrap();
        txn.set_vertex_property(v, id, Value::Int(n)).unwrap();
        txn.commit().unwrap();
    }
}

fn count(storage: &Storage) -> usize {
    storage.begin(IsolationLevel::SnapshotIsolation).vertices().count()
}

fn open(dir: &Path) -> Result<Arc<Durability>, DurabilityError> {
    Durability::open(DurabilityConfig::new(dir))
}

/// Rewrites the directory's id file with an older epoch, as a restore of an old copy of
/// it would.
fn set_dir_epoch(dir: &Path, durability: &Durability, epoch: u64) {
    let text = format!("id={}\nepoch={epoch}\n", durability.db_id());
    std::fs::write(dir.join("database-id"), text).unwrap();
}

#[test]
fn an_advanced_epoch_is_durable_and_carried_by_new_segments_and_snapshots() {
    // Set up: commits in epoch 0.
    let tmp = tempfile::tempdir().unwrap();
    let durability = open(tmp.path()).unwrap();
    add(&durability.storage(), 0, 10);

    // Act: advance twice, commit in between and after, snapshot.
    assert_eq!(durability.advance_epoch().unwrap(), 1);
    add(&durability.storage(), 10, 20);
    assert_eq!(durability.advance_epoch().unwrap(), 2);
    add(&durability.storage(), 20, 30);
    let segments = list_segments(&tmp.path().join("wal"), durability.db_id()).unwrap();
    let snapshot = durability.create_snapshot().unwrap();
    drop(durability);

    // Check: one segment per epoch, in order; the snapshot carries the new epoch; a
    // reopen keeps the epoch (also in the id file) and every commit.
    let epochs: Vec<u64> = segments.iter().map(|s| s.epoch).collect();
    assert_eq!(epochs, vec![0, 1, 2]);
    assert_eq!(snapshot.epoch, 2);
    assert_eq!(DataDir::open(tmp.path()).unwrap().epoch, 2);
    let reopened = open(tmp.path()).unwrap();
    assert_eq!(reopened.epoch(), 2);
    assert_eq!(count(&reopened.storage()), 30);
    add(&reopened.storage(), 30, 31);
}

#[test]
fn a_wal_segment_from_a_later_epoch_is_refused_naming_it_and_both_epochs() {
    // Set up: segments of epochs 0 and 1, then the directory's epoch put back to 0.
    let tmp = tempfile::tempdir().unwrap();
    let durability = open(tmp.path()).unwrap();
    add(&durability.storage(), 0, 3);
    durability.advance_epoch().unwrap();
    add(&durability.storage(), 3, 6);
    set_dir_epoch(tmp.path(), &durability, 0);
    drop(durability);

    // Act.
    let error = open(tmp.path()).err().expect("refused");

    // Check: the named variant, with the file and both epochs in the message.
    let DurabilityError::EpochFromFuture {
        path,
        file_epoch,
        dir_epoch,
    } = &error
    else {
        panic!("{error}");
    };
    assert_eq!((*file_epoch, *dir_epoch), (1, 0));
    let message = error.to_string();
    assert!(
        message.contains(&path.display().to_string()) && message.contains("epoch 1"),
        "{message}"
    );
    assert!(message.contains("epoch 0"), "{message}");
}

#[test]
fn a_snapshot_from_a_later_epoch_is_refused() {
    // Set up: a snapshot written with epoch 5 in a directory at epoch 0.
    let tmp = tempfile::tempdir().unwrap();
    let durability = open(tmp.path()).unwrap();
    add(&durability.storage(), 0, 3);
    let db = durability.db_id();
    write_snapshot(&durability.storage(), &tmp.path().join("snapshots"), db, 5).unwrap();
    drop(durability);

    // Act and check.
    let error = open(tmp.path()).err().expect("refused");
    assert!(
        matches!(
            error,
            DurabilityError::EpochFromFuture {
                file_epoch: 5,
                dir_epoch: 0,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn wal_segments_whose_epochs_decrease_are_refused() {
    // Set up: a WAL whose first segment is of epoch 1, and a later segment of epoch 0
    // (written elsewhere for the same database, then copied in after it).
    let tmp = tempfile::tempdir().unwrap();
    let (wal, other) = (tmp.path().join("wal"), tmp.path().join("other"));
    let db = weft_storage::durability::Uuid::new_v4();
    let writer = WalWriter::open(
        &wal,
        WalOptions {
            epoch: 1,
            ..WalOptions::new(db)
        },
    )
    .unwrap();
    (1..=5).for_each(|ts| writer.append_durable(ts, b"new history").unwrap());
    drop(writer);
    let stray = WalWriter::open(&other, WalOptions::new(db)).unwrap();
    (10..=12).for_each(|ts| stray.append_durable(ts, b"old history").unwrap());
    drop(stray);
    let copied = wal.join("wal-00000000000000000009-00000000000000000010.log");
    std::fs::copy(&list_segments(&other, db).unwrap()[0].path, &copied).unwrap();

    // Act: open the WAL for writing in epoch 1.
    let error = WalWriter::open(
        &wal,
        WalOptions {
            epoch: 1,
            ..WalOptions::new(db)
        },
    )
    .err()
    .expect("refused");

    // Check: named, with the file and both epochs.
    assert!(
        matches!(&error, DurabilityError::EpochDecreases { path, epoch: 0, previous: 1 } if *path == copied),
        "{error}"
    );
    let message = error.to_string();
    assert!(
        message.contains("wal-00000000000000000009") && message.contains("epoch 0"),
        "{message}"
    );
}

#[test]
fn an_advance_survives_a_crash_and_a_failed_one_changes_nothing() {
    use weft_storage::durability::io::faulty::{FaultyFs, SyncFault};
    let config = || DurabilityConfig::new("/db");

    // Set up and act: one advance, then one whose fsync fails.
    let fs = FaultyFs::new();
    let durability = Durability::open_with(config(), Arc::new(fs.clone())).unwrap();
    add(&durability.storage(), 0, 3);
    assert_eq!(durability.advance_epoch().unwrap(), 1);
    fs.fail_syncs(SyncFault::Nth(1));
    assert!(durability.advance_epoch().is_err());
    assert_eq!(durability.epoch(), 1);
    drop(durability);

    // Check: after a crash the first advance is there, and the WAL opens in it.
    fs.fail_syncs(SyncFault::Never);
    fs.crash_losing_unsynced();
    let reopened = Durability::open_with(config(), Arc::new(fs.clone())).unwrap();
    assert_eq!(reopened.epoch(), 1);
    assert_eq!(count(&reopened.storage()), 3);
    add(&reopened.storage(), 3, 4);
}

/// Regression (found by `faults_model`): an advance whose directory fsync fails leaves the
/// new epoch in a rename that only the page cache holds. A restart without a crash reads
/// it and writes segments in it; unless the open makes that rename durable, a later crash
/// brings the old epoch back under segments of the new one, and every start is refused.
#[test]
fn regression_an_epoch_read_at_open_is_made_durable_before_segments_carry_it() {
    use weft_storage::durability::io::faulty::{FaultyFs, SyncFault};
    let config = || DurabilityConfig::new("/db");

    // Set up: an advance whose second fsync (the directory's, after the rename) fails.
    let fs = FaultyFs::new();
    let durability = Durability::open_with(config(), Arc::new(fs.clone())).unwrap();
    add(&durability.storage(), 0, 3);
    fs.fail_syncs(SyncFault::Nth(2));
    assert!(durability.advance_epoch().is_err());
    drop(durability);
    fs.fail_syncs(SyncFault::Never);

    // Act: restart without a crash, write in the epoch found, crash.
    let restarted = Durability::open_with(config(), Arc::new(fs.clone())).unwrap();
    assert_eq!(restarted.epoch(), 1);
    add(&restarted.storage(), 3, 6);
    drop(restarted);
    fs.crash_losing_unsynced();

    // Check: the start works, in epoch 1, with every commit.
    let recovered = Durability::open_with(config(), Arc::new(fs.clone())).unwrap();
    assert_eq!(recovered.epoch(), 1);
    assert_eq!(count(&recovered.storage()), 6);
}
