//! MAIN's stage in the commit pipeline: every local commit's record is queued for each
//! registered replica, and a commit waits for the replicas its mode makes it wait for.
//!
//! Owns: [`ReplicationSink`], the `CommitSink` after the WAL. Promises: a record is queued
//! only once every sink has accepted it (on `confirm`), so a revoked commit never reaches a
//! replica, and shipped only once it is durable here (the WAL's wait, which runs before
//! this sink's, succeeded); records carry the timestamp of the commit before them, so a replica notices a
//! gap instead of applying past it; records applied from elsewhere are not shipped again. A
//! SYNC replica that is unreachable does not fail the commit: the commit stands (it is
//! durable here) and the replica's state and `last_error` say what it missed. A
//! STRICT_SYNC replica prepares each record durably before the commit is accepted here
//! (in `append`, under the commit lock); one that cannot makes the commit fail, and no
//! replica applies the record (records are applied only from the record stream, which
//! carries confirmed commits alone).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use weft_storage::{CommitEntry, CommitError, CommitErrorKind, CommitSink, Origin, SinkTicket};

use crate::link::{ReplicaLink, Shipped, WaitOutcome};
use crate::mode::ReplicaMode;

/// Longest a commit waits for a STRICT_SYNC replica to prepare its record.
const PREPARE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The sink's name in the pipeline and in errors.
pub const REPLICATION_SINK: &str = "replication";

/// A commit's timestamp and, when some replica is registered, its record.
type Pending = (u64, Option<Arc<[u8]>>);

/// See the module docs.
pub struct ReplicationSink {
    links: RwLock<Vec<Arc<ReplicaLink>>>,
    /// The commit appended and not yet confirmed or revoked, with its record when some
    /// replica is registered (with none, nothing is copied).
    pending: Mutex<Option<Pending>>,
    /// The newest confirmed local commit: the `prev` of the next one.
    last_ts: Mutex<u64>,
    /// The newest local commit durable here (its WAL wait succeeded): nothing newer is
    /// shipped, so a replica never holds a commit this instance could lose in a crash.
    durable_ts: AtomicU64,
}

impl ReplicationSink {
    /// A sink whose first record follows the commit `last_ts`.
    pub fn new(last_ts: u64) -> ReplicationSink {
        ReplicationSink {
            links: RwLock::new(Vec::new()),
            pending: Mutex::new(None),
            last_ts: Mutex::new(last_ts),
            durable_ts: AtomicU64::new(last_ts),
        }
    }

    pub fn add(&self, link: Arc<ReplicaLink>) {
        self.links.write().push(link);
    }

    /// Removes the link called `name`, stopping it; false if there is none.
    pub fn remove(&self, name: &str) -> bool {
        let mut links = self.links.write();
        let Some(at) = links.iter().position(|l| l.name == name) else {
            return false;
        };
        links.remove(at).stop();
        true
    }

    pub fn links(&self) -> Vec<Arc<ReplicaLink>> {
        self.links.read().clone()
    }

    /// The newest local commit this sink has seen confirmed.
    pub fn last_ts(&self) -> u64 {
        *self.last_ts.lock()
    }

    /// The newest local commit that is durable here: what may be shipped.
    pub fn durable_ts(&self) -> u64 {
        self.durable_ts.load(Ordering::SeqCst)
    }

    /// Stops every link (the instance stops being MAIN).
    pub fn stop_all(&self) {
        for link in self.links.write().drain(..) {
            link.stop();
        }
    }
}

impl CommitSink for ReplicationSink {
    fn name(&self) -> &str {
        REPLICATION_SINK
    }

