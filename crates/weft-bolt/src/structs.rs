//! Typed Bolt structures: graph entities here, temporals in `structs/temporal.rs`, points
//! in `structs/spatial.rs`.
//!
//! Owns: the field layout of each structure tag and its differences between protocol
//! generations, selected by a [`Dialect`] derived from the negotiated [`Version`].
//!
//! | structure | tag | Bolt 4.x fields | Bolt 5.x adds |
//! |---|---|---|---|
//! | Node | `4E` | id, labels, properties | element_id |
//! | Relationship | `52` | id, start id, end id, type, properties | element_id, start/end element ids |
//! | UnboundRelationship | `72` | id, type, properties | element_id |
//! | Path | `50` | nodes, unbound relationships, indices | — |
//!
//! Promises: `to_value` writes exactly the layout of the dialect; `from_value` checks the
//! tag, the field count of the dialect and every field's type, and never panics. Under
//! Bolt 4.x, decoded element ids are the decimal integer ids, as Neo4j 5 reports them.

use thiserror::Error;

use crate::handshake::Version;
use crate::packstream::{BoltValue, Structure};

mod spatial;
mod temporal;

pub use spatial::{point_from_value, point_to_value, TAG_POINT_2D, TAG_POINT_3D};
pub use temporal::{Temporal, TAG_DATE, TAG_DURATION, TAG_LOCAL_DATE_TIME, TAG_LOCAL_TIME, TAG_TIME};
pub use temporal::{TAG_DATE_TIME, TAG_DATE_TIME_LEGACY, TAG_DATE_TIME_ZONE_ID, TAG_DATE_TIME_ZONE_ID_LEGACY};

pub const TAG_NODE: u8 = 0x4E;
pub const TAG_RELATIONSHIP: u8 = 0x52;
pub const TAG_UNBOUND_RELATIONSHIP: u8 = 0x72;
pub const TAG_PATH: u8 = 0x50;

/// A structure, or a message, that does not have the shape its tag requires.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum StructError {
    #[error("expected a {name} structure, got {got}")]
    NotStructure { name: &'static str, got: &'static str },
    #[error("expected a {name} structure (tag 0x{expected:02X}), got tag 0x{tag:02X}")]
    WrongTag { name: &'static str, expected: u8, tag: u8 },
    #[error("{name} takes {expected} fields in this protocol version, got {got}")]
    FieldCount {
        name: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{name}: field `{field}` must be {expected}")]
    FieldType {
        name: &'static str,
        field: &'static str,
        expected: &'static str,
    },
    #[error("{name} holds a value outside the supported range")]
    OutOfRange { name: &'static str },
    #[error("unknown time zone `{0}`")]
    UnknownZone(String),
    #[error("{name}: SRID {srid} is not a coordinate reference system of this dimension (7203 and 4326 are 2D, 9157 and 4979 3D)")]
    UnknownSrid { name: &'static str, srid: i64 },
}

/// How structures are laid out on one connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dialect {
    /// Bolt 5.x: graph entities carry string element ids.
    pub element_ids: bool,
    /// Bolt 5.x (or 4.4 with the `utc` patch): datetimes carry UTC seconds (tags `49`,
    /// `69`) instead of local wall-clock seconds (tags `46`, `66`).
    pub utc_datetime: bool,
}

impl Dialect {
    /// The layout of a negotiated version. Bolt 4.x uses the legacy datetimes.
    pub fn for_version(version: Version) -> Dialect {
        let v5 = version.major >= 5;
        Dialect {
            element_ids: v5,
            utc_datetime: v5,
        }
    }
}

/// A node with its labels and properties.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub id: i64,
    pub labels: Vec<String>,
    pub properties: Vec<(String, BoltValue)>,
    pub element_id: String,
}

/// A relationship with both endpoints.
#[derive(Clone, Debug, PartialEq)]
pub struct Relationship {
    pub id: i64,
    pub start_node_id: i64,
    pub end_node_id: i64,
    pub rel_type: String,
    pub properties: Vec<(String, BoltValue)>,
    pub element_id: String,
    pub start_node_element_id: String,
    pub end_node_element_id: String,
}

/// A relationship inside a path, whose endpoints the path gives.
#[derive(Clone, Debug, PartialEq)]
pub struct UnboundRelationship {
    pub id: i64,
    pub rel_type: String,
    pub properties: Vec<(String, BoltValue)>,
    pub element_id: String,
}

/// An alternating walk. `indices` holds pairs: a 1-based relationship index into `rels`
/// (negative when traversed against its direction), then a node index into `nodes`.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    pub nodes: Vec<Node>,
    pub rels: Vec<UnboundRelationship>,
    pub indices: Vec<i64>,
}

