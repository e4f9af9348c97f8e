//! Measures durable commit throughput and recovery speed, each beside the raw rate of the
//! disk it runs on, measured in the same run.
//!
//! `cargo run --release -p weft-storage --example durability_bench -- [flags]`
//! (`bash bench/durability.sh` runs it and cleans up.)
//!
//! 1. Commits: C client threads (`--clients 1,8,32`) each run single-vertex transactions
//!    (create a vertex, add a label, set 2 properties, commit) for `--seconds` against a
//!    storage opened by `Durability::open` in a fresh data directory, under the sync
//!    policies `always` and `off`. Reports commits/s, p50/p99 latency of the `commit()`
//!    call, and the WAL writer's records, batches and fsyncs over the window. Beside it, the
//!    raw fsync rate: append 100 bytes + `fdatasync` (what the writer calls) in a loop.
//! 2. Recovery: builds `--vertices` vertices (a label and an integer property each) and
//!    `--edges` edges (one type, random ends, no properties) in transactions of 10k objects
//!    under the policy `off`, then a label, a label+property and an edge-type index over
//!    them (timed; recovery fills the label+property one again, the other two are
//!    declarations over member sets kept anyway), closes, then times `Durability::open` recovering from the WAL
//!    only, takes a snapshot, closes, and times `Durability::open` recovering from the
//!    snapshot. Beside it, the sequential read rate of the WAL files just written (1 MiB
//!    reads). When `/proc/sys/vm/drop_caches` is writable, the page cache is dropped before
//!    the read and before each recovery (cold); otherwise every figure is from the cache.
//! 3. Snapshot under load (with 2): the recovered graph reopened under the policy
//!    `always`, 8 client threads committing as in 1; the p50/p99 of `commit()` while a
//!    snapshot of the whole graph is written, beside the same figures over as long a
//!    window without one (the goal: p99 within 2×).
//!
//! Everything goes under `--dir` (default `target/durability-bench`), removed at the end
//! unless `--keep`. `--under-load-only N` runs step 3 alone, N times, on the `recovery`
//! directory a `--keep` run left under `--dir` (for trying changes to the snapshot writer).
//! `--recover-only N` opens that directory N times (cold when it may drop the page cache)
//! and prints each recovery's time, for profiling recovery on its own.
//! Prints markdown tables on stdout, progress on stderr. Uses mimalloc, as `weft serve` does.

use std::error::Error;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use weft_storage::durability::{Durability, DurabilityConfig, RecoveryReport, SyncPolicy, WalStats};
use weft_storage::{Gid, IsolationLevel, Storage, Value};

// The server's allocator, so that write-path figures match it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Res<T> = Result<T, Box<dyn Error>>;

/// Objects per transaction while building the recovery database.
const BUILD_BATCH: u64 = 10_000;

struct Args {
    dir: PathBuf,
    seconds: f64,
    fsync_seconds: f64,
    clients: Vec<usize>,
    vertices: u64,
    edges: u64,
    commits: bool,
    recovery: bool,
    drop_caches: bool,
    /// Leave the data directory in place (bench/durability.sh serves it, then removes it).
    keep: bool,
    /// Run only the snapshot-under-load step, this many times, on a kept directory.
    under_load_only: u32,
    /// Only recover the kept directory, this many times.
    recover_only: u32,
}

