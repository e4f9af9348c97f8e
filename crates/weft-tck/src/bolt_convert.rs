//! Values and failures as they cross Bolt, turned back into the engine's own types, so
//! the TCK over Bolt compares exactly what the in-process run compares.
//!
//! Owns: the TCK's use of the server's PackStream codec (`weft_server::convert`: query
//! parameters out, result values back), a whole client result (→ [`QueryResult`], counters
//! included) and a server failure (→ [`QueryError`]: kind and detail from
//! [`weft_query::classify_status`], an unknown code being a `DatabaseError`; compile time
//! when it answered the RUN, run time when it came on a PULL).

use weft_bolt::messages::Dict;
use weft_bolt::{BoltValue, Dialect};
use weft_common::Value;
use weft_query::{classify_status, ErrorKind, Phase, QueryError, QueryResult, QueryStats};
use weft_server::convert;

use crate::engine::Params;

/// The detail of a failure whose status code the engine never reports.
pub const UNKNOWN_STATUS: &str = "UnknownStatus";

/// The parameters of a RUN.
pub fn parameters(params: &Params, dialect: Dialect) -> Dict {
    params
        .iter()
        .map(|(name, value)| (name.clone(), parameter(value, dialect)))
        .collect()
}

/// One parameter value as Bolt carries it.
pub fn parameter(value: &Value, dialect: Dialect) -> BoltValue {
    convert::result_value(value.clone().into_entities(), dialect)
}

/// A whole result: columns, every row converted, and the counters of the summary.
pub fn query_result(result: weft_client::QueryResult, dialect: Dialect) -> Result<QueryResult, String> {
    let rows = result
        .rows
        .iter()
        .map(|row| row.iter().map(|v| convert::decode(v, dialect)).collect())
        .collect::<Result<_, String>>()?;
    Ok(QueryResult {
        columns: result.columns,
        rows,
        stats: stats(&result.summary),
    })
}

/// The counters a summary's `stats` map reports; Bolt has one count for properties set
/// and removed, which lands in `properties_set`.
pub fn stats(summary: &Dict) -> QueryStats {
    let mut stats = QueryStats::default();
    let Some(counters) = weft_bolt::packstream::dict_get(summary, "stats").and_then(BoltValue::as_dict) else {
        return stats;
    };
    for (key, value) in counters {
        let count = value.as_int().and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
        // A counter the engine has no count for is not part of what the TCK compares.
        stats.set_neo4j_counter(key, count);
    }
    stats
}

/// A server failure as the engine would have raised it.
pub fn query_error(code: &str, message: &str, at_run: bool) -> QueryError {
    let (kind, detail) = classify_status(code).unwrap_or((ErrorKind::DatabaseError, UNKNOWN_STATUS));
    QueryError {
        kind,
        detail,
        phase: if at_run { Phase::CompileTime } else { Phase::Runtime },
        message: format!("{code}: {message}"),
        position: None,
    }
}

#[cfg(test)]
mod tests;
