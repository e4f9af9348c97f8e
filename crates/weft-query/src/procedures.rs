//! Built-in procedures callable with `CALL`: schema introspection.

use crate::error::{ErrorKind, QueryError, Result};
use crate::exec::ExecCtx;
use crate::value::QValue;
use std::collections::{BTreeMap, BTreeSet};
use weft_storage::Direction;

/// The output fields of a procedure, or `ProcedureNotFound`.
pub fn fields(name: &str) -> Result<&'static [&'static str]> {
    match name.to_lowercase().as_str() {
        "db.labels" => Ok(&["label"]),
        "db.relationshiptypes" => Ok(&["relationshipType"]),
        "db.propertykeys" => Ok(&["propertyKey"]),
        _ => Err(QueryError::compile(
            ErrorKind::ProcedureError,
            "ProcedureNotFound",
            format!("There is no procedure with the name `{name}` registered for this database instance"),
        )),
    }
}

/// Runs a procedure; each record maps field names to values.
pub fn call(name: &str, ctx: &ExecCtx) -> Result<Vec<BTreeMap<String, QValue>>> {
    let field = fields(name)?[0];
    let txn = ctx.txn();
    let mut found = BTreeSet::new();
    for gid in txn.vertices() {
        match name {
            "db.labels" => found.extend(txn.labels(gid)?.into_iter().map(|l| ctx.storage.label_name(l))),
            "db.relationshiptypes" => found.extend(
                txn.edges(gid, Direction::Out, &[])?
                    .into_iter()
                    .map(|e| ctx.storage.edge_type_name(e.edge_type)),
            ),
            _ => {
                found.extend(
                    txn.vertex_properties(gid)?
                        .into_iter()
                        .map(|(k, _)| ctx.storage.property_name(k)),
                );
                for e in txn.edges(gid, Direction::Out, &[])? {
                    found.extend(
                        txn.edge_properties(&e)?
                            .into_iter()
                            .map(|(k, _)| ctx.storage.property_name(k)),
                    );
                }
            }
        }
    }
    Ok(found
        .into_iter()
        .map(|v| BTreeMap::from([(field.to_owned(), QValue::String(v))]))
        .collect())
}
