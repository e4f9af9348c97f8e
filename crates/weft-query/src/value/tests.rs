//! Tests of runtime values: type names, conversions, the Cypher notions of sameness and
//! order on graph entities, and properties over random values (a total order; `GroupKey`
//! agrees with `equivalent`; agreement with `weft_common::Value` on storable values).

use crate::value::Truth;
use std::cmp::Ordering;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use crate::graph::{EdgeRef, Gid};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use weft_common::temporal::{Date, Duration, LocalDateTime, LocalTime, ZonedDateTime, ZonedTime};
use weft_common::value::ComparisonOp;
use weft_common::{EdgeTypeId, Value};

use super::{GroupKey, PathValue, QValue};
use crate::error::ErrorKind;

fn edge(id: u64) -> EdgeRef {
    EdgeRef {
        gid: Gid(id),
        from: Gid(1),
        to: Gid(2),
        edge_type: EdgeTypeId(0),
    }
}

fn path(start: u64, steps: &[(u64, u64)]) -> QValue {
    QValue::Path(PathValue {
        start: Gid(start),
        steps: steps.iter().map(|&(e, n)| (edge(e), Gid(n))).collect(),
    })
}

fn hash_of(key: &GroupKey) -> u64 {
    let mut hasher = DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
}

#[test]
fn type_names() {
    // Act / check
    let values = [
        QValue::Null,
        QValue::Int(1),
        QValue::Node(Gid(1)),
        QValue::Relationship(edge(1)),
        path(1, &[]),
    ];
    let names: Vec<&str> = values.iter().map(QValue::type_name).collect();
    assert_eq!(names, ["NULL", "INTEGER", "NODE", "RELATIONSHIP", "PATH"]);
    assert_eq!(QValue::LocalTime(LocalTime::MIDNIGHT).type_name(), "LOCAL TIME");
}

#[test]
fn storage_conversion_round_trips_and_refuses_graph_entities() {
    // Set up
    let stored = Value::List(vec![
        Value::Int(1),
        Value::Map([("k".to_string(), Value::Null)].into_iter().collect()),
    ]);
    // Act
    let back = QValue::from(stored.clone()).to_value();
    let nested_node = QValue::List(vec![QValue::Int(1), QValue::List(vec![QValue::Node(Gid(3))])]);
    // Check
    assert_eq!(back, Some(stored));
    assert_eq!(nested_node.to_value(), None);
    assert_eq!(QValue::from("a").to_string(), "'a'");
}

#[test]
fn where_truthiness() {
    // Act / check
    assert_eq!(QValue::Bool(true).as_bool_or_null().ok(), Some(Some(true)));
    assert_eq!(QValue::Null.as_bool_or_null().ok(), Some(None));
    assert_eq!(
        QValue::Int(1).as_bool_or_null().map_err(|e| e.kind),
        Err(ErrorKind::TypeError)
    );
}

#[test]
fn graph_entities_are_equal_by_identity() {
    // Act / check: TCK Comparison1 [4], [5], [14].
    let moved = EdgeRef {
        from: Gid(9),
        ..edge(5)
    };
    assert_eq!(QValue::Node(Gid(1)).cypher_eq(&QValue::Node(Gid(1))), Some(true));
    assert_eq!(QValue::Node(Gid(1)).cypher_eq(&QValue::Node(Gid(2))), Some(false));
    assert_eq!(
        QValue::Relationship(edge(5)).cypher_eq(&QValue::Relationship(moved)),
        Some(true)
    );
    assert_eq!(path(1, &[(5, 1)]).cypher_eq(&path(1, &[(5, 1)])), Some(true));
    assert_eq!(path(1, &[(5, 2)]).cypher_eq(&path(1, &[(5, 1)])), Some(false));
    assert_eq!(QValue::Node(Gid(1)).cypher_eq(&QValue::Int(1)), Some(false));
    assert_eq!(
        QValue::Node(Gid(1)).cypher_compare(ComparisonOp::Lt, &QValue::Node(Gid(2))),
        None
    );
}

#[test]
fn graph_entities_take_their_type_slots_in_the_order() {
    // Set up: ascending by type rank.
    let ascending = [
        QValue::Map(Default::default()),
        QValue::Node(Gid(9)),
        QValue::Relationship(edge(9)),
        QValue::List(vec![]),
        path(0, &[]),
        QValue::String(String::new()),
        QValue::Float(f64::NAN),
        QValue::Null,
    ];
    // Act / check
    for pair in ascending.windows(2) {
        assert_eq!(pair[0].order_cmp(&pair[1]), Ordering::Less, "{} < {}", pair[0], pair[1]);
    }
    assert_eq!(
        path(1, &[(5, 2)]).order_cmp(&path(1, &[(5, 2), (6, 3)])),
        Ordering::Less
    );
    assert_eq!(QValue::Node(Gid(2)).order_cmp(&QValue::Node(Gid(10))), Ordering::Less);
}

