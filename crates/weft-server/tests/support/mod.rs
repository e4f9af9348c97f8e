//! Shared by the server's integration tests: a server on ephemeral ports and a minimal,
//! blocking Bolt client built from weft-bolt's own encoders, over TCP or any other
//! `Read + Write` stream (TLS).

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use tokio::sync::oneshot;
use weft_bolt::messages::Dict;
use weft_bolt::{BoltValue, ChunkDecoder, ChunkEncoder, Request, Response, Version};
use weft_query::Engine;
use weft_server::{serve, Listeners, ServerConfig};

/// Every socket read and the server's shutdown give up after this long.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A server on ephemeral ports, stopped when dropped.
pub struct TestServer {
    runtime: tokio::runtime::Runtime,
    pub port: u16,
    /// The HTTP endpoint's port, when the server has one.
    pub http_port: Option<u16>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestServer {
    pub fn start() -> TestServer {
        TestServer::start_with(ServerConfig::default(), false)
    }

    /// A server with `config`, and an HTTP endpoint too when `http`.
    pub fn start_with(config: ServerConfig, http: bool) -> TestServer {
        TestServer::start_engine(Engine::new(), config, http)
    }

    /// As [`TestServer::start_with`], serving `engine` (the test keeps a clone to look in).
    pub fn start_engine(engine: Engine, config: ServerConfig, http: bool) -> TestServer {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let bind = || {
            runtime
                .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                .expect("bind")
        };
        let bolt = bind();
        let http = http.then(bind);
        let port = bolt.local_addr().expect("local address").port();
        let http_port = http
            .as_ref()
            .map(|http| http.local_addr().expect("local address").port());
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let listeners = Listeners { bolt, http };
        let task = runtime.spawn(serve(listeners, engine, config, shutdown));
        TestServer {
            runtime,
            port,
            http_port,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// A plain TCP connection to the Bolt port.
    pub fn connect(&self) -> Client<TcpStream> {
        Client::new(self.tcp())
    }

    /// A TCP stream to the Bolt port with read and write timeouts set.
    pub fn tcp(&self) -> TcpStream {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
        stream.set_write_timeout(Some(TIMEOUT)).expect("write timeout");
        stream
    }

    /// Stops the server and checks that it shut down cleanly and in time.
    pub fn shutdown(mut self) {
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

pub struct Client<S> {
    pub stream: S,
    decoder: ChunkDecoder,
}

impl<S: Read + Write> Client<S> {
    pub fn new(stream: S) -> Client<S> {
        Client {
            stream,
            decoder: ChunkDecoder::default(),
        }
    }

    /// Proposes 5.4 and 4.4 and returns the version the server chose.
    pub fn handshake(&mut self) -> Version {
        let mut request = vec![0x60, 0x60, 0xB0, 0x17];
        request.extend_from_slice(&[0, 0, 4, 5, 0, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
        self.stream.write_all(&request).expect("send handshake");
        let mut reply = [0u8; 4];
        self.stream.read_exact(&mut reply).expect("handshake reply");
        Version::new(reply[3], reply[2])
    }

    pub fn send(&mut self, request: Request) {
        let mut out = Vec::new();
        ChunkEncoder::default().encode(&request.encode().expect("encode"), &mut out);
        self.send_bytes(&out);
    }

    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
        self.stream.flush().expect("flush");
    }

    pub fn recv(&mut self) -> Response {
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

    pub fn request(&mut self, request: Request) -> Response {
        self.send(request);
        self.recv()
    }

    /// HELLO, plus LOGON from 5.1 on, expecting SUCCESS for each.
    pub fn open(&mut self) -> Version {
        let version = self.handshake();
        assert_success(self.authenticate(version, basic("neo4j", "anything")));
        version
    }

    /// HELLO carrying `auth` before 5.1, else HELLO then LOGON with it: the response that
    /// decides authentication.
    pub fn authenticate(&mut self, version: Version, auth: Dict) -> Response {
        let mut extra: Dict = vec![("user_agent".into(), BoltValue::String("weft-test/0".into()))];
        if version < Version::new(5, 1) {
            extra.extend(auth);
            return self.request(Request::Hello { extra });
        }
        assert_success(self.request(Request::Hello { extra }));
        self.request(Request::Logon { auth })
    }

    /// RUN and PULL all: the records and the final SUCCESS metadata.
    pub fn query(&mut self, query: &str) -> (Vec<Vec<BoltValue>>, Dict) {
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
    pub fn expect_closed(&mut self) {
        let mut buffer = [0u8; 64];
        let read = self.stream.read(&mut buffer).expect("read within the timeout");
        assert_eq!(read, 0, "expected the server to close the connection");
    }
}

/// The auth map of the basic scheme.
pub fn basic(user: &str, password: &str) -> Dict {
    vec![
        ("scheme".into(), BoltValue::String("basic".into())),
        ("principal".into(), BoltValue::String(user.into())),
        ("credentials".into(), BoltValue::String(password.into())),
    ]
}

pub fn run(query: &str) -> Request {
    Request::Run {
        query: query.into(),
        parameters: Vec::new(),
        extra: Vec::new(),
    }
}

pub fn assert_success(response: Response) -> Dict {
    match response {
        Response::Success { metadata } => metadata,
        other => panic!("expected SUCCESS, got {other:?}"),
    }
}

pub fn get<'a>(metadata: &'a Dict, key: &str) -> Option<&'a BoltValue> {
    weft_bolt::packstream::dict_get(metadata, key)
}
