//! Type conversion functions (TCK `TypeConversion1`-`TypeConversion4`).

use super::*;
use crate::value::PathValue;

fn graph_values() -> Vec<QValue> {
    let path = QValue::Path(PathValue {
        start: Gid(1),
        steps: vec![(edge(10, 1, 2), Gid(2))],
    });
    vec![l(vec![]), m(&[]), node(1), rel(10, 1, 2), path]
}

#[test]
fn to_boolean_of_booleans_strings_and_integers() {
    // Act / check: TCK TypeConversion1 [1]-[4]; integers as Neo4j 5.
    assert_eq!(run("toBoolean", vec![b(true)]), "true");
    assert_eq!(run("toBoolean", vec![s("true")]), "true");
    assert_eq!(run("toBoolean", vec![s("FALSE")]), "false");
    for invalid in ["", " tru ", "f alse"] {
        assert_eq!(run("toBoolean", vec![s(invalid)]), "null", "{invalid:?}");
    }
    assert_eq!(run("toBoolean", vec![NULL]), "null");
    assert_eq!(run("toBoolean", vec![i(0)]), "false");
    assert_eq!(run("toBoolean", vec![i(-3)]), "true");
}

#[test]
fn to_boolean_fails_on_floats_and_structures() {
    // Act / check: TCK TypeConversion1 [5].
    for invalid in graph_values().into_iter().chain([f(1.0)]) {
        assert_eq!(
            run("toBoolean", vec![invalid.clone()]),
            "error: TypeError/InvalidArgumentValue",
            "{invalid}"
        );
        assert_eq!(run("toBooleanOrNull", vec![invalid]), "null");
    }
}

#[test]
fn to_integer_truncates_floats_and_parses_strings() {
    // Act / check: TCK TypeConversion2 [1]-[5].
    assert_eq!(run("toInteger", vec![f(82.9)]), "82");
    assert_eq!(run("toInteger", vec![f(-2.9)]), "-2");
    assert_eq!(run("toInteger", vec![s("42")]), "42");
    assert_eq!(run("toInteger", vec![s("2.9")]), "2");
    assert_eq!(run("toInteger", vec![s(" 7 ")]), "7");
    assert_eq!(run("toInteger", vec![s("foo")]), "null");
    assert_eq!(run("toInteger", vec![s("")]), "null");
    assert_eq!(run("toInteger", vec![b(true)]), "1");
    assert_eq!(run("toInteger", vec![i(i64::MIN)]), "-9223372036854775808");
}

#[test]
fn to_integer_fails_on_structures() {
    // Act / check: TCK TypeConversion2 [8].
    for invalid in graph_values() {
        assert_eq!(
            run("toInteger", vec![invalid.clone()]),
            "error: TypeError/InvalidArgumentValue",
            "{invalid}"
        );
        assert_eq!(run("toIntegerOrNull", vec![invalid]), "null");
    }
}

#[test]
fn to_float_of_numbers_and_strings() {
    // Act / check: TCK TypeConversion3 [1]-[4].
    assert_eq!(run("toFloat", vec![i(3)]), "3.0");
    assert_eq!(run("toFloat", vec![f(3.4)]), "3.4");
    assert_eq!(run("toFloat", vec![s("5")]), "5.0");
    assert_eq!(run("toFloat", vec![s("1e3")]), "1000.0");
    assert_eq!(run("toFloat", vec![s("NaN")]), "NaN");
    assert_eq!(run("toFloat", vec![s("foo")]), "null");
    assert_eq!(run("toFloat", vec![s("inf")]), "null");
    assert_eq!(run("toFloat", vec![s("")]), "null");
}

#[test]
fn to_float_fails_on_booleans_and_structures() {
    // Act / check: TCK TypeConversion3 [6].
    for invalid in graph_values().into_iter().chain([b(true)]) {
        assert_eq!(
            run("toFloat", vec![invalid.clone()]),
            "error: TypeError/InvalidArgumentValue",
            "{invalid}"
        );
        assert_eq!(run("toFloatOrNull", vec![invalid]), "null");
    }
}

#[test]
fn to_string_of_scalars_and_temporals() {
    // Act / check: TCK TypeConversion4 [1]-[6].
    assert_eq!(run("toString", vec![i(42)]), "'42'");
    assert_eq!(run("toString", vec![b(true)]), "'true'");
    assert_eq!(run("toString", vec![f(2.3)]), "'2.3'");
    assert_eq!(run("toString", vec![s("apa")]), "'apa'");
    assert_eq!(run("toString", vec![NULL]), "null");
    let duration = eval("duration", vec![m(&[("days", i(1)), ("milliseconds", i(-1))])]);
    assert_eq!(run("toString", vec![duration]), "'P1DT-0.001S'");
}

#[test]
fn to_string_renders_floats_as_java() {
    // Act / check
    let cases = [
        (1.0, "1.0"),
        (100.0, "100.0"),
        (0.001, "0.001"),
        (0.0001, "1.0E-4"),
        (1e7, "1.0E7"),
        (1.5e20, "1.5E20"),
        (-0.0, "-0.0"),
        (f64::INFINITY, "Infinity"),
        (1234567.25, "1234567.25"),
    ];
    for (value, text) in cases {
        assert_eq!(run("toString", vec![f(value)]), format!("'{text}'"), "{value}");
    }
}

#[test]
fn to_string_fails_on_structures() {
    // Act / check: TCK TypeConversion4 [10].
    for invalid in graph_values() {
        assert_eq!(
            run("toString", vec![invalid.clone()]),
            "error: TypeError/InvalidArgumentValue",
            "{invalid}"
        );
        assert_eq!(run("toStringOrNull", vec![invalid]), "null");
    }
}

#[test]
fn list_conversions_null_the_failures() {
    // Act / check
    assert_eq!(
        run("toIntegerList", vec![l(vec![s("2"), f(2.9), s("foo"), l(vec![])])]),
        "[2, 2, null, null]"
    );
    assert_eq!(run("toStringList", vec![l(vec![i(1), node(1)])]), "['1', null]");
    assert_eq!(run("toFloatList", vec![NULL]), "null");
    assert_eq!(
        run("toBooleanList", vec![i(1)]),
        "error: TypeError/InvalidArgumentValue"
    );
}
