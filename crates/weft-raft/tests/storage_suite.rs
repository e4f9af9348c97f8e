//! openraft's own conformance suite for log storage and state machines, run against
//! Weft's log (WAL segments on disk) and state machine (a graph storage with snapshot
//! files), each built fresh in a temporary directory.

use std::sync::Arc;

use openraft::testing::{StoreBuilder, Suite};
use weft_raft::log::LogStore;
use weft_raft::machine::{StateMachine, StorageCell};
use weft_raft::{StorageError, TypeConfig};
use weft_storage::durability::Uuid;

/// One database id for every member built: snapshots move between them.
const DATABASE: Uuid = Uuid::from_u128(0x5745_4654_5241_4654);

struct Fresh;

impl StoreBuilder<TypeConfig, LogStore, StateMachine, tempfile::TempDir> for Fresh {
    async fn build(&self) -> Result<(tempfile::TempDir, LogStore, StateMachine), StorageError> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let log = LogStore::open(&dir.path().join("raft"), DATABASE).expect("the log opens");
        let machine = StateMachine::open(
            &dir.path().join("snapshots"),
            DATABASE,
            Arc::new(StorageCell::default()),
        )
        .expect("opens");
        Ok((dir, log, machine))
    }
}

#[test]
fn weft_s_log_and_state_machine_pass_openraft_s_storage_suite() {
    Suite::test_all(Fresh).expect("the suite passes");
}
