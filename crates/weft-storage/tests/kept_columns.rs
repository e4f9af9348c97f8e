//! Property columns kept between label scans (`Transaction::label_columns`): a scan
//! answers with what the transaction sees node by node, whether it read the nodes or
//! columns an earlier scan kept. Named scenarios for each kind of change, a random model
//! of interleaved writers, readers, aborts and collections, and threads.

mod interleave;

use interleave::{collector, end_round, step, World, SLOTS};
use proptest::prelude::*;
use weft_storage::{Gid, IsolationLevel, LabelId, PropertyId, Storage, Transaction, Value};

const SI: IsolationLevel = IsolationLevel::SnapshotIsolation;

/// Per node the scan hands back, its values of `keys`, read in batches of 7.
fn scan(txn: &Transaction, label: LabelId, keys: &[Option<PropertyId>]) -> Vec<(Gid, Vec<Option<Value>>)> {
    let mut out = Vec::new();
    txn.label_columns(label, keys, 7, 1, |gids, columns| {
        for (i, gid) in gids.iter().enumerate() {
            out.push((*gid, columns.iter().map(|c| c[i].clone()).collect()));
        }
        Ok::<_, ()>(())
    })
    .unwrap();
    out
}

/// The same, asked of every node one at a time.
fn rows(txn: &Transaction, label: LabelId, keys: &[Option<PropertyId>]) -> Vec<(Gid, Vec<Option<Value>>)> {
    let value = |gid: Gid, key: &Option<PropertyId>| key.and_then(|k| txn.vertex_property(gid, k).unwrap());
    txn.vertices_with_label(label)
        .into_iter()
        .map(|gid| (gid, keys.iter().map(|k| value(gid, k)).collect()))
        .collect()
}

/// A storage keeping columns from 4 members, with `n` Person nodes aged 0..n, collected.
fn people(n: i64) -> (Storage, LabelId, PropertyId, Vec<Gid>) {
    let storage = Storage::new();
    storage.keep_columns_from(4);
    let (person, age) = (storage.label("Person"), storage.property("age"));
    let mut txn = storage.begin(SI);
    let gids: Vec<Gid> = (0..n)
        .map(|i| {
            let v = txn.create_vertex().unwrap();
            txn.add_label(v, person).unwrap();
            txn.set_vertex_property(v, age, Value::Int(i)).unwrap();
            v
        })
        .collect();
    txn.commit().unwrap();
    storage.collect_garbage();
    (storage, person, age, gids)
}

fn kept_bytes(storage: &Storage) -> u64 {
    storage.memory_breakdown().columns
}

#[test]
fn a_settled_scan_keeps_its_columns_and_later_scans_answer_the_same() {
    let (storage, person, age, _) = people(20);
    let keys = [Some(age), None];
    assert_eq!(kept_bytes(&storage), 0);
    let reader = storage.begin(SI);
    let first = scan(&reader, person, &keys);
    assert_eq!(first, rows(&reader, person, &keys));
    assert_eq!(first.len(), 20);
    assert!(kept_bytes(&storage) > 0, "a settled scan keeps its columns");
    assert_eq!(storage.kept_column_reads(), 0);
    assert_eq!(scan(&storage.begin(SI), person, &keys), first);
    assert_eq!(storage.kept_column_reads(), 1, "the second scan read the kept columns");
    for isolation in [IsolationLevel::ReadCommitted, IsolationLevel::ReadUncommitted] {
        let other = storage.begin(isolation);
        assert_eq!(scan(&other, person, &keys), rows(&other, person, &keys));
    }
    assert_eq!(storage.kept_column_reads(), 3);

    // A second key joins the label's columns; the first stays.
    let name = storage.property("name");
    let both = [Some(name), Some(age)];
    let before = kept_bytes(&storage);
    assert_eq!(scan(&reader, person, &both), rows(&reader, person, &both));
    assert!(kept_bytes(&storage) > before);
    let reads = storage.kept_column_reads();
    assert_eq!(scan(&reader, person, &[Some(age)]), rows(&reader, person, &[Some(age)]));
    assert_eq!(
        scan(&reader, person, &[Some(name)]),
        rows(&reader, person, &[Some(name)])
    );
    assert_eq!(storage.kept_column_reads(), reads + 2);
}

#[test]
fn a_label_scanned_by_several_threads_keeps_the_same_columns() {
    // Above the size from which a label scan shares its batches with helper threads.
    let (storage, person, age, _) = people(40_000);
    let keys = [Some(age)];
    let reader = storage.begin(SI);
    let mut read = Vec::new();
    reader
        .label_columns(person, &keys, 1024, 2, |gids, columns| {
            read.extend(gids.iter().copied().zip(columns[0].iter().cloned()));
            Ok::<_, ()>(())
        })
        .unwrap();
    let want: Vec<_> = rows(&reader, person, &keys)
        .into_iter()
        .map(|(g, v)| (g, v[0].clone()))
        .collect();
    assert_eq!(read, want);
    assert_eq!(scan(&reader, person, &keys), rows(&reader, person, &keys));
    assert_eq!(storage.kept_column_reads(), 1);
}

