//! Planning of subqueries. A full `EXISTS { MATCH ... WITH ... RETURN ... }` in a WHERE
//! condition (alone or AND-ed with others, possibly under NOT) becomes a SemiApply
//! operator that runs the subquery's plan once per row, starting from that row; a
//! `CALL [(scope)] { }` clause becomes an Apply operator (`exec/subquery.rs`) the same
//! way, seeing the outer variables it imports or declares. Any other EXISTS, and every
//! COUNT and COLLECT, in a WHERE condition or a WITH/RETURN item is hoisted: an Apply
//! computes it into a generated variable before the condition or item reads it.
//!
//! The short forms (`EXISTS { pattern WHERE ... }`) stay expressions; a full subquery
//! anywhere else (inside a comprehension, ORDER BY, SET) is refused by expression
//! compilation.

use crate::ast::{BinaryOp, CallScope, Clause, ClauseKind, Expr, ExprKind, Query, SingleQuery, UnaryOp};
use crate::error::Result;
use crate::exec::load_csv::{FILE_VARIABLE, LINE_VARIABLE};
use crate::exec::pipeline::{Op, OpKind};
use crate::exec::subquery::{Apply, Batch, DEFAULT_BATCH_ROWS};
use crate::expr::{compile, CExpr};
use crate::plan::scope::{Scope, VarKind};
use crate::plan::{syntax, Planner};
use crate::value::QValue;
use std::collections::VecDeque;

/// A WHERE split into the full subqueries it requires (with whether they are negated),
/// the conditions that hold a COUNT, COLLECT or nested EXISTS subquery (checked after
/// those are computed), and the remaining condition.
pub(crate) struct SplitWhere<'q> {
    pub rest: Option<Expr>,
    pub subqueries: Vec<(&'q SingleQuery, bool)>,
    pub deferred: Vec<Expr>,
}

/// Splits `where_` at its top-level ANDs into full EXISTS subqueries and the rest; a
/// WHERE without a full subquery comes back whole.
pub(crate) fn split_where(where_: Option<&Expr>) -> SplitWhere<'_> {
    let mut split = SplitWhere {
        rest: None,
        subqueries: Vec::new(),
        deferred: Vec::new(),
    };
    let Some(w) = where_ else { return split };
    if !has_value_subquery(w) {
        split.rest = Some(w.clone());
        return split;
    }
    let mut rest = Vec::new();
    conjuncts(w, &mut split.subqueries, &mut rest);
    let (deferred, rest): (Vec<Expr>, Vec<Expr>) = rest.into_iter().partition(has_value_subquery);
    split.deferred = deferred;
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
            deferred: Vec::new(),
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

/// Whether `e` holds a full EXISTS, a COUNT or a COLLECT subquery.
pub(crate) fn has_value_subquery(e: &Expr) -> bool {
    let mut found = false;
    crate::expr::visit(e, &mut |x| {
        found |= matches!(
            x.kind,
            ExprKind::ExistsQuery(_) | ExprKind::CountQuery(_) | ExprKind::CollectQuery(_)
        )
    });
    found
}

/// Which outer variables a subquery's parts see.
#[derive(Clone, Copy)]
enum Sees<'q> {
    /// A `CALL { }`: those it declares, else those of each part's importing WITH.
    Called(Option<&'q CallScope>),
    /// An EXISTS, COUNT or COLLECT subquery: all of them.
    Everything,
}

/// What a subquery used as a value gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueOf {
    Exists,
    Count,
    Collect,
}

