//! The storage instance: object tables, timestamps, the set of running transactions and
//! the commit pipeline's serialisation point.
//!
//! Timestamps: `last_committed` is the newest commit timestamp. A transaction starting
//! now reads at `start_ts = last_committed` and sees every commit with `ts <= start_ts`.
//! Commits (and DDL) are serialised by `commit_lock`; each takes the timestamp after the
//! newest one handed out (or the one a replayed record carries), which gives one total
//! order.
//!
//! Every commit goes through the [`crate::pipeline`]: its record is appended to each sink
//! (the write-ahead log first) under the lock, then waited on outside it, so concurrent
//! committers share one sync (group commit). Its changes become visible to new snapshots
//! only after that: `last_committed` moves past a timestamp only once its record is
//! durable. Because the log makes records durable in append order, a durable timestamp
//! means every earlier one is durable too.

use crate::delta::{CommitState, IsolationLevel, Viewer, TXN_ID_BASE};
use crate::error::Result;
use crate::gc::GcQueue;
use crate::index::Schema;
use crate::names::NameMapper;
use crate::pipeline::{CommitError, CommitSink, Pipeline, Tickets};
use crate::table::SlotTable;
use crate::txn::Transaction;
use crate::vertex::{EdgeSlot, VertexSlot};
use parking_lot::{Mutex, RwLock};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use weft_common::{EdgeTypeId, Gid, LabelId, PropertyId};

pub(crate) struct EngineState {
    /// The newest timestamp whose commit new snapshots see.
    pub last_committed: u64,
    /// The newest timestamp handed to a commit (at least `last_committed`).
    pub assigned: u64,
    pub next_txn: u64,
    /// start timestamp → number of running transactions that started there.
    pub active: BTreeMap<u64, usize>,
}

pub(crate) struct Inner {
    pub vertices: SlotTable<VertexSlot>,
    pub next_edge: AtomicU64,
    /// Edge slots by edge id; see `vertex.rs` for when an edge uses its slot.
    pub edges: SlotTable<EdgeSlot>,
    pub labels: NameMapper,
    pub edge_types: NameMapper,
    pub properties: NameMapper,
    pub engine: Mutex<EngineState>,
    pub commit_lock: Mutex<()>,
    pub schema: RwLock<Arc<Schema>>,
    pub gc: GcQueue,
    pub pipeline: Pipeline,
    pub vertex_count: AtomicI64,
    /// Per label, the vertices with it as of the newest staged commit, and the timestamp
    /// of the last commit that changed that number (see [`Inner::count_labels`]).
    pub label_counts: Mutex<std::collections::HashMap<LabelId, LabelCount>>,
    /// Every label's vertices, for label scans.
    pub members: crate::members::LabelMembers,
    /// Every edge type's source vertices, for edge-type scans.
    pub sources: crate::members::TypeSources,
    /// Property change counts and the property columns kept between scans.
    pub columns: crate::columns::Columns,
    /// The running fingerprint, once asked for ([`crate::fingerprint::running`]).
    pub fingerprint: Mutex<crate::fingerprint::running::Running>,
}

/// How many vertices have a label, and since when that number holds.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LabelCount {
    pub vertices: i64,
    /// The newest commit that changed `vertices`: a snapshot at or after it sees exactly
    /// that many.
    pub changed_at: u64,
}

/// How a staged commit ended (see [`Inner::settle`]).
pub(crate) struct Settled {
    /// True when new snapshots see the commit.
    pub published: bool,
    pub error: Option<CommitError>,
}

impl Settled {
    /// The committer's answer: the first sink error, if any; for a commit that stands,
    /// one that says it committed ([`crate::StorageError::NotConfirmed`]).
    pub fn result(self) -> Result<()> {
        self.result_warned().map(drop)
    }

    /// [`Settled::result`], with the warning of a commit that stands degraded
    /// ([`crate::CommitErrorKind::Degraded`]).
    pub fn result_warned(self) -> Result<Option<CommitError>> {
        match self.error {
            None => Ok(None),
            Some(error) if self.published && error.kind == crate::CommitErrorKind::Degraded => Ok(Some(error)),
            Some(error) if self.published => Err(crate::StorageError::NotConfirmed(error)),
            Some(error) => Err(error.into()),
        }
    }
}

