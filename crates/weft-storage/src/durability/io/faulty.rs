//! A fault-injecting, in-memory [`FileSystem`] for tests: fsyncs that fail, a disk that
//! fills up, and crashes that keep only what was made durable.
//!
//! Owns: a model of a disk under a page cache. Every file has the bytes written to it and
//! the bytes its last successful `sync_data`/`sync_all` made durable; every directory has
//! its current entries and the entries its last successful `sync_dir` made durable.
//! [`FaultyFs::crash`] throws the page cache away: each durable name gets back its
//! durable bytes plus, as the caller decides per file, none, a prefix (cut at any byte)
//! or a prefix followed by zeros of the unsynced bytes appended after them (the file's
//! size reached the disk before its data: a torn write). Handles opened before a crash
//! fail from then on, and locks are released.
//! Simplifications, on purpose: directories themselves (creation and renames of whole
//! directories) are durable at once; unsynced writes other than appends (a cut with
//! `set_len`) are lost whole at a crash; a crash never keeps later unsynced bytes while
//! losing earlier ones of the same file (that would read as corruption, not a torn tail).
//! Promises: deterministic (no clocks, no randomness); cheap to [`FaultyFs::fork`], so a
//! test can crash many copies of one state.

use super::{FileSystem, LockGuard, WriteFile};
use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Which fsyncs (of files and of directories, counted together from the call to
/// [`FaultyFs::fail_syncs`]) fail.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SyncFault {
    /// None fail.
    #[default]
    Never,
    /// Only the `n`th (1-based) fails.
    Nth(u64),
    /// The `n`th and every one after it fail.
    FromNth(u64),
}

/// What a crash keeps of the unsynced bytes appended to a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tail {
    /// Nothing: the file is as its last fsync left it.
    Lose,
    /// The first `n` unsynced bytes (at most all of them).
    Keep(usize),
    /// The first `n` unsynced bytes, then zeros up to the unsynced length: the size
    /// reached the disk, the rest of the data did not.
    KeepThenZeros(usize),
}

/// An in-memory file system with injected faults; clones share one disk.
#[derive(Clone, Debug, Default)]
pub struct FaultyFs {
    state: Arc<Mutex<State>>,
}

#[derive(Clone, Debug, Default)]
struct Inode {
    data: Vec<u8>,
    synced: Vec<u8>,
}

#[derive(Clone, Debug, Default)]
struct State {
    dirs: BTreeSet<PathBuf>,
    names: BTreeMap<PathBuf, u64>,
    durable_names: BTreeMap<PathBuf, u64>,
    inodes: HashMap<u64, Inode>,
    next_inode: u64,
    locks: BTreeSet<PathBuf>,
    /// Bumped by every crash: handles of an older generation are dead.
    generation: u64,
    fault: SyncFault,
    syncs_since_fault: u64,
    syncs: u64,
    capacity: Option<u64>,
}

impl FaultyFs {
    pub fn new() -> Self {
        FaultyFs::default()
    }

    /// From now on, the fsyncs `fault` names fail (with an I/O error, leaving the data
    /// unsynced).
    pub fn fail_syncs(&self, fault: SyncFault) {
        let mut state = self.state.lock();
        state.fault = fault;
        state.syncs_since_fault = 0;
    }

    /// Limits the bytes all files may hold together (`None`: unlimited). A write that
    /// does not fit writes what fits, then fails with `StorageFull` (ENOSPC).
    pub fn set_capacity(&self, bytes: Option<u64>) {
        self.state.lock().capacity = bytes;
    }

    /// Bytes the files hold now.
    pub fn used(&self) -> u64 {
        self.state.lock().used()
    }

    /// Successful and failed fsyncs since creation.
    pub fn syncs(&self) -> u64 {
        self.state.lock().syncs
    }

    /// An independent copy of this disk, page cache included.
    pub fn fork(&self) -> FaultyFs {
        let copy = self.state.lock().clone();
        FaultyFs {
            state: Arc::new(Mutex::new(copy)),
        }
    }

    /// The files whose names are durable and that have unsynced bytes appended, with how
    /// many: the places where a crash can cut.
    pub fn unsynced(&self) -> Vec<(PathBuf, usize)> {
        let state = self.state.lock();
        let mut out = Vec::new();
        for (path, ino) in &state.durable_names {
            let n = state.inodes.get(ino).map_or(0, |i| i.appended().len());
            if n > 0 {
                out.push((path.clone(), n));
            }
        }
        out
    }

