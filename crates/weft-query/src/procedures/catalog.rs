//! The engine's own procedures: the names, schema and catalog that drivers, shells and
//! tools ask for, in the columns Neo4j 5 (and, for `mg.procedures()`, Memgraph) give.
//!
//! Owns: their signatures ([`procedures`]) and bodies ([`run`]). The schema procedures
//! scan the graph the transaction sees; the catalog ones read the engine's registries.

use super::{Body, ProcMode, ProcType, Procedure};
use crate::error::Result;
use crate::exec::ExecCtx;
use crate::graph::{ConstraintInfo, Direction, GraphRead, IndexInfo};
use crate::value::QValue;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;

/// The version `dbms.components()` reports: the Neo4j release whose Cypher and Bolt
/// this engine follows (tools pick their syntax from it).
pub const COMPATIBLE_VERSION: &str = "5.13.0";

/// Which built-in a procedure is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    Labels,
    RelationshipTypes,
    PropertyKeys,
    Imports,
    Components,
    NodeTypeProperties,
    RelTypeProperties,
    Indexes,
    Constraints,
    Procedures,
    Functions,
    Databases,
    MgProcedures,
    SchemaVisualization,
}

/// Every built-in procedure.
pub fn procedures() -> Vec<Procedure> {
    use ProcType::{Any, Boolean, Float, Integer, List, String as Str};
    let p = |name: &str, outputs: &[(&str, ProcType)], description: &str, mode, builtin| Procedure {
        name: name.to_owned(),
        inputs: Vec::new(),
        outputs: outputs.iter().map(|(n, t)| ((*n).to_owned(), *t)).collect(),
        description: description.to_owned(),
        mode,
        body: Body::Builtin(builtin),
    };
    use Builtin::*;
    use ProcMode::{Dbms, Read};
    vec![
        p("db.labels", &[("label", Str)], "The labels in use.", Read, Labels),
        p(
            "db.relationshipTypes",
            &[("relationshipType", Str)],
            "The relationship types in use.",
            Read,
            RelationshipTypes,
        ),
        p("db.propertyKeys", &[("propertyKey", Str)], "The property keys in use.", Read, PropertyKeys),
        p(
            "weft.imports",
            &[("file", Str), ("rows", Integer), ("bytes", Integer), ("size", Integer), ("seconds", Float)],
            "The files LOAD CSV statements are reading now, and how far they are.",
            Dbms,
            Imports,
        ),
        p(
            "dbms.components",
            &[("name", Str), ("versions", List), ("edition", Str)],
            "The database's name, the Neo4j version it is compatible with, and its edition.",
            Dbms,
            Components,
        ),
        p(
            "db.schema.nodeTypeProperties",
            &[
                ("nodeType", Str),
                ("nodeLabels", List),
                ("propertyName", Str),
                ("propertyTypes", List),
                ("mandatory", Boolean),
            ],
            "Each combination of labels in use, its property keys, their value types and whether every such node has them.",
            Read,
            NodeTypeProperties,
        ),
        p(
            "db.schema.relTypeProperties",
            &[
                ("relType", Str),
                ("propertyName", Str),
                ("propertyTypes", List),
                ("mandatory", Boolean),
            ],
            "Each relationship type in use, its property keys, their value types and whether every such relationship has them.",
            Read,
            RelTypeProperties,
        ),
        p(
            "db.schema.visualization",
            &[("nodes", List), ("relationships", List)],
            "The schema as a graph: a virtual node per label (with its indexes and constraints) and a virtual relationship per type between the labels it joins.",
            Read,
            SchemaVisualization,
        ),
        p(
            "db.indexes",
            &[
                ("id", Integer),
                ("name", Str),
                ("state", Str),
                ("populationPercent", Float),
                ("type", Str),
                ("entityType", Str),
                ("labelsOrTypes", List),
                ("properties", List),
                ("indexProvider", Str),
                ("owningConstraint", Str),
                ("lastRead", Any),
                ("readCount", Integer),
            ],
            "The indexes (SHOW INDEXES).",
            Read,
            Indexes,
        ),
        p(
            "db.constraints",
            &[
                ("id", Integer),
                ("name", Str),
                ("type", Str),
                ("entityType", Str),
                ("labelsOrTypes", List),
                ("properties", List),
                ("ownedIndex", Str),
                ("propertyType", Str),
            ],
            "The constraints (SHOW CONSTRAINTS).",
            Read,
            Constraints,
        ),
        p(
            "dbms.procedures",
            &[
                ("name", Str),
                ("description", Str),
                ("mode", Str),
                ("worksOnSystem", Boolean),
                ("signature", Str),
            ],
            "The procedures (SHOW PROCEDURES).",
            Dbms,
            Procedures,
        ),
        p(
            "dbms.functions",
            &[
                ("name", Str),
                ("category", Str),
                ("description", Str),
                ("signature", Str),
                ("isBuiltIn", Boolean),
                ("aggregating", Boolean),
            ],
            "The functions (SHOW FUNCTIONS).",
            Dbms,
            Functions,
        ),
        p(
            "dbms.databases",
            &[
                ("name", Str),
                ("type", Str),
                ("aliases", List),
                ("access", Str),
                ("address", Str),
                ("role", Str),
                ("writer", Boolean),
                ("requestedStatus", Str),
                ("currentStatus", Str),
                ("statusMessage", Str),
                ("default", Boolean),
                ("home", Boolean),
                ("constituents", List),
            ],
            "The databases this server holds (SHOW DATABASES): one, `neo4j`.",
            Dbms,
            Databases,
        ),
        p(
            "mg.procedures",
            &[
                ("name", Str),
                ("signature", Str),
                ("is_write", Boolean),
                ("path", Str),
                ("is_editable", Boolean),
            ],
            "The procedures, as Memgraph lists them.",
            Dbms,
            MgProcedures,
        ),
    ]
}

