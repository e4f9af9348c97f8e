//! The seam between the runner and a Cypher engine.
//!
//! Owns: the [`TckEngine`] trait — run one autocommit query, optionally register a TCK
//! test procedure, and take a [`GraphSnapshot`] for side-effect checks. The runner only
//! talks to this trait, so its tests use a fake engine and the real one lives in
//! [`crate::engine_adapter`]. Promises to implementors: each scenario gets a new engine
//! from an [`EngineFactory`], created on the worker thread that runs the scenario (so an
//! engine need not be `Send`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use weft_common::Value;
use weft_query::{QueryError, QueryResult, ResultValue};

use crate::compare::from_result;
use crate::gherkin::Table;

/// Query parameters by name.
pub type Params = BTreeMap<String, Value>;

/// Makes a fresh, empty engine for one scenario.
pub type EngineFactory = Arc<dyn Fn() -> Box<dyn TckEngine> + Send + Sync>;

/// What the runner needs from an engine.
pub trait TckEngine {
    /// Runs one query in its own transaction; errors surfacing while the result is
    /// consumed must be returned here too.
    fn execute(&self, query: &str, params: &Params) -> Result<QueryResult, QueryError>;

    /// Registers a fixed-table test procedure (`And there exists a procedure ...`):
    /// `signature` as written in the step, `table` with the header row first.
    fn register_procedure(&self, signature: &str, table: &Table) -> Result<(), String> {
        let _ = table;
        Err(format!("this engine cannot register test procedures ({signature})"))
    }

    /// The observable graph, for side-effect counting. The default reads it back with
    /// two queries, `MATCH (n) RETURN n` and `MATCH ()-[r]->() RETURN r`.
    fn snapshot(&self) -> Result<GraphSnapshot, String> {
        let mut snapshot = GraphSnapshot::default();
        let params = Params::new();
        let nodes = self
            .execute("MATCH (n) RETURN n", &params)
            .map_err(|e| format!("snapshot of nodes: {e}"))?;
        for value in nodes.rows.iter().flatten() {
            let ResultValue::Node(node) = value else {
                return Err(format!("snapshot: not a node: {value:?}"));
            };
            snapshot.add_node(node.id, &node.labels, &node.properties);
        }
        let query = "MATCH ()-[r]->() RETURN r";
        let rels = self
            .execute(query, &params)
            .map_err(|e| format!("snapshot of relationships: {e}"))?;
        for value in rels.rows.iter().flatten() {
            let ResultValue::Relationship(rel) = value else {
                return Err(format!("snapshot: not a relationship: {value:?}"));
            };
            snapshot.add_relationship(rel.id, &rel.properties);
        }
        Ok(snapshot)
    }
}

/// Which entity a property belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Entity {
    Node(u64),
    Relationship(u64),
}

/// The graph as later queries can observe it, reduced to what side effects count.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GraphSnapshot {
    pub nodes: BTreeSet<u64>,
    pub relationships: BTreeSet<u64>,
    /// (entity, key, value in TCK notation): changing a value is one removal plus one
    /// addition. Floats print with `{:?}`, so `1` and `1.0` differ.
    pub properties: BTreeSet<(Entity, String, String)>,
    /// Distinct label names used by any node.
    pub labels: BTreeSet<String>,
}

impl GraphSnapshot {
    /// Records a node with its labels and properties.
    pub fn add_node(&mut self, id: u64, labels: &[String], properties: &BTreeMap<String, ResultValue>) {
        self.nodes.insert(id);
        self.labels.extend(labels.iter().cloned());
        self.add_properties(Entity::Node(id), properties);
    }

    /// Records a relationship with its properties.
    pub fn add_relationship(&mut self, id: u64, properties: &BTreeMap<String, ResultValue>) {
        self.relationships.insert(id);
        self.add_properties(Entity::Relationship(id), properties);
    }

    fn add_properties(&mut self, entity: Entity, properties: &BTreeMap<String, ResultValue>) {
        for (key, value) in properties {
            self.properties
                .insert((entity, key.clone(), from_result(value).to_string()));
        }
    }
}
