//! Indexes and constraints: built over existing data, maintained by writers running at
//! the same time, cleaned by GC, and constraints enforced at commit with errors that
//! name the label, properties and value.

use std::ops::Bound;
use weft_storage::{ConstraintInfo, Gid, IndexInfo, IsolationLevel, Storage, StorageError, Value};

const SI: IsolationLevel = IsolationLevel::SnapshotIsolation;

/// Commits one vertex with `label` and the given properties.
fn person(storage: &Storage, label: &str, props: &[(&str, Value)]) -> Result<Gid, StorageError> {
    let mut txn = storage.begin(SI);
    let v = txn.create_vertex()?;
    txn.add_label(v, storage.label(label))?;
    for (k, value) in props {
        txn.set_vertex_property(v, storage.property(k), value.clone())?;
    }
    txn.commit()?;
    Ok(v)
}

#[test]
fn index_built_over_existing_data_answers_like_a_scan() {
    // Set up: data first, mixed value types, then the indexes.
    let storage = Storage::new();
    let ages = [
        Value::Int(30),
        Value::Float(29.5),
        Value::from("x"),
        Value::Int(30),
        Value::Int(41),
    ];
    let gids: Vec<Gid> = ages
        .iter()
        .map(|a| person(&storage, "Person", &[("age", a.clone())]).unwrap())
        .collect();
    person(&storage, "Robot", &[("age", Value::Int(30))]).unwrap();
    let (label, age) = (storage.label("Person"), storage.property("age"));
    let txn = storage.begin(SI);
    let unindexed = txn.vertices_in_range(label, age, Bound::Included(&Value::Int(0)), Bound::Unbounded);
    drop(txn);
    storage.create_label_index("Person").unwrap();
    storage.create_label_property_index("Person", "age").unwrap();

    // Act: scans through the indexes.
    let txn = storage.begin(SI);
    let by_label = txn.vertices_with_label(label);
    let equal = txn.vertices_with_property(label, age, &Value::Float(30.0));
    let range = txn.vertices_in_range(label, age, Bound::Included(&Value::Int(0)), Bound::Unbounded);

    // Check: right members, range in Cypher value order (numbers before... by value), and
    // the same answer as without the index.
    assert_eq!(by_label, gids);
    assert_eq!(equal, vec![gids[0], gids[3]]);
    assert_eq!(range, vec![gids[1], gids[0], gids[3], gids[4]]);
    assert_eq!(range, unindexed);
    assert_eq!(storage.approx_label_property_count(label, age), Some(5));
    assert_eq!(storage.approx_distinct_values(label, age), Some(4));
    assert_eq!(
        storage.index_info(),
        vec![
            IndexInfo::Label("Person".into()),
            IndexInfo::LabelProperty("Person".into(), "age".into())
        ]
    );
}

#[test]
fn duplicate_and_missing_ddl_is_refused() {
    let storage = Storage::new();
    storage.create_label_index("A").unwrap();
    assert!(matches!(
        storage.create_label_index("A"),
        Err(StorageError::AlreadyExists(_))
    ));
    assert!(matches!(
        storage.drop_label_property_index("A", "p"),
        Err(StorageError::DoesNotExist(_))
    ));
    storage.drop_label_index("A").unwrap();
    assert!(storage.index_info().is_empty());
    assert_eq!(storage.last_committed(), 2, "each DDL change takes its own timestamp");
}

