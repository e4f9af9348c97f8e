//! Durations: `duration(string | map)`, arithmetic with temporals and numbers, components
//! (`dur.minutes`), and the dispatch of `duration.between` / `inMonths` / `inDays` /
//! `inSeconds` (computed in `between.rs`).
//!
//! A duration keeps months, days and a time part apart (their lengths vary). Fractions
//! cascade down as Neo4j does: a fraction of a month becomes days and time through the
//! average Gregorian month (2,629,746 s), a fraction of a day becomes time; sub-nanosecond
//! remainders are truncated. Adding a duration to a temporal adds months (clamping the day
//! to the month's end), then days, then the time part; a date only takes the time part's
//! whole days, a time of day only its time part. A datetime in a named zone takes the
//! offset in force at its new wall time.

use std::collections::BTreeMap;

use weft_common::temporal::{Date, Duration, LocalDateTime, LocalTime, ZonedTime, NANOS_PER_DAY, NANOS_PER_SECOND};

use super::between::{between, Unit};
use super::map::Zone;
use crate::error::{ErrorKind, QueryError, Result};
use crate::functions::{arg, bad_argument, invalid_value};
use crate::value::QValue;

/// Fixed-point scale of fractional months and days: one unit is 10^-9.
const SCALE: i128 = 1_000_000_000;
/// Average Gregorian month in seconds (365.2425 days / 12).
const SECONDS_PER_AVERAGE_MONTH: i128 = 2_629_746;

/// Evaluates `duration(...)` (member `""`) and `duration.<member>(...)`.
pub(super) fn call(member: &str, args: &[QValue]) -> Option<Result<QValue>> {
    let (a, b) = (arg(args, 0), arg(args, 1));
    Some(match member {
        "" => construct(a),
        "between" => between(Unit::All, a, b),
        "inmonths" => between(Unit::Months, a, b),
        "indays" => between(Unit::Days, a, b),
        "inseconds" => between(Unit::Seconds, a, b),
        _ => return None,
    })
}

pub(super) fn overflow() -> QueryError {
    QueryError::runtime(
        ErrorKind::ArithmeticError,
        "TemporalOverflow",
        "the temporal result is out of range",
    )
}

/// `duration(x)`.
fn construct(x: &QValue) -> Result<QValue> {
    match x {
        QValue::Null | QValue::Duration(_) => Ok(x.clone()),
        QValue::String(text) => Duration::parse(text).map(QValue::Duration).ok_or_else(|| {
            bad_argument(
                "duration",
                format!("'{text}' is not an ISO 8601 duration such as 'P1DT2H'"),
            )
        }),
        QValue::Map(map) => from_map(map),
        other => Err(invalid_value("duration", "a STRING or MAP", other)),
    }
}

/// Amounts being assembled: months and days scaled by [`SCALE`], the time part in nanos.
#[derive(Default)]
struct Amounts {
    months: i128,
    days: i128,
    nanos: i128,
}

impl Amounts {
    /// Moves fractional months and days into the smaller units, then builds the duration.
    fn into_duration(self) -> Result<Duration> {
        let per_day = i128::from(NANOS_PER_DAY);
        let month_fraction_nanos = (self.months % SCALE)
            .checked_mul(SECONDS_PER_AVERAGE_MONTH)
            .ok_or_else(overflow)?;
        let day_fraction_nanos = (self.days % SCALE) * per_day / SCALE;
        let days = self.days / SCALE + month_fraction_nanos / per_day;
        let nanos = (self
            .nanos
            .checked_add(month_fraction_nanos % per_day + day_fraction_nanos))
        .ok_or_else(overflow)?;
        let months = i64::try_from(self.months / SCALE).map_err(|_| overflow())?;
        let days = i64::try_from(days).map_err(|_| overflow())?;
        Duration::from_time_nanos(months, days, nanos).ok_or_else(overflow)
    }
}

