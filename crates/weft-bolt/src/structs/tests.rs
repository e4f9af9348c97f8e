use weft_common::temporal::{Date, Duration, LocalDateTime, LocalTime, ZonedDateTime, ZonedTime};

use super::*;
use crate::packstream::{decode, to_bytes};

const V4: Dialect = Dialect {
    element_ids: false,
    utc_datetime: false,
};
const V5: Dialect = Dialect {
    element_ids: true,
    utc_datetime: true,
};

fn node() -> Node {
    Node {
        id: 7,
        labels: vec!["Person".into()],
        properties: vec![("name".into(), BoltValue::String("Ann".into()))],
        element_id: "7".into(),
    }
}

fn unbound() -> UnboundRelationship {
    UnboundRelationship {
        id: 3,
        rel_type: "KNOWS".into(),
        properties: vec![],
        element_id: "3".into(),
    }
}

fn fields_of(value: &BoltValue) -> &[BoltValue] {
    match value {
        BoltValue::Structure(s) => &s.fields,
        other => panic!("not a structure: {other:?}"),
    }
}

/// Encodes through bytes and back, so the PackStream layer is exercised too.
fn through_bytes(value: &BoltValue) -> BoltValue {
    decode(&to_bytes(value).unwrap()).unwrap()
}

#[test]
fn dialect_follows_the_major_version() {
    assert_eq!(Dialect::for_version(Version::V4_4), V4);
    assert_eq!(Dialect::for_version(Version::V4_1), V4);
    assert_eq!(Dialect::for_version(Version::V5_0), V5);
}

#[test]
fn node_layout_differs_by_generation() {
    // Bolt 4.x: three fields; element id comes back as the decimal id.
    let v4 = node().to_value(V4);
    assert_eq!(fields_of(&v4).len(), 3);
    assert_eq!(to_bytes(&v4).unwrap()[..3], [0xB3, TAG_NODE, 0x07]);
    assert_eq!(Node::from_value(&through_bytes(&v4), V4), Ok(node()));
    // Bolt 5.x: four fields, the element id last.
    let mut with_id = node();
    with_id.element_id = "4:abc:7".into();
    let v5 = with_id.to_value(V5);
    assert_eq!(fields_of(&v5)[3], BoltValue::String("4:abc:7".into()));
    assert_eq!(Node::from_value(&through_bytes(&v5), V5), Ok(with_id));
    // A 4.x node is the wrong shape for 5.x.
    assert!(matches!(
        Node::from_value(&v4, V5),
        Err(StructError::FieldCount {
            expected: 4,
            got: 3,
            ..
        })
    ));
}

#[test]
fn relationship_round_trips_in_both_generations() {
    let rel = Relationship {
        id: 1,
        start_node_id: 2,
        end_node_id: 3,
        rel_type: "R".into(),
        properties: vec![("w".into(), BoltValue::Float(0.5))],
        element_id: "1".into(),
        start_node_element_id: "2".into(),
        end_node_element_id: "3".into(),
    };
    for (dialect, count) in [(V4, 5), (V5, 8)] {
        let value = rel.to_value(dialect);
        assert_eq!(fields_of(&value).len(), count);
        assert_eq!(
            Relationship::from_value(&through_bytes(&value), dialect),
            Ok(rel.clone())
        );
    }
}

#[test]
fn unbound_relationship_and_path_round_trip() {
    let path = Path {
        nodes: vec![node(), node()],
        rels: vec![unbound()],
        indices: vec![1, 1],
    };
    for (dialect, count) in [(V4, 3), (V5, 4)] {
        let rel = unbound().to_value(dialect);
        assert_eq!(fields_of(&rel).len(), count);
        assert_eq!(UnboundRelationship::from_value(&rel, dialect), Ok(unbound()));
        let value = path.to_value(dialect);
        assert_eq!(Path::from_value(&through_bytes(&value), dialect), Ok(path.clone()));
    }
}

