//! Points end to end through `Engine::execute`: construction and fields in RETURN,
//! storage as properties, parameters, ORDER BY / DISTINCT, a label+property index for
//! equality, and survival across a restart (snapshot plus WAL).

use std::collections::BTreeMap;

use weft_common::spatial::{Crs, Point};
use weft_common::Value;
use weft_query::{Engine, ErrorKind, QueryResult, ResultValue};
use weft_storage::durability::{Durability, DurabilityConfig};

fn run(engine: &Engine, query: &str) -> QueryResult {
    engine
        .execute(query, &BTreeMap::new())
        .unwrap_or_else(|e| panic!("{query}: {e} ({:?})", e.detail))
}

fn point(crs: Crs, coords: &[f64]) -> Point {
    Point::new(crs, coords).unwrap()
}

/// The single value of a one-row, one-column result.
fn single(result: &QueryResult) -> &ResultValue {
    assert_eq!(result.rows.len(), 1, "{:?}", result.rows);
    &result.rows[0][0]
}

#[test]
fn return_point_and_its_fields() {
    let engine = Engine::new();
    let r = run(&engine, "RETURN point({x: 1.5, y: 2.5}) AS p");
    assert_eq!(single(&r), &ResultValue::Point(point(Crs::Cartesian, &[1.5, 2.5])));
    let r = run(
        &engine,
        "WITH point({longitude: 12.5, latitude: 56.0, height: 7}) AS p
         RETURN p.longitude, p.latitude, p.height, p.x, p.crs, p.srid",
    );
    assert_eq!(
        r.rows[0],
        vec![
            ResultValue::Float(12.5),
            ResultValue::Float(56.0),
            ResultValue::Float(7.0),
            ResultValue::Float(12.5),
            ResultValue::String("wgs-84-3d".into()),
            ResultValue::Int(4979),
        ]
    );
    let r = run(&engine, "RETURN toString(point({x: 1.5, y: 2.5}))");
    assert_eq!(
        single(&r),
        &ResultValue::String("point({x: 1.5, y: 2.5, crs: 'cartesian'})".into())
    );
    let r = run(
        &engine,
        "RETURN point.distance(point({x: 0, y: 0}), point({x: 3, y: 4}))",
    );
    assert_eq!(single(&r), &ResultValue::Float(5.0));
}

#[test]
fn errors_are_argument_and_type_errors() {
    let engine = Engine::new();
    // Values from a parameter, so that constant folding (which turns type errors on
    // literals into compile-time errors) stays out of the way.
    let kind = |q: &str, x: Value| {
        let params = BTreeMap::from([("x".to_owned(), x)]);
        engine.execute(q, &params).unwrap_err().kind
    };
    assert_eq!(kind("RETURN point({x: $x})", Value::Int(1)), ErrorKind::ArgumentError);
    assert_eq!(
        kind("RETURN point({x: $x, y: 2}).z", Value::Int(1)),
        ErrorKind::ArgumentError
    );
    assert_eq!(
        kind("RETURN point({longitude: $x, latitude: 2})", Value::Int(200)),
        ErrorKind::ArgumentError
    );
    assert_eq!(
        kind("RETURN point({x: $x, y: 2})", Value::from("a")),
        ErrorKind::TypeError
    );
    assert_eq!(
        kind("RETURN point.distance($x, point({x: 1, y: 2}))", Value::Int(1)),
        ErrorKind::TypeError
    );
    let r = run(&engine, "RETURN point(null), point.distance(point({x: 1, y: 2}), null)");
    assert_eq!(r.rows[0], vec![ResultValue::Null, ResultValue::Null]);
}

