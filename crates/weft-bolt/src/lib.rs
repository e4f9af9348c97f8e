//! Weft's Bolt protocol layer, as pure functions and state machines over byte buffers.
//!
//! Owns: the wire format that Neo4j drivers and pymgclient speak — the version
//! [`handshake`], message framing ([`chunking`]), the PackStream value syntax
//! ([`packstream`]), typed graph, temporal and point structures ([`structs`]) and the
//! request and response messages ([`messages`]). It serves Bolt 4.1, 4.3, 4.4 and 5.0–5.8.
//!
//! Promises to the server above: every decoder takes `&[u8]`, returns a typed error for
//! malformed input and never panics; nothing here does I/O, keeps time or knows storage
//! or the query engine, so a socket loop can wrap it and tests can drive it byte by byte.
//!
//! Needs from below: only `weft-common`'s temporal and spatial types, to convert Bolt
//! temporals and points.

pub mod chunking;
pub mod control;
pub mod handshake;
pub mod messages;
pub mod packstream;
pub mod session;
pub mod structs;

pub use chunking::{ChunkDecoder, ChunkEncoder, ChunkError};
pub use handshake::{negotiate, HandshakeError, Negotiated, Version};
pub use messages::{MessageError, Request, Response};
pub use packstream::{BoltValue, PackStreamError, Structure};
pub use session::{Auth, Backend, BackendError, Progress, RunInfo, Session, State};
pub use structs::{Dialect, Node, Path, Relationship, StructError, Temporal, UnboundRelationship};

/// Any Bolt protocol error, for callers that need not branch on the layer.
///
/// Every variant is fatal to the connection it arose on (the peer does not speak Bolt
/// as negotiated); none is retryable or a redirect. The server answers with a FAILURE
/// where the protocol still allows it and closes the connection.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Error {
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    #[error(transparent)]
    Chunk(#[from] ChunkError),
    #[error(transparent)]
    PackStream(#[from] PackStreamError),
    #[error(transparent)]
    Message(#[from] MessageError),
    #[error(transparent)]
    Struct(#[from] StructError),
}