fn parse_args() -> Res<Args> {
    let mut args = Args {
        dir: PathBuf::from("target/durability-bench"),
        seconds: 3.0,
        fsync_seconds: 2.0,
        clients: vec![1, 8, 32],
        vertices: 1_000_000,
        edges: 10_000_000,
        commits: true,
        recovery: true,
        drop_caches: true,
        keep: false,
        under_load_only: 0,
        recover_only: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--quick" => {
                (args.seconds, args.fsync_seconds) = (1.0, 1.0);
                (args.vertices, args.edges) = (20_000, 200_000);
            }
            "--dir" => args.dir = PathBuf::from(value()?),
            "--seconds" => args.seconds = value()?.parse()?,
            "--fsync-seconds" => args.fsync_seconds = value()?.parse()?,
            "--clients" => args.clients = value()?.split(',').map(str::parse).collect::<Result<_, _>>()?,
            "--vertices" => args.vertices = value()?.parse()?,
            "--edges" => args.edges = value()?.parse()?,
            "--no-commits" => args.commits = false,
            "--no-recovery" => args.recovery = false,
            "--no-drop-caches" => args.drop_caches = false,
            "--keep" => args.keep = true,
            "--under-load-only" => args.under_load_only = value()?.parse()?,
            "--recover-only" => args.recover_only = value()?.parse()?,
            _ => return Err(format!("unknown flag {flag}; see the doc comment of {}", file!()).into()),
        }
    }
    // The directory it reads was left by an earlier run; it stays for the next.
    args.keep |= args.under_load_only > 0 || args.recover_only > 0;
    if args.vertices == 0 {
        return Err("--vertices must be at least 1".into());
    }
    Ok(args)
}

fn main() -> Res<()> {
    let args = parse_args()?;
    std::fs::create_dir_all(&args.dir)?;
    let outcome = run(&args);
    if args.keep {
        return outcome;
    }
    let cleanup = std::fs::remove_dir_all(&args.dir);
    outcome?;
    Ok(cleanup?)
}

