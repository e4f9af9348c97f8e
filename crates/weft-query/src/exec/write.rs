//! Write clauses (CREATE, MERGE, SET, REMOVE, DELETE, FOREACH) applied to one input row
//! at a time, with the statistics drivers report.

use crate::ast::RelDirection;
use crate::error::{ErrorKind, QueryError, Result};
use crate::exec::pattern::{for_each_match, CPattern};
use crate::exec::row::Row;
use crate::exec::ExecCtx;
use crate::expr::{eval, CExpr};
use crate::graph::{Direction, EdgeRef, Gid, GraphWrite};
use crate::value::{PathValue, QValue};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// A node of a CREATE pattern.
#[derive(Clone, Debug)]
pub struct CreateNode {
    pub slot: usize,
    /// Bound before the clause: reuse, do not create.
    pub existing: bool,
    pub labels: Vec<String>,
    pub props: Option<CExpr>,
}

/// A relationship of a CREATE pattern.
#[derive(Clone, Debug)]
pub struct CreateRel {
    pub slot: usize,
    pub rel_type: String,
    /// Stored direction relative to the pattern: `true` for `<-`.
    pub backwards: bool,
    pub props: Option<CExpr>,
}

/// One part of a CREATE pattern.
#[derive(Clone, Debug)]
pub struct CreatePart {
    pub path_slot: Option<usize>,
    pub nodes: Vec<CreateNode>,
    pub rels: Vec<CreateRel>,
}

#[derive(Clone, Debug)]
pub enum SetOp {
    Property { target: CExpr, key: String, value: CExpr },
    Replace { target: CExpr, value: CExpr, merge: bool },
    AddLabels { target: CExpr, labels: Vec<String> },
    RemoveProperty { target: CExpr, key: String },
    RemoveLabels { target: CExpr, labels: Vec<String> },
}

#[derive(Clone, Debug)]
pub enum WriteClause {
    Create(Vec<CreatePart>),
    Merge {
        pattern: CPattern,
        create: CreatePart,
        on_create: Vec<SetOp>,
        on_match: Vec<SetOp>,
    },
    Set(Vec<SetOp>),
    Delete {
        exprs: Vec<CExpr>,
        detach: bool,
    },
    Foreach {
        slot: usize,
        list: CExpr,
        body: Vec<WriteClause>,
    },
}

impl WriteClause {
    /// Operator name for EXPLAIN.
    pub fn name(&self) -> &'static str {
        match self {
            WriteClause::Create(_) => "CreatePattern",
            WriteClause::Merge { .. } => "Merge",
            WriteClause::Set(_) => "SetProperties",
            WriteClause::Delete { .. } => "Delete",
            WriteClause::Foreach { .. } => "Foreach",
        }
    }

    /// Applies the clause to all rows of its (already fully read) input.
    pub fn apply_batch<G: GraphWrite>(&self, rows: Vec<Row>, ctx: &mut ExecCtx<G>) -> Result<Vec<Row>> {
        if let WriteClause::Delete { exprs, detach } = self {
            return delete_batch(exprs, *detach, rows, ctx);
        }
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.extend(self.apply(row, ctx)?);
        }
        Ok(out)
    }

    /// Applies the clause to one row; returns the rows that continue.
    pub fn apply<G: GraphWrite>(&self, mut row: Row, ctx: &mut ExecCtx<G>) -> Result<Vec<Row>> {
        match self {
            WriteClause::Create(parts) => {
                for part in parts {
                    create_part(part, &mut row, ctx)?;
                }
                Ok(vec![row])
            }
            WriteClause::Merge {
                pattern,
                create,
                on_create,
                on_match,
            } => {
                refuse_null_properties(create, &mut row, ctx)?;
                let mut matches = Vec::new();
                for_each_match(pattern, &mut row, ctx, &mut |r| {
                    matches.push(r.to_vec());
                    Ok(true)
                })?;
                if matches.is_empty() {
                    create_part(create, &mut row, ctx)?;
                    apply_sets(on_create, &mut row, ctx)?;
                    return Ok(vec![row]);
                }
                for m in matches.iter_mut() {
                    apply_sets(on_match, m, ctx)?;
                }
                Ok(matches)
            }
            WriteClause::Set(ops) => {
                apply_sets(ops, &mut row, ctx)?;
                Ok(vec![row])
            }
            WriteClause::Delete { exprs, detach } => {
                for e in exprs {
                    let v = eval(e, &mut row, ctx)?;
                    delete_value(v, *detach, ctx)?;
                }
                Ok(vec![row])
            }
            WriteClause::Foreach { slot, list, body } => {
                let items = match eval(list, &mut row, ctx)? {
                    QValue::List(items) => items,
                    QValue::Null => Vec::new(),
                    other => return Err(type_error(format!("FOREACH needs a list, got {}", other.type_name()))),
                };
                for item in items {
                    let mut inner = row.clone();
                    inner[*slot] = item;
                    let mut rows = vec![inner];
                    for clause in body {
                        let mut next = Vec::new();
                        for r in rows {
                            next.extend(clause.apply(r, ctx)?);
                        }
                        rows = next;
                    }
                }
                Ok(vec![row])
            }
        }
    }
}

