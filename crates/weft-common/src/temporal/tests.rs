//! Unit tests for the temporal types: calendar arithmetic, validation, rendering and parsing.

use super::*;

fn date(y: i64, m: u32, d: u32) -> Date {
    Date::from_ymd(y, m, d).unwrap()
}

fn time(h: u32, m: u32, s: u32, ns: u32) -> LocalTime {
    LocalTime::from_hms_nano(h, m, s, ns).unwrap()
}

fn zoned(text: &str) -> ZonedDateTime {
    ZonedDateTime::parse(text).unwrap()
}

/// Builds a duration from Cypher-style components, as `duration({...})` would.
fn duration(months: i64, days: i64, seconds: i64, millis: i64) -> Duration {
    Duration::new(months, days, seconds, millis * 1_000_000).unwrap()
}

#[test]
fn leap_years_follow_the_gregorian_rules() {
    assert!(is_leap_year(2000) && is_leap_year(2024) && is_leap_year(-4) && is_leap_year(0));
    assert!(!is_leap_year(1900) && !is_leap_year(2023) && !is_leap_year(2100));
    assert!(Date::from_ymd(2024, 2, 29).is_some());
    assert!(Date::from_ymd(2000, 2, 29).is_some());
    assert!(Date::from_ymd(1900, 2, 29).is_none());
    assert!(Date::from_ymd(2023, 2, 29).is_none());
    assert_eq!(Date::from_ordinal(2024, 366), Some(date(2024, 12, 31)));
    assert_eq!(Date::from_ordinal(2023, 366), None);
}

#[test]
fn date_constructors_reject_impossible_fields() {
    for (y, m, d) in [(2024, 0, 1), (2024, 13, 1), (2024, 4, 31), (2024, 1, 0)] {
        assert_eq!(Date::from_ymd(y, m, d), None, "{y}-{m}-{d}");
    }
    assert_eq!(Date::from_ymd(Date::MAX_YEAR + 1, 1, 1), None);
    assert_eq!(Date::from_ymd(Date::MIN_YEAR - 1, 12, 31), None);
    assert_eq!(Date::from_days(Date::MAX.days + 1), None);
    assert_eq!(Date::from_days(Date::MIN.days - 1), None);
}

#[test]
fn days_count_from_the_unix_epoch() {
    assert_eq!(date(1970, 1, 1).days, 0);
    assert_eq!(date(1969, 12, 31).days, -1);
    assert_eq!(date(2000, 3, 1).days, 11_017);
    assert_eq!(date(2024, 1, 5).ymd(), (2024, 1, 5));
    assert_eq!(Date::MIN.ymd(), (Date::MIN_YEAR, 1, 1));
    assert_eq!(Date::MAX.ymd(), (Date::MAX_YEAR, 12, 31));
}

#[test]
fn calendar_agrees_with_chrono() {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    for days in (-95_000_000i64..95_000_000).step_by(9_973) {
        let ours = Date { days };
        let theirs = epoch + chrono::TimeDelta::days(days);
        use chrono::Datelike;
        let expected = (i64::from(theirs.year()), theirs.month(), theirs.day());
        assert_eq!(ours.ymd(), expected, "days {days}");
        assert_eq!(ours.ordinal(), theirs.ordinal());
        assert_eq!(ours.weekday(), theirs.weekday().number_from_monday());
        let week = theirs.iso_week();
        assert_eq!(ours.iso_week(), (i64::from(week.year()), week.week()));
    }
}

#[test]
fn iso_weeks_start_with_the_week_of_the_first_thursday() {
    assert_eq!(date(1970, 1, 1).weekday(), 4);
    assert_eq!(date(2015, 7, 21).iso_week(), (2015, 30));
    assert_eq!(date(2021, 1, 1).iso_week(), (2020, 53));
    assert_eq!(date(2018, 12, 31).iso_week(), (2019, 1));
    assert_eq!(Date::from_iso_week(2015, 30, 2), Some(date(2015, 7, 21)));
    assert_eq!(Date::from_iso_week(2015, 53, 1), Some(date(2015, 12, 28)));
    assert_eq!(Date::from_iso_week(2017, 53, 1), None);
    assert_eq!(Date::from_iso_week(2017, 1, 8), None);
}

#[test]
fn accessors_never_panic_on_out_of_range_fields() {
    for days in [i64::MIN, i64::MAX, Date::MAX.days + 1] {
        let d = Date { days };
        let _ = (d.ymd(), d.ordinal(), d.weekday(), d.iso_week(), d.to_string());
    }
    for nanos in [i64::MIN, -1, NANOS_PER_DAY, i64::MAX] {
        let t = LocalTime { nanos };
        let _ = (t.hour(), t.minute(), t.second(), t.nanosecond(), t.to_string());
    }
    let d = Duration {
        months: i64::MIN,
        days: i64::MIN,
        seconds: i64::MIN,
        nanos: -1,
    };
    let _ = d.to_string();
    let z = ZonedDateTime {
        local: LocalDateTime::default(),
        offset_seconds: i32::MIN,
        zone: None,
    };
    let _ = (z.epoch_nanos(), z.to_string());
}