fn run(args: &Args) -> Res<()> {
    if args.under_load_only > 0 {
        for _ in 0..args.under_load_only {
            snapshot_under_load(&args.dir.join("recovery"))?.print();
        }
        return Ok(());
    }
    for _ in 0..args.recover_only {
        let (r, durability) = recover(&args.dir.join("recovery"), args, "kept directory", 0, 0)?;
        let objects = durability.storage().approx_vertex_count() + durability.storage().approx_edge_count();
        let secs = r.report.elapsed.as_secs_f64();
        println!(
            "recovered {objects} objects in {secs:.2} s ({:.0} objects/s; snapshot: {}, {} WAL records)",
            objects as f64 / secs,
            r.report.snapshot.is_some(),
            r.report.wal_records
        );
    }
    if args.recover_only > 0 {
        return Ok(());
    }
    println!("data directory: {} ({})", args.dir.display(), filesystem(&args.dir));
    if args.commits {
        commit_section(args)?;
    }
    if args.recovery {
        recovery_section(args)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Durable commits

struct CommitRow {
    policy: &'static str,
    clients: usize,
    commits: u64,
    seconds: f64,
    p50_us: f64,
    p99_us: f64,
    wal: WalStats,
}

fn commit_section(args: &Args) -> Res<()> {
    eprintln!("raw fsync loop for {} s", args.fsync_seconds);
    let fsyncs_per_s = fsync_rate(&args.dir, args.fsync_seconds)?;
    let mut rows = Vec::new();
    for (policy, sync) in [("always", SyncPolicy::Always), ("off", SyncPolicy::Off)] {
        for &clients in &args.clients {
            eprintln!("commits: policy {policy}, {clients} clients, {} s", args.seconds);
            rows.push(commit_run(&args.dir, policy, sync, clients, args.seconds)?);
        }
    }
    println!();
    println!("Raw fsync rate (append 100 B + fdatasync, same file system): {fsyncs_per_s:.0} fsyncs/s");
    println!();
    println!("| sync | clients | commits/s | p50 µs | p99 µs | WAL records | batches | fsyncs | WAL fsyncs/s | commits/fsync | commits/s ÷ raw fsyncs/s |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        let rate = r.commits as f64 / r.seconds;
        let per_fsync = match r.wal.fsyncs {
            0 => "–".to_string(),
            n => format!("{:.1}", r.wal.records as f64 / n as f64),
        };
        println!(
            "| {} | {} | {:.0} | {:.0} | {:.0} | {} | {} | {} | {:.0} | {} | {:.2} |",
            r.policy,
            r.clients,
            rate,
            r.p50_us,
            r.p99_us,
            r.wal.records,
            r.wal.batches,
            r.wal.fsyncs,
            r.wal.fsyncs as f64 / r.seconds,
            per_fsync,
            rate / fsyncs_per_s
        );
    }
    Ok(())
}

/// Appends 100 bytes and fdatasyncs, repeatedly, for `seconds`: fsyncs per second.
fn fsync_rate(dir: &Path, seconds: f64) -> Res<f64> {
    let path = dir.join("fsync-probe");
    let mut file = OpenOptions::new().create(true).append(true).open(&path)?;
    let record = [0x5au8; 100];
    let (started, mut count) = (Instant::now(), 0u64);
    while started.elapsed().as_secs_f64() < seconds {
        file.write_all(&record)?;
        file.sync_data()?;
        count += 1;
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    std::fs::remove_file(&path)?;
    Ok(rate)
}

/// One measured window of `clients` threads committing single-vertex transactions.
fn commit_run(root: &Path, policy: &'static str, sync: SyncPolicy, clients: usize, seconds: f64) -> Res<CommitRow> {
    let dir = root.join(format!("commits-{policy}-{clients}"));
    let mut config = DurabilityConfig::new(&dir);
    config.wal_sync = sync;
    let durability = Durability::open(config)?;
    let storage = durability.storage().clone();
    // One commit first, so the window does not include creating the first segment.
    one_vertex(&storage, u64::MAX, 0)?;
    let before = durability.info()?.wal;
    let stop = Arc::new(AtomicBool::new(false));
    let clients_running = run_clients(&storage, clients, &stop);
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut latencies: Vec<u32> = clients_running.join()?.into_iter().map(|(_, nanos)| nanos).collect();
    let elapsed = started.elapsed().as_secs_f64();
    let after = durability.info()?.wal;
    durability.close(false)?;
    drop((storage, durability));
    std::fs::remove_dir_all(&dir)?;
    latencies.sort_unstable();
    Ok(CommitRow {
        policy,
        clients,
        commits: latencies.len() as u64,
        seconds: elapsed,
        p50_us: percentile(&latencies, 0.50),
        p99_us: percentile(&latencies, 0.99),
        wal: WalStats {
            records: after.records - before.records,
            batches: after.batches - before.batches,
            fsyncs: after.fsyncs - before.fsyncs,
            dir_fsyncs: after.dir_fsyncs - before.dir_fsyncs,
            bytes: after.bytes - before.bytes,
            segments_created: after.segments_created - before.segments_created,
        },
    })
}

/// Each commit's start and latency (ns), as one client thread recorded them.
type Latencies = Result<Vec<(Instant, u32)>, String>;

/// Client threads committing [`one_vertex`] transactions until `stop` is set.
struct Clients(Vec<std::thread::JoinHandle<Latencies>>);

impl Clients {
    /// Every commit's start and latency (ns), once every client stopped.
    fn join(self) -> Res<Vec<(Instant, u32)>> {
        let mut all = Vec::new();
        for thread in self.0 {
            all.extend(thread.join().map_err(|_| "a client thread panicked")??);
        }
        Ok(all)
    }
}

/// Starts `clients` committing threads; returns once all of them have begun.
fn run_clients(storage: &Storage, clients: usize, stop: &Arc<AtomicBool>) -> Clients {
    let barrier = Arc::new(Barrier::new(clients + 1));
    let threads = (0..clients as u64)
        .map(|client| {
            let (storage, barrier, stop) = (storage.clone(), barrier.clone(), stop.clone());
            std::thread::spawn(move || -> Latencies {
                barrier.wait();
                let mut latencies = Vec::with_capacity(1 << 16);
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let at = Instant::now();
                    let nanos = one_vertex(&storage, client, i).map_err(|e| e.to_string())?;
                    latencies.push((at, nanos));
                }
                Ok(latencies)
            })
        })
        .collect();
    barrier.wait();
    Clients(threads)
}

/// Creates one vertex with a label and 2 properties and commits; returns the nanoseconds
/// the `commit()` call took.
fn one_vertex(storage: &Storage, client: u64, i: u64) -> Result<u32, weft_storage::StorageError> {
    let (label, name, seq) = (
        storage.label("Client"),
        storage.property("name"),
        storage.property("seq"),
    );
    let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
    let vertex = txn.create_vertex()?;
    txn.add_label(vertex, label)?;
    txn.set_vertex_property(vertex, name, Value::from(format!("client-{client}-{i}")))?;
    txn.set_vertex_property(vertex, seq, Value::from(i as i64))?;
    let started = Instant::now();
    txn.commit()?;
    Ok(started.elapsed().as_nanos().min(u32::MAX as u128) as u32)
}

fn percentile(sorted_nanos: &[u32], q: f64) -> f64 {
    if sorted_nanos.is_empty() {
        return 0.0;
    }
    let at = ((sorted_nanos.len() - 1) as f64 * q).round() as usize;
    sorted_nanos[at] as f64 / 1e3
}

// ---------------------------------------------------------------------------------------
// Recovery

struct Recovered {
    source: &'static str,
    file_bytes: u64,
    units: u64,
    open_seconds: f64,
    report: RecoveryReport,
}

fn recovery_section(args: &Args) -> Res<()> {
    let dir = args.dir.join("recovery");
    let (build_seconds, index_seconds) = build(&dir, args.vertices, args.edges)?;
    let wal_files = files_in(&dir.join("wal"))?;
    let wal_bytes: u64 = wal_files.iter().map(|(_, len)| len).sum();

    // The disk's sequential read rate on the files just written, cold if we may drop the
    // page cache, then again warm.
    let cold = args.drop_caches && drop_caches();
    let (read_cold, _) = read_rate(&wal_files)?;
    let (read_warm, _) = read_rate(&wal_files)?;

    // (b) WAL only; then a snapshot of the recovered graph, which also checks its counts.
    let (wal, durability) = recover(&dir, args, "WAL", wal_bytes, args.vertices + args.edges)?;
    let wal_storage_check = durability.storage().approx_vertex_count();
    eprintln!("snapshot");
    let snap_started = Instant::now();
    let snapshot = durability.create_snapshot()?;
    let snap_write = snap_started.elapsed().as_secs_f64();
    durability.close(false)?;
    drop(durability);
    if snapshot.vertices != args.vertices || snapshot.edges != args.edges || wal_storage_check != args.vertices {
        return Err(format!(
            "recovered graph has {} vertices / {} edges, expected {} / {}",
            snapshot.vertices, snapshot.edges, args.vertices, args.edges
        )
        .into());
    }
    // (a) snapshot (and the WAL segment left after it, holding no newer records).
    let (snap, snap_durability) = recover(
        &dir,
        args,
        "snapshot",
        snapshot.bytes,
        snapshot.vertices + snapshot.edges,
    )?;
    if snap.report.snapshot.is_none() {
        return Err("recovery did not use the snapshot".into());
    }
    drop(snap_durability);
    let under_load = snapshot_under_load(&dir)?;

    let cache = if cold {
        "cold: page cache dropped before each"
    } else {
        "page cache (could not drop it)"
    };
    println!();
    println!(
        "Recovery of {} vertices + {} edges (built in {build_seconds:.1} s under sync off, {} objects per transaction; \
         then a label, a label+property and an edge-type index built over it in {index_seconds:.2} s; \
         snapshot written in {snap_write:.1} s). Disk: sequential read of the {:.0} MB of WAL files just written, 1 MiB reads: \
         {read_cold:.0} MB/s ({}), {read_warm:.0} MB/s warm. Recoveries: {cache}.",
        args.vertices,
        args.edges,
        BUILD_BATCH,
        wal_bytes as f64 / 1e6,
        if cold { "cold" } else { "cached" }
    );
    println!();
    println!(
        "| recover from | file MB | recovery s | open s | MB/s | objects/s | WAL records/s | MB/s ÷ disk read MB/s |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in [&wal, &snap] {
        let secs = r.report.elapsed.as_secs_f64();
        let mb_s = r.file_bytes as f64 / 1e6 / secs;
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.1} | {:.0} | {:.0} | {:.4} |",
            r.source,
            r.file_bytes as f64 / 1e6,
            secs,
            r.open_seconds,
            mb_s,
            r.units as f64 / secs,
            r.report.wal_records as f64 / secs,
            mb_s / read_cold
        );
    }
    println!();
    println!(
        "WAL recovery replayed {} records, {:.0} MB of record payloads ({:.0} MB/s of payload).",
        wal.report.wal_records,
        wal.report.wal_bytes as f64 / 1e6,
        wal.report.wal_bytes as f64 / 1e6 / wal.report.elapsed.as_secs_f64()
    );
    under_load.print();
    Ok(())
}

