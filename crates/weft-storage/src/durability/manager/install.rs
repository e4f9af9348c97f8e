//! Installing a snapshot into a running database: what a member that fell too far behind
//! does with the snapshot its leader or MAIN streams to it.
//!
//! Owns: the order of the file steps, chosen so that a crash at any point recovers either
//! the replaced history (a consistent prefix of it) or the installed state, never a mix:
//! 1. the installed state is written as a local snapshot (fsynced, renamed);
//! 2. WAL records newer than it are cut off (they belong to the replaced history and
//!    would otherwise be replayed on top of it);
//! 3. snapshots newer than it are deleted (same reason);
//! 4. the WAL moves to the new storage's commit pipeline.
//!
//! Until step 3, recovery still picks a newer snapshot of the replaced history if there
//! is one (with no WAL after it, a prefix of that history); from step 3 on it picks the
//! installed one.

use super::Durability;
use crate::durability::snapshot::{load_snapshot_with, write_snapshot_with, SnapshotInfo};
use crate::durability::DurabilityError;
use crate::storage::Storage;
use std::path::Path;

impl Durability {
    /// Replaces the database with the snapshot at `path` (a snapshot of this database:
    /// another database's is refused) and returns the new storage, which logs its commits
    /// from now on; the old one no longer does. The caller swaps the new storage in for
    /// the old and must make sure no transaction is running on the old one meanwhile.
    pub fn install_snapshot(&self, path: &Path) -> Result<(Storage, SnapshotInfo), DurabilityError> {
        let _one_at_a_time = self.snapshotting.lock();
        let (storage, loaded) = load_snapshot_with(self.fs.as_ref(), path, self.db_id)?;
        let (dir, epoch) = (self.snapshot_dir(), self.epoch());
        let written = write_snapshot_with(self.fs.as_ref(), &storage, &dir, self.db_id, epoch)?;
        if self.wal.last_ts().is_some_and(|last| last > loaded.ts) {
            self.wal.truncate_after(loaded.ts)?;
        }
        for newer in self.snapshots()?.iter().filter(|s| s.ts > loaded.ts) {
            self.retainer.delete(&newer.path);
        }
        let old = std::mem::replace(&mut *self.storage.write(), storage.clone());
        old.remove_commit_sink(crate::durability::WAL_SINK);
        storage.add_commit_sink(self.wal.clone());
        tracing::info!(
            from = %path.display(),
            ts = loaded.ts,
            vertices = loaded.vertices,
            edges = loaded.edges,
            "snapshot installed"
        );
        Ok((storage, written))
    }
}
