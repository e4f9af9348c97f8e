//! `--auth`: only the configured user and password open a session, on Bolt 4.4 (HELLO)
//! and 5.x (LOGON) alike.

mod support;

use std::io::Write;
use std::sync::Arc;

use weft_bolt::{BoltValue, Request, Response, Version};
use weft_server::{Credentials, ServerConfig, UNAUTHORIZED};

use support::{assert_success, basic, TestServer};

fn server_with_auth() -> TestServer {
    let config = ServerConfig {
        auth: Some(Arc::new(Credentials::new("neo4j", "s3cret"))),
        ..ServerConfig::default()
    };
    TestServer::start_with(config, false)
}

fn assert_unauthorized(response: Response) {
    match response {
        Response::Failure { code, .. } => assert_eq!(code, UNAUTHORIZED),
        other => panic!("expected an Unauthorized FAILURE, got {other:?}"),
    }
}

#[test]
fn right_password_opens_a_session() {
    // Set up: a server requiring neo4j/s3cret and a 5.4 connection.
    let server = server_with_auth();
    let mut client = server.connect();
    let version = client.handshake();
    assert_eq!(version, Version::new(5, 4));

    // Act: LOGON with the right credentials, then a query.
    assert_success(client.authenticate(version, basic("neo4j", "s3cret")));
    let (records, _) = client.query("RETURN 1 AS one");

    // Check: the session works.
    assert_eq!(records, vec![vec![BoltValue::Integer(1)]]);
    server.shutdown();
}

#[test]
fn wrong_password_is_refused_and_the_connection_closed() {
    // Set up: a server requiring neo4j/s3cret; one 5.4 and one 4.4 connection.
    let server = server_with_auth();
    let mut modern = server.connect();
    let version = modern.handshake();
    let mut legacy = server.connect();
    let mut handshake = vec![0x60, 0x60, 0xB0, 0x17];
    handshake.extend_from_slice(&[0, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    legacy.stream.write_all(&handshake).expect("send handshake");
    let mut reply = [0u8; 4];
    std::io::Read::read_exact(&mut legacy.stream, &mut reply).expect("handshake reply");
    assert_eq!(reply, [0, 0, 4, 4]);

    // Act: a wrong password over LOGON (5.4); no credentials in HELLO (4.4).
    let logon = modern.authenticate(version, basic("neo4j", "guess"));
    let none = vec![("scheme".into(), BoltValue::String("none".into()))];
    let hello = legacy.request(Request::Hello { extra: none });

    // Check: both get Unauthorized and the server hangs up on both.
    assert_unauthorized(logon);
    modern.expect_closed();
    assert_unauthorized(hello);
    legacy.expect_closed();
    server.shutdown();
}
