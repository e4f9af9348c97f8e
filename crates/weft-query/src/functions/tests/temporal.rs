//! Temporal constructors, components and truncation (TCK `Temporal1`-`Temporal3`,
//! `Temporal5`, `Temporal9`).

use super::*;
use crate::expr::ops;

fn date(fields: &[(&str, QValue)]) -> QValue {
    eval("date", vec![m(fields)])
}

fn datetime(fields: &[(&str, QValue)]) -> QValue {
    eval("datetime", vec![m(fields)])
}

fn localdatetime(fields: &[(&str, QValue)]) -> QValue {
    eval("localdatetime", vec![m(fields)])
}

fn ymd(year: i64, month: i64, day: i64) -> Vec<(&'static str, QValue)> {
    vec![("year", i(year)), ("month", i(month)), ("day", i(day))]
}

fn with(mut fields: Vec<(&'static str, QValue)>, more: &[(&'static str, QValue)]) -> Vec<(&'static str, QValue)> {
    fields.extend(more.iter().cloned());
    fields
}

#[test]
fn week_dates() {
    // Act / check: TCK Temporal1 [1].
    let cases = [
        (vec![("year", i(1816)), ("week", i(1))], "1816-01-01"),
        (vec![("year", i(1817)), ("week", i(1))], "1816-12-30"),
        (vec![("year", i(1818)), ("week", i(53))], "1818-12-28"),
        (
            vec![("dayOfWeek", i(2)), ("year", i(1817)), ("week", i(1))],
            "1816-12-31",
        ),
        (
            vec![("date", date(&ymd(1816, 12, 30))), ("week", i(2)), ("dayOfWeek", i(3))],
            "1817-01-08",
        ),
        (vec![("date", date(&ymd(1816, 12, 31))), ("week", i(2))], "1817-01-07"),
        (
            vec![("date", date(&ymd(1816, 12, 31))), ("year", i(1817)), ("week", i(2))],
            "1817-01-07",
        ),
    ];
    for (fields, expected) in cases {
        assert_eq!(run("date", vec![m(&fields)]), expected);
    }
}

#[test]
fn calendar_ordinal_and_quarter_dates() {
    // Act / check: TCK Temporal1 [4].
    let cases = [
        (ymd(1984, 10, 11), "1984-10-11"),
        (vec![("year", i(1984)), ("month", i(10))], "1984-10-01"),
        (
            vec![("year", i(1984)), ("week", i(10)), ("dayOfWeek", i(3))],
            "1984-03-07",
        ),
        (vec![("year", i(1984))], "1984-01-01"),
        (vec![("year", i(1984)), ("ordinalDay", i(202))], "1984-07-20"),
        (
            vec![("year", i(1984)), ("quarter", i(3)), ("dayOfQuarter", i(45))],
            "1984-08-14",
        ),
        (vec![("YEAR", i(1984)), ("Quarter", i(3))], "1984-07-01"),
    ];
    for (fields, expected) in cases {
        assert_eq!(run("date", vec![m(&fields)]), expected);
    }
}

#[test]
fn invalid_date_fields() {
    // Act / check
    assert_eq!(
        run("date", vec![m(&ymd(2023, 2, 29))]),
        "error: ArgumentError/NumberOutOfRange"
    );
    assert_eq!(
        run("date", vec![m(&[("month", i(1))])]),
        "error: ArgumentError/InvalidArgumentValue"
    );
    assert_eq!(
        run("date", vec![m(&[("year", i(1984)), ("hour", i(1))])]),
        "error: ArgumentError/InvalidArgumentValue"
    );
    assert_eq!(
        run("date", vec![m(&[("year", s("1984"))])]),
        "error: TypeError/InvalidArgumentValue"
    );
    assert_eq!(
        run("date", vec![m(&[("year", i(1984)), ("month", i(-1))])]),
        "error: ArgumentError/NumberOutOfRange"
    );
    assert_eq!(run("date", vec![m(&[("year", NULL)])]), "null");
}

