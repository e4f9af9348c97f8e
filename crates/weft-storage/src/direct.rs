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
//! A long run of records (recovery gathers what is decoded) loads on two threads, each
//! owning half the vertices and applying, in record order, every operation on its own
//! vertices and its half of every edge operation (the out half with the source, the in
//! half with the target; see [`Storage::load_records_split`]): each vertex still sees its
//! operations in order, and no vertex is written by both threads.
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
use weft_common::{EdgeTypeId, Gid, LabelId, PropertyId};

impl Storage {
    /// Loads a decoded commit record straight into this storage at the record's
    /// timestamp, which must be newer than the last commit. For recovery only: refused
    /// while a transaction runs, a commit sink is attached or a fingerprint is kept, since
    /// nothing of this reaches them. On error the storage may hold part of the record and
    /// must be given up.
    pub fn load_record(&self, record: CommitRecord) -> Result<u64> {
        self.load_records(vec![record]).map_err(|(_, e)| e)
    }

    /// Loads a run of decoded records, as [`Storage::load_record`] each in turn (except that
    /// the timestamps of the transaction records before a DDL record, or the end, are all
    /// checked before those records load); returns the last one's
    /// timestamp, or the index of the record that failed with its error. The
    /// operations of a run of transaction records large enough to pay for it are split by
    /// vertex between two threads (see [`Storage::load_records_split`]).
    pub fn load_records(&self, records: Vec<CommitRecord>) -> std::result::Result<u64, (usize, StorageError)> {
        self.load_records_then(records, Split::Auto)
    }

    /// [`Storage::load_records`], splitting every run of transaction records between two
    /// threads however small: each vertex has an owning thread, which applies, in record
    /// order, every operation on that vertex and its half of every edge operation that
    /// touches it (the out half with the source, with the edge's properties; the in half
    /// with the target). A record that fails may then leave more of itself behind than on
    /// one thread (an edge's half whose other end is missing); the storage is given up
    /// either way. Public so that tests can take this path on small inputs.
    #[doc(hidden)]
    pub fn load_records_split(&self, records: Vec<CommitRecord>) -> std::result::Result<u64, (usize, StorageError)> {
        self.load_records_then(records, Split::Always)
    }

    fn load_records_then(
        &self,
        records: Vec<CommitRecord>,
        split: Split,
    ) -> std::result::Result<u64, (usize, StorageError)> {
        let inner = &self.inner;
        if !inner.engine.lock().active.is_empty()
            || inner.pipeline.has_sinks()
            || crate::fingerprint::running::kept(inner)
        {
            return Err((
                0,
                StorageError::Apply("records load directly only into a storage nobody else uses".into()),
            ));
        }
        // Nothing here counts in as changing labels or properties: no column is kept
        // from before or during the load.
        let _loading = inner.columns.direct_load();
        let mut last = inner.next_commit_ts(None).map_err(|e| (0, e))? - 1;
        let mut run = Vec::new();
        for (i, record) in records.into_iter().enumerate() {
            let ts = record.ts();
            if ts <= last {
                return Err((
                    i,
                    StorageError::Apply(format!(
                        "record timestamp {ts} is not newer than the last commit {last}"
                    )),
                ));
            }
            inner.next_commit_ts(Some(ts)).map_err(|e| (i, e))?;
            last = ts;
            match record {
                CommitRecord::Transaction { ops, .. } => run.push((i, ts, ops)),
                CommitRecord::Ddl { op, .. } => {
                    self.load_run(std::mem::take(&mut run), split)?;
                    self.load_ddl(&op, ts).map_err(|e| (i, e))?;
                }
            }
        }
        self.load_run(run, split)?;
        Ok(last)
    }

