//! The commit record: one encoded description of a committed transaction or DDL change,
//! produced once per commit and consumed by the WAL, replicas and Raft alike.
//!
//! Layout (all integers LEB128 varints unless noted; strings are varint length + UTF-8;
//! values use `weft_common::encoding`):
//!
//! ```text
//! record   := version:u8(=1) kind:u8 commit_ts:u64-LE body
//! kind 0   := op_count ops*                    (a transaction)
//! kind 1   := ddl                              (an index or constraint change)
//! op       := tag:u8 fields                    (see `OpTag`)
//! ```
//! Records carry names, not interned ids: ids are local to one storage instance.
//! Decoding never panics; a damaged record is a `DecodeError`.

use crate::storage::Inner;
use weft_common::encoding::{
    decode_value, encode_value, get_str, get_u64_le, get_u8, get_varint, put_str, put_u64_le, put_u8, put_varint,
    DecodeError,
};
use weft_common::{EdgeRef, Gid, LabelId, PropertyId, Value};

const FORMAT_VERSION: u8 = 1;

/// A write as a transaction logs it (interned ids).
#[derive(Clone, Debug)]
pub enum Op {
    CreateVertex(Gid),
    DeleteVertex(Gid),
    AddLabel(Gid, LabelId),
    RemoveLabel(Gid, LabelId),
    SetVertexProperty(Gid, PropertyId, Value),
    CreateEdge(EdgeRef),
    DeleteEdge(EdgeRef),
    SetEdgeProperty(EdgeRef, PropertyId, Value),
}

/// An edge as a record names it.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordEdge {
    pub gid: u64,
    pub from: u64,
    pub to: u64,
    pub edge_type: String,
}

/// A write as a record carries it (names instead of ids). `Value::Null` removes.
#[derive(Clone, Debug, PartialEq)]
pub enum RecordOp {
    CreateVertex(u64),
    DeleteVertex(u64),
    AddLabel(u64, String),
    RemoveLabel(u64, String),
    SetVertexProperty(u64, String, Value),
    CreateEdge(RecordEdge),
    DeleteEdge(RecordEdge),
    SetEdgeProperty(RecordEdge, String, Value),
}

/// An index or constraint change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DdlOp {
    CreateLabelIndex(String),
    DropLabelIndex(String),
    CreateLabelPropertyIndex(String, String),
    DropLabelPropertyIndex(String, String),
    CreateEdgeTypeIndex(String),
    DropEdgeTypeIndex(String),
    CreateExistenceConstraint(String, String),
    DropExistenceConstraint(String, String),
    CreateUniqueConstraint(String, Vec<String>),
    DropUniqueConstraint(String, Vec<String>),
}

/// A decoded commit record.
#[derive(Clone, Debug, PartialEq)]
pub enum CommitRecord {
    Transaction { ts: u64, ops: Vec<RecordOp> },
    Ddl { ts: u64, op: DdlOp },
}

impl CommitRecord {
    /// The record's commit timestamp.
    pub fn ts(&self) -> u64 {
        match self {
            CommitRecord::Transaction { ts, .. } | CommitRecord::Ddl { ts, .. } => *ts,
        }
    }

    /// Encodes the record.
    pub fn encode(&self) -> Vec<u8> {
        let mut buf = Vec::new();
        put_u8(&mut buf, FORMAT_VERSION);
        match self {
            CommitRecord::Transaction { ts, ops } => {
                put_u8(&mut buf, 0);
                put_u64_le(&mut buf, *ts);
                put_varint(&mut buf, ops.len() as u64);
                ops.iter().for_each(|op| encode_op(&mut buf, op));
            }
            CommitRecord::Ddl { ts, op } => {
                put_u8(&mut buf, 1);
                put_u64_le(&mut buf, *ts);
                encode_ddl(&mut buf, op);
            }
        }
        buf
    }

    /// The commit timestamp of an encoded record, read from its header alone (the rest
    /// is not checked: [`CommitRecord::decode`] does that).
    pub fn peek_ts(buf: &[u8]) -> std::result::Result<u64, DecodeError> {
        let pos = &mut 0;
        if get_u8(buf, pos)? != FORMAT_VERSION {
            return Err(DecodeError::Invalid {
                what: "record format version",
                at: 0,
            });
        }
        get_u8(buf, pos)?;
        get_u64_le(buf, pos)
    }

