//! Semantic analysis: the pass between parsing and planning that refuses, at compile
//! time and with the openCypher TCK's error types and detail codes, queries that are
//! well-formed but meaningless.
//!
//! Owns: the static type of every variable clause by clause ([`types::Ty`]), and the
//! rules that need it: variables reused with another kind (`VariableTypeConflict`,
//! `VariableAlreadyBound`), a relationship twice in one MATCH
//! (`RelationshipUniquenessViolation`), parameters as MATCH/MERGE property maps
//! (`InvalidParameterUse`), what DELETE accepts (`InvalidDelete`, `InvalidArgumentType`),
//! the expression type rules of [`types`], and parameters the statement uses but the
//! caller did not supply (`MissingParameter`).
//!
//! Promises the planner: a query that passes has none of these faults, so the planner
//! only resolves names to slots and checks scoping and aggregation. Needs: the parsed
//! [`Query`] and the names of the supplied parameters, nothing from storage.

mod types;

#[cfg(test)]
mod tests;

use crate::ast::{
    Clause, ClauseKind, Expr, ExprKind, NodePattern, PatternElement, PatternPart, Projection, Query, RelPattern,
    RemoveItem, SetItem, SingleQuery,
};
use crate::error::{ErrorKind, QueryError, Result};
use std::collections::{BTreeSet, HashMap, HashSet};
use types::Ty;

/// The variables visible at a point of a query, with their static types.
pub(crate) type Scope = HashMap<String, Ty>;

/// Where a pattern occurs: what it may bind and which rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PatternUse {
    /// MATCH, OPTIONAL MATCH, EXISTS { } and pattern comprehensions.
    Match,
    /// A pattern used as a predicate (`WHERE (a)-->()`).
    Predicate,
}

/// The state of one analysis: the parameters seen so far.
#[derive(Default)]
pub(crate) struct Analyzer {
    parameters: BTreeSet<String>,
}

/// Checks `query` against the semantic rules; `supplied` names the parameters the caller
/// passed (each `$name` the statement uses must be among them).
pub fn analyze(query: &Query, supplied: &HashSet<String>) -> Result<()> {
    let mut analyzer = Analyzer::default();
    analyzer.single(&query.first)?;
    for (_, part) in &query.unions {
        analyzer.single(part)?;
    }
    if let Some(missing) = analyzer.parameters.iter().find(|p| !supplied.contains(*p)) {
        return Err(QueryError::compile(
            ErrorKind::SemanticError,
            "MissingParameter",
            format!("Expected parameter: ${missing}"),
        ));
    }
    Ok(())
}

/// A `VariableTypeConflict` error: `name` holds a `t` where `wanted` is needed.
pub(crate) fn mismatch(name: &str, t: &Ty, wanted: &str) -> QueryError {
    QueryError::compile(
        ErrorKind::SyntaxError,
        "VariableTypeConflict",
        format!(
            "Type mismatch: `{name}` is defined as {}, cannot be used as {wanted}",
            t.name()
        ),
    )
}

fn already_bound(name: &str) -> QueryError {
    QueryError::compile(
        ErrorKind::SyntaxError,
        "VariableAlreadyBound",
        format!("Variable `{name}` already declared"),
    )
}

impl Analyzer {
    fn single(&mut self, q: &SingleQuery) -> Result<()> {
        self.clauses(&q.clauses, &mut Scope::new())
    }

    /// Clauses in order from `scope` (a subquery starts from its outer scope).
    pub(crate) fn clauses(&mut self, clauses: &[Clause], scope: &mut Scope) -> Result<()> {
        for clause in clauses {
            self.clause(clause, scope).map_err(|e| e.at(clause.position))?;
        }
        Ok(())
    }