#[test]
fn a_direct_load_drops_the_kept_columns() {
    use weft_storage::record::{CommitRecord, RecordOp};
    let (storage, person, age, gids) = people(8);
    let keys = [Some(age)];
    scan(&storage.begin(SI), person, &keys);
    assert!(kept_bytes(&storage) > 0);
    // Recovery's path writes without counting in: nothing kept survives it.
    let ts = storage.last_committed() + 1;
    let ops = vec![RecordOp::SetVertexProperty(gids[2].0, "age".into(), Value::Int(99))];
    storage.load_record(CommitRecord::Transaction { ts, ops }).unwrap();
    assert_eq!(kept_bytes(&storage), 0);
    let reader = storage.begin(SI);
    assert_eq!(scan(&reader, person, &keys)[2].1, vec![Some(Value::Int(99))]);
    assert_eq!(scan(&reader, person, &keys), rows(&reader, person, &keys));
}

#[test]
fn a_write_is_seen_by_whom_it_should_and_the_columns_follow_once_it_settles() {
    let (storage, person, age, gids) = people(12);
    let keys = [Some(age)];
    let early = storage.begin(SI);
    scan(&early, person, &keys);

    let mut writer = storage.begin(SI);
    writer.set_vertex_property(gids[3], age, Value::Int(300)).unwrap();
    assert_eq!(storage.unsettled_properties(), 1);
    // The writer sees its write; everyone else the value before it.
    assert_eq!(scan(&writer, person, &keys), rows(&writer, person, &keys));
    assert_eq!(scan(&writer, person, &keys)[3].1, vec![Some(Value::Int(300))]);
    assert_eq!(scan(&early, person, &keys)[3].1, vec![Some(Value::Int(3))]);
    writer.commit().unwrap();

    // Committed: new readers see it; the early reader still does not, even collected.
    storage.collect_garbage();
    assert_eq!(
        scan(&storage.begin(SI), person, &keys)[3].1,
        vec![Some(Value::Int(300))]
    );
    assert_eq!(scan(&early, person, &keys)[3].1, vec![Some(Value::Int(3))]);
    assert_eq!(
        storage.unsettled_properties(),
        1,
        "the early reader holds the old version"
    );

    drop(early);
    storage.collect_garbage();
    assert_eq!(storage.unsettled_properties(), 0);
    let reader = storage.begin(SI);
    assert_eq!(scan(&reader, person, &keys)[3].1, vec![Some(Value::Int(300))]);
    assert_eq!(scan(&reader, person, &keys), rows(&reader, person, &keys));
}

#[test]
fn members_that_come_and_go_and_aborted_writes_are_followed() {
    let (storage, person, age, gids) = people(10);
    let keys = [Some(age)];
    scan(&storage.begin(SI), person, &keys);
    let reads = storage.kept_column_reads();

    // An aborted change: settled at once, so the next scan keeps fresh columns (the
    // change counters moved) and the one after it reads them.
    let mut txn = storage.begin(SI);
    txn.set_vertex_property(gids[0], age, Value::Int(-1)).unwrap();
    txn.remove_label(gids[1], person).unwrap();
    txn.abort();
    assert_eq!((storage.unsettled_properties(), storage.unsettled_labels()), (0, 0));
    let reader = storage.begin(SI);
    assert_eq!(scan(&reader, person, &keys), rows(&reader, person, &keys));
    assert_eq!(scan(&reader, person, &keys).len(), 10);
    assert_eq!(storage.kept_column_reads(), reads + 1);
    drop(reader);

    // A label removed, a node deleted, a new member: each seen once committed.
    let mut txn = storage.begin(SI);
    txn.remove_label(gids[1], person).unwrap();
    txn.delete_vertex(gids[2], false).unwrap();
    let new = txn.create_vertex().unwrap();
    txn.add_label(new, person).unwrap();
    txn.commit().unwrap();
    for collected in [false, true] {
        if collected {
            storage.collect_garbage();
        }
        let reader = storage.begin(SI);
        let seen = scan(&reader, person, &keys);
        assert_eq!(seen, rows(&reader, person, &keys));
        let ids: Vec<Gid> = seen.iter().map(|(g, _)| *g).collect();
        assert!(!ids.contains(&gids[1]) && !ids.contains(&gids[2]) && ids.contains(&new));
        assert_eq!(seen.last().unwrap().1, vec![None], "the new member has no age");
    }
}