/// `duration({years: 1, days: 1.5, ...})`: integer or float amounts of each unit.
fn from_map(map: &BTreeMap<String, QValue>) -> Result<QValue> {
    let mut amounts = Amounts::default();
    for (key, value) in map {
        // (field, scaled units per unit of this key)
        let (field, per_unit): (&mut i128, i128) = match key.to_ascii_lowercase().as_str() {
            "years" => (&mut amounts.months, 12 * SCALE),
            "quarters" => (&mut amounts.months, 3 * SCALE),
            "months" => (&mut amounts.months, SCALE),
            "weeks" => (&mut amounts.days, 7 * SCALE),
            "days" => (&mut amounts.days, SCALE),
            "hours" => (&mut amounts.nanos, 3600 * i128::from(NANOS_PER_SECOND)),
            "minutes" => (&mut amounts.nanos, 60 * i128::from(NANOS_PER_SECOND)),
            "seconds" => (&mut amounts.nanos, i128::from(NANOS_PER_SECOND)),
            "milliseconds" => (&mut amounts.nanos, 1_000_000),
            "microseconds" => (&mut amounts.nanos, 1_000),
            "nanoseconds" => (&mut amounts.nanos, 1),
            _ => return Err(bad_argument("duration", format!("`{key}` is not a duration unit"))),
        };
        let scaled = match value {
            QValue::Null => return Ok(QValue::Null),
            QValue::Int(i) => i128::from(*i).checked_mul(per_unit),
            QValue::Float(f) => float_to_i128(f * per_unit as f64),
            other => return Err(invalid_value("duration", &format!("a NUMBER for `{key}`"), other)),
        };
        *field = scaled.and_then(|s| field.checked_add(s)).ok_or_else(overflow)?;
    }
    Ok(QValue::Duration(amounts.into_duration()?))
}

/// A finite float truncated to an integer, if it fits comfortably.
fn float_to_i128(x: f64) -> Option<i128> {
    (x.is_finite() && x.abs() < 1e36).then_some(x.trunc() as i128)
}

/// `a + b`.
pub(crate) fn add(a: &Duration, b: &Duration) -> Result<Duration> {
    let months = a.months.checked_add(b.months).ok_or_else(overflow)?;
    let days = a.days.checked_add(b.days).ok_or_else(overflow)?;
    Duration::from_time_nanos(months, days, a.time_nanos() + b.time_nanos()).ok_or_else(overflow)
}

/// `-d`.
pub(crate) fn negate(d: &Duration) -> Result<Duration> {
    let months = d.months.checked_neg().ok_or_else(overflow)?;
    let days = d.days.checked_neg().ok_or_else(overflow)?;
    Duration::from_time_nanos(months, days, -d.time_nanos()).ok_or_else(overflow)
}

/// Applies `f` to every component as a float, cascading the fractions.
fn scale(d: &Duration, f: impl Fn(f64) -> f64) -> Result<Duration> {
    let amounts = Amounts {
        months: float_to_i128(f(d.months as f64) * SCALE as f64).ok_or_else(overflow)?,
        days: float_to_i128(f(d.days as f64) * SCALE as f64).ok_or_else(overflow)?,
        nanos: float_to_i128(f(d.time_nanos() as f64)).ok_or_else(overflow)?,
    };
    amounts.into_duration()
}

/// `d * n`: exact for an integer factor.
pub(crate) fn multiply(d: &Duration, n: &QValue) -> Result<Duration> {
    match n {
        QValue::Int(k) => {
            let months = d.months.checked_mul(*k).ok_or_else(overflow)?;
            let days = d.days.checked_mul(*k).ok_or_else(overflow)?;
            let nanos = d.time_nanos().checked_mul(i128::from(*k)).ok_or_else(overflow)?;
            Duration::from_time_nanos(months, days, nanos).ok_or_else(overflow)
        }
        QValue::Float(x) => scale(d, |v| v * x),
        other => Err(invalid_value("*", "a NUMBER", other)),
    }
}

/// `d / n`; dividing by zero is an `ArithmeticError`.
pub(crate) fn divide(d: &Duration, n: &QValue) -> Result<Duration> {
    let divisor = match n {
        QValue::Int(i) => *i as f64,
        QValue::Float(x) => *x,
        other => return Err(invalid_value("/", "a NUMBER", other)),
    };
    if divisor == 0.0 {
        return Err(QueryError::runtime(
            ErrorKind::ArithmeticError,
            "DivisionByZero",
            "/ by zero",
        ));
    }
    scale(d, |v| v / divisor)
}

/// `date` moved by whole months, the day clamped to the target month's length.
fn plus_months(date: Date, months: i64) -> Result<Date> {
    let (year, month, day) = date.ymd();
    let total = i128::from(year) * 12 + i128::from(month) - 1 + i128::from(months);
    let year = i64::try_from(total.div_euclid(12)).map_err(|_| overflow())?;
    let month = total.rem_euclid(12) as u32 + 1;
    let day = day.min(weft_common::temporal::days_in_month(year, month));
    Date::from_ymd(year, month, day).ok_or_else(overflow)
}

