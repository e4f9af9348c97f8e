//! Parser conformance against the openCypher TCK.
//!
//! Reads every `.feature` file, extracts each query (the doc string after `When executing
//! query:`, `When executing control query:` or `And having executed:`; Scenario Outlines
//! expanded once per Examples row) and checks the parser alone:
//! - expected `SyntaxError at compile time: X` with X a detail the parser owns → parsing
//!   fails with exactly X;
//! - expected another compile-time SyntaxError → either outcome is fine (semantic
//!   analysis may be the one to reject it);
//! - anything else (results, runtime errors, setup queries) → parsing succeeds, and when
//!   the expected result table has a header and the query ends in `RETURN` items, their
//!   aliases or source texts ([`ProjectionItem::text`]) are exactly the header's columns.
//!
//! Known gaps of the AST are listed in [`KNOWN_LIMITS`] with their reason.

use std::fs;
use std::path::{Path, PathBuf};

use weft_query::ast::{ClauseKind, ProjectionItem, Statement};
use weft_query::parser::parse;

/// Detail codes the parser itself is responsible for.
const PARSER_DETAILS: &[&str] = &[
    "UnexpectedSyntax",
    "InvalidNumberLiteral",
    "IntegerOverflow",
    "InvalidUnicodeLiteral",
    "InvalidRelationshipPattern",
];

/// Scenarios (`<file stem> [n]`) whose query the parser rejects on purpose, with why.
const KNOWN_LIMITS: &[(&str, &str)] = &[];

#[derive(Debug, Clone, PartialEq)]
enum Expect {
    Parses,
    Fails(String),
    Either,
}

#[derive(Debug)]
struct Case {
    id: String,
    query: String,
    expect: Expect,
    /// The header of the expected result table, if any.
    columns: Option<Vec<String>>,
}

/// A query step: the query, the `Then` line judging it and the result header under it.
struct Step {
    query: String,
    then: Option<String>,
    header: Option<Vec<String>>,
}

fn features_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tck/features")
}

fn feature_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .expect("read TCK dir")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            feature_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "feature") {
            out.push(path);
        }
    }
}

/// Splits a Gherkin table row into unescaped cells.
fn table_cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|');
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('|') => cell.push('|'),
                Some('\\') => cell.push('\\'),
                Some('n') => cell.push('\n'),
                Some(other) => {
                    cell.push('\\');
                    cell.push(other);
                }
                None => cell.push('\\'),
            },
            '|' => cells.push(std::mem::take(&mut cell).trim().to_string()),
            _ => cell.push(c),
        }
    }
    cells
}

/// One scenario's lines, split into (title, body lines).
fn scenarios(text: &str) -> Vec<(String, Vec<&str>)> {
    let mut out: Vec<(String, Vec<&str>)> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("Scenario:") || trimmed.starts_with("Scenario Outline:") {
            out.push((trimmed.to_string(), Vec::new()));
        } else if let Some((_, body)) = out.last_mut() {
            body.push(line);
        }
    }
    out
}

/// Rows of all Examples tables, each as (header, value) pairs.
fn examples(body: &[&str]) -> Vec<Vec<(String, String)>> {
    let mut rows = Vec::new();
    let mut header: Option<Vec<String>> = None;
    let mut in_examples = false;
    for line in body {
        let trimmed = line.trim();
        if trimmed.starts_with("Examples:") {
            in_examples = true;
            header = None;
        } else if in_examples && trimmed.starts_with('|') {
            let cells = table_cells(trimmed);
            match &header {
                None => header = Some(cells),
                Some(h) => rows.push(h.iter().cloned().zip(cells).collect()),
            }
        } else if in_examples && !trimmed.is_empty() && !trimmed.starts_with('#') {
            in_examples = false;
        }
    }
    rows
}

/// The query steps of one scenario body.
fn queries(body: &[&str]) -> Vec<Step> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < body.len() {
        let step = body[i].trim();
        let is_setup = step == "And having executed:";
        if !(is_setup || step == "When executing query:" || step == "When executing control query:") {
            i += 1;
            continue;
        }
        let Some(open) = body.get(i + 1).filter(|l| l.trim() == "\"\"\"") else {
            i += 1;
            continue;
        };
        let indent = open.len() - open.trim_start().len();
        let mut lines = Vec::new();
        i += 2;
        while i < body.len() && body[i].trim() != "\"\"\"" {
            let line = body[i];
            let cut = line.len() - line.trim_start().len();
            lines.push(&line[cut.min(indent)..]);
            i += 1;
        }
        let (mut then, mut header) = (None, None);
        if !is_setup {
            let rest = body.get(i..).unwrap_or_default();
            if let Some(at) = rest.iter().position(|l| l.trim().starts_with("Then ")) {
                then = Some(rest[at].trim().to_string());
                header = rest
                    .get(at + 1)
                    .filter(|l| l.trim().starts_with('|'))
                    .map(|l| table_cells(l));
            }
        }
        out.push(Step {
            query: lines.join("\n"),
            then,
            header,
        });
    }
    out
}

