//! The durability layer's errors. Each names the file (and byte offset where one applies)
//! so that an operator knows what to look at; [`DurabilityError::is_corruption`] tells
//! damaged data (a human must decide) from I/O trouble (the disk or the process).

use super::frame::FrameProblem;
use super::header::HeaderError;
use std::path::PathBuf;
use uuid::Uuid;

/// Errors of durability files.
#[derive(Debug, thiserror::Error)]
pub enum DurabilityError {
    #[error("I/O error while trying to {action} {path}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the disk is full (no space left on device) while trying to {action} {path}; \
         free space, then restart (recovery keeps every acknowledged commit)"
    )]
    DiskFull {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("bad header in {path}: {source}")]
    Header {
        path: PathBuf,
        #[source]
        source: HeaderError,
    },
    #[error(
        "{path} belongs to database {found}, not to this database {expected}; \
         move it out of the data directory"
    )]
    ForeignDatabase { path: PathBuf, expected: Uuid, found: Uuid },
    #[error(
        "corrupt record in {path} at byte offset {offset}: {problem}; records after it are \
         not readable (restore the file, or start with skip_corrupt to accept losing them)"
    )]
    Corrupt {
        path: PathBuf,
        offset: u64,
        problem: FrameProblem,
    },
    #[error("record in {path} at byte offset {offset} has timestamp {ts}, not newer than {previous}")]
    OutOfOrder {
        path: PathBuf,
        offset: u64,
        ts: u64,
        previous: u64,
    },
    #[error(
        "{path} was written in epoch {file_epoch}, newer than the data directory's epoch \
         {dir_epoch}; it belongs to a later history (move it out of the data directory)"
    )]
    EpochFromFuture {
        path: PathBuf,
        file_epoch: u64,
        dir_epoch: u64,
    },
    #[error(
        "{path} has epoch {epoch}, older than the epoch {previous} of the WAL segment before \
         it; epochs must not decrease along the log (move the misplaced segment away)"
    )]
    EpochDecreases { path: PathBuf, epoch: u64, previous: u64 },
    #[error(
        "WAL segment {path} ends early: the next segment {next} starts at commit {next_from}, so \
         commits {missing_from} to {} are in neither (the segment was cut short, or a segment \
         between them is gone); restore the files, or start with --recover-skip-corrupt to go on \
         without them", next_from - 1
    )]
    SegmentEndsEarly {
        path: PathBuf,
        /// The first commit the segment should have held, or the next one started at.
        missing_from: u64,
        next: PathBuf,
        next_from: u64,
    },
    #[error("record timestamp {ts} is not newer than the last appended {last}")]
    TimestampNotIncreasing { ts: u64, last: u64 },
    #[error("record of {len} bytes exceeds the frame limit of {max} bytes")]
    RecordTooLarge { len: usize, max: usize },
    #[error("the WAL writer stopped after an earlier failure ({0}); restart to recover from the files")]
    WriterFailed(String),
    #[error("the data directory {path} is in use by another Weft process (lock file held); stop it or use another --data-dir")]
    Locked { path: PathBuf },
    #[error("{path} is not a valid database id file: {problem}")]
    BadMeta { path: PathBuf, problem: String },
    #[error("recovery could not apply the record with timestamp {ts} from {path}: {source}")]
    Replay {
        path: PathBuf,
        ts: u64,
        #[source]
        source: crate::error::StorageError,
    },
    #[error("no valid snapshot, and the WAL starts at timestamp {first_wal_ts}, so history before it is missing; restore the files or start with --recover=false")]
    MissingHistory { first_wal_ts: u64 },
    #[error("no kept snapshot or WAL segment covers the commits after timestamp {held} (the WAL starts at {first_wal_ts}), even after taking a snapshot")]
    NoCatchUp { held: u64, first_wal_ts: u64 },
}

impl DurabilityError {
    /// True when stored data is damaged (as opposed to an I/O failure or a caller error).
    pub fn is_corruption(&self) -> bool {
        matches!(
            self,
            DurabilityError::Header { .. }
                | DurabilityError::Corrupt { .. }
                | DurabilityError::OutOfOrder { .. }
                | DurabilityError::SegmentEndsEarly { .. }
        )
    }

    /// For a WAL that misses commits (a segment that ends early, or one gone between two
    /// others): the first commit after the hole, which a catch-up must get from a
    /// snapshot instead.
    pub fn hole_end(&self) -> Option<u64> {
        match self {
            DurabilityError::SegmentEndsEarly { next_from, .. } => Some(*next_from),
            _ => None,
        }
    }

    /// An I/O failure; a full disk (`ENOSPC`) becomes [`DurabilityError::DiskFull`].
    pub(crate) fn io(path: impl Into<PathBuf>, action: &'static str, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::StorageFull {
            return DurabilityError::DiskFull {
                path: path.into(),
                action,
                source,
            };
        }
        DurabilityError::Io {
            path: path.into(),
            action,
            source,
        }
    }
}
