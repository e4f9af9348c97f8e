//! Tests for reading Bolt values back as the engine's values, in both structure dialects
//! (Bolt 4.4 and 5.x).

use std::collections::BTreeMap;

use weft_bolt::{BoltValue, Dialect, Structure, Temporal};
use weft_common::spatial::{Crs, Point};
use weft_common::temporal::{Date, Duration, LocalDateTime, LocalTime, ZonedDateTime, ZonedTime};
use weft_query::ResultValue;

use super::*;

const V4: Dialect = Dialect {
    element_ids: false,
    utc_datetime: false,
};
const V5: Dialect = Dialect {
    element_ids: true,
    utc_datetime: true,
};

fn props(pairs: &[(&str, BoltValue)]) -> Vec<(String, BoltValue)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn bolt_node(id: i64, label: &str) -> weft_bolt::Node {
    weft_bolt::Node {
        id,
        labels: vec![label.into()],
        properties: props(&[("k", BoltValue::Integer(id))]),
        element_id: id.to_string(),
    }
}

fn node(id: u64, label: &str) -> weft_query::Node {
    weft_query::Node {
        id,
        labels: vec![label.into()],
        properties: BTreeMap::from([("k".to_string(), ResultValue::Int(id as i64))]),
    }
}

fn rel(id: u64, start: u64, end: u64) -> weft_query::Relationship {
    weft_query::Relationship {
        id,
        start,
        end,
        rel_type: "T".into(),
        properties: BTreeMap::new(),
    }
}

fn unbound(id: i64) -> weft_bolt::UnboundRelationship {
    weft_bolt::UnboundRelationship {
        id,
        rel_type: "T".into(),
        properties: Vec::new(),
        element_id: id.to_string(),
    }
}

#[test]
fn scalars_lists_and_maps_convert() {
    // Set up
    let value = BoltValue::List(vec![
        BoltValue::Null,
        BoltValue::Boolean(true),
        BoltValue::Integer(-7),
        BoltValue::Float(1.5),
        BoltValue::String("s".into()),
        BoltValue::Dictionary(props(&[
            ("a", BoltValue::Integer(1)),
            ("b", BoltValue::List(Vec::new())),
        ])),
    ]);

    // Act
    let converted = decode(&value, V5).unwrap();

    // Check
    let map = BTreeMap::from([
        ("a".to_string(), ResultValue::Int(1)),
        ("b".to_string(), ResultValue::List(Vec::new())),
    ]);
    let expected = ResultValue::List(vec![
        ResultValue::Null,
        ResultValue::Bool(true),
        ResultValue::Int(-7),
        ResultValue::Float(1.5),
        ResultValue::String("s".into()),
        ResultValue::Map(map),
    ]);
    assert_eq!(converted, expected);
    assert!(decode(&BoltValue::Bytes(vec![1]), V5).is_err());
}

#[test]
fn temporals_convert_in_both_dialects() {
    // Set up: one value of every temporal type, a named zone (CET that day) among them.
    let date = Date::from_ymd(1984, 10, 11).unwrap();
    let time = LocalTime::from_hms_nano(12, 31, 14, 645_876_123).unwrap();
    let local = LocalDateTime::new(date, time);
    let cases = [
        ResultValue::Date(date),
        ResultValue::LocalTime(time),
        ResultValue::ZonedTime(ZonedTime::new(time, 3600).unwrap()),
        ResultValue::LocalDateTime(local),
        ResultValue::ZonedDateTime(ZonedDateTime::new(local, -5400, None).unwrap()),
        ResultValue::ZonedDateTime(ZonedDateTime::new(local, 3600, Some("Europe/Stockholm".into())).unwrap()),
        ResultValue::Duration(Duration::new(14, 3, 7_200, 5).unwrap()),
    ];
    for dialect in [V4, V5] {
        for expected in &cases {
            let temporal = match expected.clone() {
                ResultValue::Date(d) => Temporal::Date(d),
                ResultValue::LocalTime(t) => Temporal::LocalTime(t),
                ResultValue::ZonedTime(t) => Temporal::Time(t),
                ResultValue::LocalDateTime(t) => Temporal::LocalDateTime(t),
                ResultValue::ZonedDateTime(t) => Temporal::DateTime(t),
                ResultValue::Duration(d) => Temporal::Duration(d),
                other => unreachable!("{other:?}"),
            };

            // Act
            let converted = decode(&temporal.to_value(dialect), dialect).unwrap();

            // Check
            assert_eq!(&converted, expected, "{dialect:?}");
        }
    }
}

