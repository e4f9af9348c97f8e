//! Graph and general scalar functions: `id`, `elementId`, `labels`, `type`, `keys`,
//! `properties`, `startNode`, `endNode`, `nodes`, `relationships`, `length`, `coalesce`,
//! `timestamp`, `exists` and `randomUUID`.
//!
//! Graph entities are read through [`GraphContext`]; a null argument gives null.

use crate::graph::Gid;

use super::{arg, invalid_value, random};
use crate::error::{ErrorKind, QueryError, Result};
use crate::graph::GraphContext;
use crate::value::QValue;

/// Evaluates `name` if it belongs to this family.
pub(super) fn call(name: &str, args: &[QValue], ctx: &dyn GraphContext) -> Option<Result<QValue>> {
    let x = arg(args, 0);
    Some(match name {
        "id" => id(x),
        "elementid" => element_id(x),
        "labels" => labels(x, ctx),
        "type" => rel_type(x, ctx),
        "keys" => keys(x, ctx),
        "properties" => properties(x, ctx),
        "startnode" => endpoint("startNode", x, |rel| rel.from),
        "endnode" => endpoint("endNode", x, |rel| rel.to),
        "nodes" => nodes(x),
        "relationships" => relationships(x),
        "length" => length(x),
        "coalesce" => Ok(args.iter().find(|a| !a.is_null()).cloned().unwrap_or(QValue::Null)),
        "timestamp" => timestamp(ctx),
        "exists" => Ok(QValue::Bool(!x.is_null())),
        "randomuuid" => Ok(QValue::String(random::uuid_v4())),
        _ => return None,
    })
}

/// A storage id as a Cypher integer.
fn gid_value(gid: Gid) -> Result<QValue> {
    let id = i64::try_from(gid.0).map_err(|_| {
        QueryError::runtime(
            ErrorKind::DatabaseError,
            "IdOutOfRange",
            format!("id {gid} does not fit an INTEGER"),
        )
    })?;
    Ok(QValue::Int(id))
}

fn id(x: &QValue) -> Result<QValue> {
    match x {
        QValue::Null => Ok(QValue::Null),
        QValue::Node(node) => gid_value(*node),
        QValue::Relationship(rel) => gid_value(rel.gid),
        other => Err(invalid_value("id", "a NODE or RELATIONSHIP", other)),
    }
}

/// The id as a string (nodes and relationships have separate id spaces, as `id()`).
fn element_id(x: &QValue) -> Result<QValue> {
    match x {
        QValue::Null => Ok(QValue::Null),
        QValue::Node(node) => Ok(QValue::String(node.to_string())),
        QValue::Relationship(rel) => Ok(QValue::String(rel.gid.to_string())),
        other => Err(invalid_value("elementId", "a NODE or RELATIONSHIP", other)),
    }
}

fn labels(x: &QValue, ctx: &dyn GraphContext) -> Result<QValue> {
    match x {
        QValue::Null => Ok(QValue::Null),
        QValue::Node(node) => Ok(QValue::List(
            ctx.node_labels(*node)?.into_iter().map(QValue::String).collect(),
        )),
        other => Err(invalid_value("labels", "a NODE", other)),
    }
}

fn rel_type(x: &QValue, ctx: &dyn GraphContext) -> Result<QValue> {
    match x {
        QValue::Null => Ok(QValue::Null),
        QValue::Relationship(rel) => Ok(QValue::String(ctx.rel_type(rel))),
        other => Err(invalid_value("type", "a RELATIONSHIP", other)),
    }
}

/// Keys of a map (including null-valued entries) or the property keys of an entity.
fn keys(x: &QValue, ctx: &dyn GraphContext) -> Result<QValue> {
    let names =
        |map: std::collections::BTreeMap<String, QValue>| QValue::List(map.into_keys().map(QValue::String).collect());
    match x {
        QValue::Null => Ok(QValue::Null),
        QValue::Map(map) => Ok(QValue::List(map.keys().cloned().map(QValue::String).collect())),
        QValue::Node(node) => Ok(names(ctx.node_properties(*node)?)),
        QValue::Relationship(rel) => Ok(names(ctx.rel_properties(rel)?)),
        other => Err(invalid_value("keys", "a MAP, NODE or RELATIONSHIP", other)),
    }
}

fn properties(x: &QValue, ctx: &dyn GraphContext) -> Result<QValue> {
    match x {
        QValue::Null => Ok(QValue::Null),
        QValue::Map(_) => Ok(x.clone()),
        QValue::Node(node) => Ok(QValue::Map(ctx.node_properties(*node)?)),
        QValue::Relationship(rel) => Ok(QValue::Map(ctx.rel_properties(rel)?)),
        other => Err(invalid_value("properties", "a MAP, NODE or RELATIONSHIP", other)),
    }
}

fn endpoint(func: &str, x: &QValue, end: impl Fn(&crate::graph::EdgeRef) -> Gid) -> Result<QValue> {
    match x {
        QValue::Null => Ok(QValue::Null),
        QValue::Relationship(rel) => Ok(QValue::Node(end(rel))),
        other => Err(invalid_value(func, "a RELATIONSHIP", other)),
    }
}

fn nodes(x: &QValue) -> Result<QValue> {
    match x {
        QValue::Null => Ok(QValue::Null),
        QValue::Path(path) => {
            let steps = path.steps.iter().map(|(_, node)| QValue::Node(*node));
            Ok(QValue::List(
                std::iter::once(QValue::Node(path.start)).chain(steps).collect(),
            ))
        }
        other => Err(invalid_value("nodes", "a PATH", other)),
    }
}

fn relationships(x: &QValue) -> Result<QValue> {
    match x {
        QValue::Null => Ok(QValue::Null),
        QValue::Path(path) => Ok(QValue::List(
            path.steps.iter().map(|(rel, _)| QValue::Relationship(*rel)).collect(),
        )),
        other => Err(invalid_value("relationships", "a PATH", other)),
    }
}

/// The number of relationships in a path.
fn length(x: &QValue) -> Result<QValue> {
    match x {
        QValue::Null => Ok(QValue::Null),
        QValue::Path(path) => Ok(QValue::Int(i64::try_from(path.steps.len()).unwrap_or(i64::MAX))),
        other => Err(invalid_value("length", "a PATH", other)),
    }
}

/// Milliseconds since the Unix epoch at the statement's clock.
fn timestamp(ctx: &dyn GraphContext) -> Result<QValue> {
    let millis = ctx.statement_time().epoch_nanos().div_euclid(1_000_000);
    let millis = i64::try_from(millis).map_err(|_| {
        QueryError::runtime(
            ErrorKind::DatabaseError,
            "ClockOutOfRange",
            "the statement clock is out of range",
        )
    })?;
    Ok(QValue::Int(millis))
}