/// Runs built-in `which`; each record holds the outputs in signature order.
pub fn run<G: GraphRead>(which: Builtin, ctx: &ExecCtx<G>) -> Result<Vec<Vec<QValue>>> {
    let names = |set: BTreeSet<String>| set.into_iter().map(|n| vec![text(&n)]).collect();
    Ok(match which {
        Builtin::Labels | Builtin::RelationshipTypes | Builtin::PropertyKeys => names(schema_names(which, ctx)?),
        Builtin::Imports => ctx
            .imports()
            .running()
            .iter()
            .map(|p| {
                let count = |n: &std::sync::atomic::AtomicU64| QValue::Int(n.load(Ordering::Relaxed) as i64);
                vec![
                    text(&p.path),
                    count(&p.rows),
                    count(&p.read),
                    QValue::Int(p.size as i64),
                    QValue::Float(p.started.elapsed().as_secs_f64()),
                ]
            })
            .collect(),
        Builtin::Components => vec![vec![
            text("Neo4j Kernel"),
            QValue::List(vec![text(COMPATIBLE_VERSION)]),
            text(concat!("weft ", env!("CARGO_PKG_VERSION"))),
        ]],
        Builtin::NodeTypeProperties => node_type_properties(ctx)?,
        Builtin::SchemaVisualization => schema_visualization(ctx)?,
        Builtin::RelTypeProperties => rel_type_properties(ctx)?,
        Builtin::Indexes => indexes(ctx),
        Builtin::Constraints => constraints(ctx),
        Builtin::Procedures => ctx
            .procedures()
            .iter()
            .map(|p| {
                vec![
                    text(&p.name),
                    text(&p.description),
                    text(p.mode.name()),
                    QValue::Bool(p.mode == ProcMode::Dbms),
                    text(&p.signature()),
                ]
            })
            .collect(),
        Builtin::Functions => crate::functions::registered()
            .map(|(name, min, max)| {
                let aggregating = crate::functions::is_aggregate(name);
                let arity = match (min, max) {
                    (min, max) if min == max => format!("{min} argument(s)"),
                    (min, usize::MAX) => format!("at least {min} argument(s)"),
                    (min, max) => format!("{min} to {max} arguments"),
                };
                vec![
                    text(name),
                    text(if aggregating { "Aggregating" } else { "Scalar" }),
                    text(""),
                    text(&format!("{name}(...) :: ANY, {arity}")),
                    QValue::Bool(true),
                    QValue::Bool(aggregating),
                ]
            })
            .collect(),
        Builtin::Databases => vec![vec![
            text("neo4j"),
            text("standard"),
            QValue::List(Vec::new()),
            text("read-write"),
            QValue::Null,
            text("primary"),
            QValue::Bool(true),
            text("online"),
            text("online"),
            text(""),
            QValue::Bool(true),
            QValue::Bool(true),
            QValue::List(Vec::new()),
        ]],
        Builtin::MgProcedures => ctx
            .procedures()
            .iter()
            .map(|p| {
                vec![
                    text(&p.name),
                    text(&p.signature()),
                    QValue::Bool(p.mode == ProcMode::Write),
                    text("builtin"),
                    QValue::Bool(false),
                ]
            })
            .collect(),
    })
}

fn text(s: &str) -> QValue {
    QValue::String(s.to_owned())
}

fn texts<'a>(items: impl IntoIterator<Item = &'a str>) -> QValue {
    QValue::List(items.into_iter().map(text).collect())
}

