//! Procedures callable with `CALL`: a registry of signatures (name, typed inputs, typed
//! outputs, a description and a mode) and bodies.
//!
//! Built in (`catalog.rs`): what drivers and tools call on connect — `db.labels()`,
//! `db.relationshipTypes()`, `db.propertyKeys()`, `dbms.components()`,
//! `db.schema.nodeTypeProperties()`, `db.schema.relTypeProperties()`, Memgraph's
//! `mg.procedures()` — and the tables behind Neo4j 5's SHOW INDEXES, SHOW CONSTRAINTS,
//! SHOW PROCEDURES, SHOW FUNCTIONS and SHOW DATABASES (the parser turns each into a call,
//! so YIELD, WHERE and RETURN work on them), plus `weft.imports()` (the LOAD CSV files
//! being read). Other layers add theirs as [`Body::Native`] (the server registers
//! `dbms.cluster.routing.getRoutingTable`). Fixed-table procedures can be registered too
//! (rows of input values followed by output values; a call returns the outputs of rows
//! whose inputs equal the arguments), which is how the TCK's test procedures are declared.

mod catalog;

use crate::error::{ErrorKind, QueryError, Result};
use crate::exec::ExecCtx;
use crate::graph::GraphRead;
use crate::value::QValue;
use std::collections::HashMap;
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
    /// The type's name in signatures.
    pub fn name(self) -> &'static str {
        match self {
            ProcType::Any => "ANY",
            ProcType::Boolean => "BOOLEAN",
            ProcType::Integer => "INTEGER",
            ProcType::Float => "FLOAT",
            ProcType::Number => "NUMBER",
            ProcType::String => "STRING",
            ProcType::List => "LIST<ANY>",
            ProcType::Map => "MAP",
            ProcType::Node => "NODE",
            ProcType::Relationship => "RELATIONSHIP",
            ProcType::Path => "PATH",
        }
    }

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

/// A procedure body another layer supplies: the arguments in, one output row per record.
pub type NativeBody = dyn Fn(&[QValue]) -> Result<Vec<Vec<QValue>>> + Send + Sync;

/// What a procedure does.
pub enum Body {
    /// One of the engine's own (see `catalog.rs`).
    Builtin(catalog::Builtin),
    /// Rows of input values then output values.
    Table(Vec<Vec<Value>>),
    /// Code of another layer.
    Native(Arc<NativeBody>),
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Builtin(b) => write!(f, "Builtin({b:?})"),
            Body::Table(rows) => write!(f, "Table({} rows)", rows.len()),
            Body::Native(_) => f.write_str("Native"),
        }
    }
}

/// What a procedure may do, as SHOW PROCEDURES reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcMode {
    Read,
    Write,
    Dbms,
}

impl ProcMode {
    pub fn name(self) -> &'static str {
        match self {
            ProcMode::Read => "READ",
            ProcMode::Write => "WRITE",
            ProcMode::Dbms => "DBMS",
        }
    }
}

/// A procedure's signature and body.
#[derive(Debug)]
pub struct Procedure {
    pub name: String,
    pub inputs: Vec<(String, ProcType)>,
    pub outputs: Vec<(String, ProcType)>,
    pub description: String,
    pub mode: ProcMode,
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
            description: String::new(),
            mode: ProcMode::Read,
            body: Body::Table(rows),
        })
    }

    /// A procedure of another layer from a signature such as
    /// `dbms.thing(x :: STRING?) :: (y :: INTEGER?)` and its body.
    pub fn native(
        signature: &str,
        description: &str,
        mode: ProcMode,
        body: impl Fn(&[QValue]) -> Result<Vec<Vec<QValue>>> + Send + Sync + 'static,
    ) -> std::result::Result<Self, String> {
        let mut p = Procedure::from_signature(signature, Vec::new())?;
        p.description = description.to_owned();
        p.mode = mode;
        p.body = Body::Native(Arc::new(body));
        Ok(p)
    }

    /// The signature as SHOW PROCEDURES prints it: `name(a :: TYPE?) :: (b :: TYPE?)`.
    pub fn signature(&self) -> String {
        let list = |fields: &[(String, ProcType)]| {
            fields
                .iter()
                .map(|(n, t)| format!("{n} :: {}?", t.name()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!("{}({}) :: ({})", self.name, list(&self.inputs), list(&self.outputs))
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
        let registry = Registry {
            procedures: RwLock::new(HashMap::new()),
        };
        for procedure in catalog::procedures() {
            registry.register(procedure);
        }
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

    /// Every procedure, by name.
    pub fn all(&self) -> Vec<Arc<Procedure>> {
        let mut all: Vec<Arc<Procedure>> = self
            .procedures
            .read()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
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

/// The output names of built-in procedure `name` (empty for one that is not built in).
pub fn builtin_outputs(name: &str) -> Vec<String> {
    catalog::procedures()
        .into_iter()
        .find(|p| p.name == name)
        .map(|p| p.output_names())
        .unwrap_or_default()
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
        Body::Native(body) => body(args),
        Body::Builtin(builtin) => catalog::run(*builtin, ctx),
    }
}
