//! The Raft log: entries in WAL segments (the WAL's framing, checksums, group commit,
//! truncation and retainer), every entry also kept in memory from the purge point on.
//!
//! Owns: the `log/` directory of a member's Raft directory, and its `raft-state`
//! ([`HardState`]). The entry at Raft index `i` is the WAL record at timestamp `i + 1`
//! (the WAL's timestamps start above 0, Raft's indexes at 0). Promises: an append is
//! reported flushed to openraft only once it is durable; truncation and purging are
//! durable when they return (the purge point is recorded before segments go, and entries
//! at or below it are dropped when the log is read back); a damaged entry in the middle
//! of the log stops the open with an error naming it.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::ops::RangeBounds;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{AnyError, ErrorSubject, ErrorVerb, RaftLogReader, StorageIOError};
use parking_lot::{Mutex, RwLock};
use weft_storage::durability::{read_segments, FileRetainer, ReadOptions, Uuid, WalOptions, WalWriter};

use crate::codec::{decode_entry, encode_entry};
use crate::hard_state::HardState;
use crate::{Entry, LogId, StorageError, TypeConfig, Vote};

/// A member's Raft log; clones share it (the reader openraft's replication tasks use is
/// a clone).
#[derive(Clone)]
pub struct LogStore {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    wal: WalWriter,
    retainer: FileRetainer,
    /// Every entry after the purge point, by index.
    entries: RwLock<BTreeMap<u64, Entry>>,
    /// Written through to `raft-state` on every change, but the committed index at most
    /// every [`COMMITTED_EVERY`].
    state: Mutex<HardState>,
    /// When the committed index was last written.
    committed_written: Mutex<std::time::Instant>,
}

/// How often the committed index reaches `raft-state`: a restarted member applies up to
/// it before it serves reads, so its state is at most this much older than before.
const COMMITTED_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Why the log could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot create {path}: {error}")]
    Create { path: PathBuf, error: std::io::Error },
    #[error(transparent)]
    State(#[from] crate::hard_state::HardStateError),
    #[error("the Raft log in {path}: {error}")]
    Wal {
        path: PathBuf,
        error: Box<weft_storage::durability::DurabilityError>,
    },
    #[error("the Raft log in {path}: the record at WAL timestamp {ts} is not a Raft entry: {error}")]
    Entry {
        path: PathBuf,
        ts: u64,
        error: crate::codec::CodecError,
    },
    #[error("the Raft log in {path}: the record at WAL timestamp {ts} holds entry {index}; entry {expected} was expected there (a gap or a misplaced entry)")]
    Misplaced {
        path: PathBuf,
        ts: u64,
        index: u64,
        expected: u64,
    },
}

fn io_error(verb: ErrorVerb, error: impl std::error::Error + 'static) -> StorageError {
    StorageIOError::new(ErrorSubject::Logs, verb, AnyError::new(&error)).into()
}

