//! Property tests for values: the encoding round-trips and is canonical, decoders survive
//! any bytes, orderability is a total order agreeing with equivalence, hashing and
//! comparability, and temporal text round-trips.

use std::cmp::Ordering;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use proptest::prelude::*;
use weft_common::encoding::{decode_value, encode_value, skip_value};
use weft_common::spatial::{Crs, Point};
use weft_common::temporal::{
    Date, Duration, LocalDateTime, LocalTime, ZonedDateTime, ZonedTime, MAX_OFFSET_SECONDS, NANOS_PER_DAY,
};
use weft_common::value::{ComparisonOp, OrderedValue};
use weft_common::Value;

fn date() -> impl Strategy<Value = Date> {
    prop_oneof![Date::MIN.days..=Date::MAX.days, -1_000_000i64..1_000_000].prop_map(|days| Date { days })
}

fn local_time() -> impl Strategy<Value = LocalTime> {
    prop_oneof![0..NANOS_PER_DAY, (0i64..86_400).prop_map(|s| s * 1_000_000_000)].prop_map(|nanos| LocalTime { nanos })
}

fn local_date_time() -> impl Strategy<Value = LocalDateTime> {
    (date(), local_time()).prop_map(|(date, time)| LocalDateTime { date, time })
}

fn zoned() -> impl Strategy<Value = ZonedDateTime> {
    let zone = prop::option::of(prop::sample::select(vec!["Europe/Paris", "UTC", "Asia/Kolkata"]));
    let offset = prop_oneof![
        -MAX_OFFSET_SECONDS..=MAX_OFFSET_SECONDS,
        (-18..=18).prop_map(|h| h * 3600)
    ];
    (local_date_time(), offset, zone).prop_map(|(local, offset_seconds, zone)| ZonedDateTime {
        local,
        offset_seconds,
        zone: zone.map(String::from),
    })
}

fn zoned_time() -> impl Strategy<Value = ZonedTime> {
    let offset = prop_oneof![
        -MAX_OFFSET_SECONDS..=MAX_OFFSET_SECONDS,
        (-18..=18).prop_map(|h| h * 3600)
    ];
    (local_time(), offset).prop_map(|(time, offset_seconds)| ZonedTime { time, offset_seconds })
}

fn duration() -> impl Strategy<Value = Duration> {
    (any::<i64>(), any::<i64>(), any::<i64>(), 0..1_000_000_000i32).prop_map(|(months, days, seconds, nanos)| {
        Duration {
            months,
            days,
            seconds,
            nanos,
        }
    })
}

/// Any scalar, with the full ranges of every type.
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        any::<f64>().prop_map(Value::Float),
        Just(Value::Float(f64::NAN)),
        ".{0,6}".prop_map(Value::String),
        date().prop_map(Value::Date),
        local_time().prop_map(Value::LocalTime),
        local_date_time().prop_map(Value::LocalDateTime),
        zoned().prop_map(Value::ZonedDateTime),
        zoned_time().prop_map(Value::ZonedTime),
        duration().prop_map(Value::Duration),
        point(),
    ]
}

/// Any point: a CRS and finite coordinates of its dimension.
fn point() -> impl Strategy<Value = Value> {
    let finite = prop::num::f64::NORMAL | prop::num::f64::ZERO | prop::num::f64::SUBNORMAL;
    (
        prop::sample::select(Crs::ALL.to_vec()),
        prop::collection::vec(finite, 3),
    )
        .prop_map(|(crs, coords)| Value::Point(Point::new(crs, &coords[..crs.dimension()]).unwrap()))
}

