//! Unit tests for expressions: precedence, literals, atoms and their errors.
//!
//! Expressions are checked through [`sexpr`], a compact prefix rendering of the AST, so
//! precedence reads as `(+ 1 (* 2 3))`.

use super::parse;
use crate::ast::{
    BinaryOp, ClauseKind, Expr, ExprKind, MapProjectionItem, PatternElement, Quantifier, Statement, UnaryOp,
};
use crate::error::QueryError;

fn op_name(op: BinaryOp) -> &'static str {
    use BinaryOp::*;
    match op {
        Or => "or",
        Xor => "xor",
        And => "and",
        Eq => "=",
        Ne => "<>",
        Lt => "<",
        Le => "<=",
        Gt => ">",
        Ge => ">=",
        Add => "+",
        Sub => "-",
        Mul => "*",
        Div => "/",
        Mod => "%",
        Pow => "^",
        In => "in",
        StartsWith => "starts",
        EndsWith => "ends",
        Contains => "contains",
        Regex => "=~",
    }
}

fn list(items: &[Expr]) -> String {
    items.iter().map(sexpr).collect::<Vec<_>>().join(" ")
}

fn opt(e: &Option<Box<Expr>>) -> String {
    e.as_deref().map_or("_".to_string(), sexpr)
}

fn element(p: &PatternElement) -> String {
    let node = |n: &crate::ast::NodePattern| format!("({}{})", n.variable.as_deref().unwrap_or(""), n.labels.join(":"));
    let mut out = node(&p.start);
    for (rel, n) in &p.chain {
        out.push_str(&format!("-{:?}{}-{}", rel.direction, rel.types.join("|"), node(n)));
    }
    out
}

/// A compact prefix rendering of an expression.
pub(super) fn sexpr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Null => "null".into(),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Int(i) => i.to_string(),
        ExprKind::Float(f) => format!("{f:?}"),
        ExprKind::String(s) => format!("{s:?}"),
        ExprKind::Parameter(p) => format!("${p}"),
        ExprKind::Variable(v) => v.clone(),
        ExprKind::List(items) => format!("[{}]", list(items)),
        ExprKind::Map(entries) => {
            let entries: Vec<String> = entries.iter().map(|(k, v)| format!("{k}: {}", sexpr(v))).collect();
            format!("{{{}}}", entries.join(", "))
        }
        ExprKind::Property(t, k) => format!("(. {} {k})", sexpr(t)),
        ExprKind::Index(t, i) => format!("(idx {} {})", sexpr(t), sexpr(i)),
        ExprKind::Slice(t, a, b) => format!("(slice {} {} {})", sexpr(t), opt(a), opt(b)),
        ExprKind::Unary(op, x) => {
            let op = match op {
                UnaryOp::Not => "not",
                UnaryOp::Minus => "neg",
                UnaryOp::Plus => "pos",
            };
            format!("({op} {})", sexpr(x))
        }
        ExprKind::Binary(op, a, b) => format!("({} {} {})", op_name(*op), sexpr(a), sexpr(b)),
        ExprKind::Comparison(first, rest) => {
            let rest: Vec<String> = rest
                .iter()
                .map(|(op, e)| format!("{} {}", op_name(*op), sexpr(e)))
                .collect();
            format!("(cmp {} {})", sexpr(first), rest.join(" "))
        }
        ExprKind::IsNull(x, negated) => format!("({} {})", if *negated { "notnull" } else { "isnull" }, sexpr(x)),
        ExprKind::HasLabels(x, labels) => format!("(labels {} {})", sexpr(x), labels.join(":")),
        ExprKind::Function { name, distinct, args } => {
            format!("({name}{} {})", if *distinct { " distinct" } else { "" }, list(args))
        }
        ExprKind::CountStar => "count(*)".into(),
        ExprKind::Case { subject, whens, else_ } => {
            let whens: Vec<String> = whens
                .iter()
                .map(|(w, t)| format!("{} {}", sexpr(w), sexpr(t)))
                .collect();
            format!("(case {} {} else {})", opt(subject), whens.join(" "), opt(else_))
        }
        ExprKind::ListComprehension {
            variable,
            list,
            predicate,
            projection,
        } => {
            format!(
                "(listc {variable} {} {} {})",
                sexpr(list),
                opt(predicate),
                opt(projection)
            )
        }
        ExprKind::PatternComprehension {
            variable,
            pattern,
            predicate,
            projection,
        } => format!(
            "(patc {} {} {} {})",
            variable.as_deref().unwrap_or("_"),
            element(pattern),
            opt(predicate),
            sexpr(projection)
        ),
        ExprKind::Quantifier {
            kind,
            variable,
            list,
            predicate,
        } => {
            format!("({kind:?} {variable} {} {})", sexpr(list), opt(predicate))
        }
        ExprKind::Reduce {
            accumulator,
            init,
            variable,
            list,
            expr,
        } => {
            format!(
                "(reduce {accumulator} {} {variable} {} {})",
                sexpr(init),
                sexpr(list),
                sexpr(expr)
            )
        }
        ExprKind::PatternPredicate(p) => format!("(pattern {})", element(p)),
        ExprKind::ExistsSubquery { pattern, where_ } => {
            let parts: Vec<String> = pattern.iter().map(|p| element(&p.element)).collect();
            format!("(exists {} {})", parts.join(", "), opt(where_))
        }
        ExprKind::ExistsQuery(q) => format!("(exists-query {} clauses)", q.clauses.len()),
        ExprKind::CountQuery(q) => format!("(count-query {} clauses)", q.first.clauses.len()),
        ExprKind::CollectQuery(q) => format!("(collect-query {} clauses)", q.first.clauses.len()),
        ExprKind::MapProjection { variable, items } => {
            let items: Vec<String> = items
                .iter()
                .map(|i| match i {
                    MapProjectionItem::Property(k) => format!(".{k}"),
                    MapProjectionItem::AllProperties => ".*".into(),
                    MapProjectionItem::Literal(k, e) => format!("{k}: {}", sexpr(e)),
                    MapProjectionItem::Variable(v) => v.clone(),
                })
                .collect();
            format!("(proj {variable} {})", items.join(", "))
        }
    }
}

