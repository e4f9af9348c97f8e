//! Durability as one service: open a data directory, recover the database from it,
//! write every commit to the WAL, take snapshots and apply retention.
//!
//! Owns: the order of start-up (lock the directory, recover from the newest valid
//! snapshot and the WAL after it, then open the WAL for writing and plug it into the
//! commit pipeline), snapshot scheduling, and which files retention deletes (through the
//! [`FileRetainer`]). Promises: nothing acknowledged is lost under the sync policy
//! `always`; a damaged record in the middle of history stops the start with an error
//! naming the file and offset unless the caller accepts the loss (`skip_corrupt`).

mod catch_up;
mod install;

pub use catch_up::{CatchUp, CatchUpPlan};

use super::data_dir::DataDir;
use super::io::{self, FileSystem};
use super::progress::{RecoveryPhase, RecoveryProgress};
use super::retainer::FileRetainer;
use super::snapshot::{list_snapshots_with, load_snapshot_watched, write_snapshot_then, SnapshotInfo};
use super::wal::{
    check_epochs, list_segments_with, read_segments_with, ReadOptions, SyncPolicy, WalOptions, WalStats, WalWriter,
};
use super::DurabilityError;
use crate::record::CommitRecord;
use crate::storage::Storage;
use parking_lot::{Condvar, Mutex, RwLock};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Decoded WAL records queued ahead of the thread applying them during recovery.
const DECODE_AHEAD: usize = 256;
/// Operations recovery gathers into one run of records to load together.
const RUN_OPS: usize = 1 << 16;

/// Snapshots kept by default.
pub const DEFAULT_SNAPSHOT_RETENTION: usize = 3;

/// How durability behaves; the server's `--wal-*`, `--snapshot-*` and `--recover*` flags.
#[derive(Clone, Debug)]
pub struct DurabilityConfig {
    pub dir: PathBuf,
    pub wal_sync: SyncPolicy,
    pub wal_segment_size: u64,
    /// Newest snapshots kept (at least 1; fewer than 2 leaves no fallback if the newest
    /// one is damaged).
    pub snapshot_retention: usize,
    /// Recover from the files (default); false sets them aside and starts empty.
    pub recover: bool,
    /// Accept knowingly the loss of damaged WAL records instead of refusing to start.
    pub skip_corrupt: bool,
    /// Where the recovery at open reports how far it has come.
    pub progress: Arc<RecoveryProgress>,
}

impl DurabilityConfig {
    /// Defaults for a data directory: fsync every commit, 64 MiB segments, 3 snapshots.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        DurabilityConfig {
            dir: dir.into(),
            wal_sync: SyncPolicy::Always,
            wal_segment_size: super::wal::DEFAULT_SEGMENT_SIZE,
            snapshot_retention: DEFAULT_SNAPSHOT_RETENTION,
            recover: true,
            skip_corrupt: false,
            progress: RecoveryProgress::new(),
        }
    }
}

/// What a recovery did.
#[derive(Clone, Debug, Default)]
pub struct RecoveryReport {
    pub snapshot: Option<SnapshotInfo>,
    pub wal_records: u64,
    pub wal_bytes: u64,
    pub elapsed: Duration,
}

/// Figures for `SHOW STORAGE INFO`.
#[derive(Clone, Debug)]
pub struct DurabilityInfo {
    pub db_id: Uuid,
    pub epoch: u64,
    pub wal_segments: usize,
    pub wal_bytes: u64,
    pub snapshots: usize,
    pub snapshot_bytes: u64,
    pub wal: WalStats,
}

/// A database's durability: open while the database runs.
pub struct Durability {
    /// The locked directory; under a lock because [`Durability::advance_epoch`] changes it.
    dir: Mutex<DataDir>,
    root: PathBuf,
    db_id: Uuid,
    fs: Arc<dyn FileSystem>,
    config: DurabilityConfig,
    /// Replaced by [`Durability::install_snapshot`].
    storage: RwLock<Storage>,
    wal: Arc<WalWriter>,
    retainer: FileRetainer,
    snapshotting: Mutex<()>,
    recovery: RecoveryReport,
}

