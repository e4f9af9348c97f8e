//! The leader's side of a write: a commit's record becomes a Raft proposal, and the
//! commit is acknowledged once a majority holds it and the leader has applied it.
//!
//! Owns: [`Proposer`], the first (and only) sink of a Raft member's commit pipeline (the
//! Raft log is the member's write-ahead log), and the task that proposes. Promises:
//! - a member takes a local commit only while it is a leader that has applied every entry
//!   before its term's first (so no earlier entry can still carry a timestamp it is about
//!   to hand out); any other member refuses it at once with a redirect naming the leader;
//! - records enter the log in timestamp order (they are queued under the commit lock),
//!   and every record queued while a proposal is on its way goes in the next one, so
//!   concurrent commits share one round trip and one fsync on every member;
//! - a commit whose record is larger than [`MAX_RECORD`] is refused before anything is
//!   proposed (`Rejected`: the transaction changes nothing, the pipeline goes on);
//! - a commit's wait ends when the state machine has applied its record (it is then in a
//!   majority's log and visible in the order of the log), or fails when its proposal
//!   failed. A failed proposal leaves the leader's storage holding a commit the log may
//!   not have: the wait fails fatally, which stops the pipeline, and the member must be
//!   restarted to rebuild its storage from its snapshot and log.

use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::{Raft, ServerState};
use parking_lot::{Condvar, Mutex};
use tokio::sync::{watch, Notify};
use weft_storage::{CommitEntry, CommitError, CommitErrorKind, CommitSink, Origin, SinkTicket};

use crate::{Proposal, TypeConfig};

/// The sink's name in the pipeline and in errors.
pub const RAFT_SINK: &str = "raft";

/// Proposals on their way at once; more records wait and go together in the next.
const IN_FLIGHT: usize = 2;

/// Largest commit record a member proposes. openraft gives each append to a follower one
/// heartbeat interval (100 ms) to be sent and fsynced; a larger record would time out on
/// every try, and the leader's pipeline would fail. About 8 MiB crosses a 1 Gb/s link in
/// 70 ms.
pub const MAX_RECORD: usize = 8 << 20;

/// Longest a commit waits for its proposal to be applied.
const APPLY_WAIT: Duration = Duration::from_secs(60);

/// See the module docs. Shared by the commit pipeline (as its sink) and the tasks
/// [`Proposer::start`] runs.
pub struct Proposer {
    /// Who may take commits: this member as a writable leader, or the leader to name.
    role: Mutex<Role>,
    /// The record appended and not yet confirmed or revoked.
    pending: Mutex<Option<(u64, Arc<[u8]>)>>,
    /// Confirmed records not yet proposed, in timestamp order.
    queue: Mutex<Vec<(u64, Arc<[u8]>)>>,
    /// Confirmed records not yet applied, by timestamp: the state machine skips these
    /// (the storage staged them) when their entry is applied.
    own: Mutex<std::collections::BTreeMap<u64, Arc<[u8]>>>,
    queued: Notify,
    progress: Mutex<Progress>,
    changed: Condvar,
}

#[derive(Clone, Debug, Default)]
struct Role {
    writable: bool,
    /// The term it leads in while writable.
    term: u64,
    /// The leader's Bolt address (or Raft address while the Bolt one is unknown).
    leader: Option<String>,
}

#[derive(Default)]
struct Progress {
    /// The newest commit timestamp the state machine has applied.
    applied: u64,
    /// The oldest timestamp whose proposal failed, and why: every wait at or above it fails.
    failed: Option<(u64, String)>,
}

/// When a leader may take writes: once it has applied every entry its log held when it
/// took the lead, and an entry of its own term. Until then its storage lacks commits that
/// a new transaction could clash with (a vertex id taken twice): a member that restarts
/// as the leader it was replays its whole log first.
#[derive(Clone, Copy, Debug, Default)]
pub struct LeaderGate {
    /// The term this member leads in and its log's last index when it was seen leading.
    led: Option<(u64, Option<u64>)>,
}

impl LeaderGate {
    /// Whether the member these metrics describe may take writes now.
    pub fn writable(&mut self, m: &openraft::RaftMetrics<u64, crate::Member>) -> bool {
        if m.state != ServerState::Leader {
            self.led = None;
            return false;
        }
        let caught_up = match self.led {
            Some((term, caught_up)) if term == m.current_term => caught_up,
            _ => self.led.insert((m.current_term, m.last_log_index)).1,
        };
        m.last_applied
            .is_some_and(|l| l.leader_id.term == m.current_term && Some(l.index) >= caught_up)
    }
}

impl Proposer {
    /// A proposer that takes no commit until [`Proposer::start`]'s watcher finds this
    /// member a writable leader.
    pub fn new() -> Arc<Proposer> {
        Arc::new(Proposer {
            role: Mutex::default(),
            pending: Mutex::default(),
            queue: Mutex::default(),
            own: Mutex::default(),
            queued: Notify::new(),
            progress: Mutex::default(),
            changed: Condvar::new(),
        })
    }

