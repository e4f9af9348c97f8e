//! The client against a real server in this process: versions, batching and recovery.

use tokio::sync::oneshot;
use weft_bolt::{BoltValue, Version};
use weft_query::Engine;
use weft_server::{serve, ServerConfig};

use super::{Client, ClientError, Credentials};

/// Starts a server on an ephemeral port; it stops when the returned sender drops.
fn start_server() -> (tokio::runtime::Runtime, String, oneshot::Sender<()>) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let address = listener.local_addr().expect("local address").to_string();
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    runtime.spawn(serve(listener, Engine::new(), ServerConfig::default(), shutdown));
    (runtime, address, stop)
}

#[test]
fn negotiates_bolt_5_and_authenticates() {
    // Set up and act: connect with basic credentials.
    let (_runtime, address, _stop) = start_server();
    let credentials = Credentials {
        user: Some("neo4j".into()),
        password: Some("secret".into()),
    };
    let client = Client::connect(&address, &credentials).expect("connect");

    // Check: the highest version both speak.
    assert_eq!(client.version(), Version::V5_8);
    client.close();
}

#[test]
fn a_failure_resets_the_connection_for_the_next_query() {
    // Set up: a connection.
    let (_runtime, address, _stop) = start_server();
    let mut client = Client::connect(&address, &Credentials::default()).expect("connect");

    // Act: a syntax error, then a good query on the same connection.
    let failure = client.run("RETURN (", &Vec::new());
    let result = client.run("RETURN $x AS x", &vec![("x".into(), BoltValue::Integer(7))]);

    // Check: the failure carries its code; the next query works.
    match failure {
        Err(ClientError::Query { code, .. }) => assert_eq!(code, "Neo.ClientError.Statement.SyntaxError"),
        other => panic!("expected a query failure, got {other:?}"),
    }
    let result = result.expect("the query after the failure runs");
    assert_eq!(result.columns, vec!["x"]);
    assert_eq!(result.rows, vec![vec![BoltValue::Integer(7)]]);
}

#[test]
fn pulls_every_batch_of_a_large_result() {
    // Set up: a connection.
    let (_runtime, address, _stop) = start_server();
    let mut client = Client::connect(&address, &Credentials::default()).expect("connect");

    // Act: more rows than two PULL batches.
    let result = client
        .run("UNWIND range(1, 2345) AS i RETURN i", &Vec::new())
        .expect("run");

    // Check: all rows, in order, and the final summary.
    assert_eq!(result.rows.len(), 2345);
    assert_eq!(result.rows.last(), Some(&vec![BoltValue::Integer(2345)]));
    assert!(weft_bolt::packstream::dict_get(&result.summary, "type").is_some());
}
