//! Unit tests for statements, clauses, patterns, admin statements, error reporting and
//! robustness on hostile input (no panics, bounded nesting).

use super::parse;
use super::tests_expr::sexpr;
use crate::ast::{
    Clause, ClauseKind, ConstraintTarget, IndexTarget, PatternPart, RelDirection, RelPattern, RemoveItem, SetItem,
    Shortest, Statement,
};
use crate::error::{ErrorKind, QueryError};
use proptest::prelude::*;

fn clauses(text: &str) -> Vec<Clause> {
    match parse(text).unwrap_or_else(|e| panic!("{text}: {e}")) {
        Statement::Query(query) => query.first.clauses,
        other => panic!("not a query: {other:?}"),
    }
}

fn first(text: &str) -> ClauseKind {
    clauses(text).remove(0).kind
}

fn error(text: &str) -> QueryError {
    parse(text).expect_err(text)
}

fn match_parts(text: &str) -> Vec<PatternPart> {
    match first(text) {
        ClauseKind::Match { pattern, .. } => pattern,
        other => panic!("not MATCH: {other:?}"),
    }
}

fn rel(text: &str) -> RelPattern {
    match_parts(&format!("MATCH (a){text}(b) RETURN a"))
        .remove(0)
        .element
        .chain
        .remove(0)
        .0
}

#[test]
fn match_with_labels_properties_and_where() {
    // Act
    let ClauseKind::Match {
        optional,
        pattern,
        where_,
    } = first("OPTIONAL MATCH (n:A:B {k: 1}), (:C $p) WHERE n.k > 0")
    else {
        panic!("not MATCH")
    };

    // Check
    assert!(optional);
    assert_eq!(pattern.len(), 2);
    let n = &pattern[0].element.start;
    assert_eq!(
        (n.variable.as_deref(), n.labels.clone()),
        (Some("n"), vec!["A".to_string(), "B".to_string()])
    );
    assert_eq!(sexpr(n.properties.as_deref().unwrap()), "{k: 1}");
    assert_eq!(sexpr(pattern[1].element.start.properties.as_deref().unwrap()), "$p");
    assert_eq!(sexpr(&where_.unwrap()), "(cmp (. n k) > 0)");
}

#[test]
fn relationship_directions() {
    assert_eq!(rel("-->").direction, RelDirection::Outgoing);
    assert_eq!(rel("<--").direction, RelDirection::Incoming);
    assert_eq!(rel("--").direction, RelDirection::Both);
    assert_eq!(rel("<-->").direction, RelDirection::Both);
    assert_eq!(rel("-[r]->").variable.as_deref(), Some("r"));
    assert_eq!(rel("<-[:T]-").direction, RelDirection::Incoming);
}

#[test]
fn relationship_types_lengths_and_properties() {
    let r = rel("-[r:T|:U|V*1..3 {k: 'v'}]->");
    assert_eq!(r.types, ["T", "U", "V"]);
    assert_eq!(r.length, Some((Some(1), Some(3))));
    assert_eq!(sexpr(r.properties.as_deref().unwrap()), "{k: \"v\"}");
    assert_eq!(rel("-[*]-").length, Some((None, None)));
    assert_eq!(rel("-[*2]-").length, Some((Some(2), Some(2))));
    assert_eq!(rel("-[*..3]-").length, Some((None, Some(3))));
    assert_eq!(rel("-[*2..]-").length, Some((Some(2), None)));
    assert_eq!(rel("-[:T]-").length, None);
}

#[test]
fn malformed_length_ranges_are_invalid_relationship_patterns() {
    for text in [
        "MATCH (a)-[:LIKES..]->(c) RETURN c",
        "MATCH (a)-[:LIKES*-2]->(c) RETURN c",
        "MATCH ()-[*1.5]-() RETURN 1",
    ] {
        assert_eq!(error(text).detail, "InvalidRelationshipPattern", "{text}");
    }
}

#[test]
fn named_paths_and_shortest_paths() {
    let parts = match_parts("MATCH p = (a)-->(b), q = shortestPath((a)-[*]-(b)), allShortestPaths((a)--(b)) RETURN p");
    assert_eq!((parts[0].variable.as_deref(), parts[0].shortest), (Some("p"), None));
    assert_eq!(
        (parts[1].variable.as_deref(), parts[1].shortest),
        (Some("q"), Some(Shortest::One))
    );
    assert_eq!(
        (parts[2].variable.as_deref(), parts[2].shortest),
        (None, Some(Shortest::All))
    );
}

