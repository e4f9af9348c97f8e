//! The graph access seam between expressions/functions and storage.
//!
//! Functions such as `labels(n)`, `properties(r)` or `type(r)` read the graph through
//! [`GraphContext`], so they do not depend on how the graph is stored (a local
//! transaction today; replicated or sharded access later).

use crate::error::Result;
use crate::value::QValue;
use std::collections::BTreeMap;
use weft_common::temporal::ZonedDateTime;
use weft_storage::{EdgeRef, Gid};

/// Read access to the graph a statement runs against.
pub trait GraphContext {
    /// A node's labels (an `EntityNotFound` error for a node deleted in this transaction).
    fn node_labels(&self, node: Gid) -> Result<Vec<String>>;
    /// One property (`QValue::Null` when not set).
    fn node_property(&self, node: Gid, key: &str) -> Result<QValue>;
    /// All properties.
    fn node_properties(&self, node: Gid) -> Result<BTreeMap<String, QValue>>;
    /// One relationship property (`QValue::Null` when not set).
    fn rel_property(&self, rel: &EdgeRef, key: &str) -> Result<QValue>;
    /// All relationship properties.
    fn rel_properties(&self, rel: &EdgeRef) -> Result<BTreeMap<String, QValue>>;
    /// A relationship's type name.
    fn rel_type(&self, rel: &EdgeRef) -> String;
    /// The statement's clock: every call within one statement returns the same instant.
    fn statement_time(&self) -> ZonedDateTime;
}
