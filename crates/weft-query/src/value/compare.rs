//! Equality, comparability, orderability and equivalence of [`QValue`]s.
//!
//! The rules are those of `weft_common::value` (CIP2016-06-14 with the TCK deciding), which
//! this module reuses for numbers so that `Int`/`Float` comparison stays exact in one
//! place. Graph entities add:
//! - nodes and relationships are equal when their ids are; paths when their node and
//!   relationship sequences are (the walking direction of a relationship is not part of a
//!   path's identity beyond the node order);
//! - nodes, relationships and paths are incomparable with `<` (null), like maps and points;
//! - in the total order, nodes and relationships sort by id and paths element-wise
//!   (start node, then each relationship and node in turn, a proper prefix first), in the
//!   `NODE`, `RELATIONSHIP` and `PATH` slots of `type_rank`.
//!
//! Invariant: `equivalent(a, b)` ⇔ `order_cmp(a, b) == Equal` ⇔ `GroupKey(a) == GroupKey(b)`,
//! and equal [`GroupKey`]s hash alike.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use weft_common::value::{type_rank, ComparisonOp};
use weft_common::Value;

use super::{PathValue, QValue};

/// The outcome of comparability (as in `weft_common::value`).
enum Compared {
    Ordered(Ordering),
    /// Null involved or incomparable types: the operator yields null.
    Unknown,
    /// A NaN met a number: every inequality operator yields false.
    NotANumber,
}

/// A number as a storage value, so that `weft_common`'s exact int/float rules apply.
fn number(value: &QValue) -> Option<Value> {
    match value {
        QValue::Int(i) => Some(Value::Int(*i)),
        QValue::Float(f) => Some(Value::Float(*f)),
        _ => None,
    }
}

fn compare(left: &QValue, right: &QValue) -> Compared {
    use QValue as Q;
    match (left, right) {
        (Q::Null, _) | (_, Q::Null) => Compared::Unknown,
        (Q::Bool(a), Q::Bool(b)) => Compared::Ordered(a.cmp(b)),
        (Q::String(a), Q::String(b)) => Compared::Ordered(a.cmp(b)),
        (Q::List(a), Q::List(b)) => compare_lists(a, b),
        (Q::Date(a), Q::Date(b)) => Compared::Ordered(a.cmp(b)),
        (Q::LocalTime(a), Q::LocalTime(b)) => Compared::Ordered(a.cmp(b)),
        (Q::ZonedTime(a), Q::ZonedTime(b)) => Compared::Ordered(a.order_cmp(b)),
        (Q::LocalDateTime(a), Q::LocalDateTime(b)) => Compared::Ordered(a.cmp(b)),
        (Q::ZonedDateTime(a), Q::ZonedDateTime(b)) => Compared::Ordered(a.order_cmp(b)),
        _ => match (number(left), number(right)) {
            (Some(a), Some(b)) => a.cypher_cmp(&b).map_or(Compared::NotANumber, Compared::Ordered),
            _ => Compared::Unknown,
        },
    }
}

/// Lexicographic comparability: the first element pair that is not equal decides.
fn compare_lists(left: &[QValue], right: &[QValue]) -> Compared {
    for (a, b) in left.iter().zip(right) {
        match compare(a, b) {
            Compared::Ordered(Ordering::Equal) => continue,
            decided => return decided,
        }
    }
    Compared::Ordered(left.len().cmp(&right.len()))
}

/// Ternary AND over element equalities: any false wins, then any unknown.
fn all_equal<'a>(pairs: impl Iterator<Item = (&'a QValue, &'a QValue)>) -> Option<bool> {
    let mut unknown = false;
    for (a, b) in pairs {
        match a.cypher_eq(b) {
            Some(false) => return Some(false),
            None => unknown = true,
            Some(true) => {}
        }
    }
    (!unknown).then_some(true)
}

/// A path's elements as one id sequence: start, then (relationship, node) per step.
fn path_ids(path: &PathValue) -> impl Iterator<Item = u64> + '_ {
    let steps = path.steps.iter().flat_map(|(edge, node)| [edge.gid.0, node.0]);
    std::iter::once(path.start.0).chain(steps)
}

