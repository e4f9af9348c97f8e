//! Named time zones: turning an IANA zone name (`Europe/Stockholm`) into the UTC offset
//! in force at a wall time or at an instant, from the tz database compiled into
//! `chrono-tz`.
//!
//! Promises:
//! - A wall time that a zone skips (a daylight-saving gap) is moved forward by the
//!   length of the gap and takes the offset after it; a wall time that occurs twice (an
//!   overlap) takes the earlier offset. This is Java's `ZonedDateTime.of` rule, which
//!   Neo4j and the openCypher TCK follow.
//! - Instants beyond the years the tz library handles are resolved as at the nearest
//!   year it does handle (the rules of the far past and future do not change).
//! - Nothing here panics: unknown names give `None`.

use std::str::FromStr;

use chrono::{DateTime, Offset, TimeZone};
use chrono_tz::Tz;

use super::{LocalDateTime, NANOS_PER_SECOND};

/// Seconds since the epoch bounding what is handed to `chrono` (about ±200,000 years,
/// well inside its supported range).
const CLAMP_SECONDS: i64 = 6_000_000_000_000;

/// Whether `name` is a zone the tz database knows.
pub fn is_zone_name(name: &str) -> bool {
    Tz::from_str(name).is_ok()
}

/// The offset (seconds east of UTC) of zone `name` at the instant `epoch_nanos`.
pub fn offset_at_instant(name: &str, epoch_nanos: i128) -> Option<i32> {
    let tz = Tz::from_str(name).ok()?;
    Some(offset_at_seconds(&tz, epoch_seconds(epoch_nanos)))
}

/// The wall time and offset that zone `name` gives to the wall time `local`: `local`
/// itself unless it falls in a gap (see the module docs).
pub fn resolve_local(name: &str, local: LocalDateTime) -> Option<(LocalDateTime, i32)> {
    let tz = Tz::from_str(name).ok()?;
    let local_seconds = epoch_seconds(local.to_nanos());
    // The offsets in force a day either side bracket every transition that could apply.
    let before = offset_at_seconds(&tz, local_seconds.saturating_sub(86_400));
    let after = offset_at_seconds(&tz, local_seconds.saturating_add(86_400));
    let fits = |offset: i32| offset_at_seconds(&tz, local_seconds - i64::from(offset)) == offset;
    // In an overlap both fit and the earlier one (in force before it) wins.
    let offset = [before, after].into_iter().find(|&o| fits(o));
    match offset {
        Some(offset) => Some((local, offset)),
        None => {
            // A gap: the instant the wall time names under the earlier offset.
            let instant = local.to_nanos() - i128::from(before) * i128::from(NANOS_PER_SECOND);
            let offset = offset_at_seconds(&tz, epoch_seconds(instant));
            let shifted = instant + i128::from(offset) * i128::from(NANOS_PER_SECOND);
            Some((LocalDateTime::from_nanos(shifted).unwrap_or(local), offset))
        }
    }
}

/// Whole seconds (floored) of a nanosecond count, clamped to what `chrono` handles.
fn epoch_seconds(nanos: i128) -> i64 {
    let seconds = nanos.div_euclid(i128::from(NANOS_PER_SECOND));
    seconds.clamp(-i128::from(CLAMP_SECONDS), i128::from(CLAMP_SECONDS)) as i64
}

fn offset_at_seconds(tz: &Tz, seconds: i64) -> i32 {
    let seconds = seconds.clamp(-CLAMP_SECONDS, CLAMP_SECONDS);
    match DateTime::from_timestamp(seconds, 0) {
        Some(utc) => tz.offset_from_utc_datetime(&utc.naive_utc()).fix().local_minus_utc(),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(text: &str) -> LocalDateTime {
        LocalDateTime::parse(text).unwrap()
    }

    #[test]
    fn offsets_follow_daylight_saving() {
        assert_eq!(
            resolve_local("Europe/Stockholm", local("1984-10-11T12:00")).map(|r| r.1),
            Some(3600)
        );
        assert_eq!(
            resolve_local("Europe/Stockholm", local("1984-07-20T12:00")).map(|r| r.1),
            Some(7200)
        );
        assert_eq!(
            resolve_local("Europe/Stockholm", local("1818-07-21T21:40")).map(|r| r.1),
            Some(3208)
        );
        assert_eq!(resolve_local("Nowhere/Special", local("2000-01-01")), None);
    }

    #[test]
    fn gaps_move_forward_and_overlaps_take_the_earlier_offset() {
        // Stockholm skipped 02:00-03:00 on 2017-03-26 and repeated 02:00-03:00 on 2017-10-29.
        let gap = resolve_local("Europe/Stockholm", local("2017-03-26T02:30")).unwrap();
        assert_eq!(gap, (local("2017-03-26T03:30"), 7200));
        let overlap = resolve_local("Europe/Stockholm", local("2017-10-29T02:30")).unwrap();
        assert_eq!(overlap, (local("2017-10-29T02:30"), 7200));
    }

    #[test]
    fn far_instants_do_not_panic() {
        assert!(offset_at_instant("Europe/Paris", i128::MAX).is_some());
        assert!(offset_at_instant("Europe/Paris", i128::MIN).is_some());
        let far = LocalDateTime::parse("+999999999-12-31T23:59").unwrap();
        assert!(resolve_local("America/New_York", far).is_some());
    }
}
