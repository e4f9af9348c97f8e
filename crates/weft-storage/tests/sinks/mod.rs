//! A commit sink for tests: keeps every record it is handed, and does what a test tells it
//! to (refuse the next append, hold waits until released, fail waits).
//!
//! Each test binary uses a different part of it.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use weft_storage::{CommitEntry, CommitError, CommitErrorKind, CommitSink, Origin, SinkTicket, Storage};

/// One record as the sink received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub ts: u64,
    pub record: Vec<u8>,
    pub origin: Origin,
}

/// A sink held in memory.
pub struct RecordingSink {
    name: String,
    received: Mutex<Vec<Received>>,
    refuse_next: AtomicBool,
    /// Waits block while this is false.
    open: Mutex<bool>,
    opened: Condvar,
    /// What waits fail with, if anything.
    wait_error: Mutex<Option<CommitErrorKind>>,
    /// Whether a refusal by a later sink may take records back.
    can_revoke: bool,
}

impl RecordingSink {
    /// A sink whose waits return at once.
    pub fn new(name: &str) -> Arc<RecordingSink> {
        Self::build(name, true, true)
    }

    /// A sink whose waits block until [`RecordingSink::release`].
    pub fn gated(name: &str) -> Arc<RecordingSink> {
        Self::build(name, false, true)
    }

    /// A sink that cannot take records back.
    pub fn without_revoke(name: &str) -> Arc<RecordingSink> {
        Self::build(name, true, false)
    }

    fn build(name: &str, open: bool, can_revoke: bool) -> Arc<RecordingSink> {
        Arc::new(RecordingSink {
            name: name.to_string(),
            received: Mutex::default(),
            refuse_next: AtomicBool::new(false),
            open: Mutex::new(open),
            opened: Condvar::new(),
            wait_error: Mutex::new(None),
            can_revoke,
        })
    }

    /// A storage with this sink as its only commit sink.
    pub fn attach(self: &Arc<Self>, storage: &Storage) {
        storage.add_commit_sink(self.clone());
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn timestamps(&self) -> Vec<u64> {
        self.received().iter().map(|r| r.ts).collect()
    }

    /// Refuses the next append (retryably); returns whether a previous order was unused.
    pub fn refuse_next(&self, refuse: bool) -> bool {
        self.refuse_next.swap(refuse, Ordering::SeqCst)
    }

    pub fn release(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }

    pub fn fail_waits(&self, kind: Option<CommitErrorKind>) {
        *self.wait_error.lock().unwrap() = kind;
    }
}

impl CommitSink for RecordingSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn append(&self, entry: &CommitEntry<'_>) -> Result<SinkTicket, CommitError> {
        if self.refuse_next.swap(false, Ordering::SeqCst) {
            return Err(CommitError::new(
                CommitErrorKind::Retryable,
                &self.name,
                "refused by the test",
            ));
        }
        let mut received = self.received.lock().unwrap();
        received.push(Received {
            ts: entry.ts,
            record: entry.record.to_vec(),
            origin: entry.origin,
        });
        Ok(SinkTicket(received.len() as u64))
    }

    fn wait(&self, _ticket: SinkTicket) -> Result<(), CommitError> {
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.opened.wait(open).unwrap();
        }
        match self.wait_error.lock().unwrap().clone() {
            Some(kind) => Err(CommitError::new(kind, &self.name, "disk full")),
            None => Ok(()),
        }
    }

    fn revoke(&self, ticket: SinkTicket) -> Result<(), CommitError> {
        let mut received = self.received.lock().unwrap();
        if !self.can_revoke || received.len() as u64 != ticket.0 {
            return Err(CommitError::fatal(&self.name, "cannot take the record back"));
        }
        received.pop();
        Ok(())
    }
}

/// A Raft member's sink as far as local writes go: takes local commits while it leads,
/// refuses them (a redirect) once [`Member::demote`] is called.
#[derive(Default)]
pub struct Member {
    follower: AtomicBool,
    /// Counts the spells of leading: [`Member::promote`] starts a new one.
    term: std::sync::atomic::AtomicU64,
}

impl Member {
    /// A member that follows from the start.
    pub fn follower() -> Arc<Member> {
        let member = Arc::new(Member::default());
        member.demote();
        member
    }

    pub fn demote(&self) {
        self.follower.store(true, Ordering::SeqCst);
    }

    /// Leads again, in a new term.
    pub fn promote(&self) {
        self.term.fetch_add(1, Ordering::SeqCst);
        self.follower.store(false, Ordering::SeqCst);
    }
}

impl CommitSink for Member {
    fn name(&self) -> &str {
        "member"
    }
    fn append(&self, entry: &CommitEntry<'_>) -> Result<SinkTicket, CommitError> {
        match self.local_refusal().filter(|_| entry.origin == Origin::Local) {
            Some(refusal) => Err(refusal),
            None => Ok(SinkTicket::NOTHING),
        }
    }
    fn wait(&self, _: SinkTicket) -> Result<(), CommitError> {
        Ok(())
    }
    fn local_epoch(&self) -> u64 {
        self.term.load(Ordering::SeqCst)
    }
    fn local_refusal(&self) -> Option<CommitError> {
        let to = Some("leader:7687".to_string());
        self.follower
            .load(Ordering::SeqCst)
            .then(|| CommitError::new(CommitErrorKind::Redirect { to }, "member", "not the leader"))
    }
}
