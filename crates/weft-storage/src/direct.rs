//! Direct apply: commit records written straight into a storage that is being recovered,
//! without transactions, undo deltas or the commit pipeline.
//!
//! Owns: when this is allowed (nobody else uses the storage: no running transaction, no
//! commit sink, no running fingerprint) and what each operation does to the newest state,
//! the indexes and the planner's counters. Index entries are inserted as a transaction's
//! write inserts them; the entries a removal leaves stale are swept by the next garbage
//! collection, which recovery runs before it serves. Schema changes go through the
//! ordinary DDL path, which fills a new index over the graph loaded so far.
//!
//! A record that fails part way leaves the storage half-written; recovery then gives the
//! storage up. [`Storage::apply`] is the path for a storage others read.

use crate::delta::Adjacent;
use crate::error::{Result, StorageError};
use crate::gc::shrink_if_sparse;
use crate::index::Schema;
use crate::prefetch;
use crate::record::{CommitRecord, RecordEdge, RecordOp};
use crate::storage::{Inner, Storage};
use crate::txn::MAX_EDGE_ID;
use crate::vertex::{remove_adjacent, some_version_has_out_type, EdgeData, Life, VertexData};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use weft_common::{EdgeTypeId, Gid, LabelId};

impl Storage {
    /// Loads a decoded commit record straight into this storage at the record's
    /// timestamp, which must be newer than the last commit. For recovery only: refused
    /// while a transaction runs, a commit sink is attached or a fingerprint is kept, since
    /// nothing of this reaches them. On error the storage may hold part of the record and
    /// must be given up.
    pub fn load_record(&self, record: CommitRecord) -> Result<u64> {
        let inner = &self.inner;
        if !inner.engine.lock().active.is_empty()
            || inner.pipeline.has_sinks()
            || crate::fingerprint::running::kept(inner)
        {
            return Err(StorageError::Apply(
                "records load directly only into a storage nobody else uses".into(),
            ));
        }
        let ts = inner.next_commit_ts(Some(record.ts()))?;
        match record {
            CommitRecord::Transaction { ops, .. } => {
                let mut loader = Loader {
                    storage: self,
                    inner,
                    schema: inner.schema(),
                    labels: HashMap::new(),
                };
                let loaded = loader.ops(ops);
                inner.count_labels(ts, loader.labels.drain());
                loaded?;
                inner.publish(ts, None, None);
                Ok(ts)
            }
            CommitRecord::Ddl { op, .. } => self.load_ddl(&op, ts),
        }
    }
}

/// One transaction record's operations being loaded.
struct Loader<'a> {
    storage: &'a Storage,
    inner: &'a Inner,
    /// No DDL runs inside a transaction record: one schema serves all of it.
    schema: Arc<Schema>,
    /// Label count changes, applied once per record.
    labels: HashMap<LabelId, i64>,
}

