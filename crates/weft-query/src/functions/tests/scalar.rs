//! Graph and general scalar functions (TCK `Graph3`, `Graph4`, `Graph8`, `Graph9`, `Path1`-`Path3`, `Map3`).

use super::*;
use crate::error::ErrorKind;
use crate::functions::{check_arity, function_exists, is_aggregate};
use crate::value::PathValue;

/// A graph with node 1 `:Foo:Bar {name: 'Popeye', level: 9001}`, node 2 unlabelled, and
/// relationship 10 `(1)-[:KNOWS {status: 'bad'}]->(2)`.
fn popeye_graph() -> FakeGraph {
    let mut graph = FakeGraph::default();
    graph.labels.insert(Gid(1), vec!["Foo".into(), "Bar".into()]);
    let props = [("name".to_string(), s("Popeye")), ("level".to_string(), i(9001))];
    graph.node_props.insert(Gid(1), props.into_iter().collect());
    graph
        .rel_props
        .insert(Gid(10), [("status".to_string(), s("bad"))].into_iter().collect());
    graph.rel_types.insert(Gid(10), "KNOWS".into());
    graph
}

fn path_1_2_3() -> QValue {
    QValue::Path(PathValue {
        start: Gid(1),
        steps: vec![(edge(10, 1, 2), Gid(2)), (edge(11, 3, 2), Gid(3))],
    })
}

#[test]
fn names_are_case_insensitive_and_namespaced() {
    // Act / check: any letter case resolves; namespaces are part of the name.
    assert!(function_exists("toUpper") && function_exists("TOUPPER") && function_exists("tointeger"));
    assert!(function_exists("date.truncate") && function_exists("Duration.Between"));
    assert!(!function_exists("foo") && !function_exists("date.foo"));
    assert!(is_aggregate("COUNT") && is_aggregate("percentileDisc") && !is_aggregate("size"));
}

#[test]
fn unknown_function_is_a_compile_time_syntax_error() {
    // Act
    let error = check_arity("foo", 1).unwrap_err();
    // Check: TCK Return2 [18].
    assert_eq!((error.kind, error.detail), (ErrorKind::SyntaxError, "UnknownFunction"));
    assert_eq!(error.phase, crate::error::Phase::CompileTime);
}

#[test]
fn wrong_argument_count_is_invalid_number_of_arguments() {
    // Act / check
    for (name, count) in [
        ("toUpper", 0),
        ("toUpper", 2),
        ("range", 1),
        ("range", 4),
        ("coalesce", 0),
        ("pi", 1),
    ] {
        let error = check_arity(name, count).unwrap_err();
        assert_eq!(
            (error.kind, error.detail),
            (ErrorKind::SyntaxError, "InvalidNumberOfArguments"),
            "{name}/{count}"
        );
    }
    assert!(check_arity("coalesce", 7).is_ok() && check_arity("round", 3).is_ok() && check_arity("date", 0).is_ok());
}

#[test]
fn labels_of_a_node_in_order() {
    // Set up
    let graph = popeye_graph();
    // Act / check: TCK Graph3 [2] and [5].
    assert_eq!(run_in(&graph, "labels", vec![node(1)]), "['Foo', 'Bar']");
    assert_eq!(run_in(&graph, "labels", vec![node(2)]), "[]");
    assert_eq!(run_in(&graph, "labels", vec![NULL]), "null");
}

#[test]
fn labels_of_a_non_node_is_invalid_argument_value() {
    // Act / check: TCK Graph3 [9].
    assert_eq!(run("labels", vec![i(1)]), "error: TypeError/InvalidArgumentValue");
    assert_eq!(
        run("labels", vec![path_1_2_3()]),
        "error: TypeError/InvalidArgumentValue"
    );
}

#[test]
fn type_of_relationships_and_invalid_arguments() {
    // Set up
    let graph = popeye_graph();
    // Act / check: TCK Graph4 [1], [3], [6].
    assert_eq!(run_in(&graph, "type", vec![rel(10, 1, 2)]), "'KNOWS'");
    assert_eq!(run_in(&graph, "type", vec![NULL]), "null");
    for invalid in [i(0), f(1.0), b(true), s(""), l(vec![]), node(1)] {
        assert_eq!(
            run_in(&graph, "type", vec![invalid]),
            "error: TypeError/InvalidArgumentValue"
        );
    }
}