    fn clause(&mut self, clause: &Clause, scope: &mut Scope) -> Result<()> {
        match &clause.kind {
            ClauseKind::Match { pattern, where_, .. } => {
                self.pattern(pattern, scope, PatternUse::Match)?;
                unique_relationships(pattern)?;
                if let Some(w) = where_ {
                    self.predicate(w, scope)?;
                }
            }
            ClauseKind::Unwind { expr, variable } => {
                let element = match self.expr(expr, scope)? {
                    Ty::List(t) => *t,
                    Ty::Null => Ty::Any,
                    other => other,
                };
                scope.insert(variable.clone(), element);
            }
            ClauseKind::With(p) | ClauseKind::Return(p) => self.projection(p, scope)?,
            ClauseKind::Create { pattern } => {
                for part in pattern {
                    self.create_part(part, scope, None)?;
                }
            }
            ClauseKind::Merge {
                part,
                on_create,
                on_match,
            } => {
                let before = scope.clone();
                self.create_part(part, scope, Some(&before))?;
                self.set_items(on_create, scope)?;
                self.set_items(on_match, scope)?;
            }
            ClauseKind::Set { items } => self.set_items(items, scope)?,
            ClauseKind::Remove { items } => {
                for item in items {
                    if let RemoveItem::Property { target, .. } = item {
                        self.expr(target, scope)?;
                    }
                }
            }
            ClauseKind::Delete { exprs, .. } => {
                for e in exprs {
                    self.deleted(e, scope)?;
                }
            }
            ClauseKind::Call {
                args, yields, where_, ..
            } => {
                for arg in args.iter().flatten() {
                    self.expr(arg, scope)?;
                }
                for item in yields.iter().flatten() {
                    scope.insert(item.alias.clone().unwrap_or_else(|| item.field.clone()), Ty::Any);
                }
                if let Some(w) = where_ {
                    self.predicate(w, scope)?;
                }
            }
            ClauseKind::LoadCsv {
                source,
                headers,
                variable,
                ..
            } => {
                self.expr(source, scope)?;
                let record = if *headers { Ty::Map } else { Ty::List(Box::new(Ty::Str)) };
                scope.insert(variable.clone(), record);
            }
            ClauseKind::Subquery {
                query,
                batch,
                scope: declared,
            } => {
                let mut returned = Scope::new();
                for part in std::iter::once(&query.first).chain(query.unions.iter().map(|(_, p)| p)) {
                    let imports = part.imports();
                    let sees = |name: &str| match declared {
                        Some(declared) => declared.includes(name),
                        None => imports.includes(name),
                    };
                    let mut inner: Scope = scope
                        .iter()
                        .filter(|(name, _)| sees(name))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    self.clauses(&part.clauses, &mut inner)?;
                    if part.returns() {
                        returned = inner;
                    }
                }
                if let Some(Some(rows)) = batch {
                    self.expr(rows, &Scope::new())?;
                }
                scope.extend(returned);
            }
            ClauseKind::Foreach {
                variable,
                list,
                clauses,
            } => {
                let (mut inner, _) = self.iteration_scope(list, variable, scope)?;
                for c in clauses {
                    self.clause(c, &mut inner).map_err(|e| e.at(c.position))?;
                }
            }
        }
        Ok(())
    }

    /// WITH / RETURN: items are typed in the incoming scope; ORDER BY and WHERE see both
    /// the incoming and the projected names; afterwards only the projected ones remain.
    fn projection(&mut self, p: &Projection, scope: &mut Scope) -> Result<()> {
        let mut projected = if p.star { scope.clone() } else { Scope::new() };
        for item in &p.items {
            let t = self.expr(&item.expr, scope)?;
            let name = match (&item.alias, &item.expr.kind) {
                (Some(alias), _) => alias.clone(),
                (None, ExprKind::Variable(v)) => v.clone(),
                (None, _) => item.text.clone(),
            };
            projected.insert(name, t);
        }
        let mut both = scope.clone();
        both.extend(projected.iter().map(|(k, v)| (k.clone(), v.clone())));
        for sort in &p.order_by {
            self.expr(&sort.expr, &both)?;
        }
        for e in p.skip.iter().chain(p.limit.iter()) {
            self.expr(e, &both)?;
        }
        if let Some(w) = &p.where_ {
            self.predicate(w, &both)?;
        }
        *scope = projected;
        Ok(())
    }

