//! A read-only engine over Bolt: the server keeps a clone of its engine and flips the
//! switch at run time; clients see writes refused with `NotALeader`, reads answered, and
//! writes accepted again once the switch is off.

mod support;

use weft_bolt::{BoltValue, Request, Response};
use weft_client::{Client, ClientError, Credentials};
use weft_query::Engine;
use weft_server::ServerConfig;

#[test]
fn writes_over_bolt_are_refused_while_the_engine_is_read_only() {
    // Set up: a server over an engine the test keeps a clone of, with one node.
    let engine = Engine::new();
    let server = support::TestServer::start_engine(engine.clone(), ServerConfig::default(), false);
    let address = format!("127.0.0.1:{}", server.port);
    let mut client = Client::connect(&address, &Credentials::default()).expect("connect");
    client.run("CREATE (:P {id: 1})", &Vec::new()).expect("write");

    // Act: read-only, then a write in autocommit and in an explicit transaction.
    engine.set_read_only(Some("replica".into()));
    let autocommit = client.run("CREATE (:P {id: 2})", &Vec::new());
    client.begin().expect("begin");
    let explicit = client.run("MATCH (p:P) SET p.id = 3", &Vec::new());
    let _ = client.rollback();
    let read = client.run("MATCH (p:P) RETURN p.id", &Vec::new()).expect("read");

    // Check: both refused with the redirect code, nothing changed, reads fine.
    for refused in [autocommit.map(drop), explicit.map(drop)] {
        match refused {
            Err(ClientError::Query { code, .. }) => assert_eq!(code, "Neo.ClientError.Cluster.NotALeader"),
            other => panic!("expected NotALeader, got {other:?}"),
        }
    }
    assert_eq!(read.rows.len(), 1);

    // Act and check: off again, the write goes through.
    engine.set_read_only(None);
    client.run("CREATE (:P {id: 2})", &Vec::new()).expect("write again");
    let count = client.run("MATCH (p:P) RETURN p", &Vec::new()).expect("read");
    assert_eq!(count.rows.len(), 2);
}

#[test]
fn a_transaction_begun_in_read_mode_refuses_writes_with_access_mode() {
    // Set up: a server and a connection, as a driver's read transaction opens it.
    let server = support::TestServer::start();
    let mut client = server.connect();
    client.open();
    let read_mode = vec![("mode".to_string(), BoltValue::String("r".into()))];
    support::assert_success(client.request(Request::Begin { extra: read_mode }));

    // Act: a read, then a write in the same transaction.
    let (rows, _) = client.query("RETURN 1 AS one");
    let refused = client.request(support::run("CREATE (:P)"));

    // Check: the read is answered, the write refused by name; nothing was written.
    assert_eq!(rows, vec![vec![BoltValue::Integer(1)]]);
    match refused {
        Response::Failure { code, .. } => assert_eq!(code, "Neo.ClientError.Statement.AccessMode"),
        other => panic!("expected AccessMode, got {other:?}"),
    }
    client.request(Request::Reset);
    let (rows, _) = client.query("MATCH (p:P) RETURN count(p) AS c");
    assert_eq!(rows, vec![vec![BoltValue::Integer(0)]]);

    // Act and check: a schema change in a read transaction is refused the same way.
    let read_mode = vec![("mode".to_string(), BoltValue::String("r".into()))];
    support::assert_success(client.request(Request::Begin { extra: read_mode }));
    match client.request(support::run("CREATE INDEX ON :P(id)")) {
        Response::Failure { code, .. } => assert_eq!(code, "Neo.ClientError.Statement.AccessMode"),
        other => panic!("expected AccessMode, got {other:?}"),
    }
    client.request(Request::Reset);
    let (rows, _) = client.query("SHOW INDEX INFO");
    assert!(rows.is_empty(), "{rows:?}");
    server.shutdown();
}