fn expectation(then: Option<&str>) -> Expect {
    const PREFIX: &str = "Then a SyntaxError should be raised at compile time: ";
    match then.and_then(|t| t.strip_prefix(PREFIX)) {
        Some(detail) if PARSER_DETAILS.contains(&detail.trim()) => Expect::Fails(detail.trim().to_string()),
        Some(_) => Expect::Either,
        None => Expect::Parses,
    }
}

fn substitute(text: &str, row: &[(String, String)]) -> String {
    row.iter()
        .fold(text.to_string(), |acc, (k, v)| acc.replace(&format!("<{k}>"), v))
}

/// "Match4 [3]" from the file name and scenario title.
fn scenario_id(path: &Path, title: &str) -> String {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("?");
    let number = title
        .split_once('[')
        .and_then(|(_, rest)| rest.split_once(']'))
        .map_or("?", |(n, _)| n);
    format!("{stem} [{number}]")
}

fn all_cases() -> Vec<Case> {
    let mut files = Vec::new();
    feature_files(&features_dir(), &mut files);
    assert!(
        files.len() > 200,
        "TCK features not found under {}",
        features_dir().display()
    );
    let mut cases = Vec::new();
    for path in files {
        let text = fs::read_to_string(&path).expect("read feature");
        for (title, body) in scenarios(&text) {
            let id = scenario_id(&path, &title);
            let rows = if title.starts_with("Scenario Outline:") {
                examples(&body)
            } else {
                vec![Vec::new()]
            };
            for step in queries(&body) {
                for row in &rows {
                    let then = step.then.as_deref().map(|t| substitute(t, row));
                    let expect = expectation(then.as_deref());
                    let columns = step
                        .header
                        .as_ref()
                        .map(|h| h.iter().map(|c| substitute(c, row)).collect());
                    cases.push(Case {
                        id: id.clone(),
                        query: substitute(&step.query, row),
                        expect,
                        columns,
                    });
                }
            }
        }
    }
    cases
}

/// The column names of a query ending in `RETURN` without `*`.
fn return_columns(statement: &Statement) -> Option<Vec<String>> {
    let Statement::Query(query) = statement else {
        return None;
    };
    let ClauseKind::Return(projection) = &query.first.clauses.last()?.kind else {
        return None;
    };
    if projection.star {
        return None;
    }
    let name = |item: &ProjectionItem| item.alias.clone().unwrap_or_else(|| item.text.clone());
    Some(projection.items.iter().map(name).collect())
}

#[test]
fn tck_queries_parse_as_expected() {
    // Set up: every query of the TCK with what the parser should do with it.
    let cases = all_cases();

    // Act: parse each and sort the outcomes.
    let (mut parsed, mut rejected, mut either_ok, mut either_err, mut known) = (0, 0, 0, 0, 0);
    let mut headers = 0;
    let mut failures = Vec::new();
    for case in &cases {
        let result = parse(&case.query);
        match (&case.expect, &result) {
            (Expect::Parses, Ok(statement)) => match (return_columns(statement), &case.columns) {
                (Some(got), Some(want)) if got != *want => failures.push(format!(
                    "{} columns {got:?}, expected {want:?}\n{}",
                    case.id, case.query
                )),
                (Some(_), Some(_)) => {
                    headers += 1;
                    parsed += 1;
                }
                _ => parsed += 1,
            },
            (Expect::Fails(detail), Err(e)) if e.detail == detail => rejected += 1,
            (Expect::Either, Ok(_)) => either_ok += 1,
            (Expect::Either, Err(_)) => either_err += 1,
            _ if KNOWN_LIMITS.iter().any(|(id, _)| *id == case.id) => known += 1,
            (expect, result) => failures.push(format!("{} {expect:?}: {result:?}\n{}", case.id, case.query)),
        }
    }

    // Check: report the tally, then fail on any unexpected outcome.
    println!(
        "TCK parser: {} queries; {parsed} parse as expected ({headers} with their result \
         header checked), {rejected} rejected with the expected detail, \
         {either_ok}/{} semantic-error queries parse, {known} known limits, {} unexpected",
        cases.len(),
        either_ok + either_err,
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} unexpected outcomes:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