    /// One DELETE operand: a node, relationship or path (labels cannot be deleted).
    fn deleted(&mut self, e: &Expr, scope: &Scope) -> Result<()> {
        if let ExprKind::HasLabels(..) = e.kind {
            return Err(QueryError::compile(
                ErrorKind::SyntaxError,
                "InvalidDelete",
                "DELETE removes nodes, relationships and paths; use REMOVE to remove labels",
            )
            .at(e.position));
        }
        let t = self.expr(e, scope)?;
        if !(t.is_entity() || matches!(t, Ty::Any | Ty::Null)) {
            return Err(QueryError::compile(
                ErrorKind::SyntaxError,
                "InvalidArgumentType",
                format!("DELETE needs a node, relationship or path, got {}", t.name()),
            )
            .at(e.position));
        }
        Ok(())
    }

    fn set_items(&mut self, items: &[SetItem], scope: &Scope) -> Result<()> {
        for item in items {
            match item {
                SetItem::Property { target, value, .. } => {
                    self.expr(target, scope)?;
                    self.expr(value, scope)?;
                }
                SetItem::Variable { value, .. } => {
                    self.expr(value, scope)?;
                }
                SetItem::Labels { .. } => {}
            }
        }
        Ok(())
    }

    /// The parts of a MATCH-like pattern, binding their variables in `scope`.
    pub(crate) fn pattern(&mut self, parts: &[PatternPart], scope: &mut Scope, usage: PatternUse) -> Result<()> {
        for part in parts {
            self.element(&part.element, part.variable.as_deref(), scope, usage)?;
        }
        Ok(())
    }

    /// One pattern element (with its path variable, if any) in a MATCH-like pattern.
    pub(crate) fn element(
        &mut self,
        e: &PatternElement,
        path: Option<&str>,
        scope: &mut Scope,
        usage: PatternUse,
    ) -> Result<()> {
        self.node(&e.start, scope, usage)?;
        for (r, n) in &e.chain {
            self.rel(r, scope, usage)?;
            self.node(n, scope, usage)?;
        }
        self.path(path, scope)
    }

    /// A path variable is always new: reusing any name for it is `VariableAlreadyBound`.
    fn path(&mut self, path: Option<&str>, scope: &mut Scope) -> Result<()> {
        if let Some(name) = path {
            if scope.contains_key(name) {
                return Err(already_bound(name));
            }
            scope.insert(name.to_owned(), Ty::Path);
        }
        Ok(())
    }

    fn node(&mut self, n: &NodePattern, scope: &mut Scope, usage: PatternUse) -> Result<()> {
        self.properties(n.properties.as_deref(), scope, usage != PatternUse::Predicate)
            .map_err(|e| e.at(n.position))?;
        if let Some(name) = &n.variable {
            match scope.get(name) {
                Some(t) if !fits_node(t) => return Err(mismatch(name, t, "a node").at(n.position)),
                Some(_) => {}
                None => {
                    scope.insert(name.clone(), Ty::Node);
                }
            }
        }
        Ok(())
    }

    fn rel(&mut self, r: &RelPattern, scope: &mut Scope, usage: PatternUse) -> Result<()> {
        self.properties(r.properties.as_deref(), scope, usage != PatternUse::Predicate)
            .map_err(|e| e.at(r.position))?;
        if let Some(search) = &r.search {
            for lambda in search.weight.iter().chain(search.filter.iter()) {
                let mut inner = scope.clone();
                inner.insert(lambda.edge.clone(), Ty::Rel);
                inner.insert(lambda.node.clone(), Ty::Node);
                self.expr(&lambda.body, &inner)?;
            }
            if let Some(total) = &search.total {
                scope.insert(total.clone(), Ty::Float);
            }
        }
        let Some(name) = &r.variable else {
            return Ok(());
        };
        let variable_length = r.length.is_some();
        match scope.get(name) {
            None => {
                let t = if variable_length {
                    Ty::List(Box::new(Ty::Rel))
                } else {
                    Ty::Rel
                };
                scope.insert(name.clone(), t);
            }
            Some(Ty::Any | Ty::Null) => {}
            Some(Ty::List(_)) if variable_length => {}
            Some(Ty::Rel) if !variable_length => {}
            Some(t) => {
                let wanted = if variable_length {
                    "a list of relationships"
                } else {
                    "a relationship"
                };
                return Err(mismatch(name, t, wanted).at(r.position));
            }
        }
        Ok(())
    }

