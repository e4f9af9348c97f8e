//! Vertex and edge slots: their newest state, and the reconstruction of the state a given
//! viewer sees by undoing deltas.
//!
//! A vertex slot is a mutex around [`VertexData`]: labels, encoded properties, both
//! adjacency lists and the head of the undo chain, about 48 bytes before heap blocks.
//! Edges without properties have no object of their own: their existence is versioned by
//! the adjacency entries of their two endpoints (undo deltas on those vertices). An edge
//! takes its slot in the edge table ([`EdgeSlot`], indexed by edge id like vertices) when
//! it first has properties, so that property writes conflict like any other write (and a
//! deletion, marked in a used slot, with them); until then the slot is vacant and its
//! chunk of the table may not be allocated. Deleting an edge without properties touches
//! no slot: a property write finds that deletion on the source vertex's undo chain.

use crate::delta::{chain, Adjacent, Delta, UndoAction, Viewer};
use crate::props::PropertyStore;
use parking_lot::Mutex;
use thin_vec::ThinVec;
use weft_common::{EdgeTypeId, Gid, LabelId, PropertyId, Value};

/// Life state of an object slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Life {
    /// Never created, creation aborted, or freed by the garbage collector.
    #[default]
    Empty,
    Live,
    Deleted,
}

/// The newest state of a vertex.
#[derive(Debug)]
pub struct VertexData {
    pub life: Life,
    /// The first label inline ([`NO_LABEL`] when none): most vertices have exactly one,
    /// and this costs no slot space (it fills padding) and no heap block.
    first_label: u32,
    more_labels: ThinVec<LabelId>,
    pub props: PropertyStore,
    pub out_edges: ThinVec<Adjacent>,
    pub in_edges: ThinVec<Adjacent>,
    pub delta: Option<Box<Delta>>,
}

/// Marks an empty inline label.
const NO_LABEL: u32 = u32::MAX;

impl Default for VertexData {
    fn default() -> Self {
        VertexData {
            life: Life::Empty,
            first_label: NO_LABEL,
            more_labels: ThinVec::new(),
            props: PropertyStore::default(),
            out_edges: ThinVec::new(),
            in_edges: ThinVec::new(),
            delta: None,
        }
    }
}

impl VertexData {
    /// Whether the newest state has `label`.
    pub fn has_label(&self, label: LabelId) -> bool {
        self.first_label == label.0 || self.more_labels.contains(&label)
    }

    /// The labels after the first (for memory accounting).
    pub fn extra_labels(&self) -> &ThinVec<LabelId> {
        &self.more_labels
    }

    /// The newest state's labels.
    pub fn label_vec(&self) -> Vec<LabelId> {
        let first = (self.first_label != NO_LABEL).then_some(LabelId(self.first_label));
        first.into_iter().chain(self.more_labels.iter().copied()).collect()
    }

    /// Adds a label the vertex does not have.
    pub fn push_label(&mut self, label: LabelId) {
        if self.first_label == NO_LABEL {
            self.first_label = label.0;
        } else {
            self.more_labels.push(label);
        }
    }

    /// Removes a label if present.
    pub fn pull_label(&mut self, label: LabelId) {
        if self.first_label == label.0 {
            self.first_label = match self.more_labels.pop() {
                Some(l) => l.0,
                None => NO_LABEL,
            };
        } else {
            self.more_labels.retain(|l| *l != label);
        }
    }
}

/// A vertex slot in the vertex table.
pub type VertexSlot = Mutex<VertexData>;

/// The newest state of an edge's properties (and its deletion, for write conflicts).
#[derive(Default, Debug)]
pub struct EdgeData {
    pub deleted: bool,
    pub props: PropertyStore,
    pub delta: Option<Box<Delta>>,
}

impl EdgeData {
    /// True for the state of a slot no edge uses: no properties, no deletion, no versions.
    pub fn is_vacant(&self) -> bool {
        !self.deleted && self.delta.is_none() && self.props == PropertyStore::default()
    }
}

/// An edge's slot in the edge table: used once the edge has properties (a deletion of
/// such an edge is marked in it), vacant otherwise.
pub type EdgeSlot = Mutex<EdgeData>;