/// Scalars from tiny domains, so that ties and cross-type number equalities are common.
fn dense_scalar() -> impl Strategy<Value = Value> {
    let floats = vec![
        -1.0,
        -0.0,
        0.0,
        0.5,
        1.0,
        2.0,
        f64::NAN,
        f64::INFINITY,
        9.223372036854776e18,
    ];
    let zones = vec![
        "1970-01-01T01:00+01:00",
        "1970-01-01T00:00Z",
        "1970-01-01T01:00+01:00[X]",
    ];
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        prop_oneof![-2i64..=2, Just(i64::MAX)].prop_map(Value::Int),
        prop::sample::select(floats).prop_map(Value::Float),
        "[ab]{0,2}".prop_map(Value::String),
        (0i64..2).prop_map(|days| Value::Date(Date { days })),
        prop::sample::select(zones).prop_map(|z| Value::ZonedDateTime(ZonedDateTime::parse(z).unwrap())),
        prop::sample::select(vec!["01:00+01:00", "00:00Z", "01:00Z"])
            .prop_map(|t| Value::ZonedTime(ZonedTime::parse(t).unwrap())),
        (0i64..2, 0i64..2).prop_map(|(d, s)| Value::Duration(Duration::new(0, d, s, 0).unwrap())),
        (
            prop::sample::select(vec![Crs::Cartesian, Crs::Wgs84]),
            prop::sample::select(vec![-0.0, 0.0, 1.0])
        )
            .prop_map(|(crs, x)| Value::Point(Point::new(crs, &[x, 0.0]).unwrap())),
    ]
}

fn nested(leaf: impl Strategy<Value = Value> + 'static, keys: &'static str) -> impl Strategy<Value = Value> {
    leaf.prop_recursive(3, 24, 4, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::List),
            prop::collection::btree_map(keys, inner, 0..4).prop_map(Value::Map),
        ]
    })
}

fn value() -> impl Strategy<Value = Value> {
    nested(scalar(), ".{0,4}")
}

fn dense_value() -> impl Strategy<Value = Value> {
    nested(dense_scalar(), "[ab]")
}

fn encoded(value: &Value) -> Vec<u8> {
    let mut buf = Vec::new();
    encode_value(&mut buf, value);
    buf
}

fn hash_of(value: &Value) -> u64 {
    let mut hasher = DefaultHasher::new();
    OrderedValue(value.clone()).hash(&mut hasher);
    hasher.finish()
}

