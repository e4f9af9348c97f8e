//! Transactions: writes (with write-write conflict detection), commit and abort.
//!
//! Every write locks the object, refuses to stack on a delta it conflicts with, records an
//! undo delta, changes the newest state, maintains indexes while still holding the lock,
//! and appends an [`Op`] to the transaction's log (the commit record is encoded from it).
//! Reads live in `read.rs`.

use crate::delta::{Adjacent, CommitState, Delta, UndoAction, Viewer};
use crate::error::{Result, StorageError};
use crate::fingerprint::running;
use crate::pipeline::{CommitEntry, CommitError};
use crate::record::Op;
use crate::storage::Inner;
use crate::vertex::{remove_adjacent, EdgeSlot, Life, VertexData};
use parking_lot::MutexGuard;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use weft_common::{EdgeRef, EdgeTypeId, Gid, LabelId, PropertyId, Value};

/// A running transaction. Dropping it without [`Transaction::commit`] aborts it.
pub struct Transaction {
    pub(crate) inner: Arc<Inner>,
    pub(crate) viewer: Viewer,
    state: Arc<CommitState>,
    log: TxnLog,
    /// Label count changes this transaction made, one entry per label, counted when it
    /// commits.
    label_changes: Vec<(LabelId, i64)>,
    /// Labels whose membership this transaction changed, each counted in once
    /// ([`crate::members::Members::begin_change`]); counted out when it aborts, or by the
    /// garbage collector once its commit is collected.
    changing_labels: Vec<LabelId>,
    /// Vertex property keys this transaction set, each counted in once
    /// ([`crate::columns::Columns::begin_property_change`]) and out as `changing_labels`.
    changing_props: Vec<PropertyId>,
    open: bool,
    /// Applies a received commit record: its first change asks no sink's leave.
    pub(crate) replay: bool,
    /// The pipeline's local epoch at this transaction's first change.
    epoch: Option<u64>,
}

#[derive(Default)]
struct TxnLog {
    ops: Vec<Op>,
    vertices: Vec<Gid>,
    edges: Vec<Gid>,
}

impl TxnLog {
    fn vertex(&mut self, gid: Gid) {
        if self.vertices.last() != Some(&gid) {
            self.vertices.push(gid);
        }
    }
}

/// Edge ids stay below this, the size of the edge table (as vertex ids stay below the
/// vertex table's); ids are not reused.
pub(crate) const MAX_EDGE_ID: u64 = crate::table::MAX_SLOTS;

/// Refuses values the durable encoding cannot read back.
fn check_value(value: &Value) -> Result<()> {
    let depth = value.nesting_depth();
    if depth > weft_common::encoding::MAX_DEPTH {
        return Err(StorageError::InvalidValue(format!(
            "lists and maps may nest at most {} levels deep, this value nests {depth}",
            weft_common::encoding::MAX_DEPTH
        )));
    }
    Ok(())
}

fn push_delta(head: &mut Option<Box<Delta>>, state: &Arc<CommitState>, action: UndoAction) {
    let next = head.take();
    *head = Some(Box::new(Delta {
        state: state.clone(),
        action,
        next,
    }));
}

impl Inner {
    /// Locks a vertex for writing on behalf of `viewer`.
    pub(crate) fn write_vertex(&self, viewer: &Viewer, gid: Gid) -> Result<MutexGuard<'_, VertexData>> {
        let slot = self.vertices.get(gid.0).ok_or(StorageError::VertexNotFound(gid))?;
        let guard = slot.lock();
        if let Some(d) = &guard.delta {
            if viewer.conflicts_with(d.state.get()) {
                return Err(StorageError::SerializationConflict(format!("vertex {gid}")));
            }
        }
        if guard.life != Life::Live {
            return Err(StorageError::VertexNotFound(gid));
        }
        Ok(guard)
    }

    /// Locks two vertices for writing, in id order; the second guard is `None` for a loop.
    fn write_pair(
        &self,
        viewer: &Viewer,
        from: Gid,
        to: Gid,
    ) -> Result<(MutexGuard<'_, VertexData>, Option<MutexGuard<'_, VertexData>>)> {
        if from == to {
            return Ok((self.write_vertex(viewer, from)?, None));
        }
        let first = self.write_vertex(viewer, from.min(to))?;
        let second = self.write_vertex(viewer, from.max(to))?;
        Ok(if from < to {
            (first, Some(second))
        } else {
            (second, Some(first))
        })
    }

    /// The slot of an edge (an edge id is always below [`MAX_EDGE_ID`], the table's size).
    pub(crate) fn edge_slot(&self, gid: Gid) -> Result<&EdgeSlot> {
        self.edges
            .ensure(gid.0)
            .ok_or_else(|| StorageError::Apply(format!("edge id {gid} is out of range")))
    }

    /// Whether an edge id has a slot in use (a new edge's id must not).
    pub(crate) fn edge_in_use(&self, gid: Gid) -> bool {
        self.edges.get(gid.0).is_some_and(|slot| !slot.lock().is_vacant())
    }
}

