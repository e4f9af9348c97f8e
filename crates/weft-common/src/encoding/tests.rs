//! Unit tests for the primitive codecs and the pinned value layout, including corrupt input.

use super::*;
use crate::spatial::{Crs, Point};
use crate::temporal::NANOS_PER_DAY;

fn encoded(value: &Value) -> Vec<u8> {
    let mut buf = Vec::new();
    encode_value(&mut buf, value);
    buf
}

/// Decodes `bytes` as one value and checks that all of it was consumed.
fn decoded(bytes: &[u8]) -> Result<Value, DecodeError> {
    let mut pos = 0;
    let value = decode_value(bytes, &mut pos)?;
    assert_eq!(pos, bytes.len(), "trailing bytes");
    Ok(value)
}

fn nested_lists(depth: usize) -> Value {
    (0..depth).fold(Value::Null, |inner, _| Value::List(vec![inner]))
}

#[test]
fn varints_are_leb128() {
    let cases: [(u64, &[u8]); 5] = [
        (0, &[0x00]),
        (127, &[0x7f]),
        (128, &[0x80, 0x01]),
        (300, &[0xac, 0x02]),
        (u64::MAX, &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
    ];
    for (value, bytes) in cases {
        let mut buf = Vec::new();
        put_varint(&mut buf, value);
        assert_eq!(buf, bytes);
        let mut pos = 0;
        assert_eq!(get_varint(&buf, &mut pos), Ok(value));
        assert_eq!(pos, bytes.len());
    }
}

#[test]
fn varints_must_be_canonical_and_fit_64_bits() {
    let overlong = [0x80, 0x00];
    let too_wide = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
    let eleven = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81, 0x00];
    for bytes in [&overlong[..], &too_wide[..], &eleven[..]] {
        let result = get_varint(bytes, &mut 0);
        assert!(
            matches!(result, Err(DecodeError::Invalid { at: 0, .. })),
            "{bytes:?}: {result:?}"
        );
    }
    assert_eq!(get_varint(&[0x80, 0x80], &mut 0), Err(DecodeError::Eof(0)));
    assert_eq!(get_varint(&[], &mut 0), Err(DecodeError::Eof(0)));
}

#[test]
fn zigzag_keeps_small_magnitudes_short() {
    for (value, raw) in [
        (0, 0u64),
        (-1, 1),
        (1, 2),
        (-2, 3),
        (i64::MAX, u64::MAX - 1),
        (i64::MIN, u64::MAX),
    ] {
        let mut buf = Vec::new();
        put_zigzag(&mut buf, value);
        let mut expected = Vec::new();
        put_varint(&mut expected, raw);
        assert_eq!(buf, expected, "{value}");
        assert_eq!(get_zigzag(&buf, &mut 0), Ok(value));
    }
}

#[test]
fn fixed_width_integers_are_little_endian() {
    let mut buf = Vec::new();
    put_u32_le(&mut buf, 0x0102_0304);
    put_u64_le(&mut buf, 0x0102_0304_0506_0708);
    put_u8(&mut buf, 9);
    assert_eq!(buf, [4, 3, 2, 1, 8, 7, 6, 5, 4, 3, 2, 1, 9]);
    let mut pos = 0;
    assert_eq!(get_u32_le(&buf, &mut pos), Ok(0x0102_0304));
    assert_eq!(get_u64_le(&buf, &mut pos), Ok(0x0102_0304_0506_0708));
    assert_eq!(get_u8(&buf, &mut pos), Ok(9));
    assert_eq!(get_u8(&buf, &mut pos), Err(DecodeError::Eof(13)));
    assert_eq!(get_u64_le(&buf[..7], &mut 0), Err(DecodeError::Eof(0)));
    assert_eq!(get_u8(&buf, &mut 100), Err(DecodeError::Eof(100)));
}

#[test]
fn strings_are_length_prefixed_utf8() {
    let mut buf = Vec::new();
    put_str(&mut buf, "héllo");
    put_bytes(&mut buf, &[0xff]);
    let mut pos = 0;
    assert_eq!(get_str(&buf, &mut pos), Ok("héllo"));
    let bytes_at = pos;
    assert_eq!(
        get_str(&buf, &mut pos),
        Err(DecodeError::Invalid {
            what: "UTF-8 string",
            at: bytes_at
        })
    );
    assert_eq!(get_bytes(&buf, &mut bytes_at.clone()), Ok(&[0xff][..]));
    assert_eq!(get_bytes(&[5, b'a'], &mut 0), Err(DecodeError::Eof(0)));
}

