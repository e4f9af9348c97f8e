//! Temporal functions: the constructors `date`, `localtime`, `time`, `localdatetime`,
//! `datetime`
//! (no argument: the statement clock; a string: ISO 8601; a map: fields, see
//! `map.rs`; another temporal: projection), their `.statement`, `.transaction`
//! and `.realtime` clocks, `datetime.fromepoch(Millis)`, the dispatch of `duration`,
//! truncation and differences, and the components read by property access (`d.year`).
//!
//! Time zones: UTC offsets (`+01:00`) and IANA zone names (`Europe/Stockholm`, resolved
//! with the tz database, see `weft_common::temporal::resolve_local`). A zoned time
//! (`time()`) keeps an offset only; a datetime keeps the zone name for display.

mod between;
pub(crate) mod duration;
mod map;
mod truncate;

use weft_common::temporal::{Date, LocalDateTime, LocalTime, ZonedDateTime, ZonedTime, NANOS_PER_SECOND};

use super::{arg, bad_argument, invalid_value};
use crate::error::Result;
use crate::graph::GraphContext;
use crate::value::QValue;

/// The five temporal instant types a constructor can build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Date,
    LocalTime,
    Time,
    LocalDateTime,
    DateTime,
}

impl Kind {
    pub(crate) fn function(self) -> &'static str {
        match self {
            Kind::Date => "date",
            Kind::LocalTime => "localtime",
            Kind::Time => "time",
            Kind::LocalDateTime => "localdatetime",
            Kind::DateTime => "datetime",
        }
    }

    /// The kind named by a function's namespace (`date` in `date.truncate`).
    fn of_namespace(namespace: &str) -> Option<Kind> {
        Some(match namespace {
            "date" => Kind::Date,
            "localtime" => Kind::LocalTime,
            "time" => Kind::Time,
            "localdatetime" => Kind::LocalDateTime,
            "datetime" => Kind::DateTime,
            _ => return None,
        })
    }
}

/// Evaluates `name` if it belongs to this family.
pub(super) fn call(name: &str, args: &[QValue], ctx: &dyn GraphContext) -> Option<Result<QValue>> {
    let (namespace, member) = name.split_once('.').unwrap_or((name, ""));
    if namespace == "duration" {
        return duration::call(member, args);
    }
    let kind = Kind::of_namespace(namespace)?;
    Some(match member {
        "" | "statement" | "transaction" | "realtime" => construct(kind, args.first(), ctx),
        "truncate" => truncate::truncate(kind, arg(args, 0), arg(args, 1), args.get(2)),
        "fromepoch" if kind == Kind::DateTime => from_epoch(arg(args, 0), arg(args, 1)),
        "fromepochmillis" if kind == Kind::DateTime => from_epoch_millis(arg(args, 0)),
        _ => return None,
    })
}

/// `kind()`, `kind(string)`, `kind(map)` or `kind(temporal)`.
fn construct(kind: Kind, x: Option<&QValue>, ctx: &dyn GraphContext) -> Result<QValue> {
    match x {
        None => Ok(now(kind, ctx.statement_time())),
        Some(QValue::Null) => Ok(QValue::Null),
        Some(QValue::String(text)) => parse(kind, text),
        Some(QValue::Map(map)) => map::build(kind, map, ctx),
        Some(other) => project(kind, other),
    }
}

/// The statement clock seen as `kind`.
pub(crate) fn now(kind: Kind, clock: ZonedDateTime) -> QValue {
    match kind {
        Kind::Date => QValue::Date(clock.local.date),
        Kind::LocalTime => QValue::LocalTime(clock.local.time),
        Kind::Time => QValue::ZonedTime(ZonedTime {
            time: clock.local.time,
            offset_seconds: clock.offset_seconds,
        }),
        Kind::LocalDateTime => QValue::LocalDateTime(clock.local),
        Kind::DateTime => QValue::ZonedDateTime(clock),
    }
}

