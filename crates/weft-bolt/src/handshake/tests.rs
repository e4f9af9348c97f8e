use super::*;

fn request(proposals: [[u8; 4]; 4]) -> Vec<u8> {
    let mut bytes = MAGIC.to_vec();
    proposals.iter().for_each(|p| bytes.extend_from_slice(p));
    bytes
}

#[test]
fn pymgclient_gets_bolt_4_4() {
    // pymgclient proposes 4.4, 4.3, 4.1 and 1.0, each without a range.
    let req = request([[0, 0, 4, 4], [0, 0, 3, 4], [0, 0, 1, 4], [0, 0, 0, 1]]);
    let outcome = negotiate(&req).unwrap();
    assert_eq!(outcome.version, Some(Version::V4_4));
    assert_eq!(outcome.reply, [0, 0, 4, 4]);
}

#[test]
fn pymgclient_without_4_4_falls_back() {
    let req = request([[0, 0, 3, 4], [0, 0, 1, 4], [0, 0, 0, 1], [0; 4]]);
    assert_eq!(negotiate(&req).unwrap().version, Some(Version::V4_3));
}

#[test]
fn neo4j_6_driver_gets_bolt_5_8() {
    // Manifest v1 first, then 5.8 down to 5.0, 4.4 down to 4.2, and 3.0.
    let req = request([MANIFEST_V1, [0, 8, 8, 5], [0, 2, 4, 4], [0, 0, 0, 3]]);
    let outcome = negotiate(&req).unwrap();
    assert_eq!(outcome.version, Some(Version::V5_8));
    assert_eq!(outcome.reply, [0, 0, 8, 5]);
}

#[test]
fn ranges_cover_lower_minors() {
    // 5.2 with range 2 offers 5.2, 5.1, 5.0; 4.4 with range 2 reaches 4.2 (not 4.1).
    assert!(covers([0, 2, 2, 5], Version::V5_0));
    assert!(!covers([0, 2, 2, 5], Version::new(5, 3)));
    assert!(covers([0, 2, 4, 4], Version::V4_3));
    assert!(!covers([0, 2, 4, 4], Version::V4_1));
    // A range larger than the minor stops at .0.
    assert!(covers([0, 9, 1, 4], Version::new(4, 0)));
    assert_eq!(
        negotiate(&request([[0, 3, 4, 4], [0; 4], [0; 4], [0; 4]]))
            .unwrap()
            .version,
        Some(Version::V4_4)
    );
}

#[test]
fn unsupported_proposals_get_zeros() {
    // Only Bolt 3.0 and 4.2, which we do not serve; and a manifest-only client.
    let old = negotiate(&request([[0, 0, 0, 3], [0, 0, 2, 4], [0; 4], [0; 4]])).unwrap();
    assert_eq!(
        old,
        Negotiated {
            version: None,
            reply: NO_VERSION
        }
    );
    let manifest_only = negotiate(&request([MANIFEST_V1, [0; 4], [0; 4], [0; 4]])).unwrap();
    assert_eq!(manifest_only.version, None);
}

#[test]
fn non_bolt_input_is_an_error() {
    let mut req = request([[0, 0, 4, 4], [0; 4], [0; 4], [0; 4]]);
    assert_eq!(negotiate(&req[..19]), Err(HandshakeError::WrongLength(19)));
    req[0] = b'G';
    assert!(matches!(negotiate(&req), Err(HandshakeError::BadMagic(_))));
}
