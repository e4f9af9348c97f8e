//! The index half of garbage collection: removes entries that match no state any
//! transaction can see.
//!
//! An entry may go only when its vertex has no undo chain (its newest state is then the
//! one state everybody sees) and that state does not match the entry. Vertices with a
//! chain keep their entries until a later pass.

use crate::index::{TupleIndex, TupleKey};
use crate::storage::Inner;
use crate::vertex::{Life, VertexData};
use scc::Guard;
use weft_common::value::OrderedValue;
use weft_common::Gid;

/// Sweeps every index; returns how many entries were removed.
pub(crate) fn sweep(inner: &Inner) -> usize {
    let schema = inner.schema();
    let mut removed = 0;
    for index in schema.all_tuple_indexes() {
        removed += sweep_tuple(inner, index);
    }
    removed
}

/// True when the vertex has no undo chain and `stale` holds for its only state (a slot
/// that no longer holds a vertex counts as stale).
fn settled(inner: &Inner, gid: Gid, stale: impl FnOnce(&VertexData) -> bool) -> bool {
    inner
        .with_vertex(gid, |v| v.delta.is_none() && (v.life != Life::Live || stale(v)))
        .unwrap_or(true)
}

fn sweep_tuple(inner: &Inner, index: &TupleIndex) -> usize {
    let stale = |k: &TupleKey, v: &VertexData| {
        let now = index.key_of(k.gid, |p| v.props.get(p));
        !v.has_label(index.label) || now.is_none_or(|now| !same_values(&now.values, &k.values))
    };
    let guard = Guard::new();
    let candidates: Vec<TupleKey> = index
        .entries
        .iter(&guard)
        .map(|(k, _)| k)
        .filter(|k| settled(inner, k.gid, |v| stale(k, v)))
        .cloned()
        .collect();
    // Each removed under its vertex's lock after checking again: a writer that gave the
    // vertex these values back since the first check found the entry still there and
    // added none, and it held the same lock.
    let mut removed = 0;
    for k in &candidates {
        let remove = inner
            .with_vertex(k.gid, |v| {
                v.delta.is_none() && (v.life != Life::Live || stale(k, v)) && index.remove(k)
            })
            .unwrap_or_else(|| index.remove(k));
        removed += usize::from(remove);
    }
    removed
}

fn same_values(a: &[OrderedValue], b: &[OrderedValue]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}