/// The first RETURN item of `RETURN <text>`.
fn ret(text: &str) -> Expr {
    let statement = parse(&format!("RETURN {text}")).unwrap_or_else(|e| panic!("{text}: {e}"));
    let Statement::Query(query) = statement else {
        panic!("not a query")
    };
    let ClauseKind::Return(projection) = &query.first.clauses[0].kind else {
        panic!("not RETURN")
    };
    projection.items[0].expr.clone()
}

fn rendered(text: &str) -> String {
    sexpr(&ret(text))
}

/// The WHERE predicate of `MATCH (n) WHERE <text> RETURN n`.
fn predicate(text: &str) -> String {
    let statement = parse(&format!("MATCH (n) WHERE {text} RETURN n")).unwrap_or_else(|e| panic!("{text}: {e}"));
    let Statement::Query(query) = statement else {
        panic!("not a query")
    };
    let ClauseKind::Match { where_: Some(w), .. } = &query.first.clauses[0].kind else {
        panic!("no WHERE")
    };
    sexpr(w)
}

fn error(text: &str) -> QueryError {
    parse(text).expect_err(text)
}

#[test]
fn boolean_operators_bind_or_xor_and_not_from_loosest() {
    assert_eq!(rendered("a OR b XOR c AND NOT d"), "(or a (xor b (and c (not d))))");
    assert_eq!(rendered("a AND b OR c"), "(or (and a b) c)");
    assert_eq!(rendered("NOT NOT a"), "(not (not a))");
    assert_eq!(rendered("not a = b"), "(not (cmp a = b))");
}

