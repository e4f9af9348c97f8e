//! Applying a commit record to a storage: the records a MAIN or a Raft leader sends, and
//! the ones recovery reads back from the WAL.
//!
//! Owns: turning a decoded record's operations into a transaction (or a schema change) at
//! the record's own timestamp, and passing the record's bytes on through the commit
//! pipeline unchanged. The record format itself lives in [`crate::record`].

use crate::error::{Result, StorageError};
use crate::pipeline::{CommitEntry, Origin};
use crate::record::{CommitRecord, RecordEdge, RecordOp};
use crate::storage::Storage;
use weft_common::{EdgeRef, Gid};

impl Storage {
    /// Applies an encoded commit record received from another instance (a MAIN, a Raft
    /// leader) at the record's own timestamp, which must be newer than this storage's
    /// last commit. The record's bytes go through the commit pipeline unchanged, marked
    /// with `origin` so that sinks do not ship them on.
    pub fn apply(&self, record: &[u8], origin: Origin) -> Result<u64> {
        self.apply_record(CommitRecord::decode(record)?, record, origin)
    }

    /// As [`Storage::apply`], for a record already decoded from `bytes` (recovery decodes
    /// on another thread while this one applies).
    pub fn apply_record(&self, record: CommitRecord, bytes: &[u8], origin: Origin) -> Result<u64> {
        // A stale or duplicate record is refused before any of its operations runs.
        let ts = record.ts();
        self.inner.next_commit_ts(Some(ts))?;
        let entry = CommitEntry {
            ts,
            record: bytes,
            origin,
        };
        match record {
            CommitRecord::Transaction { ops, .. } => self.apply_transaction(entry, &ops),
            CommitRecord::Ddl { op, .. } => self.apply_ddl(&op, Some(entry)),
        }
    }

    fn apply_transaction(&self, entry: CommitEntry<'_>, ops: &[RecordOp]) -> Result<u64> {
        let mut txn = self.begin(crate::IsolationLevel::SnapshotIsolation);
        let edge = |e: &RecordEdge| EdgeRef {
            gid: Gid(e.gid),
            from: Gid(e.from),
            to: Gid(e.to),
            edge_type: self.edge_type(&e.edge_type),
        };
        for op in ops {
            match op {
                RecordOp::CreateVertex(g) => txn.create_vertex_with_gid(Gid(*g)).map(drop)?,
                RecordOp::DeleteVertex(g) => txn.delete_vertex(Gid(*g), false)?,
                RecordOp::AddLabel(g, l) => txn.add_label(Gid(*g), self.label(l)).map(drop)?,
                RecordOp::RemoveLabel(g, l) => txn.remove_label(Gid(*g), self.label(l)).map(drop)?,
                RecordOp::SetVertexProperty(g, k, v) => txn
                    .set_vertex_property(Gid(*g), self.property(k), v.clone())
                    .map(drop)?,
                RecordOp::CreateEdge(e) => txn.create_edge_with_gid(edge(e)).map(drop)?,
                RecordOp::DeleteEdge(e) => txn.delete_edge(&edge(e))?,
                RecordOp::SetEdgeProperty(e, k, v) => {
                    txn.set_edge_property(&edge(e), self.property(k), v.clone()).map(drop)?
                }
            }
        }
        txn.commit_applied(entry)?
            .ok_or_else(|| StorageError::Apply("replayed transaction did not commit".into()))
    }
}