impl Transaction {
    /// The storage this transaction runs on.
    pub fn storage(&self) -> crate::Storage {
        crate::Storage {
            inner: self.inner.clone(),
        }
    }

    /// Adds `by` to this transaction's change of `label`'s count (one entry per label).
    fn count_change(&mut self, label: LabelId, by: i64) {
        match self.label_changes.iter_mut().find(|(l, _)| *l == label) {
            Some((_, n)) => *n += by,
            None => self.label_changes.push((label, by)),
        }
    }

    /// Counts the transaction in as changing `label`'s membership, once per label; called
    /// before the change. Takes the two fields it needs, so a caller holding a vertex's
    /// lock (which borrows `inner`) can call it.
    fn begin_label_change(inner: &Inner, changing: &mut Vec<LabelId>, label: LabelId) {
        if !changing.contains(&label) {
            inner.members.begin_change(label);
            changing.push(label);
        }
    }

    /// True while the transaction has made no change.
    pub(crate) fn wrote_nothing(&self) -> bool {
        self.log.ops.is_empty()
    }

    pub(crate) fn new(inner: Arc<Inner>, viewer: Viewer, state: Arc<CommitState>) -> Self {
        Transaction {
            inner,
            viewer,
            state,
            log: TxnLog::default(),
            label_changes: Vec::new(),
            changing_labels: Vec::new(),
            changing_props: Vec::new(),
            open: true,
            replay: false,
            epoch: None,
        }
    }

    /// The timestamp this transaction reads at (snapshot isolation).
    pub fn start_ts(&self) -> u64 {
        self.viewer.start_ts
    }

    fn ensure_open(&self) -> Result<()> {
        if self.open {
            Ok(())
        } else {
            Err(StorageError::TransactionClosed)
        }
    }

    /// A transaction an applied commit took objects from (`wound.rs`) fails from then on.
    fn ensure_unwounded(&self) -> Result<()> {
        if self.state.is_wounded() {
            return Err(StorageError::SerializationConflict(
                "this transaction was rolled back: this member applied a commit from its leader that changes \
                 the same objects (it no longer takes writes); retry on the leader"
                    .into(),
            ));
        }
        Ok(())
    }

    /// This transaction's commit state (an applier compares it with what it meets).
    pub(crate) fn commit_state(&self) -> &Arc<CommitState> {
        &self.state
    }

    /// Before a change: the transaction is open and, before its first change, the commit
    /// pipeline would take a local commit now. A refused write holds nothing, so it can
    /// never stand in the way of a record this member applies.
    fn ensure_writable(&mut self) -> Result<()> {
        self.ensure_open()?;
        self.ensure_unwounded()?;
        if self.log.ops.is_empty() && !self.replay {
            if let Some(refusal) = self.inner.pipeline.local_refusal() {
                return Err(StorageError::Commit(refusal));
            }
            self.epoch.get_or_insert_with(|| self.inner.pipeline.local_epoch());
        }
        Ok(())
    }

    /// At commit, under the commit lock: the transaction began writing in this spell of
    /// taking local commits ([`crate::CommitSink::local_epoch`]).
    fn ensure_same_epoch(&self) -> Result<()> {
        match self.epoch {
            Some(epoch) if epoch != self.inner.pipeline.local_epoch() => Err(StorageError::SerializationConflict(
                "this transaction began writing before this member last lost and regained the lead; \
                 retry it"
                    .into(),
            )),
            _ => Ok(()),
        }
    }

    /// Creates a vertex without labels or properties.
    pub fn create_vertex(&mut self) -> Result<Gid> {
        self.ensure_writable()?;
        let (id, _) = self
            .inner
            .vertices
            .allocate()
            .ok_or_else(|| StorageError::Limit("vertex ids exhausted".into()))?;
        self.init_vertex(Gid(id))
    }

