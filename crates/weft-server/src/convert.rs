//! The PackStream codec of Cypher values: [`result_value`] writes any value of the value
//! tree as Bolt carries it, `convert/decode.rs` reads one back; [`parameters`] is the
//! decoding of a RUN's parameters into storable values.
//!
//! Owns: graph entities written as weft-bolt structures in the session's [`Dialect`],
//! temporals as [`Temporal`] structures and points as Point2D/Point3D structures.
//!
//! Element ids are the decimal internal id: Weft has one id space per entity kind, so the
//! legacy integer id and the 5.x element id name the same thing.

use std::collections::BTreeMap;

use weft_bolt::structs::point_to_value;
use weft_bolt::{BoltValue, Dialect, Node, Path, Relationship, Temporal, UnboundRelationship};
use weft_common::Value;
use weft_query::ResultValue;

mod decode;

pub use decode::{decode, entity_id};

/// Why a parameter cannot be passed to a query; the client sees a TypeError.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parameter `{name}`: {reason}")]
pub struct ParameterError {
    pub name: String,
    pub reason: String,
}

/// The query parameters a RUN carries: any storable value (temporal and point structures
/// included); byte arrays and graph structures are refused by name.
pub fn parameters(dict: &[(String, BoltValue)], dialect: Dialect) -> Result<BTreeMap<String, Value>, ParameterError> {
    dict.iter()
        .map(|(name, value)| {
            let refused = |reason: String| ParameterError {
                name: name.clone(),
                reason,
            };
            let value = decode(value, dialect).map_err(refused)?;
            let stored = value.into_value().ok_or_else(|| {
                refused("nodes, relationships and paths cannot be parameters; pass their ids instead".into())
            })?;
            Ok((name.clone(), stored))
        })
        .collect()
}

/// One result value as the client receives it.
pub fn result_value(value: ResultValue, dialect: Dialect) -> BoltValue {
    let temporal = |t: Temporal| t.to_value(dialect);
    match value {
        ResultValue::Null => BoltValue::Null,
        ResultValue::Bool(b) => BoltValue::Boolean(b),
        ResultValue::Int(i) => BoltValue::Integer(i),
        ResultValue::Float(f) => BoltValue::Float(f),
        ResultValue::String(s) => BoltValue::String(s),
        ResultValue::List(items) => BoltValue::List(items.into_iter().map(|v| result_value(v, dialect)).collect()),
        ResultValue::Map(map) => BoltValue::Dictionary(properties(map, dialect)),
        ResultValue::Date(d) => temporal(Temporal::Date(d)),
        ResultValue::LocalTime(t) => temporal(Temporal::LocalTime(t)),
        ResultValue::ZonedTime(t) => temporal(Temporal::Time(t)),
        ResultValue::LocalDateTime(t) => temporal(Temporal::LocalDateTime(t)),
        ResultValue::ZonedDateTime(t) => temporal(Temporal::DateTime(t)),
        ResultValue::Duration(d) => temporal(Temporal::Duration(d)),
        ResultValue::Point(p) => point_to_value(&p),
        ResultValue::Node(n) => node(n, dialect).to_value(dialect),
        ResultValue::Relationship(r) => relationship(r, dialect).to_value(dialect),
        ResultValue::Path(p) => path(p, dialect).to_value(dialect),
    }
}

fn properties(map: BTreeMap<String, ResultValue>, dialect: Dialect) -> Vec<(String, BoltValue)> {
    map.into_iter().map(|(k, v)| (k, result_value(v, dialect))).collect()
}

/// Ids are `u64` in storage and `i64` on the wire; storage never hands out ids that large.
/// A Bolt id: stored entities' ids are far below 2^63; virtual ones (counted down from the
/// top of the range, `weft_query`'s `exec/virtuals.rs`) come out negative, as Neo4j's do.
fn id(raw: u64) -> i64 {
    raw as i64
}

fn node(n: weft_query::Node, dialect: Dialect) -> Node {
    Node {
        id: id(n.id),
        labels: n.labels,
        properties: properties(n.properties, dialect),
        element_id: id(n.id).to_string(),
    }
}

fn relationship(r: weft_query::Relationship, dialect: Dialect) -> Relationship {
    Relationship {
        id: id(r.id),
        start_node_id: id(r.start),
        end_node_id: id(r.end),
        rel_type: r.rel_type,
        properties: properties(r.properties, dialect),
        element_id: id(r.id).to_string(),
        start_node_element_id: id(r.start).to_string(),
        end_node_element_id: id(r.end).to_string(),
    }
}

