//! The conformance suite of the graph access traits: what every implementation of
//! [`GraphRead`] + [`GraphWrite`] must do, as the executor relies on it. Each check is
//! generic over the implementation and gets a fresh, empty graph in a read-write
//! transaction from the caller's factory; [`run_suite`] runs them all. The local graph
//! runs it below; a replicated or sharded one adds its own `#[test]` calling `run_suite`.

use crate::error::ErrorKind;
use crate::graph::{Direction, GraphWrite, Value};

/// Runs every check, each on a new graph from `fresh`.
pub(crate) fn run_suite<G: GraphWrite>(fresh: impl Fn() -> G) {
    a_new_node_reads_back_its_labels_and_properties(&mut fresh());
    label_changes_report_whether_they_changed_anything(&mut fresh());
    setting_null_removes_a_property_and_returns_the_old_value(&mut fresh());
    edges_are_seen_from_both_ends_and_filtered_by_type(&mut fresh());
    a_connected_node_is_deleted_only_with_detach(&mut fresh());
    a_deleted_relationship_is_gone(&mut fresh());
    scans_find_nodes_by_label_and_unknown_names_match_nothing(&mut fresh());
    batch_calls_agree_with_single_calls(&mut fresh());
}

fn a_new_node_reads_back_its_labels_and_properties<G: GraphWrite>(g: &mut G) {
    // Set up
    let (person, name) = (g.label("Person"), g.property("name"));
    let n = g.create_vertex().expect("create");

    // Act
    g.add_label(n, person).expect("label");
    g.set_vertex_property(n, name, Value::String("Ada".into()))
        .expect("set");

    // Check: by id and by name, one property and all of them.
    assert!(g.vertex_exists(n));
    assert_eq!(g.vertex_labels(n).expect("labels"), vec![person]);
    assert!(g.vertex_has_labels(n, &[person]));
    assert_eq!(g.find_label("Person"), Some(person));
    assert_eq!(g.label_name(person), "Person");
    assert_eq!(g.property_name(name), "name");
    assert_eq!(
        g.vertex_property(n, name).expect("get"),
        Some(Value::String("Ada".into()))
    );
    assert_eq!(
        g.vertex_properties(n).expect("all"),
        vec![(name, Value::String("Ada".into()))]
    );
}

fn label_changes_report_whether_they_changed_anything<G: GraphWrite>(g: &mut G) {
    let (a, b) = (g.label("A"), g.label("B"));
    let n = g.create_vertex().expect("create");
    assert!(g.add_label(n, a).expect("add"));
    assert!(!g.add_label(n, a).expect("add again"), "already there");
    assert!(!g.remove_label(n, b).expect("remove absent"), "was not there");
    assert!(g.remove_label(n, a).expect("remove"));
    assert!(!g.vertex_has_labels(n, &[a]));
    assert!(g.vertex_labels(n).expect("labels").is_empty());
}

fn setting_null_removes_a_property_and_returns_the_old_value<G: GraphWrite>(g: &mut G) {
    let key = g.property("k");
    let n = g.create_vertex().expect("create");
    assert_eq!(g.set_vertex_property(n, key, Value::Int(1)).expect("set"), None);
    assert_eq!(
        g.set_vertex_property(n, key, Value::Int(2)).expect("set"),
        Some(Value::Int(1))
    );
    assert_eq!(
        g.set_vertex_property(n, key, Value::Null).expect("unset"),
        Some(Value::Int(2))
    );
    assert_eq!(g.vertex_property(n, key).expect("get"), None);
}

fn edges_are_seen_from_both_ends_and_filtered_by_type<G: GraphWrite>(g: &mut G) {
    // Set up: a -KNOWS-> b, a -LIKES-> a (a self-loop), with a property on the first.
    let (knows, likes, since) = (g.edge_type("KNOWS"), g.edge_type("LIKES"), g.property("since"));
    let (a, b) = (g.create_vertex().expect("a"), g.create_vertex().expect("b"));
    let ab = g.create_edge(a, b, knows).expect("ab");
    let aa = g.create_edge(a, a, likes).expect("aa");
    g.set_edge_property(&ab, since, Value::Int(2020)).expect("set");

    // Check: each direction, the type filter, the self-loop on both sides.
    assert_eq!((ab.from, ab.to, ab.edge_type), (a, b, knows));
    let mut out = g.edges(a, Direction::Out, &[]).expect("out");
    out.sort();
    let mut expected = vec![ab, aa];
    expected.sort();
    assert_eq!(out, expected);
    assert_eq!(g.edges(a, Direction::Out, &[knows]).expect("out knows"), vec![ab]);
    assert_eq!(g.edges(b, Direction::In, &[]).expect("in"), vec![ab]);
    assert_eq!(g.edges(a, Direction::In, &[]).expect("in a"), vec![aa]);
    assert!(g.edges(b, Direction::Out, &[]).expect("none").is_empty());
    assert_eq!(g.edge_property(&ab, since).expect("get"), Some(Value::Int(2020)));
    assert_eq!(g.edge_properties(&aa).expect("none"), vec![]);
    assert_eq!(g.edge_type_name(knows), "KNOWS");
}