#[test]
fn local_time_fields_are_validated() {
    assert_eq!(LocalTime::from_hms(24, 0, 0), None);
    assert_eq!(LocalTime::from_hms(23, 60, 0), None);
    assert_eq!(LocalTime::from_hms_nano(0, 0, 0, 1_000_000_000), None);
    let t = time(23, 59, 59, 999_999_999);
    assert_eq!(t.nanos, NANOS_PER_DAY - 1);
    assert_eq!(
        (t.hour(), t.minute(), t.second(), t.nanosecond()),
        (23, 59, 59, 999_999_999)
    );
    assert_eq!(LocalTime::from_nanos(NANOS_PER_DAY), None);
}

#[test]
fn dates_display_as_iso_8601() {
    assert_eq!(date(2024, 1, 5).to_string(), "2024-01-05");
    assert_eq!(date(0, 1, 1).to_string(), "0000-01-01");
    assert_eq!(date(-44, 3, 15).to_string(), "-0044-03-15");
    assert_eq!(date(10_000, 1, 1).to_string(), "+10000-01-01");
    assert_eq!(date(-10_000, 1, 1).to_string(), "-10000-01-01");
}

#[test]
fn times_display_like_neo4j() {
    assert_eq!(time(12, 30, 0, 0).to_string(), "12:30");
    assert_eq!(time(12, 30, 5, 0).to_string(), "12:30:05");
    assert_eq!(time(12, 30, 0, 1).to_string(), "12:30:00.000000001");
    assert_eq!(time(21, 40, 32, 142_000_000).to_string(), "21:40:32.142");
    assert_eq!(time(0, 0, 1, 500_000).to_string(), "00:00:01.000500");
    assert_eq!(time(12, 31, 14, 645_876_123).to_string(), "12:31:14.645876123");
    let local = LocalDateTime::new(date(2024, 1, 5), time(12, 30, 0, 0));
    assert_eq!(local.to_string(), "2024-01-05T12:30");
}

#[test]
fn zoned_datetimes_display_offset_and_zone() {
    let local = LocalDateTime::new(date(2024, 1, 5), time(12, 30, 0, 0));
    let paris = ZonedDateTime::new(local, 3600, Some("Europe/Paris".into())).unwrap();
    assert_eq!(paris.to_string(), "2024-01-05T12:30+01:00[Europe/Paris]");
    let utc = ZonedDateTime::new(local, 0, None).unwrap();
    assert_eq!(utc.to_string(), "2024-01-05T12:30Z");
    let odd = ZonedDateTime::new(local, -(53 * 60 + 28), None).unwrap();
    assert_eq!(odd.to_string(), "2024-01-05T12:30-00:53:28");
    assert_eq!(ZonedDateTime::new(local, MAX_OFFSET_SECONDS + 1, None), None);
}

#[test]
fn epoch_nanos_is_the_utc_instant() {
    let paris = zoned("1970-01-01T01:00+01:00");
    assert_eq!(paris.epoch_nanos(), 0);
    let later = zoned("1970-01-02T00:00:00.000000001Z");
    assert_eq!(later.epoch_nanos(), i128::from(NANOS_PER_DAY) + 1);
    let back = ZonedDateTime::from_epoch_nanos(paris.epoch_nanos(), -3600, None).unwrap();
    assert_eq!(back.to_string(), "1969-12-31T23:00-01:00");
}

#[test]
fn durations_normalise_nanos_with_seconds_carrying_the_sign() {
    let d = Duration::new(0, 0, -1, -500_000_000).unwrap();
    assert_eq!((d.seconds, d.nanos), (-2, 500_000_000));
    assert_eq!(d.time_nanos(), -1_500_000_000);
    assert_eq!(Duration::new(0, 0, i64::MAX, NANOS_PER_SECOND), None);
}

#[test]
fn durations_display_like_the_tck() {
    let (h, m) = (3600, 60);
    let cases = [
        (
            Duration::new(149, 14, 16 * h + 12 * m + 70, 1).unwrap(),
            "P12Y5M14DT16H13M10.000000001S",
        ),
        (duration(149, -14, 16 * h, 0), "P12Y5M-14DT16H"),
        (duration(0, 0, 12 * m - 60, 0), "PT11M"),
        (duration(0, 0, 2, -1), "PT1.999S"),
        (duration(0, 0, -2, 1), "PT-1.999S"),
        (duration(0, 0, -2, -1), "PT-2.001S"),
        (duration(0, 1, 0, 1), "P1DT0.001S"),
        (duration(0, 1, 0, -1), "P1DT-0.001S"),
        (duration(0, 0, 60, -1), "PT59.999S"),
        (duration(0, 0, -60, 1), "PT-59.999S"),
        (duration(0, 0, -60, -1), "PT-1M-0.001S"),
        (duration(14, 3, 4 * h + 5 * m + 6, 500), "P1Y2M3DT4H5M6.5S"),
        (duration(-14, 0, 0, 0), "P-1Y-2M"),
        (Duration::ZERO, "PT0S"),
    ];
    for (d, text) in cases {
        assert_eq!(d.to_string(), text);
        assert_eq!(Duration::parse(text), Some(d), "{text}");
    }
}

