//! A small blocking Bolt client over one `std::net::TcpStream`: what `weft shell`, `weft
//! bench` and the TCK over Bolt talk through, to Weft or to any other Bolt server.
//!
//! Owns: the client side of a connection — the version proposal, HELLO (plus LOGON from
//! Bolt 5.1), RUN + PULL pipelined in one write with further PULLs in batches of
//! [`PULL_BATCH`] records, explicit transactions (BEGIN, COMMIT, ROLLBACK), the database
//! to run in, and RESET after a FAILURE so the next query starts clean. Promises:
//! [`Client::run`] returns every record of a query or the server's failure as
//! [`ClientError::Query`], which leaves the connection usable (an explicit transaction is
//! gone after it, as the server ends it); any other error means the connection is lost.
//!
//! Needs from below: weft-bolt's handshake constants, chunking and message codecs; all
//! framing and PackStream work is done there, this crate only moves bytes.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use weft_bolt::handshake::{covers, MAGIC};
use weft_bolt::messages::Dict;
use weft_bolt::packstream::dict_get;
use weft_bolt::{BoltValue, ChunkDecoder, ChunkEncoder, Dialect, Request, Response, Version};

/// Records asked for by each PULL.
pub const PULL_BATCH: i64 = 1000;

/// The versions proposed, best first: 5.8 down to 5.0, then 4.4.
const PROPOSALS: [[u8; 4]; 4] = [[0, 8, 8, 5], [0, 0, 4, 4], [0; 4], [0; 4]];

/// From this version HELLO carries no credentials; LOGON does.
const LOGON_SINCE: Version = Version::new(5, 1);

/// How long connecting may take before the client gives up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the client sends as `user_agent` unless told otherwise.
pub const USER_AGENT: &str = concat!("weft-client/", env!("CARGO_PKG_VERSION"));

/// Why a query or the connection failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server rejected the query; the connection has been reset and can be reused.
    /// `at_run`: the failure answered the RUN (the statement was refused before any row
    /// was asked for, as compile-time errors are), not a later PULL.
    #[error("{code}: {message}")]
    Query {
        code: String,
        message: String,
        at_run: bool,
    },
    #[error("cannot reach the server: {0}")]
    Io(#[from] std::io::Error),
    #[error("the server speaks none of Bolt 5.0-5.8 or 4.4")]
    NoCommonVersion,
    #[error("the server broke the Bolt protocol: {0}")]
    Protocol(String),
    #[error("the server closed the connection")]
    Closed,
}

impl ClientError {
    /// True unless the server merely refused the query: the connection cannot be used
    /// any more.
    pub fn connection_lost(&self) -> bool {
        !matches!(self, ClientError::Query { .. })
    }
}

impl From<weft_bolt::Error> for ClientError {
    fn from(error: weft_bolt::Error) -> Self {
        ClientError::Protocol(error.to_string())
    }
}

/// Credentials for HELLO or LOGON; no user means scheme `none`.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    pub user: Option<String>,
    pub password: Option<String>,
}

impl Credentials {
    fn auth_dict(&self) -> Dict {
        let text = |s: &str| BoltValue::String(s.to_string());
        match &self.user {
            None => vec![("scheme".into(), text("none"))],
            Some(user) => vec![
                ("scheme".into(), text("basic")),
                ("principal".into(), text(user)),
                ("credentials".into(), text(self.password.as_deref().unwrap_or(""))),
            ],
        }
    }
}