#[test]
fn with_has_every_projection_part() {
    // Act
    let ClauseKind::With(p) = first("WITH DISTINCT *, n.x AS x ORDER BY x DESC, n ASC SKIP 1 LIMIT 2 WHERE x > 1")
    else {
        panic!("not WITH")
    };

    // Check
    assert!(p.distinct && p.star);
    assert_eq!(
        (p.items[0].alias.as_deref(), p.items[0].text.as_str()),
        (Some("x"), "n.x")
    );
    let order: Vec<bool> = p.order_by.iter().map(|s| s.descending).collect();
    assert_eq!(order, [true, false]);
    assert_eq!(
        (sexpr(&p.skip.unwrap()), sexpr(&p.limit.unwrap())),
        ("1".into(), "2".into())
    );
    assert_eq!(sexpr(&p.where_.unwrap()), "(cmp x > 1)");
}

#[test]
fn return_item_text_is_the_exact_source() {
    let ClauseKind::Return(p) = first("RETURN n.name, count( * ), a  +  b AS `sum`, [x IN l | x]") else {
        panic!("not RETURN")
    };
    let texts: Vec<&str> = p.items.iter().map(|i| i.text.as_str()).collect();
    assert_eq!(texts, ["n.name", "count( * )", "a  +  b", "[x IN l | x]"]);
    assert_eq!(p.items[2].alias.as_deref(), Some("sum"));
}

#[test]
fn merge_actions_in_any_order_and_repeated() {
    let ClauseKind::Merge {
        part,
        on_create,
        on_match,
    } = first("MERGE (n:L {k: 1}) ON MATCH SET n.m = 1 ON CREATE SET n.c = 1, n.d = 2 ON MATCH SET n += {x: 1}")
    else {
        panic!("not MERGE")
    };
    assert_eq!(part.element.start.labels, ["L"]);
    assert_eq!((on_create.len(), on_match.len()), (2, 2));
    assert!(matches!(&on_match[1], SetItem::Variable { merge: true, .. }));
}

#[test]
fn set_item_forms() {
    let ClauseKind::Set { items } = first("SET n.p = 1, n = {a: 1}, n += $m, n:A:B, (n.x).y = 2") else {
        panic!("not SET")
    };
    assert!(matches!(&items[0], SetItem::Property { key, .. } if key == "p"));
    assert!(matches!(&items[1], SetItem::Variable { merge: false, .. }));
    assert!(matches!(&items[2], SetItem::Variable { merge: true, .. }));
    assert!(matches!(&items[3], SetItem::Labels { labels, .. } if labels == &["A", "B"]));
    let SetItem::Property { target, key, .. } = &items[4] else {
        panic!("not a property")
    };
    assert_eq!((sexpr(target).as_str(), key.as_str()), ("(. n x)", "y"));
    assert_eq!(error("SET n[0] = 1").detail, "UnexpectedSyntax");
}

#[test]
fn remove_and_delete() {
    let ClauseKind::Remove { items } = first("REMOVE n.p, n:A:B") else {
        panic!("not REMOVE")
    };
    assert!(matches!(&items[0], RemoveItem::Property { key, .. } if key == "p"));
    assert!(matches!(&items[1], RemoveItem::Labels { labels, .. } if labels.len() == 2));
    assert!(matches!(first("DETACH DELETE a, b"), ClauseKind::Delete { detach: true, exprs } if exprs.len() == 2));
    assert!(matches!(first("DELETE r"), ClauseKind::Delete { detach: false, .. }));
}

#[test]
fn unwind_and_create() {
    let ClauseKind::Unwind { expr, variable } = first("UNWIND [1, 2] AS x") else {
        panic!("not UNWIND")
    };
    assert_eq!((sexpr(&expr).as_str(), variable.as_str()), ("[1 2]", "x"));
    let ClauseKind::Create { pattern } = first("CREATE (a)-[:T {w: 1}]->(b), (c)") else {
        panic!("not CREATE")
    };
    assert_eq!(pattern.len(), 2);
    assert!(matches!(first("CREATE index = (a)-->(b)"), ClauseKind::Create { .. }));
}

