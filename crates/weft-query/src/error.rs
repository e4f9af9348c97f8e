//! Query errors: what went wrong, where, and the Neo4j status code a driver needs.
//!
//! The kinds follow the openCypher TCK's error vocabulary (`SyntaxError`, `TypeError`, ...)
//! with its detail codes, so conformance can be checked precisely; [`QueryError::status`]
//! maps them to the `Neo.*` codes drivers act on (retry, raise the right exception).

use weft_storage::StorageError;

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

    /// The Neo4j status code for this error.
    pub fn status(&self) -> &'static str {
        match self.kind {
            ErrorKind::SyntaxError => "Neo.ClientError.Statement.SyntaxError",
            ErrorKind::SemanticError => "Neo.ClientError.Statement.SemanticError",
            ErrorKind::TypeError => "Neo.ClientError.Statement.TypeError",
            ErrorKind::ArgumentError => "Neo.ClientError.Statement.ArgumentError",
            ErrorKind::ArithmeticError => "Neo.ClientError.Statement.ArithmeticError",
            ErrorKind::EntityNotFound => "Neo.ClientError.Statement.EntityNotFound",
            ErrorKind::ConstraintVerificationFailed => "Neo.ClientError.Schema.ConstraintValidationFailed",
            ErrorKind::ProcedureError => "Neo.ClientError.Procedure.ProcedureNotFound",
            ErrorKind::TransientConflict => "Neo.TransientError.Transaction.Conflict",
            ErrorKind::TimedOut => "Neo.ClientError.Transaction.TransactionTimedOut",
            ErrorKind::DatabaseError => "Neo.DatabaseError.General.UnknownError",
        }
    }

    /// True when the client may retry the whole transaction.
    pub fn is_retryable(&self) -> bool {
        self.kind == ErrorKind::TransientConflict
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
            _ => (ErrorKind::DatabaseError, "Storage"),
        };
        QueryError::runtime(kind, detail, e.to_string())
    }
}

/// Result alias for the query layer.
pub type Result<T> = std::result::Result<T, QueryError>;
