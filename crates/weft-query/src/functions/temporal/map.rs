//! Temporal values from maps: `date({year: 1984, week: 10, dayOfWeek: 3})`,
//! `localtime({time: other, second: 42})`, `datetime({datetime: other, timezone: '+05:00'})`.
//!
//! Rules (Neo4j's, as the TCK `Temporal1` and `Temporal3` pin them down):
//! - Keys are case-insensitive. A date is given in one of four forms, chosen by the keys
//!   present: week (`week`, `dayOfWeek`, with `year` as the ISO week-year), ordinal
//!   (`ordinalDay`), quarter (`quarter`, `dayOfQuarter`) or calendar (`month`, `day`).
//!   Missing smaller fields default to their first value (1, or 0 for clock fields).
//! - `date`, `time` and `datetime` keys give a base value whose fields in the chosen form
//!   stand in for missing keys (`{date: d, week: 1}` keeps `d`'s weekday).
//! - Sub-second keys add up: `{millisecond: 123, microsecond: 456, nanosecond: 789}` is
//!   `.123456789`.
//! - `timezone` on a zoned base converts it to that zone (same instant); on anything else
//!   it just sets the zone. Without one, a zoned base keeps its zone, else UTC.
//! - A named zone (`Europe/Stockholm`) gives a datetime the offset in force at its wall
//!   time (a wall time in a DST gap moves forward); a time, having no date, takes the
//!   offset in force now.
//! - A map holding only `timezone` means "now, in that zone".
//! - Any null field makes the result null.

use std::collections::BTreeMap;

use weft_common::temporal::{
    days_in_month, is_zone_name, offset_at_instant, parse_offset, resolve_local, Date, LocalDateTime, LocalTime,
    ZonedDateTime, ZonedTime, NANOS_PER_SECOND,
};

use super::{now, parts, Kind};
use crate::error::Result;
use crate::functions::{bad_argument, invalid_value, out_of_range};
use crate::graph::GraphContext;
use crate::value::QValue;

const DATE_KEYS: &[&str] = &[
    "year",
    "month",
    "day",
    "week",
    "dayofweek",
    "ordinalday",
    "quarter",
    "dayofquarter",
];
const TIME_KEYS: &[&str] = &["hour", "minute", "second", "millisecond", "microsecond", "nanosecond"];

/// A time zone: a fixed offset, or a zone name whose offset depends on the date (then
/// `offset` is only a fallback, used when the tz database does not know the name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Zone {
    pub offset: i32,
    pub name: Option<String>,
}

impl Zone {
    pub(crate) const UTC: Zone = Zone { offset: 0, name: None };

    pub(crate) fn of(dt: &ZonedDateTime) -> Zone {
        Zone {
            offset: dt.offset_seconds,
            name: dt.zone.clone(),
        }
    }

    pub(crate) fn of_time(t: &ZonedTime) -> Zone {
        Zone {
            offset: t.offset_seconds,
            name: None,
        }
    }

    /// The offset in force at the instant `epoch_nanos`.
    pub(crate) fn offset_at(&self, epoch_nanos: i128) -> i32 {
        let named = self.name.as_deref().and_then(|n| offset_at_instant(n, epoch_nanos));
        named.unwrap_or(self.offset)
    }

    /// The instant `epoch_nanos` seen in this zone.
    pub(crate) fn at_instant(&self, epoch_nanos: i128) -> Option<ZonedDateTime> {
        ZonedDateTime::from_epoch_nanos(epoch_nanos, self.offset_at(epoch_nanos), self.name.clone())
    }

    /// The wall time `local` in this zone (moved forward out of a DST gap).
    pub(crate) fn at_local(&self, local: LocalDateTime) -> Option<ZonedDateTime> {
        let named = self.name.as_deref().and_then(|n| resolve_local(n, local));
        let (local, offset) = named.unwrap_or((local, self.offset));
        ZonedDateTime::new(local, offset, self.name.clone())
    }

    /// The time of day `time` in this zone, taking a named zone's offset now.
    pub(crate) fn time_at(&self, time: LocalTime) -> Option<ZonedTime> {
        ZonedTime::new(time, self.offset_at(ZonedDateTime::now_utc().epoch_nanos()))
    }
}

/// The fields of a temporal map, keys lower-cased and checked against the target kind.
pub(crate) struct Fields<'a> {
    kind: Kind,
    entries: Vec<(String, &'a QValue)>,
}

