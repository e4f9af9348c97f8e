//! The routing procedures of drivers that route without Bolt's ROUTE message (the 4.0 to
//! 4.2 drivers) and of tools: `dbms.routing.getRoutingTable(context, database)` and its
//! older name `dbms.cluster.routing.getRoutingTable`. They answer the same table ROUTE
//! gets, from the instance's role (a Raft member's names its leader).
//!
//! Owns: the procedure's registration and the conversion of its map arguments and
//! results between the engine's values and Bolt's.

use weft_bolt::BoltValue;
use weft_query::procedures::{ProcMode, Procedure};
use weft_query::{ErrorKind, QValue, QueryError};

use crate::node::WeakNode;

/// Registers the routing procedure for `node`.
pub fn register(node: WeakNode) {
    let Some(engine) = node.upgrade().map(|n| n.engine().clone()) else {
        return;
    };
    let body = std::sync::Arc::new(move |args: &[QValue]| {
        let Some(node) = node.upgrade() else {
            return Err(QueryError::runtime(
                ErrorKind::DatabaseError,
                "Storage",
                "the instance is stopping",
            ));
        };
        let context = match args.first() {
            Some(QValue::Map(entries)) => entries
                .iter()
                .filter_map(|(k, v)| match v {
                    QValue::String(s) => Some((k.clone(), BoltValue::String(s.clone()))),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let database = match args.get(1) {
            Some(QValue::String(db)) => Some(db.as_str()),
            _ => None,
        };
        let table = node.route(&context, database).map_err(|e| {
            QueryError::runtime(
                ErrorKind::ArgumentError,
                "RoutingContext",
                format!("{}: {}", e.code, e.message),
            )
        })?;
        let field = |name: &str| table.iter().find(|(k, _)| k == name).map(|(_, v)| to_query(v));
        Ok(vec![vec![
            field("ttl").unwrap_or(QValue::Null),
            field("servers").unwrap_or(QValue::List(Vec::new())),
        ]])
    });
    for name in ["dbms.routing.getRoutingTable", "dbms.cluster.routing.getRoutingTable"] {
        let body = body.clone();
        let procedure = Procedure::native(
            &format!("{name}(context :: MAP?, database :: STRING?) :: (ttl :: INTEGER?, servers :: LIST?)"),
            "Where to send writes, reads and routing requests for a database, as a ROUTE message answers.",
            ProcMode::Dbms,
            move |args| body(args),
        );
        match procedure {
            Ok(procedure) => engine.register_procedure(procedure),
            Err(error) => tracing::error!(%error, "the routing procedure's signature does not parse"),
        }
    }
}

/// The plain values of a routing table (integers, strings, lists, maps) as query values.
fn to_query(v: &BoltValue) -> QValue {
    match v {
        BoltValue::Integer(i) => QValue::Int(*i),
        BoltValue::String(s) => QValue::String(s.clone()),
        BoltValue::Boolean(b) => QValue::Bool(*b),
        BoltValue::List(items) => QValue::List(items.iter().map(to_query).collect()),
        BoltValue::Dictionary(entries) => QValue::Map(entries.iter().map(|(k, v)| (k.clone(), to_query(v))).collect()),
        _ => QValue::Null,
    }
}
