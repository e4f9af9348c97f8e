//! Durations: construction, components, arithmetic and differences (TCK `Temporal1` [12],
//! `Temporal5` [7], `Temporal6` [6], `Temporal8`, `Temporal10`).

use super::*;
use crate::expr::ops;

fn duration(fields: &[(&str, QValue)]) -> QValue {
    eval("duration", vec![m(fields)])
}

/// The three durations of TCK Temporal8.
fn whole() -> QValue {
    let fields = [
        ("years", i(12)),
        ("months", i(5)),
        ("days", i(14)),
        ("hours", i(16)),
        ("minutes", i(12)),
    ];
    let mut fields = fields.to_vec();
    fields.extend([("seconds", i(70)), ("nanoseconds", i(2))]);
    duration(&fields)
}

fn mixed_signs() -> QValue {
    duration(&[
        ("months", i(1)),
        ("days", i(-14)),
        ("hours", i(16)),
        ("minutes", i(-12)),
        ("seconds", i(70)),
    ])
}

fn fractional() -> QValue {
    let fields = [
        ("years", f(12.5)),
        ("months", f(5.5)),
        ("days", f(14.5)),
        ("hours", f(16.5)),
        ("minutes", f(12.5)),
    ];
    let mut fields = fields.to_vec();
    fields.extend([("seconds", f(70.5)), ("nanoseconds", i(3))]);
    duration(&fields)
}

fn parse(function: &str, text: &str) -> QValue {
    eval(function, vec![s(text)])
}

#[test]
fn durations_from_maps_cascade_fractions() {
    // Act / check: TCK Temporal1 [12].
    let cases = [
        (
            vec![("days", i(14)), ("hours", i(16)), ("minutes", i(12))],
            "P14DT16H12M",
        ),
        (vec![("months", i(5)), ("days", f(1.5))], "P5M1DT12H"),
        (vec![("months", f(0.75))], "P22DT19H51M49.5S"),
        (vec![("weeks", f(2.5))], "P17DT12H"),
        (
            vec![("days", i(14)), ("seconds", i(70)), ("milliseconds", i(1))],
            "P14DT1M10.001S",
        ),
        (
            vec![("days", i(14)), ("seconds", i(70)), ("nanoseconds", i(1))],
            "P14DT1M10.000000001S",
        ),
        (vec![("minutes", f(1.5)), ("seconds", i(1))], "PT1M31S"),
        (vec![("seconds", i(-2)), ("milliseconds", i(1))], "PT-1.999S"),
        (vec![("seconds", i(-60)), ("milliseconds", i(-1))], "PT-1M-0.001S"),
    ];
    for (fields, expected) in cases {
        assert_eq!(run("duration", vec![m(&fields)]), expected);
    }
    assert_eq!(
        run("duration", vec![m(&[("fortnights", i(1))])]),
        "error: ArgumentError/InvalidArgumentValue"
    );
    assert_eq!(
        run("duration", vec![m(&[("days", s("1"))])]),
        "error: TypeError/InvalidArgumentValue"
    );
    assert_eq!(
        run("duration", vec![m(&[("years", i(i64::MAX))])]),
        "error: ArithmeticError/TemporalOverflow"
    );
}

#[test]
fn durations_from_strings_round_trip() {
    // Act / check: TCK Temporal6 [6].
    let d = whole();
    assert_eq!(d.to_string(), "P12Y5M14DT16H13M10.000000002S");
    assert_eq!(run("duration", vec![s(&d.to_string())]), d.to_string());
    assert_eq!(
        run("duration", vec![s("P1Q")]),
        "error: ArgumentError/InvalidArgumentValue"
    );
}

#[test]
fn duration_components() {
    // Set up: TCK Temporal5 [7].
    let graph = FakeGraph::default();
    let fields = [
        ("years", i(1)),
        ("months", i(4)),
        ("days", i(10)),
        ("hours", i(1)),
        ("minutes", i(1)),
    ];
    let d = duration(&[&fields[..], &[("seconds", i(1)), ("nanoseconds", i(111111111))]].concat());
    let get = |key: &str| show(ops::property(&d, key, &graph));
    // Act / check
    let keys = [
        "years",
        "quarters",
        "months",
        "weeks",
        "days",
        "hours",
        "minutes",
        "seconds",
        "milliseconds",
    ];
    let values: Vec<String> = keys.iter().map(|k| get(k)).collect();
    assert_eq!(values, ["1", "5", "16", "1", "10", "1", "61", "3661", "3661111"]);
    let keys = [
        "microseconds",
        "nanoseconds",
        "quartersOfYear",
        "monthsOfQuarter",
        "monthsOfYear",
        "daysOfWeek",
    ];
    let values: Vec<String> = keys.iter().map(|k| get(k)).collect();
    assert_eq!(values, ["3661111111", "3661111111111", "1", "1", "4", "3"]);
    let keys = [
        "minutesOfHour",
        "secondsOfMinute",
        "millisecondsOfSecond",
        "nanosecondsOfSecond",
    ];
    let values: Vec<String> = keys.iter().map(|k| get(k)).collect();
    assert_eq!(values, ["1", "1", "111", "111111111"]);
}

