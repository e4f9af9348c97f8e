use super::*;

fn s(text: &str) -> BoltValue {
    BoltValue::String(text.into())
}

fn entry(key: &str, value: BoltValue) -> (String, BoltValue) {
    (key.into(), value)
}

#[test]
fn every_request_round_trips() {
    let requests = [
        Request::Hello {
            extra: vec![entry("user_agent", s("pymgclient/1.6"))],
        },
        Request::Logon {
            auth: vec![entry("scheme", s("basic"))],
        },
        Request::Logoff,
        Request::Goodbye,
        Request::Reset,
        Request::Run {
            query: "RETURN $x".into(),
            parameters: vec![entry("x", BoltValue::Integer(1))],
            extra: vec![],
        },
        Request::Begin { extra: vec![] },
        Request::Commit,
        Request::Rollback,
        Request::Discard { n: -1, qid: -1 },
        Request::Pull { n: 1000, qid: 2 },
        Request::Route {
            routing: vec![entry("address", s("localhost:7687"))],
            bookmarks: vec!["bm".into()],
            db: Some("neo4j".into()),
            imp_user: None,
        },
        Request::Telemetry { api: 1 },
    ];
    for request in requests {
        // Encode as a client would, decode as the server does.
        let bytes = request.encode().unwrap();
        assert_eq!(Request::decode(&bytes), Ok(request));
    }
}

#[test]
fn requests_decode_from_exact_bytes() {
    // RESET, GOODBYE and PULL {n: -1} as drivers send them.
    assert_eq!(Request::decode(&[0xB0, 0x0F]), Ok(Request::Reset));
    assert_eq!(Request::decode(&[0xB0, 0x02]), Ok(Request::Goodbye));
    let pull = [0xB1, 0x3F, 0xA1, 0x81, b'n', 0xFF];
    assert_eq!(Request::decode(&pull), Ok(Request::Pull { n: -1, qid: -1 }));
    // RUN "RETURN 1" {} {}.
    let mut run = vec![0xB3, 0x10, 0x88];
    run.extend_from_slice(b"RETURN 1");
    run.extend_from_slice(&[0xA0, 0xA0]);
    let expected = Request::Run {
        query: "RETURN 1".into(),
        parameters: vec![],
        extra: vec![],
    };
    assert_eq!(Request::decode(&run), Ok(expected));
}

#[test]
fn pull_without_n_means_all() {
    assert_eq!(
        Request::decode(&[0xB1, 0x3F, 0xA0]),
        Ok(Request::Pull { n: -1, qid: -1 })
    );
    let bad = [0xB1, 0x2F, 0xA1, 0x81, b'n', 0xC0];
    assert!(matches!(Request::decode(&bad), Err(MessageError::Shape(_))));
}

#[test]
fn route_accepts_the_4_3_database_field() {
    // 4.3 sends the database name (or null) where 4.4+ sends an extra map.
    let structure = |db: BoltValue| Structure {
        tag: TAG_ROUTE,
        fields: vec![BoltValue::Dictionary(vec![]), BoltValue::List(vec![]), db],
    };
    let named = Request::from_structure(&structure(s("movies"))).unwrap();
    assert!(matches!(named, Request::Route { db: Some(ref d), .. } if d == "movies"));
    let default = Request::from_structure(&structure(BoltValue::Null)).unwrap();
    assert!(matches!(default, Request::Route { db: None, .. }));
    let extra = BoltValue::Dictionary(vec![entry("imp_user", s("bob"))]);
    let imp = Request::from_structure(&structure(extra)).unwrap();
    assert!(matches!(imp, Request::Route { db: None, imp_user: Some(ref u), .. } if u == "bob"));
}

#[test]
fn malformed_requests_are_errors() {
    // Unknown tag, wrong field count, wrong field type, not a structure, bad PackStream.
    assert_eq!(Request::decode(&[0xB0, 0x7A]), Err(MessageError::UnknownTag(0x7A)));
    assert!(matches!(
        Request::decode(&[0xB1, 0x0F, 0xC0]),
        Err(MessageError::Shape(StructError::FieldCount {
            expected: 0,
            got: 1,
            ..
        }))
    ));
    assert!(matches!(
        Request::decode(&[0xB1, 0x01, 0xC0]),
        Err(MessageError::Shape(StructError::FieldType { field: "extra", .. }))
    ));
    assert_eq!(Request::decode(&[0xC0]), Err(MessageError::NotStructure("Null")));
    assert!(matches!(Request::decode(&[0xB1]), Err(MessageError::PackStream(_))));
}

#[test]
fn responses_encode_to_their_tags() {
    // SUCCESS {} and IGNORED, byte for byte.
    let success = Response::Success { metadata: vec![] };
    assert_eq!(success.encode().unwrap(), [0xB1, 0x70, 0xA0]);
    assert_eq!(Response::Ignored.encode().unwrap(), [0xB0, 0x7E]);
    // RECORD [1, "a"].
    let record = Response::Record {
        fields: vec![BoltValue::Integer(1), s("a")],
    };
    assert_eq!(record.encode().unwrap(), [0xB1, 0x71, 0x92, 0x01, 0x81, b'a']);
}

#[test]
fn failure_carries_code_and_message() {
    let failure = Response::failure("Neo.ClientError.Statement.SyntaxError", "bad query");
    let Structure { tag, fields } = failure.to_structure();
    assert_eq!(tag, TAG_FAILURE);
    let metadata = fields[0].as_dict().unwrap();
    assert_eq!(
        dict_get(metadata, "code"),
        Some(&s("Neo.ClientError.Statement.SyntaxError"))
    );
    assert_eq!(dict_get(metadata, "message"), Some(&s("bad query")));
    // 5.7+ drivers ignore the error unless the GQL fields are there as well.
    assert_eq!(dict_get(metadata, "gql_status"), Some(&s("42001")));
    assert_eq!(dict_get(metadata, "description"), Some(&s("error: bad query")));
    assert_eq!(Response::decode(&failure.encode().unwrap()), Ok(failure));
}

#[test]
fn gql_status_follows_the_neo4j_code() {
    use crate::messages::gql_status;
    assert_eq!(gql_status("Neo.ClientError.Statement.ArithmeticError"), "22000");
    assert_eq!(gql_status("Neo.ClientError.Schema.ConstraintValidationFailed"), "22000");
    assert_eq!(gql_status("Neo.TransientError.Transaction.Conflict"), "40000");
    assert_eq!(gql_status("Neo.ClientError.Transaction.TransactionTimedOut"), "25000");
    assert_eq!(gql_status("Neo.DatabaseError.General.UnknownError"), "50N42");
    assert_eq!(gql_status("not a code"), "50N42");
}

#[test]
fn every_response_round_trips() {
    let responses = [
        Response::Success {
            metadata: vec![entry("fields", BoltValue::List(vec![s("x")]))],
        },
        Response::Record { fields: vec![] },
        Response::Ignored,
        Response::failure("Neo.TransientError.General.DatabaseUnavailable", "retry"),
    ];
    for response in responses {
        assert_eq!(Response::decode(&response.encode().unwrap()), Ok(response));
    }
}
