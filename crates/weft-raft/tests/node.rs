//! Starting a member refuses what could make it unsafe: a directory that holds a member
//! but not its Raft state (it would have forgotten its vote), another Raft address than
//! the one the others know it by, or a new member without its flags.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use weft_raft::machine::StorageCell;
use weft_raft::node::{RaftNode, RaftNodeConfig, StartError};
use weft_raft::propose::Proposer;

fn config(dir: &std::path::Path, address: &str) -> RaftNodeConfig {
    RaftNodeConfig {
        dir: dir.to_path_buf(),
        id: Some(1),
        raft_address: Some(address.to_string()),
        bolt_address: String::new(),
        initial_members: BTreeMap::from([(1, address.to_string())]),
        client: Default::default(),
        server: Default::default(),
        heartbeat: Duration::from_millis(50),
        checks: Default::default(),
    }
}

fn start(config: RaftNodeConfig) -> Result<RaftNode, StartError> {
    RaftNode::start(config, Arc::new(StorageCell::default()), Proposer::new(), |_| {})
}

fn refusal(outcome: Result<RaftNode, StartError>) -> String {
    match outcome {
        Ok(node) => {
            node.stop();
            panic!("the member started")
        }
        Err(error) => error.to_string(),
    }
}

#[test]
fn unsafe_starts_are_refused_with_the_reason() {
    // A lone member starts, initializes itself, and stops.
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    start(config(dir.path(), &address)).unwrap().stop();

    // Another address than the kept one.
    let moved = refusal(start(config(dir.path(), "127.0.0.1:1")));
    assert!(moved.contains("--raft-address"), "{moved}");

    // The member file without the Raft state.
    std::fs::remove_file(dir.path().join("raft-state")).unwrap();
    let forgot = refusal(start(config(dir.path(), &address)));
    assert!(forgot.contains("raft-state"), "{forgot}");

    // A new member without its flags.
    let fresh = tempfile::tempdir().unwrap();
    let bare = RaftNodeConfig {
        id: None,
        ..config(fresh.path(), &address)
    };
    let missing = refusal(start(bare));
    assert!(missing.contains("--node-id"), "{missing}");
}
