//! How one statement's outcome reads in Neo4j's HTTP transactional API: the `row`, `meta`
//! and `graph` forms of each record, the `stats` counters and an EXPLAIN/PROFILE `plan`.
//!
//! Owns: the mapping from the Bolt values the engine's backend produces to that JSON.
//! - `row`: a node or relationship is its property map, a path a list alternating them,
//!   a temporal its ISO text, a point a GeoJSON-like object; anything else as the shell's
//!   JSON form ([`crate::value::json`]).
//! - `meta`: per column, `{id, elementId, type: "node"|"relationship", deleted}` for an
//!   entity, a list of those for a path or list, `{type: "date"}` and the like for a
//!   temporal or point, null otherwise.
//! - `graph`: every node and relationship the record holds (also inside lists, maps and
//!   paths), each once, ids as strings.
//!
//! Promises: never fails; a structure it cannot read shows as its text.

use serde_json::{json, Map, Value as Json};
use weft_bolt::packstream::dict_get;
use weft_bolt::structs::{point_from_value, TAG_POINT_2D, TAG_POINT_3D};
use weft_bolt::structs::{TAG_NODE, TAG_PATH, TAG_RELATIONSHIP};
use weft_bolt::{BoltValue, Dialect, Node, Path, Relationship, Temporal};

use crate::value::{json as plain_json, json_map, temporal_text};

/// The parts of a record a request asked for (`resultDataContents`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Contents {
    pub row: bool,
    pub graph: bool,
}

impl Contents {
    /// From the request's list; `row` alone when absent, as Neo4j does.
    pub fn from_request(asked: Option<&Json>) -> Result<Contents, String> {
        let Some(asked) = asked else {
            return Ok(Contents {
                row: true,
                graph: false,
            });
        };
        let mut contents = Contents {
            row: false,
            graph: false,
        };
        for item in asked.as_array().ok_or("resultDataContents must be a list")? {
            match item.as_str().map(str::to_ascii_lowercase).as_deref() {
                Some("row") => contents.row = true,
                Some("graph") => contents.graph = true,
                _ => return Err(format!("resultDataContents: {item} is not \"row\" or \"graph\"")),
            }
        }
        Ok(contents)
    }
}

/// One statement's entry of `results`, whole: what the streamed answer writes part by part
/// ([`record_json`], then [`summary_fields`]).
#[cfg(test)]
pub fn statement_result(
    columns: &[String],
    rows: &[Vec<BoltValue>],
    summary: &[(String, BoltValue)],
    contents: Contents,
    include_stats: bool,
    dialect: Dialect,
) -> Json {
    let mut result = Map::new();
    result.insert("columns".into(), json!(columns));
    let data = rows
        .iter()
        .map(|record| record_json(record, contents, dialect))
        .collect();
    result.insert("data".into(), Json::Array(data));
    result.extend(summary_fields(summary, include_stats));
    Json::Object(result)
}

/// One record's entry of `data`: its `row` and `meta`, and its `graph`, as asked.
pub fn record_json(record: &[BoltValue], contents: Contents, dialect: Dialect) -> Json {
    let mut entry = Map::new();
    if contents.row {
        entry.insert("row".into(), record.iter().map(|v| row(v, dialect)).collect());
        entry.insert("meta".into(), record.iter().map(|v| meta(v, dialect)).collect());
    }
    if contents.graph {
        entry.insert("graph".into(), graph(record, dialect));
    }
    Json::Object(entry)
}

/// What follows a statement's `data`: `stats` if asked, and an EXPLAIN/PROFILE plan.
pub fn summary_fields(summary: &[(String, BoltValue)], include_stats: bool) -> Map<String, Json> {
    let mut fields = Map::new();
    if include_stats {
        fields.insert("stats".into(), stats(summary));
    }
    for key in ["plan", "profile"] {
        if let Some(plan) = dict_get(summary, key) {
            fields.insert(key.into(), json!({ "root": plan_json(plan) }));
        }
    }
    fields
}

