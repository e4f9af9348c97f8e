//! The data directory: its layout, its lock and the identity of the database in it.
//!
//! Owns: `<dir>/LOCK` (an exclusive OS file lock held for the process's lifetime, so a
//! second process on the same directory fails at once with a clear message),
//! `<dir>/database-id` (the database's UUID and epoch, created on first start and reused
//! forever after), and the `wal/` and `snapshots/` subdirectories.

use super::DurabilityError;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use uuid::Uuid;

const LOCK_FILE: &str = "LOCK";
const META_FILE: &str = "database-id";

/// An open, locked data directory.
#[derive(Debug)]
pub struct DataDir {
    root: PathBuf,
    /// Holds the lock until dropped.
    _lock: File,
    pub db_id: Uuid,
    pub epoch: u64,
}

impl DataDir {
    /// Creates the directory if needed, locks it, and reads (or on first start creates)
    /// the database id.
    pub fn open(root: &Path) -> Result<DataDir, DurabilityError> {
        for dir in [root.to_path_buf(), root.join("wal"), root.join("snapshots")] {
            fs::create_dir_all(&dir).map_err(|e| DurabilityError::io(&dir, "create directory", e))?;
        }
        let lock_path = root.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| DurabilityError::io(&lock_path, "open", e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(DurabilityError::Locked {
                    path: root.to_path_buf(),
                })
            }
            Err(fs::TryLockError::Error(e)) => return Err(DurabilityError::io(&lock_path, "lock", e)),
        }
        let meta = root.join(META_FILE);
        let (db_id, epoch) = if meta.exists() {
            read_meta(&meta)?
        } else {
            let id = Uuid::new_v4();
            write_meta(root, id, 0)?;
            tracing::info!(database_id = %id, "new database");
            (id, 0)
        };
        Ok(DataDir {
            root: root.to_path_buf(),
            _lock: lock,
            db_id,
            epoch,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn wal_dir(&self) -> PathBuf {
        self.root.join("wal")
    }

    pub fn snapshot_dir(&self) -> PathBuf {
        self.root.join("snapshots")
    }

    /// Moves the current WAL and snapshots into `<dir>/old-<unix seconds>/` and gives the
    /// directory a new database id, so the set-aside history can never mix with the new
    /// one. Returns where the old files went.
    pub fn set_aside(&mut self) -> Result<PathBuf, DurabilityError> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let aside = self.root.join(format!("old-{stamp}"));
        fs::create_dir_all(&aside).map_err(|e| DurabilityError::io(&aside, "create directory", e))?;
        for name in ["wal", "snapshots"] {
            let (from, to) = (self.root.join(name), aside.join(name));
            fs::rename(&from, &to).map_err(|e| DurabilityError::io(&from, "move aside", e))?;
            fs::create_dir_all(&from).map_err(|e| DurabilityError::io(&from, "create directory", e))?;
        }
        fs::copy(self.root.join(META_FILE), aside.join(META_FILE))
            .map_err(|e| DurabilityError::io(aside.join(META_FILE), "copy", e))?;
        self.db_id = Uuid::new_v4();
        self.epoch = 0;
        write_meta(&self.root, self.db_id, self.epoch)?;
        Ok(aside)
    }
}

fn read_meta(path: &Path) -> Result<(Uuid, u64), DurabilityError> {
    let text = fs::read_to_string(path).map_err(|e| DurabilityError::io(path, "read", e))?;
    let bad = |problem: String| DurabilityError::BadMeta {
        path: path.to_path_buf(),
        problem,
    };
    let mut id = None;
    let mut epoch = None;
    for line in text.lines() {
        match line.split_once('=') {
            Some(("id", value)) => id = Some(Uuid::parse_str(value.trim()).map_err(|e| bad(e.to_string()))?),
            Some(("epoch", value)) => epoch = Some(value.trim().parse().map_err(|_| bad(format!("epoch {value:?}")))?),
            _ => {}
        }
    }
    Ok((
        id.ok_or_else(|| bad("no id= line".to_string()))?,
        epoch.ok_or_else(|| bad("no epoch= line".to_string()))?,
    ))
}

/// Writes the id file atomically: temporary file, fsync, rename, directory fsync.
fn write_meta(root: &Path, id: Uuid, epoch: u64) -> Result<(), DurabilityError> {
    let tmp = root.join(format!("{META_FILE}.tmp"));
    let mut file = File::create(&tmp).map_err(|e| DurabilityError::io(&tmp, "create", e))?;
    file.write_all(format!("id={id}\nepoch={epoch}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| DurabilityError::io(&tmp, "write", e))?;
    let path = root.join(META_FILE);
    fs::rename(&tmp, &path).map_err(|e| DurabilityError::io(&path, "rename", e))?;
    sync_dir(root)
}

/// Makes a directory's entries (creations, renames, deletions) durable.
pub fn sync_dir(dir: &Path) -> Result<(), DurabilityError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| DurabilityError::io(dir, "fsync directory", e))
}

/// The files of `dir` whose names `parse` accepts, with what it read from each name, sorted
/// by that. A missing directory has none.
pub(crate) fn list_named<T: Ord>(
    dir: &Path,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<(T, PathBuf)>, DurabilityError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(DurabilityError::io(dir, "list", e)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| DurabilityError::io(dir, "list", e))?;
        if let Some(key) = entry.file_name().to_str().and_then(&parse) {
            found.push((key, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}