/// A handle to one in-memory graph; clones share it.
#[derive(Clone)]
pub struct Storage {
    pub(crate) inner: Arc<Inner>,
}

impl Default for Storage {
    fn default() -> Self {
        Self::new()
    }
}

impl Storage {
    /// An empty graph.
    pub fn new() -> Self {
        let inner = Inner {
            vertices: SlotTable::new(),
            next_edge: AtomicU64::new(0),
            edges: SlotTable::new(),
            labels: NameMapper::default(),
            edge_types: NameMapper::default(),
            properties: NameMapper::default(),
            engine: Mutex::new(EngineState {
                last_committed: 0,
                assigned: 0,
                next_txn: TXN_ID_BASE,
                active: BTreeMap::new(),
            }),
            commit_lock: Mutex::new(()),
            schema: RwLock::new(Arc::new(Schema::default())),
            gc: GcQueue::default(),
            pipeline: Pipeline::default(),
            vertex_count: AtomicI64::new(0),
            label_counts: Mutex::default(),
            members: Default::default(),
            sources: Default::default(),
            columns: Default::default(),
            fingerprint: Mutex::default(),
        };
        Storage { inner: Arc::new(inner) }
    }

    /// Starts a transaction.
    pub fn begin(&self, isolation: IsolationLevel) -> Transaction {
        self.begin_at(isolation, |engine| engine.last_committed)
    }

    /// A snapshot-isolation transaction that sees every commit assigned so far, also
    /// those staged and not yet published: for applying a group of received records,
    /// where each must see the ones before it (nobody else writes meanwhile).
    pub(crate) fn begin_after_assigned(&self) -> Transaction {
        self.begin_at(IsolationLevel::SnapshotIsolation, |engine| {
            engine.assigned.max(engine.last_committed)
        })
    }

    fn begin_at(&self, isolation: IsolationLevel, start: impl FnOnce(&EngineState) -> u64) -> Transaction {
        let viewer = {
            let mut engine = self.inner.engine.lock();
            let txn_id = engine.next_txn;
            engine.next_txn += 1;
            let start_ts = start(&engine);
            *engine.active.entry(start_ts).or_insert(0) += 1;
            Viewer {
                txn_id,
                start_ts,
                isolation,
            }
        };
        Transaction::new(self.inner.clone(), viewer, CommitState::running(viewer.txn_id))
    }

    /// Adds a stage at the end of the commit pipeline: from the next commit on, every
    /// record passes through it before the commit is visible or acknowledged.
    pub fn add_commit_sink(&self, sink: Arc<dyn CommitSink>) {
        self.inner.pipeline.push(sink);
    }

    /// Removes the commit sink called `name`; true if there was one.
    pub fn remove_commit_sink(&self, name: &str) -> bool {
        self.inner.pipeline.remove(name)
    }

    /// The commit sinks' names, in pipeline order.
    pub fn commit_sinks(&self) -> Vec<String> {
        self.inner.pipeline.names()
    }

    /// The error that stopped the commit pipeline, when one did: writes are refused.
    pub fn commit_failure(&self) -> Option<CommitError> {
        self.inner.pipeline.failure()
    }

    /// Refuses every later commit with `error`, for good (a storage that an installed
    /// snapshot replaced: a straggling commit must fail, not vanish).
    pub fn retire(&self, error: CommitError) {
        self.inner.pipeline.retire(error);
    }

    /// The newest commit timestamp.
    pub fn last_committed(&self) -> u64 {
        self.inner.engine.lock().last_committed
    }

    /// The newest commit timestamp handed out: published, or staged and still settling.
    pub fn last_assigned(&self) -> u64 {
        let engine = self.inner.engine.lock();
        engine.assigned.max(engine.last_committed)
    }

    /// Interns a label name.
    pub fn label(&self, name: &str) -> LabelId {
        LabelId(self.inner.labels.intern(name))
    }

