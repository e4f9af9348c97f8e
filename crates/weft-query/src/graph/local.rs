//! The local graph: the graph access traits over this process's storage.
//!
//! Owns: [`Txn`], the transaction the engine hands out (a storage transaction and its
//! access mode), and [`LocalGraph`], which implements [`GraphRead`] and [`GraphWrite`]
//! over one; [`GraphStats`] is implemented by the storage itself. This is the only module
//! of the executor that calls `weft_storage` (the engine, which owns the storage, and the
//! admin statements aside). Promises: storage errors arrive as [`QueryError`]s.

use crate::error::{ErrorKind, QueryError, Result};
use crate::graph::access::ReadOnlySwitch;
use crate::graph::{
    Direction, EdgeRef, EdgeTypeId, Gid, GraphNames, GraphRead, GraphStats, GraphWrite, LabelId, PropertyId, Value,
};
use std::ops::Bound;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use weft_storage::{ConstraintInfo, IndexInfo, IsolationLevel, Storage, StorageError, Transaction};

/// Whether a transaction may write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AccessMode {
    #[default]
    ReadWrite,
    /// Reads only (Bolt's `mode: "r"`): a write is refused before anything is written.
    Read,
}

/// A transaction of the engine: a storage transaction and its access mode. Dropping it
/// without [`Txn::commit`] rolls it back.
pub struct Txn {
    inner: Transaction,
    mode: AccessMode,
    /// True once the transaction has been handed out for a write.
    wrote: bool,
    /// The engine's switch: a transaction that wrote does not commit while it is on.
    read_only: Arc<ReadOnlySwitch>,
    /// A warning from a batch this statement already committed (`IN TRANSACTIONS`),
    /// passed on with the final commit's.
    warning: Option<String>,
    /// Set from outside ([`Txn::terminator`]) to stop the statement running in it.
    terminated: Arc<AtomicBool>,
}

impl Txn {
    pub(crate) fn begin(storage: &Storage, mode: AccessMode, read_only: Arc<ReadOnlySwitch>) -> Txn {
        Txn {
            inner: storage.begin(IsolationLevel::SnapshotIsolation),
            mode,
            wrote: false,
            read_only,
            warning: None,
            terminated: Arc::default(),
        }
    }

    /// A flag that, once set (by another thread: a client cancelling its query), makes
    /// the statement running in this transaction fail with `TransactionTerminated` at
    /// its next check, as a query timeout does; the caller then rolls it back.
    pub fn terminator(&self) -> Arc<AtomicBool> {
        self.terminated.clone()
    }

    /// Whether the transaction may write.
    pub fn mode(&self) -> AccessMode {
        self.mode
    }

    /// The storage the transaction runs on (it keeps running there if the engine's
    /// storage is replaced meanwhile).
    pub(crate) fn storage(&self) -> Storage {
        self.inner.storage()
    }

    /// Makes the commit durable and visible; its commit timestamp, or `None` when it
    /// wrote nothing. A transaction that wrote while the engine was writable is rolled
    /// back instead when the engine has become read-only since (`NotALeader`).
    pub fn commit(self) -> Result<Option<u64>> {
        self.commit_warned().map(|(ts, _)| ts)
    }

    /// [`Txn::commit`], with the warning about a commit that stands degraded (a SYNC
    /// replica did not confirm it), which a server passes on to its client.
    pub fn commit_warned(self) -> Result<(Option<u64>, Option<String>)> {
        if let Some(refused) = self.read_only.refusal().filter(|_| self.wrote) {
            self.inner.abort();
            return Err(refused);
        }
        let (ts, warning) = self.inner.commit_warned()?;
        Ok((ts, warning.map(|w| w.message).or(self.warning)))
    }

    /// Rolls back every write of the transaction.
    pub fn abort(self) {
        self.inner.abort();
    }
}

/// The transaction a statement runs in: borrowed from the caller, or owned by the
/// statement's cursor (a server streaming a result across requests) and handed back when
/// the statement ends.
pub enum TxnHandle<'t> {
    Borrowed(&'t mut Txn),
    Owned(Box<Txn>),
}

