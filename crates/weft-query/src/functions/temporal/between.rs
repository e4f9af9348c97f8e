//! `duration.between(a, b)` and `duration.inMonths/inDays/inSeconds(a, b)`.
//!
//! Rules (Neo4j's, as the TCK `Temporal10` pins them down):
//! - Months and days are counted on wall times, as Java's `until`: a zoned `b` is first
//!   moved to `a`'s zone (same instant); a local operand is read as it is.
//! - The time part is the exact elapsed time when a zone is involved: a local operand is
//!   placed in the other operand's zone, with that zone's daylight-saving offsets (so
//!   midnight to 04:00 on a day the clocks go back is five hours).
//! - An operand without a date (a time of day) takes the other operand's date; then only
//!   the time part counts (months and days are zero).

use weft_common::temporal::{Date, Duration, LocalDateTime, ZonedDateTime};

use super::duration::{is_instant, overflow, plus_local};
use super::invalid_value;
use super::map::Zone;
use super::parts;
use crate::error::Result;
use crate::value::QValue;

/// Which parts `duration.between` and its `in...` variants report.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    All,
    Months,
    Days,
    Seconds,
}

/// One operand, its missing date filled in.
struct Operand {
    local: LocalDateTime,
    /// The operand itself when it is a zoned datetime: its instant is exact.
    zoned: Option<ZonedDateTime>,
    zone: Option<Zone>,
}

impl Operand {
    fn of(x: &QValue, fallback: Date) -> Operand {
        let (date, time) = parts(x);
        let local = LocalDateTime::new(date.unwrap_or(fallback), time.unwrap_or_default());
        let (zoned, zone) = match x {
            QValue::ZonedDateTime(dt) => (Some(dt.clone()), Some(Zone::of(dt))),
            QValue::ZonedTime(t) => (None, Some(Zone::of_time(t))),
            _ => (None, None),
        };
        Operand { local, zoned, zone }
    }

    /// Nanoseconds since the epoch, placing a local operand in `zone`; `None` when
    /// neither the operand nor `zone` has a zone.
    fn instant(&self, zone: Option<&Zone>) -> Option<i128> {
        if let Some(dt) = &self.zoned {
            return Some(dt.epoch_nanos());
        }
        let zone = self.zone.as_ref().or(zone)?;
        zone.at_local(self.local).map(|dt| dt.epoch_nanos())
    }
}

/// `duration.between(a, b)` and `duration.inMonths/inDays/inSeconds(a, b)`.
pub(super) fn between(unit: Unit, a: &QValue, b: &QValue) -> Result<QValue> {
    for x in [a, b] {
        if !(x.is_null() || is_instant(x)) {
            return Err(invalid_value("duration.between", "a temporal value", x));
        }
    }
    if a.is_null() || b.is_null() {
        return Ok(QValue::Null);
    }
    let (a_date, b_date) = (parts(a).0, parts(b).0);
    let fallback = a_date.or(b_date).unwrap_or(Date::UNIX_EPOCH);
    let (start, end) = (Operand::of(a, fallback), Operand::of(b, fallback));
    let zone = start.zone.clone().or(end.zone.clone());
    let d = if a_date.is_some() && b_date.is_some() {
        dated_difference(unit, &start, &end, zone.as_ref())?
    } else {
        match unit {
            Unit::All | Unit::Seconds => Duration::from_time_nanos(0, 0, elapsed(&start, &end, zone.as_ref())),
            Unit::Months | Unit::Days => Some(Duration::ZERO),
        }
    };
    d.map(QValue::Duration).ok_or_else(overflow)
}

/// Exact nanoseconds from `start` to `end`: by instant where a zone is known, else by
/// wall time.
fn elapsed(start: &Operand, end: &Operand, zone: Option<&Zone>) -> i128 {
    match (start.instant(zone), end.instant(zone)) {
        (Some(from), Some(to)) => to - from,
        _ => end.local.to_nanos() - start.local.to_nanos(),
    }
}

/// The wall time of `end` for counting months and days from `start`: in `start`'s zone
/// when both are zoned datetimes.
fn end_wall_time(start: &Operand, end: &Operand) -> LocalDateTime {
    match (&start.zoned, &end.zoned) {
        (Some(_), Some(to)) => start
            .zone
            .as_ref()
            .and_then(|zone| zone.at_instant(to.epoch_nanos()))
            .map_or(end.local, |dt| dt.local),
        _ => end.local,
    }
}

/// The end date for counting whole units from `start` to `end` (as Java's `until`): one
/// day less when the end's time of day has not yet reached the start's, and vice versa.
fn effective_end(start: LocalDateTime, end: LocalDateTime) -> Date {
    if end.date > start.date && end.time < start.time {
        Date {
            days: end.date.days - 1,
        }
    } else if end.date < start.date && end.time > start.time {
        Date {
            days: end.date.days + 1,
        }
    } else {
        end.date
    }
}

/// Whole months from `start` to `end`, truncated toward zero.
fn months_until(start: LocalDateTime, end: LocalDateTime) -> i64 {
    let packed = |d: Date| {
        let (y, m, day) = d.ymd();
        (i128::from(y) * 12 + i128::from(m) - 1) * 32 + i128::from(day)
    };
    let months = (packed(effective_end(start, end)) - packed(start.date)) / 32;
    i64::try_from(months).unwrap_or(0)
}

fn days_until(start: LocalDateTime, end: LocalDateTime) -> i64 {
    effective_end(start, end).days - start.date.days
}

/// The difference between two dated operands in whole months, then days, then time.
fn dated_difference(unit: Unit, start: &Operand, end: &Operand, zone: Option<&Zone>) -> Result<Option<Duration>> {
    let months = |months| Duration {
        months,
        ..Duration::ZERO
    };
    let days = |days| Duration { days, ..Duration::ZERO };
    let (from, to) = (start.local, end_wall_time(start, end));
    Ok(match unit {
        Unit::Months => Some(months(months_until(from, to))),
        Unit::Days => Some(days(days_until(from, to))),
        Unit::Seconds => Duration::from_time_nanos(0, 0, elapsed(start, end, zone)),
        Unit::All => {
            let whole_months = months_until(from, to);
            let after_months = plus_local(from, &months(whole_months))?;
            let whole_days = days_until(after_months, to);
            let after_days = Operand {
                local: plus_local(after_months, &days(whole_days))?,
                zoned: None,
                zone: start.zone.clone(),
            };
            Duration::from_time_nanos(whole_months, whole_days, elapsed(&after_days, end, zone))
        }
    })
}
