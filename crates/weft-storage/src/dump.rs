//! A canonical, name-based picture of a whole graph as one transaction sees it, for
//! comparing two storages (replay tests, model tests) and for debugging.

use crate::delta::IsolationLevel;
use crate::storage::Storage;
use crate::vertex::Direction;
use std::collections::{BTreeMap, BTreeSet};
use weft_common::Value;

/// One vertex: labels and properties by name.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct VertexDump {
    pub labels: BTreeSet<String>,
    pub props: BTreeMap<String, Value>,
}

/// One edge: endpoints, type and properties by name.
#[derive(Clone, Debug, PartialEq)]
pub struct EdgeDump {
    pub from: u64,
    pub to: u64,
    pub edge_type: String,
    pub props: BTreeMap<String, Value>,
}

/// A whole graph, keyed by ids.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct GraphDump {
    pub vertices: BTreeMap<u64, VertexDump>,
    pub edges: BTreeMap<u64, EdgeDump>,
}

impl Storage {
    /// The graph as a new snapshot-isolation transaction sees it now.
    pub fn dump(&self) -> GraphDump {
        let txn = self.begin(IsolationLevel::SnapshotIsolation);
        let mut out = GraphDump::default();
        for gid in txn.vertices() {
            let labels = txn
                .labels(gid)
                .unwrap_or_default()
                .into_iter()
                .map(|l| self.label_name(l))
                .collect();
            let props = txn.vertex_properties(gid).unwrap_or_default();
            let props = props.into_iter().map(|(k, v)| (self.property_name(k), v)).collect();
            out.vertices.insert(gid.0, VertexDump { labels, props });
            for e in txn.edges(gid, Direction::Out, &[]).unwrap_or_default() {
                let props = txn.edge_properties(&e).unwrap_or_default();
                let props = props.into_iter().map(|(k, v)| (self.property_name(k), v)).collect();
                let edge = EdgeDump {
                    from: e.from.0,
                    to: e.to.0,
                    edge_type: self.edge_type_name(e.edge_type),
                    props,
                };
                out.edges.insert(e.gid.0, edge);
            }
        }
        out
    }
}
