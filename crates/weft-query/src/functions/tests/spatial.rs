//! Points: `point()` construction and its errors, `point.distance`, `point.withinBBox`,
//! point fields (`p.x`, `p.crs`, ...), `toString`, and comparison through the operators.

use weft_common::value::ComparisonOp;

use super::*;
use crate::expr::ops;

fn point(fields: &[(&str, QValue)]) -> QValue {
    eval("point", vec![m(fields)])
}

fn xy(x: f64, y: f64) -> QValue {
    point(&[("x", f(x)), ("y", f(y))])
}

fn lonlat(lon: f64, lat: f64) -> QValue {
    point(&[("longitude", f(lon)), ("latitude", f(lat))])
}

fn field(p: &QValue, key: &str) -> String {
    show(ops::property(p, key, &FakeGraph::default()))
}

#[test]
fn point_defaults_its_crs_from_the_coordinates() {
    let cases = [
        (
            vec![("x", f(1.5)), ("y", f(2.5))],
            "point({x: 1.5, y: 2.5, crs: 'cartesian'})",
        ),
        (
            vec![("x", i(1)), ("y", i(2)), ("z", i(3))],
            "point({x: 1.0, y: 2.0, z: 3.0, crs: 'cartesian-3d'})",
        ),
        (
            vec![("longitude", f(12.5)), ("latitude", f(56.25))],
            "point({x: 12.5, y: 56.25, crs: 'wgs-84'})",
        ),
        (
            vec![("longitude", i(12)), ("latitude", i(56)), ("height", i(100))],
            "point({x: 12.0, y: 56.0, z: 100.0, crs: 'wgs-84-3d'})",
        ),
        // Key case does not matter; unknown keys are ignored.
        (
            vec![("X", i(1)), ("Y", i(2)), ("name", s("a"))],
            "point({x: 1.0, y: 2.0, crs: 'cartesian'})",
        ),
    ];
    for (fields, expected) in cases {
        assert_eq!(run("point", vec![m(&fields)]), expected, "{fields:?}");
    }
}

#[test]
fn point_takes_a_crs_or_an_srid() {
    let cases = [
        (vec![("x", i(1)), ("y", i(2)), ("crs", s("WGS-84"))], "wgs-84"),
        (vec![("x", i(1)), ("y", i(2)), ("crs", s("wgs-84-2d"))], "wgs-84"),
        (vec![("x", i(1)), ("y", i(2)), ("srid", i(4326))], "wgs-84"),
        (vec![("x", i(1)), ("y", i(2)), ("srid", i(7203))], "cartesian"),
        (
            vec![("x", i(1)), ("y", i(2)), ("z", i(3)), ("srid", i(4979))],
            "wgs-84-3d",
        ),
        (
            vec![("x", i(1)), ("y", i(2)), ("z", i(3)), ("crs", s("cartesian-3D"))],
            "cartesian-3d",
        ),
        (
            vec![("longitude", i(1)), ("latitude", i(2)), ("srid", i(4326))],
            "wgs-84",
        ),
    ];
    for (fields, crs) in cases {
        let p = eval("point", vec![m(&fields)]);
        assert_eq!(field(&p, "crs"), format!("'{crs}'"), "{fields:?}");
    }
}

#[test]
fn point_of_null_is_null() {
    assert_eq!(run("point", vec![NULL]), "null");
    assert_eq!(run("point", vec![m(&[("x", NULL), ("y", i(1))])]), "null");
    assert_eq!(
        run("point", vec![m(&[("x", i(1)), ("y", i(1)), ("crs", NULL)])]),
        "null"
    );
}

