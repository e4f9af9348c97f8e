//! What part an instance plays, and what follows from it for clients: whether it takes
//! writes and which routing table a driver gets for ROUTE.
//!
//! Owns: the [`Role`] values: standalone (in memory, no replication), MAIN and REPLICA
//! (replication); the Raft member roles join here, each with its routing answer. A MAIN
//! and a REPLICA route every role to themselves for now: a driver sent to a REPLICA gets
//! its writes refused with `NotALeader` naming the MAIN.

use weft_bolt::messages::Dict;
use weft_bolt::BackendError;

/// An instance's part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// One instance on its own: it reads and writes, and routes every role to itself.
    Standalone,
    /// Takes writes and ships them to its replicas.
    Main,
    /// Applies what its MAIN ships and refuses writes.
    Replica,
    /// A member of a Raft cluster: takes writes while it is the leader.
    RaftMember,
}

impl Role {
    /// The role's name, as `SHOW` statements print it.
    pub fn name(&self) -> &'static str {
        match self {
            Role::Standalone => "standalone",
            Role::Main => "main",
            Role::Replica => "replica",
            Role::RaftMember => "raft member",
        }
    }

    /// The routing table for a driver's ROUTE: `routing` is the context the driver sent
    /// (its `address` is the one it connected to).
    pub fn route(&self, routing: &Dict, db: Option<&str>) -> Result<Dict, BackendError> {
        match self {
            Role::Standalone | Role::Main | Role::Replica | Role::RaftMember => {
                weft_bolt::session::single_instance_route(routing, db)
            }
        }
    }
}
