//! The commit pipeline: the ordered list of sinks every commit record passes through
//! before the commit is acknowledged, and the one sequence that transactions, schema
//! changes and applied records all commit by.
//!
//! Owns: the [`CommitSink`] contract, the sink list, the origin of a commit and the typed
//! errors at this seam. The write-ahead log is the first sink (durability plugs it in);
//! replication and Raft plug in after it, as further sinks.
//!
//! The sequence, for one commit:
//! 1. Under the commit lock (which gives timestamp order), the record is handed to every
//!    sink in list order ([`CommitSink::append`]); each returns a ticket at once. A sink
//!    that refuses aborts the commit: sinks before it that accepted the record are asked
//!    to [`revoke`](CommitSink::revoke) it, and if one cannot, the pipeline stops (its
//!    history may now hold a record of a commit that did not happen). Once every sink
//!    has accepted, each is told so ([`CommitSink::confirm`]), still under the lock: a
//!    sink holds a record back until then, so that revoking it always works.
//! 2. The lock is released; the committer waits on each ticket, in list order, so a
//!    sink's wait starts only once every earlier sink has its record (a replication sink
//!    that ships from its wait never ships what is not durable locally). A transaction's
//!    committer gives back its thread's [`crate::slot::Slot`] (a server worker) for
//!    steps 2 and 3; a schema change keeps it (it holds the engine's storage gate).
//! 3. The commit is published (new snapshots see it) unless a wait failed fatally. The
//!    committer gets the first error, if any: a non-fatal one (a replica that did not
//!    answer) leaves the commit in place, as it is durable locally, and reaches the
//!    committer as [`crate::StorageError::NotConfirmed`], which says not to retry; a
//!    [`CommitErrorKind::Degraded`] one is no error at all but a warning that
//!    [`crate::Transaction::commit_warned`] hands back beside the timestamp.
//!
//! A fatal error from any sink stops the pipeline: every later commit is refused with that
//! error until a restart, since after a failed fsync the state of the files is unknown.

use parking_lot::RwLock;
use std::sync::Arc;

/// Where a commit comes from; sinks decide by it what to do with the record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A transaction or schema change run on this instance.
    Local,
    /// A record received from another instance (a MAIN, a Raft leader) and applied here:
    /// logged locally, never shipped or proposed again. `epoch` is the sender's.
    Applied { epoch: u64 },
}

/// One commit record on its way through the pipeline.
#[derive(Clone, Copy, Debug)]
pub struct CommitEntry<'a> {
    pub ts: u64,
    /// The encoded commit record ([`crate::record`]): for an applied record, the bytes
    /// as received.
    pub record: &'a [u8],
    pub origin: Origin,
}

impl<'a> CommitEntry<'a> {
    /// `applied` when a received record is being applied; else a local commit's entry at
    /// `ts`, its record made by `encode` and kept in `encoded` (which outlives the entry).
    pub(crate) fn applied_or_local(
        applied: Option<CommitEntry<'a>>,
        ts: u64,
        encoded: &'a mut Vec<u8>,
        encode: impl FnOnce() -> Vec<u8>,
    ) -> CommitEntry<'a> {
        match applied {
            Some(entry) => entry,
            None => {
                *encoded = encode();
                CommitEntry {
                    ts,
                    record: encoded,
                    origin: Origin::Local,
                }
            }
        }
    }
}

/// A sink's receipt for an appended record, to wait on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SinkTicket(pub u64);

impl SinkTicket {
    /// For a record the sink takes no action on: waiting on it returns at once.
    pub const NOTHING: SinkTicket = SinkTicket(0);
}

/// What a caller should do about a refused commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommitErrorKind {
    /// The commit may succeed if run again.
    Retryable,
    /// This instance does not take writes; send them to the named instance (MAIN, Raft
    /// leader) when known.
    Redirect { to: Option<String> },
    /// This commit can never be taken as it is (a record too large for the log); the
    /// pipeline goes on.
    Rejected,
    /// The instance can no longer make commits durable: writes stop until a restart.
    Fatal,
    /// Not a refusal: the commit stands and is durable here, but a sink could not do all
    /// it promises for it (a SYNC replica that did not get it). The committer is warned,
    /// not failed.
    Degraded,
}

/// A sink's refusal, with the sink's name and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{sink}: {message}")]
pub struct CommitError {
    pub kind: CommitErrorKind,
    pub sink: String,
    pub message: String,
}

impl CommitError {
    pub fn new(kind: CommitErrorKind, sink: impl Into<String>, message: impl Into<String>) -> Self {
        CommitError {
            kind,
            sink: sink.into(),
            message: message.into(),
        }
    }

    pub fn fatal(sink: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(CommitErrorKind::Fatal, sink, message)
    }

    pub fn is_fatal(&self) -> bool {
        self.kind == CommitErrorKind::Fatal
    }
}