/// Checks that decoding and skipping `bytes` agree and that anything decoded re-encodes
/// to exactly the bytes consumed.
fn check_decoders_on(bytes: &[u8]) -> Result<(), TestCaseError> {
    let (mut decode_pos, mut skip_pos) = (0, 0);
    let decoded = decode_value(bytes, &mut decode_pos);
    let skipped = skip_value(bytes, &mut skip_pos);
    if let Ok(value) = decoded {
        prop_assert!(skipped.is_ok());
        prop_assert_eq!(skip_pos, decode_pos);
        prop_assert_eq!(encoded(&value), &bytes[..decode_pos]);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encoding_round_trips(value in value()) {
        let bytes = encoded(&value);
        let mut pos = 0;
        prop_assert_eq!(decode_value(&bytes, &mut pos), Ok(value));
        prop_assert_eq!(pos, bytes.len());
        let mut skipped = 0;
        prop_assert!(skip_value(&bytes, &mut skipped).is_ok());
        prop_assert_eq!(skipped, bytes.len());
    }

    #[test]
    fn decoders_survive_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        check_decoders_on(&bytes)?;
    }

    #[test]
    fn decoders_survive_damaged_encodings(
        value in value(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = encoded(&value);
        for (index, byte) in flips {
            let at = index.index(bytes.len());
            bytes[at] = byte;
        }
        check_decoders_on(&bytes)?;
        check_decoders_on(&bytes[..cut.index(bytes.len() + 1)])?;
    }

    #[test]
    fn order_is_antisymmetric_and_reflexive(a in dense_value(), b in dense_value()) {
        prop_assert_eq!(a.order_cmp(&a), Ordering::Equal);
        prop_assert_eq!(a.order_cmp(&b), b.order_cmp(&a).reverse());
    }

    #[test]
    fn order_is_transitive(a in dense_value(), b in dense_value(), c in dense_value()) {
        let (ab, bc, ac) = (a.order_cmp(&b), b.order_cmp(&c), a.order_cmp(&c));
        if ab.is_le() && bc.is_le() {
            prop_assert!(ac.is_le());
        }
        if ab.is_eq() && bc.is_eq() {
            prop_assert!(ac.is_eq());
        }
        if ab.is_lt() && bc.is_le() || ab.is_le() && bc.is_lt() {
            prop_assert!(ac.is_lt());
        }
    }

    #[test]
    fn sorting_yields_a_consistent_chain(mut values in prop::collection::vec(dense_value(), 0..12)) {
        values.sort_by(Value::order_cmp);
        for (i, a) in values.iter().enumerate() {
            for b in &values[i..] {
                prop_assert!(a.order_cmp(b).is_le(), "{} > {}", a, b);
            }
        }
    }

    #[test]
    fn ordered_value_eq_hash_and_ord_agree(a in dense_value(), b in dense_value()) {
        let (x, y) = (OrderedValue(a.clone()), OrderedValue(b.clone()));
        prop_assert_eq!(x == y, x.cmp(&y).is_eq());
        prop_assert_eq!(x == y, a.equivalent(&b));
        prop_assert_eq!(x.partial_cmp(&y), Some(a.order_cmp(&b)));
        if x == y {
            prop_assert_eq!(hash_of(&a), hash_of(&b));
        }
    }

    #[test]
    fn comparability_and_equality_agree_with_the_order(a in dense_value(), b in dense_value()) {
        if let Some(ordering) = a.cypher_cmp(&b) {
            prop_assert_eq!(ordering, a.order_cmp(&b));
            prop_assert_eq!(a.cypher_compare(ComparisonOp::Le, &b), Some(ordering.is_le()));
        }
        if a.cypher_eq(&b) == Some(true) {
            prop_assert!(a.equivalent(&b));
        }
        prop_assert_eq!(a.cypher_eq(&b), b.cypher_eq(&a));
    }

    #[test]
    fn structural_equality_implies_equivalence(a in value()) {
        let copy = a.clone();
        prop_assert_eq!(&a, &copy);
        prop_assert!(a.equivalent(&copy));
        prop_assert_eq!(hash_of(&a), hash_of(&copy));
    }

    #[test]
    fn dates_round_trip_through_text(date in date()) {
        prop_assert_eq!(Date::parse(&date.to_string()), Some(date));
        let (y, m, d) = date.ymd();
        prop_assert_eq!(Date::from_ymd(y, m, d), Some(date));
    }

    #[test]
    fn times_round_trip_through_text(local in local_date_time()) {
        prop_assert_eq!(LocalTime::parse(&local.time.to_string()), Some(local.time));
        prop_assert_eq!(LocalDateTime::parse(&local.to_string()), Some(local));
    }

    #[test]
    fn zoned_times_round_trip_through_text(zoned in zoned_time()) {
        prop_assert_eq!(ZonedTime::parse(&zoned.to_string()), Some(zoned));
        let again = ZonedTime::from_utc_nanos(zoned.utc_nanos(), zoned.offset_seconds);
        prop_assert_eq!(again, Some(zoned));
    }

    #[test]
    fn zoned_datetimes_round_trip_through_text(zoned in zoned()) {
        prop_assert_eq!(ZonedDateTime::parse(&zoned.to_string()), Some(zoned.clone()));
        let again = ZonedDateTime::from_epoch_nanos(zoned.epoch_nanos(), zoned.offset_seconds, zoned.zone.clone());
        prop_assert_eq!(again, Some(zoned));
    }

    #[test]
    fn durations_round_trip_through_text(
        months in -1_000_000i64..1_000_000,
        days in -1_000_000i64..1_000_000,
        seconds in -1_000_000_000_000i64..1_000_000_000_000,
        nanos in 0..1_000_000_000i32,
    ) {
        let duration = Duration { months, days, seconds, nanos };
        prop_assert_eq!(Duration::parse(&duration.to_string()), Some(duration));
    }
}
