//! Variable scopes of the planner: which names are visible at a point of a query, what
//! they hold, and which row slot stores each (static types and their checks belong to
//! the semantic pass, `semantic/`).
//!
//! A row is a fixed-width vector of values; each variable gets a slot for the whole
//! query, so operators never move values around. WITH and RETURN end a scope: the names
//! visible after them are exactly the projected ones.

use crate::error::{ErrorKind, QueryError, Result};
use std::collections::HashMap;

/// What a variable is known to hold (carried through projections for planning).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarKind {
    Node,
    Relationship,
    /// A variable-length relationship: a list of relationships.
    RelationshipList,
    Path,
    /// A value known not to be a graph entity (a literal, map, arithmetic...).
    Value,
    /// A list value (which may hold relationships, so it can bind `[r*]`).
    List,
    Any,
}

/// Names in scope and the allocator of row slots.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    vars: HashMap<String, (usize, VarKind)>,
    /// Visible names in the order they were introduced (for `RETURN *`).
    order: Vec<String>,
}

/// Hands out row slots for one query.
#[derive(Debug, Default)]
pub struct Slots {
    next: usize,
}

impl Slots {
    /// A fresh slot.
    pub fn alloc(&mut self) -> usize {
        self.next += 1;
        self.next - 1
    }

    /// Row width needed so far.
    pub fn width(&self) -> usize {
        self.next
    }
}

impl Scope {
    /// The slot and kind of `name`, if visible.
    pub fn get(&self, name: &str) -> Option<(usize, VarKind)> {
        self.vars.get(name).copied()
    }

    /// The slot of `name`, or an `UndefinedVariable` error.
    pub fn slot(&self, name: &str) -> Result<usize> {
        self.get(name).map(|(s, _)| s).ok_or_else(|| {
            QueryError::compile(
                ErrorKind::SyntaxError,
                "UndefinedVariable",
                format!("Variable `{name}` not defined"),
            )
        })
    }

    /// Binds a new name to a new slot (shadowing nothing: callers check first).
    pub fn bind(&mut self, name: &str, kind: VarKind, slots: &mut Slots) -> usize {
        let slot = slots.alloc();
        self.bind_slot(name, slot, kind);
        slot
    }

    /// Binds `name` to an existing slot.
    pub fn bind_slot(&mut self, name: &str, slot: usize, kind: VarKind) {
        if self.vars.insert(name.to_owned(), (slot, kind)).is_none() {
            self.order.push(name.to_owned());
        }
    }

    /// Binds `name` for a pattern: reuses a visible binding (semantic analysis has
    /// checked that its kind fits) or creates a new slot.
    pub fn bind_pattern(&mut self, name: &str, kind: VarKind, slots: &mut Slots) -> usize {
        match self.get(name) {
            Some((slot, _)) => slot,
            None => self.bind(name, kind, slots),
        }
    }

    /// The names for which `keep` holds, with their slots, plus every generated one.
    pub fn only(&self, keep: impl Fn(&str) -> bool) -> Scope {
        let mut scope = Scope::default();
        for name in &self.order {
            if let Some((slot, kind)) = self.get(name).filter(|_| name.starts_with("  ") || keep(name)) {
                scope.bind_slot(name, slot, kind);
            }
        }
        scope
    }

    /// Visible names in introduction order, skipping generated ones.
    pub fn names(&self) -> Vec<String> {
        self.order
            .iter()
            .filter(|n| self.vars.contains_key(*n) && !n.starts_with("  "))
            .cloned()
            .collect()
    }
}
