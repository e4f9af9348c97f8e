//! LOAD CSV and `CALL { }` subqueries through `Engine::execute`, on real files in a
//! temporary import directory: records as maps and lists, `linenumber()` and `file()`,
//! batches that commit on their own and a failing batch that leaves nothing behind,
//! the import directory's bounds, and the scoping rules of subqueries.

mod support;

use support::{fail, rows, run, text};

use std::collections::BTreeMap;
use weft_query::{AccessMode, Engine, ErrorKind, ResultValue};

fn count(engine: &Engine, query: &str) -> i64 {
    match &run(engine, query).rows[0][0] {
        ResultValue::Int(n) => *n,
        other => panic!("{query}: not a count: {other:?}"),
    }
}

/// An engine reading from a fresh import directory holding `files`.
fn importing(files: &[(&str, &str)]) -> (Engine, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    let engine = Engine::new();
    assert!(engine.set_import_dir(dir.path().to_path_buf()));
    (engine, dir)
}

const PEOPLE: &str = "id,name,age\n1,Ada,36\n2,\"Bob, Jr.\",\n3,\"Cy \"\"the\"\" third\",41\n";

#[test]
fn records_as_maps_with_line_and_file() {
    let (engine, dir) = importing(&[("people.csv", PEOPLE)]);
    let result = run(
        &engine,
        "LOAD CSV WITH HEADERS FROM 'file:///people.csv' AS row \
         RETURN row.id, row.name, row.age, linenumber(), file()",
    );
    let file = dir
        .path()
        .canonicalize()
        .unwrap()
        .join("people.csv")
        .display()
        .to_string();
    assert_eq!(
        rows(&result),
        vec![
            vec!["1", "Ada", "36", "2", &file],
            vec!["2", "Bob, Jr.", "null", "3", &file],
            vec!["3", "Cy \"the\" third", "41", "4", &file],
        ]
    );
    // Outside LOAD CSV the two functions are null.
    assert_eq!(
        rows(&run(&engine, "RETURN linenumber(), file()")),
        vec![vec!["null", "null"]]
    );
}

#[test]
fn records_as_lists_with_a_field_terminator() {
    let (engine, _dir) = importing(&[("semi.csv", "a;b\nc;\n"), ("tabs.tsv", "x\ty\n")]);
    let result = run(
        &engine,
        "LOAD CSV FROM 'semi.csv' AS r FIELDTERMINATOR ';' RETURN r[0], r[1], size(r)",
    );
    assert_eq!(rows(&result), vec![vec!["a", "b", "2"], vec!["c", "", "2"]]);
    let result = run(
        &engine,
        "LOAD CSV FROM 'file:///tabs.tsv' AS r FIELDTERMINATOR '\\t' RETURN r[1]",
    );
    assert_eq!(rows(&result), vec![vec!["y"]]);
    let e = fail(&engine, "LOAD CSV FROM 'semi.csv' AS r FIELDTERMINATOR ';;' RETURN r");
    assert!(e.message.contains("FIELDTERMINATOR"), "{}", e.message);
}

#[test]
fn a_graph_is_built_from_two_files() {
    let (engine, _dir) = importing(&[("people.csv", PEOPLE), ("knows.csv", "from,to\n1,2\n2,3\n1,3\n")]);
    run(&engine, "CREATE INDEX ON :Person(id)");
    run(
        &engine,
        "LOAD CSV WITH HEADERS FROM 'file:///people.csv' AS row \
         CREATE (:Person {id: toInteger(row.id), name: row.name, age: toInteger(row.age)})",
    );
    run(
        &engine,
        "LOAD CSV WITH HEADERS FROM 'file:///knows.csv' AS row \
         MATCH (a:Person {id: toInteger(row.from)}), (b:Person {id: toInteger(row.to)}) CREATE (a)-[:KNOWS]->(b)",
    );
    assert_eq!(
        count(&engine, "MATCH (:Person)-[k:KNOWS]->(:Person) RETURN count(k)"),
        3
    );
    assert_eq!(
        count(&engine, "MATCH (p:Person) WHERE p.age IS NULL RETURN count(p)"),
        1
    );
}

