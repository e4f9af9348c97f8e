//! Predicate pushdown: WHERE conditions on a new labelled node copied into the pattern
//! (equalities as pattern properties, bounds as an index range), so the start point of
//! a match can be an index lookup. The WHERE clause always stays and filters as written.

use crate::ast::{BinaryOp, Expr, ExprKind, NodePattern, PatternPart};
use crate::error::Result;
use crate::exec::pattern;
use crate::expr::compile;
use crate::plan::scope::Scope;
use crate::plan::Planner;

impl Planner<'_> {
    /// Gives each new labelled start node the range its WHERE puts on one property
    /// (`n.p > a AND n.p <= b`), for an index range scan. The WHERE still filters.
    pub(crate) fn attach_ranges(
        &mut self,
        pattern: &mut pattern::CPattern,
        where_: Option<&Expr>,
        before: &Scope,
    ) -> Result<()> {
        let Some(w) = where_ else { return Ok(()) };
        let mut conjuncts = Vec::new();
        split_and(w, &mut conjuncts);
        for c in conjuncts {
            let ExprKind::Comparison(lhs, rest) = &c.kind else {
                continue;
            };
            let [(op, rhs)] = rest.as_slice() else { continue };
            for (prop, value, flipped) in [(lhs.as_ref(), rhs, false), (rhs, lhs.as_ref(), true)] {
                let ExprKind::Property(base, key) = &prop.kind else {
                    continue;
                };
                let ExprKind::Variable(var) = &base.kind else { continue };
                let op = if flipped { flip(*op) } else { *op };
                let is_lower = match op {
                    BinaryOp::Gt | BinaryOp::Ge => true,
                    BinaryOp::Lt | BinaryOp::Le => false,
                    _ => continue,
                };
                if before.get(var).is_some() || !independent(value, before) {
                    continue;
                }
                let inclusive = matches!(op, BinaryOp::Ge | BinaryOp::Le);
                let bound = (compile(value, before, &mut self.slots)?, inclusive);
                let start = pattern
                    .parts
                    .iter_mut()
                    .flat_map(|p| p.nodes.iter_mut())
                    .find(|n| n.name.as_deref() == Some(var.as_str()) && !n.labels.is_empty() && !n.bound);
                let Some(node) = start else { continue };
                let range = node.range.get_or_insert_with(|| pattern::RangeScan {
                    key: key.clone(),
                    lower: None,
                    upper: None,
                });
                if range.key != *key {
                    continue;
                }
                if is_lower {
                    range.lower.get_or_insert(bound);
                } else {
                    range.upper.get_or_insert(bound);
                }
            }
        }
        Ok(())
    }
}

/// Copies `WHERE n.key = expr` conjuncts into the pattern of a new labelled node `n`
/// (`(n:L {key: expr})`), so the start-point choice can use a label+property index. The
/// WHERE clause stays as it is; the copy only narrows candidates earlier.
pub(crate) fn push_equalities(parts: &[PatternPart], where_: Option<&Expr>, scope: &Scope) -> Vec<PatternPart> {
    let mut parts = parts.to_vec();
    let Some(w) = where_ else { return parts };
    let mut conjuncts = Vec::new();
    split_and(w, &mut conjuncts);
    for c in conjuncts {
        let ExprKind::Comparison(lhs, rest) = &c.kind else {
            continue;
        };
        let [(BinaryOp::Eq, rhs)] = rest.as_slice() else {
            continue;
        };
        for (prop, value) in [(lhs.as_ref(), rhs), (rhs, lhs.as_ref())] {
            let ExprKind::Property(base, key) = &prop.kind else {
                continue;
            };
            let ExprKind::Variable(var) = &base.kind else { continue };
            if scope.get(var).is_some() || !independent(value, scope) {
                continue;
            }
            if let Some(node) = find_node(&mut parts, var) {
                add_property(node, key, value);
            }
        }
    }
    parts
}

/// The comparison seen from the other side (`a < b` is `b > a`).
fn flip(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::Le => BinaryOp::Ge,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::Ge => BinaryOp::Le,
        other => other,
    }
}

fn split_and<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match &e.kind {
        ExprKind::Binary(BinaryOp::And, a, b) => {
            split_and(a, out);
            split_and(b, out);
        }
        _ => out.push(e),
    }
}

/// True when `e` reads only variables bound before the MATCH (and no patterns).
fn independent(e: &Expr, scope: &Scope) -> bool {
    let mut ok = true;
    crate::expr::visit(e, &mut |x| match &x.kind {
        ExprKind::Variable(v) => ok &= scope.get(v).is_some(),
        ExprKind::PatternPredicate(_)
        | ExprKind::ExistsSubquery { .. }
        | ExprKind::ExistsQuery(_)
        | ExprKind::CountQuery(_)
        | ExprKind::CollectQuery(_)
        | ExprKind::PatternComprehension { .. }
        | ExprKind::ListComprehension { .. }
        | ExprKind::Quantifier { .. }
        | ExprKind::Reduce { .. } => ok = false,
        ExprKind::Function { name, .. } if crate::functions::is_aggregate(name) => ok = false,
        _ => {}
    });
    ok
}

fn find_node<'p>(parts: &'p mut [PatternPart], var: &str) -> Option<&'p mut NodePattern> {
    parts.iter_mut().find_map(|p| {
        let e = &mut p.element;
        std::iter::once(&mut e.start)
            .chain(e.chain.iter_mut().map(|(_, n)| n))
            .find(|n| n.variable.as_deref() == Some(var) && !n.labels.is_empty())
    })
}

fn add_property(node: &mut NodePattern, key: &str, value: &Expr) {
    let position = value.position;
    let map = node.properties.get_or_insert_with(|| {
        Box::new(Expr {
            kind: ExprKind::Map(Vec::new()),
            position,
        })
    });
    if let ExprKind::Map(entries) = &mut map.kind {
        if !entries.iter().any(|(k, _)| k == key) {
            entries.push((key.to_owned(), value.clone()));
        }
    }
}
