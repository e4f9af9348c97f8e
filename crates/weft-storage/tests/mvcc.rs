//! Named scenarios for transactions: visibility, conflicts, abort, deletion rules and the
//! counters the planner reads. Random coverage lives in `model.rs` and `isolation.rs`.

mod sinks;

use sinks::RecordingSink;
use weft_storage::{Direction, IsolationLevel, Storage, StorageError, Value};

const SI: IsolationLevel = IsolationLevel::SnapshotIsolation;

#[test]
fn committed_writes_are_visible_to_later_transactions_only() {
    // Set up: a reader that starts before the write commits.
    let storage = Storage::new();
    let person = storage.label("Person");
    let name = storage.property("name");
    let early = storage.begin(SI);

    // Act: create and commit a labelled vertex with a property.
    let mut txn = storage.begin(SI);
    let v = txn.create_vertex().unwrap();
    txn.add_label(v, person).unwrap();
    txn.set_vertex_property(v, name, Value::from("Ada")).unwrap();
    let ts = txn.commit().unwrap();

    // Check: the early reader does not see it, a later one does.
    assert_eq!(ts, Some(1));
    assert!(!early.vertex_exists(v));
    assert!(matches!(early.labels(v), Err(StorageError::VertexNotFound(_))));
    let late = storage.begin(SI);
    assert_eq!(late.labels(v).unwrap(), vec![person]);
    assert_eq!(late.vertex_property(v, name).unwrap(), Some(Value::from("Ada")));
    assert_eq!(late.vertices().collect::<Vec<_>>(), vec![v]);
}

#[test]
fn own_writes_are_visible_inside_the_transaction() {
    let storage = Storage::new();
    let knows = storage.edge_type("KNOWS");
    let mut txn = storage.begin(SI);
    let a = txn.create_vertex().unwrap();
    let b = txn.create_vertex().unwrap();
    let e = txn.create_edge(a, b, knows).unwrap();

    assert_eq!(txn.edges(a, Direction::Out, &[]).unwrap(), vec![e]);
    assert_eq!(txn.edges(b, Direction::In, &[knows]).unwrap(), vec![e]);
    assert!(txn.edges(a, Direction::In, &[]).unwrap().is_empty());
    assert!(txn.edge_exists(&e));
}

#[test]
fn concurrent_writes_to_one_vertex_conflict_at_once() {
    // Set up: one committed vertex.
    let storage = Storage::new();
    let p = storage.property("p");
    let mut setup = storage.begin(SI);
    let v = setup.create_vertex().unwrap();
    setup.commit().unwrap();

    // Act: two transactions write the same vertex.
    let mut first = storage.begin(SI);
    let mut second = storage.begin(SI);
    first.set_vertex_property(v, p, Value::Int(1)).unwrap();
    let err = second.set_vertex_property(v, p, Value::Int(2)).unwrap_err();

    // Check: the second fails immediately with a retryable error; after the first
    // commits, the second (started before that commit) still conflicts: no lost update.
    assert!(err.is_retryable(), "{err}");
    first.commit().unwrap();
    assert!(second
        .set_vertex_property(v, p, Value::Int(2))
        .unwrap_err()
        .is_retryable());
    let mut third = storage.begin(SI);
    assert_eq!(
        third.set_vertex_property(v, p, Value::Int(3)).unwrap(),
        Some(Value::Int(1))
    );
}

#[test]
fn read_committed_writer_may_follow_a_later_commit() {
    let storage = Storage::new();
    let p = storage.property("p");
    let mut setup = storage.begin(SI);
    let v = setup.create_vertex().unwrap();
    setup.commit().unwrap();

    let mut rc = storage.begin(IsolationLevel::ReadCommitted);
    let mut other = storage.begin(SI);
    other.set_vertex_property(v, p, Value::Int(1)).unwrap();
    assert_eq!(rc.vertex_property(v, p).unwrap(), None);
    other.commit().unwrap();

    assert_eq!(rc.vertex_property(v, p).unwrap(), Some(Value::Int(1)));
    assert_eq!(
        rc.set_vertex_property(v, p, Value::Int(2)).unwrap(),
        Some(Value::Int(1))
    );
    rc.commit().unwrap();
}

