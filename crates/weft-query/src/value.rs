//! Runtime values of the query engine: `weft_common`'s one value tree with graph entities
//! by id ([`QValue`] is `Value<ById>`: a node is its `Gid`, a relationship its `EdgeRef`,
//! a path a [`PathValue`]).
//!
//! Owns: what only the engine asks of a value: WHERE truthiness ([`Truth`]) and
//! [`GroupKey`], the name the engine uses for a value keyed by equivalence. Names,
//! comparison, order, hashing, rendering and the conversion to and from storage values are
//! `weft_common::value`'s, written once for every instance of the tree.

use weft_common::value::{ById, OrderedValue, Value};

use crate::error::{ErrorKind, QueryError, Result};

pub use weft_common::value::PathValue;

/// A value during query execution.
pub type QValue = Value<ById>;

/// A value compared, ordered and hashed by equivalence/orderability, for `DISTINCT` sets
/// and grouping maps: `GroupKey(Int(1)) == GroupKey(Float(1.0))`, NaN equals NaN, null
/// equals null. `Hash` agrees with `Eq`.
pub type GroupKey = OrderedValue<ById>;

/// WHERE truthiness.
pub trait Truth {
    /// `true`/`false` as themselves, null as unknown, anything else a `TypeError` (Cypher
    /// does not coerce numbers or strings to booleans).
    fn as_bool_or_null(&self) -> Result<Option<bool>>;
}

impl Truth for QValue {
    fn as_bool_or_null(&self) -> Result<Option<bool>> {
        match self {
            Value::Bool(b) => Ok(Some(*b)),
            Value::Null => Ok(None),
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

#[cfg(test)]
mod tests;