/// What a viewer sees of a vertex's labels and existence.
pub fn visible_exists(v: &VertexData, viewer: &Viewer) -> bool {
    let mut exists = v.life == Life::Live;
    for d in undo_steps(&v.delta, viewer) {
        match d.action {
            UndoAction::DeleteObject => exists = false,
            UndoAction::RecreateObject => exists = true,
            _ => {}
        }
    }
    exists
}

/// The labels a viewer sees, or `None` when the vertex does not exist for it.
pub fn visible_labels(v: &VertexData, viewer: &Viewer) -> Option<Vec<LabelId>> {
    let mut exists = v.life == Life::Live;
    let mut labels: Vec<LabelId> = v.label_vec();
    for d in undo_steps(&v.delta, viewer) {
        match &d.action {
            UndoAction::DeleteObject => exists = false,
            UndoAction::RecreateObject => exists = true,
            UndoAction::AddLabel(l) => labels.push(*l),
            UndoAction::RemoveLabel(l) => labels.retain(|x| x != l),
            _ => {}
        }
    }
    exists.then_some(labels)
}

/// Whether the newest state or an older version still in the undo chain has `label`:
/// while one does, a reader may meet the vertex with it, so its member bit must stay.
pub fn some_version_has_label(v: &VertexData, label: LabelId) -> bool {
    // A deleted vertex's labels stay on it: its older, live version has them.
    let exists = v.life == Life::Live || (v.life == Life::Deleted && v.delta.is_some());
    (exists && v.has_label(label)) || chain(&v.delta).any(|d| matches!(d.action, UndoAction::AddLabel(l) if l == label))
}

/// Whether any version of the vertex still in its chain has an out-edge of `edge_type`.
pub fn some_version_has_out_type(v: &VertexData, edge_type: EdgeTypeId) -> bool {
    v.out_edges.iter().any(|a| a.edge_type() == edge_type)
        || chain(&v.delta).any(|d| matches!(d.action, UndoAction::AddOutEdge(a) if a.edge_type() == edge_type))
}

/// Whether a viewer sees label `label` on an existing vertex.
pub fn visible_has_label(v: &VertexData, viewer: &Viewer, label: LabelId) -> bool {
    if v.delta.is_none() {
        return v.life == Life::Live && v.has_label(label);
    }
    let (mut exists, mut has) = (v.life == Life::Live, v.has_label(label));
    // Undone newest first, as `visible_labels` does, following this one label only.
    for d in undo_steps(&v.delta, viewer) {
        match &d.action {
            UndoAction::DeleteObject => exists = false,
            UndoAction::RecreateObject => exists = true,
            UndoAction::AddLabel(l) if *l == label => has = true,
            UndoAction::RemoveLabel(l) if *l == label => has = false,
            _ => {}
        }
    }
    exists && has
}

/// The value of one property a viewer sees (`None` also when the vertex is invisible).
pub fn visible_property(
    exists_now: bool,
    props: &PropertyStore,
    head: &Option<Box<Delta>>,
    viewer: &Viewer,
    key: PropertyId,
) -> (bool, Option<Value>) {
    let mut value = props.get(key);
    if head.is_none() {
        return (exists_now, value);
    }
    let mut exists = exists_now;
    for d in undo_steps(head, viewer) {
        match &d.action {
            UndoAction::DeleteObject => exists = false,
            UndoAction::RecreateObject => exists = true,
            UndoAction::SetProperty(k, old) if *k == key => value = old.clone(),
            _ => {}
        }
    }
    (exists, value)
}

/// All properties a viewer sees, in key order.
pub fn visible_properties(
    exists_now: bool,
    props: &PropertyStore,
    head: &Option<Box<Delta>>,
    viewer: &Viewer,
) -> (bool, Vec<(PropertyId, Value)>) {
    let mut exists = exists_now;
    let mut all = props.all();
    for d in undo_steps(head, viewer) {
        match &d.action {
            UndoAction::DeleteObject => exists = false,
            UndoAction::RecreateObject => exists = true,
            UndoAction::SetProperty(k, old) => {
                let found = all.binary_search_by_key(k, |(key, _)| *key);
                match (found, old) {
                    (Ok(i), Some(v)) => all[i].1 = v.clone(),
                    (Ok(i), None) => {
                        all.remove(i);
                    }
                    (Err(i), Some(v)) => all.insert(i, (*k, v.clone())),
                    (Err(_), None) => {}
                }
            }
            _ => {}
        }
    }
    (exists, all)
}