#[test]
fn abort_undoes_every_write() {
    // Set up: a committed graph a -> b with properties and labels.
    let storage = Storage::new();
    let (l, t, p) = (storage.label("L"), storage.edge_type("T"), storage.property("p"));
    let mut setup = storage.begin(SI);
    let a = setup.create_vertex().unwrap();
    let b = setup.create_vertex().unwrap();
    setup.add_label(a, l).unwrap();
    setup.set_vertex_property(a, p, Value::Int(1)).unwrap();
    let e = setup.create_edge(a, b, t).unwrap();
    setup.set_edge_property(&e, p, Value::from("x")).unwrap();
    setup.commit().unwrap();
    let before = storage.dump();

    // Act: change everything, then abort.
    let mut txn = storage.begin(SI);
    txn.set_vertex_property(a, p, Value::Int(2)).unwrap();
    txn.remove_label(a, l).unwrap();
    txn.add_label(b, l).unwrap();
    txn.set_edge_property(&e, p, Value::Null).unwrap();
    let c = txn.create_vertex().unwrap();
    txn.create_edge(c, a, t).unwrap();
    txn.delete_vertex(b, true).unwrap();
    txn.abort();

    // Check: the graph and the planner counters are as before.
    assert_eq!(storage.dump(), before);
    assert_eq!(storage.approx_vertex_count(), 2);
    assert_eq!(storage.approx_label_count(l), 1);
    let mut again = storage.begin(SI);
    again.set_vertex_property(a, p, Value::Int(5)).unwrap();
}

#[test]
fn dropping_a_transaction_aborts_it() {
    let storage = Storage::new();
    {
        let mut txn = storage.begin(SI);
        txn.create_vertex().unwrap();
    }
    assert!(storage.dump().vertices.is_empty());
    assert_eq!(storage.active_transactions(), 0);
}

#[test]
fn delete_refuses_a_vertex_with_edges_unless_detach() {
    let storage = Storage::new();
    let t = storage.edge_type("T");
    let mut txn = storage.begin(SI);
    let a = txn.create_vertex().unwrap();
    let b = txn.create_vertex().unwrap();
    txn.create_edge(a, b, t).unwrap();
    txn.create_edge(b, b, t).unwrap();
    txn.commit().unwrap();

    let mut txn = storage.begin(SI);
    assert_eq!(
        txn.delete_vertex(b, false).unwrap_err(),
        StorageError::VertexHasEdges(b)
    );
    txn.delete_vertex(b, true).unwrap();
    assert!(txn.edges(a, Direction::Out, &[]).unwrap().is_empty());
    txn.commit().unwrap();

    let dump = storage.dump();
    assert_eq!(dump.vertices.keys().copied().collect::<Vec<_>>(), vec![a.0]);
    assert!(dump.edges.is_empty());
}

#[test]
fn deleted_vertex_cannot_be_written() {
    let storage = Storage::new();
    let p = storage.property("p");
    let mut txn = storage.begin(SI);
    let v = txn.create_vertex().unwrap();
    txn.commit().unwrap();
    let mut txn = storage.begin(SI);
    txn.delete_vertex(v, false).unwrap();

    assert_eq!(
        txn.set_vertex_property(v, p, Value::Int(1)).unwrap_err(),
        StorageError::VertexNotFound(v)
    );
    assert!(!txn.vertex_exists(v));
}

