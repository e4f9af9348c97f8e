//! Planning of full `EXISTS { MATCH ... WITH ... RETURN ... }` subqueries: a WHERE
//! condition (alone or AND-ed with others, possibly under NOT) becomes a SemiApply
//! operator that runs the subquery's plan once per row, starting from that row.
//!
//! The short forms (`EXISTS { pattern WHERE ... }`) stay expressions; a full subquery
//! anywhere else is refused by expression compilation.

use crate::ast::{BinaryOp, Expr, ExprKind, SingleQuery, UnaryOp};
use crate::error::Result;
use crate::exec::pipeline::{Op, OpKind};
use crate::plan::scope::Scope;
use crate::plan::Planner;

/// A WHERE split into the full subqueries it requires (with whether they are negated)
/// and the remaining condition.
pub(crate) struct SplitWhere<'q> {
    pub rest: Option<Expr>,
    pub subqueries: Vec<(&'q SingleQuery, bool)>,
}

/// Splits `where_` at its top-level ANDs into full EXISTS subqueries and the rest; a
/// WHERE without a full subquery comes back whole.
pub(crate) fn split_where(where_: Option<&Expr>) -> SplitWhere<'_> {
    let mut split = SplitWhere {
        rest: None,
        subqueries: Vec::new(),
    };
    let Some(w) = where_ else { return split };
    if !has_exists_query(w) {
        split.rest = Some(w.clone());
        return split;
    }
    let mut rest = Vec::new();
    conjuncts(w, &mut split.subqueries, &mut rest);
    split.rest = rest.into_iter().reduce(|a, b| Expr {
        position: a.position,
        kind: ExprKind::Binary(BinaryOp::And, Box::new(a), Box::new(b)),
    });
    split
}

/// [`split_where`] for MATCH; OPTIONAL MATCH keeps its WHERE whole, as it decides what
/// matches rather than which rows go on.
pub(crate) fn split_match_where(where_: Option<&Expr>, optional: bool) -> SplitWhere<'_> {
    if optional {
        return SplitWhere {
            rest: where_.cloned(),
            subqueries: Vec::new(),
        };
    }
    split_where(where_)
}

fn conjuncts<'q>(e: &'q Expr, subqueries: &mut Vec<(&'q SingleQuery, bool)>, rest: &mut Vec<Expr>) {
    match &e.kind {
        ExprKind::Binary(BinaryOp::And, a, b) => {
            conjuncts(a, subqueries, rest);
            conjuncts(b, subqueries, rest);
        }
        ExprKind::ExistsQuery(q) => subqueries.push((q, false)),
        ExprKind::Unary(UnaryOp::Not, inner) => match &inner.kind {
            ExprKind::ExistsQuery(q) => subqueries.push((q, true)),
            _ => rest.push(e.clone()),
        },
        _ => rest.push(e.clone()),
    }
}

fn has_exists_query(e: &Expr) -> bool {
    let mut found = false;
    crate::expr::visit(e, &mut |x| found |= matches!(x.kind, ExprKind::ExistsQuery(_)));
    found
}

impl Planner<'_> {
    /// Wraps `input` in one SemiApply per subquery of `split`, each planned over `scope`
    /// (the outer variables keep their slots inside the subquery).
    pub(crate) fn semi_apply(&mut self, mut input: Op, scope: &Scope, split: &SplitWhere) -> Result<Op> {
        for (q, negated) in &split.subqueries {
            let leaf = Op::new(OpKind::Argument { row: None });
            let (sub, _, _) = self.single_from(q, leaf, scope.clone())?;
            input = Op::new(OpKind::SemiApply {
                input: Box::new(input),
                sub: Box::new(sub),
                negated: *negated,
            });
        }
        Ok(input)
    }
}
