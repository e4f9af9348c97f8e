//! The snapshot's frame payloads: kind bytes, the footer, property lists and batches of
//! objects, encoded and decoded (the layout is in [`crate::durability::snapshot`]).
//!
//! Promises: decoding never panics and never allocates more than the input could hold;
//! a payload that does not decode is reported as a malformed frame at its offset.

use crate::durability::error::DurabilityError;
use crate::durability::frame::{encode_frame, FrameProblem, FRAME_HEADER_LEN};
use std::path::Path;
use weft_common::encoding::{decode_value, encode_value, get_u64_le, get_u8, get_varint, put_u64_le, put_varint};
use weft_common::{PropertyId, Value};

/// Frame kinds; never renumber, only add.
pub mod kind {
    pub const SCHEMA: u8 = 1;
    pub const COUNTERS: u8 = 2;
    /// Version 1 only: vertices without their edges.
    pub const VERTICES: u8 = 3;
    /// Version 1 only: edges, each with both ends.
    pub const EDGES: u8 = 4;
    pub const NAMES: u8 = 5;
    pub const FOOTER: u8 = 6;
    /// Version 2: vertices, each with both its adjacency lists.
    pub const GRAPH: u8 = 7;
    /// Version 2: the properties of the edges that have any.
    pub const EDGE_PROPS: u8 = 8;
    /// Version 2: the rest of adjacency lists too long to write inline.
    pub const ADJACENCY: u8 = 9;
}

/// Adjacency entries a vertex's item carries inline per list; the rest go into
/// [`kind::ADJACENCY`] items of at most this many each, so that no frame outgrows its
/// limit however many edges one vertex has. Only the writer uses it: a reader takes what
/// each item says it holds.
pub const LIST_CAP: usize = if cfg!(test) { 64 } else { 1 << 20 };

const FOOTER_LEN: usize = 1 + 3 * 8;
/// Bytes of the framed footer at the end of every snapshot.
pub const FOOTER_FRAME_LEN: usize = FRAME_HEADER_LEN + FOOTER_LEN;
/// A batch frame is closed once its payload reaches this size.
pub const BATCH_BYTES: usize = 16 << 20;

/// What the footer promises about the frames before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Footer {
    pub vertices: u64,
    pub edges: u64,
    pub frames: u64,
}

pub fn encode_footer(f: &Footer) -> Vec<u8> {
    let mut buf = vec![kind::FOOTER];
    [f.vertices, f.edges, f.frames]
        .iter()
        .for_each(|v| put_u64_le(&mut buf, *v));
    buf
}

/// The footer in a frame payload, `None` when the payload is not one.
pub fn decode_footer(payload: &[u8]) -> Option<Footer> {
    if payload.len() != FOOTER_LEN || payload[0] != kind::FOOTER {
        return None;
    }
    let pos = &mut 1;
    Some(Footer {
        vertices: get_u64_le(payload, pos).ok()?,
        edges: get_u64_le(payload, pos).ok()?,
        frames: get_u64_le(payload, pos).ok()?,
    })
}

/// The error for a frame whose checksum holds but whose content does not make sense.
pub fn malformed(path: &Path, offset: u64, what: &'static str) -> DurabilityError {
    DurabilityError::Corrupt {
        path: path.to_path_buf(),
        offset,
        problem: FrameProblem::Malformed(what),
    }
}

/// Frames `payload` onto `out`.
pub fn frame(payload: &[u8], out: &mut Vec<u8>) -> Result<(), DurabilityError> {
    encode_frame(&[payload], out).map_err(|e| DurabilityError::RecordTooLarge {
        len: e.len,
        max: crate::durability::frame::MAX_FRAME_LEN,
    })
}

pub fn put_props(buf: &mut Vec<u8>, props: &[(PropertyId, Value)]) {
    put_varint(buf, props.len() as u64);
    for (key, value) in props {
        put_varint(buf, u64::from(key.0));
        encode_value(buf, value);
    }
}

/// Property lists as stored: `(old property id, value)`.
pub type RawProps = Vec<(u64, Value)>;

pub fn get_props(buf: &[u8], pos: &mut usize) -> Option<RawProps> {
    let n = get_varint(buf, pos).ok()?;
    let mut props = Vec::with_capacity(bounded(n, buf, *pos));
    for _ in 0..n {
        props.push((get_varint(buf, pos).ok()?, decode_value(buf, pos).ok()?));
    }
    Some(props)
}