#[test]
fn deleting_an_edge_conflicts_with_setting_its_property() {
    let storage = Storage::new();
    let (t, p) = (storage.edge_type("T"), storage.property("p"));
    let mut txn = storage.begin(SI);
    let a = txn.create_vertex().unwrap();
    let e = txn.create_edge(a, a, t).unwrap();
    txn.commit().unwrap();

    let mut deleter = storage.begin(SI);
    let mut setter = storage.begin(SI);
    deleter.delete_edge(&e).unwrap();
    assert!(setter
        .set_edge_property(&e, p, Value::Int(1))
        .unwrap_err()
        .is_retryable());
    deleter.commit().unwrap();
    let mut late = storage.begin(SI);
    assert_eq!(
        late.set_edge_property(&e, p, Value::Int(1)).unwrap_err(),
        StorageError::EdgeNotFound(e.gid)
    );

    // A deletion committed after the setter started conflicts too (the edge has no
    // properties, so only its ends record the deletion), and so does a deletion that
    // meets a pending property write, in either order, on an edge between two vertices.
    let mut txn = storage.begin(SI);
    let b = txn.create_vertex().unwrap();
    let f = txn.create_edge(a, b, t).unwrap();
    txn.commit().unwrap();
    let mut setter = storage.begin(SI);
    let mut deleter = storage.begin(SI);
    deleter.delete_edge(&f).unwrap();
    deleter.commit().unwrap();
    assert!(setter
        .set_edge_property(&f, p, Value::Int(1))
        .unwrap_err()
        .is_retryable());

    let mut txn = storage.begin(SI);
    let g = txn.create_edge(a, b, t).unwrap();
    txn.commit().unwrap();
    let mut setter = storage.begin(SI);
    let mut deleter = storage.begin(SI);
    setter.set_edge_property(&g, p, Value::Int(2)).unwrap();
    assert!(deleter.delete_edge(&g).unwrap_err().is_retryable());
    setter.commit().unwrap();
    assert_eq!(storage.begin(SI).edge_property(&g, p).unwrap(), Some(Value::Int(2)));

    // A deletion taken back leaves nothing to conflict with.
    let mut txn = storage.begin(SI);
    let h = txn.create_edge(a, b, t).unwrap();
    txn.commit().unwrap();
    let mut deleter = storage.begin(SI);
    deleter.delete_edge(&h).unwrap();
    deleter.abort();
    let mut setter = storage.begin(SI);
    setter.set_edge_property(&h, p, Value::Int(3)).unwrap();
    setter.commit().unwrap();
    assert_eq!(storage.begin(SI).edge_property(&h, p).unwrap(), Some(Value::Int(3)));
}

#[test]
fn edge_properties_are_versioned() {
    let storage = Storage::new();
    let (t, w) = (storage.edge_type("T"), storage.property("w"));
    let mut txn = storage.begin(SI);
    let a = txn.create_vertex().unwrap();
    let b = txn.create_vertex().unwrap();
    let e = txn.create_edge(a, b, t).unwrap();
    txn.set_edge_property(&e, w, Value::Float(0.5)).unwrap();
    txn.commit().unwrap();
    let old = storage.begin(SI);

    let mut txn = storage.begin(SI);
    txn.set_edge_property(&e, w, Value::Float(2.0)).unwrap();
    txn.commit().unwrap();

    assert_eq!(old.edge_property(&e, w).unwrap(), Some(Value::Float(0.5)));
    assert_eq!(storage.begin(SI).edge_property(&e, w).unwrap(), Some(Value::Float(2.0)));
}

#[test]
fn read_uncommitted_sees_running_writes() {
    let storage = Storage::new();
    let mut writer = storage.begin(SI);
    let v = writer.create_vertex().unwrap();
    let ru = storage.begin(IsolationLevel::ReadUncommitted);
    let rc = storage.begin(IsolationLevel::ReadCommitted);

    assert!(ru.vertex_exists(v));
    assert!(!rc.vertex_exists(v));
    writer.commit().unwrap();
    assert!(rc.vertex_exists(v));
}