#[test]
fn points_convert() {
    for point in [
        Point::new(Crs::Cartesian, &[1.0, -2.5]).unwrap(),
        Point::new(Crs::Wgs84_3D, &[12.0, 56.0, 100.0]).unwrap(),
    ] {
        let bolt = weft_bolt::structs::point_to_value(&point);
        assert_eq!(decode(&bolt, V5).unwrap(), ResultValue::Point(point));
    }
}

#[test]
fn nodes_and_relationships_convert_with_their_ids() {
    // Set up
    let relationship = weft_bolt::Relationship {
        id: 9,
        start_node_id: 1,
        end_node_id: 2,
        rel_type: "T".into(),
        properties: Vec::new(),
        element_id: "9".into(),
        start_node_element_id: "1".into(),
        end_node_element_id: "2".into(),
    };
    for dialect in [V4, V5] {
        // Act
        let n = decode(&bolt_node(3, "A").to_value(dialect), dialect).unwrap();
        let r = decode(&relationship.to_value(dialect), dialect).unwrap();

        // Check
        assert_eq!(n, ResultValue::Node(node(3, "A")));
        assert_eq!(r, ResultValue::Relationship(rel(9, 1, 2)));
    }
}

#[test]
fn element_ids_win_over_legacy_ids() {
    assert_eq!(entity_id("17", 3), Ok(17));
    assert_eq!(entity_id("4:abc:17", 3), Ok(3));
    assert!(entity_id("4:abc:17", -1).is_err());
}

#[test]
fn paths_get_their_walk_and_directions_back() {
    // Set up: 1 -[10]-> 2 <-[11]- 3, then back over 11 to 2: nodes listed once each.
    let path = weft_bolt::Path {
        nodes: vec![bolt_node(1, "A"), bolt_node(2, "B"), bolt_node(3, "C")],
        rels: vec![unbound(10), unbound(11)],
        indices: vec![1, 1, -2, 2, 2, 1],
    };
    for dialect in [V4, V5] {
        // Act
        let converted = decode(&path.to_value(dialect), dialect).unwrap();

        // Check
        let expected = weft_query::Path {
            nodes: vec![node(1, "A"), node(2, "B"), node(3, "C"), node(2, "B")],
            relationships: vec![rel(10, 1, 2), rel(11, 3, 2), rel(11, 3, 2)],
        };
        assert_eq!(converted, ResultValue::Path(expected));
    }
}

#[test]
fn a_single_node_path_and_broken_paths() {
    // Set up
    let single = weft_bolt::Path {
        nodes: vec![bolt_node(5, "A")],
        rels: Vec::new(),
        indices: Vec::new(),
    };
    let bad_index = weft_bolt::Path {
        indices: vec![2, 0],
        ..single.clone()
    };

    // Act, check
    let expected = weft_query::Path {
        nodes: vec![node(5, "A")],
        relationships: Vec::new(),
    };
    assert_eq!(decode(&single.to_value(V5), V5), Ok(ResultValue::Path(expected)));
    assert!(decode(&bad_index.to_value(V5), V5).is_err());
}

#[test]
fn unknown_structures_are_errors() {
    let unknown = BoltValue::Structure(Structure {
        tag: 0x01,
        fields: Vec::new(),
    });
    assert!(decode(&unknown, V5).is_err());
    let unbound_alone = unbound(1).to_value(V5);
    assert!(decode(&unbound_alone, V5).is_err());
}
