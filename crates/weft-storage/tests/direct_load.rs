//! Loading records directly (recovery's path): allowed only into a storage nobody else
//! uses, in timestamp order, and a record that does not fit the graph is an error naming
//! what is missing, never a panic. Equality with transactional replay over random
//! workloads is checked in `replay.rs`.

mod sinks;

use sinks::RecordingSink;
use weft_storage::record::{CommitRecord, RecordEdge, RecordOp};
use weft_storage::{Direction, Gid, IsolationLevel, Storage, StorageError, Value};

const SI: IsolationLevel = IsolationLevel::SnapshotIsolation;

fn load(storage: &Storage, ts: u64, ops: Vec<RecordOp>) -> Result<u64, StorageError> {
    storage.load_record(CommitRecord::Transaction { ts, ops })
}

fn knows(gid: u64, from: u64, to: u64) -> RecordEdge {
    RecordEdge {
        gid,
        from,
        to,
        edge_type: "KNOWS".into(),
    }
}

#[test]
fn a_loaded_graph_reads_like_a_committed_one() {
    let storage = Storage::new();
    let ops = vec![
        RecordOp::CreateVertex(0),
        RecordOp::CreateVertex(1),
        RecordOp::AddLabel(0, "Person".into()),
        RecordOp::SetVertexProperty(0, "name".into(), Value::from("Ada")),
        RecordOp::CreateEdge(knows(5, 0, 1)),
        RecordOp::SetEdgeProperty(knows(5, 0, 1), "since".into(), Value::Int(1843)),
        RecordOp::CreateEdge(knows(6, 1, 1)),
    ];
    assert_eq!(load(&storage, 1, ops), Ok(1));
    assert_eq!(storage.last_committed(), 1);

    let txn = storage.begin(SI);
    let person = storage.label("Person");
    assert_eq!(txn.vertices_with_label(person), vec![Gid(0)]);
    assert_eq!(
        txn.vertex_property(Gid(0), storage.property("name")).unwrap(),
        Some(Value::from("Ada"))
    );
    let out = txn.edges(Gid(0), Direction::Out, &[]).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(
        txn.edge_property(&out[0], storage.property("since")).unwrap(),
        Some(Value::Int(1843))
    );
    assert_eq!(
        txn.edges(Gid(1), Direction::In, &[]).unwrap().len(),
        2,
        "one from 0, one self-loop"
    );
    drop(txn);

    // New ids continue after the loaded ones.
    let mut txn = storage.begin(SI);
    assert_eq!(txn.create_vertex(), Ok(Gid(2)));
    let edge = txn.create_edge(Gid(2), Gid(0), storage.edge_type("KNOWS")).unwrap();
    assert_eq!(edge.gid, Gid(7));
    txn.commit().unwrap();

    // Removals: the edges, then the vertex; its label count and index entry go.
    let ops = vec![
        RecordOp::DeleteEdge(knows(5, 0, 1)),
        RecordOp::DeleteEdge(RecordEdge {
            gid: 7,
            from: 2,
            to: 0,
            edge_type: "KNOWS".into(),
        }),
        RecordOp::DeleteVertex(0),
    ];
    assert_eq!(load(&storage, 3, ops), Ok(3));
    storage.collect_garbage();
    assert_eq!(storage.approx_label_count(person), 0);
    assert_eq!(storage.approx_vertex_count(), 2);
    let txn = storage.begin(SI);
    assert!(txn.vertices_with_label(person).is_empty());
    assert!(txn
        .edges(Gid(1), Direction::In, &[])
        .unwrap()
        .iter()
        .all(|e| e.gid == Gid(6)));
}

#[test]
fn loading_is_refused_while_the_storage_is_in_use() {
    let storage = Storage::new();
    let running = storage.begin(SI);
    let refused = load(&storage, 1, vec![RecordOp::CreateVertex(0)]);
    assert!(matches!(refused, Err(StorageError::Apply(_))), "{refused:?}");
    drop(running);

    let sink = RecordingSink::new("replica");
    sink.attach(&storage);
    let refused = load(&storage, 1, vec![RecordOp::CreateVertex(0)]);
    assert!(matches!(refused, Err(StorageError::Apply(_))), "{refused:?}");
    assert!(storage.remove_commit_sink("replica"));

    assert_eq!(load(&storage, 1, vec![RecordOp::CreateVertex(0)]), Ok(1));
}

