//! List functions (TCK `List6`, `List9`, `List11`, `String3`).

use super::*;

fn ints(values: &[i64]) -> QValue {
    l(values.iter().copied().map(i).collect())
}

#[test]
fn size_of_lists_strings_and_null() {
    // Act / check: TCK List6 [1], [4]; strings count characters, not bytes.
    assert_eq!(run("size", vec![ints(&[1, 2, 3])]), "3");
    assert_eq!(run("size", vec![s("héllo")]), "5");
    assert_eq!(run("size", vec![NULL]), "null");
    assert_eq!(run("size", vec![node(1)]), "error: TypeError/InvalidArgumentValue");
}

#[test]
fn head_last_and_tail() {
    // Act / check: TCK List9 [1]; empty lists give null / [].
    assert_eq!(run("head", vec![ints(&[1, 2, 3])]), "1");
    assert_eq!(run("last", vec![ints(&[1, 2, 3])]), "3");
    assert_eq!(run("tail", vec![ints(&[1, 2, 3])]), "[2, 3]");
    assert_eq!(run("head", vec![l(vec![])]), "null");
    assert_eq!(run("tail", vec![l(vec![])]), "[]");
    assert_eq!(run("last", vec![NULL]), "null");
    assert_eq!(run("head", vec![s("abc")]), "error: TypeError/InvalidArgumentValue");
}

#[test]
fn range_with_default_step() {
    // Act / check: TCK List11 [1].
    assert_eq!(run("range", vec![i(-1236), i(-1234)]), "[-1236, -1235, -1234]");
    assert_eq!(run("range", vec![i(0), i(-123)]), "[]");
    assert_eq!(run("range", vec![i(0), i(0)]), "[0]");
}

#[test]
fn range_with_explicit_step() {
    // Act / check: TCK List11 [2].
    assert_eq!(
        run("range", vec![i(1381), i(-3412), i(-1298)]),
        "[1381, 83, -1215, -2513]"
    );
    assert_eq!(run("range", vec![i(10), i(-10), i(-3)]), "[10, 7, 4, 1, -2, -5, -8]");
    assert_eq!(run("range", vec![i(0), i(1), i(-123)]), "[]");
    assert_eq!(run("range", vec![i(0), i(0), i(-1)]), "[0]");
    assert_eq!(run("range", vec![i(0), i(1), i(2)]), "[0]");
    assert_eq!(
        run("range", vec![i(-3412), i(1381), i(1298)]),
        "[-3412, -2114, -816, 482]"
    );
}

#[test]
fn range_near_the_integer_limits() {
    // Act / check: no overflow at the ends of i64.
    assert_eq!(
        run("range", vec![i(i64::MAX - 1), i(i64::MAX)]),
        "[9223372036854775806, 9223372036854775807]"
    );
    assert_eq!(
        run("range", vec![i(i64::MIN), i(i64::MAX), i(i64::MAX)]),
        "[-9223372036854775808, -1, 9223372036854775806]"
    );
}

#[test]
fn range_with_zero_step_is_out_of_range() {
    // Act / check: TCK List11 [4].
    for (start, end) in [(0, 0), (2, 8), (-2, 8), (2, -8)] {
        assert_eq!(
            run("range", vec![i(start), i(end), i(0)]),
            "error: ArgumentError/NumberOutOfRange"
        );
    }
}

#[test]
fn range_of_non_integers_is_invalid_argument_type() {
    // Act / check: TCK List11 [5].
    for bad in [
        b(true),
        f(-1.1),
        f(0.0),
        f(-0.0),
        s("xyz"),
        ints(&[0]),
        m(&[("start", i(0))]),
        NULL,
    ] {
        for args in [
            vec![bad.clone(), i(1), i(1)],
            vec![i(0), bad.clone(), i(1)],
            vec![i(0), i(1), bad.clone()],
        ] {
            assert_eq!(run("range", args), "error: ArgumentError/InvalidArgumentType", "{bad}");
        }
    }
}

#[test]
fn huge_range_fails_instead_of_exhausting_memory() {
    // Act / check
    assert_eq!(
        run("range", vec![i(0), i(i64::MAX)]),
        "error: ArgumentError/NumberOutOfRange"
    );
}

#[test]
fn reverse_lists_and_strings() {
    // Act / check: TCK String3 [1].
    assert_eq!(run("reverse", vec![s("raksO")]), "'Oskar'");
    assert_eq!(run("reverse", vec![ints(&[1, 2, 3])]), "[3, 2, 1]");
    assert_eq!(run("reverse", vec![NULL]), "null");
    assert_eq!(run("reverse", vec![i(1)]), "error: TypeError/InvalidArgumentValue");
}