    /// Simulates a power loss: only durable names remain, each with its durable bytes and
    /// what `tail(path, unsynced_len)` keeps of its unsynced appended bytes. Earlier
    /// handles and locks die; faults and the capacity stay as set.
    pub fn crash(&self, tail: impl Fn(&Path, usize) -> Tail) {
        let mut state = self.state.lock();
        let names = state.durable_names.clone();
        let mut inodes = HashMap::new();
        for (path, ino) in &names {
            let Some(inode) = state.inodes.get(ino) else { continue };
            let appended = inode.appended();
            let mut data = inode.synced.clone();
            match tail(path, appended.len()) {
                Tail::Lose => {}
                Tail::Keep(n) => data.extend_from_slice(&appended[..n.min(appended.len())]),
                Tail::KeepThenZeros(n) => {
                    data.extend_from_slice(&appended[..n.min(appended.len())]);
                    data.resize(inode.synced.len() + appended.len(), 0);
                }
            }
            let synced = data.clone();
            inodes.insert(*ino, Inode { data, synced });
        }
        state.names = names;
        state.inodes = inodes;
        state.locks.clear();
        state.generation += 1;
    }

    /// A crash that loses every unsynced byte.
    pub fn crash_losing_unsynced(&self) {
        self.crash(|_, _| Tail::Lose);
    }

    fn handle(&self, ino: u64) -> Box<dyn WriteFile> {
        let generation = self.state.lock().generation;
        Box::new(MemFile {
            fs: self.clone(),
            ino,
            generation,
        })
    }

    /// Creates (or empties) the file at `path`, refusing if `new` and it exists.
    fn make(&self, path: &Path, new: bool) -> io::Result<Box<dyn WriteFile>> {
        let mut state = self.state.lock();
        state.parent_exists(path)?;
        if let Some(&ino) = state.names.get(path) {
            if new {
                return Err(io::Error::new(io::ErrorKind::AlreadyExists, "file exists"));
            }
            if let Some(inode) = state.inodes.get_mut(&ino) {
                inode.data.clear();
            }
            drop(state);
            return Ok(self.handle(ino));
        }
        let ino = state.next_inode;
        state.next_inode += 1;
        state.inodes.insert(ino, Inode::default());
        state.names.insert(path.to_path_buf(), ino);
        drop(state);
        Ok(self.handle(ino))
    }
}

impl Inode {
    /// The bytes appended after the durable ones (none if the file was cut since).
    fn appended(&self) -> &[u8] {
        match self.data.strip_prefix(self.synced.as_slice()) {
            Some(rest) => rest,
            None => &[],
        }
    }
}

fn not_found() -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, "no such file or directory")
}

impl State {
    fn used(&self) -> u64 {
        let live: BTreeSet<u64> = self.names.values().copied().collect();
        live.iter()
            .filter_map(|ino| self.inodes.get(ino))
            .map(|i| i.data.len() as u64)
            .sum()
    }

    fn parent_exists(&self, path: &Path) -> io::Result<()> {
        match path.parent() {
            Some(p) if !p.as_os_str().is_empty() && !self.dirs.contains(p) => Err(not_found()),
            _ => Ok(()),
        }
    }

    /// Counts an fsync and tells whether it fails.
    fn sync_fails(&mut self) -> bool {
        self.syncs += 1;
        self.syncs_since_fault += 1;
        match self.fault {
            SyncFault::Never => false,
            SyncFault::Nth(n) => self.syncs_since_fault == n,
            SyncFault::FromNth(n) => self.syncs_since_fault >= n,
        }
    }

    fn file(&self, path: &Path) -> io::Result<&Inode> {
        let ino = self.names.get(path).ok_or_else(not_found)?;
        self.inodes.get(ino).ok_or_else(not_found)
    }
}

fn injected_sync_failure() -> io::Error {
    io::Error::other("input/output error (injected fsync failure)")
}

/// A handle on one in-memory file.
#[derive(Debug)]
struct MemFile {
    fs: FaultyFs,
    ino: u64,
    generation: u64,
}

impl MemFile {
    fn with<T>(&mut self, f: impl FnOnce(&mut State, u64) -> io::Result<T>) -> io::Result<T> {
        let mut state = self.fs.state.lock();
        if state.generation != self.generation {
            return Err(io::Error::other("the file system crashed since this file was opened"));
        }
        f(&mut state, self.ino)
    }

    fn sync(&mut self) -> io::Result<()> {
        self.with(|state, ino| {
            if state.sync_fails() {
                return Err(injected_sync_failure());
            }
            let inode = state.inodes.get_mut(&ino).ok_or_else(not_found)?;
            inode.synced = inode.data.clone();
            Ok(())
        })
    }
}