impl Loader<'_> {
    fn ops(&mut self, ops: Vec<RecordOp>) -> Result<()> {
        let ends: Vec<(u64, u64)> = ops.iter().map(ends_of).collect();
        for (i, op) in ops.into_iter().enumerate() {
            prefetch::ahead(&self.inner.vertices, &ends, i);
            self.op(op)?;
        }
        Ok(())
    }

    fn op(&mut self, op: RecordOp) -> Result<()> {
        match op {
            RecordOp::CreateVertex(g) => self.create_vertex(Gid(g)),
            RecordOp::DeleteVertex(g) => self.delete_vertex(Gid(g)),
            RecordOp::AddLabel(g, l) => {
                let label = self.storage.label(&l);
                let inner = self.inner;
                self.live(Gid(g), |v, schema, labels| {
                    if !v.has_label(label) {
                        v.push_label(label);
                        inner.label_added(schema, Gid(g), v, label);
                        *labels.entry(label).or_default() += 1;
                    }
                })
            }
            RecordOp::RemoveLabel(g, l) => {
                let label = self.storage.label(&l);
                self.inner.gc.mark_dirty();
                let inner: &Inner = self.inner;
                let members = &inner.members;
                self.live(Gid(g), |v, _, labels| {
                    if v.has_label(label) {
                        v.pull_label(label);
                        // Nobody else reads the storage while it loads: no older state to keep.
                        members.settle(Gid(g), |l| v.has_label(l));
                        *labels.entry(label).or_default() -= 1;
                    }
                })
            }
            RecordOp::SetVertexProperty(g, k, value) => {
                let key = self.storage.property(&k);
                let gc = &self.inner.gc;
                self.live(Gid(g), |v, schema, _| {
                    let set = !value.is_null();
                    if v.props.set(key, Some(value)).is_some() {
                        // The old value's index entries are stale now.
                        gc.mark_dirty();
                    }
                    if set {
                        schema.property_set(Gid(g), v, key);
                    }
                })
            }
            RecordOp::CreateEdge(e) => self.create_edge(&e),
            RecordOp::DeleteEdge(e) => self.delete_edge(&e),
            RecordOp::SetEdgeProperty(e, k, value) => {
                let key = self.storage.property(&k);
                self.find_edge(&e)?;
                self.inner.edge_slot(Gid(e.gid))?.lock().props.set(key, Some(value));
                Ok(())
            }
        }
    }

    /// Runs `f` on a live vertex under its lock.
    fn live(&mut self, gid: Gid, f: impl FnOnce(&mut VertexData, &Schema, &mut HashMap<LabelId, i64>)) -> Result<()> {
        let slot = self
            .inner
            .vertices
            .get(gid.0)
            .ok_or(StorageError::VertexNotFound(gid))?;
        let mut v = slot.lock();
        if v.life != Life::Live {
            return Err(StorageError::VertexNotFound(gid));
        }
        f(&mut v, &self.schema, &mut self.labels);
        Ok(())
    }

    fn create_vertex(&mut self, gid: Gid) -> Result<()> {
        let slot = self
            .inner
            .vertices
            .ensure(gid.0)
            .ok_or_else(|| StorageError::Apply(format!("vertex id {gid} out of range")))?;
        let mut v = slot.lock();
        if v.life != Life::Empty {
            return Err(StorageError::Apply(format!("vertex id {gid} is already in use")));
        }
        v.life = Life::Live;
        drop(v);
        self.inner.vertex_count.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Deletes a vertex without edges (a record names every edge a detach removed); its
    /// slot is freed at once, as the collector would free it.
    fn delete_vertex(&mut self, gid: Gid) -> Result<()> {
        let mut labels = None;
        let inner: &Inner = self.inner;
        let members = &inner.members;
        self.live(gid, |v, _, _| {
            if v.out_edges.is_empty() && v.in_edges.is_empty() {
                labels = Some(v.label_vec());
                *v = VertexData::default();
                members.settle(gid, |_| false);
                inner.sources.settle(gid, |_| false);
            }
        })?;
        let labels = labels.ok_or(StorageError::VertexHasEdges(gid))?;
        for label in labels {
            *self.labels.entry(label).or_default() -= 1;
        }
        self.inner.vertex_count.fetch_sub(1, Ordering::Relaxed);
        self.inner.gc.mark_dirty();
        Ok(())
    }

    fn edge_type(&self, e: &RecordEdge) -> EdgeTypeId {
        self.storage.edge_type(&e.edge_type)
    }

    fn create_edge(&mut self, e: &RecordEdge) -> Result<()> {
        let (gid, from, to, edge_type) = (Gid(e.gid), Gid(e.from), Gid(e.to), self.edge_type(e));
        if e.gid >= MAX_EDGE_ID {
            return Err(StorageError::Apply(format!("edge id {gid} is out of range")));
        }
        if self.inner.edge_in_use(gid) {
            return Err(StorageError::Apply(format!("edge id {gid} is already in use")));
        }
        // Both endpoints are checked before either changes.
        for end in [from, to] {
            self.live(end, |_, _, _| ())?;
        }
        let inner: &Inner = self.inner;
        let sources = &inner.sources;
        self.live(from, |v, _, _| {
            v.out_edges.push(Adjacent::new(edge_type, to, gid));
            sources.insert(edge_type, from);
        })?;
        self.live(to, |v, _, _| v.in_edges.push(Adjacent::new(edge_type, from, gid)))?;
        self.inner
            .next_edge
            .fetch_max(e.gid.saturating_add(1), Ordering::Relaxed);
        Ok(())
    }

    /// Checks that the edge is stored as the record names it.
    fn find_edge(&mut self, e: &RecordEdge) -> Result<()> {
        let (gid, to, edge_type) = (Gid(e.gid), Gid(e.to), self.edge_type(e));
        let mut found = false;
        self.live(Gid(e.from), |v, _, _| {
            found = v
                .out_edges
                .iter()
                .any(|a| a.edge() == gid && a.other() == to && a.edge_type() == edge_type);
        })?;
        if found {
            Ok(())
        } else {
            Err(StorageError::EdgeNotFound(gid))
        }
    }

    fn delete_edge(&mut self, e: &RecordEdge) -> Result<()> {
        self.find_edge(e)?;
        let gid = Gid(e.gid);
        // Capacity left over is given back as the collector would give it back.
        let inner: &Inner = self.inner;
        let sources = &inner.sources;
        self.live(Gid(e.from), |v, _, _| {
            remove_adjacent(&mut v.out_edges, gid);
            shrink_if_sparse(&mut v.out_edges);
            sources.settle(Gid(e.from), |t| some_version_has_out_type(v, t));
        })?;
        self.live(Gid(e.to), |v, _, _| {
            remove_adjacent(&mut v.in_edges, gid);
            shrink_if_sparse(&mut v.in_edges);
        })?;
        if let Some(slot) = self.inner.edges.get(gid.0) {
            *slot.lock() = EdgeData::default();
        }
        self.inner.gc.mark_dirty();
        Ok(())
    }
}

/// The vertices an operation touches (one twice when it touches one).
fn ends_of(op: &RecordOp) -> (u64, u64) {
    match op {
        RecordOp::CreateVertex(g)
        | RecordOp::DeleteVertex(g)
        | RecordOp::AddLabel(g, _)
        | RecordOp::RemoveLabel(g, _)
        | RecordOp::SetVertexProperty(g, ..) => (*g, *g),
        RecordOp::CreateEdge(e) | RecordOp::DeleteEdge(e) | RecordOp::SetEdgeProperty(e, ..) => (e.from, e.to),
    }
}
