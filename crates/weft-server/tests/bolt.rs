//! The server over a real TCP socket, driven by the minimal Bolt client of `support`.

mod support;

use std::io::{Read, Write};

use weft_bolt::structs::{TAG_NODE, TAG_POINT_2D, TAG_POINT_3D};
use weft_bolt::{BoltValue, ChunkEncoder, Request, Response, Structure, Version};

use support::{assert_success, get, run, TestServer};

#[test]
fn autocommit_create_returns_a_node_and_counters() {
    // Set up: a server and an authenticated 5.4 connection.
    let server = TestServer::start();
    let mut client = server.connect();
    assert_eq!(client.open(), Version::new(5, 4));

    // Act: create a node and return it.
    let (records, summary) = client.query("CREATE (n:P {x: 1}) RETURN n");

    // Check: one record holding a 5.x Node (with element id), and the write counters.
    assert_eq!(records.len(), 1);
    let BoltValue::Structure(node) = &records[0][0] else {
        panic!("expected a Node structure, got {:?}", records[0]);
    };
    assert_eq!(node.tag, TAG_NODE);
    assert_eq!(node.fields.len(), 4);
    assert_eq!(node.fields[1], BoltValue::List(vec![BoltValue::String("P".into())]));
    assert_eq!(
        node.fields[2],
        BoltValue::Dictionary(vec![("x".into(), BoltValue::Integer(1))])
    );
    assert_eq!(get(&summary, "type"), Some(&BoltValue::String("rw".into())));
    let stats = get(&summary, "stats").and_then(BoltValue::as_dict).expect("stats");
    assert_eq!(get(&stats.to_vec(), "nodes-created"), Some(&BoltValue::Integer(1)));
    assert_eq!(get(&stats.to_vec(), "labels-added"), Some(&BoltValue::Integer(1)));
    assert_eq!(get(&stats.to_vec(), "nodes-deleted"), None);

    // Check: GOODBYE closes the connection.
    client.send(Request::Goodbye);
    client.expect_closed();
    server.shutdown();
}

#[test]
fn explicit_transaction_commits_with_a_bookmark() {
    // Set up: a server and an authenticated connection.
    let server = TestServer::start();
    let mut client = server.connect();
    assert_eq!(client.open(), Version::new(5, 4));

    // Act: BEGIN, RUN two statements, COMMIT.
    assert_success(client.request(Request::Begin { extra: Vec::new() }));
    let (_, summary) = client.query("CREATE (:Q {y: 2})");
    assert_eq!(get(&summary, "type"), Some(&BoltValue::String("w".into())));
    let (records, _) = client.query("MATCH (q:Q) RETURN q.y AS y");
    assert_eq!(records, vec![vec![BoltValue::Integer(2)]]);
    let commit = assert_success(client.request(Request::Commit));

    // Check: the commit has a bookmark and its write is visible afterwards.
    let bookmark = get(&commit, "bookmark").and_then(BoltValue::as_str).expect("bookmark");
    assert!(
        bookmark.parse::<u64>().is_ok(),
        "bookmark {bookmark} is a commit timestamp"
    );
    let (records, summary) = client.query("MATCH (q:Q) RETURN count(q) AS c");
    assert_eq!(records, vec![vec![BoltValue::Integer(1)]]);
    assert_eq!(get(&summary, "type"), Some(&BoltValue::String("r".into())));
    server.shutdown();
}

#[test]
fn failure_ignores_until_reset() {
    // Set up: a server and an authenticated connection.
    let server = TestServer::start();
    let mut client = server.connect();
    client.open();

    // Act: a syntax error, then a RUN while failed.
    let failure = client.request(run("CREATE (n:P {x: 1) RETURN n"));
    let ignored = client.request(run("RETURN 1 AS one"));

    // Check: FAILURE with the syntax code, IGNORED, then RESET recovers the session.
    match failure {
        Response::Failure { code, .. } => assert_eq!(code, "Neo.ClientError.Statement.SyntaxError"),
        other => panic!("expected FAILURE, got {other:?}"),
    }
    assert_eq!(ignored, Response::Ignored);
    assert_success(client.request(Request::Reset));
    let (records, _) = client.query("RETURN 1 AS one");
    assert_eq!(records, vec![vec![BoltValue::Integer(1)]]);
    server.shutdown();
}

