//! Writing a snapshot: one snapshot-isolation transaction reads the graph while commits go
//! on; worker threads encode ranges of vertex ids into frames that are written in order.
//!
//! Promises: the snapshot's timestamp is the transaction's start timestamp, and the
//! schema written is exactly the one in force at it (the transaction begins under the
//! commit lock, which every DDL change holds until it is published); the file appears
//! under its final name only once complete and fsynced.

use super::codec::{self, kind, Batcher, Footer};
use super::{snapshot_name, SnapshotInfo};
use crate::ddl::{ConstraintInfo, IndexInfo};
use crate::delta::IsolationLevel;
use crate::durability::data_dir::sync_dir;
use crate::durability::error::DurabilityError;
use crate::durability::header::{FileHeader, FileKind};
use crate::durability::io::{self, FileSystem, WriteFile};
use crate::names::NameMapper;
use crate::record::{CommitRecord, DdlOp};
use crate::storage::{Inner, Storage};
use crate::txn::Transaction;
use crate::vertex::Direction;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::Ordering;
use uuid::Uuid;
use weft_common::encoding::{put_bytes, put_str, put_varint};
use weft_common::Gid;

/// Vertex ids one worker encodes at a time.
const CHUNK_IDS: u64 = super::BATCH as u64;

/// Writes a snapshot of `storage` at its newest visible commit into `dir` (created if
/// missing), as `snapshot-{ts:020}.snap`, replacing a snapshot of the same timestamp.
pub fn write_snapshot(storage: &Storage, dir: &Path, db_id: Uuid, epoch: u64) -> Result<SnapshotInfo, DurabilityError> {
    write_snapshot_with(io::real().as_ref(), storage, dir, db_id, epoch)
}

/// [`write_snapshot`] on the file system `fs`.
pub fn write_snapshot_with(
    fs: &dyn FileSystem,
    storage: &Storage,
    dir: &Path,
    db_id: Uuid,
    epoch: u64,
) -> Result<SnapshotInfo, DurabilityError> {
    write_snapshot_then(fs, storage, dir, db_id, epoch, || ())
}

/// [`write_snapshot_with`], calling `begun` once the snapshot's transaction has begun
/// (the commit lock is free again) and before the long scan: the durability manager's
/// writer thread lowers its own priority there, never while holding the lock.
pub(crate) fn write_snapshot_then(
    fs: &dyn FileSystem,
    storage: &Storage,
    dir: &Path,
    db_id: Uuid,
    epoch: u64,
    begun: impl FnOnce(),
) -> Result<SnapshotInfo, DurabilityError> {
    let (txn, schema) = begin_consistent(storage);
    begun();
    let ts = txn.start_ts();
    // Read after the transaction began: at least every id any object it sees carries.
    let counters = [
        storage.inner.vertices.high_water(),
        storage.inner.next_edge.load(Ordering::Acquire),
    ];
    fs.create_dir_all(dir)
        .map_err(|e| DurabilityError::io(dir, "create", e))?;
    let path = dir.join(snapshot_name(ts));
    let tmp = dir.join(format!("{}.tmp", snapshot_name(ts)));
    let header = header_for(db_id, epoch, ts);
    let written = write_file(fs, storage, txn, &schema, counters, &tmp, header);
    let (footer, bytes) = match written {
        Ok(done) => done,
        Err(e) => {
            // A partial temporary file is of no use to anyone.
            let _ = fs.remove_file(&tmp);
            return Err(e);
        }
    };
    fs.rename(&tmp, &path)
        .map_err(|e| DurabilityError::io(&tmp, "rename", e))?;
    sync_dir(fs, dir)?;
    tracing::info!(path = %path.display(), ts, vertices = footer.vertices, edges = footer.edges, bytes, "snapshot written");
    Ok(SnapshotInfo {
        path,
        ts,
        epoch,
        vertices: footer.vertices,
        edges: footer.edges,
        bytes,
    })
}

fn header_for(db_id: Uuid, epoch: u64, ts: u64) -> FileHeader {
    FileHeader {
        kind: FileKind::Snapshot,
        version: FileKind::Snapshot.version(),
        db_id,
        epoch,
        from_ts: ts,
        to_ts: Some(ts),
    }
}

