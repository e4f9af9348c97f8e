//! Cypher temporal values: dates, local and zoned times, local and zoned datetimes,
//! durations.
//!
//! Owns: the plain-integer representations that the rest of Weft stores, compares and
//! encodes; proleptic Gregorian calendar arithmetic; rendering in the ISO-8601 forms Neo4j
//! prints (`Display`); and parsing the ISO-8601 strings that `date('...')` and friends
//! accept (the `parse` methods, in `temporal/parse.rs`).
//!
//! Promises:
//! - [`Date`], [`LocalTime`] and [`LocalDateTime`] order chronologically by their derived
//!   `Ord`. [`ZonedDateTime`] and [`Duration`] have no `Ord`: their Cypher orders live in
//!   [`crate::value`].
//! - Constructors validate and return `None` for impossible values; the public fields can
//!   still hold anything, and no accessor or `Display` impl panics on such values.
//! - Supported years are [`Date::MIN_YEAR`]`..=`[`Date::MAX_YEAR`] (Neo4j's range); UTC
//!   offsets are within ±18 hours.
//!
//! A [`ZonedDateTime`] carries its UTC offset explicitly and an IANA zone name for
//! display; `temporal/zone.rs` turns zone names into offsets with the tz database of
//! `chrono-tz`. [`ZonedTime`] (`temporal/zoned_time.rs`) is a time of day with an offset.
//!
//! Does not own: clocks beyond [`ZonedDateTime::now_utc`] and temporal arithmetic, which
//! belong to the query engine.

use std::fmt;

mod parse;
mod zone;
mod zoned_time;

pub use parse::parse_offset;
pub use zone::{is_zone_name, offset_at_instant, resolve_local};
pub use zoned_time::ZonedTime;

/// Nanoseconds in one second.
pub const NANOS_PER_SECOND: i64 = 1_000_000_000;
/// Seconds in one day (Cypher has no leap seconds).
pub const SECONDS_PER_DAY: i64 = 86_400;
/// Nanoseconds in one day: the exclusive upper bound of [`LocalTime::nanos`].
pub const NANOS_PER_DAY: i64 = SECONDS_PER_DAY * NANOS_PER_SECOND;
/// Largest UTC offset magnitude accepted, in seconds (18 hours, as in Neo4j and Java).
pub const MAX_OFFSET_SECONDS: i32 = 18 * 3600;

/// A calendar date without time or zone: days since 1970-01-01 (proleptic Gregorian).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    pub days: i64,
}

/// A time of day without zone: nanoseconds since midnight, in `0..NANOS_PER_DAY`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalTime {
    pub nanos: i64,
}

/// A date and a time of day without zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalDateTime {
    pub date: Date,
    pub time: LocalTime,
}

/// An instant: local wall time plus the UTC offset in force there. `zone` is an optional
/// IANA name (`Europe/Paris`) kept for display; it never changes the instant.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ZonedDateTime {
    pub local: LocalDateTime,
    pub offset_seconds: i32,
    pub zone: Option<String>,
}

/// A temporal amount. Months, days and seconds are kept apart because their lengths in
/// absolute time vary (a month is 28 to 31 days, a day may be 23 to 25 hours).
/// Invariant (kept by [`Duration::new`] and checked by decoders): `nanos` is in
/// `0..1_000_000_000` and `seconds` carries the sign, so -1.5 s is `seconds: -2, nanos: 500_000_000`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Duration {
    pub months: i64,
    pub days: i64,
    pub seconds: i64,
    pub nanos: i32,
}

