//! Membership changes on running members (real gRPC servers on loopback, `RaftNode` as
//! the server runs it): a member started without initial members waits until ADD MEMBER
//! adds it, catches up and votes; one added AS LEARNER receives the log but does not
//! vote; REMOVE MEMBER takes a member out; mistakes are refused with the reason.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use weft_raft::admin::{AdminError, AdminRequest};
use weft_raft::machine::StorageCell;
use weft_raft::node::{RaftNode, RaftNodeConfig};
use weft_raft::propose::Proposer;
use weft_storage::Storage;

use support::{commit, free_address, items, wait_until};

/// A member and the storage its state machine applies to.
struct Member {
    node: RaftNode,
    host: Arc<StorageCell>,
}

fn start(dir: &std::path::Path, id: u64, address: &str, initial: BTreeMap<u64, String>) -> Member {
    let proposer = Proposer::new();
    let storage = Storage::new();
    storage.add_commit_sink(proposer.clone());
    let host = Arc::new(StorageCell::new(storage));
    let config = RaftNodeConfig {
        dir: dir.to_path_buf(),
        id: Some(id),
        raft_address: Some(address.to_string()),
        bolt_address: format!("bolt-of-{id}:7687"),
        initial_members: initial,
        client: Default::default(),
        server: Default::default(),
        heartbeat: Duration::from_millis(50),
        checks: Default::default(),
    };
    let node = RaftNode::start(config, host.clone(), proposer, |_| {}).unwrap();
    Member { node, host }
}

fn admin(member: &Member, request: AdminRequest) -> Result<(), AdminError> {
    member.node.admin().expect("running").run(&request).map(drop)
}

#[test]
fn members_are_added_as_voters_or_learners_and_removed() {
    // Set up: a one-member cluster with two items.
    let root = tempfile::tempdir().unwrap();
    let (a1, a2, a3) = (free_address(), free_address(), free_address());
    let first = start(&root.path().join("1"), 1, &a1, BTreeMap::from([(1, a1.clone())]));
    commit(&first.host, 1);
    commit(&first.host, 2);
    let last_voter = admin(&first, AdminRequest::RemoveMember { id: 1 }).unwrap_err();
    assert!(last_voter.to_string().contains("last voter"), "{last_voter}");

    // Act: member 2 starts with only its id and address, and waits; ADD MEMBER adds it.
    let dir2 = root.path().join("2");
    let (id2, address2) = (2, a2.clone());
    let waiting = std::thread::spawn(move || start(&dir2, id2, &address2, BTreeMap::new()));
    std::thread::sleep(Duration::from_millis(300));
    assert!(!waiting.is_finished(), "member 2 waits to be added");
    let add = |id, address: &str, learner| AdminRequest::AddMember {
        id,
        raft_address: address.to_string(),
        learner,
    };
    admin(&first, add(2, &a2, false)).unwrap();
    let second = waiting.join().unwrap();

    // Check: member 2 votes, holds what was committed before it came, and what follows.
    assert_eq!(first.node.voters(), BTreeSet::from([1, 2]));
    wait_until("member 2 holds the items", || items(&second.host) == 2);
    commit(&first.host, 3);
    wait_until("member 2 holds the new item", || items(&second.host) == 3);
    wait_until("member 2 told its Bolt address", || {
        first
            .node
            .members()
            .iter()
            .any(|(id, m)| *id == 2 && m.bolt_address == "bolt-of-2:7687")
    });

    // Mistakes: member 2 at another address, another member at member 2's address.
    let moved = admin(&first, add(2, &a3, false)).unwrap_err();
    assert!(moved.to_string().contains("already in the cluster"), "{moved}");
    let taken = admin(&second, add(7, &a2, false)).unwrap_err();
    assert!(taken.to_string().contains("member 2 already"), "{taken}");

    // Act: member 3 as a learner, asked on a follower (it goes to the leader).
    let dir3 = root.path().join("3");
    let address3 = a3.clone();
    let waiting = std::thread::spawn(move || start(&dir3, 3, &address3, BTreeMap::new()));
    admin(&second, add(3, &a3, true)).unwrap();
    let third = waiting.join().unwrap();

    // Check: it receives the log and does not vote.
    wait_until("learner 3 holds the items", || items(&third.host) == 3);
    assert_eq!(first.node.voters(), BTreeSet::from([1, 2]));
    assert!(first.node.members().iter().any(|(id, _)| *id == 3));

    // Act: remove the learner, then a voter.
    admin(&first, AdminRequest::RemoveMember { id: 3 }).unwrap();
    admin(&first, AdminRequest::RemoveMember { id: 2 }).unwrap();

    // Check: only member 1 is left, and it still takes commits on its own.
    assert!(
        first.node.members().iter().all(|(id, _)| *id == 1),
        "{:?}",
        first.node.members()
    );
    assert_eq!(first.node.voters(), BTreeSet::from([1]));
    commit(&first.host, 4);
    let gone = admin(&first, AdminRequest::RemoveMember { id: 9 }).unwrap_err();
    assert!(gone.to_string().contains("not in the cluster"), "{gone}");
    for member in [third, second, first] {
        member.node.stop();
    }
}
