//! weft-client against a real server in this process: versions, batching, recovery and
//! explicit transactions.

mod support;

use weft_bolt::{BoltValue, Version};
use weft_client::{Client, ClientError, Credentials};

/// A server on an ephemeral port, and its address for the client.
fn start_server() -> (support::TestServer, String) {
    let server = support::TestServer::start();
    let address = format!("127.0.0.1:{}", server.port);
    (server, address)
}

#[test]
fn negotiates_bolt_5_and_authenticates() {
    // Set up and act: connect with basic credentials.
    let (_server, address) = start_server();
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
    let (_server, address) = start_server();
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
    let (_server, address) = start_server();
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

#[test]
fn explicit_transactions_commit_and_roll_back() {
    // Set up: a connection.
    let (_server, address) = start_server();
    let mut client = Client::connect(&address, &Credentials::default()).expect("connect");
    let count = |client: &mut Client| {
        client
            .run("MATCH (n:T) RETURN count(n)", &Vec::new())
            .expect("count")
            .rows
    };

    // Act: one transaction rolled back, one committed.
    client.begin().expect("begin");
    client.run("CREATE (:T)", &Vec::new()).expect("create");
    client.rollback().expect("rollback");
    let after_rollback = count(&mut client);
    client.begin().expect("begin");
    client.run("CREATE (:T)", &Vec::new()).expect("create");
    let bookmark = client.commit().expect("commit");

    // Check: only the committed node is there, and the commit gave a bookmark.
    assert_eq!(after_rollback, vec![vec![BoltValue::Integer(0)]]);
    assert_eq!(count(&mut client), vec![vec![BoltValue::Integer(1)]]);
    assert!(bookmark.is_some());
}

#[test]
fn a_failure_says_whether_it_answered_the_run() {
    // Set up: a connection.
    let (_server, address) = start_server();
    let mut client = Client::connect(&address, &Credentials::default()).expect("connect");

    // Act: a compile-time error and a runtime one.
    let compile = client.run("RETURN (", &Vec::new());
    let runtime = client.run("UNWIND [1, 0] AS x RETURN 1 / x", &Vec::new());

    // Check: the first failed the RUN, the second a PULL.
    assert!(
        matches!(compile, Err(ClientError::Query { at_run: true, .. })),
        "{compile:?}"
    );
    assert!(
        matches!(runtime, Err(ClientError::Query { at_run: false, .. })),
        "{runtime:?}"
    );
}

#[test]
fn a_server_that_stops_answering_fails_the_call_instead_of_hanging() {
    // Set up: a listener that accepts the handshake bytes but never replies.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    let silent = std::thread::spawn(move || listener.accept().map(|(socket, _)| socket));
    let options = weft_client::ConnectOptions {
        read_timeout: Some(std::time::Duration::from_millis(200)),
        ..Default::default()
    };

    // Act
    let result = Client::connect_with(&address, &options);

    // Check: an I/O error, not a hang.
    assert!(matches!(result, Err(ClientError::Io(_))), "{:?}", result.err());
    drop(silent.join());
}
