//! Tests for result comparison: row order, list order, floats, graph entities and temporals.

use weft_common::temporal::{Date, Duration};
use weft_query::QueryStats;

use super::*;

fn table(rows: &[&[&str]]) -> Table {
    rows.iter()
        .map(|row| row.iter().map(|c| c.to_string()).collect())
        .collect()
}

fn result(columns: &[&str], rows: Vec<Vec<ResultValue>>) -> QueryResult {
    QueryResult {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
        stats: QueryStats::default(),
    }
}

fn ints(values: &[i64]) -> ResultValue {
    ResultValue::List(values.iter().map(|&i| ResultValue::Int(i)).collect())
}

fn node(id: u64, labels: &[&str]) -> Node {
    let labels = labels.iter().map(|l| l.to_string()).collect();
    Node {
        id,
        labels,
        properties: BTreeMap::from([("k".to_string(), ResultValue::Int(id as i64))]),
    }
}

fn rel(start: u64, end: u64) -> Relationship {
    Relationship {
        id: 100,
        start,
        end,
        rel_type: "T".into(),
        properties: BTreeMap::new(),
    }
}

const ANY: Ordering = Ordering {
    rows_in_order: false,
    ignore_list_order: false,
};
const IN_ORDER: Ordering = Ordering {
    rows_in_order: true,
    ignore_list_order: false,
};
const ANY_LISTS_UNORDERED: Ordering = Ordering {
    rows_in_order: false,
    ignore_list_order: true,
};

#[test]
fn rows_in_any_order_are_a_multiset() {
    // Set up
    let expected = table(&[&["x"], &["1"], &["2"], &["2"]]);
    let shuffled = result(
        &["x"],
        vec![
            vec![ResultValue::Int(2)],
            vec![ResultValue::Int(1)],
            vec![ResultValue::Int(2)],
        ],
    );
    let wrong_counts = result(
        &["x"],
        vec![
            vec![ResultValue::Int(1)],
            vec![ResultValue::Int(1)],
            vec![ResultValue::Int(2)],
        ],
    );

    // Check
    assert_eq!(check_result(&expected, &shuffled, ANY), Ok(()));
    assert!(check_result(&expected, &wrong_counts, ANY).is_err(), "duplicates count");
    assert!(check_result(&expected, &shuffled, IN_ORDER).is_err());
}

#[test]
fn rows_in_order_are_a_sequence() {
    // Set up
    let expected = table(&[&["x", "y"], &["1", "'a'"], &["2", "'b'"]]);
    let actual = result(
        &["x", "y"],
        vec![
            vec![ResultValue::Int(1), ResultValue::String("a".into())],
            vec![ResultValue::Int(2), ResultValue::String("b".into())],
        ],
    );

    // Check
    assert_eq!(check_result(&expected, &actual, IN_ORDER), Ok(()));
    assert!(
        check_result(&table(&[&["x", "y"], &["1", "'a'"]]), &actual, IN_ORDER).is_err(),
        "row count"
    );
}

#[test]
fn columns_must_match_in_order() {
    // Set up
    let actual = result(&["b", "a"], vec![vec![ResultValue::Int(1), ResultValue::Int(2)]]);

    // Check
    let error = check_result(&table(&[&["a", "b"], &["2", "1"]]), &actual, ANY).unwrap_err();
    assert!(error.starts_with("columns differ"), "{error}");
    assert_eq!(check_result(&table(&[&["b", "a"], &["1", "2"]]), &actual, ANY), Ok(()));
}

#[test]
fn list_order_matters_unless_ignored() {
    // Set up
    let expected = table(&[&["l"], &["[[1, 2], 3, 3]"]]);
    let actual = result(
        &["l"],
        vec![vec![ResultValue::List(vec![
            ResultValue::Int(3),
            ints(&[2, 1]),
            ResultValue::Int(3),
        ])]],
    );
    let fewer = result(
        &["l"],
        vec![vec![ResultValue::List(vec![ResultValue::Int(3), ints(&[2, 1])])]],
    );

    // Check: nested lists are unordered too
    assert!(check_result(&expected, &actual, ANY).is_err());
    assert_eq!(check_result(&expected, &actual, ANY_LISTS_UNORDERED), Ok(()));
    assert!(check_result(&expected, &fewer, ANY_LISTS_UNORDERED).is_err());
}

