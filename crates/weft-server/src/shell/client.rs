//! A small blocking Bolt client for the shell, over one `std::net::TcpStream`.
//!
//! Owns: the client side of a connection — the version proposal, HELLO (plus LOGON from
//! Bolt 5.1), RUN + PULL in batches of [`PULL_BATCH`] records, and RESET after a FAILURE
//! so the next query starts clean. Promises to the shell: [`Client::run`] returns every
//! record of a query or the server's failure as [`ClientError::Query`], which leaves the
//! connection usable; any other error means the connection is lost.
//!
//! Needs from below: weft-bolt's handshake constants, chunking and message codecs; all
//! framing and PackStream work is done there, this module only moves bytes.

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

/// How long connecting may take before the shell gives up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the client sends as `user_agent`.
const USER_AGENT: &str = concat!("weft-shell/", env!("CARGO_PKG_VERSION"));

/// Why a query or the connection failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server rejected the query; the connection has been reset and can be reused.
    #[error("{code}: {message}")]
    Query { code: String, message: String },
    #[error("cannot reach the server: {0}")]
    Io(#[from] std::io::Error),
    #[error("the server speaks none of Bolt 5.0-5.8 or 4.4")]
    NoCommonVersion,
    #[error("the server broke the Bolt protocol: {0}")]
    Protocol(String),
    #[error("the server closed the connection")]
    Closed,
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
}

impl Client {
    /// Connects to `address`, negotiates a version and authenticates.
    pub fn connect(address: &str, credentials: &Credentials) -> Result<Client, ClientError> {
        let stream = connect_stream(address)?;
        let mut client = Client {
            stream,
            decoder: ChunkDecoder::default(),
            version: Version::V4_4,
        };
        client.version = client.handshake()?;
        client.authenticate(credentials)?;
        Ok(client)
    }

    /// The negotiated protocol version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// How structures are laid out on this connection.
    pub fn dialect(&self) -> Dialect {
        Dialect::for_version(self.version)
    }

    /// Runs `query` in auto-commit mode and pulls all its records.
    pub fn run(&mut self, query: &str, parameters: &Dict) -> Result<QueryResult, ClientError> {
        let run = Request::Run {
            query: query.to_string(),
            parameters: parameters.clone(),
            extra: Vec::new(),
        };
        self.send(&[run, pull()])?;
        let header = self.recv()?;
        let columns = match header {
            Response::Success { metadata } => fields(&metadata),
            other => return Err(self.recover(other, 1)),
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
                other => return Err(self.recover(other, 0)),
            }
        }
    }

    /// Says GOODBYE; errors are irrelevant since the connection is closing anyway.
    pub fn close(mut self) {
        let _ = self.send(&[Request::Goodbye]);
    }

    /// Sends the version proposal and reads the server's choice.
    fn handshake(&mut self) -> Result<Version, ClientError> {
        let mut request = MAGIC.to_vec();
        PROPOSALS.iter().for_each(|p| request.extend_from_slice(p));
        self.stream.write_all(&request)?;
        let mut reply = [0u8; 4];
        self.stream.read_exact(&mut reply)?;
        let version = Version::new(reply[3], reply[2]);
        if !PROPOSALS.iter().any(|p| covers(*p, version)) {
            return Err(ClientError::NoCommonVersion);
        }
        Ok(version)
    }

    /// HELLO, carrying the credentials before 5.1 and followed by LOGON from 5.1.
    fn authenticate(&mut self, credentials: &Credentials) -> Result<(), ClientError> {
        let mut extra: Dict = vec![("user_agent".into(), BoltValue::String(USER_AGENT.into()))];
        let logon = self.version >= LOGON_SINCE;
        if !logon {
            extra.extend(credentials.auth_dict());
        }
        self.expect_success(Request::Hello { extra })?;
        if logon {
            self.expect_success(Request::Logon {
                auth: credentials.auth_dict(),
            })?;
        }
        Ok(())
    }

    fn expect_success(&mut self, request: Request) -> Result<Dict, ClientError> {
        self.send(&[request])?;
        match self.recv()? {
            Response::Success { metadata } => Ok(metadata),
            Response::Failure { code, message } => Err(ClientError::Query { code, message }),
            other => Err(unexpected(&other)),
        }
    }

    /// After a non-SUCCESS `response`, drains `pending` further responses, sends RESET and
    /// waits for its SUCCESS; returns the error to report.
    fn recover(&mut self, response: Response, pending: usize) -> ClientError {
        let error = match response {
            Response::Failure { code, message } => ClientError::Query { code, message },
            other => return unexpected(&other),
        };
        let reset = (0..pending)
            .try_for_each(|_| self.recv().map(drop))
            .and_then(|()| self.expect_success(Request::Reset).map(drop));
        match reset {
            Ok(()) => error,
            Err(lost) => lost,
        }
    }

    fn send(&mut self, requests: &[Request]) -> Result<(), ClientError> {
        let mut out = Vec::new();
        for request in requests {
            let bytes = request.encode().map_err(weft_bolt::Error::from)?;
            ChunkEncoder::default().encode(&bytes, &mut out);
        }
        self.stream.write_all(&out)?;
        Ok(())
    }

    fn recv(&mut self) -> Result<Response, ClientError> {
        let mut buffer = [0u8; 8192];
        loop {
            if let Some(message) = self.decoder.next_message() {
                return Response::decode(&message).map_err(|e| weft_bolt::Error::from(e).into());
            }
            let read = self.stream.read(&mut buffer)?;
            if read == 0 {
                return Err(ClientError::Closed);
            }
            self.decoder.feed(&buffer[..read]).map_err(weft_bolt::Error::from)?;
        }
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

#[cfg(test)]
mod tests;
