//! How a Bolt value reads: as Cypher-like text (the shell) and as JSON (the shell and the HTTP API).
//!
//! Owns: the readable text of every value a query can return — strings quoted and
//! escaped, floats always with a decimal point, nodes as `(:Person {name: "A"})`,
//! relationships as `[:KNOWS {since: 2020}]`, paths as `(a)-[:R]->(b)`, temporals in ISO
//! form, points as `point({srid: 7203, x: 1.5, y: 2.5})` — and the matching JSON form for `--format json`. Promises: never fails; a
//! structure it cannot read is still shown, as `Structure<0xTAG>[fields]`.
//!
//! Needs from below: weft-bolt's typed structures, read in the connection's [`Dialect`].

use serde_json::{json, Map, Number, Value as Json};
use weft_bolt::structs::{point_from_value, TAG_POINT_2D, TAG_POINT_3D};
use weft_bolt::structs::{TAG_NODE, TAG_PATH, TAG_RELATIONSHIP, TAG_UNBOUND_RELATIONSHIP};
use weft_bolt::{BoltValue, Dialect, Node, Path, Relationship, Structure, Temporal, UnboundRelationship};
use weft_common::spatial::Point;
use weft_common::value::cypher_name;

/// The Cypher-like text of `value`.
pub fn text(value: &BoltValue, dialect: Dialect) -> String {
    let mut out = String::new();
    write_value(value, dialect, &mut out);
    out
}

/// The text of `value` for a CSV field: strings bare, null empty, the rest as [`text`].
pub fn plain_text(value: &BoltValue, dialect: Dialect) -> String {
    match value {
        BoltValue::Null => String::new(),
        BoltValue::String(s) => s.clone(),
        other => text(other, dialect),
    }
}

fn write_value(value: &BoltValue, dialect: Dialect, out: &mut String) {
    match value {
        BoltValue::Null => out.push_str("null"),
        BoltValue::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        BoltValue::Integer(i) => out.push_str(&i.to_string()),
        BoltValue::Float(f) => out.push_str(&float_text(*f)),
        BoltValue::String(s) => out.push_str(&quoted(s)),
        BoltValue::Bytes(bytes) => out.push_str(&hex(bytes)),
        BoltValue::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(item, dialect, out);
            }
            out.push(']');
        }
        BoltValue::Dictionary(entries) => write_map(entries, dialect, out),
        BoltValue::Structure(s) => write_structure(s, value, dialect, out),
    }
}

fn write_structure(s: &Structure, value: &BoltValue, dialect: Dialect, out: &mut String) {
    let written = match s.tag {
        TAG_NODE => Node::from_value(value, dialect)
            .map(|n| write_node(&n, dialect, out))
            .is_ok(),
        TAG_RELATIONSHIP => Relationship::from_value(value, dialect)
            .map(|r| write_rel_body(&r.rel_type, &r.properties, dialect, out))
            .is_ok(),
        TAG_UNBOUND_RELATIONSHIP => UnboundRelationship::from_value(value, dialect)
            .map(|r| write_rel_body(&r.rel_type, &r.properties, dialect, out))
            .is_ok(),
        TAG_PATH => Path::from_value(value, dialect)
            .map(|p| write_path(&p, dialect, out))
            .is_ok(),
        TAG_POINT_2D | TAG_POINT_3D => point_from_value(value).map(|p| out.push_str(&point_text(&p))).is_ok(),
        _ => match Temporal::from_value(value) {
            Ok(t) => {
                out.push_str(&temporal_text(&t));
                true
            }
            Err(_) => false,
        },
    };
    if !written {
        out.push_str(&format!("Structure<0x{:02X}>", s.tag));
        write_value(&BoltValue::List(s.fields.clone()), dialect, out);
    }
}

fn write_node(node: &Node, dialect: Dialect, out: &mut String) {
    out.push('(');
    for label in &node.labels {
        out.push(':');
        out.push_str(&cypher_name(label));
    }
    if !node.properties.is_empty() {
        if !node.labels.is_empty() {
            out.push(' ');
        }
        write_map(&node.properties, dialect, out);
    }
    out.push(')');
}

/// `[:TYPE {props}]`, the part of a relationship between its arrows.
fn write_rel_body(rel_type: &str, properties: &[(String, BoltValue)], dialect: Dialect, out: &mut String) {
    out.push_str("[:");
    out.push_str(&cypher_name(rel_type));
    if !properties.is_empty() {
        out.push(' ');
        write_map(properties, dialect, out);
    }
    out.push(']');
}

/// Walks the path's index pairs: a 1-based relationship index (negative when traversed
/// backwards), then a node index. Indices out of range are shown as `?`.
fn write_path(path: &Path, dialect: Dialect, out: &mut String) {
    let node = |i: i64, out: &mut String| match usize::try_from(i).ok().and_then(|i| path.nodes.get(i)) {
        Some(n) => write_node(n, dialect, out),
        None => out.push_str("(?)"),
    };
    node(0, out);
    for pair in path.indices.chunks(2) {
        let (rel_index, node_index) = (pair[0], pair.get(1).copied().unwrap_or(-1));
        let rel = usize::try_from(rel_index.unsigned_abs())
            .ok()
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| path.rels.get(i));
        out.push_str(if rel_index < 0 { "<-" } else { "-" });
        match rel {
            Some(r) => write_rel_body(&r.rel_type, &r.properties, dialect, out),
            None => out.push_str("[?]"),
        }
        out.push_str(if rel_index < 0 { "-" } else { "->" });
        node(node_index, out);
    }
}

fn write_map(entries: &[(String, BoltValue)], dialect: Dialect, out: &mut String) {
    out.push('{');
    for (i, (key, value)) in entries.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&cypher_name(key));
        out.push_str(": ");
        write_value(value, dialect, out);
    }
    out.push('}');
}

