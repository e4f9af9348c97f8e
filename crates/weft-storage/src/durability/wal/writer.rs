//! The WAL writer: appends records in timestamp order and makes them durable by group
//! commit.
//!
//! Protocol (leader/follower, one `Mutex` + `Condvar`): [`WalWriter::append`] frames the
//! record into a shared pending buffer and returns a [`Ticket`] (cheap; meant to be called
//! under the commit lock, which gives timestamp order). [`WalWriter::wait_durable`] (called
//! after the commit lock is released) returns once the ticket's record is durable under
//! the [`SyncPolicy`]. The first waiter to find no write in progress becomes the leader: it
//! takes the whole pending buffer — its own record and every record appended meanwhile —
//! writes it with one `write` and one `fsync`, publishes the new durable ticket and wakes
//! everyone. Committers arriving during that fsync queue up for the next batch, so under
//! load one fsync serves many commits without a dedicated thread or timer.
//!
//! After a failed write or fsync the writer stops for good (every later call errs): after
//! a failed fsync the state of the page cache is unknown, and recovery from the files on
//! restart is the only safe continuation.

mod trim;

use super::files::{create_dir, create_durably, remove_temporaries, repair_newest};
use super::segment::{check_epochs, segment_name, segment_paths};
use super::{SyncPolicy, WalOptions};
use crate::durability::data_dir::sync_dir;
use crate::durability::error::DurabilityError;
use crate::durability::frame::{encode_frame, MAX_FRAME_LEN};
use crate::durability::header::{FileHeader, FileKind, HEADER_LEN};
use crate::durability::io::{self, FileSystem, WriteFile};
use parking_lot::{Condvar, Mutex, MutexGuard};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Times a follower under [`SyncPolicy::Off`] yields to a writing leader before it waits
/// to be woken.
const OFF_YIELDS: u32 = 64;

/// Identifies an appended record for [`WalWriter::wait_durable`] (ordered like appends).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ticket(u64);

/// Counters since the writer was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WalStats {
    /// Records appended.
    pub records: u64,
    /// Batches written (one `write` call each).
    pub batches: u64,
    /// `fsync`/`fdatasync` calls on segment files (record data and new headers).
    pub fsyncs: u64,
    /// `fsync` calls on the directory.
    pub dir_fsyncs: u64,
    /// Record bytes written, framing included.
    pub bytes: u64,
    /// Segments created.
    pub segments_created: u64,
}

/// Appends records to the WAL in a directory; share it by reference (`&self` methods).
pub struct WalWriter {
    fs: Arc<dyn FileSystem>,
    options: WalOptions,
    state: Mutex<State>,
    wake: Condvar,
    files: Mutex<Files>,
    stats: Counters,
}

/// What committers share, under `state`.
struct State {
    pending: Vec<u8>,
    pending_first_ts: Option<u64>,
    last_ts: Option<u64>,
    appended: u64,
    durable: u64,
    leading: bool,
    failed: Option<String>,
    /// The newest record while its commit is not yet confirmed: it stays in `pending`,
    /// where no batch takes it, so that it can be taken back.
    newest_pending: Option<Newest>,
}

/// Where the newest pending record starts, and what the log looked like before it.
#[derive(Clone, Copy)]
struct Newest {
    ticket: u64,
    ts: u64,
    start: usize,
    previous_ts: Option<u64>,
}

impl State {
    /// Records appended and confirmed: the ones a batch may write.
    fn confirmed(&self) -> u64 {
        self.appended - u64::from(self.newest_pending.is_some())
    }
}

/// The files, touched only by the leader (or `sync`), under `files`.
struct Files {
    dir: PathBuf,
    /// Written into the header of each new segment (starts as `options.epoch`).
    epoch: u64,
    active: Option<Active>,
    next_seq: u64,
    last_sync: Instant,
}

struct Active {
    file: Box<dyn WriteFile>,
    path: PathBuf,
    len: u64,
    unsynced: bool,
}

#[derive(Default)]
struct Counters {
    records: AtomicU64,
    batches: AtomicU64,
    fsyncs: AtomicU64,
    dir_fsyncs: AtomicU64,
    bytes: AtomicU64,
    segments_created: AtomicU64,
}

/// A batch taken from the pending buffer by a leader.
struct Batch {
    bytes: Vec<u8>,
    first_ts: u64,
    upto: u64,
}

impl WalWriter {
    /// Opens the WAL in `dir` (created if missing) for appending. The newest segment is
    /// checked: a torn tail is truncated (logged), an empty segment removed; corruption is
    /// an error unless `options.skip_corrupt`. Appending goes to a new segment, created at
    /// the first write.
    ///
    /// A segment whose epoch is above `options.epoch`, or below its predecessor's, is
    /// refused ([`DurabilityError::EpochFromFuture`], [`DurabilityError::EpochDecreases`]).
    pub fn open(dir: &Path, options: WalOptions) -> Result<WalWriter, DurabilityError> {
        WalWriter::open_with(io::real(), dir, options)
    }

