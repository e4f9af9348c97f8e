//! Fake cluster members for the proxy's tests: each a small Bolt server (weft-bolt's
//! session over a thread per connection) whose backend answers `SHOW CLUSTER` with the
//! leader the test sets, refuses autocommit `CREATE` statements with `NotALeader` unless
//! it leads, answers every other statement with one row holding its own name (`m1`,
//! `m2`, ...), and counts what it ran. A stopped member closes its listener and its
//! connections, as a killed process would.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use weft_bolt::handshake::HANDSHAKE_LEN;
use weft_bolt::messages::Dict;
use weft_bolt::packstream::dict_get;
use weft_bolt::{
    negotiate, Auth, Backend, BackendError, BoltValue, ChunkDecoder, ChunkEncoder, Progress, Request, RunInfo, Session,
};

/// What the members share: who leads, in which term, and what each one ran.
#[derive(Default)]
struct State {
    leader: usize,
    term: i64,
    addresses: Vec<String>,
    /// (member, user_agent, query) of every statement run.
    ran: Vec<(usize, String, String)>,
    /// user_agents of the connections that logged on, per member.
    logons: Vec<(usize, String)>,
    refused_writes: usize,
}

/// A set of fake members; cloning shares them.
#[derive(Clone)]
pub struct Cluster {
    state: Arc<Mutex<State>>,
    stopped: Vec<Arc<AtomicBool>>,
}

impl Cluster {
    /// `count` members, member `leader` (1-based) leading.
    pub fn start(count: usize, leader: usize) -> Cluster {
        let state = Arc::new(Mutex::new(State {
            leader,
            term: 1,
            ..State::default()
        }));
        let mut stopped = Vec::new();
        for n in 1..=count {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.set_nonblocking(true).unwrap();
            state.lock().addresses.push(listener.local_addr().unwrap().to_string());
            let flag = Arc::new(AtomicBool::new(false));
            stopped.push(flag.clone());
            let state = state.clone();
            std::thread::spawn(move || accept(listener, n, state, flag));
        }
        Cluster { state, stopped }
    }

    pub fn addresses(&self) -> Vec<String> {
        self.state.lock().addresses.clone()
    }

    /// Member `n` leads from now on, in a new term.
    pub fn set_leader(&self, n: usize) {
        let mut state = self.state.lock();
        state.leader = n;
        state.term += 1;
    }

    /// Member `n` stops: its listener and connections close.
    pub fn stop(&self, n: usize) {
        self.stopped[n - 1].store(true, Ordering::SeqCst);
        // The accept loop polls every 5 ms; give it time to drop the listener.
        std::thread::sleep(Duration::from_millis(50));
    }

    pub fn refused_writes(&self) -> usize {
        self.state.lock().refused_writes
    }

    /// Connections that sessions (not discovery) opened, on all members.
    pub fn connections_from_sessions(&self) -> usize {
        let state = self.state.lock();
        state
            .logons
            .iter()
            .filter(|(_, agent)| !agent.contains("(discovery)"))
            .count()
    }

    /// How often member `n` ran `query`.
    pub fn statements_on(&self, n: usize, query: &str) -> usize {
        let state = self.state.lock();
        state
            .ran
            .iter()
            .filter(|(member, _, q)| *member == n && q == query)
            .count()
    }
}