    /// Decodes a whole record; trailing bytes are an error.
    pub fn decode(buf: &[u8]) -> std::result::Result<Self, DecodeError> {
        let pos = &mut 0;
        let version = get_u8(buf, pos)?;
        if version != FORMAT_VERSION {
            return Err(DecodeError::Invalid {
                what: "record format version",
                at: 0,
            });
        }
        let kind = get_u8(buf, pos)?;
        let ts = get_u64_le(buf, pos)?;
        let record = match kind {
            0 => {
                let count = get_varint(buf, pos)?;
                let mut ops = Vec::with_capacity(count.min(buf.len() as u64) as usize);
                for _ in 0..count {
                    ops.push(decode_op(buf, pos)?);
                }
                CommitRecord::Transaction { ts, ops }
            }
            1 => CommitRecord::Ddl {
                ts,
                op: decode_ddl(buf, pos)?,
            },
            _ => {
                return Err(DecodeError::Invalid {
                    what: "record kind",
                    at: 1,
                })
            }
        };
        if *pos != buf.len() {
            return Err(DecodeError::Invalid {
                what: "trailing bytes after record",
                at: *pos,
            });
        }
        Ok(record)
    }
}

/// Encodes a transaction's log as a record (names resolved here, once).
pub(crate) fn encode_transaction(inner: &Inner, ts: u64, ops: &[Op]) -> Vec<u8> {
    let edge = |e: &EdgeRef| RecordEdge {
        gid: e.gid.0,
        from: e.from.0,
        to: e.to.0,
        edge_type: inner.edge_types.name(e.edge_type.0),
    };
    let label = |l: &LabelId| inner.labels.name(l.0);
    let prop = |p: &PropertyId| inner.properties.name(p.0);
    let ops = ops
        .iter()
        .map(|op| match op {
            Op::CreateVertex(g) => RecordOp::CreateVertex(g.0),
            Op::DeleteVertex(g) => RecordOp::DeleteVertex(g.0),
            Op::AddLabel(g, l) => RecordOp::AddLabel(g.0, label(l)),
            Op::RemoveLabel(g, l) => RecordOp::RemoveLabel(g.0, label(l)),
            Op::SetVertexProperty(g, p, v) => RecordOp::SetVertexProperty(g.0, prop(p), v.clone()),
            Op::CreateEdge(e) => RecordOp::CreateEdge(edge(e)),
            Op::DeleteEdge(e) => RecordOp::DeleteEdge(edge(e)),
            Op::SetEdgeProperty(e, p, v) => RecordOp::SetEdgeProperty(edge(e), prop(p), v.clone()),
        })
        .collect();
    CommitRecord::Transaction { ts, ops }.encode()
}

/// Op tags on the wire; never renumber, only add.
mod tag {
    pub const CREATE_VERTEX: u8 = 1;
    pub const DELETE_VERTEX: u8 = 2;
    pub const ADD_LABEL: u8 = 3;
    pub const REMOVE_LABEL: u8 = 4;
    pub const SET_VERTEX_PROPERTY: u8 = 5;
    pub const CREATE_EDGE: u8 = 6;
    pub const DELETE_EDGE: u8 = 7;
    pub const SET_EDGE_PROPERTY: u8 = 8;
}

fn put_edge(buf: &mut Vec<u8>, e: &RecordEdge) {
    put_varint(buf, e.gid);
    put_varint(buf, e.from);
    put_varint(buf, e.to);
    put_str(buf, &e.edge_type);
}

fn get_edge(buf: &[u8], pos: &mut usize) -> std::result::Result<RecordEdge, DecodeError> {
    Ok(RecordEdge {
        gid: get_varint(buf, pos)?,
        from: get_varint(buf, pos)?,
        to: get_varint(buf, pos)?,
        edge_type: get_str(buf, pos)?.to_owned(),
    })
}

fn encode_op(buf: &mut Vec<u8>, op: &RecordOp) {
    match op {
        RecordOp::CreateVertex(g) | RecordOp::DeleteVertex(g) => {
            let t = if matches!(op, RecordOp::CreateVertex(_)) {
                tag::CREATE_VERTEX
            } else {
                tag::DELETE_VERTEX
            };
            put_u8(buf, t);
            put_varint(buf, *g);
        }
        RecordOp::AddLabel(g, l) | RecordOp::RemoveLabel(g, l) => {
            let t = if matches!(op, RecordOp::AddLabel(..)) {
                tag::ADD_LABEL
            } else {
                tag::REMOVE_LABEL
            };
            put_u8(buf, t);
            put_varint(buf, *g);
            put_str(buf, l);
        }
        RecordOp::SetVertexProperty(g, k, v) => {
            put_u8(buf, tag::SET_VERTEX_PROPERTY);
            put_varint(buf, *g);
            put_str(buf, k);
            encode_value(buf, v);
        }
        RecordOp::CreateEdge(e) | RecordOp::DeleteEdge(e) => {
            let t = if matches!(op, RecordOp::CreateEdge(_)) {
                tag::CREATE_EDGE
            } else {
                tag::DELETE_EDGE
            };
            put_u8(buf, t);
            put_edge(buf, e);
        }
        RecordOp::SetEdgeProperty(e, k, v) => {
            put_u8(buf, tag::SET_EDGE_PROPERTY);
            put_edge(buf, e);
            put_str(buf, k);
            encode_value(buf, v);
        }
    }
}

