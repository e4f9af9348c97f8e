//! No function, operator or aggregate panics, whatever the input: random arguments drawn
//! from edge cases (extreme integers, NaN, date limits, odd strings, graph entities,
//! temporal-looking maps) must give a value or an error.

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use weft_common::temporal::{Date, Duration, LocalDateTime, LocalTime, ZonedDateTime, ZonedTime};

use super::*;
use crate::ast::BinaryOp;
use crate::expr::ops;
use crate::functions::{call, new_aggregator, registered};
use crate::value::PathValue;

fn edge_scalar() -> impl Strategy<Value = QValue> {
    let ints = prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(0),
        Just(-1),
        Just(1_000_000_000),
        -3i64..30
    ];
    let floats = prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(-0.0),
        Just(1e308),
        Just(0.5),
        Just(-2.5),
        Just(1e-320)
    ];
    let texts = prop_oneof![
        Just(""),
        Just("2015-07-21"),
        Just("P1D"),
        Just("12:00"),
        Just("+01:00"),
        Just("UTC"),
        Just("é"),
        Just("year"),
        Just("a)|(b"),
        Just("HALF_EVEN"),
        Just("millennium"),
        Just("microsecond")
    ];
    let zoned = ZonedDateTime {
        local: LocalDateTime::new(Date::MAX, LocalTime { nanos: 1 }),
        offset_seconds: 64800,
        zone: None,
    };
    let temporals = prop_oneof![
        Just(QValue::Date(Date::MIN)),
        Just(QValue::Date(Date::MAX)),
        Just(QValue::LocalTime(LocalTime {
            nanos: 86_399_999_999_999
        })),
        Just(QValue::LocalDateTime(LocalDateTime::new(
            Date::MIN,
            LocalTime::MIDNIGHT
        ))),
        Just(QValue::ZonedDateTime(zoned)),
        Just(QValue::ZonedTime(ZonedTime {
            time: LocalTime { nanos: 1 },
            offset_seconds: -64800,
        })),
        Just(QValue::Duration(Duration {
            months: i64::MAX,
            days: i64::MIN,
            seconds: i64::MAX,
            nanos: 999_999_999
        })),
        Just(QValue::Duration(Duration {
            months: 1,
            days: -1,
            seconds: -1,
            nanos: 5
        })),
    ];
    let path = QValue::Path(PathValue {
        start: Gid(1),
        steps: vec![(edge(u64::MAX, 1, 2), Gid(u64::MAX))],
    });
    prop_oneof![
        Just(QValue::Null),
        any::<bool>().prop_map(QValue::Bool),
        ints.prop_map(QValue::Int),
        floats.prop_map(QValue::Float),
        texts.prop_map(s),
        temporals,
        Just(node(u64::MAX)),
        Just(rel(3, 1, 2)),
        Just(path),
    ]
}

fn edge_value() -> impl Strategy<Value = QValue> {
    let keys = prop_oneof![
        Just("year"),
        Just("month"),
        Just("week"),
        Just("dayOfWeek"),
        Just("quarter"),
        Just("hour"),
        Just("nanosecond"),
        Just("timezone"),
        Just("date"),
        Just("time"),
        Just("datetime"),
        Just("days"),
        Just("months"),
        Just("seconds"),
        Just("epochMillis")
    ];
    edge_scalar().prop_recursive(2, 8, 3, move |inner| {
        prop_oneof![
            vec(inner.clone(), 0..3).prop_map(QValue::List),
            btree_map(keys.clone().prop_map(String::from), inner, 0..4).prop_map(QValue::Map),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn functions_never_panic(args in vec(edge_value(), 0..4), pick in any::<prop::sample::Index>()) {
        // Set up: a registered function, called with as many arguments as it accepts.
        let functions: Vec<_> = registered().collect();
        let (name, min, max) = functions[pick.index(functions.len())];
        let count = args.len().clamp(min, max.min(min + 3));
        let mut args = args;
        args.resize(count, QValue::Null);
        // Act: a panic fails the property.
        let result = call(name, &args, &FakeGraph::default());
        // Check: aggregates only through aggregators.
        prop_assert_eq!(result.is_err() && crate::functions::is_aggregate(name), crate::functions::is_aggregate(name));
    }

    #[test]
    fn operators_never_panic(a in edge_value(), b in edge_value()) {
        let graph = FakeGraph::default();
        let binary = [ops::add, ops::sub, ops::mul, ops::div, ops::modulo, ops::pow, ops::and, ops::or, ops::xor,
            ops::in_list, ops::starts_with, ops::ends_with, ops::contains, ops::regex_match, ops::index];
        for op in binary {
            let _ = op(&a, &b);
        }
        for op in [BinaryOp::Eq, BinaryOp::Ne, BinaryOp::Lt, BinaryOp::Le, BinaryOp::Gt, BinaryOp::Ge] {
            let _ = ops::compare(op, &a, &b);
        }
        let _ = (ops::neg(&a), ops::not(&a), ops::subscript(&a, &b, &graph), ops::property(&a, "year", &graph));
        let _ = ops::slice(&a, Some(&b), None);
        let _ = a.order_cmp(&b);
    }

    #[test]
    fn aggregates_never_panic(rows in vec(vec(edge_value(), 2), 0..6), distinct in any::<bool>()) {
        for name in ["count", "sum", "avg", "min", "max", "collect", "stDev", "stDevP", "percentileCont",
            "percentileDisc", "count_star"] {
            let Some(mut aggregator) = new_aggregator(name, distinct) else {
                return Err(TestCaseError::fail(format!("no aggregator {name}")));
            };
            let failed = rows.iter().any(|row| aggregator.update(row).is_err());
            if !failed {
                let _ = aggregator.finish();
            }
        }
    }
}