    /// [`WalWriter::open`] on the file system `fs`.
    pub fn open_with(fs: Arc<dyn FileSystem>, dir: &Path, options: WalOptions) -> Result<WalWriter, DurabilityError> {
        create_dir(fs.as_ref(), dir)?;
        remove_temporaries(fs.as_ref(), dir)?;
        let mut segments = segment_paths(fs.as_ref(), dir)?;
        check_segment_epochs(fs.as_ref(), &segments, options.epoch)?;
        let next_seq = segments.last().map_or(1, |(seq, _)| seq + 1);
        let mut last_ts = None;
        while let Some((_, path)) = segments.pop() {
            last_ts = repair_newest(fs.as_ref(), &path, &options)?;
            if last_ts.is_some() {
                break;
            }
        }
        Ok(WalWriter {
            fs,
            state: Mutex::new(State {
                pending: Vec::new(),
                pending_first_ts: None,
                newest_pending: None,
                last_ts,
                appended: 0,
                durable: 0,
                leading: false,
                failed: None,
            }),
            wake: Condvar::new(),
            files: Mutex::new(Files {
                dir: dir.to_path_buf(),
                epoch: options.epoch,
                active: None,
                next_seq,
                last_sync: Instant::now(),
            }),
            stats: Counters::default(),
            options,
        })
    }

    /// The newest timestamp in the log (appended, or found on open); `None` when empty.
    pub fn last_ts(&self) -> Option<u64> {
        self.state.lock().last_ts
    }

    /// Queues `record` with commit timestamp `ts`, which must be newer than every record
    /// before it. Nothing is written yet: pass the ticket to [`WalWriter::wait_durable`].
    pub fn append(&self, ts: u64, record: &[u8]) -> Result<Ticket, DurabilityError> {
        self.append_record(ts, record, false)
    }

    /// As [`WalWriter::append`], but the record stays in memory until
    /// [`WalWriter::confirm`] (or goes with [`WalWriter::revoke`]): the commit pipeline's
    /// way, where a later stage may still refuse the commit.
    pub fn append_tentative(&self, ts: u64, record: &[u8]) -> Result<Ticket, DurabilityError> {
        self.append_record(ts, record, true)
    }

    fn append_record(&self, ts: u64, record: &[u8], tentative: bool) -> Result<Ticket, DurabilityError> {
        let mut state = self.state.lock();
        if let Some(reason) = &state.failed {
            return Err(DurabilityError::WriterFailed(reason.clone()));
        }
        if let Some(last) = state.last_ts.filter(|last| ts <= *last) {
            return Err(DurabilityError::TimestampNotIncreasing { ts, last });
        }
        let (len, max) = (record.len() + 8, MAX_FRAME_LEN);
        let start = state.pending.len();
        encode_frame(&[&ts.to_le_bytes(), record], &mut state.pending)
            .map_err(|_| DurabilityError::RecordTooLarge { len, max })?;
        state.pending_first_ts.get_or_insert(ts);
        let previous_ts = state.last_ts.replace(ts);
        state.appended += 1;
        state.newest_pending = tentative.then_some(Newest {
            ticket: state.appended,
            ts,
            start,
            previous_ts,
        });
        self.stats.records.fetch_add(1, Ordering::Relaxed);
        Ok(Ticket(state.appended))
    }

    /// Why the writer stopped, once a write or fsync failed (every later call errs).
    pub fn failure(&self) -> Option<String> {
        self.state.lock().failed.clone()
    }

    /// Lets the newest record, `ticket`, go to the file: its commit is confirmed. Until
    /// then a batch leaves it in `pending`.
    pub fn confirm(&self, ticket: Ticket) {
        let mut state = self.state.lock();
        if state.newest_pending.is_some_and(|n| n.ticket == ticket.0) {
            state.newest_pending = None;
        }
    }

    /// Takes back the newest record, `ticket`, if it is not yet confirmed (a later stage
    /// of the commit pipeline refused its commit); false if it is already confirmed, on
    /// its way to the file, or not the newest.
    pub fn revoke(&self, ticket: Ticket) -> bool {
        let mut state = self.state.lock();
        // Every append replaces `newest_pending`, so a match is the newest record.
        let Some(newest) = state.newest_pending.filter(|n| n.ticket == ticket.0) else {
            return false;
        };
        state.pending.truncate(newest.start);
        if state.pending.is_empty() {
            state.pending_first_ts = None;
        }
        state.last_ts = newest.previous_ts;
        state.appended -= 1;
        state.newest_pending = None;
        self.stats.records.fetch_sub(1, Ordering::Relaxed);
        true
    }

