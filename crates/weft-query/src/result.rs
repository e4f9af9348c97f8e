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

/// A finished query's output.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<ResultValue>>,
    pub stats: QueryStats,
}
