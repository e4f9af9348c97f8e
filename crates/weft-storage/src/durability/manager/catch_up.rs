//! What a member that is behind is sent from files: the MAIN (and later a Raft leader or a
//! shard) reads its own history back to bring another member up to date.
//!
//! Owns: choosing the cheaper way by bytes — WAL records only, or a snapshot and the WAL
//! records after it — and holding every file the chosen way reads with the retainer, so
//! that retention postpones deleting it until the reader lets go.
//! Promises: a way is offered only when the files cover every commit after the member's
//! newest one: the oldest WAL segment kept starts at or before the commit after it (a
//! later start could hide commits that were purged), and reading stops with an error at
//! a hole inside the log, after which the caller plans past it
//! ([`Durability::plan_catch_up_past`]). Records are read as the WAL reader
//! yields them (whole, checked, in timestamp order); the newest segment is read while the
//! writer appends to it, without blocking it, and the caller ships only what is durable.

use super::Durability;
use crate::durability::header::{FileHeader, FileKind, HEADER_LEN};
use crate::durability::retainer::FileLocker;
use crate::durability::snapshot::{load_snapshot_with, SnapshotInfo};
use crate::durability::wal::{list_segments_with, read_segments_with, ReadOptions, SegmentInfo, WalRecords};
use crate::durability::DurabilityError;
use crate::storage::Storage;
use std::path::Path;

/// How a member holding every commit up to some timestamp catches up.
#[derive(Debug)]
pub enum CatchUpPlan {
    /// The WAL records after the member's newest commit: about `bytes` of segments.
    Wal { bytes: u64 },
    /// `snapshot` replaces the member's state, then the WAL records after it follow;
    /// `bytes` counts both.
    Snapshot { snapshot: SnapshotInfo, bytes: u64 },
}

impl CatchUpPlan {
    /// Bytes the plan reads from files.
    pub fn bytes(&self) -> u64 {
        match self {
            CatchUpPlan::Wal { bytes } | CatchUpPlan::Snapshot { bytes, .. } => *bytes,
        }
    }
}

/// A plan and the files it reads, held against deletion until this is dropped.
pub struct CatchUp {
    pub plan: CatchUpPlan,
    /// Holds every snapshot and WAL segment there was when the plan was made (the plan
    /// reads some of them); drop it once the plan's files are read.
    pub files: FileLocker,
}

/// WAL segments, oldest first, as far as they reach back.
struct Segments(Vec<SegmentInfo>);

impl Segments {
    /// Whether the segments hold every record after `ts`.
    /// `last` is the newest commit: an empty log covers only what follows it (nothing).
    fn cover(&self, ts: u64, last: u64) -> bool {
        match self.0.first() {
            Some(oldest) => oldest.from_ts <= ts.saturating_add(1),
            None => ts >= last,
        }
    }

    /// The segments holding records after `ts`.
    fn after(&self, ts: u64) -> impl Iterator<Item = &SegmentInfo> {
        self.0.iter().filter(move |s| s.to_ts.is_none_or(|to| to > ts))
    }

    /// About how many bytes of records come after `ts` (`last`: the newest commit): whole
    /// segments after it, and of the segment holding it the share of its timestamp range
    /// past it (segments are large; counting that one whole would hide a snapshot's gain).
    fn bytes_after(&self, ts: u64, last: u64) -> u64 {
        self.after(ts)
            .map(|s| {
                let end = s.to_ts.unwrap_or(last).max(s.from_ts).max(ts);
                if s.from_ts > ts {
                    s.len
                } else {
                    let share = (end - ts) as f64 / (end - s.from_ts + 1) as f64;
                    (s.len as f64 * share) as u64
                }
            })
            .sum()
    }
}

impl Durability {
    /// The cheaper way to bring a member holding every commit up to `held` up to date,
    /// with its files held. When no kept snapshot serves and the WAL does not reach back
    /// far enough, a snapshot is taken now.
    pub fn plan_catch_up(&self, held: u64) -> Result<CatchUp, DurabilityError> {
        self.plan_catch_up_past(held, 0)
    }

