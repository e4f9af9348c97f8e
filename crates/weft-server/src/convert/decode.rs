//! Bolt values read back as the engine's values: the decoding half of the PackStream codec
//! (`convert.rs` has the encoding half). The server decodes query parameters with it; the
//! TCK over Bolt and clients decode results with it.
//!
//! Owns: [`decode`] (any [`BoltValue`] a Cypher value can be sent as → [`ResultValue`],
//! graph entities read in the connection's [`Dialect`]) and [`entity_id`].
//!
//! Entity ids are the element ids parsed as integers (Weft's element id is the decimal
//! internal id); a foreign element id falls back to the legacy integer id. A path's
//! relationships get their endpoints from the walk its indices describe.

use std::collections::BTreeMap;

use weft_bolt::structs::{point_from_value, TAG_NODE, TAG_PATH, TAG_POINT_2D, TAG_POINT_3D, TAG_RELATIONSHIP};
use weft_bolt::{BoltValue, Dialect, Temporal};
use weft_query::ResultValue;

/// One value the server sent, as the engine's result value.
pub fn decode(value: &BoltValue, dialect: Dialect) -> Result<ResultValue, String> {
    Ok(match value {
        BoltValue::Null => ResultValue::Null,
        BoltValue::Boolean(b) => ResultValue::Bool(*b),
        BoltValue::Integer(i) => ResultValue::Int(*i),
        BoltValue::Float(x) => ResultValue::Float(*x),
        BoltValue::String(s) => ResultValue::String(s.clone()),
        BoltValue::Bytes(_) => return Err("byte arrays are not supported; pass a list of integers".into()),
        BoltValue::List(items) => {
            ResultValue::List(items.iter().map(|v| decode(v, dialect)).collect::<Result<_, _>>()?)
        }
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
        .map(|(k, v)| Ok((k.clone(), decode(v, dialect)?)))
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
