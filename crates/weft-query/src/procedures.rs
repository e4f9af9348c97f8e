//! Procedures callable with `CALL`: a registry of signatures (name, typed inputs, typed
//! outputs) and bodies. Built in: `db.labels()`, `db.relationshipTypes()`,
//! `db.propertyKeys()`, and `weft.imports()` (the LOAD CSV files being read). Fixed-table
//! procedures can be registered (rows of input values followed by output values; a call
//! returns the outputs of rows whose inputs equal the arguments), which is how the TCK's
//! test procedures are declared.

use crate::error::{ErrorKind, QueryError, Result};
use crate::exec::ExecCtx;
use crate::graph::{Direction, GraphRead};
use crate::value::QValue;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use weft_common::Value;

/// A declared parameter or output type (`INTEGER?` and the like; `?` is nullable and
/// accepted everywhere).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcType {
    Any,
    Boolean,
    Integer,
    Float,
    Number,
    String,
    List,
    Map,
    Node,
    Relationship,
    Path,
}

impl ProcType {
    fn parse(text: &str) -> std::result::Result<Self, String> {
        Ok(match text.trim().trim_end_matches('?').to_uppercase().as_str() {
            "ANY" => ProcType::Any,
            "BOOLEAN" => ProcType::Boolean,
            "INTEGER" => ProcType::Integer,
            "FLOAT" => ProcType::Float,
            "NUMBER" => ProcType::Number,
            "STRING" => ProcType::String,
            "MAP" => ProcType::Map,
            "NODE" => ProcType::Node,
            "RELATIONSHIP" => ProcType::Relationship,
            "PATH" => ProcType::Path,
            t if t.starts_with("LIST") => ProcType::List,
            other => return Err(format!("unknown procedure type `{other}`")),
        })
    }

    /// Whether a value may be passed for this type (null always may).
    pub fn accepts(self, v: &QValue) -> bool {
        matches!(
            (self, v),
            (_, QValue::Null)
                | (ProcType::Any, _)
                | (ProcType::Boolean, QValue::Bool(_))
                | (ProcType::Integer, QValue::Int(_))
                | (ProcType::Float | ProcType::Number, QValue::Int(_) | QValue::Float(_))
                | (ProcType::String, QValue::String(_))
                | (ProcType::List, QValue::List(_))
                | (ProcType::Map, QValue::Map(_))
                | (ProcType::Node, QValue::Node(_))
                | (ProcType::Relationship, QValue::Relationship(_))
                | (ProcType::Path, QValue::Path(_))
        )
    }
}

/// What a procedure does.
#[derive(Debug)]
pub enum Body {
    Labels,
    RelationshipTypes,
    PropertyKeys,
    /// The LOAD CSV files being read now (`weft.imports()`).
    Imports,
    /// Rows of input values then output values.
    Table(Vec<Vec<Value>>),
}

/// A procedure's signature and body.
#[derive(Debug)]
pub struct Procedure {
    pub name: String,
    pub inputs: Vec<(String, ProcType)>,
    pub outputs: Vec<(String, ProcType)>,
    pub body: Body,
}

impl Procedure {
    /// A fixed-table procedure from a signature such as
    /// `my.proc(in :: INTEGER?) :: (out :: STRING?)` and rows of inputs then outputs.
    pub fn from_signature(signature: &str, rows: Vec<Vec<Value>>) -> std::result::Result<Self, String> {
        let (name, rest) = signature.trim().split_once('(').ok_or("signature needs `(inputs)`")?;
        let (inputs, rest) = rest.split_once(')').ok_or("unclosed input list")?;
        let outputs = rest.trim().strip_prefix("::").ok_or("signature needs `:: (outputs)`")?;
        let outputs = outputs.trim().trim_end_matches(':').trim();
        let outputs = outputs
            .strip_prefix('(')
            .and_then(|o| o.strip_suffix(')'))
            .ok_or("outputs need `( )`")?;
        let (inputs, outputs) = (fields(inputs)?, fields(outputs)?);
        if let Some(bad) = rows.iter().find(|r| r.len() != inputs.len() + outputs.len()) {
            return Err(format!(
                "a row has {} values, the signature {}",
                bad.len(),
                inputs.len() + outputs.len()
            ));
        }
        Ok(Procedure {
            name: name.trim().to_owned(),
            inputs,
            outputs,
            body: Body::Table(rows),
        })
    }

    /// The output field names.
    pub fn output_names(&self) -> Vec<String> {
        self.outputs.iter().map(|(n, _)| n.clone()).collect()
    }
}

fn fields(list: &str) -> std::result::Result<Vec<(String, ProcType)>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(|f| {
            let (name, ty) = f
                .split_once("::")
                .ok_or_else(|| format!("field `{f}` needs `name :: TYPE`"))?;
            Ok((name.trim().to_owned(), ProcType::parse(ty)?))
        })
        .collect()
}

