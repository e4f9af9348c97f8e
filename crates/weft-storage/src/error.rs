//! The storage layer's errors, and how a caller should react to each.
//!
//! Every error says whether it is retryable (run the transaction again), and the message
//! names what went wrong in the user's terms (labels, properties, values), so the query
//! and Bolt layers can pass it on unchanged.

use crate::pipeline::{CommitError, CommitErrorKind};
use weft_common::encoding::DecodeError;
use weft_common::Gid;

/// What a caller should do about an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The transaction may succeed if run again (e.g. a write-write conflict).
    Retryable,
    /// The request itself is wrong; running it again will fail the same way.
    Client,
    /// Stored or received data is damaged; a human must look.
    Corruption,
    /// The database cannot make writes durable any more; it must be restarted.
    Fatal,
    /// This instance does not take writes: send them to the MAIN or the Raft leader.
    Redirect,
}

/// Errors raised by the storage engine.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StorageError {
    #[error("serialization conflict: {0} was changed by a concurrent transaction; retry the transaction")]
    SerializationConflict(String),
    #[error("vertex {0} does not exist or is not visible to this transaction")]
    VertexNotFound(Gid),
    #[error("edge {0} does not exist or is not visible to this transaction")]
    EdgeNotFound(Gid),
    #[error("cannot delete vertex {0} because it still has relationships; use DETACH DELETE")]
    VertexHasEdges(Gid),
    #[error("{0}")]
    ConstraintViolation(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("{0} does not exist")]
    DoesNotExist(String),
    #[error("the transaction is no longer active (it was committed or aborted)")]
    TransactionClosed,
    #[error("{}", commit_message(.0))]
    Commit(#[from] CommitError),
    #[error("the transaction committed on this instance, but {} did not confirm it ({}); do not run it again", .0.sink, .0.message)]
    NotConfirmed(CommitError),
    #[error("cannot apply commit record: {0}")]
    Apply(String),
    #[error("damaged commit record: {0}")]
    Decode(#[from] DecodeError),
    #[error("invalid property value: {0}")]
    InvalidValue(String),
    #[error("storage limit reached: {0}")]
    Limit(String),
}

fn commit_message(error: &CommitError) -> String {
    match error.kind {
        CommitErrorKind::Fatal => format!(
            "the commit pipeline failed, so this commit is not durable and no further writes are accepted; \
             restart the server to recover: {error}"
        ),
        CommitErrorKind::Retryable => format!("the commit did not complete; retry the transaction: {error}"),
        CommitErrorKind::Redirect { to: Some(ref to) } => {
            format!("this instance does not accept writes; send them to {to}: {error}")
        }
        CommitErrorKind::Redirect { to: None } => format!("this instance does not accept writes: {error}"),
        CommitErrorKind::Rejected => format!("the commit was refused: {error}"),
        CommitErrorKind::Degraded => format!("the commit stands, but: {error}"),
    }
}

impl StorageError {
    /// How the caller should react.
    pub fn kind(&self) -> ErrorKind {
        match self {
            StorageError::SerializationConflict(_) => ErrorKind::Retryable,
            StorageError::Decode(_) => ErrorKind::Corruption,
            StorageError::Commit(e) => match e.kind {
                CommitErrorKind::Retryable => ErrorKind::Retryable,
                CommitErrorKind::Redirect { .. } => ErrorKind::Redirect,
                CommitErrorKind::Fatal => ErrorKind::Fatal,
                CommitErrorKind::Rejected | CommitErrorKind::Degraded => ErrorKind::Client,
            },
            _ => ErrorKind::Client,
        }
    }

    /// True when running the same transaction again may succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind() == ErrorKind::Retryable
    }
}

/// Result alias for storage operations.
pub type Result<T> = std::result::Result<T, StorageError>;
