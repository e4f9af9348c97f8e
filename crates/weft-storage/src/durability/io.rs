//! The file-system seam under durability: every file operation of the durability layer
//! goes through a [`FileSystem`], so that tests can swap the disk for one that fails or
//! "crashes" on demand ([`faulty::FaultyFs`]).
//!
//! Owns: the [`FileSystem`] and [`WriteFile`] traits (only the operations durability
//! uses), [`RealFs`] over `std::fs` (the production default), and the fault-injecting
//! in-memory file system in [`faulty`].
//! Promises to the layer above: [`RealFs`] does exactly what the durability code did with
//! `std::fs` before the seam existed; an implementation's `sync_*` calls are the only
//! thing that makes data (file handles) or names (directories) survive a crash.
//! Needs from below: a POSIX-like file system.

mod direct;
pub mod faulty;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;

/// A file open for writing. Writes go to the end of the file (durability files are only
/// ever appended to, or cut with [`WriteFile::set_len`]).
pub trait WriteFile: Send + std::fmt::Debug {
    /// Appends all of `bytes`; on error some prefix of them may have been written.
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Makes the file's data durable (`fdatasync`).
    fn sync_data(&mut self) -> io::Result<()>;
    /// Makes the file's data and metadata durable (`fsync`).
    fn sync_all(&mut self) -> io::Result<()>;
    /// Cuts (or extends with zeros) the file to `len` bytes; later writes go after it.
    fn set_len(&mut self, len: u64) -> io::Result<()>;
}

/// Held while a data directory is locked; dropping it releases the lock.
pub trait LockGuard: Send + Sync + std::fmt::Debug {}

/// The file operations durability needs. Errors are plain [`io::Error`]s; callers add
/// the path and action.
pub trait FileSystem: Send + Sync + std::fmt::Debug {
    /// Creates `dir` and its missing parents.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// True if `path` names an existing directory.
    fn is_dir(&self, path: &Path) -> bool;
    /// True if `path` names an existing file or directory.
    fn exists(&self, path: &Path) -> bool;
    /// The names of the entries of `dir` (any order); `NotFound` if it is missing.
    fn read_dir(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// Makes the creations, renames and removals in `dir` durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Creates a new, empty file; `AlreadyExists` if there is one.
    fn create_new(&self, path: &Path) -> io::Result<Box<dyn WriteFile>>;
    /// Creates a file, emptying it if it exists.
    fn create(&self, path: &Path) -> io::Result<Box<dyn WriteFile>>;
    /// Like [`FileSystem::create`], for one long sequential write that should leave no
    /// dirty pages behind (a snapshot): [`RealFs`] writes it with `O_DIRECT` where the
    /// file system allows (`io/direct.rs`). Such a file is only appended to.
    fn create_streaming(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        self.create(path)
    }
    /// Opens an existing file for writing at its end.
    fn open_write(&self, path: &Path) -> io::Result<Box<dyn WriteFile>>;
    /// The whole content of a file.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Up to `len` bytes of a file from `offset` (fewer at its end).
    fn read_at(&self, path: &Path, offset: u64, len: u64) -> io::Result<Vec<u8>>;
    /// The size of a file in bytes.
    fn len(&self, path: &Path) -> io::Result<u64>;
    /// Renames a file or directory, replacing a file at `to`.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Removes a file.
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Takes the exclusive lock on the file `path` (created if missing): `Ok(None)` when
    /// another holder has it.
    fn try_lock(&self, path: &Path) -> io::Result<Option<Box<dyn LockGuard>>>;
}

/// The production file system: `std::fs`.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealFs;

/// The default file system, shared.
pub fn real() -> Arc<dyn FileSystem> {
    Arc::new(RealFs)
}

#[derive(Debug)]
struct RealFile(File);

impl WriteFile for RealFile {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.0.write_all(bytes)
    }

    fn sync_data(&mut self) -> io::Result<()> {
        self.0.sync_data()
    }

    fn sync_all(&mut self) -> io::Result<()> {
        self.0.sync_all()
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.0.set_len(len)?;
        self.0.seek(SeekFrom::Start(len)).map(|_| ())
    }
}

#[derive(Debug)]
struct RealLock(#[allow(dead_code)] File);

impl LockGuard for RealLock {}

impl FileSystem for RealFs {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir)
    }

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }

    fn read_dir(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(dir)? {
            if let Ok(name) = entry?.file_name().into_string() {
                names.push(name);
            }
        }
        Ok(names)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }

    fn create_streaming(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        direct::create(path)
    }

    fn create_new(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        let file = OpenOptions::new().write(true).create_new(true).open(path)?;
        Ok(Box::new(RealFile(file)))
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        Ok(Box::new(RealFile(File::create(path)?)))
    }

    fn open_write(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        let mut file = OpenOptions::new().write(true).open(path)?;
        file.seek(SeekFrom::End(0))?;
        Ok(Box::new(RealFile(file)))
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        fs::read(path)
    }

    fn read_at(&self, path: &Path, offset: u64, len: u64) -> io::Result<Vec<u8>> {
        let mut file = File::open(path)?;
        file.seek(SeekFrom::Start(offset))?;
        let mut bytes = Vec::new();
        file.take(len).read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    fn len(&self, path: &Path) -> io::Result<u64> {
        Ok(fs::metadata(path)?.len())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    fn try_lock(&self, path: &Path) -> io::Result<Option<Box<dyn LockGuard>>> {
        let file = OpenOptions::new().create(true).truncate(false).write(true).open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Box::new(RealLock(file)))),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(e),
        }
    }
}