#[test]
fn index_built_while_writers_run_misses_nothing() {
    // Set up: some data already there.
    let storage = Storage::new();
    for i in 0..500 {
        person(&storage, "P", &[("n", Value::Int(i))]).unwrap();
    }

    // Act: writers add and change vertices while the indexes are built.
    std::thread::scope(|s| {
        for w in 0..2 {
            let storage = &storage;
            s.spawn(move || {
                for i in 0..400 {
                    person(storage, "P", &[("n", Value::Int(1000 + w * 1000 + i))]).unwrap();
                }
            });
        }
        storage.create_label_index("P").unwrap();
        storage.create_label_property_index("P", "n").unwrap();
    });

    // Check: every vertex is found through both indexes, each exactly once.
    let (label, n) = (storage.label("P"), storage.property("n"));
    let txn = storage.begin(SI);
    let all: Vec<Gid> = txn.vertices().collect();
    assert_eq!(all.len(), 1300);
    assert_eq!(txn.vertices_with_label(label), all);
    let mut ranged = txn.vertices_in_range(label, n, Bound::Unbounded, Bound::Unbounded);
    ranged.sort_unstable();
    assert_eq!(ranged, all);
    for gid in all.iter().step_by(97) {
        let value = txn.vertex_property(*gid, n).unwrap().unwrap();
        assert_eq!(txn.vertices_with_property(label, n, &value), vec![*gid]);
    }
}

#[test]
fn gc_removes_index_entries_no_one_can_see() {
    // Set up: an indexed vertex whose value changes many times.
    let storage = Storage::new();
    storage.create_label_property_index("P", "n").unwrap();
    storage.create_label_index("P").unwrap();
    let v = person(&storage, "P", &[("n", Value::Int(0))]).unwrap();
    let (label, n) = (storage.label("P"), storage.property("n"));
    for i in 1..=20 {
        let mut txn = storage.begin(SI);
        txn.set_vertex_property(v, n, Value::Int(i)).unwrap();
        txn.commit().unwrap();
    }
    assert_eq!(storage.approx_label_property_count(label, n), Some(21));

    // Act: GC, then remove the label and GC again.
    storage.collect_garbage();
    let after_updates = storage.approx_label_property_count(label, n);
    let mut txn = storage.begin(SI);
    txn.remove_label(v, label).unwrap();
    txn.commit().unwrap();
    let stats = storage.collect_garbage();

    // Check: only the current entry survived, then none.
    assert_eq!(after_updates, Some(1));
    assert_eq!(storage.approx_label_property_count(label, n), Some(0));
    assert_eq!(stats.index_entries_removed, 2);
    assert!(storage.begin(SI).vertices_with_label(label).is_empty());
}

/// A value set back while the collector sweeps the entry it had before: the entry stays
/// (the sweep checks again under the vertex's lock), so the vertex is always found by it.
#[test]
fn a_value_set_back_during_a_sweep_keeps_its_entry() {
    const ROUNDS: i64 = 1500;
    let storage = Storage::new();
    storage.create_label_property_index("P", "n").unwrap();
    let v = person(&storage, "P", &[("n", Value::Int(0))]).unwrap();
    let (label, n) = (storage.label("P"), storage.property("n"));
    /// Tells the collector thread to stop when dropped, a failed assertion included.
    struct Stop<'a>(&'a std::sync::atomic::AtomicBool);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                storage.collect_garbage();
            }
        });
        let _stop = Stop(&done);
        for round in 0..ROUNDS {
            for value in [1, 0] {
                let mut txn = storage.begin(SI);
                txn.set_vertex_property(v, n, Value::Int(value)).unwrap();
                txn.commit().unwrap();
            }
            let found = storage.begin(SI).vertices_with_property(label, n, &Value::Int(0));
            assert_eq!(found, vec![v], "round {round}");
        }
    });
    storage.collect_garbage();
    assert_eq!(
        storage.begin(SI).vertices_with_property(label, n, &Value::Int(0)),
        vec![v]
    );
    assert_eq!(storage.approx_label_property_count(label, n), Some(1));
}

