//! Weft over the wire behind the runner's [`TckEngine`] seam: `weft-tck --bolt`.
//!
//! Owns: per scenario, a fresh Weft server ([`weft_server::serve`] over a new, empty
//! [`weft_query::Engine`]) listening on an ephemeral port of 127.0.0.1, and one
//! [`weft_client::Client`] connection to it through which every query of the scenario
//! (setup, query under test, side-effect snapshots) runs in autocommit mode. The servers
//! share one tokio runtime with default thread stacks, as the `weft` binary has them, so
//! deep queries are tested as a deployed server runs them. Dropping the engine says
//! GOODBYE and stops its server.
//!
//! Promises: results and failures come back as the engine's own types via
//! [`crate::bolt_convert`], so the comparisons are the in-process run's. A lost
//! connection or an undecodable value is a `DatabaseError`, which no scenario expects.
//! Fixture procedures cannot be installed in a server through Bolt, so this engine
//! refuses them and the runner skips the scenarios that need them
//! ([`crate::Options::fixture_procedures`]).

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use weft_bolt::Dialect;
use weft_client::{Client, ClientError, ConnectOptions};
use weft_query::{ErrorKind, QueryError, QueryResult};

use crate::bolt_convert;
use crate::engine::{EngineFactory, Params, TckEngine};

/// How long a scenario waits for a server to answer or to stop; longer than the
/// runner's default time limit, so an abandoned scenario's thread still ends.
const WAIT: Duration = Duration::from_secs(30);

/// The runtime every scenario's server runs on.
fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tck-bolt-server")
            .enable_all()
            .build()
            .expect("the TCK's server runtime starts")
    })
}

/// One running server, stopped when dropped.
struct Server {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Server {
    /// A new server over an empty engine, and its Bolt address.
    fn start() -> std::io::Result<(Server, String)> {
        let runtime = runtime();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let address = listener.local_addr()?.to_string();
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let config = weft_server::ServerConfig::default();
        let task = runtime.spawn(weft_server::serve(
            listener,
            weft_query::Engine::new(),
            config,
            shutdown,
        ));
        let server = Server {
            stop: Some(stop),
            task: Some(task),
        };
        Ok((server, address))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            // A server that does not stop in time is left to the runtime.
            let _ = runtime().block_on(async { tokio::time::timeout(WAIT, task).await });
        }
    }
}

/// One fresh Weft server and a connection to it.
pub struct BoltEngine {
    // Declared first: the client says GOODBYE before the server stops.
    client: RefCell<Option<Client>>,
    dialect: Dialect,
    _server: Server,
}

impl BoltEngine {
    /// Starts a server over an empty database and connects to it.
    pub fn start() -> Result<BoltEngine, String> {
        let (server, address) = Server::start().map_err(|e| format!("cannot start a Weft server: {e}"))?;
        let options = ConnectOptions {
            read_timeout: Some(WAIT),
            ..ConnectOptions::default()
        };
        let client =
            Client::connect_with(&address, &options).map_err(|e| format!("cannot connect to {address}: {e}"))?;
        Ok(BoltEngine {
            dialect: client.dialect(),
            client: RefCell::new(Some(client)),
            _server: server,
        })
    }

    /// The structure layout negotiated with the server.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }
}

impl Drop for BoltEngine {
    fn drop(&mut self) {
        if let Some(client) = self.client.get_mut().take() {
            client.close();
        }
    }
}

impl TckEngine for BoltEngine {
    fn execute(&self, query: &str, params: &Params) -> Result<QueryResult, QueryError> {
        let mut client = self.client.borrow_mut();
        let Some(connection) = client.as_mut() else {
            return Err(lost("the connection was lost earlier in this scenario"));
        };
        match connection.run(query, &bolt_convert::parameters(params, self.dialect)) {
            Ok(result) => bolt_convert::query_result(result, self.dialect)
                .map_err(|e| QueryError::runtime(ErrorKind::DatabaseError, "BoltValue", format!("undecodable: {e}"))),
            Err(ClientError::Query { code, message, at_run }) => {
                Err(bolt_convert::query_error(&code, &message, at_run))
            }
            Err(other) => {
                *client = None;
                Err(lost(&other.to_string()))
            }
        }
    }
}

fn lost(why: &str) -> QueryError {
    QueryError::runtime(ErrorKind::DatabaseError, "ConnectionLost", format!("over Bolt: {why}"))
}

/// The factory `weft-tck --bolt` uses: a new server and connection per scenario. A
/// server that cannot start fails the scenario (the panic is caught and reported).
pub fn bolt_factory() -> EngineFactory {
    Arc::new(|| match BoltEngine::start() {
        Ok(engine) => Box::new(engine) as Box<dyn TckEngine>,
        Err(e) => panic!("{e}"),
    })
}

#[cfg(test)]
mod tests;
