//! The `weft` binary: command-line parsing, logging, signals; the work is in the library.

mod bench;
mod shell;

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use weft_server::{serve, Node, NodeConfig, ServerConfig, DEFAULT_MAX_CONNECTIONS};
use weft_storage::durability::{DurabilityConfig, RecoveryProgress, SyncPolicy};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Weft: an openCypher graph database speaking the Bolt protocol.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve Bolt clients. The graph lives in memory; every commit is written to the WAL in
    /// --data-dir first, and the database is recovered from there at the next start.
    Serve(Box<ServeArgs>),
    /// Run Cypher against a Bolt server: a prompt on a terminal, else `-c` or stdin.
    Shell(shell::ShellArgs),
    /// Load a Bolt server (Weft or any other) with the standard workloads and report
    /// throughput, latency percentiles and CPU per query.
    Bench(bench::BenchArgs),
    /// Run a Bolt proxy in front of a Raft cluster's members: writes to the leader, reads
    /// to the least busy member.
    Proxy(weft_proxy::ProxyArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// Address to accept Bolt connections on.
    #[arg(long, env = "WEFT_BOLT_ADDRESS", default_value = "127.0.0.1:7687")]
    bolt_address: SocketAddr,
    /// Listen for Bolt while the data directory is recovered: SHOW STORAGE INFO says how
    /// far it is, every other statement fails with a transient error until the instance
    /// serves. Off by default: the Bolt port then opens only once queries can run, which
    /// is what scripts that wait for the port expect.
    #[arg(long, env = "WEFT_BOLT_WHILE_STARTING")]
    bolt_while_starting: bool,
    /// The Bolt address other members and drivers reach this instance at (routing
    /// tables, forwarded writes), when it is not --bolt-address (a wildcard, NAT).
    #[arg(long, env = "WEFT_ADVERTISED_ADDRESS", value_name = "HOST:PORT")]
    advertised_address: Option<String>,
    /// Let the kernel back the heap with transparent huge pages, where its setting
    /// allows them. Off by default: the allocator hands freed memory back in pieces, and
    /// each piece used again then comes back as a 2 MiB page the kernel clears (a bulk
    /// load took 12.0 s with them against 10.5 s without, and held about 20 MiB more;
    /// Linux only). A graph much
    /// larger than the CPU's TLB reach, read at random, may gain from them.
    #[arg(long, env = "WEFT_TRANSPARENT_HUGE_PAGES")]
    transparent_huge_pages: bool,
    /// Connections served at once; further clients wait until one closes.
    #[arg(long, env = "WEFT_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    max_connections: usize,
    /// Queries the engine runs at once, across all connections (default: one per CPU).
    /// Queries run on worker threads, never on the network reactor: a slow query holds
    /// one worker while other sessions use the rest; when all are busy, requests wait.
    #[arg(long, env = "WEFT_WORKERS", default_value_t = weft_server::default_workers(),
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    workers: usize,
    /// Address for the web console (`/`), the HTTP query API (`/db/neo4j/tx/...`),
    /// `GET /health` and `GET /metrics` (Prometheus text format).
    #[arg(long, env = "WEFT_HTTP_ADDRESS", default_value = weft_server::DEFAULT_HTTP_ADDRESS)]
    http_address: SocketAddr,
    /// An origin (`scheme://host:port`) whose pages may call the HTTP API; by default
    /// only the server's own pages (the console) may.
    #[arg(long, env = "WEFT_HTTP_ALLOW_ORIGIN", value_name = "ORIGIN")]
    http_allow_origin: Option<String>,
    /// Seconds an open HTTP transaction may stay unused before it is rolled back.
    #[arg(long, env = "WEFT_HTTP_TRANSACTION_TIMEOUT", value_name = "SECONDS", default_value_t = 60,
          value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..))]
    http_transaction_timeout: u64,
    /// Require this user and password (basic scheme) from every Bolt client and HTTP
    /// request; without it any credentials are accepted.
    #[arg(long, env = "WEFT_AUTH", value_name = "USER:PASSWORD", hide_env_values = true)]
    auth: Option<weft_server::Credentials>,
    /// Seconds a query may run before it is stopped with TransactionTimedOut (counted
    /// from its RUN, including time the client takes to pull the rows); 0: no limit.
    #[arg(long, env = "WEFT_QUERY_TIMEOUT", value_name = "SECONDS", default_value_t = 600)]
    query_timeout: u64,
    /// Where the database lives: WAL segments, snapshots and the database id. Created on
    /// first start; locked while this server runs.
    #[arg(long, env = "WEFT_DATA_DIR", default_value = "./weft-data")]
    data_dir: std::path::PathBuf,
    /// The only directory LOAD CSV reads files from (`file:///name.csv` is
    /// `<import-dir>/name.csv`; paths leading outside it are refused). Default: `import`
    /// inside --data-dir, created on start.
    #[arg(long, env = "WEFT_IMPORT_DIR")]
    import_dir: Option<std::path::PathBuf>,
    /// When a commit is acknowledged: `always` once its WAL record is fsynced (nothing
    /// acknowledged is lost, even on power failure); `interval` once written, fsynced
    /// every --wal-sync-interval (a machine crash may lose that much); `off` never
    /// fsyncs (the OS decides).
    #[arg(long, env = "WEFT_WAL_SYNC", value_enum, default_value_t = WalSync::Always)]
    wal_sync: WalSync,
    /// Milliseconds between fsyncs under --wal-sync interval.
    #[arg(long, env = "WEFT_WAL_SYNC_INTERVAL", value_name = "MS", default_value_t = 100)]
    wal_sync_interval: u64,
    /// Size at which a new WAL segment is started, in bytes or with a KiB/MiB/GiB suffix.
    #[arg(long, env = "WEFT_WAL_SEGMENT_SIZE", default_value = "64MiB", value_parser = parse_size)]
    wal_segment_size: u64,
    /// Seconds between periodic snapshots; 0 turns them off.
    #[arg(long, env = "WEFT_SNAPSHOT_INTERVAL", value_name = "SECONDS", default_value_t = 300)]
    snapshot_interval: u64,
    /// Take a snapshot on clean shutdown (Ctrl-C, SIGTERM), so the next start reads no WAL.
    #[arg(long, env = "WEFT_SNAPSHOT_ON_EXIT", default_value_t = true, action = clap::ArgAction::Set)]
    snapshot_on_exit: bool,
    /// Snapshots kept; older ones and the WAL segments only they needed are deleted.
    /// Fewer than 2 is unsafe: a damaged newest snapshot then has nothing to fall back on.
    #[arg(long, env = "WEFT_SNAPSHOT_RETENTION", default_value_t = weft_storage::durability::manager::DEFAULT_SNAPSHOT_RETENTION)]
    snapshot_retention: usize,
    /// Recover the database from --data-dir at start. `--recover=false` moves the old
    /// files aside (into old-<time>/ in the data directory) and starts empty.
    #[arg(long, env = "WEFT_RECOVER", default_value_t = true, action = clap::ArgAction::Set)]
    recover: bool,
    /// Start even if WAL records in the middle of history are damaged, knowingly losing
    /// them and everything after them in that segment.
    #[arg(long, env = "WEFT_RECOVER_SKIP_CORRUPT")]
    recover_skip_corrupt: bool,
    /// PEM certificate chain (leaf first) for Bolt over TLS; give --bolt-key too.
    #[arg(long, env = "WEFT_BOLT_CERT", value_name = "PATH")]
    bolt_cert: Option<std::path::PathBuf>,
    /// PEM private key of --bolt-cert.
    #[arg(long, env = "WEFT_BOLT_KEY", value_name = "PATH")]
    bolt_key: Option<std::path::PathBuf>,
    /// Host a REPLICA's replication server listens on (the port comes with `SET
    /// REPLICATION ROLE TO REPLICA WITH PORT <port>`); default: the host of --bolt-address.
    #[arg(long, env = "WEFT_REPLICATION_BIND", value_name = "HOST")]
    replication_bind: Option<String>,
    /// PEM certificate this instance presents to other Weft instances; with --cluster-key
    /// and --cluster-ca, traffic between instances uses mutual TLS.
    #[arg(long, env = "WEFT_CLUSTER_CERT", value_name = "PATH")]
    cluster_cert: Option<std::path::PathBuf>,
    /// PEM private key of --cluster-cert.
    #[arg(long, env = "WEFT_CLUSTER_KEY", value_name = "PATH")]
    cluster_key: Option<std::path::PathBuf>,
    /// PEM CA certificate that signed every instance's --cluster-cert.
    #[arg(long, env = "WEFT_CLUSTER_CA", value_name = "PATH")]
    cluster_ca: Option<std::path::PathBuf>,
    /// This instance's id in a Raft cluster (with --raft-address and --initial-members on
    /// the first start; a restart finds all three in the data directory). Without
    /// --initial-members, a new member waits until `ADD MEMBER` on the cluster adds it.
    #[arg(long, env = "WEFT_NODE_ID", value_name = "N")]
    node_id: Option<u64>,
    /// Where this member's Raft service listens and the others reach it (host:port).
    #[arg(long, env = "WEFT_RAFT_ADDRESS", value_name = "HOST:PORT")]
    raft_address: Option<String>,
    /// The cluster's first members, `1=host:port,2=host:port,3=host:port` (the same on
    /// each); the lowest id initializes the cluster.
    #[arg(long, env = "WEFT_INITIAL_MEMBERS", value_name = "ID=HOST:PORT,...")]
    initial_members: Option<String>,
    /// Seconds between the leader's fingerprint checks: every member compares a digest of
    /// its whole graph with the leader's at the same log index (idle logs are not checked).
    #[arg(
        long,
        env = "WEFT_FINGERPRINT_INTERVAL",
        value_name = "SECONDS",
        default_value_t = 30.0
    )]
    fingerprint_interval: f64,
}

