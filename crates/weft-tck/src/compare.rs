//! Comparing an engine's result with a TCK expected-result table.
//!
//! Owns: converting Weft's [`ResultValue`]s into the TCK's value tree (nodes lose their
//! ids, temporals and points become their canonical text, path hops get a direction) and
//! the equality the TCK asks for — integers never equal floats, floats match within a tiny
//! relative tolerance with `NaN == NaN`, rows as a multiset or a sequence, lists in order
//! unless the step ignores list order. Promises: a mismatch comes back as a readable
//! report of expected and actual rows. Needs: [`crate::tck_value`] to read the table.

use std::collections::BTreeMap;

use weft_query::{Node, Path, QueryResult, Relationship, ResultValue};

use crate::gherkin::Table;
use crate::tck_value::{parse_value, Hop, TckNode, TckRelationship, TckValue};

/// How rows and lists are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Ordering {
    /// Rows must come in the table's order.
    pub rows_in_order: bool,
    /// Every list, nested ones too, is compared as a multiset.
    pub ignore_list_order: bool,
}

/// Converts an engine value into the TCK's value tree.
pub fn from_result(value: &ResultValue) -> TckValue {
    match value {
        ResultValue::Null => TckValue::Null,
        ResultValue::Bool(b) => TckValue::Bool(*b),
        ResultValue::Int(i) => TckValue::Int(*i),
        ResultValue::Float(x) => TckValue::Float(*x),
        ResultValue::String(s) => TckValue::String(s.clone()),
        ResultValue::List(items) => TckValue::List(items.iter().map(from_result).collect()),
        ResultValue::Map(map) => TckValue::Map(convert_map(map)),
        ResultValue::Date(d) => TckValue::String(d.to_string()),
        ResultValue::LocalTime(t) => TckValue::String(t.to_string()),
        ResultValue::ZonedTime(t) => TckValue::String(t.to_string()),
        ResultValue::LocalDateTime(t) => TckValue::String(t.to_string()),
        ResultValue::ZonedDateTime(t) => TckValue::String(t.to_string()),
        ResultValue::Duration(d) => TckValue::String(d.to_string()),
        ResultValue::Point(p) => TckValue::String(p.to_string()),
        ResultValue::Node(node) => TckValue::Node(convert_node(node)),
        ResultValue::Relationship(rel) => TckValue::Relationship(convert_relationship(rel)),
        ResultValue::Path(path) => convert_path(path),
    }
}

fn convert_map(map: &BTreeMap<String, ResultValue>) -> BTreeMap<String, TckValue> {
    map.iter().map(|(k, v)| (k.clone(), from_result(v))).collect()
}

fn convert_node(node: &Node) -> TckNode {
    TckNode {
        labels: node.labels.iter().cloned().collect(),
        properties: convert_map(&node.properties),
    }
}

fn convert_relationship(rel: &Relationship) -> TckRelationship {
    TckRelationship {
        rel_type: rel.rel_type.clone(),
        properties: convert_map(&rel.properties),
    }
}

/// A hop points forward when its relationship starts at the node before it; a
/// self-loop counts as forward.
fn convert_path(path: &Path) -> TckValue {
    let Some(first) = path.nodes.first() else {
        return TckValue::List(Vec::new());
    };
    let hops = path
        .relationships
        .iter()
        .zip(path.nodes.windows(2))
        .map(|(rel, pair)| Hop {
            relationship: convert_relationship(rel),
            forward: rel.start == pair[0].id,
            node: convert_node(&pair[1]),
        });
    TckValue::Path {
        start: convert_node(first),
        hops: hops.collect(),
    }
}

