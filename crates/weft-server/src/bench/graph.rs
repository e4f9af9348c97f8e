//! The standard benchmark graph: drawn here exactly as `shared/bench/gen_graph.py` draws
//! it, and loaded into any Bolt server.
//!
//! Owns: the persons (`id`, `name`, `age`) and directed KNOWS edges (`since`) for a seed
//! and sizes — endpoints from Zipf-like weights over a shuffled order, no self loops, no
//! duplicates — the CSV text the Python script writes (for the byte-for-byte test), and
//! the load itself: the `:Person(id)` index, then UNWIND batches of literal maps (the
//! statements of the script's `load_unwind.cypherl`, which every Cypher server takes),
//! with progress on stderr and counts checked at the end.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::time::Instant;

use anyhow::{bail, Context};
use weft_bolt::BoltValue;
use weft_client::{Client, ClientError};

use super::pyrand::PyRandom;

const FIRST: [&str; 26] = [
    "Ana", "Ben", "Cleo", "Dan", "Eva", "Finn", "Gia", "Hugo", "Ivy", "Jon", "Kai", "Lea", "Max", "Nia", "Oto", "Pia",
    "Quin", "Rui", "Sara", "Tom", "Uma", "Vic", "Wen", "Xia", "Yan", "Zoe",
];
const LAST: [&str; 16] = [
    "Novak", "Horvat", "Kovac", "Smith", "Garcia", "Muller", "Rossi", "Kim", "Sato", "Silva", "Ivanov", "Nowak",
    "Jensen", "Dubois", "Costa", "Weber",
];
/// The script's default Zipf exponent.
const ALPHA: f64 = 0.8;
/// Rows per UNWIND statement, as in the script.
pub const BATCH: usize = 5000;

/// Sizes and seed of a standard graph.
#[derive(Clone, Copy, Debug)]
pub struct GraphSpec {
    pub persons: u32,
    pub edges: u32,
    pub seed: u64,
}

pub struct Person {
    pub name: String,
    pub age: i64,
}

pub struct Knows {
    pub src: u32,
    pub dst: u32,
    pub since: i64,
}

/// A drawn graph: person `i` has id `i`.
pub struct Graph {
    pub persons: Vec<Person>,
    pub knows: Vec<Knows>,
}

impl Graph {
    /// Draws the graph for `spec`, consuming the generator in the script's order.
    pub fn generate(spec: GraphSpec) -> anyhow::Result<Graph> {
        let n = spec.persons;
        if n < 2 {
            bail!("the graph needs at least 2 persons, got {n}");
        }
        let possible = u64::from(n) * u64::from(n - 1);
        if u64::from(spec.edges) > possible {
            bail!(
                "{n} persons have only {possible} distinct KNOWS pairs; {} asked",
                spec.edges
            );
        }
        let mut rng = PyRandom::new(spec.seed);
        let persons = (0..n)
            .map(|i| {
                let first = rng.choice(&FIRST);
                let last = rng.choice(&LAST);
                let age = rng.randint(18, 80);
                Person {
                    name: format!("{first} {last} {i}"),
                    age,
                }
            })
            .collect();
        let mut order: Vec<u32> = (0..n).collect();
        rng.shuffle(&mut order);
        let cumulative: Vec<f64> = (0..n)
            .scan(0.0, |sum, rank| {
                *sum += 1.0 / (f64::from(rank) + 1.0).powf(ALPHA);
                Some(*sum)
            })
            .collect();
        let wanted = spec.edges as usize;
        let mut seen = HashSet::with_capacity(wanted);
        let mut knows = Vec::with_capacity(wanted);
        while knows.len() < wanted {
            let need = wanted - knows.len();
            let srcs = rng.choices(&order, &cumulative, need + need / 10 + 16);
            let dsts = rng.choices(&order, &cumulative, srcs.len());
            for (&src, &dst) in srcs.iter().zip(&dsts) {
                if src == dst || !seen.insert((src, dst)) {
                    continue;
                }
                let since = 2000 + rng.randint(0, 25);
                knows.push(Knows { src, dst, since });
                if knows.len() == wanted {
                    break;
                }
            }
        }
        Ok(Graph { persons, knows })
    }

    /// `persons.csv` as the script writes it.
    #[cfg(test)]
    pub fn persons_csv(&self) -> String {
        let mut out = String::from("id,name,age\n");
        for (id, p) in self.persons.iter().enumerate() {
            let _ = writeln!(out, "{id},{},{}", p.name, p.age);
        }
        out
    }

    /// `knows.csv` as the script writes it.
    #[cfg(test)]
    pub fn knows_csv(&self) -> String {
        let mut out = String::from("src,dst,since\n");
        for k in &self.knows {
            let _ = writeln!(out, "{},{},{}", k.src, k.dst, k.since);
        }
        out
    }

    /// The person batches, as UNWIND statements over literal maps.
    pub fn person_statements(&self) -> impl Iterator<Item = String> + '_ {
        self.persons.chunks(BATCH).enumerate().map(|(batch, chunk)| {
            let mut rows = String::new();
            for (offset, p) in chunk.iter().enumerate() {
                let id = batch * BATCH + offset;
                let sep = if offset == 0 { "" } else { "," };
                let _ = write!(rows, "{sep}{{id:{id},name:{},age:{}}}", literal(&p.name), p.age);
            }
            format!("UNWIND [{rows}] AS r CREATE (:Person {{id: r.id, name: r.name, age: r.age}})")
        })
    }

    /// The edge batches, as UNWIND statements over literal maps.
    pub fn edge_statements(&self) -> impl Iterator<Item = String> + '_ {
        self.knows.chunks(BATCH).map(|chunk| {
            let mut rows = String::new();
            for (offset, k) in chunk.iter().enumerate() {
                let sep = if offset == 0 { "" } else { "," };
                let _ = write!(rows, "{sep}{{s:{},d:{},y:{}}}", k.src, k.dst, k.since);
            }
            format!(
                "UNWIND [{rows}] AS r MATCH (a:Person {{id: r.s}}), (b:Person {{id: r.d}}) \
                 CREATE (a)-[:KNOWS {{since: r.y}}]->(b)"
            )
        })
    }
}