fn parse(kind: Kind, text: &str) -> Result<QValue> {
    let parsed = match kind {
        Kind::Date => Date::parse(text).map(QValue::Date),
        Kind::LocalTime => LocalTime::parse(text).map(QValue::LocalTime),
        Kind::Time => ZonedTime::parse(text).map(QValue::ZonedTime),
        Kind::LocalDateTime => LocalDateTime::parse(text).map(QValue::LocalDateTime),
        Kind::DateTime => ZonedDateTime::parse(text).map(QValue::ZonedDateTime),
    };
    parsed.ok_or_else(|| {
        let hint = match kind {
            Kind::DateTime => " (with an offset such as '+01:00' or a known zone such as '[Europe/Paris]')",
            _ => "",
        };
        bad_argument(
            kind.function(),
            format!("'{text}' is not a valid ISO 8601 {}{hint}", kind.function()),
        )
    })
}

/// The date and time parts of a temporal, where it has them.
pub(crate) fn parts(value: &QValue) -> (Option<Date>, Option<LocalTime>) {
    match value {
        QValue::Date(d) => (Some(*d), None),
        QValue::LocalTime(t) => (None, Some(*t)),
        QValue::ZonedTime(t) => (None, Some(t.time)),
        QValue::LocalDateTime(dt) => (Some(dt.date), Some(dt.time)),
        QValue::ZonedDateTime(dt) => (Some(dt.local.date), Some(dt.local.time)),
        _ => (None, None),
    }
}

/// `date(otherTemporal)` and friends: the parts `kind` needs; a date is midnight and a
/// local value is taken to be in UTC when a datetime or time is asked for.
fn project(kind: Kind, other: &QValue) -> Result<QValue> {
    let expected = "a STRING, MAP or temporal value";
    let (date, time) = parts(other);
    let projected = match (kind, other) {
        (Kind::DateTime, QValue::ZonedDateTime(_)) => Some(other.clone()),
        (Kind::Date, _) => date.map(QValue::Date),
        (Kind::LocalTime, _) => time.map(QValue::LocalTime),
        (Kind::Time, QValue::ZonedTime(_)) => Some(other.clone()),
        (Kind::Time, _) => {
            let offset = match other {
                QValue::ZonedDateTime(dt) => dt.offset_seconds,
                _ => 0,
            };
            time.and_then(|t| ZonedTime::new(t, offset)).map(QValue::ZonedTime)
        }
        (Kind::LocalDateTime, _) => {
            date.map(|d| QValue::LocalDateTime(LocalDateTime::new(d, time.unwrap_or_default())))
        }
        (Kind::DateTime, _) => date.and_then(|d| {
            ZonedDateTime::new(LocalDateTime::new(d, time.unwrap_or_default()), 0, None).map(QValue::ZonedDateTime)
        }),
    };
    projected.ok_or_else(|| invalid_value(kind.function(), expected, other))
}

/// An integer argument for the epoch constructors (`None` for null).
fn epoch_arg(func: &str, x: &QValue) -> Result<Option<i64>> {
    match x {
        QValue::Null => Ok(None),
        QValue::Int(i) => Ok(Some(*i)),
        other => Err(invalid_value(func, "an INTEGER", other)),
    }
}

/// The UTC datetime `nanos` after the Unix epoch.
pub(crate) fn utc_from_epoch_nanos(func: &str, nanos: i128) -> Result<QValue> {
    ZonedDateTime::from_epoch_nanos(nanos, 0, None)
        .map(QValue::ZonedDateTime)
        .ok_or_else(|| bad_argument(func, "the instant is outside the supported range"))
}

/// `datetime.fromepoch(seconds, nanoseconds)`.
fn from_epoch(seconds: &QValue, nanos: &QValue) -> Result<QValue> {
    let func = "datetime.fromepoch";
    match (epoch_arg(func, seconds)?, epoch_arg(func, nanos)?) {
        (Some(s), Some(n)) => utc_from_epoch_nanos(func, i128::from(s) * i128::from(NANOS_PER_SECOND) + i128::from(n)),
        _ => Ok(QValue::Null),
    }
}

/// `datetime.fromepochmillis(milliseconds)`.
fn from_epoch_millis(millis: &QValue) -> Result<QValue> {
    let func = "datetime.fromepochmillis";
    match epoch_arg(func, millis)? {
        Some(ms) => utc_from_epoch_nanos(func, i128::from(ms) * 1_000_000),
        None => Ok(QValue::Null),
    }
}