fn order_lists(left: &[QValue], right: &[QValue]) -> Ordering {
    let by_items = left.iter().zip(right).map(|(a, b)| a.order_cmp(b)).find(|o| o.is_ne());
    by_items.unwrap_or_else(|| left.len().cmp(&right.len()))
}

fn order_maps(left: &BTreeMap<String, QValue>, right: &BTreeMap<String, QValue>) -> Ordering {
    left.keys().cmp(right.keys()).then_with(|| {
        let mut by_values = left.values().zip(right.values()).map(|(a, b)| a.order_cmp(b));
        by_values.find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
    })
}

impl QValue {
    /// This value's type position in the global sort order (`weft_common`'s `type_rank`).
    pub fn type_order_rank(&self) -> u8 {
        match self {
            QValue::Map(_) => type_rank::MAP,
            QValue::Node(_) => type_rank::NODE,
            QValue::Relationship(_) => type_rank::RELATIONSHIP,
            QValue::List(_) => type_rank::LIST,
            QValue::Point(_) => type_rank::POINT,
            QValue::Path(_) => type_rank::PATH,
            QValue::ZonedDateTime(_) => type_rank::ZONED_DATETIME,
            QValue::LocalDateTime(_) => type_rank::LOCAL_DATETIME,
            QValue::Date(_) => type_rank::DATE,
            QValue::ZonedTime(_) => type_rank::ZONED_TIME,
            QValue::LocalTime(_) => type_rank::LOCAL_TIME,
            QValue::Duration(_) => type_rank::DURATION,
            QValue::String(_) => type_rank::STRING,
            QValue::Bool(_) => type_rank::BOOLEAN,
            QValue::Int(_) | QValue::Float(_) => type_rank::NUMBER,
            QValue::Null => type_rank::NULL,
        }
    }

    /// openCypher equality (`=`): ternary; `None` means null. `1 = 1.0` is true, `NaN = NaN`
    /// false, values of different types unequal; nodes and relationships by id.
    pub fn cypher_eq(&self, other: &QValue) -> Option<bool> {
        use QValue as Q;
        match (self, other) {
            (Q::Null, _) | (_, Q::Null) => None,
            (Q::List(a), Q::List(b)) if a.len() == b.len() => all_equal(a.iter().zip(b)),
            (Q::Map(a), Q::Map(b)) if a.keys().eq(b.keys()) => all_equal(a.values().zip(b.values())),
            (Q::List(_), Q::List(_)) | (Q::Map(_), Q::Map(_)) => Some(false),
            (Q::Duration(a), Q::Duration(b)) => Some(a == b),
            (Q::Point(a), Q::Point(b)) => Some(a.order_cmp(b).is_eq()),
            (Q::Node(a), Q::Node(b)) => Some(a == b),
            (Q::Relationship(a), Q::Relationship(b)) => Some(a.gid == b.gid),
            (Q::Path(a), Q::Path(b)) => Some(path_ids(a).eq(path_ids(b))),
            _ => Some(matches!(compare(self, other), Compared::Ordered(Ordering::Equal))),
        }
    }

    /// Evaluates `self op other` with three-valued logic: `None` for null or incomparable
    /// values; `Some(false)` when a NaN meets a number (`0.0/0.0 > 1` is false).
    pub fn cypher_compare(&self, op: ComparisonOp, other: &QValue) -> Option<bool> {
        match compare(self, other) {
            Compared::Ordered(ordering) => Some(op.holds(ordering)),
            Compared::Unknown => None,
            Compared::NotANumber => Some(false),
        }
    }

    /// openCypher orderability: the total order of `ORDER BY`, `min` and `max` (ascending:
    /// maps, nodes, relationships, lists, paths, points, temporals, strings, booleans, numbers,
    /// NaN, null).
    pub fn order_cmp(&self, other: &QValue) -> Ordering {
        use QValue as Q;
        let by_type = self.type_order_rank().cmp(&other.type_order_rank());
        if by_type.is_ne() {
            return by_type;
        }
        match (self, other) {
            (Q::List(a), Q::List(b)) => order_lists(a, b),
            (Q::Map(a), Q::Map(b)) => order_maps(a, b),
            (Q::Duration(a), Q::Duration(b)) => a.order_cmp(b),
            (Q::Point(a), Q::Point(b)) => a.order_cmp(b),
            (Q::Node(a), Q::Node(b)) => a.cmp(b),
            (Q::Relationship(a), Q::Relationship(b)) => a.gid.cmp(&b.gid),
            (Q::Path(a), Q::Path(b)) => path_ids(a).cmp(path_ids(b)),
            _ => match (number(self), number(other)) {
                (Some(a), Some(b)) => a.order_cmp(&b),
                _ => match compare(self, other) {
                    Compared::Ordered(ordering) => ordering,
                    // Same rank and no order: two nulls.
                    Compared::Unknown | Compared::NotANumber => Ordering::Equal,
                },
            },
        }
    }

