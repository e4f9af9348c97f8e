//! Fingerprint checks on running members (real gRPC servers on loopback): members that
//! applied the same log agree at every check; a member whose graph is made to differ is
//! found at the next check, goes restricted, takes the leader's snapshot, restarts from it
//! (as the server's supervisor restarts it) and agrees again, with the foreign object gone.

mod support;

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft_raft::check::CheckSettings;
use weft_raft::machine::{Host, StorageCell};
use weft_raft::node::{RaftNode, RaftNodeConfig};
use weft_raft::propose::Proposer;
use weft_storage::record::{CommitRecord, RecordOp};
use weft_storage::{Gid, IsolationLevel, Origin, Storage};

use support::{commit, free_address, items, wait_until, WAIT};

struct Member {
    node: RaftNode,
    host: Arc<StorageCell>,
    config: RaftNodeConfig,
}

/// Starts a member; `stopped` hears its id when its Raft shuts down by itself.
fn start(config: RaftNodeConfig, stopped: mpsc::Sender<u64>) -> Member {
    let proposer = Proposer::new();
    let storage = Storage::new();
    storage.add_commit_sink(proposer.clone());
    let host = Arc::new(StorageCell::new(storage));
    let id = config.id.unwrap();
    let node = RaftNode::start(config.clone(), host.clone(), proposer, move |status| {
        if status.role == "shutdown" {
            let _ = stopped.send(id);
        }
    })
    .unwrap();
    Member { node, host, config }
}

fn member(members: &[Option<Member>], id: u64) -> &Member {
    members[id as usize - 1].as_ref().unwrap()
}

#[test]
fn a_member_whose_graph_differs_is_restricted_and_resyncs_from_the_leader() {
    // Set up: three members checking fingerprints every 200 ms; items committed.
    let root = tempfile::tempdir().unwrap();
    let addresses: BTreeMap<u64, String> = (1..=3).map(|id| (id, free_address())).collect();
    let (stopped, restarts) = mpsc::channel();
    let mut members: Vec<Option<Member>> = addresses
        .iter()
        .map(|(id, address)| {
            let config = RaftNodeConfig {
                dir: root.path().join(id.to_string()),
                id: Some(*id),
                raft_address: Some(address.clone()),
                bolt_address: String::new(),
                initial_members: addresses.clone(),
                client: Default::default(),
                server: Default::default(),
                heartbeat: Duration::from_millis(50),
                checks: CheckSettings {
                    every: Duration::from_millis(200),
                },
            };
            Some(start(config, stopped.clone()))
        })
        .collect();
    wait_until("member 1 leads", || member(&members, 1).node.status().role == "leader");
    for n in 0..5 {
        commit(&member(&members, 1).host, n);
    }
    wait_until("every member holds the items", || {
        (1..=3).all(|id| items(&member(&members, id).host) == 5)
    });

    // Check: the members agree at a check index, and none is restricted.
    wait_until("the members agree at the same check", || {
        let prints: Vec<_> = (1..=3)
            .map(|id| member(&members, id).node.status().fingerprint)
            .collect();
        prints[0].is_some() && prints.iter().all(|p| *p == prints[0])
    });
    assert!((1..=3).all(|id| member(&members, id).node.restricted().is_none()));

    // Act: member 3's graph gets a vertex the log never had (as a damaged storage
    // would), at a timestamp past any the leader hands out: it skips what follows.
    let storage = member(&members, 3).host.storage();
    let foreign = CommitRecord::Transaction {
        ts: u64::MAX / 2,
        ops: vec![
            RecordOp::CreateVertex(900_000),
            RecordOp::AddLabel(900_000, "Foreign".into()),
        ],
    };
    storage.apply(&foreign.encode(), Origin::Applied { epoch: 0 }).unwrap();

    // Check: the next checks find it; it is restricted, then resyncs and restarts.
    let mut n = 5;
    let mut seen_restricted = None;
    let deadline = Instant::now() + WAIT;
    let restarted = loop {
        assert!(Instant::now() < deadline, "member 3 was not restricted and resynced");
        if let Some(m) = members[2].as_ref() {
            seen_restricted = seen_restricted.or_else(|| m.node.restricted());
        }
        if let Ok(id) = restarts.try_recv() {
            break id;
        }
        commit(&member(&members, 1).host, n);
        n += 1;
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(restarted, 3);
    let why = seen_restricted.expect("member 3 was seen restricted before it resynced");
    assert!(why.contains("differs from the leader's"), "{why}");
    let old = members[2].take().unwrap();
    let config = old.config.clone();
    old.node.stop();
    members[2] = Some(start(config, stopped.clone()));

    // Check: member 3 holds the leader's graph again (and not the foreign vertex), is not
    // restricted, and agrees at the checks that follow.
    for more in 0..3 {
        commit(&member(&members, 1).host, n + more);
    }
    let total = n as usize + 3;
    wait_until("member 3 holds every item", || {
        items(&member(&members, 3).host) == total
    });
    let restarted = member(&members, 3);
    let storage = restarted.host.storage();
    let txn = storage.begin(IsolationLevel::SnapshotIsolation);
    assert!(
        !txn.vertex_exists(Gid(900_000)),
        "the foreign vertex survived the resync"
    );
    drop(txn);
    wait_until("member 3 agrees with the leader at a check", || {
        let (own, leader) = (restarted.node.status(), member(&members, 1).node.status());
        own.fingerprint.is_some() && own.fingerprint == leader.fingerprint
    });
    assert!(restarted.node.restricted().is_none());
    for slot in members {
        slot.unwrap().node.stop();
    }
}
