//! Neo4j's HTTP transactional API over the engine: `POST /db/{db}/tx/commit` (statements
//! in one transaction, committed), `POST /db/{db}/tx` (open a transaction),
//! `POST /db/{db}/tx/{id}` (run in it), `POST /db/{db}/tx/{id}/commit` and
//! `DELETE /db/{db}/tx/{id}` (roll it back, stopping a statement of it that is running).
//!
//! Owns: the request bodies and each endpoint's steps. Each request or open transaction
//! drives an [`EngineBackend`], the same session logic Bolt clients get (schema statements
//! in transactions, admin statements, forwarding to a Raft leader, bookmarks), on the
//! blocking pool under a worker permit; the answer streams out as rows are pulled
//! ([`Answer`]); the open transactions live in [`super::transactions`].
//! Promises:
//! - a statement that fails rolls its transaction back; its error comes in `errors` with
//!   the status code Bolt would send, and the HTTP status is the endpoint's (200, or 201
//!   for opening), as Neo4j's is;
//! - one statement sent to `/tx/commit` runs as an autocommit statement (so `CALL { }
//!   IN TRANSACTIONS`, schema and admin statements work there); several run in one
//!   explicit transaction;
//! - a request's work runs to its end whatever the client does: a client that hangs up
//!   stops the pulling of rows, and its transaction is rolled back, never left taken;
//! - the statements travel only in request bodies, never in URLs.

use std::sync::atomic::Ordering;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value as Json};
use tokio::sync::mpsc;
use weft_bolt::session::Backend;
use weft_bolt::{Auth, BackendError, BoltValue, Dialect, Version};

use super::answer::{Answer, Piece, Ran, Statement};
use super::results::Contents;
use super::transactions::{drop_on_worker, not_found, Open};
use super::{error_body, Web};
use crate::backend::EngineBackend;

/// The protocol version the backend speaks for HTTP: the newest, with element ids.
pub(super) const VERSION: Version = Version::V5_8;

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

/// The database name and credentials checked, then the body read.
fn admit_request(web: &Web, db: &str, headers: &HeaderMap, raw: &[u8]) -> Result<(Auth, Request), Box<Response>> {
    let auth = web.admit(db, headers)?;
    let request = parse_request(raw).map_err(|e| Box::new(error_body(StatusCode::BAD_REQUEST, &e)))?;
    Ok((auth, request))
}

/// A new backend for `auth`, authenticated.
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

pub(super) fn terminated_error() -> BackendError {
    BackendError::new(
        "Neo.ClientError.Transaction.Terminated",
        "the transaction was rolled back (DELETE) while this request ran",
    )
}

fn failed(error: BackendError) -> Ran {
    Ran {
        error: Some(error),
        bookmark: None,
    }
}

/// Answers with `status` and a body that `work` writes on the blocking pool once a worker
/// is free. The work runs to its end even if the client goes away (`Answer::gone`); if
/// it fails outright (a panic), the connection is aborted rather than ended cleanly, so
/// the client cannot take a cut answer for a whole one.
fn streamed(
    web: &Web,
    status: StatusCode,
    location: Option<String>,
    work: impl FnOnce(&mut Answer) + Send + 'static,
) -> Response {
    let (to, from) = mpsc::channel::<Piece>(4);
    let workers = web.workers.clone();
    tokio::spawn(async move {
        let Ok(permit) = workers.acquire_owned().await else {
            let body = json!({"results": [], "errors": [{
                "code": "Neo.TransientError.General.DatabaseUnavailable",
                "message": "the server is stopping",
            }]});
            let _ = to.send(Ok(Bytes::from(body.to_string()))).await;
            return;
        };
        let failure = to.clone();
        let handle = tokio::runtime::Handle::current();
        let done = tokio::task::spawn_blocking(move || {
            let mut answer = Answer::streamed(to, handle);
            work(&mut answer);
            drop(permit);
        });
        if let Err(e) = done.await {
            tracing::error!("an HTTP API request failed: {e}");
            let _ = failure
                .send(Err(std::io::Error::other("the request failed on the server")))
                .await;
        }
    });
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(from));
    let mut response = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    if let Some(value) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Forgets open transaction `id` when dropped while a request still holds it: the request
/// failed outright (a panic), and its backend, with the transaction, is gone.
struct Release<'w> {
    web: &'w Web,
    id: u64,
}