#[test]
fn bolt_4_4_client_and_garbage_input() {
    // Set up: a server; one client speaks 4.4 only, another sends garbage.
    let server = TestServer::start();
    let mut old = server.connect();
    let mut handshake = vec![0x60, 0x60, 0xB0, 0x17];
    handshake.extend_from_slice(&[0, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    old.stream.write_all(&handshake).expect("send handshake");
    let mut reply = [0u8; 4];
    old.stream.read_exact(&mut reply).expect("handshake reply");
    let mut garbage = server.connect();

    // Act: HELLO with credentials on 4.4; a bad magic on the other connection.
    assert_eq!(reply, [0, 0, 4, 4]);
    let hello = vec![("scheme".into(), BoltValue::String("none".into()))];
    assert_success(old.request(Request::Hello { extra: hello }));
    garbage.stream.write_all(&[1; 20]).expect("send garbage");

    // Check: the garbage connection is closed, the 4.4 one still works (legacy Node).
    garbage.expect_closed();
    let (records, _) = old.query("CREATE (n:P) RETURN n");
    let BoltValue::Structure(node) = &records[0][0] else {
        panic!("expected a Node structure");
    };
    assert_eq!(node.fields.len(), 3);
    server.shutdown();
}

#[test]
fn malformed_message_gets_a_failure_then_close() {
    // Set up: a server and an authenticated connection.
    let server = TestServer::start();
    let mut client = server.connect();
    client.open();

    // Act: a well-framed message that is a structure with an unknown tag.
    let mut out = Vec::new();
    ChunkEncoder::default().encode(&[0xB0, 0x7E], &mut out);
    client.send_bytes(&out);

    // Check: FAILURE Request.Invalid naming the problem, then the server hangs up.
    match client.recv() {
        Response::Failure { code, message } => {
            assert_eq!(code, "Neo.ClientError.Request.Invalid");
            assert!(message.contains("unknown Bolt message tag 0x7E"), "{message}");
        }
        other => panic!("expected FAILURE, got {other:?}"),
    }
    client.expect_closed();
    server.shutdown();
}

#[test]
fn hanging_up_mid_transaction_rolls_it_back() {
    // Set up: a committed node, and a connection whose open transaction wrote to it.
    let server = TestServer::start();
    let mut other = server.connect();
    other.open();
    other.query("CREATE (:Gone {x: 0})");
    let mut writer = server.connect();
    writer.open();
    assert_success(writer.request(Request::Begin { extra: Vec::new() }));
    writer.query("MATCH (g:Gone) SET g.x = 1");
    assert!(
        !attempt(&mut other, "MATCH (g:Gone) SET g.x = 2"),
        "an open write conflicts"
    );

    // Act: the writer disconnects without COMMIT.
    drop(writer);

    // Check: the abandoned write stops conflicting once the server notices the hang-up,
    // and it never became visible.
    let wrote = (0..100).any(|_| {
        let done = attempt(&mut other, "MATCH (g:Gone) SET g.x = 2");
        if !done {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        done
    });
    assert!(wrote, "the disconnected transaction still blocks writers");
    let (records, _) = other.query("MATCH (g:Gone) RETURN g.x AS x");
    assert_eq!(records, vec![vec![BoltValue::Integer(2)]]);
    server.shutdown();
}

/// RUN and PULL `query`: whether it succeeded; after a failure the session is RESET.
fn attempt(client: &mut support::Client<std::net::TcpStream>, query: &str) -> bool {
    client.send(run(query));
    client.send(Request::Pull { n: -1, qid: -1 });
    let ran = matches!(client.recv(), Response::Success { .. });
    loop {
        match client.recv() {
            Response::Record { .. } => {}
            Response::Success { .. } if ran => return true,
            _ => {
                assert_success(client.request(Request::Reset));
                return false;
            }
        }
    }
}

#[test]
fn point_parameters_come_back_as_point_structures() {
    // Set up: a server, a connection, and a 2D and a 3D point as parameters.
    let server = TestServer::start();
    let mut client = server.connect();
    client.open();
    let float = BoltValue::Float;
    let flat = Structure {
        tag: TAG_POINT_2D,
        fields: vec![BoltValue::Integer(7203), float(1.5), float(2.5)],
    };
    let high = Structure {
        tag: TAG_POINT_3D,
        fields: vec![BoltValue::Integer(4979), float(12.5), float(56.0), float(7.0)],
    };
    let parameters = vec![
        ("p".to_string(), BoltValue::Structure(flat.clone())),
        ("q".to_string(), BoltValue::Structure(high.clone())),
    ];

    // Act: return them, a field of one, and a point built by the query.
    let query = "RETURN $p AS p, $q AS q, $q.height AS h, point({x: 1, y: 2, z: 3}) AS c";
    assert_success(client.request(Request::Run {
        query: query.into(),
        parameters,
        extra: Vec::new(),
    }));
    client.send(Request::Pull { n: -1, qid: -1 });
    let Response::Record { fields } = client.recv() else {
        panic!("expected a record")
    };
    assert_success(client.recv());

    // Check: the same structures come back, and the built point is a Point3D.
    let built = Structure {
        tag: TAG_POINT_3D,
        fields: vec![BoltValue::Integer(9157), float(1.0), float(2.0), float(3.0)],
    };
    assert_eq!(
        fields,
        vec![
            BoltValue::Structure(flat),
            BoltValue::Structure(high),
            float(7.0),
            BoltValue::Structure(built),
        ]
    );

    // Check: a point with an SRID Weft does not know is refused with a failure.
    let unknown = Structure {
        tag: TAG_POINT_2D,
        fields: vec![BoltValue::Integer(1), float(0.0), float(0.0)],
    };
    let response = client.request(Request::Run {
        query: "RETURN $p".into(),
        parameters: vec![("p".to_string(), BoltValue::Structure(unknown))],
        extra: Vec::new(),
    });
    assert!(matches!(response, Response::Failure { .. }), "{response:?}");
    server.shutdown();
}