    /// Creates a vertex with a given id (replay of a commit record).
    pub(crate) fn create_vertex_with_gid(&mut self, gid: Gid) -> Result<Gid> {
        self.ensure_open()?;
        self.inner
            .vertices
            .ensure(gid.0)
            .ok_or_else(|| StorageError::Apply(format!("vertex id {gid} out of range")))?;
        self.init_vertex(gid)
    }

    fn init_vertex(&mut self, gid: Gid) -> Result<Gid> {
        let slot = self
            .inner
            .vertices
            .get(gid.0)
            .ok_or(StorageError::VertexNotFound(gid))?;
        let mut v = slot.lock();
        if v.life != Life::Empty || v.delta.is_some() {
            return Err(StorageError::Apply(format!("vertex id {gid} is already in use")));
        }
        v.life = Life::Live;
        push_delta(&mut v.delta, &self.state, UndoAction::DeleteObject);
        drop(v);
        self.inner.vertex_count.fetch_add(1, Ordering::Relaxed);
        self.log.vertex(gid);
        self.log.ops.push(Op::CreateVertex(gid));
        Ok(gid)
    }

    /// Deletes a vertex; with `detach`, its edges first, otherwise a vertex with edges is
    /// refused.
    pub fn delete_vertex(&mut self, gid: Gid, detach: bool) -> Result<()> {
        self.ensure_writable()?;
        loop {
            let mut v = self.inner.write_vertex(&self.viewer, gid)?;
            let mut edges: Vec<EdgeRef> = v
                .out_edges
                .iter()
                .map(|a| EdgeRef {
                    gid: a.edge(),
                    from: gid,
                    to: a.other(),
                    edge_type: a.edge_type(),
                })
                .chain(v.in_edges.iter().map(|a| EdgeRef {
                    gid: a.edge(),
                    from: a.other(),
                    to: gid,
                    edge_type: a.edge_type(),
                }))
                .collect();
            if edges.is_empty() {
                let labels: Vec<LabelId> = v.label_vec();
                for label in &labels {
                    Self::begin_label_change(&self.inner, &mut self.changing_labels, *label);
                }
                v.life = Life::Deleted;
                push_delta(&mut v.delta, &self.state, UndoAction::RecreateObject);
                drop(v);
                labels.iter().for_each(|l| self.count_change(*l, -1));
                self.inner.vertex_count.fetch_sub(1, Ordering::Relaxed);
                self.log.vertex(gid);
                self.log.ops.push(Op::DeleteVertex(gid));
                return Ok(());
            }
            if !detach {
                return Err(StorageError::VertexHasEdges(gid));
            }
            drop(v);
            edges.sort_unstable();
            edges.dedup();
            for e in &edges {
                self.delete_edge(e)?;
            }
        }
    }

    /// Adds a label; `false` when the vertex already had it.
    pub fn add_label(&mut self, gid: Gid, label: LabelId) -> Result<bool> {
        self.ensure_writable()?;
        let mut v = self.inner.write_vertex(&self.viewer, gid)?;
        if v.has_label(label) {
            return Ok(false);
        }
        Self::begin_label_change(&self.inner, &mut self.changing_labels, label);
        push_delta(&mut v.delta, &self.state, UndoAction::RemoveLabel(label));
        v.push_label(label);
        self.inner.label_added(&self.inner.schema(), gid, &v, label);
        drop(v);
        self.count_change(label, 1);
        self.log.vertex(gid);
        self.log.ops.push(Op::AddLabel(gid, label));
        Ok(true)
    }

    /// Removes a label; `false` when the vertex did not have it.
    pub fn remove_label(&mut self, gid: Gid, label: LabelId) -> Result<bool> {
        self.ensure_writable()?;
        let mut v = self.inner.write_vertex(&self.viewer, gid)?;
        if !v.has_label(label) {
            return Ok(false);
        }
        Self::begin_label_change(&self.inner, &mut self.changing_labels, label);
        push_delta(&mut v.delta, &self.state, UndoAction::AddLabel(label));
        v.pull_label(label);
        drop(v);
        self.count_change(label, -1);
        self.log.vertex(gid);
        self.log.ops.push(Op::RemoveLabel(gid, label));
        Ok(true)
    }

