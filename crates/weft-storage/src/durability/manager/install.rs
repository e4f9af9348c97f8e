//! Installing a snapshot into a running database: what a member that fell too far behind
//! does with the snapshot its leader or MAIN streams to it.
//!
//! Owns: the order of the file steps, chosen so that a crash at any point recovers either
//! a prefix of the replaced history or the installed state, never a mix of the two:
//! 1. WAL records newer than the snapshot are cut off (they belong to the replaced
//!    history and would otherwise be replayed on top of it);
//! 2. snapshots newer than it are removed, durably (same reason; one that a reader holds
//!    fails the install rather than survive it);
//! 3. the installed state is written as a local snapshot (fsynced, renamed): from here on
//!    recovery starts from it;
//! 4. older snapshots and every WAL segment (the replaced history, all at or below the
//!    snapshot now) go, so that neither recovery nor a catch-up reading the log can
//!    stitch the two histories together;
//! 5. the WAL moves to the new storage's commit pipeline, and the old storage refuses
//!    every later commit (a straggler must fail, not vanish).
//!
//! A failure after step 1 leaves the files between two histories: the old storage then
//! refuses all commits until a restart.

use super::Durability;
use crate::durability::data_dir::sync_dir;
use crate::durability::snapshot::{write_snapshot_with, SnapshotInfo};
use crate::durability::{DurabilityError, WAL_SINK};
use crate::pipeline::{CommitError, CommitErrorKind};
use crate::storage::Storage;
use std::path::Path;

impl Durability {
    /// Makes `storage`, loaded from the snapshot `loaded`, this database: the files become
    /// its history, the WAL logs its commits, and the old storage no longer takes any.
    /// The caller swaps it in for the old one and makes sure no transaction runs on the
    /// old one meanwhile. Returns the local snapshot written.
    pub fn install_loaded(&self, storage: &Storage, loaded: &SnapshotInfo) -> Result<SnapshotInfo, DurabilityError> {
        let _one_at_a_time = self.snapshotting.lock();
        let old = self.storage();
        let written = match self.replace_history(storage, loaded.ts) {
            Ok(written) => written,
            Err(error) => {
                let message = format!("installing a snapshot failed midway ({error}); restart the server");
                old.retire(CommitError::fatal("storage", message));
                return Err(error);
            }
        };
        let message = "the database was replaced by an installed snapshot; run the transaction again";
        old.retire(CommitError::new(CommitErrorKind::Retryable, "storage", message));
        old.remove_commit_sink(WAL_SINK);
        storage.add_commit_sink(self.wal.clone());
        *self.storage.write() = storage.clone();
        tracing::info!(
            ts = loaded.ts,
            vertices = loaded.vertices,
            edges = loaded.edges,
            "snapshot installed"
        );
        Ok(written)
    }

    /// [`Durability::load_snapshot_file`] then [`Durability::install_loaded`].
    pub fn install_snapshot(&self, path: &Path) -> Result<(Storage, SnapshotInfo), DurabilityError> {
        let (storage, loaded) = self.load_snapshot_file(path)?;
        let written = self.install_loaded(&storage, &loaded)?;
        Ok((storage, written))
    }

    /// Steps 1 to 4 of the module's order.
    fn replace_history(&self, storage: &Storage, ts: u64) -> Result<SnapshotInfo, DurabilityError> {
        if self.wal.last_ts().is_some_and(|last| last > ts) {
            self.wal.truncate_after(ts)?;
        }
        let dir = self.snapshot_dir();
        let snapshots = self.snapshots()?;
        for newer in snapshots.iter().filter(|s| s.ts > ts) {
            self.fs
                .remove_file(&newer.path)
                .map_err(|e| DurabilityError::io(&newer.path, "remove", e))?;
        }
        sync_dir(self.fs.as_ref(), &dir)?;
        let written = write_snapshot_with(self.fs.as_ref(), storage, &dir, self.db_id, self.epoch())?;
        for older in snapshots.iter().filter(|s| s.ts < ts) {
            self.retainer.delete(&older.path);
        }
        // Every record left is at or below the snapshot, and some may be of the replaced
        // history: none may stay, or a reader of the log would see the two histories
        // joined with a hole between them.
        self.wal.truncate_after(0)?;
        Ok(written)
    }
}