#[test]
fn a_label_left_without_members_scans_empty_and_keeps_nothing() {
    let (storage, person, age, gids) = people(6);
    let keys = [Some(age)];
    scan(&storage.begin(SI), person, &keys);
    assert!(kept_bytes(&storage) > 0);
    let mut txn = storage.begin(SI);
    for gid in &gids[..3] {
        txn.delete_vertex(*gid, false).unwrap();
    }
    for gid in &gids[3..] {
        txn.remove_label(*gid, person).unwrap();
    }
    txn.commit().unwrap();
    storage.collect_garbage();
    let reads = storage.kept_column_reads();
    for _ in 0..2 {
        let reader = storage.begin(SI);
        assert_eq!(scan(&reader, person, &keys), vec![]);
        assert_eq!(rows(&reader, person, &keys), vec![]);
    }
    assert_eq!(storage.kept_column_reads(), reads, "nothing is kept for no members");
}

const VERTICES: usize = 8;
const KEYS: usize = 2;

proptest! {
    #![proptest_config(interleave::config())]

    /// Whatever writers, readers, aborts and collections interleave, every open
    /// transaction's scan (of one key, the other, or both) is what it sees node by node.
    #[test]
    fn a_scan_is_always_what_the_transaction_sees(steps in prop::collection::vec(step(VERTICES, 1, KEYS), 1..60)) {
        let storage = Storage::new();
        storage.keep_columns_from(1);
        let label = storage.label("A");
        let keys = vec![storage.property("x"), storage.property("y")];
        let mut setup = storage.begin(SI);
        let vertices: Vec<_> = (0..VERTICES).map(|_| setup.create_vertex().unwrap()).collect();
        for (i, v) in vertices.iter().enumerate() {
            if i % 3 != 0 {
                setup.add_label(*v, label).unwrap();
            }
            setup.set_vertex_property(*v, keys[i % KEYS], Value::Int(i as i64)).unwrap();
        }
        setup.commit().unwrap();
        storage.collect_garbage();

        let shapes = [vec![Some(keys[0])], vec![Some(keys[1]), Some(keys[0])], vec![None, Some(keys[1])]];
        let slots = (0..SLOTS).map(|_| None).collect();
        let mut world = World { storage, vertices, labels: vec![label], keys, slots };
        for (n, step) in steps.into_iter().enumerate() {
            world.apply(step);
            let fresh = world.storage.begin(SI);
            for t in world.open().chain(std::iter::once(&fresh)) {
                let shape = &shapes[n % shapes.len()];
                prop_assert_eq!(scan(t, label, shape), rows(t, label, shape));
            }
        }
        world.slots.clear();
        world.storage.collect_garbage();
        let last = world.storage.begin(SI);
        for shape in &shapes {
            prop_assert_eq!(scan(&last, label, shape), rows(&last, label, shape));
        }
        // Settled at the end, the scans kept columns (none for a label left without
        // members), so scanning again reads them.
        let reads = world.storage.kept_column_reads();
        let seen = scan(&last, label, &shapes[0]);
        prop_assert_eq!(&seen, &rows(&last, label, &shapes[0]));
        let kept = u64::from(!seen.is_empty());
        prop_assert_eq!(world.storage.kept_column_reads(), reads + kept, "settled at the end, the scans keep columns");
    }
}

/// Writers changing ages and members, a collector, and readers on their own threads:
/// every scan a reader makes is what it sees node by node.
#[test]
fn scans_hold_while_writers_and_the_collector_run() {
    const ROUNDS: usize = 300;
    let (storage, person, age, gids) = people(64);
    let keys = [Some(age)];
    std::thread::scope(|scope| {
        for w in 0..2usize {
            let (storage, gids) = (&storage, &gids);
            scope.spawn(move || {
                for round in 0..ROUNDS {
                    let mut txn = storage.begin(SI);
                    let v = gids[(round * 7 + w * 5) % gids.len()];
                    let _ = match round % 3 {
                        0 => txn.set_vertex_property(v, age, Value::Int(round as i64)).map(drop),
                        1 => txn.remove_label(v, person).map(drop),
                        _ => txn.add_label(v, person).map(drop),
                    };
                    end_round(txn, round);
                }
            });
        }
        let collector = collector(scope, &storage, ROUNDS);
        for _ in 0..ROUNDS {
            let reader = storage.begin(SI);
            assert_eq!(scan(&reader, person, &keys), rows(&reader, person, &keys));
        }
        collector.join().unwrap();
    });
    storage.collect_garbage();
    let reader = storage.begin(SI);
    assert_eq!(scan(&reader, person, &keys), rows(&reader, person, &keys));
    assert_eq!(scan(&reader, person, &keys), rows(&reader, person, &keys));
    assert!(kept_bytes(&storage) > 0);
}