/// Writes and fsyncs the whole file at `tmp`; returns its footer and size.
fn write_file(
    fs: &dyn FileSystem,
    storage: &Storage,
    txn: Transaction,
    schema: &[DdlOp],
    counters: [u64; 2],
    tmp: &Path,
    header: FileHeader,
) -> Result<(Footer, u64), DurabilityError> {
    let file = fs
        .create_streaming(tmp)
        .map_err(|e| DurabilityError::io(tmp, "create", e))?;
    let mut out = Out {
        file,
        buffer: Vec::with_capacity(BUFFER),
        written: 0,
        path: tmp,
        frames: 0,
    };
    out.raw(&header.encode())?;
    out.frame(&encode_schema(schema))?;
    out.frame(&encode_counters(counters))?;
    let written = write_objects(&txn, counters[0], &mut |bytes| out.raw(bytes))?;
    drop(txn);
    out.frame(&encode_names(&storage.inner))?;
    let footer = Footer {
        vertices: written.vertices,
        edges: written.edges,
        frames: out.frames + written.frames,
    };
    out.frame(&codec::encode_footer(&footer))?;
    Ok((footer, out.finish()?))
}

/// Begins the reading transaction together with the schema at its start timestamp.
fn begin_consistent(storage: &Storage) -> (Transaction, Vec<DdlOp>) {
    let _serial = storage.inner.commit_lock.lock();
    let txn = storage.begin(IsolationLevel::SnapshotIsolation);
    let mut ddl: Vec<DdlOp> = storage
        .index_info()
        .into_iter()
        .map(|i| match i {
            IndexInfo::Label(l) => DdlOp::CreateLabelIndex(l),
            IndexInfo::LabelProperty(l, p) => DdlOp::CreateLabelPropertyIndex(l, p),
            IndexInfo::EdgeType(t) => DdlOp::CreateEdgeTypeIndex(t),
        })
        .collect();
    ddl.extend(storage.constraint_info().into_iter().map(|c| match c {
        ConstraintInfo::Exists(l, p) => DdlOp::CreateExistenceConstraint(l, p),
        ConstraintInfo::Unique(l, ps) => DdlOp::CreateUniqueConstraint(l, ps),
    }));
    (txn, ddl)
}

fn encode_schema(ddl: &[DdlOp]) -> Vec<u8> {
    let mut buf = vec![kind::SCHEMA];
    put_varint(&mut buf, ddl.len() as u64);
    for op in ddl {
        put_bytes(&mut buf, &CommitRecord::Ddl { ts: 0, op: op.clone() }.encode());
    }
    buf
}

fn encode_counters(counters: [u64; 2]) -> Vec<u8> {
    let mut buf = vec![kind::COUNTERS];
    counters.iter().for_each(|c| put_varint(&mut buf, *c));
    buf
}

/// Every interned name, in id order: taken after the objects were read, so it covers
/// every id they carry.
fn encode_names(inner: &Inner) -> Vec<u8> {
    let mut buf = vec![kind::NAMES];
    for names in [&inner.labels, &inner.edge_types, &inner.properties] {
        let all = all_names(names);
        put_varint(&mut buf, all.len() as u64);
        all.iter().for_each(|n| put_str(&mut buf, n));
    }
    buf
}

/// The names of ids `0..`: an id is interned exactly when its name looks up to it.
fn all_names(names: &NameMapper) -> Vec<String> {
    let mut out = Vec::new();
    for id in 0u32.. {
        let name = names.name(id);
        if names.lookup(&name) != Some(id) {
            break;
        }
        out.push(name);
    }
    out
}

/// What the object frames of a range of vertex ids came to.
#[derive(Default)]
struct Encoded {
    bytes: Vec<u8>,
    vertices: u64,
    edges: u64,
    frames: u64,
}

/// Encodes every vertex (with its edges) below `high_water` that `txn` sees, in
/// chunks of ids encoded by parallel workers, and hands the frames to `sink` in id order.
fn write_objects(
    txn: &Transaction,
    high_water: u64,
    sink: &mut dyn FnMut(&[u8]) -> Result<(), DurabilityError>,
) -> Result<Encoded, DurabilityError> {
    let chunks: Vec<Range<u64>> = (0..high_water.div_ceil(CHUNK_IDS))
        .map(|i| i * CHUNK_IDS..((i + 1) * CHUNK_IDS).min(high_water))
        .collect();
    // One core is left to the committers: measured on 2 cores, two encoders (even at the
    // idle scheduling policy) tripled the p99 of concurrent commits, one did not.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = (cores - 1).clamp(1, 8);
    let mut total = Encoded::default();
    for wave in chunks.chunks(workers) {
        let results: Vec<Result<Encoded, DurabilityError>> = if wave.len() == 1 {
            vec![encode_range(txn, wave[0].clone())]
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = wave.iter().map(|r| s.spawn(|| encode_range(txn, r.clone()))).collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                    .collect()
            })
        };
        for part in results {
            let part = part?;
            sink(&part.bytes)?;
            total.vertices += part.vertices;
            total.edges += part.edges;
            total.frames += part.frames;
        }
    }
    Ok(total)
}

