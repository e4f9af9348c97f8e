//! An API answer written while its statements run: the JSON body goes out in pieces as
//! rows are pulled from the engine, a batch at a time, so a statement with millions of
//! rows costs the server one batch of memory, as over Bolt.
//!
//! Owns: [`Answer`] (the body's text, sent to the client through a bounded channel, or
//! kept whole for the server's own use) and [`Answer::statements`], which runs a request's
//! statements on a backend and writes each one's `columns`, `data` and summary. Promises:
//! - the body is always a complete JSON object, even when a statement fails halfway
//!   through its rows (the error goes in `errors`, after the rows already written);
//! - when the client goes away, no more rows are pulled and the caller is told
//!   ([`Answer::gone`]), so it rolls the transaction back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use serde_json::{json, Value as Json};
use tokio::sync::mpsc;
use weft_bolt::packstream::dict_get;
use weft_bolt::session::Backend;
use weft_bolt::{BackendError, BoltValue, Dialect};

use super::results::{record_json, summary_fields, Contents};
use crate::backend::EngineBackend;

/// Records pulled from the engine at a time.
const BATCH: i64 = 1000;

/// Bytes gathered before they are sent on.
const CHUNK: usize = 64 * 1024;

/// Longest a piece of the answer waits for a client that reads nothing: then the client
/// counts as gone, and the worker and the transaction are let go.
const STALLED_CLIENT: Duration = Duration::from_secs(30);

/// What the body channel carries: a piece, or the error that aborts the connection.
pub type Piece = Result<Bytes, std::io::Error>;

/// One statement of a request body.
pub struct Statement {
    pub text: String,
    pub parameters: Vec<(String, BoltValue)>,
    pub contents: Contents,
    pub include_stats: bool,
}

/// What running a request's statements gave besides the rows written.
#[derive(Default)]
pub struct Ran {
    pub error: Option<BackendError>,
    pub bookmark: Option<String>,
}

/// A response body being written; see the module docs.
pub struct Answer {
    to: Option<(mpsc::Sender<Piece>, tokio::runtime::Handle)>,
    buffer: Vec<u8>,
    gone: bool,
    /// The transaction's terminate flag: a DELETE also ends a wait for the client.
    stop: Option<Arc<AtomicBool>>,
}

impl Answer {
    /// An answer sent through `to` as it is written (from a thread of the blocking pool
    /// of the runtime `handle` belongs to).
    pub fn streamed(to: mpsc::Sender<Piece>, handle: tokio::runtime::Handle) -> Answer {
        let mut answer = Answer {
            to: Some((to, handle)),
            buffer: Vec::with_capacity(CHUNK),
            gone: false,
            stop: None,
        };
        answer.text("{\"results\":[");
        answer
    }

    /// An answer kept whole ([`Answer::into_json`]).
    pub fn kept() -> Answer {
        let mut answer = Answer {
            to: None,
            buffer: Vec::new(),
            gone: false,
            stop: None,
        };
        answer.text("{\"results\":[");
        answer
    }

    /// Whether the client has gone away (hung up, or read nothing for too long).
    pub fn gone(&self) -> bool {
        self.gone || self.to.as_ref().is_some_and(|(to, _)| to.is_closed())
    }

    fn text(&mut self, text: &str) {
        self.buffer.extend_from_slice(text.as_bytes());
        if self.buffer.len() >= CHUNK {
            self.send();
        }
    }

    fn json(&mut self, value: &Json) {
        // Writing a JSON value into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.buffer, value);
        if self.buffer.len() >= CHUNK {
            self.send();
        }
    }