/// Neo4j's HTTP counter names, every one present (zero when the summary lacks it).
fn stats(summary: &[(String, BoltValue)]) -> Json {
    const COUNTERS: [(&str, &str); 12] = [
        ("nodes-created", "nodes_created"),
        ("nodes-deleted", "nodes_deleted"),
        ("properties-set", "properties_set"),
        ("relationships-created", "relationships_created"),
        ("relationships-deleted", "relationship_deleted"),
        ("labels-added", "labels_added"),
        ("labels-removed", "labels_removed"),
        ("indexes-added", "indexes_added"),
        ("indexes-removed", "indexes_removed"),
        ("constraints-added", "constraints_added"),
        ("constraints-removed", "constraints_removed"),
        ("system-updates", "system_updates"),
    ];
    let bolt = dict_get(summary, "stats").and_then(BoltValue::as_dict).unwrap_or(&[]);
    let mut out = Map::new();
    let mut updates = false;
    for (bolt_name, http_name) in COUNTERS {
        let n = match dict_get(bolt, bolt_name) {
            Some(BoltValue::Integer(n)) => *n,
            _ => 0,
        };
        updates |= n != 0 && http_name != "system_updates";
        out.insert(http_name.into(), Json::from(n));
    }
    out.insert("contains_updates".into(), Json::Bool(updates));
    out.insert(
        "contains_system_updates".into(),
        Json::Bool(out["system_updates"].as_i64().unwrap_or(0) != 0),
    );
    Json::Object(out)
}

/// A plan operator from the Bolt summary: `args` is written `arguments`, as Neo4j's HTTP
/// API names it.
fn plan_json(plan: &BoltValue) -> Json {
    let Some(entries) = plan.as_dict() else {
        return plain_json(plan, Dialect::for_version(weft_bolt::Version::V5_8));
    };
    let dialect = Dialect::for_version(weft_bolt::Version::V5_8);
    let map: Map<String, Json> = entries
        .iter()
        .map(|(key, value)| match key.as_str() {
            "children" => (
                "children".to_string(),
                match value {
                    BoltValue::List(children) => children.iter().map(plan_json).collect(),
                    _ => Json::Array(Vec::new()),
                },
            ),
            "args" => ("arguments".to_string(), plain_json(value, dialect)),
            _ => (key.clone(), plain_json(value, dialect)),
        })
        .collect();
    Json::Object(map)
}

fn row(value: &BoltValue, dialect: Dialect) -> Json {
    match value {
        BoltValue::List(items) => items.iter().map(|v| row(v, dialect)).collect(),
        BoltValue::Dictionary(entries) => {
            Json::Object(entries.iter().map(|(k, v)| (k.clone(), row(v, dialect))).collect())
        }
        BoltValue::Structure(s) => match s.tag {
            TAG_NODE => Node::from_value(value, dialect)
                .map_or_else(|_| plain_json(value, dialect), |n| json_map(&n.properties, dialect)),
            TAG_RELATIONSHIP => Relationship::from_value(value, dialect)
                .map_or_else(|_| plain_json(value, dialect), |r| json_map(&r.properties, dialect)),
            TAG_PATH => Path::from_value(value, dialect).map_or_else(
                |_| plain_json(value, dialect),
                |p| walk(&p).map(|step| json_map(step.properties(), dialect)).collect(),
            ),
            TAG_POINT_2D | TAG_POINT_3D => point_from_value(value).map_or_else(
                |_| plain_json(value, dialect),
                |p| {
                    json!({
                        "type": "Point",
                        "coordinates": p.coords(),
                        "crs": {"srid": p.srid(), "name": p.crs().name(), "type": "link"},
                    })
                },
            ),
            _ => Temporal::from_value(value)
                .map_or_else(|_| plain_json(value, dialect), |t| Json::String(temporal_text(&t))),
        },
        other => plain_json(other, dialect),
    }
}

fn meta(value: &BoltValue, dialect: Dialect) -> Json {
    let entity = |id: i64, element_id: &str, kind: &str| json!({"id": id, "elementId": element_id, "type": kind, "deleted": false});
    match value {
        BoltValue::List(items) => items.iter().map(|v| meta(v, dialect)).collect(),
        BoltValue::Structure(s) => match s.tag {
            TAG_NODE => Node::from_value(value, dialect).map_or(Json::Null, |n| entity(n.id, &n.element_id, "node")),
            TAG_RELATIONSHIP => Relationship::from_value(value, dialect)
                .map_or(Json::Null, |r| entity(r.id, &r.element_id, "relationship")),
            TAG_PATH => Path::from_value(value, dialect).map_or(Json::Null, |p| {
                walk(&p)
                    .map(|step| match step {
                        Step::Node(n) => entity(n.id, &n.element_id, "node"),
                        Step::Rel(r) => entity(r.id, &r.element_id, "relationship"),
                    })
                    .collect()
            }),
            TAG_POINT_2D | TAG_POINT_3D => json!({"type": "point"}),
            _ => Temporal::from_value(value).map_or(Json::Null, |t| json!({"type": temporal_type(&t)})),
        },
        _ => Json::Null,
    }
}

fn temporal_type(t: &Temporal) -> &'static str {
    match t {
        Temporal::Date(_) => "date",
        Temporal::Time(_) => "time",
        Temporal::LocalTime(_) => "localtime",
        Temporal::LocalDateTime(_) => "localdatetime",
        Temporal::DateTime(_) => "datetime",
        Temporal::Duration(_) => "duration",
    }
}

