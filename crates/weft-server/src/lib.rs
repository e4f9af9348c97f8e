//! Weft's server: Bolt over TCP or TLS in front of the query engine, plus an HTTP endpoint
//! for health checks and Prometheus metrics.
//!
//! Owns: the composition of an instance ([`Node`]: durability, the commit pipeline, the
//! engine, the role and the admin commands the layers register), the listening sockets,
//! one task per connection, the connection limit, the worker pool queries run on, and
//! clean shutdown. Promises to the binary and to tests: [`serve`] runs until its shutdown
//! future completes, then closes every connection, stops the HTTP endpoint and returns;
//! a misbehaving client only loses its own connection. Needs from below: weft-bolt
//! (protocol state machines, no I/O), weft-query's engine and weft-storage's
//! durability.

mod admin;
mod auth;
mod backend;
mod connection;
mod consistency;
pub mod convert;
mod forward;
mod http;
pub use http::serve_starting;
pub mod memory;
mod metrics;
mod node;
pub mod raft;
mod role;
pub mod starting;
mod tls;
pub mod value;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

pub use auth::{Credentials, CredentialsError, UNAUTHORIZED};
pub use backend::EngineBackend;
pub use convert::ParameterError;
pub use node::{ClusterSettings, Node, NodeConfig};
pub use role::Role;
pub use tls::{TlsConfig, TlsError};

use connection::{Context, Serving};

/// Default for `--max-connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

/// Default for `--http-address`.
pub const DEFAULT_HTTP_ADDRESS: &str = "127.0.0.1:7444";

/// Default for `--workers`: one per CPU the process may use.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Settings of a running server.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Connections served at once; further clients wait in the accept queue.
    pub max_connections: usize,
    /// Requests the engine answers at once, across all connections; others wait.
    pub workers: usize,
    /// The user sessions must authenticate as; `None` accepts any credentials.
    pub auth: Option<Arc<Credentials>>,
    /// Bolt over TLS when set; plain TCP otherwise.
    pub tls: Option<TlsConfig>,
    /// The HTTP query API and console.
    pub web: web::WebConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            workers: default_workers(),
            auth: None,
            tls: None,
            web: web::WebConfig::default(),
        }
    }
}

/// The sockets a server accepts on. A bare Bolt [`TcpListener`] converts into one
/// without HTTP.
#[derive(Debug)]
pub struct Listeners {
    pub bolt: TcpListener,
    /// `GET /health`, `GET /metrics`, the HTTP query API and the console.
    pub http: Option<TcpListener>,
}

impl From<TcpListener> for Listeners {
    fn from(bolt: TcpListener) -> Listeners {
        Listeners { bolt, http: None }
    }
}

/// Accepts Bolt connections (and HTTP requests, if there is an HTTP listener) until
/// `shutdown` completes, then closes them all (a query already running finishes first)
/// and returns.
pub async fn serve(
    listeners: impl Into<Listeners>,
    node: impl Into<Node>,
    config: ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let Listeners { bolt: listener, http } = listeners.into();
    let node = node.into();
    let (stop, stopped) = watch::channel(false);
    // Install the recorder before the first connection counts anything.
    let exporter = metrics::handle();
    let watched = node.clone();
    let refused: http::WritesRefused = Arc::new(move || watched.writes_refused());
    let replicas = node.clone();
    let refresh: http::Refresh = Arc::new(move || {
        if let Some(replication) = replicas.replication() {
            metrics::record_replicas(&replication.replicas());
        }
        if let Some(member) = replicas.raft() {
            metrics::record_raft(member);
        }
    });
    let workers = Arc::new(Semaphore::new(config.workers.max(1)));
    let web = web::Web::new(node.clone(), config.auth.clone(), workers.clone(), &config.web);
    let http = http.map(|http| {
        let web = match http.local_addr() {
            Ok(address) => web.listening_on(address),
            Err(_) => web,
        };
        tokio::spawn(http::serve(
            http,
            exporter,
            refused,
            refresh,
            Some(web),
            stopped.clone(),
        ))
    });
    let context = Context {
        serving: Serving::Node(node),
        credentials: config.auth.clone(),
        workers,
    };
    run_connections(&listener, context, &config, (stop, stopped), shutdown, None).await;
    if let Some(http) = http {
        http.await??;
    }
    Ok(())
}