impl Durability {
    /// Locks the data directory, recovers the database it holds and starts logging every
    /// commit of the returned storage.
    pub fn open(config: DurabilityConfig) -> Result<Arc<Durability>, DurabilityError> {
        Durability::open_with(config, io::real())
    }

    /// [`Durability::open`] with every file operation on `fs` (tests inject faults so).
    pub fn open_with(config: DurabilityConfig, fs: Arc<dyn FileSystem>) -> Result<Arc<Durability>, DurabilityError> {
        let mut dir = DataDir::open_with(fs.clone(), &config.dir)?;
        if config.retention_is_unsafe() {
            tracing::warn!(
                retention = config.snapshot_retention,
                "keeping fewer than 2 snapshots leaves nothing to fall back on if the newest is damaged"
            );
        }
        if !config.recover {
            let aside = dir.set_aside()?;
            tracing::warn!(moved_to = %aside.display(), "recovery is off: the old files were set aside; starting empty");
        }
        let retainer = FileRetainer::with_fs(fs.clone());
        let (storage, recovery) = recover(&dir, &retainer, config.skip_corrupt, &config.progress)?;
        let options = WalOptions {
            db_id: dir.db_id,
            epoch: dir.epoch,
            segment_size: config.wal_segment_size,
            sync: config.wal_sync,
            skip_corrupt: config.skip_corrupt,
        };
        let wal = Arc::new(WalWriter::open_with(fs.clone(), &dir.wal_dir(), options)?);
        storage.add_commit_sink(wal.clone());
        Ok(Arc::new(Durability {
            root: dir.root().to_path_buf(),
            db_id: dir.db_id,
            dir: Mutex::new(dir),
            fs,
            config,
            storage: RwLock::new(storage),
            wal,
            retainer,
            snapshotting: Mutex::new(()),
            recovery,
        }))
    }

    /// The database's storage (recovered, or installed since), logging its commits.
    pub fn storage(&self) -> Storage {
        self.storage.read().clone()
    }

    pub fn db_id(&self) -> Uuid {
        self.db_id
    }

    /// The data directory's current epoch.
    pub fn epoch(&self) -> u64 {
        self.dir.lock().epoch
    }

    /// Moves the data directory's epoch one up (stored durably first), then seals the
    /// current WAL segment: later records go to segments, and later snapshots to files,
    /// whose header carries the new epoch. Returns the new epoch.
    pub fn advance_epoch(&self) -> Result<u64, DurabilityError> {
        self.advance_epoch_to(0)
    }

    /// [`Durability::advance_epoch`] to `at_least` when that is above the current epoch
    /// (replication picks epochs that no other member's history uses).
    pub fn advance_epoch_to(&self, at_least: u64) -> Result<u64, DurabilityError> {
        let mut dir = self.dir.lock();
        let epoch = dir.advance_epoch(at_least)?;
        self.wal.start_epoch(epoch)?;
        Ok(epoch)
    }

    pub fn data_dir(&self) -> &Path {
        &self.root
    }

    fn wal_dir(&self) -> PathBuf {
        self.root.join("wal")
    }

    fn snapshot_dir(&self) -> PathBuf {
        self.root.join("snapshots")
    }

    /// What the start-up recovery did.
    pub fn recovery(&self) -> &RecoveryReport {
        &self.recovery
    }

    /// The file retainer, for readers that must keep files from being deleted.
    pub fn retainer(&self) -> &FileRetainer {
        &self.retainer
    }

