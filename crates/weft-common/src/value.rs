//! Cypher property values: the [`Value`] enum every layer passes around.
//!
//! Owns: the one value tree of Weft, `Value<G>`: null, booleans, integers, floats, strings,
//! lists, maps, the temporal types of [`crate::temporal`], the points of [`crate::spatial`],
//! and nodes, relationships and paths as the [`Entities`] parameter `G` says (see
//! `value/entities.rs`): none in storage ([`Stored`], the default), by id in the query
//! engine ([`ById`]), with labels and properties in results (the query layer's instance).
//! Their names, their rendering, and the four openCypher notions of sameness and order
//! defined in CIP2016-06-14 (in `value/compare.rs`) are written once, for every instance:
//!
//! | notion        | method                   | used by                          | nulls              |
//! |---------------|--------------------------|----------------------------------|--------------------|
//! | equality      | [`Value::cypher_eq`]     | `=`, `<>`, `IN`                  | unknown (`None`)   |
//! | comparability | [`Value::cypher_cmp`]    | `<`, `<=`, `>`, `>=`             | unknown (`None`)   |
//! | orderability  | [`Value::order_cmp`]     | `ORDER BY`, `min`/`max`, indexes | null sorts last    |
//! | equivalence   | [`Value::equivalent`]    | `DISTINCT`, grouping             | null ~ null        |
//!
//! Promises: orderability is a total order, and two values are equivalent exactly when
//! `order_cmp` says `Equal`; [`OrderedValue`] wraps a value so that `Eq`, `Ord` and `Hash`
//! follow that order, which makes it usable as an index or grouping key.
//!
//! Graph entities compare by id: nodes and relationships by theirs, paths element-wise;
//! they are incomparable with `<` (null), like maps and points.
//!
//! `PartialEq` on [`Value`] is *structural* identity, meant for tests and caches:
//! `Int(1) != Float(1.0)` and floats compare by bits (`NaN == NaN`, `0.0 != -0.0`). It
//! is not Cypher equality; use [`Value::cypher_eq`] or [`Value::equivalent`] for that.

use std::collections::BTreeMap;
use std::fmt;

use crate::spatial::Point;
use crate::temporal::{Date, Duration, LocalDateTime, LocalTime, ZonedDateTime, ZonedTime};

mod compare;
mod entities;

pub use compare::{ComparisonOp, OrderedValue};
pub use entities::{ById, Entities, EntityMap, Never, PathValue, Stored};

/// Ranks of the value types in openCypher's global sort order, ascending (`ORDER BY`
/// puts lower ranks first).
pub mod type_rank {
    /// Regular maps.
    pub const MAP: u8 = 10;
    pub const NODE: u8 = 20;
    pub const RELATIONSHIP: u8 = 30;
    pub const LIST: u8 = 40;
    pub const PATH: u8 = 50;
    /// Spatial points, between paths and the temporal types.
    pub const POINT: u8 = 60;
    pub const ZONED_DATETIME: u8 = 70;
    pub const LOCAL_DATETIME: u8 = 80;
    pub const DATE: u8 = 90;
    /// `time`: a time of day with offset.
    pub const ZONED_TIME: u8 = 100;
    pub const LOCAL_TIME: u8 = 110;
    pub const DURATION: u8 = 120;
    pub const STRING: u8 = 130;
    pub const BOOLEAN: u8 = 140;
    /// Integers and floats together; NaN sorts after every other number.
    pub const NUMBER: u8 = 150;
    pub const NULL: u8 = 160;
}

/// A Cypher value. `Value` alone is a storage value (a property, or a constant an
/// expression builds); `Value<ById>` is what the query engine computes with, and results
/// use the query layer's materialised instance.
#[derive(Clone, Debug)]
pub enum Value<G: Entities = Stored> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    List(Vec<Value<G>>),
    Map(BTreeMap<String, Value<G>>),
    Date(Date),
    LocalTime(LocalTime),
    ZonedTime(ZonedTime),
    LocalDateTime(LocalDateTime),
    ZonedDateTime(ZonedDateTime),
    Duration(Duration),
    Point(Point),
    Node(G::Node),
    Relationship(G::Relationship),
    Path(G::Path),
}

