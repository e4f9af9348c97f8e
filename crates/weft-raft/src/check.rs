//! Fingerprint checks: whether every member's graph is the one the log says it is.
//!
//! Owns: the check entries the leader proposes ([`Check`], at most one per
//! [`CheckSettings::every`] and only when the log moved since the last one), each
//! member's fingerprints at the check entries it applied ([`Fingerprints`]), the
//! comparison with the leader's fingerprint at the same index (a check entry carries the
//! leader's fingerprint at its previous check), the `restricted` state of a member whose
//! graph differs, and that member's resync: it asks the leader, which sends it a fresh
//! snapshot of its own; the member takes it as its snapshot and restarts from it and its
//! log (see [`crate::network`]'s resync and [`crate::machine::StateMachine::adopt`]).
//!
//! A member's fingerprint at a check entry is its storage's running digest
//! ([`weft_storage::Storage::fingerprint_at`]) as of the newest commit applied before the
//! entry: kept up to date by every commit (each one's objects hashed after it less before
//! it), so a check costs no scan. The digest is started by one scan of the whole graph, at
//! the first check a storage meets (on a thread of its own, so that applying goes on);
//! that scan covers every object, also ones that no record touched since (a snapshot
//! loaded wrong), and a storage that replaces the graph starts its own.
//!
//! Promises: a restricted member serves no reads (the server refuses them), builds no
//! snapshot of its own (its graph must not outlive it) and proposes no checks; it stays
//! restricted until a snapshot from the leader replaces its graph (a restricted leader
//! stops its Raft and restarts in place instead). One first scan runs at a time (checks
//! that come meanwhile are skipped), and it stops when its graph is replaced or the
//! member stops. A check whose state the storage has passed already (it was loaded from
//! a snapshot that holds later commits) is skipped.
//!
//! A restriction outlives a restart: it is written to the member's directory
//! ([`RESTRICTED`]) when found, and removed only once the member took the leader's
//! snapshot. A restricted member never campaigns (elections are off for it), so a
//! restricted leader restarts and resyncs as a follower of the member that leads next;
//! a cluster whose every member is restricted waits for an operator.
//!
//! Not yet: the leader's digest is the measure (a majority's would be better).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use openraft::{Raft, ServerState};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use weft_storage::{Fingerprint, Storage};

use std::path::{Path, PathBuf};

use openraft::SnapshotMeta;

use crate::admin::{AdminAnswer, AdminError, AdminReply, AdminRequest, Reach};
use crate::machine::StateMachine;
use crate::{Member, Proposal, TypeConfig};

/// A member's fingerprint at one log index.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckedAt {
    pub index: u64,
    pub digest: u128,
    pub vertices: u64,
    pub edges: u64,
}

impl CheckedAt {
    fn new(index: u64, fingerprint: Fingerprint) -> CheckedAt {
        CheckedAt {
            index,
            digest: fingerprint.digest,
            vertices: fingerprint.vertices,
            edges: fingerprint.edges,
        }
    }

    /// The digest's first 64 bits in hex, as `SHOW CLUSTER` shows it.
    pub fn short(&self) -> String {
        Fingerprint {
            digest: self.digest,
            vertices: self.vertices,
            edges: self.edges,
        }
        .to_string()
    }
}

/// What a check entry carries: the leader's fingerprint at its previous check entry, when
/// it has one (every member compares its own at that index).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub leader: Option<CheckedAt>,
}

/// How often the leader proposes a check entry.
#[derive(Clone, Copy, Debug)]
pub struct CheckSettings {
    pub every: Duration,
}

impl Default for CheckSettings {
    fn default() -> CheckSettings {
        CheckSettings {
            every: Duration::from_secs(30),
        }
    }
}

/// How many computed fingerprints a member keeps (the leader's next check names its
/// previous one, so a few are plenty).
const KEPT: usize = 8;

/// How long a restricted member waits before it asks the leader for its snapshot again,
/// at first and at most (the pause doubles in between).
const RESYNC_FIRST: Duration = Duration::from_secs(3);
const RESYNC_LAST: Duration = Duration::from_secs(120);

/// The file in a member's directory that says it is restricted, and why.
pub const RESTRICTED: &str = "restricted";

/// One member's fingerprints and whether its graph differs; see the module docs.
#[derive(Default)]
pub struct Fingerprints {
    /// Where the restriction is written, when the member has a directory.
    marker: Option<PathBuf>,
    state: Mutex<State>,
    restricted: watch::Sender<Option<String>>,
    /// True while a scan runs: one at a time (a check that comes meanwhile, as in a
    /// replay of the log, is skipped).
    scanning: AtomicBool,
    /// Moved on to stop a running scan (its read transaction would hold a storage
    /// replacement back, and its graph is about to go).
    generation: AtomicU64,
}

