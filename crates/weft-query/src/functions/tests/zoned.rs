//! Zoned times (`time(...)`) and named time zones (TCK `Temporal1`-`Temporal3`,
//! `Temporal8`-`Temporal10`).

use super::*;
use crate::expr::ops;

fn time(text: &str) -> QValue {
    eval("time", vec![s(text)])
}

fn datetime(text: &str) -> QValue {
    eval("datetime", vec![s(text)])
}

#[test]
fn zoned_times_from_strings_maps_and_other_temporals() {
    // Act / check: parsing keeps the offset; no offset means UTC.
    assert_eq!(time("12:31:14.645876123+01:00").to_string(), "12:31:14.645876123+01:00");
    assert_eq!(time("2140").to_string(), "21:40Z");
    assert_eq!(
        run("time", vec![s("12:00[Europe/Paris]")]),
        "error: ArgumentError/InvalidArgumentValue"
    );
    // A map; a `timezone` over a zoned base converts it (same instant).
    let fields = m(&[("hour", i(12)), ("minute", i(31)), ("timezone", s("+01:00"))]);
    assert_eq!(eval("time", vec![fields]).to_string(), "12:31+01:00");
    let converted = m(&[("time", time("12:00+01:00")), ("timezone", s("+05:00"))]);
    assert_eq!(eval("time", vec![converted]).to_string(), "16:00+05:00");
    // Projection from a datetime keeps its offset; the clock is UTC.
    let dt = datetime("1984-10-11T12:00+01:00[Europe/Stockholm]");
    assert_eq!(eval("time", vec![dt]).to_string(), "12:00+01:00");
    assert_eq!(run("time", vec![]), "07:08:09.500Z");
}

#[test]
fn zoned_time_components_arithmetic_and_truncation() {
    // Set up.
    let t = time("12:31:14.645876123-05:30");
    let graph = FakeGraph::default();
    // Act / check: components.
    let component = |key: &str| ops::property(&t, key, &graph).map(|v| v.to_string());
    assert_eq!(component("hour").as_deref(), Ok("12"));
    assert_eq!(component("offset").as_deref(), Ok("'-05:30'"));
    assert_eq!(component("timezone").as_deref(), Ok("'-05:30'"));
    assert_eq!(component("offsetMinutes").as_deref(), Ok("-330"));
    assert!(component("year").is_err());
    // Arithmetic wraps around midnight and keeps the offset.
    let day_and_a_half = eval("duration", vec![s("P1DT13H")]);
    assert_eq!(
        ops::add(&t, &day_and_a_half).map(|v| v.to_string()).as_deref(),
        Ok("01:31:14.645876123-05:30")
    );
    // Truncation keeps the offset.
    assert_eq!(run("time.truncate", vec![s("hour"), t.clone()]), "12:00-05:30");
    assert_eq!(
        run("time.truncate", vec![s("year"), t]),
        "error: ArgumentError/InvalidArgumentValue"
    );
}

#[test]
fn zoned_times_compare_by_instant_then_offset() {
    // Set up.
    let (early, late) = (time("10:00+01:00"), time("10:00Z"));
    // Act / check.
    assert_eq!(
        early.cypher_compare(weft_common::value::ComparisonOp::Lt, &late),
        Some(true)
    );
    assert_eq!(time("11:00+01:00").cypher_eq(&late), Some(false));
    assert_eq!(late.cypher_eq(&time("10:00Z")), Some(true));
    assert_eq!(
        early.cypher_compare(weft_common::value::ComparisonOp::Lt, &s("x")),
        None
    );
}

#[test]
fn named_zones_follow_daylight_saving() {
    // Act / check: the offset comes from the tz database at the wall time.
    let winter = m(&[
        ("year", i(1984)),
        ("month", i(10)),
        ("day", i(11)),
        ("timezone", s("Europe/Stockholm")),
    ]);
    assert_eq!(
        eval("datetime", vec![winter]).to_string(),
        "1984-10-11T00:00+01:00[Europe/Stockholm]"
    );
    let summer = m(&[
        ("year", i(1984)),
        ("ordinalDay", i(202)),
        ("timezone", s("Europe/Stockholm")),
    ]);
    assert_eq!(
        eval("datetime", vec![summer]).to_string(),
        "1984-07-20T00:00+02:00[Europe/Stockholm]"
    );
    assert_eq!(
        datetime("2015-07-21T21:40:32.142[Europe/London]").to_string(),
        "2015-07-21T21:40:32.142+01:00[Europe/London]"
    );
    assert_eq!(
        datetime("1818-07-21T21:40:32.142[Europe/Stockholm]").to_string(),
        "1818-07-21T21:40:32.142+00:53:28[Europe/Stockholm]"
    );
    let unknown = m(&[("year", i(1984)), ("timezone", s("Mars/Olympus"))]);
    assert_eq!(
        run("datetime", vec![unknown]),
        "error: ArgumentError/InvalidArgumentValue"
    );
}

#[test]
fn durations_across_a_daylight_saving_change_count_real_time() {
    // Set up: Stockholm set its clocks back at 03:00 on 2017-10-29.
    let midnight = datetime("2017-10-29T00:00[Europe/Stockholm]");
    let four = eval("localdatetime", vec![s("2017-10-29T04:00")]);
    // Act / check.
    assert_eq!(run("duration.inseconds", vec![midnight.clone(), four]), "PT5H");
    assert_eq!(
        run(
            "duration.inseconds",
            vec![midnight.clone(), eval("localtime", vec![s("04:00")])]
        ),
        "PT5H"
    );
    assert_eq!(
        run(
            "duration.inseconds",
            vec![midnight, eval("date", vec![s("2017-10-30")])]
        ),
        "PT25H"
    );
    assert_eq!(
        run("duration.between", vec![time("12:00+01:00"), time("12:00Z")]),
        "PT1H"
    );
}
