//! Type conversions: `toBoolean`, `toInteger`, `toFloat`, `toString`, their `...OrNull`
//! variants (null instead of a type error) and the `to...List` variants (element-wise,
//! null for elements that do not convert).
//!
//! Follows Neo4j where the TCK is silent: `toInteger(true)` is 1; `toInteger(2.9)` and
//! `toInteger('2.9')` truncate to 2; numeric strings are parsed as Java does (surrounding
//! whitespace, exponents, `NaN`, `Infinity`); unparsable strings give null. Floats render
//! as Java's `Double.toString` (`2.3`, `1.0E20`), which is also what `'a' + 1.5` uses.

use super::{arg, invalid_value};
use crate::error::Result;
use crate::value::QValue;

/// Evaluates `name` if it belongs to this family.
pub(super) fn call(name: &str, args: &[QValue]) -> Option<Result<QValue>> {
    let x = arg(args, 0);
    Some(match name {
        "toboolean" => to_boolean(x),
        "tointeger" => to_integer(x),
        "tofloat" => to_float(x),
        "tostring" => to_string(x),
        "tobooleanornull" => Ok(to_boolean(x).unwrap_or(QValue::Null)),
        "tointegerornull" => Ok(to_integer(x).unwrap_or(QValue::Null)),
        "tofloatornull" => Ok(to_float(x).unwrap_or(QValue::Null)),
        "tostringornull" => Ok(to_string(x).unwrap_or(QValue::Null)),
        "tobooleanlist" => each("toBooleanList", x, to_boolean),
        "tointegerlist" => each("toIntegerList", x, to_integer),
        "tofloatlist" => each("toFloatList", x, to_float),
        "tostringlist" => each("toStringList", x, to_string),
        _ => return None,
    })
}

fn each(func: &str, x: &QValue, convert: fn(&QValue) -> Result<QValue>) -> Result<QValue> {
    match x {
        QValue::Null => Ok(QValue::Null),
        QValue::List(items) => Ok(QValue::List(
            items.iter().map(|i| convert(i).unwrap_or(QValue::Null)).collect(),
        )),
        other => Err(invalid_value(func, "a LIST", other)),
    }
}

fn to_boolean(x: &QValue) -> Result<QValue> {
    match x {
        QValue::Null | QValue::Bool(_) => Ok(x.clone()),
        QValue::Int(i) => Ok(QValue::Bool(*i != 0)),
        QValue::String(s) => Ok(match s.trim().to_ascii_lowercase().as_str() {
            "true" => QValue::Bool(true),
            "false" => QValue::Bool(false),
            _ => QValue::Null,
        }),
        other => Err(invalid_value("toBoolean", "a STRING, BOOLEAN or INTEGER", other)),
    }
}

fn to_integer(x: &QValue) -> Result<QValue> {
    match x {
        QValue::Null | QValue::Int(_) => Ok(x.clone()),
        // Truncates toward zero and saturates, as Java's `(long)` cast (NaN becomes 0).
        QValue::Float(f) => Ok(QValue::Int(*f as i64)),
        QValue::Bool(b) => Ok(QValue::Int(i64::from(*b))),
        QValue::String(s) => Ok(parse_integer(s).map_or(QValue::Null, QValue::Int)),
        other => Err(invalid_value("toInteger", "a STRING, NUMBER or BOOLEAN", other)),
    }
}

fn to_float(x: &QValue) -> Result<QValue> {
    match x {
        QValue::Null | QValue::Float(_) => Ok(x.clone()),
        QValue::Int(i) => Ok(QValue::Float(*i as f64)),
        QValue::String(s) => Ok(parse_float(s).map_or(QValue::Null, QValue::Float)),
        other => Err(invalid_value("toFloat", "a STRING or NUMBER", other)),
    }
}

fn to_string(x: &QValue) -> Result<QValue> {
    match x {
        QValue::Null => Ok(QValue::Null),
        other => text_of(other)
            .map(QValue::String)
            .ok_or_else(|| invalid_value("toString", "a STRING, NUMBER, BOOLEAN, temporal value or POINT", other)),
    }
}

/// The `toString` rendering of a string, number, boolean, temporal value or point (as
/// Neo4j: `point({x: 1.5, y: 2.5, crs: 'cartesian'})`); `None` for
/// null, lists, maps and graph entities.
pub(crate) fn text_of(x: &QValue) -> Option<String> {
    Some(match x {
        QValue::String(s) => s.clone(),
        QValue::Int(i) => i.to_string(),
        QValue::Float(f) => java_float(*f),
        QValue::Bool(b) => b.to_string(),
        QValue::Date(d) => d.to_string(),
        QValue::LocalTime(t) => t.to_string(),
        QValue::ZonedTime(t) => t.to_string(),
        QValue::LocalDateTime(dt) => dt.to_string(),
        QValue::ZonedDateTime(dt) => dt.to_string(),
        QValue::Duration(d) => d.to_string(),
        QValue::Point(p) => p.to_string(),
        _ => return None,
    })
}

/// An integer string (`'42'`), or a float string truncated (`'2.9'` is 2).
pub(crate) fn parse_integer(s: &str) -> Option<i64> {
    s.parse::<i64>().ok().or_else(|| parse_float(s).map(|f| f as i64))
}

/// Parses a number the way Java's `Double.parseDouble` accepts it: surrounding whitespace
/// and control characters ignored, optional sign, decimal digits with optional fraction
/// and exponent, an optional `f`/`d` suffix, or `NaN` / `Infinity`.
pub(crate) fn parse_float(s: &str) -> Option<f64> {
    let s = s.trim_matches(|c: char| c <= ' ');
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    match unsigned {
        "NaN" => return Some(f64::NAN),
        "Infinity" => {
            return Some(if s.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        }
        _ => {}
    }
    let body = s.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(s);
    let plain = body
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'));
    let has_digit = body.bytes().any(|b| b.is_ascii_digit());
    if plain && has_digit {
        body.parse::<f64>().ok()
    } else {
        None
    }
}

/// Renders a float as Java's `Double.toString`: plain decimal for magnitudes in
/// `[1e-3, 1e7)` (`2.3`, `100.0`, `0.001`), otherwise scientific (`1.0E7`, `1.5E-4`);
/// `NaN`, `Infinity`, `-Infinity`; always with a fractional digit.
pub(crate) fn java_float(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    let sign = if x < 0.0 { "-" } else { "" };
    // Shortest round-trip digits and decimal exponent of the first digit.
    let scientific = format!("{:e}", x.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-3..7).contains(&exponent) {
        format!("{sign}{}", plain_decimal(&digits, exponent))
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        let rest = if rest.is_empty() { "0" } else { rest };
        format!("{sign}{first}.{rest}E{exponent}")
    }
}

/// `digits` (without a point) scaled so that the first digit has weight 10^`exponent`.
fn plain_decimal(digits: &str, exponent: i32) -> String {
    if exponent < 0 {
        let zeros = "0".repeat(exponent.unsigned_abs() as usize - 1);
        return format!("0.{zeros}{digits}");
    }
    let int_len = exponent as usize + 1;
    if digits.len() <= int_len {
        format!("{digits}{}.0", "0".repeat(int_len - digits.len()))
    } else {
        let (int, frac) = digits.split_at(int_len);
        format!("{int}.{frac}")
    }
}