#[test]
fn batches_commit_on_their_own_and_a_failing_batch_leaves_nothing() {
    let body: String = std::iter::once("id\n".to_string())
        .chain([1, 2, 3, 4, 4, 6].iter().map(|i| format!("{i}\n")))
        .collect();
    let (engine, _dir) = importing(&[("ids.csv", &body), ("ok.csv", "id\n10\n11\n12\n13\n14\n")]);
    run(&engine, "CREATE CONSTRAINT ON (n:Item) ASSERT n.id IS UNIQUE");
    let import = |file: &str| {
        format!(
            "LOAD CSV WITH HEADERS FROM 'file:///{file}' AS row \
             CALL {{ WITH row CREATE (:Item {{id: toInteger(row.id)}}) }} IN TRANSACTIONS OF 2 ROWS"
        )
    };
    let result = run(&engine, &import("ok.csv"));
    assert_eq!(result.stats.nodes_created, 5);
    assert_eq!(count(&engine, "MATCH (n:Item) RETURN count(n)"), 5);
    // Lines 2-3 and 4-5 commit; the batch of lines 6-7 holds a duplicate id, which its
    // commit refuses, and leaves none of its rows.
    let e = fail(&engine, &import("ids.csv"));
    assert_eq!(e.kind, ErrorKind::ConstraintVerificationFailed, "{e}");
    assert!(e.message.contains("ids.csv, lines 6-7"), "{}", e.message);
    let ids = run(&engine, "MATCH (n:Item) WHERE n.id < 10 RETURN n.id ORDER BY n.id");
    assert_eq!(rows(&ids), vec![vec!["1"], vec!["2"], vec!["3"], vec!["4"]]);
}

#[test]
fn batches_are_refused_inside_an_explicit_transaction() {
    let (engine, _dir) = importing(&[("ok.csv", "id\n1\n")]);
    let mut txn = engine.begin(AccessMode::ReadWrite);
    let e = engine
        .execute_in(
            &mut txn,
            "LOAD CSV WITH HEADERS FROM 'ok.csv' AS row CALL { WITH row CREATE (:X) } IN TRANSACTIONS",
            &BTreeMap::new(),
        )
        .unwrap_err();
    assert_eq!(e.detail, "ForbiddenDueToTransactionType");
    assert_eq!(e.status(), "Neo.ClientError.Transaction.ForbiddenDueToTransactionType");
    txn.abort();
    let e = fail(
        &engine,
        "UNWIND [1] AS x CALL { WITH x CALL { WITH x CREATE (:X) } IN TRANSACTIONS } RETURN x",
    );
    assert!(e.message.contains("nested"), "{}", e.message);
}

#[test]
fn files_come_only_from_inside_the_import_directory() {
    let outer = tempfile::tempdir().unwrap();
    let import = outer.path().join("import");
    std::fs::create_dir(&import).unwrap();
    std::fs::write(outer.path().join("secret.csv"), "x\n").unwrap();
    std::os::unix::fs::symlink(outer.path().join("secret.csv"), import.join("link.csv")).unwrap();
    let engine = Engine::new();
    let refused = |engine: &Engine, url: &str| fail(engine, &format!("LOAD CSV FROM '{url}' AS r RETURN r"));
    let e = refused(&engine, "file:///a.csv");
    assert!(e.message.contains("--import-dir"), "{}", e.message);
    engine.set_import_dir(import.clone());
    for url in ["file:///../secret.csv", "file:///link.csv", "../secret.csv"] {
        let e = refused(&engine, url);
        assert_eq!(e.status(), "Neo.ClientError.Statement.ExternalResourceFailed");
        assert!(e.message.contains("outside"), "{url}: {}", e.message);
    }
    let e = refused(&engine, "https://example.com/x.csv");
    assert!(e.message.contains("refused"), "{}", e.message);
    let e = refused(&engine, "file:///nothing-here.csv");
    assert!(e.message.contains("nothing-here.csv"), "{}", e.message);
    let e = fail(&engine, "LOAD CSV FROM 42 AS r RETURN r");
    assert_eq!(e.kind, ErrorKind::TypeError);
}

#[test]
fn a_malformed_record_is_named_by_file_line_and_column() {
    let (engine, _dir) = importing(&[("wide.csv", "a,b\n1,2\n3,4,5\n")]);
    let e = fail(
        &engine,
        "LOAD CSV WITH HEADERS FROM 'wide.csv' AS r CREATE (:W {a: r.a})",
    );
    assert!(e.message.contains("wide.csv, line 3, column 3"), "{}", e.message);
    assert_eq!(count(&engine, "MATCH (w:W) RETURN count(w)"), 0);
}

