//! Bolt message framing: messages travel as chunks.
//!
//! A chunk is a big-endian `u16` length followed by that many bytes; a message is one or
//! more non-empty chunks followed by the end marker `00 00`. Between messages a lone
//! `00 00` is a NOOP chunk (a keep-alive, Bolt 4.1+) and carries nothing.
//!
//! Promises: [`ChunkEncoder`] never writes a chunk longer than its limit (at most 65,535
//! bytes); [`ChunkDecoder`] accepts input split at any byte, buffers at most one message
//! and rejects a message longer than its configured maximum as soon as a chunk header
//! announces it. After an error the decoder stays failed: the connection must be closed.

use std::collections::VecDeque;

use thiserror::Error;

/// Largest chunk the `u16` length allows.
pub const MAX_CHUNK_LEN: usize = u16::MAX as usize;

/// Default limit on one reassembled message: 64 MiB.
pub const DEFAULT_MAX_MESSAGE_LEN: usize = 64 * 1024 * 1024;

/// Why incoming chunks cannot be reassembled.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ChunkError {
    #[error("a Bolt message exceeds the limit of {limit} bytes; send smaller queries or parameters")]
    MessageTooLarge { limit: usize },
    #[error("an earlier framing error left this connection unusable; reconnect")]
    Failed,
}

/// Splits encoded messages into chunks.
#[derive(Clone, Copy, Debug)]
pub struct ChunkEncoder {
    max_chunk_len: usize,
}

impl Default for ChunkEncoder {
    fn default() -> Self {
        ChunkEncoder {
            max_chunk_len: MAX_CHUNK_LEN,
        }
    }
}

impl ChunkEncoder {
    /// An encoder writing chunks of at most `max_chunk_len` bytes (clamped to 1..=65,535).
    pub fn with_max_chunk_len(max_chunk_len: usize) -> Self {
        ChunkEncoder {
            max_chunk_len: max_chunk_len.clamp(1, MAX_CHUNK_LEN),
        }
    }

    /// Appends `message` as chunks plus the end marker to `out`. An empty message would
    /// read as a NOOP, so it writes only the end marker, which Bolt never sends alone.
    pub fn encode(&self, message: &[u8], out: &mut Vec<u8>) {
        out.reserve(message.len() + 2 * (message.len() / self.max_chunk_len + 2));
        for chunk in message.chunks(self.max_chunk_len) {
            out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
            out.extend_from_slice(chunk);
        }
        out.extend_from_slice(&[0, 0]);
    }
}

/// Where the decoder is within the chunk stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Expecting a chunk header; holds its first byte once that has arrived.
    Header(Option<u8>),
    /// Inside a chunk body with this many bytes still to come.
    Body(usize),
    Failed,
}

/// Reassembles messages from bytes as they arrive.
#[derive(Debug)]
pub struct ChunkDecoder {
    max_message_len: usize,
    state: State,
    /// The message being assembled; empty between messages.
    current: Vec<u8>,
    ready: VecDeque<Vec<u8>>,
}

impl Default for ChunkDecoder {
    fn default() -> Self {
        ChunkDecoder::new(DEFAULT_MAX_MESSAGE_LEN)
    }
}

impl ChunkDecoder {
    /// A decoder that rejects messages longer than `max_message_len` bytes.
    pub fn new(max_message_len: usize) -> Self {
        ChunkDecoder {
            max_message_len,
            state: State::Header(None),
            current: Vec::new(),
            ready: VecDeque::new(),
        }
    }

    /// Consumes `bytes`; complete messages become available from [`Self::next_message`].
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<(), ChunkError> {
        if self.state == State::Failed {
            return Err(ChunkError::Failed);
        }
        while !bytes.is_empty() {
            bytes = match self.state {
                State::Failed => return Err(ChunkError::Failed),
                State::Header(None) => {
                    self.state = State::Header(Some(bytes[0]));
                    &bytes[1..]
                }
                State::Header(Some(high)) => {
                    self.on_header(u16::from_be_bytes([high, bytes[0]]) as usize)?;
                    &bytes[1..]
                }
                State::Body(left) => {
                    let n = left.min(bytes.len());
                    self.current.extend_from_slice(&bytes[..n]);
                    self.state = if n == left {
                        State::Header(None)
                    } else {
                        State::Body(left - n)
                    };
                    &bytes[n..]
                }
            };
        }
        Ok(())
    }

    /// The oldest complete message not yet taken.
    pub fn next_message(&mut self) -> Option<Vec<u8>> {
        self.ready.pop_front()
    }

    /// Whether part of a message has arrived but not its end.
    pub fn is_mid_message(&self) -> bool {
        !self.current.is_empty() || self.state != State::Header(None)
    }

    fn on_header(&mut self, len: usize) -> Result<(), ChunkError> {
        if len == 0 {
            // End of a message, or a NOOP between messages.
            if !self.current.is_empty() {
                self.ready.push_back(std::mem::take(&mut self.current));
            }
            self.state = State::Header(None);
            return Ok(());
        }
        if self.current.len() + len > self.max_message_len {
            self.state = State::Failed;
            self.current = Vec::new();
            return Err(ChunkError::MessageTooLarge {
                limit: self.max_message_len,
            });
        }
        self.current.reserve(len);
        self.state = State::Body(len);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
