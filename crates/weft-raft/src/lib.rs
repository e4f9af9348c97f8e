//! Weft's Raft cluster mode, on the `openraft` crate (kept behind this crate, so that a
//! later move to another openraft line stays here).
//!
//! Owns: the type configuration of Weft's Raft ([`TypeConfig`]: a log entry carries a
//! [`Proposal`], a batch of commit records; a member is known by its Raft and Bolt
//! addresses), the Raft log ([`log::LogStore`], entries framed in WAL segments with the
//! vote, the committed index and the purge point beside them in [`hard_state`]), and the
//! state machine ([`machine::StateMachine`]) that applies committed records to the
//! storage with the leader's timestamps and whose snapshots are storage snapshot files.
//! The byte layout of entries is ours ([`codec`]); no serde format reaches the disk.
//! Members talk over the node-to-node RPC crate ([`network`]). On the leader, a local
//! commit's record becomes a proposal through [`propose::Proposer`], the member's commit
//! pipeline's sink.
//!
//! Must not know: Bolt, Cypher, or how a transaction is run; it sees encoded commit
//! records and a [`machine::Host`] that hands it the storage and swaps it.

// openraft's traits return its `StorageError` (over 200 bytes) by value: ours follow.
#![allow(clippy::result_large_err)]

pub mod admin;
pub mod check;
pub mod codec;
pub mod hard_state;
pub mod log;
pub mod machine;
pub mod network;
pub mod node;
pub mod propose;

use std::fmt;
use std::sync::Arc;

/// A member as the others know it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Member {
    /// Where its Raft service listens (`host:port`).
    pub raft_address: String,
    /// Where its Bolt clients connect (`host:port`; empty while unknown).
    pub bolt_address: String,
}

impl fmt::Display for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "raft {} bolt {}", self.raft_address, self.bolt_address)
    }
}

/// What one normal log entry carries: the encoded commit records of one or more
/// transactions (or schema changes), in timestamp order, or a fingerprint check (then no
/// records). Concurrent commits share one entry, and so one round trip and one fsync on
/// every member.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Proposal {
    pub records: Vec<Arc<[u8]>>,
    pub check: Option<check::Check>,
}

/// What applying an entry answers: the newest commit timestamp the storage holds after it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Applied {
    pub ts: u64,
}

openraft::declare_raft_types!(
    /// Weft's Raft types.
    pub TypeConfig:
        D = Proposal,
        R = Applied,
        NodeId = u64,
        Node = Member,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = machine::SnapshotFile,
);

/// A log entry of Weft's Raft.
pub type Entry = openraft::Entry<TypeConfig>;
/// A log position: term, leader and index.
pub type LogId = openraft::LogId<u64>;
/// A storage error as openraft takes it.
pub type StorageError = openraft::StorageError<u64>;
/// Who a member voted for, in which term.
pub type Vote = openraft::Vote<u64>;
/// A membership: the voters (one set, or two while changing) and every member's address.
pub type Membership = openraft::Membership<u64, Member>;