    /// Interns an edge type name.
    pub fn edge_type(&self, name: &str) -> EdgeTypeId {
        EdgeTypeId(self.inner.edge_types.intern(name))
    }

    /// Interns a property key name.
    pub fn property(&self, name: &str) -> PropertyId {
        PropertyId(self.inner.properties.intern(name))
    }

    /// A label's id if the name is known (queries on unknown names match nothing).
    pub fn find_label(&self, name: &str) -> Option<LabelId> {
        self.inner.labels.lookup(name).map(LabelId)
    }

    /// An edge type's id if the name is known.
    pub fn find_edge_type(&self, name: &str) -> Option<EdgeTypeId> {
        self.inner.edge_types.lookup(name).map(EdgeTypeId)
    }

    /// A property key's id if the name is known.
    pub fn find_property(&self, name: &str) -> Option<PropertyId> {
        self.inner.properties.lookup(name).map(PropertyId)
    }

    pub fn label_name(&self, id: LabelId) -> String {
        self.inner.labels.name(id.0)
    }

    pub fn edge_type_name(&self, id: EdgeTypeId) -> String {
        self.inner.edge_types.name(id.0)
    }

    pub fn property_name(&self, id: PropertyId) -> String {
        self.inner.properties.name(id.0)
    }

    /// Approximate number of vertices (counts uncommitted writes; for planning).
    pub fn approx_vertex_count(&self) -> u64 {
        self.inner.vertex_count.load(Ordering::Relaxed).max(0) as u64
    }

    /// Edge ids handed out so far: the number of edges, plus those deleted since the
    /// last restart (for planning estimates).
    pub fn approx_edge_count(&self) -> u64 {
        self.inner.next_edge.load(Ordering::Relaxed)
    }

    /// Ids in `label`'s member set: every vertex with the label, and any whose bit was
    /// not cleared yet (for diagnostics and tests; see `members.rs`).
    pub fn label_members(&self, label: LabelId) -> usize {
        self.inner.members.set(label).map_or(0, |m| m.gids().len())
    }

    /// Ids in `edge_type`'s source set (as [`Storage::label_members`] for labels).
    pub fn type_sources(&self, edge_type: EdgeTypeId) -> usize {
        self.inner.sources.set(edge_type).map_or(0, |m| m.gids().len())
    }

    /// Number of vertices with `label` as of the newest commit (for planning).
    pub fn approx_label_count(&self, label: LabelId) -> u64 {
        let counts = self.inner.label_counts.lock();
        counts.get(&label).map_or(0, |c| c.vertices.max(0) as u64)
    }

    /// Approximate number of vertices with `label` and `prop` set, when that index exists.
    pub fn approx_label_property_count(&self, label: LabelId, prop: PropertyId) -> Option<u64> {
        let schema = self.inner.schema.read().clone();
        let index = schema.label_property.get(&(label, prop))?;
        Some(index.len.load(Ordering::Relaxed).max(0) as u64)
    }

    /// Approximate number of distinct values of `prop` among vertices with `label`, when
    /// that index exists.
    pub fn approx_distinct_values(&self, label: LabelId, prop: PropertyId) -> Option<u64> {
        let schema = self.inner.schema.read().clone();
        Some(schema.label_property.get(&(label, prop))?.distinct_values())
    }

    /// Number of running transactions.
    pub fn active_transactions(&self) -> usize {
        self.inner.engine.lock().active.values().sum()
    }

    /// Labels whose membership a transaction changed that is not settled yet (running,
    /// or committed and not yet collected): checks of these labels visit the vertex
    /// instead of reading the member bit ([`crate::members`]).
    pub fn unsettled_labels(&self) -> usize {
        self.inner.members.unsettled_keys()
    }

    /// Property keys a transaction set on some vertex that is not settled yet: label
    /// scans reading them visit every vertex instead of kept columns (`columns.rs`).
    pub fn unsettled_properties(&self) -> usize {
        self.inner.columns.unsettled_properties()
    }

    /// Label scans answered from columns an earlier scan kept, since the start.
    pub fn kept_column_reads(&self) -> u64 {
        self.inner.columns.reads()
    }