/// The procedures one engine knows, by lower-case name.
#[derive(Debug)]
pub struct Registry {
    procedures: RwLock<HashMap<String, Arc<Procedure>>>,
}

impl Default for Registry {
    fn default() -> Self {
        let builtin = |name: &str, field: &str, body| Procedure {
            name: name.to_owned(),
            inputs: Vec::new(),
            outputs: vec![(field.to_owned(), ProcType::String)],
            body,
        };
        let registry = Registry {
            procedures: RwLock::new(HashMap::new()),
        };
        registry.register(builtin("db.labels", "label", Body::Labels));
        registry.register(builtin(
            "db.relationshipTypes",
            "relationshipType",
            Body::RelationshipTypes,
        ));
        registry.register(builtin("db.propertyKeys", "propertyKey", Body::PropertyKeys));
        registry.register(Procedure {
            name: "weft.imports".to_owned(),
            inputs: Vec::new(),
            outputs: [
                ("file", ProcType::String),
                ("rows", ProcType::Integer),
                ("bytes", ProcType::Integer),
                ("size", ProcType::Integer),
                ("seconds", ProcType::Float),
            ]
            .into_iter()
            .map(|(n, t)| (n.to_owned(), t))
            .collect(),
            body: Body::Imports,
        });
        registry
    }
}

impl Registry {
    /// Adds (or replaces) a procedure.
    pub fn register(&self, p: Procedure) {
        if let Ok(mut map) = self.procedures.write() {
            map.insert(p.name.to_lowercase(), Arc::new(p));
        }
    }

    /// A procedure by name (case-insensitive), or `ProcedureNotFound`.
    pub fn get(&self, name: &str) -> Result<Arc<Procedure>> {
        let found = self
            .procedures
            .read()
            .ok()
            .and_then(|m| m.get(&name.to_lowercase()).cloned());
        found.ok_or_else(|| {
            QueryError::compile(
                ErrorKind::ProcedureError,
                "ProcedureNotFound",
                format!("There is no procedure with the name `{name}` registered for this database instance"),
            )
        })
    }
}

/// Runs a procedure; each record holds the output values in signature order.
pub fn run<G: GraphRead>(p: &Procedure, args: &[QValue], ctx: &ExecCtx<G>) -> Result<Vec<Vec<QValue>>> {
    for ((name, ty), v) in p.inputs.iter().zip(args) {
        if !ty.accepts(v) {
            return Err(QueryError::runtime(
                ErrorKind::TypeError,
                "InvalidArgumentType",
                format!("argument `{name}` of {} must be {ty:?}, got {}", p.name, v.type_name()),
            ));
        }
    }
    match &p.body {
        Body::Table(rows) => Ok(rows
            .iter()
            .filter(|row| {
                // Equivalence, not equality: a row for a null input answers a null argument.
                row.iter()
                    .zip(args)
                    .all(|(have, want)| QValue::from(have.clone()).equivalent(want))
            })
            .map(|row| row[p.inputs.len()..].iter().cloned().map(QValue::from).collect())
            .collect()),
        Body::Imports => Ok(ctx
            .imports()
            .running()
            .iter()
            .map(|p| {
                let count = |n: &std::sync::atomic::AtomicU64| QValue::Int(n.load(Ordering::Relaxed) as i64);
                vec![
                    QValue::String(p.path.clone()),
                    count(&p.rows),
                    count(&p.read),
                    QValue::Int(p.size as i64),
                    QValue::Float(p.started.elapsed().as_secs_f64()),
                ]
            })
            .collect()),
        body => schema_names(body, ctx).map(|names| names.into_iter().map(|n| vec![QValue::String(n)]).collect()),
    }
}

/// The label, relationship type or property key names in use.
fn schema_names<G: GraphRead>(body: &Body, ctx: &ExecCtx<G>) -> Result<BTreeSet<String>> {
    let graph = ctx.graph();
    let mut found = BTreeSet::new();
    for gid in graph.all_vertices() {
        match body {
            Body::Labels => found.extend(graph.vertex_labels(gid)?.into_iter().map(|l| graph.label_name(l))),
            Body::RelationshipTypes => found.extend(
                graph
                    .edges(gid, Direction::Out, &[])?
                    .into_iter()
                    .map(|e| graph.edge_type_name(e.edge_type)),
            ),
            _ => {
                found.extend(
                    graph
                        .vertex_properties(gid)?
                        .into_iter()
                        .map(|(k, _)| graph.property_name(k)),
                );
                for e in graph.edges(gid, Direction::Out, &[])? {
                    found.extend(
                        graph
                            .edge_properties(&e)?
                            .into_iter()
                            .map(|(k, _)| graph.property_name(k)),
                    );
                }
            }
        }
    }
    Ok(found)
}
