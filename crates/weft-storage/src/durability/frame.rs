//! Record framing: `length:u32-LE | crc32c:u32-LE | payload`, the checksum covering the
//! four length bytes and then the payload.
//!
//! Owns: encoding frames and reading them back out of a file's bytes.
//! Promises: a length above [`MAX_FRAME_LEN`] is refused before anything is allocated; the
//! reader never panics on any bytes and tells apart a clean end, a torn tail (a damaged
//! frame with no valid frame anywhere after it, as a crash during the last write leaves)
//! and corruption (a damaged frame followed by a valid one), each with the byte offset of
//! the damaged frame. Whether a torn tail is acceptable is the caller's decision (it is
//! only at the end of the newest WAL segment).

/// Bytes before the payload: length and checksum.
pub const FRAME_HEADER_LEN: usize = 8;
/// The largest payload a frame may carry (1 GiB); larger lengths are damage.
pub const MAX_FRAME_LEN: usize = 1 << 30;

/// What is wrong with the frame at some offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameProblem {
    #[error("only {have} bytes left, fewer than a frame header")]
    TruncatedHeader { have: usize },
    #[error("length {length} exceeds the {MAX_FRAME_LEN}-byte limit")]
    LengthOverLimit { length: u32 },
    #[error("payload of {length} bytes but only {have} left in the file")]
    TruncatedPayload { length: u32, have: usize },
    #[error("checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    ChecksumMismatch { stored: u32, computed: u32 },
    #[error("{0}")]
    Malformed(&'static str),
}

/// A payload too large to frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("payload of {len} bytes exceeds the {MAX_FRAME_LEN}-byte frame limit")]
pub struct FrameTooLarge {
    pub len: usize,
}

/// Appends one frame whose payload is the concatenation of `parts` to `out`.
pub fn encode_frame(parts: &[&[u8]], out: &mut Vec<u8>) -> Result<(), FrameTooLarge> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    if len > MAX_FRAME_LEN {
        return Err(FrameTooLarge { len });
    }
    let len_bytes = (len as u32).to_le_bytes();
    let crc = parts
        .iter()
        .fold(crc32c::crc32c(&len_bytes), |crc, part| crc32c::crc32c_append(crc, part));
    out.reserve(FRAME_HEADER_LEN + len);
    out.extend_from_slice(&len_bytes);
    out.extend_from_slice(&crc.to_le_bytes());
    parts.iter().for_each(|p| out.extend_from_slice(p));
    Ok(())
}

/// One step of reading frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameRead<'a> {
    /// A valid frame starting at `offset`.
    Frame { offset: u64, payload: &'a [u8] },
    /// The bytes ended exactly at a frame boundary.
    End,
    /// The frame at `offset` is damaged and no valid frame follows it.
    TornTail { offset: u64, problem: FrameProblem },
    /// The frame at `offset` is damaged and a valid frame follows it.
    Corrupt { offset: u64, problem: FrameProblem },
}

/// Reads frames out of a byte buffer (a whole file), starting at a given offset. Offsets
/// reported are indices into that buffer. After a damaged frame it returns `End`.
pub struct FrameReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> FrameReader<'a> {
    /// A reader of the frames in `bytes[start..]`.
    pub fn new(bytes: &'a [u8], start: usize) -> Self {
        FrameReader {
            bytes,
            pos: start.min(bytes.len()),
            done: false,
        }
    }

    /// Offset of the next frame to read (after a damaged frame: the damaged frame's).
    pub fn position(&self) -> u64 {
        self.pos as u64
    }

    /// The next frame, or why there is none.
    pub fn next_frame(&mut self) -> FrameRead<'a> {
        if self.done || self.pos == self.bytes.len() {
            return FrameRead::End;
        }
        let offset = self.pos as u64;
        match parse_frame(self.bytes, self.pos) {
            Ok((payload, next)) => {
                self.pos = next;
                FrameRead::Frame { offset, payload }
            }
            Err(problem) => {
                self.done = true;
                if valid_frame_after(self.bytes, self.pos + 1) {
                    FrameRead::Corrupt { offset, problem }
                } else {
                    FrameRead::TornTail { offset, problem }
                }
            }
        }
    }
}