    /// Loads transaction records `(index, ts, ops)`, whose timestamps are checked, and
    /// publishes the last.
    fn load_run(
        &self,
        run: Vec<(usize, u64, Vec<RecordOp>)>,
        split: Split,
    ) -> std::result::Result<(), (usize, StorageError)> {
        let Some(&(_, last_ts, _)) = run.last() else {
            return Ok(());
        };
        let inner = &self.inner;
        let ops: usize = run.iter().map(|(_, _, ops)| ops.len()).sum();
        let two = std::thread::available_parallelism().map_or(1, |n| n.get()) > 1;
        if split == Split::Always || (two && ops >= SPLIT_FROM_OPS) {
            let shift = split.owner_shift();
            let (a, b) = std::thread::scope(|s| {
                let other = s.spawn(|| self.load_share(&run, Some((1, shift))));
                let here = self.load_share(&run, Some((0, shift)));
                (here, other.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            });
            let ((mut counts, failed_a), (more, failed_b)) = (a, b);
            for (label, by) in more {
                *counts.entry(label).or_default() += by;
            }
            inner.count_labels(last_ts, counts);
            // The error of the earlier operation is the one to report.
            let failed = match (failed_a, failed_b) {
                (Some(x), Some(y)) => Some(if (x.0, x.1) <= (y.0, y.1) { x } else { y }),
                (x, y) => x.or(y),
            };
            if let Some((i, _, e)) = failed {
                return Err((i, e));
            }
        } else {
            for record in &run {
                let (counts, failed) = self.load_share(std::slice::from_ref(record), None);
                inner.count_labels(record.1, counts);
                if let Some((i, _, e)) = failed {
                    return Err((i, e));
                }
            }
        }
        inner.publish(last_ts, None, None);
        Ok(())
    }

    /// Applies, in order, the share of every operation of `run` that thread `k` of two
    /// owns (`owner` is `(k, shift)`: vertex `g` is the thread's when `(g >> shift) & 1 ==
    /// k`), or every operation whole when `owner` is `None`. Returns the label count
    /// changes and the first failure with its record's index and its operation's place in
    /// the run.
    fn load_share(
        &self,
        run: &[(usize, u64, Vec<RecordOp>)],
        owner: Option<(usize, u32)>,
    ) -> (HashMap<LabelId, i64>, Option<Failed>) {
        let mine = |gid: u64| owner.is_none_or(|(k, shift)| (gid >> shift) as usize & 1 == k);
        let inner = &self.inner;
        let mut loader = Loader {
            storage: self,
            inner,
            schema: inner.schema(),
            pending: Pending::default(),
            names: Names::default(),
            cross: owner.is_none(),
        };
        let ops = || run.iter().flat_map(|(i, _, ops)| ops.iter().map(move |op| (*i, op)));
        // The vertices the share reads, op by op, to ask for their memory early.
        let ends: Vec<(u64, u64)> = ops().filter_map(|(_, op)| share_ends(op, &mine)).collect();
        let mut at = 0;
        let mut failed = None;
        for (place, (i, op)) in ops().enumerate() {
            if share_ends(op, &mine).is_none() {
                continue;
            }
            prefetch::ahead(&inner.vertices, &ends, at);
            at += 1;
            if let Err(e) = loader.op(op, &mine) {
                failed = Some((i, place, e));
                break;
            }
        }
        loader.flush();
        (loader.pending.counts, failed)
    }
}

/// A share's first failure: the record's index in the run, the operation's place in the
/// run, and the error.
type Failed = (usize, usize, StorageError);

/// The vertices whose memory the share of `op` that `mine` picks reads first, as
/// `(source, target)` (one twice when it reads one); `None` when the share is empty.
fn share_ends(op: &RecordOp, mine: &impl Fn(u64) -> bool) -> Option<(u64, u64)> {
    let (from, to) = ends_of(op);
    match (mine(from), mine(to)) {
        (true, true) => Some((from, to)),
        (true, false) => Some((from, from)),
        (false, true) if matches!(op, RecordOp::CreateEdge(_) | RecordOp::DeleteEdge(_)) => Some((to, to)),
        _ => None,
    }
}

/// Whether a run of records is split between two threads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Split {
    /// When the run has at least [`SPLIT_FROM_OPS`] operations and the machine more than
    /// one core.
    Auto,
    Always,
}

impl Split {
    /// Vertices are owned in blocks of `1 << shift` ids: blocks of 16 keep the two
    /// threads off each other's cache lines in the vertex table; forced splits (tests)
    /// alternate vertex by vertex, so that even a small graph crosses between threads.
    fn owner_shift(self) -> u32 {
        match self {
            Split::Auto => 4,
            Split::Always => 0,
        }
    }
}

/// Operations below which a run loads on the calling thread: handing a few over to
/// another thread costs more than applying them.
const SPLIT_FROM_OPS: usize = 4096;

/// One thread's share of a run of records being loaded.
struct Loader<'a> {
    storage: &'a Storage,
    inner: &'a Inner,
    /// No DDL runs inside a run of transaction records: one schema serves all of it.
    schema: Arc<Schema>,
    pending: Pending,
    names: Names,
    /// Whether an edge's far end is checked before its near end changes (one thread
    /// applies every share).
    cross: bool,
}

