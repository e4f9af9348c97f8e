//! Type names, conversions between [`QValue`] and the storage [`Value`], WHERE truthiness,
//! and a Cypher-literal-like rendering for messages and tests.
//!
//! Conversion to storage is partial: nodes, relationships and paths are not storable, so
//! [`QValue::to_value`] returns `None` for any value that contains one, however deeply.

use std::collections::BTreeMap;
use std::fmt;

use weft_common::Value;

use super::{PathValue, QValue};
use crate::error::{ErrorKind, QueryError, Result};

impl QValue {
    /// The Cypher type name, as used in error messages (`INTEGER`, `NODE`, `LIST`, ...);
    /// the same names as [`Value::type_name`] for storable types.
    pub fn type_name(&self) -> &'static str {
        match self {
            QValue::Null => "NULL",
            QValue::Bool(_) => "BOOLEAN",
            QValue::Int(_) => "INTEGER",
            QValue::Float(_) => "FLOAT",
            QValue::String(_) => "STRING",
            QValue::List(_) => "LIST",
            QValue::Map(_) => "MAP",
            QValue::Date(_) => "DATE",
            QValue::LocalTime(_) => "LOCAL TIME",
            QValue::ZonedTime(_) => "ZONED TIME",
            QValue::LocalDateTime(_) => "LOCAL DATETIME",
            QValue::ZonedDateTime(_) => "ZONED DATETIME",
            QValue::Duration(_) => "DURATION",
            QValue::Point(_) => "POINT",
            QValue::Node(_) => "NODE",
            QValue::Relationship(_) => "RELATIONSHIP",
            QValue::Path(_) => "PATH",
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, QValue::Null)
    }

    /// The storable equivalent, or `None` when the value holds a node, relationship or path.
    pub fn to_value(&self) -> Option<Value> {
        Some(match self {
            QValue::Null => Value::Null,
            QValue::Bool(b) => Value::Bool(*b),
            QValue::Int(i) => Value::Int(*i),
            QValue::Float(f) => Value::Float(*f),
            QValue::String(s) => Value::String(s.clone()),
            QValue::List(items) => Value::List(items.iter().map(QValue::to_value).collect::<Option<_>>()?),
            QValue::Map(map) => Value::Map(
                map.iter()
                    .map(|(k, v)| Some((k.clone(), v.to_value()?)))
                    .collect::<Option<_>>()?,
            ),
            QValue::Date(d) => Value::Date(*d),
            QValue::LocalTime(t) => Value::LocalTime(*t),
            QValue::ZonedTime(t) => Value::ZonedTime(*t),
            QValue::LocalDateTime(dt) => Value::LocalDateTime(*dt),
            QValue::ZonedDateTime(dt) => Value::ZonedDateTime(dt.clone()),
            QValue::Duration(d) => Value::Duration(*d),
            QValue::Point(p) => Value::Point(*p),
            QValue::Node(_) | QValue::Relationship(_) | QValue::Path(_) => return None,
        })
    }

    /// WHERE truthiness: `true`/`false` as themselves, null as unknown, anything else a
    /// `TypeError` (Cypher does not coerce numbers or strings to booleans).
    pub fn as_bool_or_null(&self) -> Result<Option<bool>> {
        match self {
            QValue::Bool(b) => Ok(Some(*b)),
            QValue::Null => Ok(None),
            other => Err(QueryError::runtime(
                ErrorKind::TypeError,
                "InvalidArgumentType",
                format!(
                    "expected a BOOLEAN predicate but got {}: use a comparison such as `x = true`",
                    other.type_name()
                ),
            )),
        }
    }
}

impl From<Value> for QValue {
    fn from(value: Value) -> QValue {
        match value {
            Value::Null => QValue::Null,
            Value::Bool(b) => QValue::Bool(b),
            Value::Int(i) => QValue::Int(i),
            Value::Float(f) => QValue::Float(f),
            Value::String(s) => QValue::String(s),
            Value::List(items) => QValue::List(items.into_iter().map(QValue::from).collect()),
            Value::Map(map) => QValue::Map(map.into_iter().map(|(k, v)| (k, QValue::from(v))).collect()),
            Value::Date(d) => QValue::Date(d),
            Value::LocalTime(t) => QValue::LocalTime(t),
            Value::ZonedTime(t) => QValue::ZonedTime(t),
            Value::LocalDateTime(dt) => QValue::LocalDateTime(dt),
            Value::ZonedDateTime(dt) => QValue::ZonedDateTime(dt),
            Value::Duration(d) => QValue::Duration(d),
            Value::Point(p) => QValue::Point(p),
        }
    }
}

impl From<bool> for QValue {
    fn from(b: bool) -> QValue {
        QValue::Bool(b)
    }
}

impl From<i64> for QValue {
    fn from(i: i64) -> QValue {
        QValue::Int(i)
    }
}

impl From<f64> for QValue {
    fn from(f: f64) -> QValue {
        QValue::Float(f)
    }
}

impl From<&str> for QValue {
    fn from(s: &str) -> QValue {
        QValue::String(s.to_string())
    }
}

impl From<String> for QValue {
    fn from(s: String) -> QValue {
        QValue::String(s)
    }
}

impl From<Vec<QValue>> for QValue {
    fn from(items: Vec<QValue>) -> QValue {
        QValue::List(items)
    }
}

impl From<BTreeMap<String, QValue>> for QValue {
    fn from(map: BTreeMap<String, QValue>) -> QValue {
        QValue::Map(map)
    }
}

/// Like [`Value`]'s rendering (`1`, `'a'`, `[1, 'a']`, `{k: 1}`); graph entities by id:
/// nodes `(#3)`, relationships `[#7]`, paths `<(#3)-[#7]-(#4)>`.
impl fmt::Display for QValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QValue::Node(gid) => write!(f, "(#{gid})"),
            QValue::Relationship(edge) => write!(f, "[#{}]", edge.gid),
            QValue::Path(path) => write_path(f, path),
            QValue::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    let separator = if i > 0 { ", " } else { "" };
                    write!(f, "{separator}{item}")?;
                }
                f.write_str("]")
            }
            QValue::Map(map) => {
                f.write_str("{")?;
                for (i, (key, item)) in map.iter().enumerate() {
                    let separator = if i > 0 { ", " } else { "" };
                    write!(f, "{separator}{}: {item}", weft_common::value::cypher_name(key))?;
                }
                f.write_str("}")
            }
            scalar => match scalar.to_value() {
                Some(value) => write!(f, "{value}"),
                None => Ok(()),
            },
        }
    }
}

fn write_path(f: &mut fmt::Formatter<'_>, path: &PathValue) -> fmt::Result {
    write!(f, "<(#{})", path.start)?;
    for (edge, node) in &path.steps {
        write!(f, "-[#{}]-(#{node})", edge.gid)?;
    }
    f.write_str(">")
}