/// Equality lookups find every vertex of a value more vertices share than the index's
/// hash lists keep (those go to the tree), and an integer entry by an equal float.
#[test]
fn equality_lookups_find_common_values_and_equal_numbers_of_another_type() {
    let storage = Storage::new();
    storage.create_label_property_index("P", "n").unwrap();
    let (label, n) = (storage.label("P"), storage.property("n"));
    let common: Vec<Gid> = (0..40)
        .map(|_| person(&storage, "P", &[("n", Value::Int(7))]).unwrap())
        .collect();
    let one = person(&storage, "P", &[("n", Value::Int(1))]).unwrap();
    let txn = storage.begin(SI);
    assert_eq!(txn.vertices_with_property(label, n, &Value::Int(7)), common);
    assert_eq!(txn.vertices_with_property(label, n, &Value::Float(1.0)), vec![one]);
    assert!(txn.vertices_with_property(label, n, &Value::Int(2)).is_empty());
    drop(txn);

    // Half of them move to another value; collected, their old entries go.
    for v in &common[..20] {
        let mut txn = storage.begin(SI);
        txn.set_vertex_property(*v, n, Value::Int(8)).unwrap();
        txn.commit().unwrap();
    }
    storage.collect_garbage();
    let txn = storage.begin(SI);
    assert_eq!(txn.vertices_with_property(label, n, &Value::Int(7)), common[20..]);
    assert_eq!(txn.vertices_with_property(label, n, &Value::Int(8)), common[..20]);
    assert_eq!(storage.approx_label_property_count(label, n), Some(41));
}

#[test]
fn edge_type_index_lists_visible_edges() {
    let storage = Storage::new();
    let (knows, likes) = (storage.edge_type("KNOWS"), storage.edge_type("LIKES"));
    let mut txn = storage.begin(SI);
    let a = txn.create_vertex().unwrap();
    let b = txn.create_vertex().unwrap();
    let k1 = txn.create_edge(a, b, knows).unwrap();
    txn.create_edge(b, a, likes).unwrap();
    txn.commit().unwrap();
    storage.create_edge_type_index("KNOWS").unwrap();
    let mut txn = storage.begin(SI);
    let k2 = txn.create_edge(b, a, knows).unwrap();
    txn.delete_edge(&k1).unwrap();
    txn.commit().unwrap();

    let txn = storage.begin(SI);
    assert_eq!(txn.edges_with_type(knows), vec![k2]);
    storage.collect_garbage();
    assert_eq!(txn.edges_with_type(knows), vec![k2]);
    assert_eq!(storage.index_info(), vec![IndexInfo::EdgeType("KNOWS".into())]);
}

#[test]
fn edge_type_sources_follow_creates_aborts_deletes_and_collection() {
    let storage = Storage::new();
    let knows = storage.edge_type("KNOWS");
    let mut txn = storage.begin(SI);
    let (a, b, c) = (
        txn.create_vertex().unwrap(),
        txn.create_vertex().unwrap(),
        txn.create_vertex().unwrap(),
    );
    let ab = txn.create_edge(a, b, knows).unwrap();
    let cb = txn.create_edge(c, b, knows).unwrap();
    txn.commit().unwrap();
    assert_eq!(storage.type_sources(knows), 2, "a and c have a KNOWS out-edge");

    // An aborted creation takes its source bit back with it.
    let mut txn = storage.begin(SI);
    txn.create_edge(b, a, knows).unwrap();
    assert_eq!(storage.type_sources(knows), 3);
    txn.abort();
    assert_eq!(storage.type_sources(knows), 2);

    // A deleted edge keeps its source in the set while a reader may still see it.
    let reader = storage.begin(SI);
    let mut txn = storage.begin(SI);
    txn.delete_edge(&ab).unwrap();
    txn.commit().unwrap();
    storage.collect_garbage();
    assert_eq!(storage.type_sources(knows), 2);
    assert_eq!(reader.edges_with_type(knows), vec![ab, cb]);
    drop(reader);
    storage.collect_garbage();
    assert_eq!(storage.type_sources(knows), 1, "a lost its only KNOWS out-edge");
    assert_eq!(storage.begin(SI).edges_with_type(knows), vec![cb]);
}