/// Commit latencies with and without a snapshot being written (see the module docs).
struct UnderLoad {
    snapshot_seconds: f64,
    quiet_seconds: f64,
    quiet: Vec<u32>,
    during: Vec<u32>,
}

impl UnderLoad {
    fn print(&self) {
        let quiet_p99 = percentile(&self.quiet, 0.99);
        println!();
        println!(
            "Snapshot under load: {LOAD_CLIENTS} clients committing (sync always) while a snapshot of the graph \
             is written ({:.1} s), and over as long a window without one.",
            self.snapshot_seconds
        );
        println!();
        println!("| window | commits/s | p50 µs | p99 µs | p99 ÷ p99 without |");
        println!("|---|---:|---:|---:|---:|");
        let windows = [
            ("without a snapshot", &self.quiet, self.quiet_seconds),
            ("while a snapshot is written", &self.during, self.snapshot_seconds),
        ];
        for (name, latencies, seconds) in windows {
            println!(
                "| {name} | {:.0} | {:.0} | {:.0} | {:.2} |",
                latencies.len() as f64 / seconds.max(1e-9),
                percentile(latencies, 0.50),
                percentile(latencies, 0.99),
                percentile(latencies, 0.99) / quiet_p99.max(1e-9)
            );
        }
    }
}