    /// Takes a snapshot now (one at a time), then applies retention.
    pub fn create_snapshot(&self) -> Result<SnapshotInfo, DurabilityError> {
        let _one_at_a_time = self.snapshotting.lock();
        let started = Instant::now();
        let (dir, epoch) = (self.snapshot_dir(), self.epoch());
        let storage = self.storage();
        // On a thread of its own at a lower CPU priority: a snapshot is a long scan, and
        // committers must not wait for the cores it would otherwise take.
        let info = std::thread::scope(|scope| {
            let writer = std::thread::Builder::new()
                .name("weft-snapshot".into())
                .spawn_scoped(scope, || {
                    let fs = self.fs.as_ref();
                    // Lowered once the snapshot's transaction has begun: a thread of the
                    // idle policy must never hold the commit lock.
                    write_snapshot_then(fs, &storage, &dir, self.db_id, epoch, super::priority::lower_priority)
                })
                .map_err(|e| DurabilityError::io(&dir, "start the snapshot writer for", e))?;
            writer.join().unwrap_or_else(|_| {
                Err(DurabilityError::io(
                    &dir,
                    "write a snapshot in",
                    std::io::Error::other("the snapshot writer panicked"),
                ))
            })
        })?;
        tracing::info!(
            ts = info.ts,
            vertices = info.vertices,
            edges = info.edges,
            mb = info.bytes as f64 / 1e6,
            seconds = started.elapsed().as_secs_f64(),
            "snapshot written"
        );
        self.apply_retention()?;
        Ok(info)
    }

    /// The snapshots on disk, oldest first.
    pub fn snapshots(&self) -> Result<Vec<SnapshotInfo>, DurabilityError> {
        list_snapshots_with(self.fs.as_ref(), &self.snapshot_dir(), self.db_id)
    }

    /// Keeps the newest snapshots and the WAL segments needed to recover from the oldest
    /// one kept; older files go through the retainer.
    fn apply_retention(&self) -> Result<(), DurabilityError> {
        let snapshots = self.snapshots()?;
        let keep = self.config.snapshot_retention.max(1);
        let cut = snapshots.len().saturating_sub(keep);
        for old in &snapshots[..cut] {
            self.retainer.delete(&old.path);
        }
        if let Some(oldest_kept) = snapshots.get(cut) {
            self.wal.purge_upto(oldest_kept.ts, &self.retainer)?;
        }
        Ok(())
    }

    /// Why the WAL stopped taking records, once a write or fsync failed (also when the
    /// failure happened in the background, before any commit met it).
    pub fn write_failure(&self) -> Option<String> {
        self.wal.failure()
    }

    /// Makes every written record durable (for the `interval` policy's timer, and at exit).
    pub fn sync(&self) -> Result<(), DurabilityError> {
        self.wal.sync()
    }

    /// Figures for `SHOW STORAGE INFO`.
    pub fn info(&self) -> Result<DurabilityInfo, DurabilityError> {
        let segments = list_segments_with(self.fs.as_ref(), &self.wal_dir(), self.db_id)?;
        let snapshots = self.snapshots()?;
        Ok(DurabilityInfo {
            db_id: self.db_id,
            epoch: self.epoch(),
            wal_segments: segments.len(),
            wal_bytes: segments.iter().map(|s| s.len).sum(),
            snapshots: snapshots.len(),
            snapshot_bytes: snapshots.iter().map(|s| s.bytes).sum(),
            wal: self.wal.stats(),
        })
    }

    /// Clean shutdown: a final snapshot if asked for, and every record synced.
    pub fn close(&self, snapshot: bool) -> Result<(), DurabilityError> {
        if snapshot {
            self.create_snapshot()?;
        }
        self.sync()
    }

