//! Weft's server: Bolt over TCP in front of the query engine.
//!
//! Owns: the listening socket, one task per connection, the connection limit and clean
//! shutdown. Promises to the binary and to tests: [`serve`] runs until its shutdown future
//! completes, then closes every connection and returns; a misbehaving client only loses
//! its own connection. Needs from below: weft-bolt (protocol state machines, no I/O) and
//! weft-query's [`Engine`] (with its in-memory storage).
//!
//! Data lives in memory only: durability is a later step.

mod backend;
mod connection;
mod convert;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use weft_query::Engine;

pub use backend::EngineBackend;
pub use convert::ParameterError;

/// Default for `--max-connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

/// Settings of a running server.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Connections served at once; further clients wait in the accept queue.
    pub max_connections: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Accepts Bolt connections on `listener` until `shutdown` completes, then closes them all
/// (a query already running finishes first) and returns.
pub async fn serve(
    listener: TcpListener,
    engine: Engine,
    config: ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let limit = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let (stop, stopped) = watch::channel(false);
    let ids = AtomicU64::new(1);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = limit.clone().acquire_owned() => permit?,
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let id = ids.fetch_add(1, Ordering::Relaxed);
        let (engine, stopped) = (engine.clone(), stopped.clone());
        connections.spawn(async move {
            let _permit = permit;
            tracing::debug!(connection = id, %peer, "connection opened");
            if let Err(error) = connection::handle(stream, engine, id, stopped).await {
                tracing::info!(connection = id, %peer, "connection closed: {error:#}");
            }
        });
        // Reap finished connections so the set does not grow with the server's lifetime.
        while connections.try_join_next().is_some() {}
    }
    tracing::info!("shutting down: closing {} connection(s)", connections.len());
    let _ = stop.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}
