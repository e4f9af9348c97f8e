//! Identifiers shared by every layer: object ids and interned name ids.
//!
//! A [`Gid`] names a vertex or an edge for the life of a database; it is never reused.
//! Labels, edge types and property keys are interned to small `u32` ids by the storage's
//! name mapper, so hot structures hold four bytes instead of a string.

use std::fmt;

/// Global id of a vertex or an edge (vertices and edges have separate id spaces).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Gid(pub u64);

/// Interned id of a vertex label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct LabelId(pub u32);

/// Interned id of an edge type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EdgeTypeId(pub u32);

/// Interned id of a property key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PropertyId(pub u32);

/// A handle to one edge: its id, endpoints and type (ids only, so any layer can hold it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EdgeRef {
    pub gid: Gid,
    pub from: Gid,
    pub to: Gid,
    pub edge_type: EdgeTypeId,
}

impl fmt::Display for Gid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
