//! Tests for the TCK's side of Bolt: parameters sent, failures and summaries read back.

use std::collections::BTreeMap;

use weft_bolt::{BoltValue, Dialect, Temporal};
use weft_common::spatial::{Crs, Point};
use weft_common::temporal::Date;
use weft_common::Value;
use weft_query::{ErrorKind, Phase};

use super::*;

const V5: Dialect = Dialect {
    element_ids: true,
    utc_datetime: true,
};

fn props(pairs: &[(&str, BoltValue)]) -> Vec<(String, BoltValue)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

#[test]
fn parameters_convert_every_value() {
    // Set up
    let date = Date::from_ymd(2020, 2, 29).unwrap();
    let point = Point::new(Crs::Wgs84, &[1.0, 2.0]).unwrap();
    let params = Params::from([
        ("n".to_string(), Value::Null),
        (
            "l".to_string(),
            Value::List(vec![Value::Bool(false), Value::Int(1), Value::Float(0.5)]),
        ),
        (
            "m".to_string(),
            Value::Map(BTreeMap::from([("s".to_string(), Value::String("x".into()))])),
        ),
        ("d".to_string(), Value::Date(date)),
        ("p".to_string(), Value::Point(point)),
    ]);

    // Act
    let dict = parameters(&params, V5);

    // Check
    let get = |name: &str| dict.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(get("n"), BoltValue::Null);
    let list = vec![BoltValue::Boolean(false), BoltValue::Integer(1), BoltValue::Float(0.5)];
    assert_eq!(get("l"), BoltValue::List(list));
    assert_eq!(
        get("m"),
        BoltValue::Dictionary(props(&[("s", BoltValue::String("x".into()))]))
    );
    assert_eq!(get("d"), Temporal::Date(date).to_value(V5));
    assert_eq!(get("p"), weft_bolt::structs::point_to_value(&point));
}

#[test]
fn failures_map_to_kind_detail_and_phase() {
    // Compile time when the RUN was refused, run time on a PULL.
    let syntax = query_error("Neo.ClientError.Statement.SyntaxError", "bad", true);
    assert_eq!(
        (syntax.kind, syntax.phase),
        (ErrorKind::SyntaxError, Phase::CompileTime)
    );
    assert!(syntax.message.contains("bad"));
    let arithmetic = query_error("Neo.ClientError.Statement.ArithmeticError", "/ by zero", false);
    assert_eq!(
        (arithmetic.kind, arithmetic.phase),
        (ErrorKind::ArithmeticError, Phase::Runtime)
    );
    // A code that pins a detail keeps it.
    let missing = query_error("Neo.ClientError.Statement.ParameterMissing", "$x", true);
    assert_eq!(
        (missing.kind, missing.detail),
        (ErrorKind::SemanticError, "MissingParameter")
    );
    // A code the engine never sends is a database error.
    let unknown = query_error("Neo.ClientError.Made.Up", "?", false);
    assert_eq!(
        (unknown.kind, unknown.detail),
        (ErrorKind::DatabaseError, UNKNOWN_STATUS)
    );
}

#[test]
fn summaries_give_their_counters() {
    let counters = props(&[
        ("nodes-created", BoltValue::Integer(2)),
        ("properties-set", BoltValue::Integer(3)),
        ("labels-added", BoltValue::Integer(1)),
    ]);
    let summary = props(&[("stats", BoltValue::Dictionary(counters))]);
    let stats = stats(&summary);
    assert_eq!(
        (stats.nodes_created, stats.properties_set, stats.labels_added),
        (2, 3, 1)
    );
    assert_eq!(super::stats(&Vec::new()), QueryStats::default());
}