#[test]
fn comparison_equality_order_and_distinct() {
    let engine = Engine::new();
    let r = run(
        &engine,
        "WITH point({x: 1, y: 2}) AS a, point({x: 1.0, y: 2.0}) AS b, point({longitude: 1, latitude: 2}) AS c
         RETURN a = b, a = c, a <> c, a < b, a < c",
    );
    let (t, f, null) = (ResultValue::Bool(true), ResultValue::Bool(false), ResultValue::Null);
    assert_eq!(r.rows[0], vec![t.clone(), f, t, null.clone(), null]);
    let r = run(
        &engine,
        "UNWIND [point({x: 2, y: 0}), point({x: 1, y: 5}), point({longitude: 9, latitude: 9}), point({x: 1, y: 5})] AS p
         WITH DISTINCT p ORDER BY p RETURN p.srid, p.x",
    );
    let rows: Vec<(i64, f64)> = r
        .rows
        .iter()
        .map(|row| match &row[..] {
            [ResultValue::Int(srid), ResultValue::Float(x)] => (*srid, *x),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(rows, vec![(4326, 9.0), (7203, 1.0), (7203, 2.0)]);
}

#[test]
fn points_are_stored_and_found_through_an_index() {
    // Set up: many places, one at (1, 2), an index on :Place(loc).
    let engine = Engine::new();
    run(
        &engine,
        "UNWIND range(1, 500) AS i CREATE (:Place {id: i, loc: point({x: i, y: i})})",
    );
    run(&engine, "CREATE (:Place {id: 0, loc: point({x: 1, y: 2})})");
    run(&engine, "CREATE INDEX ON :Place(loc)");

    // Act: look it up by a point literal, profiled, and by a point parameter.
    let found = run(&engine, "MATCH (p:Place {loc: point({x: 1, y: 2})}) RETURN p.id");
    let profile = run(
        &engine,
        "PROFILE MATCH (p:Place {loc: point({x: 1, y: 2})}) RETURN p.id",
    );
    let params = BTreeMap::from([("loc".to_owned(), Value::Point(point(Crs::Cartesian, &[3.0, 3.0])))]);
    let by_param = engine
        .execute("MATCH (p:Place) WHERE p.loc = $loc RETURN p.id", &params)
        .unwrap();

    // Check: exactly the matching nodes, and no operator saw more than one row (an index
    // seek, not a scan of 501 nodes).
    assert_eq!(single(&found), &ResultValue::Int(0));
    assert_eq!(single(&by_param), &ResultValue::Int(3));
    let hits: Vec<&ResultValue> = profile.rows.iter().map(|r| &r[1]).collect();
    assert!(
        hits.iter().all(|h| matches!(h, ResultValue::Int(n) if *n <= 1)),
        "{:?}",
        profile.rows
    );
    // `<` on points is null, so a range over the index finds nothing.
    let ranged = run(
        &engine,
        "MATCH (p:Place) WHERE p.loc < point({x: 3, y: 3}) RETURN count(p)",
    );
    assert_eq!(single(&ranged), &ResultValue::Int(0));
    let in_box = run(
        &engine,
        "MATCH (p:Place) WHERE point.withinBBox(p.loc, point({x: 0, y: 0}), point({x: 3, y: 3})) RETURN count(p)",
    );
    assert_eq!(single(&in_box), &ResultValue::Int(4));
    let stored = run(&engine, "MATCH (p:Place {id: 0}) RETURN p.loc");
    assert_eq!(single(&stored), &ResultValue::Point(point(Crs::Cartesian, &[1.0, 2.0])));
}

#[test]
fn stored_points_survive_a_restart() {
    // Set up: one point before a snapshot, a list of points after it.
    let dir = tempfile::tempdir().unwrap();
    let durability = Durability::open(DurabilityConfig::new(dir.path())).unwrap();
    let engine = Engine::with_storage(durability.storage().clone());
    run(
        &engine,
        "CREATE (:Place {name: 'a', loc: point({longitude: 12.5, latitude: 56.0})})",
    );
    durability.create_snapshot().unwrap();
    run(
        &engine,
        "CREATE (:Place {name: 'b', loc: [point({x: 1, y: 2, z: 3}), point({x: 4, y: 5})]})",
    );
    drop((engine, durability));

    // Act: reopen the same directory.
    let durability = Durability::open(DurabilityConfig::new(dir.path())).unwrap();
    let engine = Engine::with_storage(durability.storage().clone());
    let r = run(&engine, "MATCH (p:Place) RETURN p.loc ORDER BY p.name");

    // Check
    let expected = [
        ResultValue::Point(point(Crs::Wgs84, &[12.5, 56.0])),
        ResultValue::List(vec![
            ResultValue::Point(point(Crs::Cartesian3D, &[1.0, 2.0, 3.0])),
            ResultValue::Point(point(Crs::Cartesian, &[4.0, 5.0])),
        ]),
    ];
    let got: Vec<&ResultValue> = r.rows.iter().map(|row| &row[0]).collect();
    assert_eq!(got, expected.iter().collect::<Vec<_>>());
}
