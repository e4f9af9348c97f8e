//! Model-based test of the storage layer: random operations, grouped into transactions
//! that commit or abort, run against the real [`Storage`] and against a trivial model made
//! of `BTreeMap`s.
//!
//! The model is the specification. Every operation's result (including the errors it
//! must raise: missing vertices and edges, deleting a vertex that still has edges) is
//! predicted from the model, and after every write the touched vertices must read the
//! same inside the transaction. At every commit or abort:
//! - a snapshot reader begun with the transaction still sees the graph as it was, before
//!   and after garbage collection;
//! - `Storage::dump`, every read of a new transaction and every index scan (label,
//!   label+property equality and ranges, edge type) agree with the model, before and
//!   after garbage collection.
//!
//! Indexes are created and dropped at random points, also while a transaction runs, so
//! scans are checked both with and without them.
//!
//! The model lives in `model/reference.rs`, the read and scan checks in `model/checks.rs`.

#[path = "model/checks.rs"]
mod checks;
#[path = "model/reference.rs"]
mod reference;

use checks::{check_edge, check_reads, check_scans, check_vertex, sorted};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use reference::{set_prop, value_pool, EdgeModel, Ids, IndexDef, Model, Pick, VertexModel, KEYS, LABELS, TYPES};
use std::collections::{BTreeMap, BTreeSet};
use weft_storage::{Direction, EdgeRef, Gid, IndexInfo, IsolationLevel, Storage, StorageError, Transaction, Value};

// ---------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Op {
    CreateVertex,
    DeleteVertex {
        v: Pick,
        detach: bool,
    },
    AddLabel {
        v: Pick,
        label: usize,
    },
    RemoveLabel {
        v: Pick,
        label: usize,
    },
    SetProperty {
        v: Pick,
        key: usize,
        value: Value,
    },
    CreateEdge {
        from: Pick,
        to: Pick,
        ty: usize,
    },
    DeleteEdge {
        e: Pick,
    },
    SetEdgeProperty {
        e: Pick,
        key: usize,
        value: Value,
    },
    /// Check every read and scan inside the running transaction.
    CheckInside,
    CreateIndex(IndexDef),
    DropIndex(IndexDef),
    CollectGarbage,
    Commit,
    Abort,
}