impl LogStore {
    /// Opens (creating it if missing) the Raft log in `dir`, whose WAL segments belong to
    /// the database `db_id`, and reads it back.
    pub fn open(dir: &Path, db_id: Uuid) -> Result<LogStore, OpenError> {
        let wal_dir = dir.join("log");
        std::fs::create_dir_all(&wal_dir).map_err(|error| OpenError::Create {
            path: wal_dir.clone(),
            error,
        })?;
        let mut state = HardState::load(dir)?;
        let wal_error = |error| OpenError::Wal {
            path: wal_dir.clone(),
            error: Box::new(error),
        };
        let wal = WalWriter::open(&wal_dir, WalOptions::new(db_id)).map_err(wal_error)?;
        let after = state.purged.map_or(0, |purged| purged.index + 1);
        let options = ReadOptions {
            after_ts: after,
            ..ReadOptions::default()
        };
        let mut entries = BTreeMap::new();
        for record in read_segments(&wal_dir, db_id, options).map_err(wal_error)? {
            let (ts, bytes) = record.map_err(wal_error)?;
            let entry = decode_entry(&bytes).map_err(|error| OpenError::Entry {
                path: wal_dir.clone(),
                ts,
                error,
            })?;
            // Entry i is at WAL timestamp i + 1, and the entries follow on without a hole
            // from the purge point (or from the first one kept).
            let expected = match entries.last_key_value() {
                Some((last, _)) => last + 1,
                None => state.purged.map_or(ts.saturating_sub(1), |purged| purged.index + 1),
            };
            if entry.log_id.index.checked_add(1) != Some(ts) || entry.log_id.index != expected {
                return Err(OpenError::Misplaced {
                    path: wal_dir,
                    ts,
                    index: entry.log_id.index,
                    expected,
                });
            }
            entries.insert(entry.log_id.index, entry);
        }
        // The committed index is stored apart from the entries: after a machine crash it
        // may name an entry whose write was lost. Such a member forgets it and learns it
        // again from the leader.
        let last = entries.keys().next_back().copied().or(state.purged.map(|p| p.index));
        if state.committed.is_some_and(|c| Some(c.index) > last) {
            state.committed = None;
        }
        tracing::info!(dir = %dir.display(), entries = entries.len(), "Raft log opened");
        Ok(LogStore {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                wal,
                retainer: FileRetainer::default(),
                entries: RwLock::new(entries),
                state: Mutex::new(state),
                committed_written: Mutex::new(std::time::Instant::now()),
            }),
        })
    }

    /// Changes the hard state durably (under its lock, so changes land in order), on a
    /// blocking thread: the fsyncs stay off the Raft task.
    async fn update(&self, change: impl FnOnce(&mut HardState) + Send + 'static) -> Result<(), StorageError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut state = inner.state.lock();
            let mut next = state.clone();
            change(&mut next);
            next.store(&inner.dir)
                .map_err(|e| StorageIOError::new(ErrorSubject::Store, ErrorVerb::Write, AnyError::new(&e)))?;
            *state = next;
            Ok(())
        })
        .await
        .map_err(|e| io_error(ErrorVerb::Write, std::io::Error::other(e.to_string())))?
    }

    /// The vote, committed index and purge point as last stored.
    pub fn hard_state(&self) -> HardState {
        self.inner.state.lock().clone()
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        let entries = self.inner.entries.read();
        Ok(entries.range(range).map(|(_, entry)| entry.clone()).collect())
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let purged = self.inner.state.lock().purged;
        let last = self.inner.entries.read().values().next_back().map(|e| e.log_id);
        Ok(LogState {
            last_purged_log_id: purged,
            last_log_id: last.or(purged),
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), StorageError> {
        let vote = *vote;
        self.update(move |s| s.vote = Some(vote)).await
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, StorageError> {
        Ok(self.inner.state.lock().vote)
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        // Kept in memory and written every COMMITTED_EVERY (and with any vote or purge):
        // an fsync per commit would halve the write rate, and openraft needs it only to
        // apply what it knew committed at a restart, before the member serves reads.
        self.inner.state.lock().committed = committed;
        let due = {
            let mut written = self.inner.committed_written.lock();
            let due = written.elapsed() >= COMMITTED_EVERY;
            if due {
                *written = std::time::Instant::now();
            }
            due
        };
        if due {
            // Writes the state as it is now: a newer committed index may have come meanwhile.
            self.update(|_| {}).await?;
        }
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        Ok(self.inner.state.lock().committed)
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + Send,
        I::IntoIter: Send,
    {
        let mut last = None;
        for entry in entries {
            let ticket = self
                .inner
                .wal
                .append(entry.log_id.index + 1, &encode_entry(&entry))
                .map_err(|e| io_error(ErrorVerb::Write, e))?;
            last = Some(ticket);
            self.inner.entries.write().insert(entry.log_id.index, entry);
        }
        let Some(last) = last else {
            callback.log_io_completed(Ok(()));
            return Ok(());
        };
        // The fsync runs off the Raft task, which goes on meanwhile (openraft allows it).
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let durable = inner.wal.wait_durable(last).map_err(std::io::Error::other);
            callback.log_io_completed(durable);
        });
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        // Entries at `log_id.index` and after go: WAL timestamps above `log_id.index`.
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.wal.truncate_after(log_id.index))
            .await
            .map_err(|e| io_error(ErrorVerb::Delete, std::io::Error::other(e.to_string())))?
            .map_err(|e| io_error(ErrorVerb::Delete, e))?;
        self.inner.entries.write().split_off(&log_id.index);
        Ok(())
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        // Recorded first: after a crash the entries at or below it are dropped on open
        // even if their segment was not deleted yet.
        self.update(move |s| s.purged = Some(log_id)).await?;
        {
            let mut entries = self.inner.entries.write();
            let kept = entries.split_off(&(log_id.index + 1));
            *entries = kept;
        }
        // Off the runtime: it waits for the WAL's files, which a group fsync holds.
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.wal.purge_upto(log_id.index + 1, &inner.retainer))
            .await
            .map_err(|e| io_error(ErrorVerb::Delete, std::io::Error::other(e.to_string())))?
            .map_err(|e| io_error(ErrorVerb::Delete, e))?;
        Ok(())
    }
}
