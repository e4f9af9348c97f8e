//! Applied records win over local transactions that cannot commit: a member that led,
//! began a transaction, and was demoted before it committed, applies its new leader's
//! commits on the objects that transaction held; the transaction is rolled back (its next
//! change and its commit fail, even on objects the leader did not touch, and even once the
//! member leads again), and the member ends up holding exactly the leader's graph.

mod sinks;

use std::sync::Arc;

use sinks::{Member, RecordingSink};
use weft_storage::{Direction, EdgeRef, Gid, IsolationLevel, Origin, Storage, StorageError, Value};

/// The new leader's storage, the records it ships, and a member that holds the same graph
/// and leads (until the test demotes it).
fn cluster(vertices: usize) -> (Storage, Arc<RecordingSink>, Storage, Arc<Member>, Vec<Gid>) {
    let leader = Storage::new();
    let shipped = RecordingSink::new("to members");
    shipped.attach(&leader);
    let member = Storage::new();
    let role = Arc::new(Member::default());
    member.add_commit_sink(role.clone());
    let mut txn = leader.begin(IsolationLevel::SnapshotIsolation);
    let ids = (0..vertices).map(|_| txn.create_vertex().unwrap()).collect();
    txn.commit().unwrap();
    apply_all(&member, &shipped, 0);
    (leader, shipped, member, role, ids)
}

fn apply_all(member: &Storage, shipped: &RecordingSink, from: usize) {
    for record in &shipped.received()[from..] {
        member.apply(&record.record, Origin::Applied { epoch: 2 }).unwrap();
    }
}

/// The leader commits an edge `from -[:THEIRS {w: 7}]-> to`; the member applies it.
fn leader_edge(leader: &Storage, shipped: &RecordingSink, member: &Storage, from: Gid, to: Gid) -> EdgeRef {
    let mut txn = leader.begin(IsolationLevel::SnapshotIsolation);
    let edge = txn.create_edge(from, to, leader.edge_type("THEIRS")).unwrap();
    txn.set_edge_property(&edge, leader.property("w"), Value::Int(7))
        .unwrap();
    txn.commit().unwrap();
    apply_all(member, shipped, 1);
    edge
}

fn is_conflict<T: std::fmt::Debug>(result: Result<T, StorageError>) -> bool {
    matches!(result, Err(StorageError::SerializationConflict(_)))
}

#[test]
fn a_demoted_member_s_open_transaction_gives_way_to_the_new_leader_s_commits() {
    // Set up: the member's transaction changed vertices v and w and created the next id.
    let (leader, shipped, member, role, ids) = cluster(2);
    let (v, w) = (ids[0], ids[1]);
    let (age, label) = (member.property("age"), member.label("Local"));
    let mut local = member.begin(IsolationLevel::SnapshotIsolation);
    local.set_vertex_property(v, age, Value::Int(99)).unwrap();
    local.set_vertex_property(w, age, Value::Int(5)).unwrap();
    let held = local.create_vertex().unwrap();
    local.add_label(held, label).unwrap();

    // Act: demoted; the new leader changes v (not w) and creates the same next id.
    role.demote();
    let mut txn = leader.begin(IsolationLevel::SnapshotIsolation);
    txn.set_vertex_property(v, leader.property("age"), Value::Int(2))
        .unwrap();
    let created = txn.create_vertex().unwrap();
    assert_eq!(
        created, held,
        "the new leader hands out the id the local transaction holds"
    );
    txn.add_label(created, leader.label("Remote")).unwrap();
    txn.commit().unwrap();
    apply_all(&member, &shipped, 1);

    // Check: the transaction is wounded — it cannot change w, which the leader never
    // touched and whose newest version is its own — nor commit once the member leads
    // again; the member holds exactly the leader's graph.
    assert!(is_conflict(local.set_vertex_property(w, age, Value::Int(6))));
    role.promote();
    assert!(is_conflict(local.commit()));
    assert_eq!(member.dump(), leader.dump());
    let txn = member.begin(IsolationLevel::SnapshotIsolation);
    assert_eq!(txn.vertices().count(), 3);
    assert_eq!(txn.labels(held).unwrap(), vec![member.label("Remote")]);
    assert_eq!(txn.vertex_property(w, age).unwrap(), None);
}

#[test]
fn an_edge_whose_slot_a_local_transaction_holds_gives_way() {
    let (leader, shipped, member, role, ids) = cluster(2);
    let (a, b) = (ids[0], ids[1]);
    let mut local = member.begin(IsolationLevel::SnapshotIsolation);
    let mine = local.create_edge(a, b, member.edge_type("MINE")).unwrap();
    local
        .set_edge_property(&mine, member.property("w"), Value::Int(1))
        .unwrap();

    role.demote();
    let theirs = leader_edge(&leader, &shipped, &member, b, a);
    assert_eq!(theirs.gid, mine.gid);

    role.promote();
    assert!(is_conflict(local.commit()));
    assert_eq!(member.dump(), leader.dump());
}

#[test]
fn a_transaction_begun_in_an_earlier_term_of_the_lead_does_not_commit_in_a_later_one() {
    // The local edge has no properties and joins vertices the leader's edge does not, so
    // the apply meets nothing of it: only the term tells that it must not commit.
    let (leader, shipped, member, role, ids) = cluster(4);
    let mut local = member.begin(IsolationLevel::SnapshotIsolation);
    let mine = local.create_edge(ids[0], ids[1], member.edge_type("MINE")).unwrap();

    role.demote();
    let theirs = leader_edge(&leader, &shipped, &member, ids[2], ids[3]);
    assert_eq!(theirs.gid, mine.gid, "the same edge id, on other vertices");

    role.promote();
    assert!(is_conflict(local.commit()));
    assert_eq!(member.dump(), leader.dump());
    let txn = member.begin(IsolationLevel::SnapshotIsolation);
    assert_eq!(txn.edges(ids[0], Direction::Out, &[]).unwrap(), vec![]);
    // A transaction begun in the new term commits as usual.
    let mut fresh = member.begin(IsolationLevel::SnapshotIsolation);
    fresh.create_vertex().unwrap();
    fresh.commit().unwrap();
}