#[test]
fn call_forms() {
    let ClauseKind::Call {
        procedure,
        args,
        yields,
        where_,
    } = first("CALL db.labels()")
    else {
        panic!()
    };
    assert_eq!(
        (procedure.as_str(), args.map(|a| a.len()), yields, where_),
        ("db.labels", Some(0), None, None)
    );
    assert!(matches!(first("CALL db.labels"), ClauseKind::Call { args: None, .. }));
    let ClauseKind::Call { yields, where_, .. } = first("CALL p.q(1, 'a') YIELD a AS b, c WHERE b > 1 RETURN b") else {
        panic!()
    };
    let yields = yields.unwrap();
    assert_eq!(
        (yields[0].field.as_str(), yields[0].alias.as_deref(), yields.len()),
        ("a", Some("b"), 2)
    );
    assert!(where_.is_some());
    assert!(matches!(
        first("CALL p.q('x') YIELD *;"),
        ClauseKind::Call { yields: None, .. }
    ));
    assert_eq!(error("CALL p.q('x') YIELD * RETURN city").detail, "UnexpectedSyntax");
}

#[test]
fn foreach_nests_updating_clauses() {
    let ClauseKind::Foreach { variable, clauses, .. } =
        first("FOREACH (x IN [1] | CREATE (:N {x: x}) FOREACH (y IN [x] | SET y.p = 1))")
    else {
        panic!("not FOREACH")
    };
    assert_eq!(variable, "x");
    assert!(matches!(clauses[1].kind, ClauseKind::Foreach { .. }));
    assert!(error("FOREACH (x IN l | MATCH (n))")
        .message
        .contains("expected a clause"));
}

#[test]
fn unions_and_statement_ends() {
    let Statement::Query(q) = parse("RETURN 1 AS a UNION ALL RETURN 2 AS a UNION RETURN 3 AS a;").unwrap() else {
        panic!()
    };
    let alls: Vec<bool> = q.unions.iter().map(|(all, _)| *all).collect();
    assert_eq!(alls, [true, false]);
    assert!(error("RETURN 1; RETURN 2").message.contains("expected end of input"));
    assert!(error("RETURN 1 MATCH (n)").message.contains("after RETURN"));
    assert!(error("")
        .message
        .starts_with("Unexpected end of input: expected a clause"));
}

#[test]
fn keywords_are_case_insensitive_and_comments_are_skipped() {
    let cs = clauses("match (n) // trailing\n /* block\n comment */ where n.x return n");
    assert_eq!(cs.len(), 2);
    assert_eq!((cs[1].position.line, cs[1].position.column), (3, 23));
}

#[test]
fn admin_statements() {
    let label = |l: &str| IndexTarget::Label { label: l.into() };
    let label_prop = IndexTarget::LabelProperty {
        label: "L".into(),
        property: "p".into(),
    };
    assert_eq!(
        parse("CREATE INDEX ON :L(p)").unwrap(),
        Statement::CreateIndex(label_prop.clone())
    );
    assert_eq!(parse("create index on :L").unwrap(), Statement::CreateIndex(label("L")));
    assert_eq!(
        parse("CREATE INDEX idx FOR (n:L) ON (n.p)").unwrap(),
        Statement::CreateIndex(label_prop.clone())
    );
    assert_eq!(
        parse("CREATE INDEX FOR (n:L) ON (n.p)").unwrap(),
        Statement::CreateIndex(label_prop.clone())
    );
    let edge = IndexTarget::EdgeType { edge_type: "T".into() };
    assert_eq!(
        parse("CREATE EDGE INDEX ON :T").unwrap(),
        Statement::CreateIndex(edge.clone())
    );
    assert_eq!(parse("DROP INDEX ON :L(p)").unwrap(), Statement::DropIndex(label_prop));
    assert_eq!(parse("DROP INDEX ON :L").unwrap(), Statement::DropIndex(label("L")));
    assert_eq!(parse("DROP EDGE INDEX ON :T").unwrap(), Statement::DropIndex(edge));
    assert_eq!(parse("SHOW INDEX INFO").unwrap(), Statement::ShowIndexInfo);
    assert_eq!(parse("SHOW CONSTRAINT INFO").unwrap(), Statement::ShowConstraintInfo);
}

