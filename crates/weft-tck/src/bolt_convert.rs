//! Values and failures as they cross Bolt, turned back into the engine's own types, so
//! the TCK over Bolt compares exactly what the in-process run compares.
//!
//! Owns: query parameters (`weft_common::Value` → [`BoltValue`]), result values
//! ([`BoltValue`] → [`ResultValue`], graph entities read in the connection's
//! [`Dialect`]), a whole client result (→ [`QueryResult`], counters included) and a
//! server failure (→ [`QueryError`]: kind and detail from
//! [`weft_query::classify_status`], an unknown code being a `DatabaseError`; compile
//! time when it answered the RUN, run time when it came on a PULL).
//!
//! Entity ids are the element ids parsed as integers (Weft's element id is the decimal
//! internal id); a foreign element id falls back to the legacy integer id. A path's
//! relationships get their endpoints from the walk its indices describe.

use std::collections::BTreeMap;

use weft_bolt::messages::Dict;
use weft_bolt::structs::{point_from_value, TAG_POINT_2D, TAG_POINT_3D};
use weft_bolt::structs::{point_to_value, TAG_NODE, TAG_PATH, TAG_RELATIONSHIP};
use weft_bolt::{BoltValue, Dialect, Temporal};
use weft_common::Value;
use weft_query::{classify_status, ErrorKind, Phase, QueryError, QueryResult, QueryStats, ResultValue};

use crate::engine::Params;

/// The detail of a failure whose status code the engine never reports.
pub const UNKNOWN_STATUS: &str = "UnknownStatus";

/// The parameters of a RUN.
pub fn parameters(params: &Params, dialect: Dialect) -> Dict {
    params
        .iter()
        .map(|(name, value)| (name.clone(), parameter(value, dialect)))
        .collect()
}

/// One parameter value as Bolt carries it.
pub fn parameter(value: &Value, dialect: Dialect) -> BoltValue {
    let temporal = |t: Temporal| t.to_value(dialect);
    match value {
        Value::Null => BoltValue::Null,
        Value::Bool(b) => BoltValue::Boolean(*b),
        Value::Int(i) => BoltValue::Integer(*i),
        Value::Float(x) => BoltValue::Float(*x),
        Value::String(s) => BoltValue::String(s.clone()),
        Value::List(items) => BoltValue::List(items.iter().map(|v| parameter(v, dialect)).collect()),
        Value::Map(map) => BoltValue::Dictionary(map.iter().map(|(k, v)| (k.clone(), parameter(v, dialect))).collect()),
        Value::Date(d) => temporal(Temporal::Date(*d)),
        Value::LocalTime(t) => temporal(Temporal::LocalTime(*t)),
        Value::ZonedTime(t) => temporal(Temporal::Time(*t)),
        Value::LocalDateTime(t) => temporal(Temporal::LocalDateTime(*t)),
        Value::ZonedDateTime(t) => temporal(Temporal::DateTime(t.clone())),
        Value::Duration(d) => temporal(Temporal::Duration(*d)),
        Value::Point(p) => point_to_value(p),
    }
}

/// A whole result: columns, every row converted, and the counters of the summary.
pub fn query_result(result: weft_client::QueryResult, dialect: Dialect) -> Result<QueryResult, String> {
    let rows = result
        .rows
        .iter()
        .map(|row| row.iter().map(|v| result_value(v, dialect)).collect())
        .collect::<Result<_, String>>()?;
    Ok(QueryResult {
        columns: result.columns,
        rows,
        stats: stats(&result.summary),
    })
}

/// The counters a summary's `stats` map reports; Bolt has one count for properties set
/// and removed, which lands in `properties_set`.
pub fn stats(summary: &Dict) -> QueryStats {
    let mut stats = QueryStats::default();
    let Some(counters) = weft_bolt::packstream::dict_get(summary, "stats").and_then(BoltValue::as_dict) else {
        return stats;
    };
    for (key, value) in counters {
        let count = value.as_int().and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
        // A counter the engine has no count for is not part of what the TCK compares.
        stats.set_neo4j_counter(key, count);
    }
    stats
}

/// A server failure as the engine would have raised it.
pub fn query_error(code: &str, message: &str, at_run: bool) -> QueryError {
    let (kind, detail) = classify_status(code).unwrap_or((ErrorKind::DatabaseError, UNKNOWN_STATUS));
    QueryError {
        kind,
        detail,
        phase: if at_run { Phase::CompileTime } else { Phase::Runtime },
        message: format!("{code}: {message}"),
        position: None,
    }
}