#[test]
fn point_rejects_invalid_maps() {
    let argument = "error: ArgumentError/InvalidArgumentValue";
    let type_error = "error: TypeError/InvalidArgumentValue";
    let cases = [
        (vec![("x", i(1))], argument),
        (vec![("y", i(1)), ("z", i(1))], argument),
        (vec![("latitude", i(1))], argument),
        (vec![], argument),
        (vec![("x", i(1)), ("y", i(2)), ("latitude", i(3))], argument),
        (vec![("x", i(1)), ("y", i(2)), ("crs", s("cartesian-3d"))], argument),
        (vec![("x", i(1)), ("y", i(2)), ("z", i(3)), ("srid", i(4326))], argument),
        (
            vec![("longitude", i(1)), ("latitude", i(2)), ("crs", s("cartesian"))],
            argument,
        ),
        (vec![("x", i(1)), ("y", i(2)), ("crs", s("polar"))], argument),
        (vec![("x", i(1)), ("y", i(2)), ("srid", i(1234))], argument),
        (
            vec![("x", i(1)), ("y", i(2)), ("crs", s("cartesian")), ("srid", i(7203))],
            argument,
        ),
        (vec![("longitude", i(181)), ("latitude", i(0))], argument),
        (vec![("longitude", i(0)), ("latitude", f(-90.5))], argument),
        (vec![("x", f(f64::NAN)), ("y", i(0))], argument),
        (vec![("x", f(f64::INFINITY)), ("y", i(0))], argument),
        (vec![("x", s("1")), ("y", i(2))], type_error),
        (vec![("x", i(1)), ("y", i(2)), ("crs", i(7203))], type_error),
        (vec![("x", i(1)), ("y", i(2)), ("srid", f(7203.0))], type_error),
    ];
    for (fields, expected) in cases {
        assert_eq!(run("point", vec![m(&fields)]), expected, "{fields:?}");
    }
    assert_eq!(run("point", vec![i(1)]), type_error);
    assert_eq!(run("point", vec![l(vec![i(1), i(2)])]), type_error);
}

#[test]
fn point_errors_name_the_problem() {
    let error = |fields: &[(&str, QValue)]| match crate::functions::call("point", &[m(fields)], &FakeGraph::default()) {
        Ok(value) => panic!("expected an error, got {value}"),
        Err(e) => e.to_string(),
    };
    assert!(error(&[("x", i(1))]).contains("needs x and y"));
    assert!(error(&[("x", i(1)), ("y", i(2)), ("crs", s("polar"))]).contains("unknown CRS 'polar'"));
    assert!(error(&[("longitude", i(0)), ("latitude", i(91))]).contains("latitude 91 is outside"));
    assert!(error(&[("x", s("a")), ("y", i(2))]).contains("a NUMBER for `x`"));
    let wrong_dimension = error(&[("x", i(1)), ("y", i(2)), ("srid", i(9157))]);
    assert!(
        wrong_dimension.contains("'cartesian-3d' takes 3 coordinates, got 2"),
        "{wrong_dimension}"
    );
}

#[test]
fn fields_follow_the_crs() {
    let flat = xy(1.5, 2.5);
    assert_eq!(field(&flat, "x"), "1.5");
    assert_eq!(field(&flat, "y"), "2.5");
    assert_eq!(field(&flat, "crs"), "'cartesian'");
    assert_eq!(field(&flat, "srid"), "7203");
    let missing = "error: ArgumentError/InvalidArgumentValue";
    for key in ["z", "longitude", "latitude", "height", "m", "X"] {
        assert_eq!(field(&flat, key), missing, "{key}");
    }

    let geo = point(&[("longitude", f(12.5)), ("latitude", f(56.0)), ("height", f(7.0))]);
    assert_eq!(field(&geo, "longitude"), "12.5");
    assert_eq!(field(&geo, "x"), "12.5");
    assert_eq!(field(&geo, "latitude"), "56.0");
    assert_eq!(field(&geo, "y"), "56.0");
    assert_eq!(field(&geo, "height"), "7.0");
    assert_eq!(field(&geo, "z"), "7.0");
    assert_eq!(field(&geo, "srid"), "4979");
    assert_eq!(field(&lonlat(1.0, 2.0), "height"), missing);

    let cube = point(&[("x", i(1)), ("y", i(2)), ("z", i(3))]);
    assert_eq!(field(&cube, "z"), "3.0");
    assert_eq!(field(&cube, "height"), missing);

    let Err(error) = ops::property(&flat, "z", &FakeGraph::default()) else {
        panic!("z of a 2D point")
    };
    assert_eq!(
        error.message,
        "a cartesian point has no field `z`; it has x, y, crs and srid"
    );
}

#[test]
fn distance_is_euclidean_for_cartesian_points() {
    assert_eq!(run("point.distance", vec![xy(0.0, 0.0), xy(3.0, 4.0)]), "5.0");
    let a = point(&[("x", i(0)), ("y", i(0)), ("z", i(0))]);
    let b = point(&[("x", i(2)), ("y", i(3)), ("z", i(6))]);
    assert_eq!(run("point.distance", vec![a, b]), "7.0");
}

#[test]
fn distance_is_great_circle_for_wgs84() {
    // The Copenhagen to Malmö example of Neo4j's manual: about 27842 m.
    let copenhagen = lonlat(12.564590, 55.672874);
    let malmo = lonlat(12.994341, 55.611784);
    let QValue::Float(d) = eval("point.distance", vec![copenhagen, malmo]) else {
        panic!("a float")
    };
    assert_eq!(d.round(), 27842.0);
    let low = point(&[("longitude", i(0)), ("latitude", i(0)), ("height", i(0))]);
    let high = point(&[("longitude", i(0)), ("latitude", i(0)), ("height", i(30))]);
    assert_eq!(run("point.distance", vec![low, high]), "30.0");
}