impl WriteFile for MemFile {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.with(|state, ino| {
            let room = state.capacity.map_or(u64::MAX, |cap| cap.saturating_sub(state.used()));
            let fits = bytes.len().min(usize::try_from(room).unwrap_or(usize::MAX));
            let inode = state.inodes.get_mut(&ino).ok_or_else(not_found)?;
            inode.data.extend_from_slice(&bytes[..fits]);
            if fits < bytes.len() {
                return Err(io::Error::new(
                    io::ErrorKind::StorageFull,
                    "no space left on device (injected disk full)",
                ));
            }
            Ok(())
        })
    }

    fn sync_data(&mut self) -> io::Result<()> {
        self.sync()
    }

    fn sync_all(&mut self) -> io::Result<()> {
        self.sync()
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.with(|state, ino| {
            let inode = state.inodes.get_mut(&ino).ok_or_else(not_found)?;
            inode.data.resize(usize::try_from(len).unwrap_or(usize::MAX), 0);
            Ok(())
        })
    }
}

/// The lock on one path of a [`FaultyFs`].
#[derive(Debug)]
struct MemLock {
    fs: FaultyFs,
    path: PathBuf,
    generation: u64,
}

impl LockGuard for MemLock {}

impl Drop for MemLock {
    fn drop(&mut self) {
        let mut state = self.fs.state.lock();
        if state.generation == self.generation {
            state.locks.remove(&self.path);
        }
    }
}

impl FileSystem for FaultyFs {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let mut state = self.state.lock();
        for ancestor in dir.ancestors().filter(|a| !a.as_os_str().is_empty()) {
            state.dirs.insert(ancestor.to_path_buf());
        }
        Ok(())
    }

    fn is_dir(&self, path: &Path) -> bool {
        self.state.lock().dirs.contains(path)
    }

    fn exists(&self, path: &Path) -> bool {
        let state = self.state.lock();
        state.dirs.contains(path) || state.names.contains_key(path)
    }

    fn read_dir(&self, dir: &Path) -> io::Result<Vec<String>> {
        let state = self.state.lock();
        if !state.dirs.contains(dir) {
            return Err(not_found());
        }
        let children = state.names.keys().chain(state.dirs.iter());
        let names = children
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
            .collect();
        Ok(names)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut state = self.state.lock();
        if !state.dirs.contains(dir) {
            return Err(not_found());
        }
        if state.sync_fails() {
            return Err(injected_sync_failure());
        }
        state.durable_names.retain(|p, _| p.parent() != Some(dir));
        let current: Vec<(PathBuf, u64)> = state
            .names
            .iter()
            .filter(|(p, _)| p.parent() == Some(dir))
            .map(|(p, i)| (p.clone(), *i))
            .collect();
        state.durable_names.extend(current);
        Ok(())
    }

    fn create_new(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        self.make(path, true)
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        self.make(path, false)
    }

    fn open_write(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        let ino = *self.state.lock().names.get(path).ok_or_else(not_found)?;
        Ok(self.handle(ino))
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        Ok(self.state.lock().file(path)?.data.clone())
    }

    fn read_at(&self, path: &Path, offset: u64, len: u64) -> io::Result<Vec<u8>> {
        let state = self.state.lock();
        let data = &state.file(path)?.data;
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(data.len());
        let end = start
            .saturating_add(usize::try_from(len).unwrap_or(usize::MAX))
            .min(data.len());
        Ok(data[start..end].to_vec())
    }

    fn len(&self, path: &Path) -> io::Result<u64> {
        Ok(self.state.lock().file(path)?.data.len() as u64)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut state = self.state.lock();
        state.parent_exists(to)?;
        if let Some(ino) = state.names.remove(from) {
            state.names.insert(to.to_path_buf(), ino);
            return Ok(());
        }
        if !state.dirs.contains(from) {
            return Err(not_found());
        }
        // A whole directory moves at once, durably (see the module's simplifications).
        let moved = |p: &PathBuf| match p.strip_prefix(from) {
            Ok(rest) => to.join(rest),
            Err(_) => p.clone(),
        };
        state.dirs = state.dirs.iter().map(moved).collect();
        state.names = state.names.iter().map(|(p, i)| (moved(p), *i)).collect();
        state.durable_names = state.durable_names.iter().map(|(p, i)| (moved(p), *i)).collect();
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.state.lock().names.remove(path).map(|_| ()).ok_or_else(not_found)
    }

    fn try_lock(&self, path: &Path) -> io::Result<Option<Box<dyn LockGuard>>> {
        let mut state = self.state.lock();
        state.parent_exists(path)?;
        if !state.locks.insert(path.to_path_buf()) {
            return Ok(None);
        }
        let generation = state.generation;
        Ok(Some(Box::new(MemLock {
            fs: self.clone(),
            path: path.to_path_buf(),
            generation,
        })))
    }
}