#[test]
fn existence_constraint_is_checked_at_commit_and_on_creation() {
    let storage = Storage::new();
    person(&storage, "User", &[]).unwrap();

    // Creation over breaking data is refused and names the culprit.
    let err = storage.create_existence_constraint("User", "email").unwrap_err();
    assert!(
        err.to_string().contains(":User(email)") && err.to_string().contains("vertex 0"),
        "{err}"
    );

    // With the data fixed it is accepted, and a commit breaking it fails and changes nothing.
    let mut txn = storage.begin(SI);
    txn.set_vertex_property(Gid(0), storage.property("email"), Value::from("a@x"))
        .unwrap();
    txn.commit().unwrap();
    storage.create_existence_constraint("User", "email").unwrap();
    let err = person(&storage, "User", &[("name", Value::from("b"))]).unwrap_err();
    assert!(matches!(err, StorageError::ConstraintViolation(_)) && !err.is_retryable());
    assert!(err.to_string().contains("label :User but no property email"), "{err}");
    assert_eq!(storage.dump().vertices.len(), 1);
    assert_eq!(
        storage.constraint_info(),
        vec![ConstraintInfo::Exists("User".into(), "email".into())]
    );
}

#[test]
fn unique_constraint_names_label_properties_and_value() {
    let storage = Storage::new();
    person(&storage, "User", &[("email", Value::from("a@x"))]).unwrap();
    person(&storage, "User", &[("email", Value::from("a@x"))]).unwrap();
    let err = storage.create_unique_constraint("User", &["email"]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot create unique constraint on :User(email): vertices 0 and 1 both have email = 'a@x'"
    );

    let mut txn = storage.begin(SI);
    txn.delete_vertex(Gid(1), false).unwrap();
    txn.commit().unwrap();
    storage.create_unique_constraint("User", &["email"]).unwrap();
    let err = person(&storage, "User", &[("email", Value::from("a@x"))]).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("unique constraint on :User(email) violated"),
        "{err}"
    );
    assert!(err.to_string().contains("email = 'a@x'"), "{err}");

    // Freeing the value (change, then reuse in a later transaction) is allowed.
    let mut txn = storage.begin(SI);
    txn.set_vertex_property(Gid(0), storage.property("email"), Value::from("b@x"))
        .unwrap();
    txn.commit().unwrap();
    person(&storage, "User", &[("email", Value::from("a@x"))]).unwrap();
}

#[test]
fn composite_unique_constraint_compares_whole_tuples() {
    let storage = Storage::new();
    storage.create_unique_constraint("City", &["name", "country"]).unwrap();
    let city = |name: &str, country: &str| {
        person(
            &storage,
            "City",
            &[("name", Value::from(name)), ("country", Value::from(country))],
        )
    };
    city("Paris", "FR").unwrap();
    city("Paris", "US").unwrap();
    person(&storage, "City", &[("name", Value::from("Paris"))]).unwrap();
    let err = city("Paris", "US").unwrap_err();
    assert!(err.to_string().contains(":City(name, country)"), "{err}");
    assert!(err.to_string().contains("name = 'Paris', country = 'US'"), "{err}");
    storage.drop_unique_constraint("City", &["name", "country"]).unwrap();
    city("Paris", "US").unwrap();
}

