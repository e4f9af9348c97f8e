//! Query errors: what went wrong, where, and the Neo4j status code a driver needs.
//!
//! The kinds follow the openCypher TCK's error vocabulary (`SyntaxError`, `TypeError`, ...)
//! with its detail codes, so conformance can be checked precisely; [`QueryError::status`]
//! maps them to the `Neo.*` codes drivers act on (retry, raise the right exception).

use weft_storage::{CommitErrorKind, StorageError};

/// The category of an error (the TCK's error types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    SyntaxError,
    SemanticError,
    TypeError,
    ArgumentError,
    ArithmeticError,
    EntityNotFound,
    ConstraintVerificationFailed,
    ProcedureError,
    /// A retryable conflict with a concurrent transaction.
    TransientConflict,
    /// The statement ran past the configured query timeout.
    TimedOut,
    /// Anything the database itself failed at.
    DatabaseError,
    /// A write where writes are refused: a read-only database (detail `NotALeader`, a
    /// redirect to the leader, or `NoQuorum`, a cluster without a majority) or a read
    /// transaction (`AccessMode`).
    ReadOnly,
}

/// When the error was detected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    CompileTime,
    Runtime,
}

/// A position in the query text (1-based line and column).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Position {
    pub offset: usize,
    pub line: u32,
    pub column: u32,
}

/// An error raised while compiling or running a query.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct QueryError {
    pub kind: ErrorKind,
    pub phase: Phase,
    /// The TCK detail code, e.g. `UndefinedVariable`.
    pub detail: &'static str,
    pub message: String,
    pub position: Option<Position>,
}

impl QueryError {
    /// A compile-time error.
    pub fn compile(kind: ErrorKind, detail: &'static str, message: impl Into<String>) -> Self {
        QueryError {
            kind,
            phase: Phase::CompileTime,
            detail,
            message: message.into(),
            position: None,
        }
    }

    /// A runtime error.
    pub fn runtime(kind: ErrorKind, detail: &'static str, message: impl Into<String>) -> Self {
        QueryError {
            kind,
            phase: Phase::Runtime,
            detail,
            message: message.into(),
            position: None,
        }
    }

    /// The statement was stopped by the query timeout.
    pub fn timed_out() -> Self {
        QueryError::runtime(
            ErrorKind::TimedOut,
            "QueryTimeout",
            "The query ran longer than the server's query timeout and was stopped",
        )
    }

    /// A statement stopped because its client cancelled it (its transaction terminated).
    pub fn terminated() -> Self {
        QueryError::runtime(
            ErrorKind::TimedOut,
            "TransactionTerminated",
            "The transaction was terminated (its client cancelled it) and is rolled back",
        )
    }

    /// Syntax error at a position, the message saying what was expected.
    pub fn syntax(detail: &'static str, message: impl Into<String>, position: Position) -> Self {
        let message = format!(
            "{} (line {}, column {})",
            message.into(),
            position.line,
            position.column
        );
        QueryError {
            position: Some(position),
            ..Self::compile(ErrorKind::SyntaxError, detail, message)
        }
    }

    /// Attaches a position if none is known yet.
    pub fn at(mut self, position: Position) -> Self {
        self.position.get_or_insert(position);
        self
    }

    /// The Neo4j status code for this error: the first row of [`STATUS_CODES`] whose
    /// kind matches and whose detail is this error's or empty.
    pub fn status(&self) -> &'static str {
        STATUS_CODES
            .iter()
            .find(|row| row.kind == self.kind && (row.detail.is_empty() || row.detail == self.detail))
            .map_or("Neo.DatabaseError.General.UnknownError", |row| row.code)
    }

    /// True when the client may retry the whole transaction.
    pub fn is_retryable(&self) -> bool {
        self.kind == ErrorKind::TransientConflict || (self.kind == ErrorKind::ReadOnly && self.detail == "NoQuorum")
    }

    /// True when the client should send the statement to another member (the leader).
    pub fn is_redirect(&self) -> bool {
        self.kind == ErrorKind::ReadOnly && self.detail == "NotALeader"
    }
}