/// Whether `year` is a leap year in the proleptic Gregorian calendar.
pub const fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days in `month` (1-12) of `year`; 0 for a month outside 1-12.
pub const fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a valid civil date. Counts in 400-year eras of 146,097 days,
/// with years starting on March 1st so that the leap day falls at the end of a year.
/// Computed in `i128`, so it is exact for every `i64` year.
const fn days_from_civil(year: i64, month: u32, day: u32) -> i128 {
    let year = if month <= 2 { year as i128 - 1 } else { year as i128 };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = (if month > 2 { month - 3 } else { month + 9 }) as i128;
    let day_of_year = (153 * shifted_month + 2) / 5 + day as i128 - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Inverse of [`days_from_civil`], total over `i64` (computed in `i128`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = i128::from(days) + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = (if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    }) as u32;
    // |days| < 2^63 keeps the year well inside i64.
    let year = (year_of_era + era * 400) as i64 + i64::from(month <= 2);
    (year, month, day)
}

impl Date {
    /// Earliest supported year.
    pub const MIN_YEAR: i64 = -999_999_999;
    /// Latest supported year.
    pub const MAX_YEAR: i64 = 999_999_999;
    /// The earliest supported date, `-999999999-01-01`.
    pub const MIN: Date = Date {
        days: days_from_civil(Self::MIN_YEAR, 1, 1) as i64,
    };
    /// The latest supported date, `+999999999-12-31`.
    pub const MAX: Date = Date {
        days: days_from_civil(Self::MAX_YEAR, 12, 31) as i64,
    };
    /// 1970-01-01.
    pub const UNIX_EPOCH: Date = Date { days: 0 };

    /// The date `days` after 1970-01-01, if within the supported range.
    pub fn from_days(days: i64) -> Option<Date> {
        let date = Date { days };
        date.is_valid().then_some(date)
    }

    /// The date with the given calendar fields, if it exists and is in range.
    pub fn from_ymd(year: i64, month: u32, day: u32) -> Option<Date> {
        let in_range = (Self::MIN_YEAR..=Self::MAX_YEAR).contains(&year);
        if !in_range || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        // Supported years keep the day count far inside i64.
        Some(Date {
            days: days_from_civil(year, month, day) as i64,
        })
    }

    /// The `ordinal`-th day (1-based) of `year`.
    pub fn from_ordinal(year: i64, ordinal: u32) -> Option<Date> {
        let year_len = if is_leap_year(year) { 366 } else { 365 };
        if ordinal == 0 || ordinal > year_len {
            return None;
        }
        let first = Date::from_ymd(year, 1, 1)?;
        Some(Date {
            days: first.days + i64::from(ordinal) - 1,
        })
    }

    /// The date of ISO-8601 week-date `year`-W`week`-`weekday` (weekday 1 = Monday).
    /// Week 1 is the week containing the year's first Thursday.
    pub fn from_iso_week(year: i64, week: u32, weekday: u32) -> Option<Date> {
        if !(1..=53).contains(&week) || !(1..=7).contains(&weekday) {
            return None;
        }
        let jan4 = Date::from_ymd(year, 1, 4)?;
        let week1_monday = jan4.days - i64::from(jan4.weekday()) + 1;
        let days = week1_monday + 7 * i64::from(week - 1) + i64::from(weekday) - 1;
        let date = Date::from_days(days)?;
        // Rejects week 53 of a 52-week year.
        (date.iso_week().0 == year).then_some(date)
    }

    /// Whether `days` is within [`Date::MIN`]`..=`[`Date::MAX`].
    pub fn is_valid(self) -> bool {
        (Self::MIN.days..=Self::MAX.days).contains(&self.days)
    }

    /// (year, month 1-12, day 1-31).
    pub fn ymd(self) -> (i64, u32, u32) {
        civil_from_days(self.days)
    }

    pub fn year(self) -> i64 {
        self.ymd().0
    }

    /// Month, 1-12.
    pub fn month(self) -> u32 {
        self.ymd().1
    }

    /// Day of month, 1-31.
    pub fn day(self) -> u32 {
        self.ymd().2
    }

    /// Day of year, 1-366.
    pub fn ordinal(self) -> u32 {
        let first = days_from_civil(self.year(), 1, 1);
        (i128::from(self.days) - first + 1) as u32
    }

    /// ISO day of week: 1 = Monday ... 7 = Sunday (1970-01-01 was a Thursday).
    pub fn weekday(self) -> u32 {
        ((i128::from(self.days) + 3).rem_euclid(7) + 1) as u32
    }

