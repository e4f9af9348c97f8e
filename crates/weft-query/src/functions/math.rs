//! Mathematical functions: `abs`, `ceil`, `floor`, `round` (with optional precision and
//! rounding mode), `sign`, `rand`, `sqrt`, `exp`, `log`, `log10`, `e`, `pi`, the
//! trigonometric functions, `atan2`, `degrees`, `radians`, `haversin` and `isNaN`.
//!
//! Integers are accepted wherever floats are. `abs` keeps integers integral (overflow of
//! `abs(i64::MIN)` is an `ArithmeticError`); `sign` returns an integer; everything else
//! returns a float, with IEEE semantics at the edges (`log(0)` is `-Infinity`, `sqrt(-1)`
//! NaN), as Java's `Math`.

use super::{arg, bad_argument, invalid_value, random};
use crate::error::{ErrorKind, QueryError, Result};
use crate::value::QValue;

/// Evaluates `name` if it belongs to this family.
pub(super) fn call(name: &str, args: &[QValue]) -> Option<Result<QValue>> {
    let x = arg(args, 0);
    Some(match name {
        "abs" => abs(x),
        "sign" => sign(x),
        "round" => round(x, args.get(1), args.get(2)),
        "rand" => Ok(QValue::Float(random::next_f64())),
        "e" => Ok(QValue::Float(std::f64::consts::E)),
        "pi" => Ok(QValue::Float(std::f64::consts::PI)),
        "atan2" => atan2(x, arg(args, 1)),
        "isnan" => number_arg("isNaN", x).map(|n| n.map_or(QValue::Null, |f| QValue::Bool(f.is_nan()))),
        _ => return float_function(name).map(|f| unary(name, x, f)),
    })
}

/// The float-to-float functions by name.
fn float_function(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "sqrt" => f64::sqrt,
        "exp" => f64::exp,
        "log" => f64::ln,
        "log10" => f64::log10,
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "cot" => |x: f64| 1.0 / x.tan(),
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "degrees" => f64::to_degrees,
        "radians" => f64::to_radians,
        "haversin" => |x: f64| (1.0 - x.cos()) / 2.0,
        _ => return None,
    })
}

/// A numeric argument as a float (`None` for null), or a type error.
fn number_arg(func: &str, x: &QValue) -> Result<Option<f64>> {
    match x {
        QValue::Null => Ok(None),
        QValue::Int(i) => Ok(Some(*i as f64)),
        QValue::Float(f) => Ok(Some(*f)),
        other => Err(invalid_value(func, "a NUMBER", other)),
    }
}

fn unary(func: &str, x: &QValue, f: fn(f64) -> f64) -> Result<QValue> {
    Ok(number_arg(func, x)?.map_or(QValue::Null, |v| QValue::Float(f(v))))
}

fn abs(x: &QValue) -> Result<QValue> {
    match x {
        QValue::Int(i) => i.checked_abs().map(QValue::Int).ok_or_else(|| {
            QueryError::runtime(
                ErrorKind::ArithmeticError,
                "IntegerOverflow",
                "abs() of the smallest INTEGER overflows",
            )
        }),
        other => unary("abs", other, f64::abs),
    }
}

/// -1, 0 or 1 as an integer (0 for NaN).
fn sign(x: &QValue) -> Result<QValue> {
    match x {
        QValue::Int(i) => Ok(QValue::Int(i.signum())),
        other => Ok(number_arg("sign", other)?.map_or(QValue::Null, |f| {
            QValue::Int(if f > 0.0 {
                1
            } else if f < 0.0 {
                -1
            } else {
                0
            })
        })),
    }
}

fn atan2(y: &QValue, x: &QValue) -> Result<QValue> {
    match (number_arg("atan2", y)?, number_arg("atan2", x)?) {
        (Some(y), Some(x)) => Ok(QValue::Float(y.atan2(x))),
        _ => Ok(QValue::Null),
    }
}

/// How `round(x, precision, mode)` treats the discarded digits (Java's `RoundingMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Up,
    Down,
    Ceiling,
    Floor,
    HalfUp,
    HalfDown,
    HalfEven,
}

impl Mode {
    fn parse(name: &str) -> Option<Mode> {
        Some(match name.to_ascii_uppercase().as_str() {
            "UP" => Mode::Up,
            "DOWN" => Mode::Down,
            "CEILING" => Mode::Ceiling,
            "FLOOR" => Mode::Floor,
            "HALF_UP" => Mode::HalfUp,
            "HALF_DOWN" => Mode::HalfDown,
            "HALF_EVEN" => Mode::HalfEven,
            _ => return None,
        })
    }
}

