//! Helpers the Cypher scenario tests share: run a statement and fail the test with the
//! query and error when it fails, expect a failure, and read results as plain text.
#![allow(dead_code)]

use std::collections::BTreeMap;
use weft_query::{Engine, QueryError, QueryResult, ResultValue};

/// Runs `query`; a failure fails the test, naming the query and the error.
pub fn run(engine: &Engine, query: &str) -> QueryResult {
    engine
        .execute(query, &BTreeMap::new())
        .unwrap_or_else(|e| panic!("{query}: {e} ({:?})", e.detail))
}

/// Runs `query`, which must fail; returns the error.
pub fn fail(engine: &Engine, query: &str) -> QueryError {
    match engine.execute(query, &BTreeMap::new()) {
        Ok(r) => panic!("{query} should fail, returned {:?}", r.rows),
        Err(e) => e,
    }
}

/// A result value as short text: strings bare, lists as `[a,b]`.
pub fn text(v: &ResultValue) -> String {
    match v {
        ResultValue::String(s) => s.clone(),
        ResultValue::Null => "null".into(),
        ResultValue::Int(i) => i.to_string(),
        ResultValue::Float(f) => f.to_string(),
        ResultValue::Bool(b) => b.to_string(),
        ResultValue::List(items) => format!("[{}]", items.iter().map(text).collect::<Vec<_>>().join(",")),
        other => format!("{other:?}"),
    }
}

/// Every row as text.
pub fn rows(result: &QueryResult) -> Vec<Vec<String>> {
    result.rows.iter().map(|r| r.iter().map(text).collect()).collect()
}