    /// Sets a vertex property (`Value::Null` removes it); returns the old value.
    pub fn set_vertex_property(&mut self, gid: Gid, key: PropertyId, value: Value) -> Result<Option<Value>> {
        self.ensure_writable()?;
        check_value(&value)?;
        let mut v = self.inner.write_vertex(&self.viewer, gid)?;
        if !self.changing_props.contains(&key) {
            self.inner.columns.begin_property_change(key);
            self.changing_props.push(key);
        }
        let old = v.props.set(key, Some(value.clone()));
        push_delta(&mut v.delta, &self.state, UndoAction::SetProperty(key, old.clone()));
        if !value.is_null() {
            self.inner.schema().property_set(gid, &v, key);
        }
        drop(v);
        self.log.vertex(gid);
        self.log.ops.push(Op::SetVertexProperty(gid, key, value));
        Ok(old)
    }

    /// Creates an edge `from -[edge_type]-> to`.
    pub fn create_edge(&mut self, from: Gid, to: Gid, edge_type: EdgeTypeId) -> Result<EdgeRef> {
        self.ensure_writable()?;
        let gid = Gid(self.inner.next_edge.fetch_add(1, Ordering::Relaxed));
        if gid.0 >= MAX_EDGE_ID {
            self.inner.next_edge.fetch_sub(1, Ordering::Relaxed);
            return Err(StorageError::Limit("edge ids exhausted".into()));
        }
        self.link_edge(EdgeRef {
            gid,
            from,
            to,
            edge_type,
        })
    }

    /// Creates an edge with a given id (replay of a commit record).
    pub(crate) fn create_edge_with_gid(&mut self, e: EdgeRef) -> Result<EdgeRef> {
        self.ensure_open()?;
        if e.gid.0 >= MAX_EDGE_ID {
            return Err(StorageError::Apply(format!("edge id {} is out of range", e.gid)));
        }
        if self.inner.edge_in_use(e.gid) {
            return Err(StorageError::Apply(format!("edge id {} is already in use", e.gid)));
        }
        self.inner
            .next_edge
            .fetch_max(e.gid.0.saturating_add(1), Ordering::Relaxed);
        self.link_edge(e)
    }

    fn link_edge(&mut self, e: EdgeRef) -> Result<EdgeRef> {
        let (mut from, mut to) = self.inner.write_pair(&self.viewer, e.from, e.to)?;
        push_delta(&mut from.delta, &self.state, UndoAction::RemoveOutEdge(e.gid));
        from.out_edges.push(Adjacent::new(e.edge_type, e.to, e.gid));
        let target: &mut VertexData = match &mut to {
            Some(t) => t,
            None => &mut from,
        };
        push_delta(&mut target.delta, &self.state, UndoAction::RemoveInEdge(e.gid));
        target.in_edges.push(Adjacent::new(e.edge_type, e.from, e.gid));
        self.inner.sources.insert(e.edge_type, e.from);
        drop((from, to));
        self.log.vertex(e.from);
        self.log.vertex(e.to);
        self.log.ops.push(Op::CreateEdge(e));
        Ok(e)
    }

    /// Deletes an edge.
    pub fn delete_edge(&mut self, e: &EdgeRef) -> Result<()> {
        self.ensure_writable()?;
        let (mut from, mut to) = self.inner.write_pair(&self.viewer, e.from, e.to)?;
        // The handle must describe the stored edge exactly, or the two adjacency lists
        // would be changed inconsistently.
        let Some(out) = from
            .out_edges
            .iter()
            .find(|a| a.edge() == e.gid && a.other() == e.to && a.edge_type() == e.edge_type)
            .copied()
        else {
            return Err(StorageError::EdgeNotFound(e.gid));
        };
        // An edge whose slot is in use (it has properties, or a property write is pending)
        // is marked deleted there, so that a concurrent property write conflicts on it.
        // One without takes no slot: its deletion is versioned by the adjacency deltas of
        // its ends, which a property write checks (`set_edge_property`), so deleting
        // property-less edges allocates nothing.
        let used = match self.inner.edges.get(e.gid.0) {
            Some(slot) => Some(slot.lock()).filter(|data| !data.is_vacant()),
            None => None,
        };
        let marked = used.is_some();
        if let Some(mut data) = used {
            if let Some(d) = &data.delta {
                if self.viewer.conflicts_with(d.state.get()) {
                    return Err(StorageError::SerializationConflict(format!("edge {}", e.gid)));
                }
            }
            data.deleted = true;
            push_delta(&mut data.delta, &self.state, UndoAction::RecreateObject);
        }
        remove_adjacent(&mut from.out_edges, e.gid);
        push_delta(&mut from.delta, &self.state, UndoAction::AddOutEdge(out));
        let target: &mut VertexData = match &mut to {
            Some(t) => t,
            None => &mut from,
        };
        remove_adjacent(&mut target.in_edges, e.gid);
        let back = Adjacent::new(out.edge_type(), e.from, e.gid);
        push_delta(&mut target.delta, &self.state, UndoAction::AddInEdge(back));
        drop((from, to));
        self.log.vertex(e.from);
        self.log.vertex(e.to);
        if marked {
            self.log.edges.push(e.gid);
        }
        self.log.ops.push(Op::DeleteEdge(*e));
        Ok(())
    }