#[test]
fn value_layout_is_pinned() {
    // The documented layout, byte for byte: changing it breaks files on disk.
    let value = Value::List(vec![
        Value::Int(-1),
        Value::from("a"),
        Value::Null,
        Value::Bool(true),
        Value::Map([("k".to_string(), Value::Bool(false))].into()),
        Value::Float(1.0),
        Value::Date(Date { days: 1 }),
        Value::Duration(Duration {
            months: 1,
            days: -1,
            seconds: 2,
            nanos: 3,
        }),
        Value::ZonedTime(ZonedTime {
            time: LocalTime { nanos: 2 },
            offset_seconds: -1,
        }),
    ]);
    let expected = [
        [0x06, 0x09].as_slice(),
        &[0x03, 0x01],
        &[0x05, 0x01, b'a'],
        &[0x00],
        &[0x02],
        &[0x07, 0x01, 0x01, b'k', 0x01],
        &[0x04, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f],
        &[0x08, 0x02],
        &[0x0c, 0x02, 0x01, 0x04, 0x06],
        &[0x0d, 0x04, 0x01],
    ]
    .concat();
    assert_eq!(encoded(&value), expected);
    assert_eq!(decoded(&expected), Ok(value));
}

#[test]
fn zoned_datetimes_keep_offset_and_zone() {
    let zoned = |zone: Option<&str>| {
        let local = LocalDateTime::from_ymd_hms_nano(2024, 1, 5, 12, 30, 0, 1).unwrap();
        Value::ZonedDateTime(ZonedDateTime::new(local, -3600, zone.map(String::from)).unwrap())
    };
    for value in [zoned(None), zoned(Some("Europe/Paris"))] {
        assert_eq!(decoded(&encoded(&value)), Ok(value));
    }
    let local = [0x0b, 0x00, 0x00];
    assert_eq!(
        decoded(&[&local[..], &[0x00, 0x00]].concat()).map(|v| v.to_string()),
        Ok("1970-01-01T00:00Z".to_string())
    );
    assert!(matches!(
        decoded(&[&local[..], &[0x00, 0x02]].concat()),
        Err(DecodeError::Invalid { what: "zone flag", .. })
    ));
}

#[test]
fn zoned_times_keep_their_offset() {
    for text in ["12:31:14.645876123+01:00", "00:00Z", "23:59:59.999999999-18:00"] {
        let value = Value::ZonedTime(ZonedTime::parse(text).unwrap());
        assert_eq!(decoded(&encoded(&value)), Ok(value));
    }
}

#[test]
fn out_of_range_temporal_payloads_are_rejected() {
    let with_zigzag = |tag: u8, fields: &[i64]| {
        let mut buf = vec![tag];
        fields.iter().for_each(|field| put_zigzag(&mut buf, *field));
        buf
    };
    let cases = [
        with_zigzag(tag::LOCAL_TIME, &[NANOS_PER_DAY]),
        with_zigzag(tag::LOCAL_TIME, &[-1]),
        with_zigzag(tag::DATE, &[Date::MAX.days + 1]),
        with_zigzag(tag::LOCAL_DATETIME, &[0, NANOS_PER_DAY]),
        with_zigzag(tag::DURATION, &[0, 0, 0, 1_000_000_000]),
        with_zigzag(tag::DURATION, &[0, 0, 0, -1]),
        [with_zigzag(tag::ZONED_DATETIME, &[0, 0, 18 * 3600 + 1]), vec![0]].concat(),
        with_zigzag(tag::ZONED_TIME, &[0, -18 * 3600 - 1]),
        with_zigzag(tag::ZONED_TIME, &[0, i64::from(i32::MIN) - 1]),
        with_zigzag(tag::ZONED_TIME, &[NANOS_PER_DAY, 0]),
        [
            with_zigzag(tag::ZONED_DATETIME, &[0, 0, i64::from(i32::MAX) + 1]),
            vec![0],
        ]
        .concat(),
    ];
    for bytes in cases {
        let result = decoded(&bytes);
        assert!(
            matches!(result, Err(DecodeError::Invalid { .. })),
            "{bytes:?}: {result:?}"
        );
        // Skipping checks framing only, so it steps over them.
        let mut pos = 0;
        assert_eq!(skip_value(&bytes, &mut pos), Ok(()));
        assert_eq!(pos, bytes.len());
    }
}

#[test]
fn points_are_srid_then_coordinate_bits() {
    // Set up: a 2D cartesian point (SRID 7203 = varint 0xA3 0x38) and a 3D WGS-84 one.
    let flat = Value::Point(Point::new(Crs::Cartesian, &[1.0, -0.0]).unwrap());
    let high = Value::Point(Point::new(Crs::Wgs84_3D, &[1.0, 2.0, 3.0]).unwrap());

    // Act
    let bytes = encoded(&flat);

    // Check: the pinned layout, and both round trip (the sign of zero too).
    let mut expected = vec![0x0e, 0xa3, 0x38];
    expected.extend_from_slice(&1f64.to_bits().to_le_bytes());
    expected.extend_from_slice(&(-0f64).to_bits().to_le_bytes());
    assert_eq!(bytes, expected);
    assert_eq!(decoded(&bytes), Ok(flat));
    assert_eq!(encoded(&high).len(), 1 + 2 + 3 * 8);
    assert_eq!(decoded(&encoded(&high)), Ok(high));
}

