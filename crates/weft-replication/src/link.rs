//! One registered replica as MAIN sees it: the records waiting to reach it, what it has
//! acknowledged, its state for `SHOW REPLICAS`, and the wait a synchronous commit does on it.
//!
//! Owns: [`ReplicaLink`], shared by the commit sink (which queues records and waits) and
//! the replica's shipper task (which sends them and records the acks).
//!
//! Promises: a queued record stays until the replica acknowledges it durable; a commit
//! waiting on a replica wakes when it is acknowledged, when the replica stops being
//! reachable, or at its deadline; the queue is bounded, and a replica that falls further
//! behind than the bound is marked `behind` instead of growing MAIN's memory.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use tokio::sync::{mpsc, Notify};

use crate::mode::ReplicaMode;

/// Records a replica may be behind by before it is marked `behind`.
pub const QUEUE_LIMIT: usize = 100_000;

/// Bytes of records per message on the stream (a larger record goes alone).
pub const BATCH_BYTES: usize = 4 << 20;

/// One commit on its way to a replica.
#[derive(Clone, Debug)]
pub struct Shipped {
    pub ts: u64,
    /// The commit before it on MAIN.
    pub prev: u64,
    pub record: Arc<[u8]>,
    /// When it was queued (how far behind in seconds a replica is).
    pub queued: Instant,
}

/// A replica's state, as `SHOW REPLICAS` prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Connected and holding every commit.
    Ready,
    /// Connected, records in flight.
    Replicating,
    /// Connecting or checking what the replica holds.
    Recovery,
    /// Missing commits that MAIN can no longer send from memory.
    Behind,
    /// Holds commits MAIN never had: refused until resolved by hand.
    Diverged,
    Unreachable,
}

impl LinkState {
    pub fn name(self) -> &'static str {
        match self {
            LinkState::Ready => "ready",
            LinkState::Replicating => "replicating",
            LinkState::Recovery => "recovery",
            LinkState::Behind => "behind",
            LinkState::Diverged => "diverged",
            LinkState::Unreachable => "unreachable",
        }
    }

    /// Whether records flow to the replica now.
    pub fn connected(self) -> bool {
        matches!(self, LinkState::Ready | LinkState::Replicating)
    }
}

#[derive(Debug)]
struct Progress {
    state: LinkState,
    acked_ts: u64,
    last_error: Option<String>,
    /// A SYNC WITH TIMEOUT replica that missed a deadline ships asynchronously until it
    /// has caught up.
    demoted: bool,
    demoted_until: u64,
}

/// What a commit's wait on one replica came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WaitOutcome {
    Acknowledged,
    /// The replica is not connected (its state says why); the commit does not wait.
    NotConnected(LinkState),
    /// The deadline passed first; the replica is now demoted.
    TimedOut,
}

/// A snapshot of a link for `SHOW REPLICAS`.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkStatus {
    pub name: String,
    pub address: String,
    pub mode: ReplicaMode,
    pub demoted: bool,
    pub state: LinkState,
    pub acked_ts: u64,
    /// Commits queued and not yet acknowledged.
    pub behind: usize,
    /// How long the oldest commit not yet acknowledged has waited (zero when none).
    pub lag: Duration,
    /// Record bytes sent to the replica since the link started.
    pub shipped_bytes: u64,
    pub last_error: Option<String>,
}

/// A registered replica; see the module docs.
pub struct ReplicaLink {
    pub name: String,
    pub address: String,
    pub mode: ReplicaMode,
    queue: Mutex<VecDeque<Shipped>>,
    progress: Mutex<Progress>,
    changed: Condvar,
    /// Wakes the shipper: a record was queued, or the link is stopping.
    pub(crate) wake: Notify,
    stopped: AtomicBool,
    /// The queue overflowed: records were dropped, so nothing more is queued until a
    /// catch-up from files begins.
    overflowed: AtomicBool,
    /// Records come from files, not the queue: the replica is not caught up, so commits
    /// do not wait for it (it stays `recovery`).
    catching_up: AtomicBool,
    /// The first commit after a hole found in MAIN's WAL (0: none found): a catch-up from
    /// before it goes by a snapshot past it.
    wal_hole_end: AtomicU64,
    shipped_bytes: AtomicU64,
    /// STRICT_SYNC prepares waiting for the shipper's connection to send them.
    prepares: mpsc::UnboundedSender<PrepareJob>,
    /// Taken by the shipper's session for as long as it is connected.
    pub(crate) prepare_jobs: tokio::sync::Mutex<mpsc::UnboundedReceiver<PrepareJob>>,
}