/// A path's entities in order: node, relationship, node, ...
enum Step<'p> {
    Node(&'p Node),
    Rel(&'p weft_bolt::UnboundRelationship),
}

impl Step<'_> {
    fn properties(&self) -> &[(String, BoltValue)] {
        match self {
            Step::Node(n) => &n.properties,
            Step::Rel(r) => &r.properties,
        }
    }
}

fn walk(path: &Path) -> impl Iterator<Item = Step<'_>> {
    let first = path.nodes.first().map(Step::Node);
    let rest = path.indices.chunks(2).flat_map(move |pair| {
        let rel = pair
            .first()
            .and_then(|i| path.rels.get((i.unsigned_abs() as usize).wrapping_sub(1)))
            .map(Step::Rel);
        let node = pair.get(1).and_then(|i| path.nodes.get(*i as usize)).map(Step::Node);
        rel.into_iter().chain(node)
    });
    first.into_iter().chain(rest)
}

/// The nodes and relationships of one record, each once.
fn graph(record: &[BoltValue], dialect: Dialect) -> Json {
    let mut found = Found::default();
    for value in record {
        found.collect(value, dialect);
    }
    json!({"nodes": found.nodes, "relationships": found.rels})
}

#[derive(Default)]
struct Found {
    nodes: Vec<Json>,
    rels: Vec<Json>,
    node_ids: std::collections::HashSet<String>,
    rel_ids: std::collections::HashSet<String>,
}

impl Found {
    fn collect(&mut self, value: &BoltValue, dialect: Dialect) {
        match value {
            BoltValue::List(items) => items.iter().for_each(|v| self.collect(v, dialect)),
            BoltValue::Dictionary(entries) => entries.iter().for_each(|(_, v)| self.collect(v, dialect)),
            BoltValue::Structure(s) if s.tag == TAG_NODE => {
                if let Ok(node) = Node::from_value(value, dialect) {
                    self.node(&node, dialect);
                }
            }
            BoltValue::Structure(s) if s.tag == TAG_RELATIONSHIP => {
                if let Ok(r) = Relationship::from_value(value, dialect) {
                    let ends = (
                        (r.start_node_id, &r.start_node_element_id),
                        (r.end_node_id, &r.end_node_element_id),
                    );
                    self.rel(r.id, &r.element_id, &r.rel_type, &r.properties, ends, dialect);
                }
            }
            BoltValue::Structure(s) if s.tag == TAG_PATH => {
                if let Ok(path) = Path::from_value(value, dialect) {
                    self.path(&path, dialect);
                }
            }
            _ => {}
        }
    }

    fn node(&mut self, node: &Node, dialect: Dialect) {
        if self.node_ids.insert(node.element_id.clone()) {
            self.nodes.push(json!({
                "id": node.id.to_string(),
                "elementId": node.element_id,
                "labels": node.labels,
                "properties": json_map(&node.properties, dialect),
            }));
        }
    }

    fn rel(
        &mut self,
        id: i64,
        element_id: &str,
        rel_type: &str,
        properties: &[(String, BoltValue)],
        ((start, start_element), (end, end_element)): ((i64, &String), (i64, &String)),
        dialect: Dialect,
    ) {
        if self.rel_ids.insert(element_id.to_string()) {
            self.rels.push(json!({
                "id": id.to_string(),
                "elementId": element_id,
                "type": rel_type,
                "startNode": start.to_string(),
                "endNode": end.to_string(),
                "startNodeElementId": start_element,
                "endNodeElementId": end_element,
                "properties": json_map(properties, dialect),
            }));
        }
    }

    /// A path's relationships get their ends from the walk: a negative index was
    /// traversed against its direction.
    fn path(&mut self, path: &Path, dialect: Dialect) {
        path.nodes.iter().for_each(|n| self.node(n, dialect));
        let mut at = path.nodes.first();
        for pair in path.indices.chunks(2) {
            let (Some(&index), Some(&next)) = (pair.first(), pair.get(1)) else {
                break;
            };
            let rel = path.rels.get((index.unsigned_abs() as usize).wrapping_sub(1));
            let next = path.nodes.get(next as usize);
            if let (Some(rel), Some(from), Some(to)) = (rel, at, next) {
                let (start, end) = if index > 0 { (from, to) } else { (to, from) };
                let ends = ((start.id, &start.element_id), (end.id, &end.element_id));
                self.rel(rel.id, &rel.element_id, &rel.rel_type, &rel.properties, ends, dialect);
            }
            at = next;
        }
    }
}

#[cfg(test)]
mod tests;
