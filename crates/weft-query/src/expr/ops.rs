//! Cypher operators over runtime values: arithmetic, boolean logic, comparison, `IN`,
//! string predicates, `=~`, subscripts, slices and property access.
//!
//! Promises (openCypher, with the TCK deciding and Neo4j where the TCK is silent):
//! - Null propagates: any null operand of an arithmetic, comparison, string or subscript
//!   operator yields null. Boolean operators use three-valued logic instead
//!   (`false AND null` is false, `true OR null` is true).
//! - Integer arithmetic is checked: overflow and integer division or modulo by zero are
//!   `ArithmeticError`s. Float arithmetic follows IEEE 754 (`1.0/0` is `Infinity`).
//! - `+` also concatenates strings (a string plus a number, boolean or temporal renders
//!   the other operand as `toString` does), concatenates lists, appends or prepends an
//!   element to a list, adds durations to temporals and to durations.
//! - Operands of the wrong type are `TypeError`s, never panics; string predicates on
//!   non-strings yield null (TCK `String8`-`String10`).
//!
//! Needs: the graph through [`GraphContext`] for properties of nodes and relationships,
//! and `functions` for temporal arithmetic and value rendering.

use std::cell::RefCell;
use std::collections::HashMap;

use weft_common::value::ComparisonOp;

use crate::ast::BinaryOp;
use crate::error::{ErrorKind, QueryError, Result};
use crate::functions::temporal::{self, duration};
use crate::functions::{convert, spatial};
use crate::graph::GraphContext;
use crate::value::QValue;

fn type_error(message: String) -> QueryError {
    QueryError::runtime(ErrorKind::TypeError, "InvalidArgumentType", message)
}

fn operand_error(op: &str, a: &QValue, b: &QValue) -> QueryError {
    type_error(format!(
        "cannot apply `{op}` to {} and {}",
        a.type_name(),
        b.type_name()
    ))
}

fn overflow(op: &str) -> QueryError {
    QueryError::runtime(
        ErrorKind::ArithmeticError,
        "IntegerOverflow",
        format!("integer overflow in `{op}`"),
    )
}

fn division_by_zero() -> QueryError {
    QueryError::runtime(ErrorKind::ArithmeticError, "DivisionByZero", "/ by zero")
}

/// A number as a float, for mixed arithmetic.
fn as_float(value: &QValue) -> Option<f64> {
    match value {
        QValue::Int(i) => Some(*i as f64),
        QValue::Float(f) => Some(*f),
        _ => None,
    }
}

fn is_number(value: &QValue) -> bool {
    matches!(value, QValue::Int(_) | QValue::Float(_))
}

/// Applies a float operation when both operands are numbers (at least one a float).
fn float_op(op: &str, a: &QValue, b: &QValue, f: impl Fn(f64, f64) -> f64) -> Result<QValue> {
    match (as_float(a), as_float(b)) {
        (Some(x), Some(y)) => Ok(QValue::Float(f(x, y))),
        _ => Err(operand_error(op, a, b)),
    }
}

/// `a + b`.
pub fn add(a: &QValue, b: &QValue) -> Result<QValue> {
    use QValue as Q;
    match (a, b) {
        (Q::Null, _) | (_, Q::Null) => Ok(Q::Null),
        (Q::Int(x), Q::Int(y)) => x.checked_add(*y).map(Q::Int).ok_or_else(|| overflow("+")),
        (Q::List(x), Q::List(y)) => Ok(Q::List(x.iter().chain(y).cloned().collect())),
        (Q::List(x), y) => Ok(Q::List(x.iter().chain(std::iter::once(y)).cloned().collect())),
        (x, Q::List(y)) => Ok(Q::List(std::iter::once(x).chain(y).cloned().collect())),
        (Q::String(x), y) | (y, Q::String(x)) if !matches!(y, Q::String(_)) => {
            let text = convert::text_of(y).ok_or_else(|| operand_error("+", a, b))?;
            Ok(Q::String(if matches!(a, Q::String(_)) {
                format!("{x}{text}")
            } else {
                format!("{text}{x}")
            }))
        }
        (Q::String(x), Q::String(y)) => Ok(Q::String(format!("{x}{y}"))),
        (Q::Duration(x), Q::Duration(y)) => Ok(Q::Duration(duration::add(x, y)?)),
        (t, Q::Duration(d)) | (Q::Duration(d), t) if duration::is_instant(t) => duration::add_to_temporal(t, d),
        _ => float_op("+", a, b, |x, y| x + y),
    }
}

