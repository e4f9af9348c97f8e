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
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_target(false).init();
    match Cli::parse().command {
        Command::Serve(args) => run_serve(args),
        Command::Shell(args) => shell::run(args),
    }
}

fn run_serve(args: ServeArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let engine = Engine::new();
        let _gc = engine.storage().start_gc(GC_INTERVAL);
        let listener = tokio::net::TcpListener::bind(args.bolt_address).await?;
        tracing::info!(address = %listener.local_addr()?, "Weft is serving Bolt (in memory only)");
        let config = ServerConfig {
            max_connections: args.max_connections,
        };
        serve(listener, engine, config, shutdown_signal()).await
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
