//! Who may write: the engine's read-only switch and each transaction's access mode.
//!
//! Owns: the switch a server flips at run time on a running (and cloned) engine — a
//! replica or a Raft member without a majority sets it, with the reason clients should
//! read — and the rule that decides whether a statement may write. Promises: a statement
//! that would write (CREATE, MERGE, SET, REMOVE, DELETE, FOREACH, index and constraint
//! changes) while writes are refused fails before it writes anything, with
//! `Neo.ClientError.Cluster.NotALeader` when the engine is read-only (a redirect: the
//! client goes to the leader), `Neo.TransientError.Cluster.NoQuorum` when it is read-only
//! because its cluster has no majority (a retry later may succeed), or
//! `Neo.ClientError.Statement.AccessMode` in a read
//! transaction. Reads are never refused. As a second line, every write call of the
//! executor passes `ExecCtx::graph_mut` (`exec/mod.rs`), which refuses it the same way; and
//! a transaction that wrote before the switch went on cannot commit after it.

use crate::ast::{Query, Statement};
use crate::engine::Engine;
use crate::error::{ErrorKind, QueryError, Result};
use crate::graph::local::{AccessMode, Txn};
use std::sync::RwLock;

/// Why a read-only engine refuses writes, which decides what clients are told to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadOnlyCause {
    /// Another instance takes the writes: the client should send them there.
    NotALeader,
    /// No instance can take writes now (the cluster has no majority): retry later.
    NoQuorum,
}

/// The engine's read-only switch: why writes are refused, if they are.
#[derive(Debug, Default)]
pub(crate) struct ReadOnlySwitch(RwLock<Option<(ReadOnlyCause, String)>>);

impl ReadOnlySwitch {
    /// The error for a write while the switch is on, or `None` when it is off.
    pub(crate) fn refusal(&self) -> Option<QueryError> {
        let reason = self.0.read().unwrap_or_else(|e| e.into_inner());
        reason.as_ref().map(|(cause, reason)| match cause {
            ReadOnlyCause::NotALeader => {
                let message =
                    format!("This database is read-only and refuses writes ({reason}); send writes to the leader");
                QueryError::runtime(ErrorKind::ReadOnly, "NotALeader", message)
            }
            ReadOnlyCause::NoQuorum => {
                let message = format!("No quorum: writes are refused until a majority of the cluster is reachable ({reason}); reads go on");
                QueryError::runtime(ErrorKind::ReadOnly, "NoQuorum", message)
            }
        })
    }
}

impl Engine {
    /// Refuses every write from now on with `reason` in the error (`None`: writes are
    /// allowed again). Applies to every clone of the engine and to statements that start
    /// after the call; a statement already running keeps the access it started with.
    pub fn set_read_only(&self, reason: Option<String>) {
        self.set_read_only_because(reason.map(|reason| (ReadOnlyCause::NotALeader, reason)));
    }

    /// As [`Engine::set_read_only`], naming the cause, which decides the status code
    /// refused writes get.
    pub fn set_read_only_because(&self, refusal: Option<(ReadOnlyCause, String)>) {
        *self.read_only.0.write().unwrap_or_else(|e| e.into_inner()) = refusal;
    }

    /// Why writes are refused, when the engine is read-only.
    pub fn read_only(&self) -> Option<String> {
        let refusal = self.read_only.0.read().unwrap_or_else(|e| e.into_inner());
        refusal.as_ref().map(|(_, reason)| reason.clone())
    }

    /// Starts a transaction for explicit use ([`Engine::execute_in`], [`Engine::start_in`]).
    pub fn begin(&self, mode: AccessMode) -> Txn {
        // Registered with its storage before the gate lets a replacement through.
        let entry = self.storage.enter();
        Txn::begin(&entry.storage, mode, self.read_only.clone())
    }

    /// The timestamp of the newest commit: the bookmark of a transaction that wrote
    /// nothing.
    pub fn last_committed(&self) -> u64 {
        self.storage().last_committed()
    }

    /// The error a write gets in a transaction of `mode`, or `None` when it may write.
    pub fn write_refusal(&self, mode: AccessMode) -> Option<QueryError> {
        // A read transaction's write is the client's mistake wherever it runs: never a
        // redirect to a leader, which would carry it out.
        if mode == AccessMode::Read {
            return Some(QueryError::runtime(
                ErrorKind::ReadOnly,
                "AccessMode",
                "Writing in a read access mode is not allowed; run the write in a read-write transaction",
            ));
        }
        self.read_only.refusal()
    }

    /// Refuses a schema change (index or constraint DDL) while the engine is read-only.
    pub(crate) fn refuse_schema_write(&self, statement: &Statement) -> Result<()> {
        if !changes_schema(statement) {
            return Ok(());
        }
        self.write_refusal(AccessMode::ReadWrite).map_or(Ok(()), Err)
    }
}

/// Whether a statement changes indexes or constraints.
pub(crate) fn changes_schema(statement: &Statement) -> bool {
    matches!(
        statement,
        Statement::CreateIndex(_)
            | Statement::DropIndex(_)
            | Statement::CreateConstraint(_)
            | Statement::DropConstraint(_)
    )
}

/// Whether a query has an updating clause in any of its parts.
pub(crate) fn updates(query: &Query) -> bool {
    std::iter::once(&query.first)
        .chain(query.unions.iter().map(|(_, part)| part))
        .flat_map(|part| &part.clauses)
        .any(|clause| crate::semantic::is_update(&clause.kind))
}
