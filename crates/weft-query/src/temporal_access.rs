//! Component access on temporal values: `d.year`, `t.hour`, `dur.days`, ...
//! (the openCypher accessors; unknown names are null, as for a missing map key).

use crate::error::{ErrorKind, QueryError, Result};
use crate::value::QValue;
use weft_common::temporal::{Date, LocalTime};

fn date_part(d: Date, key: &str) -> Option<i64> {
    let (week_year, week) = d.iso_week();
    Some(match key {
        "year" => d.year(),
        "quarter" => i64::from((d.month() - 1) / 3 + 1),
        "month" => i64::from(d.month()),
        "week" => i64::from(week),
        "weekYear" => week_year,
        "day" => i64::from(d.day()),
        "ordinalDay" => i64::from(d.ordinal()),
        "weekDay" | "dayOfWeek" => i64::from(d.weekday()),
        "dayOfQuarter" => {
            let first = Date::from_ymd(d.year(), (d.month() - 1) / 3 * 3 + 1, 1)?;
            d.days - first.days + 1
        }
        _ => return None,
    })
}

fn time_part(t: LocalTime, key: &str) -> Option<i64> {
    Some(match key {
        "hour" => i64::from(t.hour()),
        "minute" => i64::from(t.minute()),
        "second" => i64::from(t.second()),
        "millisecond" => i64::from(t.nanosecond() / 1_000_000),
        "microsecond" => i64::from(t.nanosecond() / 1_000),
        "nanosecond" => i64::from(t.nanosecond()),
        _ => return None,
    })
}

/// `value.key` for a temporal value; a non-temporal, non-map value is a type error.
pub fn component(v: &QValue, key: &str) -> Result<QValue> {
    let part = match v {
        QValue::Date(d) => date_part(*d, key),
        QValue::LocalTime(t) => time_part(*t, key),
        QValue::LocalDateTime(dt) => date_part(dt.date, key).or_else(|| time_part(dt.time, key)),
        QValue::ZonedDateTime(z) => match key {
            "offsetSeconds" => Some(i64::from(z.offset_seconds)),
            "offsetMinutes" => Some(i64::from(z.offset_seconds / 60)),
            "epochSeconds" => Some((z.epoch_nanos().div_euclid(1_000_000_000)) as i64),
            "epochMillis" => Some((z.epoch_nanos().div_euclid(1_000_000)) as i64),
            "timezone" => {
                return Ok(QValue::String(
                    z.zone.clone().unwrap_or_else(|| offset_text(z.offset_seconds)),
                ))
            }
            "offset" => return Ok(QValue::String(offset_text(z.offset_seconds))),
            _ => date_part(z.local.date, key).or_else(|| time_part(z.local.time, key)),
        },
        QValue::Duration(d) => duration_part(d, key),
        other => {
            return Err(QueryError::runtime(
                ErrorKind::TypeError,
                "InvalidArgumentType",
                format!("cannot read property `{key}` of {}", other.type_name()),
            ))
        }
    };
    Ok(part.map(QValue::Int).unwrap_or(QValue::Null))
}

fn offset_text(seconds: i32) -> String {
    if seconds == 0 {
        return "Z".to_owned();
    }
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    format!("{sign}{:02}:{:02}", s / 3600, s / 60 % 60)
}

fn duration_part(d: &weft_common::temporal::Duration, key: &str) -> Option<i64> {
    let nanos = d.time_nanos();
    Some(match key {
        "years" => d.months / 12,
        "quarters" => d.months / 3,
        "months" => d.months,
        "monthsOfYear" => d.months % 12,
        "monthsOfQuarter" => d.months % 3,
        "weeks" => d.days / 7,
        "days" => d.days,
        "daysOfWeek" => d.days % 7,
        "hours" => (nanos / 3_600_000_000_000) as i64,
        "minutes" => (nanos / 60_000_000_000) as i64,
        "minutesOfHour" => (nanos / 60_000_000_000 % 60) as i64,
        "seconds" => (nanos / 1_000_000_000) as i64,
        "secondsOfMinute" => (nanos / 1_000_000_000 % 60) as i64,
        "milliseconds" => (nanos / 1_000_000) as i64,
        "millisecondsOfSecond" => (nanos / 1_000_000 % 1000) as i64,
        "microseconds" => (nanos / 1_000) as i64,
        "microsecondsOfSecond" => (nanos / 1_000 % 1_000_000) as i64,
        "nanoseconds" => nanos as i64,
        "nanosecondsOfSecond" => (nanos % 1_000_000_000) as i64,
        _ => return None,
    })
}