#[test]
fn floats_have_a_tiny_tolerance_and_nan_equals_nan() {
    // Check
    assert!(floats_match(0.1 + 0.2, 0.3));
    assert!(floats_match(f64::NAN, f64::NAN));
    assert!(floats_match(f64::INFINITY, f64::INFINITY));
    assert!(floats_match(-0.0, 0.0));
    assert!(!floats_match(1.0, 1.000001));
    assert!(!floats_match(f64::NAN, 1.0));
    assert!(!floats_match(f64::INFINITY, f64::NEG_INFINITY));
    let expected = table(&[&["x"], &["NaN"]]);
    assert_eq!(
        check_result(
            &expected,
            &result(&["x"], vec![vec![ResultValue::Float(f64::NAN)]]),
            ANY
        ),
        Ok(())
    );
}

#[test]
fn integers_never_equal_floats() {
    // Set up
    let actual = result(&["x"], vec![vec![ResultValue::Float(1.0)]]);

    // Check
    assert!(check_result(&table(&[&["x"], &["1"]]), &actual, ANY).is_err());
    assert_eq!(check_result(&table(&[&["x"], &["1.0"]]), &actual, ANY), Ok(()));
}

#[test]
fn nodes_compare_by_label_set_and_properties() {
    // Set up
    let actual = result(&["n"], vec![vec![ResultValue::Node(node(7, &["B", "A"]))]]);

    // Check: the id is ignored, label order is not significant
    assert_eq!(
        check_result(&table(&[&["n"], &["(:A:B {k: 7})"]]), &actual, ANY),
        Ok(())
    );
    assert!(check_result(&table(&[&["n"], &["(:A {k: 7})"]]), &actual, ANY).is_err());
    assert!(check_result(&table(&[&["n"], &["(:A:B)"]]), &actual, ANY).is_err());
}

#[test]
fn paths_compare_with_direction() {
    // Set up: 1 -> 2 <- 3
    let path = Path {
        nodes: vec![node(1, &["A"]), node(2, &[]), node(3, &[])],
        relationships: vec![rel(1, 2), rel(3, 2)],
    };
    let actual = result(&["p"], vec![vec![ResultValue::Path(path)]]);

    // Check
    let right = "<(:A {k: 1})-[:T]->({k: 2})<-[:T]-({k: 3})>";
    let wrong = "<(:A {k: 1})-[:T]->({k: 2})-[:T]->({k: 3})>";
    assert_eq!(check_result(&table(&[&["p"], &[right]]), &actual, ANY), Ok(()));
    assert!(check_result(&table(&[&["p"], &[wrong]]), &actual, ANY).is_err());
}

#[test]
fn temporals_compare_by_their_text() {
    // Set up
    let date = ResultValue::Date(Date::from_ymd(2015, 7, 21).unwrap());
    let duration = ResultValue::Duration(Duration::new(12 * 12 + 5, 14, 16 * 3600 + 12 * 60 + 70, 1).unwrap());
    let actual = result(&["d", "e"], vec![vec![date, duration]]);

    // Check
    let expected = table(&[&["d", "e"], &["'2015-07-21'", "'P12Y5M14DT16H13M10.000000001S'"]]);
    assert_eq!(check_result(&expected, &actual, ANY), Ok(()));
}

#[test]
fn mismatch_reports_both_sides() {
    // Set up
    let actual = result(&["x"], vec![vec![ResultValue::String("got".into())]]);

    // Act
    let report = check_result(&table(&[&["x"], &["'want'"]]), &actual, ANY).unwrap_err();

    // Check
    assert!(
        report.contains("| 'want' |") && report.contains("| 'got' |"),
        "{report}"
    );
}