    /// Starts a thread that takes a snapshot every `snapshot_interval` (if any) and, under
    /// the `interval` sync policy, syncs the WAL on that schedule. Stops when dropped.
    pub fn start_background(self: &Arc<Self>, snapshot_interval: Option<Duration>) -> BackgroundWorker {
        let sync_every = match self.config.wal_sync {
            SyncPolicy::Interval(every) => Some(every),
            _ => None,
        };
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let (durability, flag) = (self.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("weft-durability".to_string())
            .spawn(move || background(&durability, &flag, snapshot_interval, sync_every))
            .ok();
        BackgroundWorker { stop, thread }
    }
}

impl DurabilityConfig {
    fn retention_is_unsafe(&self) -> bool {
        self.snapshot_retention < 2
    }
}

/// The periodic snapshot and sync thread; stops and joins when dropped.
pub struct BackgroundWorker {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for BackgroundWorker {
    fn drop(&mut self) {
        *self.stop.0.lock() = true;
        self.stop.1.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn background(
    durability: &Durability,
    stop: &(Mutex<bool>, Condvar),
    snapshot_every: Option<Duration>,
    sync_every: Option<Duration>,
) {
    let tick = [snapshot_every, sync_every].into_iter().flatten().min();
    let Some(tick) = tick else { return };
    let mut next_snapshot = snapshot_every.map(|every| Instant::now() + every);
    let mut stopped = stop.0.lock();
    while !*stopped {
        stop.1.wait_for(&mut stopped, tick);
        if *stopped {
            break;
        }
        drop(stopped);
        if sync_every.is_some() {
            if let Err(error) = durability.sync() {
                tracing::error!(%error, "periodic WAL sync failed");
            }
        }
        if let (Some(at), Some(every)) = (next_snapshot, snapshot_every) {
            if Instant::now() >= at {
                if let Err(error) = durability.create_snapshot() {
                    tracing::error!(%error, "periodic snapshot failed");
                }
                next_snapshot = Some(Instant::now() + every);
            }
        }
        stopped = stop.0.lock();
    }
}

/// Newest valid snapshot, then the WAL records after it, in timestamp order.
fn recover(
    dir: &DataDir,
    retainer: &FileRetainer,
    skip_corrupt: bool,
    progress: &RecoveryProgress,
) -> Result<(Storage, RecoveryReport), DurabilityError> {
    let started = Instant::now();
    let mut locker = retainer.locker();
    let mut report = RecoveryReport::default();
    let fs = dir.fs().as_ref();
    let snapshots = list_snapshots_with(fs, &dir.snapshot_dir(), dir.db_id)?;
    if let Some(future) = snapshots.iter().find(|s| s.epoch > dir.epoch) {
        return Err(DurabilityError::EpochFromFuture {
            path: future.path.clone(),
            file_epoch: future.epoch,
            dir_epoch: dir.epoch,
        });
    }
    let mut base = None;
    progress.enter(RecoveryPhase::Snapshot);
    for snapshot in snapshots.iter().rev() {
        locker.add(&snapshot.path);
        match load_snapshot_watched(fs, &snapshot.path, dir.db_id, Some(progress)) {
            Ok((storage, info)) => {
                tracing::info!(path = %info.path.display(), ts = info.ts, vertices = info.vertices, edges = info.edges, "snapshot loaded");
                report.snapshot = Some(info);
                base = Some(storage);
                break;
            }
            Err(error) if error.is_corruption() => {
                tracing::warn!(%error, "snapshot is damaged; trying an older one");
            }
            Err(error) => return Err(error),
        }
    }
    let after = report.snapshot.as_ref().map_or(0, |s| s.ts);
    let storage = base.unwrap_or_default();
    progress.enter(RecoveryPhase::Wal);
    let wal_dir = dir.wal_dir();
    let segments = list_segments_with(fs, &wal_dir, dir.db_id)?;
    check_epochs(segments.iter().map(|s| (s.path.as_path(), s.epoch)), dir.epoch)?;
    segments.iter().for_each(|s| locker.add(&s.path));
    let options = ReadOptions {
        after_ts: after,
        skip_corrupt,
        while_written: false,
        contiguous: true,
    };
    // One thread reads and decodes records while this one applies them, in order.
    let (decoded, to_apply) = std::sync::mpsc::sync_channel(DECODE_AHEAD);
    let wal_dir_reader = wal_dir.clone();
    std::thread::scope(|scope| -> Result<(), DurabilityError> {
        scope.spawn(move || {
            let records = match read_segments_with(dir.fs().clone(), &wal_dir_reader, dir.db_id, options) {
                Ok(records) => records,
                Err(error) => {
                    let _ = decoded.send(Err(error));
                    return;
                }
            };
            for record in records {
                let item = record.and_then(|(ts, payload)| {
                    CommitRecord::decode(&payload)
                        .map(|record| (ts, record, payload.len() as u64))
                        .map_err(|source| DurabilityError::Replay {
                            path: wal_dir_reader.clone(),
                            ts,
                            source: source.into(),
                        })
                });
                let failed = item.is_err();
                if decoded.send(item).is_err() || failed {
                    return;
                }
            }
        });
        // Owned here, so that an early return drops it and the reader, blocked on a
        // full channel, sees the hang-up and ends instead of holding up the scope.
        let to_apply = to_apply;
        let mut last_log = Instant::now();
        while let Ok(first) = to_apply.recv() {
            // One record, and whatever more is decoded already, up to a bound: a long
            // enough run loads split between two threads (`Storage::load_records`).
            let mut items = vec![first];
            let mut ops = 0;
            while ops < RUN_OPS {
                let Some(Ok((_, record, _))) = items.last() else { break };
                ops += match record {
                    CommitRecord::Transaction { ops, .. } => ops.len(),
                    CommitRecord::Ddl { .. } => 1,
                };
                match to_apply.try_recv() {
                    Ok(item) => items.push(item),
                    Err(_) => break,
                }
            }
            let (mut run, mut stamps, mut failed) = (Vec::new(), Vec::new(), None);
            for item in items {
                match item {
                    Ok((ts, record, bytes)) => {
                        stamps.push((ts, bytes));
                        run.push(record);
                    }
                    // What came before the damage is applied first.
                    Err(error) => {
                        failed = Some(error);
                        break;
                    }
                }
            }
            if let Some(&(ts, _)) = stamps.first() {
                if report.wal_records == 0 && ts > after + 1 && !skip_corrupt {
                    return Err(DurabilityError::MissingHistory { first_wal_ts: ts });
                }
            }
            // Nobody uses the storage yet: the records are written straight into its
            // objects, and not logged again.
            storage
                .load_records(run)
                .map_err(|(i, source)| DurabilityError::Replay {
                    path: wal_dir.clone(),
                    ts: stamps[i].0,
                    source,
                })?;
            let bytes: u64 = stamps.iter().map(|(_, b)| b).sum();
            report.wal_records += stamps.len() as u64;
            report.wal_bytes += bytes;
            progress.applied(stamps.len() as u64, bytes);
            if let Some(error) = failed {
                return Err(error);
            }
            if last_log.elapsed() >= Duration::from_secs(1) {
                last_log = Instant::now();
                log_progress(&report, started.elapsed(), "recovering from the WAL");
            }
        }
        Ok(())
    })?;
    if report.wal_records > 0 {
        // Sweep the index entries that replayed removals left stale before serving.
        storage.collect_garbage();
    }
    report.elapsed = started.elapsed();
    progress.enter(RecoveryPhase::Done);
    log_progress(&report, report.elapsed, "recovery finished");
    Ok((storage, report))
}

fn log_progress(report: &RecoveryReport, elapsed: Duration, what: &str) {
    let seconds = elapsed.as_secs_f64().max(1e-9);
    tracing::info!(
        records = report.wal_records,
        mb = report.wal_bytes as f64 / 1e6,
        mb_per_s = report.wal_bytes as f64 / 1e6 / seconds,
        records_per_s = report.wal_records as f64 / seconds,
        seconds,
        "{what}"
    );
}
