//! One test per rule of the pass: a query it must refuse (kind and detail) and a close
//! one it must let through.

use super::analyze;
use crate::ast::Statement;
use crate::error::{ErrorKind, Phase};
use std::collections::HashSet;

fn check(query: &str, params: &[&str]) -> crate::error::Result<()> {
    let Statement::Query(q) = crate::parser::parse(query).expect("parses") else {
        panic!("not a query: {query}")
    };
    let supplied: HashSet<String> = params.iter().map(|p| p.to_string()).collect();
    analyze(&q, &supplied)
}

/// `query` fails at compile time with `kind` and `detail`.
fn refused(query: &str, kind: ErrorKind, detail: &str) {
    let err = check(query, &[]).expect_err(query);
    assert_eq!(
        (err.kind, err.detail, err.phase),
        (kind, detail, Phase::CompileTime),
        "{query}: {err}"
    );
}

fn syntax(query: &str, detail: &str) {
    refused(query, ErrorKind::SyntaxError, detail);
}

fn accepted(query: &str) {
    if let Err(e) = check(query, &[]) {
        panic!("{query}: {e}");
    }
}

#[test]
fn pattern_variable_bound_to_a_value() {
    syntax("WITH {x: 1} AS n MATCH (n) RETURN n", "VariableTypeConflict");
    syntax("WITH {x: []} AS r MATCH ()-[r]-() RETURN r", "VariableTypeConflict");
    syntax("WITH [1] AS r MATCH ()-[r]-() RETURN r", "VariableTypeConflict");
    accepted("MATCH (n) WITH n AS m MATCH (m)-[r]-() RETURN r");
    accepted("WITH null AS n MATCH (n) RETURN n");
}

#[test]
fn path_variable_reused() {
    syntax("MATCH (p)-->() MATCH p = ()-->() RETURN p", "VariableAlreadyBound");
    accepted("MATCH (a)-->() MATCH p = (a)-->() RETURN p");
}

#[test]
fn relationship_twice_in_one_match() {
    syntax("MATCH (a)-[r]->()-[r]->(a) RETURN r", "RelationshipUniquenessViolation");
    accepted("MATCH (a)-[r]->() MATCH (a)-[r]->() RETURN r");
}

#[test]
fn parameter_as_property_map() {
    syntax("MATCH (n $param) RETURN n", "InvalidParameterUse");
    syntax("MATCH ()-[r $param]->() RETURN r", "InvalidParameterUse");
    syntax("MERGE (n $param) RETURN n", "InvalidParameterUse");
    syntax("MERGE (a) MERGE (b) MERGE (a)-[r:T $param]->(b)", "InvalidParameterUse");
    assert!(check("CREATE (n $param)", &["param"]).is_ok());
    assert!(check("MATCH (n {x: $param}) RETURN n", &["param"]).is_ok());
}

#[test]
fn bound_node_created_or_merged_alone() {
    syntax("MATCH (a) CREATE (a)", "VariableAlreadyBound");
    syntax("MATCH (a) MERGE (a)", "VariableAlreadyBound");
    syntax("MATCH (a) CREATE (a:L)-[:T]->()", "VariableAlreadyBound");
    syntax("WITH 1 AS a CREATE (a)-[:T]->()", "VariableTypeConflict");
    accepted("MATCH (a) CREATE (a)-[:T]->()");
    accepted("MATCH (a) MERGE (a)-[:T]->(b)");
    accepted("MERGE (a)-[:T]->(a)");
    syntax("MATCH ()-[r]->() CREATE ()-[r]->()", "VariableAlreadyBound");
    syntax("MATCH ()-[r]->() MERGE ()-[r:T]->()", "VariableAlreadyBound");
    syntax("MATCH p = () CREATE p = ()-[:T]->()", "VariableAlreadyBound");
    accepted("MATCH ()-[r]->() CREATE ()-[s:T]->()");
}

