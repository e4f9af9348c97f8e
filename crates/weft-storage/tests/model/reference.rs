//! The reference model for `model.rs`: the whole graph as plain `BTreeMap`s, the names
//! and values the operations draw from, and the ids the storage handed out.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use weft_storage::{
    Direction, EdgeDump, EdgeRef, EdgeTypeId, Gid, GraphDump, IndexInfo, LabelId, PropertyId, Storage, Value,
    VertexDump,
};

pub const LABELS: [&str; 3] = ["Person", "City", "Tag"];
pub const KEYS: [&str; 3] = ["name", "age", "score"];
pub const TYPES: [&str; 2] = ["KNOWS", "LIVES_IN"];
/// A vertex id no test ever allocates.
pub const GHOST: Gid = Gid(1_000_000);

/// Property values: small domains so that ties, `1 = 1.0` and `0.0 = -0.0` are common.
pub fn value_pool() -> Vec<Value> {
    vec![
        Value::Null,
        Value::Int(0),
        Value::Int(1),
        Value::Int(2),
        Value::Float(1.0),
        Value::Float(-0.0),
        Value::Float(2.5),
        Value::from("a"),
        Value::from("b"),
        Value::Bool(true),
        Value::List(vec![Value::Int(1)]),
        Value::List(vec![Value::Float(1.0), Value::from("a")]),
    ]
}

/// Range probes for `vertices_in_range`, including cross-type and empty ranges.
pub fn range_probes() -> Vec<(Bound<Value>, Bound<Value>)> {
    use Bound::{Excluded, Included, Unbounded};
    vec![
        (Included(Value::Int(1)), Included(Value::Int(2))),
        (Excluded(Value::Int(0)), Unbounded),
        (Unbounded, Excluded(Value::from("b"))),
        (Included(Value::from("a")), Included(Value::from("b"))),
        (Included(Value::List(vec![])), Excluded(Value::from(""))),
        (Unbounded, Unbounded),
        (Included(Value::Int(2)), Included(Value::Int(1))),
    ]
}

// ---------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug, Default)]
pub struct VertexModel {
    pub labels: BTreeSet<usize>,
    pub props: BTreeMap<usize, Value>,
}

#[derive(Clone, Debug)]
pub struct EdgeModel {
    pub from: Gid,
    pub to: Gid,
    pub ty: usize,
    pub props: BTreeMap<usize, Value>,
}

/// The whole graph as plain maps; names are indexes into `LABELS`, `KEYS`, `TYPES`.
#[derive(Clone, Debug, Default)]
pub struct Model {
    pub vertices: BTreeMap<Gid, VertexModel>,
    pub edges: BTreeMap<Gid, EdgeModel>,
}

/// Sets (or, for `Value::Null`, removes) a property; returns the old value.
pub fn set_prop(props: &mut BTreeMap<usize, Value>, key: usize, value: Value) -> Option<Value> {
    if value.is_null() {
        props.remove(&key)
    } else {
        props.insert(key, value)
    }
}

pub fn named_props(props: &BTreeMap<usize, Value>) -> BTreeMap<String, Value> {
    props.iter().map(|(k, v)| (KEYS[*k].to_string(), v.clone())).collect()
}

impl Model {
    pub fn incident_edges(&self, gid: Gid) -> Vec<Gid> {
        let touches = |e: &EdgeModel| e.from == gid || e.to == gid;
        self.edges.iter().filter(|(_, e)| touches(e)).map(|(g, _)| *g).collect()
    }

    /// Edge handles, sorted, restricted to edges `keep` accepts.
    pub fn edge_refs(&self, ids: &Ids, keep: impl Fn(&EdgeModel) -> bool) -> Vec<EdgeRef> {
        let as_ref = |(gid, e): (&Gid, &EdgeModel)| EdgeRef {
            gid: *gid,
            from: e.from,
            to: e.to,
            edge_type: ids.types[e.ty],
        };
        let mut out: Vec<EdgeRef> = self.edges.iter().filter(|(_, e)| keep(e)).map(as_ref).collect();
        out.sort();
        out
    }

    pub fn adjacent(&self, ids: &Ids, gid: Gid, dir: Direction, ty: Option<usize>) -> Vec<EdgeRef> {
        self.edge_refs(ids, |e| {
            let end = if dir == Direction::Out { e.from } else { e.to };
            end == gid && ty.is_none_or(|t| t == e.ty)
        })
    }

