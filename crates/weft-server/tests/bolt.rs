//! The server over a real TCP socket, driven by a minimal Bolt client built from
//! weft-bolt's own encoders.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use tokio::sync::oneshot;
use weft_bolt::messages::Dict;
use weft_bolt::structs::TAG_NODE;
use weft_bolt::{BoltValue, ChunkDecoder, ChunkEncoder, Request, Response, Version};
use weft_query::Engine;
use weft_server::{serve, ServerConfig};

/// Every socket read and the server's shutdown give up after this long.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A server on an ephemeral port, stopped when dropped.
struct TestServer {
    runtime: tokio::runtime::Runtime,
    port: u16,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestServer {
    fn start() -> TestServer {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let port = listener.local_addr().expect("local address").port();
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = runtime.spawn(serve(listener, Engine::new(), ServerConfig::default(), shutdown));
        TestServer {
            runtime,
            port,
            stop: Some(stop),
            task: Some(task),
        }
    }

    fn connect(&self) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
        stream.set_write_timeout(Some(TIMEOUT)).expect("write timeout");
        Client {
            stream,
            decoder: ChunkDecoder::default(),
        }
    }

    /// Stops the server and checks that it shut down cleanly and in time.
    fn shutdown(mut self) {
        self.stop_and_join().expect("server stops cleanly");
    }

    fn stop_and_join(&mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let Some(task) = self.task.take() else { return Ok(()) };
        let joined = self.runtime.block_on(async {
            tokio::select! {
                joined = task => Some(joined),
                _ = tokio::time::sleep(TIMEOUT) => None,
            }
        });
        joined.ok_or_else(|| anyhow::anyhow!("server did not stop within {TIMEOUT:?}"))??
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}

struct Client {
    stream: TcpStream,
    decoder: ChunkDecoder,
}

impl Client {
    /// Proposes 5.4 and 4.4 and returns the version the server chose.
    fn handshake(&mut self) -> Version {
        let mut request = vec![0x60, 0x60, 0xB0, 0x17];
        request.extend_from_slice(&[0, 0, 4, 5, 0, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
        self.stream.write_all(&request).expect("send handshake");
        let mut reply = [0u8; 4];
        self.stream.read_exact(&mut reply).expect("handshake reply");
        Version::new(reply[3], reply[2])
    }

    fn send(&mut self, request: Request) {
        let mut out = Vec::new();
        ChunkEncoder::default().encode(&request.encode().expect("encode"), &mut out);
        self.stream.write_all(&out).expect("send");
    }

    fn recv(&mut self) -> Response {
        let mut buffer = [0u8; 4096];
        loop {
            if let Some(message) = self.decoder.next_message() {
                return Response::decode(&message).expect("decode response");
            }
            let read = self.stream.read(&mut buffer).expect("read within the timeout");
            assert!(read > 0, "server closed the connection while a response was expected");
            self.decoder.feed(&buffer[..read]).expect("framing");
        }
    }

    fn request(&mut self, request: Request) -> Response {
        self.send(request);
        self.recv()
    }

    /// HELLO, plus LOGON from 5.1 on, expecting SUCCESS for each.
    fn open(&mut self) -> Version {
        let version = self.handshake();
        let auth: Dict = vec![
            ("scheme".into(), BoltValue::String("basic".into())),
            ("principal".into(), BoltValue::String("neo4j".into())),
            ("credentials".into(), BoltValue::String("anything".into())),
        ];
        let mut extra: Dict = vec![("user_agent".into(), BoltValue::String("weft-test/0".into()))];
        if version < Version::new(5, 1) {
            extra.extend(auth.clone());
        }
        assert_success(self.request(Request::Hello { extra }));
        if version >= Version::new(5, 1) {
            assert_success(self.request(Request::Logon { auth }));
        }
        version
    }

    /// RUN and PULL all: the records and the final SUCCESS metadata.
    fn query(&mut self, query: &str) -> (Vec<Vec<BoltValue>>, Dict) {
        assert_success(self.request(run(query)));
        self.send(Request::Pull { n: -1, qid: -1 });
        let mut records = Vec::new();
        loop {
            match self.recv() {
                Response::Record { fields } => records.push(fields),
                Response::Success { metadata } => return (records, metadata),
                other => panic!("expected RECORD or SUCCESS, got {other:?}"),
            }
        }
    }

    /// Reads until the server closes the connection.
    fn expect_closed(&mut self) {
        let mut buffer = [0u8; 64];
        let read = self.stream.read(&mut buffer).expect("read within the timeout");
        assert_eq!(read, 0, "expected the server to close the connection");
    }
}

fn run(query: &str) -> Request {
    Request::Run {
        query: query.into(),
        parameters: Vec::new(),
        extra: Vec::new(),
    }
}

fn assert_success(response: Response) -> Dict {
    match response {
        Response::Success { metadata } => metadata,
        other => panic!("expected SUCCESS, got {other:?}"),
    }
}

fn get<'a>(metadata: &'a Dict, key: &str) -> Option<&'a BoltValue> {
    weft_bolt::packstream::dict_get(metadata, key)
}

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
