//! Changing the log behind the writer's back, as a Raft log and replication need: cut
//! every record above a timestamp ([`WalWriter::truncate_after`]), delete whole segments
//! at or below one ([`WalWriter::purge_upto`]), and start a new epoch
//! ([`WalWriter::start_epoch`]).
//!
//! Each first waits until everything appended is written, then holds the files (and the
//! committers' state) while it works, so no batch is written meanwhile. Promises: after
//! `truncate_after` returns, the files durably hold exactly the records at or below the
//! timestamp, and a crash during it leaves a prefix of the log as it was (later segments
//! are deleted newest first, before the segment holding the cut is shortened).

use super::{Files, State, Ticket, WalWriter};
use crate::durability::data_dir::sync_dir;
use crate::durability::error::DurabilityError;
use crate::durability::retainer::FileRetainer;
use crate::durability::wal::files::{remove_durably, truncate};
use crate::durability::wal::segment::{list_segments_with, scan, SegmentInfo};
use parking_lot::MutexGuard;
use std::path::PathBuf;

impl WalWriter {
    /// Drops every record with a commit timestamp above `ts`, durably: later segments are
    /// deleted, the segment holding `ts` is cut after it and fsynced, the directory is
    /// fsynced. The next append may reuse any timestamp above `ts`; it goes to a new
    /// segment. Callers must not append concurrently (such appends are waited for first).
    /// A failure stops the writer, as a failed write does.
    pub fn truncate_after(&self, ts: u64) -> Result<(), DurabilityError> {
        let (mut files, mut state) = self.quiesce()?;
        let cut = self.seal(&mut files).and_then(|()| self.cut_files(&files, ts));
        match cut {
            Ok(last) => {
                state.last_ts = last;
                tracing::info!(ts, dir = %files.dir.display(), "WAL truncated after timestamp");
                Ok(())
            }
            Err(e) => {
                state.failed = Some(e.to_string());
                self.wake.notify_all();
                Err(e)
            }
        }
    }

    /// Deletes, through `retainer` (so a file a reader holds goes once it is released),
    /// every segment all of whose records are at or below `ts`. The newest segment is
    /// never purged: its end is open. Returns the segments handed to the retainer.
    pub fn purge_upto(&self, ts: u64, retainer: &FileRetainer) -> Result<Vec<PathBuf>, DurabilityError> {
        // The files lock keeps a rotation from adding a segment while the list is read.
        let files = self.files.lock();
        let segments = list_segments_with(self.fs.as_ref(), &files.dir, self.options.db_id)?;
        let doomed: Vec<PathBuf> = segments
            .into_iter()
            .filter(|s| s.to_ts.is_some_and(|to| to <= ts))
            .map(|s| s.path)
            .collect();
        drop(files);
        doomed.iter().for_each(|path| {
            retainer.delete(path);
        });
        Ok(doomed)
    }

    /// Seals the current segment (fsynced) and writes the next ones with `epoch` in their
    /// header. Records appended before this call are written first. An epoch below the
    /// current one is refused: epochs never decrease along the log.
    pub fn start_epoch(&self, epoch: u64) -> Result<(), DurabilityError> {
        let (mut files, mut state) = self.quiesce()?;
        if epoch < files.epoch {
            return Err(DurabilityError::EpochDecreases {
                path: files.dir.clone(),
                epoch,
                previous: files.epoch,
            });
        }
        if let Err(e) = self.seal(&mut files) {
            state.failed = Some(e.to_string());
            self.wake.notify_all();
            return Err(e);
        }
        files.epoch = epoch;
        Ok(())
    }

    /// The epoch new segments are written with.
    pub fn epoch(&self) -> u64 {
        self.files.lock().epoch
    }

    /// Waits until every appended record is written and no batch is in flight; returns
    /// both locks held (files first, as everywhere).
    fn quiesce(&self) -> Result<(MutexGuard<'_, Files>, MutexGuard<'_, State>), DurabilityError> {
        loop {
            let upto = self.state.lock().appended;
            self.wait_durable(Ticket(upto))?;
            let files = self.files.lock();
            let state = self.state.lock();
            if let Some(reason) = &state.failed {
                return Err(DurabilityError::WriterFailed(reason.clone()));
            }
            if state.pending.is_empty() && !state.leading {
                return Ok((files, state));
            }
        }
    }

    /// Fsyncs and closes the active segment: the next batch starts a new one.
    fn seal(&self, files: &mut Files) -> Result<(), DurabilityError> {
        self.sync_active(files)?;
        files.active = None;
        Ok(())
    }

    /// Checks the segment holding `ts` first (so that nothing is deleted when it cannot
    /// be cut), deletes the segments after it newest first, cuts it, fsyncs the
    /// directory; returns the newest timestamp left.
    fn cut_files(&self, files: &Files, ts: u64) -> Result<Option<u64>, DurabilityError> {
        let fs = self.fs.as_ref();
        let segments = list_segments_with(fs, &files.dir, self.options.db_id)?;
        let mut end = segments.len();
        let last = loop {
            let holder = segments[..end].iter().rposition(|s| s.from_ts <= ts);
            let plan = match holder {
                Some(i) => Some(self.plan_cut(&segments[i], ts, i + 1 == segments.len())?),
                None => None,
            };
            for later in segments[holder.map_or(0, |i| i + 1)..end].iter().rev() {
                remove_durably(fs, &later.path)?;
            }
            match (holder, plan) {
                (Some(i), Some(Cut::At { len, last })) => {
                    if let Some(len) = len {
                        truncate(fs, &segments[i].path, len)?;
                    }
                    break Some(last);
                }
                (Some(i), Some(Cut::Empty)) => {
                    remove_durably(fs, &segments[i].path)?;
                    end = i;
                }
                _ => break None,
            }
        };
        sync_dir(fs, &files.dir)?;
        Ok(last)
    }

    /// Where to cut `segment` so that its last record is the last at or below `ts` (a
    /// torn tail after it goes too, if it is the newest segment). Other damage is an
    /// error: records at or below `ts` may be behind it, and cutting there would drop
    /// them silently.
    fn plan_cut(&self, segment: &SegmentInfo, ts: u64, newest: bool) -> Result<Cut, DurabilityError> {
        let path = &segment.path;
        let bytes = self.fs.read(path).map_err(|e| DurabilityError::io(path, "read", e))?;
        let scanned = scan(path, &bytes, self.options.db_id)?;
        if let Some(d) = scanned.damage.filter(|d| !(d.torn && newest)) {
            let (path, offset, problem) = (path.clone(), d.offset, d.problem);
            return Err(DurabilityError::Corrupt { path, offset, problem });
        }
        let Some((last, range)) = scanned.records.iter().take_while(|(t, _)| *t <= ts).last() else {
            return Ok(Cut::Empty);
        };
        let end = range.end as u64;
        let whole = end == scanned.valid_len && scanned.damage.is_none();
        Ok(Cut::At {
            len: (!whole).then_some(end),
            last: *last,
        })
    }
}

/// What [`WalWriter::truncate_after`] does to the segment holding the cut.
enum Cut {
    /// Keep it, cut to `len` bytes if given; `last` is its last record then.
    At { len: Option<u64>, last: u64 },
    /// It holds no record at or below the cut: remove it.
    Empty,
}
