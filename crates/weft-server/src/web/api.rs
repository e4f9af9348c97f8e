//! Neo4j's HTTP transactional API over the engine: `POST /db/{db}/tx/commit` (statements
//! in one transaction, committed), `POST /db/{db}/tx` (open a transaction),
//! `POST /db/{db}/tx/{id}` (run in it), `POST /db/{db}/tx/{id}/commit` and
//! `DELETE /db/{db}/tx/{id}` (roll it back, stopping a statement of it that is running).
//!
//! Owns: the request and response bodies, the open transactions ([`Transactions`]) and
//! their expiry. Each request or open transaction drives an [`EngineBackend`], the same
//! session logic Bolt clients get (schema statements in transactions, admin statements,
//! forwarding to a Raft leader, bookmarks), on the blocking pool under a worker permit.
//! Promises:
//! - a statement that fails rolls its transaction back; its error comes in `errors` with
//!   the status code Bolt would send, and the HTTP status stays 200, as Neo4j's does;
//! - one statement sent to `/tx/commit` runs as an autocommit statement (so `CALL { }
//!   IN TRANSACTIONS`, schema and admin statements work there); several run in one
//!   explicit transaction;
//! - an open transaction untouched for the idle timeout is rolled back and forgotten;
//!   one request at a time may use it (`ConcurrentRequest` otherwise);
//! - the statements travel only in request bodies, never in URLs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde_json::{json, Value as Json};
use weft_bolt::session::Backend;
use weft_bolt::{Auth, BackendError, BoltValue, Dialect, Version};

use super::results::{statement_result, Contents};
use super::{error_body, Web};
use crate::backend::EngineBackend;

/// The protocol version the backend speaks for HTTP: the newest, with element ids.
const VERSION: Version = Version::V5_8;

/// Open transactions kept at once; more are refused until some end.
const MAX_OPEN: usize = 1000;

/// One open transaction: its backend while no request uses it, and its terminate flag.
struct Open {
    backend: Option<Box<EngineBackend>>,
    terminator: Option<Arc<AtomicBool>>,
    expires: Instant,
    /// Set by DELETE while a request runs in it: that request ends it.
    doomed: bool,
    /// Set once a request has decided to commit it: DELETE can no longer take it back.
    committing: bool,
    /// Who opened it: every later request must come with the same credentials.
    auth: Auth,
}

/// The open transactions of the HTTP API, by id.
#[derive(Default)]
pub struct Transactions {
    next: AtomicU64,
    open: Mutex<HashMap<u64, Open>>,
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

/// One statement of a request body.
struct Statement {
    text: String,
    parameters: Vec<(String, BoltValue)>,
    contents: Contents,
    include_stats: bool,
}

/// A request body: its statements and the bookmarks to wait for.
struct Request {
    statements: Vec<Statement>,
    bookmarks: Option<BoltValue>,
}

fn parse_request(body: &[u8]) -> Result<Request, BackendError> {
    let invalid = |why: String| BackendError::new("Neo.ClientError.Request.InvalidFormat", why);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Request {
            statements: Vec::new(),
            bookmarks: None,
        });
    }
    let json: Json = serde_json::from_slice(body).map_err(|e| invalid(format!("the body is not JSON: {e}")))?;
    let statements = match json.get("statements") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(items)) => items
            .iter()
            .map(parse_statement)
            .collect::<Result<_, String>>()
            .map_err(invalid)?,
        Some(_) => return Err(invalid("\"statements\" must be a list".into())),
    };
    let bookmarks = match json.get("bookmarks") {
        None | Some(Json::Null) => None,
        Some(list @ Json::Array(_)) => Some(crate::value::from_json(list)),
        Some(_) => return Err(invalid("\"bookmarks\" must be a list of strings".into())),
    };
    Ok(Request { statements, bookmarks })
}

