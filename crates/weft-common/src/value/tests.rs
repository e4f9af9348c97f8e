//! Unit tests for value equality, comparability, orderability, equivalence and rendering.

use std::cmp::Ordering::{self, Equal, Greater, Less};
use std::collections::{BTreeSet, HashSet};

use super::*;
use crate::spatial::{Crs, Point};
use crate::temporal::NANOS_PER_SECOND;

const NAN: f64 = f64::NAN;

fn int(i: i64) -> Value {
    Value::Int(i)
}

fn float(f: f64) -> Value {
    Value::Float(f)
}

fn s(text: &str) -> Value {
    Value::from(text)
}

fn list(items: &[Value]) -> Value {
    Value::List(items.to_vec())
}

fn map(entries: &[(&str, Value)]) -> Value {
    Value::Map(entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

fn zoned(text: &str) -> Value {
    Value::ZonedDateTime(ZonedDateTime::parse(text).unwrap())
}

fn sorted(mut values: Vec<Value>) -> Vec<Value> {
    values.sort_by(Value::order_cmp);
    values
}

#[test]
fn type_names_are_the_cypher_names() {
    let cases = [
        (Value::Null, "NULL"),
        (Value::Bool(true), "BOOLEAN"),
        (int(1), "INTEGER"),
        (float(1.0), "FLOAT"),
        (s("a"), "STRING"),
        (list(&[]), "LIST"),
        (map(&[]), "MAP"),
        (Value::Date(Date::UNIX_EPOCH), "DATE"),
        (Value::LocalTime(LocalTime::MIDNIGHT), "LOCAL TIME"),
        (Value::LocalDateTime(LocalDateTime::default()), "LOCAL DATETIME"),
        (zoned("2024-01-05T12:30Z"), "ZONED DATETIME"),
        (Value::Duration(Duration::ZERO), "DURATION"),
    ];
    for (value, name) in cases {
        assert_eq!(value.type_name(), name);
    }
}

#[test]
fn order_across_types_follows_the_global_sort_order() {
    // Set up: one value of every type, shuffled.
    let expected = vec![
        map(&[("a", s("map"))]),
        list(&[s("list")]),
        point(Crs::Cartesian, &[1.0, 2.0]),
        zoned("2024-01-05T12:30Z"),
        Value::LocalDateTime(LocalDateTime::default()),
        Value::Date(Date::UNIX_EPOCH),
        Value::LocalTime(LocalTime::MIDNIGHT),
        Value::Duration(Duration::ZERO),
        s("text"),
        Value::Bool(false),
        float(1.5),
        float(NAN),
        Value::Null,
    ];
    let mut shuffled = expected.clone();
    shuffled.reverse();
    shuffled.swap(2, 7);

    // Act and check: sorting restores the global order.
    assert_eq!(sorted(shuffled), expected);
}

#[test]
fn order_matches_the_cip_example() {
    let values = vec![int(1), Value::Bool(true), s(""), float(2.5), map(&[]), list(&[int(2)])];
    let values = [values, vec![Value::Null]].concat();
    let expected = [map(&[]), list(&[int(2)]), s(""), Value::Bool(true), int(1), float(2.5)];
    assert_eq!(sorted(values), [expected.to_vec(), vec![Value::Null]].concat());
}

#[test]
fn lists_order_lexicographically_with_prefixes_first() {
    // From TCK ReturnOrderBy1 [9].
    let expected = vec![
        list(&[]),
        list(&[s("a")]),
        list(&[s("a"), int(1)]),
        list(&[int(1)]),
        list(&[int(1), s("a")]),
        list(&[int(1), Value::Null]),
        list(&[Value::Null, int(1)]),
        list(&[Value::Null, int(2)]),
    ];
    let mut shuffled = expected.clone();
    shuffled.rotate_left(3);
    shuffled.swap(0, 5);
    assert_eq!(sorted(shuffled), expected);
    assert_eq!(
        list(&[list(&[int(1)])]).order_cmp(&list(&[list(&[int(1), int(0)])])),
        Less
    );
}

#[test]
fn maps_order_by_keys_then_values() {
    let expected = vec![
        map(&[]),
        map(&[("a", int(2))]),
        map(&[("a", int(1)), ("b", int(0))]),
        map(&[("a", int(1)), ("c", int(0))]),
        map(&[("a", int(2)), ("c", int(0))]),
        map(&[("b", int(0))]),
    ];
    let mut shuffled = expected.clone();
    shuffled.reverse();
    assert_eq!(sorted(shuffled), expected);
}

#[test]
fn integers_and_floats_compare_exactly() {
    let two_pow_53 = 1i64 << 53;
    let cases: [(Value, Value, Ordering); 9] = [
        (int(i64::MAX), float(9.223372036854776e18), Less),
        (int(i64::MIN), float(-9.223372036854776e18), Equal),
        (int(i64::MIN), float(-9.223372036854778e18), Greater),
        (int(two_pow_53 + 1), float(two_pow_53 as f64), Greater),
        (int(1), float(1.0), Equal),
        (int(1), float(1.5), Less),
        (int(-1), float(-1.5), Greater),
        (int(0), float(-0.0), Equal),
        (int(i64::MAX), float(f64::INFINITY), Less),
    ];
    for (a, b, ordering) in cases {
        assert_eq!(a.cypher_cmp(&b), Some(ordering), "{a} vs {b}");
        assert_eq!(b.cypher_cmp(&a), Some(ordering.reverse()), "{b} vs {a}");
        assert_eq!(a.order_cmp(&b), ordering, "{a} vs {b}");
        assert_eq!(a.cypher_eq(&b), Some(ordering == Equal), "{a} = {b}");
    }
}

#[test]
fn nan_is_unequal_incomparable_and_the_greatest_number() {
    let nan = float(NAN);
    assert_eq!(nan.cypher_eq(&nan), Some(false));
    assert_eq!(nan.cypher_eq(&int(1)), Some(false));
    assert_eq!(nan.cypher_eq(&s("a")), Some(false));
    assert_eq!(nan.cypher_cmp(&nan), None);
    // TCK Comparison2 [5]: against numbers every operator is false; otherwise null.
    for op in [ComparisonOp::Lt, ComparisonOp::Le, ComparisonOp::Gt, ComparisonOp::Ge] {
        assert_eq!(nan.cypher_compare(op, &int(1)), Some(false));
        assert_eq!(nan.cypher_compare(op, &float(1.0)), Some(false));
        assert_eq!(nan.cypher_compare(op, &nan), Some(false));
        assert_eq!(nan.cypher_compare(op, &s("a")), None);
    }
    assert_eq!(nan.order_cmp(&float(f64::INFINITY)), Greater);
    assert_eq!(nan.order_cmp(&Value::Null), Less);
    assert!(nan.equivalent(&float(-NAN)));
    assert!(!nan.equivalent(&Value::Null));
}

#[test]
fn null_is_unknown_to_equality_and_comparison() {
    assert_eq!(Value::<Stored>::Null.cypher_eq(&Value::Null), None);
    assert_eq!(Value::Null.cypher_eq(&int(1)), None);
    assert_eq!(int(1).cypher_cmp(&Value::Null), None);
    assert!(Value::<Stored>::Null.equivalent(&Value::Null));
}

#[test]
fn different_types_are_unequal_and_incomparable() {
    let values = [s(""), int(1), float(2.5), Value::Bool(true), list(&[]), map(&[])];
    for (i, a) in values.iter().enumerate() {
        for (j, b) in values.iter().enumerate() {
            let numbers = i != j && matches!((a, b), (Value::Int(_), Value::Float(_)));
            let numbers = numbers || matches!((a, b), (Value::Float(_), Value::Int(_)));
            if i == j || numbers {
                continue;
            }
            assert_eq!(a.cypher_eq(b), Some(false), "{a} = {b}");
            assert_eq!(a.cypher_cmp(b), None, "{a} < {b}");
        }
    }
    assert_eq!(s("1").cypher_eq(&int(1)), Some(false));
    assert_eq!(
        Value::<Stored>::Date(Date::UNIX_EPOCH).cypher_eq(&Value::Duration(Duration::ZERO)),
        Some(false)
    );
}

#[test]
fn list_equality_matches_the_tck() {
    // From TCK Comparison1 [6].
    let cases = [
        (list(&[int(1), int(2)]), list(&[int(1)]), Some(false)),
        (list(&[Value::Null]), list(&[int(1)]), None),
        (list(&[s("a")]), list(&[int(1)]), Some(false)),
        (
            list(&[list(&[int(1)])]),
            list(&[list(&[int(1)]), list(&[Value::Null])]),
            Some(false),
        ),
        (
            list(&[list(&[int(1)]), list(&[int(2)])]),
            list(&[list(&[int(1)]), list(&[Value::Null])]),
            None,
        ),
        (
            list(&[list(&[int(1)]), list(&[int(2), int(3)])]),
            list(&[list(&[int(1)]), list(&[Value::Null])]),
            Some(false),
        ),
        (list(&[int(1), float(2.0)]), list(&[float(1.0), int(2)]), Some(true)),
    ];
    for (a, b, expected) in cases {
        assert_eq!(a.cypher_eq(&b), expected, "{a} = {b}");
        assert_eq!(b.cypher_eq(&a), expected, "{b} = {a}");
    }
}

#[test]
fn map_equality_matches_the_tck() {
    // From TCK Comparison1 [7].
    let null = Value::Null;
    let cases = [
        (map(&[]), map(&[]), Some(true)),
        (map(&[("k", float(1.0))]), map(&[("k", float(1.0))]), Some(true)),
        (
            map(&[("k", s("a")), ("l", int(2))]),
            map(&[("k", s("a")), ("l", int(2))]),
            Some(true),
        ),
        (map(&[]), map(&[("k", null.clone())]), Some(false)),
        (
            map(&[("k", int(1))]),
            map(&[("k", int(1)), ("l", null.clone())]),
            Some(false),
        ),
        (
            map(&[("k", null.clone())]),
            map(&[("k", null.clone()), ("l", null.clone())]),
            Some(false),
        ),
        (map(&[("k", null.clone())]), map(&[("k", null.clone())]), None),
        (map(&[("k", int(1))]), map(&[("k", null.clone())]), None),
        (
            map(&[("k", int(1)), ("l", null.clone())]),
            map(&[("k", null.clone()), ("l", int(1))]),
            None,
        ),
        (
            map(&[("k", int(1)), ("l", null.clone())]),
            map(&[("k", int(1)), ("l", int(1))]),
            None,
        ),
    ];
    for (a, b, expected) in cases {
        assert_eq!(a.cypher_eq(&b), expected, "{a} = {b}");
    }
    assert_eq!(map(&[]).cypher_cmp(&map(&[])), None);
}

#[test]
fn list_comparison_matches_the_tck() {
    // From TCK Comparison2 [4]: lhs >= rhs.
    let null = Value::Null;
    let cases = [
        (list(&[int(1), int(0)]), list(&[int(1)]), Some(true)),
        (list(&[int(1), null.clone()]), list(&[int(1)]), Some(true)),
        (list(&[int(1), int(2)]), list(&[int(1), null.clone()]), None),
        (list(&[int(1), s("a")]), list(&[int(1), null.clone()]), None),
        (list(&[int(1), int(2)]), list(&[int(3), null.clone()]), Some(false)),
    ];
    for (a, b, expected) in cases {
        assert_eq!(a.cypher_compare(ComparisonOp::Ge, &b), expected, "{a} >= {b}");
    }
    assert_eq!(list(&[int(1), s("a")]).cypher_cmp(&list(&[int(1), int(2)])), None);
    assert_eq!(
        list(&[float(NAN)]).cypher_compare(ComparisonOp::Lt, &list(&[int(1)])),
        Some(false)
    );
}

#[test]
fn zoned_datetimes_compare_by_instant_then_offset() {
    let utc = zoned("2024-01-05T11:30Z");
    let paris = zoned("2024-01-05T12:30+01:00");
    let named = zoned("2024-01-05T12:30+01:00[Europe/Paris]");
    let later = zoned("2024-01-05T12:00Z");
    assert_eq!(utc.cypher_eq(&paris), Some(false));
    assert_eq!(paris.cypher_eq(&named), Some(false));
    assert_eq!(paris.cypher_eq(&paris.clone()), Some(true));
    assert_eq!(
        sorted(vec![later.clone(), named.clone(), paris.clone(), utc.clone()]),
        vec![utc, paris, named, later]
    );
}

fn point(crs: Crs, coords: &[f64]) -> Value {
    Value::Point(Point::new(crs, coords).unwrap())
}

#[test]
fn points_are_equal_by_crs_and_coordinates_and_incomparable() {
    let a = point(Crs::Cartesian, &[1.0, 2.0]);
    assert_eq!(a.cypher_eq(&point(Crs::Cartesian, &[1.0, 2.0])), Some(true));
    assert_eq!(a.cypher_eq(&point(Crs::Cartesian, &[1.0, 3.0])), Some(false));
    assert_eq!(a.cypher_eq(&point(Crs::Wgs84, &[1.0, 2.0])), Some(false));
    assert_eq!(a.cypher_eq(&Value::Null), None);
    assert_eq!(a.cypher_eq(&list(&[int(1), int(2)])), Some(false));
    let zero = point(Crs::Cartesian, &[0.0, 0.0]);
    assert_eq!(zero.cypher_eq(&point(Crs::Cartesian, &[-0.0, 0.0])), Some(true));
    // Same CRS or not, `<` and friends are null.
    assert_eq!(a.cypher_cmp(&zero), None);
    assert_eq!(
        a.cypher_compare(ComparisonOp::Lt, &point(Crs::Wgs84, &[0.0, 0.0])),
        None
    );
}

#[test]
fn points_order_by_srid_then_coordinates() {
    let values = vec![
        point(Crs::Cartesian3D, &[0.0, 0.0, 0.0]),
        point(Crs::Cartesian, &[1.0, 0.0]),
        point(Crs::Wgs84, &[5.0, 5.0]),
        point(Crs::Cartesian, &[0.0, 9.0]),
    ];
    let expected = vec![
        values[2].clone(),
        values[3].clone(),
        values[1].clone(),
        values[0].clone(),
    ];
    assert_eq!(sorted(values), expected);
    let zeros: HashSet<OrderedValue> = [point(Crs::Cartesian, &[0.0, 0.0]), point(Crs::Cartesian, &[-0.0, 0.0])]
        .into_iter()
        .map(OrderedValue)
        .collect();
    assert_eq!(zeros.len(), 1);
    assert_eq!(point(Crs::Wgs84, &[1.0, 2.0]).type_name(), "POINT");
    assert_eq!(
        point(Crs::Wgs84, &[1.0, 2.0]).to_string(),
        "point({x: 1.0, y: 2.0, crs: 'wgs-84'})"
    );
}

#[test]
fn durations_have_equality_but_no_comparison() {
    let day: Value = Value::Duration(Duration::new(0, 1, 0, 0).unwrap());
    let hours = Value::Duration(Duration::new(0, 0, 86_400, 0).unwrap());
    let seconds = Value::Duration(Duration::new(0, 0, 86_399, NANOS_PER_SECOND).unwrap());
    assert_eq!(day.cypher_eq(&hours), Some(false));
    assert_eq!(hours.cypher_eq(&seconds), Some(true));
    assert_eq!(day.cypher_cmp(&hours), None);
    assert_eq!(hours.order_cmp(&day), Less);
}

#[test]
fn temporal_values_order_chronologically() {
    let early: Value = Value::Date(Date::from_ymd(1980, 12, 24).unwrap());
    let late = Value::Date(Date::from_ymd(1984, 10, 11).unwrap());
    assert_eq!(early.cypher_cmp(&late), Some(Less));
    let morning = Value::LocalTime(LocalTime::from_hms(10, 35, 0).unwrap());
    let noon = Value::LocalTime(LocalTime::from_hms_nano(12, 31, 14, 645_876_123).unwrap());
    assert_eq!(morning.cypher_compare(ComparisonOp::Lt, &noon), Some(true));
    assert_eq!(morning.cypher_cmp(&early), None);
}

#[test]
fn equivalence_treats_nulls_and_nans_as_the_same() {
    assert!(list(&[Value::Null]).equivalent(&list(&[Value::Null])));
    assert!(map(&[("a", Value::Null)]).equivalent(&map(&[("a", Value::Null)])));
    assert!(list(&[int(1), float(NAN)]).equivalent(&list(&[float(1.0), float(NAN)])));
    assert!(!list(&[Value::Null]).equivalent(&list(&[float(NAN)])));
    assert!(!int(1).equivalent(&s("1")));
}

#[test]
fn ordered_value_groups_equivalent_values() {
    let values = [
        int(1),
        float(1.0),
        float(-0.0),
        int(0),
        float(NAN),
        float(-NAN),
        Value::Null,
    ];
    let set: BTreeSet<OrderedValue> = values.iter().cloned().map(OrderedValue).collect();
    assert_eq!(set.len(), 4);
    let hashed: HashSet<OrderedValue> = values.iter().cloned().map(OrderedValue).collect();
    assert_eq!(hashed.len(), 4);
}

#[test]
fn structural_equality_is_not_cypher_equality() {
    assert_ne!(int(1), float(1.0));
    assert_eq!(float(NAN), float(NAN));
    assert_ne!(float(0.0), float(-0.0));
    assert_eq!(list(&[int(1), Value::Null]), list(&[int(1), Value::Null]));
}

#[test]
fn display_reads_like_cypher_literals() {
    let value = map(&[
        ("name", s("it's")),
        (
            "odd key",
            list(&[int(1), float(1.0), float(NAN), float(f64::NEG_INFINITY)]),
        ),
        ("when", Value::Date(Date::from_ymd(2024, 1, 5).unwrap())),
        ("x", Value::Null),
    ]);
    let expected = "{name: 'it\\'s', `odd key`: [1, 1.0, NaN, -Infinity], when: 2024-01-05, x: null}";
    assert_eq!(value.to_string(), expected);
    assert_eq!(s("a\\b\n").to_string(), "'a\\\\b\\n'");
}

#[test]
fn nesting_depth_counts_lists_and_maps() {
    assert_eq!(int(1).nesting_depth(), 0);
    assert_eq!(list(&[]).nesting_depth(), 1);
    assert_eq!(list(&[int(1), map(&[("a", list(&[]))])]).nesting_depth(), 3);
}