#[derive(Default)]
struct State {
    /// By check index: the fingerprint, or `None` while it is computed.
    computed: BTreeMap<u64, Option<Fingerprint>>,
    /// The leader's fingerprints waiting for this member's own at the same index.
    expected: BTreeMap<u64, CheckedAt>,
    /// Checks that found this member's graph different, since it started.
    mismatches: u64,
}

impl Fingerprints {
    pub fn new() -> Arc<Fingerprints> {
        Arc::default()
    }

    /// The fingerprints of the member whose directory is `dir`: restricted from the start
    /// when it was when it stopped.
    pub fn open(dir: &Path) -> Arc<Fingerprints> {
        let marker = dir.join(RESTRICTED);
        let fingerprints = Fingerprints {
            marker: Some(marker.clone()),
            ..Fingerprints::default()
        };
        match std::fs::read_to_string(&marker) {
            Ok(why) => {
                tracing::error!(
                    "this Raft member was restricted when it stopped ({why}); it resyncs from the leader's snapshot"
                );
                fingerprints
                    .restricted
                    .send_replace(Some(format!("{why} (found before it restarted)")));
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                let why = format!("its restriction marker {} cannot be read: {error}", marker.display());
                tracing::error!("this Raft member is restricted: {why}");
                fingerprints.restricted.send_replace(Some(why));
            }
        }
        Arc::new(fingerprints)
    }

    /// Records this member's fingerprint at the check entry at `index`, and compares it
    /// with the leader's there if that came first.
    pub fn found(&self, index: u64, fingerprint: Fingerprint) {
        self.reserve(index);
        self.finish(index, fingerprint);
    }

    /// Makes room for this member's fingerprint at `index` (the oldest beyond [`KEPT`]
    /// go); a leader's fingerprint for it that comes before it waits there.
    fn reserve(&self, index: u64) {
        let mut state = self.state.lock();
        state.computed.insert(index, None);
        while state.computed.len() > KEPT {
            state.computed.pop_first();
        }
    }

    /// Starts `storage`'s running fingerprint with a scan on a thread of its own; when
    /// the scan is as of commit `ts` (nothing was staged after the check entry at
    /// `index`), its result is this member's fingerprint there.
    pub fn start(self: &Arc<Self>, index: u64, ts: u64, storage: Storage) {
        if self.scanning.swap(true, Ordering::SeqCst) {
            tracing::debug!(index, "a first fingerprint scan runs already; this check is skipped");
            return;
        }
        let generation = self.generation.load(Ordering::SeqCst);
        self.reserve(index);
        let me = self.clone();
        let spawned = std::thread::Builder::new()
            .name("weft-fingerprint".into())
            .spawn(move || {
                let cancelled = || me.generation.load(Ordering::SeqCst) != generation;
                let kept =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| storage.keep_fingerprint(&cancelled)));
                let kept = kept.unwrap_or_else(|_| {
                    tracing::error!(
                        index,
                        "the first fingerprint scan failed; the next check starts another"
                    );
                    None
                });
                match kept {
                    // Not for a graph that was replaced meanwhile (its comparison would
                    // restrict the new one).
                    Some((at, fingerprint)) if at == ts && !cancelled() => me.finish(index, fingerprint),
                    _ => {
                        let mut state = me.state.lock();
                        state.computed.remove(&index);
                        state.expected.remove(&index);
                    }
                }
                me.scanning.store(false, Ordering::SeqCst);
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, index, "cannot start this member's fingerprint; the check is skipped");
            self.state.lock().computed.remove(&index);
            self.scanning.store(false, Ordering::SeqCst);
        }
    }

    /// Stops a running scan soon (it records nothing): its graph is being replaced, or
    /// the member stops.
    pub fn cancel(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn finish(&self, index: u64, fingerprint: Fingerprint) {
        let expected = {
            let mut state = self.state.lock();
            if let Some(slot) = state.computed.get_mut(&index) {
                *slot = Some(fingerprint);
            }
            state.expected.remove(&index)
        };
        tracing::debug!(index, %fingerprint, "fingerprint computed");
        if let Some(leader) = expected {
            self.compare(CheckedAt::new(index, fingerprint), leader);
        }
    }

    /// Compares the leader's fingerprint with this member's at the same index, now or
    /// once it is computed. A member that has none there (it joined, or took a snapshot,
    /// after it) skips the check.
    pub fn expect(&self, leader: CheckedAt) {
        let own = {
            let mut state = self.state.lock();
            match state.computed.get(&leader.index) {
                Some(Some(own)) => Some(*own),
                Some(None) => {
                    state.expected.insert(leader.index, leader);
                    None
                }
                None => None,
            }
        };
        if let Some(own) = own {
            self.compare(CheckedAt::new(leader.index, own), leader);
        }
    }

    fn compare(&self, own: CheckedAt, leader: CheckedAt) {
        if own.digest == leader.digest {
            return;
        }
        let why = format!(
            "its graph differs from the leader's at log index {}: fingerprint {} ({} vertices, {} edges) where the \
             leader has {} ({} vertices, {} edges)",
            own.index,
            own.short(),
            own.vertices,
            own.edges,
            leader.short(),
            leader.vertices,
            leader.edges
        );
        self.state.lock().mismatches += 1;
        // Restricted already (or taking the leader's snapshot, its marker gone): the
        // first reason stands.
        if self.restricted().is_some() {
            tracing::warn!("this restricted Raft member differs again: {why}");
            return;
        }
        tracing::error!("this Raft member is restricted: {why}; it resyncs from the leader's snapshot");
        if let Some(marker) = &self.marker {
            if let Err(error) = weft_storage::durability::replace_file(marker, why.as_bytes()) {
                tracing::warn!(%error, "cannot write the restriction down; a restart would forget it");
            }
        }
        self.restricted.send_replace(Some(why));
    }

    /// Removes the restriction's record on disk (the graph it was about is gone: a
    /// restart builds the leader's); the member stays restricted until then.
    pub fn forget_marker(&self) -> std::io::Result<()> {
        self.marker
            .as_deref()
            .map_or(Ok(()), weft_storage::durability::remove_file)
    }

    /// The newest fingerprint this member has computed.
    pub fn latest(&self) -> Option<CheckedAt> {
        let state = self.state.lock();
        state
            .computed
            .iter()
            .rev()
            .find_map(|(index, fingerprint)| fingerprint.map(|f| CheckedAt::new(*index, f)))
    }

    /// Why this member is restricted, when it is.
    pub fn restricted(&self) -> Option<String> {
        self.restricted.borrow().clone()
    }

    /// Checks that found this member's graph different.
    pub fn mismatches(&self) -> u64 {
        self.state.lock().mismatches
    }

    /// Forgets every fingerprint and the restriction: the graph was replaced by a
    /// snapshot from the leader.
    pub fn reset(&self) {
        self.cancel();
        if let Err(error) = self.forget_marker() {
            tracing::warn!(%error, "cannot remove the restriction marker; the member would restart restricted");
        }
        let mut state = self.state.lock();
        state.computed.clear();
        state.expected.clear();
        drop(state);
        self.restricted.send_replace(None);
    }
}

