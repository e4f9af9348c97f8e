//! The Raft state machine: the graph storage, changed only by committed log entries.
//!
//! Owns: applying entries in log order (a normal entry's commit records go to the storage
//! at the leader's timestamps, as one group; records the storage holds already are
//! skipped: on the leader, which staged them itself when its transactions committed, and
//! after a snapshot that covers them), the last applied log id and membership, and
//! snapshots. A snapshot is a storage snapshot file (`snapshot-{ts}.snap` under the
//! member's `snapshots/`) plus `snapshot.meta` beside it, which names the file and holds
//! the last log id and membership the file covers (format: `WEFTRSNM`, a format byte (1),
//! the last log id and the membership's log id (each optional), the membership, the
//! snapshot id and the file name as strings, and a CRC-32C of all before it). Opening a
//! member's state machine loads its snapshot into a fresh storage and hands it to the
//! [`Host`]; openraft then applies the committed entries after it again.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{
    AnyError, EntryPayload, ErrorSubject, ErrorVerb, RaftSnapshotBuilder, SnapshotMeta, StorageIOError,
    StoredMembership,
};
use parking_lot::Mutex;
use weft_common::encoding::{get_str, put_str};
use weft_storage::durability::{load_snapshot, write_snapshot, Uuid};
use weft_storage::record::CommitRecord;
use weft_storage::{Origin, Storage};

use crate::check::{CheckedAt, Fingerprints};
use crate::codec::{begin_sealed, get_membership, get_opt_log_id, open_sealed, put_membership, put_opt_log_id, seal};
use crate::{Applied, Entry, LogId, Member, StorageError, TypeConfig};

/// What the state machine applies to: the instance's current storage, and the way to
/// replace it with one loaded from a snapshot.
pub trait Host: Send + Sync + 'static {
    fn storage(&self) -> Storage;
    /// Makes `storage` the one every query and commit uses from now on.
    fn replace_storage(&self, storage: Storage) -> Result<(), String>;
    /// The client requests the instance answers now, when it counts them.
    fn in_flight(&self) -> Option<u64> {
        None
    }
}

/// The simplest host: one storage, replaced as a whole (tests, tools).
#[derive(Default)]
pub struct StorageCell(parking_lot::RwLock<Storage>);

impl StorageCell {
    pub fn new(storage: Storage) -> StorageCell {
        StorageCell(parking_lot::RwLock::new(storage))
    }
}

impl Host for StorageCell {
    fn storage(&self) -> Storage {
        self.0.read().clone()
    }
    fn replace_storage(&self, storage: Storage) -> Result<(), String> {
        *self.0.write() = storage;
        Ok(())
    }
}

/// A snapshot's data as openraft passes it around: the storage snapshot file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotFile {
    pub path: PathBuf,
}

/// Longest a snapshot waits for the leader's own applied commits to become visible.
const VISIBLE_WAIT: Duration = Duration::from_secs(30);

const META: &str = "snapshot.meta";
const META_MAGIC: &[u8; 8] = b"WEFTRSNM";
const META_FORMAT: u8 = 1;

type Meta = SnapshotMeta<u64, Member>;

/// See the module docs; clones share the state machine (the snapshot builder is one).
#[derive(Clone)]
pub struct StateMachine {
    inner: Arc<Inner>,
}

struct Inner {
    host: Arc<dyn Host>,
    dir: PathBuf,
    db_id: Uuid,
    applied: Mutex<AppliedState>,
    /// The newest applied commit timestamp, for the leader's waiting commits.
    applied_ts: tokio::sync::watch::Sender<u64>,
    /// The newest snapshot and its file.
    current: Mutex<Option<(Meta, PathBuf)>>,
    /// Held through a whole build or install: openraft runs builds beside the state
    /// machine's own work, and the two must not interleave their files.
    snapshots: Mutex<()>,
    /// This member's proposer, when it has one: its own records in flight are the only
    /// ones the storage may hold before they are applied.
    proposer: Mutex<Option<Arc<crate::propose::Proposer>>>,
    /// This member's fingerprints at check entries, and whether its graph differs.
    fingerprints: Arc<Fingerprints>,
}

#[derive(Clone, Default)]
struct AppliedState {
    last: Option<LogId>,
    membership: StoredMembership<u64, Member>,
    /// The newest commit timestamp among applied (or skipped) records.
    ts: u64,
}

