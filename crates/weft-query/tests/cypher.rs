//! End-to-end Cypher scenarios through `Engine::execute`: reads, writes, aggregation,
//! ordering, errors and admin statements. The TCK (`weft-tck`) covers the language
//! broadly; these pin Weft-specific behaviour and regressions.

use std::collections::BTreeMap;
use weft_common::Value;
use weft_query::{Engine, ErrorKind, QueryResult, ResultValue};

fn run(engine: &Engine, query: &str) -> QueryResult {
    engine
        .execute(query, &BTreeMap::new())
        .unwrap_or_else(|e| panic!("{query}: {e} ({:?})", e.detail))
}

fn ints(result: &QueryResult) -> Vec<Vec<i64>> {
    result
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| match v {
                    ResultValue::Int(i) => *i,
                    other => panic!("not an int: {other:?}"),
                })
                .collect()
        })
        .collect()
}

fn social() -> Engine {
    let engine = Engine::new();
    run(
        &engine,
        "CREATE (a:Person {name: 'Ada', age: 36}), (b:Person {name: 'Bob', age: 25}), (c:Person {name: 'Cy', age: 41}),
                (a)-[:KNOWS {since: 2001}]->(b), (b)-[:KNOWS {since: 2010}]->(c), (a)-[:KNOWS {since: 1999}]->(c)",
    );
    engine
}

#[test]
fn create_reports_statistics() {
    let engine = Engine::new();
    let r = run(&engine, "CREATE (a:A:B {x: 1, y: 'two'})-[:R {w: 0.5}]->(b)");
    assert_eq!(r.stats.nodes_created, 2);
    assert_eq!(r.stats.relationships_created, 1);
    assert_eq!(r.stats.labels_added, 2);
    assert_eq!(r.stats.properties_set, 3);
}

#[test]
fn create_sets_the_last_of_repeated_keys_and_skips_nulls() {
    // A map literal with a repeated key holds its last value once, as a map value does;
    // a null value sets nothing, from a literal or from a map held in a variable.
    let engine = Engine::new();
    let r = run(&engine, "CREATE (n:A {x: 1, x: 2, y: null})-[:R {w: 1, w: 3}]->(:B)");
    assert_eq!((r.stats.properties_set, r.stats.nodes_created), (2, 2));
    let r = run(
        &engine,
        "WITH {x: 5, y: null} AS m UNWIND [m, {x: 6}] AS p CREATE (:C {x: p.x, y: p.y})",
    );
    assert_eq!(r.stats.properties_set, 2);
    let r = run(
        &engine,
        "MATCH (a:A)-[r:R]->(), (c:C) RETURN a.x, size(keys(a)), r.w, c.x, size(keys(c)) ORDER BY c.x",
    );
    assert_eq!(ints(&r), vec![vec![2, 1, 3, 5, 1], vec![2, 1, 3, 6, 1]]);
    // Not constant, so not folded into one map value before it runs.
    let r = run(&engine, "UNWIND [7] AS v CREATE (:D {x: v, x: v + 1})");
    assert_eq!(r.stats.properties_set, 1);
    assert_eq!(ints(&run(&engine, "MATCH (d:D) RETURN d.x")), vec![vec![8]]);
    // Of two properties that cannot be stored, the first in key order is named.
    let refused = engine
        .execute("UNWIND [1] AS v CREATE (:E {b: {k: v}, a: [v, [v]]})", &BTreeMap::new())
        .expect_err("neither a map nor a nested list can be stored");
    assert!(refused.to_string().contains("LIST"), "{refused}");
}