impl Planner<'_> {
    /// Wraps `input` in one SemiApply per subquery of `split`, each planned over `scope`
    /// (the outer variables keep their slots inside the subquery).
    pub(crate) fn semi_apply(&mut self, mut input: Op, scope: &Scope, split: &SplitWhere) -> Result<Op> {
        for (q, negated) in &split.subqueries {
            let leaf = Op::new(OpKind::Argument { row: None });
            self.subquery_depth += 1;
            let planned = self.single_from(q, leaf, scope.clone());
            self.subquery_depth -= 1;
            let (sub, _, _) = planned?;
            input = Op::new(OpKind::SemiApply {
                input: Box::new(input),
                sub: Box::new(sub),
                negated: *negated,
            });
        }
        // Conditions on COUNT, COLLECT or nested EXISTS: their values first, then a filter.
        let mut inner = scope.clone();
        for condition in &split.deferred {
            let mut condition = condition.clone();
            self.hoist_subqueries(&mut input, &mut inner, &mut condition)?;
            let predicate = compile(&condition, &inner, &mut self.slots)?;
            input = Op::new(OpKind::Filter {
                input: Box::new(input),
                predicate,
            });
        }
        Ok(input)
    }

    /// Replaces each EXISTS, COUNT and COLLECT subquery in `e` (outside comprehension
    /// bodies, whose variables a subquery planned here could not see) by a generated
    /// variable of `scope`, which an Apply over `op` fills for every row.
    pub(crate) fn hoist_subqueries(&mut self, op: &mut Op, scope: &mut Scope, e: &mut Expr) -> Result<()> {
        let value = match &e.kind {
            ExprKind::CountQuery(q) => Some((ValueOf::Count, q.as_ref().clone())),
            ExprKind::CollectQuery(q) => Some((ValueOf::Collect, q.as_ref().clone())),
            ExprKind::ExistsQuery(q) => Some((
                ValueOf::Exists,
                Query {
                    first: q.as_ref().clone(),
                    unions: Vec::new(),
                },
            )),
            _ => None,
        };
        let Some((kind, q)) = value else {
            for child in crate::plan::projection::children_mut(e) {
                self.hoist_subqueries(op, scope, child)?;
            }
            return Ok(());
        };
        let (sub, columns, returns) = self.subquery_parts(&q, scope, Sees::Everything)?;
        if kind == ValueOf::Collect && columns.len() != 1 {
            return Err(syntax(
                "InvalidClauseComposition",
                "A COLLECT subquery must end in a RETURN of exactly one column",
            ));
        }
        let slot = self.slots.alloc();
        let name = format!("  subquery {slot}");
        let input = std::mem::replace(op, Op::new(OpKind::Once { width: 0, done: true }));
        *op = Op::new(OpKind::Apply {
            input: Box::new(input),
            sub: Box::new(sub),
            apply: Box::new(Apply {
                returns,
                batch: None,
                record: None,
                writes: false,
                value: Some((kind, slot)),
                buffer: VecDeque::new(),
            }),
        });
        scope.bind_slot(&name, slot, VarKind::Any);
        *e = Expr {
            kind: ExprKind::Variable(name),
            position: e.position,
        };
        Ok(())
    }
}

/// Whether a clause is a `CALL { }` without RETURN, whose rows are the incoming ones.
pub(crate) fn is_unit(kind: &ClauseKind) -> bool {
    matches!(kind, ClauseKind::Subquery { query, .. } if !query.first.returns())
}