/// Why the state machine could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{path} is damaged: {why}")]
    Damaged { path: PathBuf, why: String },
    #[error("cannot load the snapshot {path}: {error}")]
    Snapshot {
        path: PathBuf,
        error: Box<weft_storage::durability::DurabilityError>,
    },
    #[error("cannot take the snapshot's storage into use: {0}")]
    Host(String),
}

fn sm_error(verb: ErrorVerb, error: impl ToString) -> StorageError {
    let error = std::io::Error::other(error.to_string());
    StorageIOError::new(ErrorSubject::StateMachine, verb, AnyError::new(&error)).into()
}

fn snapshot_error(verb: ErrorVerb, error: impl ToString) -> StorageError {
    let error = std::io::Error::other(error.to_string());
    StorageIOError::new(ErrorSubject::Snapshot(None), verb, AnyError::new(&error)).into()
}

impl StateMachine {
    /// The state machine whose snapshots live in `dir` (created if missing) and belong to
    /// the database `db_id`; its newest snapshot, if any, is loaded and handed to `host`.
    pub fn open(dir: &Path, db_id: Uuid, host: Arc<dyn Host>) -> Result<StateMachine, OpenError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |error| OpenError::Io { path, error }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let mut applied = AppliedState::default();
        let current = match read_meta(dir)? {
            Some((meta, path)) => {
                let (storage, info) = load_snapshot(&path, db_id).map_err(|error| OpenError::Snapshot {
                    path: path.clone(),
                    error: Box::new(error),
                })?;
                host.replace_storage(storage).map_err(OpenError::Host)?;
                applied = AppliedState {
                    last: meta.last_log_id,
                    membership: meta.last_membership.clone(),
                    ts: info.ts,
                };
                tracing::info!(snapshot = %meta.snapshot_id, ts = info.ts, "Raft state machine loaded its snapshot");
                Some((meta, path))
            }
            None => None,
        };
        Ok(StateMachine {
            inner: Arc::new(Inner {
                host,
                dir: dir.to_path_buf(),
                db_id,
                applied_ts: tokio::sync::watch::Sender::new(applied.ts),
                applied: Mutex::new(applied),
                current: Mutex::new(current),
                snapshots: Mutex::new(()),
                proposer: Mutex::new(None),
                fingerprints: Fingerprints::open(dir),
            }),
        })
    }

    /// The newest commit timestamp among the records applied so far.
    pub fn applied_ts(&self) -> u64 {
        self.inner.applied.lock().ts
    }

    /// Tells the state machine which proposer makes this member's own commits.
    pub fn set_proposer(&self, proposer: Arc<crate::propose::Proposer>) {
        *self.inner.proposer.lock() = Some(proposer);
    }

    /// The client requests the host answers now, when it counts them.
    pub fn in_flight(&self) -> Option<u64> {
        self.inner.host.in_flight()
    }

    /// This member's fingerprints (see [`crate::check`]).
    pub fn fingerprints(&self) -> Arc<Fingerprints> {
        self.inner.fingerprints.clone()
    }

    /// Takes the leader's snapshot (`meta`, the file at `path`) as this member's current
    /// one, also if its own is newer: a restricted member's own graph is not to be kept.
    /// The member must restart to load it. Refuses a file that does not load.
    pub fn adopt(&self, meta: Meta, path: &Path) -> Result<(), String> {
        let inner = &self.inner;
        let _adopting = inner.snapshots.lock();
        // A snapshot installed meanwhile replaced the graph (and lifted the restriction):
        // going back to this older one would leave a gap in the log.
        if inner.fingerprints.restricted().is_none() {
            return Err("this member's graph was replaced meanwhile; it takes no other".into());
        }
        let (_, info) =
            load_snapshot(path, inner.db_id).map_err(|e| format!("the leader's snapshot does not load: {e}"))?;
        let kept = inner.dir.join(weft_storage::durability::snapshot_name(info.ts));
        copy_durably(path, &kept).map_err(|e| format!("cannot keep the leader's snapshot: {e}"))?;
        inner
            .make_current(meta, kept, true)
            .map_err(|e| format!("cannot make the leader's snapshot current: {e}"))?;
        // The restart builds the leader's graph: the restriction ends with it.
        inner
            .fingerprints
            .forget_marker()
            .map_err(|e| format!("cannot remove the restriction marker: {e}"))
    }

    /// This member's fingerprint at the check entry at `index`: the storage's running
    /// digest as of `applied_ts`, the newest commit applied before it (started by a scan
    /// at the first check a storage meets).
    async fn begin_check(&self, index: u64, applied_ts: u64, leader: Option<CheckedAt>) {
        let storage = self.inner.host.storage();
        let fingerprints = self.inner.fingerprints.clone();
        // Off the runtime: waiting for visibility, and a difference found is written
        // down (an fsync).
        let checked = tokio::task::spawn_blocking(move || {
            own_fingerprint(&storage, &fingerprints, index, applied_ts);
            if let Some(leader) = leader {
                fingerprints.expect(leader);
            }
        })
        .await;
        if let Err(error) = checked {
            tracing::warn!(%error, index, "cannot take this member's fingerprint; the check is skipped");
        }
    }

    /// Follows [`StateMachine::applied_ts`] as entries are applied.
    pub fn watch_applied(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.applied_ts.subscribe()
    }

    /// Applies one normal entry's records as one group. A record at or below the newest
    /// visible commit is held already (a snapshot covered it), and so is this member's
    /// own record in flight, byte for byte (the leader staged it when its transaction
    /// committed); any other record at or below the newest timestamp handed out means the
    /// storage holds a commit the log does not, and applying stops (the member must
    /// restart to rebuild its storage).
    async fn apply_records(&self, log_id: LogId, records: Vec<Arc<[u8]>>) -> Result<u64, StorageError> {
        let storage = self.inner.host.storage();
        let proposer = self.inner.proposer.lock().clone();
        if let Some(why) = proposer.as_ref().and_then(|p| p.failure()) {
            return Err(sm_error(
                ErrorVerb::Write,
                format!("this member's storage may hold a commit the log lacks ({why}); restart it"),
            ));
        }
        // Sorted by header alone, here: on the leader every record is its own, held
        // already, and the entry is applied without decoding one or leaving this task.
        let (visible, assigned) = (storage.last_committed(), storage.last_assigned());
        let mut to_apply = Vec::new();
        let mut newest = visible;
        for record in records {
            let ts = CommitRecord::peek_ts(&record).map_err(|e| sm_error(ErrorVerb::Read, e))?;
            newest = newest.max(ts);
            // This member's own record first: its committer may not even have marked
            // the timestamp assigned yet (it queues the record before it does).
            if ts <= visible || proposer.as_ref().is_some_and(|p| p.holds(ts, &record)) {
                continue;
            }
            if ts <= assigned {
                return Err(sm_error(
                    ErrorVerb::Write,
                    format!(
                        "entry {log_id} carries commit {ts}, which this member's storage holds differently; restart it"
                    ),
                ));
            }
            to_apply.push(record);
        }
        if to_apply.is_empty() {
            return Ok(newest);
        }
        tokio::task::spawn_blocking(move || {
            let decoded = to_apply
                .iter()
                .map(|record| CommitRecord::decode(record).map(|commit| (commit, &record[..])))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| sm_error(ErrorVerb::Read, e))?;
            let epoch = log_id.leader_id.term;
            match storage.apply_group(decoded, Origin::Applied { epoch }) {
                (_, Some(error)) => Err(sm_error(
                    ErrorVerb::Write,
                    format!("cannot apply the records of entry {log_id}: {error}"),
                )),
                (_, None) => Ok(newest),
            }
        })
        .await
        .map_err(|e| sm_error(ErrorVerb::Write, format!("the applier failed: {e}")))?
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = StateMachine;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership<u64, Member>), StorageError> {
        let applied = self.inner.applied.lock();
        Ok((applied.last, applied.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Applied>, StorageError>
    where
        I: IntoIterator<Item = Entry> + Send,
        I::IntoIter: Send,
    {
        let mut replies = Vec::new();
        for entry in entries {
            let (mut ts, mut membership, mut check) = (0, None, None);
            match entry.payload {
                EntryPayload::Normal(proposal) if proposal.records.is_empty() => check = proposal.check,
                EntryPayload::Normal(proposal) => ts = self.apply_records(entry.log_id, proposal.records).await?,
                EntryPayload::Membership(change) => membership = Some(change),
                EntryPayload::Blank => {}
            };
            // The log id and the membership move together: a snapshot build reads both.
            let applied_ts = {
                let mut applied = self.inner.applied.lock();
                if let Some(membership) = membership {
                    applied.membership = StoredMembership::new(Some(entry.log_id), membership);
                }
                applied.last = Some(entry.log_id);
                applied.ts = applied.ts.max(ts);
                applied.ts
            };
            replies.push(Applied { ts: applied_ts });
            self.inner.applied_ts.send_replace(applied_ts);
            if let Some(check) = check.take() {
                self.begin_check(entry.log_id.index, applied_ts, check.leader).await;
            }
        }
        Ok(replies)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<SnapshotFile>, StorageError> {
        Ok(Box::new(SnapshotFile {
            path: self.inner.dir.join("incoming.snap"),
        }))
    }

    async fn install_snapshot(&mut self, meta: &Meta, snapshot: Box<SnapshotFile>) -> Result<(), StorageError> {
        let inner = self.inner.clone();
        let meta = meta.clone();
        tokio::task::spawn_blocking(move || inner.install(meta, &snapshot.path))
            .await
            .map_err(|e| snapshot_error(ErrorVerb::Write, format!("the installer failed: {e}")))?
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        Ok(self.inner.current.lock().clone().map(|(meta, path)| Snapshot {
            meta,
            snapshot: Box::new(SnapshotFile { path }),
        }))
    }
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachine {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.build())
            .await
            .map_err(|e| snapshot_error(ErrorVerb::Write, format!("the snapshot writer failed: {e}")))?
    }
}

impl Inner {
    /// Writes a storage snapshot that holds at least every applied record, and makes it
    /// the current one.
    fn build(&self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let _building = self.snapshots.lock();
        // A restricted member's graph must not outlive it: it offers its last snapshot
        // from before (openraft keeps the newer one it has), or none.
        if let Some(why) = self.fingerprints.restricted() {
            if let Some((meta, path)) = self.current.lock().clone() {
                return Ok(Snapshot {
                    meta,
                    snapshot: Box::new(SnapshotFile { path }),
                });
            }
            // None before either: an empty one, which openraft keeps no more than the
            // one it has (a build error would stop the member).
            tracing::debug!("this member is restricted ({why}): it makes no snapshot of its graph");
            return Ok(Snapshot {
                meta: Meta::default(),
                snapshot: Box::new(SnapshotFile {
                    path: self.dir.join("none.snap"),
                }),
            });
        }
        let applied = self.applied.lock().clone();
        let storage = self.host.storage();
        // The leader's own commits become visible just after they are applied: wait for
        // them, so the file holds everything up to the log id it claims.
        if !wait_visible(&storage, applied.ts) {
            return Err(snapshot_error(
                ErrorVerb::Write,
                format!("commit {} applied but not visible after {VISIBLE_WAIT:?}", applied.ts),
            ));
        }
        let info =
            write_snapshot(&storage, &self.dir, self.db_id, 0).map_err(|e| snapshot_error(ErrorVerb::Write, e))?;
        let id = match &applied.last {
            Some(last) => format!(
                "{}-{}-{}-{}",
                last.leader_id.term, last.leader_id.node_id, last.index, info.ts
            ),
            None => format!("none-{}", info.ts),
        };
        let meta = Meta {
            last_log_id: applied.last,
            last_membership: applied.membership,
            snapshot_id: id,
        };
        self.make_current(meta.clone(), info.path.clone(), false)?;
        Ok(Snapshot {
            meta,
            snapshot: Box::new(SnapshotFile { path: info.path }),
        })
    }

    /// Replaces the storage with the snapshot at `path` (kept as the current snapshot).
    fn install(&self, meta: Meta, path: &Path) -> Result<(), StorageError> {
        let _installing = self.snapshots.lock();
        // A scan of the graph about to go would hold its replacement back.
        self.fingerprints.cancel();
        let (storage, info) = load_snapshot(path, self.db_id).map_err(|e| snapshot_error(ErrorVerb::Read, e))?;
        let kept = self.dir.join(weft_storage::durability::snapshot_name(info.ts));
        if path != kept {
            copy_durably(path, &kept).map_err(|e| snapshot_error(ErrorVerb::Write, e))?;
        }
        self.make_current(meta.clone(), kept, false)?;
        self.host
            .replace_storage(storage)
            .map_err(|e| snapshot_error(ErrorVerb::Write, e))?;
        // The graph is the leader's now: a restriction, and fingerprints of the old one, go.
        self.fingerprints.reset();
        *self.applied.lock() = AppliedState {
            last: meta.last_log_id,
            membership: meta.last_membership,
            ts: info.ts,
        };
        self.applied_ts.send_replace(info.ts);
        tracing::info!(snapshot = %meta.snapshot_id, ts = info.ts, "installed the leader's snapshot");
        Ok(())
    }

    /// Records `meta` and its file durably as the current snapshot (unless the current one
    /// is newer and not `forced`: it goes back only for a resync), and removes the older
    /// snapshot files. Called with the snapshot lock held.
    fn make_current(&self, meta: Meta, path: PathBuf, forced: bool) -> Result<(), StorageError> {
        let newer = !forced
            && self
                .current
                .lock()
                .as_ref()
                .is_some_and(|(current, _)| current.last_log_id > meta.last_log_id);
        if newer {
            return Ok(());
        }
        write_meta(&self.dir, &meta, &path).map_err(|e| snapshot_error(ErrorVerb::Write, e))?;
        let keep = path.file_name().map(|n| n.to_os_string());
        if let Ok(listing) = std::fs::read_dir(&self.dir) {
            for file in listing.flatten() {
                let name = file.file_name();
                let text = name.to_string_lossy();
                let whole_snapshot = text.starts_with("snapshot-") && text.ends_with(".snap");
                if whole_snapshot && Some(&name) != keep.as_ref() {
                    let _ = std::fs::remove_file(file.path());
                }
            }
        }
        *self.current.lock() = Some((meta, path));
        Ok(())
    }
}

/// Waits (bounded) until the commit at `ts` is visible in `storage`: a leader's own
/// commits are published just after their entries are applied. False when it is not.
fn wait_visible(storage: &Storage, ts: u64) -> bool {
    let deadline = Instant::now() + VISIBLE_WAIT;
    while storage.last_committed() < ts {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    true
}

/// Records this member's fingerprint at the check entry at `index`: `storage`'s running
/// digest as of `applied_ts` (or starts the digest, at the first check it meets).
fn own_fingerprint(storage: &Storage, fingerprints: &Arc<Fingerprints>, index: u64, applied_ts: u64) {
    if !wait_visible(storage, applied_ts) {
        tracing::warn!(
            index,
            applied_ts,
            "commit applied but not visible; this check is skipped"
        );
        return;
    }
    // A storage loaded from a snapshot may hold commits of entries after the one the
    // snapshot names: until the log passes them, it is not this index's graph.
    if storage.last_committed() > applied_ts {
        tracing::debug!(index, applied_ts, "the storage is ahead of this check; it is skipped");
        return;
    }
    match storage.fingerprint_at(applied_ts) {
        Some(fingerprint) => fingerprints.found(index, fingerprint),
        None if storage.keeps_fingerprint() => {
            tracing::debug!(index, "the running fingerprint is not ready; this check is skipped")
        }
        None => fingerprints.start(index, applied_ts, storage.clone()),
    }
}

/// Copies `from` to `to` through a temporary file, fsynced and renamed.
fn copy_durably(from: &Path, to: &Path) -> std::io::Result<()> {
    let tmp = to.with_file_name("installing.tmp");
    std::fs::copy(from, &tmp)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, to)?;
    match to.parent() {
        Some(dir) => std::fs::File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}

fn write_meta(dir: &Path, meta: &Meta, file: &Path) -> std::io::Result<()> {
    let mut out = begin_sealed(META_MAGIC, META_FORMAT);
    put_opt_log_id(&mut out, &meta.last_log_id);
    put_opt_log_id(&mut out, meta.last_membership.log_id());
    put_membership(&mut out, meta.last_membership.membership());
    put_str(&mut out, &meta.snapshot_id);
    put_str(&mut out, &file.file_name().unwrap_or_default().to_string_lossy());
    seal(&mut out);
    weft_storage::durability::replace_file(&dir.join(META), &out)
}

/// The current snapshot's meta and file, if one was made.
fn read_meta(dir: &Path) -> Result<Option<(Meta, PathBuf)>, OpenError> {
    let path = dir.join(META);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(OpenError::Io { path, error }),
    };
    let damaged = |why: String| OpenError::Damaged {
        path: path.clone(),
        why,
    };
    let rest = open_sealed(&bytes, META_MAGIC, META_FORMAT, "snapshot meta file").map_err(damaged)?;
    let mut at = 0;
    let parsed = (|| {
        let last = get_opt_log_id(rest, &mut at)?;
        let membership_id = get_opt_log_id(rest, &mut at)?;
        let membership = get_membership(rest, &mut at)?;
        let id = get_str(rest, &mut at)?.to_string();
        let file = get_str(rest, &mut at)?.to_string();
        Ok::<_, weft_common::encoding::DecodeError>((last, membership_id, membership, id, file))
    })()
    .map_err(|e| damaged(e.to_string()))?;
    let (last, membership_id, membership, snapshot_id, file) = parsed;
    let meta = Meta {
        last_log_id: last,
        last_membership: StoredMembership::new(membership_id, membership),
        snapshot_id,
    };
    Ok(Some((meta, dir.join(file))))
}
