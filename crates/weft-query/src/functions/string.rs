//! String functions: `toUpper`/`upper`, `toLower`/`lower`, `trim`, `lTrim`, `rTrim`,
//! `replace`, `substring`, `left`, `right` and `split` (`reverse` lives with the list
//! functions, which it also serves).
//!
//! Positions and lengths count Unicode scalar values (Rust `char`s), not bytes, so no
//! argument can split a character. A null argument gives null.

use super::{arg, invalid_value, out_of_range};
use crate::error::Result;
use crate::value::QValue;

/// Evaluates `name` if it belongs to this family.
pub(super) fn call(name: &str, args: &[QValue]) -> Option<Result<QValue>> {
    let (x, y, z) = (arg(args, 0), arg(args, 1), args.get(2));
    Some(match name {
        "toupper" | "upper" => map_string("toUpper", x, |s| s.to_uppercase()),
        "tolower" | "lower" => map_string("toLower", x, |s| s.to_lowercase()),
        "trim" => map_string("trim", x, |s| s.trim().to_string()),
        "ltrim" => map_string("lTrim", x, |s| s.trim_start().to_string()),
        "rtrim" => map_string("rTrim", x, |s| s.trim_end().to_string()),
        "replace" => replace(x, y, arg(args, 2)),
        "substring" => substring(x, y, z),
        "left" => left_right("left", x, y, true),
        "right" => left_right("right", x, y, false),
        "split" => split(x, y),
        _ => return None,
    })
}

/// A string argument (`None` for null), or a type error.
fn string_arg<'a>(func: &str, x: &'a QValue) -> Result<Option<&'a str>> {
    match x {
        QValue::Null => Ok(None),
        QValue::String(s) => Ok(Some(s)),
        other => Err(invalid_value(func, "a STRING", other)),
    }
}

/// A non-negative integer argument (`None` for null).
fn count_arg(func: &str, x: &QValue) -> Result<Option<usize>> {
    match x {
        QValue::Null => Ok(None),
        QValue::Int(i) => usize::try_from(*i)
            .map(Some)
            .map_err(|_| out_of_range(func, format!("{i} is negative"))),
        other => Err(invalid_value(func, "an INTEGER", other)),
    }
}

fn map_string(func: &str, x: &QValue, f: impl Fn(&str) -> String) -> Result<QValue> {
    Ok(string_arg(func, x)?.map_or(QValue::Null, |s| QValue::String(f(s))))
}

/// `replace(original, search, replacement)`: every occurrence; an empty search string
/// inserts the replacement around every character (as Java).
fn replace(original: &QValue, search: &QValue, replacement: &QValue) -> Result<QValue> {
    let original = string_arg("replace", original)?;
    let search = string_arg("replace", search)?;
    let replacement = string_arg("replace", replacement)?;
    Ok(match (original, search, replacement) {
        (Some(o), Some(s), Some(r)) => QValue::String(o.replace(s, r)),
        _ => QValue::Null,
    })
}

/// `substring(s, start[, length])`: characters from `start` (0-based); past the end is `''`.
fn substring(s: &QValue, start: &QValue, length: Option<&QValue>) -> Result<QValue> {
    let s = string_arg("substring", s)?;
    let start = count_arg("substring", start)?;
    let length = match length {
        Some(length) => match count_arg("substring", length)? {
            Some(length) => Some(length),
            None => return Ok(QValue::Null),
        },
        None => None,
    };
    let (Some(s), Some(start)) = (s, start) else {
        return Ok(QValue::Null);
    };
    let chars = s.chars().skip(start);
    Ok(QValue::String(match length {
        Some(length) => chars.take(length).collect(),
        None => chars.collect(),
    }))
}

/// `left(s, n)` / `right(s, n)`: the first or last `n` characters.
fn left_right(func: &str, s: &QValue, n: &QValue, from_start: bool) -> Result<QValue> {
    let (Some(s), Some(n)) = (string_arg(func, s)?, count_arg(func, n)?) else {
        return Ok(QValue::Null);
    };
    let text = if from_start {
        s.chars().take(n).collect()
    } else {
        let skip = s.chars().count().saturating_sub(n);
        s.chars().skip(skip).collect()
    };
    Ok(QValue::String(text))
}

/// `split(s, delimiter)`: the parts between occurrences of the delimiter (or of any of a
/// list of delimiters), empty parts included; an empty delimiter splits into characters.
fn split(s: &QValue, delimiter: &QValue) -> Result<QValue> {
    let Some(s) = string_arg("split", s)? else {
        return Ok(QValue::Null);
    };
    let delimiters: Vec<&str> = match delimiter {
        QValue::Null => return Ok(QValue::Null),
        QValue::String(d) => vec![d.as_str()],
        QValue::List(items) => items
            .iter()
            .map(|item| string_arg("split", item)?.ok_or_else(|| invalid_value("split", "a STRING", item)))
            .collect::<Result<_>>()?,
        other => return Err(invalid_value("split", "a STRING or LIST of STRING", other)),
    };
    let parts: Vec<String> = if delimiters.iter().all(|d| d.is_empty()) {
        s.chars().map(String::from).collect()
    } else {
        split_any(s, &delimiters)
    };
    Ok(QValue::List(parts.into_iter().map(QValue::String).collect()))
}

/// Splits at the earliest occurrence of any non-empty delimiter, repeatedly.
fn split_any(s: &str, delimiters: &[&str]) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = s;
    loop {
        let next = delimiters
            .iter()
            .filter(|d| !d.is_empty())
            .filter_map(|d| rest.find(d).map(|at| (at, d.len())))
            .min();
        match next {
            Some((at, len)) => {
                parts.push(rest[..at].to_string());
                rest = &rest[at + len..];
            }
            None => {
                parts.push(rest.to_string());
                return parts;
            }
        }
    }
}