impl TxnHandle<'_> {
    /// The transaction's access mode.
    pub fn mode(&self) -> AccessMode {
        self.txn().mode
    }

    /// The storage the transaction runs on.
    pub fn storage(&self) -> Storage {
        self.txn().storage()
    }

    /// The transaction, if this handle owns it.
    pub fn into_owned(self) -> Option<Txn> {
        match self {
            TxnHandle::Borrowed(_) => None,
            TxnHandle::Owned(txn) => Some(*txn),
        }
    }

    /// The transaction's terminate flag ([`Txn::terminator`]).
    pub fn terminator(&self) -> Arc<AtomicBool> {
        self.txn().terminator()
    }

    fn txn(&self) -> &Txn {
        match self {
            TxnHandle::Borrowed(txn) => txn,
            TxnHandle::Owned(txn) => txn,
        }
    }

    fn txn_mut(&mut self) -> &mut Txn {
        match self {
            TxnHandle::Borrowed(txn) => txn,
            TxnHandle::Owned(txn) => txn,
        }
    }
}

/// The graph of the local storage, as one transaction sees it.
pub struct LocalGraph<'t> {
    storage: Storage,
    txn: TxnHandle<'t>,
    /// Reads served: one per call, plus one per object a scan or expand returns.
    hits: std::cell::Cell<u64>,
    /// Probes into the label sets checked so far (a statement checks a few labels many
    /// times); `None` for a label no vertex had when first checked.
    probes: std::cell::RefCell<Vec<(LabelId, Option<weft_storage::LabelProbe>)>>,
}

impl<'t> LocalGraph<'t> {
    pub fn new(storage: Storage, txn: TxnHandle<'t>) -> Self {
        LocalGraph {
            storage,
            txn,
            hits: std::cell::Cell::new(0),
            probes: Default::default(),
        }
    }

    /// Counts `n` reads.
    fn hit(&self, n: usize) {
        self.hits.set(self.hits.get() + n as u64);
    }

    /// The transaction's access mode.
    pub fn mode(&self) -> AccessMode {
        self.txn.txn().mode
    }

    /// Gives the transaction back (see [`TxnHandle::into_owned`]).
    pub fn into_txn(self) -> TxnHandle<'t> {
        self.txn
    }

    fn read(&self) -> &Transaction {
        self.hit(1);
        &self.txn.txn().inner
    }

    fn write(&mut self) -> &mut Transaction {
        let txn = self.txn.txn_mut();
        txn.wrote = true;
        &mut txn.inner
    }
}

impl GraphNames for Storage {
    fn find_label(&self, name: &str) -> Option<LabelId> {
        Storage::find_label(self, name)
    }
    fn find_edge_type(&self, name: &str) -> Option<EdgeTypeId> {
        Storage::find_edge_type(self, name)
    }
    fn find_property(&self, name: &str) -> Option<PropertyId> {
        Storage::find_property(self, name)
    }
    fn label_name(&self, id: LabelId) -> String {
        Storage::label_name(self, id)
    }
    fn edge_type_name(&self, id: EdgeTypeId) -> String {
        Storage::edge_type_name(self, id)
    }
    fn property_name(&self, id: PropertyId) -> String {
        Storage::property_name(self, id)
    }
}

impl GraphStats for Storage {
    fn approx_vertex_count(&self) -> u64 {
        Storage::approx_vertex_count(self)
    }
    fn approx_label_count(&self, label: LabelId) -> u64 {
        Storage::approx_label_count(self, label)
    }
    fn approx_label_property_count(&self, label: LabelId, key: PropertyId) -> Option<u64> {
        Storage::approx_label_property_count(self, label, key)
    }
    fn indexes(&self) -> Vec<IndexInfo> {
        self.index_info()
    }
    fn approx_edge_count(&self) -> u64 {
        Storage::approx_edge_count(self)
    }
    fn constraints(&self) -> Vec<ConstraintInfo> {
        self.constraint_info()
    }
}

