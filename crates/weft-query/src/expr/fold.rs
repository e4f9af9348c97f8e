//! Constant folding at compile time.
//!
//! An expression built only from literals and pure operators is evaluated once while
//! compiling. A type error found that way is reported as a compile-time error (the TCK
//! expects `RETURN true.num` or `1 IN 'abc'` to fail before running); other errors (such
//! as division by zero) are left for run time, where openCypher places them.

use crate::ast::BinaryOp;
use crate::error::{ErrorKind, Phase, QueryError, Result};
use crate::expr::ops;
use crate::expr::CExpr;
use crate::graph::GraphContext;
use crate::graph::{EdgeRef, Gid};
use crate::value::QValue;
use std::collections::BTreeMap;
use weft_common::temporal::ZonedDateTime;

/// Folds `e` if it is constant; returns it unchanged otherwise.
pub fn fold(e: CExpr) -> Result<CExpr> {
    if !foldable(&e) {
        return Ok(e);
    }
    // Lists and maps of constants take their items over rather than copying them: a
    // bulk load's literal list holds thousands of maps.
    let e = match e {
        CExpr::List(items) => return Ok(CExpr::Const(QValue::List(items.into_iter().map(into_value).collect()))),
        CExpr::Map(entries) => {
            let map = entries.into_iter().map(|(k, v)| (k, into_value(v))).collect();
            return Ok(CExpr::Const(QValue::Map(map)));
        }
        other => other,
    };
    match evaluate(&e) {
        Ok(v) => Ok(CExpr::Const(v)),
        Err(err) if err.kind == ErrorKind::TypeError || err.kind == ErrorKind::SyntaxError => {
            Err(compile_time(err, matches!(e, CExpr::Property(..))))
        }
        Err(_) => Ok(e),
    }
}

fn compile_time(err: QueryError, keep_type_error: bool) -> QueryError {
    let kind = if keep_type_error {
        ErrorKind::TypeError
    } else {
        ErrorKind::SyntaxError
    };
    let detail = if err.detail == "MapElementAccessByNonString" {
        err.detail
    } else {
        "InvalidArgumentType"
    };
    QueryError {
        kind,
        phase: Phase::CompileTime,
        detail,
        ..err
    }
}

fn is_const(e: &CExpr) -> bool {
    matches!(e, CExpr::Const(_))
}

/// Whether `e` is an operator over constants whose result does not depend on when or
/// where it runs.
fn foldable(e: &CExpr) -> bool {
    match e {
        CExpr::List(items) => !items.is_empty() && items.iter().all(is_const),
        CExpr::Map(entries) => !entries.is_empty() && entries.iter().all(|(_, v)| is_const(v)),
        CExpr::Property(b, _) | CExpr::Not(b) | CExpr::Neg(b) | CExpr::IsNull(b, _) => is_const(b),
        CExpr::Index(a, b) | CExpr::Binary(_, a, b) => is_const(a) && is_const(b),
        CExpr::Comparison(a, rest) => is_const(a) && rest.iter().all(|(_, x)| is_const(x)),
        CExpr::Function(name, args) => !args.is_empty() && args.iter().all(is_const) && deterministic(name),
        _ => false,
    }
}

fn deterministic(name: &str) -> bool {
    // Temporal constructors may read the clock (e.g. `datetime({timezone: 'UTC'})`).
    let temporal = ["date", "datetime", "localdatetime", "localtime", "time"]
        .iter()
        .any(|t| name == *t || name.starts_with(&format!("{t}.")));
    !temporal && !matches!(name, "rand" | "randomuuid" | "timestamp")
}

fn value(e: &CExpr) -> &QValue {
    match e {
        CExpr::Const(v) => v,
        _ => &QValue::Null,
    }
}

/// The value of a constant (`foldable` has checked that it is one).
fn into_value(e: CExpr) -> QValue {
    match e {
        CExpr::Const(v) => v,
        _ => QValue::Null,
    }
}

fn evaluate(e: &CExpr) -> Result<QValue> {
    Ok(match e {
        CExpr::Property(b, key) => ops::property(value(b), key, &NoGraph)?,
        CExpr::Not(b) => ops::not(value(b))?,
        CExpr::Neg(b) => ops::neg(value(b))?,
        CExpr::IsNull(b, negated) => QValue::Bool(value(b).is_null() != *negated),
        CExpr::Index(a, b) => ops::index(value(a), value(b))?,
        CExpr::Binary(op, a, b) => binary(*op, value(a), value(b))?,
        CExpr::Comparison(first, rest) => {
            let mut left = value(first).clone();
            let mut result = QValue::Bool(true);
            for (op, x) in rest {
                result = ops::and(&result, &ops::compare(*op, &left, value(x))?)?;
                left = value(x).clone();
            }
            result
        }
        CExpr::Function(name, args) => {
            let args: Vec<QValue> = args.iter().map(|a| value(a).clone()).collect();
            crate::functions::call(name, &args, &NoGraph)?
        }
        _ => {
            return Err(QueryError::compile(
                ErrorKind::DatabaseError,
                "NotConstant",
                "not a constant",
            ))
        }
    })
}

fn binary(op: BinaryOp, a: &QValue, b: &QValue) -> Result<QValue> {
    match op {
        BinaryOp::Or => ops::or(a, b),
        BinaryOp::Xor => ops::xor(a, b),
        BinaryOp::And => ops::and(a, b),
        BinaryOp::Add => ops::add(a, b),
        BinaryOp::Sub => ops::sub(a, b),
        BinaryOp::Mul => ops::mul(a, b),
        BinaryOp::Div => ops::div(a, b),
        BinaryOp::Mod => ops::modulo(a, b),
        BinaryOp::Pow => ops::pow(a, b),
        BinaryOp::In => ops::in_list(a, b),
        BinaryOp::StartsWith => ops::starts_with(a, b),
        BinaryOp::EndsWith => ops::ends_with(a, b),
        BinaryOp::Contains => ops::contains(a, b),
        BinaryOp::Regex => ops::regex_match(a, b),
        _ => ops::compare(op, a, b),
    }
}

/// The graph seen by constant expressions: none (constants hold no entities).
struct NoGraph;

fn no_graph() -> QueryError {
    QueryError::compile(
        ErrorKind::DatabaseError,
        "NotConstant",
        "constant expressions cannot read the graph",
    )
}

impl GraphContext for NoGraph {
    fn node_labels(&self, _: Gid) -> Result<Vec<String>> {
        Err(no_graph())
    }
    fn node_property(&self, _: Gid, _: &str) -> Result<QValue> {
        Err(no_graph())
    }
    fn node_properties(&self, _: Gid) -> Result<BTreeMap<String, QValue>> {
        Err(no_graph())
    }
    fn rel_property(&self, _: &EdgeRef, _: &str) -> Result<QValue> {
        Err(no_graph())
    }
    fn rel_properties(&self, _: &EdgeRef) -> Result<BTreeMap<String, QValue>> {
        Err(no_graph())
    }
    fn rel_type(&self, _: &EdgeRef) -> String {
        String::new()
    }
    fn statement_time(&self) -> ZonedDateTime {
        ZonedDateTime::now_utc()
    }
}