fn parse_statement(item: &Json) -> Result<Statement, String> {
    let text = item
        .get("statement")
        .and_then(Json::as_str)
        .ok_or("each statement needs a \"statement\" string")?;
    let parameters = match item.get("parameters") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Object(map)) => map
            .iter()
            .map(|(k, v)| (k.clone(), crate::value::from_json(v)))
            .collect(),
        Some(_) => return Err("\"parameters\" must be an object".into()),
    };
    Ok(Statement {
        text: text.to_string(),
        parameters,
        contents: Contents::from_request(item.get("resultDataContents"))?,
        include_stats: item.get("includeStats").and_then(Json::as_bool).unwrap_or(false),
    })
}

/// What running a request's statements gave: the results so far and the first error.
struct Ran {
    results: Vec<Json>,
    error: Option<BackendError>,
    bookmark: Option<String>,
}

/// Runs `statements` on `backend`, in its open transaction if `in_tx` (else each as
/// autocommit, after `extra`'s bookmarks); stops at the first error.
fn run_all(
    backend: &mut EngineBackend,
    statements: &[Statement],
    in_tx: bool,
    extra: &[(String, BoltValue)],
    stop: Option<&AtomicBool>,
) -> Ran {
    let dialect = Dialect::for_version(VERSION);
    let mut ran = Ran {
        results: Vec::new(),
        error: None,
        bookmark: None,
    };
    for statement in statements {
        // A DELETE that came before the statement started: it does not start.
        if stop.is_some_and(|flag| flag.load(Ordering::Relaxed)) {
            ran.error = Some(terminated_error());
            break;
        }
        let outcome = backend
            .run(&statement.text, &statement.parameters, &extra.to_vec(), in_tx)
            .and_then(|info| backend.pull(info.qid, -1).map(|pulled| (info.fields, pulled)));
        match outcome {
            Ok((columns, (rows, progress))) => {
                let summary = &progress.metadata;
                if let Some(BoltValue::String(b)) = weft_bolt::packstream::dict_get(summary, "bookmark") {
                    ran.bookmark = Some(b.clone());
                }
                ran.results.push(statement_result(
                    &columns,
                    &rows,
                    summary,
                    statement.contents,
                    statement.include_stats,
                    dialect,
                ));
            }
            Err(error) => {
                ran.error = Some(error);
                break;
            }
        }
    }
    ran
}

/// A new backend for `auth`, authenticated, with `bookmarks` to begin after.
fn session(web: &Web, auth: &Auth) -> Result<Box<EngineBackend>, BackendError> {
    let mut backend = Box::new(
        EngineBackend::new(web.node.clone(), Dialect::for_version(VERSION), web.credentials.clone()).speaking(VERSION),
    );
    let agent = vec![(
        "user_agent".to_string(),
        BoltValue::String(concat!("weft-http/", env!("CARGO_PKG_VERSION")).into()),
    )];
    backend.hello(&agent);
    backend.authenticate(auth)?;
    Ok(backend)
}

fn begin_extra(bookmarks: &Option<BoltValue>) -> Vec<(String, BoltValue)> {
    bookmarks.iter().map(|b| ("bookmarks".to_string(), b.clone())).collect()
}

/// Runs `work` on the blocking pool once a worker is free.
async fn on_worker<T: Send + 'static>(
    web: &Web,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Box<Response>> {
    let permit = web.workers.clone().acquire_owned().await.map_err(|_| {
        let error = BackendError::new(
            "Neo.TransientError.General.DatabaseUnavailable",
            "the server is stopping",
        );
        Box::new(error_body(StatusCode::SERVICE_UNAVAILABLE, &error))
    })?;
    tokio::task::spawn_blocking(move || {
        let done = work();
        drop(permit);
        done
    })
    .await
    .map_err(|e| {
        let error = BackendError::new(
            "Neo.DatabaseError.General.UnknownError",
            format!("the request failed: {e}"),
        );
        Box::new(error_body(StatusCode::INTERNAL_SERVER_ERROR, &error))
    })
}