#[test]
fn add_and_subtract_durations_on_dates() {
    // Set up: TCK Temporal8 [1]: a date takes only whole days of the time part.
    let x = eval("date", vec![m(&[("year", i(1984)), ("month", i(10)), ("day", i(11))])]);
    let cases = [
        (whole(), "1997-03-25", "1972-04-27"),
        (mixed_signs(), "1984-10-28", "1984-09-25"),
    ];
    let cases = [cases.to_vec(), vec![(fractional(), "1997-10-11", "1971-10-12")]].concat();
    // Act / check
    for (d, sum, diff) in cases {
        assert_eq!(show(ops::add(&x, &d)), sum, "{d}");
        assert_eq!(show(ops::sub(&x, &d)), diff, "{d}");
    }
}

#[test]
fn add_and_subtract_durations_on_times() {
    // Set up: TCK Temporal8 [2] and [4].
    let time = eval(
        "localtime",
        vec![m(&[
            ("hour", i(12)),
            ("minute", i(31)),
            ("second", i(14)),
            ("nanosecond", i(1)),
        ])],
    );
    let local = parse("localdatetime", "1984-10-11T12:31:14.000000001");
    let zoned = parse("datetime", "1984-10-11T12:31:14.000000001+01:00");
    // Act / check
    assert_eq!(show(ops::add(&time, &whole())), "04:44:24.000000003");
    assert_eq!(show(ops::sub(&time, &whole())), "20:18:03.999999999");
    assert_eq!(show(ops::add(&time, &fractional())), "22:29:27.500000004");
    assert_eq!(show(ops::sub(&time, &fractional())), "02:33:00.499999998");
    assert_eq!(show(ops::add(&local, &whole())), "1997-03-26T04:44:24.000000003");
    assert_eq!(show(ops::sub(&local, &mixed_signs())), "1984-09-24T20:42:04.000000001");
    assert_eq!(show(ops::add(&whole(), &zoned)), "1997-03-26T04:44:24.000000003+01:00");
    assert_eq!(
        show(ops::sub(&zoned, &fractional())),
        "1971-10-12T02:33:00.499999998+01:00"
    );
}

#[test]
fn add_and_subtract_durations() {
    // Act / check: TCK Temporal8 [6].
    assert_eq!(show(ops::add(&whole(), &whole())), "P24Y10M28DT32H26M20.000000004S");
    assert_eq!(show(ops::sub(&whole(), &whole())), "PT0S");
    assert_eq!(show(ops::add(&mixed_signs(), &mixed_signs())), "P2M-28DT31H38M20S");
    assert_eq!(
        show(ops::add(&mixed_signs(), &fractional())),
        "P13Y15DT49H47M23.500000003S"
    );
    assert_eq!(show(ops::neg(&mixed_signs())), "P-1M14DT-15H-49M-10S");
}

#[test]
fn multiply_and_divide_durations() {
    // Set up: TCK Temporal8 [7].
    let fields = [
        ("years", i(12)),
        ("months", i(5)),
        ("days", i(14)),
        ("hours", i(16)),
        ("minutes", i(12)),
    ];
    let d = duration(&[&fields[..], &[("seconds", i(70)), ("nanoseconds", i(1))]].concat());
    // Act / check
    assert_eq!(show(ops::mul(&d, &i(2))), "P24Y10M28DT32H26M20.000000002S");
    assert_eq!(show(ops::mul(&f(0.5), &d)), "P6Y2M22DT13H21M8S");
    assert_eq!(show(ops::div(&d, &i(2))), "P6Y2M22DT13H21M8S");
    assert_eq!(show(ops::div(&d, &f(0.5))), "P24Y10M28DT32H26M20.000000002S");
    assert_eq!(show(ops::div(&d, &i(0))), "error: ArithmeticError/DivisionByZero");
    assert_eq!(
        show(ops::mul(&d, &i(i64::MAX))),
        "error: ArithmeticError/TemporalOverflow"
    );
}

