//! The state machine's guard against a storage that went its own way: a member whose
//! storage holds a commit the log does not (a deposed leader's staged commit) stops
//! applying instead of skipping the log's record at that timestamp.

use std::sync::{Arc, Condvar, Mutex};

use openraft::storage::RaftStateMachine;
use openraft::{CommittedLeaderId, EntryPayload};
use weft_raft::machine::{StateMachine, StorageCell};
use weft_raft::{Entry, LogId, Proposal};
use weft_storage::durability::Uuid;
use weft_storage::{CommitEntry, CommitError, CommitSink, IsolationLevel, SinkTicket, Storage};

const DATABASE: Uuid = Uuid::from_u128(0x5745_4654_4d41_4348);

/// Keeps each record; its waits block until opened, so a commit stays staged.
#[derive(Default)]
struct Gate {
    records: Mutex<Vec<Arc<[u8]>>>,
    open: Mutex<bool>,
    opened: Condvar,
}

impl CommitSink for Gate {
    fn name(&self) -> &str {
        "gate"
    }
    fn append(&self, entry: &CommitEntry<'_>) -> Result<SinkTicket, CommitError> {
        self.records.lock().unwrap().push(Arc::from(entry.record));
        Ok(SinkTicket(entry.ts))
    }
    fn wait(&self, _: SinkTicket) -> Result<(), CommitError> {
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.opened.wait(open).unwrap();
        }
        Ok(())
    }
}

fn one_vertex(storage: &Storage) {
    let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
    txn.create_vertex().unwrap();
    txn.commit().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_at_a_timestamp_the_storage_staged_itself_stops_the_state_machine() {
    // Set up: the log's record at timestamp 1 (made elsewhere), and a member whose
    // storage staged a commit of its own at timestamp 1 that no entry carries.
    let elsewhere = Storage::new();
    let made = Arc::new(Gate::default());
    *made.open.lock().unwrap() = true;
    elsewhere.add_commit_sink(made.clone());
    one_vertex(&elsewhere);
    let record = made.records.lock().unwrap()[0].clone();
    let storage = Storage::new();
    let gate = Arc::new(Gate::default());
    storage.add_commit_sink(gate.clone());
    let staging = {
        let storage = storage.clone();
        std::thread::spawn(move || one_vertex(&storage))
    };
    while gate.records.lock().unwrap().is_empty() {
        std::thread::yield_now();
    }
    let dir = tempfile::tempdir().unwrap();
    let host = Arc::new(StorageCell::new(storage.clone()));
    let mut machine = StateMachine::open(dir.path(), DATABASE, host).unwrap();

    // Act: apply the log's entry.
    let entry = Entry {
        log_id: LogId::new(CommittedLeaderId::new(1, 1), 1),
        payload: EntryPayload::Normal(Proposal {
            records: vec![record],
            check: None,
        }),
    };
    let applied = machine.apply([entry]).await;

    // Check: refused, naming the timestamp; the staged commit is not taken for the log's.
    let error = applied
        .expect_err("the state machine skipped a record it does not hold")
        .to_string();
    assert!(error.contains("commit 1"), "{error}");
    *gate.open.lock().unwrap() = true;
    gate.opened.notify_all();
    staging.join().unwrap();
}
