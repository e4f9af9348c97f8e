//! WHEREs of the column path tested on the column vectors themselves: comparisons of a
//! property with a constant, a parameter or another property, null checks, and AND / OR /
//! XOR / NOT of those, with openCypher's three-valued logic.
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
use crate::expr::{ops, CExpr};
use crate::graph::{GraphRead, Value};
use weft_common::value::ComparisonOp;

/// One side of a comparison: a property (its position among those read), or a constant
/// or parameter (`V`: its expression, then its value).
#[derive(Clone, Debug)]
pub(crate) enum Operand<V> {
    Prop(usize),
    Fixed(V),
}

/// A WHERE over property columns, its operands not yet fixed.
#[derive(Clone, Debug)]
pub(crate) enum ColumnFilter<V = CExpr> {
    Compare {
        left: Operand<V>,
        op: BinaryOp,
        right: Operand<V>,
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
        let operand = |e: &CExpr| match e {
            CExpr::Const(_) | CExpr::Param(_) => Some(Operand::Fixed(e.clone())),
            _ => prop(e).map(Operand::Prop),
        };
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
                ColumnFilter::Compare {
                    left: operand(first)?,
                    op: *op,
                    right: operand(second)?,
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
            ColumnFilter::Compare { left, op, right } => {
                let bind = |side: &Operand<CExpr>| {
                    Some(match side {
                        Operand::Prop(p) => Operand::Prop(*p),
                        Operand::Fixed(CExpr::Const(v)) => Operand::Fixed(v.to_value()?),
                        Operand::Fixed(CExpr::Param(name)) => Operand::Fixed(ctx.param(name).ok()?.into_value()?),
                        Operand::Fixed(_) => return None,
                    })
                };
                ColumnFilter::Compare {
                    left: bind(left)?,
                    op: *op,
                    right: bind(right)?,
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
    /// The WHERE's value (`None`: null) where `value(p)` is property `p`'s value, `None`
    /// when absent.
    pub fn test<'a>(&'a self, value: &impl Fn(usize) -> Option<&'a Value>) -> Option<bool> {
        let side = |operand: &'a Operand<Value>| match operand {
            Operand::Prop(p) => value(*p),
            Operand::Fixed(v) => Some(v),
        };
        match self {
            ColumnFilter::Compare { left, op, right } => {
                let (left, right) = (side(left)?, side(right)?);
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
                let null = value(*prop).is_none_or(|v| matches!(v, Value::Null));
                Some(null != *negated)
            }
            ColumnFilter::Not(inner) => inner.test(value).map(|b| !b),
            ColumnFilter::Logic(op, a, b) => {
                let a = a.test(value);
                match (op, a) {
                    (BinaryOp::And, Some(false)) => return Some(false),
                    (BinaryOp::Or, Some(true)) => return Some(true),
                    _ => {}
                }
                let b = b.test(value);
                match op {
                    BinaryOp::And => ops::and3(a, b),
                    BinaryOp::Or => ops::or3(a, b),
                    _ => ops::xor3(a, b),
                }
            }
        }
    }
}