impl GraphNames for LocalGraph<'_> {
    fn find_label(&self, name: &str) -> Option<LabelId> {
        self.storage.find_label(name)
    }
    fn find_edge_type(&self, name: &str) -> Option<EdgeTypeId> {
        self.storage.find_edge_type(name)
    }
    fn find_property(&self, name: &str) -> Option<PropertyId> {
        self.storage.find_property(name)
    }
    fn label_name(&self, id: LabelId) -> String {
        self.storage.label_name(id)
    }
    fn edge_type_name(&self, id: EdgeTypeId) -> String {
        self.storage.edge_type_name(id)
    }
    fn property_name(&self, id: PropertyId) -> String {
        self.storage.property_name(id)
    }
}

impl GraphStats for LocalGraph<'_> {
    fn approx_vertex_count(&self) -> u64 {
        self.storage.approx_vertex_count()
    }
    fn approx_label_count(&self, label: LabelId) -> u64 {
        self.storage.approx_label_count(label)
    }
    fn approx_label_property_count(&self, label: LabelId, key: PropertyId) -> Option<u64> {
        self.storage.approx_label_property_count(label, key)
    }
    fn indexes(&self) -> Vec<IndexInfo> {
        self.storage.index_info()
    }
    fn approx_edge_count(&self) -> u64 {
        self.storage.approx_edge_count()
    }
    fn constraints(&self) -> Vec<ConstraintInfo> {
        self.storage.constraint_info()
    }
}

impl GraphRead for LocalGraph<'_> {
    fn vertex_exists(&self, node: Gid) -> bool {
        self.read().vertex_exists(node)
    }
    fn vertex_labels(&self, node: Gid) -> Result<Vec<LabelId>> {
        Ok(self.read().labels(node)?)
    }
    fn vertex_has_labels(&self, node: Gid, labels: &[LabelId]) -> bool {
        self.read().vertex_has_labels(node, labels)
    }
    fn settled_has_label(&self, node: Gid, label: LabelId) -> Option<bool> {
        // A bit read, not a visit to the node: no db hit, as for an answer the
        // statement's memo gives.
        let mut probes = self.probes.borrow_mut();
        let i = match probes.iter().position(|(l, _)| *l == label) {
            Some(i) => i,
            None => {
                probes.push((label, self.txn.txn().inner.label_probe(label)));
                probes.len() - 1
            }
        };
        probes[i].1.as_ref()?.settled_contains(node)
    }
    fn vertex_property(&self, node: Gid, key: PropertyId) -> Result<Option<Value>> {
        Ok(self.read().vertex_property(node, key)?)
    }
    fn vertex_properties(&self, node: Gid) -> Result<Vec<(PropertyId, Value)>> {
        Ok(self.read().vertex_properties(node)?)
    }

    fn edge_exists(&self, rel: &EdgeRef) -> bool {
        self.read().edge_exists(rel)
    }
    fn edge_property(&self, rel: &EdgeRef, key: PropertyId) -> Result<Option<Value>> {
        Ok(self.read().edge_property(rel, key)?)
    }
    fn edge_properties(&self, rel: &EdgeRef) -> Result<Vec<(PropertyId, Value)>> {
        Ok(self.read().edge_properties(rel)?)
    }
    fn edges(&self, node: Gid, dir: Direction, types: &[EdgeTypeId]) -> Result<Vec<EdgeRef>> {
        let edges = self.read().edges(node, dir, types)?;
        self.hit(edges.len());
        Ok(edges)
    }

    fn all_vertices(&self) -> Vec<Gid> {
        let all: Vec<Gid> = self.read().vertices().collect();
        self.hit(all.len());
        all
    }
    fn vertices_with_label(&self, label: LabelId) -> Vec<Gid> {
        let found = self.read().vertices_with_label(label);
        self.hit(found.len());
        found
    }
    fn vertices_with_out_type(&self, types: &[EdgeTypeId]) -> Vec<Gid> {
        let found = self.read().vertices_with_out_type(types);
        self.hit(found.len());
        found
    }
    fn hits(&self) -> u64 {
        self.hits.get()
    }
    fn label_count(&self, label: LabelId) -> Option<u64> {
        self.read().exact_label_count(label)
    }

    fn label_columns(
        &self,
        label: LabelId,
        keys: &[Option<PropertyId>],
        batch: usize,
        threads: usize,
        f: &mut crate::graph::ColumnsConsumer<'_>,
    ) -> Result<()> {
        self.read().label_columns(label, keys, batch, threads, f)
    }

    fn index_lookup(&self, label: LabelId, key: PropertyId, value: &Value) -> Option<Vec<Gid>> {
        self.storage.approx_label_property_count(label, key)?;
        let found = self.read().vertices_with_property(label, key, value);
        self.hit(found.len());
        Some(found)
    }
    fn index_range(&self, label: LabelId, key: PropertyId, lo: Bound<&Value>, hi: Bound<&Value>) -> Option<Vec<Gid>> {
        self.storage.approx_label_property_count(label, key)?;
        let found = self.read().vertices_in_range(label, key, lo, hi);
        self.hit(found.len());
        Some(found)
    }
}

