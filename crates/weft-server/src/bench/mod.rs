//! `weft bench`: a load generator for any Bolt server — Weft, Neo4j, Memgraph, FalkorDB.
//!
//! Owns: the subcommand's options and the order of work — connect, make sure the standard
//! graph is there (load it, or use the one already loaded), then run each workload at each
//! connection count and report. Promises: progress on stderr, the table (or `--json`) on
//! stdout, and exit status 1 when any query failed or a connection was lost, with the
//! errors in the report; a server that goes away ends the run instead of hanging it.
//!
//! Layers, top down: this module over [`run`] (threads, timeline, histograms, CPU),
//! [`workload`] (query texts and parameters), [`graph`] (the standard graph, drawn as
//! `shared/bench/gen_graph.py` draws it, on [`pyrand`]) and [`report`]; all talk through
//! weft-client.

mod graph;
mod pyrand;
mod report;
mod run;
mod workload;

use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::{Args, ValueEnum};
use serde_json::json;
use weft_client::{normalize_address, Client, ConnectOptions, Credentials};

use graph::{Graph, GraphSpec};
use workload::Workload;

/// How long after the load the server's resident memory is read a second time.
pub const RSS_SETTLE: Duration = Duration::from_secs(3);

/// Where the graph comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphSource {
    /// Load the standard graph if the server holds no persons; use it if it holds exactly
    /// --persons of them; refuse anything else.
    Auto,
    /// Load the standard graph; the server must hold no persons yet.
    Load,
    /// Use the persons already loaded, ids 0..count, whatever their number.
    Existing,
}

#[derive(Args)]
pub struct BenchArgs {
    /// Bolt server to load: HOST:PORT, optionally as bolt://HOST:PORT.
    #[arg(long, env = "WEFT_BENCH_ADDRESS", default_value = "127.0.0.1:7687")]
    address: String,
    /// User name for basic authentication (none if absent).
    #[arg(long, short = 'u', env = "WEFT_BENCH_USER")]
    user: Option<String>,
    /// Password for basic authentication.
    #[arg(long, short = 'p', env = "WEFT_BENCH_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Database (graph) to run in, sent as `db`; default: the server's.
    #[arg(long, env = "WEFT_BENCH_DATABASE")]
    database: Option<String>,
    /// Workloads to run, in order, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "point,hop1,hop2,agg,create,mix"
    )]
    workloads: Vec<Workload>,
    /// Connections, each on its own thread; a comma-separated list runs every workload at
    /// each count.
    #[arg(long, value_delimiter = ',', default_value = "1,16",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=256))]
    connections: Vec<usize>,
    /// Seconds each run is measured (default 10, unless --count is given).
    #[arg(long, value_name = "SECONDS")]
    duration: Option<f64>,
    /// Measured queries per run, across its connections.
    #[arg(long)]
    count: Option<u64>,
    /// Seconds of unmeasured queries before each run is measured.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    warmup: f64,
    /// Where the graph comes from.
    #[arg(long, value_enum, default_value = "auto")]
    graph: GraphSource,
    /// Persons in the standard graph.
    #[arg(long, default_value_t = 100_000)]
    persons: u32,
    /// KNOWS edges in the standard graph.
    #[arg(long, default_value_t = 1_000_000)]
    edges: u32,
    /// Seed of the standard graph and of every connection's parameters.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The server's process id, to report its CPU time per query (Linux /proc).
    #[arg(long)]
    server_pid: Option<u32>,
    /// Write parameter values into the query text as literals instead of sending them as
    /// parameters, for servers that mishandle parameters (FalkorDB's experimental Bolt
    /// listener crashes under concurrent parameterized queries). Servers that cache plans
    /// by query text then plan most queries afresh.
    #[arg(long)]
    inline_parameters: bool,
    /// Seconds to wait for any answer before the connection counts as lost.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    timeout: f64,
    /// Mark the workload's queries read-only (Bolt mode `r`), as a driver's read session
    /// does, so that a router or `weft proxy` may send them to any member. For read
    /// workloads; the graph is set up on an ordinary connection first.
    #[arg(long)]
    read_only: bool,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
    /// Also write the JSON to this file.
    #[arg(long, value_name = "FILE")]
    output: Option<std::path::PathBuf>,
}