impl<'a> Fields<'a> {
    /// Checks every key is one `kind` accepts (`base_keys`: whether `date`, `time` and
    /// `datetime` are accepted too).
    pub(crate) fn new(kind: Kind, map: &'a BTreeMap<String, QValue>, base_keys: bool) -> Result<Fields<'a>> {
        let mut entries = Vec::with_capacity(map.len());
        for (key, value) in map {
            let lower = key.to_ascii_lowercase();
            if !accepts(kind, &lower, base_keys) {
                return Err(bad_argument(
                    kind.function(),
                    format!("`{key}` is not a valid field here"),
                ));
            }
            entries.push((lower, value));
        }
        Ok(Fields { kind, entries })
    }

    fn get(&self, key: &str) -> Option<&'a QValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub(crate) fn any_null(&self) -> bool {
        self.entries.iter().any(|(_, v)| v.is_null())
    }

    fn int(&self, key: &str) -> Result<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(QValue::Int(i)) => Ok(Some(*i)),
            Some(other) => Err(invalid_value(
                self.kind.function(),
                &format!("an INTEGER for `{key}`"),
                other,
            )),
        }
    }

    /// A small non-negative field (month, day, hour, ...).
    fn small(&self, key: &str) -> Result<Option<u32>> {
        self.int(key)?
            .map(|i| u32::try_from(i).map_err(|_| out_of_range(self.kind.function(), format!("`{key}` is {i}"))))
            .transpose()
    }

    /// The `timezone` field, resolved.
    pub(crate) fn zone(&self) -> Result<Option<Zone>> {
        self.get("timezone")
            .map(|z| resolve_zone(self.kind.function(), z))
            .transpose()
    }
}

fn accepts(kind: Kind, key: &str, base_keys: bool) -> bool {
    let date = DATE_KEYS.contains(&key) || (base_keys && key == "date");
    let time = TIME_KEYS.contains(&key) || (base_keys && key == "time");
    match kind {
        Kind::Date => date || key == "timezone",
        Kind::LocalTime | Kind::Time => time || key == "timezone",
        Kind::LocalDateTime => date || time || key == "timezone" || (base_keys && key == "datetime"),
        Kind::DateTime => {
            date || time
                || matches!(key, "timezone" | "epochseconds" | "epochmillis")
                || (base_keys && key == "datetime")
        }
    }
}

/// Resolves a `timezone` value: a UTC offset or an IANA zone name.
pub(crate) fn resolve_zone(func: &str, zone: &QValue) -> Result<Zone> {
    let QValue::String(name) = zone else {
        return Err(invalid_value(func, "a STRING time zone", zone));
    };
    if let Some(offset) = parse_offset(name) {
        return Ok(Zone { offset, name: None });
    }
    if is_zone_name(name) {
        return Ok(Zone {
            offset: 0,
            name: Some(name.clone()),
        });
    }
    Err(bad_argument(
        func,
        format!("unknown time zone '{name}': use a UTC offset such as '+01:00' or a zone such as 'Europe/Paris'"),
    ))
}

/// The starting point of a map construction: fields taken from base values.
#[derive(Clone, Debug, Default)]
pub(crate) struct Base {
    pub date: Option<Date>,
    pub time: Option<LocalTime>,
    pub zone: Option<Zone>,
    /// Sub-second nanoseconds that sub-second fields add to rather than replace
    /// (truncation to milli- or microseconds keeps them, as Neo4j does).
    pub carried_nanos: i64,
    /// The zone to convert the result to (same instant): set when a zoned datetime gives
    /// the time and a `timezone` is asked for, since the instant depends on the final date.
    pub convert_to: Option<Zone>,
}

/// `kind(map)`.
pub(super) fn build(kind: Kind, map: &BTreeMap<String, QValue>, ctx: &dyn GraphContext) -> Result<QValue> {
    let fields = Fields::new(kind, map, true)?;
    if fields.any_null() {
        return Ok(QValue::Null);
    }
    let zone = fields.zone()?;
    if let (Some(zone), 1) = (&zone, fields.entries.len()) {
        let clock = ctx.statement_time();
        return Ok(now(kind, zone.at_instant(clock.epoch_nanos()).unwrap_or(clock)));
    }
    let base = base_of(kind, &fields, zone.as_ref())?;
    assemble(kind, &fields, base)
}

/// A zoned value seen in `zone` (same instant), when a zone is given.
fn in_zone(value: &QValue, zone: Option<&Zone>) -> QValue {
    match (value, zone) {
        (QValue::ZonedDateTime(dt), Some(zone)) => zone
            .at_instant(dt.epoch_nanos())
            .map_or_else(|| value.clone(), QValue::ZonedDateTime),
        (QValue::ZonedTime(t), Some(zone)) => {
            let offset = zone.offset_at(ZonedDateTime::now_utc().epoch_nanos());
            ZonedTime::from_utc_nanos(t.utc_nanos(), offset).map_or_else(|| value.clone(), QValue::ZonedTime)
        }
        _ => value.clone(),
    }
}

