//! File chores of the WAL writer, each through the [`FileSystem`] seam: creating the
//! directory, creating a segment durably, repairing the newest segment on open, cutting
//! a segment, and clearing half-created segments.
//!
//! Promises: a segment appears under its final name only once its header is durable;
//! every cut and removal is fsynced (file, then directory) before it returns.

use super::segment::scan;
use super::WalOptions;
use crate::durability::data_dir::sync_dir;
use crate::durability::error::DurabilityError;
use crate::durability::header::{FileHeader, HEADER_LEN};
use crate::durability::io::{FileSystem, WriteFile};
use std::path::Path;

/// Checks the newest segment for appending: truncates a torn tail, removes a segment with
/// no records, and fsyncs a segment it keeps; returns the newest timestamp it holds.
///
/// The fsync matters: when the last process's fsync failed, its records may still sit in
/// the page cache, where recovery has just read them. They must reach the disk before
/// anything is written after them, or a crash would leave a torn frame in a segment that
/// is no longer the newest (corruption, not a torn tail) and lose commits the database
/// has already served.
pub(super) fn repair_newest(
    fs: &dyn FileSystem,
    path: &Path,
    options: &WalOptions,
) -> Result<Option<u64>, DurabilityError> {
    let bytes = fs.read(path).map_err(|e| DurabilityError::io(path, "read", e))?;
    let scanned = scan(path, &bytes, options.db_id)?;
    if let Some(d) = scanned.damage {
        let (file, offset, problem) = (path.display(), d.offset, d.problem);
        if d.torn {
            tracing::warn!(%file, offset, %problem, "truncating the torn tail of the newest WAL segment");
            truncate(fs, path, scanned.valid_len)?;
        } else if options.skip_corrupt {
            tracing::warn!(%file, offset, %problem, "leaving a corrupt WAL segment behind (skip_corrupt)");
        } else {
            let path = path.to_path_buf();
            return Err(DurabilityError::Corrupt { path, offset, problem });
        }
    }
    let last = scanned.records.last().map(|(ts, _)| *ts);
    if last.is_none() && scanned.damage.is_none_or(|d| d.torn) {
        remove_durably(fs, path)?;
    } else if !scanned.damage.is_some_and(|d| d.torn) {
        sync_file(fs, path)?;
    }
    Ok(last)
}

/// Fsyncs the file at `path`.
fn sync_file(fs: &dyn FileSystem, path: &Path) -> Result<(), DurabilityError> {
    fs.open_write(path)
        .and_then(|mut file| file.sync_all())
        .map_err(|e| DurabilityError::io(path, "fsync", e))
}

/// Cuts the file at `path` to `len` bytes and fsyncs it.
pub(super) fn truncate(fs: &dyn FileSystem, path: &Path, len: u64) -> Result<(), DurabilityError> {
    let mut file = fs.open_write(path).map_err(|e| DurabilityError::io(path, "open", e))?;
    file.set_len(len)
        .and_then(|()| file.sync_all())
        .map_err(|e| DurabilityError::io(path, "truncate", e))
}

/// Removes `path` and fsyncs its directory.
pub(super) fn remove_durably(fs: &dyn FileSystem, path: &Path) -> Result<(), DurabilityError> {
    fs.remove_file(path)
        .map_err(|e| DurabilityError::io(path, "remove", e))?;
    sync_dir(fs, path.parent().unwrap_or(Path::new(".")))
}

/// Creates `path` holding `header` so that it appears under its name only once durable:
/// written to `*.tmp`, fsynced, renamed (the caller fsyncs the directory).
pub(super) fn create_durably(
    fs: &dyn FileSystem,
    path: &Path,
    header: &FileHeader,
) -> Result<Box<dyn WriteFile>, DurabilityError> {
    let tmp = path.with_extension("log.tmp");
    let mut file = fs
        .create_new(&tmp)
        .map_err(|e| DurabilityError::io(&tmp, "create", e))?;
    let bytes: [u8; HEADER_LEN] = header.encode();
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| DurabilityError::io(&tmp, "write header of", e))?;
    fs.rename(&tmp, path)
        .map_err(|e| DurabilityError::io(path, "rename into place", e))?;
    Ok(file)
}

/// Creates `dir` (and parents) durably if it is missing.
pub(super) fn create_dir(fs: &dyn FileSystem, dir: &Path) -> Result<(), DurabilityError> {
    if fs.is_dir(dir) {
        return Ok(());
    }
    fs.create_dir_all(dir)
        .map_err(|e| DurabilityError::io(dir, "create directory", e))?;
    sync_dir(fs, dir)?;
    match dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => sync_dir(fs, parent),
        None => Ok(()),
    }
}

/// Removes segment files a crash left half-created.
pub(super) fn remove_temporaries(fs: &dyn FileSystem, dir: &Path) -> Result<(), DurabilityError> {
    let names = fs.read_dir(dir).map_err(|e| DurabilityError::io(dir, "list", e))?;
    for name in names {
        if name.starts_with("wal-") && name.ends_with(".log.tmp") {
            let path = dir.join(&name);
            fs.remove_file(&path)
                .map_err(|e| DurabilityError::io(&path, "remove", e))?;
        }
    }
    Ok(())
}