/// Committing clients while a snapshot is taken.
const LOAD_CLIENTS: usize = 8;

fn snapshot_under_load(dir: &Path) -> Res<UnderLoad> {
    eprintln!("snapshot under load: {LOAD_CLIENTS} clients");
    let durability = Durability::open(DurabilityConfig::new(dir))?;
    let storage = durability.storage().clone();
    // During: from the snapshot's start to its end, after a moment of load.
    let stop = Arc::new(AtomicBool::new(false));
    let clients = run_clients(&storage, LOAD_CLIENTS, &stop);
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    durability.create_snapshot()?;
    let ended = Instant::now();
    stop.store(true, Ordering::Relaxed);
    let mut during: Vec<u32> = clients
        .join()?
        .into_iter()
        .filter(|(at, _)| *at >= started && *at < ended)
        .map(|(_, nanos)| nanos)
        .collect();
    // Without: as long a window, no snapshot.
    let snapshot_seconds = (ended - started).as_secs_f64();
    let quiet_seconds = snapshot_seconds.max(0.5);
    let stop = Arc::new(AtomicBool::new(false));
    let clients = run_clients(&storage, LOAD_CLIENTS, &stop);
    std::thread::sleep(Duration::from_secs_f64(quiet_seconds));
    stop.store(true, Ordering::Relaxed);
    let mut quiet: Vec<u32> = clients.join()?.into_iter().map(|(_, nanos)| nanos).collect();
    durability.close(false)?;
    during.sort_unstable();
    quiet.sort_unstable();
    Ok(UnderLoad {
        snapshot_seconds,
        quiet_seconds,
        quiet,
        during,
    })
}

