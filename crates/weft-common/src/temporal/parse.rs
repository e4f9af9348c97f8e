//! Parsing of the ISO-8601 strings accepted by Cypher's `date('...')`, `localtime('...')`,
//! `localdatetime('...')`, `datetime('...')` and `duration('...')`.
//!
//! Accepted forms (as in the openCypher TCK, `Temporal2.feature`):
//! - dates: `2015-07-21`, `20150721`, `2015-07`, `201507`, `2015-W30-2`, `2015W302`,
//!   `2015-W30`, `2015W30`, `2015-202`, `2015202`, `2015`; years outside 0000-9999 need a
//!   sign (`+10000-01-01`, `-0044-03-15`).
//! - times: `21:40:32.142`, `214032.142`, `21:40:32`, `214032`, `21:40`, `2140`, `21`; the
//!   fraction separator may be `.` or `,` and holds at most nine digits.
//! - offsets: `Z`, `+01`, `+0100`, `+01:00`, `+00:53:28`.
//! - zoned times: a time, then an optional offset (none means UTC).
//! - datetimes: date `T` time, then for zoned values an optional offset and an optional
//!   `[Zone/Name]`; a bare date means midnight.
//! - durations: `P1Y2M3W4DT5H6M7.5S` (any component may be signed or fractional; a
//!   leading `-` negates the whole) and the alternative form `P2012-02-02T14:37:21.545`.
//!
//! Every parser returns `None` on anything else; none of them panics.

use super::{
    zone, Date, Duration, LocalDateTime, LocalTime, ZonedDateTime, ZonedTime, MAX_OFFSET_SECONDS, NANOS_PER_DAY,
    NANOS_PER_SECOND,
};

/// Average length of a Gregorian month in seconds (365.2425 days / 12), used to turn
/// fractional months into days and seconds, as Neo4j does.
const SECONDS_PER_AVERAGE_MONTH: i128 = 2_629_746;

/// Fixed-point scale for fractional duration components: one unit is 10^-9.
const SCALE: i128 = 1_000_000_000;

/// A byte cursor over an ASCII string.
struct Cursor<'a> {
    text: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Cursor<'a> {
        Cursor {
            text: text.as_bytes(),
            pos: 0,
        }
    }

    fn done(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    /// Consumes `byte` if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        self.pos += usize::from(found);
        found
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.eat(byte).then_some(())
    }

    /// How many ASCII digits follow.
    fn digits_ahead(&self) -> usize {
        let rest = self.text.get(self.pos..).unwrap_or_default();
        rest.iter().take_while(|b| b.is_ascii_digit()).count()
    }

    /// Exactly `count` digits as a number (count ≤ 18).
    fn digits(&mut self, count: usize) -> Option<i64> {
        if self.digits_ahead() < count {
            return None;
        }
        let value = self.text[self.pos..self.pos + count]
            .iter()
            .fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0'));
        self.pos += count;
        Some(value)
    }

    /// A fraction of up to nine digits after `.` or `,`, in nanoseconds; 0 if absent.
    fn fraction_nanos(&mut self) -> Option<i64> {
        if !self.eat(b'.') && !self.eat(b',') {
            return Some(0);
        }
        let count = self.digits_ahead();
        if count == 0 || count > 9 {
            return None;
        }
        let value = self.digits(count)?;
        Some(value * 10i64.pow(9 - count as u32))
    }
}

/// Parses a UTC offset (`Z`, `+01`, `+0100`, `+01:00`, `-00:53:28`) into seconds.
pub fn parse_offset(text: &str) -> Option<i32> {
    let mut cursor = Cursor::new(text);
    let offset = offset(&mut cursor)?;
    cursor.done().then_some(offset)
}