    /// Sets an edge property (`Value::Null` removes it); returns the old value.
    pub fn set_edge_property(&mut self, e: &EdgeRef, key: PropertyId, value: Value) -> Result<Option<Value>> {
        self.ensure_writable()?;
        check_value(&value)?;
        let slot = self
            .inner
            .vertices
            .get(e.from.0)
            .ok_or(StorageError::EdgeNotFound(e.gid))?;
        let from = slot.lock();
        let visible = crate::vertex::visible_out_edge(&from, &self.viewer, e.gid)
            .is_some_and(|a| a.other() == e.to && a.edge_type() == e.edge_type);
        if !visible {
            let conflict = from
                .delta
                .as_ref()
                .is_some_and(|d| self.viewer.conflicts_with(d.state.get()));
            return Err(if conflict {
                StorageError::SerializationConflict(format!("edge {}", e.gid))
            } else {
                StorageError::EdgeNotFound(e.gid)
            });
        }
        // A deletion this transaction must not overlook (pending, or committed after it
        // started) of an edge without a slot shows only on the source vertex. Such deltas
        // can only sit at the head of its chain: no writer adds to a vertex whose head it
        // conflicts with, so the walk stops at the first delta this one does not.
        let deleted_meanwhile = crate::delta::chain(&from.delta)
            .take_while(|d| self.viewer.conflicts_with(d.state.get()))
            .any(|d| matches!(d.action, UndoAction::AddOutEdge(a) if a.edge() == e.gid));
        if deleted_meanwhile {
            return Err(StorageError::SerializationConflict(format!("edge {}", e.gid)));
        }
        let mut data = self.inner.edge_slot(e.gid)?.lock();
        if let Some(d) = &data.delta {
            if self.viewer.conflicts_with(d.state.get()) {
                return Err(StorageError::SerializationConflict(format!("edge {}", e.gid)));
            }
        }
        if data.deleted {
            return Err(StorageError::EdgeNotFound(e.gid));
        }
        let old = data.props.set(key, Some(value.clone()));
        push_delta(&mut data.delta, &self.state, UndoAction::SetProperty(key, old.clone()));
        drop((data, from));
        self.log.edges.push(e.gid);
        self.log.ops.push(Op::SetEdgeProperty(*e, key, value));
        Ok(old)
    }

    /// Commits; returns the commit timestamp, or `None` for a transaction that wrote
    /// nothing. On error the transaction is aborted.
    pub fn commit(self) -> Result<Option<u64>> {
        self.commit_warned().map(|(ts, _)| ts)
    }

    /// [`Transaction::commit`], with the warning a sink gave about a commit that stands
    /// degraded (a SYNC replica that did not get it), for the client to be told.
    pub fn commit_warned(mut self) -> Result<(Option<u64>, Option<CommitError>)> {
        self.commit_inner(None)
    }

    /// Stages a received record's operations at its timestamp, passing its bytes on
    /// unchanged (replay, replication, Raft): every sink holds the record, and it is
    /// committed for later writers, but not yet waited on or published.
    pub(crate) fn stage_applied(mut self, applied: CommitEntry<'_>) -> Result<Staged> {
        self.stage(Some(applied))?
            .ok_or_else(|| StorageError::Apply("an applied record staged no commit".into()))
    }

    fn commit_inner(&mut self, applied: Option<CommitEntry<'_>>) -> Result<(Option<u64>, Option<CommitError>)> {
        match self.stage(applied)? {
            Some(staged) => staged.settle().map(|(ts, warning)| (Some(ts), warning)),
            None => Ok((None, None)),
        }
    }