/// `a - b`.
pub fn sub(a: &QValue, b: &QValue) -> Result<QValue> {
    use QValue as Q;
    match (a, b) {
        (Q::Null, _) | (_, Q::Null) => Ok(Q::Null),
        (Q::Int(x), Q::Int(y)) => x.checked_sub(*y).map(Q::Int).ok_or_else(|| overflow("-")),
        (Q::Duration(x), Q::Duration(y)) => Ok(Q::Duration(duration::add(x, &duration::negate(y)?)?)),
        (t, Q::Duration(d)) if duration::is_instant(t) => duration::add_to_temporal(t, &duration::negate(d)?),
        _ => float_op("-", a, b, |x, y| x - y),
    }
}

/// `a * b`.
pub fn mul(a: &QValue, b: &QValue) -> Result<QValue> {
    use QValue as Q;
    match (a, b) {
        (Q::Null, _) | (_, Q::Null) => Ok(Q::Null),
        (Q::Int(x), Q::Int(y)) => x.checked_mul(*y).map(Q::Int).ok_or_else(|| overflow("*")),
        (Q::Duration(d), n) | (n, Q::Duration(d)) if is_number(n) => Ok(Q::Duration(duration::multiply(d, n)?)),
        _ => float_op("*", a, b, |x, y| x * y),
    }
}

/// `a / b`: integer division truncates toward zero; an integer divided by zero is an
/// `ArithmeticError`, a float divided by zero infinite or NaN.
pub fn div(a: &QValue, b: &QValue) -> Result<QValue> {
    use QValue as Q;
    match (a, b) {
        (Q::Null, _) | (_, Q::Null) => Ok(Q::Null),
        (Q::Int(_), Q::Int(0)) => Err(division_by_zero()),
        (Q::Int(x), Q::Int(y)) => x.checked_div(*y).map(Q::Int).ok_or_else(|| overflow("/")),
        (Q::Duration(d), n) if is_number(n) => Ok(Q::Duration(duration::divide(d, n)?)),
        _ => float_op("/", a, b, |x, y| x / y),
    }
}

/// `a % b`: the remainder takes the sign of the dividend (as Java and Rust).
pub fn modulo(a: &QValue, b: &QValue) -> Result<QValue> {
    use QValue as Q;
    match (a, b) {
        (Q::Null, _) | (_, Q::Null) => Ok(Q::Null),
        (Q::Int(_), Q::Int(0)) => Err(division_by_zero()),
        (Q::Int(x), Q::Int(y)) => Ok(Q::Int(x.wrapping_rem(*y))),
        _ => float_op("%", a, b, |x, y| x % y),
    }
}

/// `a ^ b`: always a float.
pub fn pow(a: &QValue, b: &QValue) -> Result<QValue> {
    match (a, b) {
        (QValue::Null, _) | (_, QValue::Null) => Ok(QValue::Null),
        _ => float_op("^", a, b, f64::powf),
    }
}

/// `-a`.
pub fn neg(a: &QValue) -> Result<QValue> {
    match a {
        QValue::Null => Ok(QValue::Null),
        QValue::Int(i) => i.checked_neg().map(QValue::Int).ok_or_else(|| overflow("-")),
        QValue::Float(f) => Ok(QValue::Float(-f)),
        QValue::Duration(d) => Ok(QValue::Duration(duration::negate(d)?)),
        other => Err(type_error(format!("cannot negate {}", other.type_name()))),
    }
}

/// A boolean operand: `Some` for booleans, `None` for null, else a `TypeError`.
fn truth(op: &str, value: &QValue) -> Result<Option<bool>> {
    match value {
        QValue::Bool(b) => Ok(Some(*b)),
        QValue::Null => Ok(None),
        other => Err(type_error(format!(
            "`{op}` needs BOOLEAN operands, got {}",
            other.type_name()
        ))),
    }
}

fn ternary(value: Option<bool>) -> QValue {
    value.map_or(QValue::Null, QValue::Bool)
}

/// `a AND b`: false if either is false, else null if either is null.
pub fn and(a: &QValue, b: &QValue) -> Result<QValue> {
    Ok(ternary(and3(truth("AND", a)?, truth("AND", b)?)))
}

/// Three-valued AND (`None` is null): false if either is false, else null if either is.
pub fn and3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// `a OR b`: true if either is true, else null if either is null.
pub fn or(a: &QValue, b: &QValue) -> Result<QValue> {
    Ok(ternary(or3(truth("OR", a)?, truth("OR", b)?)))
}

/// Three-valued OR (`None` is null): true if either is true, else null if either is.
pub fn or3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

/// `a XOR b`: null if either is null.
pub fn xor(a: &QValue, b: &QValue) -> Result<QValue> {
    Ok(ternary(xor3(truth("XOR", a)?, truth("XOR", b)?)))
}

