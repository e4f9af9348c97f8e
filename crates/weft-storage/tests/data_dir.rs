//! The data directory's lock and identity, and the file retainer.

use std::fs;
use weft_storage::durability::{DataDir, DurabilityError, FileRetainer};

#[test]
fn a_second_opener_of_a_locked_directory_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let first = DataDir::open(dir.path()).unwrap();
    let error = DataDir::open(dir.path()).unwrap_err();
    assert!(matches!(error, DurabilityError::Locked { .. }), "{error}");
    assert!(error.to_string().contains(&dir.path().display().to_string()), "{error}");
    drop(first);
    DataDir::open(dir.path()).expect("the lock goes with its holder");
}

#[test]
fn the_database_id_is_created_once_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let id = DataDir::open(dir.path()).unwrap().db_id;
    assert_eq!(DataDir::open(dir.path()).unwrap().db_id, id);
    assert!(dir.path().join("wal").is_dir() && dir.path().join("snapshots").is_dir());
}

#[test]
fn a_damaged_id_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    drop(DataDir::open(dir.path()).unwrap());
    fs::write(dir.path().join("database-id"), "id=not-a-uuid\nepoch=0\n").unwrap();
    let error = DataDir::open(dir.path()).unwrap_err();
    assert!(error.to_string().contains("database-id"), "{error}");
}

#[test]
fn setting_aside_moves_the_files_and_starts_a_new_history() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = DataDir::open(dir.path()).unwrap();
    let old_id = data.db_id;
    fs::write(data.wal_dir().join("wal-1.log"), b"old").unwrap();
    let aside = data.set_aside().unwrap();
    assert!(aside.join("wal").join("wal-1.log").exists());
    assert_eq!(fs::read_dir(data.wal_dir()).unwrap().count(), 0);
    assert_ne!(data.db_id, old_id, "a new history gets a new id");
}

#[test]
fn held_files_survive_deletion_until_released() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    fs::write(&a, b"a").unwrap();
    fs::write(&b, b"b").unwrap();
    let retainer = FileRetainer::default();
    let mut reader = retainer.locker();
    reader.add(&a);
    let mut second = retainer.locker();
    second.add(&a);
    assert!(!retainer.delete(&a), "held: deletion waits");
    assert!(retainer.delete(&b), "not held: deleted at once");
    assert!(a.exists() && !b.exists());
    drop(reader);
    assert!(a.exists(), "still held by the second locker");
    drop(second);
    assert!(!a.exists(), "deleted once the last holder let go");
    assert!(!retainer.is_held(&a));
}
