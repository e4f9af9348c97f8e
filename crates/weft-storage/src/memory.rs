//! Where the storage's memory goes: an estimate by owner, from the objects' own sizes.
//!
//! Owns: [`MemoryBreakdown`] and the walk that fills it. Each figure is the bytes the
//! owner's structures hold, counted from their sizes and capacities (slot arrays,
//! adjacency and label lists, property strings, index entries, undo deltas); what the
//! allocator adds on top (rounding to size classes, freed memory it keeps) is not seen
//! here and lands in the caller's "other" (resident memory minus the sum). The walk
//! visits every vertex and every edge id once, locking each object briefly, like a scan.

use crate::delta::{chain, Delta, UndoAction};
use crate::index::TupleKey;
use crate::props::PropertyStore;
use crate::storage::Storage;
use crate::vertex::{EdgeSlot, VertexSlot};
use std::mem::size_of;
use thin_vec::ThinVec;
use weft_common::Value;

/// Estimated bytes per owner.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryBreakdown {
    /// Vertex slots (allocated in chunks) and extra-label lists.
    pub vertices: u64,
    /// Adjacency lists on both ends and the edge slots (allocated in chunks where some
    /// edge has properties).
    pub edges: u64,
    /// Encoded property strings of vertices and edges.
    pub properties: u64,
    /// Label and edge-type member sets, label+property and uniqueness index entries.
    pub indexes: u64,
    /// Undo deltas kept for transactions that may still read older versions.
    pub version_chains: u64,
    /// Property columns kept between label scans (`columns.rs`).
    pub columns: u64,
}

impl MemoryBreakdown {
    /// The sum of every owner.
    pub fn total(&self) -> u64 {
        self.vertices + self.edges + self.properties + self.indexes + self.version_chains + self.columns
    }
}

/// Heap bytes of a non-empty `ThinVec` (its header and capacity; an empty one has none).
pub(crate) fn thin_vec_bytes<T>(v: &ThinVec<T>) -> u64 {
    if v.capacity() == 0 {
        return 0;
    }
    (2 * size_of::<usize>() + v.capacity() * size_of::<T>()) as u64
}

fn props_bytes(p: &PropertyStore) -> u64 {
    thin_vec_bytes(p.bytes())
}

/// Heap bytes of a value beyond its own size (strings, lists, maps; roughly).
pub(crate) fn value_heap_bytes(v: &Value) -> u64 {
    match v {
        Value::String(s) => s.capacity() as u64,
        Value::List(items) => items
            .iter()
            .map(|i| size_of::<Value>() as u64 + value_heap_bytes(i))
            .sum(),
        Value::Map(m) => m
            .iter()
            .map(|(k, v)| (k.capacity() + size_of::<Value>() + 3 * size_of::<usize>()) as u64 + value_heap_bytes(v))
            .sum(),
        _ => 0,
    }
}

fn chain_bytes(head: &Option<Box<Delta>>) -> u64 {
    chain(head)
        .map(|d| {
            let carried = match &d.action {
                UndoAction::SetProperty(_, Some(old)) => value_heap_bytes(old),
                _ => 0,
            };
            size_of::<Delta>() as u64 + carried
        })
        .sum()
}

/// Bytes a B-tree index entry of `key_and_value` bytes takes, leaf overhead included
/// (entries are kept in nodes about half to fully used).
fn tree_entry_bytes(key_and_value: usize) -> u64 {
    (key_and_value + key_and_value / 2 + 8) as u64
}

impl Storage {
    /// Where the storage's memory goes, estimated by owner (see the module docs).
    pub fn memory_breakdown(&self) -> MemoryBreakdown {
        let inner = &self.inner;
        let mut out = MemoryBreakdown {
            vertices: inner.vertices.allocated_slots() * size_of::<VertexSlot>() as u64,
            indexes: (inner.members.heap_bytes() + inner.sources.heap_bytes()) as u64,
            columns: inner.columns.heap_bytes() as u64,
            ..MemoryBreakdown::default()
        };
        for id in 0..inner.vertices.high_water() {
            let Some(slot) = inner.vertices.get(id) else { continue };
            let v = slot.lock();
            out.vertices += thin_vec_bytes(v.extra_labels());
            out.edges += thin_vec_bytes(&v.out_edges) + thin_vec_bytes(&v.in_edges);
            out.properties += props_bytes(&v.props);
            out.version_chains += chain_bytes(&v.delta);
        }
        // Edge slots come in whole chunks, allocated where some edge used its slot.
        out.edges += inner.edges.allocated_slots() * size_of::<EdgeSlot>() as u64;
        for id in 0..inner.edges.high_water() {
            let Some(slot) = inner.edges.get(id) else { continue };
            let data = slot.lock();
            out.properties += props_bytes(&data.props);
            out.version_chains += chain_bytes(&data.delta);
        }
        let schema = inner.schema();
        for index in schema.all_tuple_indexes() {
            let len = index.len.load(std::sync::atomic::Ordering::Relaxed).max(0) as u64;
            let values = index.props.len() * size_of::<Value>();
            out.indexes += len * tree_entry_bytes(size_of::<TupleKey>() + values);
            // The hashed copy: per entry, about a hash slot, a list header with room for a
            // few ids, and spare capacity.
            out.indexes += len * 10 * size_of::<u64>() as u64;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::{IsolationLevel, Storage, Value};

    #[test]
    fn each_owner_grows_with_what_it_owns_and_old_versions_go_with_gc() {
        // Set up: an empty storage, then vertices with a label and a property, edges
        // with a property, and a label+property index.
        let storage = Storage::new();
        let empty = storage.memory_breakdown();
        let (label, key, t) = (storage.label("P"), storage.property("k"), storage.edge_type("T"));
        let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
        let mut vertices = Vec::new();
        for i in 0..1_000 {
            let v = txn.create_vertex().unwrap();
            txn.add_label(v, label).unwrap();
            txn.set_vertex_property(v, key, Value::from(format!("value {i}")))
                .unwrap();
            vertices.push(v);
        }
        for pair in vertices.windows(2) {
            let e = txn.create_edge(pair[0], pair[1], t).unwrap();
            txn.set_edge_property(&e, key, Value::Int(1)).unwrap();
        }
        txn.commit().unwrap();
        storage.create_label_property_index("P", "k").unwrap();
        storage.collect_garbage();
        let loaded = storage.memory_breakdown();

        // Act: a reader holds the old versions while every property changes.
        let reader = storage.begin(IsolationLevel::SnapshotIsolation);
        let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
        for v in &vertices {
            txn.set_vertex_property(*v, key, Value::Int(0)).unwrap();
        }
        txn.commit().unwrap();
        let held = storage.memory_breakdown();
        drop(reader);
        storage.collect_garbage();
        let collected = storage.memory_breakdown();

        // Check.
        assert!(loaded.vertices >= empty.vertices && loaded.vertices > 0);
        assert!(loaded.edges >= 999 * 2 * 16, "{loaded:?}");
        assert!(loaded.properties >= 1_000 * 7 + 999, "{loaded:?}");
        assert!(loaded.indexes > empty.indexes + 1_000 * 16, "{loaded:?}");
        assert_eq!(loaded.version_chains, 0, "{loaded:?}");
        assert!(
            held.version_chains >= 1_000 * std::mem::size_of::<crate::delta::Delta>() as u64,
            "{held:?}"
        );
        assert_eq!(collected.version_chains, 0, "{collected:?}");
        assert_eq!(
            loaded.total(),
            loaded.vertices + loaded.edges + loaded.properties + loaded.indexes
        );
    }
}