impl GraphWrite for LocalGraph<'_> {
    fn label(&mut self, name: &str) -> LabelId {
        self.storage.label(name)
    }
    fn edge_type(&mut self, name: &str) -> EdgeTypeId {
        self.storage.edge_type(name)
    }
    fn property(&mut self, name: &str) -> PropertyId {
        self.storage.property(name)
    }

    fn create_vertex(&mut self) -> Result<Gid> {
        Ok(self.write().create_vertex()?)
    }
    fn add_label(&mut self, node: Gid, label: LabelId) -> Result<bool> {
        Ok(self.write().add_label(node, label)?)
    }
    fn remove_label(&mut self, node: Gid, label: LabelId) -> Result<bool> {
        Ok(self.write().remove_label(node, label)?)
    }
    fn set_vertex_property(&mut self, node: Gid, key: PropertyId, value: Value) -> Result<Option<Value>> {
        Ok(self.write().set_vertex_property(node, key, value)?)
    }
    fn delete_vertex(&mut self, node: Gid, detach: bool) -> Result<()> {
        match self.write().delete_vertex(node, detach) {
            Ok(()) => Ok(()),
            Err(StorageError::VertexHasEdges(_)) => Err(QueryError::runtime(
                ErrorKind::ConstraintVerificationFailed,
                "DeleteConnectedNode",
                format!("Cannot delete node {node} because it still has relationships; use DETACH DELETE"),
            )),
            Err(e) => Err(e.into()),
        }
    }

    fn create_edge(&mut self, from: Gid, to: Gid, edge_type: EdgeTypeId) -> Result<EdgeRef> {
        Ok(self.write().create_edge(from, to, edge_type)?)
    }
    fn set_edge_property(&mut self, rel: &EdgeRef, key: PropertyId, value: Value) -> Result<Option<Value>> {
        Ok(self.write().set_edge_property(rel, key, value)?)
    }
    fn delete_edge(&mut self, rel: &EdgeRef) -> Result<()> {
        Ok(self.write().delete_edge(rel)?)
    }

    fn commit_batch(&mut self) -> Result<()> {
        let txn = self.txn.txn_mut();
        // The next transaction must start after the commit to see it, and the handle
        // must hold a transaction meanwhile: an empty one stands in (dropped unused).
        // Both keep the terminate flag: a cancel reaches every batch.
        let mut stand_in = Txn::begin(&txn.storage(), txn.mode, txn.read_only.clone());
        stand_in.terminated = txn.terminated.clone();
        let done = std::mem::replace(txn, stand_in);
        // The committed transaction's warning already includes its earlier batches'.
        let (_, warning) = done.commit_warned()?;
        let mut next = Txn::begin(&txn.storage(), txn.mode, txn.read_only.clone());
        next.warning = warning;
        next.terminated = txn.terminated.clone();
        std::mem::replace(txn, next).abort();
        Ok(())
    }
}