/// What a loader's thread gathers and hands over in bulk: label count changes, applied
/// once per record or run, and new member and source bits, set in batches because each
/// single insert takes shared locks that the two loading threads would fight over. The
/// bits are set before any operation that may clear bits (a removed label, a deleted
/// vertex or edge), so that it sees every bit set before it.
#[derive(Default)]
struct Pending {
    counts: HashMap<LabelId, i64>,
    members: Vec<(LabelId, Gid)>,
    sources: Vec<(EdgeTypeId, Gid)>,
}

/// Bits gathered before they are set without waiting for a clearing operation.
const PENDING_BITS: usize = 1 << 16;

/// The ids of names a loader has met, so that each thread takes the shared name tables'
/// locks once per name rather than once per operation.
#[derive(Default)]
struct Names {
    labels: HashMap<String, LabelId>,
    edge_types: HashMap<String, EdgeTypeId>,
    properties: HashMap<String, PropertyId>,
}

/// The id of `name` in `seen`, interned through `intern` the first time.
fn named<T: Copy>(seen: &mut HashMap<String, T>, name: &str, intern: impl FnOnce(&str) -> T) -> T {
    if let Some(id) = seen.get(name) {
        return *id;
    }
    let id = intern(name);
    seen.insert(name.to_owned(), id);
    id
}