/// The label, relationship type or property key names in use.
fn schema_names<G: GraphRead>(which: Builtin, ctx: &ExecCtx<G>) -> Result<BTreeSet<String>> {
    let graph = ctx.graph();
    let mut found = BTreeSet::new();
    for gid in graph.all_vertices() {
        match which {
            Builtin::Labels => found.extend(graph.vertex_labels(gid)?.into_iter().map(|l| graph.label_name(l))),
            Builtin::RelationshipTypes => found.extend(
                graph
                    .edges(gid, Direction::Out, &[])?
                    .into_iter()
                    .map(|e| graph.edge_type_name(e.edge_type)),
            ),
            _ => {
                let keys = graph.vertex_properties(gid)?.into_iter().map(|(k, _)| k);
                found.extend(keys.map(|k| graph.property_name(k)));
                for e in graph.edges(gid, Direction::Out, &[])? {
                    let keys = graph.edge_properties(&e)?.into_iter().map(|(k, _)| k);
                    found.extend(keys.map(|k| graph.property_name(k)));
                }
            }
        }
    }
    Ok(found)
}

/// Neo4j's name for the type of a stored value (`String`, `Long`, `StringArray`, ...).
fn type_name(v: &weft_common::Value) -> String {
    use weft_common::Value as V;
    match v {
        V::Bool(_) => "Boolean".into(),
        V::Int(_) => "Long".into(),
        V::Float(_) => "Double".into(),
        V::String(_) => "String".into(),
        V::Date(_) => "Date".into(),
        V::LocalTime(_) => "LocalTime".into(),
        V::ZonedTime(_) => "Time".into(),
        V::LocalDateTime(_) => "LocalDateTime".into(),
        V::ZonedDateTime(_) => "DateTime".into(),
        V::Duration(_) => "Duration".into(),
        V::Point(_) => "Point".into(),
        V::List(items) => match items.first() {
            Some(first) => format!("{}Array", type_name(first)),
            None => "StringArray".into(),
        },
        _ => "Any".into(),
    }
}

/// What one kind of entity (a label combination, a relationship type) was seen with.
#[derive(Default)]
struct Kind {
    count: u64,
    /// Per property key: its value types and how many entities have it.
    keys: BTreeMap<String, (BTreeSet<String>, u64)>,
}

impl Kind {
    fn add(&mut self, props: Vec<(String, weft_common::Value)>) {
        self.count += 1;
        for (key, value) in props {
            let entry = self.keys.entry(key).or_default();
            entry.0.insert(type_name(&value));
            entry.1 += 1;
        }
    }

    /// One row per key (a kind without properties has one row with null key), each
    /// ending in the key, its types and whether every entity of the kind has it.
    fn rows(&self, mut head: impl FnMut() -> Vec<QValue>, out: &mut Vec<Vec<QValue>>) {
        if self.keys.is_empty() {
            let mut row = head();
            row.extend([QValue::Null, QValue::Null, QValue::Bool(false)]);
            out.push(row);
        }
        for (key, (types, seen)) in &self.keys {
            let mut row = head();
            row.extend([
                text(key),
                texts(types.iter().map(String::as_str)),
                QValue::Bool(*seen == self.count),
            ]);
            out.push(row);
        }
    }
}

fn named<G: GraphRead>(
    graph: &G,
    props: Vec<(weft_common::PropertyId, weft_common::Value)>,
) -> Vec<(String, weft_common::Value)> {
    props.into_iter().map(|(k, v)| (graph.property_name(k), v)).collect()
}

fn node_type_properties<G: GraphRead>(ctx: &ExecCtx<G>) -> Result<Vec<Vec<QValue>>> {
    let graph = ctx.graph();
    let mut kinds: BTreeMap<Vec<String>, Kind> = BTreeMap::new();
    for gid in graph.all_vertices() {
        let mut labels: Vec<String> = graph
            .vertex_labels(gid)?
            .into_iter()
            .map(|l| graph.label_name(l))
            .collect();
        labels.sort();
        kinds
            .entry(labels)
            .or_default()
            .add(named(graph, graph.vertex_properties(gid)?));
    }
    let mut out = Vec::new();
    for (labels, kind) in &kinds {
        let node_type: String = labels.iter().map(|l| format!(":`{l}`")).collect();
        kind.rows(
            || vec![text(&node_type), texts(labels.iter().map(String::as_str))],
            &mut out,
        );
    }
    Ok(out)
}

fn rel_type_properties<G: GraphRead>(ctx: &ExecCtx<G>) -> Result<Vec<Vec<QValue>>> {
    let graph = ctx.graph();
    let mut kinds: BTreeMap<String, Kind> = BTreeMap::new();
    for gid in graph.all_vertices() {
        for e in graph.edges(gid, Direction::Out, &[])? {
            let name = graph.edge_type_name(e.edge_type);
            kinds
                .entry(name)
                .or_default()
                .add(named(graph, graph.edge_properties(&e)?));
        }
    }
    let mut out = Vec::new();
    for (rel_type, kind) in &kinds {
        kind.rows(|| vec![text(&format!(":`{rel_type}`"))], &mut out);
    }
    Ok(out)
}