impl Drop for Release<'_> {
    fn drop(&mut self) {
        let mut open = self.web.transactions.open.lock();
        if open.get(&self.id).is_some_and(|entry| entry.backend.is_none()) {
            open.remove(&self.id);
        }
    }
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
    streamed(&web, StatusCode::OK, None, move |answer| {
        let mut backend = match session(&worker, &auth) {
            Ok(backend) => backend,
            Err(error) => return answer.finish(&failed(error), []),
        };
        if request.statements.len() == 1 {
            // Alone, a statement runs as autocommit: as a driver's session.run would.
            let extra = begin_extra(&request.bookmarks);
            let ran = answer.statements(&mut backend, &request.statements, false, &extra, None);
            return answer.finish(&ran, []);
        }
        if let Err(error) = backend.begin(&begin_extra(&request.bookmarks)) {
            return answer.finish(&failed(error), []);
        }
        let mut ran = answer.statements(&mut backend, &request.statements, true, &[], None);
        if ran.error.is_none() && !answer.gone() {
            commit_into(&mut backend, &mut ran);
        }
        answer.finish(&ran, []);
    })
}

/// `POST /db/{db}/tx`: opens a transaction, runs the body's statements in it.
pub async fn open(
    State(web): State<Web>,
    Path(db): Path<String>,
    headers: HeaderMap,
    raw: axum::body::Bytes,
) -> Response {
    let (auth, request) = match admit_request(&web, &db, &headers, &raw) {
        Ok(admitted) => admitted,
        Err(refused) => return *refused,
    };
    let id = match web.reserve(auth.clone()) {
        Ok(id) => id,
        Err(refused) => return *refused,
    };
    let location = web.location(&headers, &db, id);
    let worker = web.clone();
    let open_at = location.clone();
    streamed(&web, StatusCode::CREATED, Some(location), move |answer| {
        let _release = Release { web: &worker, id };
        let mut backend = match session(&worker, &auth) {
            Ok(backend) => backend,
            Err(error) => {
                worker.transactions.open.lock().remove(&id);
                return answer.finish(&failed(error), []);
            }
        };
        if let Err(error) = backend.begin(&begin_extra(&request.bookmarks)) {
            worker.transactions.open.lock().remove(&id);
            return answer.finish(&failed(error), []);
        }
        // Known before the statements run, so DELETE can stop them.
        let terminator = backend.terminator();
        if let Some(entry) = worker.transactions.open.lock().get_mut(&id) {
            entry.terminator = terminator.clone();
            if entry.doomed {
                terminator.iter().for_each(|flag| flag.store(true, Ordering::Relaxed));
            }
        }
        let ran = answer.statements(&mut backend, &request.statements, true, &[], terminator.as_ref());
        settle(&worker, id, backend, ran, answer, &open_at);
    })
}

/// `POST /db/{db}/tx/{id}`.
pub async fn run_open(
    State(web): State<Web>,
    Path((db, id)): Path<(String, u64)>,
    headers: HeaderMap,
    raw: axum::body::Bytes,
) -> Response {
    run_in(web, db, id, headers, raw, false)
}

/// `POST /db/{db}/tx/{id}/commit`.
pub async fn commit_open(
    State(web): State<Web>,
    Path((db, id)): Path<(String, u64)>,
    headers: HeaderMap,
    raw: axum::body::Bytes,
) -> Response {
    run_in(web, db, id, headers, raw, true)
}

/// Runs a request's statements in open transaction `id`, then commits it if `commit`.
fn run_in(web: Web, db: String, id: u64, headers: HeaderMap, raw: axum::body::Bytes, commit: bool) -> Response {
    let (auth, request) = match admit_request(&web, &db, &headers, &raw) {
        Ok(admitted) => admitted,
        Err(refused) => return *refused,
    };
    let (mut backend, stop) = match web.take(id, &auth) {
        Ok(taken) => taken,
        Err(refused) => return *refused,
    };
    let location = web.location(&headers, &db, id);
    let worker = web.clone();
    streamed(&web, StatusCode::OK, None, move |answer| {
        let _release = Release { web: &worker, id };
        let mut ran = answer.statements(&mut backend, &request.statements, true, &[], stop.as_ref());
        if !commit {
            return settle(&worker, id, backend, ran, answer, &location);
        }
        // Past this point DELETE can no longer take the transaction back.
        if ran.error.is_none() && !answer.gone() && !worker.begin_commit(id) {
            ran.error = Some(terminated_error());
        }
        if ran.error.is_none() && !answer.gone() {
            commit_into(&mut backend, &mut ran);
        }
        worker.transactions.open.lock().remove(&id);
        drop(backend);
        answer.finish(&ran, []);
    })
}

