//! Equality, comparability, orderability and equivalence of [`Value`]s (CIP2016-06-14,
//! with the openCypher TCK deciding where the CIP is loose).
//!
//! Rules, per type pair:
//! - Numbers compare across `Int`/`Float` exactly, as if both were arbitrary-precision
//!   decimals: `i64::MAX < 9.223372036854776e18` and `2^53 + 1 > 2^53 as f64`.
//! - NaN: `=` is false against anything; `<`-style operators against a number are
//!   *false* (TCK `Comparison2` [5]), so [`Value::cypher_cmp`] returns `None` and
//!   [`Value::cypher_compare`] returns `Some(false)`. In the order NaN is the greatest
//!   number, and all NaNs are equivalent.
//! - Lists compare lexicographically; the first element pair that is not equal decides,
//!   so `[1, null] >= [1]` is true but `[1, 2] >= [1, null]` is null (TCK `Comparison2`).
//!   List and map equality: different shapes are false; otherwise any false element pair
//!   makes it false, else any unknown pair makes it unknown.
//! - Maps, durations and points have equality but are incomparable with `<`. Points are
//!   equal when their CRS and every coordinate are (`-0.0 = 0.0`).
//! - Zoned times compare by time of day in UTC, then offset (equal only if both match).
//! - Zoned datetimes compare by instant, then offset, then zone name (`None` first);
//!   equal only if all three match (as Neo4j: same instant in another zone is not equal).
//! - Values of different types are unequal (`=` is false) and incomparable (`<` is null).
//! - Nodes and relationships are equal when their ids are, paths when their id sequences
//!   (start node, then each relationship and node) are; all three are incomparable with `<`.
//!
//! Total order for `ORDER BY`: first by [`Value::type_order_rank`], then within a type by
//! comparability, extended as follows: NaN and null as above; lists element-wise by the
//! total order, a proper prefix first; maps by their sorted key lists (lexicographic, a
//! prefix first), then by values in key order; durations by (months, days, seconds, nanos);
//! points by SRID, then coordinates; nodes and relationships by id; paths by their id
//! sequences, a proper prefix first.
//!
//! Invariant: `equivalent(a, b)` ⇔ `order_cmp(a, b) == Equal` ⇔ `OrderedValue(a) ==
//! OrderedValue(b)`, and equal [`OrderedValue`]s hash alike.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use super::{Entities, Stored, Value};
use crate::temporal::{Duration, ZonedDateTime};

/// An inequality operator, for [`Value::cypher_compare`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ComparisonOp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl ComparisonOp {
    /// Whether `ordering` (of left operand against right) satisfies this operator.
    pub fn holds(self, ordering: Ordering) -> bool {
        match self {
            ComparisonOp::Lt => ordering.is_lt(),
            ComparisonOp::Le => ordering.is_le(),
            ComparisonOp::Gt => ordering.is_gt(),
            ComparisonOp::Ge => ordering.is_ge(),
        }
    }
}

/// The outcome of comparability, richer than `Option<Ordering>`.
enum Compared {
    Ordered(Ordering),
    /// Null involved, or incomparable types: the operator yields null.
    Unknown,
    /// A NaN met a number: every inequality operator yields false.
    NotANumber,
}

/// A numeric view of a value.
#[derive(Clone, Copy)]
enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    fn of<G: Entities>(value: &Value<G>) -> Option<Number> {
        match value {
            Value::Int(i) => Some(Number::Int(*i)),
            Value::Float(f) => Some(Number::Float(*f)),
            _ => None,
        }
    }

    fn is_nan(self) -> bool {
        matches!(self, Number::Float(f) if f.is_nan())
    }

    /// Exact numeric comparison; `None` if either is NaN.
    fn cmp(self, other: Number) -> Option<Ordering> {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => Some(a.cmp(&b)),
            (Number::Float(a), Number::Float(b)) => a.partial_cmp(&b),
            (Number::Int(a), Number::Float(b)) => cmp_int_float(a, b),
            (Number::Float(a), Number::Int(b)) => cmp_int_float(b, a).map(Ordering::reverse),
        }
    }
}