impl Loader<'_> {
    /// Sets the member and source bits gathered so far.
    fn flush(&mut self) {
        if !self.pending.members.is_empty() {
            self.inner
                .members
                .insert_many(std::mem::take(&mut self.pending.members));
        }
        if !self.pending.sources.is_empty() {
            self.inner
                .sources
                .insert_many(std::mem::take(&mut self.pending.sources));
        }
    }

    fn label(&mut self, name: &str) -> LabelId {
        named(&mut self.names.labels, name, |n| self.storage.label(n))
    }

    fn property(&mut self, name: &str) -> PropertyId {
        named(&mut self.names.properties, name, |n| self.storage.property(n))
    }

    fn edge(&mut self, e: &RecordEdge) -> (Gid, Gid, Gid, EdgeTypeId) {
        let edge_type = named(&mut self.names.edge_types, &e.edge_type, |n| self.storage.edge_type(n));
        (Gid(e.gid), Gid(e.from), Gid(e.to), edge_type)
    }

    /// Applies the share of `op` that `mine` picks (see [`Storage::load_records_split`]).
    fn op(&mut self, op: &RecordOp, mine: &impl Fn(u64) -> bool) -> Result<()> {
        let clears = matches!(
            op,
            RecordOp::DeleteEdge(_) | RecordOp::DeleteVertex(_) | RecordOp::RemoveLabel(..)
        );
        if clears || self.pending.members.len() + self.pending.sources.len() >= PENDING_BITS {
            self.flush();
        }
        match op {
            RecordOp::CreateEdge(e) => {
                let (gid, from, to, edge_type) = self.edge(e);
                if mine(e.from) {
                    self.create_out(gid, from, to, edge_type)?;
                }
                if mine(e.to) {
                    self.live(to, |v, _, _| v.in_edges.push(Adjacent::new(edge_type, from, gid)))?;
                }
                Ok(())
            }
            RecordOp::DeleteEdge(e) => {
                let (gid, from, to, edge_type) = self.edge(e);
                if mine(e.from) {
                    self.delete_out(gid, from, to, edge_type)?;
                }
                if mine(e.to) {
                    self.live(to, |v, _, _| {
                        remove_adjacent(&mut v.in_edges, gid);
                        shrink_if_sparse(&mut v.in_edges);
                    })?;
                }
                Ok(())
            }
            RecordOp::SetEdgeProperty(e, k, value) => {
                let (gid, from, to, edge_type) = self.edge(e);
                let key = self.property(k);
                self.find_edge(gid, from, to, edge_type)?;
                self.inner.edge_slot(gid)?.lock().props.set(key, Some(value.clone()));
                Ok(())
            }
            op => self.vertex_op(op),
        }
    }

    /// An operation on one vertex.
    fn vertex_op(&mut self, op: &RecordOp) -> Result<()> {
        match op {
            RecordOp::CreateVertex(g) => self.create_vertex(Gid(*g)),
            RecordOp::DeleteVertex(g) => self.delete_vertex(Gid(*g)),
            RecordOp::AddLabel(g, l) => {
                let (g, label) = (*g, self.label(l));
                self.live(Gid(g), |v, schema, labels| {
                    if !v.has_label(label) {
                        v.push_label(label);
                        // The member bit waits in the list, set in bulk (see `Pending`).
                        schema.label_added(Gid(g), v, label);
                        labels.members.push((label, Gid(g)));
                        *labels.counts.entry(label).or_default() += 1;
                    }
                })
            }
            RecordOp::RemoveLabel(g, l) => {
                let (g, label) = (*g, self.label(l));
                self.inner.gc.mark_dirty();
                let inner: &Inner = self.inner;
                let members = &inner.members;
                self.live(Gid(g), |v, _, labels| {
                    if v.has_label(label) {
                        v.pull_label(label);
                        // Nobody else reads the storage while it loads: no older state to keep.
                        members.settle(Gid(g), |l| v.has_label(l));
                        *labels.counts.entry(label).or_default() -= 1;
                    }
                })
            }
            RecordOp::SetVertexProperty(g, k, value) => {
                let (g, key) = (*g, self.property(k));
                let gc = &self.inner.gc;
                self.live(Gid(g), |v, schema, _| {
                    let set = !value.is_null();
                    if v.props.set(key, Some(value.clone())).is_some() {
                        // The old value's index entries are stale now.
                        gc.mark_dirty();
                    }
                    if set {
                        schema.property_set(Gid(g), v, key);
                    }
                })
            }
            RecordOp::CreateEdge(_) | RecordOp::DeleteEdge(_) | RecordOp::SetEdgeProperty(..) => Err(
                StorageError::Apply("an edge operation reached the vertex operations".into()),
            ),
        }
    }

    /// Runs `f` on a live vertex under its lock.
    fn live(&mut self, gid: Gid, f: impl FnOnce(&mut VertexData, &Schema, &mut Pending)) -> Result<()> {
        let slot = self
            .inner
            .vertices
            .get(gid.0)
            .ok_or(StorageError::VertexNotFound(gid))?;
        let mut v = slot.lock();
        if v.life != Life::Live {
            return Err(StorageError::VertexNotFound(gid));
        }
        f(&mut v, &self.schema, &mut self.pending);
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
            *self.pending.counts.entry(label).or_default() -= 1;
        }
        self.inner.vertex_count.fetch_sub(1, Ordering::Relaxed);
        self.inner.gc.mark_dirty();
        Ok(())
    }

    /// An edge's out half: a new id, its source live (and, with `cross`, its target). The
    /// edge's slot is only ever touched by its source's owner: a valid log never gives one
    /// id to two edges, and a log that does is refused (which thread's error is reported
    /// then may vary).
    fn create_out(&mut self, gid: Gid, from: Gid, to: Gid, edge_type: EdgeTypeId) -> Result<()> {
        if gid.0 >= MAX_EDGE_ID {
            return Err(StorageError::Apply(format!("edge id {gid} is out of range")));
        }
        if self.inner.edge_in_use(gid) {
            return Err(StorageError::Apply(format!("edge id {gid} is already in use")));
        }
        if self.cross {
            // Both endpoints are checked before either changes.
            self.live(to, |_, _, _| ())?;
        }
        self.live(from, |v, _, pending| {
            v.out_edges.push(Adjacent::new(edge_type, to, gid));
            pending.sources.push((edge_type, from));
        })?;
        self.inner
            .next_edge
            .fetch_max(gid.0.saturating_add(1), Ordering::Relaxed);
        Ok(())
    }

    /// Checks that the edge is stored in its source's list as named.
    fn find_edge(&mut self, gid: Gid, from: Gid, to: Gid, edge_type: EdgeTypeId) -> Result<()> {
        let mut found = false;
        self.live(from, |v, _, _| {
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

    /// A deleted edge's out half, and its properties.
    fn delete_out(&mut self, gid: Gid, from: Gid, to: Gid, edge_type: EdgeTypeId) -> Result<()> {
        self.find_edge(gid, from, to, edge_type)?;
        // Capacity left over is given back as the collector would give it back.
        let inner: &Inner = self.inner;
        let sources = &inner.sources;
        self.live(from, |v, _, _| {
            remove_adjacent(&mut v.out_edges, gid);
            shrink_if_sparse(&mut v.out_edges);
            sources.settle(from, |t| some_version_has_out_type(v, t));
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
