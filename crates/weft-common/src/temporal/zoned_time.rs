//! [`ZonedTime`]: a time of day with a UTC offset, Cypher's `TIME` (Java's `OffsetTime`).
//!
//! Promises: equality is structural (the same instant at another offset is a different
//! value, as in Neo4j); [`ZonedTime::order_cmp`] orders by the time of day in UTC, then
//! by offset, which agrees with that equality. Display is `12:31:14.645+01:00` or `12:00Z`,
//! and parsing (`temporal/parse.rs`) reads every form Display writes.

use std::cmp::Ordering;
use std::fmt;

use super::{write_offset, LocalTime, MAX_OFFSET_SECONDS, NANOS_PER_DAY, NANOS_PER_SECOND};

/// A time of day at a UTC offset. A zone name is never kept: a time has no date, so a
/// named zone has no single offset to give it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ZonedTime {
    pub time: LocalTime,
    pub offset_seconds: i32,
}

impl ZonedTime {
    /// The time `time` at `offset_seconds` east of UTC, if both are valid.
    pub fn new(time: LocalTime, offset_seconds: i32) -> Option<ZonedTime> {
        let candidate = ZonedTime { time, offset_seconds };
        candidate.is_valid().then_some(candidate)
    }

    /// The time of day that the instant `nanos` after midnight UTC (any value, wrapped
    /// into one day) shows at `offset_seconds`.
    pub fn from_utc_nanos(nanos: i128, offset_seconds: i32) -> Option<ZonedTime> {
        let local = nanos.checked_add(i128::from(offset_seconds) * i128::from(NANOS_PER_SECOND))?;
        let wrapped = local.rem_euclid(i128::from(NANOS_PER_DAY)) as i64;
        ZonedTime::new(LocalTime { nanos: wrapped }, offset_seconds)
    }

    pub fn is_valid(&self) -> bool {
        self.time.is_valid() && self.offset_seconds.abs() <= MAX_OFFSET_SECONDS
    }

    /// The time of day in UTC in nanoseconds, *not* wrapped into one day (so
    /// `00:30+01:00` is negative), which keeps the order total and consistent.
    pub fn utc_nanos(&self) -> i128 {
        i128::from(self.time.nanos) - i128::from(self.offset_seconds) * i128::from(NANOS_PER_SECOND)
    }

    /// The total order of times: time of day in UTC, then offset.
    pub fn order_cmp(&self, other: &ZonedTime) -> Ordering {
        self.utc_nanos()
            .cmp(&other.utc_nanos())
            .then(self.offset_seconds.cmp(&other.offset_seconds))
    }
}

/// `12:30+01:00`, `12:30:15.500Z`: the [`LocalTime`] form, then the offset.
impl fmt::Display for ZonedTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.time)?;
        write_offset(f, self.offset_seconds)
    }
}
