//! The HTTP API's open transactions: each one's backend (while no request uses it), its
//! terminate flag, its opener and its expiry, by id.
//!
//! Owns: [`Transactions`] and the steps a request takes on one — reserve an id, take the
//! backend, decide to commit, give it back — and the reaper. Promises: every step on one
//! transaction happens under one lock, so DELETE either finds the backend idle (and rolls
//! it back), marks a running request's transaction doomed (that request ends it and
//! reports it terminated), or, once a request has decided to commit, is refused; an idle
//! transaction past its expiry is rolled back and forgotten; at most [`MAX_OPEN`] are open.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use parking_lot::Mutex;
use serde_json::{json, Value as Json};
use weft_bolt::{Auth, BackendError};

use super::{error_body, Web};
use crate::backend::EngineBackend;

/// Open transactions kept at once; more are refused until some end.
pub const MAX_OPEN: usize = 1000;

/// One open transaction: its backend while no request uses it, and its terminate flag.
pub(super) struct Open {
    pub(super) backend: Option<Box<EngineBackend>>,
    pub(super) terminator: Option<Arc<AtomicBool>>,
    pub(super) expires: Instant,
    /// Set by DELETE while a request runs in it: that request ends it.
    pub(super) doomed: bool,
    /// Set once a request has decided to commit it: DELETE can no longer take it back.
    pub(super) committing: bool,
    /// Who opened it: every later request must come with the same credentials.
    pub(super) auth: Auth,
}

/// The open transactions of the HTTP API, by id.
#[derive(Default)]
pub struct Transactions {
    next: AtomicU64,
    pub(super) open: Mutex<HashMap<u64, Open>>,
}

impl Transactions {
    /// Rolls back and forgets every idle transaction past its expiry.
    pub fn expire(&self) -> Vec<EngineBackend> {
        let now = Instant::now();
        let mut open = self.open.lock();
        let expired: Vec<u64> = open
            .iter()
            .filter(|(_, o)| o.backend.is_some() && o.expires <= now)
            .map(|(id, _)| *id)
            .collect();
        expired
            .into_iter()
            .filter_map(|id| open.remove(&id).and_then(|o| o.backend))
            .map(|backend| *backend)
            .collect()
    }
}

/// Drops a backend (rolling back its transaction) away from the reactor.
pub(super) fn drop_on_worker<T: Send + 'static>(backend: T) {
    tokio::task::spawn_blocking(move || drop(backend));
}

pub(super) fn not_found(id: u64) -> Response {
    let error = BackendError::new(
        "Neo.ClientError.Transaction.TransactionNotFound",
        format!("no open transaction {id}: it was committed, rolled back, or expired and was rolled back"),
    );
    error_body(StatusCode::NOT_FOUND, &error)
}

impl Web {
    /// Reserves an id for a new transaction opened by `auth`; refused while
    /// [`MAX_OPEN`] are open.
    pub(super) fn reserve(&self, auth: Auth) -> Result<u64, Box<Response>> {
        let mut open = self.transactions.open.lock();
        if open.len() >= MAX_OPEN {
            let error = BackendError::new(
                "Neo.TransientError.Request.ResourceExhaustion",
                format!("{MAX_OPEN} HTTP transactions are open; commit or roll back some, or let them expire"),
            );
            return Err(Box::new(error_body(StatusCode::SERVICE_UNAVAILABLE, &error)));
        }
        let id = self.transactions.next.fetch_add(1, Ordering::Relaxed) + 1;
        let entry = Open {
            backend: None,
            terminator: None,
            expires: Instant::now() + self.transaction_timeout,
            doomed: false,
            committing: false,
            auth,
        };
        open.insert(id, entry);
        Ok(id)
    }

    /// Takes transaction `id`'s backend (and its terminate flag) for one request made
    /// with `auth`, which must be its opener's.
    #[allow(clippy::type_complexity)]
    pub(super) fn take(
        &self,
        id: u64,
        auth: &Auth,
    ) -> Result<(Box<EngineBackend>, Option<Arc<AtomicBool>>), Box<Response>> {
        let mut open = self.transactions.open.lock();
        let Some(entry) = open.get_mut(&id) else {
            return Err(Box::new(not_found(id)));
        };
        if entry.auth != *auth {
            let error = BackendError::new(
                "Neo.ClientError.Security.Forbidden",
                format!("transaction {id} was opened with other credentials"),
            );
            return Err(Box::new(error_body(StatusCode::FORBIDDEN, &error)));
        }
        let backend = entry.backend.take().ok_or_else(|| {
            let error = BackendError::new(
                "Neo.ClientError.Transaction.ConcurrentRequest",
                format!("another request is using transaction {id}; send one request at a time"),
            );
            Box::new(error_body(StatusCode::CONFLICT, &error))
        })?;
        Ok((backend, entry.terminator.clone()))
    }

    /// Decides, under the lock DELETE takes too, that transaction `id` commits: false if
    /// DELETE came first.
    pub(super) fn begin_commit(&self, id: u64) -> bool {
        match self.transactions.open.lock().get_mut(&id) {
            Some(entry) if !entry.doomed => {
                entry.committing = true;
                true
            }
            _ => false,
        }
    }

    /// Puts a backend back after a request and renews the expiry; false (and the backend
    /// dropped, rolling back) if DELETE came meanwhile.
    pub(super) fn give_back(&self, id: u64, backend: Box<EngineBackend>) -> bool {
        let mut open = self.transactions.open.lock();
        match open.get_mut(&id) {
            Some(entry) if !entry.doomed => {
                entry.backend = Some(backend);
                entry.expires = Instant::now() + self.transaction_timeout;
                true
            }
            _ => {
                open.remove(&id);
                drop(open);
                drop_on_worker(backend);
                false
            }
        }
    }

    /// The transaction's URL, on the host the client asked.
    pub(super) fn location(&self, headers: &HeaderMap, db: &str, id: u64) -> String {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        format!("http://{host}/db/{db}/tx/{id}")
    }

    /// What an answer about a transaction still open carries: where to commit it and
    /// when it expires.
    pub(super) fn still_open(&self, location: &str) -> [(&'static str, Json); 2] {
        [
            ("commit", Json::String(format!("{location}/commit"))),
            ("transaction", json!({"expires": self.expiry_text()})),
        ]
    }

    /// When a transaction renewed now expires, as an HTTP date.
    fn expiry_text(&self) -> String {
        let at = SystemTime::now() + self.transaction_timeout;
        chrono::DateTime::<chrono::Utc>::from(at)
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string()
    }
}

/// Rolls back expired transactions every second until `stopped`.
pub async fn reap(web: Web, mut stopped: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                for backend in web.transactions.expire() {
                    tracing::info!("an HTTP transaction expired unused and was rolled back");
                    drop_on_worker(backend);
                }
            }
            _ = stopped.wait_for(|s| *s) => return,
        }
    }
}