    /// Returns once the ticket's record (and every record appended before it) is written
    /// and, under [`SyncPolicy::Always`], fsynced; leads a group write if none is running.
    pub fn wait_durable(&self, ticket: Ticket) -> Result<(), DurabilityError> {
        let mut state = self.state.lock();
        let wanted = ticket.0.min(state.confirmed());
        let mut yields = 0;
        loop {
            if state.durable >= wanted {
                return Ok(());
            }
            if let Some(reason) = &state.failed {
                return Err(DurabilityError::WriterFailed(reason.clone()));
            }
            if state.leading {
                // Under `Off` a batch is one `write`, over in microseconds: a follower
                // gives the leader its core a few times rather than sleeping, because
                // with many committers on few cores the wake-ups of a condition variable
                // cost more than the writes (commits fell as committers grew).
                if self.options.sync == SyncPolicy::Off && yields < OFF_YIELDS {
                    yields += 1;
                    // Fair: a leader back from its write takes the lock first.
                    MutexGuard::unlocked_fair(&mut state, std::thread::yield_now);
                } else {
                    self.wake.wait(&mut state);
                }
                continue;
            }
            self.lead(&mut state)?;
        }
    }

    /// [`WalWriter::append`] then [`WalWriter::wait_durable`].
    pub fn append_durable(&self, ts: u64, record: &[u8]) -> Result<(), DurabilityError> {
        let ticket = self.append(ts, record)?;
        self.wait_durable(ticket)
    }

    /// Writes everything appended so far and fsyncs it, whatever the policy (for the
    /// owner's timer under [`SyncPolicy::Interval`], and for shutdown).
    pub fn sync(&self) -> Result<(), DurabilityError> {
        let upto = Ticket(self.state.lock().confirmed());
        self.wait_durable(upto)?;
        let mut files = self.files.lock();
        let result = self.sync_active(&mut files);
        drop(files);
        result.inspect_err(|e| self.fail(e))
    }

    /// Flushes and fsyncs, then closes.
    pub fn close(self) -> Result<(), DurabilityError> {
        self.sync()
    }

    /// Counters since open.
    pub fn stats(&self) -> WalStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let c = &self.stats;
        WalStats {
            records: get(&c.records),
            batches: get(&c.batches),
            fsyncs: get(&c.fsyncs),
            dir_fsyncs: get(&c.dir_fsyncs),
            bytes: get(&c.bytes),
            segments_created: get(&c.segments_created),
        }
    }

    /// As leader: takes the pending batch, writes it outside the state lock, publishes.
    fn lead(&self, state: &mut MutexGuard<'_, State>) -> Result<(), DurabilityError> {
        // A record not yet confirmed stays behind, at the end of `pending`.
        let mut bytes = std::mem::take(&mut state.pending);
        let first_ts = state.pending_first_ts.take().unwrap_or_default();
        if let Some(mut newest) = state.newest_pending {
            state.pending = bytes.split_off(newest.start);
            state.pending_first_ts = Some(newest.ts);
            newest.start = 0;
            state.newest_pending = Some(newest);
        }
        let batch = Batch {
            bytes,
            first_ts,
            upto: state.confirmed(),
        };
        if batch.bytes.is_empty() {
            state.durable = state.durable.max(batch.upto);
            return Ok(());
        }
        state.leading = true;
        let result = MutexGuard::unlocked(state, || self.write_batch(batch.bytes, batch.first_ts));
        state.leading = false;
        match &result {
            Ok(()) => state.durable = batch.upto,
            Err(e) => state.failed = Some(e.to_string()),
        }
        self.wake.notify_all();
        result
    }

    /// Writes one batch (rotating first if the segment is full) and syncs per policy.
    fn write_batch(&self, bytes: Vec<u8>, first_ts: u64) -> Result<(), DurabilityError> {
        let mut files = self.files.lock();
        let full = files.active.as_ref().is_none_or(|a| a.len >= self.options.segment_size);
        if full {
            self.rotate(&mut files, first_ts)?;
        }
        let Some(active) = files.active.as_mut() else {
            return Err(DurabilityError::WriterFailed(
                "no active WAL segment after rotation".to_string(),
            ));
        };
        active
            .file
            .write_all(&bytes)
            .map_err(|e| DurabilityError::io(&active.path, "append to", e))?;
        active.len += bytes.len() as u64;
        active.unsynced = true;
        self.stats.batches.fetch_add(1, Ordering::Relaxed);
        self.stats.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let due = match self.options.sync {
            SyncPolicy::Always => true,
            SyncPolicy::Interval(every) => files.last_sync.elapsed() >= every,
            SyncPolicy::Off => false,
        };
        if due {
            self.sync_active(&mut files)?;
        }
        Ok(())
    }

    /// Fsyncs the active segment if it has unsynced data.
    fn sync_active(&self, files: &mut Files) -> Result<(), DurabilityError> {
        files.last_sync = Instant::now();
        let Some(active) = files.active.as_mut().filter(|a| a.unsynced) else {
            return Ok(());
        };
        active
            .file
            .sync_data()
            .map_err(|e| DurabilityError::io(&active.path, "fsync", e))?;
        active.unsynced = false;
        self.stats.fsyncs.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Seals the active segment (synced unless the policy is `Off`) and creates the next,
    /// whose first record will have timestamp `from_ts`.
    fn rotate(&self, files: &mut Files, from_ts: u64) -> Result<(), DurabilityError> {
        if self.options.sync != SyncPolicy::Off {
            self.sync_active(files)?;
        }
        let header = FileHeader {
            kind: FileKind::WalSegment,
            version: FileKind::WalSegment.version(),
            db_id: self.options.db_id,
            epoch: files.epoch,
            from_ts,
            to_ts: None,
        };
        let path = files.dir.join(segment_name(files.next_seq, from_ts));
        let file = create_durably(self.fs.as_ref(), &path, &header)?;
        self.stats.fsyncs.fetch_add(1, Ordering::Relaxed);
        sync_dir(self.fs.as_ref(), &files.dir)?;
        self.stats.dir_fsyncs.fetch_add(1, Ordering::Relaxed);
        self.stats.segments_created.fetch_add(1, Ordering::Relaxed);
        files.next_seq += 1;
        files.active = Some(Active {
            file,
            path,
            len: HEADER_LEN as u64,
            unsynced: false,
        });
        Ok(())
    }

    /// Stops the writer after a failure seen outside `lead`.
    fn fail(&self, e: &DurabilityError) {
        self.state.lock().failed = Some(e.to_string());
        self.wake.notify_all();
    }
}