impl From<StorageError> for QueryError {
    fn from(e: StorageError) -> Self {
        let (kind, detail) = match &e {
            StorageError::SerializationConflict(_) => (ErrorKind::TransientConflict, "SerializationConflict"),
            StorageError::ConstraintViolation(_) => (ErrorKind::ConstraintVerificationFailed, "ConstraintViolation"),
            StorageError::VertexHasEdges(_) => (ErrorKind::ConstraintVerificationFailed, "DeleteConnectedNode"),
            StorageError::VertexNotFound(_) | StorageError::EdgeNotFound(_) => {
                (ErrorKind::EntityNotFound, "DeletedEntityAccess")
            }
            StorageError::InvalidValue(_) => (ErrorKind::TypeError, "InvalidPropertyType"),
            StorageError::AlreadyExists(_) | StorageError::DoesNotExist(_) => (ErrorKind::SemanticError, "Schema"),
            StorageError::Commit(c) => match c.kind {
                CommitErrorKind::Retryable => (ErrorKind::TransientConflict, "CommitNotCompleted"),
                CommitErrorKind::Redirect { .. } => (ErrorKind::ReadOnly, "NotALeader"),
                CommitErrorKind::Fatal => (ErrorKind::DatabaseError, "Storage"),
                // Never taken as it is (a record too large): the client must change it.
                CommitErrorKind::Rejected => (ErrorKind::ArgumentError, "CommitRejected"),
                // A warning, not an error; it only gets here if a caller made it one.
                CommitErrorKind::Degraded => (ErrorKind::DatabaseError, "CommitNotConfirmed"),
            },
            // Committed, so not transient: a driver must not run it again.
            StorageError::NotConfirmed(_) => (ErrorKind::DatabaseError, "CommitNotConfirmed"),
            _ => (ErrorKind::DatabaseError, "Storage"),
        };
        QueryError::runtime(kind, detail, e.to_string())
    }
}

/// One row of the table between error kinds (with an optional detail) and Neo4j codes.
#[derive(Clone, Copy, Debug)]
pub struct StatusCode {
    pub kind: ErrorKind,
    /// Empty: any detail of `kind`; else only this detail, which the code names more
    /// precisely than the kind does.
    pub detail: &'static str,
    pub code: &'static str,
}

const fn row(kind: ErrorKind, detail: &'static str, code: &'static str) -> StatusCode {
    StatusCode { kind, detail, code }
}

