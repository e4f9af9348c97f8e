//! The file retainer: durability files are deleted only when no reader holds them.
//!
//! Owns: the set of files held by lockers and the deletions waiting for them. A reader
//! (a recovery now, a replica catch-up later) takes a [`FileLocker`], adds the files it
//! will read, and drops it when done. Retention asks the retainer to delete a file: at
//! once when no locker holds it, otherwise when the last locker holding it is dropped.

use super::io::{self, FileSystem};
use parking_lot::Mutex;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Default)]
struct State {
    /// File → number of lockers holding it.
    held: HashMap<PathBuf, usize>,
    /// Files retention gave up on that are still held.
    doomed: BTreeSet<PathBuf>,
}

/// Shared by everyone who deletes or reads durability files; clones share it.
#[derive(Clone)]
pub struct FileRetainer {
    state: Arc<Mutex<State>>,
    fs: Arc<dyn FileSystem>,
}

/// A retainer deleting on the real file system.
impl Default for FileRetainer {
    fn default() -> Self {
        FileRetainer::with_fs(io::real())
    }
}

/// Files held against deletion until this is dropped.
pub struct FileLocker {
    retainer: FileRetainer,
    files: Vec<PathBuf>,
}

impl FileRetainer {
    /// A retainer deleting files on `fs`.
    pub fn with_fs(fs: Arc<dyn FileSystem>) -> Self {
        FileRetainer {
            state: Arc::default(),
            fs,
        }
    }

    /// A new locker holding nothing yet.
    pub fn locker(&self) -> FileLocker {
        FileLocker {
            retainer: self.clone(),
            files: Vec::new(),
        }
    }

    /// Deletes `path` now if no locker holds it, else once the last holder lets go.
    /// Returns true if it was deleted now.
    pub fn delete(&self, path: &Path) -> bool {
        let mut state = self.state.lock();
        if state.held.contains_key(path) {
            tracing::debug!(path = %path.display(), "file held by a reader; deleting it later");
            state.doomed.insert(path.to_path_buf());
            return false;
        }
        // Removed under the lock: a reader that takes the file after the check above would
        // otherwise hold a file that is about to vanish.
        remove(self.fs.as_ref(), path);
        true
    }

    /// True if some locker holds `path`.
    pub fn is_held(&self, path: &Path) -> bool {
        self.state.lock().held.contains_key(path)
    }

    fn release(&self, files: &[PathBuf]) {
        let mut state = self.state.lock();
        let mut now_free = Vec::new();
        for file in files {
            if let Some(count) = state.held.get_mut(file) {
                *count -= 1;
                if *count == 0 {
                    state.held.remove(file);
                    if state.doomed.remove(file) {
                        now_free.push(file.clone());
                    }
                }
            }
        }
        drop(state);
        now_free.iter().for_each(|f| remove(self.fs.as_ref(), f));
    }
}

impl FileLocker {
    /// Holds `path` until this locker is dropped.
    pub fn add(&mut self, path: &Path) {
        *self.retainer.state.lock().held.entry(path.to_path_buf()).or_insert(0) += 1;
        self.files.push(path.to_path_buf());
    }
}

impl Drop for FileLocker {
    fn drop(&mut self) {
        self.retainer.release(&self.files);
    }
}

fn remove(fs: &dyn FileSystem, path: &Path) {
    match fs.remove_file(path) {
        Ok(()) => tracing::info!(path = %path.display(), "deleted old durability file"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => tracing::warn!(path = %path.display(), %error, "cannot delete old durability file"),
    }
}