/// 2^63 as a float: the first float above every `i64`.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// Compares an integer with a float without rounding either; `None` for NaN.
fn cmp_int_float(int: i64, float: f64) -> Option<Ordering> {
    if float.is_nan() {
        return None;
    }
    if float >= TWO_POW_63 {
        return Some(Ordering::Less);
    }
    if float < -TWO_POW_63 {
        return Some(Ordering::Greater);
    }
    // In range, the integral part converts exactly; the fraction breaks ties.
    let whole = float.trunc();
    let by_whole = int.cmp(&(whole as i64));
    Some(by_whole.then(whole.partial_cmp(&float).unwrap_or(Ordering::Equal)))
}

/// Comparability (the rules in the module docs).
fn compare<G: Entities>(left: &Value<G>, right: &Value<G>) -> Compared {
    use Value as V;
    match (left, right) {
        (V::Null, _) | (_, V::Null) => Compared::Unknown,
        (V::Bool(a), V::Bool(b)) => Compared::Ordered(a.cmp(b)),
        (V::String(a), V::String(b)) => Compared::Ordered(a.cmp(b)),
        (V::List(a), V::List(b)) => compare_lists(a, b),
        (V::Date(a), V::Date(b)) => Compared::Ordered(a.cmp(b)),
        (V::LocalTime(a), V::LocalTime(b)) => Compared::Ordered(a.cmp(b)),
        (V::ZonedTime(a), V::ZonedTime(b)) => Compared::Ordered(a.order_cmp(b)),
        (V::LocalDateTime(a), V::LocalDateTime(b)) => Compared::Ordered(a.cmp(b)),
        (V::ZonedDateTime(a), V::ZonedDateTime(b)) => Compared::Ordered(a.order_cmp(b)),
        _ => match (Number::of(left), Number::of(right)) {
            (Some(a), Some(b)) => a.cmp(b).map_or(Compared::NotANumber, Compared::Ordered),
            _ => Compared::Unknown,
        },
    }
}

/// Lexicographic comparability: the first element pair that is not equal decides.
fn compare_lists<G: Entities>(left: &[Value<G>], right: &[Value<G>]) -> Compared {
    for (a, b) in left.iter().zip(right) {
        match compare(a, b) {
            Compared::Ordered(Ordering::Equal) => continue,
            decided => return decided,
        }
    }
    Compared::Ordered(left.len().cmp(&right.len()))
}

impl ZonedDateTime {
    /// The total order of zoned datetimes: instant, then offset, then zone name (`None`
    /// first). Shared by every value type that holds one.
    pub fn order_cmp(&self, other: &ZonedDateTime) -> Ordering {
        (self.epoch_nanos().cmp(&other.epoch_nanos()))
            .then(self.offset_seconds.cmp(&other.offset_seconds))
            .then_with(|| self.zone.cmp(&other.zone))
    }
}

impl Duration {
    /// The total order of durations (for ORDER BY only; durations are not comparable
    /// with `<`): months, days, seconds, nanoseconds.
    pub fn order_cmp(&self, other: &Duration) -> Ordering {
        (self.months, self.days, self.seconds, self.nanos).cmp(&(other.months, other.days, other.seconds, other.nanos))
    }
}

/// Ternary AND over element equalities: any false wins, then any unknown.
fn all_equal<'a, G: Entities>(pairs: impl Iterator<Item = (&'a Value<G>, &'a Value<G>)>) -> Option<bool> {
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

fn order_lists<G: Entities>(left: &[Value<G>], right: &[Value<G>]) -> Ordering {
    let by_items = left.iter().zip(right).map(|(a, b)| a.order_cmp(b)).find(|o| o.is_ne());
    by_items.unwrap_or_else(|| left.len().cmp(&right.len()))
}

