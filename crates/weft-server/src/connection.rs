//! One Bolt connection: the socket loop around weft-bolt's handshake, framing and session,
//! answered by the node's engine or, while the instance starts, by [`StartingBackend`].
//!
//! Owns: choosing the backend from what the server serves ([`Serving`]), reading bytes
//! from a plain or TLS stream, feeding them to the [`ChunkDecoder`], answering each
//! request through the [`Session`] and writing the chunked responses.
//! Promises: malformed input gets a `Neo.ClientError.Request.Invalid` FAILURE and ends
//! this connection only; query work runs on tokio's blocking pool, at most one request
//! per permit of the server's worker semaphore, given back while a commit only waits for
//! its fsync and replicas (the requests that arrive together go
//! as one batch and are answered with one write), so the reactor never waits for the engine
//! and a slow query holds one worker; a shutdown signal closes the connection between
//! requests. However the loop ends, the conversation is dropped with it, and dropping the
//! backend aborts any open transaction.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context as _};
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use weft_bolt::handshake::HANDSHAKE_LEN;
use weft_bolt::session::Backend;
use weft_bolt::session::REQUEST_INVALID;
use weft_bolt::{negotiate, ChunkDecoder, ChunkEncoder, Dialect, Request, Response, Session};
use weft_storage::durability::RecoveryProgress;

use crate::auth::Credentials;
use crate::backend::EngineBackend;
use crate::metrics::{Asked, Observer};
use crate::node::Node;
use crate::starting::StartingBackend;

/// Bytes read from the socket at a time.
const READ_BUFFER: usize = 64 * 1024;

/// What the connections answer from.
#[derive(Clone)]
pub enum Serving {
    /// The instance's engine.
    Node(Node),
    /// Nothing yet: the instance is recovering its data directory ([`StartingBackend`]).
    Starting(Arc<RecoveryProgress>),
}

/// What every connection of one server shares.
#[derive(Clone)]
pub struct Context {
    pub serving: Serving,
    /// The user every session must authenticate as; `None` accepts any credentials.
    pub credentials: Option<Arc<Credentials>>,
    /// One permit per worker: a request holds one while the engine answers it.
    pub workers: Arc<Semaphore>,
}

/// The session and backend travel together to the blocking pool and back per request.
struct Conversation {
    session: Session,
    backend: Box<dyn Backend + Send>,
}

/// Serves one client until it says GOODBYE, hangs up, misbehaves or the server stops,
/// then closes the stream (for TLS: with a close_notify).
pub async fn handle<S>(mut stream: S, context: Context, id: u64, shutdown: watch::Receiver<bool>) -> anyhow::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let served = converse(&mut stream, context, id, shutdown).await;
    // The client may already be gone; there is nothing left to tell it.
    let _ = stream.shutdown().await;
    served
}

async fn converse<S>(
    stream: &mut S,
    context: Context,
    id: u64,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let mut handshake = [0u8; HANDSHAKE_LEN];
    tokio::select! {
        read = stream.read_exact(&mut handshake) => { read.context("reading the Bolt handshake")?; }
        _ = shutdown.changed() => return Ok(()),
    }
    let negotiated = negotiate(&handshake)?;
    stream.write_all(&negotiated.reply).await?;
    stream.flush().await?;
    let Some(version) = negotiated.version else {
        bail!("the client proposed no Bolt version this server speaks");
    };
    tracing::debug!(connection = id, %version, "Bolt version negotiated");
    let credentials = context.credentials.clone();
    let backend: Box<dyn Backend + Send> = match &context.serving {
        Serving::Node(node) => {
            Box::new(EngineBackend::new(node.clone(), Dialect::for_version(version), credentials).speaking(version))
        }
        Serving::Starting(progress) => Box::new(StartingBackend::new(progress.clone(), credentials)),
    };
    let mut conversation = Some(Conversation {
        session: Session::new(version).with_connection_id(format!("bolt-{id}")),
        backend,
    });
    let mut observer = Observer::default();
    let mut decoder = ChunkDecoder::default();
    let mut buffer = vec![0u8; READ_BUFFER];
    loop {
        let read = tokio::select! {
            read = stream.read(&mut buffer) => read.context("reading from the client")?,
            _ = shutdown.changed() => return Ok(()),
        };
        if read == 0 {
            return Ok(());
        }
        if let Err(error) = decoder.feed(&buffer[..read]) {
            return reject(stream, id, &error).await;
        }
        // Every request that arrived together (a driver sends RUN and PULL in one write)
        // is answered in one trip to the worker pool and one write.
        let received = Instant::now();
        let mut requests = Vec::new();
        let mut invalid = None;
        while let Some(message) = decoder.next_message() {
            match Request::decode(&message) {
                Ok(request) => requests.push(request),
                Err(error) => {
                    invalid = Some(error);
                    break;
                }
            }
        }
        if !requests.is_empty() {
            let asked: Vec<Asked> = requests.iter().map(Asked::of).collect();
            let conversation_now = conversation.take().context("conversation lost")?;
            let answering = match &context.serving {
                Serving::Node(node) => Some(node.answering()),
                Serving::Starting(_) => None,
            };
            let (back, answers) = answer(conversation_now, requests, &context.workers).await?;
            drop(answering);
            for (asked, responses) in asked.into_iter().zip(&answers) {
                observer.observe(asked, received, responses);
            }
            write_responses(stream, answers.iter().flatten()).await?;
            if back.session.is_defunct() {
                return Ok(());
            }
            conversation = Some(back);
        }
        if let Some(error) = invalid {
            return reject(stream, id, &error).await;
        }
    }
}