/// Which adjacency list to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Out,
    In,
}

/// The adjacency a viewer sees in one direction, or `None` when the vertex is invisible.
pub fn visible_adjacency(v: &VertexData, viewer: &Viewer, dir: Direction) -> Option<Vec<Adjacent>> {
    let current = match dir {
        Direction::Out => &v.out_edges,
        Direction::In => &v.in_edges,
    };
    let mut exists = v.life == Life::Live;
    let mut list: Vec<Adjacent> = current.to_vec();
    for d in undo_steps(&v.delta, viewer) {
        match (&d.action, dir) {
            (UndoAction::DeleteObject, _) => exists = false,
            (UndoAction::RecreateObject, _) => exists = true,
            (UndoAction::AddOutEdge(a), Direction::Out) | (UndoAction::AddInEdge(a), Direction::In) => list.push(*a),
            (UndoAction::RemoveOutEdge(e), Direction::Out) | (UndoAction::RemoveInEdge(e), Direction::In) => {
                let e = *e;
                if let Some(i) = list.iter().rposition(|a| a.edge() == e) {
                    list.swap_remove(i);
                }
            }
            _ => {}
        }
    }
    exists.then_some(list)
}

/// The out-edge `edge` of a vertex as a viewer sees it: [`visible_adjacency`] followed
/// for that one edge, without copying the list (a property write on an edge checks this,
/// and a vertex being loaded can have many out-edges).
pub fn visible_out_edge(v: &VertexData, viewer: &Viewer, edge: Gid) -> Option<Adjacent> {
    let mut exists = v.life == Life::Live;
    // Newest edges are at the end: a write to an edge just created finds it at once.
    let mut found = v.out_edges.iter().rev().find(|a| a.edge() == edge).copied();
    for d in undo_steps(&v.delta, viewer) {
        match &d.action {
            UndoAction::DeleteObject => exists = false,
            UndoAction::RecreateObject => exists = true,
            UndoAction::AddOutEdge(a) if a.edge() == edge => found = Some(*a),
            UndoAction::RemoveOutEdge(e) if *e == edge => found = None,
            _ => {}
        }
    }
    found.filter(|_| exists)
}

/// Deltas a viewer must undo, from the head, stopping at the first one it may see.
fn undo_steps<'a>(head: &'a Option<Box<Delta>>, viewer: &'a Viewer) -> impl Iterator<Item = &'a Delta> {
    chain(head).take_while(move |d| viewer.must_undo(d.state.get()))
}

/// Applies one undo action to a vertex's newest state (abort, and nothing else: readers
/// work on copies).
pub fn undo_vertex(v: &mut VertexData, action: UndoAction) {
    match action {
        UndoAction::DeleteObject => v.life = Life::Empty,
        UndoAction::RecreateObject => v.life = Life::Live,
        UndoAction::AddLabel(l) => v.push_label(l),
        UndoAction::RemoveLabel(l) => v.pull_label(l),
        UndoAction::SetProperty(k, old) => {
            v.props.set(k, old);
        }
        UndoAction::AddOutEdge(a) => v.out_edges.push(a),
        UndoAction::AddInEdge(a) => v.in_edges.push(a),
        UndoAction::RemoveOutEdge(e) => remove_adjacent(&mut v.out_edges, e),
        UndoAction::RemoveInEdge(e) => remove_adjacent(&mut v.in_edges, e),
    }
}

/// Applies one undo action to an edge slot's newest state.
pub fn undo_edge(e: &mut EdgeData, action: UndoAction) {
    match action {
        UndoAction::RecreateObject => e.deleted = false,
        UndoAction::DeleteObject => e.deleted = true,
        UndoAction::SetProperty(k, old) => {
            e.props.set(k, old);
        }
        _ => {}
    }
}

/// Removes the adjacency entry of `edge` (order is not kept).
pub fn remove_adjacent(list: &mut ThinVec<Adjacent>, edge: Gid) {
    if let Some(i) = list.iter().rposition(|a| a.edge() == edge) {
        list.swap_remove(i);
    }
}