fn index_def() -> impl Strategy<Value = IndexDef> {
    prop_oneof![
        (0..LABELS.len()).prop_map(IndexDef::Label),
        (0..LABELS.len(), 0..KEYS.len()).prop_map(|(l, k)| IndexDef::LabelProperty(l, k)),
        (0..TYPES.len()).prop_map(IndexDef::EdgeType),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let value = || prop::sample::select(value_pool());
    let pick = || any::<u16>().prop_map(Pick);
    prop_oneof![
        6 => Just(Op::CreateVertex),
        2 => (pick(), any::<bool>()).prop_map(|(v, detach)| Op::DeleteVertex { v, detach }),
        4 => (pick(), 0..LABELS.len()).prop_map(|(v, label)| Op::AddLabel { v, label }),
        2 => (pick(), 0..LABELS.len()).prop_map(|(v, label)| Op::RemoveLabel { v, label }),
        5 => (pick(), 0..KEYS.len(), value()).prop_map(|(v, key, value)| Op::SetProperty { v, key, value }),
        8 => (pick(), pick(), 0..TYPES.len()).prop_map(|(from, to, ty)| Op::CreateEdge { from, to, ty }),
        2 => pick().prop_map(|e| Op::DeleteEdge { e }),
        2 => (pick(), 0..KEYS.len(), value()).prop_map(|(e, key, value)| Op::SetEdgeProperty { e, key, value }),
        1 => Just(Op::CheckInside),
        1 => index_def().prop_map(Op::CreateIndex),
        1 => index_def().prop_map(Op::DropIndex),
        1 => Just(Op::CollectGarbage),
        3 => Just(Op::Commit),
        1 => Just(Op::Abort),
    ]
}

// ---------------------------------------------------------------------------------------
// The harness: one storage, one model, one running transaction at a time
// ---------------------------------------------------------------------------------------

struct Harness {
    storage: Storage,
    ids: Ids,
    /// The committed graph.
    committed: Model,
    /// The committed graph plus the running transaction's writes.
    working: Model,
    txn: Option<Transaction>,
    /// A snapshot-isolation reader begun with `txn`; it must keep seeing `committed`.
    snapshot: Option<Transaction>,
    /// Whether the running transaction made a write (so that commit must return `Some`).
    wrote: bool,
    indexes: BTreeSet<IndexDef>,
}

fn assert_not_found<T: std::fmt::Debug>(result: weft_storage::Result<T>, e: &EdgeRef, what: &str) {
    match result {
        Err(StorageError::EdgeNotFound(g)) if g == e.gid => {}
        Err(StorageError::VertexNotFound(g)) if g == e.from || g == e.to => {}
        other => panic!("{what} of missing edge {e:?} must fail with not-found, got {other:?}"),
    }
}

impl Harness {
    fn new() -> Self {
        let storage = Storage::new();
        let ids = Ids::new(&storage);
        let mut h = Harness {
            storage,
            ids,
            committed: Model::default(),
            working: Model::default(),
            txn: None,
            snapshot: None,
            wrote: false,
            indexes: BTreeSet::new(),
        };
        h.begin();
        h
    }

    fn begin(&mut self) {
        self.snapshot = Some(self.storage.begin(IsolationLevel::SnapshotIsolation));
        self.txn = Some(self.storage.begin(IsolationLevel::SnapshotIsolation));
        self.wrote = false;
    }

    fn txn(&mut self) -> &mut Transaction {
        self.txn.as_mut().expect("a transaction is open")
    }

    fn run(&mut self, op: &Op) {
        match op {
            Op::CreateVertex => self.create_vertex(),
            Op::DeleteVertex { v, detach } => self.delete_vertex(self.ids.vertex(v), *detach),
            Op::AddLabel { v, label } => self.change_label(self.ids.vertex(v), *label, true),
            Op::RemoveLabel { v, label } => self.change_label(self.ids.vertex(v), *label, false),
            Op::SetProperty { v, key, value } => self.set_property(self.ids.vertex(v), *key, value),
            Op::CreateEdge { from, to, ty } => self.create_edge(self.ids.vertex(from), self.ids.vertex(to), *ty),
            Op::DeleteEdge { e } => self.delete_edge(e),
            Op::SetEdgeProperty { e, key, value } => self.set_edge_property(e, *key, value),
            Op::CheckInside => {
                // The transaction sees its own writes; the snapshot sees none of them.
                let txn = self.txn.as_ref().expect("a transaction is open");
                check_reads(&self.ids, txn, &self.working);
                check_scans(&self.ids, txn, &self.working, &self.indexes);
                let snapshot = self.snapshot.as_ref().expect("a snapshot is open");
                check_reads(&self.ids, snapshot, &self.committed);
                check_scans(&self.ids, snapshot, &self.committed, &self.indexes);
            }
            Op::CreateIndex(def) => self.create_index(*def),
            Op::DropIndex(def) => self.drop_index(*def),
            Op::CollectGarbage => drop(self.storage.collect_garbage()),
            Op::Commit => self.finish(true),
            Op::Abort => self.finish(false),
        }
    }

    /// After a write: the touched vertices read inside the transaction as the model says.
    fn check_touched(&self, touched: &[Gid]) {
        let txn = self.txn.as_ref().expect("a transaction is open");
        for gid in touched {
            check_vertex(&self.ids, txn, &self.working, *gid);
        }
    }

    fn create_vertex(&mut self) {
        let gid = self.txn().create_vertex().expect("create_vertex");
        assert!(!self.ids.vertices.contains(&gid), "vertex id {gid} handed out twice");
        self.ids.vertices.push(gid);
        self.working.vertices.insert(gid, VertexModel::default());
        self.wrote = true;
        self.check_touched(&[gid]);
    }

    fn delete_vertex(&mut self, gid: Gid, detach: bool) {
        let incident = self.working.incident_edges(gid);
        let expected = if !self.working.vertices.contains_key(&gid) {
            Err(StorageError::VertexNotFound(gid))
        } else if !incident.is_empty() && !detach {
            Err(StorageError::VertexHasEdges(gid))
        } else {
            Ok(())
        };
        assert_eq!(
            self.txn().delete_vertex(gid, detach),
            expected,
            "delete_vertex({gid}, {detach})"
        );
        let neighbours: BTreeSet<Gid> = incident
            .iter()
            .flat_map(|e| [self.working.edges[e].from, self.working.edges[e].to])
            .collect();
        if expected.is_ok() {
            incident.iter().for_each(|e| drop(self.working.edges.remove(e)));
            self.working.vertices.remove(&gid);
            self.wrote = true;
        }
        self.check_touched(&neighbours.into_iter().chain([gid]).collect::<Vec<_>>());
    }

    fn change_label(&mut self, gid: Gid, label: usize, add: bool) {
        let id = self.ids.labels[label];
        let expected = match self.working.vertices.get_mut(&gid) {
            None => Err(StorageError::VertexNotFound(gid)),
            Some(v) if add => Ok(v.labels.insert(label)),
            Some(v) => Ok(v.labels.remove(&label)),
        };
        let got = if add {
            self.txn().add_label(gid, id)
        } else {
            self.txn().remove_label(gid, id)
        };
        assert_eq!(
            got,
            expected,
            "{} label {} on {gid}",
            if add { "add" } else { "remove" },
            LABELS[label]
        );
        self.wrote |= expected == Ok(true);
        self.check_touched(&[gid]);
    }

    fn set_property(&mut self, gid: Gid, key: usize, value: &Value) {
        let expected = match self.working.vertices.get_mut(&gid) {
            None => Err(StorageError::VertexNotFound(gid)),
            Some(v) => Ok(set_prop(&mut v.props, key, value.clone())),
        };
        let id = self.ids.keys[key];
        let got = self.txn().set_vertex_property(gid, id, value.clone());
        assert_eq!(got, expected, "set {gid}.{} = {value}", KEYS[key]);
        self.wrote |= expected.is_ok();
        self.check_touched(&[gid]);
    }

    fn create_edge(&mut self, from: Gid, to: Gid, ty: usize) {
        let edge_type = self.ids.types[ty];
        let got = self.txn().create_edge(from, to, edge_type);
        let missing: Vec<Gid> = [from, to]
            .into_iter()
            .filter(|g| !self.working.vertices.contains_key(g))
            .collect();
        if !missing.is_empty() {
            assert!(
                matches!(got, Err(StorageError::VertexNotFound(g)) if missing.contains(&g)),
                "create_edge({from}, {to}) with missing {missing:?} gave {got:?}"
            );
            return;
        }
        let e = got.expect("create_edge between existing vertices");
        assert_eq!((e.from, e.to, e.edge_type), (from, to, edge_type), "edge handle");
        assert!(
            self.ids.edges.iter().all(|old| old.gid != e.gid),
            "edge id {} handed out twice",
            e.gid
        );
        self.ids.edges.push(e);
        let props = BTreeMap::new();
        self.working.edges.insert(e.gid, EdgeModel { from, to, ty, props });
        self.wrote = true;
        self.check_touched(&[from, to]);
    }

    fn delete_edge(&mut self, pick: &Pick) {
        if self.ids.edges.is_empty() {
            return;
        }
        let e = self.ids.edges[pick.of(self.ids.edges.len())];
        let got = self.txn().delete_edge(&e);
        if self.working.edges.remove(&e.gid).is_some() {
            assert_eq!(got, Ok(()), "delete_edge({e:?})");
            self.wrote = true;
        } else {
            assert_not_found(got, &e, "delete_edge");
        }
        self.check_touched(&[e.from, e.to]);
    }

    fn set_edge_property(&mut self, pick: &Pick, key: usize, value: &Value) {
        if self.ids.edges.is_empty() {
            return;
        }
        let e = self.ids.edges[pick.of(self.ids.edges.len())];
        let id = self.ids.keys[key];
        let got = self.txn().set_edge_property(&e, id, value.clone());
        match self.working.edges.get_mut(&e.gid) {
            Some(m) => {
                let old = set_prop(&mut m.props, key, value.clone());
                assert_eq!(got, Ok(old), "set edge {}.{} = {value}", e.gid, KEYS[key]);
                self.wrote = true;
                let txn = self.txn.as_ref().expect("a transaction is open");
                check_edge(&self.ids, txn, &self.working, &e);
            }
            None => assert_not_found(got, &e, "set_edge_property"),
        }
    }

    fn create_index(&mut self, def: IndexDef) {
        let before = self.storage.last_committed();
        match def.create(&self.storage) {
            Ok(ts) => {
                assert!(self.indexes.insert(def), "{def:?} created twice");
                assert_eq!(ts, before + 1, "DDL timestamp");
            }
            Err(e) => assert!(
                self.indexes.contains(&def) && matches!(e, StorageError::AlreadyExists(_)),
                "create {def:?}: {e:?}"
            ),
        }
    }

    fn drop_index(&mut self, def: IndexDef) {
        match def.drop_from(&self.storage) {
            Ok(_) => assert!(self.indexes.remove(&def), "dropped missing {def:?}"),
            Err(e) => assert!(
                !self.indexes.contains(&def) && matches!(e, StorageError::DoesNotExist(_)),
                "drop {def:?}: {e:?}"
            ),
        }
    }

    /// Commits or aborts the running transaction, checks everything, begins the next.
    fn finish(&mut self, commit: bool) {
        // Act: end the transaction and mirror it in the model.
        let txn = self.txn.take().expect("a transaction is open");
        let before = self.storage.last_committed();
        let old = self.committed.clone();
        if commit {
            let ts = txn.commit().expect("a commit without constraints cannot fail");
            let expected = self.wrote.then_some(before + 1);
            assert_eq!(ts, expected, "commit timestamp (wrote: {})", self.wrote);
            self.committed = self.working.clone();
        } else {
            txn.abort();
            self.working = self.committed.clone();
        }
        assert_eq!(self.storage.last_committed(), before + u64::from(commit && self.wrote));

        // Check: the snapshot begun with the transaction still sees the old graph, even
        // after garbage collection while it runs.
        let snapshot = self.snapshot.take().expect("a snapshot is open");
        check_reads(&self.ids, &snapshot, &old);
        self.storage.collect_garbage();
        check_reads(&self.ids, &snapshot, &old);
        check_scans(&self.ids, &snapshot, &old, &self.indexes);
        drop(snapshot);
        assert_eq!(self.storage.active_transactions(), 0, "every transaction finished");

        // Check: the committed graph, before and after garbage collection.
        self.check_committed();
        self.storage.collect_garbage();
        self.check_committed();
        self.begin();
    }

    fn check_committed(&self) {
        assert_eq!(self.storage.dump(), self.committed.dump(), "dump()");
        let expected: Vec<IndexInfo> = sorted(self.indexes.iter().map(|d| d.info()).collect());
        assert_eq!(self.storage.index_info(), expected, "index_info()");
        let reader = self.storage.begin(IsolationLevel::SnapshotIsolation);
        check_reads(&self.ids, &reader, &self.committed);
        check_scans(&self.ids, &reader, &self.committed, &self.indexes);
    }
}

/// `PROPTEST_CASES` overrides the number of cases (for a longer soak).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(128),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    /// Random transactions agree with the model at every step and every boundary.
    #[test]
    fn storage_agrees_with_model(ops in prop::collection::vec(op(), 1..=64)) {
        // Set up: an empty storage and model.
        let mut h = Harness::new();

        // Act + check: every operation is checked as it runs; each boundary checks all.
        for op in &ops {
            h.run(op);
        }

        // Check: whatever is still open commits and agrees too.
        h.finish(true);
    }
}