/// Refuses segments of another history by their epochs (see [`check_epochs`]). Headers
/// that do not decode are left to the checks that read the whole segment.
fn check_segment_epochs(fs: &dyn FileSystem, segments: &[(u64, PathBuf)], current: u64) -> Result<(), DurabilityError> {
    let mut epochs = Vec::new();
    for (_, path) in segments {
        let bytes = fs
            .read_at(path, 0, HEADER_LEN as u64)
            .map_err(|e| DurabilityError::io(path, "read", e))?;
        if let Ok(header) = FileHeader::decode(&bytes, FileKind::WalSegment) {
            epochs.push((path.as_path(), header.epoch));
        }
    }
    check_epochs(epochs, current)
}

/// The WAL is the first sink of the commit pipeline: records (local and applied alike)
/// are appended under the commit lock and waited on outside it. A WAL error is fatal.
impl crate::pipeline::CommitSink for WalWriter {
    fn name(&self) -> &str {
        crate::durability::WAL_SINK
    }

    fn append(
        &self,
        entry: &crate::pipeline::CommitEntry<'_>,
    ) -> Result<crate::pipeline::SinkTicket, crate::pipeline::CommitError> {
        WalWriter::append_tentative(self, entry.ts, entry.record)
            .map(|ticket| crate::pipeline::SinkTicket(ticket.0))
            .map_err(|e| {
                // A record that can never fit refuses its commit only; anything else
                // means the log cannot go on.
                let kind = match e {
                    DurabilityError::RecordTooLarge { .. } => crate::pipeline::CommitErrorKind::Rejected,
                    _ => crate::pipeline::CommitErrorKind::Fatal,
                };
                crate::pipeline::CommitError::new(kind, "write-ahead log", e.to_string())
            })
    }

    fn confirm(&self, ticket: crate::pipeline::SinkTicket) {
        WalWriter::confirm(self, Ticket(ticket.0));
    }

    fn wait(&self, ticket: crate::pipeline::SinkTicket) -> Result<(), crate::pipeline::CommitError> {
        self.wait_durable(Ticket(ticket.0))
            .map_err(|e| crate::pipeline::CommitError::fatal("write-ahead log", e.to_string()))
    }

    fn revoke(&self, ticket: crate::pipeline::SinkTicket) -> Result<(), crate::pipeline::CommitError> {
        if WalWriter::revoke(self, Ticket(ticket.0)) {
            return Ok(());
        }
        Err(crate::pipeline::CommitError::fatal(
            "write-ahead log",
            "the refused commit's record was already being written",
        ))
    }
}