#[test]
fn match_expand_filter_and_order() {
    let engine = social();
    let r = run(
        &engine,
        "MATCH (a:Person)-[k:KNOWS]->(b:Person) WHERE k.since > 2000 RETURN a.name AS from, b.name AS to ORDER BY k.since",
    );
    assert_eq!(r.columns, vec!["from", "to"]);
    let names: Vec<(String, String)> = r
        .rows
        .iter()
        .map(|row| match (&row[0], &row[1]) {
            (ResultValue::String(a), ResultValue::String(b)) => (a.clone(), b.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(names, vec![("Ada".into(), "Bob".into()), ("Bob".into(), "Cy".into())]);
}

#[test]
fn aggregation_groups_by_the_non_aggregate_items() {
    let engine = social();
    let r = run(
        &engine,
        "MATCH (a:Person)-[:KNOWS]->(b) RETURN a.age AS age, count(*) AS c, sum(b.age) AS s ORDER BY age",
    );
    assert_eq!(ints(&r), vec![vec![25, 1, 41], vec![36, 2, 66]]);
    let r = run(&engine, "MATCH (n:Nobody) RETURN count(n) AS c, collect(n) AS l");
    assert_eq!(r.rows, vec![vec![ResultValue::Int(0), ResultValue::List(vec![])]]);
}

#[test]
fn two_hop_counts_distinct_endpoints() {
    let engine = social();
    let r = run(
        &engine,
        "MATCH (a {name: 'Ada'})-[:KNOWS]->()-[:KNOWS]->(c) RETURN count(DISTINCT c) AS n",
    );
    assert_eq!(ints(&r), vec![vec![1]]);
}

#[test]
fn optional_match_yields_nulls() {
    let engine = social();
    let r = run(
        &engine,
        "MATCH (c {name: 'Cy'}) OPTIONAL MATCH (c)-[:KNOWS]->(x) RETURN c.name, x",
    );
    assert_eq!(r.rows, vec![vec![ResultValue::String("Cy".into()), ResultValue::Null]]);
}

#[test]
fn variable_length_paths() {
    let engine = social();
    let r = run(
        &engine,
        "MATCH p = (a {name: 'Ada'})-[:KNOWS*1..2]->(c {name: 'Cy'}) RETURN length(p) AS l ORDER BY l",
    );
    assert_eq!(ints(&r), vec![vec![1], vec![2]]);
}

#[test]
fn merge_matches_or_creates() {
    let engine = social();
    let r = run(
        &engine,
        "MERGE (p:Person {name: 'Ada'}) ON MATCH SET p.seen = true RETURN p.seen",
    );
    assert_eq!(r.rows, vec![vec![ResultValue::Bool(true)]]);
    assert_eq!(r.stats.nodes_created, 0);
    let r = run(
        &engine,
        "UNWIND [1, 1, 2] AS i MERGE (n:N {i: i}) ON CREATE SET n.new = true RETURN count(*)",
    );
    assert_eq!(r.stats.nodes_created, 2);
}

#[test]
fn set_remove_and_delete() {
    let engine = social();
    run(
        &engine,
        "MATCH (p:Person {name: 'Bob'}) SET p += {city: 'Oslo'}, p:Admin REMOVE p.age",
    );
    let r = run(&engine, "MATCH (p:Admin) RETURN p.city, p.age");
    assert_eq!(
        r.rows,
        vec![vec![ResultValue::String("Oslo".into()), ResultValue::Null]]
    );
    let err = engine
        .execute("MATCH (p:Person {name: 'Bob'}) DELETE p", &BTreeMap::new())
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ConstraintVerificationFailed);
    let r = run(&engine, "MATCH (p:Person {name: 'Bob'}) DETACH DELETE p");
    assert_eq!((r.stats.nodes_deleted, r.stats.relationships_deleted), (1, 2));
    assert_eq!(ints(&run(&engine, "MATCH (n) RETURN count(n)")), vec![vec![2]]);
}

#[test]
fn with_skip_limit_and_distinct() {
    let engine = Engine::new();
    let r = run(
        &engine,
        "UNWIND range(1, 10) AS x WITH x % 3 AS m RETURN DISTINCT m ORDER BY m DESC SKIP 1 LIMIT 1",
    );
    assert_eq!(ints(&r), vec![vec![1]]);
}

#[test]
fn parameters_are_bound_at_run_time() {
    let engine = social();
    let params = BTreeMap::from([("name".to_owned(), Value::from("Cy"))]);
    let r = engine
        .execute("MATCH (p:Person {name: $name}) RETURN p.age", &params)
        .unwrap();
    assert_eq!(ints(&r), vec![vec![41]]);
    let err = engine.execute("RETURN $missing", &BTreeMap::new()).unwrap_err();
    assert!(err.message.contains("missing"), "{err}");
}

#[test]
fn index_scan_and_constraints_through_cypher() {
    let engine = social();
    run(&engine, "CREATE INDEX ON :Person(name)");
    run(&engine, "CREATE CONSTRAINT ON (p:Person) ASSERT p.name IS UNIQUE");
    let err = engine
        .execute("CREATE (:Person {name: 'Ada'})", &BTreeMap::new())
        .unwrap_err();
    assert_eq!(err.status(), "Neo.ClientError.Schema.ConstraintValidationFailed");
    let r = run(&engine, "MATCH (p:Person {name: 'Ada'}) RETURN p.age");
    assert_eq!(ints(&r), vec![vec![36]]);
    let r = run(&engine, "SHOW INDEX INFO");
    assert_eq!(r.rows.len(), 1);
    let plan = run(&engine, "EXPLAIN MATCH (p:Person {name: 'Ada'}) RETURN p");
    assert!(!plan.rows.is_empty());
}

#[test]
fn compile_errors_carry_codes() {
    let engine = Engine::new();
    let cases = [
        ("RETURN x", "UndefinedVariable", "Neo.ClientError.Statement.SyntaxError"),
        (
            "MATCH (me)--(you) RETURN me.age + count(you.age)",
            "AmbiguousAggregationExpression",
            "",
        ),
        ("RETURN 1 AS a, 2 AS a", "ColumnNameConflict", ""),
        ("MATCH (n)", "InvalidClauseComposition", ""),
        ("CREATE (a)-[:R|S]->(b)", "NoSingleRelationshipType", ""),
    ];
    for (query, detail, status) in cases {
        let err = engine.execute(query, &BTreeMap::new()).unwrap_err();
        assert_eq!(err.detail, detail, "{query}: {err}");
        if !status.is_empty() {
            assert_eq!(err.status(), status);
        }
    }
}

#[test]
fn division_by_zero_is_an_arithmetic_error_and_nothing_is_written() {
    let engine = Engine::new();
    let err = engine
        .execute("CREATE (n:X) RETURN 1 / 0", &BTreeMap::new())
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ArithmeticError);
    assert_eq!(ints(&run(&engine, "MATCH (n) RETURN count(n)")), vec![vec![0]]);
}

#[test]
fn procedures_list_schema_names() {
    let engine = social();
    let r = run(&engine, "CALL db.labels() YIELD label RETURN label");
    assert_eq!(r.rows, vec![vec![ResultValue::String("Person".into())]]);
    let r = run(&engine, "CALL db.relationshipTypes()");
    assert_eq!(r.columns, vec!["relationshipType"]);
}

#[test]
fn where_equality_on_an_indexed_property_uses_the_index() {
    // Set up: many nodes, an index on :Person(id).
    let engine = Engine::new();
    run(&engine, "UNWIND range(1, 2000) AS i CREATE (:Person {id: i})");
    run(&engine, "CREATE INDEX ON :Person(id)");

    // Act: the same lookup written with WHERE, profiled.
    let profile = run(&engine, "PROFILE MATCH (p:Person) WHERE p.id = 1234 RETURN p.id");
    let result = run(&engine, "MATCH (p:Person) WHERE p.id = 1234 AND true RETURN p.id");

    // Check: one row, and the match produced one row without scanning all 2000 first
    // (the Filter above Match sees only the index hit).
    assert_eq!(ints(&result), vec![vec![1234]]);
    let hits: Vec<i64> = profile
        .rows
        .iter()
        .map(|r| match &r[1] {
            ResultValue::Int(i) => *i,
            _ => -1,
        })
        .collect();
    assert!(hits.iter().all(|h| *h <= 1), "{:?}", profile.rows);
}

#[test]
fn where_range_on_an_indexed_property_scans_the_index_range() {
    // Set up: ages 0..999, an index, and values of other types that a range must skip.
    let engine = Engine::new();
    run(&engine, "UNWIND range(0, 999) AS i CREATE (:P {age: i})");
    run(
        &engine,
        "CREATE (:P {age: 'old'}), (:P {age: true}), (:P {age: 0.0 / 0.0})",
    );
    run(&engine, "CREATE INDEX ON :P(age)");

    // Act: ranges written both ways round, with parameters.
    let params = BTreeMap::from([("hi".to_owned(), Value::Int(995))]);
    let r = engine.execute(
        "MATCH (p:P) WHERE p.age >= 990 AND $hi > p.age RETURN p.age ORDER BY p.age",
        &params,
    );
    let profile = run(&engine, "PROFILE MATCH (p:P) WHERE 997 < p.age RETURN p.age");

    // Check: exact rows; the match saw only index hits (not all 1003 nodes).
    assert_eq!(
        ints(&r.unwrap()),
        vec![vec![990], vec![991], vec![992], vec![993], vec![994]]
    );
    let match_rows = profile
        .rows
        .iter()
        .find(|r| matches!(&r[0], ResultValue::String(s) if s.ends_with("Match")));
    assert!(
        matches!(match_rows.map(|r| &r[1]), Some(ResultValue::Int(n)) if *n <= 3),
        "{:?}",
        profile.rows
    );
}

#[test]
fn registered_table_procedures_answer_by_their_inputs() {
    // Set up: a procedure mapping an id to a city.
    let engine = Engine::new();
    let rows = vec![
        vec![Value::Int(1), Value::from("Oslo")],
        vec![Value::Int(2), Value::from("Lima")],
    ];
    let procedure =
        weft_query::Procedure::from_signature("geo.city(id :: INTEGER?) :: (city :: STRING?)", rows).unwrap();
    engine.register_procedure(procedure);

    // Act + check: explicit, implicit (standalone, from parameters) and in-query calls.
    let r = run(&engine, "CALL geo.city(2)");
    assert_eq!(
        (r.columns.clone(), r.rows.clone()),
        (vec!["city".to_owned()], vec![vec![ResultValue::String("Lima".into())]])
    );
    let params = BTreeMap::from([("id".to_owned(), Value::Int(1))]);
    let r = engine.execute("CALL geo.city", &params).unwrap();
    assert_eq!(r.rows, vec![vec![ResultValue::String("Oslo".into())]]);
    let r = run(
        &engine,
        "UNWIND [1, 2, 3] AS i CALL geo.city(i) YIELD city RETURN i, city ORDER BY i",
    );
    assert_eq!(r.rows.len(), 2);

    // Errors: wrong count, wrong constant type, implicit arguments in a query, unknown name.
    let err = |q: &str| engine.execute(q, &BTreeMap::new()).unwrap_err().detail;
    assert_eq!(err("CALL geo.city(1, 2)"), "InvalidNumberOfArguments");
    assert_eq!(err("CALL geo.city('x')"), "InvalidArgumentType");
    assert_eq!(
        err("MATCH (n) CALL geo.city YIELD city RETURN city"),
        "InvalidArgumentPassingMode"
    );
    assert_eq!(err("CALL geo.nowhere()"), "ProcedureNotFound");
}

#[test]
fn cursors_stream_in_batches_and_discarding_still_applies_updates() {
    let engine = Engine::new();
    let none = BTreeMap::new();

    // Act 1: pull from a 27-million-row cartesian product in small batches, then stop.
    run(&engine, "UNWIND range(1, 300) AS i CREATE (:P {i: i})");
    let mut txn = engine.begin(weft_query::AccessMode::ReadWrite);
    let query = "MATCH (a:P), (b:P), (c:P) RETURN a.i, b.i, c.i";
    let mut cursor = engine.cursor(&mut txn, query, &none).unwrap();
    let first = cursor.fetch(3).unwrap();
    let second = cursor.fetch(2).unwrap();
    assert!(!cursor.is_exhausted());
    cursor.finish().unwrap();

    // Check 1: rows arrive batch by batch without the rest being produced (the test
    // would run out of time and memory otherwise).
    let row = |a, b, c| vec![ResultValue::Int(a), ResultValue::Int(b), ResultValue::Int(c)];
    assert_eq!(first, vec![row(1, 1, 1), row(1, 1, 2), row(1, 1, 3)]);
    assert_eq!(second, vec![row(1, 1, 4), row(1, 1, 5)]);

    // Act 2: discard an update's rows without fetching any, then commit.
    let cursor = engine
        .cursor(&mut txn, "UNWIND range(1, 10) AS i CREATE (n:N {i: i}) RETURN n", &none)
        .unwrap();
    let stats = cursor.finish().unwrap();
    txn.commit().unwrap();

    // Check 2: all ten nodes exist.
    assert_eq!(stats.nodes_created, 10);
    assert_eq!(ints(&run(&engine, "MATCH (n:N) RETURN count(n)")), vec![vec![10]]);
}

#[test]
fn shortest_path_between_ends_found_by_property() {
    let engine = social();
    let result = run(
        &engine,
        "MATCH p = shortestPath((a {name: 'Ada'})-[*]-(c {name: 'Cy'})) RETURN length(p), [n IN nodes(p) | n.name]",
    );
    assert_eq!(result.rows.len(), 1);
    assert_eq!(result.rows[0][0], ResultValue::Int(1));
}

#[test]
fn patterns_started_from_a_types_sources_match_as_from_every_node() {
    // Set up: nodes with and without edges of each type, a self loop, a deleted edge and a
    // deleted node.
    let engine = Engine::new();
    run(
        &engine,
        "UNWIND range(0, 39) AS i CREATE (:N {i: i})
         WITH count(*) AS made
         MATCH (a:N), (b:N) WHERE b.i = (a.i * 7 + 3) % 40 AND a.i % 3 <> 0
         CREATE (a)-[:T {i: a.i}]->(b)
         WITH count(*) AS made
         MATCH (a:N), (b:N) WHERE b.i = (a.i + 1) % 40 AND a.i % 4 = 0
         CREATE (a)-[:U]->(b)",
    );
    run(&engine, "MATCH (a:N {i: 5}) CREATE (a)-[:T]->(a)");
    run(&engine, "MATCH ()-[r:T {i: 7}]->() DELETE r");
    run(&engine, "MATCH (a:N {i: 8}) DETACH DELETE a");
    // Each pattern against the same pattern started from a node already bound (no scan).
    for pattern in [
        "(a)-[:T]->(b)",
        "(a)<-[:T]-(b)",
        "(a)-[:T|U]->(b)",
        "(a)-[:T]-(b)",
        "(a)-[:T*1..2]->(b)",
        "(a)-[:T*0..1]->(b)",
        "(a)-[:U]->(b)-[:T]->(c)",
        "(a)-[:NOWHERE]->(b)",
    ] {
        let scanned = run(&engine, &format!("MATCH {pattern} RETURN count(*) AS c"));
        let bound = run(
            &engine,
            &format!("MATCH (a) WITH a MATCH {pattern} RETURN count(*) AS c"),
        );
        assert_eq!(ints(&scanned), ints(&bound), "{pattern}");
    }
    assert_eq!(
        ints(&run(&engine, "MATCH (a)-[:T]->(b) RETURN count(*)")),
        vec![vec![24]]
    );
}

#[test]
fn count_distinct_tells_nodes_apart_from_each_other_and_from_other_values() {
    let engine = Engine::new();
    run(&engine, "CREATE (:N {i: 1})-[:R]->(:N {i: 2}), (:N {i: 3})");
    // Two-hop style: the same node reached twice counts once; null does not count;
    // 1 and 1.0 are one value; a node is never equal to a number.
    let result = run(
        &engine,
        "MATCH (a:N) WITH collect(a) AS ns \
         UNWIND ns + ns + [null, 1, 1.0, ns[0]] AS x RETURN count(DISTINCT x) AS d, count(x) AS c",
    );
    assert_eq!(ints(&result), vec![vec![4, 9]]);
}
