use proptest::prelude::*;

use super::*;

fn bytes_of(value: &BoltValue) -> Vec<u8> {
    to_bytes(value).expect("encodable")
}

#[test]
fn integers_use_the_smallest_form() {
    // Boundaries of each width, with their expected markers and lengths.
    let cases: &[(i64, &[u8])] = &[
        (0, &[0x00]),
        (127, &[0x7F]),
        (-16, &[0xF0]),
        (-1, &[0xFF]),
        (-17, &[0xC8, 0xEF]),
        (-128, &[0xC8, 0x80]),
        (128, &[0xC9, 0x00, 0x80]),
        (-129, &[0xC9, 0xFF, 0x7F]),
        (32_767, &[0xC9, 0x7F, 0xFF]),
        (32_768, &[0xCA, 0x00, 0x00, 0x80, 0x00]),
        (i64::from(i32::MIN), &[0xCA, 0x80, 0x00, 0x00, 0x00]),
        (i64::from(i32::MAX) + 1, &[0xCB, 0, 0, 0, 0, 0x80, 0, 0, 0]),
        (i64::MIN, &[0xCB, 0x80, 0, 0, 0, 0, 0, 0, 0]),
    ];
    for (value, expected) in cases {
        // Encode, check the bytes, decode back.
        let encoded = bytes_of(&BoltValue::Integer(*value));
        assert_eq!(&encoded, expected, "encoding {value}");
        assert_eq!(decode(&encoded), Ok(BoltValue::Integer(*value)));
    }
}

#[test]
fn scalars_have_their_markers() {
    assert_eq!(bytes_of(&BoltValue::Null), [0xC0]);
    assert_eq!(bytes_of(&BoltValue::Boolean(false)), [0xC2]);
    assert_eq!(bytes_of(&BoltValue::Boolean(true)), [0xC3]);
    assert_eq!(
        bytes_of(&BoltValue::Float(1.1)),
        [0xC1, 0x3F, 0xF1, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9A]
    );
    assert_eq!(bytes_of(&BoltValue::Bytes(vec![1, 2])), [0xCC, 0x02, 0x01, 0x02]);
}

#[test]
fn sized_values_switch_width_at_the_boundaries() {
    // Strings: tiny below 16 bytes, then 8/16/32-bit lengths.
    assert_eq!(bytes_of(&BoltValue::String("a".into())), [0x81, b'a']);
    assert_eq!(bytes_of(&BoltValue::String("x".repeat(16)))[..2], [0xD0, 16]);
    assert_eq!(bytes_of(&BoltValue::String("x".repeat(256)))[..3], [0xD1, 0x01, 0x00]);
    assert_eq!(
        bytes_of(&BoltValue::String("x".repeat(65_536)))[..5],
        [0xD2, 0x00, 0x01, 0x00, 0x00]
    );
    // Lists and dictionaries share the scheme.
    assert_eq!(bytes_of(&BoltValue::List(vec![BoltValue::Null; 15]))[0], 0x9F);
    assert_eq!(bytes_of(&BoltValue::List(vec![BoltValue::Null; 16]))[..2], [0xD4, 16]);
    let dict = BoltValue::Dictionary(vec![("k".into(), BoltValue::Integer(1))]);
    assert_eq!(bytes_of(&dict), [0xA1, 0x81, b'k', 0x01]);
    // Bytes have no tiny form.
    assert_eq!(bytes_of(&BoltValue::Bytes(vec![0; 256]))[..3], [0xCD, 0x01, 0x00]);
}

#[test]
fn structures_carry_size_and_tag() {
    let s = BoltValue::Structure(Structure {
        tag: 0x4E,
        fields: vec![BoltValue::Integer(1)],
    });
    assert_eq!(bytes_of(&s), [0xB1, 0x4E, 0x01]);
    let too_big = BoltValue::Structure(Structure {
        tag: 0,
        fields: vec![BoltValue::Null; 16],
    });
    assert_eq!(to_bytes(&too_big), Err(PackStreamError::TooManyFields { count: 16 }));
}

#[test]
fn malformed_input_is_rejected() {
    assert_eq!(decode(&[]), Err(PackStreamError::UnexpectedEnd { at: 0, needed: 1 }));
    assert_eq!(
        decode(&[0xC9, 0x01]),
        Err(PackStreamError::UnexpectedEnd { at: 1, needed: 1 })
    );
    assert_eq!(
        decode(&[0xC4]),
        Err(PackStreamError::UnknownMarker { marker: 0xC4, at: 0 })
    );
    assert_eq!(decode(&[0x82, 0xFF, 0xFE]), Err(PackStreamError::InvalidUtf8 { at: 1 }));
    assert_eq!(
        decode(&[0xA1, 0x01, 0x01]),
        Err(PackStreamError::NonStringKey { at: 1 })
    );
    assert_eq!(decode(&[0xC0, 0xC0]), Err(PackStreamError::TrailingBytes { count: 1 }));
    // A huge declared length with no content fails without allocating it.
    assert!(matches!(
        decode(&[0xD6, 0xFF, 0xFF, 0xFF, 0xFF]),
        Err(PackStreamError::UnexpectedEnd { .. })
    ));
}

#[test]
fn nesting_is_limited() {
    // 64 nested lists are fine; 65 are not.
    let mut ok = vec![0x91; MAX_DEPTH - 1];
    ok.push(0x90);
    assert!(decode(&ok).is_ok());
    let mut deep = vec![0x91; MAX_DEPTH];
    deep.push(0x90);
    assert_eq!(decode(&deep), Err(PackStreamError::TooDeep));
}

#[test]
fn dict_get_prefers_the_last_duplicate() {
    let entries = vec![
        ("a".to_string(), BoltValue::Integer(1)),
        ("a".to_string(), BoltValue::Integer(2)),
    ];
    assert_eq!(dict_get(&entries, "a"), Some(&BoltValue::Integer(2)));
    assert_eq!(dict_get(&entries, "b"), None);
}

/// Values without NaN (so that equality is reflexive), nested a few levels.
fn arb_value() -> impl Strategy<Value = BoltValue> {
    let leaf = prop_oneof![
        Just(BoltValue::Null),
        any::<bool>().prop_map(BoltValue::Boolean),
        any::<i64>().prop_map(BoltValue::Integer),
        (-1e300f64..1e300).prop_map(BoltValue::Float),
        ".{0,40}".prop_map(BoltValue::String),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(BoltValue::Bytes),
    ];
    leaf.prop_recursive(4, 64, 20, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..20).prop_map(BoltValue::List),
            prop::collection::vec((".{0,8}", inner.clone()), 0..20).prop_map(BoltValue::Dictionary),
            (any::<u8>(), prop::collection::vec(inner, 0..=15))
                .prop_map(|(tag, fields)| BoltValue::Structure(Structure { tag, fields })),
        ]
    })
}

proptest! {
    #[test]
    fn encode_decode_round_trips(value in arb_value()) {
        let encoded = bytes_of(&value);
        prop_assert_eq!(decode(&encoded), Ok(value));
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        // Any outcome is fine; a decoded value must re-encode to a decodable value.
        if let Ok(value) = decode(&bytes) {
            let again = bytes_of(&value);
            prop_assert!(decode(&again).is_ok());
        }
    }
}