#[test]
fn returning_subqueries_extend_each_row() {
    let engine = Engine::new();
    run(&engine, "CREATE (:P {n: 1}), (:P {n: 2}), (:P {n: 3})");
    let result = run(
        &engine,
        "UNWIND [1, 2] AS x CALL { WITH x MATCH (p:P) WHERE p.n >= x RETURN count(p) AS c } RETURN x, c ORDER BY x",
    );
    assert_eq!(rows(&result), vec![vec!["1", "3"], vec!["2", "2"]]);
    // UNION inside; each part imports on its own.
    let result = run(
        &engine,
        "UNWIND [1] AS x CALL { WITH x RETURN x AS y UNION WITH x RETURN x + 1 AS y } RETURN y ORDER BY y",
    );
    assert_eq!(rows(&result), vec![vec!["1"], vec!["2"]]);
    // Without an importing WITH the outer variable is not visible inside.
    let e = fail(&engine, "WITH 1 AS x CALL { RETURN x AS y } RETURN y");
    assert!(e.message.contains("`x` not defined"), "{}", e.message);
    // A returned name may not shadow an outer one.
    let e = fail(&engine, "WITH 1 AS x CALL { RETURN 2 AS x } RETURN x");
    assert_eq!(e.detail, "VariableAlreadyBound");
    let e = fail(&engine, "CALL { RETURN 1 + 1 } RETURN 1");
    assert_eq!(e.detail, "NoExpressionAlias");
    // A subquery without RETURN may end the query; it runs once per row.
    let result = run(&engine, "UNWIND range(1, 4) AS i CALL { WITH i CREATE (:Q {i: i}) }");
    assert_eq!(result.stats.nodes_created, 4);
    let result = run(
        &engine,
        "UNWIND range(1, 3) AS i CALL { WITH i CREATE (:R) } RETURN count(*) AS rows",
    );
    assert_eq!(rows(&result), vec![vec!["3"]]);
    // Each row sees the writes of the rows before it.
    let result = run(
        &engine,
        "UNWIND [1, 1, 2] AS k CALL { WITH k MERGE (m:M {k: k}) ON CREATE SET m.new = true RETURN m.new AS new } \
         RETURN k, new",
    );
    assert_eq!(rows(&result).len(), 3);
    assert_eq!(count(&engine, "MATCH (m:M) RETURN count(m)"), 2);
}

#[test]
fn plans_show_the_new_operators() {
    let (engine, _dir) = importing(&[("ok.csv", "id\n1\n")]);
    let plan = run(
        &engine,
        "EXPLAIN LOAD CSV WITH HEADERS FROM 'ok.csv' AS row CALL { WITH row CREATE (:X) } IN TRANSACTIONS OF 10 ROWS",
    );
    let text: Vec<String> = plan.rows.iter().map(|r| text(&r[0])).collect();
    assert!(text.iter().any(|l| l.contains("TransactionApply")), "{text:?}");
    assert!(text.iter().any(|l| l.contains("LoadCSV")), "{text:?}");
}

#[test]
fn memgraphs_load_csv_syntax() {
    let (engine, dir) = importing(&[("m.csv", "id|name\n1|'a|b'\n2|NA\n3\n4|x|y\n5|e\n")]);
    // WITH HEADER, IGNORE BAD (the record with three fields), DELIMITER, QUOTE, NULLIF,
    // and a path on the server inside the import directory.
    let path = dir.path().join("m.csv");
    let result = run(
        &engine,
        &format!(
            "LOAD CSV FROM '{}' WITH HEADER IGNORE BAD DELIMITER '|' QUOTE \"'\" NULLIF 'NA' AS row \
             RETURN row.id, row.name",
            path.display()
        ),
    );
    assert_eq!(
        rows(&result),
        vec![vec!["1", "a|b"], vec!["2", "null"], vec!["3", "null"], vec!["5", "e"]]
    );
    let lists = run(
        &engine,
        "LOAD CSV FROM 'm.csv' NO HEADER DELIMITER '|' AS row RETURN row LIMIT 1",
    );
    assert_eq!(rows(&lists), vec![vec!["[id,name]"]]);
    // Without IGNORE BAD the malformed record fails the statement.
    let e = fail(
        &engine,
        "LOAD CSV FROM 'm.csv' WITH HEADER DELIMITER '|' QUOTE \"'\" AS row RETURN row",
    );
    assert!(e.message.contains("line 5"), "{}", e.message);
}