/// One stage every commit record passes through (the WAL, a replica, the Raft log).
pub trait CommitSink: Send + Sync {
    /// A short name for errors and `SHOW` output ("wal", "replica r1").
    fn name(&self) -> &str;
    /// Takes the record; called under the commit lock, in timestamp order, so it must not
    /// block for long (queue the record, return a ticket).
    fn append(&self, entry: &CommitEntry<'_>) -> Result<SinkTicket, CommitError>;
    /// Every sink accepted the record of `ticket`; called under the commit lock right
    /// after the appends. Until then the sink must not let the record out (write it,
    /// ship it), so that [`CommitSink::revoke`] can still take it back.
    fn confirm(&self, ticket: SinkTicket) {
        let _ = ticket;
    }
    /// Why this sink would refuse any local commit now (a Raft member that is not the
    /// writable leader), or `None`. Asked before a local transaction's first change, so
    /// that a write bound to be refused takes no object that a record this member
    /// applies may need (a vertex id the leader hands out next).
    fn local_refusal(&self) -> Option<CommitError> {
        None
    }
    /// Which spell of taking local commits this is (a Raft member's leadership term);
    /// constant for sinks that always take them. A transaction that began writing in one
    /// spell does not commit in another: between them this member applied commits of
    /// another leader, which may have reused what the transaction holds.
    fn local_epoch(&self) -> u64 {
        0
    }
    /// Blocks until the record of `ticket` is where this sink promises (durable, held by
    /// a replica); called outside the commit lock, after every earlier sink's wait.
    /// Success must cover every earlier record of this sink too (records are held in
    /// timestamp order): publishing a commit makes all earlier ones visible.
    fn wait(&self, ticket: SinkTicket) -> Result<(), CommitError>;
    /// Takes back the record of `ticket`, the newest appended, because a later sink
    /// refused the commit; called under the commit lock. The default cannot, which
    /// stops the pipeline.
    fn revoke(&self, ticket: SinkTicket) -> Result<(), CommitError> {
        let _ = ticket;
        Err(CommitError::fatal(
            self.name(),
            "cannot take back a record after a later stage refused its commit",
        ))
    }
}

/// The receipts of one commit's record, one per sink that took it.
pub(crate) struct Tickets(Vec<(Arc<dyn CommitSink>, SinkTicket)>);

impl Tickets {
    /// Whether waiting on them may block: some sink took the record for real.
    pub fn may_block(&self) -> bool {
        self.0.iter().any(|(_, ticket)| *ticket != SinkTicket::NOTHING)
    }
}

/// The sink list and whether it has failed for good.
#[derive(Default)]
pub(crate) struct Pipeline {
    sinks: RwLock<Vec<Arc<dyn CommitSink>>>,
    failed: RwLock<Option<CommitError>>,
}

impl Pipeline {
    pub fn push(&self, sink: Arc<dyn CommitSink>) {
        self.sinks.write().push(sink);
    }

    /// Removes the sink called `name`; true if there was one.
    pub fn remove(&self, name: &str) -> bool {
        let mut sinks = self.sinks.write();
        let before = sinks.len();
        sinks.retain(|sink| sink.name() != name);
        sinks.len() != before
    }

    /// Whether any sink is attached.
    pub fn has_sinks(&self) -> bool {
        !self.sinks.read().is_empty()
    }

    pub fn names(&self) -> Vec<String> {
        self.sinks.read().iter().map(|s| s.name().to_string()).collect()
    }

    /// The error that stopped the pipeline, if one did.
    pub fn failure(&self) -> Option<CommitError> {
        self.failed.read().clone()
    }

    /// Every sink's [`CommitSink::local_epoch`], combined (one at most is not 0).
    pub fn local_epoch(&self) -> u64 {
        self.sinks
            .read()
            .iter()
            .fold(0, |epoch, sink| epoch.max(sink.local_epoch()))
    }

    /// The first sink's [`CommitSink::local_refusal`], if any sink refuses.
    pub fn local_refusal(&self) -> Option<CommitError> {
        self.sinks.read().iter().find_map(|sink| sink.local_refusal())
    }

    /// Step 1, under the commit lock: every sink takes the record, or none keeps it.
    pub fn append(&self, entry: &CommitEntry<'_>) -> Result<Tickets, CommitError> {
        if let Some(failure) = self.failure() {
            return Err(failure);
        }
        let sinks = self.sinks.read();
        let mut taken = Vec::with_capacity(sinks.len());
        for sink in sinks.iter() {
            match sink.append(entry) {
                Ok(ticket) => taken.push((sink.clone(), ticket)),
                Err(refusal) => {
                    drop(sinks);
                    return Err(self.take_back(taken, refusal));
                }
            }
        }
        for (sink, ticket) in &taken {
            sink.confirm(*ticket);
        }
        Ok(Tickets(taken))
    }

    /// Stops the pipeline for good: every later commit is refused with `error` (a
    /// storage replaced by an installed snapshot, a failed install).
    pub fn retire(&self, error: CommitError) {
        self.failed.write().get_or_insert(error);
    }

    /// Revokes what earlier sinks took, newest first; the refusal stands, and becomes
    /// fatal if a sink cannot revoke.
    fn take_back(&self, taken: Vec<(Arc<dyn CommitSink>, SinkTicket)>, refusal: CommitError) -> CommitError {
        for (sink, ticket) in taken.into_iter().rev() {
            if let Err(error) = sink.revoke(ticket) {
                let message = format!("{refusal}; and {error}");
                return self.stop(CommitError::fatal(error.sink, message));
            }
        }
        if refusal.is_fatal() {
            return self.stop(refusal);
        }
        refusal
    }

    /// Step 2, outside the lock: waits on every ticket in sink order. `Ok(None)`: every
    /// sink holds the record. `Ok(Some(e))`: a sink failed but not fatally; the commit
    /// stands. `Err(e)`: fatal; the commit must not be published.
    pub fn wait(&self, tickets: Tickets) -> Result<Option<CommitError>, CommitError> {
        let mut first = None;
        for (sink, ticket) in tickets.0 {
            match sink.wait(ticket) {
                Ok(()) => {}
                Err(error) if error.is_fatal() => return Err(self.stop(error)),
                Err(error) => {
                    first.get_or_insert(error);
                }
            }
        }
        Ok(first)
    }

    /// Stops the pipeline for good with `error` (the first fatal one is kept).
    fn stop(&self, error: CommitError) -> CommitError {
        tracing::error!(%error, "the commit pipeline failed; refusing all further writes until a restart");
        self.failed.write().get_or_insert(error).clone()
    }
}
