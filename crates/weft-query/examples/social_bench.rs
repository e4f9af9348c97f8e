//! In-process query benchmark on the shared synthetic social graph.
//!
//! `cargo run --release -p weft-query --example social_bench -- DIR [SECONDS_PER_QUERY]`
//! where DIR holds `persons.csv` and `knows.csv` from `../shared/bench/gen_graph.py`.
//! Loads the graph through Cypher (UNWIND batches with an index on `:Person(id)`), then
//! runs each query with seeded uniform start ids for a bounded time, and reports rows/s
//! and latency percentiles: the standard workload (point, hop1, hop2, agg), a top-k of a
//! filtered label scan (top), and one-hop aggregations over every KNOWS relationship
//! (deg, pairs, fof).
//!
//! Two comparisons in the same run: the baseline is the same work done directly on the
//! storage API (no parsing, planning or expression evaluation), so the ratio shows what
//! the query engine costs; and for the shapes the column path runs, the same query with
//! a `WITH` that keeps it on the row path, so the speedup shows what the column path
//! gains. `WEFT_BENCH_ONLY=hop2` runs one query only (for profiling).

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};
use weft_common::Value;
use weft_query::Engine;
use weft_storage::{Direction, IsolationLevel};

// The allocator the server uses (see DEPENDENCIES.md), so figures match what users get.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BATCH: usize = 5_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args.first().ok_or("usage: social_bench DIR [SECONDS_PER_QUERY]")?;
    let budget = Duration::from_secs_f64(args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(3.0));
    let engine = Engine::new();
    // As `weft serve` does with its default --workers: one scan thread per CPU.
    engine.set_scan_threads(std::thread::available_parallelism().map_or(1, |n| n.get()));
    let persons = load(&engine, dir)?;

    // Name, query, and for the shapes the column path runs, the same query kept on the
    // row path by a `WITH` (measured beside it in the same run).
    let queries: [(&str, &str, Option<&str>); 8] = [
        ("point", "MATCH (p:Person {id: $id}) RETURN p.name", None),
        (
            "hop1",
            "MATCH (a:Person {id: $id})-[:KNOWS]->(b:Person) RETURN count(b)",
            None,
        ),
        (
            "hop2",
            "MATCH (a:Person {id: $id})-[:KNOWS]->(:Person)-[:KNOWS]->(c:Person) RETURN count(DISTINCT c)",
            None,
        ),
        (
            "agg",
            "MATCH (p:Person) RETURN p.age AS age, count(*) AS c ORDER BY age",
            Some("MATCH (p:Person) WITH p RETURN p.age AS age, count(*) AS c ORDER BY age"),
        ),
        (
            "top",
            "MATCH (p:Person) WHERE p.age < 30 RETURN p.name AS name, p.id AS id ORDER BY name DESC, id LIMIT 10",
            Some("MATCH (p:Person) WHERE p.age < 30 WITH p RETURN p.name AS name, p.id AS id ORDER BY name DESC, id LIMIT 10"),
        ),
        (
            "deg",
            "MATCH (a:Person)-[:KNOWS]->(b) RETURN count(*)",
            Some("MATCH (a:Person)-[:KNOWS]->(b) WITH a, b RETURN count(*)"),
        ),
        (
            "pairs",
            "MATCH (a:Person)-[:KNOWS]->(b:Person) WHERE a.age < b.age RETURN count(*)",
            Some("MATCH (a:Person)-[:KNOWS]->(b:Person) WHERE a.age < b.age WITH a, b RETURN count(*)"),
        ),
        (
            "fof",
            "MATCH (a:Person)-[:KNOWS]->(b:Person) RETURN b.age AS age, count(*) AS c",
            Some("MATCH (a:Person)-[:KNOWS]->(b:Person) WITH a, b RETURN b.age AS age, count(*) AS c"),
        ),
    ];
    println!(
        "{:<6} {:>10} {:>10} {:>10} {:>10} {:>12} {:>9} {:>12} {:>9}",
        "query", "queries/s", "p50 us", "p99 us", "rows/s", "baseline q/s", "ratio", "row p50 us", "speedup"
    );
    let only = std::env::var("WEFT_BENCH_ONLY").ok();
    for (name, text, rows_text) in queries
        .into_iter()
        .filter(|(n, _, _)| only.as_deref().is_none_or(|o| o == *n))
    {
        let run = |text: &str| {
            measure(budget, persons, |id| {
                let params = BTreeMap::from([("id".to_owned(), Value::Int(id))]);
                let result = engine.execute(text, &params).map_err(|e| e.to_string())?;
                Ok(result.rows.len())
            })
        };
        let engine_run = run(text)?;
        let baseline = measure(budget, persons, |id| direct(&engine, name, id))?;
        let row_path = rows_text.map(run).transpose()?;
        println!(
            "{:<6} {:>10.0} {:>10.0} {:>10.0} {:>10.0} {:>12.0} {:>9.2} {:>12} {:>9}",
            name,
            engine_run.qps,
            engine_run.p50_us,
            engine_run.p99_us,
            engine_run.rows_per_s,
            baseline.qps,
            engine_run.qps / baseline.qps,
            row_path.as_ref().map_or("-".to_owned(), |r| format!("{:.0}", r.p50_us)),
            row_path
                .as_ref()
                .map_or("-".to_owned(), |r| format!("{:.2}", engine_run.qps / r.qps)),
        );
    }
    Ok(())
}