#[test]
fn corrupt_points_are_rejected() {
    // An unknown SRID.
    assert_eq!(
        decoded(&[0x0e, 0x01]),
        Err(DecodeError::Invalid {
            what: "point SRID",
            at: 1
        })
    );
    assert!(skip_value(&[0x0e, 0x01], &mut 0).is_err());
    // A NaN coordinate.
    let mut nan = vec![0x0e, 0xa3, 0x38];
    nan.extend_from_slice(&f64::NAN.to_bits().to_le_bytes());
    nan.extend_from_slice(&0f64.to_bits().to_le_bytes());
    assert_eq!(
        decoded(&nan),
        Err(DecodeError::Invalid {
            what: "point coordinate",
            at: 3
        })
    );
    // Too few coordinates for the SRID.
    assert_eq!(decoded(&nan[..11]), Err(DecodeError::Eof(11)));
    assert_eq!(skip_value(&nan[..11], &mut 0), Err(DecodeError::Eof(3)));
}

#[test]
fn map_keys_must_be_strictly_ascending() {
    let entry = |key: &str| [&[0x01, key.as_bytes()[0]][..], &[0x00]].concat();
    let map = |keys: &[&str]| {
        let entries: Vec<u8> = keys.iter().flat_map(|k| entry(k)).collect();
        [&[tag::MAP, keys.len() as u8][..], &entries].concat()
    };
    assert!(decoded(&map(&["a", "b"])).is_ok());
    for keys in [&["b", "a"][..], &["a", "a"]] {
        let result = decoded(&map(keys));
        assert_eq!(
            result,
            Err(DecodeError::Invalid {
                what: "map key order",
                at: 5
            }),
            "{keys:?}"
        );
    }
}

#[test]
fn nesting_is_bounded() {
    // Set up: the deepest allowed value and one level more.
    let deepest = encoded(&nested_lists(MAX_DEPTH));
    let too_deep = encoded(&nested_lists(MAX_DEPTH + 1));

    // Act and check: decode and skip agree on the limit.
    assert_eq!(decoded(&deepest), Ok(nested_lists(MAX_DEPTH)));
    assert_eq!(decoded(&too_deep), Err(DecodeError::TooDeep { at: 2 * MAX_DEPTH }));
    assert!(skip_value(&deepest, &mut 0).is_ok());
    assert_eq!(
        skip_value(&too_deep, &mut 0),
        Err(DecodeError::TooDeep { at: 2 * MAX_DEPTH })
    );
}

#[test]
fn huge_counts_fail_without_allocating() {
    let mut bytes = vec![tag::LIST];
    put_varint(&mut bytes, u64::MAX);
    assert_eq!(decoded(&bytes), Err(DecodeError::Eof(1)));
    bytes[0] = tag::MAP;
    assert_eq!(skip_value(&bytes, &mut 0), Err(DecodeError::Eof(1)));
    let mut string = vec![tag::STRING];
    put_varint(&mut string, u64::MAX);
    assert_eq!(decoded(&string), Err(DecodeError::Eof(1)));
}

#[test]
fn unknown_tags_are_reported() {
    assert_eq!(decoded(&[0x0f]), Err(DecodeError::UnknownTag { tag: 0x0f, at: 0 }));
    assert_eq!(
        skip_value(&[0x06, 0x01, 0xff], &mut 0),
        Err(DecodeError::UnknownTag { tag: 0xff, at: 2 })
    );
}

#[test]
fn skip_stops_where_decode_stops() {
    // Set up: two values back to back.
    let first = Value::List(vec![Value::from("x"), Value::Map([("a".into(), Value::Int(7))].into())]);
    let second = Value::Float(f64::NAN);
    let mut buf = encoded(&first);
    let boundary = buf.len();
    encode_value(&mut buf, &second);

    // Act: skip the first, decode the second.
    let mut pos = 0;
    skip_value(&buf, &mut pos).unwrap();
    let next = decode_value(&buf, &mut pos).unwrap();

    // Check
    assert_eq!(pos, buf.len());
    assert_eq!(next, second);
    assert_eq!(
        skip_value(&buf[..boundary - 1], &mut 0),
        Err(DecodeError::Eof(boundary - 1))
    );
}