#[test]
fn local_times_add_sub_second_fields() {
    // Act / check: TCK Temporal1 [5].
    let all = [
        ("hour", i(12)),
        ("minute", i(31)),
        ("second", i(14)),
        ("nanosecond", i(789)),
    ];
    let all = with(all.to_vec(), &[("millisecond", i(123)), ("microsecond", i(456))]);
    assert_eq!(run("localtime", vec![m(&all)]), "12:31:14.123456789");
    let micros = [
        ("hour", i(12)),
        ("minute", i(31)),
        ("second", i(14)),
        ("microsecond", i(645876)),
    ];
    assert_eq!(run("localtime", vec![m(&micros)]), "12:31:14.645876");
    assert_eq!(run("localtime", vec![m(&[("hour", i(12))])]), "12:00");
    assert_eq!(
        run("localtime", vec![m(&[("hour", i(24))])]),
        "error: ArgumentError/NumberOutOfRange"
    );
}

#[test]
fn local_date_times_and_date_times() {
    // Act / check: TCK Temporal1 [7]-[9] and [13].
    let clock = [
        ("hour", i(12)),
        ("minute", i(31)),
        ("second", i(14)),
        ("millisecond", i(645)),
    ];
    let week = with(vec![("year", i(1984)), ("week", i(10)), ("dayOfWeek", i(3))], &clock);
    assert_eq!(localdatetime(&week).to_string(), "1984-03-07T12:31:14.645");
    assert_eq!(datetime(&ymd(1984, 10, 11)).to_string(), "1984-10-11T00:00Z");
    let offset = with(ymd(1984, 10, 11), &[("hour", i(12)), ("timezone", s("+01:00"))]);
    assert_eq!(datetime(&offset).to_string(), "1984-10-11T12:00+01:00");
    let seconds = with(
        ymd(1984, 10, 11),
        &[("hour", i(12)), ("minute", i(34)), ("timezone", s("+02:05:59"))],
    );
    assert_eq!(datetime(&seconds).to_string(), "1984-10-11T12:34+02:05:59");
    let utc = with(ymd(1984, 10, 11), &[("timezone", s("UTC"))]);
    assert_eq!(datetime(&utc).to_string(), "1984-10-11T00:00Z[UTC]");
}

#[test]
fn date_times_from_epoch() {
    // Act / check: TCK Temporal1 [11].
    assert_eq!(
        run("datetime.fromepoch", vec![i(416779), i(999999999)]),
        "1970-01-05T19:46:19.999999999Z"
    );
    assert_eq!(
        run("datetime.fromepochmillis", vec![i(237821673987)]),
        "1977-07-15T13:34:33.987Z"
    );
    assert_eq!(
        run("datetime", vec![m(&[("epochMillis", i(237821673987))])]),
        "1977-07-15T13:34:33.987Z"
    );
}

#[test]
fn parse_from_strings() {
    // Act / check: TCK Temporal2.
    assert_eq!(run("date", vec![s("2015-W30-2")]), "2015-07-21");
    assert_eq!(run("localtime", vec![s("214032.142")]), "21:40:32.142");
    assert_eq!(
        run("localdatetime", vec![s("2015-07-21T21:40:32.142")]),
        "2015-07-21T21:40:32.142"
    );
    assert_eq!(
        run("datetime", vec![s("2015-07-21T21:40:32.142+0100")]),
        "2015-07-21T21:40:32.142+01:00"
    );
    assert_eq!(
        run("datetime", vec![s("2015-07-21T21:40+01:00[Europe/Stockholm]")]),
        "2015-07-21T21:40+01:00[Europe/Stockholm]"
    );
    assert_eq!(
        run("date", vec![s("2015-13-01")]),
        "error: ArgumentError/InvalidArgumentValue"
    );
    assert_eq!(run("date", vec![NULL]), "null");
}

#[test]
fn no_argument_reads_the_statement_clock() {
    // Act / check: the fake clock is 2024-05-06T07:08:09.5Z.
    assert_eq!(run("date", vec![]), "2024-05-06");
    assert_eq!(run("localtime", vec![]), "07:08:09.500");
    assert_eq!(run("datetime.statement", vec![]), "2024-05-06T07:08:09.500Z");
    assert_eq!(
        run("datetime", vec![m(&[("timezone", s("-08:00"))])]),
        "2024-05-05T23:08:09.500-08:00"
    );
    assert_eq!(run("date", vec![m(&[("timezone", s("+18:00"))])]), "2024-05-07");
}

