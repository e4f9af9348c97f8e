//! Streamed transfer of durability files (WAL segments, snapshots) between nodes.
//!
//! Owns: the chunking of a file into `FileChunk`s on the sending side ([`send`]) and their
//! checked, durable landing on the receiving side ([`receive`]).
//!
//! Promises: every chunk's data is covered by a CRC-32C and the whole file by another;
//! offsets must follow on without gaps; the receiver writes to a hidden `.part` file,
//! fsyncs it, renames it to its name and fsyncs the directory, so a file under its final
//! name is always whole. Each transfer writes its own part file (two transfers of one
//! name never share one), and a file of that name already there is not replaced. A name
//! that is not a plain file name (a path, `..`, hidden) is refused, as is a file larger
//! than the receiver allows. On any failure, the sender going away included, the part
//! file is removed.

use std::io;
use std::path::{Path, PathBuf};

use tokio::fs::{self, File, OpenOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::Status;

use crate::{pb, Identity};

/// Bytes of file data per chunk.
pub const CHUNK_SIZE: usize = 256 * 1024;

/// What was sent: the bytes and their checksum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    pub size: u64,
    pub crc32c: u32,
}

/// A file being read: the chunks to hand to the client call, and the reader's outcome.
pub struct Outgoing {
    pub chunks: ReceiverStream<pb::FileChunk>,
    pub reader: JoinHandle<io::Result<Sent>>,
}

/// Reads `path` (its first `limit` bytes, when given: the flushed part of a file still
/// being written) into chunks named `name`. If reading fails the stream ends without its
/// last chunk, so the receiver discards what it got, and `reader` says why.
pub fn send(path: PathBuf, name: String, header: pb::Header, limit: Option<u64>) -> Outgoing {
    let (tx, rx) = mpsc::channel(4);
    let reader = tokio::spawn(async move {
        let mut file = File::open(&path).await?;
        let mut remaining = match limit {
            Some(limit) => limit,
            None => file.metadata().await?.len(),
        };
        let (mut offset, mut crc) = (0u64, 0u32);
        let mut header = Some(header);
        loop {
            let want = remaining.min(CHUNK_SIZE as u64) as usize;
            let mut data = vec![0; want];
            file.read_exact(&mut data).await?;
            crc = crc32c::crc32c_append(crc, &data);
            remaining -= want as u64;
            let last = remaining == 0;
            let chunk = pb::FileChunk {
                header: header.take(),
                name: if offset == 0 { name.clone() } else { String::new() },
                offset,
                crc32c: crc32c::crc32c(&data),
                data,
                last,
                file_crc32c: if last { crc } else { 0 },
            };
            offset += want as u64;
            if tx.send(chunk).await.is_err() {
                return Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the receiver stopped taking chunks",
                ));
            }
            if last {
                return Ok(Sent {
                    size: offset,
                    crc32c: crc,
                });
            }
        }
    });
    Outgoing {
        chunks: ReceiverStream::new(rx),
        reader,
    }
}

/// A file received whole and durable under `path`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub name: String,
    pub path: PathBuf,
    pub size: u64,
    pub crc32c: u32,
    pub sender: Identity,
}

impl Received {
    /// The receipt the sender gets back.
    pub fn receipt(&self, local: &Identity, receiver: &str) -> pb::FileReceipt {
        pb::FileReceipt {
            header: Some(local.header(receiver)),
            name: self.name.clone(),
            size: self.size,
            crc32c: self.crc32c,
        }
    }
}

/// Longest name accepted: the part file adds 23 bytes and a file name has at most 255.
pub const MAX_NAME: usize = 232;

/// Whether `name` is a plain file name: not empty, no path separator, not hidden (which
/// also rules out `.` and `..`), no NUL, at most [`MAX_NAME`] bytes.
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_NAME && !name.starts_with('.') && !name.contains(['/', '\\', '\0'])
}