/// Three-valued XOR (`None` is null): null if either is.
pub fn xor3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    a.zip(b).map(|(a, b)| a != b)
}

/// `NOT a`.
pub fn not(a: &QValue) -> Result<QValue> {
    Ok(ternary(truth("NOT", a)?.map(|b| !b)))
}

/// `item IN list`: true if some element equals `item`, else null if some comparison was
/// unknown, else false (`null IN []` is false, `null IN [1]` null).
pub fn in_list(item: &QValue, list: &QValue) -> Result<QValue> {
    let items = match list {
        QValue::Null => return Ok(QValue::Null),
        QValue::List(items) => items,
        other => {
            return Err(type_error(format!(
                "`IN` needs a LIST on its right, got {}",
                other.type_name()
            )))
        }
    };
    let mut unknown = false;
    for element in items {
        match item.cypher_eq(element) {
            Some(true) => return Ok(QValue::Bool(true)),
            None => unknown = true,
            Some(false) => {}
        }
    }
    Ok(if unknown { QValue::Null } else { QValue::Bool(false) })
}

/// Applies a string predicate when both operands are strings; null otherwise.
fn string_predicate(a: &QValue, b: &QValue, f: impl Fn(&str, &str) -> bool) -> QValue {
    match (a, b) {
        (QValue::String(x), QValue::String(y)) => QValue::Bool(f(x, y)),
        _ => QValue::Null,
    }
}

/// `a STARTS WITH b`.
pub fn starts_with(a: &QValue, b: &QValue) -> Result<QValue> {
    Ok(string_predicate(a, b, |x, y| x.starts_with(y)))
}

/// `a ENDS WITH b`.
pub fn ends_with(a: &QValue, b: &QValue) -> Result<QValue> {
    Ok(string_predicate(a, b, |x, y| x.ends_with(y)))
}

/// `a CONTAINS b`.
pub fn contains(a: &QValue, b: &QValue) -> Result<QValue> {
    Ok(string_predicate(a, b, |x, y| x.contains(y)))
}

/// Compiled patterns kept per thread: a query evaluates the same `=~` once per row.
const REGEX_CACHE_CAPACITY: usize = 128;
/// Bounds the compiled size of a user pattern (matching is linear-time in the `regex` crate).
const REGEX_SIZE_LIMIT: usize = 1 << 22;

thread_local! {
    static REGEX_CACHE: RefCell<HashMap<String, regex::Regex>> = RefCell::new(HashMap::new());
}

/// `a =~ b`: whether the whole of `a` matches the regular expression `b` (as Java's
/// `String.matches`); null unless both are strings; an invalid pattern is an
/// `ArgumentError`.
pub fn regex_match(a: &QValue, b: &QValue) -> Result<QValue> {
    let (QValue::String(text), QValue::String(pattern)) = (a, b) else {
        return Ok(QValue::Null);
    };
    REGEX_CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(regex) = cache.get(pattern) {
            return Ok(QValue::Bool(regex.is_match(text)));
        }
        let regex = compile_full_match(pattern)?;
        let matched = regex.is_match(text);
        if cache.len() >= REGEX_CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(pattern.clone(), regex);
        Ok(QValue::Bool(matched))
    })
}

/// Compiles `pattern` anchored at both ends. The pattern is first compiled alone, so that
/// one which is not a complete expression (`a)|(b`) cannot escape the anchoring group.
fn compile_full_match(pattern: &str) -> Result<regex::Regex> {
    let build = |source: &str| regex::RegexBuilder::new(source).size_limit(REGEX_SIZE_LIMIT).build();
    build(pattern)
        .and_then(|_| build(&format!("^(?:{pattern})$")))
        .map_err(|e| {
            QueryError::runtime(
                ErrorKind::ArgumentError,
                "InvalidArgumentValue",
                format!("invalid regex: {e}"),
            )
        })
}

/// `a op b` for `=`, `<>`, `<`, `<=`, `>`, `>=`.
pub fn compare(op: BinaryOp, a: &QValue, b: &QValue) -> Result<QValue> {
    let inequality = match op {
        BinaryOp::Eq => return Ok(ternary(a.cypher_eq(b))),
        BinaryOp::Ne => return Ok(ternary(a.cypher_eq(b).map(|eq| !eq))),
        BinaryOp::Lt => ComparisonOp::Lt,
        BinaryOp::Le => ComparisonOp::Le,
        BinaryOp::Gt => ComparisonOp::Gt,
        BinaryOp::Ge => ComparisonOp::Ge,
        other => {
            let message = format!("{other:?} is not a comparison operator");
            return Err(QueryError::runtime(
                ErrorKind::DatabaseError,
                "InvalidOperator",
                message,
            ));
        }
    };
    Ok(ternary(a.cypher_compare(inequality, b)))
}

