//! Tests for the TCK value notation: each syntax form, printing, and every cell of the vendored TCK.

use super::*;
use crate::gherkin::read_features;
use crate::steps::{classify, Action};

fn map(entries: &[(&str, TckValue)]) -> BTreeMap<String, TckValue> {
    entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn node(labels: &[&str], properties: &[(&str, TckValue)]) -> TckNode {
    TckNode {
        labels: labels.iter().map(|l| l.to_string()).collect(),
        properties: map(properties),
    }
}

fn rel(rel_type: &str, properties: &[(&str, TckValue)]) -> TckRelationship {
    TckRelationship {
        rel_type: rel_type.to_string(),
        properties: map(properties),
    }
}

#[test]
fn scalars() {
    // Check
    assert_eq!(parse_value("null"), Ok(TckValue::Null));
    assert_eq!(parse_value(" true "), Ok(TckValue::Bool(true)));
    assert_eq!(parse_value("false"), Ok(TckValue::Bool(false)));
    assert_eq!(parse_value("42"), Ok(TckValue::Int(42)));
    assert_eq!(parse_value("-9223372036854775808"), Ok(TckValue::Int(i64::MIN)));
}

#[test]
fn floats() {
    // Check
    assert_eq!(parse_value("1.0"), Ok(TckValue::Float(1.0)));
    assert_eq!(parse_value("0.5"), Ok(TckValue::Float(0.5)));
    assert_eq!(parse_value("-0.000001"), Ok(TckValue::Float(-0.000001)));
    assert_eq!(
        parse_value("1.2635418652381264e305"),
        Ok(TckValue::Float(1.2635418652381264e305))
    );
    assert_eq!(parse_value("1e-3"), Ok(TckValue::Float(0.001)));
    assert_eq!(parse_value("2.5E+2"), Ok(TckValue::Float(250.0)));
    assert_eq!(parse_value("Inf"), Ok(TckValue::Float(f64::INFINITY)));
    assert_eq!(parse_value("-Inf"), Ok(TckValue::Float(f64::NEG_INFINITY)));
    let Ok(TckValue::Float(negative_zero)) = parse_value("-0.0") else {
        panic!("-0.0 is a float")
    };
    assert!(negative_zero == 0.0 && negative_zero.is_sign_negative());
    let Ok(TckValue::Float(nan)) = parse_value("NaN") else {
        panic!("NaN is a float")
    };
    assert!(nan.is_nan());
}

#[test]
fn strings_with_escapes() {
    // Check: only \' and \\ are escapes
    assert_eq!(parse_value("''"), Ok(TckValue::String(String::new())));
    assert_eq!(parse_value(r"'it\'s'"), Ok(TckValue::String("it's".into())));
    assert_eq!(parse_value(r"'a\\b'"), Ok(TckValue::String(r"a\b".into())));
    assert_eq!(parse_value(r"'a\nb'"), Ok(TckValue::String(r"a\nb".into())));
    assert_eq!(parse_value("'🧐 , ] }'"), Ok(TckValue::String("🧐 , ] }".into())));
    assert!(parse_value("'open").is_err());
}

#[test]
fn lists_and_maps() {
    // Check
    let list = TckValue::List(vec![TckValue::Int(1), TckValue::String("a".into()), TckValue::Null]);
    assert_eq!(parse_value("[1, 'a', null]"), Ok(list));
    assert_eq!(parse_value("[]"), Ok(TckValue::List(vec![])));
    assert_eq!(parse_value("[[]]"), Ok(TckValue::List(vec![TckValue::List(vec![])])));
    assert_eq!(parse_value("{}"), Ok(TckValue::Map(BTreeMap::new())));
    let expected = map(&[("name", TckValue::String("a".into())), ("age", TckValue::Int(3))]);
    assert_eq!(parse_value("{name: 'a', age: 3}"), Ok(TckValue::Map(expected)));
    assert_eq!(
        parse_value("{``: 1}"),
        Ok(TckValue::Map(map(&[("", TckValue::Int(1))])))
    );
    assert_eq!(
        parse_value("{`a b`: -1}"),
        Ok(TckValue::Map(map(&[("a b", TckValue::Int(-1))])))
    );
}

#[test]
fn nodes_and_relationships() {
    // Check
    assert_eq!(parse_value("()"), Ok(TckValue::Node(node(&[], &[]))));
    assert_eq!(parse_value("(:B:A)"), Ok(TckValue::Node(node(&["A", "B"], &[]))));
    let with_props = node(&["A"], &[("name", TckValue::String("x".into()))]);
    assert_eq!(parse_value("(:A {name: 'x'})"), Ok(TckValue::Node(with_props)));
    assert_eq!(
        parse_value("({k: 1})"),
        Ok(TckValue::Node(node(&[], &[("k", TckValue::Int(1))])))
    );
    assert_eq!(parse_value("[:T]"), Ok(TckValue::Relationship(rel("T", &[]))));
    assert_eq!(
        parse_value("[:T {w: 1}]"),
        Ok(TckValue::Relationship(rel("T", &[("w", TckValue::Int(1))])))
    );
}

#[test]
fn paths() {
    // Check
    assert_eq!(
        parse_value("<()>"),
        Ok(TckValue::Path {
            start: node(&[], &[]),
            hops: vec![]
        })
    );
    let value = parse_value("<(:A)-[:T]->(:B)<-[:U {k: 1}]-()>").unwrap();
    let hops = vec![
        Hop {
            relationship: rel("T", &[]),
            forward: true,
            node: node(&["B"], &[]),
        },
        Hop {
            relationship: rel("U", &[("k", TckValue::Int(1))]),
            forward: false,
            node: node(&[], &[]),
        },
    ];
    assert_eq!(
        value,
        TckValue::Path {
            start: node(&["A"], &[]),
            hops
        }
    );
}

#[test]
fn display_round_trips() {
    // Set up
    let texts = [
        "null",
        "[1, -2.5, 'it\\'s', NaN, -Inf]",
        "{a: [], b: {c: true}}",
        "(:A:B {name: 'x'})",
        "({k: 1})",
        "<(:A)-[:T]->(:B)<-[:U {k: 1}]-()>",
        "-0.0",
    ];

    // Check: printing and re-reading gives the same text
    for text in texts {
        let printed = parse_value(text).unwrap().to_string();
        assert_eq!(printed, text);
    }
}

#[test]
fn garbage_is_rejected() {
    // Check
    assert!(parse_value("").is_err());
    assert!(parse_value("nul").is_err());
    assert!(parse_value("[1, 2").is_err());
    assert!(parse_value("1 2").is_err());
    assert!(parse_value("(:A").is_err());
    assert!(parse_value("<(:A)-[:T]-(:B)>").is_err(), "a hop needs a direction");
}

/// Every cell of every expected-result and parameter table in the TCK parses.
#[test]
fn every_tck_table_cell_parses() {
    // Set up
    let features = read_features(&crate::default_tck_dir().join("features")).unwrap();

    // Act
    let mut cells = 0;
    let mut failures = Vec::new();
    for scenario in features.iter().flat_map(|f| &f.scenarios) {
        for step in &scenario.steps {
            let values: Vec<String> = match classify(step) {
                Ok(Action::ExpectRows { table, .. }) => table.into_iter().skip(1).flatten().collect(),
                Ok(Action::Parameters(table)) => table.into_iter().filter_map(|row| row.get(1).cloned()).collect(),
                _ => continue,
            };
            for value in values {
                cells += 1;
                if let Err(e) = parse_value(&value) {
                    failures.push(format!("{} line {}: {e}", scenario.name, step.line));
                }
            }
        }
    }

    // Check
    println!("{cells} cells parsed");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(cells > 5000, "only {cells} cells seen");
}