#[test]
fn temporal_arithmetic_out_of_range_fails() {
    // Act / check
    let max = parse("date", "+999999999-12-31");
    assert_eq!(
        show(ops::add(&max, &duration(&[("days", i(1))]))),
        "error: ArithmeticError/TemporalOverflow"
    );
    assert_eq!(
        show(ops::add(&max, &duration(&[("months", i(i64::MAX))]))),
        "error: ArithmeticError/TemporalOverflow"
    );
}

#[test]
fn duration_between_temporals() {
    // Set up: TCK Temporal10 [2].
    let date = parse("date", "1984-10-11");
    let local = parse("localdatetime", "2016-07-21T21:45:22.142");
    let zoned = parse("datetime", "2015-07-21T21:40:32.142+0100");
    let earlier = parse("datetime", "2014-07-21T21:40:36.143+0200");
    let time = parse("localtime", "14:30");
    let cases = [
        (date.clone(), parse("date", "2015-06-24"), "P30Y8M13D"),
        (date.clone(), local.clone(), "P31Y9M10DT21H45M22.142S"),
        (date.clone(), zoned.clone(), "P30Y9M10DT21H40M32.142S"),
        (date, parse("localtime", "16:30"), "PT16H30M"),
        (time.clone(), parse("date", "2015-06-24"), "PT-14H-30M"),
        (time, zoned.clone(), "PT7H10M32.142S"),
        (
            parse("localdatetime", "2015-07-21T21:40:32.142"),
            parse("date", "2015-06-24"),
            "P-27DT-21H-40M-32.142S",
        ),
        (parse("localdatetime", "2015-07-21T21:40:32.142"), zoned.clone(), "PT0S"),
        (earlier.clone(), parse("date", "2015-06-24"), "P11M2DT2H19M23.857S"),
        (earlier.clone(), local, "P2YT4M45.999S"),
        (earlier, zoned, "P1YT59M55.999S"),
    ];
    // Act / check
    for (a, b, expected) in cases {
        assert_eq!(
            run("duration.between", vec![a.clone(), b.clone()]),
            expected,
            "{a} -> {b}"
        );
    }
}

#[test]
fn duration_in_months_days_and_seconds() {
    // Set up: TCK Temporal10 [3]-[7].
    let date = parse("date", "1984-10-11");
    let zoned = parse("datetime", "2015-07-21T21:40:32.142+0100");
    let earlier = parse("datetime", "2014-07-21T21:40:36.143+0200");
    // Act / check
    assert_eq!(run("duration.inMonths", vec![date.clone(), zoned.clone()]), "P30Y9M");
    assert_eq!(
        run(
            "duration.inMonths",
            vec![parse("date", "2018-03-11"), parse("date", "2016-06-24")]
        ),
        "P-1Y-8M"
    );
    assert_eq!(
        run("duration.inMonths", vec![date.clone(), parse("localtime", "16:30")]),
        "PT0S"
    );
    assert_eq!(run("duration.inDays", vec![earlier.clone(), zoned.clone()]), "P365D");
    assert_eq!(run("duration.inDays", vec![date.clone(), zoned.clone()]), "P11240D");
    assert_eq!(
        run("duration.inSeconds", vec![date, zoned.clone()]),
        "PT269781H40M32.142S"
    );
    assert_eq!(run("duration.inSeconds", vec![earlier, zoned]), "PT8760H59M55.999S");
    let (later, sooner) = (
        parse("localdatetime", "2014-07-21T21:40:36.143"),
        parse("localdatetime", "2014-07-21T21:40:36.142"),
    );
    assert_eq!(run("duration.inSeconds", vec![later, sooner]), "PT-0.001S");
}

#[test]
fn duration_between_extremes_and_nulls() {
    // Act / check: TCK Temporal10 [9], [13].
    let (min, max) = (parse("date", "-999999999-01-01"), parse("date", "+999999999-12-31"));
    assert_eq!(run("duration.between", vec![min, max]), "P1999999998Y11M30D");
    assert_eq!(run("duration.between", vec![NULL, NULL]), "null");
    assert_eq!(run("duration.inDays", vec![NULL, parse("date", "2015-06-24")]), "null");
    assert_eq!(
        run("duration.between", vec![i(1), NULL]),
        "error: TypeError/InvalidArgumentValue"
    );
}