/// Loads persons and KNOWS edges through Cypher; returns the number of persons.
fn load(engine: &Engine, dir: &str) -> Result<i64, Box<dyn std::error::Error>> {
    let started = Instant::now();
    engine.execute("CREATE INDEX ON :Person(id)", &BTreeMap::new())?;
    let persons = std::fs::read_to_string(format!("{dir}/persons.csv"))?;
    let rows: Vec<Value> = persons
        .lines()
        .skip(1)
        .map(|line| {
            let mut f = line.splitn(3, ',');
            let id = f.next().unwrap_or("0").parse::<i64>().unwrap_or(0);
            let name = f.next().unwrap_or("").to_owned();
            let age = f.next().unwrap_or("0").parse::<i64>().unwrap_or(0);
            Value::Map(BTreeMap::from([
                ("id".to_owned(), Value::Int(id)),
                ("name".to_owned(), Value::String(name)),
                ("age".to_owned(), Value::Int(age)),
            ]))
        })
        .collect();
    let count = rows.len() as i64;
    for chunk in rows.chunks(BATCH) {
        let params = BTreeMap::from([("rows".to_owned(), Value::List(chunk.to_vec()))]);
        engine.execute(
            "UNWIND $rows AS r CREATE (:Person {id: r.id, name: r.name, age: r.age})",
            &params,
        )?;
    }
    let knows = std::fs::read_to_string(format!("{dir}/knows.csv"))?;
    let edges: Vec<Value> = knows
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<i64> = line.split(',').map(|x| x.parse().unwrap_or(0)).collect();
            Value::Map(BTreeMap::from([
                ("s".to_owned(), Value::Int(f[0])),
                ("d".to_owned(), Value::Int(f[1])),
                ("since".to_owned(), Value::Int(*f.get(2).unwrap_or(&0))),
            ]))
        })
        .collect();
    for chunk in edges.chunks(BATCH) {
        let params = BTreeMap::from([("rows".to_owned(), Value::List(chunk.to_vec()))]);
        engine.execute(
            "UNWIND $rows AS r MATCH (a:Person {id: r.s}), (b:Person {id: r.d}) CREATE (a)-[:KNOWS {since: r.since}]->(b)",
            &params,
        )?;
    }
    engine.storage().collect_garbage();
    eprintln!(
        "loaded {count} persons and {} edges in {:.1?}",
        edges.len(),
        started.elapsed()
    );
    Ok(count)
}

struct Figures {
    qps: f64,
    p50_us: f64,
    p99_us: f64,
    rows_per_s: f64,
}