/// A float as Cypher prints it: always with a decimal point or exponent.
fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        format!("{f:?}")
    }
}

/// `s` in double quotes with JSON escapes, so that control characters stay visible.
fn quoted(s: &str) -> String {
    Json::String(s.to_string()).to_string()
}

fn hex(bytes: &[u8]) -> String {
    let digits: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("0x{digits}")
}

/// `point({srid: 4979, x: 1.0, y: 2.0, z: 3.0})`: the SRID, then the coordinates.
fn point_text(p: &Point) -> String {
    let mut text = format!("point({{srid: {}", p.srid());
    for (name, c) in ["x", "y", "z"].iter().zip(p.coords()) {
        text.push_str(&format!(", {name}: {}", float_text(*c)));
    }
    text.push_str("})");
    text
}

/// `{"srid": 7203, "x": 1.5, "y": 2.5}`, with `"z"` in 3D.
pub fn point_json(p: &Point) -> Json {
    let mut map = Map::new();
    map.insert("srid".into(), Json::from(p.srid()));
    for (name, c) in ["x", "y", "z"].iter().zip(p.coords()) {
        // Coordinates are finite, so every one is a JSON number.
        map.insert((*name).into(), Number::from_f64(*c).map_or(Json::Null, Json::Number));
    }
    Json::Object(map)
}

pub fn temporal_text(t: &Temporal) -> String {
    match t {
        Temporal::Date(d) => d.to_string(),
        Temporal::Time(t) => t.to_string(),
        Temporal::LocalTime(t) => t.to_string(),
        Temporal::LocalDateTime(l) => l.to_string(),
        Temporal::DateTime(z) => z.to_string(),
        Temporal::Duration(d) => d.to_string(),
    }
}

/// The JSON form of `value`: graph entities and points as objects, temporals and bytes as
/// strings, non-finite floats as the strings `NaN`, `Infinity` and `-Infinity`.
pub fn json(value: &BoltValue, dialect: Dialect) -> Json {
    match value {
        BoltValue::Null => Json::Null,
        BoltValue::Boolean(b) => Json::Bool(*b),
        BoltValue::Integer(i) => Json::from(*i),
        BoltValue::Float(f) => Number::from_f64(*f).map_or_else(|| Json::String(float_text(*f)), Json::Number),
        BoltValue::String(s) => Json::String(s.clone()),
        BoltValue::Bytes(bytes) => Json::String(hex(bytes)),
        BoltValue::List(items) => Json::Array(items.iter().map(|v| json(v, dialect)).collect()),
        BoltValue::Dictionary(entries) => json_map(entries, dialect),
        BoltValue::Structure(s) => json_structure(s, value, dialect),
    }
}

fn json_structure(s: &Structure, value: &BoltValue, dialect: Dialect) -> Json {
    let decoded = match s.tag {
        TAG_NODE => Node::from_value(value, dialect).ok().map(|n| json_node(&n, dialect)),
        TAG_RELATIONSHIP => Relationship::from_value(value, dialect).ok().map(|r| {
            json!({
                "elementId": r.element_id,
                "type": r.rel_type,
                "startElementId": r.start_node_element_id,
                "endElementId": r.end_node_element_id,
                "properties": json_map(&r.properties, dialect),
            })
        }),
        TAG_UNBOUND_RELATIONSHIP => UnboundRelationship::from_value(value, dialect).ok().map(
            |r| json!({"elementId": r.element_id, "type": r.rel_type, "properties": json_map(&r.properties, dialect)}),
        ),
        TAG_PATH => Path::from_value(value, dialect).ok().map(|p| json_path(&p, dialect)),
        TAG_POINT_2D | TAG_POINT_3D => point_from_value(value).ok().map(|p| point_json(&p)),
        _ => Temporal::from_value(value)
            .ok()
            .map(|t| Json::String(temporal_text(&t))),
    };
    decoded.unwrap_or_else(|| Json::String(text(value, dialect)))
}

fn json_node(node: &Node, dialect: Dialect) -> Json {
    json!({
        "elementId": node.element_id,
        "labels": node.labels,
        "properties": json_map(&node.properties, dialect),
    })
}

/// A path as its distinct nodes and, in walk order, its relationships with their direction.
fn json_path(path: &Path, dialect: Dialect) -> Json {
    let nodes: Vec<Json> = path.nodes.iter().map(|n| json_node(n, dialect)).collect();
    let rels: Vec<Json> = path
        .indices
        .iter()
        .step_by(2)
        .filter_map(|&i| {
            let rel = path.rels.get(usize::try_from(i.unsigned_abs()).ok()?.checked_sub(1)?)?;
            Some(json!({"type": rel.rel_type, "properties": json_map(&rel.properties, dialect), "forward": i > 0}))
        })
        .collect();
    json!({"nodes": nodes, "relationships": rels})
}

pub fn json_map(entries: &[(String, BoltValue)], dialect: Dialect) -> Json {
    let map: Map<String, Json> = entries.iter().map(|(k, v)| (k.clone(), json(v, dialect))).collect();
    Json::Object(map)
}

/// A parameter value from JSON: integers stay integers, objects become maps.
pub fn from_json(value: &Json) -> BoltValue {
    match value {
        Json::Null => BoltValue::Null,
        Json::Bool(b) => BoltValue::Boolean(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => BoltValue::Integer(i),
            None => BoltValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => BoltValue::String(s.clone()),
        Json::Array(items) => BoltValue::List(items.iter().map(from_json).collect()),
        Json::Object(map) => BoltValue::Dictionary(map.iter().map(|(k, v)| (k.clone(), from_json(v))).collect()),
    }
}