    /// ISO-8601 (week-based year, week 1-53).
    pub fn iso_week(self) -> (i64, u32) {
        // The Thursday of this date's week decides which year the week belongs to.
        let thursday = Date {
            days: self.days.saturating_add(4 - i64::from(self.weekday())),
        };
        (thursday.year(), (thursday.ordinal() - 1) / 7 + 1)
    }
}

impl LocalTime {
    /// 00:00.
    pub const MIDNIGHT: LocalTime = LocalTime { nanos: 0 };

    /// The time `nanos` after midnight, if less than a day.
    pub fn from_nanos(nanos: i64) -> Option<LocalTime> {
        (0..NANOS_PER_DAY).contains(&nanos).then_some(LocalTime { nanos })
    }

    pub fn from_hms(hour: u32, minute: u32, second: u32) -> Option<LocalTime> {
        Self::from_hms_nano(hour, minute, second, 0)
    }

    /// Hour 0-23, minute 0-59, second 0-59, nanosecond 0-999,999,999.
    pub fn from_hms_nano(hour: u32, minute: u32, second: u32, nano: u32) -> Option<LocalTime> {
        if hour > 23 || minute > 59 || second > 59 || i64::from(nano) >= NANOS_PER_SECOND {
            return None;
        }
        let seconds = i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
        Some(LocalTime {
            nanos: seconds * NANOS_PER_SECOND + i64::from(nano),
        })
    }

    pub fn is_valid(self) -> bool {
        (0..NANOS_PER_DAY).contains(&self.nanos)
    }

    /// Nanoseconds since midnight folded into one day, so accessors never misbehave.
    fn folded(self) -> i64 {
        self.nanos.rem_euclid(NANOS_PER_DAY)
    }

    pub fn hour(self) -> u32 {
        (self.folded() / (3600 * NANOS_PER_SECOND)) as u32
    }

    pub fn minute(self) -> u32 {
        (self.folded() / (60 * NANOS_PER_SECOND) % 60) as u32
    }

    pub fn second(self) -> u32 {
        (self.folded() / NANOS_PER_SECOND % 60) as u32
    }

    pub fn nanosecond(self) -> u32 {
        (self.folded() % NANOS_PER_SECOND) as u32
    }
}

impl LocalDateTime {
    pub fn new(date: Date, time: LocalTime) -> LocalDateTime {
        LocalDateTime { date, time }
    }

    /// The local datetime with the given calendar and clock fields, if valid.
    pub fn from_ymd_hms_nano(
        year: i64,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
        nano: u32,
    ) -> Option<LocalDateTime> {
        let date = Date::from_ymd(year, month, day)?;
        let time = LocalTime::from_hms_nano(hour, minute, second, nano)?;
        Some(LocalDateTime { date, time })
    }

    pub fn is_valid(self) -> bool {
        self.date.is_valid() && self.time.is_valid()
    }

    /// Nanoseconds since 1970-01-01T00:00 on the same wall clock.
    pub fn to_nanos(self) -> i128 {
        i128::from(self.date.days) * i128::from(NANOS_PER_DAY) + i128::from(self.time.nanos)
    }

    /// Inverse of [`LocalDateTime::to_nanos`], if the result is in range.
    pub fn from_nanos(nanos: i128) -> Option<LocalDateTime> {
        let per_day = i128::from(NANOS_PER_DAY);
        let days = i64::try_from(nanos.div_euclid(per_day)).ok()?;
        let time = LocalTime {
            nanos: nanos.rem_euclid(per_day) as i64,
        };
        Some(LocalDateTime {
            date: Date::from_days(days)?,
            time,
        })
    }
}

impl ZonedDateTime {
    /// The instant at wall time `local` where the offset from UTC is `offset_seconds`.
    pub fn new(local: LocalDateTime, offset_seconds: i32, zone: Option<String>) -> Option<ZonedDateTime> {
        let valid = local.is_valid() && offset_seconds.abs() <= MAX_OFFSET_SECONDS;
        valid.then_some(ZonedDateTime {
            local,
            offset_seconds,
            zone,
        })
    }