/// Reads the `datetime`, `date` and `time` base values.
fn base_of(kind: Kind, fields: &Fields<'_>, zone: Option<&Zone>) -> Result<Base> {
    let func = kind.function();
    let mut base = Base::default();
    if let Some(value) = fields.get("datetime") {
        let value = in_zone(value, zone);
        let (date, time) = parts(&value);
        base.date = Some(date.ok_or_else(|| invalid_value(func, "a temporal with a date for `datetime`", &value))?);
        base.time = time;
        if let QValue::ZonedDateTime(dt) = &value {
            base.zone = Some(Zone::of(dt));
        }
    }
    if let Some(value) = fields.get("date") {
        base.date = Some(
            parts(value)
                .0
                .ok_or_else(|| invalid_value(func, "a temporal with a date for `date`", value))?,
        );
    }
    if let Some(value) = fields.get("time") {
        let deferred = kind == Kind::DateTime && base.zone.is_none() && matches!(value, QValue::ZonedDateTime(_));
        let value = match deferred {
            true => {
                base.convert_to = zone.cloned();
                value.clone()
            }
            false => in_zone(value, zone),
        };
        base.time = Some(
            parts(&value)
                .1
                .ok_or_else(|| invalid_value(func, "a temporal with a time for `time`", &value))?,
        );
        match (&value, &base.zone) {
            (QValue::ZonedDateTime(dt), None) => base.zone = Some(Zone::of(dt)),
            (QValue::ZonedTime(t), None) => base.zone = Some(Zone::of_time(t)),
            _ => {}
        }
    }
    Ok(base)
}

/// Builds the value of `kind` from fields over a base.
pub(crate) fn assemble(kind: Kind, fields: &Fields<'_>, base: Base) -> Result<QValue> {
    let func = kind.function();
    match kind {
        Kind::Date => Ok(QValue::Date(resolve_date(fields, base.date)?)),
        Kind::LocalTime => Ok(QValue::LocalTime(resolve_time(fields, &base)?)),
        Kind::Time => {
            let time = resolve_time(fields, &base)?;
            // A base keeps the offset it had; only a `timezone` field is resolved anew.
            let zoned = match fields.zone()? {
                Some(zone) => zone.time_at(time),
                None => ZonedTime::new(time, base.zone.map_or(0, |z| z.offset)),
            };
            zoned
                .map(QValue::ZonedTime)
                .ok_or_else(|| out_of_range(func, "the offset is beyond ±18 hours"))
        }
        Kind::LocalDateTime => {
            let date = resolve_date(fields, base.date)?;
            Ok(QValue::LocalDateTime(LocalDateTime::new(
                date,
                resolve_time(fields, &base)?,
            )))
        }
        Kind::DateTime => {
            let zone = match base.convert_to {
                Some(_) => base.zone.clone(),
                None => fields.zone()?.or(base.zone.clone()),
            };
            let zone = zone.unwrap_or(Zone::UTC);
            if let Some(nanos) = epoch_nanos(fields)? {
                return zone
                    .at_instant(nanos)
                    .map(QValue::ZonedDateTime)
                    .ok_or_else(|| out_of_range(func, "the instant is outside the supported range"));
            }
            let local = LocalDateTime::new(resolve_date(fields, base.date)?, resolve_time(fields, &base)?);
            let zoned = zone.at_local(local);
            let zoned = match (&base.convert_to, zoned) {
                (Some(target), Some(dt)) => target.at_instant(dt.epoch_nanos()),
                (_, zoned) => zoned,
            };
            zoned
                .map(QValue::ZonedDateTime)
                .ok_or_else(|| out_of_range(func, "the offset is beyond ±18 hours"))
        }
    }
}

/// `{epochSeconds, nanosecond}` or `{epochMillis}` as nanoseconds since the epoch.
fn epoch_nanos(fields: &Fields<'_>) -> Result<Option<i128>> {
    if let Some(seconds) = fields.int("epochseconds")? {
        let sub = i128::from(sub_second_nanos(fields)?.unwrap_or(0));
        return Ok(Some(i128::from(seconds) * i128::from(NANOS_PER_SECOND) + sub));
    }
    Ok(fields.int("epochmillis")?.map(|ms| i128::from(ms) * 1_000_000))
}

fn missing_year(func: &str) -> crate::error::QueryError {
    bad_argument(func, "`year` is required (or a `date` to take it from)")
}

