//! Materialising: a row's runtime values turned into self-contained result values for
//! the caller, reading from the graph what ids alone do not say (labels, types,
//! properties). The value tree's own entity mapping does the walk; this module says how
//! one entity by id becomes one with its data.

use crate::error::{QueryError, Result};
use crate::exec::ExecCtx;
use crate::graph::{GraphContext, GraphRead};
use crate::result::{Materialised, Node, Path, Relationship, ResultValue};
use crate::value::{PathValue, QValue};
use std::collections::BTreeMap;
use weft_common::value::{ById, EntityMap};
use weft_common::{EdgeRef, Gid};

/// Turns a runtime value into a self-contained result value (reading the graph).
pub(crate) fn materialise<G: GraphRead>(v: &QValue, ctx: &ExecCtx<G>) -> Result<ResultValue> {
    v.clone().map_entities(&mut Materialiser { ctx })
}

struct Materialiser<'a, G: GraphRead> {
    ctx: &'a ExecCtx<G>,
}

impl<G: GraphRead> Materialiser<'_, G> {
    fn properties(&mut self, props: BTreeMap<String, QValue>) -> Result<BTreeMap<String, ResultValue>> {
        props.into_iter().map(|(k, v)| Ok((k, v.map_entities(self)?))).collect()
    }
}

impl<G: GraphRead> EntityMap<ById, Materialised> for Materialiser<'_, G> {
    type Error = QueryError;

    /// A node as returned; one deleted by this query comes back without labels or properties.
    fn node(&mut self, n: Gid) -> Result<Node> {
        let labels = self.ctx.node_labels(n).unwrap_or_default();
        let props = self.ctx.node_properties(n).unwrap_or_default();
        Ok(Node {
            id: n.0,
            labels,
            properties: self.properties(props)?,
        })
    }

    fn relationship(&mut self, r: EdgeRef) -> Result<Relationship> {
        let props = self.ctx.rel_properties(&r).unwrap_or_default();
        Ok(Relationship {
            id: r.gid.0,
            start: r.from.0,
            end: r.to.0,
            rel_type: self.ctx.rel_type(&r),
            properties: self.properties(props)?,
        })
    }

    fn path(&mut self, p: PathValue) -> Result<Path> {
        let mut nodes = vec![self.node(p.start)?];
        let mut relationships = Vec::with_capacity(p.steps.len());
        for (r, n) in p.steps {
            relationships.push(self.relationship(r)?);
            nodes.push(self.node(n)?);
        }
        Ok(Path { nodes, relationships })
    }
}