fn type_error(message: String) -> QueryError {
    QueryError::runtime(ErrorKind::TypeError, "InvalidArgumentType", message)
}

/// Converts a runtime value to a storable property value: a scalar or a list of
/// scalars (maps, nested lists and graph entities cannot be properties).
fn storable(v: &QValue) -> Result<weft_common::Value> {
    let nested = |item: &QValue| matches!(item, QValue::Map(_) | QValue::List(_));
    let allowed = match v {
        QValue::Map(_) => false,
        QValue::List(items) => !items.iter().any(nested),
        _ => true,
    };
    allowed.then(|| v.to_value()).flatten().ok_or_else(|| {
        QueryError::runtime(
            ErrorKind::TypeError,
            "InvalidPropertyType",
            format!("{} values cannot be stored as properties", v.type_name()),
        )
    })
}

/// MERGE cannot match on a null property (null never equals anything, so the MERGE
/// would create on every run what it can never find again).
fn refuse_null_properties<G: GraphWrite>(part: &CreatePart, row: &mut [QValue], ctx: &ExecCtx<G>) -> Result<()> {
    let node_props = part.nodes.iter().filter(|n| !n.existing).map(|n| &n.props);
    for props in node_props.chain(part.rels.iter().map(|r| &r.props)) {
        if props.is_none() {
            continue;
        }
        if let Some((key, _)) = props_map(props, row, ctx)?.iter().find(|(_, v)| v.is_null()) {
            return Err(QueryError::runtime(
                ErrorKind::SemanticError,
                "MergeReadOwnWrites",
                format!("Cannot merge the pattern because of a null value for property `{key}`"),
            ));
        }
    }
    Ok(())
}

fn props_map<G: GraphWrite>(
    e: &Option<CExpr>,
    row: &mut [QValue],
    ctx: &ExecCtx<G>,
) -> Result<BTreeMap<String, QValue>> {
    match e {
        None => Ok(BTreeMap::new()),
        Some(e) => match eval(e, row, ctx)? {
            QValue::Map(m) => Ok(m),
            QValue::Null => Ok(BTreeMap::new()),
            other => Err(type_error(format!(
                "properties must be a map, got {}",
                other.type_name()
            ))),
        },
    }
}

/// The properties a CREATE gives a new node or relationship, in key order (the order a
/// map value has, so the first property refused is the same whichever way it came). A
/// map literal with distinct keys (the usual `{id: r.id, name: r.name}`) is evaluated
/// entry by entry, its keys borrowed from the plan; anything else goes through the map
/// value it evaluates to, as `props_map` makes it.
fn create_props<'p, G: GraphWrite>(
    e: &'p Option<CExpr>,
    row: &mut [QValue],
    ctx: &ExecCtx<G>,
) -> Result<Vec<(Cow<'p, str>, QValue)>> {
    if let Some(CExpr::Map(entries)) = e {
        let distinct = entries
            .iter()
            .enumerate()
            .all(|(i, (key, _))| entries[..i].iter().all(|(other, _)| other != key));
        if distinct {
            let mut props = entries
                .iter()
                .map(|(key, value)| Ok((Cow::Borrowed(key.as_str()), eval(value, row, ctx)?)))
                .collect::<Result<Vec<_>>>()?;
            props.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
            return Ok(props);
        }
    }
    Ok(props_map(e, row, ctx)?
        .into_iter()
        .map(|(key, value)| (Cow::Owned(key), value))
        .collect())
}