/// How often a commit waiting for a STRICT_SYNC prepare looks at the link's state.
const PREPARE_POLL: Duration = Duration::from_millis(20);

/// One STRICT_SYNC prepare: the record, and where its outcome goes. Past its deadline the
/// committer has given up (the commit is aborted): the job is not sent any more.
pub struct PrepareJob {
    pub ts: u64,
    pub prev: u64,
    pub record: Vec<u8>,
    pub deadline: Instant,
    pub outcome: std::sync::mpsc::SyncSender<Result<(), String>>,
}

impl ReplicaLink {
    pub fn new(name: String, address: String, mode: ReplicaMode) -> ReplicaLink {
        let (prepares, prepare_jobs) = mpsc::unbounded_channel();
        ReplicaLink {
            prepares,
            prepare_jobs: tokio::sync::Mutex::new(prepare_jobs),
            name,
            address,
            mode,
            queue: Mutex::new(VecDeque::new()),
            progress: Mutex::new(Progress {
                state: LinkState::Recovery,
                acked_ts: 0,
                last_error: None,
                demoted: false,
                demoted_until: 0,
            }),
            changed: Condvar::new(),
            wake: Notify::new(),
            stopped: AtomicBool::new(false),
            overflowed: AtomicBool::new(false),
            catching_up: AtomicBool::new(false),
            wal_hole_end: AtomicU64::new(0),
            shipped_bytes: AtomicU64::new(0),
        }
    }

    /// Queues a confirmed commit, unless the queue overflowed before: past
    /// [`QUEUE_LIMIT`] the queue is dropped and the replica marked `behind` until a
    /// catch-up from files begins.
    pub fn push(&self, item: Shipped) {
        if self.overflowed.load(Ordering::SeqCst) {
            return;
        }
        let mut queue = self.queue.lock();
        if queue.len() >= QUEUE_LIMIT {
            queue.clear();
            self.overflowed.store(true, Ordering::SeqCst);
            drop(queue);
            self.set_state(
                LinkState::Behind,
                Some(format!(
                    "more than {QUEUE_LIMIT} commits were waiting for this replica; it needs a catch-up"
                )),
            );
            return;
        }
        queue.push_back(item);
        drop(queue);
        self.wake.notify_one();
    }

    /// Queued records newer than `sent` and no newer than `durable` (what MAIN holds
    /// durably), oldest first: up to `limit` of them and about [`BATCH_BYTES`].
    pub fn batch_after(&self, sent: u64, durable: u64, limit: usize) -> Vec<Shipped> {
        let queue = self.queue.lock();
        let start = queue.partition_point(|s| s.ts <= sent);
        let mut bytes = 0;
        let mut batch = Vec::new();
        for item in queue.range(start..).take_while(|s| s.ts <= durable).take(limit) {
            if !batch.is_empty() && bytes + item.record.len() > BATCH_BYTES {
                break;
            }
            bytes += item.record.len();
            batch.push(item.clone());
        }
        batch
    }

    /// The `prev` of the oldest queued record newer than `held`: the commit a replica
    /// holding `held` must hold for the queue to follow on from it.
    pub fn first_prev_after(&self, held: u64) -> Option<u64> {
        let queue = self.queue.lock();
        let start = queue.partition_point(|s| s.ts <= held);
        queue.get(start).map(|s| s.prev)
    }

    /// Records are read from files from now on: queueing starts again (what the files do
    /// not reach yet is queued), and the link shows `recovery` until
    /// [`ReplicaLink::end_catch_up`].
    pub fn begin_catch_up(&self) {
        self.catching_up.store(true, Ordering::SeqCst);
        self.overflowed.store(false, Ordering::SeqCst);
        self.set_state(LinkState::Recovery, None);
    }

    /// A catch-up read found MAIN's WAL missing the commits before `end`.
    pub fn wal_hole_found(&self, end: u64) {
        self.wal_hole_end.fetch_max(end, Ordering::SeqCst);
    }

    /// The end of the newest hole found in MAIN's WAL, 0 when none was.
    pub fn wal_hole_end(&self) -> u64 {
        self.wal_hole_end.load(Ordering::SeqCst)
    }

