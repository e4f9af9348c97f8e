//! The graph access seam: everything the planner and executor know about the graph.
//!
//! Owns: the traits the executor runs on, in three layers —
//! - [`GraphStats`] (with the name tables of [`GraphNames`]): what the planner consults
//!   to choose start points, with no transaction open;
//! - [`GraphRead`]: a transaction's view of nodes, relationships, scans and indexes;
//! - [`GraphWrite`]: the changes a statement makes in its transaction.
//!
//! plus [`GraphContext`], the name-level view built-in functions read through.
//!
//! Promises to the executor: reads see the transaction's own writes; an unknown name
//! resolves to `None` (it matches nothing) and never allocates an id on read paths; an
//! implementation refuses nothing itself — the read-only rule is the executor's
//! (`ExecCtx::graph_mut` in `exec/mod.rs`). Needs from an implementation: the calls below,
//! and the batch calls (`*_many`) where a round trip costs more than a loop; their
//! defaults loop over the single calls, which is right for a local store.
//!
//! The executor is generic over these traits (monomorphised, no `dyn` per row); the local
//! implementation is [`crate::LocalGraph`]. A new implementation must pass the
//! conformance suite in `graph/suite.rs`.

pub(crate) mod access;
pub(crate) mod local;
#[cfg(test)]
mod suite;

use crate::error::Result;
use crate::value::QValue;
use std::collections::BTreeMap;
use std::ops::Bound;
use weft_common::temporal::ZonedDateTime;
pub use weft_common::{EdgeTypeId, Gid, LabelId, PropertyId, Value};
pub use weft_storage::{ConstraintInfo, Direction, EdgeRef, IndexInfo};

/// What [`GraphRead::label_columns`] hands each batch to: the nodes, and per key one
/// value per node.
pub type ColumnsConsumer<'f> = dyn FnMut(&[Gid], &[&[Option<Value>]]) -> Result<()> + 'f;

/// Ids of labels, relationship types and property keys by name, and back. Ids are stable:
/// once a name has an id it keeps it.
pub trait GraphNames {
    fn find_label(&self, name: &str) -> Option<LabelId>;
    fn find_edge_type(&self, name: &str) -> Option<EdgeTypeId>;
    fn find_property(&self, name: &str) -> Option<PropertyId>;
    fn label_name(&self, id: LabelId) -> String;
    fn edge_type_name(&self, id: EdgeTypeId) -> String;
    fn property_name(&self, id: PropertyId) -> String;
}

/// Approximate counts for the planner (they may lag behind commits).
pub trait GraphStats: GraphNames {
    fn approx_vertex_count(&self) -> u64;
    fn approx_label_count(&self, label: LabelId) -> u64;
    /// Entries of the label+property index, or `None` when there is no such index.
    fn approx_label_property_count(&self, label: LabelId, key: PropertyId) -> Option<u64>;
    /// Relationships, roughly (EXPLAIN's estimates); none known by default.
    fn approx_edge_count(&self) -> u64 {
        0
    }
    /// The indexes that exist (SHOW INDEXES); none by default.
    fn indexes(&self) -> Vec<IndexInfo> {
        Vec::new()
    }
    /// The constraints that exist (SHOW CONSTRAINTS); none by default.
    fn constraints(&self) -> Vec<ConstraintInfo> {
        Vec::new()
    }
}

/// A transaction's view of the graph.
pub trait GraphRead: GraphStats {
    /// Whether the node exists for this transaction.
    fn vertex_exists(&self, node: Gid) -> bool;
    /// A node's labels (an `EntityNotFound` error for a node that does not exist).
    fn vertex_labels(&self, node: Gid) -> Result<Vec<LabelId>>;
    /// Whether the node exists and has every one of `labels`.
    fn vertex_has_labels(&self, node: Gid, labels: &[LabelId]) -> bool;
    /// Whether the node exists and has `label`, when the graph can say without visiting
    /// the node (from a label's membership bits that are exact); `None` otherwise.
    fn settled_has_label(&self, _node: Gid, _label: LabelId) -> Option<bool> {
        None
    }
    fn vertex_property(&self, node: Gid, key: PropertyId) -> Result<Option<Value>>;
    fn vertex_properties(&self, node: Gid) -> Result<Vec<(PropertyId, Value)>>;

    fn edge_exists(&self, rel: &EdgeRef) -> bool;
    fn edge_property(&self, rel: &EdgeRef, key: PropertyId) -> Result<Option<Value>>;
    fn edge_properties(&self, rel: &EdgeRef) -> Result<Vec<(PropertyId, Value)>>;
    /// Relationships at `node` in `dir`, of any of `types` (empty: any type).
    fn edges(&self, node: Gid, dir: Direction, types: &[EdgeTypeId]) -> Result<Vec<EdgeRef>>;

    /// Every node.
    fn all_vertices(&self) -> Vec<Gid>;
    /// Nodes with `label`.
    fn vertices_with_label(&self, label: LabelId) -> Vec<Gid>;
    /// Nodes that may have an outgoing relationship of one of `types`, in id order: at
    /// least every node that has one (the caller expands and finds out).
    fn vertices_with_out_type(&self, types: &[EdgeTypeId]) -> Vec<Gid> {
        let _ = types;
        self.all_vertices()
    }
    /// Nodes with `label` whose `key` equals `value` from the label+property index, or
    /// `None` when there is no such index (the caller scans instead).
    fn index_lookup(&self, label: LabelId, key: PropertyId, value: &Value) -> Option<Vec<Gid>>;
    /// As [`GraphRead::index_lookup`], for `key` within the bounds.
    fn index_range(&self, label: LabelId, key: PropertyId, lo: Bound<&Value>, hi: Bound<&Value>) -> Option<Vec<Gid>>;