/// A path as Bolt's (nodes, relationships, indices) triple. Nodes are listed in path order
/// (repeats allowed), so the node index of step `i` is `i + 1`; the relationship index is
/// `i + 1`, negated when the step walks the relationship against its stored direction.
fn path(p: weft_query::Path, dialect: Dialect) -> Path {
    let mut indices = Vec::with_capacity(p.relationships.len() * 2);
    for (i, rel) in p.relationships.iter().enumerate() {
        let step = i as i64 + 1;
        let forward = p.nodes.get(i).is_some_and(|n| n.id == rel.start);
        indices.push(if forward { step } else { -step });
        indices.push(step);
    }
    let rels = p.relationships.into_iter().map(|r| UnboundRelationship {
        id: id(r.id),
        rel_type: r.rel_type,
        properties: properties(r.properties, dialect),
        element_id: id(r.id).to_string(),
    });
    Path {
        nodes: p.nodes.into_iter().map(|n| node(n, dialect)).collect(),
        rels: rels.collect(),
        indices,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V5: Dialect = Dialect {
        element_ids: true,
        utc_datetime: true,
    };

    fn query_node(id: u64) -> weft_query::Node {
        weft_query::Node {
            id,
            labels: vec!["L".into()],
            properties: BTreeMap::new(),
        }
    }

    fn query_rel(id: u64, start: u64, end: u64) -> weft_query::Relationship {
        weft_query::Relationship {
            id,
            start,
            end,
            rel_type: "R".into(),
            properties: BTreeMap::new(),
        }
    }

    #[test]
    fn nested_parameters_convert() {
        // Set up: a map holding a list.
        let inner = BoltValue::List(vec![BoltValue::Integer(1), BoltValue::Null]);
        let dict = vec![("m".to_string(), BoltValue::Dictionary(vec![("l".to_string(), inner)]))];

        // Act
        let params = parameters(&dict, V5).expect("convertible");

        // Check
        let expected = Value::Map(BTreeMap::from([(
            "l".to_string(),
            Value::List(vec![Value::Int(1), Value::Null]),
        )]));
        assert_eq!(params.get("m"), Some(&expected));
    }

    #[test]
    fn point_parameters_and_results_convert_both_ways() {
        // Set up: a 3D WGS-84 point as a client sends it.
        let point = weft_common::spatial::Point::new(weft_common::spatial::Crs::Wgs84_3D, &[1.0, 2.0, 3.0]).unwrap();
        let dict = vec![("p".to_string(), point_to_value(&point))];

        // Act
        let params = parameters(&dict, V5).expect("convertible");

        // Check: the parameter is the point, and it goes back out as the same structure.
        assert_eq!(params.get("p"), Some(&Value::Point(point)));
        assert_eq!(result_value(ResultValue::Point(point), V5), point_to_value(&point));
        let bad = BoltValue::Structure(weft_bolt::Structure {
            tag: weft_bolt::structs::TAG_POINT_2D,
            fields: vec![BoltValue::Integer(1), BoltValue::Float(0.0), BoltValue::Float(0.0)],
        });
        let error = parameters(&[("q".to_string(), bad)], V5).expect_err("unknown SRID");
        assert!(error.reason.contains("SRID 1"), "{}", error.reason);
    }

    #[test]
    fn bytes_parameter_is_refused_by_name() {
        let dict = vec![("b".to_string(), BoltValue::Bytes(vec![1]))];
        let error = parameters(&dict, V5).expect_err("bytes are unsupported");
        assert_eq!(error.name, "b");
    }

    #[test]
    fn path_indices_follow_direction() {
        // Set up: 1 -[10]-> 2 <-[11]- 3, walked from 1 to 3.
        let p = weft_query::Path {
            nodes: vec![query_node(1), query_node(2), query_node(3)],
            relationships: vec![query_rel(10, 1, 2), query_rel(11, 3, 2)],
        };

        // Act
        let path = path(p, V5);

        // Check: the second step walks relationship 11 backwards.
        assert_eq!(path.indices, vec![1, 1, -2, 2]);
        assert_eq!(path.rels[1].element_id, "11");
        assert_eq!(path.nodes[2].element_id, "3");
    }
}
