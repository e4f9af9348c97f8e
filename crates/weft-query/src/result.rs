//! What a query returns to its caller: columns, materialised rows and write statistics.
//!
//! Result values are `weft_common`'s value tree with self-contained entities
//! ([`ResultValue`] is `Value<Materialised>`): nodes carry their labels and properties as
//! of the query, so they outlive the transaction and are what the Bolt layer serialises.

use std::collections::BTreeMap;
use std::fmt;

use weft_common::value::{cypher_name, Entities, Value};

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

/// Results' instance of the value tree: entities with their labels, type and properties.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Materialised;

/// One value of a result row.
pub type ResultValue = Value<Materialised>;

/// Rendered as Cypher writes patterns: `(#3:Person {name: 'Ann'})`, `[#7:KNOWS {}]`, paths
/// as their nodes and relationships in turn.
impl Entities for Materialised {
    type Node = Node;
    type Relationship = Relationship;
    type Path = Path;

    fn node_id(node: &Node) -> u64 {
        node.id
    }
    fn relationship_id(relationship: &Relationship) -> u64 {
        relationship.id
    }
    fn path_ids(path: &Path) -> Vec<u64> {
        let steps = path
            .relationships
            .iter()
            .zip(&path.nodes[1..])
            .flat_map(|(r, n)| [r.id, n.id]);
        path.nodes.first().map(|n| n.id).into_iter().chain(steps).collect()
    }
    fn fmt_node(node: &Node, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(#{}", node.id)?;
        for label in &node.labels {
            write!(f, ":{}", cypher_name(label))?;
        }
        write!(f, " {})", Value::Map(node.properties.clone()))
    }
    fn fmt_relationship(relationship: &Relationship, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let properties = Value::Map(relationship.properties.clone());
        write!(
            f,
            "[#{}:{} {properties}]",
            relationship.id,
            cypher_name(&relationship.rel_type)
        )
    }
    fn fmt_path(path: &Path, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<")?;
        for (i, node) in path.nodes.iter().enumerate() {
            if let Some(relationship) = i.checked_sub(1).and_then(|r| path.relationships.get(r)) {
                f.write_str("-")?;
                Materialised::fmt_relationship(relationship, f)?;
                f.write_str("-")?;
            }
            Materialised::fmt_node(node, f)?;
        }
        f.write_str(">")
    }
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

#[cfg(test)]
mod entity_tests {
    use super::*;

    fn node(id: u64, label: &str) -> Node {
        Node {
            id,
            labels: vec![label.to_string()],
            properties: [("name".to_string(), ResultValue::from("x"))].into(),
        }
    }

    #[test]
    fn materialised_entities_render_as_patterns_and_compare_by_id() {
        let knows = Relationship {
            id: 7,
            start: 1,
            end: 2,
            rel_type: "KNOWS".into(),
            properties: BTreeMap::new(),
        };
        let path = ResultValue::Path(Path {
            nodes: vec![node(1, "Person"), node(2, "odd label")],
            relationships: vec![knows],
        });
        assert_eq!(
            path.to_string(),
            "<(#1:Person {name: 'x'})-[#7:KNOWS {}]-(#2:`odd label` {name: 'x'})>"
        );
        let renamed = Node {
            labels: vec![],
            ..node(1, "Person")
        };
        assert_eq!(
            ResultValue::Node(node(1, "Person")).cypher_eq(&ResultValue::Node(renamed)),
            Some(true)
        );
        assert_eq!(
            Materialised::path_ids(match &path {
                ResultValue::Path(p) => p,
                _ => unreachable!(),
            }),
            [1, 7, 2]
        );
    }
}
