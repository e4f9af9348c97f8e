//! Operators (TCK `Boolean1`-`Boolean5`, `Comparison1`-`Comparison2`, `List1`-`List5`,
//! `Map1`-`Map2`, `Null3`, `String8`-`String10`, `Mathematical8`).

use super::*;
use crate::ast::BinaryOp;
use crate::expr::ops;

fn ints(values: &[i64]) -> QValue {
    l(values.iter().copied().map(i).collect())
}

#[test]
fn integer_arithmetic_is_checked() {
    // Act / check: TCK Mathematical8 precedence pieces; overflow and / by zero fail.
    assert_eq!(show(ops::add(&i(99), &i(5))), "104");
    assert_eq!(show(ops::div(&i(12), &i(4))), "3");
    assert_eq!(show(ops::div(&i(-7), &i(2))), "-3");
    assert_eq!(show(ops::modulo(&i(-7), &i(2))), "-1");
    assert_eq!(show(ops::modulo(&i(i64::MIN), &i(-1))), "0");
    assert_eq!(
        show(ops::add(&i(i64::MAX), &i(1))),
        "error: ArithmeticError/IntegerOverflow"
    );
    assert_eq!(
        show(ops::mul(&i(i64::MAX), &i(2))),
        "error: ArithmeticError/IntegerOverflow"
    );
    assert_eq!(
        show(ops::div(&i(i64::MIN), &i(-1))),
        "error: ArithmeticError/IntegerOverflow"
    );
    assert_eq!(show(ops::neg(&i(i64::MIN))), "error: ArithmeticError/IntegerOverflow");
    assert_eq!(show(ops::div(&i(1), &i(0))), "error: ArithmeticError/DivisionByZero");
    assert_eq!(show(ops::modulo(&i(1), &i(0))), "error: ArithmeticError/DivisionByZero");
}

#[test]
fn float_arithmetic_follows_ieee() {
    // Act / check
    assert_eq!(show(ops::add(&i(1), &f(0.5))), "1.5");
    assert_eq!(show(ops::div(&f(1.0), &i(0))), "Infinity");
    assert_eq!(show(ops::div(&f(0.0), &f(0.0))), "NaN");
    assert_eq!(show(ops::modulo(&f(7.5), &i(2))), "1.5");
    assert_eq!(show(ops::pow(&i(2), &i(3))), "8.0");
    assert_eq!(show(ops::neg(&f(1.5))), "-1.5");
}

#[test]
fn null_propagates_through_arithmetic() {
    // Act / check
    for op in [ops::add, ops::sub, ops::mul, ops::div, ops::modulo, ops::pow] {
        assert_eq!(show(op(&NULL, &i(1))), "null");
        assert_eq!(show(op(&ints(&[1]), &NULL)), "null");
    }
    assert_eq!(show(ops::neg(&NULL)), "null");
}

#[test]
fn plus_concatenates_strings_and_lists() {
    // Act / check: TCK List4; strings take numbers as toString renders them.
    assert_eq!(show(ops::add(&s("ab"), &s("c"))), "'abc'");
    assert_eq!(show(ops::add(&s("a"), &f(1.5))), "'a1.5'");
    assert_eq!(show(ops::add(&i(1), &s("a"))), "'1a'");
    assert_eq!(
        show(ops::add(&ints(&[1, 10, 100]), &ints(&[4, 5]))),
        "[1, 10, 100, 4, 5]"
    );
    assert_eq!(
        show(ops::add(&l(vec![b(false), b(true)]), &b(false))),
        "[false, true, false]"
    );
    assert_eq!(show(ops::add(&i(0), &ints(&[1]))), "[0, 1]");
    assert_eq!(show(ops::add(&s("a"), &m(&[]))), "error: TypeError/InvalidArgumentType");
    assert_eq!(show(ops::sub(&s("a"), &s("b"))), "error: TypeError/InvalidArgumentType");
    assert_eq!(show(ops::mul(&b(true), &i(2))), "error: TypeError/InvalidArgumentType");
}

#[test]
fn three_valued_boolean_logic() {
    // Set up: TCK Boolean1-Boolean3 truth tables.
    let values = [b(true), b(false), NULL];
    let name = |v: &QValue| v.to_string();
    // Act
    let mut table = Vec::new();
    for x in &values {
        for y in &values {
            let row = [ops::and(x, y), ops::or(x, y), ops::xor(x, y)].map(show);
            table.push(format!("{} {} -> {}", name(x), name(y), row.join(" ")));
        }
    }
    // Check
    let expected = [
        "true true -> true true false",
        "true false -> false true true",
        "true null -> null true null",
        "false true -> false true true",
        "false false -> false false false",
        "false null -> false null null",
        "null true -> null true null",
        "null false -> false null null",
        "null null -> null null null",
    ];
    assert_eq!(table, expected);
    assert_eq!([ops::not(&b(true)), ops::not(&NULL)].map(show), ["false", "null"]);
}

