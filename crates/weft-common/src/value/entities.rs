//! What a graph entity is inside a [`Value`]: the [`Entities`] parameter of the value tree,
//! its three instances in this crate and the one walk that changes it.
//!
//! Owns: [`Entities`] (the node, relationship and path types, their identities for
//! comparison and their rendering), [`Stored`] (storage: no entities at all, the variants
//! are uninhabited and take no space), [`ById`] (the query engine: entities by id),
//! [`PathValue`], and [`Value::map_entities`] with its two stock mappings
//! ([`Value::to_value`] to storage, [`Value::into_entities`] from storage). The query layer adds
//! a fourth instance for results, whose entities carry labels and properties.
//!
//! Promises: every method of [`Value`] (names, order, hashing, rendering) is written once,
//! generically; an instance only says what identifies an entity. Two entities are equal,
//! ordered and hashed by their ids alone.

use std::convert::Infallible;
use std::fmt;

use super::Value;
use crate::ids::{EdgeRef, Gid};

/// What the entity variants of a [`Value`] hold.
pub trait Entities: Clone + fmt::Debug + PartialEq + 'static {
    type Node: Clone + fmt::Debug + PartialEq;
    type Relationship: Clone + fmt::Debug + PartialEq;
    type Path: Clone + fmt::Debug + PartialEq;

    /// The id that identifies a node: equality, order and hashing use it alone.
    fn node_id(node: &Self::Node) -> u64;
    /// The id that identifies a relationship.
    fn relationship_id(relationship: &Self::Relationship) -> u64;
    /// A path as one id sequence: the start node, then each relationship and node in turn.
    fn path_ids(path: &Self::Path) -> Vec<u64>;

    fn fmt_node(node: &Self::Node, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    fn fmt_relationship(relationship: &Self::Relationship, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    fn fmt_path(path: &Self::Path, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

/// The type of a value that cannot exist: storage values hold no graph entities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Never {}

impl Never {
    /// Any type at all, since there is no `Never` to call this on.
    pub fn absurd<T>(self) -> T {
        match self {}
    }
}

/// Storage values: properties hold no nodes, relationships or paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stored;

impl Entities for Stored {
    type Node = Never;
    type Relationship = Never;
    type Path = Never;

    fn node_id(node: &Never) -> u64 {
        node.absurd()
    }
    fn relationship_id(relationship: &Never) -> u64 {
        relationship.absurd()
    }
    fn path_ids(path: &Never) -> Vec<u64> {
        path.absurd()
    }
    fn fmt_node(node: &Never, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        node.absurd()
    }
    fn fmt_relationship(relationship: &Never, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        relationship.absurd()
    }
    fn fmt_path(path: &Never, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        path.absurd()
    }
}

/// The query engine's values: a node is its id, a relationship its [`EdgeRef`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ById;

/// A path by ids: a start node and (relationship, next node) steps. Relationships keep
/// their stored direction in the `EdgeRef`; the step's node says which way the path walked.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PathValue {
    pub start: Gid,
    pub steps: Vec<(EdgeRef, Gid)>,
}

/// Rendered by id, for messages and tests: nodes `(#3)`, relationships `[#7]`, paths
/// `<(#3)-[#7]-(#4)>`.
impl Entities for ById {
    type Node = Gid;
    type Relationship = EdgeRef;
    type Path = PathValue;

    fn node_id(node: &Gid) -> u64 {
        node.0
    }
    fn relationship_id(relationship: &EdgeRef) -> u64 {
        relationship.gid.0
    }
    fn path_ids(path: &PathValue) -> Vec<u64> {
        let steps = path.steps.iter().flat_map(|(edge, node)| [edge.gid.0, node.0]);
        std::iter::once(path.start.0).chain(steps).collect()
    }
    fn fmt_node(node: &Gid, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(#{node})")
    }
    fn fmt_relationship(relationship: &EdgeRef, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[#{}]", relationship.gid)
    }
    fn fmt_path(path: &PathValue, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<(#{})", path.start)?;
        for (edge, node) in &path.steps {
            write!(f, "-[#{}]-(#{node})", edge.gid)?;
        }
        f.write_str(">")
    }
}

/// How [`Value::map_entities`] turns the entities of `From` into those of `To`.
pub trait EntityMap<From: Entities, To: Entities> {
    type Error;
    fn node(&mut self, node: From::Node) -> Result<To::Node, Self::Error>;
    fn relationship(&mut self, relationship: From::Relationship) -> Result<To::Relationship, Self::Error>;
    fn path(&mut self, path: From::Path) -> Result<To::Path, Self::Error>;
}

/// Storage values become values of any instance: there is no entity to map.
struct FromStorage;

impl<To: Entities> EntityMap<Stored, To> for FromStorage {
    type Error = Infallible;
    fn node(&mut self, node: Never) -> Result<To::Node, Infallible> {
        node.absurd()
    }
    fn relationship(&mut self, relationship: Never) -> Result<To::Relationship, Infallible> {
        relationship.absurd()
    }
    fn path(&mut self, path: Never) -> Result<To::Path, Infallible> {
        path.absurd()
    }
}

/// Entities cannot be stored: mapping any of them fails.
struct ToStorage;

impl<From: Entities> EntityMap<From, Stored> for ToStorage {
    type Error = ();
    fn node(&mut self, _: From::Node) -> Result<Never, ()> {
        Err(())
    }
    fn relationship(&mut self, _: From::Relationship) -> Result<Never, ()> {
        Err(())
    }
    fn path(&mut self, _: From::Path) -> Result<Never, ()> {
        Err(())
    }
}

impl<G: Entities> Value<G> {
    /// The same value with every entity, however deeply nested, mapped by `map`; the first
    /// error stops the walk. The one conversion between instances of the value tree.
    pub fn map_entities<H: Entities, M: EntityMap<G, H>>(self, map: &mut M) -> Result<Value<H>, M::Error> {
        Ok(match self {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(b),
            Value::Int(i) => Value::Int(i),
            Value::Float(x) => Value::Float(x),
            Value::String(s) => Value::String(s),
            Value::List(items) => Value::List(
                items
                    .into_iter()
                    .map(|item| item.map_entities(map))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Map(entries) => Value::Map(
                entries
                    .into_iter()
                    .map(|(key, item)| Ok((key, item.map_entities(map)?)))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Date(d) => Value::Date(d),
            Value::LocalTime(t) => Value::LocalTime(t),
            Value::ZonedTime(t) => Value::ZonedTime(t),
            Value::LocalDateTime(dt) => Value::LocalDateTime(dt),
            Value::ZonedDateTime(dt) => Value::ZonedDateTime(dt),
            Value::Duration(d) => Value::Duration(d),
            Value::Point(p) => Value::Point(p),
            Value::Node(node) => Value::Node(map.node(node)?),
            Value::Relationship(relationship) => Value::Relationship(map.relationship(relationship)?),
            Value::Path(path) => Value::Path(map.path(path)?),
        })
    }

    /// The storable equivalent, or `None` when the value holds a node, relationship or
    /// path anywhere.
    pub fn to_value(&self) -> Option<Value> {
        self.clone().into_value()
    }

    /// As [`Value::to_value`], consuming the value (nothing is copied).
    pub fn into_value(self) -> Option<Value> {
        self.map_entities(&mut ToStorage).ok()
    }
}

impl Value {
    /// This storage value as a value of any instance (storage values hold no entities).
    pub fn into_entities<G: Entities>(self) -> Value<G> {
        match self.map_entities(&mut FromStorage) {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }
}

impl From<Value> for Value<ById> {
    fn from(value: Value) -> Value<ById> {
        value.into_entities()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::EdgeTypeId;

    /// Storage values hold no entities, so the entity variants must not make them larger:
    /// every stored property and every index key pays for this size.
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn entity_variants_take_no_space_in_storage_values() {
        assert_eq!(std::mem::size_of::<Value>(), 48);
        assert_eq!(std::mem::size_of::<Option<Value>>(), 48);
        assert_eq!(std::mem::size_of::<Value<ById>>(), 48);
    }

    fn edge(id: u64) -> EdgeRef {
        EdgeRef {
            gid: Gid(id),
            from: Gid(1),
            to: Gid(2),
            edge_type: EdgeTypeId(0),
        }
    }

    #[test]
    fn storage_values_widen_and_narrow_back_unless_they_hold_an_entity() {
        let stored = Value::List(vec![Value::Int(1), Value::from("a")]);
        let by_id: Value<ById> = stored.clone().into();
        assert_eq!(by_id.to_value(), Some(stored.clone()));
        assert_eq!(by_id.into_value(), Some(stored));
        let nested = Value::<ById>::List(vec![Value::Int(1), Value::Node(Gid(3))]);
        assert_eq!(nested.to_value(), None);
        assert_eq!(nested.into_value(), None);
    }

    /// A mapping that renumbers nodes and refuses relationships.
    struct Renumber;

    impl EntityMap<ById, ById> for Renumber {
        type Error = &'static str;
        fn node(&mut self, node: Gid) -> Result<Gid, &'static str> {
            Ok(Gid(node.0 + 100))
        }
        fn relationship(&mut self, _: EdgeRef) -> Result<EdgeRef, &'static str> {
            Err("no relationships")
        }
        fn path(&mut self, path: PathValue) -> Result<PathValue, &'static str> {
            Ok(path)
        }
    }

    #[test]
    fn map_entities_reaches_nested_entities_and_stops_at_the_first_error() {
        let value = Value::<ById>::Map([("n".to_string(), Value::List(vec![Value::Node(Gid(1))]))].into());
        let mapped = value.map_entities(&mut Renumber).unwrap();
        assert_eq!(mapped.to_string(), "{n: [(#101)]}");
        let refused = Value::<ById>::List(vec![Value::Node(Gid(1)), Value::Relationship(edge(7))]);
        assert_eq!(refused.map_entities(&mut Renumber), Err("no relationships"));
    }

    #[test]
    fn entities_by_id_render_compare_and_order_by_id() {
        let path = Value::<ById>::Path(PathValue {
            start: Gid(3),
            steps: vec![(edge(7), Gid(4))],
        });
        assert_eq!(path.to_string(), "<(#3)-[#7]-(#4)>");
        assert_eq!(Value::<ById>::Relationship(edge(7)).to_string(), "[#7]");
        let (a, b) = (Value::<ById>::Node(Gid(1)), Value::<ById>::Node(Gid(2)));
        assert_eq!(a.cypher_eq(&b), Some(false));
        assert_eq!(a.cypher_compare(super::super::ComparisonOp::Lt, &b), None);
        assert!(a.order_cmp(&b).is_lt());
        assert_eq!(Value::<ById>::Node(Gid(1)).type_name(), "NODE");
    }
}