#[test]
fn commit_timestamps_form_one_total_order() {
    let storage = Storage::new();
    let timestamps: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    (0..200)
                        .map(|_| {
                            let mut txn = storage.begin(SI);
                            txn.create_vertex().unwrap();
                            txn.commit().unwrap().unwrap()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let mut sorted = timestamps.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, (1..=800).collect::<Vec<u64>>());
    assert_eq!(storage.last_committed(), 800);
}

#[test]
fn read_only_commit_takes_no_timestamp() {
    let storage = Storage::new();
    let txn = storage.begin(SI);
    assert_eq!(txn.commit().unwrap(), None);
    assert_eq!(storage.last_committed(), 0);
}

#[test]
fn a_commit_sink_refusal_aborts_the_transaction() {
    let storage = Storage::new();
    let sink = RecordingSink::new("replica");
    sink.attach(&storage);
    sink.refuse_next(true);
    let mut txn = storage.begin(SI);
    txn.create_vertex().unwrap();
    let err = txn.commit().unwrap_err();

    assert_eq!(
        err.to_string(),
        "the commit did not complete; retry the transaction: replica: refused by the test"
    );
    assert!(sink.received().is_empty());
    assert!(storage.dump().vertices.is_empty());
    assert_eq!(storage.last_committed(), 0);
}

#[test]
fn gc_frees_deltas_and_deleted_objects_but_not_what_readers_need() {
    // Set up: a vertex with an edge that has a property (so it uses its edge slot), and a
    // reader pinned before its deletion.
    let storage = Storage::new();
    let t = storage.edge_type("T");
    let mut txn = storage.begin(SI);
    let a = txn.create_vertex().unwrap();
    let b = txn.create_vertex().unwrap();
    let e = txn.create_edge(a, b, t).unwrap();
    txn.set_edge_property(&e, storage.property("w"), Value::Int(1)).unwrap();
    txn.commit().unwrap();
    let reader = storage.begin(SI);
    let mut txn = storage.begin(SI);
    txn.delete_vertex(a, true).unwrap();
    txn.commit().unwrap();

    // Act + check: while the reader runs, GC frees the creation deltas only.
    let first = storage.collect_garbage();
    assert_eq!(first.vertices_freed, 0);
    assert!(reader.vertex_exists(a));
    assert_eq!(reader.edges(b, Direction::In, &[]).unwrap().len(), 1);

    // Act + check: once it ends, the deleted vertex goes and the edge's slot is vacant.
    drop(reader);
    let second = storage.collect_garbage();
    assert_eq!(second.vertices_freed, 1);
    assert_eq!(second.edge_objects_freed, 1);
    assert!(second.deltas_freed >= 3);
    assert_eq!(storage.dump().vertices.len(), 1);
}

#[test]
fn background_gc_runs_and_stops_with_its_handle() {
    let storage = Storage::new();
    let worker = storage.start_gc(std::time::Duration::from_millis(5));
    let mut txn = storage.begin(SI);
    let v = txn.create_vertex().unwrap();
    txn.commit().unwrap();
    let mut txn = storage.begin(SI);
    txn.delete_vertex(v, false).unwrap();
    txn.commit().unwrap();

    // The worker frees the vertex without an explicit call (bounded wait).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while storage.collect_garbage() == Default::default() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    drop(worker);
    assert!(storage.dump().vertices.is_empty());
}

#[test]
fn the_background_collector_reports_each_pass_to_its_hook() {
    let storage = Storage::new();
    let (passes, seen) = std::sync::mpsc::channel();
    let worker = storage.start_gc_with(std::time::Duration::from_millis(5), move |stats| {
        let _ = passes.send(*stats);
    });
    let mut txn = storage.begin(SI);
    txn.create_vertex().unwrap();
    txn.commit().unwrap();

    // The hook hears of the pass that took the commit (bounded wait).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut took_it = false;
    while !took_it && std::time::Instant::now() < deadline {
        if let Ok(stats) = seen.recv_timeout(std::time::Duration::from_millis(100)) {
            took_it = stats.commits == 1;
        }
    }
    drop(worker);
    assert!(took_it, "no pass reported the commit");
}

#[test]
fn values_nested_deeper_than_the_encoding_allows_are_refused() {
    let storage = Storage::new();
    let p = storage.property("p");
    let nest = |depth: usize| (0..depth).fold(Value::Int(1), |v, _| Value::List(vec![v]));
    let mut txn = storage.begin(SI);
    let v = txn.create_vertex().unwrap();

    txn.set_vertex_property(v, p, nest(weft_common::encoding::MAX_DEPTH))
        .unwrap();
    let err = txn
        .set_vertex_property(v, p, nest(weft_common::encoding::MAX_DEPTH + 1))
        .unwrap_err();

    assert!(matches!(err, StorageError::InvalidValue(_)), "{err}");
    assert_eq!(
        txn.vertex_property(v, p).unwrap(),
        Some(nest(weft_common::encoding::MAX_DEPTH))
    );
}
