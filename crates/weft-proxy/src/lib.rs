//! `weft proxy`: an external Bolt proxy in front of the members of a Weft Raft cluster.
//!
//! Owns: accepting Bolt clients ([`server`]), choosing a member for each transaction
//! ([`cluster`]: writes to the leader, reads marked with access mode `r` to the healthy
//! member with the fewest queries the proxy has running on it), finding the leader and
//! the members that are down ([`discovery`], a background thread asking `SHOW CLUSTER`),
//! and relaying each client session over at most one connection per member, opened with
//! the client's own credentials and Bolt version so values pass through unchanged
//! ([`backend`], [`links`]).
//!
//! Promises to the binary above: [`run`] serves until the process ends; [`Proxy::start`]
//! binds (port 0 works) and serves on its own threads, for tests. No lock is held while a
//! member answers; a session never opens a connection per query. Every wait on a member
//! is bounded (`--answer-timeout`), so a dead leader fails a request, never hangs it.
//!
//! Needs from below: weft-bolt's session state machine and codecs, and weft-client's
//! blocking client to talk to members.

mod args;
mod backend;
mod cluster;
mod discovery;
mod error;
mod links;
mod server;

pub use args::{parse_members, ProxyArgs, ProxyConfig};
pub use error::ProxyError;
pub use server::Proxy;

/// Runs the proxy described by the command line until the process is stopped.
pub fn run(args: ProxyArgs) -> anyhow::Result<()> {
    let config = args.config()?;
    let proxy = Proxy::start(config)?;
    tracing::info!(listen = %proxy.local_addr(), "weft proxy is serving Bolt");
    proxy.wait();
    Ok(())
}