#[test]
fn dates_parse_in_every_tck_form() {
    let cases = [
        ("2015-07-21", "2015-07-21"),
        ("20150721", "2015-07-21"),
        ("2015-07", "2015-07-01"),
        ("201507", "2015-07-01"),
        ("2015-W30-2", "2015-07-21"),
        ("2015W302", "2015-07-21"),
        ("2015-W30", "2015-07-20"),
        ("2015W30", "2015-07-20"),
        ("2015-202", "2015-07-21"),
        ("2015202", "2015-07-21"),
        ("2015", "2015-01-01"),
        ("+10000-01-01", "+10000-01-01"),
        ("-0044-03-15", "-0044-03-15"),
    ];
    for (text, expected) in cases {
        let parsed = Date::parse(text).unwrap_or_else(|| panic!("{text}"));
        assert_eq!(parsed.to_string(), expected, "{text}");
    }
    for bad in [
        "",
        "2015-13-01",
        "2015-02-30",
        "2015-W54",
        "2015-0721",
        "201507-21",
        "15-07-21",
    ] {
        assert_eq!(Date::parse(bad), None, "{bad}");
    }
}

#[test]
fn times_parse_in_every_tck_form() {
    let cases = [
        ("21:40:32.142", "21:40:32.142"),
        ("214032.142", "21:40:32.142"),
        ("21:40:32", "21:40:32"),
        ("214032", "21:40:32"),
        ("21:40", "21:40"),
        ("2140", "21:40"),
        ("21", "21:00"),
        ("21:40:32,5", "21:40:32.500"),
    ];
    for (text, expected) in cases {
        let parsed = LocalTime::parse(text).unwrap_or_else(|| panic!("{text}"));
        assert_eq!(parsed.to_string(), expected, "{text}");
    }
    for bad in [
        "24:00",
        "21:60",
        "21:40:32.",
        "21:40:32.1234567890",
        "21:4032",
        "21:40+01:00",
    ] {
        assert_eq!(LocalTime::parse(bad), None, "{bad}");
    }
}

#[test]
fn offsets_parse_with_or_without_colons() {
    let cases = [
        ("Z", 0),
        ("+01", 3600),
        ("-0130", -5400),
        ("+01:00", 3600),
        ("-00:53:28", -3208),
    ];
    for (text, seconds) in cases {
        assert_eq!(parse_offset(text), Some(seconds), "{text}");
    }
    for bad in ["", "+1", "+18:01", "+01:60", "01:00", "+01:00:"] {
        assert_eq!(parse_offset(bad), None, "{bad}");
    }
}

#[test]
fn local_datetimes_parse_in_every_tck_form() {
    let cases = [
        ("2015-07-21T21:40:32.142", "2015-07-21T21:40:32.142"),
        ("2015-W30-2T214032.142", "2015-07-21T21:40:32.142"),
        ("2015-202T21:40:32", "2015-07-21T21:40:32"),
        ("2015T214032", "2015-01-01T21:40:32"),
        ("20150721T21:40", "2015-07-21T21:40"),
        ("2015-W30T2140", "2015-07-20T21:40"),
        ("2015202T21", "2015-07-21T21:00"),
        ("2015-07-21", "2015-07-21T00:00"),
    ];
    for (text, expected) in cases {
        let parsed = LocalDateTime::parse(text).unwrap_or_else(|| panic!("{text}"));
        assert_eq!(parsed.to_string(), expected, "{text}");
    }
    assert_eq!(LocalDateTime::parse("2015-07-21T21:40Z"), None);
}