    /// The instant `epoch_nanos` after 1970-01-01T00:00Z, seen at `offset_seconds`.
    pub fn from_epoch_nanos(epoch_nanos: i128, offset_seconds: i32, zone: Option<String>) -> Option<ZonedDateTime> {
        let offset_nanos = i128::from(offset_seconds) * i128::from(NANOS_PER_SECOND);
        let local = LocalDateTime::from_nanos(epoch_nanos.checked_add(offset_nanos)?)?;
        ZonedDateTime::new(local, offset_seconds, zone)
    }

    /// The current instant in UTC.
    pub fn now_utc() -> ZonedDateTime {
        let now = chrono::Utc::now();
        let nanos =
            i128::from(now.timestamp()) * i128::from(NANOS_PER_SECOND) + i128::from(now.timestamp_subsec_nanos());
        let local = LocalDateTime::from_nanos(nanos).unwrap_or_default();
        ZonedDateTime {
            local,
            offset_seconds: 0,
            zone: None,
        }
    }

    /// The UTC instant: nanoseconds since 1970-01-01T00:00Z.
    pub fn epoch_nanos(&self) -> i128 {
        self.local.to_nanos() - i128::from(self.offset_seconds) * i128::from(NANOS_PER_SECOND)
    }

    pub fn is_valid(&self) -> bool {
        self.local.is_valid() && self.offset_seconds.abs() <= MAX_OFFSET_SECONDS
    }
}

impl Default for Date {
    fn default() -> Date {
        Date::UNIX_EPOCH
    }
}

impl Default for LocalTime {
    fn default() -> LocalTime {
        LocalTime::MIDNIGHT
    }
}

impl Default for LocalDateTime {
    fn default() -> LocalDateTime {
        LocalDateTime::new(Date::UNIX_EPOCH, LocalTime::MIDNIGHT)
    }
}

impl Duration {
    /// The zero duration, `PT0S`.
    pub const ZERO: Duration = Duration {
        months: 0,
        days: 0,
        seconds: 0,
        nanos: 0,
    };

    /// A duration from components; `nanos` may be any value and is carried into
    /// `seconds`. `None` if seconds overflow.
    pub fn new(months: i64, days: i64, seconds: i64, nanos: i64) -> Option<Duration> {
        let seconds = seconds.checked_add(nanos.div_euclid(NANOS_PER_SECOND))?;
        let nanos = nanos.rem_euclid(NANOS_PER_SECOND) as i32;
        Some(Duration {
            months,
            days,
            seconds,
            nanos,
        })
    }

    /// A duration from months, days and a signed nanosecond count for the time part.
    pub fn from_time_nanos(months: i64, days: i64, time_nanos: i128) -> Option<Duration> {
        let per_second = i128::from(NANOS_PER_SECOND);
        let seconds = i64::try_from(time_nanos.div_euclid(per_second)).ok()?;
        let nanos = time_nanos.rem_euclid(per_second) as i32;
        Some(Duration {
            months,
            days,
            seconds,
            nanos,
        })
    }

    /// The time part (seconds and nanos) as one signed nanosecond count.
    pub fn time_nanos(&self) -> i128 {
        i128::from(self.seconds) * i128::from(NANOS_PER_SECOND) + i128::from(self.nanos)
    }

    /// Whether the `nanos` invariant holds.
    pub fn is_valid(&self) -> bool {
        (0..NANOS_PER_SECOND).contains(&i64::from(self.nanos))
    }
}

/// Writes a fraction of a second the way Java's `LocalTime` does: 3, 6 or 9 digits.
fn write_clock_fraction(f: &mut fmt::Formatter<'_>, nano: u32) -> fmt::Result {
    match nano {
        0 => Ok(()),
        n if n % 1_000_000 == 0 => write!(f, ".{:03}", n / 1_000_000),
        n if n % 1_000 == 0 => write!(f, ".{:06}", n / 1_000),
        n => write!(f, ".{n:09}"),
    }
}