impl Node {
    pub fn to_value(&self, dialect: Dialect) -> BoltValue {
        let mut fields = vec![
            BoltValue::Integer(self.id),
            strings(&self.labels),
            BoltValue::Dictionary(self.properties.clone()),
        ];
        if dialect.element_ids {
            fields.push(BoltValue::String(self.element_id.clone()));
        }
        structure(TAG_NODE, fields)
    }

    pub fn from_value(value: &BoltValue, dialect: Dialect) -> Result<Node, StructError> {
        const NAME: &str = "Node";
        let count = if dialect.element_ids { 4 } else { 3 };
        let f = Fields::new(value, NAME, TAG_NODE, count)?;
        let id = f.int(0, "id")?;
        Ok(Node {
            id,
            labels: f.strings(1, "labels")?,
            properties: f.dict(2, "properties")?,
            element_id: f.element_id(3, "element_id", id, dialect)?,
        })
    }
}

impl Relationship {
    pub fn to_value(&self, dialect: Dialect) -> BoltValue {
        let mut fields = vec![
            BoltValue::Integer(self.id),
            BoltValue::Integer(self.start_node_id),
            BoltValue::Integer(self.end_node_id),
            BoltValue::String(self.rel_type.clone()),
            BoltValue::Dictionary(self.properties.clone()),
        ];
        if dialect.element_ids {
            fields.extend(
                [&self.element_id, &self.start_node_element_id, &self.end_node_element_id]
                    .map(|s| BoltValue::String(s.clone())),
            );
        }
        structure(TAG_RELATIONSHIP, fields)
    }

    pub fn from_value(value: &BoltValue, dialect: Dialect) -> Result<Relationship, StructError> {
        const NAME: &str = "Relationship";
        let count = if dialect.element_ids { 8 } else { 5 };
        let f = Fields::new(value, NAME, TAG_RELATIONSHIP, count)?;
        let (id, start, end) = (f.int(0, "id")?, f.int(1, "startNodeId")?, f.int(2, "endNodeId")?);
        Ok(Relationship {
            id,
            start_node_id: start,
            end_node_id: end,
            rel_type: f.string(3, "type")?,
            properties: f.dict(4, "properties")?,
            element_id: f.element_id(5, "element_id", id, dialect)?,
            start_node_element_id: f.element_id(6, "start_node_element_id", start, dialect)?,
            end_node_element_id: f.element_id(7, "end_node_element_id", end, dialect)?,
        })
    }
}

impl UnboundRelationship {
    pub fn to_value(&self, dialect: Dialect) -> BoltValue {
        let mut fields = vec![
            BoltValue::Integer(self.id),
            BoltValue::String(self.rel_type.clone()),
            BoltValue::Dictionary(self.properties.clone()),
        ];
        if dialect.element_ids {
            fields.push(BoltValue::String(self.element_id.clone()));
        }
        structure(TAG_UNBOUND_RELATIONSHIP, fields)
    }

    pub fn from_value(value: &BoltValue, dialect: Dialect) -> Result<UnboundRelationship, StructError> {
        const NAME: &str = "UnboundRelationship";
        let count = if dialect.element_ids { 4 } else { 3 };
        let f = Fields::new(value, NAME, TAG_UNBOUND_RELATIONSHIP, count)?;
        let id = f.int(0, "id")?;
        Ok(UnboundRelationship {
            id,
            rel_type: f.string(1, "type")?,
            properties: f.dict(2, "properties")?,
            element_id: f.element_id(3, "element_id", id, dialect)?,
        })
    }
}

impl Path {
    pub fn to_value(&self, dialect: Dialect) -> BoltValue {
        let nodes = self.nodes.iter().map(|n| n.to_value(dialect)).collect();
        let rels = self.rels.iter().map(|r| r.to_value(dialect)).collect();
        let indices = self.indices.iter().map(|&i| BoltValue::Integer(i)).collect();
        structure(
            TAG_PATH,
            vec![BoltValue::List(nodes), BoltValue::List(rels), BoltValue::List(indices)],
        )
    }

    pub fn from_value(value: &BoltValue, dialect: Dialect) -> Result<Path, StructError> {
        let f = Fields::new(value, "Path", TAG_PATH, 3)?;
        let nodes = f.list(0, "nodes")?.iter().map(|v| Node::from_value(v, dialect));
        let rels = f.list(1, "rels")?.iter();
        let rels = rels.map(|v| UnboundRelationship::from_value(v, dialect));
        let indices = f.list(2, "indices")?.iter().map(|v| {
            v.as_int().ok_or(StructError::FieldType {
                name: "Path",
                field: "indices",
                expected: "a list of integers",
            })
        });
        Ok(Path {
            nodes: nodes.collect::<Result<_, _>>()?,
            rels: rels.collect::<Result<_, _>>()?,
            indices: indices.collect::<Result<_, _>>()?,
        })
    }
}