/// The Raft flags, when any is given.
fn raft_settings(args: &ServeArgs) -> anyhow::Result<Option<weft_server::raft::RaftSettings>> {
    if args.node_id.is_none() && args.raft_address.is_none() && args.initial_members.is_none() {
        return Ok(None);
    }
    let initial_members = match &args.initial_members {
        Some(text) => weft_server::raft::parse_members(text).map_err(|e| anyhow::anyhow!("--initial-members: {e}"))?,
        None => Default::default(),
    };
    Ok(Some(weft_server::raft::RaftSettings {
        id: args.node_id,
        raft_address: args.raft_address.clone(),
        initial_members,
    }))
}

/// The node-to-node settings from the flags.
fn cluster_settings(args: &ServeArgs) -> anyhow::Result<weft_server::ClusterSettings> {
    let tls = match (&args.cluster_cert, &args.cluster_key, &args.cluster_ca) {
        (Some(cert), Some(key), Some(ca)) => {
            Some(std::sync::Arc::new(weft_rpc::ClusterTls::from_files(cert, key, ca)?))
        }
        (None, None, None) => None,
        _ => anyhow::bail!("--cluster-cert, --cluster-key and --cluster-ca go together: give all three, or none"),
    };
    Ok(weft_server::ClusterSettings {
        name: args
            .advertised_address
            .clone()
            .unwrap_or_else(|| args.bolt_address.to_string()),
        replication_host: args
            .replication_bind
            .clone()
            .unwrap_or_else(|| args.bolt_address.ip().to_string()),
        tls,
        fingerprint_every: std::time::Duration::try_from_secs_f64(args.fingerprint_interval)
            .ok()
            .filter(|every| !every.is_zero())
            .ok_or_else(|| anyhow::anyhow!("--fingerprint-interval must be a positive number of seconds"))?,
    })
}