/// How to connect: who, which database, and how long to wait for the server.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    pub credentials: Credentials,
    /// Sent as `db` with each RUN and BEGIN (Bolt 4+); `None`: the server's default.
    pub database: Option<String>,
    /// The `user_agent` of HELLO.
    pub user_agent: String,
    /// Longest wait for any answer once connected; `None` waits forever. A server that
    /// stops answering then fails the call with an I/O error instead of hanging it.
    pub read_timeout: Option<Duration>,
    /// Propose this version only (a relay that must speak its client's version);
    /// `None` proposes 5.0-5.8 and 4.4.
    pub version: Option<Version>,
    /// Marks every RUN outside a transaction and every BEGIN read-only (mode `r`), as
    /// drivers' read sessions do: routers and proxies may send them to any member.
    pub read_only: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            credentials: Credentials::default(),
            database: None,
            user_agent: USER_AGENT.to_string(),
            read_timeout: None,
            version: None,
            read_only: false,
        }
    }
}

/// The outcome of one query.
#[derive(Clone, Debug, Default)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<BoltValue>>,
    /// The final SUCCESS metadata (`stats`, `type`, ...).
    pub summary: Dict,
}

/// An open, authenticated Bolt connection.
pub struct Client {
    stream: TcpStream,
    decoder: ChunkDecoder,
    version: Version,
    /// The `extra` of every RUN outside a transaction and of BEGIN.
    run_extra: Dict,
    /// True between a BEGIN and its COMMIT or ROLLBACK.
    in_transaction: bool,
    /// Bytes of the requests being sent, reused between calls.
    out: Vec<u8>,
    /// The `server` the HELLO's SUCCESS named, such as `Neo4j/5.26.0`.
    server_agent: Option<String>,
}

impl Client {
    /// Connects to `address`, negotiates a version and authenticates.
    pub fn connect(address: &str, credentials: &Credentials) -> Result<Client, ClientError> {
        let options = ConnectOptions {
            credentials: credentials.clone(),
            ..ConnectOptions::default()
        };
        Client::connect_with(address, &options)
    }

    /// Connects to `address` with every option spelled out.
    pub fn connect_with(address: &str, options: &ConnectOptions) -> Result<Client, ClientError> {
        let stream = connect_stream(address)?;
        stream.set_read_timeout(options.read_timeout)?;
        let mut run_extra = match &options.database {
            Some(db) => vec![("db".to_string(), BoltValue::String(db.clone()))],
            None => Vec::new(),
        };
        if options.read_only {
            run_extra.push(("mode".to_string(), BoltValue::String("r".into())));
        }
        let mut client = Client {
            stream,
            decoder: ChunkDecoder::default(),
            version: Version::V4_4,
            run_extra,
            in_transaction: false,
            out: Vec::new(),
            server_agent: None,
        };
        client.version = client.handshake(options.version)?;
        client.authenticate(&options.credentials, &options.user_agent)?;
        Ok(client)
    }

    /// The negotiated protocol version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// What the server calls itself in its answer to HELLO.
    pub fn server_agent(&self) -> Option<&str> {
        self.server_agent.as_deref()
    }

    /// How structures are laid out on this connection.
    pub fn dialect(&self) -> Dialect {
        Dialect::for_version(self.version)
    }

    /// Runs `query` in auto-commit mode and pulls all its records.
    pub fn run(&mut self, query: &str, parameters: &Dict) -> Result<QueryResult, ClientError> {
        self.run_with(query, parameters, &Vec::new())
    }

    /// As [`Client::run`], with `extra` added to the RUN's own outside a transaction
    /// (`mode: "r"` marks one statement read-only).
    pub fn run_with(&mut self, query: &str, parameters: &Dict, extra: &Dict) -> Result<QueryResult, ClientError> {
        let run = Request::Run {
            query: query.to_string(),
            parameters: parameters.clone(),
            // Inside a transaction the database was named by BEGIN.
            extra: if self.in_transaction {
                Vec::new()
            } else {
                let mut own = self.run_extra.clone();
                for (key, value) in extra {
                    if !own.iter().any(|(known, _)| known == key) {
                        own.push((key.clone(), value.clone()));
                    }
                }
                own
            },
        };
        self.send(&[run, pull()])?;
        let header = self.recv()?;
        let columns = match header {
            Response::Success { metadata } => fields(&metadata),
            other => return Err(self.recover(other, 1, true)),
        };
        let mut result = QueryResult {
            columns,
            ..QueryResult::default()
        };
        loop {
            match self.recv()? {
                Response::Record { fields } => result.rows.push(fields),
                Response::Success { metadata } if has_more(&metadata) => self.send(&[pull()])?,
                Response::Success { metadata } => {
                    result.summary = metadata;
                    return Ok(result);
                }
                other => return Err(self.recover(other, 0, false)),
            }
        }
    }