/// A fixed sequence: a detach delete of a vertex with a self-loop and an indexed label,
/// aborted, leaves everything as committed.
#[test]
fn aborted_detach_delete_of_self_loop_restores_everything() {
    // Set up: a committed vertex with a label, a property and a self-loop.
    let mut h = Harness::new();
    h.run(&Op::CreateIndex(IndexDef::Label(0)));
    h.run(&Op::CreateIndex(IndexDef::EdgeType(0)));
    for op in [
        Op::CreateVertex,
        Op::AddLabel { v: Pick(0), label: 0 },
        Op::SetProperty {
            v: Pick(0),
            key: 0,
            value: Value::from("a"),
        },
        Op::CreateEdge {
            from: Pick(0),
            to: Pick(0),
            ty: 0,
        },
        Op::Commit,
    ] {
        h.run(&op);
    }

    // Act: refused delete, detach delete, then abort.
    h.run(&Op::DeleteVertex {
        v: Pick(0),
        detach: false,
    });
    h.run(&Op::DeleteVertex {
        v: Pick(0),
        detach: true,
    });
    h.run(&Op::CheckInside);
    h.run(&Op::Abort);

    // Check: `finish` compared everything with the model; the vertex is still there.
    assert_eq!(h.storage.dump().vertices.len(), 1);
    assert_eq!(h.storage.dump().edges.len(), 1);
}