/// After a request's statements in open transaction `id`: on an error, or when the
/// client went away, the transaction is rolled back and forgotten; otherwise it is given
/// back (unless DELETE came meanwhile) and the answer says where to commit it.
fn settle(web: &Web, id: u64, backend: Box<EngineBackend>, ran: Ran, answer: &mut Answer, location: &str) {
    if ran.error.is_some() || answer.gone() {
        web.transactions.open.lock().remove(&id);
        drop(backend);
        return answer.finish(&ran, []);
    }
    if !web.give_back(id, backend) {
        return answer.finish(&failed(terminated_error()), []);
    }
    answer.finish(&ran, web.still_open(location));
}

/// `DELETE /db/{db}/tx/{id}`: rolls back; a statement of it that runs now is stopped.
pub async fn roll_back(State(web): State<Web>, Path((db, id)): Path<(String, u64)>, headers: HeaderMap) -> Response {
    let auth = match web.admit(&db, &headers) {
        Ok(auth) => auth,
        Err(refused) => return *refused,
    };
    let idle = {
        let mut open = web.transactions.open.lock();
        let Some(entry) = open.get_mut(&id) else {
            return not_found(id);
        };
        if let Some(refused) = refusal_of_delete(id, entry, &auth) {
            return refused;
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
    if let Some(backend) = idle {
        drop_on_worker(backend);
    }
    let body = json!({"results": [], "errors": []});
    ([(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// Why DELETE may not roll `entry` back: another user's, or being committed.
fn refusal_of_delete(id: u64, entry: &Open, auth: &Auth) -> Option<Response> {
    let (status, code, message) = if entry.auth != *auth {
        let message = format!("transaction {id} was opened with other credentials");
        (StatusCode::FORBIDDEN, "Neo.ClientError.Security.Forbidden", message)
    } else if entry.committing {
        let message = format!("transaction {id} is being committed; it can no longer be rolled back");
        (
            StatusCode::CONFLICT,
            "Neo.ClientError.Transaction.ConcurrentRequest",
            message,
        )
    } else {
        return None;
    };
    Some(error_body(status, &BackendError::new(code, message)))
}

/// The rows of one admin statement (`SHOW CLUSTER`) as `{columns, rows}`, run as `auth`.
pub async fn table(web: &Web, auth: Auth, statement: &'static str) -> Result<Json, Box<Response>> {
    let worker = web.clone();
    let permit = web.workers.clone().acquire_owned().await.map_err(|_| {
        let error = BackendError::new(
            "Neo.TransientError.General.DatabaseUnavailable",
            "the server is stopping",
        );
        Box::new(error_body(StatusCode::SERVICE_UNAVAILABLE, &error))
    })?;
    let answered = tokio::task::spawn_blocking(move || {
        let mut answer = Answer::kept();
        let statements = [Statement {
            text: statement.to_string(),
            parameters: Vec::new(),
            contents: Contents {
                row: true,
                graph: false,
            },
            include_stats: false,
        }];
        let ran = match session(&worker, &auth) {
            Ok(mut backend) => answer.statements(&mut backend, &statements, false, &[], None),
            Err(error) => failed(error),
        };
        answer.finish(&ran, []);
        drop(permit);
        answer.into_json()
    })
    .await
    .map_err(|e| {
        let error = BackendError::new(
            "Neo.DatabaseError.General.UnknownError",
            format!("the request failed: {e}"),
        );
        Box::new(error_body(StatusCode::INTERNAL_SERVER_ERROR, &error))
    })?;
    if let Some(error) = answered["errors"].as_array().and_then(|e| e.first()) {
        let error = BackendError::new(
            error["code"].as_str().unwrap_or_default(),
            error["message"].as_str().unwrap_or_default(),
        );
        return Err(Box::new(error_body(StatusCode::OK, &error)));
    }
    let result = &answered["results"][0];
    let rows: Vec<Json> = result["data"]
        .as_array()
        .map(|data| data.iter().map(|d| d["row"].clone()).collect())
        .unwrap_or_default();
    Ok(json!({"columns": result["columns"], "rows": rows}))
}