impl<G: Entities> Value<G> {
    /// The Cypher type name, as used in error messages and `valueType()`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Bool(_) => "BOOLEAN",
            Value::Int(_) => "INTEGER",
            Value::Float(_) => "FLOAT",
            Value::String(_) => "STRING",
            Value::List(_) => "LIST",
            Value::Map(_) => "MAP",
            Value::Date(_) => "DATE",
            Value::LocalTime(_) => "LOCAL TIME",
            Value::ZonedTime(_) => "ZONED TIME",
            Value::LocalDateTime(_) => "LOCAL DATETIME",
            Value::ZonedDateTime(_) => "ZONED DATETIME",
            Value::Duration(_) => "DURATION",
            Value::Point(_) => "POINT",
            Value::Node(_) => "NODE",
            Value::Relationship(_) => "RELATIONSHIP",
            Value::Path(_) => "PATH",
        }
    }

    /// This value's type position in the global sort order (see [`type_rank`]).
    pub fn type_order_rank(&self) -> u8 {
        match self {
            Value::Map(_) => type_rank::MAP,
            Value::Node(_) => type_rank::NODE,
            Value::Relationship(_) => type_rank::RELATIONSHIP,
            Value::List(_) => type_rank::LIST,
            Value::Path(_) => type_rank::PATH,
            Value::Point(_) => type_rank::POINT,
            Value::ZonedDateTime(_) => type_rank::ZONED_DATETIME,
            Value::LocalDateTime(_) => type_rank::LOCAL_DATETIME,
            Value::Date(_) => type_rank::DATE,
            Value::ZonedTime(_) => type_rank::ZONED_TIME,
            Value::LocalTime(_) => type_rank::LOCAL_TIME,
            Value::Duration(_) => type_rank::DURATION,
            Value::String(_) => type_rank::STRING,
            Value::Bool(_) => type_rank::BOOLEAN,
            Value::Int(_) | Value::Float(_) => type_rank::NUMBER,
            Value::Null => type_rank::NULL,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// How deeply lists and maps nest: 0 for a scalar, 1 for `[1, 2]`, 2 for `[[1]]`.
    /// The encoding refuses to decode values nested deeper than
    /// [`crate::encoding::MAX_DEPTH`], so writers must check this before storing.
    pub fn nesting_depth(&self) -> usize {
        match self {
            Value::List(items) => 1 + items.iter().map(Value::<G>::nesting_depth).max().unwrap_or(0),
            Value::Map(map) => 1 + map.values().map(Value::nesting_depth).max().unwrap_or(0),
            _ => 0,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_float(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value<G>]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Value<G>>> {
        match self {
            Value::Map(map) => Some(map),
            _ => None,
        }
    }
}

/// Structural identity (see the module docs): not Cypher equality. Entities are equal
/// when their own `PartialEq` says so (all of them, not only the id).
impl<G: Entities> PartialEq for Value<G> {
    fn eq(&self, other: &Value<G>) -> bool {
        use Value as V;
        match (self, other) {
            (V::Null, V::Null) => true,
            (V::Bool(a), V::Bool(b)) => a == b,
            (V::Int(a), V::Int(b)) => a == b,
            (V::Float(a), V::Float(b)) => a.to_bits() == b.to_bits(),
            (V::String(a), V::String(b)) => a == b,
            (V::List(a), V::List(b)) => a == b,
            (V::Map(a), V::Map(b)) => a == b,
            (V::Date(a), V::Date(b)) => a == b,
            (V::LocalTime(a), V::LocalTime(b)) => a == b,
            (V::ZonedTime(a), V::ZonedTime(b)) => a == b,
            (V::LocalDateTime(a), V::LocalDateTime(b)) => a == b,
            (V::ZonedDateTime(a), V::ZonedDateTime(b)) => a == b,
            (V::Duration(a), V::Duration(b)) => a == b,
            (V::Point(a), V::Point(b)) => a == b,
            (V::Node(a), V::Node(b)) => a == b,
            (V::Relationship(a), V::Relationship(b)) => a == b,
            (V::Path(a), V::Path(b)) => a == b,
            _ => false,
        }
    }
}

/// Bitwise float identity is reflexive, so structural identity is an equivalence where the
/// entities' own equality is one.
impl<G: Entities> Eq for Value<G>
where
    G::Node: Eq,
    G::Relationship: Eq,
    G::Path: Eq,
{
}

macro_rules! value_from {
    ($($source:ty => $variant:ident),* $(,)?) => {
        $(impl<G: Entities> From<$source> for Value<G> {
            fn from(v: $source) -> Value<G> {
                Value::$variant(v)
            }
        })*
    };
}

value_from! {
    bool => Bool,
    i64 => Int,
    f64 => Float,
    String => String,
    Vec<Value<G>> => List,
    BTreeMap<String, Value<G>> => Map,
    Date => Date,
    LocalTime => LocalTime,
    ZonedTime => ZonedTime,
    LocalDateTime => LocalDateTime,
    ZonedDateTime => ZonedDateTime,
    Duration => Duration,
    Point => Point,
}

impl<G: Entities> From<&str> for Value<G> {
    fn from(v: &str) -> Value<G> {
        Value::String(v.to_string())
    }
}

/// Cypher-literal-like rendering, as the TCK writes expected results: `null`, `true`,
/// `1`, `1.5`, `NaN`, `Infinity`, `'it\'s'` (single quotes, backslash escapes),
/// `[1, 'a']`, `{a: 1, `odd key`: 2}`; temporal values appear bare in their ISO-8601
/// form (`2024-01-05`, `P1D`), as Neo4j prints them; points as Neo4j's `toString` writes
/// them (`point({x: 1.5, y: 2.5, crs: 'cartesian'})`); entities as their instance renders
/// them.
impl<G: Entities> fmt::Display for Value<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write_float(f, *x),
            Value::String(s) => write_quoted(f, s),
            Value::List(items) => write_list(f, items),
            Value::Map(map) => write_map(f, map),
            Value::Date(d) => write!(f, "{d}"),
            Value::LocalTime(t) => write!(f, "{t}"),
            Value::ZonedTime(t) => write!(f, "{t}"),
            Value::LocalDateTime(dt) => write!(f, "{dt}"),
            Value::ZonedDateTime(dt) => write!(f, "{dt}"),
            Value::Duration(d) => write!(f, "{d}"),
            Value::Point(p) => write!(f, "{p}"),
            Value::Node(node) => G::fmt_node(node, f),
            Value::Relationship(relationship) => G::fmt_relationship(relationship, f),
            Value::Path(path) => G::fmt_path(path, f),
        }
    }
}