fn body(ran: &Ran, extra: impl IntoIterator<Item = (&'static str, Json)>) -> Json {
    let errors: Vec<Json> = ran
        .error
        .iter()
        .map(|e| json!({"code": e.code, "message": e.message}))
        .collect();
    let mut body = json!({"results": ran.results, "errors": errors});
    if let Some(bookmark) = &ran.bookmark {
        body["lastBookmarks"] = json!([bookmark]);
    }
    for (key, value) in extra {
        body[key] = value;
    }
    body
}

fn ok(status: StatusCode, body: Json) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// `POST /db/{db}/tx/commit`.
pub async fn commit_now(
    State(web): State<Web>,
    Path(db): Path<String>,
    headers: HeaderMap,
    raw: axum::body::Bytes,
) -> Response {
    let (auth, request) = match admit_request(&web, &db, &headers, &raw) {
        Ok(admitted) => admitted,
        Err(refused) => return *refused,
    };
    let worker = web.clone();
    let ran = on_worker(&web, move || {
        let mut backend = match session(&worker, &auth) {
            Ok(backend) => backend,
            Err(error) => return failed(error),
        };
        if request.statements.len() == 1 {
            // Alone, a statement runs as autocommit: as a driver's session.run would.
            return run_all(
                &mut backend,
                &request.statements,
                false,
                &begin_extra(&request.bookmarks),
                None,
            );
        }
        if let Err(error) = backend.begin(&begin_extra(&request.bookmarks)) {
            return failed(error);
        }
        let mut ran = run_all(&mut backend, &request.statements, true, &[], None);
        if ran.error.is_none() {
            commit_into(&mut backend, &mut ran);
        } else {
            backend.reset();
        }
        ran
    })
    .await;
    match ran {
        Ok(ran) => ok(StatusCode::OK, body(&ran, [])),
        Err(response) => *response,
    }
}

/// `POST /db/{db}/tx`: opens a transaction, runs the body's statements in it.
pub async fn open(
    State(web): State<Web>,
    Path(db): Path<String>,
    headers: HeaderMap,
    raw: axum::body::Bytes,
) -> Response {
    detached(open_detached(web, db, headers, raw)).await
}

async fn open_detached(web: Web, db: String, headers: HeaderMap, raw: axum::body::Bytes) -> Response {
    let (auth, request) = match admit_request(&web, &db, &headers, &raw) {
        Ok(admitted) => admitted,
        Err(refused) => return *refused,
    };
    let id = match web.reserve(auth.clone()) {
        Ok(id) => id,
        Err(refused) => return *refused,
    };
    let worker = web.clone();
    let opened = on_worker(&web, move || {
        let mut backend = match session(&worker, &auth) {
            Ok(backend) => backend,
            Err(error) => return (None, failed(error)),
        };
        if let Err(error) = backend.begin(&begin_extra(&request.bookmarks)) {
            return (None, failed(error));
        }
        // Known before the statements run, so DELETE can stop them.
        let terminator = backend.terminator();
        if let Some(entry) = worker.transactions.open.lock().get_mut(&id) {
            entry.terminator = terminator.clone();
            if entry.doomed {
                terminator.iter().for_each(|flag| flag.store(true, Ordering::Relaxed));
            }
        }
        let ran = run_all(&mut backend, &request.statements, true, &[], terminator.as_deref());
        (Some(backend), ran)
    })
    .await;
    let (backend, ran) = match opened {
        Ok(opened) => opened,
        Err(response) => {
            web.transactions.open.lock().remove(&id);
            return *response;
        }
    };
    match backend {
        Some(backend) if ran.error.is_none() => match web.give_back(id, backend) {
            true => {
                let location = web.location(&headers, &db, id);
                let mut response = ok(StatusCode::CREATED, body(&ran, web.still_open(&location)));
                if let Ok(value) = location.parse() {
                    response.headers_mut().insert(header::LOCATION, value);
                }
                response
            }
            false => ok(StatusCode::OK, body(&terminated(ran), [])),
        },
        backend => {
            web.transactions.open.lock().remove(&id);
            drop_on_worker(backend);
            ok(StatusCode::OK, body(&ran, []))
        }
    }
}

/// Runs a handler's work as a task of its own, so that a client hanging up mid-request
/// (which drops the handler's future) cannot leave a transaction taken and never given
/// back: the work finishes and cleans up either way.
async fn detached(work: impl std::future::Future<Output = Response> + Send + 'static) -> Response {
    tokio::spawn(work).await.unwrap_or_else(|e| {
        let error = BackendError::new(
            "Neo.DatabaseError.General.UnknownError",
            format!("the request failed: {e}"),
        );
        error_body(StatusCode::INTERNAL_SERVER_ERROR, &error)
    })
}

/// The database name and credentials checked, then the body read.
fn admit_request(web: &Web, db: &str, headers: &HeaderMap, raw: &[u8]) -> Result<(Auth, Request), Box<Response>> {
    let auth = web.admit(db, headers)?;
    let request = parse_request(raw).map_err(|e| Box::new(error_body(StatusCode::BAD_REQUEST, &e)))?;
    Ok((auth, request))
}

/// Commits the backend's open transaction into `ran`: its bookmark, or its error.
fn commit_into(backend: &mut EngineBackend, ran: &mut Ran) {
    match backend.commit() {
        Ok(meta) => {
            if let Some(BoltValue::String(b)) = weft_bolt::packstream::dict_get(&meta, "bookmark") {
                ran.bookmark = Some(b.clone());
            }
        }
        Err(error) => ran.error = Some(error),
    }
}

fn failed(error: BackendError) -> Ran {
    Ran {
        results: Vec::new(),
        error: Some(error),
        bookmark: None,
    }
}

fn terminated_error() -> BackendError {
    BackendError::new(
        "Neo.ClientError.Transaction.Terminated",
        "the transaction was rolled back (DELETE) while this request ran",
    )
}

/// A request whose transaction was rolled back by DELETE while it ran.
fn terminated(mut ran: Ran) -> Ran {
    ran.error.get_or_insert_with(terminated_error);
    ran
}

/// `POST /db/{db}/tx/{id}`.
pub async fn run_open(
    State(web): State<Web>,
    Path((db, id)): Path<(String, u64)>,
    headers: HeaderMap,
    raw: axum::body::Bytes,
) -> Response {
    detached(run_in(web, db, id, headers, raw, false)).await
}

/// `POST /db/{db}/tx/{id}/commit`.
pub async fn commit_open(
    State(web): State<Web>,
    Path((db, id)): Path<(String, u64)>,
    headers: HeaderMap,
    raw: axum::body::Bytes,
) -> Response {
    detached(run_in(web, db, id, headers, raw, true)).await
}

/// Runs a request's statements in open transaction `id`, then commits it if `commit`.
async fn run_in(web: Web, db: String, id: u64, headers: HeaderMap, raw: axum::body::Bytes, commit: bool) -> Response {
    let (auth, request) = match admit_request(&web, &db, &headers, &raw) {
        Ok(admitted) => admitted,
        Err(refused) => return *refused,
    };
    let (mut backend, stop) = match web.take(id, &auth) {
        Ok(taken) => taken,
        Err(refused) => return *refused,
    };
    let worker = web.clone();
    let done = on_worker(&web, move || {
        let mut ran = run_all(&mut backend, &request.statements, true, &[], stop.as_deref());
        // Past this point DELETE can no longer take the transaction back.
        if commit && ran.error.is_none() && !worker.begin_commit(id) {
            ran.error = Some(terminated_error());
        }
        if commit && ran.error.is_none() {
            commit_into(&mut backend, &mut ran);
        }
        (backend, ran)
    })
    .await;
    let (backend, ran) = match done {
        Ok(done) => done,
        Err(response) => {
            web.transactions.open.lock().remove(&id);
            return *response;
        }
    };
    if commit || ran.error.is_some() {
        web.transactions.open.lock().remove(&id);
        drop_on_worker(backend);
        return ok(StatusCode::OK, body(&ran, []));
    }
    if !web.give_back(id, backend) {
        return ok(StatusCode::OK, body(&terminated(ran), []));
    }
    let location = web.location(&headers, &db, id);
    ok(StatusCode::OK, body(&ran, web.still_open(&location)))
}

/// `DELETE /db/{db}/tx/{id}`: rolls back; a statement of it that runs now is stopped.
pub async fn roll_back(State(web): State<Web>, Path((db, id)): Path<(String, u64)>, headers: HeaderMap) -> Response {
    let auth = match web.admit(&db, &headers) {
        Ok(auth) => auth,
        Err(refused) => return *refused,
    };
    if web
        .transactions
        .open
        .lock()
        .get(&id)
        .is_some_and(|entry| entry.auth != auth)
    {
        let error = BackendError::new(
            "Neo.ClientError.Security.Forbidden",
            format!("transaction {id} was opened with other credentials"),
        );
        return error_body(StatusCode::FORBIDDEN, &error);
    }
    let idle = {
        let mut open = web.transactions.open.lock();
        let Some(entry) = open.get_mut(&id) else {
            return not_found(id);
        };
        if entry.committing {
            let error = BackendError::new(
                "Neo.ClientError.Transaction.ConcurrentRequest",
                format!("transaction {id} is being committed; it can no longer be rolled back"),
            );
            return error_body(StatusCode::CONFLICT, &error);
        }
        match entry.backend.take() {
            Some(backend) => {
                open.remove(&id);
                Some(backend)
            }
            None => {
                entry.doomed = true;
                if let Some(flag) = &entry.terminator {
                    flag.store(true, Ordering::Relaxed);
                }
                None
            }
        }
    };
    drop_on_worker(idle);
    ok(StatusCode::OK, json!({"results": [], "errors": []}))
}

/// Drops a backend (rolling back its transaction) away from the reactor.
fn drop_on_worker<T: Send + 'static>(backend: T) {
    tokio::task::spawn_blocking(move || drop(backend));
}