/// The payload of the frame at `pos` and the offset after it.
fn parse_frame(bytes: &[u8], pos: usize) -> Result<(&[u8], usize), FrameProblem> {
    let rest = &bytes[pos..];
    let Some((head, body)) = rest.split_first_chunk::<FRAME_HEADER_LEN>() else {
        return Err(FrameProblem::TruncatedHeader { have: rest.len() });
    };
    let len_bytes = [head[0], head[1], head[2], head[3]];
    let length = u32::from_le_bytes(len_bytes);
    let stored = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    if length as usize > MAX_FRAME_LEN {
        return Err(FrameProblem::LengthOverLimit { length });
    }
    let Some(payload) = body.get(..length as usize) else {
        return Err(FrameProblem::TruncatedPayload {
            length,
            have: body.len(),
        });
    };
    let computed = crc32c::crc32c_append(crc32c::crc32c(&len_bytes), payload);
    if computed != stored {
        return Err(FrameProblem::ChecksumMismatch { stored, computed });
    }
    Ok((payload, pos + FRAME_HEADER_LEN + payload.len()))
}

/// True when a valid frame starts at some offset at or after `from`: the test that tells a
/// torn tail from damage in the middle. Most offsets are rejected by their length alone,
/// so on crash garbage or zero fill this is close to linear.
fn valid_frame_after(bytes: &[u8], from: usize) -> bool {
    (from..bytes.len().saturating_sub(FRAME_HEADER_LEN - 1)).any(|p| parse_frame(bytes, p).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        payloads.iter().for_each(|p| encode_frame(&[p], &mut out).unwrap());
        out
    }

    #[test]
    fn reads_back_then_ends_cleanly() {
        let bytes = frames(&[b"one", b"", b"three"]);
        let mut reader = FrameReader::new(&bytes, 0);
        assert_eq!(
            reader.next_frame(),
            FrameRead::Frame {
                offset: 0,
                payload: b"one"
            }
        );
        assert_eq!(
            reader.next_frame(),
            FrameRead::Frame {
                offset: 11,
                payload: b""
            }
        );
        assert_eq!(
            reader.next_frame(),
            FrameRead::Frame {
                offset: 19,
                payload: b"three"
            }
        );
        assert_eq!(reader.next_frame(), FrameRead::End);
    }

    #[test]
    fn tells_torn_tail_from_corruption() {
        let bytes = frames(&[b"first", b"second", b"third"]);
        let (second, third) = (13u64, 27u64);

        // A cut inside the last frame is a torn tail at that frame.
        let cut = &bytes[..bytes.len() - 2];
        let mut reader = FrameReader::new(cut, 0);
        reader.next_frame();
        reader.next_frame();
        assert!(matches!(reader.next_frame(), FrameRead::TornTail { offset, .. } if offset == third));
        assert_eq!(reader.next_frame(), FrameRead::End);

        // A flipped byte in the middle frame, with a valid frame after it, is corruption.
        let mut flipped = bytes.clone();
        flipped[second as usize + 9] ^= 0x40;
        let mut reader = FrameReader::new(&flipped, 0);
        reader.next_frame();
        assert!(matches!(reader.next_frame(), FrameRead::Corrupt { offset, .. } if offset == second));

        // A garbage length is refused without allocating.
        let mut huge = bytes.clone();
        huge[3] = 0xff;
        let mut reader = FrameReader::new(&huge, 0);
        assert!(matches!(
            reader.next_frame(),
            FrameRead::Corrupt {
                offset: 0,
                problem: FrameProblem::LengthOverLimit { .. }
            }
        ));
    }

    #[test]
    fn zero_fill_after_the_last_frame_is_a_torn_tail() {
        let mut bytes = frames(&[b"kept"]);
        bytes.extend_from_slice(&[0u8; 100]);
        let mut reader = FrameReader::new(&bytes, 0);
        reader.next_frame();
        assert!(matches!(reader.next_frame(), FrameRead::TornTail { offset: 12, .. }));
    }
}