pub(crate) fn structure(tag: u8, fields: Vec<BoltValue>) -> BoltValue {
    BoltValue::Structure(Structure { tag, fields })
}

fn strings(items: &[String]) -> BoltValue {
    BoltValue::List(items.iter().map(|s| BoltValue::String(s.clone())).collect())
}

/// The PackStream type name of a value, for error messages.
pub(crate) fn type_name(value: &BoltValue) -> &'static str {
    match value {
        BoltValue::Null => "Null",
        BoltValue::Boolean(_) => "Boolean",
        BoltValue::Integer(_) => "Integer",
        BoltValue::Float(_) => "Float",
        BoltValue::String(_) => "String",
        BoltValue::Bytes(_) => "Bytes",
        BoltValue::List(_) => "List",
        BoltValue::Dictionary(_) => "Dictionary",
        BoltValue::Structure(_) => "Structure",
    }
}

/// Checked, typed access to the fields of a structure with a known tag and field count.
pub(crate) struct Fields<'a> {
    name: &'static str,
    fields: &'a [BoltValue],
}

impl<'a> Fields<'a> {
    /// Checks that `value` is a structure `tag` with `count` fields.
    pub(crate) fn new(value: &'a BoltValue, name: &'static str, tag: u8, count: usize) -> Result<Self, StructError> {
        let BoltValue::Structure(s) = value else {
            let got = type_name(value);
            return Err(StructError::NotStructure { name, got });
        };
        Fields::of(s, name, tag, count)
    }

    /// As [`Fields::new`], for a structure already unwrapped.
    pub(crate) fn of(s: &'a Structure, name: &'static str, tag: u8, count: usize) -> Result<Self, StructError> {
        if s.tag != tag {
            return Err(StructError::WrongTag {
                name,
                expected: tag,
                tag: s.tag,
            });
        }
        if s.fields.len() != count {
            let got = s.fields.len();
            return Err(StructError::FieldCount {
                name,
                expected: count,
                got,
            });
        }
        Ok(Fields {
            name,
            fields: &s.fields,
        })
    }

    pub(crate) fn get(&self, index: usize) -> &'a BoltValue {
        &self.fields[index]
    }

    fn wrong(&self, field: &'static str, expected: &'static str) -> StructError {
        StructError::FieldType {
            name: self.name,
            field,
            expected,
        }
    }

    pub(crate) fn int(&self, index: usize, field: &'static str) -> Result<i64, StructError> {
        self.fields[index].as_int().ok_or(self.wrong(field, "an integer"))
    }

    pub(crate) fn float(&self, index: usize, field: &'static str) -> Result<f64, StructError> {
        match self.fields[index] {
            BoltValue::Float(f) => Ok(f),
            _ => Err(self.wrong(field, "a float")),
        }
    }

    pub(crate) fn string(&self, index: usize, field: &'static str) -> Result<String, StructError> {
        let s = self.fields[index].as_str().ok_or(self.wrong(field, "a string"))?;
        Ok(s.to_owned())
    }

    pub(crate) fn dict(&self, index: usize, field: &'static str) -> Result<Vec<(String, BoltValue)>, StructError> {
        let d = self.fields[index].as_dict().ok_or(self.wrong(field, "a dictionary"))?;
        Ok(d.to_vec())
    }

    pub(crate) fn list(&self, index: usize, field: &'static str) -> Result<&'a [BoltValue], StructError> {
        self.fields[index].as_list().ok_or(self.wrong(field, "a list"))
    }

    pub(crate) fn strings(&self, index: usize, field: &'static str) -> Result<Vec<String>, StructError> {
        let items = self.list(index, field)?.iter();
        let strings = items.map(|v| v.as_str().map(str::to_owned));
        strings
            .collect::<Option<_>>()
            .ok_or(self.wrong(field, "a list of strings"))
    }

    /// The element id at `index` under Bolt 5.x, or the integer id rendered under 4.x.
    fn element_id(&self, index: usize, field: &'static str, id: i64, dialect: Dialect) -> Result<String, StructError> {
        if dialect.element_ids {
            self.string(index, field)
        } else {
            Ok(id.to_string())
        }
    }
}

#[cfg(test)]
mod tests;