/// Runs, on the member's runtime, the leader's check proposals and a restricted member's
/// requests for a resync; both end with `raft`.
pub fn start(raft: Raft<TypeConfig>, id: u64, fingerprints: Arc<Fingerprints>, reach: Reach, settings: CheckSettings) {
    let leader = raft.clone();
    let own = fingerprints.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(settings.every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_checked = None;
        loop {
            ticks.tick().await;
            let (state, last_index, running) = {
                let m = leader.metrics();
                let m = m.borrow();
                (m.state, m.last_log_index, m.running_state.is_ok())
            };
            if !running {
                return;
            }
            // An idle log gets no checks: the last one stands for it; and a restricted
            // member's digest is no measure for the others.
            if state != ServerState::Leader || last_index == last_checked || own.restricted().is_some() {
                continue;
            }
            let proposal = Proposal {
                check: Some(Check { leader: own.latest() }),
                ..Proposal::default()
            };
            match leader.client_write(proposal).await {
                Ok(written) => last_checked = Some(written.log_id.index),
                Err(error) => tracing::debug!(%error, "a check entry was not written"),
            }
        }
    });
    tokio::spawn(async move {
        let mut restricted = fingerprints.restricted.subscribe();
        let mut pause = RESYNC_FIRST;
        loop {
            if restricted.wait_for(Option::is_some).await.is_err() {
                return;
            }
            let (running, leads) = {
                let m = raft.metrics();
                let m = m.borrow();
                (m.running_state.is_ok(), m.state == ServerState::Leader)
            };
            if !running {
                return;
            }
            // A restricted member never campaigns: its graph is no measure for the
            // others, and the leader it would be could not resync from anyone.
            raft.runtime_config().elect(false);
            if leads {
                // It led when the difference was found: it stops leading and restarts
                // (still restricted, never campaigning), and resyncs from the member that
                // leads then.
                tracing::error!("this Raft member leads but is restricted: it restarts and resyncs as a follower");
                let _ = raft.shutdown().await;
                return;
            }
            let request = AdminRequest::Resync { id };
            match crate::admin::to_leader(&raft, &reach, &request).await {
                Ok(_) => tracing::info!("the leader sent its snapshot; this member takes it"),
                Err(error) => tracing::warn!(%error, "the leader did not send its snapshot; asking again in {pause:?}"),
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(RESYNC_LAST);
        }
    });
}

