//! The data directory: its layout, its lock and the identity of the database in it.
//!
//! Owns: `<dir>/LOCK` (an exclusive OS file lock held for the process's lifetime, so a
//! second process on the same directory fails at once with a clear message),
//! `<dir>/database-id` (the database's UUID, created on first start and reused forever
//! after, and its current epoch, which only [`DataDir::advance_epoch`] moves, durably),
//! and the `wal/` and `snapshots/` subdirectories. Every file operation goes through the
//! directory's [`FileSystem`].

use super::io::{self, FileSystem, LockGuard};
use super::DurabilityError;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use uuid::Uuid;

const LOCK_FILE: &str = "LOCK";
const META_FILE: &str = "database-id";

/// An open, locked data directory.
#[derive(Debug)]
pub struct DataDir {
    root: PathBuf,
    fs: Arc<dyn FileSystem>,
    /// Holds the lock until dropped.
    _lock: Box<dyn LockGuard>,
    pub db_id: Uuid,
    /// The current epoch: no durability file in the directory may carry a newer one.
    pub epoch: u64,
}

impl DataDir {
    /// Creates the directory if needed, locks it, and reads (or on first start creates)
    /// the database id.
    pub fn open(root: &Path) -> Result<DataDir, DurabilityError> {
        DataDir::open_with(io::real(), root)
    }