    fn append(&self, entry: &CommitEntry<'_>) -> Result<SinkTicket, CommitError> {
        if entry.origin != Origin::Local {
            return Ok(SinkTicket::NOTHING);
        }
        // STRICT_SYNC, first phase: every strict replica keeps the record durably, or the
        // commit is refused here and the WAL's copy revoked (under the commit lock, so
        // strict commits reach replicas one after the other, in order).
        let prev = *self.last_ts.lock();
        let strict: Vec<_> = self
            .links
            .read()
            .iter()
            .filter(|l| l.mode == ReplicaMode::StrictSync)
            .cloned()
            .collect();
        for link in strict {
            if let Err(why) = link.prepare(entry.ts, prev, entry.record, PREPARE_WAIT) {
                tracing::warn!(replica = %link.name, ts = entry.ts, %why, "STRICT_SYNC prepare failed; commit aborted");
                return Err(CommitError::new(
                    CommitErrorKind::Retryable,
                    REPLICATION_SINK,
                    format!("{why}; the transaction was aborted on MAIN and no replica applies it"),
                ));
            }
        }
        let record = (!self.links.read().is_empty()).then(|| Arc::from(entry.record));
        *self.pending.lock() = Some((entry.ts, record));
        Ok(SinkTicket(entry.ts))
    }

    fn confirm(&self, ticket: SinkTicket) {
        let Some((ts, record)) = self.pending.lock().take() else {
            return;
        };
        debug_assert_eq!(SinkTicket(ts), ticket);
        // Queued before `last_ts` moves on, so a shipper that sees the new `last_ts` also
        // finds the record queued.
        let mut last = self.last_ts.lock();
        if let Some(record) = record {
            let item = Shipped {
                ts,
                prev: *last,
                record,
                queued: std::time::Instant::now(),
            };
            for link in self.links.read().iter() {
                link.push(item.clone());
            }
        }
        *last = ts;
    }

    fn wait(&self, ticket: SinkTicket) -> Result<(), CommitError> {
        if ticket == SinkTicket::NOTHING {
            return Ok(());
        }
        // The pipeline waits on this sink only after the WAL's wait succeeded: the record,
        // and every earlier one, is durable here and may now be shipped.
        self.durable_ts.fetch_max(ticket.0, Ordering::SeqCst);
        let links = self.links();
        links.iter().for_each(|link| link.wake.notify_one());
        // The commit stands whatever a SYNC replica does; the first one that missed it is
        // what the committer is warned about.
        let mut missed = None;
        for link in links {
            let limit = match link.mode.commit_wait() {
                Some(limit) if limit.is_zero() => continue,
                limit => limit,
            };
            match link.wait_acknowledged(ticket.0, limit) {
                WaitOutcome::Acknowledged => {}
                WaitOutcome::NotConnected(state) if link.mode == ReplicaMode::StrictSync => {
                    // Prepared there, committed here: it stands, and is applied there once
                    // the replica is back; the client learns it was not confirmed.
                    return Err(CommitError::new(
                        CommitErrorKind::Retryable,
                        REPLICATION_SINK,
                        format!(
                            "committed on MAIN and prepared on STRICT_SYNC replica `{}`, which became {} before \
                             applying it; it will apply it when it is back",
                            link.name,
                            state.name()
                        ),
                    ));
                }
                WaitOutcome::NotConnected(state) => {
                    tracing::warn!(replica = %link.name, state = state.name(), ts = ticket.0,
                        "commit not replicated to a SYNC replica that is not connected");
                    missed.get_or_insert_with(|| {
                        format!(
                            "the SYNC replica `{}` is {} and did not confirm this commit; the commit stands here \
                             (SHOW REPLICAS says what the replica needs)",
                            link.name,
                            state.name()
                        )
                    });
                }
                WaitOutcome::TimedOut => {
                    tracing::warn!(replica = %link.name, ts = ticket.0,
                        "replica missed its commit deadline; shipping to it asynchronously until it catches up");
                    missed.get_or_insert_with(|| {
                        format!(
                            "the SYNC replica `{}` did not confirm this commit within its timeout; it is demoted to \
                             ASYNC until it has caught up",
                            link.name
                        )
                    });
                }
            }
        }
        match missed {
            Some(message) => Err(CommitError::new(CommitErrorKind::Degraded, REPLICATION_SINK, message)),
            None => Ok(()),
        }
    }

    fn revoke(&self, _ticket: SinkTicket) -> Result<(), CommitError> {
        self.pending.lock().take();
        Ok(())
    }
}
