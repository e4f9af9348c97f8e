//! Bolt temporal structures and their conversion to `weft_common::temporal` types.
//!
//! | structure | tag | fields |
//! |---|---|---|
//! | Date | `44` | days since 1970-01-01 |
//! | Time | `54` | nanoseconds since local midnight, offset seconds |
//! | LocalTime | `74` | nanoseconds since midnight |
//! | LocalDateTime | `64` | seconds, nanoseconds since 1970-01-01T00:00 (wall clock) |
//! | DateTime | `49` (5.x) / `46` (4.x) | seconds, nanoseconds, offset seconds |
//! | DateTimeZoneId | `69` (5.x) / `66` (4.x) | seconds, nanoseconds, IANA zone id |
//! | Duration | `45` | months, days, seconds, nanoseconds |
//!
//! The 5.x datetime forms count seconds from 1970-01-01T00:00Z (an instant); the legacy
//! 4.x forms count them on the local wall clock. Encoding follows the [`Dialect`];
//! decoding accepts either form, since the tags do not overlap.
//!
//! Promises: decoded values satisfy the invariants of the weft-common types (valid
//! ranges, offsets within ±18 h, duration nanos in `0..10^9`), else an error; a zone id
//! must be known to the tz database, which supplies its offset.

use weft_common::temporal::{
    offset_at_instant, resolve_local, Date, Duration, LocalDateTime, LocalTime, ZonedDateTime, ZonedTime,
    NANOS_PER_SECOND,
};

use super::{structure, Dialect, Fields, StructError};
use crate::packstream::BoltValue;

pub const TAG_DATE: u8 = 0x44;
pub const TAG_TIME: u8 = 0x54;
pub const TAG_LOCAL_TIME: u8 = 0x74;
pub const TAG_LOCAL_DATE_TIME: u8 = 0x64;
pub const TAG_DATE_TIME: u8 = 0x49;
pub const TAG_DATE_TIME_LEGACY: u8 = 0x46;
pub const TAG_DATE_TIME_ZONE_ID: u8 = 0x69;
pub const TAG_DATE_TIME_ZONE_ID_LEGACY: u8 = 0x66;
pub const TAG_DURATION: u8 = 0x45;

/// A Cypher temporal value as Bolt carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Temporal {
    Date(Date),
    Time(ZonedTime),
    LocalTime(LocalTime),
    LocalDateTime(LocalDateTime),
    /// With a zone name: a DateTimeZoneId; without: a DateTime at a fixed offset.
    DateTime(ZonedDateTime),
    Duration(Duration),
}

impl Temporal {
    /// The structure for this value in `dialect`.
    pub fn to_value(&self, dialect: Dialect) -> BoltValue {
        let int = BoltValue::Integer;
        match self {
            Temporal::Date(d) => structure(TAG_DATE, vec![int(d.days)]),
            Temporal::Time(t) => structure(TAG_TIME, vec![int(t.time.nanos), int(t.offset_seconds.into())]),
            Temporal::LocalTime(t) => structure(TAG_LOCAL_TIME, vec![int(t.nanos)]),
            Temporal::LocalDateTime(l) => {
                let (seconds, nanos) = split_nanos(l.to_nanos());
                structure(TAG_LOCAL_DATE_TIME, vec![int(seconds), int(nanos)])
            }
            Temporal::DateTime(z) => datetime_value(z, dialect),
            Temporal::Duration(d) => structure(
                TAG_DURATION,
                vec![int(d.months), int(d.days), int(d.seconds), int(d.nanos.into())],
            ),
        }
    }

    /// The temporal value a structure holds, in either datetime form.
    pub fn from_value(value: &BoltValue) -> Result<Temporal, StructError> {
        let BoltValue::Structure(s) = value else {
            let got = super::type_name(value);
            return Err(StructError::NotStructure { name: "temporal", got });
        };
        match s.tag {
            TAG_DATE => {
                let f = Fields::of(s, "Date", TAG_DATE, 1)?;
                Date::from_days(f.int(0, "days")?)
                    .map(Temporal::Date)
                    .ok_or(out_of_range("Date"))
            }
            TAG_TIME => {
                let f = Fields::of(s, "Time", TAG_TIME, 2)?;
                let offset = offset(f.int(1, "tz_offset_seconds")?, "Time")?;
                let time = ZonedTime::new(
                    LocalTime {
                        nanos: f.int(0, "nanoseconds")?,
                    },
                    offset,
                );
                time.map(Temporal::Time).ok_or(out_of_range("Time"))
            }
            TAG_LOCAL_TIME => {
                let f = Fields::of(s, "LocalTime", TAG_LOCAL_TIME, 1)?;
                let time = LocalTime::from_nanos(f.int(0, "nanoseconds")?);
                time.map(Temporal::LocalTime).ok_or(out_of_range("LocalTime"))
            }
            TAG_LOCAL_DATE_TIME => {
                let f = Fields::of(s, "LocalDateTime", TAG_LOCAL_DATE_TIME, 2)?;
                let local = LocalDateTime::from_nanos(join_nanos(&f)?);
                local.map(Temporal::LocalDateTime).ok_or(out_of_range("LocalDateTime"))
            }
            TAG_DATE_TIME | TAG_DATE_TIME_LEGACY => datetime_offset(&Fields::of(s, "DateTime", s.tag, 3)?, s.tag),
            TAG_DATE_TIME_ZONE_ID | TAG_DATE_TIME_ZONE_ID_LEGACY => {
                datetime_zone(&Fields::of(s, "DateTimeZoneId", s.tag, 3)?, s.tag)
            }
            TAG_DURATION => {
                let f = Fields::of(s, "Duration", TAG_DURATION, 4)?;
                let (months, days) = (f.int(0, "months")?, f.int(1, "days")?);
                let duration = Duration::new(months, days, f.int(2, "seconds")?, f.int(3, "nanoseconds")?);
                duration.map(Temporal::Duration).ok_or(out_of_range("Duration"))
            }
            tag => Err(StructError::WrongTag {
                name: "temporal",
                expected: TAG_DATE,
                tag,
            }),
        }
    }
}

