//! List functions: `size`, `head`, `last`, `tail`, `range` and `reverse` (which also
//! reverses strings).
//!
//! `range` refuses to build more than [`MAX_RANGE_LEN`] elements: lists are materialised,
//! and a typo such as `range(0, 10^18)` must fail cleanly rather than exhaust memory.

use super::{arg, invalid_value, out_of_range};
use crate::error::{ErrorKind, QueryError, Result};
use crate::value::QValue;

/// The longest list `range()` builds.
pub(crate) const MAX_RANGE_LEN: i128 = 50_000_000;

/// Evaluates `name` if it belongs to this family.
pub(super) fn call(name: &str, args: &[QValue]) -> Option<Result<QValue>> {
    let x = arg(args, 0);
    Some(match name {
        "size" => size(x),
        "head" => list_arg("head", x, |items| items.first().cloned().unwrap_or(QValue::Null)),
        "last" => list_arg("last", x, |items| items.last().cloned().unwrap_or(QValue::Null)),
        "tail" => list_arg("tail", x, |items| {
            QValue::List(items.get(1..).unwrap_or_default().to_vec())
        }),
        "range" => range(x, arg(args, 1), args.get(2)),
        "reverse" => reverse(x),
        _ => return None,
    })
}

/// Applies `f` to a list argument; null gives null.
fn list_arg(func: &str, x: &QValue, f: impl Fn(&[QValue]) -> QValue) -> Result<QValue> {
    match x {
        QValue::Null => Ok(QValue::Null),
        QValue::List(items) => Ok(f(items)),
        other => Err(invalid_value(func, "a LIST", other)),
    }
}

/// Elements of a list or characters (Unicode scalar values) of a string.
fn size(x: &QValue) -> Result<QValue> {
    let len = match x {
        QValue::Null => return Ok(QValue::Null),
        QValue::List(items) => items.len(),
        QValue::String(s) => s.chars().count(),
        other => return Err(invalid_value("size", "a LIST or STRING", other)),
    };
    Ok(QValue::Int(i64::try_from(len).unwrap_or(i64::MAX)))
}

fn reverse(x: &QValue) -> Result<QValue> {
    match x {
        QValue::Null => Ok(QValue::Null),
        QValue::List(items) => Ok(QValue::List(items.iter().rev().cloned().collect())),
        QValue::String(s) => Ok(QValue::String(s.chars().rev().collect())),
        other => Err(invalid_value("reverse", "a LIST or STRING", other)),
    }
}

/// A `range()` bound or step: integers only (TCK `List11`: even `0.0` is refused).
fn range_integer(x: &QValue) -> Result<i64> {
    match x {
        QValue::Int(i) => Ok(*i),
        other => Err(QueryError::runtime(
            ErrorKind::ArgumentError,
            "InvalidArgumentType",
            format!(
                "invalid input for function 'range()': expected an INTEGER, got {}",
                other.type_name()
            ),
        )),
    }
}

/// `range(start, end[, step])`: integers from `start` to `end` inclusive, `step` apart;
/// empty when the step points away from `end`; a zero step is out of range.
fn range(start: &QValue, end: &QValue, step: Option<&QValue>) -> Result<QValue> {
    let (start, end) = (range_integer(start)?, range_integer(end)?);
    let step = step.map(range_integer).transpose()?.unwrap_or(1);
    if step == 0 {
        return Err(out_of_range("range", "step must not be zero"));
    }
    let (start, end, step) = (i128::from(start), i128::from(end), i128::from(step));
    let span = end - start;
    let count = if span != 0 && (span < 0) != (step < 0) {
        0
    } else {
        span / step + 1
    };
    if count > MAX_RANGE_LEN {
        return Err(out_of_range(
            "range",
            format!("the list would have {count} elements (at most {MAX_RANGE_LEN})"),
        ));
    }
    // Every element lies between start and end, so fits an i64.
    let items = (0..count).map(|k| QValue::Int((start + k * step) as i64)).collect();
    Ok(QValue::List(items))
}