#[test]
fn comparisons_are_always_chains() {
    assert_eq!(rendered("a = b"), "(cmp a = b)");
    assert_eq!(rendered("1 < x <= 3 <> y"), "(cmp 1 < x <= 3 <> y)");
    assert_eq!(rendered("a + 1 >= b * 2"), "(cmp (+ a 1) >= (* b 2))");
    assert_eq!(rendered("a = b AND c > d"), "(and (cmp a = b) (cmp c > d))");
}

#[test]
fn string_list_and_null_predicates_sit_between_comparison_and_arithmetic() {
    assert_eq!(rendered("a STARTS WITH 'x' + y"), "(starts a (+ \"x\" y))");
    assert_eq!(rendered("a ends with b"), "(ends a b)");
    assert_eq!(rendered("a CONTAINS b = true"), "(cmp (contains a b) = true)");
    assert_eq!(rendered("a =~ 'x.*'"), "(=~ a \"x.*\")");
    assert_eq!(rendered("1 + 1 IN [2]"), "(in (+ 1 1) [2])");
    assert_eq!(rendered("a IS NULL = b IS NOT NULL"), "(cmp (isnull a) = (notnull b))");
    assert_eq!(rendered("a.b IS NOT NULL AND c"), "(and (notnull (. a b)) c)");
}

#[test]
fn arithmetic_precedence_and_associativity() {
    assert_eq!(rendered("1 + 2 * 3 - 4 / 5 % 6"), "(- (+ 1 (* 2 3)) (% (/ 4 5) 6))");
    assert_eq!(rendered("2 ^ 3 ^ 2"), "(^ (^ 2 3) 2)");
    assert_eq!(rendered("2 * 3 ^ 2"), "(* 2 (^ 3 2))");
    assert_eq!(rendered("-2 ^ 2"), "(^ -2 2)");
    assert_eq!(rendered("-x ^ 2"), "(^ (neg x) 2)");
    assert_eq!(rendered("- - x"), "(neg (neg x))");
    assert_eq!(rendered("+x"), "(pos x)");
    assert_eq!(rendered("1 - -1"), "(- 1 -1)");
}

#[test]
fn postfix_operators_bind_tightest() {
    assert_eq!(rendered("-n.x"), "(neg (. n x))");
    assert_eq!(rendered("n.a.b[0]"), "(idx (. (. n a) b) 0)");
    assert_eq!(rendered("l[1..2]"), "(slice l 1 2)");
    assert_eq!(rendered("l[..2]"), "(slice l _ 2)");
    assert_eq!(rendered("l[1..]"), "(slice l 1 _)");
    assert_eq!(rendered("n:A:B AND m:C"), "(and (labels n A:B) (labels m C))");
    assert_eq!(rendered("(n).`weird key`"), "(. n weird key)");
    assert_eq!(rendered("n.end"), "(. n end)");
}

#[test]
fn integer_literals_in_all_bases_and_the_i64_edges() {
    assert_eq!(rendered("0x1F"), "31");
    assert_eq!(rendered("0o17"), "15");
    assert_eq!(rendered("-9223372036854775808"), "-9223372036854775808");
    assert_eq!(rendered("-0x8000000000000000"), "-9223372036854775808");
    assert_eq!(rendered("9223372036854775807"), "9223372036854775807");
    assert_eq!(rendered("- -9223372036854775808"), "(neg -9223372036854775808)");
}

#[test]
fn float_literals() {
    assert_eq!(rendered("1.5"), "1.5");
    assert_eq!(rendered(".5"), "0.5");
    assert_eq!(rendered("1e3"), "1000.0");
    assert_eq!(rendered("1.5E-3"), "0.0015");
    assert_eq!(rendered("-0.0"), "-0.0");
}

