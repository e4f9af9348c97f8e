//! Checks for `model.rs`: every read and every index scan of one transaction against one
//! model.

use crate::reference::{range_probes, value_pool};
use crate::reference::{Ids, IndexDef, Model, GHOST, KEYS, LABELS, TYPES};
use std::collections::BTreeSet;
use std::ops::RangeBounds;
use weft_common::value::OrderedValue;
use weft_storage::{Direction, EdgeRef, EdgeTypeId, Gid, LabelId, StorageError, Transaction};

// ---------------------------------------------------------------------------------------
// Checks: reads and scans of one transaction against one model
// ---------------------------------------------------------------------------------------

/// Every read a transaction offers, for every id ever handed out, against `model`.
pub fn check_reads(ids: &Ids, txn: &Transaction, model: &Model) {
    let visible: Vec<Gid> = txn.vertices().collect();
    assert_eq!(
        visible,
        model.vertices.keys().copied().collect::<Vec<_>>(),
        "vertices()"
    );
    for gid in ids.vertices.iter().copied().chain([GHOST]) {
        check_vertex(ids, txn, model, gid);
    }
    for e in &ids.edges {
        check_edge(ids, txn, model, e);
    }
    let mut all = txn.all_edges();
    all.sort();
    assert_eq!(all, model.edge_refs(ids, |_| true), "all_edges()");
}

pub fn check_vertex(ids: &Ids, txn: &Transaction, model: &Model, gid: Gid) {
    let Some(v) = model.vertices.get(&gid) else {
        let missing = StorageError::VertexNotFound(gid);
        assert!(!txn.vertex_exists(gid), "vertex {gid} must not exist");
        assert_eq!(txn.labels(gid).unwrap_err(), missing, "labels of missing vertex {gid}");
        assert_eq!(
            txn.vertex_properties(gid).unwrap_err(),
            missing,
            "properties of missing {gid}"
        );
        assert_eq!(
            txn.edges(gid, Direction::Out, &[]).unwrap_err(),
            missing,
            "edges of missing {gid}"
        );
        return;
    };
    assert!(txn.vertex_exists(gid), "vertex {gid} must exist");
    let mut labels = txn.labels(gid).unwrap();
    labels.sort();
    let expected: Vec<LabelId> = v.labels.iter().map(|l| ids.labels[*l]).collect();
    assert_eq!(labels, expected, "labels of vertex {gid}");
    assert_eq!(
        ids.props(txn.vertex_properties(gid).unwrap()),
        v.props,
        "properties of {gid}"
    );
    for (k, key) in ids.keys.iter().enumerate() {
        assert_eq!(
            txn.vertex_property(gid, *key).unwrap(),
            v.props.get(&k).cloned(),
            "{gid}.{}",
            KEYS[k]
        );
    }
    for dir in [Direction::Out, Direction::In] {
        for ty in [None, Some(0), Some(1)] {
            let filter: Vec<EdgeTypeId> = ty.map(|t| ids.types[t]).into_iter().collect();
            let mut got = txn.edges(gid, dir, &filter).unwrap();
            got.sort();
            assert_eq!(
                got,
                model.adjacent(ids, gid, dir, ty),
                "{dir:?} edges of {gid}, type {ty:?}"
            );
        }
    }
}

pub fn check_edge(ids: &Ids, txn: &Transaction, model: &Model, e: &EdgeRef) {
    let Some(m) = model.edges.get(&e.gid) else {
        assert!(!txn.edge_exists(e), "edge {} must not exist", e.gid);
        return;
    };
    assert!(txn.edge_exists(e), "edge {} must exist", e.gid);
    assert_eq!(
        ids.props(txn.edge_properties(e).unwrap()),
        m.props,
        "properties of edge {}",
        e.gid
    );
    for (k, key) in ids.keys.iter().enumerate() {
        assert_eq!(
            txn.edge_property(e, *key).unwrap(),
            m.props.get(&k).cloned(),
            "edge {}.{}",
            e.gid,
            KEYS[k]
        );
    }
}

pub fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items
}

/// Every index scan (served by an index or not, as `indexes` says) against `model`.
pub fn check_scans(ids: &Ids, txn: &Transaction, model: &Model, indexes: &BTreeSet<IndexDef>) {
    for (l, name) in LABELS.iter().enumerate() {
        let got = sorted(txn.vertices_with_label(ids.labels[l]));
        assert_eq!(got, model.with_label(l), "vertices_with_label({name})");
        for k in 0..KEYS.len() {
            let indexed = indexes.contains(&IndexDef::LabelProperty(l, k));
            check_property_scans(ids, txn, model, (l, k), indexed);
        }
    }
    for (t, name) in TYPES.iter().enumerate() {
        let got = sorted(txn.edges_with_type(ids.types[t]));
        assert_eq!(got, model.edge_refs(ids, |e| e.ty == t), "edges_with_type({name})");
    }
}

pub fn check_property_scans(ids: &Ids, txn: &Transaction, model: &Model, (l, k): (usize, usize), indexed: bool) {
    let (label, key) = (ids.labels[l], ids.keys[k]);
    for probe in value_pool() {
        let got = sorted(txn.vertices_with_property(label, key, &probe));
        let expected = model.select(l, k, |v| v.cypher_eq(&probe) == Some(true));
        assert_eq!(
            got, expected,
            "vertices_with_property({}, {}, {probe})",
            LABELS[l], KEYS[k]
        );
    }
    for (lo, hi) in range_probes() {
        let got = txn.vertices_in_range(label, key, lo.as_ref(), hi.as_ref());
        let bounds = (lo.clone().map(OrderedValue), hi.clone().map(OrderedValue));
        let expected = model.select(l, k, |v| bounds.contains(&OrderedValue(v.clone())));
        let what = format!("vertices_in_range({}, {}, {lo:?}, {hi:?})", LABELS[l], KEYS[k]);
        assert_eq!(sorted(got.clone()), expected, "{what}");
        if indexed {
            // Served by the index: ordered by value, then id.
            let key_of = |g: &Gid| (OrderedValue(model.vertices[g].props[&k].clone()), *g);
            let keys: Vec<_> = got.iter().map(key_of).collect();
            assert!(
                keys.windows(2).all(|w| w[0] <= w[1]),
                "{what} out of index order: {got:?}"
            );
        }
    }
}