fn offset(cursor: &mut Cursor<'_>) -> Option<i32> {
    if cursor.eat(b'Z') {
        return Some(0);
    }
    let sign = if cursor.eat(b'+') {
        1
    } else {
        cursor.expect(b'-')?;
        -1
    };
    let hours = cursor.digits(2)?;
    let (mut minutes, mut seconds) = (0, 0);
    // An offset ends at the end of the text or where a zone name starts.
    let ends = |cursor: &Cursor<'_>| matches!(cursor.peek(), None | Some(b'['));
    if !ends(cursor) {
        let colon = cursor.eat(b':');
        minutes = cursor.digits(2)?;
        if !ends(cursor) && (!colon || cursor.eat(b':')) {
            seconds = cursor.digits(2)?;
        }
    }
    if minutes > 59 || seconds > 59 {
        return None;
    }
    let total = i32::try_from(hours * 3600 + minutes * 60 + seconds).ok()?;
    (total <= MAX_OFFSET_SECONDS).then_some(sign * total)
}

/// A year: four digits, or a sign and four to nine digits.
fn year(cursor: &mut Cursor<'_>) -> Option<i64> {
    let sign = match cursor.peek()? {
        b'+' => 1,
        b'-' => -1,
        _ => return cursor.digits(4),
    };
    cursor.pos += 1;
    let count = cursor.digits_ahead();
    if !(4..=9).contains(&count) {
        return None;
    }
    Some(sign * cursor.digits(count)?)
}

/// A whole date string in any of the forms listed in the module docs.
fn date(cursor: &mut Cursor<'_>) -> Option<Date> {
    let year = year(cursor)?;
    if cursor.done() {
        return Date::from_ymd(year, 1, 1);
    }
    let dashed = cursor.eat(b'-');
    if cursor.eat(b'W') {
        let week = cursor.digits(2)?;
        let mut weekday = 1;
        if !cursor.done() {
            if dashed {
                cursor.expect(b'-')?;
            }
            weekday = cursor.digits(1)?;
        }
        return Date::from_iso_week(year, u32::try_from(week).ok()?, weekday as u32);
    }
    match cursor.digits_ahead() {
        3 => Date::from_ordinal(year, cursor.digits(3)? as u32),
        2 => {
            let month = cursor.digits(2)? as u32;
            if cursor.done() {
                return Date::from_ymd(year, month, 1);
            }
            if dashed {
                cursor.expect(b'-')?;
            }
            Date::from_ymd(year, month, cursor.digits(2)? as u32)
        }
        4 if !dashed => {
            let month = cursor.digits(2)? as u32;
            Date::from_ymd(year, month, cursor.digits(2)? as u32)
        }
        _ => None,
    }
}

/// A time of day: hours, then optionally minutes, seconds and a fraction.
fn time(cursor: &mut Cursor<'_>) -> Option<LocalTime> {
    let hour = cursor.digits(2)? as u32;
    let (mut minute, mut second, mut nano) = (0, 0, 0);
    if !ends_clock(cursor) {
        let colon = cursor.eat(b':');
        minute = cursor.digits(2)? as u32;
        if !ends_clock(cursor) {
            if colon {
                cursor.expect(b':')?;
            }
            second = cursor.digits(2)? as u32;
            nano = cursor.fraction_nanos()? as u32;
        }
    }
    LocalTime::from_hms_nano(hour, minute, second, nano)
}

/// Whether the clock part of a time string ends here (end, offset or zone follows).
fn ends_clock(cursor: &Cursor<'_>) -> bool {
    matches!(cursor.peek(), None | Some(b'Z' | b'+' | b'-' | b'['))
}

/// A date, optionally followed by `T` and a time.
fn local_date_time(cursor: &mut Cursor<'_>, text: &str) -> Option<LocalDateTime> {
    // The date part ends at `T`; parse it as a whole string of its own.
    let split = text.find('T').unwrap_or(text.len());
    let mut date_cursor = Cursor::new(&text[..split]);
    let date = date(&mut date_cursor)?;
    if !date_cursor.done() {
        return None;
    }
    cursor.pos = split;
    if !cursor.eat(b'T') {
        return Some(LocalDateTime::new(date, LocalTime::MIDNIGHT));
    }
    Some(LocalDateTime::new(date, time(cursor)?))
}

/// `[Zone/Name]` at the end of a zoned datetime.
fn zone_name(cursor: &mut Cursor<'_>, text: &'_ str) -> Option<String> {
    cursor.expect(b'[')?;
    let name = text.get(cursor.pos..text.len().checked_sub(1)?)?;
    let well_formed = text.ends_with(']') && !name.is_empty() && !name.contains([']', '[']);
    cursor.pos = text.len();
    well_formed.then(|| name.to_string())
}

impl Date {
    /// Parses an ISO-8601 date (see the forms in `temporal/parse.rs`).
    pub fn parse(text: &str) -> Option<Date> {
        let mut cursor = Cursor::new(text);
        let date = date(&mut cursor)?;
        cursor.done().then_some(date)
    }
}

impl LocalTime {
    /// Parses an ISO-8601 time of day without offset.
    pub fn parse(text: &str) -> Option<LocalTime> {
        let mut cursor = Cursor::new(text);
        let time = time(&mut cursor)?;
        cursor.done().then_some(time)
    }
}

impl ZonedTime {
    /// Parses an ISO-8601 time of day with an optional offset (`12:00+01:00`, `1200Z`);
    /// without one the time is in UTC.
    pub fn parse(text: &str) -> Option<ZonedTime> {
        let mut cursor = Cursor::new(text);
        let time = time(&mut cursor)?;
        let offset = match cursor.done() {
            true => 0,
            false => offset(&mut cursor)?,
        };
        let zoned = ZonedTime::new(time, offset)?;
        cursor.done().then_some(zoned)
    }
}

impl LocalDateTime {
    /// Parses `date[Ttime]` without offset.
    pub fn parse(text: &str) -> Option<LocalDateTime> {
        let mut cursor = Cursor::new(text);
        let local = local_date_time(&mut cursor, text)?;
        cursor.done().then_some(local)
    }
}

impl ZonedDateTime {
    /// Parses `date[Ttime][offset][[Zone/Name]]`. Without an offset, the zone name is
    /// resolved with the tz database (a wall time in a gap moves forward, see
    /// `temporal/zone.rs`); without either, the time is in UTC (Neo4j's default time
    /// zone). An explicit offset is taken as given, and the name kept for display.
    pub fn parse(text: &str) -> Option<ZonedDateTime> {
        Self::parse_with(text, zone::resolve_local)
    }

    /// Like [`ZonedDateTime::parse`], asking `resolve(zone, local)` for the wall time and
    /// offset when the text names a zone but gives no offset.
    pub fn parse_with(
        text: &str,
        resolve: impl FnOnce(&str, LocalDateTime) -> Option<(LocalDateTime, i32)>,
    ) -> Option<ZonedDateTime> {
        let mut cursor = Cursor::new(text);
        let local = local_date_time(&mut cursor, text)?;
        let explicit = match cursor.peek() {
            Some(b'Z' | b'+' | b'-') => Some(offset(&mut cursor)?),
            _ => None,
        };
        let zone = match cursor.done() {
            true => None,
            false => Some(zone_name(&mut cursor, text)?),
        };
        let (local, offset) = match (explicit, &zone) {
            (Some(offset), _) => (local, offset),
            (None, Some(name)) => resolve(name, local)?,
            (None, None) => (local, 0),
        };
        ZonedDateTime::new(local, offset, zone)
    }
}

impl Duration {
    /// Parses an ISO-8601 duration (see the forms in `temporal/parse.rs`). Fractional
    /// years become months; fractional months become days and seconds through the
    /// average month (2,629,746 s); fractional weeks and days become days and seconds.
    pub fn parse(text: &str) -> Option<Duration> {
        let (negate, body) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let body = body.strip_prefix('P')?;
        let mut amounts = if is_alternative_form(body) {
            alternative_amounts(body)?
        } else {
            designator_amounts(body)?
        };
        if negate {
            amounts = amounts.negated()?;
        }
        amounts.into_duration()
    }
}

/// The components of a duration being parsed, scaled by [`SCALE`] (so fractions fit).
#[derive(Default)]
struct Amounts {
    months: i128,
    days: i128,
    /// Time part in nanoseconds: seconds scaled by 10^9.
    nanos: i128,
}

impl Amounts {
    /// Adds `value` (scaled) of `unit` to the date or time part.
    fn add(&mut self, unit: u8, in_time: bool, value: i128) -> Option<()> {
        let (field, factor) = match (in_time, unit) {
            (false, b'Y') => (&mut self.months, 12),
            (false, b'M') => (&mut self.months, 1),
            (false, b'W') => (&mut self.days, 7),
            (false, b'D') => (&mut self.days, 1),
            (true, b'H') => (&mut self.nanos, 3600),
            (true, b'M') => (&mut self.nanos, 60),
            (true, b'S') => (&mut self.nanos, 1),
            _ => return None,
        };
        *field = field.checked_add(value.checked_mul(factor)?)?;
        Some(())
    }

    fn negated(&self) -> Option<Amounts> {
        Some(Amounts {
            months: self.months.checked_neg()?,
            days: self.days.checked_neg()?,
            nanos: self.nanos.checked_neg()?,
        })
    }

    /// Moves fractional months and days into the smaller units, then builds the duration.
    fn into_duration(self) -> Option<Duration> {
        let month_fraction_nanos = (self.months % SCALE) * SECONDS_PER_AVERAGE_MONTH;
        let day_fraction_nanos = (self.days % SCALE) * i128::from(NANOS_PER_DAY) / SCALE;
        let per_day = i128::from(NANOS_PER_DAY);
        let days = self.days / SCALE + month_fraction_nanos / per_day;
        let nanos = self.nanos + month_fraction_nanos % per_day + day_fraction_nanos;
        let months = i64::try_from(self.months / SCALE).ok()?;
        Duration::from_time_nanos(months, i64::try_from(days).ok()?, nanos)
    }
}

/// Whether a duration body (after `P`) is in the `YYYY-MM-DDThh:mm:ss` form.
fn is_alternative_form(body: &str) -> bool {
    let bytes = body.as_bytes();
    bytes.len() > 4 && bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-'
}

/// `YYYY-MM-DD[Thh:mm:ss[.fff]]` as amounts of each unit (not calendar fields).
fn alternative_amounts(body: &str) -> Option<Amounts> {
    let mut cursor = Cursor::new(body);
    let years = cursor.digits(4)?;
    cursor.expect(b'-')?;
    let months = cursor.digits(2)?;
    cursor.expect(b'-')?;
    let days = cursor.digits(2)?;
    let mut nanos = 0;
    if cursor.eat(b'T') {
        let hours = cursor.digits(2)?;
        cursor.expect(b':')?;
        let minutes = cursor.digits(2)?;
        cursor.expect(b':')?;
        let seconds = cursor.digits(2)?;
        let seconds = (hours * 3600 + minutes * 60 + seconds) * NANOS_PER_SECOND;
        nanos = seconds + cursor.fraction_nanos()?;
    }
    let amounts = Amounts {
        months: i128::from(years * 12 + months) * SCALE,
        days: i128::from(days) * SCALE,
        nanos: i128::from(nanos),
    };
    cursor.done().then_some(amounts)
}

/// `nY nM nW nD T nH nM nS`, each optional but in this order, at least one present.
fn designator_amounts(body: &str) -> Option<Amounts> {
    const DATE_UNITS: &[u8] = b"YMWD";
    const TIME_UNITS: &[u8] = b"HMS";
    let mut cursor = Cursor::new(body);
    let mut amounts = Amounts::default();
    let (mut in_time, mut next_unit, mut any) = (false, 0, false);
    while !cursor.done() {
        if !in_time && cursor.eat(b'T') {
            (in_time, next_unit) = (true, 0);
            continue;
        }
        let value = scaled_number(&mut cursor)?;
        let unit = cursor.peek()?;
        cursor.pos += 1;
        let units = if in_time { TIME_UNITS } else { DATE_UNITS };
        let index = units.iter().position(|&u| u == unit)?;
        if index < next_unit {
            return None;
        }
        next_unit = index + 1;
        amounts.add(unit, in_time, value)?;
        any = true;
    }
    // `PT` alone or a trailing `T` is not a duration.
    (any && !body.ends_with('T')).then_some(amounts)
}

/// A signed decimal number scaled by [`SCALE`]: `12`, `-1.5`, `0,25`.
fn scaled_number(cursor: &mut Cursor<'_>) -> Option<i128> {
    let negative = cursor.eat(b'-');
    if !negative {
        cursor.eat(b'+');
    }
    let count = cursor.digits_ahead();
    if count == 0 || count > 18 {
        return None;
    }
    let whole = i128::from(cursor.digits(count)?);
    let fraction = i128::from(cursor.fraction_nanos()?);
    let value = whole * SCALE + fraction;
    Some(if negative { -value } else { value })
}