#[test]
fn select_from_other_temporals() {
    // Set up: TCK Temporal3 [1]-[3] and [11].
    let other = datetime(&with(ymd(1984, 11, 11), &[("hour", i(12)), ("timezone", s("+01:00"))]));
    let local = localdatetime(&with(ymd(1984, 11, 11), &[("hour", i(12)), ("minute", i(31))]));
    // Act / check
    assert_eq!(run("date", vec![other.clone()]), "1984-11-11");
    assert_eq!(
        run("date", vec![m(&[("date", other.clone()), ("year", i(28))])]),
        "0028-11-11"
    );
    assert_eq!(
        run("date", vec![m(&[("date", other.clone()), ("week", i(1))])]),
        "1984-01-08"
    );
    assert_eq!(
        run("date", vec![m(&[("date", other.clone()), ("quarter", i(3))])]),
        "1984-08-11"
    );
    assert_eq!(
        run("date", vec![m(&[("date", other.clone()), ("ordinalDay", i(28))])]),
        "1984-01-28"
    );
    assert_eq!(
        run("localtime", vec![m(&[("time", local.clone()), ("second", i(42))])]),
        "12:31:42"
    );
    let converted = m(&[("datetime", other.clone()), ("timezone", s("+05:00"))]);
    assert_eq!(run("datetime", vec![converted]), "1984-11-11T16:00+05:00");
    let moved = m(&[
        ("datetime", other),
        ("day", i(28)),
        ("second", i(42)),
        ("timezone", s("-10:00")),
    ]);
    assert_eq!(run("datetime", vec![moved]), "1984-11-28T01:00:42-10:00");
    let both = m(&[
        ("date", local.clone()),
        ("time", eval("localtime", vec![s("10:10")])),
        ("day", i(28)),
    ]);
    assert_eq!(run("localdatetime", vec![both]), "1984-11-28T10:10");
    assert_eq!(run("datetime", vec![local]), "1984-11-11T12:31Z");
}

#[test]
fn date_components() {
    // Set up: TCK Temporal5 [1] and [2].
    let graph = FakeGraph::default();
    let d = date(&ymd(1984, 10, 11));
    let new_year = date(&ymd(1984, 1, 1));
    let get = |value: &QValue, key: &str| show(ops::property(value, key, &graph));
    // Act / check
    let keys = [
        "year",
        "quarter",
        "month",
        "week",
        "weekYear",
        "day",
        "ordinalDay",
        "weekDay",
        "dayOfQuarter",
    ];
    let values: Vec<String> = keys.iter().map(|k| get(&d, k)).collect();
    assert_eq!(values, ["1984", "4", "10", "41", "1984", "11", "285", "4", "11"]);
    assert_eq!(
        [
            get(&new_year, "weekYear"),
            get(&new_year, "week"),
            get(&new_year, "weekDay")
        ],
        ["1983", "52", "7"]
    );
    assert_eq!(get(&d, "hour"), "error: ArgumentError/InvalidArgumentValue");
}

#[test]
fn date_time_components() {
    // Set up: TCK Temporal5 [6] with a fixed offset in place of Europe/Stockholm.
    let graph = FakeGraph::default();
    let fields = [
        ("hour", i(12)),
        ("minute", i(31)),
        ("second", i(14)),
        ("nanosecond", i(645876123)),
    ];
    let d = datetime(&with(with(ymd(1984, 11, 11), &fields), &[("timezone", s("+01:00"))]));
    let get = |key: &str| show(ops::property(&d, key, &graph));
    // Act / check
    let keys = [
        "dayOfQuarter",
        "hour",
        "millisecond",
        "microsecond",
        "nanosecond",
        "timezone",
        "offset",
    ];
    let values: Vec<String> = keys.iter().map(|k| get(k)).collect();
    assert_eq!(
        values,
        ["42", "12", "645", "645876", "645876123", "'+01:00'", "'+01:00'"]
    );
    let keys = ["offsetMinutes", "offsetSeconds", "epochSeconds", "epochMillis"];
    let values: Vec<String> = keys.iter().map(|k| get(k)).collect();
    assert_eq!(values, ["60", "3600", "469020674", "469020674645"]);
}