#[test]
fn malformed_graph_structures_are_errors() {
    // Wrong tag, a non-structure, and a label that is not a string.
    let rel = unbound().to_value(V4);
    assert!(matches!(
        Node::from_value(&rel, V4),
        Err(StructError::WrongTag { tag: 0x72, .. })
    ));
    assert!(matches!(
        Node::from_value(&BoltValue::Null, V4),
        Err(StructError::NotStructure { got: "Null", .. })
    ));
    let bad = structure(
        TAG_NODE,
        vec![
            BoltValue::Integer(1),
            BoltValue::List(vec![BoltValue::Integer(2)]),
            BoltValue::Dictionary(vec![]),
        ],
    );
    assert!(matches!(
        Node::from_value(&bad, V4),
        Err(StructError::FieldType { field: "labels", .. })
    ));
}

fn round_trip(temporal: &Temporal, dialect: Dialect) -> Temporal {
    Temporal::from_value(&through_bytes(&temporal.to_value(dialect))).unwrap()
}

#[test]
fn dates_and_times_round_trip() {
    let date = Temporal::Date(Date::from_ymd(1969, 12, 31).unwrap());
    assert_eq!(date.to_value(V5), structure(TAG_DATE, vec![BoltValue::Integer(-1)]));
    let time = LocalTime::from_hms_nano(12, 30, 15, 500).unwrap();
    let cases = [
        date,
        Temporal::LocalTime(time),
        Temporal::Time(ZonedTime::new(time, -3600).unwrap()),
        Temporal::LocalDateTime(LocalDateTime::from_ymd_hms_nano(1900, 2, 28, 23, 59, 59, 1).unwrap()),
        Temporal::Duration(Duration::new(14, -3, -2, 500_000_000).unwrap()),
    ];
    for temporal in &cases {
        assert_eq!(&round_trip(temporal, V4), temporal);
        assert_eq!(&round_trip(temporal, V5), temporal);
    }
}

#[test]
fn local_datetime_before_epoch_floors_seconds() {
    // 1969-12-31T23:59:59.5 is -0.5 s: seconds -1, nanos 500,000,000.
    let local = LocalDateTime::from_ymd_hms_nano(1969, 12, 31, 23, 59, 59, 500_000_000).unwrap();
    let value = Temporal::LocalDateTime(local).to_value(V5);
    assert_eq!(
        fields_of(&value),
        [BoltValue::Integer(-1), BoltValue::Integer(500_000_000)]
    );
}

#[test]
fn offset_datetime_uses_utc_seconds_in_5x_and_local_in_4x() {
    // 1970-01-01T01:00+01:00 is the epoch instant.
    let local = LocalDateTime::from_ymd_hms_nano(1970, 1, 1, 1, 0, 0, 0).unwrap();
    let zoned = Temporal::DateTime(ZonedDateTime::new(local, 3600, None).unwrap());
    let utc = zoned.to_value(V5);
    assert_eq!(
        utc,
        structure(TAG_DATE_TIME, vec![0.into_int(), 0.into_int(), 3600.into_int()])
    );
    let legacy = zoned.to_value(V4);
    assert_eq!(
        legacy,
        structure(
            TAG_DATE_TIME_LEGACY,
            vec![3600.into_int(), 0.into_int(), 3600.into_int()]
        )
    );
    // Both decode to the same value, whatever the dialect.
    assert_eq!(Temporal::from_value(&utc), Ok(zoned.clone()));
    assert_eq!(Temporal::from_value(&legacy), Ok(zoned));
}

#[test]
fn zone_id_datetime_takes_its_offset_from_the_zone() {
    // 2024-07-01T12:00 in Paris is summer time, +02:00 (10:00Z).
    let local = LocalDateTime::from_ymd_hms_nano(2024, 7, 1, 12, 0, 0, 0).unwrap();
    let zoned = ZonedDateTime::new(local, 7200, Some("Europe/Paris".into())).unwrap();
    let temporal = Temporal::DateTime(zoned);
    let utc = temporal.to_value(V5);
    let fields = fields_of(&utc);
    assert_eq!(utc_tag(&utc), TAG_DATE_TIME_ZONE_ID);
    assert_eq!(
        fields[0],
        BoltValue::Integer(local.to_nanos() as i64 / 1_000_000_000 - 7200)
    );
    assert_eq!(utc_tag(&temporal.to_value(V4)), TAG_DATE_TIME_ZONE_ID_LEGACY);
    assert_eq!(round_trip(&temporal, V5), temporal);
    assert_eq!(round_trip(&temporal, V4), temporal);
}

