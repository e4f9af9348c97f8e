//! Virtual nodes and relationships: entities a procedure makes up for its answer (the
//! schema graph of `db.schema.visualization()`), which live only in one statement's
//! results. They take ids counted down from the top of the id range, which Bolt shows
//! as negative, as Neo4j shows its virtual entities; reading their labels, type and
//! properties goes through [`Virtuals`] instead of the graph.

use crate::value::QValue;
use std::collections::BTreeMap;
use weft_common::{EdgeRef, EdgeTypeId, Gid};

/// Ids at or above this one are virtual (no stored object comes near it).
const FLOOR: u64 = u64::MAX - (1 << 32);

/// The virtual entities one statement made.
#[derive(Default)]
pub struct Virtuals {
    nodes: Vec<(Vec<String>, BTreeMap<String, QValue>)>,
    rels: Vec<(String, BTreeMap<String, QValue>)>,
}

fn index(id: Gid) -> Option<usize> {
    (id.0 >= FLOOR).then(|| (u64::MAX - id.0) as usize)
}

impl Virtuals {
    /// A new virtual node.
    pub fn node(&mut self, labels: Vec<String>, properties: BTreeMap<String, QValue>) -> Gid {
        self.nodes.push((labels, properties));
        Gid(u64::MAX - (self.nodes.len() as u64 - 1))
    }

    /// A new virtual relationship between two nodes (virtual or not).
    pub fn relationship(
        &mut self,
        from: Gid,
        to: Gid,
        rel_type: String,
        properties: BTreeMap<String, QValue>,
    ) -> EdgeRef {
        self.rels.push((rel_type, properties));
        EdgeRef {
            gid: Gid(u64::MAX - (self.rels.len() as u64 - 1)),
            from,
            to,
            edge_type: EdgeTypeId(u32::MAX),
        }
    }

    /// A virtual node's labels and properties; `None` for a stored node.
    pub fn find_node(&self, id: Gid) -> Option<&(Vec<String>, BTreeMap<String, QValue>)> {
        index(id).and_then(|i| self.nodes.get(i))
    }

    /// A virtual relationship's type and properties; `None` for a stored one.
    pub fn find_relationship(&self, rel: &EdgeRef) -> Option<&(String, BTreeMap<String, QValue>)> {
        index(rel.gid).and_then(|i| self.rels.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_entities_are_found_by_id_and_stored_ids_are_not() {
        let mut v = Virtuals::default();
        let a = v.node(vec!["A".into()], BTreeMap::new());
        let b = v.node(vec!["B".into()], BTreeMap::new());
        let r = v.relationship(a, b, "R".into(), BTreeMap::new());
        assert_eq!((a.0 as i64, b.0 as i64, r.gid.0 as i64), (-1, -2, -1));
        assert_eq!(v.find_node(b).map(|n| n.0.clone()), Some(vec!["B".to_string()]));
        assert_eq!(v.find_relationship(&r).map(|r| r.0.as_str()), Some("R"));
        assert!(v.find_node(Gid(7)).is_none());
    }
}