#[test]
fn truncate_dates() {
    // Set up: TCK Temporal9 [1].
    let d = date(&ymd(2017, 10, 11));
    let dt = datetime(&with(ymd(1984, 1, 1), &[("hour", i(12)), ("timezone", s("+01:00"))]));
    let cases = [
        ("millennium", d.clone(), m(&[("day", i(2))]), "2000-01-02"),
        ("century", d.clone(), m(&[]), "2000-01-01"),
        ("decade", d.clone(), m(&[]), "2010-01-01"),
        ("quarter", d.clone(), m(&[("day", i(2))]), "2017-10-02"),
        ("week", d.clone(), m(&[("dayOfWeek", i(2))]), "2017-10-10"),
        ("weekYear", dt.clone(), m(&[]), "1983-01-03"),
        ("weekYear", dt, m(&[("day", i(5))]), "1983-01-05"),
        ("day", d, m(&[]), "2017-10-11"),
    ];
    // Act / check
    for (unit, value, fields, expected) in cases {
        assert_eq!(run("date.truncate", vec![s(unit), value, fields]), expected, "{unit}");
    }
}

#[test]
fn truncate_date_times_and_times() {
    // Set up: TCK Temporal9 [2], [4].
    let fields = [
        ("hour", i(12)),
        ("minute", i(31)),
        ("second", i(14)),
        ("nanosecond", i(645876123)),
    ];
    let dt = datetime(&with(with(ymd(2017, 10, 11), &fields), &[("timezone", s("+01:00"))]));
    let local = localdatetime(&with(ymd(2017, 10, 11), &fields));
    // Act / check
    assert_eq!(
        run("datetime.truncate", vec![s("millennium"), dt.clone()]),
        "2000-01-01T00:00+01:00"
    );
    let to_utc = m(&[("timezone", s("UTC"))]);
    assert_eq!(
        run("datetime.truncate", vec![s("year"), local.clone(), to_utc]),
        "2017-01-01T00:00Z[UTC]"
    );
    assert_eq!(
        run("datetime.truncate", vec![s("millisecond"), dt]),
        "2017-10-11T12:31:14.645+01:00"
    );
    let nanos = m(&[("nanosecond", i(2))]);
    assert_eq!(
        run("localtime.truncate", vec![s("day"), local.clone(), nanos.clone()]),
        "00:00:00.000000002"
    );
    assert_eq!(
        run("localtime.truncate", vec![s("hour"), local.clone(), nanos]),
        "12:00:00.000000002"
    );
    assert_eq!(
        run("localdatetime.truncate", vec![s("minute"), local.clone()]),
        "2017-10-11T12:31"
    );
    // Finer sub-second fields add to the kept milli- or microseconds (TCK Temporal9 [4] 29, 37).
    let two = m(&[("nanosecond", i(2))]);
    let millis = run("localtime.truncate", vec![s("millisecond"), local.clone(), two.clone()]);
    assert_eq!(millis, "12:31:14.645000002");
    let micros = run("localtime.truncate", vec![s("microsecond"), local.clone(), two]);
    assert_eq!(micros, "12:31:14.645876002");
    let seven = m(&[("millisecond", i(7))]);
    assert_eq!(
        run("localtime.truncate", vec![s("microsecond"), local.clone(), seven]),
        "12:31:14.007"
    );
    assert_eq!(
        run("date.truncate", vec![s("hour"), local.clone()]),
        "error: ArgumentError/InvalidArgumentValue"
    );
    assert_eq!(
        run("date.truncate", vec![s("fortnight"), local]),
        "error: ArgumentError/InvalidArgumentValue"
    );
    assert_eq!(run("date.truncate", vec![s("day"), NULL]), "null");
}
