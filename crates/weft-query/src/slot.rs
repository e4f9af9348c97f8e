//! The storage an engine queries, replaceable while the engine runs (a member installing
//! a snapshot from its leader), and the barrier that makes the replacement safe.
//!
//! Owns: which storage is current, and the gate new transactions pass. Every way a
//! transaction or schema change starts goes through [`StorageSlot::enter`], which waits
//! while the gate is closed and holds an entry until the transaction is registered with
//! its storage (or the schema change has finished). [`StorageSlot::replace`] closes the
//! gate, waits for entries in progress and for running transactions to end, installs
//! the new storage and opens the gate again; readers of [`StorageSlot::current`] (SHOW
//! statements, the bookmark, health checks) never wait.

use std::sync::{Condvar, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};
use weft_storage::Storage;

/// Why [`StorageSlot::replace`] changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ReplaceError<E> {
    #[error("{running} transaction(s) still running on the old storage; try again when they have ended")]
    Busy { running: usize },
    #[error("{0}")]
    Install(E),
}

/// How long one poll for running transactions sleeps.
const POLL: Duration = Duration::from_millis(1);

#[derive(Default)]
pub(crate) struct StorageSlot {
    current: RwLock<Storage>,
    gate: Mutex<Gate>,
    changed: Condvar,
}

#[derive(Default)]
struct Gate {
    closed: bool,
    /// Transactions (and schema changes) between passing the gate and being registered
    /// with their storage (finished, for schema changes).
    entering: usize,
}

/// A pass through the open gate; the replacement waits until it is dropped.
pub(crate) struct Entry<'a> {
    slot: &'a StorageSlot,
    pub storage: Storage,
}

impl Drop for Entry<'_> {
    fn drop(&mut self) {
        let mut gate = self.slot.lock_gate();
        gate.entering -= 1;
        self.slot.changed.notify_all();
    }
}

impl StorageSlot {
    pub fn new(storage: Storage) -> Self {
        StorageSlot {
            current: RwLock::new(storage),
            ..StorageSlot::default()
        }
    }

    /// The storage now, without waiting (for reads that open no transaction).
    pub fn current(&self) -> Storage {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits while a replacement is under way, then passes the gate.
    pub fn enter(&self) -> Entry<'_> {
        let mut gate = self.lock_gate();
        while gate.closed {
            gate = self.changed.wait(gate).unwrap_or_else(|e| e.into_inner());
        }
        gate.entering += 1;
        drop(gate);
        Entry {
            slot: self,
            storage: self.current(),
        }
    }

    /// Closes the gate, waits up to `wait` for the running transactions to end, then
    /// swaps in what `install` returns (given the old storage) and opens the gate.
    pub fn replace<E>(
        &self,
        wait: Duration,
        install: impl FnOnce(&Storage) -> Result<Storage, E>,
    ) -> Result<Storage, ReplaceError<E>> {
        let mut gate = self.lock_gate();
        while gate.closed {
            gate = self.changed.wait(gate).unwrap_or_else(|e| e.into_inner());
        }
        gate.closed = true;
        while gate.entering > 0 {
            gate = self.changed.wait(gate).unwrap_or_else(|e| e.into_inner());
        }
        drop(gate);
        let outcome = self.swap(wait, install);
        self.lock_gate().closed = false;
        self.changed.notify_all();
        outcome
    }

    fn swap<E>(
        &self,
        wait: Duration,
        install: impl FnOnce(&Storage) -> Result<Storage, E>,
    ) -> Result<Storage, ReplaceError<E>> {
        let old = self.current();
        let deadline = Instant::now() + wait;
        loop {
            let running = old.active_transactions();
            if running == 0 {
                break;
            }
            if Instant::now() >= deadline {
                return Err(ReplaceError::Busy { running });
            }
            std::thread::sleep(POLL);
        }
        let new = install(&old).map_err(ReplaceError::Install)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = new.clone();
        Ok(new)
    }

    fn lock_gate(&self) -> MutexGuard<'_, Gate> {
        self.gate.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::{ReplaceError, StorageSlot};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;
    use weft_storage::{IsolationLevel, Storage};

    #[test]
    fn a_replacement_waits_for_entries_and_transactions_and_holds_new_ones_back() {
        let slot = Arc::new(StorageSlot::new(Storage::new()));
        let old = slot.current();
        // A schema change in progress holds an entry; a transaction is running.
        let entry = slot.enter();
        let running = old.begin(IsolationLevel::SnapshotIsolation);
        let replaced = Arc::new(AtomicBool::new(false));
        let replacer = {
            let (slot, replaced) = (slot.clone(), replaced.clone());
            std::thread::spawn(move || {
                let result = slot.replace(Duration::from_secs(10), |_| Ok::<_, String>(Storage::new()));
                replaced.store(true, Ordering::SeqCst);
                result.map(drop)
            })
        };
        std::thread::sleep(Duration::from_millis(30));
        assert!(!replaced.load(Ordering::SeqCst), "the entry holds the replacement back");
        drop(entry);
        std::thread::sleep(Duration::from_millis(30));
        assert!(!replaced.load(Ordering::SeqCst), "so does the running transaction");
        drop(running);
        replacer.join().unwrap().unwrap();
        // New transactions start on the new storage.
        let entry = slot.enter();
        assert_eq!(entry.storage.active_transactions(), 0);
        let txn = entry.storage.begin(IsolationLevel::SnapshotIsolation);
        assert_eq!(old.active_transactions(), 0);
        assert_eq!(slot.current().active_transactions(), 1);
        drop(txn);
    }

    #[test]
    fn a_replacement_that_waits_too_long_changes_nothing() {
        let slot = StorageSlot::new(Storage::new());
        let old = slot.current();
        let _running = old.begin(IsolationLevel::SnapshotIsolation);
        let result = slot.replace(Duration::from_millis(20), |_| Ok::<_, String>(Storage::new()));
        assert!(matches!(result, Err(ReplaceError::Busy { running: 1 })));
        assert_eq!(slot.current().active_transactions(), 1, "the old storage stays");
        drop(slot.enter());
    }
}