/// Every status code the engine reports, the detail-specific rows before their kind's
/// general row. [`QueryError::status`] reads it one way, [`classify_status`] the other,
/// so a client (the TCK over Bolt) recovers the kind from the code it received.
pub const STATUS_CODES: &[StatusCode] = &[
    row(
        ErrorKind::SemanticError,
        "MissingParameter",
        "Neo.ClientError.Statement.ParameterMissing",
    ),
    row(
        ErrorKind::SemanticError,
        "ForbiddenDueToTransactionType",
        "Neo.ClientError.Transaction.ForbiddenDueToTransactionType",
    ),
    row(ErrorKind::SyntaxError, "", "Neo.ClientError.Statement.SyntaxError"),
    row(ErrorKind::SemanticError, "", "Neo.ClientError.Statement.SemanticError"),
    row(ErrorKind::TypeError, "", "Neo.ClientError.Statement.TypeError"),
    row(
        ErrorKind::ArgumentError,
        "ExternalResourceFailed",
        "Neo.ClientError.Statement.ExternalResourceFailed",
    ),
    row(ErrorKind::ArgumentError, "", "Neo.ClientError.Statement.ArgumentError"),
    row(
        ErrorKind::ArithmeticError,
        "",
        "Neo.ClientError.Statement.ArithmeticError",
    ),
    row(
        ErrorKind::EntityNotFound,
        "",
        "Neo.ClientError.Statement.EntityNotFound",
    ),
    row(
        ErrorKind::ConstraintVerificationFailed,
        "",
        "Neo.ClientError.Schema.ConstraintValidationFailed",
    ),
    row(
        ErrorKind::ProcedureError,
        "",
        "Neo.ClientError.Procedure.ProcedureNotFound",
    ),
    row(
        ErrorKind::TransientConflict,
        "",
        "Neo.TransientError.Transaction.Conflict",
    ),
    row(
        ErrorKind::TimedOut,
        "TransactionTerminated",
        "Neo.ClientError.Transaction.Terminated",
    ),
    row(
        ErrorKind::TimedOut,
        "",
        "Neo.ClientError.Transaction.TransactionTimedOut",
    ),
    row(ErrorKind::ReadOnly, "NotALeader", "Neo.ClientError.Cluster.NotALeader"),
    row(ErrorKind::ReadOnly, "NoQuorum", "Neo.TransientError.Cluster.NoQuorum"),
    row(ErrorKind::ReadOnly, "", "Neo.ClientError.Statement.AccessMode"),
    // Committed here, a confirmation (a replica's) missing: a DatabaseError, which no
    // driver retries, since running it again would commit it twice.
    row(
        ErrorKind::DatabaseError,
        "CommitNotConfirmed",
        "Neo.DatabaseError.Transaction.CommitNotConfirmed",
    ),
    row(ErrorKind::DatabaseError, "", "Neo.DatabaseError.General.UnknownError"),
];

/// The kind and, where the code pins one, the detail of a Neo4j status `code` (empty
/// detail otherwise); `None` for a code the engine never reports.
pub fn classify_status(code: &str) -> Option<(ErrorKind, &'static str)> {
    STATUS_CODES
        .iter()
        .find(|row| row.code == code)
        .map(|row| (row.kind, row.detail))
}

/// Result alias for the query layer.
pub type Result<T> = std::result::Result<T, QueryError>;

#[cfg(test)]
mod tests {
    use super::{classify_status, ErrorKind, QueryError, STATUS_CODES};

    #[test]
    fn every_status_code_reads_back_to_its_kind_and_detail() {
        for row in STATUS_CODES {
            let error = QueryError::runtime(row.kind, if row.detail.is_empty() { "Any" } else { row.detail }, "m");
            assert_eq!(error.status(), row.code);
            assert_eq!(classify_status(row.code), Some((row.kind, row.detail)));
        }
        assert_eq!(classify_status("Neo.ClientError.Made.Up"), None);
        let missing = QueryError::compile(ErrorKind::SemanticError, "MissingParameter", "m");
        assert_eq!(missing.status(), "Neo.ClientError.Statement.ParameterMissing");
    }

    #[test]
    fn commit_errors_keep_their_kind_in_the_status_code() {
        use weft_storage::{CommitError, CommitErrorKind, StorageError};
        let status = |kind| QueryError::from(StorageError::Commit(CommitError::new(kind, "replica", "m"))).status();
        assert_eq!(
            status(CommitErrorKind::Retryable),
            "Neo.TransientError.Transaction.Conflict"
        );
        assert_eq!(
            status(CommitErrorKind::Redirect { to: None }),
            "Neo.ClientError.Cluster.NotALeader"
        );
        assert_eq!(status(CommitErrorKind::Fatal), "Neo.DatabaseError.General.UnknownError");
        assert_eq!(
            status(CommitErrorKind::Rejected),
            "Neo.ClientError.Statement.ArgumentError"
        );
        let unconfirmed = StorageError::NotConfirmed(CommitError::new(CommitErrorKind::Retryable, "replica", "m"));
        let unconfirmed = QueryError::from(unconfirmed);
        assert!(!unconfirmed.is_retryable(), "a commit that stands is not retried");
        assert_eq!(unconfirmed.status(), "Neo.DatabaseError.Transaction.CommitNotConfirmed");
    }
}
