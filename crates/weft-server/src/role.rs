//! What part an instance plays, and what follows from it for clients: whether it takes
//! writes and which routing table a driver gets for ROUTE.
//!
//! Owns: the [`Role`] values. Standalone is the only one yet; MAIN and REPLICA
//! (replication) and the Raft member roles join here, each with its routing answer.

use weft_bolt::messages::Dict;
use weft_bolt::BackendError;

/// An instance's part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// One instance on its own: it reads and writes, and routes every role to itself.
    Standalone,
}

impl Role {
    /// The role's name, as `SHOW` statements print it.
    pub fn name(&self) -> &'static str {
        match self {
            Role::Standalone => "standalone",
        }
    }

    /// The routing table for a driver's ROUTE: `routing` is the context the driver sent
    /// (its `address` is the one it connected to).
    pub fn route(&self, routing: &Dict, db: Option<&str>) -> Result<Dict, BackendError> {
        match self {
            Role::Standalone => weft_bolt::session::single_instance_route(routing, db),
        }
    }
}