/// Answers Bolt on `listener` while the instance starts, until `started` turns true:
/// clients can authenticate and ask `SHOW STORAGE INFO` how far the recovery is; every
/// other statement fails with a transient error ([`starting`]). Then the connections
/// are closed between requests and the listener is free for [`serve`].
pub async fn serve_starting_bolt(
    listener: &TcpListener,
    progress: Arc<weft_storage::durability::RecoveryProgress>,
    config: &ServerConfig,
    started: watch::Receiver<bool>,
) {
    let context = Context {
        serving: Serving::Starting(progress),
        credentials: config.auth.clone(),
        workers: Arc::new(Semaphore::new(config.workers.max(1))),
    };
    run_connections(
        listener,
        context,
        config,
        watch::channel(false),
        http::until(started),
        Some(STARTING_DRAIN),
    )
    .await;
}

/// How long the connections of a starting instance get to close once it serves: a client
/// that stopped reading must not keep the real server from starting.
const STARTING_DRAIN: std::time::Duration = std::time::Duration::from_secs(2);

/// Accepts connections on `listener`, each answered through `context`, until `shutdown`
/// completes; then tells them all to stop (`stop`) and waits for them, at most `drain`
/// when given (those still open then are dropped).
async fn run_connections(
    listener: &TcpListener,
    context: Context,
    config: &ServerConfig,
    (stop, stopped): (watch::Sender<bool>, watch::Receiver<bool>),
    shutdown: impl Future<Output = ()>,
    drain: Option<std::time::Duration>,
) {
    let limit = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let ids = AtomicU64::new(1);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = limit.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
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
        // Replies are small writes (RUN's, then PULL's): without this, Nagle's algorithm
        // holds the second one back until the client's delayed acknowledgement (~40 ms).
        if let Err(error) = stream.set_nodelay(true) {
            tracing::warn!(%error, %peer, "cannot disable Nagle's algorithm on a connection");
        }
        let id = ids.fetch_add(1, Ordering::Relaxed);
        let (context, tls, stopped) = (context.clone(), config.tls.clone(), stopped.clone());
        connections.spawn(async move {
            let _permit = permit;
            let _open = metrics::ConnectionGauge::open();
            tracing::debug!(connection = id, %peer, "connection opened");
            if let Err(error) = accept(stream, peer, tls, context, id, stopped).await {
                tracing::info!(connection = id, %peer, "connection closed: {error:#}");
            }
        });
        // Reap finished connections so the set does not grow with the server's lifetime.
        while connections.try_join_next().is_some() {}
    }
    tracing::info!("closing {} connection(s)", connections.len());
    let _ = stop.send(true);
    let closed = async { while connections.join_next().await.is_some() {} };
    match drain {
        None => closed.await,
        Some(drain) => {
            if tokio::time::timeout(drain, closed).await.is_err() {
                tracing::warn!("dropping connections that did not close within {drain:?}");
                connections.abort_all();
                while connections.join_next().await.is_some() {}
            }
        }
    }
}

/// Serves one accepted connection, after a TLS handshake when TLS is on.
async fn accept(
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsConfig>,
    context: Context,
    id: u64,
    mut stopped: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let Some(tls) = tls else {
        return connection::handle(stream, context, id, stopped).await;
    };
    let handshake = tls.acceptor().accept(stream);
    let stream = tokio::select! {
        accepted = handshake => accepted.map_err(|error| anyhow::anyhow!("TLS handshake with {peer} failed: {error}"))?,
        _ = stopped.changed() => return Ok(()),
    };
    connection::handle(stream, context, id, stopped).await
}
