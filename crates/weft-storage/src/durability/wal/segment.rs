//! One WAL segment file: its name, finding the segments of a directory, and checking one
//! segment's bytes (header, frames, timestamp order) in a single pass that the reader and
//! the writer's open share.

use crate::durability::error::DurabilityError;
use crate::durability::frame::{FrameProblem, FrameRead, FrameReader};
use crate::durability::header::{FileHeader, FileKind, HEADER_LEN};
use crate::durability::io::{self, FileSystem};
use std::ops::Range;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// A segment as [`list_segments`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    pub path: PathBuf,
    /// Position in the log (from the file name).
    pub seq: u64,
    pub epoch: u64,
    /// No record in the segment is older than this (the first record's timestamp).
    pub from_ts: u64,
    /// No record in the segment is newer than this: the next segment's `from_ts - 1`;
    /// `None` for the newest segment, whose end is its last valid record.
    pub to_ts: Option<u64>,
    /// File size in bytes.
    pub len: u64,
}

/// The segments of `dir` in log order, each header checked (kind, checksum, database).
/// A missing directory has no segments.
pub fn list_segments(dir: &Path, db_id: Uuid) -> Result<Vec<SegmentInfo>, DurabilityError> {
    list_segments_with(io::real().as_ref(), dir, db_id)
}

/// [`list_segments`] on the file system `fs`.
pub fn list_segments_with(fs: &dyn FileSystem, dir: &Path, db_id: Uuid) -> Result<Vec<SegmentInfo>, DurabilityError> {
    let mut infos = Vec::new();
    for (seq, path) in segment_paths(fs, dir)? {
        let header = read_header(fs, &path, db_id)?;
        let len = fs.len(&path).map_err(|e| DurabilityError::io(&path, "stat", e))?;
        infos.push(SegmentInfo {
            path,
            seq,
            epoch: header.epoch,
            from_ts: header.from_ts,
            to_ts: None,
            len,
        });
    }
    for i in 1..infos.len() {
        infos[i - 1].to_ts = Some(infos[i].from_ts.saturating_sub(1));
    }
    Ok(infos)
}

/// Refuses a segment written in an epoch newer than `current` (the data directory's), or
/// one whose epoch is below its predecessor's: a segment from another history.
/// Takes `(path, epoch)` of each segment in log order.
pub fn check_epochs<'a>(
    segments: impl IntoIterator<Item = (&'a Path, u64)>,
    current: u64,
) -> Result<(), DurabilityError> {
    let mut previous: Option<u64> = None;
    for (path, epoch) in segments {
        if epoch > current {
            return Err(DurabilityError::EpochFromFuture {
                path: path.to_path_buf(),
                file_epoch: epoch,
                dir_epoch: current,
            });
        }
        if let Some(previous) = previous.filter(|p| epoch < *p) {
            return Err(DurabilityError::EpochDecreases {
                path: path.to_path_buf(),
                epoch,
                previous,
            });
        }
        previous = Some(epoch);
    }
    Ok(())
}

/// The file name of segment `seq` whose first record has timestamp `from_ts`.
pub(super) fn segment_name(seq: u64, from_ts: u64) -> String {
    format!("wal-{seq:020}-{from_ts:020}.log")
}

/// `(seq, from_ts)` out of a segment file name, `None` for any other name.
pub(super) fn parse_name(name: &str) -> Option<(u64, u64)> {
    let middle = name.strip_prefix("wal-")?.strip_suffix(".log")?;
    let (seq, from) = middle.split_once('-')?;
    let digits = |s: &str| s.len() == 20 && s.bytes().all(|b| b.is_ascii_digit());
    (digits(seq) && digits(from)).then(|| Some((seq.parse().ok()?, from.parse().ok()?)))?
}

/// `(seq, path)` of every segment file in `dir`, in log order; other files are ignored.
pub(super) fn segment_paths(fs: &dyn FileSystem, dir: &Path) -> Result<Vec<(u64, PathBuf)>, DurabilityError> {
    crate::durability::data_dir::list_named(fs, dir, |name| parse_name(name).map(|(seq, _)| seq))
}

