//! Weft's openCypher engine.
//!
//! Owns: the parser ([`parser`], [`ast`]), semantic analysis, the planner of pull-based
//! logical operators, the executor, runtime values ([`value`]) and built-in functions and
//! procedures. Promises to the layer above (Bolt, server): a [`QueryResult`] or a
//! [`QueryError`] that carries a Neo4j status code. Needs from below: a storage
//! transaction (`weft-storage`). Must not know: sockets, Bolt framing, files.

pub mod ast;
pub mod error;
pub mod graph;
pub mod result;
pub mod value;

pub use error::{ErrorKind, Phase, Position, QueryError};
pub use result::{Node, Path, QueryResult, QueryStats, Relationship, ResultValue};
pub use value::{PathValue, QValue};