#[test]
fn distance_is_null_for_null_or_different_crs() {
    assert_eq!(run("point.distance", vec![xy(0.0, 0.0), lonlat(0.0, 0.0)]), "null");
    let cube = point(&[("x", i(0)), ("y", i(0)), ("z", i(0))]);
    assert_eq!(run("point.distance", vec![xy(0.0, 0.0), cube]), "null");
    assert_eq!(run("point.distance", vec![NULL, xy(0.0, 0.0)]), "null");
    assert_eq!(run("point.distance", vec![xy(0.0, 0.0), NULL]), "null");
    assert_eq!(
        run("point.distance", vec![xy(0.0, 0.0), i(1)]),
        "error: TypeError/InvalidArgumentValue"
    );
}

#[test]
fn within_bbox_checks_every_coordinate() {
    let bbox = |p| run("point.withinBBox", vec![p, xy(0.0, 0.0), xy(10.0, 10.0)]);
    assert_eq!(bbox(xy(5.0, 5.0)), "true");
    assert_eq!(bbox(xy(0.0, 10.0)), "true");
    assert_eq!(bbox(xy(-1.0, 5.0)), "false");
    assert_eq!(bbox(xy(5.0, 11.0)), "false");
    assert_eq!(bbox(lonlat(5.0, 5.0)), "null");
    assert_eq!(bbox(NULL), "null");
    assert_eq!(bbox(s("p")), "error: TypeError/InvalidArgumentValue");
    assert_eq!(run("point.withinBBox", vec![xy(1.0, 1.0), NULL, xy(2.0, 2.0)]), "null");
}

#[test]
fn within_bbox_crosses_the_dateline_for_wgs84() {
    let bbox = |p| run("point.withinBBox", vec![p, lonlat(170.0, -10.0), lonlat(-170.0, 10.0)]);
    assert_eq!(bbox(lonlat(179.0, 0.0)), "true");
    assert_eq!(bbox(lonlat(-179.0, 5.0)), "true");
    assert_eq!(bbox(lonlat(0.0, 0.0)), "false");
    assert_eq!(bbox(lonlat(179.0, 11.0)), "false");
    // Mixed CRSs give null, even for the corners.
    let mixed = run(
        "point.withinBBox",
        vec![lonlat(0.0, 0.0), lonlat(-1.0, -1.0), xy(1.0, 1.0)],
    );
    assert_eq!(mixed, "null");
}

#[test]
fn to_string_is_neo4js() {
    assert_eq!(
        run("toString", vec![xy(1.5, 2.5)]),
        "'point({x: 1.5, y: 2.5, crs: \\'cartesian\\'})'"
    );
}

#[test]
fn points_compare_by_equality_only() {
    let cmp = |a: &QValue, op, b: &QValue| show(Ok(a.cypher_compare(op, b).map_or(NULL, QValue::Bool)));
    assert_eq!(xy(1.0, 2.0).cypher_eq(&xy(1.0, 2.0)), Some(true));
    assert_eq!(xy(1.0, 2.0).cypher_eq(&xy(2.0, 1.0)), Some(false));
    assert_eq!(xy(1.0, 2.0).cypher_eq(&lonlat(1.0, 2.0)), Some(false));
    assert_eq!(xy(1.0, 2.0).cypher_eq(&NULL), None);
    assert_eq!(cmp(&xy(1.0, 2.0), ComparisonOp::Lt, &xy(2.0, 2.0)), "null");
    assert_eq!(cmp(&xy(1.0, 2.0), ComparisonOp::Ge, &lonlat(2.0, 2.0)), "null");
    // ORDER BY: by SRID (wgs-84 4326 before cartesian 7203), then coordinates; points sit
    // between lists and temporal values.
    let mut values = [xy(2.0, 0.0), s("a"), xy(1.0, 5.0), lonlat(9.0, 9.0), l(vec![])];
    values.sort_by(QValue::order_cmp);
    let shown: Vec<String> = values.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "[]",
            "point({x: 9.0, y: 9.0, crs: 'wgs-84'})",
            "point({x: 1.0, y: 5.0, crs: 'cartesian'})",
            "point({x: 2.0, y: 0.0, crs: 'cartesian'})",
            "'a'",
        ]
    );
}