/// An integer subscript, or a `TypeError`.
fn integer_index(idx: &QValue) -> Result<i64> {
    match idx {
        QValue::Int(i) => Ok(*i),
        other => Err(type_error(format!(
            "a list index must be an INTEGER, got {}",
            other.type_name()
        ))),
    }
}

/// A list position counted from the end when negative, if within `0..len`.
fn list_position(index: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let position = if index < 0 { index.checked_add(len)? } else { index };
    (0..len).contains(&position).then_some(position as usize)
}

/// `container[idx]` on lists (negative indexes count from the end; out of range is null)
/// and maps (by string key). Nodes and relationships need the graph: see [`subscript`].
pub fn index(container: &QValue, idx: &QValue) -> Result<QValue> {
    match (container, idx) {
        (QValue::Null, _) | (_, QValue::Null) => Ok(QValue::Null),
        (QValue::List(items), idx) => {
            let position = list_position(integer_index(idx)?, items.len());
            Ok(position.and_then(|p| items.get(p)).cloned().unwrap_or(QValue::Null))
        }
        (QValue::Map(map), QValue::String(key)) => Ok(map.get(key).cloned().unwrap_or(QValue::Null)),
        (QValue::Map(_), other) => Err(QueryError::runtime(
            ErrorKind::TypeError,
            "MapElementAccessByNonString",
            format!(
                "a map can only be subscripted by a STRING key, got {}",
                other.type_name()
            ),
        )),
        (other, _) => Err(type_error(format!(
            "cannot subscript {}: expected a LIST or MAP",
            other.type_name()
        ))),
    }
}

/// `container[idx]` including `n['key']` on nodes and relationships, read through `ctx`.
pub fn subscript(container: &QValue, idx: &QValue, ctx: &dyn GraphContext) -> Result<QValue> {
    match (container, idx) {
        (QValue::Node(_) | QValue::Relationship(_), QValue::String(key)) => property(container, key, ctx),
        (QValue::Node(_) | QValue::Relationship(_), QValue::Null) => Ok(QValue::Null),
        (QValue::Node(_) | QValue::Relationship(_), other) => Err(type_error(format!(
            "a {} can only be subscripted by a STRING key, got {}",
            container.type_name(),
            other.type_name()
        ))),
        _ => index(container, idx),
    }
}

/// A slice bound: counted from the end when negative, clamped to `0..=len`.
fn slice_bound(bound: i64, len: usize) -> usize {
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let position = if bound < 0 { bound.saturating_add(len_i) } else { bound };
    position.clamp(0, len_i) as usize
}

/// `list[from..to]`: bounds may be omitted (`None`) or negative; an explicit null bound
/// makes the result null; an empty or inverted range gives `[]`.
pub fn slice(list: &QValue, from: Option<&QValue>, to: Option<&QValue>) -> Result<QValue> {
    let bounds = [from, to];
    if matches!(list, QValue::Null) || bounds.iter().flatten().any(|b| b.is_null()) {
        return Ok(QValue::Null);
    }
    let QValue::List(items) = list else {
        return Err(type_error(format!(
            "cannot slice {}: expected a LIST",
            list.type_name()
        )));
    };
    let start = from
        .map(integer_index)
        .transpose()?
        .map_or(0, |b| slice_bound(b, items.len()));
    let end = to
        .map(integer_index)
        .transpose()?
        .map_or(items.len(), |b| slice_bound(b, items.len()));
    Ok(QValue::List(
        items.get(start..end).map(<[QValue]>::to_vec).unwrap_or_default(),
    ))
}

/// `value.key`: a map entry, a node or relationship property (through `ctx`), a temporal
/// component (`d.year`, `dur.minutes`), a point field (`p.x`, `p.crs`); null on null or a missing key; a `TypeError` for
/// anything else.
pub fn property(value: &QValue, key: &str, ctx: &dyn GraphContext) -> Result<QValue> {
    match value {
        QValue::Null => Ok(QValue::Null),
        QValue::Map(map) => Ok(map.get(key).cloned().unwrap_or(QValue::Null)),
        QValue::Node(node) => ctx.node_property(*node, key),
        QValue::Relationship(rel) => ctx.rel_property(rel, key),
        QValue::Date(_)
        | QValue::LocalTime(_)
        | QValue::ZonedTime(_)
        | QValue::LocalDateTime(_)
        | QValue::ZonedDateTime(_) => temporal::component(value, key),
        QValue::Duration(d) => duration::component(d, key),
        QValue::Point(p) => spatial::component(p, key),
        other => Err(type_error(format!(
            "cannot read property `{key}` of {}",
            other.type_name()
        ))),
    }
}