/// Builds the graph under the sync policy `off`, then three indexes over it, and closes;
/// returns the seconds each took (recovery rebuilds the indexes too).
fn build(dir: &Path, vertices: u64, edges: u64) -> Res<(f64, f64)> {
    let started = Instant::now();
    let mut config = DurabilityConfig::new(dir);
    config.wal_sync = SyncPolicy::Off;
    let durability = Durability::open(config)?;
    let storage = durability.storage();
    let (label, id, link) = (storage.label("Node"), storage.property("id"), storage.edge_type("LINK"));
    let mut done = 0;
    while done < vertices {
        let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
        for n in done..(done + BUILD_BATCH).min(vertices) {
            let gid = txn.create_vertex()?;
            txn.add_label(gid, label)?;
            txn.set_vertex_property(gid, id, Value::from(n as i64))?;
        }
        txn.commit()?;
        done = (done + BUILD_BATCH).min(vertices);
    }
    storage.collect_garbage();
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut done = 0;
    while done < edges {
        let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
        for _ in done..(done + BUILD_BATCH).min(edges) {
            txn.create_edge(Gid(next() % vertices), Gid(next() % vertices), link)?;
        }
        txn.commit()?;
        done = (done + BUILD_BATCH).min(edges);
        if done % 1_000_000 == 0 {
            storage.collect_garbage();
            eprintln!("built {done} edges");
        }
    }
    let built = started.elapsed().as_secs_f64();
    let indexing = Instant::now();
    storage.create_label_index("Node")?;
    storage.create_label_property_index("Node", "id")?;
    storage.create_edge_type_index("LINK")?;
    let indexed = indexing.elapsed().as_secs_f64();
    durability.close(false)?;
    Ok((built, indexed))
}

/// Times `Durability::open` on `dir` (after dropping the page cache when allowed).
fn recover(
    dir: &Path,
    args: &Args,
    source: &'static str,
    file_bytes: u64,
    units: u64,
) -> Res<(Recovered, Arc<Durability>)> {
    if args.drop_caches {
        drop_caches();
    }
    eprintln!("recovering from the {source}");
    let mut config = DurabilityConfig::new(dir);
    config.wal_sync = SyncPolicy::Off;
    let started = Instant::now();
    let durability = Durability::open(config)?;
    let open_seconds = started.elapsed().as_secs_f64();
    let recovered = Recovered {
        source,
        file_bytes,
        units,
        open_seconds,
        report: durability.recovery().clone(),
    };
    Ok((recovered, durability))
}

/// The regular files of `dir` with their sizes, in name order.
fn files_in(dir: &Path) -> Res<Vec<(PathBuf, u64)>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            files.push((entry.path(), entry.metadata()?.len()));
        }
    }
    files.sort();
    Ok(files)
}

/// Reads the files through a 1 MiB buffer: (MB/s, bytes).
fn read_rate(files: &[(PathBuf, u64)]) -> Res<(f64, u64)> {
    let mut buffer = vec![0u8; 1 << 20];
    let (started, mut total) = (Instant::now(), 0u64);
    for (path, _) in files {
        let mut file = File::open(path)?;
        loop {
            let n = file.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            total += n as u64;
        }
    }
    Ok((total as f64 / 1e6 / started.elapsed().as_secs_f64(), total))
}

/// Writes dirty pages back and drops the page cache; false when not permitted.
fn drop_caches() -> bool {
    let synced = std::process::Command::new("sync").status().is_ok_and(|s| s.success());
    synced && std::fs::write("/proc/sys/vm/drop_caches", "3").is_ok()
}

/// The file system type and device of `dir`, from `stat -f` and `df` (for the report).
fn filesystem(dir: &Path) -> String {
    let run = |cmd: &str, args: &[&str]| {
        std::process::Command::new(cmd)
            .args(args)
            .arg(dir)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let fs_type = run("stat", &["-f", "-c", "%T"]);
    let device = run("df", &["--output=source"])
        .lines()
        .last()
        .unwrap_or("?")
        .to_string();
    format!("file system {fs_type} on {device}")
}