/// The `--wal-sync` policies.
#[derive(Clone, Copy, clap::ValueEnum)]
enum WalSync {
    Always,
    Interval,
    Off,
}

/// `64MiB`, `512KiB`, `1GiB` or a plain number of bytes.
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size like 64MiB"))?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kib" | "k" => 1 << 10,
        "mib" | "m" => 1 << 20,
        "gib" | "g" => 1 << 30,
        other => return Err(format!("unknown size unit {other:?}; use KiB, MiB or GiB")),
    };
    number
        .checked_mul(scale)
        .filter(|bytes| *bytes >= 4096)
        .ok_or_else(|| format!("{text:?} is out of range (at least 4KiB)"))
}

/// The data directory's settings; recovery reports its progress to `progress`.
fn durability_config(args: &ServeArgs, progress: std::sync::Arc<RecoveryProgress>) -> DurabilityConfig {
    let wal_sync = match args.wal_sync {
        WalSync::Always => SyncPolicy::Always,
        WalSync::Interval => SyncPolicy::Interval(Duration::from_millis(args.wal_sync_interval.max(1))),
        WalSync::Off => SyncPolicy::Off,
    };
    DurabilityConfig {
        dir: args.data_dir.clone(),
        wal_sync,
        wal_segment_size: args.wal_segment_size,
        snapshot_retention: args.snapshot_retention,
        recover: args.recover,
        skip_corrupt: args.recover_skip_corrupt,
        progress,
    }
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt().with_target(false).init();
    let outcome = match Cli::parse().command {
        Command::Serve(args) => run_serve(*args),
        Command::Shell(args) => shell::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Proxy(args) => weft_proxy::run(args),
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // The chain of causes, without a backtrace: this is for the operator.
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run_serve(args: ServeArgs) -> anyhow::Result<()> {
    if !args.transparent_huge_pages && !weft_server::memory::disable_transparent_huge_pages() {
        tracing::warn!("the kernel refused to turn transparent huge pages off for this process");
    }
    let tls = match (&args.bolt_cert, &args.bolt_key) {
        (Some(cert), Some(key)) => Some(weft_server::TlsConfig::load(cert, key)?),
        (None, None) => None,
        _ => anyhow::bail!("--bolt-cert and --bolt-key go together: give both for TLS, or neither"),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    // HTTP first: while the data directory is recovered, /health says how far it is.
    let http = listen(args.http_address, "HTTP (--http-address)")?;
    let bind_bolt = || listen(args.bolt_address, "Bolt (--bolt-address)");
    // With --bolt-while-starting, Bolt too: a client may ask how far the recovery is.
    let early_listener = args.bolt_while_starting.then(bind_bolt).transpose()?;
    let config = ServerConfig {
        max_connections: args.max_connections,
        workers: args.workers,
        auth: args.auth.clone().map(std::sync::Arc::new),
        web: weft_server::web::WebConfig {
            allow_origin: args.http_allow_origin.clone(),
            transaction_timeout: Some(Duration::from_secs(args.http_transaction_timeout)),
        },
        tls,
    };
    let progress = RecoveryProgress::new();
    let (started, starting) = tokio::sync::watch::channel(false);
    let early = {
        let (listener, progress, starting) = (http.try_clone()?, progress.clone(), starting.clone());
        runtime.spawn(async move {
            match tokio::net::TcpListener::from_std(listener) {
                Ok(listener) => weft_server::serve_starting(listener, progress, starting).await,
                Err(error) => Err(error),
            }
        })
    };
    let early_bolt = match &early_listener {
        Some(bolt) => {
            let (listener, progress, config) = (bolt.try_clone()?, progress.clone(), config.clone());
            Some(runtime.spawn(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                weft_server::serve_starting_bolt(&listener, progress, &config, starting).await;
                Ok::<(), std::io::Error>(())
            }))
        }
        None => None,
    };
    let opened = Node::open(NodeConfig {
        durability: Some(durability_config(&args, progress)),
        snapshot_interval: (args.snapshot_interval > 0).then(|| Duration::from_secs(args.snapshot_interval)),
        query_timeout: (args.query_timeout > 0).then(|| Duration::from_secs(args.query_timeout)),
        cluster: cluster_settings(&args)?,
        raft: raft_settings(&args)?,
    });
    started.send_replace(true);
    if let Ok(Err(error)) = runtime.block_on(early) {
        tracing::warn!(%error, "the HTTP endpoint failed while the instance started");
    }
    if let Some(Ok(Err(error))) = early_bolt.map(|task| runtime.block_on(task)) {
        tracing::warn!(%error, "the Bolt endpoint failed while the instance started");
    }
    let node = opened?;
    // A large label scan may use as many threads as queries may run at once.
    node.engine().set_scan_threads(args.workers);
    let import_dir = args.import_dir.clone().unwrap_or_else(|| args.data_dir.join("import"));
    if let Err(error) = std::fs::create_dir_all(&import_dir) {
        tracing::warn!(dir = %import_dir.display(), %error, "the import directory cannot be created; LOAD CSV will fail");
    }
    node.engine().set_import_dir(import_dir);
    let bolt = match early_listener {
        Some(bolt) => bolt,
        None => bind_bolt()?,
    };
    runtime.block_on(async {
        let bolt = tokio::net::TcpListener::from_std(bolt)?;
        let http = tokio::net::TcpListener::from_std(http)?;
        let (tls_on, auth_on) = (config.tls.is_some(), config.auth.is_some());
        tracing::info!(bolt = %bolt.local_addr()?, http = %http.local_addr()?, tls = tls_on, auth = auth_on,
            data_dir = %args.data_dir.display(), role = node.role().name(), "Weft is serving Bolt");
        let listeners = weft_server::Listeners { bolt, http: Some(http) };
        serve(listeners, node.clone(), config, shutdown_signal()).await
    })?;
    node.close(args.snapshot_on_exit)?;
    tracing::info!("stopped");
    Ok(())
}

/// A non-blocking listener on `address` (for the tokio runtime to take over), or an error
/// naming `what` listens there.
fn listen(address: SocketAddr, what: &str) -> anyhow::Result<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind(address)
        .map_err(|error| anyhow::anyhow!("cannot listen for {what} on {address}: {error}"))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
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