    /// [`Durability::plan_catch_up`] for a WAL known to miss the commits just before
    /// `hole_end` (a read found the hole: [`DurabilityError::hole_end`]): unless the member
    /// holds every commit before `hole_end` already, only a snapshot at or after the
    /// commit before it serves (one is taken when none is kept).
    pub fn plan_catch_up_past(&self, held: u64, hole_end: u64) -> Result<CatchUp, DurabilityError> {
        let past = hole_end.saturating_sub(1);
        // Files are listed, held, then listed again: one deleted between the first listing
        // and the hold is gone from the second, and a plan is only made from files that
        // were still there once held.
        let mut files = self.retainer.locker();
        for attempt in 0..2 {
            let listed = self.segments()?;
            let snapshots = self.snapshots()?;
            listed.0.iter().for_each(|s| files.add(&s.path));
            snapshots.iter().for_each(|s| files.add(&s.path));
            let segments = self.segments()?;
            let kept = self.snapshots()?;
            let last = self.storage().last_committed();
            let wal = (held >= past && segments.cover(held, last)).then(|| segments.bytes_after(held, last));
            let snapshot = kept
                .into_iter()
                .rfind(|s| s.ts > held && s.ts >= past && segments.cover(s.ts, last) && snapshots.contains(s))
                .map(|s| {
                    let bytes = s.bytes + segments.bytes_after(s.ts, last);
                    (s, bytes)
                });
            let plan = match (wal, snapshot) {
                (Some(wal), Some((snapshot, bytes))) if bytes < wal => CatchUpPlan::Snapshot { snapshot, bytes },
                (Some(bytes), _) => CatchUpPlan::Wal { bytes },
                (None, Some((snapshot, bytes))) => CatchUpPlan::Snapshot { snapshot, bytes },
                (None, None) if attempt == 0 => {
                    tracing::info!(
                        held,
                        "no kept file reaches back far enough for a catch-up; taking a snapshot"
                    );
                    self.create_snapshot()?;
                    continue;
                }
                (None, None) => {
                    return Err(DurabilityError::NoCatchUp {
                        held,
                        first_wal_ts: segments.0.first().map_or(0, |s| s.from_ts),
                    })
                }
            };
            return Ok(CatchUp { plan, files });
        }
        unreachable!("the second attempt returns")
    }

    /// The WAL records after `after`, oldest first, with the segments read held against
    /// deletion; `None` when the WAL no longer reaches back to the record after `after`.
    /// A hole in the log after `after` is an error where the reading reaches it
    /// ([`DurabilityError::hole_end`] says where a snapshot must take over).
    pub fn wal_after(&self, after: u64) -> Result<Option<(FileLocker, WalRecords)>, DurabilityError> {
        let mut files = self.retainer.locker();
        self.segments()?.after(after).for_each(|s| files.add(&s.path));
        // Held now: what this listing shows stays until the locker is dropped.
        if !self.segments()?.cover(after, self.storage().last_committed()) {
            return Ok(None);
        }
        let options = ReadOptions {
            after_ts: after,
            skip_corrupt: false,
            while_written: true,
            // A storage's commits follow on one by one: a record after a hole would pass
            // the replica's check of its predecessor (the one before the hole), and the
            // commits in the hole would be missing there without a word.
            contiguous: true,
        };
        let records = read_segments_with(self.fs.clone(), &self.wal_dir(), self.db_id, options)?;
        Ok(Some((files, records)))
    }

    /// Reads and checks the snapshot at `path`, of this database, changing nothing yet:
    /// the first half of an install, done before the engine holds transactions back.
    pub fn load_snapshot_file(&self, path: &Path) -> Result<(Storage, SnapshotInfo), DurabilityError> {
        load_snapshot_with(self.fs.as_ref(), path, self.db_id)
    }

    /// [`Durability::load_snapshot_file`] for a snapshot received from a peer whose
    /// database the transport already checked: the file is of the data directory it was
    /// written in (a promoted replica's has its own id), so its own id is the one checked.
    pub fn load_received_snapshot(&self, path: &Path) -> Result<(Storage, SnapshotInfo), DurabilityError> {
        let start = self
            .fs
            .read_at(path, 0, HEADER_LEN as u64)
            .map_err(|e| DurabilityError::io(path, "read", e))?;
        let header = FileHeader::decode(&start, FileKind::Snapshot).map_err(|source| DurabilityError::Header {
            path: path.to_path_buf(),
            source,
        })?;
        load_snapshot_with(self.fs.as_ref(), path, header.db_id)
    }

    fn segments(&self) -> Result<Segments, DurabilityError> {
        list_segments_with(self.fs.as_ref(), &self.wal_dir(), self.db_id).map(Segments)
    }
}