/// Runs requests in order through the session on the blocking pool, once a worker is
/// free; the answers of each request, up to the one that closes the session. The worker
/// is given back while a commit waits for its fsync and replicas ([`WorkerSlot`]).
async fn answer(
    mut conversation: Conversation,
    requests: Vec<Request>,
    workers: &Arc<Semaphore>,
) -> anyhow::Result<(Conversation, Vec<Vec<Response>>)> {
    let permit = workers
        .clone()
        .acquire_owned()
        .await
        .context("the worker pool is closed")?;
    let slot = Arc::new(WorkerSlot {
        workers: workers.clone(),
        permit: Mutex::new(Some(permit)),
        runtime: tokio::runtime::Handle::current(),
    });
    let answered = tokio::task::spawn_blocking(move || {
        weft_storage::slot::run_in_slot(slot, || {
            let mut answers = Vec::with_capacity(requests.len());
            for request in requests {
                if conversation.session.is_defunct() {
                    break;
                }
                answers.push(conversation.session.handle(request, conversation.backend.as_mut()));
            }
            (conversation, answers)
        })
    });
    answered.await.context("the query task failed")
}

/// A request's permit of the worker semaphore, which its commit gives back while it
/// only waits, and takes again (queueing behind other requests) before going on.
struct WorkerSlot {
    workers: Arc<Semaphore>,
    permit: Mutex<Option<OwnedSemaphorePermit>>,
    runtime: tokio::runtime::Handle,
}

impl weft_storage::slot::Slot for WorkerSlot {
    fn give_back(&self) {
        self.permit.lock().take();
    }

    fn take_again(&self) {
        // On a thread of the blocking pool, outside the runtime's reactor: blocking here
        // is what the pool is for. Acquiring fails only on a closed semaphore, which the
        // server never closes.
        let permit = self.runtime.block_on(self.workers.clone().acquire_owned()).ok();
        *self.permit.lock() = permit;
    }
}

/// Tells the client why its bytes are not a Bolt message, then ends the connection.
async fn reject<S>(stream: &mut S, id: u64, problem: &(dyn std::error::Error + Sync)) -> anyhow::Result<()>
where
    S: AsyncWrite + Unpin,
{
    tracing::warn!(
        connection = id,
        "closing the connection after an invalid Bolt message: {problem}"
    );
    let message = format!("invalid Bolt message: {problem}; the server closes this connection");
    write_responses(stream, [&Response::failure(REQUEST_INVALID, message)]).await
}

async fn write_responses<'r, S>(stream: &mut S, responses: impl IntoIterator<Item = &'r Response>) -> anyhow::Result<()>
where
    S: AsyncWrite + Unpin,
{
    let encoder = ChunkEncoder::default();
    let mut out = Vec::new();
    for response in responses {
        encoder.encode(&response.encode()?, &mut out);
    }
    stream.write_all(&out).await.context("writing to the client")?;
    stream.flush().await.context("writing to the client")
}
