//! WHEREs of the column path tested on the column vectors themselves: comparisons of a
//! property with a constant or a parameter, null checks, and AND / OR / XOR / NOT of
//! those, with openCypher's three-valued logic.
//!
//! Owns: recognising that shape in a rewritten WHERE (`ColumnScan::rewrite`: property
//! `i` read from scratch slot `width + i`), fixing its constants and parameters as
//! storage values once per statement, and answering per node straight from the values
//! the scan read, so no value is copied and no expression is interpreted per node.
//!
//! Promises: the answer `eval` gives for the same WHERE on the same node. The operands'
//! comparison is the one `eval` uses ([`Value::cypher_compare`], [`Value::cypher_eq`],
//! generic over the value's kind), none of these operations can fail, and AND / OR
//! decide as `eval` does. Any other shape, or a constant that is not a storable value (a
//! node, say), leaves the WHERE to `eval`.

use crate::ast::BinaryOp;
use crate::exec::ExecCtx;
use crate::expr::CExpr;
use crate::graph::{GraphRead, Value};
use weft_common::value::ComparisonOp;

/// A WHERE over property columns, its operands not yet fixed.
#[derive(Clone, Debug)]
pub(crate) enum ColumnFilter<V = CExpr> {
    /// Property `prop` (its position among those read) `op` the operand; `flipped` when
    /// the operand stood on the left.
    Compare {
        prop: usize,
        op: BinaryOp,
        operand: V,
        flipped: bool,
    },
    IsNull {
        prop: usize,
        negated: bool,
    },
    Not(Box<ColumnFilter<V>>),
    Logic(BinaryOp, Box<ColumnFilter<V>>, Box<ColumnFilter<V>>),
}

impl ColumnFilter {
    /// The filter form of `e`, a WHERE whose property `i` is read from slot `width + i`.
    pub fn of(e: &CExpr, width: usize) -> Option<ColumnFilter> {
        let prop = |e: &CExpr| match e {
            CExpr::Slot(s) if *s >= width => Some(*s - width),
            _ => None,
        };
        let operand = |e: &CExpr| matches!(e, CExpr::Const(_) | CExpr::Param(_)).then(|| e.clone());
        let boxed = |e: &CExpr| ColumnFilter::of(e, width).map(Box::new);
        Some(match e {
            CExpr::Comparison(first, rest) => {
                let [(op, second)] = rest.as_slice() else { return None };
                if !matches!(
                    op,
                    BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
                ) {
                    return None;
                }
                let (prop, operand, flipped) = match (prop(first), prop(second)) {
                    (Some(p), None) => (p, operand(second)?, false),
                    (None, Some(p)) => (p, operand(first)?, true),
                    _ => return None,
                };
                ColumnFilter::Compare {
                    prop,
                    op: *op,
                    operand,
                    flipped,
                }
            }
            CExpr::IsNull(inner, negated) => ColumnFilter::IsNull {
                prop: prop(inner)?,
                negated: *negated,
            },
            CExpr::Not(inner) => ColumnFilter::Not(boxed(inner)?),
            CExpr::Binary(op @ (BinaryOp::And | BinaryOp::Or | BinaryOp::Xor), a, b) => {
                ColumnFilter::Logic(*op, boxed(a)?, boxed(b)?)
            }
            _ => return None,
        })
    }

    /// The filter with its constants and parameters as storage values, or `None` when
    /// one is not storable (or a parameter is missing: `eval` then names the error).
    pub fn bind<G: GraphRead>(&self, ctx: &ExecCtx<G>) -> Option<ColumnFilter<Value>> {
        let bind = |f: &ColumnFilter| f.bind(ctx).map(Box::new);
        Some(match self {
            ColumnFilter::Compare {
                prop,
                op,
                operand,
                flipped,
            } => {
                let value = match operand {
                    CExpr::Const(v) => v.to_value()?,
                    CExpr::Param(name) => ctx.param(name).ok()?.into_value()?,
                    _ => return None,
                };
                ColumnFilter::Compare {
                    prop: *prop,
                    op: *op,
                    operand: value,
                    flipped: *flipped,
                }
            }
            ColumnFilter::IsNull { prop, negated } => ColumnFilter::IsNull {
                prop: *prop,
                negated: *negated,
            },
            ColumnFilter::Not(inner) => ColumnFilter::Not(bind(inner)?),
            ColumnFilter::Logic(op, a, b) => ColumnFilter::Logic(*op, bind(a)?, bind(b)?),
        })
    }
}

impl ColumnFilter<Value> {
    /// The WHERE's value for node `i` of a batch (`None`: null).
    pub fn test(&self, columns: &[&[Option<Value>]], i: usize) -> Option<bool> {
        match self {
            ColumnFilter::Compare {
                prop,
                op,
                operand,
                flipped,
            } => {
                let value = columns[*prop][i].as_ref()?;
                let (left, right) = if *flipped { (operand, value) } else { (value, operand) };
                match op {
                    BinaryOp::Eq => left.cypher_eq(right),
                    BinaryOp::Ne => left.cypher_eq(right).map(|eq| !eq),
                    BinaryOp::Lt => left.cypher_compare(ComparisonOp::Lt, right),
                    BinaryOp::Le => left.cypher_compare(ComparisonOp::Le, right),
                    BinaryOp::Gt => left.cypher_compare(ComparisonOp::Gt, right),
                    _ => left.cypher_compare(ComparisonOp::Ge, right),
                }
            }
            ColumnFilter::IsNull { prop, negated } => {
                let null = columns[*prop][i].as_ref().is_none_or(|v| matches!(v, Value::Null));
                Some(null != *negated)
            }
            ColumnFilter::Not(inner) => inner.test(columns, i).map(|b| !b),
            ColumnFilter::Logic(op, a, b) => {
                let a = a.test(columns, i);
                match (op, a) {
                    (BinaryOp::And, Some(false)) => return Some(false),
                    (BinaryOp::Or, Some(true)) => return Some(true),
                    _ => {}
                }
                let b = b.test(columns, i);
                match op {
                    BinaryOp::And => match (a, b) {
                        (Some(false), _) | (_, Some(false)) => Some(false),
                        (Some(true), Some(true)) => Some(true),
                        _ => None,
                    },
                    BinaryOp::Or => match (a, b) {
                        (Some(true), _) | (_, Some(true)) => Some(true),
                        (Some(false), Some(false)) => Some(false),
                        _ => None,
                    },
                    _ => a.zip(b).map(|(a, b)| a != b),
                }
            }
        }
    }
}