    /// The replica installed a snapshot at `ts`: a hole before `ts + 1` is behind it.
    pub fn snapshot_installed(&self, ts: u64) {
        let _ = self
            .wal_hole_end
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |end| (end <= ts + 1).then_some(0));
    }

    /// The queue follows on from what was sent: the link is live again.
    pub fn end_catch_up(&self) {
        self.catching_up.store(false, Ordering::SeqCst);
        self.set_state(LinkState::Recovery, None);
        let acked = self.progress.lock().acked_ts;
        self.acknowledge(acked);
    }

    pub fn catching_up(&self) -> bool {
        self.catching_up.load(Ordering::SeqCst)
    }

    /// Whether a shipper that sent everything up to `sent` must read on from files: MAIN
    /// holds newer commits durably (`durable`) and the queue does not follow on from `sent`.
    pub fn needs_files(&self, sent: u64, durable: u64) -> bool {
        sent < durable && self.first_prev_after(sent) != Some(sent)
    }

    /// The replica holds everything up to `ts` durably: drop those records, wake waiting
    /// commits, and leave demotion once the commit that missed its deadline is held. A
    /// connected (or connecting) link that is not catching up becomes ready or replicating;
    /// a stopped one stays stopped, and `behind` or `diverged` stay as they are.
    pub fn acknowledge(&self, ts: u64) {
        let mut queue = self.queue.lock();
        while queue.front().is_some_and(|s| s.ts <= ts) {
            queue.pop_front();
        }
        let caught_up = queue.is_empty();
        drop(queue);
        let mut progress = self.progress.lock();
        progress.acked_ts = progress.acked_ts.max(ts);
        let live = progress.state.connected() || progress.state == LinkState::Recovery;
        if live && !self.stopped() && !self.catching_up() {
            progress.state = if caught_up {
                LinkState::Ready
            } else {
                LinkState::Replicating
            };
            progress.last_error = None;
        }
        if progress.demoted && (caught_up || progress.acked_ts >= progress.demoted_until) {
            progress.demoted = false;
        }
        drop(progress);
        self.changed.notify_all();
    }

    /// Sets the state (and the error that explains it), waking waiting commits.
    pub fn set_state(&self, state: LinkState, error: Option<String>) {
        let mut progress = self.progress.lock();
        progress.state = state;
        if error.is_some() || state.connected() {
            progress.last_error = error;
        }
        drop(progress);
        self.changed.notify_all();
    }

    /// Waits until the replica has acknowledged `ts`, for at most `limit` (`None`: as
    /// long as it stays connected). A replica that is not connected, or is demoted, is not
    /// waited for.
    pub fn wait_acknowledged(&self, ts: u64, limit: Option<Duration>) -> WaitOutcome {
        let deadline = limit.map(|limit| Instant::now() + limit);
        let mut progress = self.progress.lock();
        loop {
            if progress.acked_ts >= ts {
                return WaitOutcome::Acknowledged;
            }
            if !progress.state.connected() || self.stopped() {
                return WaitOutcome::NotConnected(progress.state);
            }
            if progress.demoted {
                // Demoted until this commit too is held: a replica that stays slower than
                // MAIN stays demoted instead of costing a deadline per swing back.
                progress.demoted_until = progress.demoted_until.max(ts);
                return WaitOutcome::TimedOut;
            }
            match deadline {
                Some(deadline) => {
                    if self.changed.wait_until(&mut progress, deadline).timed_out() && progress.acked_ts < ts {
                        progress.demoted = true;
                        progress.demoted_until = progress.demoted_until.max(ts);
                        return WaitOutcome::TimedOut;
                    }
                }
                None => self.changed.wait(&mut progress),
            }
        }
    }

    /// The first phase of a STRICT_SYNC commit: has the replica keep the record at `ts`
    /// (following `prev`) durably, waiting at most `limit`. Refused at once when the
    /// replica is not connected and caught up; why, if it did not prepare it.
    pub fn prepare(&self, ts: u64, prev: u64, record: &[u8], limit: Duration) -> Result<(), String> {
        let state = self.progress.lock().state;
        if !state.connected() || self.catching_up() || self.stopped() {
            let state = if self.catching_up() {
                "catching up"
            } else {
                state.name()
            };
            return Err(format!("the STRICT_SYNC replica `{}` is {state}", self.name));
        }
        let (outcome, result) = std::sync::mpsc::sync_channel(1);
        let deadline = Instant::now() + limit;
        let job = PrepareJob {
            ts,
            prev,
            record: record.to_vec(),
            deadline,
            outcome,
        };
        let _ = self.prepares.send(job);
        // In slices, so a replica lost meanwhile (or a dropped link) fails the commit at
        // once rather than at the deadline.
        loop {
            match result.recv_timeout(PREPARE_POLL) {
                Ok(outcome) => {
                    return outcome.map_err(|e| format!("the STRICT_SYNC replica `{}` did not prepare: {e}", self.name))
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                    let state = self.progress.lock().state;
                    if !state.connected() || self.stopped() {
                        return Err(format!(
                            "the STRICT_SYNC replica `{}` became {}",
                            self.name,
                            state.name()
                        ));
                    }
                }
                Err(_) => {
                    return Err(format!(
                        "the STRICT_SYNC replica `{}` did not prepare within {} ms",
                        self.name,
                        limit.as_millis()
                    ))
                }
            }
        }
    }

    /// Counts record bytes the shipper sent.
    pub fn shipped(&self, bytes: u64) {
        self.shipped_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub fn status(&self) -> LinkStatus {
        let (behind, lag) = {
            let queue = self.queue.lock();
            (
                queue.len(),
                queue.front().map_or(Duration::ZERO, |s| s.queued.elapsed()),
            )
        };
        let progress = self.progress.lock();
        LinkStatus {
            name: self.name.clone(),
            address: self.address.clone(),
            mode: self.mode,
            demoted: progress.demoted,
            state: progress.state,
            acked_ts: progress.acked_ts,
            behind,
            lag,
            shipped_bytes: self.shipped_bytes.load(Ordering::Relaxed),
            last_error: progress.last_error.clone(),
        }
    }

    /// Asks the shipper to end and releases waiting commits.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.set_state(LinkState::Unreachable, Some("dropped".into()));
        self.wake.notify_one();
    }

    pub fn stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped(ts: u64) -> Shipped {
        Shipped {
            ts,
            prev: ts - 1,
            record: Arc::from(&b"r"[..]),
            queued: Instant::now(),
        }
    }

    #[test]
    fn acknowledgements_drop_records_and_release_waiting_commits() {
        let link = Arc::new(ReplicaLink::new("r".into(), "h:1".into(), ReplicaMode::Sync));
        link.set_state(LinkState::Replicating, None);
        (1..=3).for_each(|ts| link.push(shipped(ts)));
        assert_eq!(
            link.batch_after(1, 3, 10).iter().map(|s| s.ts).collect::<Vec<_>>(),
            [2, 3]
        );
        let waiter = {
            let link = link.clone();
            std::thread::spawn(move || link.wait_acknowledged(3, None))
        };
        link.acknowledge(2);
        assert_eq!(link.status().behind, 1);
        link.acknowledge(3);
        assert_eq!(waiter.join().unwrap(), WaitOutcome::Acknowledged);
        assert_eq!(link.status().state, LinkState::Ready);
    }

    #[test]
    fn a_stopped_link_releases_waiters_and_an_ack_does_not_revive_it() {
        let link = Arc::new(ReplicaLink::new("r".into(), "h:1".into(), ReplicaMode::Sync));
        link.set_state(LinkState::Replicating, None);
        link.push(shipped(1));
        link.push(shipped(2));
        assert_eq!(link.batch_after(0, 1, 10).len(), 1, "only what MAIN holds durably");
        let waiter = {
            let link = link.clone();
            std::thread::spawn(move || link.wait_acknowledged(2, None))
        };
        link.stop();
        link.acknowledge(1);
        assert_eq!(
            waiter.join().unwrap(),
            WaitOutcome::NotConnected(LinkState::Unreachable)
        );
        assert_eq!(link.status().state, LinkState::Unreachable);
    }

    #[test]
    fn a_missed_deadline_demotes_until_caught_up_and_a_lost_replica_is_not_waited_for() {
        let link = ReplicaLink::new("r".into(), "h:1".into(), ReplicaMode::SyncWithTimeout { millis: 20 });
        link.set_state(LinkState::Replicating, None);
        link.push(shipped(1));
        assert_eq!(
            link.wait_acknowledged(1, Some(Duration::from_millis(20))),
            WaitOutcome::TimedOut
        );
        assert!(link.status().demoted);
        link.acknowledge(1);
        assert!(!link.status().demoted);
        link.set_state(LinkState::Unreachable, Some("gone".into()));
        assert_eq!(
            link.wait_acknowledged(5, None),
            WaitOutcome::NotConnected(LinkState::Unreachable)
        );
    }
}
