//! Weft's storage layer: an in-memory property graph with multi-version concurrency
//! control, secondary indexes, constraints and the commit pipeline.
//!
//! Owns: vertices and edges, their labels/types/properties, transactions (snapshot
//! isolation, read committed, read uncommitted), undo-delta MVCC and garbage collection,
//! label and edge-type member sets, label+property indexes, existence and uniqueness constraints, the
//! commit record that durability and replication consume ([`record`]), and durability
//! itself: WAL, snapshots, recovery and retention ([`durability`]).
//! Promises to the layer above: every read a transaction makes is consistent with its
//! isolation level; a write that meets another running transaction's write fails at once
//! with a retryable error; commits get timestamps in one total order.
//! Must not know: Cypher, Bolt or the network (replication and Raft plug in as sinks of the
//! commit [`pipeline`] and through [`Storage::apply`]).
//!
//! Entry points: [`Storage::new`], [`Storage::begin`], [`Transaction`].
//!
//! ```
//! use weft_storage::{Direction, IsolationLevel, Storage, Value};
//!
//! let storage = Storage::new();
//! let (person, knows, name) = (storage.label("Person"), storage.edge_type("KNOWS"), storage.property("name"));
//! let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
//! let ada = txn.create_vertex()?;
//! let bob = txn.create_vertex()?;
//! txn.add_label(ada, person)?;
//! txn.set_vertex_property(ada, name, Value::from("Ada"))?;
//! txn.create_edge(ada, bob, knows)?;
//! assert_eq!(txn.commit()?, Some(1));
//!
//! let reader = storage.begin(IsolationLevel::SnapshotIsolation);
//! assert_eq!(reader.edges(ada, Direction::Out, &[knows])?.len(), 1);
//! # Ok::<(), weft_storage::StorageError>(())
//! ```

mod apply;
mod columns;
mod constraints;
mod ddl;
mod delta;
mod direct;
mod dump;
pub mod durability;
mod error;
mod fingerprint;
mod gc;
mod gc_index;
mod index;
mod members;
mod memory;
mod names;
pub mod pipeline;
mod prefetch;
mod props;
mod read;
pub mod record;
mod settle;
pub mod slot;
mod storage;
mod table;
mod txn;
mod vertex;
mod wound;

pub use ddl::{ConstraintInfo, IndexInfo};
pub use delta::IsolationLevel;
pub use dump::{EdgeDump, GraphDump, VertexDump};
pub use error::{ErrorKind, Result, StorageError};
pub use fingerprint::Fingerprint;
pub use gc::{GcStats, GcWorker};
pub use members::LabelProbe;
pub use memory::MemoryBreakdown;
pub use pipeline::{CommitEntry, CommitError, CommitErrorKind, CommitSink, Origin, SinkTicket};
pub use read::VertexScan;
pub use storage::Storage;
pub use txn::Transaction;
pub use vertex::Direction;
pub use weft_common::{EdgeRef, EdgeTypeId, Gid, LabelId, PropertyId, Value};
