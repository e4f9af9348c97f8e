//! EXPLAIN and PROFILE as rows: the operator tree with estimated rows, and under PROFILE
//! the rows each operator produced and the graph accesses it made.

use std::collections::BTreeMap;
use weft_query::{Engine, QueryResult, ResultValue};

fn run(engine: &Engine, query: &str) -> QueryResult {
    engine
        .execute(query, &BTreeMap::new())
        .unwrap_or_else(|e| panic!("{query}: {e} ({:?})", e.detail))
}

fn int(v: &ResultValue) -> i64 {
    match v {
        ResultValue::Int(i) => *i,
        other => panic!("not an integer: {other:?}"),
    }
}

/// The line of operator `name` (its text ends with it).
fn line<'r>(result: &'r QueryResult, name: &str) -> &'r [ResultValue] {
    result
        .rows
        .iter()
        .find(|r| matches!(&r[0], ResultValue::String(s) if s.ends_with(&format!("* {name}"))))
        .unwrap_or_else(|| panic!("no {name} in {:?}", result.rows))
}

fn chain() -> Engine {
    let engine = Engine::new();
    run(&engine, "CREATE INDEX ON :P(id)");
    run(&engine, "UNWIND range(1, 100) AS i CREATE (:P {id: i})");
    run(
        &engine,
        "UNWIND range(1, 99) AS i MATCH (a:P {id: i}), (b:P {id: i + 1}) CREATE (a)-[:N]->(b)",
    );
    engine
}

#[test]
fn explain_estimates_from_the_statistics() {
    let engine = chain();
    let plan = run(&engine, "EXPLAIN MATCH (a:P)-[:N]->(b) RETURN b.id");
    assert_eq!(plan.columns, ["QUERY PLAN", "ESTIMATED ROWS"]);
    // 100 persons, 99 relationships: about one match per person.
    let matched = int(&line(&plan, "Match")[1]);
    assert!((50..=200).contains(&matched), "{matched}");
    let seek = run(&engine, "EXPLAIN MATCH (a:P {id: 7}) RETURN a");
    let found = int(&line(&seek, "Match")[1]);
    assert!(found < 20, "an index seek is estimated below a scan: {found}");
}

#[test]
fn profile_counts_rows_and_db_hits() {
    let engine = chain();
    let profile = run(&engine, "PROFILE MATCH (a:P)-[:N]->(b) RETURN count(b)");
    assert_eq!(
        profile.columns,
        [
            "OPERATOR",
            "ACTUAL HITS",
            "ESTIMATED ROWS",
            "DB HITS",
            "INCLUSIVE TIME (ms)"
        ]
    );
    let matched = line(&profile, "Match");
    assert_eq!(int(&matched[1]), 99);
    // At least the label scan's 100 nodes and the 99 relationships it expands to.
    assert!(int(&matched[3]) >= 199, "{:?}", matched);
    let once = line(&profile, "Once");
    assert_eq!(int(&once[3]), 0);
}