fn a_connected_node_is_deleted_only_with_detach<G: GraphWrite>(g: &mut G) {
    let t = g.edge_type("T");
    let (a, b) = (g.create_vertex().expect("a"), g.create_vertex().expect("b"));
    let e = g.create_edge(a, b, t).expect("e");

    let refused = g.delete_vertex(a, false).expect_err("has a relationship");
    assert_eq!(refused.detail, "DeleteConnectedNode");
    assert!(g.vertex_exists(a) && g.edge_exists(&e), "nothing deleted");

    g.delete_vertex(a, true).expect("detach delete");
    assert!(!g.vertex_exists(a));
    assert!(!g.edge_exists(&e));
    assert_eq!(g.vertex_labels(a).expect_err("gone").kind, ErrorKind::EntityNotFound);
    assert!(g.edges(b, Direction::In, &[]).expect("in").is_empty());
}

fn a_deleted_relationship_is_gone<G: GraphWrite>(g: &mut G) {
    let t = g.edge_type("T");
    let (a, b) = (g.create_vertex().expect("a"), g.create_vertex().expect("b"));
    let e = g.create_edge(a, b, t).expect("e");
    g.delete_edge(&e).expect("delete");
    assert!(!g.edge_exists(&e));
    assert!(g.edges(a, Direction::Out, &[]).expect("out").is_empty());
    assert!(g.vertex_exists(a) && g.vertex_exists(b));
}

fn scans_find_nodes_by_label_and_unknown_names_match_nothing<G: GraphWrite>(g: &mut G) {
    let (l, key) = (g.label("L"), g.property("k"));
    let tagged = g.create_vertex().expect("tagged");
    let other = g.create_vertex().expect("other");
    g.add_label(tagged, l).expect("label");

    let mut all = g.all_vertices();
    all.sort();
    assert_eq!(all, vec![tagged.min(other), tagged.max(other)]);
    assert_eq!(g.vertices_with_label(l), vec![tagged]);
    assert_eq!(g.index_lookup(l, key, &Value::Int(1)), None, "no index, no answer");
    assert_eq!(g.find_label("Nowhere"), None);
    assert_eq!(g.find_edge_type("NOWHERE"), None);
    assert_eq!(g.find_property("nowhere"), None);
}

fn batch_calls_agree_with_single_calls<G: GraphWrite>(g: &mut G) {
    // Set up: three nodes in a chain, each with a label and a property.
    let (l, key, t) = (g.label("L"), g.property("k"), g.edge_type("T"));
    let nodes: Vec<_> = (0..3).map(|_| g.create_vertex().expect("node")).collect();
    for (i, n) in nodes.iter().enumerate() {
        g.add_label(*n, l).expect("label");
        g.set_vertex_property(*n, key, Value::Int(i as i64)).expect("set");
    }
    for pair in nodes.windows(2) {
        g.create_edge(pair[0], pair[1], t).expect("edge");
    }

    // Check: every batch answer is the single answers in order.
    let labels: Vec<_> = nodes.iter().map(|n| g.vertex_labels(*n).expect("labels")).collect();
    assert_eq!(g.vertex_labels_many(&nodes).expect("labels"), labels);
    let props = g.vertex_property_many(&nodes, key).expect("props");
    assert_eq!(props, (0..3).map(|i| Some(Value::Int(i))).collect::<Vec<_>>());
    let all = g.vertex_properties_many(&nodes).expect("all props");
    assert_eq!(all.len(), 3);
    let out = g.edges_many(&nodes, Direction::Out, &[t]).expect("expand");
    assert_eq!(out.iter().map(Vec::len).collect::<Vec<_>>(), vec![1, 1, 0]);
    assert_eq!(out[0], g.edges(nodes[0], Direction::Out, &[t]).expect("single"));

    // The column scan: batches of two, the known key and one no node has.
    let unlabelled = g.create_vertex().expect("unlabelled");
    g.set_vertex_property(unlabelled, key, Value::Int(9)).expect("set");
    let (mut seen, mut values) = (Vec::new(), Vec::new());
    g.label_columns(l, &[Some(key), None], 2, 2, &mut |batch, columns| {
        assert!(batch.len() <= 2 && columns.len() == 2);
        assert!(columns[1].iter().all(Option::is_none));
        seen.extend_from_slice(batch);
        values.extend(columns[0].iter().cloned());
        Ok(())
    })
    .expect("columns");
    let mut want = g.vertices_with_label(l);
    want.sort();
    assert_eq!(seen, want);
    assert_eq!(values, g.vertex_property_many(&seen, key).expect("props"));
}

#[cfg(test)]
mod tests {
    use crate::graph::local::{AccessMode, LocalGraph, Txn, TxnHandle};
    use crate::Engine;

    #[test]
    fn the_local_graph_passes_the_suite() {
        super::run_suite(|| {
            let storage = Engine::new().storage().clone();
            let txn = Txn::begin(&storage, AccessMode::ReadWrite, Default::default());
            LocalGraph::new(storage, TxnHandle::Owned(Box::new(txn)))
        });
    }
}