/// A Cypher string literal in single quotes.
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// How many persons and KNOWS edges the server holds.
pub fn count(client: &mut Client) -> anyhow::Result<(i64, i64)> {
    let persons = single_integer(client, "MATCH (p:Person) RETURN count(p)", Vec::new())?;
    let edges = single_integer(
        client,
        "MATCH (:Person)-[k:KNOWS]->(:Person) RETURN count(k)",
        Vec::new(),
    )?;
    Ok((persons, edges))
}

/// How many persons have the ids of a standard graph of `persons`.
pub fn count_standard(client: &mut Client, persons: u32) -> anyhow::Result<i64> {
    let query = "MATCH (p:Person) WHERE p.id >= 0 AND p.id < $n RETURN count(p)";
    single_integer(
        client,
        query,
        vec![("n".into(), BoltValue::Integer(i64::from(persons)))],
    )
}

fn single_integer(client: &mut Client, query: &str, params: weft_bolt::messages::Dict) -> anyhow::Result<i64> {
    let result = client
        .run(query, &params)
        .with_context(|| format!("`{query}` failed"))?;
    match result.rows.first().and_then(|row| row.first()) {
        Some(BoltValue::Integer(n)) => Ok(*n),
        other => bail!("`{query}` returned {other:?}, not one integer"),
    }
}

/// Creates the `:Person(id)` index: Neo4j 5's form first, Memgraph's if that is refused.
pub fn create_index(client: &mut Client) -> anyhow::Result<()> {
    match client.run("CREATE INDEX FOR (p:Person) ON (p.id)", &Vec::new()) {
        Ok(_) => Ok(()),
        Err(ClientError::Query { .. }) => client
            .run("CREATE INDEX ON :Person(id)", &Vec::new())
            .map(drop)
            .context(
                "the server takes neither `CREATE INDEX FOR (p:Person) ON (p.id)` nor `CREATE INDEX ON :Person(id)`",
            ),
        Err(other) => Err(other.into()),
    }
}

/// Loads `graph` through `client`, printing progress to stderr, and checks the counts;
/// returns how long the load took (index and batches, not the count check).
pub fn load(client: &mut Client, graph: &Graph) -> anyhow::Result<std::time::Duration> {
    let started = Instant::now();
    create_index(client)?;
    let batches = graph.persons.len().div_ceil(BATCH) + graph.knows.len().div_ceil(BATCH);
    let mut last_report = Instant::now();
    let statements = graph.person_statements().chain(graph.edge_statements());
    for (done, statement) in statements.enumerate() {
        client
            .run(&statement, &Vec::new())
            .with_context(|| format!("loading batch {} of {batches}", done + 1))?;
        if last_report.elapsed().as_secs_f64() >= 2.0 || done + 1 == batches {
            eprintln!(
                "  loaded {}/{batches} batches in {:.1} s",
                done + 1,
                started.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
    }
    let took = started.elapsed();
    let expected = (graph.persons.len() as i64, graph.knows.len() as i64);
    let counted = count(client)?;
    if counted != expected {
        bail!(
            "after the load the server holds {} persons and {} KNOWS edges, expected {} and {}",
            counted.0,
            counted.1,
            expected.0,
            expected.1
        );
    }
    Ok(took)
}

#[cfg(test)]
mod tests {
    use super::{Graph, GraphSpec};

    /// The script beside the workspace, if this checkout has `shared/` next to it.
    fn script() -> Option<std::path::PathBuf> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench/gen_graph.py");
        path.exists().then_some(path)
    }

    #[test]
    fn draws_the_same_graph_as_gen_graph_py() {
        // Set up: the script's own output for a small graph (the shared folder sits
        // beside the workspace here and in CI).
        let script = script().expect("shared/bench/gen_graph.py beside the workspace");
        let dir = tempfile::tempdir().expect("tempdir");
        let status = std::process::Command::new("python3")
            .arg(&script)
            .args(["--persons", "3000", "--edges", "20000", "--seed", "7", "--out"])
            .arg(dir.path())
            .stdout(std::process::Stdio::null())
            .status()
            .expect("python3 runs");
        assert!(status.success());

        // Act
        let graph = Graph::generate(GraphSpec {
            persons: 3000,
            edges: 20_000,
            seed: 7,
        })
        .expect("generate");

        // Check: both CSV files byte for byte.
        let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).expect("csv");
        assert!(read("persons.csv") == graph.persons_csv(), "persons.csv differs");
        assert!(read("knows.csv") == graph.knows_csv(), "knows.csv differs");
    }

    #[test]
    fn refuses_sizes_that_cannot_be_drawn() {
        let too_many = GraphSpec {
            persons: 3,
            edges: 7,
            seed: 1,
        };
        assert!(Graph::generate(too_many).is_err());
    }

    #[test]
    fn statements_quote_names_and_cover_every_row() {
        let graph = Graph::generate(GraphSpec {
            persons: 12_000,
            edges: 11_000,
            seed: 42,
        })
        .expect("generate");
        let persons: Vec<String> = graph.person_statements().collect();
        let edges: Vec<String> = graph.edge_statements().collect();
        assert_eq!((persons.len(), edges.len()), (3, 3));
        assert!(persons[2].contains("{id:10000,name:'"));
        assert_eq!(super::literal("O'Brien \\"), "'O\\'Brien \\\\'");
    }
}
