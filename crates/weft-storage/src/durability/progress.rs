//! How far a start's recovery has come, for whoever watches it (the server's `/health`
//! answers `recovering` with these figures until the instance serves).
//!
//! Owns: [`RecoveryProgress`], shared between the recovery, which moves it on, and
//! readers, which see it at any moment (atomics: a reader never waits for the recovery).

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a recovery is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecoveryPhase {
    /// Not begun yet (the data directory is being opened).
    Starting,
    /// Loading the newest valid snapshot.
    Snapshot,
    /// Applying the WAL records after it.
    Wal,
    /// Done: the instance builds the rest of itself and serves.
    Done,
}

impl RecoveryPhase {
    /// The phase as `/health` names it.
    pub fn name(self) -> &'static str {
        match self {
            RecoveryPhase::Starting => "starting",
            RecoveryPhase::Snapshot => "loading snapshot",
            RecoveryPhase::Wal => "replaying WAL",
            RecoveryPhase::Done => "done",
        }
    }
}

/// See the module docs.
#[derive(Debug)]
pub struct RecoveryProgress {
    started: Instant,
    phase: AtomicU8,
    wal_records: AtomicU64,
    wal_bytes: AtomicU64,
    snapshot_objects: AtomicU64,
    snapshot_total: AtomicU64,
}

impl Default for RecoveryProgress {
    fn default() -> Self {
        RecoveryProgress {
            started: Instant::now(),
            phase: AtomicU8::new(0),
            wal_records: AtomicU64::new(0),
            wal_bytes: AtomicU64::new(0),
            snapshot_objects: AtomicU64::new(0),
            snapshot_total: AtomicU64::new(0),
        }
    }
}

const PHASES: [RecoveryPhase; 4] = [
    RecoveryPhase::Starting,
    RecoveryPhase::Snapshot,
    RecoveryPhase::Wal,
    RecoveryPhase::Done,
];

impl RecoveryProgress {
    pub fn new() -> Arc<RecoveryProgress> {
        Arc::default()
    }

    pub fn phase(&self) -> RecoveryPhase {
        PHASES[usize::from(self.phase.load(Ordering::Relaxed)).min(PHASES.len() - 1)]
    }

    /// WAL records applied so far, and their bytes.
    pub fn wal(&self) -> (u64, u64) {
        (
            self.wal_records.load(Ordering::Relaxed),
            self.wal_bytes.load(Ordering::Relaxed),
        )
    }

    /// Objects of the snapshot being loaded that are in memory so far, and how many it
    /// holds (both 0 before a snapshot is read; a damaged one's count starts again for
    /// the older one tried next).
    pub fn snapshot(&self) -> (u64, u64) {
        (
            self.snapshot_objects.load(Ordering::Relaxed),
            self.snapshot_total.load(Ordering::Relaxed),
        )
    }

    /// Time since this progress was made (the start).
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    pub(crate) fn enter(&self, phase: RecoveryPhase) {
        let at = PHASES.iter().position(|p| *p == phase).unwrap_or(0);
        self.phase.store(at as u8, Ordering::Relaxed);
    }

    /// A snapshot of `total` objects starts loading.
    pub(crate) fn snapshot_started(&self, total: u64) {
        self.snapshot_objects.store(0, Ordering::Relaxed);
        self.snapshot_total.store(total, Ordering::Relaxed);
    }

    pub(crate) fn snapshot_loaded(&self, objects: u64) {
        self.snapshot_objects.fetch_add(objects, Ordering::Relaxed);
    }

    /// `records` more WAL records of `bytes` bytes are applied.
    pub(crate) fn applied(&self, records: u64, bytes: u64) {
        self.wal_records.fetch_add(records, Ordering::Relaxed);
        self.wal_bytes.fetch_add(bytes, Ordering::Relaxed);
    }
}