fn not_found(id: u64) -> Response {
    let error = BackendError::new(
        "Neo.ClientError.Transaction.TransactionNotFound",
        format!("no open transaction {id}: it was committed, rolled back, or expired and was rolled back"),
    );
    error_body(StatusCode::NOT_FOUND, &error)
}

impl Web {
    /// Reserves an id for a new transaction opened by `auth`; refused while
    /// [`MAX_OPEN`] are open.
    fn reserve(&self, auth: Auth) -> Result<u64, Box<Response>> {
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
    fn take(&self, id: u64, auth: &Auth) -> Result<(Box<EngineBackend>, Option<Arc<AtomicBool>>), Box<Response>> {
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
    fn begin_commit(&self, id: u64) -> bool {
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
    fn give_back(&self, id: u64, backend: Box<EngineBackend>) -> bool {
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
    fn location(&self, headers: &HeaderMap, db: &str, id: u64) -> String {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        format!("http://{host}/db/{db}/tx/{id}")
    }

    /// What an answer about a transaction still open carries: where to commit it and
    /// when it expires.
    fn still_open(&self, location: &str) -> [(&'static str, Json); 2] {
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

/// The rows of one admin statement (`SHOW CLUSTER`) as `{columns, rows}`, run as `auth`.
pub async fn table(web: &Web, auth: Auth, statement: &'static str) -> Result<Json, Box<Response>> {
    let worker = web.clone();
    let ran = on_worker(web, move || {
        let mut backend = match session(&worker, &auth) {
            Ok(backend) => backend,
            Err(error) => return failed(error),
        };
        let statements = [Statement {
            text: statement.to_string(),
            parameters: Vec::new(),
            contents: Contents {
                row: true,
                graph: false,
            },
            include_stats: false,
        }];
        run_all(&mut backend, &statements, false, &[], None)
    })
    .await?;
    if let Some(error) = &ran.error {
        return Err(Box::new(error_body(StatusCode::OK, error)));
    }
    let result = ran.results.into_iter().next().unwrap_or(Json::Null);
    let rows: Vec<Json> = result["data"]
        .as_array()
        .map(|data| data.iter().map(|d| d["row"].clone()).collect())
        .unwrap_or_default();
    Ok(json!({"columns": result["columns"], "rows": rows}))
}
