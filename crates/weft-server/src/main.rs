//! The `weft` binary: command-line parsing, logging, signals; the work is in the library.

mod shell;

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use weft_query::Engine;
use weft_server::{serve, ServerConfig, DEFAULT_MAX_CONNECTIONS};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How often the storage garbage collector runs.
const GC_INTERVAL: Duration = Duration::from_secs(1);

/// Weft: an openCypher graph database speaking the Bolt protocol.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve Bolt clients. Data is kept in memory only and is lost when the server stops
    /// (durability comes in a later release).
    Serve(ServeArgs),
    /// Run Cypher against a Bolt server: a prompt on a terminal, else `-c` or stdin.
    Shell(shell::ShellArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// Address to accept Bolt connections on.
    #[arg(long, env = "WEFT_BOLT_ADDRESS", default_value = "127.0.0.1:7687")]
    bolt_address: SocketAddr,
    /// Connections served at once; further clients wait until one closes.
    #[arg(long, env = "WEFT_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    max_connections: usize,
    /// Queries the engine runs at once, across all connections (default: one per CPU).
    /// Queries run on worker threads, never on the network reactor: a slow query holds
    /// one worker while other sessions use the rest; when all are busy, requests wait.
    #[arg(long, env = "WEFT_WORKERS", default_value_t = weft_server::default_workers(),
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    workers: usize,
    /// Address for HTTP `GET /health` and `GET /metrics` (Prometheus text format).
    #[arg(long, env = "WEFT_HTTP_ADDRESS", default_value = weft_server::DEFAULT_HTTP_ADDRESS)]
    http_address: SocketAddr,
    /// Require this user and password (basic scheme) from every Bolt client; without it
    /// any credentials are accepted.
    #[arg(long, env = "WEFT_AUTH", value_name = "USER:PASSWORD", hide_env_values = true)]
    auth: Option<weft_server::Credentials>,
    /// Seconds a query may run before it is stopped with TransactionTimedOut (counted
    /// from its RUN, including time the client takes to pull the rows); 0: no limit.
    #[arg(long, env = "WEFT_QUERY_TIMEOUT", value_name = "SECONDS", default_value_t = 600)]
    query_timeout: u64,
    /// PEM certificate chain (leaf first) for Bolt over TLS; give --bolt-key too.
    #[arg(long, env = "WEFT_BOLT_CERT", value_name = "PATH")]
    bolt_cert: Option<std::path::PathBuf>,
    /// PEM private key of --bolt-cert.
    #[arg(long, env = "WEFT_BOLT_KEY", value_name = "PATH")]
    bolt_key: Option<std::path::PathBuf>,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_target(false).init();
    match Cli::parse().command {
        Command::Serve(args) => run_serve(args),
        Command::Shell(args) => shell::run(args),
    }
}

fn run_serve(args: ServeArgs) -> anyhow::Result<()> {
    let tls = match (&args.bolt_cert, &args.bolt_key) {
        (Some(cert), Some(key)) => Some(weft_server::TlsConfig::load(cert, key)?),
        (None, None) => None,
        _ => anyhow::bail!("--bolt-cert and --bolt-key go together: give both for TLS, or neither"),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let timeout = (args.query_timeout > 0).then(|| Duration::from_secs(args.query_timeout));
        let engine = Engine::new().with_query_timeout(timeout);
        let _gc = engine.storage().start_gc(GC_INTERVAL);
        let bind = |address: SocketAddr, what: &'static str| async move {
            let bound = tokio::net::TcpListener::bind(address).await;
            bound.map_err(|error| anyhow::anyhow!("cannot listen for {what} on {address}: {error}"))
        };
        let bolt = bind(args.bolt_address, "Bolt (--bolt-address)").await?;
        let http = bind(args.http_address, "HTTP (--http-address)").await?;
        let (tls_on, auth_on) = (tls.is_some(), args.auth.is_some());
        tracing::info!(bolt = %bolt.local_addr()?, http = %http.local_addr()?, tls = tls_on, auth = auth_on,
            "Weft is serving Bolt (in memory only)");
        let config = ServerConfig {
            max_connections: args.max_connections,
            workers: args.workers,
            auth: args.auth.map(std::sync::Arc::new),
            tls,
        };
        let listeners = weft_server::Listeners { bolt, http: Some(http) };
        serve(listeners, engine, config, shutdown_signal()).await
    })?;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
