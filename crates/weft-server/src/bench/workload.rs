//! The workloads `weft bench` runs: the standard queries and how each draws its parameters.
//!
//! Owns: the query text of each workload (the same text on every server, from
//! `shared/bench/README.md`), its parameters — start ids uniform over the loaded persons,
//! new ids for creates above every loaded id and distinct per connection — and the
//! read/write mix. Promises: a connection's draws depend only on the seed, the workload
//! and the connection's number, so two servers get the same requests.

use weft_bolt::messages::Dict;
use weft_bolt::BoltValue;

use super::pyrand::PyRandom;

pub const POINT: &str = "MATCH (p:Person {id: $id}) RETURN p.name";
pub const HOP1: &str = "MATCH (a:Person {id: $id})-[:KNOWS]->(b:Person) RETURN count(b)";
pub const HOP2: &str = "MATCH (a:Person {id: $id})-[:KNOWS]->(:Person)-[:KNOWS]->(c:Person) RETURN count(DISTINCT c)";
pub const AGG: &str = "MATCH (p:Person) RETURN p.age AS age, count(*) AS c ORDER BY age";
pub const CREATE: &str = "CREATE (:Person {id: $id, name: $name, age: $age})";

/// Ids made by creates start here, far above any loaded person; connection `c` of a run
/// uses `CREATE_BASE + run_tag * 10^9 + c * 10^7 + n`.
const CREATE_BASE: i64 = 1_000_000_000_000;

/// One workload of the standard set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// Point lookup by indexed id.
    Point,
    /// Neighbours one hop out, counted.
    Hop1,
    /// Distinct persons two hops out, counted.
    Hop2,
    /// Persons by age: a scan of every person with grouping and ordering.
    Agg,
    /// One CREATE per transaction.
    Create,
    /// 80% point lookups, 10% one-hop reads, 10% creates.
    Mix,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::Point => "point",
            Workload::Hop1 => "hop1",
            Workload::Hop2 => "hop2",
            Workload::Agg => "agg",
            Workload::Create => "create",
            Workload::Mix => "mix",
        }
    }
}

/// The requests of one connection, drawn in a fixed order from its own generator.
pub struct Requests {
    workload: Workload,
    rng: PyRandom,
    persons: u32,
    next_create: i64,
    created: i64,
}

impl Requests {
    /// Connection `connection` of a run tagged `run_tag` (so that repeated runs against
    /// one server create distinct ids) over `persons` loaded persons.
    pub fn new(workload: Workload, seed: u64, run_tag: u64, connection: usize, persons: u32) -> Requests {
        let stream = seed ^ (run_tag << 32) ^ ((connection as u64) << 16) ^ workload as u64;
        Requests {
            workload,
            rng: PyRandom::new(stream),
            persons: persons.max(1),
            next_create: CREATE_BASE + (run_tag % 1000) as i64 * 1_000_000_000 + connection as i64 * 10_000_000,
            created: 0,
        }
    }

    /// The next query and its parameters.
    pub fn next(&mut self) -> (&'static str, Dict) {
        match self.workload {
            Workload::Point => (POINT, self.start_id()),
            Workload::Hop1 => (HOP1, self.start_id()),
            Workload::Hop2 => (HOP2, self.start_id()),
            Workload::Agg => (AGG, Vec::new()),
            Workload::Create => (CREATE, self.new_person()),
            Workload::Mix => match self.rng.below(10) {
                0 => (CREATE, self.new_person()),
                1 => (HOP1, self.start_id()),
                _ => (POINT, self.start_id()),
            },
        }
    }

    fn start_id(&mut self) -> Dict {
        let id = self.rng.below(self.persons);
        vec![("id".into(), BoltValue::Integer(i64::from(id)))]
    }

    fn new_person(&mut self) -> Dict {
        let id = self.next_create + self.created;
        self.created += 1;
        let age = self.rng.randint(18, 80);
        vec![
            ("id".into(), BoltValue::Integer(id)),
            ("name".into(), BoltValue::String(format!("new {id}"))),
            ("age".into(), BoltValue::Integer(age)),
        ]
    }
}

/// `query` with each `$name` replaced by its value from `params` as a Cypher literal (only
/// integers and strings, which is all the workloads send), for servers that cannot take
/// parameters. An unknown name is left as it is.
pub fn inline(query: &str, params: &Dict) -> String {
    let mut out = String::with_capacity(query.len() + 16);
    let mut rest = query;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..end];
        match params.iter().find(|(key, _)| key == name).map(|(_, value)| value) {
            Some(BoltValue::Integer(i)) => out.push_str(&i.to_string()),
            Some(BoltValue::String(s)) => out.push_str(&super::graph::literal(s)),
            _ => {
                out.push('$');
                out.push_str(name);
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::{inline, Requests, Workload, CREATE, POINT};

    #[test]
    fn inlined_parameters_are_literals() {
        let params = vec![
            ("id".to_string(), BoltValue::Integer(7)),
            ("name".to_string(), BoltValue::String("O'Neil".into())),
        ];
        assert_eq!(
            inline("CREATE (:P {id: $id, name: $name, x: $other})", &params),
            "CREATE (:P {id: 7, name: 'O\\'Neil', x: $other})"
        );
    }
    use weft_bolt::BoltValue;

    #[test]
    fn the_same_connection_draws_the_same_requests() {
        let draw = || {
            let mut r = Requests::new(Workload::Mix, 42, 1, 3, 1000);
            (0..50).map(|_| r.next()).collect::<Vec<_>>()
        };
        assert_eq!(draw(), draw());
    }

    #[test]
    fn start_ids_stay_among_the_persons_and_creates_above_them() {
        let mut r = Requests::new(Workload::Mix, 42, 1, 0, 100);
        for _ in 0..1000 {
            let (query, params) = r.next();
            let Some(BoltValue::Integer(id)) = params.first().map(|(_, v)| v.clone()) else {
                panic!("no id in {params:?}");
            };
            if query == CREATE {
                assert!(id >= 1_000_000_000_000);
            } else {
                assert!((0..100).contains(&id), "{query} {id}");
            }
        }
    }

    #[test]
    fn connections_create_distinct_ids() {
        let mut a = Requests::new(Workload::Create, 42, 1, 0, 100);
        let mut b = Requests::new(Workload::Create, 42, 1, 1, 100);
        assert_ne!(a.next().1, b.next().1);
        assert_eq!(Requests::new(Workload::Point, 42, 1, 0, 100).next().0, POINT);
    }
}
