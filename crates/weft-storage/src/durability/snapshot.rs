//! Snapshots: a whole graph (objects, schema, names, id counters) as one transaction saw
//! it at one commit timestamp, in one file that is either complete and valid or refused.
//!
//! Owns: writing a snapshot from a snapshot-isolation read while commits go on
//! ([`write_snapshot`]), loading one into a fresh [`crate::Storage`] ([`load_snapshot`]) and
//! listing the snapshots of a directory ([`list_snapshots`]).
//! Promises: a file named `snapshot-{ts:020}.snap` is complete and durable (it is written
//! as `*.tmp`, fsynced, renamed, and the directory fsynced); it holds exactly the commits
//! with a timestamp `<= ts`, so recovery continues with the WAL records above `ts` through
//! [`crate::Storage::apply`]. Loading reproduces the graph with its original ids (`dump()` is
//! equal), its indexes and constraints, `last_committed = ts`, and id counters such that
//! new ids never collide with ids in the snapshot or in later WAL records. A snapshot has
//! no torn-tail tolerance: any damage (a bad header, a bad frame checksum, a cut even at a
//! frame boundary, a missing or wrong footer) is an error naming the file and byte offset,
//! and recovery falls back to an older snapshot. No input bytes make this code panic.
//! Needs from below: the header and framing of [`crate::durability`]; from storage, the
//! crate-internal object tables (loading writes newest states directly, with no undo
//! deltas, as if every object had been committed long ago and collected).
//!
//! # File format (version 2; version 1 still loads)
//!
//! ```text
//! file     := header(kind Snapshot, version 2, from_ts = to_ts = ts)
//!             schema counters (graph | edgeprops | adjacency)* names footer
//! frame payloads start with a kind byte; integers are LEB128 varints unless noted:
//! schema   := 1 count (len ddl_record)*     each a commit record `CommitRecord::Ddl`
//!                                            (ts 0) that recreates one index/constraint
//! counters := 2 vertex_high_water next_edge  one past the largest vertex slot / edge id
//!                                            handed out when the snapshot was begun
//! graph    := 7 count (gid n_labels label_id* props out in)*
//! out, in  := n entry*                       the first entries of the vertex's outgoing
//!                                            and incoming lists, at most LIST_CAP each
//! entry    := type_id other edge             other: the far end; edge: id << 1 | 1 when
//!                                            the edge has properties
//! edgeprops:= 8 count (edge_id props)*       every edge marked with properties, once
//! adjacency:= 9 count (gid dir n entry*)*    the rest of a long list (dir 0 out, 1 in)
//! props    := n (property_id value)*         values in `weft_common::encoding`
//! names    := 5 (count string*) x 3          label, edge type, property names, in id
//!                                            order: the ids above index these lists
//! footer   := 6 vertices:u64-LE edges:u64-LE frames:u64-LE   (frames before it)
//! ```
//!
//! Every edge is written twice, in its source's out list and its target's in list, so a
//! loader builds each vertex whole from its own item, with no lookups of other vertices;
//! it checks that the two halves agree over the whole file ([`graph`]).
//!
//! Version 1 had, in place of kinds 7 to 9, `vertices := 3 count (gid n_labels label_id*
//! props)*` and `edges := 4 count (gid from to type_id props)*`; a loader adds each edge of
//! a version 1 file to both its ends after every vertex is in. Each version refuses the
//! other's object kinds.
//!
//! The footer is always the last frame and has a fixed size (33 bytes framed), so a
//! listing reads it from the end of the file. Object frames hold at most [`BATCH`] items
//! (and about 16 MiB) each and may come in any order: a loader reads and checks the whole
//! file before it loads any of them.

mod codec;
mod graph;
mod load;
mod write;

pub(crate) use load::load_snapshot_watched;
pub use load::{load_snapshot, load_snapshot_with};
pub(crate) use write::write_snapshot_then;
pub use write::{write_snapshot, write_snapshot_with};

use crate::durability::error::DurabilityError;
use crate::durability::frame::{FrameRead, FrameReader};
use crate::durability::header::{FileHeader, FileKind, HEADER_LEN};
use crate::durability::io::{self, FileSystem};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// Items per object frame.
pub const BATCH: usize = 1 << 16;