    /// Vertices with `label` whose property `key` satisfies `keep`, in id order.
    pub fn select(&self, label: usize, key: usize, keep: impl Fn(&Value) -> bool) -> Vec<Gid> {
        let matches = |v: &VertexModel| v.labels.contains(&label) && v.props.get(&key).is_some_and(&keep);
        self.vertices
            .iter()
            .filter(|(_, v)| matches(v))
            .map(|(g, _)| *g)
            .collect()
    }

    pub fn with_label(&self, label: usize) -> Vec<Gid> {
        let has = |v: &VertexModel| v.labels.contains(&label);
        self.vertices.iter().filter(|(_, v)| has(v)).map(|(g, _)| *g).collect()
    }

    /// The canonical picture `Storage::dump` must produce.
    pub fn dump(&self) -> GraphDump {
        let vertex = |v: &VertexModel| VertexDump {
            labels: v.labels.iter().map(|l| LABELS[*l].to_string()).collect(),
            props: named_props(&v.props),
        };
        let edge = |e: &EdgeModel| EdgeDump {
            from: e.from.0,
            to: e.to.0,
            edge_type: TYPES[e.ty].to_string(),
            props: named_props(&e.props),
        };
        GraphDump {
            vertices: self.vertices.iter().map(|(g, v)| (g.0, vertex(v))).collect(),
            edges: self.edges.iter().map(|(g, e)| (g.0, edge(e))).collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Interned ids and every object id ever handed out
// ---------------------------------------------------------------------------------------

pub struct Ids {
    pub labels: Vec<LabelId>,
    pub keys: Vec<PropertyId>,
    pub types: Vec<EdgeTypeId>,
    /// Every vertex id `create_vertex` returned, including aborted and deleted ones.
    pub vertices: Vec<Gid>,
    /// Every edge `create_edge` returned, including aborted and deleted ones.
    pub edges: Vec<EdgeRef>,
}

impl Ids {
    pub fn new(storage: &Storage) -> Self {
        Ids {
            labels: LABELS.iter().map(|n| storage.label(n)).collect(),
            keys: KEYS.iter().map(|n| storage.property(n)).collect(),
            types: TYPES.iter().map(|n| storage.edge_type(n)).collect(),
            vertices: Vec::new(),
            edges: Vec::new(),
        }
    }

    /// A vertex id to operate on: any id ever handed out, or one never allocated.
    pub fn vertex(&self, pick: &Pick) -> Gid {
        let i = pick.of(self.vertices.len() + 1);
        self.vertices.get(i).copied().unwrap_or(GHOST)
    }

    /// Properties read from storage, by key index; they must come in key order.
    pub fn props(&self, read: Vec<(PropertyId, Value)>) -> BTreeMap<usize, Value> {
        assert!(
            read.windows(2).all(|w| w[0].0 < w[1].0),
            "properties not in key order: {read:?}"
        );
        let key = |p: PropertyId| self.keys.iter().position(|k| *k == p).expect("a known key");
        read.into_iter().map(|(p, v)| (key(p), v)).collect()
    }
}

/// A choice among the ids handed out so far (modulo their number).
#[derive(Clone, Copy, Debug)]
pub struct Pick(pub u16);

impl Pick {
    pub fn of(self, len: usize) -> usize {
        usize::from(self.0) % len
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum IndexDef {
    Label(usize),
    LabelProperty(usize, usize),
    EdgeType(usize),
}

impl IndexDef {
    pub fn info(self) -> IndexInfo {
        match self {
            IndexDef::Label(l) => IndexInfo::Label(LABELS[l].into()),
            IndexDef::LabelProperty(l, k) => IndexInfo::LabelProperty(LABELS[l].into(), KEYS[k].into()),
            IndexDef::EdgeType(t) => IndexInfo::EdgeType(TYPES[t].into()),
        }
    }

    pub fn create(self, storage: &Storage) -> weft_storage::Result<u64> {
        match self {
            IndexDef::Label(l) => storage.create_label_index(LABELS[l]),
            IndexDef::LabelProperty(l, k) => storage.create_label_property_index(LABELS[l], KEYS[k]),
            IndexDef::EdgeType(t) => storage.create_edge_type_index(TYPES[t]),
        }
    }

    pub fn drop_from(self, storage: &Storage) -> weft_storage::Result<u64> {
        match self {
            IndexDef::Label(l) => storage.drop_label_index(LABELS[l]),
            IndexDef::LabelProperty(l, k) => storage.drop_label_property_index(LABELS[l], KEYS[k]),
            IndexDef::EdgeType(t) => storage.drop_edge_type_index(TYPES[t]),
        }
    }
}