/// Encodes the vertices of one id range, each with both its adjacency lists (an edge's
/// properties once, from its source's side): graph frames, then edge property frames, then
/// the continuations of lists longer than [`codec::LIST_CAP`].
fn encode_range(txn: &Transaction, ids: Range<u64>) -> Result<Encoded, DurabilityError> {
    let mut vertices = Batcher::new(kind::GRAPH);
    let mut edge_props = Batcher::new(kind::EDGE_PROPS);
    let mut overflow = Batcher::new(kind::ADJACENCY);
    let mut edges = 0;
    for id in ids {
        let gid = Gid(id);
        // Not visible to the snapshot (never created, deleted, or created later).
        let Ok(labels) = txn.labels(gid) else { continue };
        let props = txn.vertex_properties(gid).unwrap_or_default();
        let out = txn.edges(gid, Direction::Out, &[]).unwrap_or_default();
        let inc = txn.edges(gid, Direction::In, &[]).unwrap_or_default();
        let mut with_props = Vec::new();
        let out: Vec<Entry> = out
            .iter()
            .map(|e| {
                let props = txn.edge_properties(e).unwrap_or_default();
                let entry = (e.edge_type, e.to, e.gid, !props.is_empty());
                if !props.is_empty() {
                    with_props.push((e.gid, props));
                }
                entry
            })
            .collect();
        let inc: Vec<Entry> = inc.iter().map(|e| (e.edge_type, e.from, e.gid, false)).collect();
        edges += out.len() as u64;
        let buf = vertices.item_buf();
        put_varint(buf, id);
        put_varint(buf, labels.len() as u64);
        labels.iter().for_each(|l| put_varint(buf, u64::from(l.0)));
        codec::put_props(buf, &props);
        for list in [&out, &inc] {
            let inline = list.len().min(codec::LIST_CAP);
            put_varint(buf, inline as u64);
            list[..inline].iter().for_each(|e| put_entry(buf, e));
        }
        vertices.added()?;
        for (dir, list) in [(0, &out), (1, &inc)] {
            for part in list.get(codec::LIST_CAP..).unwrap_or_default().chunks(codec::LIST_CAP) {
                let buf = overflow.item_buf();
                [id, dir, part.len() as u64].iter().for_each(|v| put_varint(buf, *v));
                part.iter().for_each(|e| put_entry(buf, e));
                overflow.added()?;
            }
        }
        for (edge, props) in with_props {
            let buf = edge_props.item_buf();
            put_varint(buf, edge.0);
            codec::put_props(buf, &props);
            edge_props.added()?;
        }
    }
    let (mut bytes, mut frames, written) = (Vec::new(), 0, vertices.total);
    for mut batch in [vertices, edge_props, overflow] {
        batch.flush()?;
        bytes.extend_from_slice(&batch.out);
        frames += batch.frames;
    }
    Ok(Encoded {
        bytes,
        vertices: written,
        edges,
        frames,
    })
}

/// One adjacency entry to write: the edge's type, the vertex at its other end, its id and
/// whether it has properties.
type Entry = (weft_common::EdgeTypeId, Gid, Gid, bool);

fn put_entry(buf: &mut Vec<u8>, (edge_type, other, edge, has_props): &Entry) {
    put_varint(buf, u64::from(edge_type.0));
    put_varint(buf, other.0);
    put_varint(buf, edge.0 << 1 | u64::from(*has_props));
}

/// Bytes gathered before one write to the file.
const BUFFER: usize = 1 << 20;

/// The temporary file being written.
struct Out<'a> {
    file: Box<dyn WriteFile>,
    buffer: Vec<u8>,
    /// Bytes handed to the file so far.
    written: u64,
    path: &'a Path,
    /// Frames written through [`Out::frame`].
    frames: u64,
}

impl Out<'_> {
    fn raw(&mut self, bytes: &[u8]) -> Result<(), DurabilityError> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= BUFFER {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), DurabilityError> {
        self.file
            .write_all(&self.buffer)
            .map_err(|e| DurabilityError::io(self.path, "write", e))?;
        self.written += self.buffer.len() as u64;
        self.buffer.clear();
        Ok(())
    }

    fn frame(&mut self, payload: &[u8]) -> Result<(), DurabilityError> {
        let mut framed = Vec::with_capacity(payload.len() + 8);
        codec::frame(payload, &mut framed)?;
        self.frames += 1;
        self.raw(&framed)
    }

    /// Writes what is buffered and fsyncs the file; returns its size.
    fn finish(mut self) -> Result<u64, DurabilityError> {
        self.flush()?;
        self.file
            .sync_all()
            .map_err(|e| DurabilityError::io(self.path, "fsync", e))?;
        Ok(self.written)
    }
}