#[test]
fn group_keys_fold_numbers_and_nulls() {
    // Act / check
    assert_eq!(GroupKey::from(QValue::Int(1)), GroupKey::from(QValue::Float(1.0)));
    assert_eq!(
        hash_of(&GroupKey::from(QValue::Int(1))),
        hash_of(&GroupKey::from(QValue::Float(1.0)))
    );
    assert_eq!(
        GroupKey::from(QValue::Float(f64::NAN)),
        GroupKey::from(QValue::Float(f64::NAN))
    );
    assert_eq!(GroupKey::from(QValue::Null), GroupKey::from(QValue::Null));
    assert_ne!(GroupKey::from(QValue::Node(Gid(1))), GroupKey::from(QValue::Int(1)));
}

/// Scalars from small domains, so that random pairs are often equal.
fn scalar() -> impl Strategy<Value = QValue> {
    let float = prop_oneof![
        Just(f64::NAN),
        Just(-0.0),
        Just(0.5),
        Just(f64::INFINITY),
        (-2i64..3).prop_map(|x| x as f64)
    ];
    let zoned = (
        0i64..2,
        prop_oneof![Just(0), Just(3600)],
        prop_oneof![Just(None), Just(Some("UTC".to_string()))],
    )
        .prop_map(|(days, offset, zone)| {
            let local = LocalDateTime::new(Date { days }, LocalTime { nanos: 0 });
            QValue::ZonedDateTime(ZonedDateTime {
                local,
                offset_seconds: offset,
                zone,
            })
        });
    prop_oneof![
        Just(QValue::Null),
        any::<bool>().prop_map(QValue::Bool),
        (-2i64..3).prop_map(QValue::Int),
        float.prop_map(QValue::Float),
        "[ab]{0,2}".prop_map(QValue::String),
        (0i64..2).prop_map(|days| QValue::Date(Date { days })),
        (0i64..2).prop_map(|nanos| QValue::LocalTime(LocalTime { nanos })),
        (0i64..2, prop_oneof![Just(0), Just(3600)]).prop_map(|(hours, offset_seconds)| {
            let time = LocalTime {
                nanos: hours * 3_600_000_000_000,
            };
            QValue::ZonedTime(ZonedTime { time, offset_seconds })
        }),
        (0i64..2, 0i64..2).prop_map(|(months, days)| QValue::Duration(Duration {
            months,
            days,
            seconds: 0,
            nanos: 0
        })),
        zoned,
    ]
}

fn graph_entity() -> impl Strategy<Value = QValue> {
    prop_oneof![
        (0u64..3).prop_map(|id| QValue::Node(Gid(id))),
        (0u64..3).prop_map(|id| QValue::Relationship(edge(id))),
        (0u64..2, vec((0u64..2, 0u64..2), 0..3)).prop_map(|(start, steps)| path(start, &steps)),
    ]
}

fn nested(leaf: BoxedStrategy<QValue>) -> impl Strategy<Value = QValue> {
    leaf.prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..3).prop_map(QValue::List),
            btree_map("[ab]", inner, 0..3).prop_map(QValue::Map),
        ]
    })
}

fn any_value() -> impl Strategy<Value = QValue> {
    nested(prop_oneof![3 => scalar(), 1 => graph_entity()].boxed())
}

fn storable_value() -> impl Strategy<Value = QValue> {
    nested(scalar().boxed())
}

proptest! {
    #[test]
    fn order_cmp_is_a_total_order(a in any_value(), b in any_value(), c in any_value()) {
        prop_assert_eq!(a.order_cmp(&a), Ordering::Equal);
        prop_assert_eq!(a.order_cmp(&b), b.order_cmp(&a).reverse());
        if a.order_cmp(&b).is_le() && b.order_cmp(&c).is_le() {
            prop_assert!(a.order_cmp(&c).is_le(), "{} <= {} <= {} but not {} <= {}", a, b, c, a, c);
        }
        if a.equivalent(&b) && b.equivalent(&c) {
            prop_assert!(a.equivalent(&c));
        }
    }

    #[test]
    fn group_key_agrees_with_equivalence(a in any_value(), b in any_value()) {
        let (x, y) = (GroupKey::from(a.clone()), GroupKey::from(b.clone()));
        prop_assert_eq!(x == y, a.equivalent(&b));
        prop_assert_eq!(x.cmp(&y), a.order_cmp(&b));
        if x == y {
            prop_assert_eq!(hash_of(&x), hash_of(&y));
        }
        prop_assert_eq!(hash_of(&x), hash_of(&GroupKey::from(a.clone())));
    }

    #[test]
    fn equality_implies_equivalence(a in any_value(), b in any_value()) {
        if a.cypher_eq(&b) == Some(true) {
            prop_assert!(a.equivalent(&b), "{} = {} but not equivalent", a, b);
        }
    }

    #[test]
    fn storable_values_compare_as_in_storage(a in storable_value(), b in storable_value()) {
        let (Some(x), Some(y)) = (a.to_value(), b.to_value()) else {
            return Err(TestCaseError::fail("a storable value did not convert"));
        };
        prop_assert_eq!(a.cypher_eq(&b), x.cypher_eq(&y));
        prop_assert_eq!(a.order_cmp(&b), x.order_cmp(&y));
        for op in [ComparisonOp::Lt, ComparisonOp::Le, ComparisonOp::Gt, ComparisonOp::Ge] {
            prop_assert_eq!(a.cypher_compare(op, &b), x.cypher_compare(op, &y));
        }
        prop_assert_eq!(QValue::from(x.clone()).to_value(), Some(x));
    }
}
