//! Applied records win over local transactions that cannot commit: a member that led,
//! began a transaction, and was demoted before it committed, applies its new leader's
//! commits on the objects that transaction held; the transaction is rolled back (its next
//! change and its commit fail), and the member ends up holding exactly the leader's graph.

mod sinks;

use sinks::{Member, RecordingSink};
use weft_storage::{IsolationLevel, Origin, Storage, StorageError, Value};

/// The leader's storage and the records it ships.
fn leader() -> (Storage, std::sync::Arc<RecordingSink>) {
    let storage = Storage::new();
    let shipped = RecordingSink::new("to members");
    shipped.attach(&storage);
    (storage, shipped)
}

fn apply_all(member: &Storage, shipped: &RecordingSink, from: usize) {
    for record in &shipped.received()[from..] {
        member.apply(&record.record, Origin::Applied { epoch: 2 }).unwrap();
    }
}

#[test]
fn a_demoted_member_s_open_transaction_gives_way_to_the_new_leader_s_commits() {
    // Set up: both hold vertex 0 with age 1; the member leads and has a transaction that
    // changed vertex 0 and created vertex 1 (the next id), not committed.
    let (new_leader, shipped) = leader();
    let member = Storage::new();
    let role = std::sync::Arc::new(Member::default());
    member.add_commit_sink(role.clone());
    let age = new_leader.property("age");
    let mut txn = new_leader.begin(IsolationLevel::SnapshotIsolation);
    let v = txn.create_vertex().unwrap();
    txn.set_vertex_property(v, age, Value::Int(1)).unwrap();
    txn.commit().unwrap();
    apply_all(&member, &shipped, 0);
    let mut local = member.begin(IsolationLevel::SnapshotIsolation);
    let (member_age, label) = (member.property("age"), member.label("Local"));
    local.set_vertex_property(v, member_age, Value::Int(99)).unwrap();
    let held = local.create_vertex().unwrap();
    local.add_label(held, label).unwrap();

    // Act: the member is demoted; the new leader changes vertex 0 and creates vertex 1.
    role.demote();
    let mut txn = new_leader.begin(IsolationLevel::SnapshotIsolation);
    txn.set_vertex_property(v, age, Value::Int(2)).unwrap();
    let created = txn.create_vertex().unwrap();
    assert_eq!(
        created, held,
        "the new leader hands out the id the local transaction holds"
    );
    txn.add_label(created, new_leader.label("Remote")).unwrap();
    txn.commit().unwrap();
    apply_all(&member, &shipped, 1);

    // Check: the member applied them; the local transaction can neither change more nor
    // commit; once it is gone the member holds exactly the leader's graph.
    let next = local.set_vertex_property(held, member_age, Value::Int(5));
    assert!(matches!(next, Err(StorageError::SerializationConflict(_))), "{next:?}");
    assert!(local.commit().is_err());
    assert_eq!(member.dump(), new_leader.dump());
    let (count, labels) = {
        let txn = member.begin(IsolationLevel::SnapshotIsolation);
        (txn.vertices().count(), txn.labels(held).unwrap())
    };
    assert_eq!(count, 2);
    assert_eq!(labels, vec![member.label("Remote")]);
}

#[test]
fn an_edge_a_local_transaction_created_gives_way_too() {
    let (new_leader, shipped) = leader();
    let member = Storage::new();
    let role = std::sync::Arc::new(Member::default());
    member.add_commit_sink(role.clone());
    let mut txn = new_leader.begin(IsolationLevel::SnapshotIsolation);
    let (a, b) = (txn.create_vertex().unwrap(), txn.create_vertex().unwrap());
    txn.commit().unwrap();
    apply_all(&member, &shipped, 0);
    let mut local = member.begin(IsolationLevel::SnapshotIsolation);
    let mine = local.create_edge(a, b, member.edge_type("MINE")).unwrap();
    local
        .set_edge_property(&mine, member.property("w"), Value::Int(1))
        .unwrap();

    role.demote();
    let mut txn = new_leader.begin(IsolationLevel::SnapshotIsolation);
    let theirs = txn.create_edge(b, a, new_leader.edge_type("THEIRS")).unwrap();
    assert_eq!(theirs.gid, mine.gid);
    txn.set_edge_property(&theirs, new_leader.property("w"), Value::Int(7))
        .unwrap();
    txn.commit().unwrap();
    apply_all(&member, &shipped, 1);

    drop(local);
    assert_eq!(member.dump(), new_leader.dump());
}