/// A DateTime or DateTimeZoneId, UTC or legacy as the dialect says.
fn datetime_value(z: &ZonedDateTime, dialect: Dialect) -> BoltValue {
    let nanos = if dialect.utc_datetime {
        z.epoch_nanos()
    } else {
        z.local.to_nanos()
    };
    let (seconds, nanos) = split_nanos(nanos);
    let (seconds, nanos) = (BoltValue::Integer(seconds), BoltValue::Integer(nanos));
    let (tag, last) = match (&z.zone, dialect.utc_datetime) {
        (Some(zone), true) => (TAG_DATE_TIME_ZONE_ID, BoltValue::String(zone.clone())),
        (Some(zone), false) => (TAG_DATE_TIME_ZONE_ID_LEGACY, BoltValue::String(zone.clone())),
        (None, true) => (TAG_DATE_TIME, BoltValue::Integer(z.offset_seconds.into())),
        (None, false) => (TAG_DATE_TIME_LEGACY, BoltValue::Integer(z.offset_seconds.into())),
    };
    structure(tag, vec![seconds, nanos, last])
}

/// A DateTime at a fixed offset; `tag` tells whether the seconds are UTC or local.
fn datetime_offset(f: &Fields<'_>, tag: u8) -> Result<Temporal, StructError> {
    let nanos = join_nanos(f)?;
    let offset = offset(f.int(2, "tz_offset_seconds")?, "DateTime")?;
    let zoned = if tag == TAG_DATE_TIME {
        ZonedDateTime::from_epoch_nanos(nanos, offset, None)
    } else {
        LocalDateTime::from_nanos(nanos).and_then(|local| ZonedDateTime::new(local, offset, None))
    };
    zoned.map(Temporal::DateTime).ok_or(out_of_range("DateTime"))
}

/// A DateTime in a named zone, whose offset comes from the tz database.
fn datetime_zone(f: &Fields<'_>, tag: u8) -> Result<Temporal, StructError> {
    let nanos = join_nanos(f)?;
    let zone = f.string(2, "tz_id")?;
    let unknown = || StructError::UnknownZone(zone.clone());
    let zoned = if tag == TAG_DATE_TIME_ZONE_ID {
        let offset = offset_at_instant(&zone, nanos).ok_or_else(unknown)?;
        ZonedDateTime::from_epoch_nanos(nanos, offset, Some(zone.clone()))
    } else {
        let local = LocalDateTime::from_nanos(nanos).ok_or(out_of_range("DateTimeZoneId"))?;
        let (local, offset) = resolve_local(&zone, local).ok_or_else(unknown)?;
        ZonedDateTime::new(local, offset, Some(zone.clone()))
    };
    zoned.map(Temporal::DateTime).ok_or(out_of_range("DateTimeZoneId"))
}

/// Whole seconds (floored) and the nanoseconds left, as Bolt writes them.
fn split_nanos(nanos: i128) -> (i64, i64) {
    let per_second = i128::from(NANOS_PER_SECOND);
    // Every valid weft-common temporal is far inside i64 seconds; saturate otherwise.
    let seconds = i64::try_from(nanos.div_euclid(per_second)).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX });
    (seconds, nanos.rem_euclid(per_second) as i64)
}

/// Fields 0 and 1 (seconds, nanoseconds) as one nanosecond count.
fn join_nanos(f: &Fields<'_>) -> Result<i128, StructError> {
    let (seconds, nanos) = (f.int(0, "seconds")?, f.int(1, "nanoseconds")?);
    Ok(i128::from(seconds) * i128::from(NANOS_PER_SECOND) + i128::from(nanos))
}

fn offset(seconds: i64, name: &'static str) -> Result<i32, StructError> {
    i32::try_from(seconds).map_err(|_| out_of_range(name))
}

fn out_of_range(name: &'static str) -> StructError {
    StructError::OutOfRange { name }
}