/// An edge handle is plain data, so a caller can pass one whose `to` is wrong. Whether the
/// delete is refused or deletes the real edge, it must not leave half an edge behind.
#[test]
fn deleting_an_edge_through_a_handle_with_a_wrong_target_keeps_adjacency_consistent() {
    // Set up: a -> b committed, and an unrelated vertex c.
    let storage = Storage::new();
    let knows = storage.edge_type("KNOWS");
    let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
    let (a, b, c) = (
        txn.create_vertex().unwrap(),
        txn.create_vertex().unwrap(),
        txn.create_vertex().unwrap(),
    );
    let e = txn.create_edge(a, b, knows).unwrap();
    txn.commit().unwrap();

    // Act: delete through a handle that names c as the target, and commit.
    let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
    let result = txn.delete_edge(&EdgeRef { to: c, ..e });
    txn.commit().unwrap();

    // Check: a's out-edges and b's in-edges still describe the same edges.
    let reader = storage.begin(IsolationLevel::SnapshotIsolation);
    let out_of_a = reader.edges(a, Direction::Out, &[]).unwrap();
    let into_b = reader.edges(b, Direction::In, &[]).unwrap();
    assert_eq!(
        out_of_a, into_b,
        "delete_edge through a wrong handle returned {result:?}"
    );
    assert!(reader.edges(c, Direction::In, &[]).unwrap().is_empty());
}