#[test]
fn registered_commands_are_found_by_their_keywords_and_keep_their_arguments() {
    use crate::ast::{AdminArg, AdminCall};
    let commands = vec![
        vec!["REGISTER".to_string(), "REPLICA".into()],
        vec!["CREATE".to_string(), "SNAPSHOT".into()],
        vec!["SHOW".to_string(), "STORAGE".into(), "INFO".into()],
    ];
    let call = |command: &str, args| {
        Statement::Admin(AdminCall {
            command: command.into(),
            args,
        })
    };
    let parsed = super::parse_with(
        "register replica r1 SYNC with timeout 2 TO '127.0.0.1:10000';",
        &commands,
    );
    let expected = vec![
        AdminArg::Word("r1".into()),
        AdminArg::Word("SYNC".into()),
        AdminArg::Word("with".into()),
        AdminArg::Word("timeout".into()),
        AdminArg::Int(2),
        AdminArg::Word("TO".into()),
        AdminArg::Str("127.0.0.1:10000".into()),
    ];
    assert_eq!(parsed.unwrap(), call("REGISTER REPLICA", expected));
    assert_eq!(
        super::parse_with("CREATE SNAPSHOT", &commands).unwrap(),
        call("CREATE SNAPSHOT", vec![])
    );
    assert!(matches!(
        super::parse_with("CREATE snapshot = (a)-->(b)", &commands).unwrap(),
        Statement::Query(_)
    ));
    assert_eq!(parse("SHOW INDEX INFO").unwrap(), Statement::ShowIndexInfo);
    let unknown = super::parse_with("SHOW STORAGE", &commands).unwrap_err();
    assert!(unknown.message.contains("'STORAGE INFO'"), "{}", unknown.message);
    assert!(parse("CREATE SNAPSHOT").is_err(), "not a command unless registered");
    assert!(super::parse_with("REGISTER REPLICA $name", &commands).is_err());
    assert!(matches!(
        parse("CREATE snapshot = (a)-->(b)").unwrap(),
        Statement::Query(_)
    ));
    assert!(error("CREATE INDEX FOR (n:L) ON (m.p)")
        .message
        .contains("expected the variable 'n'"));
}

#[test]
fn constraint_statements() {
    let unique = |props: &[&str]| ConstraintTarget::Unique {
        label: "L".into(),
        properties: props.iter().map(|p| p.to_string()).collect(),
    };
    let exists = ConstraintTarget::Exists {
        label: "L".into(),
        property: "p".into(),
    };
    let create = |text: &str| parse(text).unwrap();
    assert_eq!(
        create("CREATE CONSTRAINT ON (n:L) ASSERT n.p IS UNIQUE"),
        Statement::CreateConstraint(unique(&["p"]))
    );
    assert_eq!(
        create("CREATE CONSTRAINT ON (n:L) ASSERT n.a, n.b IS UNIQUE"),
        Statement::CreateConstraint(unique(&["a", "b"]))
    );
    assert_eq!(
        create("CREATE CONSTRAINT ON (n:L) ASSERT EXISTS (n.p)"),
        Statement::CreateConstraint(exists.clone())
    );
    assert_eq!(
        create("DROP CONSTRAINT ON (n:L) ASSERT exists(n.p)"),
        Statement::DropConstraint(exists)
    );
    assert_eq!(
        create("DROP CONSTRAINT ON (n:L) ASSERT n.p IS UNIQUE"),
        Statement::DropConstraint(unique(&["p"]))
    );
}

#[test]
fn explain_and_profile_wrap_statements() {
    let Statement::Explain(inner) = parse("EXPLAIN MATCH (n) RETURN n").unwrap() else {
        panic!()
    };
    assert!(matches!(*inner, Statement::Query(_)));
    let Statement::Profile(inner) = parse("PROFILE SHOW INDEX INFO").unwrap() else {
        panic!()
    };
    assert_eq!(*inner, Statement::ShowIndexInfo);
}