fn create_part<G: GraphWrite>(part: &CreatePart, row: &mut [QValue], ctx: &mut ExecCtx<G>) -> Result<()> {
    let mut gids = Vec::new();
    for n in &part.nodes {
        let gid = if n.existing {
            match &row[n.slot] {
                QValue::Node(g) => *g,
                other => {
                    return Err(type_error(format!(
                        "cannot create a relationship to {}",
                        other.type_name()
                    )));
                }
            }
        } else {
            let props = create_props(&n.props, row, ctx)?;
            let gid = ctx.graph_mut()?.create_vertex()?;
            ctx.stats.nodes_created += 1;
            for l in &n.labels {
                let graph = ctx.graph_mut()?;
                let label = graph.label(l);
                if graph.add_label(gid, label)? {
                    ctx.stats.labels_added += 1;
                }
            }
            for (k, v) in props {
                set_property(&QValue::Node(gid), &k, &v, ctx)?;
            }
            row[n.slot] = QValue::Node(gid);
            gid
        };
        gids.push(gid);
    }
    let mut steps = Vec::new();
    for (i, r) in part.rels.iter().enumerate() {
        let (from, to) = if r.backwards {
            (gids[i + 1], gids[i])
        } else {
            (gids[i], gids[i + 1])
        };
        let props = create_props(&r.props, row, ctx)?;
        let graph = ctx.graph_mut()?;
        let edge_type = graph.edge_type(&r.rel_type);
        let edge = graph.create_edge(from, to, edge_type)?;
        ctx.stats.relationships_created += 1;
        for (k, v) in props {
            set_property(&QValue::Relationship(edge), &k, &v, ctx)?;
        }
        row[r.slot] = QValue::Relationship(edge);
        steps.push((edge, gids[i + 1]));
    }
    if let Some(slot) = part.path_slot {
        row[slot] = QValue::Path(PathValue { start: gids[0], steps });
    }
    Ok(())
}

/// Sets (or with null, removes) one property of a node or relationship.
fn set_property<G: GraphWrite>(target: &QValue, key: &str, value: &QValue, ctx: &mut ExecCtx<G>) -> Result<()> {
    let prop = ctx.graph_mut()?.property(key);
    let stored = if value.is_null() {
        weft_common::Value::Null
    } else {
        storable(value)?
    };
    let old = match target {
        QValue::Node(n) => ctx.graph_mut()?.set_vertex_property(*n, prop, stored)?,
        QValue::Relationship(r) => ctx.graph_mut()?.set_edge_property(r, prop, stored)?,
        QValue::Null => return Ok(()),
        other => return Err(type_error(format!("cannot set a property on {}", other.type_name()))),
    };
    if value.is_null() {
        if old.is_some() {
            ctx.stats.properties_removed += 1;
        }
    } else {
        ctx.stats.properties_set += 1;
    }
    Ok(())
}

fn apply_sets<G: GraphWrite>(ops: &[SetOp], row: &mut [QValue], ctx: &mut ExecCtx<G>) -> Result<()> {
    for op in ops {
        match op {
            SetOp::Property { target, key, value } => {
                let t = eval(target, row, ctx)?;
                let v = eval(value, row, ctx)?;
                set_property(&t, key, &v, ctx)?;
            }
            SetOp::Replace { target, value, merge } => {
                let t = eval(target, row, ctx)?;
                if t.is_null() {
                    continue;
                }
                let new = match eval(value, row, ctx)? {
                    QValue::Map(m) => m,
                    QValue::Null => BTreeMap::new(),
                    v @ (QValue::Node(_) | QValue::Relationship(_)) => ctx.all_properties(&v)?,
                    other => return Err(type_error(format!("SET needs a map, got {}", other.type_name()))),
                };
                if !merge {
                    for key in ctx.all_properties(&t)?.into_keys().filter(|k| !new.contains_key(k)) {
                        set_property(&t, &key, &QValue::Null, ctx)?;
                    }
                }
                for (k, v) in new {
                    set_property(&t, &k, &v, ctx)?;
                }
            }
            SetOp::AddLabels { target, labels } => match eval(target, row, ctx)? {
                QValue::Node(n) => {
                    for l in labels {
                        let graph = ctx.graph_mut()?;
                        let label = graph.label(l);
                        if graph.add_label(n, label)? {
                            ctx.stats.labels_added += 1;
                        }
                    }
                }
                QValue::Null => {}
                other => return Err(type_error(format!("cannot set labels on {}", other.type_name()))),
            },
            SetOp::RemoveProperty { target, key } => {
                let t = eval(target, row, ctx)?;
                set_property(&t, key, &QValue::Null, ctx)?;
            }
            SetOp::RemoveLabels { target, labels } => match eval(target, row, ctx)? {
                QValue::Node(n) => {
                    for l in labels {
                        let Some(label) = ctx.graph().find_label(l) else {
                            continue;
                        };
                        if ctx.graph_mut()?.remove_label(n, label)? {
                            ctx.stats.labels_removed += 1;
                        }
                    }
                }
                QValue::Null => {}
                other => return Err(type_error(format!("cannot remove labels from {}", other.type_name()))),
            },
        }
    }
    Ok(())
}

