//! Exact output of each layout and of single values.

use std::time::Duration;

use weft_bolt::structs::{TAG_DATE, TAG_NODE, TAG_PATH, TAG_RELATIONSHIP, TAG_UNBOUND_RELATIONSHIP};
use weft_bolt::{BoltValue, Dialect, Structure};

use super::{csv, json_lines, summary, table};
use weft_client::QueryResult;
use weft_server::value::{json, text};

const V5: Dialect = Dialect {
    element_ids: true,
    utc_datetime: true,
};

fn s(text: &str) -> BoltValue {
    BoltValue::String(text.into())
}

fn columns(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

fn structure(tag: u8, fields: Vec<BoltValue>) -> BoltValue {
    BoltValue::Structure(Structure { tag, fields })
}

/// A Bolt 5 node with id `id`, one label and the given properties.
fn node(id: i64, label: &str, properties: Vec<(String, BoltValue)>) -> BoltValue {
    let labels = BoltValue::List(vec![s(label)]);
    let fields = vec![
        BoltValue::Integer(id),
        labels,
        BoltValue::Dictionary(properties),
        s(&id.to_string()),
    ];
    structure(TAG_NODE, fields)
}

#[test]
fn table_aligns_columns_to_the_widest_cell() {
    // Set up: two columns, values of different widths.
    let rows = vec![
        vec![s("Ann"), BoltValue::Integer(7)],
        vec![s("Bartholomew"), BoltValue::Null],
    ];

    // Act
    let out = table(&columns(&["name", "n"]), &rows, V5);

    // Check: strings quoted, every line as wide as the rule.
    let expected = "\
+---------------+------+
| name          | n    |
+---------------+------+
| \"Ann\"         | 7    |
| \"Bartholomew\" | null |
+---------------+------+
";
    assert_eq!(out, expected);
}

#[test]
fn table_of_no_rows_is_the_header_and_of_no_columns_is_empty() {
    assert_eq!(table(&columns(&["x"]), &[], V5), "+---+\n| x |\n+---+\n");
    assert_eq!(table(&[], &[], V5), "");
}

#[test]
fn csv_quotes_only_where_needed() {
    // Set up: a comma, a quote, a line break, null and a float.
    let rows = vec![vec![
        s("a,b"),
        s("say \"hi\""),
        s("two\nlines"),
        BoltValue::Null,
        BoltValue::Float(1.0),
    ]];

    // Act
    let out = csv(&columns(&["a", "b", "c", "d", "e"]), &rows, V5);

    // Check
    assert_eq!(out, "a,b,c,d,e\n\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",,1.0\n");
}

#[test]
fn json_writes_one_object_per_row_in_column_order() {
    // Set up: a node, a list and a map.
    let n = node(1, "Person", vec![("name".into(), s("A"))]);
    let list = BoltValue::List(vec![BoltValue::Integer(1), BoltValue::Float(2.5)]);
    let map = BoltValue::Dictionary(vec![("k".into(), BoltValue::Boolean(true))]);

    // Act
    let out = json_lines(&columns(&["z", "n", "m"]), &[vec![list, n, map]], V5);

    // Check
    let expected =
        r#"{"z":[1,2.5],"n":{"elementId":"1","labels":["Person"],"properties":{"name":"A"}},"m":{"k":true}}"#;
    assert_eq!(out, format!("{expected}\n"));
}

#[test]
fn nodes_relationships_and_paths_read_like_cypher() {
    // Set up: a path (a)-[:KNOWS]->(b)<-[:LIKES]-(a), and a relationship on its own.
    let a = node(1, "Person", vec![("name".into(), s("A"))]);
    let b = node(2, "Odd Label", vec![]);
    let unbound = |id: i64, rel_type: &str| {
        let fields = vec![
            BoltValue::Integer(id),
            s(rel_type),
            BoltValue::Dictionary(vec![]),
            s(&id.to_string()),
        ];
        structure(TAG_UNBOUND_RELATIONSHIP, fields)
    };
    let indices = [1, 1, -2, 0].map(BoltValue::Integer).to_vec();
    let path = structure(
        TAG_PATH,
        vec![
            BoltValue::List(vec![a.clone(), b.clone()]),
            BoltValue::List(vec![unbound(10, "KNOWS"), unbound(11, "LIKES")]),
            BoltValue::List(indices),
        ],
    );
    let since = vec![("since".into(), BoltValue::Integer(2020))];
    let rel = structure(
        TAG_RELATIONSHIP,
        [10, 1, 2]
            .map(BoltValue::Integer)
            .into_iter()
            .chain([s("KNOWS"), BoltValue::Dictionary(since)])
            .chain(["10", "1", "2"].map(s))
            .collect(),
    );

    // Act and check
    assert_eq!(text(&a, V5), "(:Person {name: \"A\"})");
    assert_eq!(text(&b, V5), "(:`Odd Label`)");
    assert_eq!(text(&rel, V5), "[:KNOWS {since: 2020}]");
    assert_eq!(
        text(&path, V5),
        "(:Person {name: \"A\"})-[:KNOWS]->(:`Odd Label`)<-[:LIKES]-(:Person {name: \"A\"})"
    );
}

#[test]
fn scalars_and_temporals_have_readable_text() {
    assert_eq!(text(&BoltValue::Float(3.0), V5), "3.0");
    assert_eq!(text(&BoltValue::Float(f64::NAN), V5), "NaN");
    assert_eq!(text(&s("tab\there"), V5), "\"tab\\there\"");
    assert_eq!(text(&BoltValue::Bytes(vec![0x0a, 0xff]), V5), "0x0aff");
    let map = BoltValue::Dictionary(vec![("a b".into(), BoltValue::List(vec![BoltValue::Null]))]);
    assert_eq!(text(&map, V5), "{`a b`: [null]}");
    let date = structure(TAG_DATE, vec![BoltValue::Integer(19_723)]);
    assert_eq!(text(&date, V5), "2024-01-01");
    assert_eq!(json(&date, V5), serde_json::json!("2024-01-01"));
    assert_eq!(
        json(&BoltValue::Float(f64::INFINITY), V5),
        serde_json::json!("Infinity")
    );
}

#[test]
fn points_show_their_srid_and_coordinates() {
    let float = BoltValue::Float;
    let flat = structure(0x58, vec![BoltValue::Integer(7203), float(1.5), float(2.5)]);
    assert_eq!(text(&flat, V5), "point({srid: 7203, x: 1.5, y: 2.5})");
    assert_eq!(json(&flat, V5), serde_json::json!({"srid": 7203, "x": 1.5, "y": 2.5}));
    let high = structure(0x59, vec![BoltValue::Integer(4979), float(1.0), float(2.0), float(3.0)]);
    assert_eq!(text(&high, V5), "point({srid: 4979, x: 1.0, y: 2.0, z: 3.0})");
    // An SRID Weft does not know is still shown, as a raw structure.
    let odd = structure(0x58, vec![BoltValue::Integer(1), float(0.0), float(0.0)]);
    assert_eq!(text(&odd, V5), "Structure<0x58>[1, 0.0, 0.0]");
}

#[test]
fn an_unreadable_structure_is_still_shown() {
    let odd = structure(0x01, vec![BoltValue::Integer(1)]);
    assert_eq!(text(&odd, V5), "Structure<0x01>[1]");
}

#[test]
fn summary_counts_rows_and_nonzero_counters() {
    // Set up: one row and write counters, one of them zero.
    let stats = vec![
        ("nodes-created".into(), BoltValue::Integer(2)),
        ("properties-set".into(), BoltValue::Integer(0)),
    ];
    let result = QueryResult {
        columns: columns(&["x"]),
        rows: vec![vec![BoltValue::Integer(1)]],
        summary: vec![("stats".into(), BoltValue::Dictionary(stats))],
    };

    // Act and check
    assert_eq!(
        summary(&result, Duration::from_millis(12)),
        "1 row, 12 ms; nodes-created: 2"
    );
    let empty = QueryResult::default();
    assert_eq!(summary(&empty, Duration::from_millis(1500)), "0 rows, 1.50 s");
}
