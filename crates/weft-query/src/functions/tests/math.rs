//! Mathematical functions (TCK `Mathematical11`, `Mathematical13`; Java `Math` elsewhere).

use super::*;

#[test]
fn abs_keeps_the_number_type() {
    // Act / check: TCK Mathematical11 [1].
    assert_eq!(run("abs", vec![i(-1)]), "1");
    assert_eq!(run("abs", vec![f(-1.5)]), "1.5");
    assert_eq!(run("abs", vec![NULL]), "null");
    assert_eq!(run("abs", vec![i(i64::MIN)]), "error: ArithmeticError/IntegerOverflow");
    assert_eq!(run("abs", vec![s("1")]), "error: TypeError/InvalidArgumentValue");
}

#[test]
fn sqrt_and_friends_return_floats() {
    // Act / check: TCK Mathematical13 [1].
    assert_eq!(run("sqrt", vec![f(12.96)]), "3.6");
    assert_eq!(run("sqrt", vec![i(-1)]), "NaN");
    assert_eq!(run("log", vec![i(0)]), "-Infinity");
    assert_eq!(run("log10", vec![i(1000)]), "3.0");
    assert_eq!(run("exp", vec![i(0)]), "1.0");
    assert_eq!(run("ceil", vec![f(1.2)]), "2.0");
    assert_eq!(run("floor", vec![i(3)]), "3.0");
    assert_eq!(run("degrees", vec![eval("pi", vec![])]), "180.0");
    assert_eq!(run("haversin", vec![f(0.0)]), "0.0");
    assert_eq!(run("atan2", vec![i(0), i(1)]), "0.0");
    assert_eq!(run("sin", vec![NULL]), "null");
}

#[test]
fn sign_is_an_integer() {
    // Act / check: TCK List11 [3] relies on sign(integer).
    assert_eq!(run("sign", vec![i(-7)]), "-1");
    assert_eq!(run("sign", vec![f(0.5)]), "1");
    assert_eq!(run("sign", vec![f(0.0)]), "0");
}

#[test]
fn round_ties_go_up() {
    // Act / check: as Java's Math.round, returned as a float.
    assert_eq!(run("round", vec![f(2.5)]), "3.0");
    assert_eq!(run("round", vec![f(-2.5)]), "-2.0");
    assert_eq!(run("round", vec![f(-2.6)]), "-3.0");
    assert_eq!(run("round", vec![f(0.49999999999999994)]), "0.0");
    assert_eq!(run("round", vec![i(3)]), "3.0");
}

#[test]
fn round_to_a_precision_in_decimal() {
    // Act / check: HALF_UP on the shortest decimal form, so 2.675 rounds up.
    assert_eq!(run("round", vec![f(1.23456), i(3)]), "1.235");
    assert_eq!(run("round", vec![f(2.675), i(2)]), "2.68");
    assert_eq!(run("round", vec![f(-1.55), i(1)]), "-1.6");
    assert_eq!(run("round", vec![f(1234.5), i(-2)]), "1200.0");
    assert_eq!(run("round", vec![f(999.5), i(0)]), "1000.0");
    assert_eq!(run("round", vec![f(0.004), i(1)]), "0.0");
    assert_eq!(run("round", vec![f(1.5), i(10)]), "1.5");
    assert_eq!(run("round", vec![f(1.5), i(i64::MAX)]), "1.5");
    assert_eq!(run("round", vec![f(1.5), i(i64::MIN)]), "0.0");
    assert_eq!(run("round", vec![f(1.5), i(i64::MIN), s("UP")]), "Infinity");
}

#[test]
fn round_with_a_rounding_mode() {
    // Act / check
    let cases = [
        ("UP", 1.21, "1.3"),
        ("DOWN", 1.29, "1.2"),
        ("CEILING", -1.29, "-1.2"),
        ("FLOOR", -1.21, "-1.3"),
        ("HALF_UP", 1.25, "1.3"),
        ("HALF_DOWN", 1.25, "1.2"),
        ("HALF_EVEN", 1.25, "1.2"),
        ("HALF_EVEN", 1.35, "1.4"),
        ("half_even", 0.004, "0.0"),
        ("UP", 0.004, "0.1"),
    ];
    for (mode, value, expected) in cases {
        assert_eq!(run("round", vec![f(value), i(1), s(mode)]), expected, "{mode} {value}");
    }
    assert_eq!(
        run("round", vec![f(1.0), i(1), s("SIDEWAYS")]),
        "error: ArgumentError/InvalidArgumentValue"
    );
}

#[test]
fn rand_is_in_the_unit_interval() {
    // Act
    let draws: Vec<f64> = (0..1000)
        .map(|_| match eval("rand", vec![]) {
            QValue::Float(x) => x,
            other => panic!("rand() gave {other}"),
        })
        .collect();
    // Check
    assert!(draws.iter().all(|x| (0.0..1.0).contains(x)));
    assert!(draws.iter().any(|x| *x < 0.5) && draws.iter().any(|x| *x >= 0.5));
}

#[test]
fn constants_and_is_nan() {
    // Act / check
    assert_eq!(run("e", vec![]), std::f64::consts::E.to_string());
    assert_eq!(run("isNaN", vec![f(f64::NAN)]), "true");
    assert_eq!(run("isNaN", vec![i(1)]), "false");
}