/// Floats always show a decimal point or exponent (`1.0`, `1e100`), so they read back
/// as floats.
fn write_float(f: &mut fmt::Formatter<'_>, x: f64) -> fmt::Result {
    if x.is_nan() {
        f.write_str("NaN")
    } else if x.is_infinite() {
        f.write_str(if x > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        write!(f, "{x:?}")
    }
}

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("'")?;
    for c in s.chars() {
        match c {
            '\'' => f.write_str("\\'")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("'")
}

fn write_list<G: Entities>(f: &mut fmt::Formatter<'_>, items: &[Value<G>]) -> fmt::Result {
    f.write_str("[")?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    f.write_str("]")
}

fn write_map<G: Entities>(f: &mut fmt::Formatter<'_>, map: &BTreeMap<String, Value<G>>) -> fmt::Result {
    f.write_str("{")?;
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write_key(f, key)?;
        write!(f, ": {value}")?;
    }
    f.write_str("}")
}

/// A map key: bare when it is a plain identifier, otherwise in backticks.
fn write_key(f: &mut fmt::Formatter<'_>, key: &str) -> fmt::Result {
    f.write_str(&cypher_name(key))
}

/// A label, type, key or variable name as Cypher text: bare when it is a plain
/// identifier, otherwise in backticks (a backtick inside doubled).
pub fn cypher_name(name: &str) -> std::borrow::Cow<'_, str> {
    let mut chars = name.chars();
    let plain =
        chars.next().is_some_and(|c| c.is_alphabetic() || c == '_') && chars.all(|c| c.is_alphanumeric() || c == '_');
    if plain {
        std::borrow::Cow::Borrowed(name)
    } else {
        std::borrow::Cow::Owned(format!("`{}`", name.replace('`', "``")))
    }
}

#[cfg(test)]
mod tests;
