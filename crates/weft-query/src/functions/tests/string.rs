//! String functions (TCK `String1`, `String4`; Neo4j manual semantics elsewhere).

use super::*;

#[test]
fn case_and_trimming() {
    // Act / check
    assert_eq!(run("toUpper", vec![s("abc")]), "'ABC'");
    assert_eq!(run("toLower", vec![s("ÄBC")]), "'äbc'");
    assert_eq!(run("upper", vec![s("x")]), "'X'");
    assert_eq!(run("trim", vec![s("  a b \t")]), "'a b'");
    assert_eq!(run("lTrim", vec![s("  a ")]), "'a '");
    assert_eq!(run("rTrim", vec![s("  a ")]), "'  a'");
    assert_eq!(run("toUpper", vec![NULL]), "null");
    assert_eq!(run("toUpper", vec![i(1)]), "error: TypeError/InvalidArgumentValue");
}

#[test]
fn replace_every_occurrence() {
    // Act / check
    assert_eq!(run("replace", vec![s("hello"), s("l"), s("w")]), "'hewwo'");
    assert_eq!(run("replace", vec![s("abc"), s(""), s("-")]), "'-a-b-c-'");
    assert_eq!(run("replace", vec![s("abc"), NULL, s("-")]), "null");
}

#[test]
fn substring_with_default_and_explicit_length() {
    // Act / check: TCK String1 [1].
    assert_eq!(run("substring", vec![s("0123456789"), i(1)]), "'123456789'");
    assert_eq!(run("substring", vec![s("0123456789"), i(1), i(3)]), "'123'");
    assert_eq!(run("substring", vec![s("héllo"), i(1), i(2)]), "'él'");
    assert_eq!(run("substring", vec![s("abc"), i(10)]), "''");
    assert_eq!(run("substring", vec![NULL, i(1)]), "null");
    assert_eq!(
        run("substring", vec![s("abc"), i(-1)]),
        "error: ArgumentError/NumberOutOfRange"
    );
    assert_eq!(
        run("substring", vec![s("abc"), f(1.0)]),
        "error: TypeError/InvalidArgumentValue"
    );
}

#[test]
fn left_and_right() {
    // Act / check
    assert_eq!(run("left", vec![s("hello"), i(3)]), "'hel'");
    assert_eq!(run("right", vec![s("hello"), i(3)]), "'llo'");
    assert_eq!(run("right", vec![s("hi"), i(5)]), "'hi'");
    assert_eq!(run("left", vec![NULL, i(3)]), "null");
    assert_eq!(
        run("left", vec![s("hello"), i(-1)]),
        "error: ArgumentError/NumberOutOfRange"
    );
}

#[test]
fn split_keeps_empty_parts() {
    // Act / check: TCK String4 [1].
    assert_eq!(run("split", vec![s("one1two"), s("1")]), "['one', 'two']");
    assert_eq!(run("split", vec![s("a,b,"), s(",")]), "['a', 'b', '']");
    assert_eq!(run("split", vec![s("abc"), s("")]), "['a', 'b', 'c']");
    assert_eq!(
        run("split", vec![s("a,b;c"), l(vec![s(","), s(";")])]),
        "['a', 'b', 'c']"
    );
    assert_eq!(run("split", vec![s("abc"), NULL]), "null");
    assert_eq!(
        run("split", vec![s("abc"), i(1)]),
        "error: TypeError/InvalidArgumentValue"
    );
}