/// One value the server sent, as the engine's result value.
pub fn result_value(value: &BoltValue, dialect: Dialect) -> Result<ResultValue, String> {
    Ok(match value {
        BoltValue::Null => ResultValue::Null,
        BoltValue::Boolean(b) => ResultValue::Bool(*b),
        BoltValue::Integer(i) => ResultValue::Int(*i),
        BoltValue::Float(x) => ResultValue::Float(*x),
        BoltValue::String(s) => ResultValue::String(s.clone()),
        BoltValue::Bytes(_) => return Err("a byte array, which Cypher results never hold".into()),
        BoltValue::List(items) => ResultValue::List(
            items
                .iter()
                .map(|v| result_value(v, dialect))
                .collect::<Result<_, _>>()?,
        ),
        BoltValue::Dictionary(entries) => ResultValue::Map(map(entries, dialect)?),
        BoltValue::Structure(s) => match s.tag {
            TAG_NODE => ResultValue::Node(node(
                &weft_bolt::Node::from_value(value, dialect).map_err(text)?,
                dialect,
            )?),
            TAG_RELATIONSHIP => {
                let rel = weft_bolt::Relationship::from_value(value, dialect).map_err(text)?;
                ResultValue::Relationship(relationship(&rel, dialect)?)
            }
            TAG_PATH => ResultValue::Path(path(
                &weft_bolt::Path::from_value(value, dialect).map_err(text)?,
                dialect,
            )?),
            TAG_POINT_2D | TAG_POINT_3D => ResultValue::Point(point_from_value(value).map_err(text)?),
            _ => temporal(Temporal::from_value(value).map_err(text)?),
        },
    })
}

fn text(error: impl std::fmt::Display) -> String {
    error.to_string()
}

fn temporal(value: Temporal) -> ResultValue {
    match value {
        Temporal::Date(d) => ResultValue::Date(d),
        Temporal::Time(t) => ResultValue::ZonedTime(t),
        Temporal::LocalTime(t) => ResultValue::LocalTime(t),
        Temporal::LocalDateTime(t) => ResultValue::LocalDateTime(t),
        Temporal::DateTime(t) => ResultValue::ZonedDateTime(t),
        Temporal::Duration(d) => ResultValue::Duration(d),
    }
}

/// A dictionary as a map; a repeated key keeps its last value, as PackStream says.
fn map(entries: &[(String, BoltValue)], dialect: Dialect) -> Result<BTreeMap<String, ResultValue>, String> {
    entries
        .iter()
        .map(|(k, v)| Ok((k.clone(), result_value(v, dialect)?)))
        .collect()
}

/// The entity id: the element id when it is a decimal integer, else the legacy id.
pub fn entity_id(element_id: &str, id: i64) -> Result<u64, String> {
    element_id
        .parse::<u64>()
        .ok()
        .or_else(|| u64::try_from(id).ok())
        .ok_or_else(|| format!("entity `{element_id}` has neither a decimal element id nor a non-negative id"))
}

fn node(n: &weft_bolt::Node, dialect: Dialect) -> Result<weft_query::Node, String> {
    Ok(weft_query::Node {
        id: entity_id(&n.element_id, n.id)?,
        labels: n.labels.clone(),
        properties: map(&n.properties, dialect)?,
    })
}

fn relationship(r: &weft_bolt::Relationship, dialect: Dialect) -> Result<weft_query::Relationship, String> {
    Ok(weft_query::Relationship {
        id: entity_id(&r.element_id, r.id)?,
        start: entity_id(&r.start_node_element_id, r.start_node_id)?,
        end: entity_id(&r.end_node_element_id, r.end_node_id)?,
        rel_type: r.rel_type.clone(),
        properties: map(&r.properties, dialect)?,
    })
}

/// Walks the path's indices: each pair names a relationship (1-based, negative when
/// walked against its direction) and the node it leads to.
fn path(p: &weft_bolt::Path, dialect: Dialect) -> Result<weft_query::Path, String> {
    let nodes = p
        .nodes
        .iter()
        .map(|n| node(n, dialect))
        .collect::<Result<Vec<_>, _>>()?;
    let first = nodes.first().ok_or("a path without nodes")?;
    if !p.indices.len().is_multiple_of(2) {
        return Err(format!("path indices come in pairs, got {}", p.indices.len()));
    }
    let mut walk = vec![first.clone()];
    let mut relationships = Vec::with_capacity(p.indices.len() / 2);
    for pair in p.indices.chunks(2) {
        let (rel_index, node_index) = (pair[0], pair[1]);
        let rel = usize::try_from(rel_index.unsigned_abs())
            .ok()
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| p.rels.get(i))
            .ok_or_else(|| format!("path relationship index {rel_index} out of range"))?;
        let next = usize::try_from(node_index)
            .ok()
            .and_then(|i| nodes.get(i))
            .ok_or_else(|| format!("path node index {node_index} out of range"))?;
        let here = walk.last().map_or(0, |n| n.id);
        let (start, end) = if rel_index > 0 {
            (here, next.id)
        } else {
            (next.id, here)
        };
        relationships.push(weft_query::Relationship {
            id: entity_id(&rel.element_id, rel.id)?,
            start,
            end,
            rel_type: rel.rel_type.clone(),
            properties: map(&rel.properties, dialect)?,
        });
        walk.push(next.clone());
    }
    Ok(weft_query::Path {
        nodes: walk,
        relationships,
    })
}

#[cfg(test)]
mod tests;