/// Renders a UTC offset as Neo4j does: `Z`, `+01:00`, `-02:05:07`.
pub(crate) fn format_offset(offset_seconds: i32) -> String {
    if offset_seconds == 0 {
        return "Z".to_string();
    }
    let sign = if offset_seconds < 0 { '-' } else { '+' };
    let abs = offset_seconds.unsigned_abs();
    let hours_minutes = format!("{sign}{:02}:{:02}", abs / 3600, abs / 60 % 60);
    match abs % 60 {
        0 => hours_minutes,
        seconds => format!("{hours_minutes}:{seconds:02}"),
    }
}

/// `temporal.key`: a calendar, clock or zone component (`year`, `weekDay`, `millisecond`,
/// `offsetMinutes`, `epochSeconds`, ...); keys are case-insensitive; a key the value's
/// type does not have is an `ArgumentError`.
pub(crate) fn component(value: &QValue, key: &str) -> Result<QValue> {
    let lower = key.to_ascii_lowercase();
    let (date, time) = parts(value);
    let found = date
        .and_then(|d| date_component(d, &lower))
        .or_else(|| time.and_then(|t| time_component(t, &lower)));
    let found = match (found, value) {
        (None, QValue::ZonedDateTime(dt)) => zone_component(dt, &lower),
        (None, QValue::ZonedTime(t)) => offset_component(t.offset_seconds, None, &lower),
        (found, _) => found,
    };
    found.ok_or_else(|| {
        bad_argument(
            "property access",
            format!("{} has no component `{key}`", value.type_name()),
        )
    })
}

fn date_component(date: Date, key: &str) -> Option<QValue> {
    let (year, month, day) = date.ymd();
    let quarter = (month - 1) / 3 + 1;
    let quarter_start = Date::from_ymd(year, (quarter - 1) * 3 + 1, 1).map_or(date.days, |d| d.days);
    let (week_year, week) = date.iso_week();
    let int = |v: i64| Some(QValue::Int(v));
    match key {
        "year" => int(year),
        "quarter" => int(i64::from(quarter)),
        "month" => int(i64::from(month)),
        "week" => int(i64::from(week)),
        "weekyear" => int(week_year),
        "day" => int(i64::from(day)),
        "ordinalday" => int(i64::from(date.ordinal())),
        "weekday" | "dayofweek" => int(i64::from(date.weekday())),
        "dayofquarter" => int(date.days - quarter_start + 1),
        _ => None,
    }
}

fn time_component(time: LocalTime, key: &str) -> Option<QValue> {
    let nano = i64::from(time.nanosecond());
    let int = |v: i64| Some(QValue::Int(v));
    match key {
        "hour" => int(i64::from(time.hour())),
        "minute" => int(i64::from(time.minute())),
        "second" => int(i64::from(time.second())),
        "millisecond" => int(nano / 1_000_000),
        "microsecond" => int(nano / 1_000),
        "nanosecond" => int(nano),
        _ => None,
    }
}

/// `timezone` (the zone name, else the offset) and the `offset...` components.
fn offset_component(offset: i32, zone: Option<&str>, key: &str) -> Option<QValue> {
    Some(match key {
        "timezone" => QValue::String(zone.map_or_else(|| format_offset(offset), str::to_string)),
        "offset" => QValue::String(format_offset(offset)),
        "offsetminutes" => QValue::Int(i64::from(offset / 60)),
        "offsetseconds" => QValue::Int(i64::from(offset)),
        _ => return None,
    })
}

fn zone_component(dt: &ZonedDateTime, key: &str) -> Option<QValue> {
    if let Some(found) = offset_component(dt.offset_seconds, dt.zone.as_deref(), key) {
        return Some(found);
    }
    Some(match key {
        "epochseconds" => QValue::Int(i64::try_from(dt.epoch_nanos().div_euclid(i128::from(NANOS_PER_SECOND))).ok()?),
        "epochmillis" => QValue::Int(i64::try_from(dt.epoch_nanos().div_euclid(1_000_000)).ok()?),
        _ => return None,
    })
}