fn utc_tag(value: &BoltValue) -> u8 {
    match value {
        BoltValue::Structure(s) => s.tag,
        _ => 0,
    }
}

#[test]
fn invalid_temporals_are_errors() {
    let bad_zone = structure(
        TAG_DATE_TIME_ZONE_ID,
        vec![0.into_int(), 0.into_int(), BoltValue::String("Mars/Olympus".into())],
    );
    assert_eq!(
        Temporal::from_value(&bad_zone),
        Err(StructError::UnknownZone("Mars/Olympus".into()))
    );
    let bad_time = structure(TAG_LOCAL_TIME, vec![BoltValue::Integer(-1)]);
    assert_eq!(
        Temporal::from_value(&bad_time),
        Err(StructError::OutOfRange { name: "LocalTime" })
    );
    let bad_offset = structure(TAG_TIME, vec![0.into_int(), BoltValue::Integer(19 * 3600)]);
    assert!(Temporal::from_value(&bad_offset).is_err());
    let unknown = structure(0x58, vec![]);
    assert!(matches!(
        Temporal::from_value(&unknown),
        Err(StructError::WrongTag { tag: 0x58, .. })
    ));
}

/// Shorthand for integer fields in expected structures.
trait IntoInt {
    fn into_int(self) -> BoltValue;
}

impl IntoInt for i64 {
    fn into_int(self) -> BoltValue {
        BoltValue::Integer(self)
    }
}

mod points {
    use weft_common::spatial::{Crs, Point};

    use super::*;

    fn point(crs: Crs, coords: &[f64]) -> Point {
        Point::new(crs, coords).unwrap()
    }

    #[test]
    fn points_round_trip_as_2d_and_3d_structures() {
        // Set up: one point of each CRS.
        let points = [
            point(Crs::Cartesian, &[1.5, -2.5]),
            point(Crs::Cartesian3D, &[1.0, 2.0, 3.0]),
            point(Crs::Wgs84, &[12.5, 56.0]),
            point(Crs::Wgs84_3D, &[12.5, 56.0, 100.0]),
        ];
        for p in points {
            // Act
            let value = point_to_value(&p);

            // Check: tag and field layout, then back through bytes.
            let BoltValue::Structure(s) = &value else {
                panic!("a structure")
            };
            let tag = if p.z().is_some() { TAG_POINT_3D } else { TAG_POINT_2D };
            assert_eq!(s.tag, tag);
            assert_eq!(s.fields[0], BoltValue::Integer(p.srid()));
            assert_eq!(s.fields[1], BoltValue::Float(p.x()));
            assert_eq!(s.fields.len(), 1 + p.coords().len());
            assert_eq!(point_from_value(&through_bytes(&value)), Ok(p));
        }
    }

    #[test]
    fn malformed_points_are_errors() {
        let float = BoltValue::Float;
        let two = |srid, x: BoltValue| structure(TAG_POINT_2D, vec![BoltValue::Integer(srid), x, float(2.0)]);
        assert_eq!(
            point_from_value(&two(1234, float(1.0))),
            Err(StructError::UnknownSrid {
                name: "Point2D",
                srid: 1234
            })
        );
        // A 3D SRID in a 2D structure.
        assert!(matches!(
            point_from_value(&two(9157, float(1.0))),
            Err(StructError::UnknownSrid { .. })
        ));
        assert!(matches!(
            point_from_value(&two(7203, BoltValue::Integer(1))),
            Err(StructError::FieldType { field: "x", .. })
        ));
        assert_eq!(
            point_from_value(&two(7203, float(f64::NAN))),
            Err(StructError::OutOfRange { name: "Point2D" })
        );
        let short = structure(TAG_POINT_3D, vec![BoltValue::Integer(9157), float(1.0), float(2.0)]);
        assert!(matches!(point_from_value(&short), Err(StructError::FieldCount { .. })));
        assert!(matches!(
            point_from_value(&BoltValue::Null),
            Err(StructError::NotStructure { .. })
        ));
        assert!(matches!(
            point_from_value(&structure(TAG_NODE, vec![])),
            Err(StructError::WrongTag { .. })
        ));
    }
}