#[test]
fn boolean_operators_reject_non_booleans() {
    // Act / check: TCK Boolean1 [8] et al. at runtime.
    assert_eq!(
        show(ops::and(&i(123), &b(true))),
        "error: TypeError/InvalidArgumentType"
    );
    assert_eq!(show(ops::or(&NULL, &s("foo"))), "error: TypeError/InvalidArgumentType");
    assert_eq!(show(ops::not(&l(vec![]))), "error: TypeError/InvalidArgumentType");
}

#[test]
fn in_list_is_ternary() {
    // Act / check: TCK List5 and Null3 [4].
    let cases = [
        (i(3), l(vec![i(1), NULL, i(3)]), "true"),
        (i(4), l(vec![i(1), NULL, i(3)]), "null"),
        (NULL, l(vec![]), "false"),
        (NULL, ints(&[1, 2, 3]), "null"),
        (i(1), l(vec![s("1"), i(2)]), "false"),
        (ints(&[1, 2]), l(vec![i(1), ints(&[1, 2])]), "true"),
        (ints(&[1, 2]), l(vec![l(vec![NULL, i(2)])]), "null"),
        (ints(&[1, 2]), l(vec![l(vec![NULL, s("foo")])]), "false"),
        (l(vec![]), l(vec![]), "false"),
        (l(vec![NULL]), l(vec![NULL]), "null"),
        (i(1), NULL, "null"),
    ];
    for (item, list, expected) in cases {
        assert_eq!(show(ops::in_list(&item, &list)), expected, "{item} IN {list}");
    }
    assert_eq!(show(ops::in_list(&i(1), &i(1))), "error: TypeError/InvalidArgumentType");
}

#[test]
fn string_predicates_are_null_on_non_strings() {
    // Act / check: TCK String8-String10 [8].
    assert_eq!(show(ops::starts_with(&s("ABCDEF"), &s("ABC"))), "true");
    assert_eq!(show(ops::ends_with(&s("ABCDEF"), &s(""))), "true");
    assert_eq!(show(ops::contains(&s("Foo\nFoo"), &s("\n"))), "true");
    for (a, b) in [(i(1), s("1")), (s("a"), NULL), (l(vec![]), m(&[])), (NULL, NULL)] {
        assert_eq!(show(ops::contains(&a, &b)), "null");
        assert_eq!(show(ops::starts_with(&a, &b)), "null");
    }
}

#[test]
fn regex_matches_the_whole_string() {
    // Act / check
    assert_eq!(show(ops::regex_match(&s("abc"), &s("a.c"))), "true");
    assert_eq!(show(ops::regex_match(&s("abcd"), &s("a.c"))), "false");
    assert_eq!(show(ops::regex_match(&s("ab"), &s("a|ab"))), "true");
    assert_eq!(show(ops::regex_match(&s("ABC"), &s("(?i)abc"))), "true");
    assert_eq!(show(ops::regex_match(&i(1), &s("1"))), "null");
    assert_eq!(
        show(ops::regex_match(&s("axyz"), &s("a)|(b"))),
        "error: ArgumentError/InvalidArgumentValue"
    );
    assert_eq!(
        show(ops::regex_match(&s("a"), &s("("))),
        "error: ArgumentError/InvalidArgumentValue"
    );
}

#[test]
fn comparisons_follow_cypher() {
    // Act / check: TCK Comparison1 [6]-[9], Comparison2 [4]-[6].
    let nan = f(f64::NAN);
    let cases = [
        (BinaryOp::Eq, i(1), f(1.0), "true"),
        (BinaryOp::Eq, s("1"), i(1), "false"),
        (BinaryOp::Eq, ints(&[1, 2]), l(vec![NULL, i(2)]), "null"),
        (BinaryOp::Eq, m(&[("k", NULL)]), m(&[("k", NULL)]), "null"),
        (BinaryOp::Ne, nan.clone(), nan.clone(), "true"),
        (BinaryOp::Gt, nan.clone(), i(1), "false"),
        (BinaryOp::Gt, nan, s("a"), "null"),
        (BinaryOp::Ge, l(vec![i(1), NULL]), ints(&[1]), "true"),
        (BinaryOp::Ge, ints(&[1, 2]), l(vec![i(1), NULL]), "null"),
        (BinaryOp::Lt, s("1"), i(1), "null"),
        (BinaryOp::Lt, i(1), f(2.5), "true"),
        (BinaryOp::Le, node(1), node(1), "null"),
        (BinaryOp::Eq, node(1), node(1), "true"),
        (BinaryOp::Eq, rel(5, 1, 2), rel(5, 1, 2), "true"),
        (BinaryOp::Ne, NULL, NULL, "null"),
    ];
    for (op, a, b, expected) in cases {
        assert_eq!(show(ops::compare(op, &a, &b)), expected, "{a} {op:?} {b}");
    }
    assert_eq!(
        show(ops::compare(BinaryOp::Add, &i(1), &i(1))),
        "error: DatabaseError/InvalidOperator"
    );
}