    /// Step 1 of the commit pipeline: under the commit lock, a timestamp, the record to
    /// every sink, and the commit marked for writers. `None` for a transaction that
    /// wrote nothing (it is finished here). On error the transaction is aborted.
    fn stage(&mut self, applied: Option<CommitEntry<'_>>) -> Result<Option<Staged>> {
        self.ensure_open()?;
        if self.log.ops.is_empty() && applied.is_none() {
            self.open = false;
            self.inner.finish(self.viewer.start_ts);
            return Ok(None);
        }
        let inner = self.inner.clone();
        // Worked out before the lock: no other writer can touch this one's objects.
        let txn_id = self.viewer.txn_id;
        let change = running::kept(&inner).then(|| running::change_of(&inner, txn_id, &self.log.ops));
        let serial = inner.commit_lock.lock();
        let staged = (|| {
            // Under the commit lock, which wounding takes too.
            self.ensure_unwounded()?;
            self.ensure_same_epoch()?;
            crate::constraints::validate_commit(&inner, &self.viewer, &self.log.vertices)?;
            let ts = inner.next_commit_ts(applied.map(|a| a.ts))?;
            let mut encoded = Vec::new();
            let entry = CommitEntry::applied_or_local(applied, ts, &mut encoded, || {
                crate::record::encode_transaction(&inner, ts, &self.log.ops)
            });
            let tickets = inner.pipeline.append(&entry)?;
            Ok((ts, tickets))
        })();
        match staged {
            Ok((ts, tickets)) => {
                running::record(&inner, ts, change, txn_id, &self.log.ops);
                inner.count_labels(ts, self.label_changes.drain(..));
                // Committed from here on: read-committed readers, constraint checks and
                // write conflicts see it. New snapshots see it once it is published,
                // after every sink holds its record.
                self.state.commit(ts);
                inner.assign(ts);
                let log = std::mem::take(&mut self.log);
                let settles = crate::gc::Settles {
                    labels: std::mem::take(&mut self.changing_labels),
                    props: std::mem::take(&mut self.changing_props),
                };
                inner.gc.push(ts, log.vertices, log.edges, settles);
                self.open = false;
                drop(serial);
                Ok(Some(Staged {
                    ts,
                    tickets: Some(tickets),
                    start_ts: self.viewer.start_ts,
                    inner,
                }))
            }
            Err(e) => {
                drop(serial);
                self.abort_inner();
                Err(e)
            }
        }
    }

    /// Aborts, undoing every write.
    pub fn abort(mut self) {
        self.abort_inner();
    }

    fn abort_inner(&mut self) {
        if !self.open {
            return;
        }
        self.open = false;
        for gid in self.log.vertices.iter().rev() {
            let Some(slot) = self.inner.vertices.get(gid.0) else {
                continue;
            };
            self.inner.undo_vertex_changes(*gid, &mut slot.lock(), &self.state);
        }
        for gid in self.log.edges.iter().rev() {
            let Some(slot) = self.inner.edges.get(gid.0) else {
                continue;
            };
            Inner::undo_edge_changes(&mut slot.lock(), &self.state);
        }
        // Undone, with the member bits it set settled: counted out.
        for label in self.changing_labels.drain(..) {
            self.inner.members.end_change(label);
        }
        for key in self.changing_props.drain(..) {
            self.inner.columns.end_property_change(key);
        }
        self.inner.gc.mark_dirty();
        self.inner.finish(self.viewer.start_ts);
    }
}

/// A commit staged in the pipeline (step 1 done) and not yet settled. Dropped unsettled
/// (a panic between the two steps), it settles then, so that the commit is published
/// or the pipeline stopped, and the transaction finished, whatever happened.
#[must_use = "a staged commit is acknowledged only once settled"]
pub(crate) struct Staged {
    pub ts: u64,
    tickets: Option<crate::pipeline::Tickets>,
    start_ts: u64,
    inner: Arc<Inner>,
}

impl Staged {
    /// Steps 2 and 3: waits on every sink, publishes, and finishes the transaction,
    /// with this thread's slot given back meanwhile; the timestamp and the warning of a
    /// commit that stands degraded.
    pub(crate) fn settle(mut self) -> Result<(u64, Option<CommitError>)> {
        let settled = self.settle_now();
        settled.result_warned().map(|warning| (self.ts, warning))
    }

    fn settle_now(&mut self) -> crate::storage::Settled {
        let tickets = self.tickets.take().expect("a staged commit settles once");
        let (inner, ts, start_ts) = (&self.inner, self.ts, self.start_ts);
        let may_block = tickets.may_block();
        let settle = move || {
            let settled = inner.settle(ts, tickets);
            inner.finish(start_ts);
            settled
        };
        if may_block {
            crate::slot::outside_slot(settle)
        } else {
            settle()
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if self.tickets.is_some() {
            let _ = self.settle_now();
        }
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        self.abort_inner();
    }
}
