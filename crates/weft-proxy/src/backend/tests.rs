use super::*;

fn text(s: &str) -> BoltValue {
    BoltValue::String(s.to_string())
}

#[test]
fn mode_r_marks_a_read() {
    assert!(is_read(&vec![("mode".into(), text("r"))]));
    assert!(!is_read(&vec![("mode".into(), text("w"))]));
    assert!(!is_read(&Vec::new()));
}

#[test]
fn only_bookmarks_metadata_or_a_timeout_need_a_transaction() {
    // Plain extras: one pipelined RUN + PULL.
    let plain: Dict = vec![("db".into(), text("neo4j")), ("mode".into(), text("r"))];
    assert!(!needs_transaction(&plain));
    assert!(!needs_transaction(&vec![(
        "bookmarks".into(),
        BoltValue::List(Vec::new())
    )]));
    assert!(!needs_transaction(&vec![(
        "tx_metadata".into(),
        BoltValue::Dictionary(Vec::new())
    )]));

    // What only BEGIN passes on.
    let bookmarks = vec![("bookmarks".into(), BoltValue::List(vec![text("42")]))];
    let consistency = BoltValue::Dictionary(vec![("consistency".into(), text("LINEARIZABLE"))]);
    assert!(needs_transaction(&bookmarks));
    assert!(needs_transaction(&vec![("tx_metadata".into(), consistency)]));
    assert!(needs_transaction(&vec![(
        "tx_timeout".into(),
        BoltValue::Integer(1000)
    )]));
}

#[test]
fn the_session_consistency_statement_is_recognised() {
    assert!(is_session_consistency("set session  consistency TO linearizable"));
    assert!(!is_session_consistency("SET SESSION TIMEOUT"));
    assert!(!is_session_consistency("MATCH (n) SET n.session = 1"));
}

#[test]
fn basic_and_no_credentials_pass_other_schemes_do_not() {
    let auth = |scheme: &str| Auth {
        scheme: scheme.to_string(),
        principal: Some("neo".into()),
        credentials: Some("pw".into()),
    };
    let basic = credentials(&auth("basic")).unwrap();
    assert_eq!(
        (basic.user.as_deref(), basic.password.as_deref()),
        (Some("neo"), Some("pw"))
    );
    assert!(credentials(&auth("none")).unwrap().user.is_none());
    assert_eq!(credentials(&auth("bearer")).unwrap_err().code, UNAUTHORIZED);
}