/// A capacity for `n` items of at least one byte each that the rest of `buf` could hold.
pub fn bounded(n: u64, buf: &[u8], pos: usize) -> usize {
    n.min(buf.len().saturating_sub(pos) as u64) as usize
}

/// A vertex as a frame holds it, ids still those of the writing storage.
#[derive(Debug)]
pub struct RawVertex {
    pub gid: u64,
    pub labels: Vec<u64>,
    pub props: RawProps,
}

/// An edge as a frame holds it.
#[derive(Debug)]
pub struct RawEdge {
    pub gid: u64,
    pub from: u64,
    pub to: u64,
    pub edge_type: u64,
    pub props: RawProps,
}

/// Decodes a whole batch payload (kind byte included) with `item`; `None` on any damage,
/// trailing bytes included.
pub fn decode_batch<T>(payload: &[u8], item: impl Fn(&[u8], &mut usize) -> Option<T>) -> Option<Vec<T>> {
    let pos = &mut 1;
    let n = get_varint(payload, pos).ok()?;
    let mut out = Vec::with_capacity(bounded(n, payload, *pos));
    for _ in 0..n {
        out.push(item(payload, pos)?);
    }
    (*pos == payload.len()).then_some(out)
}

pub fn get_vertex(buf: &[u8], pos: &mut usize) -> Option<RawVertex> {
    let gid = get_varint(buf, pos).ok()?;
    let n = get_varint(buf, pos).ok()?;
    let mut labels = Vec::with_capacity(bounded(n, buf, *pos));
    for _ in 0..n {
        labels.push(get_varint(buf, pos).ok()?);
    }
    Some(RawVertex {
        gid,
        labels,
        props: get_props(buf, pos)?,
    })
}

pub fn get_edge(buf: &[u8], pos: &mut usize) -> Option<RawEdge> {
    Some(RawEdge {
        gid: get_varint(buf, pos).ok()?,
        from: get_varint(buf, pos).ok()?,
        to: get_varint(buf, pos).ok()?,
        edge_type: get_varint(buf, pos).ok()?,
        props: get_props(buf, pos)?,
    })
}

/// Reads a kind byte's frame of `count` varints and nothing else.
pub fn get_varints(payload: &[u8], count: usize) -> Option<Vec<u64>> {
    let pos = &mut 1;
    let out = (0..count)
        .map(|_| get_varint(payload, pos).ok())
        .collect::<Option<Vec<u64>>>()?;
    (*pos == payload.len()).then_some(out)
}

/// Collects objects into frames of at most [`crate::durability::snapshot::BATCH`] objects
/// and about [`BATCH_BYTES`].
pub struct Batcher {
    kind: u8,
    items: Vec<u8>,
    count: u64,
    /// Framed output.
    pub out: Vec<u8>,
    pub frames: u64,
    pub total: u64,
}

impl Batcher {
    pub fn new(kind: u8) -> Self {
        Batcher {
            kind,
            items: Vec::new(),
            count: 0,
            out: Vec::new(),
            frames: 0,
            total: 0,
        }
    }

    /// The buffer to encode one more object into; call [`Batcher::added`] after.
    pub fn item_buf(&mut self) -> &mut Vec<u8> {
        &mut self.items
    }

    pub fn added(&mut self) -> Result<(), DurabilityError> {
        self.count += 1;
        self.total += 1;
        if self.count as usize >= super::BATCH || self.items.len() >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Frames what is pending, if anything.
    pub fn flush(&mut self) -> Result<(), DurabilityError> {
        if self.count == 0 {
            return Ok(());
        }
        let mut head = vec![self.kind];
        put_varint(&mut head, self.count);
        encode_frame(&[&head, &self.items], &mut self.out).map_err(|e| DurabilityError::RecordTooLarge {
            len: e.len,
            max: crate::durability::frame::MAX_FRAME_LEN,
        })?;
        self.items.clear();
        self.count = 0;
        self.frames += 1;
        Ok(())
    }
}

/// Reads the kind byte of a payload.
pub fn kind_of(payload: &[u8]) -> Option<u8> {
    get_u8(payload, &mut 0).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn footer_round_trips_and_refuses_other_payloads() {
        let f = Footer {
            vertices: 3,
            edges: 2,
            frames: 9,
        };
        let bytes = encode_footer(&f);
        assert_eq!(decode_footer(&bytes), Some(f));
        assert_eq!(decode_footer(&bytes[..10]), None);
        assert_eq!(decode_footer(&[kind::NAMES; FOOTER_LEN]), None);
    }
}