/// One snapshot file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub path: PathBuf,
    /// The commit timestamp the snapshot shows: every commit at or below it, none above.
    pub ts: u64,
    pub epoch: u64,
    pub vertices: u64,
    pub edges: u64,
    /// File size in bytes.
    pub bytes: u64,
}

/// The file name of the snapshot at `ts`.
pub fn snapshot_name(ts: u64) -> String {
    format!("snapshot-{ts:020}.snap")
}

/// The timestamp out of a snapshot file name, `None` for any other name (`*.tmp`
/// included).
fn parse_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("snapshot-")?.strip_suffix(".snap")?;
    let valid = digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit());
    valid.then(|| digits.parse().ok())?
}

/// The snapshots of `dir`, oldest first (newest last), from their headers and footers. A
/// file of another database is an error; a snapshot whose header or footer is damaged
/// cannot be used and is left out with a warning naming it (loading it would fail the
/// same way). A missing directory has no snapshots.
pub fn list_snapshots(dir: &Path, db_id: Uuid) -> Result<Vec<SnapshotInfo>, DurabilityError> {
    list_snapshots_with(io::real().as_ref(), dir, db_id)
}

/// [`list_snapshots`] on the file system `fs`.
pub fn list_snapshots_with(fs: &dyn FileSystem, dir: &Path, db_id: Uuid) -> Result<Vec<SnapshotInfo>, DurabilityError> {
    let found = crate::durability::data_dir::list_named(fs, dir, parse_name)?;
    let mut infos = Vec::new();
    for (ts, path) in found {
        match read_ends(fs, &path, db_id) {
            Ok(info) if info.ts == ts => infos.push(info),
            Ok(info) => {
                tracing::warn!(path = %path.display(), header_ts = info.ts, "snapshot file name and header disagree; ignoring it")
            }
            Err(e @ DurabilityError::ForeignDatabase { .. }) => return Err(e),
            Err(e) if e.is_corruption() => tracing::warn!(error = %e, "ignoring a damaged snapshot"),
            Err(e) => return Err(e),
        }
    }
    Ok(infos)
}

/// Reads and checks a snapshot's header and footer only.
fn read_ends(fs: &dyn FileSystem, path: &Path, db_id: Uuid) -> Result<SnapshotInfo, DurabilityError> {
    let io = |action| move |e| DurabilityError::io(path, action, e);
    let bytes = fs.len(path).map_err(io("stat"))?;
    let head = fs.read_at(path, 0, HEADER_LEN as u64).map_err(io("read"))?;
    let (header, ts) = check_header(path, &head, db_id)?;
    let tail_at = bytes
        .saturating_sub(codec::FOOTER_FRAME_LEN as u64)
        .max(HEADER_LEN as u64);
    let tail = fs.read_at(path, tail_at, u64::MAX).map_err(io("read"))?;
    let footer = match FrameReader::new(&tail, 0).next_frame() {
        FrameRead::Frame { payload, .. } => codec::decode_footer(payload),
        _ => None,
    };
    let footer = footer.ok_or_else(|| codec::malformed(path, tail_at, "snapshot does not end with a valid footer"))?;
    Ok(SnapshotInfo {
        path: path.to_path_buf(),
        ts,
        epoch: header.epoch,
        vertices: footer.vertices,
        edges: footer.edges,
        bytes,
    })
}

/// Decodes a snapshot header, refuses another database's, and returns it with its
/// timestamp (`from_ts`, which must equal `to_ts`).
fn check_header(path: &Path, bytes: &[u8], db_id: Uuid) -> Result<(FileHeader, u64), DurabilityError> {
    let header = FileHeader::read_checked(path, bytes, FileKind::Snapshot, db_id)?;
    if header.to_ts != Some(header.from_ts) {
        return Err(codec::malformed(
            path,
            0,
            "snapshot header does not name exactly one timestamp",
        ));
    }
    Ok((header, header.from_ts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_by_timestamp_and_parse_back() {
        assert_eq!(parse_name(&snapshot_name(42)), Some(42));
        assert!(snapshot_name(9) < snapshot_name(10));
        for other in ["snapshot-1.snap", "snapshot-00000000000000000001.snap.tmp", "x.snap"] {
            assert_eq!(parse_name(other), None, "{other}");
        }
    }
}
