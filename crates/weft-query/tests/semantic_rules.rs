//! Rules checked while planning projections (aggregation, `*`, WITH ... WHERE) and at
//! run time by writes and reads, through `Engine::execute`: for each, a query that must
//! fail with the TCK's kind and detail, and a close one that must still work. The
//! compile-time rules of the semantic pass itself are unit-tested in `src/semantic`.

use std::collections::BTreeMap;
use weft_common::Value;
use weft_query::{Engine, ErrorKind, Phase, QueryResult};

fn run(engine: &Engine, query: &str) -> QueryResult {
    engine
        .execute(query, &BTreeMap::new())
        .unwrap_or_else(|e| panic!("{query}: {e} ({:?})", e.detail))
}

fn fails(engine: &Engine, query: &str, kind: ErrorKind, detail: &str, phase: Phase) {
    let err = engine.execute(query, &BTreeMap::new()).expect_err(query);
    assert_eq!(
        (err.kind, err.detail, err.phase),
        (kind, detail, phase),
        "{query}: {err}"
    );
}

fn people() -> Engine {
    let engine = Engine::new();
    run(
        &engine,
        "CREATE (a:Person {age: 1})-[:K]->(b:Person {age: 2}), (b)-[:K]->(:Person {age: 3})",
    );
    engine
}

#[test]
fn complex_grouping_key_inside_an_aggregating_expression() {
    let e = people();
    let q = "MATCH (me:Person)--(you:Person) RETURN me.age + you.age, me.age + you.age + count(*)";
    fails(
        &e,
        q,
        ErrorKind::SyntaxError,
        "AmbiguousAggregationExpression",
        Phase::CompileTime,
    );
    let q =
        "MATCH (me:Person)--(you:Person) RETURN me.age + you.age, count(*) AS c ORDER BY me.age + you.age + count(*)";
    fails(
        &e,
        q,
        ErrorKind::SyntaxError,
        "AmbiguousAggregationExpression",
        Phase::CompileTime,
    );
    let q = "MATCH (me:Person)--(you:Person) RETURN count(*) AS c ORDER BY me.age + count(*)";
    fails(&e, q, ErrorKind::SyntaxError, "UndefinedVariable", Phase::CompileTime);
    run(
        &e,
        "MATCH (me:Person)--(you:Person) RETURN me.age, me.age + count(you.age)",
    );
    run(
        &e,
        "MATCH (me:Person)--(you:Person) RETURN me.age + you.age AS s, count(*) ORDER BY me.age + you.age",
    );
}

#[test]
fn order_by_an_aggregate_the_projection_does_not_compute() {
    let e = people();
    let q = "MATCH (a:Person) WITH a.age % 2 AS mod, min(a.age) AS min ORDER BY sum(a.age) RETURN mod, min";
    fails(&e, q, ErrorKind::SyntaxError, "UndefinedVariable", Phase::CompileTime);
    run(
        &e,
        "MATCH (a:Person) WITH a.age % 2 AS mod, min(a.age) AS min ORDER BY min(a.age) RETURN mod, min",
    );
}

#[test]
fn star_columns_are_alphabetical_and_with_star_may_be_empty() {
    let e = Engine::new();
    let r = run(&e, "WITH 1 AS b, 2 AS a UNWIND [3] AS c RETURN *");
    assert_eq!(r.columns, ["a", "b", "c"]);
    run(&e, "CREATE () WITH * CREATE ()");
    fails(
        &e,
        "MATCH () RETURN *",
        ErrorKind::SyntaxError,
        "NoVariablesInScope",
        Phase::CompileTime,
    );
}

#[test]
fn where_after_with_distinct_sees_the_previous_names() {
    let e = Engine::new();
    run(&e, "CREATE ({n: 'A'}), ({n: 'A'}), ({n: 'B'})");
    let r = run(&e, "MATCH (a) WITH DISTINCT a.n AS name WHERE a.n = 'B' RETURN *");
    assert_eq!(r.rows.len(), 1);
}

