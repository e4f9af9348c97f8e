//! Static types of expressions, as far as the query text fixes them, and the type rules
//! openCypher checks at compile time: boolean contexts, arithmetic and `IN` operands,
//! property access, the graph functions (`labels`, `type`, `length`, `size`) and
//! non-deterministic functions inside aggregates.
//!
//! Inference is deliberately partial: literals, graph entities bound by patterns and what
//! is built from them get a type, everything else (parameters, most function results,
//! property values) is [`Ty::Any`]. A rule fires only on a type known to be wrong, so a
//! query that could succeed is never refused.

use super::{mismatch, Analyzer, Scope};
use crate::ast::{BinaryOp, Expr, ExprKind, MapProjectionItem, UnaryOp};
use crate::error::{ErrorKind, QueryError, Result};

/// What an expression is known to evaluate to.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Ty {
    Any,
    Null,
    Bool,
    Int,
    Float,
    Str,
    Map,
    Node,
    Rel,
    Path,
    List(Box<Ty>),
}

impl Ty {
    /// The name used in messages.
    pub(crate) fn name(&self) -> String {
        match self {
            Ty::Any => "Any".into(),
            Ty::Null => "Null".into(),
            Ty::Bool => "Boolean".into(),
            Ty::Int => "Integer".into(),
            Ty::Float => "Float".into(),
            Ty::Str => "String".into(),
            Ty::Map => "Map".into(),
            Ty::Node => "Node".into(),
            Ty::Rel => "Relationship".into(),
            Ty::Path => "Path".into(),
            Ty::List(t) => format!("List<{}>", t.name()),
        }
    }

    /// May hold a value of `self` where one of `allowed` is needed (unknown and null
    /// always may).
    fn fits(&self, allowed: &[Ty]) -> bool {
        matches!(self, Ty::Any | Ty::Null)
            || allowed
                .iter()
                .any(|a| a == self || (matches!(a, Ty::List(_)) && matches!(self, Ty::List(_))))
    }

    /// A graph entity (node, relationship or path).
    pub(crate) fn is_entity(&self) -> bool {
        matches!(self, Ty::Node | Ty::Rel | Ty::Path)
    }

    /// The element type of a list (an unknown value's elements are unknown).
    pub(crate) fn element(&self) -> Ty {
        match self {
            Ty::List(t) => (**t).clone(),
            _ => Ty::Any,
        }
    }
}

/// The common type of several values: their type if they agree (nulls aside), else Any.
fn common(types: impl IntoIterator<Item = Ty>) -> Ty {
    let mut out: Option<Ty> = None;
    for t in types {
        out = match (out, t) {
            (o, Ty::Null) => o,
            (None, t) => Some(t),
            (Some(o), t) if o == t => Some(o),
            _ => return Ty::Any,
        };
    }
    out.unwrap_or(Ty::Any)
}

/// A compile-time `InvalidArgumentType` syntax error.
fn invalid(message: String) -> QueryError {
    QueryError::compile(ErrorKind::SyntaxError, "InvalidArgumentType", message)
}

impl Analyzer {
    /// The scope inside an iteration over `list` (a comprehension, quantifier, reduce or
    /// FOREACH): `scope` plus `variable` typed as the list's element, which is returned too.
    pub(crate) fn iteration_scope(&mut self, list: &Expr, variable: &str, scope: &Scope) -> Result<(Scope, Ty)> {
        let element = self.expr(list, scope)?.element();
        let mut inner = scope.clone();
        inner.insert(variable.to_string(), element.clone());
        Ok((inner, element))
    }

    /// The type of `e` in `scope`, checking every rule on the way.
    pub(crate) fn expr(&mut self, e: &Expr, scope: &Scope) -> Result<Ty> {
        self.expr_inner(e, scope).map_err(|err| err.at(e.position))
    }

