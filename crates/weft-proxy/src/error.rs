//! The proxy's errors: what stops it from starting, and the Neo4j status codes of the
//! failures it makes up itself (a member's own failures pass through unchanged).
//!
//! Every status says what the client may do: [`UNAVAILABLE`] is transient (drivers retry
//! the transaction, nothing of it was committed); [`COMMIT_OUTCOME_UNKNOWN`] is not
//! retryable (the write may or may not have committed, retrying could apply it twice);
//! [`UNAUTHORIZED`] is fatal to the connection.

use std::net::SocketAddr;

use weft_bolt::BackendError;

/// Why the proxy cannot start; each is fatal, the message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("--members: {0}")]
    Members(String),
    #[error("{0}")]
    Settings(String),
    #[error("cannot listen for Bolt clients on {address} (--listen): {source}")]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start a proxy thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// Transient: no member can take the request now (no leader known, member unreachable,
/// a connection lost before the commit); drivers retry.
pub const UNAVAILABLE: &str = "Neo.TransientError.General.DatabaseUnavailable";

/// Not retryable: a member was lost after a write was sent and before it answered.
pub const COMMIT_OUTCOME_UNKNOWN: &str = "Neo.DatabaseError.Transaction.CommitOutcomeUnknown";

/// The credentials were refused; the connection closes.
pub const UNAUTHORIZED: &str = "Neo.ClientError.Security.Unauthorized";

/// A follower's refusal of an autocommit write, before it ran anything.
pub const NOT_A_LEADER: &str = "Neo.ClientError.Cluster.NotALeader";

/// A transient failure with `message`.
pub fn unavailable(message: impl Into<String>) -> BackendError {
    BackendError::new(UNAVAILABLE, message)
}

/// The failure of a write whose outcome is unknown, naming the member and the cause.
pub fn outcome_unknown(member: &str, why: &str) -> BackendError {
    BackendError::new(
        COMMIT_OUTCOME_UNKNOWN,
        format!(
            "the connection to member {member} was lost after the write was sent; whether it committed is \
             unknown, check before running it again: {why}"
        ),
    )
}
