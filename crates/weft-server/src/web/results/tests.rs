use super::{statement_result, Contents};
use serde_json::json;
use weft_bolt::{BoltValue, Dialect, Node, Path, Relationship, UnboundRelationship, Version};

fn dialect() -> Dialect {
    Dialect::for_version(Version::V5_8)
}

fn node(id: i64, label: &str, name: &str) -> Node {
    Node {
        id,
        labels: vec![label.into()],
        properties: vec![("name".into(), BoltValue::String(name.into()))],
        element_id: id.to_string(),
    }
}

#[test]
fn a_node_and_relationship_read_as_properties_with_meta_and_graph() {
    let (a, b) = (node(1, "Person", "Ada"), node(2, "Person", "Grace"));
    let r = Relationship {
        id: 7,
        start_node_id: 1,
        end_node_id: 2,
        rel_type: "KNOWS".into(),
        properties: vec![("since".into(), BoltValue::Integer(1843))],
        element_id: "7".into(),
        start_node_element_id: "1".into(),
        end_node_element_id: "2".into(),
    };
    let record = vec![a.to_value(dialect()), r.to_value(dialect()), a.to_value(dialect())];
    let columns = ["a".to_string(), "r".to_string(), "again".to_string()];
    let both = Contents { row: true, graph: true };
    let result = statement_result(&columns, &[record], &[], both, false, dialect());
    let data = &result["data"][0];
    assert_eq!(data["row"], json!([{"name": "Ada"}, {"since": 1843}, {"name": "Ada"}]));
    assert_eq!(
        data["meta"][0],
        json!({"id": 1, "elementId": "1", "type": "node", "deleted": false})
    );
    assert_eq!(data["meta"][1]["type"], "relationship");
    // Each entity once in the graph, ids as strings.
    assert_eq!(data["graph"]["nodes"].as_array().unwrap().len(), 1);
    assert_eq!(data["graph"]["nodes"][0]["labels"], json!(["Person"]));
    let rel = &data["graph"]["relationships"][0];
    assert_eq!(
        (rel["startNode"].as_str(), rel["endNode"].as_str()),
        (Some("1"), Some("2"))
    );
    assert!(result.get("stats").is_none(), "stats only when asked");
    let _ = b;
}

#[test]
fn a_path_walked_backwards_keeps_each_relationship_s_direction() {
    // (b)<-[:KNOWS]-(a): the path starts at b and crosses the relationship backwards.
    let (a, b) = (node(1, "Person", "Ada"), node(2, "Person", "Grace"));
    let path = Path {
        nodes: vec![b.clone(), a.clone()],
        rels: vec![UnboundRelationship {
            id: 7,
            rel_type: "KNOWS".into(),
            properties: vec![],
            element_id: "7".into(),
        }],
        indices: vec![-1, 1],
    };
    let record = vec![path.to_value(dialect())];
    let both = Contents { row: true, graph: true };
    let result = statement_result(&["p".into()], &[record], &[], both, false, dialect());
    let data = &result["data"][0];
    assert_eq!(data["row"][0], json!([{"name": "Grace"}, {}, {"name": "Ada"}]));
    let kinds: Vec<&str> = data["meta"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["node", "relationship", "node"]);
    let rel = &data["graph"]["relationships"][0];
    assert_eq!(
        (rel["startNode"].as_str(), rel["endNode"].as_str()),
        (Some("1"), Some("2"))
    );
}

#[test]
fn counters_take_neo4j_http_names_and_plans_their_arguments() {
    let stats = BoltValue::Dictionary(vec![("nodes-created".into(), BoltValue::Integer(2))]);
    let plan = BoltValue::Dictionary(vec![
        ("operatorType".into(), BoltValue::String("ProduceResults".into())),
        (
            "args".into(),
            BoltValue::Dictionary(vec![("EstimatedRows".into(), BoltValue::Float(3.0))]),
        ),
        ("children".into(), BoltValue::List(vec![])),
    ]);
    let summary = vec![("stats".to_string(), stats), ("plan".to_string(), plan)];
    let row = Contents {
        row: true,
        graph: false,
    };
    let result = statement_result(&[], &[], &summary, row, true, dialect());
    assert_eq!(result["stats"]["nodes_created"], 2);
    assert_eq!(result["stats"]["relationship_deleted"], 0);
    assert_eq!(result["stats"]["contains_updates"], true);
    assert_eq!(result["plan"]["root"]["operatorType"], "ProduceResults");
    assert_eq!(result["plan"]["root"]["arguments"]["EstimatedRows"], 3.0);
}

#[test]
fn result_contents_default_to_row_and_refuse_unknown_names() {
    assert_eq!(
        Contents::from_request(None),
        Ok(Contents {
            row: true,
            graph: false
        })
    );
    assert_eq!(
        Contents::from_request(Some(&json!(["GRAPH"]))),
        Ok(Contents {
            row: false,
            graph: true
        })
    );
    assert!(Contents::from_request(Some(&json!(["rest"]))).is_err());
}
