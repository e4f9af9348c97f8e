//! Runtime values of the query engine: everything a Cypher expression can evaluate to,
//! including graph entities, which storage property values cannot hold.

use std::collections::BTreeMap;
use weft_common::temporal::{Date, Duration, LocalDateTime, LocalTime, ZonedDateTime};
use weft_storage::{EdgeRef, Gid};

/// A path: a start node and (relationship, next node) steps. Relationships keep their
/// stored direction in the `EdgeRef`; the step's node says which way the path walked.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PathValue {
    pub start: Gid,
    pub steps: Vec<(EdgeRef, Gid)>,
}

/// A value during query execution.
#[derive(Clone, Debug)]
pub enum QValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    List(Vec<QValue>),
    Map(BTreeMap<String, QValue>),
    Date(Date),
    LocalTime(LocalTime),
    LocalDateTime(LocalDateTime),
    ZonedDateTime(ZonedDateTime),
    Duration(Duration),
    Node(Gid),
    Relationship(EdgeRef),
    Path(PathValue),
}
