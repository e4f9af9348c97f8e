//! Weft's node-to-node transport: the one way Weft processes talk to each other
//! (replication and Raft; the sharded layer adds its services here).
//!
//! Owns: the gRPC services and messages (`proto/`, compiled by protox in `build.rs` into
//! [`pb`]), the [`Identity`] header every message carries (database id and epoch), client
//! channels and server builders with time-outs ([`client`], [`server`]), back-off for
//! retries ([`Backoff`]), streamed transfer of durability files with checksums ([`files`]),
//! and optional mutual TLS between nodes ([`ClusterTls`]).
//!
//! Does not own: what the messages mean. A layer implements a generated service trait
//! (for example `pb::replication_server::Replication`) and decides what to do with an
//! epoch; this crate only carries it and refuses messages from another database.
//!
//! Promises: every client call has a connect time-out and a request time-out; no input
//! from the network panics; a received file is written whole, checked and made durable
//! before it gets its final name, or not at all.

pub mod client;
pub mod files;
pub mod server;

mod backoff;
mod identity;
mod tls;

pub use backoff::Backoff;
pub use identity::{DatabaseId, Identity};
pub use tls::ClusterTls;

/// The generated messages, clients and servers of `proto/weft/rpc/v1`.
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod pb {
    tonic::include_proto!("weft.rpc.v1");
}

/// Why the transport could not be set up (a call's failure is a [`tonic::Status`]).
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    #[error("`{address}` is not a node address (expected host:port): {reason}")]
    BadAddress { address: String, reason: String },
    #[error("cluster TLS: {0}")]
    Tls(String),
    #[error("cannot read {what} `{path}`: {source}")]
    Read {
        what: &'static str,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("RPC server: {0}")]
    Server(#[from] tonic::transport::Error),
}