impl Planner<'_> {
    /// Plans `CALL { query } [IN TRANSACTIONS [OF n ROWS]]` over `input`: each part
    /// sees only the outer variables it imports; the returned names join `scope`.
    pub(crate) fn call_subquery(
        &mut self,
        input: Op,
        scope: &mut Scope,
        q: &Query,
        batch: Option<&Option<Expr>>,
        declared: Option<&CallScope>,
    ) -> Result<Op> {
        if batch.is_some() && self.subquery_depth > 0 {
            return Err(syntax(
                "InvalidClauseComposition",
                "CALL { ... } IN TRANSACTIONS cannot be nested inside another subquery",
            ));
        }
        let planned = self.subquery_parts(q, scope, Sees::Called(declared));
        let (mut sub, columns, returns) = planned?;
        for (name, slot) in columns.iter().zip(&returns) {
            if scope.get(name).is_some() {
                return Err(syntax(
                    "VariableAlreadyBound",
                    format!("Variable `{name}` already declared in outer scope"),
                ));
            }
            scope.bind_slot(name, *slot, VarKind::Any);
        }
        let record = scope
            .get(LINE_VARIABLE)
            .zip(scope.get(FILE_VARIABLE))
            .map(|((line, _), (file, _))| (line, file));
        let batch = match batch {
            None => None,
            Some(rows) => {
                self.batched = true;
                let size = match rows {
                    Some(e) => self.constant(e)?,
                    None => CExpr::Const(QValue::Int(DEFAULT_BATCH_ROWS)),
                };
                Some(Batch {
                    size,
                    rows: None,
                    pending: 0,
                    first_line: None,
                })
            }
        };
        Ok(Op::new(OpKind::Apply {
            input: Box::new(input),
            apply: Box::new(Apply {
                returns,
                batch,
                record,
                writes: sub.writes(),
                value: None,
                buffer: VecDeque::new(),
            }),
            sub: Box::new(sub),
        }))
    }

    /// The subquery's parts, each from an Argument leaf, joined by a Union when more
    /// than one; with the returned column names and their slots. A `CALL { }` part
    /// (`called`) sees the outer variables it imports and must name what it returns; an
    /// EXISTS, COUNT or COLLECT part sees them all.
    fn subquery_parts(&mut self, q: &Query, outer: &Scope, sees: Sees) -> Result<(Op, Vec<String>, Vec<usize>)> {
        self.subquery_depth += 1;
        let planned = self.plan_parts(q, outer, sees);
        self.subquery_depth -= 1;
        planned
    }

    fn plan_parts(&mut self, q: &Query, outer: &Scope, sees: Sees) -> Result<(Op, Vec<String>, Vec<usize>)> {
        let called = matches!(sees, Sees::Called(_));
        let all = q.unions.first().is_none_or(|(all, _)| *all);
        if q.unions.iter().any(|(a, _)| *a != all) {
            return Err(syntax(
                "InvalidClauseComposition",
                "Invalid combination of UNION and UNION ALL",
            ));
        }
        let mut parts = Vec::new();
        for part in std::iter::once(&q.first).chain(q.unions.iter().map(|(_, p)| p)) {
            if let (
                true,
                Some(Clause {
                    kind: ClauseKind::Return(p),
                    ..
                }),
            ) = (called, part.clauses.last())
            {
                let unnamed = p.star
                    || p.items
                        .iter()
                        .any(|i| i.alias.is_none() && !matches!(i.expr.kind, ExprKind::Variable(_)));
                if unnamed {
                    return Err(syntax(
                        "NoExpressionAlias",
                        "Each item a CALL { } subquery returns must be a variable or have an alias (use AS)",
                    ));
                }
            }
            let imports = part.imports();
            let visible = match sees {
                Sees::Called(Some(declared)) => outer.only(|name| declared.includes(name)),
                Sees::Called(None) => outer.only(|name| imports.includes(name)),
                Sees::Everything => outer.clone(),
            };
            let leaf = Op::new(OpKind::Argument { row: None });
            parts.push(self.single_from(part, leaf, visible)?);
        }
        let (first, columns, slots) = parts.remove(0);
        if parts.is_empty() {
            return Ok((first, columns, slots));
        }
        let mut inputs = vec![(first, slots.clone())];
        for (op, part_columns, part_slots) in parts {
            if part_columns != columns {
                return Err(syntax(
                    "DifferentColumnsInUnion",
                    "All sub queries in an UNION must have the same column names",
                ));
            }
            inputs.push((op, part_slots));
        }
        let union = Op::new(OpKind::Union {
            inputs,
            current: 0,
            out_slots: slots.clone(),
            seen: (!all).then(crate::exec::row::FastSet::default),
        });
        Ok((union, columns, slots))
    }
}
