//! Tests for side-effect counting between snapshots and the expectation tables.

use std::collections::BTreeMap;

use weft_query::ResultValue;

use super::*;

fn props(entries: &[(&str, ResultValue)]) -> BTreeMap<String, ResultValue> {
    entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn labels(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

fn table(rows: &[(&str, &str)]) -> Table {
    rows.iter().map(|(k, v)| vec![k.to_string(), v.to_string()]).collect()
}

#[test]
fn counters_follow_the_tck_definition() {
    // Set up: node 1 (:A {x: 1}), node 2 (:A:B {y: 'a'}), relationship 10 {w: 1}
    let mut before = GraphSnapshot::default();
    before.add_node(1, &labels(&["A"]), &props(&[("x", ResultValue::Int(1))]));
    before.add_node(
        2,
        &labels(&["A", "B"]),
        &props(&[("y", ResultValue::String("a".into()))]),
    );
    before.add_relationship(10, &props(&[("w", ResultValue::Int(1))]));

    // Act: x changes 1 -> 1.0, node 2 and the relationship go, node 3 (:C {z: 1}) comes
    let mut after = GraphSnapshot::default();
    after.add_node(1, &labels(&["A"]), &props(&[("x", ResultValue::Float(1.0))]));
    after.add_node(3, &labels(&["C"]), &props(&[("z", ResultValue::Int(1))]));
    let effects = SideEffects::between(&before, &after);

    // Check: labels count distinct names (A stays; B gone; C new)
    let expected = table(&[
        ("+nodes", "1"),
        ("-nodes", "1"),
        ("-relationships", "1"),
        ("+properties", "2"),
        ("-properties", "3"),
        ("+labels", "1"),
        ("-labels", "1"),
    ]);
    assert_eq!(
        SideEffects::check(SideEffects::from_table(&expected).unwrap(), effects),
        Ok(())
    );
}

#[test]
fn no_side_effects_means_all_zero() {
    // Set up
    let mut graph = GraphSnapshot::default();
    graph.add_node(1, &labels(&["A"]), &props(&[("x", ResultValue::Int(1))]));
    let mut grown = graph.clone();
    grown.add_node(2, &labels(&["A"]), &BTreeMap::new());

    // Check: an empty table expects nothing; one new node is reported by name
    let nothing = SideEffects::from_table(&Table::new()).unwrap();
    assert_eq!(
        SideEffects::check(nothing, SideEffects::between(&graph, &graph)),
        Ok(())
    );
    let report = SideEffects::check(nothing, SideEffects::between(&graph, &grown)).unwrap_err();
    assert_eq!(report, "side effects differ: expected none, got +nodes 1");
}

#[test]
fn bad_tables_are_rejected() {
    // Check
    assert!(SideEffects::from_table(&table(&[("+edges", "1")])).is_err());
    assert!(SideEffects::from_table(&table(&[("+nodes", "one")])).is_err());
    assert!(SideEffects::from_table(&vec![vec!["+nodes".to_string()]]).is_err());
}