fn decode_op(buf: &[u8], pos: &mut usize) -> std::result::Result<RecordOp, DecodeError> {
    let at = *pos;
    let string = |pos: &mut usize| get_str(buf, pos).map(str::to_owned);
    Ok(match get_u8(buf, pos)? {
        tag::CREATE_VERTEX => RecordOp::CreateVertex(get_varint(buf, pos)?),
        tag::DELETE_VERTEX => RecordOp::DeleteVertex(get_varint(buf, pos)?),
        tag::ADD_LABEL => RecordOp::AddLabel(get_varint(buf, pos)?, string(pos)?),
        tag::REMOVE_LABEL => RecordOp::RemoveLabel(get_varint(buf, pos)?, string(pos)?),
        tag::SET_VERTEX_PROPERTY => {
            RecordOp::SetVertexProperty(get_varint(buf, pos)?, string(pos)?, decode_value(buf, pos)?)
        }
        tag::CREATE_EDGE => RecordOp::CreateEdge(get_edge(buf, pos)?),
        tag::DELETE_EDGE => RecordOp::DeleteEdge(get_edge(buf, pos)?),
        tag::SET_EDGE_PROPERTY => RecordOp::SetEdgeProperty(get_edge(buf, pos)?, string(pos)?, decode_value(buf, pos)?),
        _ => {
            return Err(DecodeError::Invalid {
                what: "record op tag",
                at,
            })
        }
    })
}

fn encode_ddl(buf: &mut Vec<u8>, op: &DdlOp) {
    let (code, label, props): (u8, &str, Vec<&str>) = match op {
        DdlOp::CreateLabelIndex(l) => (1, l, vec![]),
        DdlOp::DropLabelIndex(l) => (2, l, vec![]),
        DdlOp::CreateLabelPropertyIndex(l, p) => (3, l, vec![p]),
        DdlOp::DropLabelPropertyIndex(l, p) => (4, l, vec![p]),
        DdlOp::CreateEdgeTypeIndex(t) => (5, t, vec![]),
        DdlOp::DropEdgeTypeIndex(t) => (6, t, vec![]),
        DdlOp::CreateExistenceConstraint(l, p) => (7, l, vec![p]),
        DdlOp::DropExistenceConstraint(l, p) => (8, l, vec![p]),
        DdlOp::CreateUniqueConstraint(l, ps) => (9, l, ps.iter().map(String::as_str).collect()),
        DdlOp::DropUniqueConstraint(l, ps) => (10, l, ps.iter().map(String::as_str).collect()),
    };
    put_u8(buf, code);
    put_str(buf, label);
    put_varint(buf, props.len() as u64);
    props.iter().for_each(|p| put_str(buf, p));
}

fn decode_ddl(buf: &[u8], pos: &mut usize) -> std::result::Result<DdlOp, DecodeError> {
    let at = *pos;
    let code = get_u8(buf, pos)?;
    let label = get_str(buf, pos)?.to_owned();
    let count = get_varint(buf, pos)?;
    let mut props = Vec::with_capacity(count.min(64) as usize);
    for _ in 0..count {
        props.push(get_str(buf, pos)?.to_owned());
    }
    let one = |props: Vec<String>| -> std::result::Result<String, DecodeError> {
        match <[String; 1]>::try_from(props) {
            Ok([p]) => Ok(p),
            Err(_) => Err(DecodeError::Invalid {
                what: "DDL property count",
                at,
            }),
        }
    };
    let none = |props: &Vec<String>| -> std::result::Result<(), DecodeError> {
        props.is_empty().then_some(()).ok_or(DecodeError::Invalid {
            what: "DDL property count",
            at,
        })
    };
    Ok(match code {
        1 => none(&props).map(|_| DdlOp::CreateLabelIndex(label))?,
        2 => none(&props).map(|_| DdlOp::DropLabelIndex(label))?,
        3 => DdlOp::CreateLabelPropertyIndex(label, one(props)?),
        4 => DdlOp::DropLabelPropertyIndex(label, one(props)?),
        5 => none(&props).map(|_| DdlOp::CreateEdgeTypeIndex(label))?,
        6 => none(&props).map(|_| DdlOp::DropEdgeTypeIndex(label))?,
        7 => DdlOp::CreateExistenceConstraint(label, one(props)?),
        8 => DdlOp::DropExistenceConstraint(label, one(props)?),
        9 if !props.is_empty() => DdlOp::CreateUniqueConstraint(label, props),
        10 if !props.is_empty() => DdlOp::DropUniqueConstraint(label, props),
        _ => return Err(DecodeError::Invalid { what: "DDL code", at }),
    })
}