#[test]
fn a_stale_record_is_refused_before_it_changes_anything() {
    let storage = Storage::new();
    assert_eq!(load(&storage, 4, vec![RecordOp::CreateVertex(0)]), Ok(4));
    for ts in [3, 4] {
        let refused = load(&storage, ts, vec![RecordOp::CreateVertex(1)]);
        assert!(matches!(refused, Err(StorageError::Apply(_))), "{refused:?}");
    }
    assert_eq!(storage.approx_vertex_count(), 1);
    assert_eq!(storage.last_committed(), 4);
}

#[test]
fn a_record_that_does_not_fit_the_graph_names_what_is_missing() {
    let storage = Storage::new();
    load(&storage, 1, vec![RecordOp::CreateVertex(0), RecordOp::CreateVertex(1)]).unwrap();
    let cases = [
        (RecordOp::CreateVertex(1), "vertex id 1 is already in use"),
        (RecordOp::AddLabel(9, "Person".into()), "vertex 9"),
        (RecordOp::CreateEdge(knows(3, 0, 9)), "vertex 9"),
        (RecordOp::DeleteEdge(knows(3, 0, 1)), "edge 3"),
        (
            RecordOp::SetEdgeProperty(knows(3, 0, 1), "since".into(), Value::Int(1)),
            "edge 3",
        ),
        (RecordOp::CreateEdge(knows(u64::MAX, 0, 1)), "out of range"),
        (RecordOp::CreateVertex(u64::MAX), "out of range"),
    ];
    for (ts, (op, names)) in (2..).zip(cases) {
        let error = load(&storage, ts, vec![op.clone()]).expect_err("the record must not load");
        assert!(error.to_string().contains(names), "{op:?}: {error}");
    }
    // A vertex with edges is not deleted by a record that did not delete its edges.
    load(&storage, 20, vec![RecordOp::CreateEdge(knows(3, 0, 1))]).unwrap();
    let error = load(&storage, 21, vec![RecordOp::DeleteVertex(1)]).unwrap_err();
    assert!(matches!(error, StorageError::VertexHasEdges(Gid(1))), "{error}");
    // An edge half-created by a failing record is not left behind.
    let txn = storage.begin(SI);
    assert_eq!(txn.edges(Gid(0), Direction::Out, &[]).unwrap().len(), 1);
}

#[test]
fn edge_ids_end_at_the_edge_tables_size_with_a_clear_error() {
    // Set up: the last id the edge table holds, with a property (so it takes its slot).
    let last = (1u64 << 32) - 1;
    let storage = Storage::new();
    let ops = vec![
        RecordOp::CreateVertex(0),
        RecordOp::CreateEdge(knows(last, 0, 0)),
        RecordOp::SetEdgeProperty(knows(last, 0, 0), "w".into(), Value::Int(1)),
    ];
    assert_eq!(load(&storage, 1, ops), Ok(1));
    // Act / check: one past it is refused, in a record and in a transaction alike.
    let past = load(&storage, 2, vec![RecordOp::CreateEdge(knows(last + 1, 0, 0))]).unwrap_err();
    assert!(past.to_string().contains("out of range"), "{past}");
    let mut txn = storage.begin(SI);
    let err = txn.create_edge(Gid(0), Gid(0), storage.edge_type("KNOWS")).unwrap_err();
    assert!(matches!(err, StorageError::Limit(_)), "{err}");
    assert!(err.to_string().contains("edge ids exhausted"), "{err}");
    txn.abort();
    let txn = storage.begin(SI);
    let edge = txn.edges(Gid(0), Direction::Out, &[]).unwrap()[0];
    assert_eq!(
        txn.edge_property(&edge, storage.property("w")).unwrap(),
        Some(Value::Int(1))
    );
}

#[test]
fn split_between_threads_the_earliest_failing_record_is_reported() {
    // Set up: the second record's edge names a missing target (the first thread's half),
    // the third labels a missing vertex (the second thread's, which gets there first).
    let storage = Storage::new();
    let records = vec![
        CommitRecord::Transaction {
            ts: 1,
            ops: vec![RecordOp::CreateVertex(0), RecordOp::CreateVertex(1)],
        },
        CommitRecord::Transaction {
            ts: 2,
            ops: vec![RecordOp::AddLabel(0, "A".into()), RecordOp::CreateEdge(knows(3, 0, 8))],
        },
        CommitRecord::Transaction {
            ts: 3,
            ops: vec![RecordOp::AddLabel(7, "A".into())],
        },
    ];

    // Act + check: the second record (index 1) is the one named.
    assert_eq!(
        storage.load_records_split(records),
        Err((1, StorageError::VertexNotFound(Gid(8))))
    );
}