fn order_maps<G: Entities>(left: &BTreeMap<String, Value<G>>, right: &BTreeMap<String, Value<G>>) -> Ordering {
    left.keys().cmp(right.keys()).then_with(|| {
        let mut by_values = left.values().zip(right.values()).map(|(a, b)| a.order_cmp(b));
        by_values.find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
    })
}

impl<G: Entities> Value<G> {
    /// openCypher equality (`=`): ternary; `None` means null (e.g. `null = 1`, or
    /// `[1, null] = [1, 2]`). `1 = 1.0` is true; `NaN = NaN` is false; values of
    /// different types (other than two numbers) are unequal; entities are equal by id.
    pub fn cypher_eq(&self, other: &Value<G>) -> Option<bool> {
        use Value as V;
        match (self, other) {
            (V::Null, _) | (_, V::Null) => None,
            (V::List(a), V::List(b)) if a.len() == b.len() => all_equal(a.iter().zip(b)),
            (V::Map(a), V::Map(b)) if a.keys().eq(b.keys()) => all_equal(a.values().zip(b.values())),
            (V::List(_), V::List(_)) | (V::Map(_), V::Map(_)) => Some(false),
            (V::Duration(a), V::Duration(b)) => Some(a == b),
            (V::Point(a), V::Point(b)) => Some(a.order_cmp(b).is_eq()),
            (V::Node(a), V::Node(b)) => Some(G::node_id(a) == G::node_id(b)),
            (V::Relationship(a), V::Relationship(b)) => Some(G::relationship_id(a) == G::relationship_id(b)),
            (V::Path(a), V::Path(b)) => Some(G::path_ids(a) == G::path_ids(b)),
            _ => Some(matches!(compare(self, other), Compared::Ordered(Ordering::Equal))),
        }
    }

    /// openCypher comparability (`<`, `<=`, ...): `None` when the result is null or the
    /// values are incomparable (different types, nulls, NaN, maps, durations, points). Numbers
    /// compare across `Int`/`Float` exactly. To evaluate an operator, prefer
    /// [`Value::cypher_compare`], which also gets NaN right.
    pub fn cypher_cmp(&self, other: &Value<G>) -> Option<Ordering> {
        match compare(self, other) {
            Compared::Ordered(ordering) => Some(ordering),
            Compared::Unknown | Compared::NotANumber => None,
        }
    }

    /// Evaluates `self op other` with openCypher's three-valued result: like
    /// [`Value::cypher_cmp`], except that a NaN met by a number yields `Some(false)`
    /// rather than null (`0.0/0.0 > 1` is false; `0.0/0.0 > 'a'` is null).
    pub fn cypher_compare(&self, op: ComparisonOp, other: &Value<G>) -> Option<bool> {
        match compare(self, other) {
            Compared::Ordered(ordering) => Some(op.holds(ordering)),
            Compared::Unknown => None,
            Compared::NotANumber => Some(false),
        }
    }