    /// Runs, on the current runtime, the tasks that follow `raft`'s role, the state
    /// machine's applied timestamps (`applied`) and propose queued records. They end when
    /// `raft` shuts down.
    pub fn start(self: &Arc<Self>, raft: Raft<TypeConfig>, mut applied: watch::Receiver<u64>) {
        let me = self.clone();
        let mut metrics = raft.metrics();
        tokio::spawn(async move {
            let mut gate = LeaderGate::default();
            loop {
                let role = {
                    let m = metrics.borrow_and_update();
                    let writable = gate.writable(&m);
                    let leader = m.current_leader.and_then(|id| {
                        let config = m.membership_config.membership();
                        config.get_node(&id).map(|n| {
                            if n.bolt_address.is_empty() {
                                n.raft_address.clone()
                            } else {
                                n.bolt_address.clone()
                            }
                        })
                    });
                    Role {
                        writable,
                        term: m.current_term,
                        leader,
                    }
                };
                *me.role.lock() = role;
                let stopped = match &metrics.borrow().running_state {
                    Err(fatal) => Some(format!("the Raft member stopped: {fatal}")),
                    Ok(()) => None,
                };
                if let Some(why) = stopped {
                    me.fail_from(0, why);
                    return;
                }
                if metrics.changed().await.is_err() {
                    me.fail_from(0, "the Raft member stopped".into());
                    return;
                }
            }
        });
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                let ts = *applied.borrow_and_update();
                me.progress.lock().applied = ts;
                me.changed.notify_all();
                {
                    let mut own = me.own.lock();
                    let pending = own.split_off(&(ts + 1));
                    *own = pending;
                }
                if applied.changed().await.is_err() {
                    return;
                }
            }
        });
        let me = self.clone();
        tokio::spawn(async move { me.propose(raft).await });
    }

    /// Proposes queued records, at most [`IN_FLIGHT`] proposals at a time.
    async fn propose(self: Arc<Self>, raft: Raft<TypeConfig>) {
        let mut in_flight = tokio::task::JoinSet::new();
        loop {
            let batch = std::mem::take(&mut *self.queue.lock());
            if batch.is_empty() {
                tokio::select! {
                    _ = self.queued.notified() => continue,
                    Some(_) = in_flight.join_next(), if !in_flight.is_empty() => continue,
                }
            }
            let first = batch[0].0;
            let records = batch.into_iter().map(|(_, record)| record).collect();
            match raft.client_write_ff(Proposal { records, check: None }).await {
                Ok(answer) => {
                    let me = self.clone();
                    in_flight.spawn(async move {
                        let failed = match answer.await {
                            Ok(Ok(_)) => None,
                            Ok(Err(error)) => Some(error.to_string()),
                            Err(_) => Some("the Raft member dropped the proposal".to_string()),
                        };
                        if let Some(why) = failed {
                            me.fail_from(first, why);
                        }
                    });
                }
                Err(fatal) => {
                    self.fail_from(first, fatal.to_string());
                    return;
                }
            }
            while in_flight.len() >= IN_FLIGHT {
                in_flight.join_next().await;
            }
        }
    }

    /// Whether this member takes local commits now (a leader that has applied its term's
    /// first entry, and no proposal failed).
    pub fn writable(&self) -> bool {
        self.role.lock().writable && self.progress.lock().failed.is_none()
    }

    /// Why a proposal failed, once one did: from then on this member's storage may hold a
    /// commit the log lacks.
    pub fn failure(&self) -> Option<String> {
        self.progress.lock().failed.as_ref().map(|(_, why)| why.clone())
    }

    /// Whether `record` is this member's own commit at `ts`, proposed and not yet applied.
    pub fn holds(&self, ts: u64, record: &[u8]) -> bool {
        self.own.lock().get(&ts).is_some_and(|own| own[..] == *record)
    }

    /// Every commit at or after `ts` fails (its proposal, or an earlier one, failed).
    fn fail_from(&self, ts: u64, why: String) {
        tracing::warn!(ts, %why, "no more commits on this member until it restarts");
        let mut progress = self.progress.lock();
        if progress.failed.as_ref().is_none_or(|(from, _)| ts < *from) {
            progress.failed = Some((ts, why));
        }
        drop(progress);
        self.role.lock().writable = false;
        self.changed.notify_all();
    }
}

impl CommitSink for Proposer {
    fn name(&self) -> &str {
        RAFT_SINK
    }

    fn append(&self, entry: &CommitEntry<'_>) -> Result<SinkTicket, CommitError> {
        if entry.origin != Origin::Local {
            // A record the state machine applies: it is in the log already.
            return Ok(SinkTicket::NOTHING);
        }
        if entry.record.len() > MAX_RECORD {
            return Err(CommitError::new(
                CommitErrorKind::Rejected,
                RAFT_SINK,
                format!(
                    "this transaction's commit record is {:.1} MiB; a Raft cluster replicates at most {} MiB per \
                     commit (one append must reach a follower and be fsynced there within a heartbeat): split it \
                     into smaller transactions (UNWIND in batches, CALL {{ ... }} IN TRANSACTIONS)",
                    entry.record.len() as f64 / (1 << 20) as f64,
                    MAX_RECORD >> 20
                ),
            ));
        }
        if let Some(refusal) = self.local_refusal() {
            return Err(refusal);
        }
        *self.pending.lock() = Some((entry.ts, Arc::from(entry.record)));
        Ok(SinkTicket(entry.ts))
    }

