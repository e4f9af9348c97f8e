//! What a query returns to its caller: columns, materialised rows and write statistics.
//!
//! Result values are self-contained (nodes carry their labels and properties as of the
//! query), so they outlive the transaction and are what the Bolt layer serialises.

use std::collections::BTreeMap;
use weft_common::spatial::Point;
use weft_common::temporal::{Date, Duration, LocalDateTime, LocalTime, ZonedDateTime, ZonedTime};

/// A node as returned to a client.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub id: u64,
    pub labels: Vec<String>,
    pub properties: BTreeMap<String, ResultValue>,
}

/// A relationship as returned to a client.
#[derive(Clone, Debug, PartialEq)]
pub struct Relationship {
    pub id: u64,
    pub start: u64,
    pub end: u64,
    pub rel_type: String,
    pub properties: BTreeMap<String, ResultValue>,
}

/// A path: `nodes.len() == relationships.len() + 1`; relationship `i` joins nodes `i`
/// and `i + 1` in either stored direction.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    pub nodes: Vec<Node>,
    pub relationships: Vec<Relationship>,
}

/// One value of a result row.
#[derive(Clone, Debug, PartialEq)]
pub enum ResultValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    List(Vec<ResultValue>),
    Map(BTreeMap<String, ResultValue>),
    Date(Date),
    LocalTime(LocalTime),
    ZonedTime(ZonedTime),
    LocalDateTime(LocalDateTime),
    ZonedDateTime(ZonedDateTime),
    Duration(Duration),
    Point(Point),
    Node(Node),
    Relationship(Relationship),
    Path(Path),
}

/// Counts of what a query changed (the TCK's side effects, the drivers' counters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueryStats {
    pub nodes_created: u64,
    pub nodes_deleted: u64,
    pub relationships_created: u64,
    pub relationships_deleted: u64,
    pub properties_set: u64,
    pub properties_removed: u64,
    pub labels_added: u64,
    pub labels_removed: u64,
    pub indexes_added: u64,
    pub indexes_removed: u64,
    pub constraints_added: u64,
    pub constraints_removed: u64,
}

/// Where a count lives in [`QueryStats`].
type CountField = fn(&mut QueryStats) -> &mut u64;

/// Neo4j's counter names, each with the count it reads; `properties-set` also carries
/// removed properties (removing one sets it to null, as Neo4j reports it).
const NEO4J_COUNTERS: [(&str, CountField); 11] = [
    ("nodes-created", |s| &mut s.nodes_created),
    ("nodes-deleted", |s| &mut s.nodes_deleted),
    ("relationships-created", |s| &mut s.relationships_created),
    ("relationships-deleted", |s| &mut s.relationships_deleted),
    ("properties-set", |s| &mut s.properties_set),
    ("labels-added", |s| &mut s.labels_added),
    ("labels-removed", |s| &mut s.labels_removed),
    ("indexes-added", |s| &mut s.indexes_added),
    ("indexes-removed", |s| &mut s.indexes_removed),
    ("constraints-added", |s| &mut s.constraints_added),
    ("constraints-removed", |s| &mut s.constraints_removed),
];

impl QueryStats {
    /// The counts under Neo4j's names, in Neo4j's order (zeros included).
    pub fn neo4j_counters(&self) -> impl Iterator<Item = (&'static str, u64)> {
        let mut merged = *self;
        merged.properties_set += merged.properties_removed;
        NEO4J_COUNTERS
            .into_iter()
            .map(move |(name, field)| (name, *field(&mut merged)))
    }

    /// Sets the count Neo4j calls `name`; false for a name it does not have.
    pub fn set_neo4j_counter(&mut self, name: &str, count: u64) -> bool {
        match NEO4J_COUNTERS.iter().find(|(known, _)| *known == name) {
            Some((_, field)) => {
                *field(self) = count;
                true
            }
            None => false,
        }
    }

    /// True when the counts show a data write (nodes, relationships, properties or
    /// labels), not only index or constraint changes.
    pub fn writes_data(&self) -> bool {
        let data = QueryStats {
            indexes_added: 0,
            indexes_removed: 0,
            constraints_added: 0,
            constraints_removed: 0,
            ..*self
        };
        data != QueryStats::default()
    }
}

/// A finished query's output.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<ResultValue>>,
    pub stats: QueryStats,
}

#[cfg(test)]
mod counter_tests {
    use super::QueryStats;

    #[test]
    fn neo4j_counters_read_back_and_merge_removed_properties() {
        let stats = QueryStats {
            nodes_created: 2,
            properties_set: 3,
            properties_removed: 1,
            indexes_added: 1,
            ..QueryStats::default()
        };
        let counters: Vec<_> = stats.neo4j_counters().filter(|(_, n)| *n > 0).collect();
        assert_eq!(
            counters,
            [("nodes-created", 2), ("properties-set", 4), ("indexes-added", 1)]
        );
        let mut back = QueryStats::default();
        assert!(counters.iter().all(|(name, n)| back.set_neo4j_counter(name, *n)));
        assert!(!back.set_neo4j_counter("made-up", 1));
        assert_eq!((back.nodes_created, back.properties_set, back.indexes_added), (2, 4, 1));
    }
}