/// DELETE over a whole input: relationships first, then nodes, so a node whose
/// relationships are deleted by the same clause (on any row) can go without DETACH.
fn delete_batch<G: GraphWrite>(
    exprs: &[CExpr],
    detach: bool,
    mut rows: Vec<Row>,
    ctx: &mut ExecCtx<G>,
) -> Result<Vec<Row>> {
    let mut nodes = Vec::new();
    for row in rows.iter_mut() {
        for e in exprs {
            match eval(e, row, ctx)? {
                QValue::Node(n) => nodes.push(n),
                QValue::Path(p) => {
                    for (r, _) in &p.steps {
                        delete_rel(r, ctx)?;
                    }
                    nodes.push(p.start);
                    nodes.extend(p.steps.iter().map(|(_, n)| *n));
                }
                other => delete_value(other, detach, ctx)?,
            }
        }
    }
    for n in nodes {
        delete_node(n, detach, ctx)?;
    }
    Ok(rows)
}

fn delete_value<G: GraphWrite>(v: QValue, detach: bool, ctx: &mut ExecCtx<G>) -> Result<()> {
    match v {
        QValue::Null => Ok(()),
        QValue::Node(n) => delete_node(n, detach, ctx),
        QValue::Relationship(r) => delete_rel(&r, ctx),
        QValue::Path(p) => {
            for (r, _) in &p.steps {
                delete_rel(r, ctx)?;
            }
            delete_node(p.start, detach, ctx)?;
            for (_, n) in &p.steps {
                delete_node(*n, detach, ctx)?;
            }
            Ok(())
        }
        other => Err(type_error(format!(
            "DELETE needs a node, relationship or path, got {}",
            other.type_name()
        ))),
    }
}

fn delete_node<G: GraphWrite>(n: Gid, detach: bool, ctx: &mut ExecCtx<G>) -> Result<()> {
    if !ctx.graph().vertex_exists(n) {
        return Ok(());
    }
    let mut edges: Vec<EdgeRef> = ctx.graph().edges(n, Direction::Out, &[])?;
    edges.extend(ctx.graph().edges(n, Direction::In, &[])?);
    edges.sort_unstable();
    edges.dedup();
    ctx.graph_mut()?.delete_vertex(n, detach)?;
    ctx.stats.nodes_deleted += 1;
    ctx.stats.relationships_deleted += edges.len() as u64;
    Ok(())
}

fn delete_rel<G: GraphWrite>(r: &EdgeRef, ctx: &mut ExecCtx<G>) -> Result<()> {
    if !ctx.graph().edge_exists(r) {
        return Ok(());
    }
    ctx.graph_mut()?.delete_edge(r)?;
    ctx.stats.relationships_deleted += 1;
    Ok(())
}

/// The stored direction of a CREATE relationship, or the error openCypher requires.
pub fn create_direction(d: RelDirection) -> Result<bool> {
    match d {
        RelDirection::Outgoing => Ok(false),
        RelDirection::Incoming => Ok(true),
        RelDirection::Both => Err(QueryError::compile(
            ErrorKind::SyntaxError,
            "RequiresDirectedRelationship",
            "Only directed relationships are supported in CREATE",
        )),
    }
}