/// Receives one file from `chunks` into `dir`, refusing a sender of another database and a
/// file of more than `max_size` bytes.
pub async fn receive<S>(mut chunks: S, dir: &Path, local: &Identity, max_size: u64) -> Result<Received, Status>
where
    S: Stream<Item = Result<pb::FileChunk, Status>> + Unpin,
{
    let first = chunks
        .next()
        .await
        .ok_or_else(|| Status::invalid_argument("the file stream is empty"))??;
    let (sender, _) = local.check(first.header.as_ref())?;
    let name = first.name.clone();
    if !is_plain_name(&name) {
        return Err(Status::invalid_argument(format!("`{name}` is not a plain file name")));
    }
    if fs::try_exists(dir.join(&name)).await.unwrap_or(true) {
        return Err(Status::already_exists(format!("`{name}` is already here")));
    }
    let part_path = PartFile::path_for(dir, &name);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&part_path)
        .await
        .map_err(|e| io_status("create", &part_path, e))?;
    // Ours from here on: removed on every way out but landing.
    let part = PartFile { path: part_path };
    let (size, crc32c) = write_chunks(&mut file, first, &mut chunks, max_size, &name).await?;
    let path = land(file, part, dir, &name).await?;
    Ok(Received {
        name,
        path,
        size,
        crc32c,
        sender,
    })
}

/// A transfer's own part file, removed when dropped (once landed, the file lives on under
/// its name, a second link to the same data).
struct PartFile {
    path: PathBuf,
}

impl PartFile {
    /// A fresh part file path for `name` in `dir`.
    fn path_for(dir: &Path, name: &str) -> PathBuf {
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        hasher.write_u128(now.map_or(0, |d| d.as_nanos()));
        dir.join(format!(".{name}.{:016x}.part", hasher.finish()))
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Writes the chunks (the first one already read) and checks them; the size and CRC of
/// the whole file.
async fn write_chunks<S>(
    file: &mut File,
    first: pb::FileChunk,
    chunks: &mut S,
    max_size: u64,
    name: &str,
) -> Result<(u64, u32), Status>
where
    S: Stream<Item = Result<pb::FileChunk, Status>> + Unpin,
{
    let (mut size, mut crc) = (0u64, 0u32);
    let mut chunk = first;
    loop {
        if chunk.offset != size {
            return Err(Status::data_loss(format!(
                "`{name}`: a chunk starts at byte {} where byte {size} was expected",
                chunk.offset
            )));
        }
        if crc32c::crc32c(&chunk.data) != chunk.crc32c {
            return Err(Status::data_loss(format!(
                "`{name}`: the chunk at byte {size} fails its checksum"
            )));
        }
        if !chunk.name.is_empty() && chunk.name != name {
            return Err(Status::invalid_argument(format!(
                "a chunk of `{name}` names another file, `{}`",
                chunk.name
            )));
        }
        size += chunk.data.len() as u64;
        if size > max_size {
            return Err(Status::resource_exhausted(format!(
                "`{name}` is larger than the {max_size} bytes this node takes"
            )));
        }
        crc = crc32c::crc32c_append(crc, &chunk.data);
        file.write_all(&chunk.data)
            .await
            .map_err(|e| Status::internal(format!("writing `{name}`: {e}")))?;
        if chunk.last {
            if chunk.file_crc32c != crc {
                return Err(Status::data_loss(format!("`{name}` fails its whole-file checksum")));
            }
            return Ok((size, crc));
        }
        chunk = match chunks.next().await {
            Some(next) => next?,
            None => {
                return Err(Status::data_loss(format!(
                    "the stream of `{name}` ended at byte {size}, before its last chunk"
                )))
            }
        };
    }
}

/// Makes the part file durable and gives it its name.
async fn land(mut file: File, part: PartFile, dir: &Path, name: &str) -> Result<PathBuf, Status> {
    file.flush().await.map_err(|e| io_status("flush", &part.path, e))?;
    file.sync_all().await.map_err(|e| io_status("fsync", &part.path, e))?;
    drop(file);
    // A hard link fails if the name is taken, where a rename would replace the file; the
    // part file is then removed by its guard.
    let path = dir.join(name);
    fs::hard_link(&part.path, &path).await.map_err(|e| match e.kind() {
        io::ErrorKind::AlreadyExists => Status::already_exists(format!("`{name}` is already here")),
        _ => io_status("link", &part.path, e),
    })?;
    drop(part);
    let directory = File::open(dir).await.map_err(|e| io_status("open", dir, e))?;
    directory.sync_all().await.map_err(|e| io_status("fsync", dir, e))?;
    Ok(path)
}

fn io_status(action: &str, path: &Path, error: io::Error) -> Status {
    Status::internal(format!("cannot {action} `{}`: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_are_accepted() {
        for good in ["wal-000001.log", "snapshot_42", "a"] {
            assert!(is_plain_name(good), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "a\\b",
            ".hidden",
            "a\0b",
            &"x".repeat(MAX_NAME + 1),
        ] {
            assert!(!is_plain_name(bad), "{bad:?}");
        }
    }
}
