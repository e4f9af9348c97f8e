//! Tests against a real server: what comes back over Bolt equals what the in-process
//! engine returns, for values of every type, for failures and for snapshots.

use weft_common::Value;

use super::*;
use crate::engine_adapter::WeftEngine;

/// Runs `queries` in order on both engines and returns the last outcome of each.
fn both(queries: &[&str], params: &Params) -> (Result<QueryResult, QueryError>, Result<QueryResult, QueryError>) {
    let (bolt, local) = (BoltEngine::start().expect("server starts"), WeftEngine::new());
    let mut outcomes = None;
    for query in queries {
        outcomes = Some((bolt.execute(query, params), local.execute(query, params)));
    }
    outcomes.expect("at least one query")
}

#[test]
fn every_value_type_comes_back_as_in_process() {
    // Set up
    let query = "CREATE p = (a:A {k: 1, f: 0.5})-[r:T {w: [1, 2]}]->(b:B:C) \
                 WITH a, r, b, p, nodes(p) AS ns \
                 RETURN a, r, b, p, ns, [1, 2.5, 'x', null, true] AS l, {m: {n: 1}} AS m, \
                 date('2020-01-01') AS d, localtime('12:00:01.5') AS lt, time('12:00+01:00') AS t, \
                 localdatetime('2020-01-01T12:00') AS ldt, datetime('2020-01-01T12:00+02:00') AS dto, \
                 datetime('2020-07-01T12:00[Europe/Stockholm]') AS dtz, duration('P1M2DT3.5S') AS du, \
                 point({x: 1, y: 2}) AS p2, point({longitude: 1, latitude: 2, height: 3}) AS p3, $x AS x";
    let params = Params::from([("x".to_string(), Value::List(vec![Value::Int(1), Value::Null]))]);

    // Act
    let (bolt, local) = both(&[query], &params);

    // Check
    let (bolt, local) = (bolt.expect("over Bolt"), local.expect("in process"));
    assert_eq!(bolt.columns, local.columns);
    assert_eq!(bolt.rows, local.rows);
    assert_eq!(bolt.stats.nodes_created, 2);
}

#[test]
fn a_reversed_path_keeps_its_directions() {
    let (bolt, local) = both(
        &[
            "CREATE (:A)-[:T]->(:B)<-[:U]-(:C)",
            "MATCH p = (:C)-[:U]->(:B)<-[:T]-(:A) RETURN p",
        ],
        &Params::new(),
    );
    assert_eq!(bolt.expect("over Bolt").rows, local.expect("in process").rows);
}

#[test]
fn failures_keep_their_kind_and_phase() {
    for query in [
        "RETURN undefined",
        "RETURN 1 +",
        "UNWIND [0] AS z RETURN 1 / z",
        "RETURN $missing",
    ] {
        let (bolt, local) = both(&[query], &Params::new());
        let (bolt, local) = (bolt.expect_err(query), local.expect_err(query));
        assert_eq!(
            (bolt.kind, bolt.phase),
            (local.kind, local.phase),
            "{query}: {bolt} / {local}"
        );
    }
}

#[test]
fn snapshots_see_the_graph_over_bolt() {
    // Set up
    let bolt = BoltEngine::start().expect("server starts");
    let local = WeftEngine::new();
    let setup = "CREATE (:A {k: 1})-[:T {w: 2.0}]->(:B)";
    bolt.execute(setup, &Params::new()).expect("over Bolt");
    local.execute(setup, &Params::new()).expect("in process");

    // Act, check
    assert_eq!(bolt.snapshot(), local.snapshot());
}