/// Runs `f` on seeded uniform ids until the budget is spent (at most 1M calls).
fn measure(
    budget: Duration,
    persons: i64,
    mut f: impl FnMut(i64) -> Result<usize, String>,
) -> Result<Figures, Box<dyn std::error::Error>> {
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut latencies = Vec::new();
    let mut rows = 0usize;
    let started = Instant::now();
    while started.elapsed() < budget && latencies.len() < 1_000_000 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let t = Instant::now();
        rows += f((rng % persons as u64) as i64)?;
        latencies.push(t.elapsed());
    }
    let total = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e6;
    Ok(Figures {
        qps: latencies.len() as f64 / total,
        p50_us: pct(0.5),
        p99_us: pct(0.99),
        rows_per_s: rows as f64 / total,
    })
}

/// The same work as each query, written directly against the storage API.
fn direct(engine: &Engine, name: &str, id: i64) -> Result<usize, String> {
    let s = engine.storage();
    let txn = s.begin(IsolationLevel::SnapshotIsolation);
    let person = s.find_label("Person").ok_or("no Person label")?;
    let (id_key, knows) = (
        s.find_property("id").ok_or("no id")?,
        s.find_edge_type("KNOWS").ok_or("no KNOWS")?,
    );
    let start = || txn.vertices_with_property(person, id_key, &Value::Int(id));
    let out = |v| txn.edges(v, Direction::Out, &[knows]).unwrap_or_default();
    Ok(match name {
        "point" => start()
            .iter()
            .filter_map(|v| txn.vertex_property(*v, s.find_property("name")?).ok())
            .count(),
        "hop1" => {
            let _count: usize = start().into_iter().map(|a| out(a).len()).sum();
            1
        }
        "hop2" => {
            let mut seen = HashSet::new();
            for a in start() {
                for e in out(a) {
                    seen.extend(out(e.to).into_iter().map(|f| f.to));
                }
            }
            1
        }
        "deg" => {
            let mut count = 0;
            for a in txn.vertices_with_label(person) {
                count += out(a).len();
            }
            usize::from(count > 0)
        }
        "pairs" | "fof" => {
            let age = s.find_property("age").ok_or("no age")?;
            let age_of = |v| match txn.vertex_property(v, age) {
                Ok(Some(Value::Int(a))) => Some(a),
                _ => None,
            };
            let persons: HashSet<_> = txn.vertices_with_label(person).into_iter().collect();
            let mut groups: BTreeMap<Option<i64>, i64> = BTreeMap::new();
            for a in &persons {
                let near = age_of(*a);
                for e in out(*a) {
                    if !persons.contains(&e.to) {
                        continue;
                    }
                    let far = age_of(e.to);
                    match name {
                        "pairs" if near.zip(far).is_some_and(|(n, f)| n < f) => *groups.entry(None).or_default() += 1,
                        "pairs" => {}
                        _ => *groups.entry(far).or_default() += 1,
                    }
                }
            }
            groups.len()
        }
        "top" => {
            let (age, name, id) = (
                s.find_property("age").ok_or("no age")?,
                s.find_property("name").ok_or("no name")?,
                id_key,
            );
            let mut rows: Vec<(String, i64)> = Vec::new();
            for v in txn.vertices_with_label(person) {
                if let Ok(Some(Value::Int(a))) = txn.vertex_property(v, age) {
                    if a < 30 {
                        if let (Ok(Some(Value::String(n))), Ok(Some(Value::Int(i)))) =
                            (txn.vertex_property(v, name), txn.vertex_property(v, id))
                        {
                            rows.push((n, i));
                        }
                    }
                }
            }
            rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            rows.truncate(10);
            rows.len()
        }
        _ => {
            let age = s.find_property("age").ok_or("no age")?;
            let mut groups: BTreeMap<i64, i64> = BTreeMap::new();
            for v in txn.vertices_with_label(person) {
                if let Ok(Some(Value::Int(a))) = txn.vertex_property(v, age) {
                    *groups.entry(a).or_default() += 1;
                }
            }
            groups.len()
        }
    })
}