/// The date named by the fields, in whichever of the four forms they use.
fn resolve_date(fields: &Fields<'_>, base: Option<Date>) -> Result<Date> {
    let func = fields.kind.function();
    let year = fields.int("year")?;
    let invalid = || out_of_range(func, "the fields do not name a date in the supported range");
    if fields.has("week") || fields.has("dayofweek") {
        let base_week = base.map(|d| (d.iso_week(), d.weekday()));
        let week_year = year
            .or(base_week.map(|((y, _), _)| y))
            .ok_or_else(|| missing_year(func))?;
        let week = fields.small("week")?.or(base_week.map(|((_, w), _)| w)).unwrap_or(1);
        let weekday = fields.small("dayofweek")?.or(base_week.map(|(_, d)| d)).unwrap_or(1);
        return Date::from_iso_week(week_year, week, weekday).ok_or_else(invalid);
    }
    let year = year.or(base.map(Date::year)).ok_or_else(|| missing_year(func))?;
    if fields.has("ordinalday") {
        let ordinal = fields.small("ordinalday")?.unwrap_or(1);
        return Date::from_ordinal(year, ordinal).ok_or_else(invalid);
    }
    if fields.has("quarter") || fields.has("dayofquarter") {
        let base_quarter = base.map(quarter_of);
        let quarter = fields.small("quarter")?.or(base_quarter.map(|(q, _)| q)).unwrap_or(1);
        let day = fields
            .small("dayofquarter")?
            .or(base_quarter.map(|(_, d)| d))
            .unwrap_or(1);
        return quarter_date(year, quarter, day).ok_or_else(invalid);
    }
    let month = fields.small("month")?.or(base.map(Date::month)).unwrap_or(1);
    let day = match fields.small("day")? {
        Some(day) => day,
        // A base day that the new month lacks (the 31st, Feb 29) moves to the month's end.
        None => base.map_or(1, |d| d.day().min(days_in_month(year, month).max(1))),
    };
    Date::from_ymd(year, month, day).ok_or_else(invalid)
}

/// (quarter 1-4, day of quarter 1-92).
fn quarter_of(date: Date) -> (u32, u32) {
    let (year, month, _) = date.ymd();
    let quarter = (month - 1) / 3 + 1;
    let start = Date::from_ymd(year, (quarter - 1) * 3 + 1, 1).map_or(date.days, |d| d.days);
    (quarter, u32::try_from(date.days - start + 1).unwrap_or(1))
}

/// The `day`-th day of `quarter` of `year`, if it exists.
fn quarter_date(year: i64, quarter: u32, day: u32) -> Option<Date> {
    if !(1..=4).contains(&quarter) || day == 0 {
        return None;
    }
    let first_month = (quarter - 1) * 3 + 1;
    let length: u32 = (first_month..first_month + 3).map(|m| days_in_month(year, m)).sum();
    let start = Date::from_ymd(year, first_month, 1)?;
    (day <= length).then(|| Date {
        days: start.days + i64::from(day) - 1,
    })
}

/// The sum of the sub-second fields in nanoseconds, if any is given.
fn sub_second_nanos(fields: &Fields<'_>) -> Result<Option<i64>> {
    let units = [("millisecond", 1_000_000), ("microsecond", 1_000), ("nanosecond", 1)];
    let mut total: Option<i64> = None;
    for (key, factor) in units {
        if let Some(amount) = fields.int(key)? {
            let nanos = amount.checked_mul(factor).filter(|n| (0..NANOS_PER_SECOND).contains(n));
            let nanos = nanos.ok_or_else(|| out_of_range(fields.kind.function(), format!("`{key}` is {amount}")))?;
            total = Some(total.unwrap_or(0) + nanos);
        }
    }
    Ok(total)
}

/// The time of day named by the fields over a base time.
fn resolve_time(fields: &Fields<'_>, base: &Base) -> Result<LocalTime> {
    let (carried, base) = (base.carried_nanos, base.time);
    let hour = fields.small("hour")?.or(base.map(LocalTime::hour)).unwrap_or(0);
    let minute = fields.small("minute")?.or(base.map(LocalTime::minute)).unwrap_or(0);
    let second = fields.small("second")?.or(base.map(LocalTime::second)).unwrap_or(0);
    let nano = match sub_second_nanos(fields)? {
        Some(nanos) => u32::try_from(nanos.saturating_add(carried)).unwrap_or(u32::MAX),
        None => base.map_or(0, LocalTime::nanosecond),
    };
    LocalTime::from_hms_nano(hour, minute, second, nano)
        .ok_or_else(|| out_of_range(fields.kind.function(), "the fields do not name a valid time of day"))
}