fn schema_visualization<G: GraphRead>(ctx: &ExecCtx<G>) -> Result<Vec<Vec<QValue>>> {
    let graph = ctx.graph();
    let mut labels_of: crate::exec::row::FastMap<weft_common::Gid, Vec<String>> = Default::default();
    let mut labels = BTreeSet::new();
    let mut joins = BTreeSet::new();
    let mut named = |gid| -> Result<Vec<String>> {
        if let Some(known) = labels_of.get(&gid) {
            return Ok(known.clone());
        }
        let names: Vec<String> = graph
            .vertex_labels(gid)?
            .into_iter()
            .map(|l| graph.label_name(l))
            .collect();
        labels_of.insert(gid, names.clone());
        Ok(names)
    };
    for gid in graph.all_vertices() {
        let from = named(gid)?;
        labels.extend(from.iter().cloned());
        for e in graph.edges(gid, Direction::Out, &[])? {
            let rel_type = graph.edge_type_name(e.edge_type);
            for to in named(e.to)? {
                for start in &from {
                    joins.insert((start.clone(), rel_type.clone(), to.clone()));
                }
            }
        }
    }
    let (indexes, constraints) = (graph.indexes(), graph.constraints());
    let mut virtuals = ctx.virtuals();
    let mut nodes = BTreeMap::new();
    for label in &labels {
        let on_label = indexes.iter().filter_map(|i| match i {
            IndexInfo::LabelProperty(l, p) if l == label => Some(p.as_str()),
            _ => None,
        });
        let constrained = constraints.iter().filter_map(|c| match c {
            ConstraintInfo::Exists(l, p) if l == label => Some(format!("EXISTS ({p})")),
            ConstraintInfo::Unique(l, ps) if l == label => Some(format!("UNIQUE ({})", ps.join(", "))),
            _ => None,
        });
        let props = BTreeMap::from([
            ("name".to_owned(), text(label)),
            ("indexes".to_owned(), texts(on_label)),
            (
                "constraints".to_owned(),
                QValue::List(constrained.map(|c| text(&c)).collect()),
            ),
        ]);
        nodes.insert(label.clone(), virtuals.node(vec![label.clone()], props));
    }
    let rels = joins
        .iter()
        .map(|(from, rel_type, to)| {
            let props = BTreeMap::from([("name".to_owned(), text(rel_type))]);
            QValue::Relationship(virtuals.relationship(nodes[from], nodes[to], rel_type.clone(), props))
        })
        .collect();
    let nodes = nodes.values().map(|n| QValue::Node(*n)).collect();
    Ok(vec![vec![QValue::List(nodes), QValue::List(rels)]])
}

fn indexes<G: GraphRead>(ctx: &ExecCtx<G>) -> Vec<Vec<QValue>> {
    let mut ids = 0;
    ctx.graph()
        .indexes()
        .into_iter()
        .map(|index| {
            ids += 1;
            let (name, kind, entity, on, props) = match &index {
                IndexInfo::Label(l) => (format!("index_{l}"), "LOOKUP", "NODE", l, Vec::new()),
                IndexInfo::LabelProperty(l, p) => (format!("index_{l}_{p}"), "RANGE", "NODE", l, vec![p.as_str()]),
                IndexInfo::EdgeType(t) => (format!("index_{t}"), "LOOKUP", "RELATIONSHIP", t, Vec::new()),
            };
            let props = if props.is_empty() { QValue::Null } else { texts(props) };
            vec![
                QValue::Int(ids),
                text(&name),
                text("ONLINE"),
                QValue::Float(100.0),
                text(kind),
                text(entity),
                texts([on.as_str()]),
                props,
                text(if kind == "RANGE" {
                    "range-1.0"
                } else {
                    "token-lookup-1.0"
                }),
                QValue::Null,
                QValue::Null,
                QValue::Int(0),
            ]
        })
        .collect()
}

fn constraints<G: GraphRead>(ctx: &ExecCtx<G>) -> Vec<Vec<QValue>> {
    let mut ids = 0;
    ctx.graph()
        .constraints()
        .into_iter()
        .map(|c| {
            ids += 1;
            let (kind, label, props) = match &c {
                ConstraintInfo::Exists(l, p) => ("NODE_PROPERTY_EXISTENCE", l, vec![p.as_str()]),
                ConstraintInfo::Unique(l, ps) => ("UNIQUENESS", l, ps.iter().map(String::as_str).collect()),
            };
            let name = format!("constraint_{label}_{}", props.join("_"));
            vec![
                QValue::Int(ids),
                text(&name),
                text(kind),
                text("NODE"),
                texts([label.as_str()]),
                texts(props),
                QValue::Null,
                QValue::Null,
            ]
        })
        .collect()
}
