//! Weft's openCypher engine.
//!
//! Owns: the parser ([`parser`], [`ast`]), semantic analysis, the planner of pull-based
//! logical operators, the executor, runtime values ([`value`]) and built-in functions and
//! procedures. Promises to the layer above (Bolt, server): a [`QueryResult`] or a
//! [`QueryError`] that carries a Neo4j status code. Needs from below: a storage
//! transaction (`weft-storage`), reached only through the graph access traits
//! ([`graph`]) and their local implementation ([`LocalGraph`]). Must not know: sockets,
//! Bolt framing, files, or the admin commands other layers register ([`admin`]).
//!
//! # One query, from Bolt to storage and back
//!
//! `MATCH (p:Person {id: $id}) RETURN p.name` sent by a driver as RUN then PULL:
//!
//! 1. **Bolt** (`weft-bolt`): the connection task in `weft-server` decodes the chunked
//!    RUN message and hands it, on the blocking pool, to the session state machine,
//!    which calls the server's backend (`weft-server/src/backend.rs`).
//! 2. **Start** ([`Engine::start`], `engine.rs`): the text is parsed once and cached
//!    ([`parser`], giving an [`ast::Statement`]); a statement that starts with a
//!    registered admin command's keywords becomes an [`ast::AdminCall`] and runs its
//!    handler instead. Otherwise the engine begins a [`Txn`] on the current storage
//!    (`graph/local.rs`), refusing writes first if the engine or the transaction is
//!    read-only (`graph/access.rs`).
//! 3. **Plan** (`semantic/`, `plan/`): semantic analysis checks scopes and types; the
//!    planner turns the query into a tree of operators (`exec/pipeline.rs`), choosing
//!    start points from the graph's statistics (`plan/estimate.rs`) — here an index seek
//!    on `:Person(id)` when that index exists, else a label scan and a filter. Plans are
//!    cached by text and parameter names and reused while the statistics they were made
//!    from still hold.
//! 4. **Execute** (`exec/`): the cursor ([`Cursor`], `exec/cursor.rs`) owns the plan, the
//!    transaction and an `ExecCtx` (`exec/mod.rs`): parameters, the statement clock,
//!    statistics and the graph. Each PULL runs the operators only as far as the rows it
//!    asks for. Operators evaluate expressions (`expr/`) on rows of [`QValue`]s and reach
//!    the graph only through the [`graph`] traits (`GraphRead` for scans, expands and
//!    properties; `GraphWrite`, through one gate that checks the access mode, for
//!    writes), which [`LocalGraph`] implements over a `weft_storage::Transaction`.
//! 5. **Answer**: each row is materialised (`exec/materialise.rs`) into [`ResultValue`]s
//!    (nodes with their labels and properties), which the server encodes as Bolt
//!    RECORDs. When the last row is pulled, the cursor gives the transaction back; the
//!    server commits it ([`Txn::commit`]), which runs the storage's commit pipeline (the
//!    WAL first, then any replication or Raft stage) and returns the commit timestamp
//!    that becomes the client's bookmark.

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
mod slot;
pub mod value;

pub use admin::{AdminArgs, AdminCommand};
pub use engine::Engine;
pub use error::{classify_status, ErrorKind, Phase, Position, QueryError};
pub use exec::cursor::Cursor;
pub use exec::explain::{PlanTree, Profiled};
pub use graph::access::ReadOnlyCause;
pub use graph::local::{AccessMode, LocalGraph, Txn};
pub use procedures::Procedure;
pub use result::{Materialised, Node, Path, QueryResult, QueryStats, Relationship, ResultValue};
pub use schema_txn::{forbidden_mix, InTransaction, Mix, SchemaChange};
pub use slot::ReplaceError;
pub use value::{PathValue, QValue};
