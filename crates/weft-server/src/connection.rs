//! One Bolt connection: the socket loop around weft-bolt's handshake, framing and session.
//!
//! Owns: reading bytes, feeding them to the [`ChunkDecoder`], answering each request
//! through the [`Session`] and writing the chunked responses. Promises: malformed input
//! ends this connection only (the caller logs the error); query work runs on tokio's
//! blocking pool so the reactor never waits for the engine; a shutdown signal closes the
//! connection between requests.

use anyhow::{bail, Context};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use weft_bolt::handshake::HANDSHAKE_LEN;
use weft_bolt::{negotiate, ChunkDecoder, ChunkEncoder, Dialect, Request, Response, Session};
use weft_query::Engine;

use crate::backend::EngineBackend;

/// Bytes read from the socket at a time.
const READ_BUFFER: usize = 64 * 1024;

/// The session and backend travel together to the blocking pool and back per request.
struct Conversation {
    session: Session,
    backend: EngineBackend,
}

/// Serves one client until it says GOODBYE, hangs up, misbehaves or the server stops.
pub async fn handle(
    mut stream: TcpStream,
    engine: Engine,
    id: u64,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut handshake = [0u8; HANDSHAKE_LEN];
    tokio::select! {
        read = stream.read_exact(&mut handshake) => { read.context("reading the Bolt handshake")?; }
        _ = shutdown.changed() => return Ok(()),
    }
    let negotiated = negotiate(&handshake)?;
    stream.write_all(&negotiated.reply).await?;
    let Some(version) = negotiated.version else {
        bail!("the client proposed no Bolt version this server speaks");
    };
    tracing::debug!(connection = id, %version, "Bolt version negotiated");
    let mut conversation = Some(Conversation {
        session: Session::new(version).with_connection_id(format!("bolt-{id}")),
        backend: EngineBackend::new(engine, Dialect::for_version(version)),
    });
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
        decoder.feed(&buffer[..read])?;
        while let Some(message) = decoder.next_message() {
            let request = Request::decode(&message)?;
            let (back, responses) = answer(conversation.take().context("conversation lost")?, request).await?;
            write_responses(&mut stream, &responses).await?;
            if back.session.is_defunct() {
                return Ok(());
            }
            conversation = Some(back);
        }
    }
}

/// Runs one request through the session on the blocking pool.
async fn answer(mut conversation: Conversation, request: Request) -> anyhow::Result<(Conversation, Vec<Response>)> {
    let answered = tokio::task::spawn_blocking(move || {
        let responses = conversation.session.handle(request, &mut conversation.backend);
        (conversation, responses)
    });
    answered.await.context("the query task failed")
}

async fn write_responses(stream: &mut TcpStream, responses: &[Response]) -> anyhow::Result<()> {
    let encoder = ChunkEncoder::default();
    let mut out = Vec::new();
    for response in responses {
        encoder.encode(&response.encode()?, &mut out);
    }
    stream.write_all(&out).await.context("writing to the client")
}