/// `round(x)`: nearest integer, ties toward positive infinity (Java's `Math.round`), as a
/// float. `round(x, precision[, mode])`: to `precision` decimal places of `x`'s shortest
/// decimal form (as `BigDecimal.valueOf`), ties away from zero unless `mode` says otherwise.
fn round(x: &QValue, precision: Option<&QValue>, mode: Option<&QValue>) -> Result<QValue> {
    let Some(x) = number_arg("round", x)? else {
        return Ok(QValue::Null);
    };
    let Some(precision) = precision else {
        let nearest = x.round();
        // `f64::round` sends ties away from zero; Java sends negative ties up.
        let tie_below = x - nearest == 0.5 && x < 0.0;
        return Ok(QValue::Float(if tie_below { nearest + 1.0 } else { nearest }));
    };
    let precision = match precision {
        QValue::Null => return Ok(QValue::Null),
        // Beyond ±400 places a double has nothing left to round (or nothing left at all).
        QValue::Int(p) => (*p).clamp(-400, 400),
        other => return Err(invalid_value("round", "an INTEGER precision", other)),
    };
    let mode = match mode {
        None => Mode::HalfUp,
        Some(QValue::Null) => return Ok(QValue::Null),
        Some(QValue::String(name)) => Mode::parse(name).ok_or_else(|| {
            bad_argument(
                "round",
                format!(
                    "unknown rounding mode '{name}' (use UP, DOWN, CEILING, FLOOR, HALF_UP, HALF_DOWN or HALF_EVEN)"
                ),
            )
        })?,
        Some(other) => return Err(invalid_value("round", "a STRING rounding mode", other)),
    };
    Ok(QValue::Float(round_decimal(x, precision, mode)))
}

/// Rounds `x` to `precision` decimal places in decimal arithmetic on its shortest digits.
fn round_decimal(x: f64, precision: i64, mode: Mode) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    let negative = x < 0.0;
    let scientific = format!("{:e}", x.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i64 = exponent.parse().unwrap_or(0);
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect();
    // Digits kept: those before the point plus `precision` after it.
    let keep = exponent.saturating_add(1).saturating_add(precision);
    if keep >= digits.len() as i64 {
        return x;
    }
    let (mut kept, discarded) = if keep <= 0 {
        // Everything is discarded; below a leading zero when keep < 0.
        let mut all = vec![0; usize::from(keep < 0)];
        all.extend(&digits);
        (Vec::new(), all)
    } else {
        let (kept, discarded) = digits.split_at(keep as usize);
        (kept.to_vec(), discarded.to_vec())
    };
    if round_up(mode, negative, kept.last().copied().unwrap_or(0), &discarded) {
        increment(&mut kept);
    }
    let kept: String = kept.iter().map(|d| char::from(b'0' + d)).collect();
    let magnitude = if kept.is_empty() {
        0.0
    } else {
        format!("{kept}e{}", -precision).parse().unwrap_or(0.0)
    };
    if negative && magnitude != 0.0 {
        -magnitude
    } else {
        magnitude
    }
}

/// Whether the kept magnitude must grow by one unit in its last place.
fn round_up(mode: Mode, negative: bool, last_kept: u8, discarded: &[u8]) -> bool {
    let nonzero = discarded.iter().any(|&d| d != 0);
    let first = discarded.first().copied().unwrap_or(0);
    let rest_nonzero = discarded.iter().skip(1).any(|&d| d != 0);
    let above_half = first > 5 || (first == 5 && rest_nonzero);
    let exactly_half = first == 5 && !rest_nonzero;
    match mode {
        Mode::Up => nonzero,
        Mode::Down => false,
        Mode::Ceiling => nonzero && !negative,
        Mode::Floor => nonzero && negative,
        Mode::HalfUp => above_half || exactly_half,
        Mode::HalfDown => above_half,
        Mode::HalfEven => above_half || (exactly_half && last_kept % 2 == 1),
    }
}

/// Adds one to a decimal digit string, growing it on carry (`[9, 9]` becomes `[1, 0, 0]`).
fn increment(digits: &mut Vec<u8>) {
    for digit in digits.iter_mut().rev() {
        if *digit == 9 {
            *digit = 0;
        } else {
            *digit += 1;
            return;
        }
    }
    digits.insert(0, 1);
}