    /// A member that is not the writable leader refuses, naming the leader it knows.
    fn local_refusal(&self) -> Option<CommitError> {
        let role = self.role.lock().clone();
        if role.writable {
            return None;
        }
        let why = match &role.leader {
            Some(leader) => format!("this member is not the Raft leader; the leader is at {leader}"),
            None => "this member is not the Raft leader, and no leader is known".to_string(),
        };
        Some(CommitError::new(
            CommitErrorKind::Redirect { to: role.leader },
            RAFT_SINK,
            why,
        ))
    }

    /// The term this member leads in: a transaction begun in an earlier term of its
    /// leadership does not commit in a later one.
    fn local_epoch(&self) -> u64 {
        self.role.lock().term
    }

    fn confirm(&self, ticket: SinkTicket) {
        if let Some((ts, record)) = self.pending.lock().take() {
            debug_assert_eq!(SinkTicket(ts), ticket);
            self.own.lock().insert(ts, record.clone());
            self.queue.lock().push((ts, record));
            self.queued.notify_one();
        }
    }

    fn revoke(&self, _ticket: SinkTicket) -> Result<(), CommitError> {
        self.pending.lock().take();
        Ok(())
    }

    fn wait(&self, ticket: SinkTicket) -> Result<(), CommitError> {
        if ticket == SinkTicket::NOTHING {
            return Ok(());
        }
        let deadline = Instant::now() + APPLY_WAIT;
        let mut progress = self.progress.lock();
        loop {
            if let Some((from, why)) = &progress.failed {
                if ticket.0 >= *from {
                    return Err(CommitError::fatal(
                        RAFT_SINK,
                        format!("the commit's Raft proposal failed ({why}); it may or may not be in the log"),
                    ));
                }
            }
            if progress.applied >= ticket.0 {
                return Ok(());
            }
            if self.changed.wait_until(&mut progress, deadline).timed_out() {
                let why = format!("the commit was not applied within {APPLY_WAIT:?} (no quorum?)");
                drop(progress);
                self.fail_from(ticket.0, why.clone());
                return Err(CommitError::fatal(
                    RAFT_SINK,
                    format!("{why}; it may or may not be in the log"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Member;
    use openraft::{CommittedLeaderId, LogId, RaftMetrics};

    fn metrics(state: ServerState, term: u64, last_log: u64, applied: Option<(u64, u64)>) -> RaftMetrics<u64, Member> {
        let mut m = RaftMetrics::new_initial(1);
        m.state = state;
        m.current_term = term;
        m.last_log_index = Some(last_log);
        m.last_applied = applied.map(|(t, i)| LogId::new(CommittedLeaderId::new(t, 1), i));
        m
    }

    #[test]
    fn a_leader_writes_once_it_applied_its_whole_log_and_an_entry_of_its_term() {
        let mut gate = LeaderGate::default();
        assert!(!gate.writable(&metrics(ServerState::Follower, 2, 10, Some((2, 10)))));
        // A member that restarts as the leader of term 2 with 204 entries: entries of its
        // own term come back applied one by one; it writes only once all are.
        assert!(!gate.writable(&metrics(ServerState::Leader, 2, 204, Some((2, 5)))));
        assert!(!gate.writable(&metrics(ServerState::Leader, 2, 204, Some((2, 203)))));
        assert!(gate.writable(&metrics(ServerState::Leader, 2, 204, Some((2, 204)))));
        // Its own proposals lengthen the log: it stays writable.
        assert!(gate.writable(&metrics(ServerState::Leader, 2, 230, Some((2, 210)))));
        // Elected in term 3: the previous term's entries applied do not make it writable.
        assert!(!gate.writable(&metrics(ServerState::Leader, 3, 231, Some((2, 230)))));
        assert!(gate.writable(&metrics(ServerState::Leader, 3, 231, Some((3, 231)))));
    }

    #[test]
    fn a_record_too_large_to_replicate_is_refused_and_the_pipeline_goes_on() {
        let proposer = Proposer::new();
        let record = vec![0u8; MAX_RECORD + 1];
        let entry = CommitEntry {
            ts: 7,
            record: &record,
            origin: Origin::Local,
        };
        let refused = proposer.append(&entry).unwrap_err();
        assert_eq!(refused.kind, CommitErrorKind::Rejected);
        assert!(refused.message.contains("split it"), "{}", refused.message);
        assert!(proposer.failure().is_none());
        // A record received from the leader is in the log already: never refused.
        let applied = CommitEntry {
            origin: Origin::Applied { epoch: 1 },
            ..entry
        };
        assert!(proposer.append(&applied).is_ok());
    }
}