    /// [`GraphRead::vertex_labels`] of many nodes, in order.
    fn vertex_labels_many(&self, nodes: &[Gid]) -> Result<Vec<Vec<LabelId>>> {
        nodes.iter().map(|n| self.vertex_labels(*n)).collect()
    }
    /// [`GraphRead::vertex_property`] of many nodes, in order.
    fn vertex_property_many(&self, nodes: &[Gid], key: PropertyId) -> Result<Vec<Option<Value>>> {
        nodes.iter().map(|n| self.vertex_property(*n, key)).collect()
    }
    /// [`GraphRead::vertex_properties`] of many nodes, in order.
    fn vertex_properties_many(&self, nodes: &[Gid]) -> Result<Vec<Vec<(PropertyId, Value)>>> {
        nodes.iter().map(|n| self.vertex_properties(*n)).collect()
    }
    /// How many nodes with `label` this transaction sees, when a kept count answers it
    /// without a scan; `None` (the default): scan instead.
    fn label_count(&self, _label: LabelId) -> Option<u64> {
        None
    }
    /// The column form of [`GraphRead::vertices_with_label`]: the nodes with `label` and
    /// the values of `keys` on each (`None` in `keys`: a key no node has), handed to `f`
    /// in batches of up to `batch` nodes as one vector of values per key, in order. Up to
    /// `threads` threads may read batches side by side (`f` runs on the caller's). The
    /// default asks per node and per key; the local graph locks each node once for all
    /// keys, and a remote one would answer a batch in one round trip.
    fn label_columns(
        &self,
        label: LabelId,
        keys: &[Option<PropertyId>],
        batch: usize,
        _threads: usize,
        f: &mut ColumnsConsumer<'_>,
    ) -> Result<()> {
        for nodes in self.vertices_with_label(label).chunks(batch.max(1)) {
            let columns = keys
                .iter()
                .map(|key| match key {
                    Some(key) => self.vertex_property_many(nodes, *key),
                    None => Ok(vec![None; nodes.len()]),
                })
                .collect::<Result<Vec<_>>>()?;
            f(nodes, &columns.iter().map(Vec::as_slice).collect::<Vec<_>>())?;
        }
        Ok(())
    }
    /// Graph accesses this view has served so far (PROFILE's db hits); 0 when it does not
    /// count them.
    fn hits(&self) -> u64 {
        0
    }
    /// [`GraphRead::edges`] from many nodes (one expand step of a whole frontier).
    fn edges_many(&self, nodes: &[Gid], dir: Direction, types: &[EdgeTypeId]) -> Result<Vec<Vec<EdgeRef>>> {
        nodes.iter().map(|n| self.edges(*n, dir, types)).collect()
    }
}

/// The changes a statement makes in its transaction. Callers check access (read-only)
/// before calling; see `ExecCtx::graph_mut` in `exec/mod.rs`.
pub trait GraphWrite: GraphRead {
    /// The id of a label, relationship type or property key, made when new.
    fn label(&mut self, name: &str) -> LabelId;
    fn edge_type(&mut self, name: &str) -> EdgeTypeId;
    fn property(&mut self, name: &str) -> PropertyId;

    fn create_vertex(&mut self) -> Result<Gid>;
    /// Adds a label; `false` when the node already had it.
    fn add_label(&mut self, node: Gid, label: LabelId) -> Result<bool>;
    /// Removes a label; `false` when the node did not have it.
    fn remove_label(&mut self, node: Gid, label: LabelId) -> Result<bool>;
    /// Sets a property (`Value::Null` removes it); returns the value it replaced.
    fn set_vertex_property(&mut self, node: Gid, key: PropertyId, value: Value) -> Result<Option<Value>>;
    /// Deletes a node; without `detach`, a node with relationships is refused with a
    /// `ConstraintVerificationFailed` / `DeleteConnectedNode` error.
    fn delete_vertex(&mut self, node: Gid, detach: bool) -> Result<()>;

    fn create_edge(&mut self, from: Gid, to: Gid, edge_type: EdgeTypeId) -> Result<EdgeRef>;
    fn set_edge_property(&mut self, rel: &EdgeRef, key: PropertyId, value: Value) -> Result<Option<Value>>;
    fn delete_edge(&mut self, rel: &EdgeRef) -> Result<()>;

    /// Commits what the statement wrote so far and carries on in a new transaction of the
    /// same access mode (`CALL { } IN TRANSACTIONS`); reads afterwards see the commit.
    /// Only the executor calls it, and only for a statement in a transaction of its own.
    fn commit_batch(&mut self) -> Result<()>;
}

/// Read access to the graph a statement runs against, in the query's terms (names and
/// runtime values): what functions such as `labels(n)` or `properties(r)` need.
pub trait GraphContext {
    /// A node's labels (an `EntityNotFound` error for a node deleted in this transaction).
    fn node_labels(&self, node: Gid) -> Result<Vec<String>>;
    /// One property (`QValue::Null` when not set).
    fn node_property(&self, node: Gid, key: &str) -> Result<QValue>;
    /// All properties.
    fn node_properties(&self, node: Gid) -> Result<BTreeMap<String, QValue>>;
    /// One relationship property (`QValue::Null` when not set).
    fn rel_property(&self, rel: &EdgeRef, key: &str) -> Result<QValue>;
    /// All relationship properties.
    fn rel_properties(&self, rel: &EdgeRef) -> Result<BTreeMap<String, QValue>>;
    /// A relationship's type name.
    fn rel_type(&self, rel: &EdgeRef) -> String;
    /// The statement's clock: every call within one statement returns the same instant.
    fn statement_time(&self) -> ZonedDateTime;
}
