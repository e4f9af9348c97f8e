//! Applying a commit record to a storage others may read: the records a MAIN or a Raft
//! leader sends (recovery loads the WAL's records directly: [`crate::direct`]).
//!
//! Owns: turning a decoded record's operations into a transaction (or a schema change) at
//! the record's own timestamp, and passing the record's bytes on through the commit
//! pipeline unchanged. The record format itself lives in [`crate::record`].

use crate::error::{Result, StorageError};
use crate::pipeline::{CommitEntry, Origin};
use crate::record::{CommitRecord, RecordEdge, RecordOp};
use crate::storage::Storage;
use crate::txn::{Staged, Transaction};

/// How often one operation of an applied record clears local writers out of its way
/// before its failure stands (each clear wounds them, so they stop after one more change).
const REPLAY_CLEARS: u32 = 64;
use weft_common::{EdgeRef, Gid};

impl Storage {
    /// Applies an encoded commit record received from another instance (a MAIN, a Raft
    /// leader) at the record's own timestamp, which must be newer than this storage's
    /// last commit. The record's bytes go through the commit pipeline unchanged, marked
    /// with `origin` so that sinks do not ship them on.
    pub fn apply(&self, record: &[u8], origin: Origin) -> Result<u64> {
        let decoded = CommitRecord::decode(record)?;
        match self.apply_group([(decoded, record)], origin) {
            (_, Some(error)) => Err(error),
            (Some(ts), None) => Ok(ts),
            (None, None) => Err(StorageError::Apply("no record was applied".into())),
        }
    }

    /// Applies received records in order as one group, each at its own timestamp. Each
    /// record's commit is staged in the pipeline as soon as its operations ran (the next
    /// record sees it), and the group is settled together, so that one WAL write and
    /// fsync carry all of it; a schema change settles what came before it first. Stops at
    /// the first record that cannot be applied: what came before it stands. Returns the
    /// newest timestamp applied (settled) and the error that stopped the group, if any.
    pub fn apply_group<'a>(
        &self,
        records: impl IntoIterator<Item = (CommitRecord, &'a [u8])>,
        origin: Origin,
    ) -> (Option<u64>, Option<StorageError>) {
        let mut staged = Vec::new();
        let mut newest = None;
        let mut stopped = None;
        for (record, bytes) in records {
            let entry = CommitEntry {
                ts: record.ts(),
                record: bytes,
                origin,
            };
            // A stale or duplicate record is refused before any of its operations runs.
            if let Err(error) = self.inner.next_commit_ts(Some(entry.ts)) {
                stopped = Some(error);
                break;
            }
            let done = match record {
                CommitRecord::Transaction { ops, .. } => self.stage_transaction(entry, &ops).map(|s| staged.push(s)),
                CommitRecord::Ddl { op, .. } => match self.settle_all(std::mem::take(&mut staged), &mut newest) {
                    Ok(()) => self.apply_ddl(&op, Some(entry)).map(|ts| newest = Some(ts)),
                    Err(error) => Err(error),
                },
            };
            if let Err(error) = done {
                stopped = Some(error);
                break;
            }
        }
        if let Err(error) = self.settle_all(staged, &mut newest) {
            stopped.get_or_insert(error);
        }
        (newest, stopped)
    }

    /// Settles staged commits in order (every one, so each is finished), moving `newest`
    /// on past each that stands; the first error (a fatal one has stopped the pipeline,
    /// so the ones after it fail too and `newest` stays before them).
    fn settle_all(&self, staged: Vec<Staged>, newest: &mut Option<u64>) -> Result<()> {
        let mut first = None;
        for commit in staged {
            match commit.settle() {
                Ok((ts, _)) => *newest = Some(ts),
                Err(error) => {
                    first.get_or_insert(error);
                }
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// Runs one operation of a received record in the applying transaction.
    fn run_op(&self, txn: &mut Transaction, op: &RecordOp, edge: &impl Fn(&RecordEdge) -> EdgeRef) -> Result<()> {
        match op {
            RecordOp::CreateVertex(g) => txn.create_vertex_with_gid(Gid(*g)).map(drop),
            RecordOp::DeleteVertex(g) => txn.delete_vertex(Gid(*g), false),
            RecordOp::AddLabel(g, l) => txn.add_label(Gid(*g), self.label(l)).map(drop),
            RecordOp::RemoveLabel(g, l) => txn.remove_label(Gid(*g), self.label(l)).map(drop),
            RecordOp::SetVertexProperty(g, k, v) => {
                txn.set_vertex_property(Gid(*g), self.property(k), v.clone()).map(drop)
            }
            RecordOp::CreateEdge(e) => txn.create_edge_with_gid(edge(e)).map(drop),
            RecordOp::DeleteEdge(e) => txn.delete_edge(&edge(e)),
            RecordOp::SetEdgeProperty(e, k, v) => {
                txn.set_edge_property(&edge(e), self.property(k), v.clone()).map(drop)
            }
        }
    }

    /// Runs a transaction record's operations and stages its commit. The transaction
    /// starts after every commit assigned so far, published or only staged, so that it
    /// sees the records of its group that came before it.
    fn stage_transaction(&self, entry: CommitEntry<'_>, ops: &[RecordOp]) -> Result<Staged> {
        let mut txn = self.begin_after_assigned();
        txn.replay = true;
        let edge = |e: &RecordEdge| EdgeRef {
            gid: Gid(e.gid),
            from: Gid(e.from),
            to: Gid(e.to),
            edge_type: self.edge_type(&e.edge_type),
        };
        for op in ops {
            // What a local transaction that cannot commit holds is taken from it. A local
            // writer may take the object again between the clear and the operation (one
            // that was mid-change): then it is cleared again, a bounded number of times.
            self.inner.clear_for_replay(op, txn.commit_state());
            let mut tries = 0;
            loop {
                match self.run_op(&mut txn, op, &edge) {
                    Err(StorageError::SerializationConflict(_) | StorageError::Apply(_))
                        if tries < REPLAY_CLEARS && self.inner.clear_for_replay(op, txn.commit_state()) =>
                    {
                        tries += 1;
                    }
                    done => break done?,
                }
            }
        }
        txn.stage_applied(entry)
    }
}