    /// Starts an explicit transaction; queries run in it until [`Client::commit`] or
    /// [`Client::rollback`], or until one fails (the server then ends it).
    pub fn begin(&mut self) -> Result<(), ClientError> {
        self.begin_with(self.run_extra.clone())
    }

    /// Starts an explicit transaction with BEGIN's `extra` spelled out (mode, bookmarks,
    /// tx_metadata, tx_timeout, db).
    pub fn begin_with(&mut self, extra: Dict) -> Result<(), ClientError> {
        let begun = self.expect_success(Request::Begin { extra });
        self.in_transaction = begun.is_ok();
        begun.map(drop)
    }

    /// Commits the explicit transaction; returns the bookmark the server gave, if any.
    pub fn commit(&mut self) -> Result<Option<String>, ClientError> {
        let metadata = self.commit_summary()?;
        Ok(dict_get(&metadata, "bookmark")
            .and_then(BoltValue::as_str)
            .map(str::to_owned))
    }

    /// Commits the explicit transaction; returns the whole metadata of its SUCCESS.
    pub fn commit_summary(&mut self) -> Result<Dict, ClientError> {
        self.in_transaction = false;
        self.expect_success(Request::Commit)
    }

    /// Rolls the explicit transaction back.
    pub fn rollback(&mut self) -> Result<(), ClientError> {
        self.in_transaction = false;
        self.expect_success(Request::Rollback).map(drop)
    }

    /// Says GOODBYE; errors are irrelevant since the connection is closing anyway.
    pub fn close(mut self) {
        let _ = self.send(&[Request::Goodbye]);
    }

    /// Sends the version proposal (`only` that version, if given) and reads the
    /// server's choice.
    fn handshake(&mut self, only: Option<Version>) -> Result<Version, ClientError> {
        let proposals = match only {
            Some(version) => [[0, 0, version.minor, version.major], [0; 4], [0; 4], [0; 4]],
            None => PROPOSALS,
        };
        let mut request = MAGIC.to_vec();
        proposals.iter().for_each(|p| request.extend_from_slice(p));
        self.stream.write_all(&request)?;
        let mut reply = [0u8; 4];
        self.stream.read_exact(&mut reply)?;
        let version = Version::new(reply[3], reply[2]);
        if !proposals.iter().any(|p| covers(*p, version)) {
            return Err(ClientError::NoCommonVersion);
        }
        Ok(version)
    }

    /// HELLO, carrying the credentials before 5.1 and followed by LOGON from 5.1.
    fn authenticate(&mut self, credentials: &Credentials, user_agent: &str) -> Result<(), ClientError> {
        let mut extra: Dict = vec![("user_agent".into(), BoltValue::String(user_agent.into()))];
        let logon = self.version >= LOGON_SINCE;
        if !logon {
            extra.extend(credentials.auth_dict());
        }
        let hello = self.expect_success(Request::Hello { extra })?;
        self.server_agent = dict_get(&hello, "server")
            .and_then(BoltValue::as_str)
            .map(str::to_owned);
        if logon {
            self.expect_success(Request::Logon {
                auth: credentials.auth_dict(),
            })?;
        }
        Ok(())
    }

    /// Sends `request` and expects SUCCESS; after a FAILURE the connection is RESET.
    fn expect_success(&mut self, request: Request) -> Result<Dict, ClientError> {
        self.send(&[request])?;
        match self.recv()? {
            Response::Success { metadata } => Ok(metadata),
            other => Err(self.recover(other, 0, true)),
        }
    }