#[test]
fn bad_number_literals_have_their_own_details() {
    for text in ["RETURN 0x", "RETURN 1e", "RETURN 0o9", "RETURN 123abc", "RETURN 0x1G"] {
        assert_eq!(error(text).detail, "InvalidNumberLiteral", "{text}");
    }
    for text in [
        "RETURN 9223372036854775808",
        "RETURN -9223372036854775809",
        "RETURN 0x10000000000000000",
    ] {
        assert_eq!(error(text).detail, "IntegerOverflow", "{text}");
    }
    assert_eq!(error("RETURN 1e999").detail, "FloatingPointOverflow");
    // A malformed number where a key is expected is plain unexpected syntax.
    assert_eq!(error("RETURN {1B2c3e67: 1}").detail, "UnexpectedSyntax");
}

#[test]
fn string_literals_and_escapes() {
    assert_eq!(rendered(r#"'it\'s'"#), r#""it's""#);
    assert_eq!(rendered(r#""say 'hi'""#), r#""say 'hi'""#);
    assert_eq!(rendered(r#""a\tb\n\"\'\\""#), r#""a\tb\n\"'\\""#);
    assert_eq!(rendered(r"'\u00e9\U0001F600'"), "\"é😀\"");
    assert_eq!(rendered(r"'\uD83D\uDE00'"), "\"😀\"");
    assert_eq!(error(r"RETURN '\uH'").detail, "InvalidUnicodeLiteral");
    assert_eq!(error(r"RETURN '\uD800'").detail, "InvalidUnicodeLiteral");
    assert_eq!(error(r"RETURN '\q'").detail, "UnexpectedSyntax");
    assert!(error("RETURN 'open").message.contains("Unterminated string"));
}

#[test]
fn keyword_literals_parameters_and_quoted_names() {
    assert_eq!(rendered("NULL"), "null");
    assert_eq!(rendered("True"), "true");
    assert_eq!(rendered("$name"), "$name");
    assert_eq!(rendered("$0"), "$0");
    assert_eq!(rendered("`a``b`"), "a`b");
    assert_eq!(
        rendered("`null`"),
        "null",
        "a quoted name is a variable, never a keyword"
    );
    assert!(matches!(ret("`null`").kind, ExprKind::Variable(_)));
}

#[test]
fn lists_and_maps() {
    assert_eq!(rendered("[1, [2], []]"), "[1 [2] []]");
    assert_eq!(rendered("{a: 1, `b c`: {}, end: null}"), "{a: 1, b c: {}, end: null}");
    assert_eq!(error("RETURN [, ]").detail, "UnexpectedSyntax");
    assert_eq!(error("RETURN {k: {k: {}} AS literal").detail, "UnexpectedSyntax");
}

#[test]
fn function_calls() {
    assert_eq!(rendered("count(*)"), "count(*)");
    assert_eq!(rendered("COUNT(DISTINCT n.x)"), "(COUNT distinct (. n x))");
    assert_eq!(rendered("date.truncate('day', d)"), "(date.truncate \"day\" d)");
    assert_eq!(rendered("a.b.c()"), "(a.b.c )");
    assert_eq!(rendered("exists(n.prop)"), "(exists (. n prop))");
    assert_eq!(error("RETURN return(1)").detail, "UnexpectedSyntax");
}

#[test]
fn case_expressions() {
    assert_eq!(
        rendered("CASE x WHEN 1 THEN 'a' ELSE 'b' END"),
        "(case x 1 \"a\" else \"b\")"
    );
    assert_eq!(
        rendered("CASE WHEN a THEN 1 WHEN b THEN 2 END"),
        "(case _ a 1 b 2 else _)"
    );
    assert!(error("RETURN CASE END").message.contains("expected 'WHEN'"));
}

#[test]
fn comprehensions_quantifiers_and_reduce() {
    assert_eq!(
        rendered("[x IN l WHERE x > 1 | x * 2]"),
        "(listc x l (cmp x > 1) (* x 2))"
    );
    assert_eq!(rendered("[x IN l]"), "(listc x l _ _)");
    assert_eq!(
        rendered("[(a)-->(b:B) WHERE b.x | b]"),
        "(patc _ (a)-Outgoing-(bB) (. b x) b)"
    );
    assert_eq!(rendered("[p = (a)<-[:T]-() | p]"), "(patc p (a)-IncomingT-() _ p)");
    assert_eq!(rendered("[a = (b)]"), "[(cmp a = b)]");
    assert_eq!(rendered("all(x IN l WHERE x)"), "(All x l x)");
    assert_eq!(rendered("none(x IN l WHERE x)"), "(None x l x)");
    assert!(matches!(
        ret("single(x IN l WHERE x)").kind,
        ExprKind::Quantifier {
            kind: Quantifier::Single,
            ..
        }
    ));
    assert_eq!(rendered("reduce(s = 0, x IN l | s + x)"), "(reduce s 0 x l (+ s x))");
}

#[test]
fn pattern_predicates_only_where_a_predicate_is_expected() {
    assert_eq!(predicate("(n)-[:T]->()"), "(pattern (n)-OutgoingT-())");
    assert_eq!(
        predicate("NOT (n)--(:L) AND (n)<--()"),
        "(and (not (pattern (n)-Both-(L))) (pattern (n)-Incoming-()))"
    );
    assert_eq!(predicate("(n) = (n)"), "(cmp n = n)");
    assert_eq!(
        rendered("[x IN l WHERE (x)-->()]"),
        "(listc x l (pattern (x)-Outgoing-()) _)"
    );
    assert_eq!(rendered("exists((n)-->())"), "(exists (pattern (n)-Outgoing-()))");
    let e = error("MATCH (n) RETURN (n)-[]->()");
    assert_eq!((e.detail, e.position.map(|p| p.column)), ("UnexpectedSyntax", Some(18)));
    assert_eq!(error("MATCH (n) SET n.p = head((n)-->())").detail, "UnexpectedSyntax");
}

#[test]
fn exists_subqueries() {
    assert_eq!(
        predicate("EXISTS { (n)-->(m) WHERE m.x }"),
        "(exists (n)-Outgoing-(m) (. m x))"
    );
    assert_eq!(
        predicate("exists { MATCH (n)-->(m) RETURN true }"),
        "(exists (n)-Outgoing-(m) _)"
    );
    // A RETURN that may change whether a row exists, or more clauses: a full subquery.
    assert_eq!(
        predicate("EXISTS { MATCH (n) RETURN count(*) }"),
        "(exists-query 2 clauses)"
    );
    assert_eq!(
        predicate("EXISTS { MATCH (n)-->(m) WITH n, count(*) AS c WHERE c = 3 RETURN true }"),
        "(exists-query 3 clauses)"
    );
    assert!(error("MATCH (n) WHERE EXISTS { MATCH (n) RETURN n RETURN n")
        .message
        .contains("clause"));
}

#[test]
fn map_projections() {
    assert_eq!(rendered("n {.a, .*, k: 1 + 1, v}"), "(proj n .a, .*, k: (+ 1 1), v)");
    assert_eq!(rendered("n {}"), "(proj n )");
}

#[test]
fn parenthesised_expressions_start_at_the_parenthesis() {
    assert_eq!(rendered("(1 + 2) * 3"), "(* (+ 1 2) 3)");
    assert_eq!(ret("(x)").position.column, 8);
}

#[test]
fn reserved_words_are_not_variables() {
    let e = error("RETURN WHERE");
    assert_eq!(
        e.message,
        "Invalid input 'WHERE': expected an expression (line 1, column 8)"
    );
    assert_eq!(rendered("count"), "count");
}

#[test]
fn unicode_look_alike_operators_are_reported() {
    let e = error("RETURN 42 — 41");
    assert_eq!(
        (e.detail, e.position.map(|p| p.column)),
        ("InvalidUnicodeCharacter", Some(11))
    );
}

#[test]
fn unary_minus_keeps_the_operand_when_not_a_literal() {
    assert!(matches!(ret("-'a'").kind, ExprKind::Unary(UnaryOp::Minus, _)));
    assert!(matches!(ret("-(1 + 1)").kind, ExprKind::Unary(UnaryOp::Minus, _)));
}