#[test]
fn errors_name_the_found_and_expected_tokens_and_where() {
    // Act
    let e = error("MATCH (n\nRETURN n");

    // Check
    assert_eq!((e.kind, e.detail), (ErrorKind::SyntaxError, "UnexpectedSyntax"));
    assert_eq!(
        e.message,
        "Invalid input 'RETURN': expected ':', '{', a parameter or ')' (line 2, column 1)"
    );
    let p = e.position.unwrap();
    assert_eq!((p.offset, p.line, p.column), (9, 2, 1));
    assert!(error("RETURN [1, 2")
        .message
        .starts_with("Unexpected end of input: expected ',' or ']'"));
    assert!(error("MATCH (n) RETURN n ORDER n").message.contains("expected 'BY'"));
    assert!(error("MATCH (a)-[r:]->(b) RETURN a")
        .message
        .contains("expected a relationship type name"));
    assert!(error("RETURN 1 #").message.contains("Invalid input '#'"));
    assert!(error("RETURN `open").message.contains("Unterminated quoted name"));
    assert!(error("RETURN 1 /* open").message.contains("Unterminated comment"));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    // Set up: nesting far beyond the limit, parsed on a thread with a small stack.
    let depth = 10_000;
    let inputs = [
        format!("RETURN {}1{}", "(".repeat(depth), ")".repeat(depth)),
        format!("RETURN {}1{}", "[".repeat(depth), "]".repeat(depth)),
        format!("RETURN {}", "{a: ".repeat(depth)),
        format!("RETURN {}1", "-".repeat(depth)),
        format!("RETURN {}true", "NOT ".repeat(depth)),
        format!("FOREACH (x IN l | {}", "FOREACH (x IN l | ".repeat(depth)),
        format!("{}RETURN 1", "EXPLAIN ".repeat(depth)),
        format!("MATCH {}(a){} RETURN 1", "(".repeat(depth), ")".repeat(depth)),
    ];

    // Act + check: each fails or succeeds without overflowing a 2 MiB stack, even unoptimised.
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || inputs.iter().map(|text| parse(text).is_ok()).collect::<Vec<_>>())
        .unwrap();
    let results = handle.join().expect("no stack overflow");
    assert_eq!(results, [false, false, false, true, false, false, false, false]);
    assert!(parse(&format!("RETURN {}1{}", "(".repeat(60), ")".repeat(60))).is_ok());
}

/// Tokens that make up random statements.
const SOUP: &[&str] = &[
    "MATCH",
    "RETURN",
    "WITH",
    "WHERE",
    "CREATE",
    "MERGE",
    "ON",
    "SET",
    "DELETE",
    "UNWIND",
    "AS",
    "CALL",
    "YIELD",
    "FOREACH",
    "UNION",
    "ALL",
    "EXISTS",
    "CASE",
    "WHEN",
    "THEN",
    "END",
    "NOT",
    "AND",
    "IN",
    "IS",
    "NULL",
    "count",
    "reduce",
    "shortestPath",
    "INDEX",
    "CONSTRAINT",
    "ASSERT",
    "DROP",
    "SHOW",
    "n",
    "x",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "-",
    "->",
    "<-",
    "--",
    ":",
    ",",
    ".",
    "..",
    "*",
    "|",
    "=",
    "+=",
    "<",
    ">",
    "$p",
    "1",
    "0x",
    "9223372036854775808",
    "'s'",
    "\"",
    "`q`",
    ";",
    "/*",
    "//",
    "\\",
    "é",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn random_text_never_panics(text in "\\PC{0,80}") {
        let _ = parse(&text);
    }

    #[test]
    fn random_token_soup_never_panics(picks in prop::collection::vec(0..SOUP.len(), 0..40)) {
        let text: Vec<&str> = picks.iter().map(|&i| SOUP[i]).collect();
        let _ = parse(&text.join(" "));
    }

    #[test]
    fn truncated_valid_queries_never_panic(cut in 0usize..200) {
        let text = "MATCH p = (a:A {k: [1, 2.5, 'x']})-[r:T*1..2]->(b) WHERE a.x =~ 'y' AND (a)-->(b) \
                    WITH a, [x IN r | x.w] AS ws ORDER BY a.k DESC RETURN CASE WHEN a:A THEN 1 END, ws[0..1]";
        let end = text.char_indices().map(|(i, _)| i).nth(cut).unwrap_or(text.len());
        let _ = parse(&text[..end]);
    }
}
