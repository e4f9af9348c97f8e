//! `date.truncate`, `localtime.truncate`, `time.truncate`, `localdatetime.truncate` and
//! `datetime.truncate(unit, temporal[, fields])`.
//!
//! The temporal is cut down to the start of `unit` (`millennium`, `century`, `decade`,
//! `year`, `weekYear`, `quarter`, `month`, `week`, `day`, `hour`, `minute`, `second`,
//! `millisecond`, `microsecond`), then `fields` are applied over it as in a map
//! constructor (`{day: 2}` on a year gives January 2nd; `{timezone: 'UTC'}` sets the
//! zone without converting). A zoned input keeps its zone unless `fields` set one.

use std::collections::BTreeMap;

use weft_common::temporal::{Date, LocalTime, NANOS_PER_SECOND};

use super::map::{assemble, Base, Fields, Zone};
use super::{parts, Kind};
use crate::error::Result;
use crate::functions::{bad_argument, invalid_value};
use crate::value::QValue;

/// Truncation units, coarsest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Millennium,
    Century,
    Decade,
    Year,
    WeekYear,
    Quarter,
    Month,
    Week,
    Day,
    /// A clock unit: the time of day is truncated to a multiple of this many nanoseconds.
    Clock(i64),
}

impl Unit {
    fn parse(name: &str) -> Option<Unit> {
        Some(match name.to_ascii_lowercase().as_str() {
            "millennium" => Unit::Millennium,
            "century" => Unit::Century,
            "decade" => Unit::Decade,
            "year" => Unit::Year,
            "weekyear" => Unit::WeekYear,
            "quarter" => Unit::Quarter,
            "month" => Unit::Month,
            "week" => Unit::Week,
            "day" => Unit::Day,
            "hour" => Unit::Clock(3600 * NANOS_PER_SECOND),
            "minute" => Unit::Clock(60 * NANOS_PER_SECOND),
            "second" => Unit::Clock(NANOS_PER_SECOND),
            "millisecond" => Unit::Clock(1_000_000),
            "microsecond" => Unit::Clock(1_000),
            "nanosecond" => Unit::Clock(1),
            _ => return None,
        })
    }
}

/// `<kind>.truncate(unit, value[, fields])`.
pub(super) fn truncate(kind: Kind, unit: &QValue, value: &QValue, fields: Option<&QValue>) -> Result<QValue> {
    let func = format!("{}.truncate", kind.function());
    let unit = match unit {
        QValue::Null => return Ok(QValue::Null),
        QValue::String(name) => {
            Unit::parse(name).ok_or_else(|| bad_argument(&func, format!("unknown unit '{name}'")))?
        }
        other => return Err(invalid_value(&func, "a STRING unit", other)),
    };
    let empty = BTreeMap::new();
    let overrides = match fields {
        None => &empty,
        Some(QValue::Map(map)) => map,
        Some(QValue::Null) => return Ok(QValue::Null),
        Some(other) => return Err(invalid_value(&func, "a MAP of fields", other)),
    };
    if value.is_null() {
        return Ok(QValue::Null);
    }
    let mut base = truncated(kind, &func, unit, value)?;
    base.carried_nanos = carried_nanos(unit, &base, overrides);
    let fields = Fields::new(kind, overrides, false)?;
    if fields.any_null() {
        return Ok(QValue::Null);
    }
    assemble(kind, &fields, base)
}

/// Truncation to milli- or microseconds keeps them under finer sub-second fields (TCK
/// `Temporal9`: `{nanosecond: 2}` on `.645` gives `.645000002`), unless a field at or
/// above the unit replaces them.
fn carried_nanos(unit: Unit, base: &Base, overrides: &BTreeMap<String, QValue>) -> i64 {
    let coarser: &[&str] = match unit {
        Unit::Clock(1_000_000) => &["millisecond"],
        Unit::Clock(1_000) => &["millisecond", "microsecond"],
        _ => return 0,
    };
    let replaced = overrides
        .keys()
        .any(|k| coarser.contains(&k.to_ascii_lowercase().as_str()));
    if replaced {
        0
    } else {
        base.time.map_or(0, |t| i64::from(t.nanosecond()))
    }
}

/// The temporal cut down to the start of `unit`, as the base for the field overrides.
fn truncated(kind: Kind, func: &str, unit: Unit, value: &QValue) -> Result<Base> {
    let zone = match value {
        QValue::ZonedDateTime(dt) => Some(Zone::of(dt)),
        QValue::ZonedTime(t) => Some(Zone::of_time(t)),
        QValue::Date(_) | QValue::LocalTime(_) | QValue::LocalDateTime(_) => None,
        other => return Err(invalid_value(func, "a temporal value", other)),
    };
    let (date, time) = parts(value);
    let (date, time) = match unit {
        Unit::Clock(_) if kind == Kind::Date => {
            return Err(bad_argument(
                func,
                "a date cannot be truncated to a unit smaller than a day",
            ));
        }
        Unit::Clock(nanos) => (date, truncate_time(time.unwrap_or_default(), nanos)),
        Unit::Day if date.is_none() => (date, LocalTime::MIDNIGHT),
        _ => {
            let date = date.ok_or_else(|| bad_argument(func, "a time of day cannot be truncated to a date unit"))?;
            (Some(truncate_date(date, unit)), LocalTime::MIDNIGHT)
        }
    };
    Ok(Base {
        date,
        time: Some(time),
        zone,
        carried_nanos: 0,
        convert_to: None,
    })
}

fn truncate_time(time: LocalTime, unit_nanos: i64) -> LocalTime {
    LocalTime {
        nanos: time.nanos - time.nanos.rem_euclid(unit_nanos),
    }
}

/// The first day of the `unit` containing `date` (the date itself if that is invalid).
fn truncate_date(date: Date, unit: Unit) -> Date {
    let (year, month, _) = date.ymd();
    let first_of_year = |y: i64| Date::from_ymd(y, 1, 1);
    let truncated = match unit {
        Unit::Millennium => first_of_year(year - year.rem_euclid(1000)),
        Unit::Century => first_of_year(year - year.rem_euclid(100)),
        Unit::Decade => first_of_year(year - year.rem_euclid(10)),
        Unit::Year => first_of_year(year),
        Unit::WeekYear => Date::from_iso_week(date.iso_week().0, 1, 1),
        Unit::Quarter => Date::from_ymd(year, (month - 1) / 3 * 3 + 1, 1),
        Unit::Month => Date::from_ymd(year, month, 1),
        Unit::Week => Date::from_days(date.days - i64::from(date.weekday()) + 1),
        Unit::Day | Unit::Clock(_) => Some(date),
    };
    truncated.unwrap_or(date)
}