#[test]
fn delete_operands() {
    syntax("MATCH (n) DELETE n:Person", "InvalidDelete");
    syntax("MATCH ()-[r:T]-() DELETE r:T", "InvalidDelete");
    syntax("MATCH () DELETE 1 + 1", "InvalidArgumentType");
    accepted("MATCH p = ()-->() DELETE p");
    accepted("MATCH (n) WITH collect(n) AS ns DELETE ns[0]");
}

#[test]
fn quantifier_predicate_over_typed_list() {
    for q in ["none", "single", "any", "all"] {
        syntax(
            &format!("RETURN {q}(x IN ['Clara'] WHERE x % 2 = 0) AS r"),
            "InvalidArgumentType",
        );
        syntax(
            &format!("RETURN {q}(x IN [false, true] WHERE x % 2 = 0) AS r"),
            "InvalidArgumentType",
        );
        accepted(&format!("RETURN {q}(x IN [1, 2] WHERE x % 2 = 0) AS r"));
        accepted(&format!("RETURN {q}(x IN [1, 'a'] WHERE x % 2 = 0) AS r"));
    }
}

#[test]
fn graph_function_arguments() {
    syntax("MATCH p = (a) RETURN labels(p) AS l", "InvalidArgumentType");
    syntax("MATCH (r) RETURN type(r)", "InvalidArgumentType");
    syntax("MATCH (n) RETURN length(n)", "InvalidArgumentType");
    syntax("MATCH ()-[r]->() RETURN length(r)", "InvalidArgumentType");
    syntax("MATCH p = (a)-[*]->(b) RETURN size(p)", "InvalidArgumentType");
    accepted("MATCH p = (a)-[r]->(b) RETURN labels(a), type(r), length(p), size(nodes(p))");
    accepted("MATCH (a) WITH [a, 1] AS list RETURN labels(list[1]) AS l");
}

#[test]
fn in_needs_a_list() {
    syntax("RETURN 1 IN {x: []}", "InvalidArgumentType");
    syntax("RETURN 1 IN 'foo'", "InvalidArgumentType");
    accepted("RETURN 1 IN [1, 2]");
    accepted("WITH {x: [1]} AS m RETURN 1 IN m.x");
}

#[test]
fn boolean_contexts() {
    syntax("MATCH (n) WHERE (n) RETURN n", "InvalidArgumentType");
    syntax("RETURN NOT 1", "InvalidArgumentType");
    syntax("RETURN true AND [1]", "InvalidArgumentType");
    accepted("MATCH (n) WHERE (n)-->() RETURN n");
    accepted("MATCH (n) WHERE n.flag AND NOT n.other RETURN n");
}

#[test]
fn property_access_on_non_map() {
    syntax(
        "MATCH (n) MATCH r = (n)-[*]->() WHERE r.name = 'apa' RETURN r",
        "InvalidArgumentType",
    );
    refused("WITH 1 AS x RETURN x.num", ErrorKind::TypeError, "InvalidArgumentType");
    refused(
        "WITH [1] AS x RETURN x.num",
        ErrorKind::TypeError,
        "InvalidArgumentType",
    );
    accepted("WITH {num: 1} AS x RETURN x.num");
    accepted("WITH date() AS d RETURN d.year");
}

#[test]
fn random_inside_aggregate() {
    syntax("RETURN count(rand())", "NonConstantExpression");
    accepted("RETURN count(*) + rand()");
}

#[test]
fn exists_subquery_cannot_update() {
    syntax(
        "MATCH (n) WHERE EXISTS { MATCH (n)-->(m) CREATE (m)-[:T]->() RETURN m } RETURN n",
        "InvalidClauseComposition",
    );
    accepted("MATCH (n) WHERE EXISTS { MATCH (n)-->(m) WITH m, count(*) AS c RETURN c } RETURN n");
}

#[test]
fn missing_parameter() {
    refused("RETURN $x AS x", ErrorKind::SemanticError, "MissingParameter");
    refused("CREATE (n {v: $v})", ErrorKind::SemanticError, "MissingParameter");
    assert!(check("RETURN $x AS x", &["x"]).is_ok());
    assert!(check("UNWIND $list AS x RETURN x SKIP $s", &["list", "s"]).is_ok());
}