/// Writes a UTC offset: `Z`, `+01:00`, or `+00:53:28` when seconds are present.
fn write_offset(f: &mut fmt::Formatter<'_>, offset_seconds: i32) -> fmt::Result {
    if offset_seconds == 0 {
        return f.write_str("Z");
    }
    let sign = if offset_seconds < 0 { '-' } else { '+' };
    let abs = offset_seconds.unsigned_abs();
    write!(f, "{sign}{:02}:{:02}", abs / 3600, abs / 60 % 60)?;
    match abs % 60 {
        0 => Ok(()),
        seconds => write!(f, ":{seconds:02}"),
    }
}

/// `2024-01-05`; years beyond four digits get an explicit sign (`+10000-01-01`).
impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = self.ymd();
        match year {
            0..=9999 => write!(f, "{year:04}")?,
            -9999..=-1 => write!(f, "-{:04}", year.unsigned_abs())?,
            10000.. => write!(f, "+{year}")?,
            _ => write!(f, "{year}")?,
        }
        write!(f, "-{month:02}-{day:02}")
    }
}

/// `12:30`, `12:30:15`, `12:30:15.500`, `12:30:00.000000001` (seconds are shown only
/// when not zero, and the fraction in groups of three digits, as Neo4j prints them).
impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour(), self.minute())?;
        let (second, nano) = (self.second(), self.nanosecond());
        if second == 0 && nano == 0 {
            return Ok(());
        }
        write!(f, ":{second:02}")?;
        write_clock_fraction(f, nano)
    }
}

/// `2024-01-05T12:30`, following the [`Date`] and [`LocalTime`] forms.
impl fmt::Display for LocalDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}T{}", self.date, self.time)
    }
}

/// `2024-01-05T12:30+01:00[Europe/Paris]`, `2024-01-05T12:30Z`.
impl fmt::Display for ZonedDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.local)?;
        write_offset(f, self.offset_seconds)?;
        match &self.zone {
            Some(zone) => write!(f, "[{zone}]"),
            None => Ok(()),
        }
    }
}

/// `P1Y2M3DT4H5M6.5S`: months as years and months, days, then the time part as hours,
/// minutes and seconds, each carrying its own sign (`PT-1M-0.001S`); zero parts are
/// omitted and the zero duration is `PT0S`.
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("P")?;
        let (years, months) = (self.months / 12, self.months % 12);
        for (amount, unit) in [(years, 'Y'), (months, 'M'), (self.days, 'D')] {
            if amount != 0 {
                write!(f, "{amount}{unit}")?;
            }
        }
        let time = self.time_nanos();
        if time != 0 {
            f.write_str("T")?;
            return write_duration_time(f, time);
        }
        if self.months == 0 && self.days == 0 {
            f.write_str("T0S")?;
        }
        Ok(())
    }
}

/// Writes the `4H5M6.5S` part of a duration from a nonzero signed nanosecond count.
fn write_duration_time(f: &mut fmt::Formatter<'_>, time: i128) -> fmt::Result {
    let sign = if time < 0 { "-" } else { "" };
    let abs = time.unsigned_abs();
    let per_second = NANOS_PER_SECOND as u128;
    let (hours, minutes) = (abs / (3600 * per_second), abs / (60 * per_second) % 60);
    let (seconds, nanos) = (abs / per_second % 60, abs % per_second);
    if hours != 0 {
        write!(f, "{sign}{hours}H")?;
    }
    if minutes != 0 {
        write!(f, "{sign}{minutes}M")?;
    }
    if seconds == 0 && nanos == 0 {
        return Ok(());
    }
    write!(f, "{sign}{seconds}")?;
    if nanos != 0 {
        let digits = format!("{nanos:09}");
        write!(f, ".{}", digits.trim_end_matches('0'))?;
    }
    f.write_str("S")
}

#[cfg(test)]
mod tests;
