//! Planning of WITH and RETURN: projection items, aggregation with grouping keys,
//! DISTINCT, ORDER BY, SKIP, LIMIT and WITH's WHERE, with openCypher's scoping rules
//! (after the clause only the projected names are visible).

use crate::ast::{Expr, ExprKind, Projection};
use crate::error::{ErrorKind, QueryError, Result};
use crate::exec::pipeline::{AggSpec, Op, OpKind};
use crate::expr::{compile, contains_aggregate, CExpr};
use crate::plan::scope::{Scope, VarKind};
use crate::plan::subquery::has_value_subquery;
use crate::plan::{syntax, Planner};
use std::collections::HashSet;

/// A planned projection: operator, scope after it, scope ORDER BY sees, column slots, and
/// (for aggregation) the ORDER BY keys already planned over the groups.
type Projected = (Op, Scope, Scope, Vec<usize>, Vec<(CExpr, bool)>);

/// One projected column before compilation.
struct Item<'a> {
    name: String,
    expr: &'a Expr,
    text: String,
}

impl Planner<'_> {
    /// Plans a WITH or RETURN; replaces `scope` with the projected names and returns the
    /// operator, column names and column slots.
    pub(crate) fn projection(
        &mut self,
        mut input: Op,
        scope: &mut Scope,
        p: &Projection,
        is_return: bool,
    ) -> Result<(Op, Vec<String>, Vec<usize>)> {
        // Items holding EXISTS, COUNT or COLLECT subqueries read their values from
        // generated variables, computed for each incoming row first.
        let hoisted;
        let p = if p.items.iter().any(|i| has_value_subquery(&i.expr)) {
            let mut owned = p.clone();
            for item in &mut owned.items {
                self.hoist_subqueries(&mut input, scope, &mut item.expr)?;
            }
            hoisted = owned;
            &hoisted
        } else {
            p
        };
        let star_exprs: Vec<Expr> = if p.star {
            // `*` projects the visible names in alphabetical order (as openCypher's
            // column order for `RETURN *`); `WITH *` may project none.
            let mut names = scope.names();
            names.sort();
            if names.is_empty() && is_return {
                return Err(syntax(
                    "NoVariablesInScope",
                    "RETURN * is not allowed when there are no variables in scope",
                ));
            }
            names
                .into_iter()
                .map(|n| Expr {
                    kind: ExprKind::Variable(n),
                    position: Default::default(),
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut items: Vec<Item> = star_exprs
            .iter()
            .map(|e| {
                let ExprKind::Variable(n) = &e.kind else {
                    unreachable!("star items are variables")
                };
                Item {
                    name: n.clone(),
                    expr: e,
                    text: n.clone(),
                }
            })
            .collect();
        for item in &p.items {
            let name = match (&item.alias, &item.expr.kind) {
                (Some(a), _) => a.clone(),
                (None, ExprKind::Variable(v)) => v.clone(),
                (None, _) if is_return => item.text.clone(),
                (None, _) => {
                    return Err(syntax(
                        "NoExpressionAlias",
                        "Expression in WITH must be aliased (use AS)",
                    ))
                }
            };
            items.push(Item {
                name,
                expr: &item.expr,
                text: item.text.clone(),
            });
        }
        let mut names = HashSet::new();
        if let Some(dup) = items.iter().find(|i| !names.insert(i.name.clone())) {
            return Err(syntax(
                "ColumnNameConflict",
                format!("Multiple result columns with the same name `{}`", dup.name),
            ));
        }
        let aggregating = items.iter().any(|i| contains_aggregate(i.expr));
        let (mut op, new_scope, order_scope, slots, sort_keys) = if aggregating {
            self.aggregation(input, scope, &items, &p.order_by)?
        } else {
            let (op, new_scope, order_scope, slots) = self.plain_projection(input, scope, &items, p.distinct)?;
            (op, new_scope, order_scope, slots, Vec::new())
        };
        // WITH ... WHERE sees the names before the projection, as ORDER BY does; after
        // DISTINCT they hold the values of the row kept for each distinct projection.
        let where_scope = if aggregating {
            order_scope.clone()
        } else {
            let mut where_scope = scope.clone();
            for name in new_scope.names() {
                if let Some((slot, kind)) = new_scope.get(&name) {
                    where_scope.bind_slot(&name, slot, kind);
                }
            }
            where_scope
        };
        if p.distinct {
            op = Op::new(OpKind::Distinct {
                input: Box::new(op),
                slots: slots.clone(),
                seen: crate::exec::row::FastSet::default(),
            });
        }
        // ORDER BY keys holding EXISTS, COUNT or COLLECT subqueries read generated
        // variables too, computed after the projection (so they see its names and the
        // names before it) and before the sort. An aggregating projection plans its keys
        // itself (`aggregation`), and refuses them there.
        let mut order_scope = order_scope;
        let hoisted_order;
        let p = if !aggregating && p.order_by.iter().any(|s| has_value_subquery(&s.expr)) {
            let mut owned = p.clone();
            for sort in &mut owned.order_by {
                self.hoist_subqueries(&mut op, &mut order_scope, &mut sort.expr)?;
            }
            hoisted_order = owned;
            &hoisted_order
        } else {
            p
        };
        op = self.order_skip_limit(op, &order_scope, &items, &slots, p, sort_keys)?;
        if let Some(w) = &p.where_ {
            if contains_aggregate(w) {
                return Err(syntax("InvalidAggregation", "Aggregations are not allowed in WHERE"));
            }
            let split = crate::plan::subquery::split_where(Some(w));
            if let Some(rest) = &split.rest {
                let predicate = compile(rest, &where_scope, &mut self.slots)?;
                op = Op::new(OpKind::Filter {
                    input: Box::new(op),
                    predicate,
                });
            }
            op = self.semi_apply(op, &where_scope, &split)?;
        }
        *scope = new_scope;
        Ok((op, items.into_iter().map(|i| i.name).collect(), slots))
    }

    /// Items without aggregation: each gets a slot; ORDER BY also sees the old names
    /// (unless DISTINCT).
    fn plain_projection(
        &mut self,
        input: Op,
        scope: &Scope,
        items: &[Item],
        distinct: bool,
    ) -> Result<(Op, Scope, Scope, Vec<usize>)> {
        let mut compiled = Vec::new();
        let mut new_scope = Scope::default();
        for item in items {
            let e = compile(item.expr, scope, &mut self.slots)?;
            let slot = self.slots.alloc();
            new_scope.bind_slot(&item.name, slot, kind_of(item.expr, scope));
            compiled.push((slot, e));
        }
        let slots = compiled.iter().map(|(s, _)| *s).collect();
        let mut order_scope = if distinct { Scope::default() } else { scope.clone() };
        for item in items {
            if let Some((slot, kind)) = new_scope.get(&item.name) {
                order_scope.bind_slot(&item.name, slot, kind);
            }
        }
        let op = Op::new(OpKind::Project {
            input: Box::new(input),
            items: compiled,
        });
        Ok((op, new_scope, order_scope, slots))
    }

    /// Items with aggregation: grouping keys are the items without aggregates; each
    /// aggregate call becomes a slot filled by the Aggregate operator, and the item's
    /// expression is computed over keys and aggregates afterwards.
    fn aggregation(
        &mut self,
        input: Op,
        scope: &Scope,
        items: &[Item],
        order_by: &[crate::ast::SortItem],
    ) -> Result<Projected> {
        let mut keys = Vec::new();
        let mut post = Scope::default();
        let mut specs = Vec::new();
        let mut finals = Vec::new();
        let mut new_scope = Scope::default();
        let mut slots = Vec::new();
        let key_shapes: Vec<(String, String)> = items
            .iter()
            .filter(|i| !contains_aggregate(i.expr) && !matches!(i.expr.kind, ExprKind::Variable(_)))
            .map(|i| (shape(i.expr), format!("  key {}", i.text)))
            .collect();
        // Inside an expression that aggregates, only grouping keys that are property
        // reads (`me.age`) may be reused; a larger key expression may not, since its
        // parts are not grouping keys (openCypher's AmbiguousAggregationExpression).
        let simple_keys: Vec<(String, String)> = items
            .iter()
            .filter(|i| !contains_aggregate(i.expr) && is_property_read(i.expr))
            .map(|i| (shape(i.expr), format!("  key {}", i.text)))
            .collect();
        let projected_aggregates: Vec<String> = items.iter().flat_map(|i| aggregate_shapes(i.expr)).collect();
        for item in items.iter().filter(|i| !contains_aggregate(i.expr)) {
            let slot = self.slots.alloc();
            keys.push((slot, compile(item.expr, scope, &mut self.slots)?));
            if let ExprKind::Variable(v) = &item.expr.kind {
                post.bind_slot(v, slot, kind_of(item.expr, scope));
            }
            post.bind_slot(&format!("  key {}", item.text), slot, VarKind::Any);
        }
        for item in items {
            if !contains_aggregate(item.expr) {
                let slot = post
                    .get(&format!("  key {}", item.text))
                    .map(|(s, _)| s)
                    .unwrap_or_default();
                new_scope.bind_slot(&item.name, slot, kind_of(item.expr, scope));
                slots.push(slot);
                continue;
            }
            let keyed = substitute_keys(item.expr, &simple_keys);
            let rewritten = self.extract_aggregates(&keyed, scope, &mut specs, &mut post)?;
            let e = compile(&rewritten, &post, &mut self.slots).map_err(|e| ambiguous(e, &item.text))?;
            let slot = self.slots.alloc();
            finals.push((slot, e));
            new_scope.bind_slot(&item.name, slot, VarKind::Any);
            slots.push(slot);
        }
        // ORDER BY may use grouping-key expressions, projected names and aggregates
        // (projected or not): rewrite it like an item, over the same groups.
        let mut order_scope = post.clone();
        for item in items {
            if let Some((slot, kind)) = new_scope.get(&item.name) {
                order_scope.bind_slot(&item.name, slot, kind);
            }
        }
        let mut sort_keys = Vec::new();
        for sort in order_by {
            let keys = if contains_aggregate(&sort.expr) {
                self.check_sort_aggregates(&sort.expr, &projected_aggregates, &order_scope)?;
                &simple_keys
            } else {
                &key_shapes
            };
            let keyed = substitute_keys(&sort.expr, keys);
            let rewritten = self.extract_aggregates(&keyed, scope, &mut specs, &mut order_scope)?;
            // After the projection a dropped variable is simply undefined, unless the sort
            // key reuses a larger grouping-key expression next to an aggregate.
            let reuses_key = keys.len() < key_shapes.len() && mentions_any(&sort.expr, &key_shapes);
            let e = compile(&rewritten, &order_scope, &mut self.slots).map_err(|e| {
                if reuses_key {
                    ambiguous(e, "ORDER BY")
                } else {
                    e
                }
            })?;
            sort_keys.push((e, sort.descending));
        }
        let agg = Op::new(OpKind::Aggregate {
            input: Box::new(input),
            keys,
            aggs: specs,
            output: None,
            width: 0,
            ran: None,
        });
        let op = Op::new(OpKind::Project {
            input: Box::new(agg),
            items: finals,
        });
        Ok((op, new_scope, order_scope, slots, sort_keys))
    }

    /// An aggregate in ORDER BY that the projection does not compute sees only the
    /// projected names: its arguments may not use variables the projection dropped.
    fn check_sort_aggregates(&mut self, e: &Expr, projected: &[String], order_scope: &Scope) -> Result<()> {
        let mut unprojected = Vec::new();
        crate::expr::visit(e, &mut |x| {
            if let ExprKind::Function { name, args, .. } = &x.kind {
                if crate::functions::is_aggregate(name) && !projected.contains(&shape(x)) {
                    unprojected.extend(args.iter().cloned());
                }
            }
        });
        for arg in &unprojected {
            compile(arg, order_scope, &mut self.slots)?;
        }
        Ok(())
    }

    /// Replaces each aggregate call in `e` by a reference to a new aggregate slot.
    fn extract_aggregates(
        &mut self,
        e: &Expr,
        scope: &Scope,
        specs: &mut Vec<AggSpec>,
        post: &mut Scope,
    ) -> Result<Expr> {
        let spec = match &e.kind {
            ExprKind::CountStar => Some((None, false, Vec::new())),
            ExprKind::Function { name, distinct, args } if crate::functions::is_aggregate(name) => {
                if args.iter().any(contains_aggregate) {
                    return Err(syntax("NestedAggregation", "Cannot nest aggregating functions"));
                }
                crate::functions::check_arity(name, args.len())?;
                let args = args
                    .iter()
                    .map(|a| compile(a, scope, &mut self.slots))
                    .collect::<Result<Vec<_>>>()?;
                Some((Some(name.to_lowercase()), *distinct, args))
            }
            _ => None,
        };
        if let Some((name, distinct, args)) = spec {
            let slot = self.slots.alloc();
            let var = format!("  agg {slot}");
            post.bind_slot(&var, slot, VarKind::Any);
            specs.push(AggSpec {
                name,
                distinct,
                args,
                slot,
            });
            return Ok(Expr {
                kind: ExprKind::Variable(var),
                position: e.position,
            });
        }
        let mut copy = e.clone();
        self.rewrite_children(&mut copy, scope, specs, post)?;
        Ok(copy)
    }

    fn rewrite_children(
        &mut self,
        e: &mut Expr,
        scope: &Scope,
        specs: &mut Vec<AggSpec>,
        post: &mut Scope,
    ) -> Result<()> {
        for child in children_mut(e) {
            *child = self.extract_aggregates(child, scope, specs, post)?;
        }
        Ok(())
    }

    fn order_skip_limit(
        &mut self,
        mut op: Op,
        order_scope: &Scope,
        items: &[Item],
        slots: &[usize],
        p: &Projection,
        planned: Vec<(CExpr, bool)>,
    ) -> Result<Op> {
        if !p.order_by.is_empty() {
            let keys = if planned.is_empty() {
                let mut keys = Vec::new();
                for sort in &p.order_by {
                    let by_text = items
                        .iter()
                        .position(|i| i.text == expr_text(&sort.expr, &i.text, i.expr));
                    let e = match by_text {
                        Some(i) => CExpr::Slot(slots[i]),
                        None if contains_aggregate(&sort.expr) => {
                            return Err(syntax(
                                "InvalidAggregation",
                                "Aggregations in ORDER BY need an aggregating projection",
                            ))
                        }
                        None => compile(&sort.expr, order_scope, &mut self.slots)?,
                    };
                    keys.push((e, sort.descending));
                }
                keys
            } else {
                planned
            };
            let limit = match (&p.skip, &p.limit) {
                (None, Some(l)) => Some(self.constant(l)?),
                _ => None,
            };
            op = Op::new(OpKind::Sort {
                input: Box::new(op),
                keys,
                limit,
                output: None,
                ran: None,
            });
        }
        if let Some(s) = &p.skip {
            let count = self.constant(s)?;
            op = Op::new(OpKind::Skip {
                input: Box::new(op),
                count,
                skipped: false,
            });
        }
        if let Some(l) = &p.limit {
            let count = self.constant(l)?;
            op = Op::new(OpKind::Limit {
                input: Box::new(op),
                count,
                left: None,
            });
        }
        Ok(op)
    }

    /// Compiles a SKIP/LIMIT expression, which may not depend on any variable; a literal
    /// that is not a non-negative integer is refused now.
    pub(crate) fn constant(&mut self, e: &Expr) -> Result<CExpr> {
        // Only literals, parameters and operators on them: an expression that binds a
        // variable of its own would need a row to run in.
        let mut binds = false;
        crate::expr::visit(e, &mut |x| {
            binds |= matches!(
                x.kind,
                ExprKind::ListComprehension { .. }
                    | ExprKind::Quantifier { .. }
                    | ExprKind::Reduce { .. }
                    | ExprKind::PatternComprehension { .. }
                    | ExprKind::PatternPredicate(_)
                    | ExprKind::ExistsSubquery { .. }
                    | ExprKind::ExistsQuery(_)
                    | ExprKind::CountQuery(_)
                    | ExprKind::CollectQuery(_)
            )
        });
        if binds {
            return Err(syntax(
                "NonConstantExpression",
                "SKIP, LIMIT and IN TRANSACTIONS OF take a constant: literals and parameters only",
            ));
        }
        let compiled = compile(e, &Scope::default(), &mut self.slots).map_err(|err| {
            if err.detail == "UndefinedVariable" {
                syntax("NonConstantExpression", "SKIP and LIMIT must be constant expressions")
            } else {
                err
            }
        })?;
        match &compiled {
            CExpr::Const(crate::value::QValue::Int(n)) if *n < 0 => Err(syntax(
                "NegativeIntegerArgument",
                format!("SKIP and LIMIT need a non-negative integer, got {n}"),
            )),
            CExpr::Const(v) if !matches!(v, crate::value::QValue::Int(_)) => Err(syntax(
                "InvalidArgumentType",
                format!("SKIP and LIMIT need an integer, got {}", v.type_name()),
            )),
            _ => Ok(compiled),
        }
    }
}

/// The sub-expressions of `e` that see the same variables as `e` (not the bodies of
/// comprehensions, quantifiers and reductions, which bind their own).
pub(crate) fn children_mut(e: &mut Expr) -> Vec<&mut Expr> {
    match &mut e.kind {
        ExprKind::List(items) => items.iter_mut().collect(),
        ExprKind::Map(entries) => entries.iter_mut().map(|(_, x)| x).collect(),
        ExprKind::Property(b, _) | ExprKind::IsNull(b, _) | ExprKind::HasLabels(b, _) | ExprKind::Unary(_, b) => {
            vec![b.as_mut()]
        }
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => vec![a.as_mut(), b.as_mut()],
        ExprKind::Comparison(a, rest) => std::iter::once(a.as_mut())
            .chain(rest.iter_mut().map(|(_, x)| x))
            .collect(),
        ExprKind::Function { args, .. } => args.iter_mut().collect(),
        ExprKind::Slice(a, b, c) => std::iter::once(a.as_mut())
            .chain(b.iter_mut().map(|x| x.as_mut()))
            .chain(c.iter_mut().map(|x| x.as_mut()))
            .collect(),
        ExprKind::ListComprehension { list, .. } | ExprKind::Quantifier { list, .. } => vec![list.as_mut()],
        ExprKind::Reduce { init, list, .. } => vec![init.as_mut(), list.as_mut()],
        ExprKind::Case { subject, whens, else_ } => subject
            .iter_mut()
            .map(|x| x.as_mut())
            .chain(whens.iter_mut().flat_map(|(w, t)| [w, t]))
            .chain(else_.iter_mut().map(|x| x.as_mut()))
            .collect(),
        _ => Vec::new(),
    }
}

/// Replaces sub-expressions equal to a grouping key's expression by the key's variable.
fn substitute_keys(e: &Expr, keys: &[(String, String)]) -> Expr {
    let this = shape(e);
    if let Some((_, var)) = keys.iter().find(|(k, _)| *k == this) {
        return Expr {
            kind: ExprKind::Variable(var.clone()),
            position: e.position,
        };
    }
    let mut copy = e.clone();
    for child in children_mut(&mut copy) {
        *child = substitute_keys(child, keys);
    }
    copy
}

/// The sort expression compared with item texts: same structure means same text.
fn expr_text(sort: &Expr, item_text: &str, item_expr: &Expr) -> String {
    if shape(sort) == shape(item_expr) {
        item_text.to_owned()
    } else {
        String::new()
    }
}

/// An expression's structure without source positions, for "is this the same
/// expression" checks.
fn shape(e: &Expr) -> String {
    let text = format!("{:?}", e.kind);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find("position: Position {") {
        out.push_str(&rest[..at]);
        rest = rest[at..].find('}').map_or("", |end| &rest[at + end + 1..]);
    }
    out.push_str(rest);
    out
}

/// True when a sub-expression of `e` is one of `keys`.
fn mentions_any(e: &Expr, keys: &[(String, String)]) -> bool {
    let mut found = false;
    crate::expr::visit(e, &mut |x| {
        found |= !found && keys.iter().any(|(k, _)| *k == shape(x));
    });
    found
}

/// `variable.key`.
fn is_property_read(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Property(base, _) if matches!(base.kind, ExprKind::Variable(_)))
}

/// The shapes of the aggregate calls in `e`.
fn aggregate_shapes(e: &Expr) -> Vec<String> {
    let mut out = Vec::new();
    crate::expr::visit(e, &mut |x| {
        if matches!(&x.kind, ExprKind::CountStar)
            || matches!(&x.kind, ExprKind::Function { name, .. } if crate::functions::is_aggregate(name))
        {
            out.push(shape(x));
        }
    });
    out
}

fn ambiguous(e: QueryError, text: &str) -> QueryError {
    if e.detail == "UndefinedVariable" {
        QueryError::compile(
            ErrorKind::SyntaxError,
            "AmbiguousAggregationExpression",
            format!("Expression `{text}` mixes aggregation with variables that are not grouping keys"),
        )
    } else {
        e
    }
}

fn kind_of(e: &Expr, scope: &Scope) -> VarKind {
    match &e.kind {
        ExprKind::Variable(v) => scope.get(v).map(|(_, k)| k).unwrap_or(VarKind::Any),
        // Scalars and booleans: never an entity, never a map (no properties).
        ExprKind::Bool(_)
        | ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::String(_)
        | ExprKind::Comparison(..)
        | ExprKind::IsNull(..)
        | ExprKind::CountStar => VarKind::Value,
        ExprKind::List(_) | ExprKind::ListComprehension { .. } => VarKind::List,
        _ => VarKind::Any,
    }
}
