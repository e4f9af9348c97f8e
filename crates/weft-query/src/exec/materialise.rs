//! Materialising: a row's runtime values turned into self-contained result values for
//! the caller, reading from the graph what ids alone do not say (labels, types,
//! properties).

use crate::error::Result;
use crate::exec::ExecCtx;
use crate::graph::{GraphContext, GraphRead};
use crate::result::{Node, Path, Relationship, ResultValue};
use crate::value::QValue;
use std::collections::BTreeMap;
use weft_common::{EdgeRef, Gid};

/// Turns a runtime value into a self-contained result value (reading the graph).
pub(crate) fn materialise<G: GraphRead>(v: &QValue, ctx: &ExecCtx<G>) -> Result<ResultValue> {
    Ok(match v {
        QValue::Null => ResultValue::Null,
        QValue::Bool(b) => ResultValue::Bool(*b),
        QValue::Int(i) => ResultValue::Int(*i),
        QValue::Float(f) => ResultValue::Float(*f),
        QValue::String(s) => ResultValue::String(s.clone()),
        QValue::List(items) => ResultValue::List(items.iter().map(|i| materialise(i, ctx)).collect::<Result<_>>()?),
        QValue::Map(m) => ResultValue::Map(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), materialise(v, ctx)?)))
                .collect::<Result<BTreeMap<_, _>>>()?,
        ),
        QValue::Date(d) => ResultValue::Date(*d),
        QValue::LocalTime(t) => ResultValue::LocalTime(*t),
        QValue::ZonedTime(t) => ResultValue::ZonedTime(*t),
        QValue::LocalDateTime(t) => ResultValue::LocalDateTime(*t),
        QValue::ZonedDateTime(t) => ResultValue::ZonedDateTime(t.clone()),
        QValue::Duration(d) => ResultValue::Duration(*d),
        QValue::Point(p) => ResultValue::Point(*p),
        QValue::Node(n) => ResultValue::Node(node(*n, ctx)?),
        QValue::Relationship(r) => ResultValue::Relationship(relationship(r, ctx)?),
        QValue::Path(p) => {
            let mut nodes = vec![node(p.start, ctx)?];
            let mut relationships = Vec::new();
            for (r, n) in &p.steps {
                relationships.push(relationship(r, ctx)?);
                nodes.push(node(*n, ctx)?);
            }
            ResultValue::Path(Path { nodes, relationships })
        }
    })
}

fn properties<G: GraphRead>(
    props: BTreeMap<String, QValue>,
    ctx: &ExecCtx<G>,
) -> Result<BTreeMap<String, ResultValue>> {
    props.into_iter().map(|(k, v)| Ok((k, materialise(&v, ctx)?))).collect()
}

/// A node as returned; one deleted by this query comes back without labels or properties.
fn node<G: GraphRead>(n: Gid, ctx: &ExecCtx<G>) -> Result<Node> {
    let labels = ctx.node_labels(n).unwrap_or_default();
    let props = ctx.node_properties(n).unwrap_or_default();
    Ok(Node {
        id: n.0,
        labels,
        properties: properties(props, ctx)?,
    })
}

fn relationship<G: GraphRead>(r: &EdgeRef, ctx: &ExecCtx<G>) -> Result<Relationship> {
    let props = ctx.rel_properties(r).unwrap_or_default();
    Ok(Relationship {
        id: r.gid.0,
        start: r.from.0,
        end: r.to.0,
        rel_type: ctx.rel_type(r),
        properties: properties(props, ctx)?,
    })
}