    /// Sends what is gathered, waiting while the client reads slowly: at most
    /// [`STALLED_CLIENT`] in all, and no longer once the transaction is being deleted.
    fn send(&mut self) {
        let Some((to, handle)) = &self.to else {
            return;
        };
        if self.gone || self.buffer.is_empty() {
            self.buffer.clear();
            return;
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK)));
        let deadline = Instant::now() + STALLED_CLIENT;
        loop {
            match handle.block_on(tokio::time::timeout(Duration::from_secs(1), to.reserve())) {
                Ok(Ok(slot)) => return slot.send(Ok(chunk)),
                Ok(Err(_closed)) => break,
                Err(_waited) => {
                    let stopped = self.stop.as_ref().is_some_and(|s| s.load(Ordering::Relaxed));
                    if stopped || Instant::now() >= deadline {
                        tracing::info!("an HTTP client stopped reading its answer; its request is ended");
                        break;
                    }
                }
            }
        }
        self.gone = true;
    }

    /// Runs `statements` on `backend`, in its open transaction if `in_tx` (else each as
    /// autocommit, after `extra`'s bookmarks), writing each one's result; stops at the
    /// first error, at `stop` (a DELETE of the transaction) or when the client has gone.
    pub fn statements(
        &mut self,
        backend: &mut EngineBackend,
        statements: &[Statement],
        in_tx: bool,
        extra: &[(String, BoltValue)],
        stop: Option<&Arc<AtomicBool>>,
    ) -> Ran {
        self.stop = stop.cloned();
        let mut ran = Ran::default();
        for (i, statement) in statements.iter().enumerate() {
            // A DELETE that came before the statement started: it does not start.
            if stop.is_some_and(|flag| flag.load(Ordering::Relaxed)) {
                ran.error = Some(super::api::terminated_error());
                break;
            }
            let info = match backend.run(&statement.text, &statement.parameters, &extra.to_vec(), in_tx) {
                Ok(info) => info,
                Err(error) => {
                    ran.error = Some(error);
                    break;
                }
            };
            if i > 0 {
                self.text(",");
            }
            self.text("{\"columns\":");
            self.json(&json!(info.fields));
            self.text(",\"data\":[");
            let summary = self.rows(backend, info.qid, statement, &mut ran);
            self.text("]");
            if let Some(summary) = &summary {
                if let Some(BoltValue::String(b)) = dict_get(summary, "bookmark") {
                    ran.bookmark = Some(b.clone());
                }
                for (key, value) in summary_fields(summary, statement.include_stats) {
                    self.text(",");
                    self.json(&Json::String(key));
                    self.text(":");
                    self.json(&value);
                }
            }
            self.text("}");
            if ran.error.is_some() || self.gone() {
                break;
            }
        }
        ran
    }

    /// Pulls and writes query `qid`'s records a batch at a time; its summary, or `None`
    /// after an error (in `ran`) or when the client went away.
    fn rows(
        &mut self,
        backend: &mut EngineBackend,
        qid: i64,
        statement: &Statement,
        ran: &mut Ran,
    ) -> Option<Vec<(String, BoltValue)>> {
        let dialect = Dialect::for_version(super::api::VERSION);
        let mut first = true;
        loop {
            let (records, progress) = match backend.pull(qid, BATCH) {
                Ok(pulled) => pulled,
                Err(error) => {
                    ran.error = Some(error);
                    return None;
                }
            };
            for record in &records {
                if !first {
                    self.text(",");
                }
                first = false;
                self.json(&record_json(record, statement.contents, dialect));
            }
            if self.gone() {
                return None;
            }
            if !progress.has_more {
                return Some(progress.metadata);
            }
        }
    }

    /// Ends the body: the errors, the bookmark and `extra` fields, then sends the rest.
    pub fn finish(&mut self, ran: &Ran, extra: impl IntoIterator<Item = (&'static str, Json)>) {
        self.text("],\"errors\":");
        let errors: Vec<Json> = ran
            .error
            .iter()
            .map(|e| json!({"code": e.code, "message": e.message}))
            .collect();
        self.json(&Json::Array(errors));
        if let Some(bookmark) = &ran.bookmark {
            self.text(",\"lastBookmarks\":");
            self.json(&json!([bookmark]));
        }
        for (key, value) in extra {
            self.text(",");
            self.json(&Json::String(key.to_string()));
            self.text(":");
            self.json(&value);
        }
        self.text("}");
        self.send();
    }

    /// The whole body of a kept answer, parsed.
    pub fn into_json(self) -> Json {
        serde_json::from_slice(&self.buffer).unwrap_or(Json::Null)
    }
}
