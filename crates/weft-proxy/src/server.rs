//! The proxy's listener and client connections: one thread per client connection, since
//! every member request is a blocking weft-client call.
//!
//! Owns: accepting clients up to `--max-connections`, the Bolt handshake, reading and
//! framing requests, answering them through weft-bolt's [`Session`] with a
//! [`ProxyBackend`], and writing all answers to the requests that arrived together in
//! one write. Also the [`Proxy`] handle that starts all of it and stops it.
//!
//! Promises: malformed input gets a `Request.Invalid` FAILURE and closes that connection
//! only; nothing a client sends can panic the proxy; a client that sends no handshake
//! within [`HANDSHAKE_WAIT`] is dropped; once stopped, connections close between
//! requests. Dropping a connection drops its member connections, which rolls back any
//! transaction open on them.

use std::io::{Read as _, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use weft_bolt::handshake::HANDSHAKE_LEN;
use weft_bolt::session::REQUEST_INVALID;
use weft_bolt::{negotiate, ChunkDecoder, ChunkEncoder, Request, Response, Session};

use crate::args::ProxyConfig;
use crate::backend::ProxyBackend;
use crate::cluster::Cluster;
use crate::discovery;
use crate::error::ProxyError;

/// Bytes read from a client at a time.
const READ_BUFFER: usize = 64 * 1024;

/// How often a connection waiting for its client looks whether the proxy stops.
const POLL: Duration = Duration::from_secs(1);

/// Longest a new client may take to send the Bolt handshake.
const HANDSHAKE_WAIT: Duration = Duration::from_secs(10);

/// A running proxy: its listener, discovery and connection threads.
pub struct Proxy {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

/// What the accept loop and every connection share.
struct Shared {
    cluster: Arc<Cluster>,
    stopping: AtomicBool,
    open: AtomicUsize,
    max_connections: usize,
    next_id: AtomicU64,
}

impl Proxy {
    /// Binds `config.listen` (port 0: any free port), starts discovery and accepts clients.
    pub fn start(config: ProxyConfig) -> Result<Proxy, ProxyError> {
        let listener = TcpListener::bind(config.listen).map_err(|source| ProxyError::Bind {
            address: config.listen,
            source,
        })?;
        let local_addr = listener.local_addr()?;
        let cluster = Arc::new(Cluster::new(&config));
        let shared = Arc::new(Shared {
            cluster: cluster.clone(),
            stopping: AtomicBool::new(false),
            open: AtomicUsize::new(0),
            max_connections: config.max_connections,
            next_id: AtomicU64::new(1),
        });
        let mut proxy = Proxy {
            local_addr,
            shared: shared.clone(),
            threads: Vec::new(),
        };
        proxy.threads.push(discovery::spawn(cluster)?);
        let accept = std::thread::Builder::new()
            .name("weft-proxy-accept".into())
            .spawn(move || accept_loop(&listener, &shared))?;
        proxy.threads.push(accept);
        Ok(proxy)
    }

    /// The address clients connect to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Blocks until the proxy stops (for `weft proxy`: until the process ends).
    pub fn wait(mut self) {
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }

    /// Stops accepting, ends discovery and closes connections between requests.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.shared.cluster.stop();
        // Wakes the accept loop, which then sees `stopping`.
        let mut wake = self.local_addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(match wake {
                SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
            });
        }
        let _ = TcpStream::connect_timeout(&wake, POLL);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Counts one open client connection until dropped.
struct Open(Arc<Shared>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let stream = match stream {
            Ok(stream) => stream,
            Err(error) => {
                // Out of file descriptors, a connection reset before accept: go on.
                tracing::warn!(%error, "cannot accept a client connection");
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        if shared.open.fetch_add(1, Ordering::AcqRel) >= shared.max_connections {
            shared.open.fetch_sub(1, Ordering::AcqRel);
            let max = shared.max_connections;
            tracing::warn!(max, "turning a client away: --max-connections connections are open");
            continue;
        }
        let open = Open(shared.clone());
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let spawned = std::thread::Builder::new()
            .name(format!("weft-proxy-{id}"))
            .spawn(move || {
                let shared = open.0.clone();
                if let Err(error) = serve(stream, &shared, id) {
                    tracing::debug!(connection = id, %error, "client connection ended");
                }
                drop(open);
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "cannot start a thread for a client connection");
        }
    }
}

/// Why a client connection ended early.
#[derive(Debug, thiserror::Error)]
enum ServeError {
    #[error("the client connection failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the client does not speak Bolt: {0}")]
    Bolt(#[from] weft_bolt::Error),
    #[error("the client proposed no Bolt version the proxy speaks")]
    NoVersion,
}

/// Serves one client until it says GOODBYE, hangs up, misbehaves or the proxy stops.
fn serve(mut stream: TcpStream, shared: &Shared, id: u64) -> Result<(), ServeError> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(POLL))?;
    let mut handshake = [0u8; HANDSHAKE_LEN];
    if !read_handshake(&mut stream, &mut handshake, shared)? {
        return Ok(());
    }
    let negotiated = negotiate(&handshake).map_err(weft_bolt::Error::from)?;
    stream.write_all(&negotiated.reply)?;
    let version = negotiated.version.ok_or(ServeError::NoVersion)?;
    tracing::debug!(connection = id, %version, "Bolt version negotiated");
    let local = stream.local_addr()?.to_string();
    let mut session = Session::new(version).with_connection_id(format!("proxy-{id}"));
    let mut backend = ProxyBackend::new(shared.cluster.clone(), version, local);
    let mut decoder = ChunkDecoder::default();
    let mut buffer = vec![0u8; READ_BUFFER];
    let mut out = Vec::new();
    loop {
        let read = match read_some(&mut stream, &mut buffer, shared)? {
            Read::Bytes(read) => read,
            Read::Idle => continue,
            Read::Closed => return Ok(()),
        };
        if let Err(error) = decoder.feed(&buffer[..read]) {
            return reject(&mut stream, &weft_bolt::Error::from(error));
        }
        out.clear();
        while let Some(message) = decoder.next_message() {
            let request = match Request::decode(&message) {
                Ok(request) => request,
                Err(error) => {
                    stream.write_all(&out)?;
                    return reject(&mut stream, &weft_bolt::Error::from(error));
                }
            };
            for response in session.handle(request, &mut backend) {
                let bytes = response.encode().map_err(weft_bolt::Error::from)?;
                ChunkEncoder::default().encode(&bytes, &mut out);
            }
            if session.is_defunct() {
                stream.write_all(&out)?;
                return Ok(());
            }
        }
        if !out.is_empty() {
            stream.write_all(&out)?;
        }
    }
}

/// Reads the 20 handshake bytes; false if the client left, took too long, or the proxy
/// stops first.
fn read_handshake(stream: &mut TcpStream, into: &mut [u8], shared: &Shared) -> Result<bool, ServeError> {
    let deadline = Instant::now() + HANDSHAKE_WAIT;
    let mut filled = 0;
    while filled < into.len() {
        match read_some(stream, &mut into[filled..], shared)? {
            Read::Bytes(read) => filled += read,
            Read::Idle if Instant::now() < deadline => {}
            Read::Idle | Read::Closed => return Ok(false),
        }
    }
    Ok(true)
}

/// What one read from a client gave.
enum Read {
    Bytes(usize),
    /// Nothing within [`POLL`].
    Idle,
    /// The client hung up, or the proxy stops.
    Closed,
}

/// One read from the client, waiting [`POLL`] at most, so that a stop is seen while a
/// client is idle.
fn read_some(stream: &mut TcpStream, buffer: &mut [u8], shared: &Shared) -> Result<Read, ServeError> {
    use std::io::ErrorKind;
    if shared.stopping.load(Ordering::Relaxed) {
        return Ok(Read::Closed);
    }
    match stream.read(buffer) {
        Ok(0) => Ok(Read::Closed),
        Ok(read) => Ok(Read::Bytes(read)),
        Err(error)
            if matches!(
                error.kind(),
                ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
            ) =>
        {
            Ok(Read::Idle)
        }
        Err(error) => Err(error.into()),
    }
}

/// Tells the client why its bytes are not a Bolt message, then ends the connection.
fn reject(stream: &mut TcpStream, problem: &weft_bolt::Error) -> Result<(), ServeError> {
    tracing::warn!("closing a client connection after an invalid Bolt message: {problem}");
    let message = format!("invalid Bolt message: {problem}; the proxy closes this connection");
    let bytes = Response::failure(REQUEST_INVALID, message)
        .encode()
        .map_err(weft_bolt::Error::from)?;
    let mut out = Vec::new();
    ChunkEncoder::default().encode(&bytes, &mut out);
    stream.write_all(&out)?;
    Ok(())
}