#[test]
fn unique_constraint_holds_under_concurrent_writers() {
    // Set up: a constraint and 4 writers racing for 50 emails each, overlapping.
    let storage = Storage::new();
    storage.create_unique_constraint("User", &["email"]).unwrap();

    // Act: every writer tries every email; commits either succeed or fail the constraint
    // (or conflict, never both succeed).
    let successes: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|w| {
                let storage = &storage;
                s.spawn(move || {
                    (0..50)
                        .map(|i| (i * 7 + w * 13) % 50)
                        .filter(
                            |i| match person(storage, "User", &[("email", Value::from(format!("u{i}")))]) {
                                Ok(_) => true,
                                Err(StorageError::ConstraintViolation(_)) => false,
                                Err(e) => panic!("unexpected error {e}"),
                            },
                        )
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });

    // Check: exactly one vertex per email.
    let dump = storage.dump();
    let mut emails: Vec<String> = dump.vertices.values().map(|v| v.props["email"].to_string()).collect();
    emails.sort();
    emails.dedup();
    assert_eq!(successes, 50);
    assert_eq!(dump.vertices.len(), 50);
    assert_eq!(emails.len(), 50);
}

#[test]
fn label_scans_without_a_declared_index_see_each_snapshot_and_gc_drops_lost_members() {
    // Set up: three Person vertices and one Robot; no index declared.
    let storage = Storage::new();
    let people: Vec<Gid> = (0..3).map(|_| person(&storage, "Person", &[]).unwrap()).collect();
    let robot = person(&storage, "Robot", &[]).unwrap();
    let label = storage.label("Person");
    let before = storage.begin(SI);

    // Act: one loses the label, one is deleted, the robot gains it, and a transaction
    // that adds it to a fourth aborts.
    let mut txn = storage.begin(SI);
    txn.remove_label(people[0], label).unwrap();
    txn.delete_vertex(people[1], false).unwrap();
    txn.add_label(robot, label).unwrap();
    txn.commit().unwrap();
    let mut aborted = storage.begin(SI);
    let stray = aborted.create_vertex().unwrap();
    aborted.add_label(stray, label).unwrap();
    aborted.abort();

    // Check: the older snapshot still sees its three, a new one sees the change, and
    // neither sees the aborted vertex; once the older reader ends, GC clears the bits of
    // the two that lost the label for good.
    assert_eq!(before.vertices_with_label(label), people);
    assert_eq!(storage.begin(SI).vertices_with_label(label), vec![people[2], robot]);
    drop(before);
    let stats = storage.collect_garbage();
    assert!(stats.index_entries_removed >= 2, "{stats:?}");
    assert_eq!(storage.begin(SI).vertices_with_label(label), vec![people[2], robot]);
    assert!(storage
        .begin(SI)
        .vertices_with_label(storage.label("Nobody"))
        .is_empty());
}

#[test]
fn a_label_count_answers_a_snapshot_only_when_no_later_commit_changed_it() {
    // Set up: three committed Person vertices.
    let storage = Storage::new();
    for _ in 0..3 {
        person(&storage, "Person", &[]).unwrap();
    }
    let label = storage.label("Person");
    let early = storage.begin(SI);
    assert_eq!(early.exact_label_count(label), Some(3));
    assert_eq!(early.exact_label_count(storage.label("Nobody")), Some(0));

    // Act: a commit adds one, an aborted transaction adds one, a running one removes one.
    let added = person(&storage, "Person", &[]).unwrap();
    let mut aborted = storage.begin(SI);
    let stray = aborted.create_vertex().unwrap();
    aborted.add_label(stray, label).unwrap();
    aborted.abort();
    let mut writer = storage.begin(SI);
    writer.remove_label(added, label).unwrap();

    // Check: the early snapshot must scan (a commit it cannot see changed the count),
    // a new one is answered with four, and a transaction that wrote must scan.
    assert_eq!(early.exact_label_count(label), None);
    assert_eq!(early.vertices_with_label(label).len(), 3);
    assert_eq!(storage.begin(SI).exact_label_count(label), Some(4));
    assert_eq!(writer.exact_label_count(label), None);
    writer.commit().unwrap();
    assert_eq!(storage.begin(SI).exact_label_count(label), Some(3));
    let read_committed = storage.begin(IsolationLevel::ReadCommitted);
    assert_eq!(
        read_committed.exact_label_count(label),
        None,
        "only snapshots are answered"
    );
}

#[test]
fn member_bits_go_after_an_abort_and_after_a_removal_that_older_versions_outlived() {
    // Set up: one Person; an aborted transaction that labels a new vertex and the Person.
    let storage = Storage::new();
    let v = person(&storage, "Person", &[]).unwrap();
    let (label, n) = (storage.label("Person"), storage.property("n"));
    let mut aborted = storage.begin(SI);
    let stray = aborted.create_vertex().unwrap();
    aborted.add_label(stray, label).unwrap();
    aborted.add_label(v, storage.label("Admin")).unwrap();
    assert_eq!(storage.label_members(label), 2);
    aborted.abort();
    // Check: the abort clears the bits it set (no older version needs them).
    assert_eq!(storage.label_members(label), 1);
    assert_eq!(storage.label_members(storage.label("Admin")), 0);

    // Act: the label is removed while one reader needs the old version, then the vertex
    // changes again while a second reader needs that newer one: when the first reader
    // ends, the version with the label goes while the vertex's chain stays.
    let first = storage.begin(SI);
    let mut txn = storage.begin(SI);
    txn.remove_label(v, label).unwrap();
    txn.commit().unwrap();
    let second = storage.begin(SI);
    let mut txn = storage.begin(SI);
    txn.set_vertex_property(v, n, Value::Int(1)).unwrap();
    txn.commit().unwrap();
    storage.collect_garbage();
    let needed_by_first = storage.label_members(label);
    drop(first);
    let stats = storage.collect_garbage();

    // Check: the bit stays while a version with the label may be read, and goes as soon
    // as none may, though the second reader still holds a newer version.
    assert_eq!(needed_by_first, 1);
    assert_eq!(storage.label_members(label), 0, "{stats:?}");
    assert!(second.vertices_with_label(label).is_empty());
    assert_eq!(
        second.vertex_property(v, n).unwrap(),
        None,
        "the second reader's version"
    );
}

#[test]
fn equality_lookups_through_an_index_answer_like_the_member_scan() {
    // Set up: the same writes into a storage with a :P(id) index and one without; ids
    // mixing integers and floats, a changed value (a stale entry stays behind), a removed
    // label, a deleted vertex, and a reader pinned before the last changes.
    let (indexed, plain) = (Storage::new(), Storage::new());
    indexed.create_label_property_index("P", "id").unwrap();
    let mut pinned = Vec::new();
    for storage in [&indexed, &plain] {
        let ids = [
            Value::Int(1),
            Value::Float(1.0),
            Value::Int(2),
            Value::Int(1),
            Value::Int(3),
        ];
        let gids: Vec<Gid> = ids
            .iter()
            .map(|v| person(storage, "P", &[("id", v.clone())]).unwrap())
            .collect();
        pinned.push(storage.begin(SI));
        let (p, id) = (storage.label("P"), storage.property("id"));
        let mut txn = storage.begin(SI);
        txn.set_vertex_property(gids[2], id, Value::Int(1)).unwrap();
        txn.remove_label(gids[3], p).unwrap();
        txn.delete_vertex(gids[4], true).unwrap();
        txn.commit().unwrap();
    }
    // Check: every probe, for a reader now and the pinned one, gives the same vertices.
    let probes = [
        Value::Int(1),
        Value::Float(1.0),
        Value::Int(2),
        Value::Int(3),
        Value::from("1"),
    ];
    for probe in &probes {
        let now = |s: &Storage| {
            s.begin(SI)
                .vertices_with_property(s.label("P"), s.property("id"), probe)
        };
        assert_eq!(now(&indexed), now(&plain), "now, {probe:?}");
        let then = |i: usize, s: &Storage| pinned[i].vertices_with_property(s.label("P"), s.property("id"), probe);
        assert_eq!(then(0, &indexed), then(1, &plain), "pinned, {probe:?}");
    }
    let ones = indexed
        .begin(SI)
        .vertices_with_property(indexed.label("P"), indexed.property("id"), &Value::Int(1));
    assert_eq!(
        ones,
        vec![Gid(0), Gid(1), Gid(2)],
        "1, 1.0, and the vertex changed to 1"
    );
}