/// Reads and checks the header of the segment at `path`.
fn read_header(fs: &dyn FileSystem, path: &Path, db_id: Uuid) -> Result<FileHeader, DurabilityError> {
    let bytes = fs
        .read_at(path, 0, HEADER_LEN as u64)
        .map_err(|e| DurabilityError::io(path, "read", e))?;
    check_header(path, &bytes, db_id)
}

/// Decodes a segment header and refuses another database's.
pub(super) fn check_header(path: &Path, bytes: &[u8], db_id: Uuid) -> Result<FileHeader, DurabilityError> {
    FileHeader::read_checked(path, bytes, FileKind::WalSegment, db_id)
}

/// Where a segment's valid frames stop short of its end.
#[derive(Clone, Copy, Debug)]
pub(super) struct Damage {
    pub offset: u64,
    pub problem: FrameProblem,
    /// No valid frame follows the damage (acceptable only in the newest segment).
    pub torn: bool,
}

/// The result of checking one segment's bytes.
#[derive(Debug)]
pub(super) struct SegmentScan {
    /// The header's first timestamp.
    pub from_ts: u64,
    /// Timestamp and byte range (within the file) of each valid record, in order.
    pub records: Vec<(u64, Range<usize>)>,
    /// Offset just past the last valid frame.
    pub valid_len: u64,
    pub damage: Option<Damage>,
}

/// Checks a whole segment: header, then frames up to the first damage. A record whose
/// timestamp is not newer than the one before it (or older than the header's `from_ts`)
/// is an error, since its checksum shows it was written so.
pub(super) fn scan(path: &Path, bytes: &[u8], db_id: Uuid) -> Result<SegmentScan, DurabilityError> {
    let header = check_header(path, bytes, db_id)?;
    let mut frames = FrameReader::new(bytes, HEADER_LEN);
    let mut records: Vec<(u64, Range<usize>)> = Vec::new();
    let mut previous = header.from_ts.checked_sub(1);
    let damage = loop {
        let (offset, payload, torn, problem) = match frames.next_frame() {
            FrameRead::End => break None,
            FrameRead::Frame { offset, payload } => (offset, payload, false, None),
            FrameRead::TornTail { offset, problem } => (offset, &[][..], true, Some(problem)),
            FrameRead::Corrupt { offset, problem } => (offset, &[][..], false, Some(problem)),
        };
        if let Some(problem) = problem {
            break Some(Damage { offset, problem, torn });
        }
        let Some((ts, _)) = payload.split_first_chunk::<8>() else {
            let problem = FrameProblem::Malformed("WAL record shorter than its 8-byte timestamp");
            break Some(Damage {
                offset,
                problem,
                torn: false,
            });
        };
        let ts = u64::from_le_bytes(*ts);
        if let Some(previous) = previous.filter(|p| ts <= *p) {
            let path = path.to_path_buf();
            return Err(DurabilityError::OutOfOrder {
                path,
                offset,
                ts,
                previous,
            });
        }
        previous = Some(ts);
        let start = offset as usize + crate::durability::frame::FRAME_HEADER_LEN + 8;
        records.push((ts, start..start + payload.len() - 8));
    };
    let valid_len = damage.map_or(bytes.len() as u64, |d| d.offset);
    Ok(SegmentScan {
        from_ts: header.from_ts,
        records,
        valid_len,
        damage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_in_log_order_and_parse_back() {
        assert_eq!(parse_name(&segment_name(7, 42)), Some((7, 42)));
        assert!(segment_name(9, 5) < segment_name(10, 1));
        for other in [
            "wal-1-2.log",
            "wal-00000000000000000001-00000000000000000002.log.tmp",
            "x.log",
        ] {
            assert_eq!(parse_name(other), None, "{other}");
        }
    }
}
