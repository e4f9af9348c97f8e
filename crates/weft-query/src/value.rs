//! Runtime values of the query engine: everything a Cypher expression can evaluate to,
//! including graph entities, which storage property values cannot hold.
//!
//! Owns: [`QValue`] and [`PathValue`], their type names and conversions to and from the
//! storage [`weft_common::Value`] (`value/convert.rs`), and the four openCypher notions of
//! sameness and order extended to nodes, relationships and paths (`value/compare.rs`):
//! `cypher_eq` (`=`), `cypher_compare` (`<` and friends), `order_cmp` (`ORDER BY`) and
//! `equivalent` (`DISTINCT`, grouping), plus [`GroupKey`], a hashable key that agrees with
//! `equivalent`.
//!
//! Promises: on values without graph entities every method agrees with the same-named
//! method of [`weft_common::Value`]; graph entities compare by id (paths element-wise) and
//! take the `NODE`, `RELATIONSHIP` and `PATH` slots of [`weft_common::value::type_rank`].

use crate::graph::{EdgeRef, Gid};
use std::collections::BTreeMap;
use weft_common::spatial::Point;
use weft_common::temporal::{Date, Duration, LocalDateTime, LocalTime, ZonedDateTime, ZonedTime};

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
    ZonedTime(ZonedTime),
    LocalDateTime(LocalDateTime),
    ZonedDateTime(ZonedDateTime),
    Duration(Duration),
    Point(Point),
    Node(Gid),
    Relationship(EdgeRef),
    Path(PathValue),
}

mod compare;
mod convert;

pub use compare::GroupKey;

#[cfg(test)]
mod tests;