fn accept(listener: TcpListener, n: usize, state: Arc<Mutex<State>>, stopped: Arc<AtomicBool>) {
    while !stopped.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let (state, stopped) = (state.clone(), stopped.clone());
                std::thread::spawn(move || serve(stream, n, state, stopped));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn serve(mut stream: TcpStream, n: usize, state: Arc<Mutex<State>>, stopped: Arc<AtomicBool>) {
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    let mut handshake = Vec::new();
    let mut buffer = vec![0u8; 65536];
    let mut decoder = ChunkDecoder::default();
    let mut session: Option<Session> = None;
    let mut backend = Fake {
        n,
        state,
        agent: String::new(),
        rows: Vec::new(),
    };
    while !stopped.load(Ordering::SeqCst) {
        let read = match stream.read(&mut buffer) {
            Ok(0) => return,
            Ok(read) => read,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => continue,
            Err(_) => return,
        };
        let mut bytes = &buffer[..read];
        if session.is_none() {
            let wanted = (HANDSHAKE_LEN - handshake.len()).min(bytes.len());
            handshake.extend_from_slice(&bytes[..wanted]);
            bytes = &bytes[wanted..];
            if handshake.len() < HANDSHAKE_LEN {
                continue;
            }
            let negotiated = negotiate(&handshake).unwrap();
            stream.write_all(&negotiated.reply).unwrap();
            session = Some(Session::new(negotiated.version.unwrap()));
        }
        let Some(session) = session.as_mut() else { continue };
        decoder.feed(bytes).unwrap();
        let mut out = Vec::new();
        while let Some(message) = decoder.next_message() {
            for response in session.handle(Request::decode(&message).unwrap(), &mut backend) {
                ChunkEncoder::default().encode(&response.encode().unwrap(), &mut out);
            }
        }
        if stream.write_all(&out).is_err() || session.is_defunct() {
            return;
        }
    }
}

/// One fake connection's backend.
struct Fake {
    n: usize,
    state: Arc<Mutex<State>>,
    agent: String,
    rows: Vec<Vec<BoltValue>>,
}

impl Fake {
    fn show_cluster(&self, state: &State) -> (Vec<String>, Vec<Vec<BoltValue>>) {
        let columns = ["id", "raft_address", "bolt_address", "role", "term"]
            .map(String::from)
            .to_vec();
        let rows = (1..=state.addresses.len())
            .map(|m| {
                let role = if m == state.leader { "leader" } else { "follower" };
                vec![
                    BoltValue::Integer(m as i64),
                    BoltValue::String(format!("raft-{m}")),
                    BoltValue::String(state.addresses[m - 1].clone()),
                    BoltValue::String(role.into()),
                    BoltValue::Integer(state.term),
                ]
            })
            .collect();
        (columns, rows)
    }
}

impl Backend for Fake {
    fn hello(&mut self, extra: &Dict) {
        self.agent = dict_get(extra, "user_agent")
            .and_then(BoltValue::as_str)
            .unwrap_or("")
            .into();
    }

    fn authenticate(&mut self, auth: &Auth) -> Result<(), BackendError> {
        if auth.credentials.as_deref() == Some("wrong") {
            return Err(BackendError::new(
                "Neo.ClientError.Security.Unauthorized",
                "wrong password",
            ));
        }
        self.state.lock().logons.push((self.n, self.agent.clone()));
        Ok(())
    }

    fn run(&mut self, query: &str, _: &Dict, _: &Dict, in_tx: bool) -> Result<RunInfo, BackendError> {
        let mut state = self.state.lock();
        if query == "SHOW CLUSTER" {
            let (columns, rows) = self.show_cluster(&state);
            self.rows = rows;
            return Ok(RunInfo {
                fields: columns,
                qid: 0,
            });
        }
        if query.starts_with("CREATE") && !in_tx && state.leader != self.n {
            state.refused_writes += 1;
            return Err(BackendError::new(
                "Neo.ClientError.Cluster.NotALeader",
                "not the leader",
            ));
        }
        state.ran.push((self.n, self.agent.clone(), query.to_string()));
        self.rows = vec![vec![BoltValue::String(format!("m{}", self.n))]];
        Ok(RunInfo {
            fields: vec!["member".into()],
            qid: 0,
        })
    }

    fn pull(&mut self, _: i64, _: i64) -> Result<(Vec<Vec<BoltValue>>, Progress), BackendError> {
        let progress = Progress {
            has_more: false,
            metadata: Vec::new(),
        };
        Ok((std::mem::take(&mut self.rows), progress))
    }

    fn discard(&mut self, _: i64, _: i64) -> Result<Progress, BackendError> {
        self.rows.clear();
        Ok(Progress {
            has_more: false,
            metadata: Vec::new(),
        })
    }

    fn begin(&mut self, _: &Dict) -> Result<(), BackendError> {
        Ok(())
    }

    fn commit(&mut self) -> Result<Dict, BackendError> {
        Ok(vec![("bookmark".into(), BoltValue::String("b1".into()))])
    }

    fn rollback(&mut self) -> Result<(), BackendError> {
        Ok(())
    }

    fn reset(&mut self) {
        self.rows.clear();
    }
}