    /// openCypher equivalence (`DISTINCT`, grouping): equality, except that null is
    /// equivalent to null and NaN to NaN. Exactly `order_cmp(..) == Equal`.
    pub fn equivalent(&self, other: &QValue) -> bool {
        // The common grouping keys first, without the general ordering's type ranks.
        match (self, other) {
            (QValue::Int(a), QValue::Int(b)) => a == b,
            (QValue::String(a), QValue::String(b)) => a == b,
            (QValue::Node(a), QValue::Node(b)) => a == b,
            _ => self.order_cmp(other).is_eq(),
        }
    }
}

/// A value compared, ordered and hashed by equivalence/orderability, for `DISTINCT` sets
/// and grouping maps: `GroupKey(Int(1)) == GroupKey(Float(1.0))`, NaN equals NaN, null
/// equals null. `Hash` agrees with `Eq`.
#[derive(Clone, Debug)]
pub struct GroupKey(pub QValue);

impl PartialEq for GroupKey {
    fn eq(&self, other: &GroupKey) -> bool {
        self.0.equivalent(&other.0)
    }
}

impl Eq for GroupKey {}

impl PartialOrd for GroupKey {
    fn partial_cmp(&self, other: &GroupKey) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for GroupKey {
    fn cmp(&self, other: &GroupKey) -> Ordering {
        self.0.order_cmp(&other.0)
    }
}

impl Hash for GroupKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_value(&self.0, state);
    }
}

impl From<QValue> for GroupKey {
    fn from(value: QValue) -> GroupKey {
        GroupKey(value)
    }
}

/// 2^63 as a float: the first float above every `i64`.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// Hashes so that equivalent values hash alike: a number hashes as an integer whenever it
/// has an integral value in `i64` range, whichever variant holds it.
fn hash_value<H: Hasher>(value: &QValue, state: &mut H) {
    state.write_u8(value.type_order_rank());
    match value {
        QValue::Null => {}
        QValue::Bool(b) => b.hash(state),
        QValue::Int(i) => hash_integral(*i, state),
        QValue::Float(f) => hash_float(*f, state),
        QValue::String(s) => s.hash(state),
        QValue::List(items) => {
            state.write_usize(items.len());
            items.iter().for_each(|item| hash_value(item, state));
        }
        QValue::Map(map) => {
            state.write_usize(map.len());
            for (key, item) in map {
                key.hash(state);
                hash_value(item, state);
            }
        }
        QValue::Date(d) => d.hash(state),
        QValue::LocalTime(t) => t.hash(state),
        QValue::ZonedTime(t) => t.hash(state),
        QValue::LocalDateTime(dt) => dt.hash(state),
        QValue::ZonedDateTime(dt) => dt.hash(state),
        QValue::Duration(d) => d.hash(state),
        QValue::Point(p) => p.hash_equivalent(state),
        QValue::Node(gid) => gid.hash(state),
        QValue::Relationship(edge) => edge.gid.hash(state),
        QValue::Path(path) => path_ids(path).for_each(|id| state.write_u64(id)),
    }
}

fn hash_integral<H: Hasher>(int: i64, state: &mut H) {
    state.write_u8(0);
    state.write_i64(int);
}

fn hash_float<H: Hasher>(float: f64, state: &mut H) {
    if float.is_nan() {
        state.write_u8(2);
    } else if float.fract() == 0.0 && (-TWO_POW_63..TWO_POW_63).contains(&float) {
        // Exact: integral and in range. Also folds -0.0 into 0.
        hash_integral(float as i64, state);
    } else {
        state.write_u8(1);
        state.write_u64(float.to_bits());
    }
}