/// Longest a restricted member waits to have applied the log up to the leader's
/// snapshot before it takes it (its log must hold every entry after the snapshot).
const CATCH_UP: Duration = Duration::from_secs(10);

/// A restricted member takes the leader's snapshot (`meta`, the file at `path`) as its
/// own and restarts, so that its graph is rebuilt from it and the entries after it in its
/// own log. The snapshot must be of a committed index this member has applied, and not
/// older than its log's purge point: then every entry after it is in the log.
pub async fn take_leader_snapshot(
    raft: &Raft<TypeConfig>,
    machine: &StateMachine,
    meta: SnapshotMeta<u64, Member>,
    path: &Path,
) -> AdminReply {
    let refused = |why: String| Err(AdminError::Refused(why));
    if machine.fingerprints().restricted().is_none() {
        return refused("this member's graph agrees with the leader's: it takes no snapshot to resync".into());
    }
    let Some(last) = meta.last_log_id else {
        return refused("an empty snapshot cannot resync a member".into());
    };
    let applied = raft
        .wait(Some(CATCH_UP))
        .metrics(
            |m| m.last_applied.is_some_and(|a| a.index >= last.index),
            "applied up to the snapshot",
        )
        .await;
    if let Err(error) = applied {
        return refused(format!(
            "this member has not applied up to the snapshot's {last}: {error}"
        ));
    }
    let purged = raft.metrics().borrow().purged;
    if purged.is_some_and(|p| p.index > last.index) {
        return refused(format!(
            "this member's log starts after the snapshot's {last}; send a newer one"
        ));
    }
    let (adopting, file) = (machine.clone(), path.to_path_buf());
    let adopted = tokio::task::spawn_blocking(move || adopting.adopt(meta, &file))
        .await
        .map_err(|e| AdminError::Refused(format!("taking the snapshot failed: {e}")))?;
    if let Err(why) = adopted {
        return refused(why);
    }
    tracing::warn!(snapshot = %last, "took the leader's snapshot; this member restarts to rebuild its graph from it");
    let stopping = raft.clone();
    tokio::spawn(async move {
        // Answered first: the restart stops this runtime.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let _ = stopping.shutdown().await;
    });
    Ok(AdminAnswer::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(index: u64, digest: u128) -> CheckedAt {
        CheckedAt {
            index,
            digest,
            vertices: 1,
            edges: 0,
        }
    }

    fn computed(fingerprints: &Fingerprints, index: u64, digest: u128) {
        fingerprints.state.lock().computed.insert(index, None);
        fingerprints.finish(
            index,
            Fingerprint {
                digest,
                vertices: 1,
                edges: 0,
            },
        );
    }

    #[test]
    fn a_member_whose_fingerprint_differs_is_restricted_until_reset() {
        let fingerprints = Fingerprints::new();
        computed(&fingerprints, 10, 7);
        fingerprints.expect(at(10, 7));
        assert_eq!(fingerprints.restricted(), None);
        // Unknown index: skipped.
        fingerprints.expect(at(3, 1));
        assert_eq!(fingerprints.restricted(), None);
        fingerprints.expect(at(10, 8));
        let why = fingerprints.restricted().unwrap();
        assert!(why.contains("log index 10"), "{why}");
        assert_eq!(fingerprints.mismatches(), 1);
        fingerprints.reset();
        assert_eq!((fingerprints.restricted(), fingerprints.latest()), (None, None));
    }

    #[test]
    fn a_restriction_outlives_a_restart_until_the_graph_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let fingerprints = Fingerprints::open(dir.path());
        computed(&fingerprints, 10, 7);
        fingerprints.expect(at(10, 8));
        assert!(fingerprints.restricted().is_some());
        let reopened = Fingerprints::open(dir.path());
        let why = reopened.restricted().expect("restricted after a restart");
        assert!(
            why.contains("log index 10") && why.contains("before it restarted"),
            "{why}"
        );
        reopened.forget_marker().unwrap();
        assert!(reopened.restricted().is_some(), "restricted until it restarts");
        assert_eq!(Fingerprints::open(dir.path()).restricted(), None);
        Fingerprints::open(dir.path()).reset();
    }

    #[test]
    fn the_leaders_fingerprint_waits_for_the_members_own() {
        let fingerprints = Fingerprints::new();
        fingerprints.state.lock().computed.insert(20, None);
        fingerprints.expect(at(20, 5));
        assert_eq!(fingerprints.restricted(), None);
        fingerprints.finish(
            20,
            Fingerprint {
                digest: 6,
                vertices: 1,
                edges: 0,
            },
        );
        assert!(fingerprints.restricted().is_some());
        assert_eq!(fingerprints.latest().map(|c| c.index), Some(20));
    }
}
