//! Unit tests of the built-in functions and the operators, one file per family, each case
//! modelled on a TCK scenario or a Neo4j-documented behaviour.
//!
//! Results are checked through their rendering (`1` vs `1.0`, `'a'`, `[1, 2]`,
//! `1984-10-11`), errors as `error: Kind/Detail`, so expectations read like the TCK's.

mod aggregate;
mod convert;
mod list;
mod math;
mod ops;
mod robustness;
mod scalar;
mod spatial;
mod string;
mod temporal;
mod temporal_arith;
mod zoned;

use std::collections::{BTreeMap, HashMap};

use crate::graph::{EdgeRef, Gid};
use weft_common::temporal::{LocalDateTime, ZonedDateTime};
use weft_common::EdgeTypeId;

use crate::error::{QueryError, Result};
use crate::graph::GraphContext;
use crate::value::QValue;

/// A graph held in maps, with a fixed statement clock (2024-05-06T07:08:09.5Z).
#[derive(Default)]
pub(super) struct FakeGraph {
    pub labels: HashMap<Gid, Vec<String>>,
    pub node_props: HashMap<Gid, BTreeMap<String, QValue>>,
    pub rel_props: HashMap<Gid, BTreeMap<String, QValue>>,
    pub rel_types: HashMap<Gid, String>,
}

impl GraphContext for FakeGraph {
    fn node_labels(&self, node: Gid) -> Result<Vec<String>> {
        Ok(self.labels.get(&node).cloned().unwrap_or_default())
    }

    fn node_property(&self, node: Gid, key: &str) -> Result<QValue> {
        Ok(self
            .node_props
            .get(&node)
            .and_then(|p| p.get(key))
            .cloned()
            .unwrap_or(QValue::Null))
    }

    fn node_properties(&self, node: Gid) -> Result<BTreeMap<String, QValue>> {
        Ok(self.node_props.get(&node).cloned().unwrap_or_default())
    }

    fn rel_property(&self, rel: &EdgeRef, key: &str) -> Result<QValue> {
        Ok(self
            .rel_props
            .get(&rel.gid)
            .and_then(|p| p.get(key))
            .cloned()
            .unwrap_or(QValue::Null))
    }

    fn rel_properties(&self, rel: &EdgeRef) -> Result<BTreeMap<String, QValue>> {
        Ok(self.rel_props.get(&rel.gid).cloned().unwrap_or_default())
    }

    fn rel_type(&self, rel: &EdgeRef) -> String {
        self.rel_types.get(&rel.gid).cloned().unwrap_or_default()
    }

    fn statement_time(&self) -> ZonedDateTime {
        let local = LocalDateTime::from_ymd_hms_nano(2024, 5, 6, 7, 8, 9, 500_000_000).unwrap_or_default();
        ZonedDateTime {
            local,
            offset_seconds: 0,
            zone: None,
        }
    }
}

/// Renders a result as the TCK writes values, or `error: Kind/Detail`.
pub(super) fn show(result: Result<QValue>) -> String {
    match result {
        Ok(value) => value.to_string(),
        Err(QueryError { kind, detail, .. }) => format!("error: {kind:?}/{detail}"),
    }
}

/// Calls function `name` against `graph`, rendered.
pub(super) fn run_in(graph: &FakeGraph, name: &str, args: Vec<QValue>) -> String {
    show(crate::functions::call(name, &args, graph))
}

/// Calls function `name` against an empty graph, rendered.
pub(super) fn run(name: &str, args: Vec<QValue>) -> String {
    run_in(&FakeGraph::default(), name, args)
}

/// Calls function `name` against an empty graph, expecting success.
pub(super) fn eval(name: &str, args: Vec<QValue>) -> QValue {
    match crate::functions::call(name, &args, &FakeGraph::default()) {
        Ok(value) => value,
        Err(e) => panic!("{name} failed: {e}"),
    }
}

pub(super) const NULL: QValue = QValue::Null;

pub(super) fn i(v: i64) -> QValue {
    QValue::Int(v)
}

pub(super) fn f(v: f64) -> QValue {
    QValue::Float(v)
}

pub(super) fn b(v: bool) -> QValue {
    QValue::Bool(v)
}

pub(super) fn s(v: &str) -> QValue {
    QValue::String(v.to_string())
}

pub(super) fn l(items: Vec<QValue>) -> QValue {
    QValue::List(items)
}

pub(super) fn m(entries: &[(&str, QValue)]) -> QValue {
    QValue::Map(entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

pub(super) fn node(id: u64) -> QValue {
    QValue::Node(Gid(id))
}

pub(super) fn edge(id: u64, from: u64, to: u64) -> EdgeRef {
    EdgeRef {
        gid: Gid(id),
        from: Gid(from),
        to: Gid(to),
        edge_type: EdgeTypeId(0),
    }
}

pub(super) fn rel(id: u64, from: u64, to: u64) -> QValue {
    QValue::Relationship(edge(id, from, to))
}
