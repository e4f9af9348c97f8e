//! Weft's openCypher engine.
//!
//! Owns: the parser ([`parser`], [`ast`]), semantic analysis, the planner of pull-based
//! logical operators, the executor, runtime values ([`value`]) and built-in functions and
//! procedures. Promises to the layer above (Bolt, server): a [`QueryResult`] or a
//! [`QueryError`] that carries a Neo4j status code. Needs from below: a storage
//! transaction (`weft-storage`), reached only through the graph access traits
//! ([`graph`]) and their local implementation ([`LocalGraph`]). Must not know: sockets,
//! Bolt framing, files.

pub mod admin;
pub mod ast;
mod engine;
pub mod error;
mod exec;
mod expr;
pub mod functions;
pub mod graph;
pub mod parser;
mod plan;
pub mod procedures;
pub mod result;
mod schema_txn;
mod semantic;
pub mod value;

pub use admin::{AdminArgs, AdminCommand};
pub use engine::Engine;
pub use error::{classify_status, ErrorKind, Phase, Position, QueryError};
pub use exec::cursor::Cursor;
pub use graph::local::{AccessMode, LocalGraph, Txn};
pub use procedures::Procedure;
pub use result::{Node, Path, QueryResult, QueryStats, Relationship, ResultValue};
pub use schema_txn::{forbidden_mix, InTransaction, Mix, SchemaChange};
pub use value::{PathValue, QValue};