/// A date-time moved by a duration: months, then days, then the exact time part.
pub(super) fn plus_local(local: LocalDateTime, d: &Duration) -> Result<LocalDateTime> {
    let date = plus_months(local.date, d.months)?;
    let date = Date::from_days(date.days.checked_add(d.days).ok_or_else(overflow)?).ok_or_else(overflow)?;
    LocalDateTime::from_nanos(LocalDateTime::new(date, local.time).to_nanos() + d.time_nanos()).ok_or_else(overflow)
}

/// A time of day moved by a duration's time part, wrapping around midnight.
fn plus_time(time: LocalTime, d: &Duration) -> LocalTime {
    let nanos = (i128::from(time.nanos) + d.time_nanos()).rem_euclid(i128::from(NANOS_PER_DAY));
    LocalTime { nanos: nanos as i64 }
}

/// `temporal + duration`.
pub(crate) fn add_to_temporal(temporal: &QValue, d: &Duration) -> Result<QValue> {
    match temporal {
        QValue::Date(date) => {
            let whole_days = i64::try_from(d.time_nanos() / i128::from(NANOS_PER_DAY)).map_err(|_| overflow())?;
            let date = plus_months(*date, d.months)?;
            let days = date
                .days
                .checked_add(d.days)
                .and_then(|x| x.checked_add(whole_days))
                .ok_or_else(overflow)?;
            Ok(QValue::Date(Date::from_days(days).ok_or_else(overflow)?))
        }
        QValue::LocalTime(time) => Ok(QValue::LocalTime(plus_time(*time, d))),
        QValue::ZonedTime(zoned) => Ok(QValue::ZonedTime(ZonedTime {
            time: plus_time(zoned.time, d),
            offset_seconds: zoned.offset_seconds,
        })),
        QValue::LocalDateTime(local) => Ok(QValue::LocalDateTime(plus_local(*local, d)?)),
        QValue::ZonedDateTime(dt) => {
            let local = plus_local(dt.local, d)?;
            let moved = Zone::of(dt).at_local(local).ok_or_else(overflow)?;
            Ok(QValue::ZonedDateTime(moved))
        }
        other => Err(invalid_value("+", "a temporal value", other)),
    }
}

/// `dur.key`: `years`, `months`, `days`, `hours`, `minutes`, `seconds`, `milliseconds`,
/// ..., and the `...Of...` remainders (`monthsOfYear`, `nanosecondsOfSecond`, ...).
pub(crate) fn component(d: &Duration, key: &str) -> Result<QValue> {
    let (months, days, seconds, nanos) = (d.months, d.days, d.seconds, i64::from(d.nanos));
    let value = match key.to_ascii_lowercase().as_str() {
        "years" => months / 12,
        "quarters" => months / 3,
        "months" => months,
        "weeks" => days / 7,
        "days" => days,
        "hours" => seconds / 3600,
        "minutes" => seconds / 60,
        "seconds" => seconds,
        "milliseconds" => seconds.saturating_mul(1_000).saturating_add(nanos / 1_000_000),
        "microseconds" => seconds.saturating_mul(1_000_000).saturating_add(nanos / 1_000),
        "nanoseconds" => seconds.saturating_mul(NANOS_PER_SECOND).saturating_add(nanos),
        "quartersofyear" => months % 12 / 3,
        "monthsofquarter" => months % 3,
        "monthsofyear" => months % 12,
        "daysofweek" => days % 7,
        "minutesofhour" => seconds / 60 % 60,
        "secondsofminute" => seconds % 60,
        "millisecondsofsecond" => nanos / 1_000_000,
        "microsecondsofsecond" => nanos / 1_000,
        "nanosecondsofsecond" => nanos,
        _ => {
            return Err(bad_argument(
                "property access",
                format!("DURATION has no component `{key}`"),
            ))
        }
    };
    Ok(QValue::Int(value))
}

/// Whether `x` is a date, time or date-time (something a duration can be added to).
pub(crate) fn is_instant(x: &QValue) -> bool {
    matches!(
        x,
        QValue::Date(_)
            | QValue::LocalTime(_)
            | QValue::ZonedTime(_)
            | QValue::LocalDateTime(_)
            | QValue::ZonedDateTime(_)
    )
}