#[test]
fn zoned_datetimes_parse_in_every_tck_form() {
    let cases = [
        ("2015-07-21T21:40:32.142+0100", "2015-07-21T21:40:32.142+01:00"),
        ("2015-W30-2T214032.142Z", "2015-07-21T21:40:32.142Z"),
        ("2015-202T21:40:32+01:00", "2015-07-21T21:40:32+01:00"),
        ("2015T214032-0100", "2015-01-01T21:40:32-01:00"),
        ("20150721T21:40-01:30", "2015-07-21T21:40-01:30"),
        ("2015-W30T2140-00:00", "2015-07-20T21:40Z"),
        ("2015-W30T2140-02", "2015-07-20T21:40-02:00"),
        ("2015202T21+18:00", "2015-07-21T21:00+18:00"),
        ("2015-07-21T21:40", "2015-07-21T21:40Z"),
        (
            "2015-07-21T21:40:32.142+02:00[Europe/Stockholm]",
            "2015-07-21T21:40:32.142+02:00[Europe/Stockholm]",
        ),
        (
            "2015-07-21T21:40:32.142+0845[Australia/Eucla]",
            "2015-07-21T21:40:32.142+08:45[Australia/Eucla]",
        ),
        (
            "2015-07-21T21:40:32.142-04[America/New_York]",
            "2015-07-21T21:40:32.142-04:00[America/New_York]",
        ),
        ("2015-07-21T21:40[UTC]", "2015-07-21T21:40Z[UTC]"),
    ];
    for (text, expected) in cases {
        assert_eq!(zoned(text).to_string(), expected, "{text}");
    }
    // A zone name without an offset is resolved with the tz database.
    let text = "2015-07-21T21:40:32.142[Europe/London]";
    assert_eq!(zoned(text).to_string(), "2015-07-21T21:40:32.142+01:00[Europe/London]");
    assert_eq!(ZonedDateTime::parse("2015-07-21T21:40[Nowhere/Special]"), None);
    let fixed = ZonedDateTime::parse_with(text, |_, local| Some((local, 7200)));
    assert_eq!(
        fixed.unwrap().to_string(),
        "2015-07-21T21:40:32.142+02:00[Europe/London]"
    );
    for bad in [
        "2015-07-21T21:40[",
        "2015-07-21T21:40[]",
        "2015-07-21T21:40+01:00[A]x",
        "T21:40",
    ] {
        assert_eq!(ZonedDateTime::parse(bad), None, "{bad}");
    }
}

#[test]
fn durations_parse_fractions_like_neo4j() {
    let cases = [
        ("P14DT16H12M", "P14DT16H12M"),
        ("P5M1.5D", "P5M1DT12H"),
        ("P0.75M", "P22DT19H51M49.5S"),
        ("PT0.75M", "PT45S"),
        ("P2.5W", "P17DT12H"),
        ("P12Y5M14DT16H12M70S", "P12Y5M14DT16H13M10S"),
        ("P2012-02-02T14:37:21.545", "P2012Y2M2DT14H37M21.545S"),
        ("-P1DT1H", "P-1DT-1H"),
        ("P0.5Y", "P6M"),
    ];
    for (text, expected) in cases {
        let parsed = Duration::parse(text).unwrap_or_else(|| panic!("{text}"));
        assert_eq!(parsed.to_string(), expected, "{text}");
    }
    for bad in [
        "", "P", "PT", "P1DT", "1D", "P1S", "PT1D", "P1M1Y", "P1.D", "PT1H1H", "P1DT1M1H",
    ] {
        assert_eq!(Duration::parse(bad), None, "{bad}");
    }
}

#[test]
fn zoned_times_round_trip_through_text() {
    let cases = [
        ("12:31:14.645876123+01:00", "12:31:14.645876123+01:00"),
        ("12:31:14.645876+0100", "12:31:14.645876+01:00"),
        ("1231Z", "12:31Z"),
        ("12", "12:00Z"),
        ("12:00-00:53:28", "12:00-00:53:28"),
        ("12:31:14,5+01", "12:31:14.500+01:00"),
    ];
    for (text, expected) in cases {
        let parsed = ZonedTime::parse(text).unwrap_or_else(|| panic!("{text}"));
        assert_eq!(parsed.to_string(), expected, "{text}");
        assert_eq!(ZonedTime::parse(expected), Some(parsed), "{expected}");
    }
    for bad in [
        "",
        "25:00",
        "12:00+19:00",
        "12:00+01:00x",
        "12:00[Europe/Paris]",
        "+01:00",
    ] {
        assert_eq!(ZonedTime::parse(bad), None, "{bad}");
    }
}

#[test]
fn zoned_times_order_by_utc_time_then_offset() {
    let time = |text: &str| ZonedTime::parse(text).unwrap();
    // Same instant, different offsets: ordered by offset, and not equal.
    assert_eq!(
        time("12:00+01:00").order_cmp(&time("11:00Z")),
        std::cmp::Ordering::Greater
    );
    assert_ne!(time("12:00+01:00"), time("11:00Z"));
    assert!(time("10:00Z").order_cmp(&time("12:00+01:00")).is_lt());
    assert!(time("00:30+01:00").order_cmp(&time("00:00Z")).is_lt());
    assert_eq!(
        ZonedTime::from_utc_nanos(-NANOS_PER_SECOND as i128 * 1800, 3600),
        Some(time("00:30+01:00"))
    );
}