/// Runs the benchmark; exits the process with status 1 if any query failed.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let address = normalize_address(&args.address);
    let options = ConnectOptions {
        credentials: Credentials {
            user: args.user.clone(),
            password: args.password.clone(),
        },
        database: args.database.clone(),
        user_agent: concat!("weft-bench/", env!("CARGO_PKG_VERSION")).to_string(),
        read_timeout: Some(seconds("--timeout", args.timeout)?),
        version: None,
        read_only: false,
    };
    let duration = match (args.duration, args.count) {
        (None, None) => Some(Duration::from_secs(10)),
        (given, _) => given.map(|s| seconds("--duration", s)).transpose()?,
    };
    let warmup = seconds("--warmup", args.warmup)?;
    let mut control =
        Client::connect_with(&address, &options).with_context(|| format!("cannot connect to {address}"))?;
    let server_agent = control.server_agent().map(str::to_owned);
    let (persons, graph_text, load_time) = prepare_graph(&mut control, &args)?;
    // The server's resident memory once the graph is in (before any run adds to it), right
    // away and again after RSS_SETTLE, the same wait for every server.
    let rss_after_load = load_time.and(args.server_pid).and_then(run::process_rss);
    let rss_settled = rss_after_load.and(args.server_pid).and_then(|pid| {
        std::thread::sleep(RSS_SETTLE);
        run::process_rss(pid)
    });
    drop(control); // no GOODBYE: see run::drive

    let run_tag = chrono::Utc::now().timestamp() as u64;
    let mut outcomes = Vec::new();
    for &workload in &args.workloads {
        for &connections in &args.connections {
            let plan = run::Plan {
                address: address.clone(),
                options: ConnectOptions {
                    read_only: args.read_only,
                    ..options.clone()
                },
                workload,
                connections,
                warmup,
                duration,
                count: args.count,
                seed: args.seed,
                run_tag,
                persons,
                server_pid: args.server_pid,
                inline_parameters: args.inline_parameters,
            };
            let outcome = run::run(&plan)?;
            eprintln!(
                "{} x{}: {:.0} q/s, p50 {:.3} ms, p99 {:.3} ms, {} errors",
                workload.name(),
                connections,
                outcome.throughput(),
                outcome.latency_us.value_at_quantile(0.5) as f64 / 1000.0,
                outcome.latency_us.value_at_quantile(0.99) as f64 / 1000.0,
                outcome.errors
            );
            outcomes.push(outcome);
        }
    }

    let context = report::Context {
        address,
        server_agent,
        graph: graph_text,
        started: chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        settings: json!({
            "duration_s": duration.map(|d| d.as_secs_f64()),
            "count": args.count,
            "warmup_s": warmup.as_secs_f64(),
            "seed": args.seed,
            "database": args.database,
            "inline_parameters": args.inline_parameters,
        }),
        load_s: load_time.map(|t| t.as_secs_f64()),
        server_rss_after_load: rss_after_load,
        server_rss_settled: rss_settled,
    };
    let document = report::json(&context, &outcomes);
    if let Some(path) = &args.output {
        std::fs::write(path, serde_json::to_string_pretty(&document)? + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&document)?);
    } else {
        print!("{}", report::table(&context, &outcomes));
    }
    if outcomes.iter().any(|o| o.errors > 0) {
        std::process::exit(1);
    }
    Ok(())
}

/// Makes sure the graph is there; returns the number of persons to draw ids from, a
/// line describing the graph, and how long loading it took when this run loaded it.
fn prepare_graph(client: &mut Client, args: &BenchArgs) -> anyhow::Result<(u32, String, Option<Duration>)> {
    let spec = GraphSpec {
        persons: args.persons,
        edges: args.edges,
        seed: args.seed,
    };
    let standard = format!(
        "standard graph, seed {}: {} persons, {} KNOWS edges (as shared/bench/gen_graph.py draws it)",
        spec.seed, spec.persons, spec.edges
    );
    let (persons, edges) = graph::count(client)?;
    let load = match args.graph {
        GraphSource::Existing if persons == 0 => bail!("--graph existing: the server holds no :Person nodes"),
        GraphSource::Existing => {
            let persons = u32::try_from(persons).context("more persons than ids can be drawn for")?;
            return Ok((
                persons,
                format!("as found: {persons} persons, {edges} KNOWS edges"),
                None,
            ));
        }
        GraphSource::Load | GraphSource::Auto if persons == 0 => true,
        // Persons that earlier create runs added have ids above the standard ones.
        GraphSource::Auto if graph::count_standard(client, spec.persons)? == i64::from(spec.persons) => false,
        _ => bail!(
            "the server already holds {persons} persons, which are not the standard graph of {} \
             (ids 0..{}): use --graph existing to run on them, or start from an empty database",
            spec.persons,
            spec.persons
        ),
    };
    if load {
        eprintln!("drawing the {standard}");
        let graph = Graph::generate(spec)?;
        eprintln!("loading it in batches of {}", graph::BATCH);
        let took = graph::load(client, &graph)?;
        return Ok((spec.persons, standard, Some(took)));
    }
    eprintln!("using the graph already loaded ({persons} persons, {edges} KNOWS edges)");
    Ok((spec.persons, standard, None))
}

/// A non-negative, finite number of seconds.
fn seconds(flag: &str, value: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| anyhow::anyhow!("{flag} {value}: expected a number of seconds ≥ 0"))
}