    /// Checks `e` where a boolean is needed (WHERE, AND/OR/NOT, quantifier predicates).
    pub(crate) fn predicate(&mut self, e: &Expr, scope: &Scope) -> Result<()> {
        let t = self.expr(e, scope)?;
        if !t.fits(&[Ty::Bool]) {
            return Err(invalid(format!("Type mismatch: expected Boolean but was {}", t.name())).at(e.position));
        }
        Ok(())
    }

    fn expr_inner(&mut self, e: &Expr, scope: &Scope) -> Result<Ty> {
        Ok(match &e.kind {
            ExprKind::Null => Ty::Null,
            ExprKind::Bool(_) => Ty::Bool,
            ExprKind::Int(_) => Ty::Int,
            ExprKind::Float(_) => Ty::Float,
            ExprKind::String(_) => Ty::Str,
            ExprKind::Parameter(name) => {
                self.parameters.insert(name.clone());
                Ty::Any
            }
            ExprKind::Variable(v) => scope.get(v).cloned().unwrap_or(Ty::Any),
            ExprKind::List(items) => {
                let mut types = Vec::new();
                for item in items {
                    types.push(self.expr(item, scope)?);
                }
                Ty::List(Box::new(common(types)))
            }
            ExprKind::Map(entries) => {
                for (_, v) in entries {
                    self.expr(v, scope)?;
                }
                Ty::Map
            }
            ExprKind::Property(base, key) => {
                let t = self.expr(base, scope)?;
                if t == Ty::Path {
                    return Err(invalid(format!(
                        "Type mismatch: a path has no properties, cannot read `{key}`"
                    )));
                }
                if !t.fits(&[Ty::Map, Ty::Node, Ty::Rel]) {
                    return Err(QueryError::compile(
                        ErrorKind::TypeError,
                        "InvalidArgumentType",
                        format!("Type mismatch: {} has no properties, cannot read `{key}`", t.name()),
                    ));
                }
                Ty::Any
            }
            ExprKind::Index(base, idx) => {
                let t = self.expr(base, scope)?;
                self.expr(idx, scope)?;
                t.element()
            }
            ExprKind::Slice(base, from, to) => {
                let t = self.expr(base, scope)?;
                for bound in from.iter().chain(to.iter()) {
                    self.expr(bound, scope)?;
                }
                t
            }
            ExprKind::Unary(op, inner) => match op {
                UnaryOp::Not => {
                    self.predicate(inner, scope)?;
                    Ty::Bool
                }
                UnaryOp::Minus | UnaryOp::Plus => match self.expr(inner, scope)? {
                    t @ (Ty::Int | Ty::Float) => t,
                    _ => Ty::Any,
                },
            },
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, scope)?,
            ExprKind::Comparison(first, rest) => {
                self.expr(first, scope)?;
                for (_, x) in rest {
                    self.expr(x, scope)?;
                }
                Ty::Bool
            }
            ExprKind::IsNull(inner, _) | ExprKind::HasLabels(inner, _) => {
                self.expr(inner, scope)?;
                Ty::Bool
            }
            ExprKind::Function { name, args, .. } => self.function(name, args, scope)?,
            ExprKind::CountStar => Ty::Int,
            ExprKind::Case { subject, whens, else_ } => {
                let mut results = Vec::new();
                if let Some(s) = subject {
                    self.expr(s, scope)?;
                }
                for (w, t) in whens {
                    self.expr(w, scope)?;
                    results.push(self.expr(t, scope)?);
                }
                match else_ {
                    Some(x) => results.push(self.expr(x, scope)?),
                    None => results.push(Ty::Null),
                }
                common(results)
            }
            ExprKind::ListComprehension {
                variable,
                list,
                predicate,
                projection,
            } => {
                let (inner, element) = self.iteration_scope(list, variable, scope)?;
                if let Some(p) = predicate {
                    self.predicate(p, &inner)?;
                }
                let item = match projection {
                    Some(p) => self.expr(p, &inner)?,
                    None => element,
                };
                Ty::List(Box::new(item))
            }
            ExprKind::Quantifier {
                variable,
                list,
                predicate,
                ..
            } => {
                let (inner, _) = self.iteration_scope(list, variable, scope)?;
                if let Some(p) = predicate {
                    self.predicate(p, &inner)?;
                }
                Ty::Bool
            }
            ExprKind::Reduce {
                accumulator,
                init,
                variable,
                list,
                expr,
            } => {
                self.expr(init, scope)?;
                let (mut inner, element) = self.iteration_scope(list, variable, scope)?;
                inner.insert(accumulator.clone(), Ty::Any);
                // The element variable shadows an accumulator of the same name.
                inner.insert(variable.clone(), element);
                self.expr(expr, &inner)?;
                Ty::Any
            }
            ExprKind::PatternPredicate(element) => {
                let mut inner = scope.clone();
                self.element(element, None, &mut inner, super::PatternUse::Predicate)?;
                Ty::Bool
            }
            ExprKind::ExistsSubquery { pattern, where_ } => {
                let mut inner = scope.clone();
                self.pattern(pattern, &mut inner, super::PatternUse::Match)?;
                if let Some(w) = where_ {
                    self.predicate(w, &inner)?;
                }
                Ty::Bool
            }
            ExprKind::CountQuery(q) | ExprKind::CollectQuery(q) => {
                let count = matches!(e.kind, ExprKind::CountQuery(_));
                for part in std::iter::once(&q.first).chain(q.unions.iter().map(|(_, p)| p)) {
                    if part.clauses.iter().any(|c| super::is_update(&c.kind)) {
                        return Err(QueryError::compile(
                            ErrorKind::SyntaxError,
                            "InvalidClauseComposition",
                            "A COUNT or COLLECT subquery cannot update the graph",
                        ));
                    }
                    let mut inner = scope.clone();
                    self.clauses(&part.clauses, &mut inner)?;
                }
                if count {
                    Ty::Int
                } else {
                    Ty::List(Box::new(Ty::Any))
                }
            }
            ExprKind::ExistsQuery(q) => {
                if q.clauses.iter().any(|c| super::is_update(&c.kind)) {
                    return Err(QueryError::compile(
                        ErrorKind::SyntaxError,
                        "InvalidClauseComposition",
                        "An EXISTS subquery cannot update the graph",
                    ));
                }
                let mut inner = scope.clone();
                self.clauses(&q.clauses, &mut inner)?;
                Ty::Bool
            }
            ExprKind::PatternComprehension {
                variable,
                pattern,
                predicate,
                projection,
            } => {
                let mut inner = scope.clone();
                self.element(pattern, variable.as_deref(), &mut inner, super::PatternUse::Match)?;
                if let Some(p) = predicate {
                    self.predicate(p, &inner)?;
                }
                Ty::List(Box::new(self.expr(projection, &inner)?))
            }
            ExprKind::MapProjection { variable, items } => {
                let t = scope.get(variable).cloned().unwrap_or(Ty::Any);
                if !t.fits(&[Ty::Map, Ty::Node, Ty::Rel]) {
                    return Err(mismatch(variable, &t, "a map, node or relationship"));
                }
                for item in items {
                    if let MapProjectionItem::Literal(_, x) = item {
                        self.expr(x, scope)?;
                    }
                }
                Ty::Map
            }
        })
    }

    fn binary(&mut self, op: BinaryOp, a: &Expr, b: &Expr, scope: &Scope) -> Result<Ty> {
        if matches!(op, BinaryOp::And | BinaryOp::Or | BinaryOp::Xor) {
            self.predicate(a, scope)?;
            self.predicate(b, scope)?;
            return Ok(Ty::Bool);
        }
        let (left, right) = (self.expr(a, scope)?, self.expr(b, scope)?);
        Ok(match op {
            BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod | BinaryOp::Pow => {
                // Temporal arithmetic is typed Any, so only values that are never
                // operands of these operators are refused.
                for t in [&left, &right] {
                    if matches!(t, Ty::Bool | Ty::Str | Ty::Map | Ty::List(_)) || t.is_entity() {
                        return Err(invalid(format!(
                            "Type mismatch: arithmetic needs numbers, got {} and {}",
                            left.name(),
                            right.name()
                        )));
                    }
                }
                numeric(&left, &right, op == BinaryOp::Pow)
            }
            BinaryOp::Add => match (&left, &right) {
                (Ty::List(x), Ty::List(y)) => Ty::List(Box::new(common([(**x).clone(), (**y).clone()]))),
                (Ty::List(_), _) | (_, Ty::List(_)) => Ty::List(Box::new(Ty::Any)),
                (Ty::Str, Ty::Str) => Ty::Str,
                _ => numeric(&left, &right, false),
            },
            BinaryOp::In => {
                if !right.fits(&[Ty::List(Box::new(Ty::Any))]) {
                    return Err(invalid(format!(
                        "Type mismatch: `IN` needs a list on its right, got {}",
                        right.name()
                    )));
                }
                Ty::Bool
            }
            _ => Ty::Bool,
        })
    }

    fn function(&mut self, name: &str, args: &[Expr], scope: &Scope) -> Result<Ty> {
        let lower = name.to_lowercase();
        let aggregate = crate::functions::is_aggregate(&lower);
        let mut types = Vec::new();
        for arg in args {
            if aggregate && calls_random(arg) {
                return Err(QueryError::compile(
                    ErrorKind::SyntaxError,
                    "NonConstantExpression",
                    format!("Non-deterministic functions such as rand() cannot be used inside {name}()"),
                )
                .at(arg.position));
            }
            types.push(self.expr(arg, scope)?);
        }
        let first = types.first().cloned().unwrap_or(Ty::Any);
        let (allowed, needed): (&[Ty], &str) = match lower.as_str() {
            "labels" => (&[Ty::Node], "a node"),
            "type" => (&[Ty::Rel], "a relationship"),
            "length" => (&[Ty::Path, Ty::Str, Ty::List(Box::new(Ty::Any))], "a path"),
            "size" => (&[Ty::Str, Ty::List(Box::new(Ty::Any))], "a list or a string"),
            "nodes" | "relationships" => (&[Ty::Path], "a path"),
            _ => (&[], ""),
        };
        if !allowed.is_empty() && !first.fits(allowed) {
            return Err(invalid(format!(
                "Type mismatch: {name}() needs {needed}, got {}",
                first.name()
            )));
        }
        Ok(match lower.as_str() {
            "labels" | "keys" => Ty::List(Box::new(Ty::Str)),
            "type" | "tostring" => Ty::Str,
            "length" | "size" | "count" | "id" | "tointeger" => Ty::Int,
            "tofloat" => Ty::Float,
            "toboolean" => Ty::Bool,
            "nodes" => Ty::List(Box::new(Ty::Node)),
            "relationships" => Ty::List(Box::new(Ty::Rel)),
            "collect" => Ty::List(Box::new(first)),
            "startnode" | "endnode" => Ty::Node,
            _ => Ty::Any,
        })
    }
}

/// The type of an arithmetic result over two operands (`^` always gives a float).
fn numeric(left: &Ty, right: &Ty, pow: bool) -> Ty {
    match (left, right) {
        (Ty::Int, Ty::Int) if !pow => Ty::Int,
        (Ty::Int | Ty::Float, Ty::Int | Ty::Float) => Ty::Float,
        _ => Ty::Any,
    }
}

/// True when `e` calls `rand()` anywhere.
fn calls_random(e: &Expr) -> bool {
    let mut found = false;
    crate::expr::visit(e, &mut |x| {
        found |= matches!(&x.kind, ExprKind::Function { name, .. } if name.eq_ignore_ascii_case("rand"));
    });
    found
}