#[test]
fn list_indexing() {
    // Act / check: TCK List1.
    let list = ints(&[1, 2, 3]);
    assert_eq!(show(ops::index(&list, &i(0))), "1");
    assert_eq!(show(ops::index(&list, &i(-1))), "3");
    assert_eq!(show(ops::index(&list, &i(3))), "null");
    assert_eq!(show(ops::index(&list, &i(i64::MIN))), "null");
    assert_eq!(show(ops::index(&list, &NULL)), "null");
    for bad in [b(true), f(4.7), s("1"), ints(&[1]), m(&[("x", i(3))])] {
        assert_eq!(
            show(ops::index(&list, &bad)),
            "error: TypeError/InvalidArgumentType",
            "{bad}"
        );
    }
    for bad in [b(true), i(123), f(4.7), s("1")] {
        assert_eq!(
            show(ops::index(&bad, &i(0))),
            "error: TypeError/InvalidArgumentType",
            "{bad}"
        );
    }
}

#[test]
fn map_indexing_needs_string_keys() {
    // Act / check: TCK Map2 [6]-[8].
    let map = m(&[("name", s("Apa")), ("Name", s("Pontus"))]);
    assert_eq!(show(ops::index(&map, &s("name"))), "'Apa'");
    assert_eq!(show(ops::index(&map, &s("nAMe"))), "null");
    assert_eq!(
        show(ops::index(&map, &i(0))),
        "error: TypeError/MapElementAccessByNonString"
    );
    assert_eq!(
        show(ops::index(&map, &f(12.3))),
        "error: TypeError/MapElementAccessByNonString"
    );
}

#[test]
fn subscripting_nodes_reads_properties() {
    // Set up: TCK Graph7.
    let mut graph = FakeGraph::default();
    graph
        .node_props
        .insert(Gid(1), [("name".to_string(), s("Apa"))].into_iter().collect());
    // Act / check
    assert_eq!(show(ops::subscript(&node(1), &s("name"), &graph)), "'Apa'");
    assert_eq!(show(ops::subscript(&node(1), &s("missing"), &graph)), "null");
    assert_eq!(show(ops::subscript(&ints(&[7]), &i(0), &graph)), "7");
    assert_eq!(
        show(ops::subscript(&node(1), &i(0), &graph)),
        "error: TypeError/InvalidArgumentType"
    );
}

#[test]
fn list_slicing() {
    // Act / check: TCK List2.
    let list = ints(&[1, 2, 3]);
    let slice = |from: Option<QValue>, to: Option<QValue>| show(ops::slice(&list, from.as_ref(), to.as_ref()));
    assert_eq!(slice(Some(i(1)), None), "[2, 3]");
    assert_eq!(slice(None, Some(i(2))), "[1, 2]");
    assert_eq!(slice(Some(i(0)), Some(i(0))), "[]");
    assert_eq!(slice(Some(i(-3)), Some(i(-1))), "[1, 2]");
    assert_eq!(slice(Some(i(3)), Some(i(1))), "[]");
    assert_eq!(slice(Some(i(-5)), Some(i(5))), "[1, 2, 3]");
    assert_eq!(slice(Some(i(i64::MIN)), Some(i(i64::MAX))), "[1, 2, 3]");
    assert_eq!(slice(Some(i(1)), Some(NULL)), "null");
    assert_eq!(slice(None, Some(NULL)), "null");
    assert_eq!(slice(Some(f(1.0)), None), "error: TypeError/InvalidArgumentType");
    assert_eq!(
        show(ops::slice(&s("abc"), None, None)),
        "error: TypeError/InvalidArgumentType"
    );
}

#[test]
fn property_access() {
    // Set up: TCK Graph6, Map1, Null1 [5].
    let mut graph = FakeGraph::default();
    graph
        .rel_props
        .insert(Gid(5), [("existing".to_string(), i(42))].into_iter().collect());
    // Act / check
    assert_eq!(show(ops::property(&rel(5, 1, 2), "existing", &graph)), "42");
    assert_eq!(show(ops::property(&rel(5, 1, 2), "missing", &graph)), "null");
    assert_eq!(
        show(ops::property(&m(&[("name", s("Mats"))]), "name", &graph)),
        "'Mats'"
    );
    assert_eq!(show(ops::property(&m(&[]), "name", &graph)), "null");
    assert_eq!(show(ops::property(&NULL, "name", &graph)), "null");
    for bad in [i(123), f(42.45), b(true), s("string"), ints(&[123])] {
        assert_eq!(
            show(ops::property(&bad, "num", &graph)),
            "error: TypeError/InvalidArgumentType"
        );
    }
}