#[test]
fn merge_on_a_null_property() {
    let e = Engine::new();
    let err = ErrorKind::SemanticError;
    fails(&e, "MERGE ({num: null})", err, "MergeReadOwnWrites", Phase::Runtime);
    fails(
        &e,
        "CREATE (a), (b) MERGE (a)-[:X {num: null}]->(b)",
        err,
        "MergeReadOwnWrites",
        Phase::Runtime,
    );
    run(&e, "MERGE ({num: 1})");
}

#[test]
fn properties_of_a_deleted_relationship() {
    let e = Engine::new();
    run(&e, "CREATE ()-[:T {num: 0}]->()");
    let q = "MATCH ()-[r]->() DELETE r RETURN r.num";
    fails(&e, q, ErrorKind::EntityNotFound, "DeletedEntityAccess", Phase::Runtime);
    let r = run(&e, "MATCH ()-[r]->() RETURN r.missing");
    assert_eq!(r.rows.len(), 1);
}

#[test]
fn maps_are_not_property_values() {
    let e = Engine::new();
    let q = "CREATE (a) SET a.maplist = [{num: 1}]";
    fails(&e, q, ErrorKind::TypeError, "InvalidPropertyType", Phase::Runtime);
    run(&e, "CREATE (a) SET a.list = [1, 2]");
}

#[test]
fn missing_parameter_is_refused_before_anything_is_written() {
    let e = Engine::new();
    let q = "CREATE (n) SET n.v = $v";
    fails(&e, q, ErrorKind::SemanticError, "MissingParameter", Phase::CompileTime);
    assert_eq!(
        run(&e, "MATCH (n) RETURN count(n)").rows[0][0],
        weft_query::ResultValue::Int(0)
    );
    let params = BTreeMap::from([("v".to_owned(), Value::Int(1))]);
    e.execute(q, &params).expect("runs with the parameter");
}

#[test]
fn full_exists_subquery_runs_per_row() {
    let e = Engine::new();
    run(
        &e,
        "CREATE (a:A {p: 1})-[:R]->(b:B {p: 1}), (a)-[:R]->(:C {p: 2}), (a)-[:R]->(d:D {p: 3}), (b)-[:R]->(d)",
    );
    let q = "MATCH (n) WHERE EXISTS { MATCH (n)-->(m) WITH n, count(*) AS c WHERE c = 3 RETURN true } \
             RETURN n.p AS p";
    assert_eq!(run(&e, q).rows, [[weft_query::ResultValue::Int(1)]]);
    let q = "MATCH (n) WHERE NOT EXISTS { MATCH (n)-->(m) WITH n, count(*) AS c WHERE c = 3 RETURN true } \
             AND n.p > 1 WITH n.p AS p ORDER BY p RETURN collect(p) AS ps";
    let ps = weft_query::ResultValue::List(vec![weft_query::ResultValue::Int(2), weft_query::ResultValue::Int(3)]);
    assert_eq!(run(&e, q).rows, [[ps]]);
    let q = "MATCH (n) WITH n WHERE EXISTS { MATCH (n)-->(m) RETURN m LIMIT 1 } RETURN count(*) AS c";
    assert_eq!(run(&e, q).rows, [[weft_query::ResultValue::Int(2)]]);
    let q = "MATCH (n) RETURN n.p AS p, EXISTS { MATCH (n)-->(m) WITH m RETURN m } AS x ORDER BY p, x";
    let (t, f) = (
        weft_query::ResultValue::Bool(true),
        weft_query::ResultValue::Bool(false),
    );
    let int = weft_query::ResultValue::Int;
    assert_eq!(
        run(&e, q).rows,
        [[int(1), t.clone()], [int(1), t], [int(2), f.clone()], [int(3), f]]
    );
    // Inside a comprehension the subquery would need the comprehension's variable.
    let q = "MATCH (n) RETURN [x IN [1] | EXISTS { MATCH (n)-->(m) WITH m RETURN m }] AS x";
    fails(
        &e,
        q,
        ErrorKind::SemanticError,
        "UnsupportedFeature",
        Phase::CompileTime,
    );
}