    /// After a non-SUCCESS `response`, drains `pending` further responses, sends RESET and
    /// waits for its SUCCESS; returns the error to report. The server has ended any
    /// explicit transaction by then.
    fn recover(&mut self, response: Response, pending: usize, at_run: bool) -> ClientError {
        let error = match response {
            Response::Failure { code, message } => ClientError::Query { code, message, at_run },
            other => return unexpected(&other),
        };
        self.in_transaction = false;
        let reset = (0..pending)
            .try_for_each(|_| self.recv().map(drop))
            .and_then(|()| self.send(&[Request::Reset]))
            .and_then(|()| match self.recv()? {
                Response::Success { .. } => Ok(()),
                other => Err(unexpected(&other)),
            });
        match reset {
            Ok(()) => error,
            Err(lost) => lost,
        }
    }

    /// Writes `requests` with one system call, so a pipelined RUN + PULL is one packet.
    fn send(&mut self, requests: &[Request]) -> Result<(), ClientError> {
        self.out.clear();
        for request in requests {
            let bytes = request.encode().map_err(weft_bolt::Error::from)?;
            ChunkEncoder::default().encode(&bytes, &mut self.out);
        }
        self.stream.write_all(&self.out)?;
        Ok(())
    }

    fn recv(&mut self) -> Result<Response, ClientError> {
        let mut buffer = [0u8; 8192];
        loop {
            if let Some(message) = self.decoder.next_message() {
                return Response::decode(&message).map_err(|e| weft_bolt::Error::from(e).into());
            }
            let read = match self.stream.read(&mut buffer) {
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                other => other?,
            };
            if read == 0 {
                return Err(ClientError::Closed);
            }
            self.decoder.feed(&buffer[..read]).map_err(weft_bolt::Error::from)?;
        }
    }
}

/// The Bolt port used when an address names none.
pub const DEFAULT_PORT: u16 = 7687;

/// `bolt://host:port` or `host:port` or `host` to `host:port`.
pub fn normalize_address(address: &str) -> String {
    let bare = ["bolt://", "neo4j://"]
        .iter()
        .find_map(|scheme| address.strip_prefix(scheme))
        .unwrap_or(address)
        .trim_end_matches('/');
    let has_port = bare
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.parse::<u16>().is_ok());
    if has_port {
        bare.to_string()
    } else {
        format!("{bare}:{DEFAULT_PORT}")
    }
}

/// Resolves `address` and connects to the first address that answers.
fn connect_stream(address: &str) -> Result<TcpStream, ClientError> {
    use std::net::ToSocketAddrs;
    let mut last = None;
    for candidate in address.to_socket_addrs()? {
        match TcpStream::connect_timeout(&candidate, CONNECT_TIMEOUT) {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                return Ok(stream);
            }
            Err(error) => last = Some(error),
        }
    }
    let unresolved = || std::io::Error::new(std::io::ErrorKind::NotFound, format!("{address} resolves to nothing"));
    Err(last.unwrap_or_else(unresolved).into())
}

fn pull() -> Request {
    Request::Pull { n: PULL_BATCH, qid: -1 }
}

/// The column names from a RUN's SUCCESS.
fn fields(metadata: &Dict) -> Vec<String> {
    let list = dict_get(metadata, "fields").and_then(BoltValue::as_list).unwrap_or(&[]);
    list.iter().filter_map(BoltValue::as_str).map(str::to_owned).collect()
}

fn has_more(metadata: &Dict) -> bool {
    dict_get(metadata, "has_more") == Some(&BoltValue::Boolean(true))
}

fn unexpected(response: &Response) -> ClientError {
    let name = match response {
        Response::Success { .. } => "SUCCESS",
        Response::Record { .. } => "RECORD",
        Response::Ignored => "IGNORED",
        Response::Failure { .. } => "FAILURE",
    };
    ClientError::Protocol(format!("unexpected {name}"))
}