    /// Keeps the columns of label scans over at least `members` vertices (4096 unless
    /// set): for tests, which keep them on small graphs.
    #[doc(hidden)]
    pub fn keep_columns_from(&self, members: usize) {
        self.inner.columns.set_keep_min(members);
    }
}

impl Inner {
    /// Start timestamp of the oldest running transaction, but no later than the newest
    /// published commit (a transaction applying staged records starts past it, and a
    /// reader beginning now starts at it): deltas committed at or before it are needed
    /// by nobody.
    pub fn oldest_active(&self) -> u64 {
        let engine = self.engine.lock();
        let oldest = engine.active.keys().next().copied().unwrap_or(engine.last_committed);
        oldest.min(engine.last_committed)
    }

    /// Forgets a finished transaction.
    pub fn finish(&self, start_ts: u64) {
        let mut engine = self.engine.lock();
        if let Some(n) = engine.active.get_mut(&start_ts) {
            *n -= 1;
            if *n == 0 {
                engine.active.remove(&start_ts);
            }
        }
    }

    /// Records that a vertex just gained `label`: its label set and the tuple indexes of
    /// `schema` (the writer holds the vertex's lock).
    pub(crate) fn label_added(&self, schema: &Schema, gid: Gid, v: &crate::vertex::VertexData, label: LabelId) {
        self.members.insert(label, gid);
        schema.label_added(gid, v, label);
    }

    /// Adds a commit's label count changes, at its timestamp `ts`: called under the
    /// commit lock once the commit is staged (its changes are then committed state), by
    /// the direct loader at the record's timestamp, or by the snapshot loader, which fills
    /// the storage before anyone reads it, at 0.
    pub fn count_labels(&self, ts: u64, changes: impl IntoIterator<Item = (LabelId, i64)>) {
        let mut counts = self.label_counts.lock();
        for (label, by) in changes {
            if by != 0 {
                let count = counts.entry(label).or_default();
                count.vertices += by;
                count.changed_at = count.changed_at.max(ts);
            }
        }
    }

    /// The schema in force; callers that maintain indexes must hold the object's lock
    /// while calling this.
    pub fn schema(&self) -> Arc<Schema> {
        self.schema.read().clone()
    }

    /// Steps 2 and 3 of the pipeline for a commit staged at `ts`, after the commit lock
    /// is released: waits on every sink, then publishes unless a sink failed fatally.
    /// Returns the first sink error; `published` says whether the commit stands.
    pub fn settle(&self, ts: u64, tickets: Tickets) -> Settled {
        match self.pipeline.wait(tickets) {
            Ok(error) => {
                self.publish(ts, None, None);
                Settled { published: true, error }
            }
            Err(error) => Settled {
                published: false,
                error: Some(error),
            },
        }
    }

    /// Records that `ts` was handed to a commit (under the commit lock).
    pub fn assign(&self, ts: u64) {
        let mut engine = self.engine.lock();
        engine.assigned = engine.assigned.max(ts);
    }

    /// Publishes a commit timestamp: from now on new transactions see it.
    pub fn publish(&self, ts: u64, state: Option<&CommitState>, start_ts: Option<u64>) {
        if let Some(state) = state {
            state.commit(ts);
        }
        let mut engine = self.engine.lock();
        engine.last_committed = engine.last_committed.max(ts);
        engine.assigned = engine.assigned.max(ts);
        drop(engine);
        if let Some(start) = start_ts {
            self.finish(start);
        }
    }

    /// The timestamp for the next commit: `forced` (a replayed record's) if given, which
    /// must be newer than every commit so far.
    pub fn next_commit_ts(&self, forced: Option<u64>) -> Result<u64> {
        let last = {
            let engine = self.engine.lock();
            engine.assigned.max(engine.last_committed)
        };
        match forced {
            None => Ok(last + 1),
            Some(ts) if ts > last && ts < TXN_ID_BASE => Ok(ts),
            Some(ts) => Err(crate::error::StorageError::Apply(format!(
                "record timestamp {ts} is not newer than the last commit {last}"
            ))),
        }
    }
}