#[test]
fn keys_of_maps_nodes_and_relationships() {
    // Set up
    let graph = popeye_graph();
    // Act / check: TCK Graph8 and Map3 [4] (null-valued map entries are keys).
    assert_eq!(run_in(&graph, "keys", vec![node(1)]), "['level', 'name']");
    assert_eq!(run_in(&graph, "keys", vec![rel(10, 1, 2)]), "['status']");
    assert_eq!(run_in(&graph, "keys", vec![node(2)]), "[]");
    assert_eq!(run("keys", vec![m(&[("k", NULL), ("l", i(1))])]), "['k', 'l']");
    assert_eq!(run("keys", vec![NULL]), "null");
    assert_eq!(run("keys", vec![i(1)]), "error: TypeError/InvalidArgumentValue");
}

#[test]
fn properties_of_maps_nodes_and_relationships() {
    // Set up
    let graph = popeye_graph();
    // Act / check: TCK Graph9.
    assert_eq!(
        run_in(&graph, "properties", vec![node(1)]),
        "{level: 9001, name: 'Popeye'}"
    );
    assert_eq!(run_in(&graph, "properties", vec![rel(10, 1, 2)]), "{status: 'bad'}");
    assert_eq!(run("properties", vec![m(&[("name", s("Popeye"))])]), "{name: 'Popeye'}");
    assert_eq!(run("properties", vec![NULL]), "null");
    assert_eq!(
        run("properties", vec![s("Cypher")]),
        "error: TypeError/InvalidArgumentValue"
    );
}

#[test]
fn id_element_id_and_endpoints() {
    // Act / check
    assert_eq!(run("id", vec![node(7)]), "7");
    assert_eq!(run("id", vec![rel(10, 1, 2)]), "10");
    assert_eq!(run("elementId", vec![node(7)]), "'7'");
    assert_eq!(run("startNode", vec![rel(10, 1, 2)]), "(#1)");
    assert_eq!(run("endNode", vec![rel(10, 1, 2)]), "(#2)");
    assert_eq!(run("id", vec![s("x")]), "error: TypeError/InvalidArgumentValue");
}

#[test]
fn nodes_relationships_and_length_of_paths() {
    // Act / check: TCK Path1-Path3, including a step walked against the stored direction.
    assert_eq!(run("nodes", vec![path_1_2_3()]), "[(#1), (#2), (#3)]");
    assert_eq!(run("relationships", vec![path_1_2_3()]), "[[#10], [#11]]");
    assert_eq!(run("length", vec![path_1_2_3()]), "2");
    assert_eq!(
        run(
            "length",
            vec![QValue::Path(PathValue {
                start: Gid(1),
                steps: vec![]
            })]
        ),
        "0"
    );
    assert_eq!(run("nodes", vec![NULL]), "null");
    assert_eq!(run("relationships", vec![NULL]), "null");
    assert_eq!(run("length", vec![node(1)]), "error: TypeError/InvalidArgumentValue");
}

#[test]
fn coalesce_returns_the_first_non_null() {
    // Act / check
    assert_eq!(run("coalesce", vec![NULL, s("x"), s("y")]), "'x'");
    assert_eq!(run("coalesce", vec![NULL, NULL]), "null");
}

#[test]
fn exists_timestamp_and_random_uuid() {
    // Act
    let uuid = eval("randomUUID", vec![]).to_string();
    // Check: the fake clock is 2024-05-06T07:08:09.5Z.
    assert_eq!(run("exists", vec![NULL]), "false");
    assert_eq!(run("exists", vec![i(0)]), "true");
    assert_eq!(run("timestamp", vec![]), "1714979289500");
    assert_eq!(uuid.len(), 38, "{uuid}");
    assert_eq!(uuid.chars().nth(15), Some('4'), "{uuid}");
    assert_ne!(uuid, eval("randomUUID", vec![]).to_string());
}

#[test]
fn aggregates_are_not_callable_per_row() {
    // Act / check
    assert_eq!(run("count", vec![i(1)]), "error: SyntaxError/InvalidAggregation");
}
