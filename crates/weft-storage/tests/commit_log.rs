//! The commit pipeline with a commit log: records reach the log in timestamp order, a
//! commit is visible to new snapshots only once its record is durable, and a failed log
//! stops all further writes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use weft_storage::{CommitLog, ErrorKind, IsolationLevel, Storage, StorageError, Value};

/// A log held in memory whose syncs the test releases by hand.
#[derive(Default)]
struct GatedLog {
    records: Mutex<Vec<u64>>,
    open: Mutex<bool>,
    opened: Condvar,
    fail: AtomicBool,
}

impl GatedLog {
    fn release(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }
}

impl CommitLog for GatedLog {
    fn append(&self, ts: u64, _record: &[u8]) -> Result<u64, String> {
        let mut records = self.records.lock().unwrap();
        records.push(ts);
        Ok(records.len() as u64)
    }

    fn wait(&self, _ticket: u64) -> Result<(), String> {
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.opened.wait(open).unwrap();
        }
        if self.fail.load(Ordering::SeqCst) {
            return Err("disk full".to_string());
        }
        Ok(())
    }
}

fn create_vertex(storage: &Storage) -> Result<Option<u64>, StorageError> {
    let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
    let v = txn.create_vertex()?;
    txn.set_vertex_property(v, storage.property("k"), Value::Int(1))?;
    txn.commit()
}

fn visible_vertices(storage: &Storage, isolation: IsolationLevel) -> usize {
    storage.begin(isolation).vertices().count()
}

#[test]
fn a_commit_is_visible_to_new_snapshots_only_once_durable() {
    let storage = Storage::new();
    let log = Arc::new(GatedLog::default());
    storage.set_commit_log(log.clone());
    let committer = {
        let storage = storage.clone();
        thread::spawn(move || create_vertex(&storage))
    };
    while log.records.lock().unwrap().is_empty() {
        thread::yield_now();
    }
    // Appended but not durable: snapshots do not see it, read committed does.
    assert_eq!(visible_vertices(&storage, IsolationLevel::SnapshotIsolation), 0);
    assert_eq!(visible_vertices(&storage, IsolationLevel::ReadCommitted), 1);
    assert_eq!(storage.last_committed(), 0);
    log.release();
    assert_eq!(committer.join().unwrap(), Ok(Some(1)));
    assert_eq!(visible_vertices(&storage, IsolationLevel::SnapshotIsolation), 1);
    assert_eq!(storage.last_committed(), 1);
    assert_eq!(storage.active_transactions(), 0);
}

#[test]
fn committers_waiting_on_the_log_do_not_block_each_other() {
    let storage = Storage::new();
    let log = Arc::new(GatedLog::default());
    storage.set_commit_log(log.clone());
    let committers: Vec<_> = (0..8)
        .map(|_| {
            let storage = storage.clone();
            thread::spawn(move || create_vertex(&storage))
        })
        .collect();
    // All eight append while none is durable: the commit lock is not held while waiting.
    while log.records.lock().unwrap().len() < 8 {
        thread::yield_now();
    }
    log.release();
    let mut stamps: Vec<u64> = committers
        .into_iter()
        .map(|c| c.join().unwrap().unwrap().unwrap())
        .collect();
    stamps.sort_unstable();
    assert_eq!(stamps, (1..=8).collect::<Vec<_>>());
    assert_eq!(
        *log.records.lock().unwrap(),
        (1..=8).collect::<Vec<_>>(),
        "appends in timestamp order"
    );
    assert_eq!(visible_vertices(&storage, IsolationLevel::SnapshotIsolation), 8);
}

#[test]
fn a_failed_log_refuses_the_commit_and_every_later_write() {
    let storage = Storage::new();
    let log = Arc::new(GatedLog::default());
    log.fail.store(true, Ordering::SeqCst);
    log.release();
    storage.set_commit_log(log.clone());
    let error = create_vertex(&storage).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Fatal);
    assert!(error.to_string().contains("disk full"), "{error}");
    log.fail.store(false, Ordering::SeqCst);
    let error = create_vertex(&storage).unwrap_err();
    assert!(matches!(error, StorageError::Durability(_)), "{error}");
    assert_eq!(visible_vertices(&storage, IsolationLevel::SnapshotIsolation), 0);
    assert!(storage.create_label_index("L").is_err(), "DDL is refused as well");
    assert_eq!(storage.active_transactions(), 0);
}

#[test]
fn ddl_records_go_through_the_log() {
    let storage = Storage::new();
    let log = Arc::new(GatedLog::default());
    log.release();
    storage.set_commit_log(log.clone());
    storage.create_label_index("Person").unwrap();
    create_vertex(&storage).unwrap();
    assert_eq!(*log.records.lock().unwrap(), vec![1, 2]);
}