    /// A property map of a pattern; `matching` patterns (MATCH, MERGE) may not take the
    /// whole map from a parameter, as the planner could not use it to find entities.
    fn properties(&mut self, props: Option<&Expr>, scope: &Scope, matching: bool) -> Result<()> {
        let Some(props) = props else {
            return Ok(());
        };
        if matching {
            if let ExprKind::Parameter(name) = &props.kind {
                return Err(QueryError::compile(
                    ErrorKind::SyntaxError,
                    "InvalidParameterUse",
                    format!("Parameter maps cannot be used in MATCH or MERGE patterns (${name}); use WHERE"),
                ));
            }
        }
        self.expr(props, scope)?;
        Ok(())
    }

    /// A CREATE part (`merge_before: None`) or MERGE's (`Some(names bound before it)`).
    /// A node bound before may appear only as a bare endpoint of a relationship; a
    /// relationship or path variable must be new.
    fn create_part(&mut self, part: &PatternPart, scope: &mut Scope, merge_before: Option<&Scope>) -> Result<()> {
        let element = &part.element;
        let nodes = std::iter::once(&element.start).chain(element.chain.iter().map(|(_, n)| n));
        for n in nodes {
            self.properties(n.properties.as_deref(), scope, merge_before.is_some())
                .map_err(|e| e.at(n.position))?;
            let Some(name) = &n.variable else { continue };
            let bound = match merge_before {
                Some(before) => before.get(name),
                None => scope.get(name),
            };
            match bound {
                Some(t) if !fits_node(t) => return Err(mismatch(name, t, "a node").at(n.position)),
                Some(_) if element.chain.is_empty() || !n.labels.is_empty() || n.properties.is_some() => {
                    return Err(already_bound(name).at(n.position))
                }
                _ => {
                    scope.entry(name.clone()).or_insert(Ty::Node);
                }
            }
        }
        // Relationships and paths are always created (or merged) anew.
        let fresh = |name: &String, scope: &Scope| match merge_before {
            Some(before) => !before.contains_key(name),
            None => !scope.contains_key(name),
        };
        for (r, _) in &element.chain {
            self.properties(r.properties.as_deref(), scope, merge_before.is_some())
                .map_err(|e| e.at(r.position))?;
            if let Some(name) = &r.variable {
                if !fresh(name, scope) {
                    return Err(already_bound(name).at(r.position));
                }
                scope.insert(name.clone(), Ty::Rel);
            }
        }
        if let Some(name) = &part.variable {
            if !fresh(name, scope) {
                return Err(already_bound(name));
            }
            scope.insert(name.clone(), Ty::Path);
        }
        Ok(())
    }
}

/// CREATE, MERGE, SET, REMOVE, DELETE and FOREACH.
pub(crate) fn is_update(kind: &ClauseKind) -> bool {
    match kind {
        ClauseKind::Subquery { query, .. } => std::iter::once(&query.first)
            .chain(query.unions.iter().map(|(_, part)| part))
            .any(|part| part.clauses.iter().any(|c| is_update(&c.kind))),
        _ => matches!(
            kind,
            ClauseKind::Create { .. }
                | ClauseKind::Merge { .. }
                | ClauseKind::Set { .. }
                | ClauseKind::Remove { .. }
                | ClauseKind::Delete { .. }
                | ClauseKind::Foreach { .. }
        ),
    }
}

fn fits_node(t: &Ty) -> bool {
    matches!(t, Ty::Node | Ty::Any | Ty::Null)
}

/// Within one MATCH, a relationship variable of fixed length may occur only once: one
/// relationship cannot be traversed twice in a match (relationship isomorphism).
fn unique_relationships(parts: &[PatternPart]) -> Result<()> {
    let mut seen = HashSet::new();
    for (r, _) in parts.iter().flat_map(|p| &p.element.chain) {
        if let (Some(name), None) = (&r.variable, r.length) {
            if !seen.insert(name.as_str()) {
                return Err(QueryError::compile(
                    ErrorKind::SyntaxError,
                    "RelationshipUniquenessViolation",
                    format!("Cannot use the same relationship variable `{name}` for multiple relationships"),
                )
                .at(r.position));
            }
        }
    }
    Ok(())
}