/// Floats match when both are NaN, or equal within a relative 1e-12 (infinities exactly).
pub fn floats_match(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a.is_infinite() || b.is_infinite() {
        return a == b;
    }
    a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

/// TCK equality of an expected and an actual value.
pub fn values_match(expected: &TckValue, actual: &TckValue, ignore_list_order: bool) -> bool {
    use TckValue as V;
    match (expected, actual) {
        (V::Float(a), V::Float(b)) => floats_match(*a, *b),
        (V::List(a), V::List(b)) if ignore_list_order => multiset_match(a, b, |x, y| values_match(x, y, true)),
        (V::List(a), V::List(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| values_match(x, y, false)),
        (V::Map(a), V::Map(b)) => maps_match(a, b, ignore_list_order),
        (V::Node(a), V::Node(b)) => nodes_match(a, b, ignore_list_order),
        (V::Relationship(a), V::Relationship(b)) => relationships_match(a, b, ignore_list_order),
        (V::Path { start: s1, hops: h1 }, V::Path { start: s2, hops: h2 }) => {
            nodes_match(s1, s2, ignore_list_order)
                && h1.len() == h2.len()
                && h1.iter().zip(h2).all(|(x, y)| {
                    x.forward == y.forward
                        && relationships_match(&x.relationship, &y.relationship, ignore_list_order)
                        && nodes_match(&x.node, &y.node, ignore_list_order)
                })
        }
        _ => expected == actual,
    }
}

fn maps_match(a: &BTreeMap<String, TckValue>, b: &BTreeMap<String, TckValue>, ignore: bool) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| values_match(v, w, ignore)))
}

fn nodes_match(a: &TckNode, b: &TckNode, ignore: bool) -> bool {
    a.labels == b.labels && maps_match(&a.properties, &b.properties, ignore)
}

fn relationships_match(a: &TckRelationship, b: &TckRelationship, ignore: bool) -> bool {
    a.rel_type == b.rel_type && maps_match(&a.properties, &b.properties, ignore)
}

/// True when every expected item pairs with a distinct actual item. Greedy matching is
/// exact when equality is an equivalence, which holds here up to the float tolerance.
fn multiset_match<T>(expected: &[T], actual: &[T], eq: impl Fn(&T, &T) -> bool) -> bool {
    if expected.len() != actual.len() {
        return false;
    }
    let mut used = vec![false; actual.len()];
    expected.iter().all(|e| {
        let found = (0..actual.len()).find(|&i| !used[i] && eq(e, &actual[i]));
        found.map(|i| used[i] = true).is_some()
    })
}

/// Parses the cells of a table (all rows after the header).
pub fn parse_rows(rows: &[Vec<String>]) -> Result<Vec<Vec<TckValue>>, String> {
    rows.iter()
        .map(|row| row.iter().map(|cell| parse_value(cell)).collect())
        .collect()
}

/// Checks a result against an expected table (header row first).
pub fn check_result(expected: &Table, actual: &QueryResult, ordering: Ordering) -> Result<(), String> {
    let (header, rows) = expected.split_first().ok_or("expected-result table has no header")?;
    if header != &actual.columns {
        return Err(format!("columns differ: expected {header:?}, got {:?}", actual.columns));
    }
    let expected_rows = parse_rows(rows)?;
    let actual_rows: Vec<Vec<TckValue>> = actual
        .rows
        .iter()
        .map(|r| r.iter().map(from_result).collect())
        .collect();
    let ignore = ordering.ignore_list_order;
    let row_eq = |e: &Vec<TckValue>, a: &Vec<TckValue>| {
        e.len() == a.len() && e.iter().zip(a).all(|(x, y)| values_match(x, y, ignore))
    };
    let matched = if ordering.rows_in_order {
        expected_rows.len() == actual_rows.len() && expected_rows.iter().zip(&actual_rows).all(|(e, a)| row_eq(e, a))
    } else {
        multiset_match(&expected_rows, &actual_rows, row_eq)
    };
    if matched {
        return Ok(());
    }
    let (expected_text, actual_text) = (render_rows(&expected_rows), render_rows(&actual_rows));
    let columns = header.join(" | ");
    Err(format!(
        "rows differ\n  columns: | {columns} |\n  expected:\n{expected_text}  actual:\n{actual_text}"
    ))
}

/// At most 25 rows, one per line, in the TCK notation.
pub fn render_rows(rows: &[Vec<TckValue>]) -> String {
    const LIMIT: usize = 25;
    let mut out = String::new();
    for row in rows.iter().take(LIMIT) {
        let cells: Vec<String> = row.iter().map(ToString::to_string).collect();
        out.push_str(&format!("    | {} |\n", cells.join(" | ")));
    }
    if rows.len() > LIMIT {
        out.push_str(&format!("    ... {} rows in all\n", rows.len()));
    }
    if rows.is_empty() {
        out.push_str("    (no rows)\n");
    }
    out
}

#[cfg(test)]
mod tests;