    /// [`DataDir::open`] on the file system `fs`.
    pub fn open_with(fs: Arc<dyn FileSystem>, root: &Path) -> Result<DataDir, DurabilityError> {
        for dir in [root.to_path_buf(), root.join("wal"), root.join("snapshots")] {
            fs.create_dir_all(&dir)
                .map_err(|e| DurabilityError::io(&dir, "create directory", e))?;
        }
        let lock_path = root.join(LOCK_FILE);
        let lock = fs
            .try_lock(&lock_path)
            .map_err(|e| DurabilityError::io(&lock_path, "lock", e))?
            .ok_or_else(|| DurabilityError::Locked {
                path: root.to_path_buf(),
            })?;
        let meta = root.join(META_FILE);
        let (db_id, epoch) = if fs.exists(&meta) {
            let found = read_meta(fs.as_ref(), &meta)?;
            // What was just read may be a rename the last process could not make durable
            // (its directory fsync failed), and the subdirectories may be new: make them
            // durable before anything is written that depends on them.
            sync_dir(fs.as_ref(), root)?;
            found
        } else {
            let id = Uuid::new_v4();
            write_meta(fs.as_ref(), root, id, 0)?;
            tracing::info!(database_id = %id, "new database");
            (id, 0)
        };
        Ok(DataDir {
            root: root.to_path_buf(),
            fs,
            _lock: lock,
            db_id,
            epoch,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file system the directory lives on.
    pub fn fs(&self) -> &Arc<dyn FileSystem> {
        &self.fs
    }

    pub fn wal_dir(&self) -> PathBuf {
        self.root.join("wal")
    }

    pub fn snapshot_dir(&self) -> PathBuf {
        self.root.join("snapshots")
    }

    /// Moves the epoch up to `at_least`, or one up if that is not above the current
    /// epoch, and stores it durably before returning it; files written from now on carry
    /// it. On error the epoch is unchanged.
    pub fn advance_epoch(&mut self, at_least: u64) -> Result<u64, DurabilityError> {
        let next = at_least.max(self.epoch + 1);
        write_meta(self.fs.as_ref(), &self.root, self.db_id, next)?;
        self.epoch = next;
        tracing::info!(epoch = next, "epoch advanced");
        Ok(next)
    }

    /// Moves the current WAL and snapshots into `<dir>/old-<unix seconds>/` and gives the
    /// directory a new database id, so the set-aside history can never mix with the new
    /// one. Returns where the old files went.
    pub fn set_aside(&mut self) -> Result<PathBuf, DurabilityError> {
        let fs = self.fs.as_ref();
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let aside = self.root.join(format!("old-{stamp}"));
        fs.create_dir_all(&aside)
            .map_err(|e| DurabilityError::io(&aside, "create directory", e))?;
        for name in ["wal", "snapshots"] {
            let (from, to) = (self.root.join(name), aside.join(name));
            fs.rename(&from, &to)
                .map_err(|e| DurabilityError::io(&from, "move aside", e))?;
            fs.create_dir_all(&from)
                .map_err(|e| DurabilityError::io(&from, "create directory", e))?;
        }
        let (meta, copy) = (self.root.join(META_FILE), aside.join(META_FILE));
        let bytes = fs.read(&meta).map_err(|e| DurabilityError::io(&meta, "read", e))?;
        fs.create(&copy)
            .and_then(|mut f| f.write_all(&bytes))
            .map_err(|e| DurabilityError::io(&copy, "copy", e))?;
        self.db_id = Uuid::new_v4();
        self.epoch = 0;
        write_meta(fs, &self.root, self.db_id, self.epoch)?;
        Ok(aside)
    }
}

fn read_meta(fs: &dyn FileSystem, path: &Path) -> Result<(Uuid, u64), DurabilityError> {
    let bytes = fs.read(path).map_err(|e| DurabilityError::io(path, "read", e))?;
    let bad = |problem: String| DurabilityError::BadMeta {
        path: path.to_path_buf(),
        problem,
    };
    let text = String::from_utf8(bytes).map_err(|_| bad("not UTF-8 text".to_string()))?;
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
fn write_meta(fs: &dyn FileSystem, root: &Path, id: Uuid, epoch: u64) -> Result<(), DurabilityError> {
    let tmp = root.join(format!("{META_FILE}.tmp"));
    let mut file = fs.create(&tmp).map_err(|e| DurabilityError::io(&tmp, "create", e))?;
    file.write_all(format!("id={id}\nepoch={epoch}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| DurabilityError::io(&tmp, "write", e))?;
    let path = root.join(META_FILE);
    fs.rename(&tmp, &path)
        .map_err(|e| DurabilityError::io(&path, "rename", e))?;
    sync_dir(fs, root)
}

/// Replaces the small file at `path` with `bytes` so that a crash leaves the old file or
/// the new one, never a mix: written beside it as `.<name>.new`, fsynced, renamed over it,
/// and the directory fsynced (state files of the layers above: replication's role, a
/// Raft member's vote and identity, a snapshot's meta).
pub fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let aside = dir.join(format!(".{name}.new"));
    let mut file = std::fs::File::create(&aside)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&aside, path)?;
    std::fs::File::open(dir)?.sync_all()
}

/// Removes the small file at `path`, if it is there, so that a crash cannot bring it back:
/// the directory is fsynced after (the counterpart of [`replace_file`]).
pub fn remove_file(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        removed => removed?,
    }
    std::fs::File::open(path.parent().unwrap_or(Path::new(".")))?.sync_all()
}

/// Makes a directory's entries (creations, renames, deletions) durable.
pub fn sync_dir(fs: &dyn FileSystem, dir: &Path) -> Result<(), DurabilityError> {
    fs.sync_dir(dir)
        .map_err(|e| DurabilityError::io(dir, "fsync directory", e))
}

/// The files of `dir` whose names `parse` accepts, with what it read from each name, sorted
/// by that. A missing directory has none.
pub(crate) fn list_named<T: Ord>(
    fs: &dyn FileSystem,
    dir: &Path,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<(T, PathBuf)>, DurabilityError> {
    let names = match fs.read_dir(dir) {
        Ok(names) => names,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(DurabilityError::io(dir, "list", e)),
    };
    let mut found: Vec<(T, PathBuf)> = names
        .iter()
        .filter_map(|name| Some((parse(name)?, dir.join(name))))
        .collect();
    found.sort();
    Ok(found)
}