    /// openCypher orderability: the total order used by `ORDER BY` and index ranges
    /// (ascending: maps, nodes, relationships, lists, paths, points, temporals, strings,
    /// booleans, numbers, NaN, null).
    #[inline]
    pub fn order_cmp(&self, other: &Value<G>) -> Ordering {
        // Index keys are mostly integers or strings: those need no type ranks, and are
        // compared inline where a B+ tree searches (the rest is out of line).
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => a.cmp(b),
            (Value::String(a), Value::String(b)) => a.cmp(b),
            _ => self.order_cmp_ranked(other),
        }
    }

    /// [`Value::order_cmp`] for every other pair: type ranks first.
    #[inline(never)]
    fn order_cmp_ranked(&self, other: &Value<G>) -> Ordering {
        use Value as V;
        let by_type = self.type_order_rank().cmp(&other.type_order_rank());
        if by_type.is_ne() {
            return by_type;
        }
        match (self, other) {
            (V::List(a), V::List(b)) => order_lists(a, b),
            (V::Map(a), V::Map(b)) => order_maps(a, b),
            (V::Duration(a), V::Duration(b)) => a.order_cmp(b),
            (V::Point(a), V::Point(b)) => a.order_cmp(b),
            (V::Node(a), V::Node(b)) => G::node_id(a).cmp(&G::node_id(b)),
            (V::Relationship(a), V::Relationship(b)) => G::relationship_id(a).cmp(&G::relationship_id(b)),
            (V::Path(a), V::Path(b)) => G::path_ids(a).cmp(&G::path_ids(b)),
            _ => match compare(self, other) {
                Compared::Ordered(ordering) => ordering,
                // Same rank and no order: two nulls, or numbers with a NaN.
                Compared::Unknown | Compared::NotANumber => self.is_nan().cmp(&other.is_nan()),
            },
        }
    }

    /// openCypher equivalence (`DISTINCT`, grouping): equality, except that null is
    /// equivalent to null and NaN to NaN. Exactly `order_cmp(..) == Equal`.
    pub fn equivalent(&self, other: &Value<G>) -> bool {
        // The common grouping keys first, without the general order's type ranks.
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Node(a), Value::Node(b)) => G::node_id(a) == G::node_id(b),
            _ => self.order_cmp(other).is_eq(),
        }
    }

    fn is_nan(&self) -> bool {
        Number::of(self).is_some_and(Number::is_nan)
    }
}

/// A value ordered, compared and hashed by orderability/equivalence, for use as an index
/// or grouping key: `OrderedValue(Int(1)) == OrderedValue(Float(1.0))`, and NaN equals
/// NaN. `Hash` agrees with `Eq`.
#[derive(Clone, Debug)]
pub struct OrderedValue<G: Entities = Stored>(pub Value<G>);

impl<G: Entities> PartialEq for OrderedValue<G> {
    fn eq(&self, other: &OrderedValue<G>) -> bool {
        self.0.equivalent(&other.0)
    }
}

impl<G: Entities> Eq for OrderedValue<G> {}

impl<G: Entities> PartialOrd for OrderedValue<G> {
    fn partial_cmp(&self, other: &OrderedValue<G>) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<G: Entities> Ord for OrderedValue<G> {
    fn cmp(&self, other: &OrderedValue<G>) -> Ordering {
        self.0.order_cmp(&other.0)
    }
}

impl<G: Entities> Hash for OrderedValue<G> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_value(&self.0, state);
    }
}

impl<G: Entities> From<Value<G>> for OrderedValue<G> {
    fn from(value: Value<G>) -> OrderedValue<G> {
        OrderedValue(value)
    }
}

/// Hashes so that equivalent values hash alike: a number hashes as an integer whenever
/// it has an integral value in `i64` range, whichever variant holds it.
fn hash_value<G: Entities, H: Hasher>(value: &Value<G>, state: &mut H) {
    state.write_u8(value.type_order_rank());
    match value {
        Value::Null => {}
        Value::Bool(b) => b.hash(state),
        Value::Int(i) => hash_integral(*i, state),
        Value::Float(f) => hash_float(*f, state),
        Value::String(s) => s.hash(state),
        Value::List(items) => {
            state.write_usize(items.len());
            items.iter().for_each(|item| hash_value(item, state));
        }
        Value::Map(map) => {
            state.write_usize(map.len());
            for (key, item) in map {
                key.hash(state);
                hash_value(item, state);
            }
        }
        Value::Date(d) => d.hash(state),
        Value::LocalTime(t) => t.hash(state),
        Value::ZonedTime(t) => t.hash(state),
        Value::LocalDateTime(dt) => dt.hash(state),
        Value::ZonedDateTime(dt) => dt.hash(state),
        Value::Duration(d) => d.hash(state),
        Value::Point(p) => p.hash_equivalent(state),
        Value::Node(node) => state.write_u64(G::node_id(node)),
        Value::Relationship(relationship) => state.write_u64(G::relationship_id(relationship)),
        Value::Path(path) => G::path_ids(path).into_iter().for_each(|id| state.write_u64(id)),
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
