//! Label checks answered from the member bits (`Transaction::settled_has_label`): only
//! while no transaction that changed the label is unsettled, and then always the answer
//! the vertex itself gives. Named scenarios for each kind of change, then a random model
//! of interleaved writers, readers, aborts and collections.

mod interleave;

use interleave::{collector, end_round, step, World, SLOTS};
use proptest::prelude::*;
use weft_storage::{IsolationLevel, Storage};

const SI: IsolationLevel = IsolationLevel::SnapshotIsolation;

#[test]
fn a_committed_label_is_answered_from_the_bits_once_collected() {
    let storage = Storage::new();
    let person = storage.label("Person");
    let mut txn = storage.begin(SI);
    let v = txn.create_vertex().unwrap();
    let bare = txn.create_vertex().unwrap();
    txn.add_label(v, person).unwrap();
    // The writer's own view goes to the vertex.
    assert_eq!(txn.settled_has_label(v, person), None);
    txn.commit().unwrap();

    // Committed, not collected: still the vertex's to say.
    assert_eq!(storage.begin(SI).settled_has_label(v, person), None);
    assert_eq!(storage.unsettled_labels(), 1);
    storage.collect_garbage();
    assert_eq!(storage.unsettled_labels(), 0);
    let reader = storage.begin(SI);
    assert_eq!(reader.settled_has_label(v, person), Some(true));
    assert_eq!(reader.settled_has_label(bare, person), Some(false));
}

#[test]
fn a_removal_waits_for_the_readers_that_still_see_the_label() {
    let storage = Storage::new();
    let person = storage.label("Person");
    let mut txn = storage.begin(SI);
    let v = txn.create_vertex().unwrap();
    txn.add_label(v, person).unwrap();
    txn.commit().unwrap();
    storage.collect_garbage();

    // A reader from before the removal, then the removal committed.
    let early = storage.begin(SI);
    let mut txn = storage.begin(SI);
    txn.remove_label(v, person).unwrap();
    assert_eq!(
        early.settled_has_label(v, person),
        None,
        "an unsettled change sends readers to the vertex"
    );
    txn.commit().unwrap();
    storage.collect_garbage();
    assert_eq!(early.settled_has_label(v, person), None);
    assert!(
        early.vertex_has_labels(v, &[person]),
        "the early reader still sees the label"
    );

    // Once that reader is gone, a collection settles the bit.
    drop(early);
    storage.collect_garbage();
    assert_eq!(storage.begin(SI).settled_has_label(v, person), Some(false));
}

#[test]
fn an_aborted_label_and_a_deleted_vertex_settle_to_absent() {
    let storage = Storage::new();
    let person = storage.label("Person");
    let mut txn = storage.begin(SI);
    let (kept, deleted) = (txn.create_vertex().unwrap(), txn.create_vertex().unwrap());
    txn.add_label(deleted, person).unwrap();
    txn.commit().unwrap();
    storage.collect_garbage();

    // An added label rolled back: settled at once, with its bit cleared.
    let mut txn = storage.begin(SI);
    txn.add_label(kept, person).unwrap();
    txn.abort();
    assert_eq!(storage.begin(SI).settled_has_label(kept, person), Some(false));

    // A deleted vertex: not settled until collected, then without the label.
    let mut txn = storage.begin(SI);
    txn.delete_vertex(deleted, false).unwrap();
    txn.commit().unwrap();
    assert_eq!(storage.begin(SI).settled_has_label(deleted, person), None);
    storage.collect_garbage();
    assert_eq!(storage.begin(SI).settled_has_label(deleted, person), Some(false));
}

const VERTICES: usize = 6;
const LABELS: usize = 2;

proptest! {
    #![proptest_config(interleave::config())]

    /// Whatever writers, readers, aborts and collections interleave, a settled answer is
    /// the answer every open transaction gets from the vertex.
    #[test]
    fn a_settled_answer_is_always_the_vertex_answer(steps in prop::collection::vec(step(VERTICES, LABELS, 1), 1..60)) {
        let storage = Storage::new();
        let labels = vec![storage.label("A"), storage.label("B")];
        let mut setup = storage.begin(SI);
        let vertices: Vec<_> = (0..VERTICES).map(|_| setup.create_vertex().unwrap()).collect();
        for (i, v) in vertices.iter().enumerate() {
            setup.add_label(*v, labels[i % LABELS]).unwrap();
        }
        setup.commit().unwrap();
        storage.collect_garbage();

        let keys = vec![storage.property("x")];
        let slots = (0..SLOTS).map(|_| None).collect();
        let mut world = World { storage, vertices, labels, keys, slots };
        for step in steps {
            world.apply(step);
            let fresh = world.storage.begin(SI);
            for t in world.open().chain(std::iter::once(&fresh)) {
                for v in &world.vertices {
                    for l in &world.labels {
                        if let Some(settled) = t.settled_has_label(*v, *l) {
                            prop_assert_eq!(settled, t.vertex_has_labels(*v, &[*l]), "vertex {:?} label {:?}", v, l);
                        }
                    }
                }
            }
        }
        // With every transaction ended and the garbage collected, every label settles.
        world.slots.clear();
        world.storage.collect_garbage();
        let last = world.storage.begin(SI);
        for v in &world.vertices {
            for l in &world.labels {
                prop_assert_eq!(last.settled_has_label(*v, *l), Some(last.vertex_has_labels(*v, &[*l])));
            }
        }
    }
}

/// Writers toggling labels, a collector and readers on their own threads: every settled
/// answer a reader gets matches the vertex, and once all is quiet every answer is settled.
#[test]
fn settled_answers_hold_while_writers_and_the_collector_run() {
    const ROUNDS: usize = 400;
    let storage = Storage::new();
    let person = storage.label("Person");
    let mut setup = storage.begin(SI);
    let vertices: Vec<_> = (0..32).map(|_| setup.create_vertex().unwrap()).collect();
    setup.commit().unwrap();
    storage.collect_garbage();

    std::thread::scope(|scope| {
        for w in 0..2 {
            let (storage, vertices) = (&storage, &vertices);
            scope.spawn(move || {
                for round in 0..ROUNDS {
                    let mut txn = storage.begin(SI);
                    let v = vertices[(round * 7 + w * 5) % vertices.len()];
                    let _ = if round % 2 == 0 {
                        txn.add_label(v, person)
                    } else {
                        txn.remove_label(v, person)
                    };
                    end_round(txn, round);
                }
            });
        }
        let collector = collector(scope, &storage, ROUNDS);
        let (mut settled, mut checked) = (0usize, 0usize);
        for _ in 0..ROUNDS {
            let reader = storage.begin(SI);
            for v in &vertices {
                if let Some(answer) = reader.settled_has_label(*v, person) {
                    assert_eq!(answer, reader.vertex_has_labels(*v, &[person]), "vertex {v:?}");
                    settled += 1;
                }
                checked += 1;
            }
        }
        collector.join().unwrap();
        assert!(checked > 0 && settled <= checked);
    });
    storage.collect_garbage();
    let reader = storage.begin(SI);
    for v in &vertices {
        assert_eq!(
            reader.settled_has_label(*v, person),
            Some(reader.vertex_has_labels(*v, &[person]))
        );
    }
}
