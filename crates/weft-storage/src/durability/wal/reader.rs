//! Reading a WAL directory back: every record of every segment, in log order, as
//! `(commit_ts, record)`.
//!
//! Promises: timestamps strictly increase across the whole log (a violation is an error);
//! the newest segment's torn tail is cut with a warning; any other damage is an error that
//! names the file and offset, after the records before it — unless
//! [`ReadOptions::skip_corrupt`] is set, when the rest of the damaged segment is skipped
//! with a warning and reading goes on with the next segment. A segment of another
//! database is always an error. With [`ReadOptions::contiguous`] (a storage's log, whose
//! commits are numbered one after another), a segment that starts after the timestamp
//! following the last record before it means the segment before it ends early (cut at a
//! frame boundary, which its own frames cannot show) or one between them is gone; that is
//! damage too, named with both files. Recovery and a replica's catch-up read so (a
//! catch-up that meets a hole goes by a snapshot past it instead).

use super::segment::{parse_name, scan, segment_paths};
use crate::durability::error::DurabilityError;
use crate::durability::io::{self, FileSystem};
use std::collections::VecDeque;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use uuid::Uuid;

/// What [`read_segments`] accepts.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadOptions {
    /// Only records with a timestamp above this (e.g. the snapshot's); segments wholly at
    /// or below it are not opened.
    pub after_ts: u64,
    /// Accept knowingly the loss of damaged parts instead of failing (each skip is logged).
    pub skip_corrupt: bool,
    /// The log is being written while it is read (a catch-up): the newest segment's torn
    /// tail is where the writer is, not a crash, and is cut without a warning.
    pub while_written: bool,
    /// Timestamps follow on without a hole from one segment to the next (see the module
    /// docs); the WAL itself allows holes, a storage's commits leave none.
    pub contiguous: bool,
}

/// Reads the WAL in `dir` (which must belong to `db_id`). Segments are read one at a time
/// into memory, so memory use is about one segment.
pub fn read_segments(dir: &Path, db_id: Uuid, options: ReadOptions) -> Result<WalRecords, DurabilityError> {
    read_segments_with(io::real(), dir, db_id, options)
}

/// [`read_segments`] on the file system `fs`.
pub fn read_segments_with(
    fs: Arc<dyn FileSystem>,
    dir: &Path,
    db_id: Uuid,
    options: ReadOptions,
) -> Result<WalRecords, DurabilityError> {
    let mut paths: Vec<(u64, PathBuf)> = segment_paths(fs.as_ref(), dir)?;
    // Skip segments whose successor starts at or below `after_ts + 1`: all their records
    // are at or below `after_ts`.
    let from_of = |path: &PathBuf| {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        parse_name(name).map_or(0, |(_, from)| from)
    };
    let first_needed = (1..paths.len())
        .take_while(|&i| from_of(&paths[i].1) <= options.after_ts.saturating_add(1))
        .count();
    let newest = paths.len();
    let segments = paths
        .drain(first_needed..)
        .enumerate()
        .map(|(i, (_, path))| (path, first_needed + i + 1 == newest))
        .collect();
    Ok(WalRecords {
        fs,
        db_id,
        options,
        segments,
        current: None,
        last_ts: None,
        previous: None,
        done: false,
    })
}

/// The records of a WAL directory; yields `Ok((commit_ts, record))` in timestamp order,
/// and stops after the first `Err`.
pub struct WalRecords {
    fs: Arc<dyn FileSystem>,
    db_id: Uuid,
    options: ReadOptions,
    /// Segments not yet opened, with "is the newest segment".
    segments: VecDeque<(PathBuf, bool)>,
    current: Option<Loaded>,
    last_ts: Option<u64>,
    /// The segment read before the current one, and the timestamp after its last record.
    previous: Option<(PathBuf, u64)>,
    done: bool,
}

/// One segment in memory, being yielded.
struct Loaded {
    path: PathBuf,
    bytes: Vec<u8>,
    records: std::vec::IntoIter<(u64, Range<usize>)>,
    /// What to report once the records run out.
    then: Option<DurabilityError>,
}

impl Iterator for WalRecords {
    type Item = Result<(u64, Vec<u8>), DurabilityError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let Some(loaded) = self.current.as_mut() else {
                let (path, newest) = self.segments.pop_front()?;
                match self.load(path, newest) {
                    Ok(loaded) => self.current = loaded,
                    Err(e) => return self.fail(e),
                }
                continue;
            };
            let Some((ts, range)) = loaded.records.next() else {
                let then = loaded.then.take();
                self.current = None;
                match then {
                    Some(e) => return self.fail(e),
                    None => continue,
                }
            };
            if let Some(previous) = self.last_ts.filter(|p| ts <= *p) {
                let path = loaded.path.clone();
                let offset = (range.start - 16) as u64;
                return self.fail(DurabilityError::OutOfOrder {
                    path,
                    offset,
                    ts,
                    previous,
                });
            }
            self.last_ts = Some(ts);
            if ts > self.options.after_ts {
                return Some(Ok((ts, loaded.bytes[range].to_vec())));
            }
        }
        None
    }
}

impl WalRecords {
    fn fail(&mut self, e: DurabilityError) -> Option<Result<(u64, Vec<u8>), DurabilityError>> {
        self.done = true;
        Some(Err(e))
    }

    /// Reads and checks one segment; `None` when it is skipped whole.
    fn load(&mut self, path: PathBuf, newest: bool) -> Result<Option<Loaded>, DurabilityError> {
        let bytes = self.fs.read(&path).map_err(|e| DurabilityError::io(&path, "read", e))?;
        let scanned = match scan(&path, &bytes, self.db_id) {
            Ok(scanned) => scanned,
            Err(e) if self.options.skip_corrupt && e.is_corruption() => {
                tracing::warn!(error = %e, "skipping the whole WAL segment (skip_corrupt)");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        // The timestamp the next segment must start at: after this one's last record, or
        // at this one's start when it holds none.
        let follows = scanned
            .records
            .last()
            .map_or(scanned.from_ts, |(ts, _)| ts.saturating_add(1));
        let before = self.previous.replace((path.clone(), follows));
        if let (true, Some((before, expected))) = (self.options.contiguous, before) {
            if scanned.from_ts > expected {
                let error = DurabilityError::SegmentEndsEarly {
                    path: before,
                    missing_from: expected,
                    next: path.clone(),
                    next_from: scanned.from_ts,
                };
                if !self.options.skip_corrupt {
                    return Err(error);
                }
                tracing::warn!(%error, "going on without the missing records (skip_corrupt)");
            }
        }
        let then = match scanned.damage {
            None => None,
            Some(d) if d.torn && newest && self.options.while_written => None,
            Some(d) if d.torn && newest => {
                let (file, offset, problem) = (path.display(), d.offset, d.problem);
                tracing::warn!(%file, offset, %problem, "cutting the torn tail of the newest WAL segment");
                None
            }
            Some(d) if self.options.skip_corrupt => {
                let (file, offset, problem) = (path.display(), d.offset, d.problem);
                tracing::warn!(%file, offset, %problem, "skipping the rest of a corrupt WAL segment (skip_corrupt)");
                None
            }
            Some(d) => Some(DurabilityError::Corrupt {
                path: path.clone(),
                offset: d.offset,
                problem: d.problem,
            }),
        };
        Ok(Some(Loaded {
            path,
            bytes,
            records: scanned.records.into_iter(),
            then,
        }))
    }
}
