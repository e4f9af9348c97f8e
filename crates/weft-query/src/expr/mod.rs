//! Expressions compiled against a scope (variables resolved to row slots, functions
//! checked), and their evaluation over a row.
//!
//! Compilation finds the errors that need names resolved: undefined variables, unknown
//! functions, wrong argument counts, aggregates where none may be. Type rules are the
//! semantic pass's (`semantic/types.rs`), which runs first.

pub(crate) mod fold;
pub(crate) mod ops;

use crate::ast::{BinaryOp, Expr, ExprKind, MapProjectionItem, Quantifier, UnaryOp};
use crate::error::{ErrorKind, QueryError, Result};
use crate::exec::pattern::{self, CPattern};
use crate::exec::ExecCtx;
use crate::graph::GraphRead;
use crate::plan::scope::{Scope, Slots, VarKind};
use crate::value::QValue;
use crate::value::Truth;
use std::collections::BTreeMap;

/// A compiled expression.
#[derive(Clone, Debug)]
pub enum CExpr {
    Const(QValue),
    Param(String),
    Slot(usize),
    List(Vec<CExpr>),
    Map(Vec<(String, CExpr)>),
    Property(Box<CExpr>, String),
    Index(Box<CExpr>, Box<CExpr>),
    Slice(Box<CExpr>, Option<Box<CExpr>>, Option<Box<CExpr>>),
    Not(Box<CExpr>),
    Neg(Box<CExpr>),
    Plus(Box<CExpr>),
    Binary(BinaryOp, Box<CExpr>, Box<CExpr>),
    Comparison(Box<CExpr>, Vec<(BinaryOp, CExpr)>),
    IsNull(Box<CExpr>, bool),
    HasLabels(Box<CExpr>, Vec<String>),
    Function(String, Vec<CExpr>),
    Case(Option<Box<CExpr>>, Vec<(CExpr, CExpr)>, Option<Box<CExpr>>),
    ListComp {
        slot: usize,
        list: Box<CExpr>,
        predicate: Option<Box<CExpr>>,
        projection: Option<Box<CExpr>>,
    },
    Quantifier {
        kind: Quantifier,
        slot: usize,
        list: Box<CExpr>,
        predicate: Option<Box<CExpr>>,
    },
    Reduce {
        acc: usize,
        init: Box<CExpr>,
        slot: usize,
        list: Box<CExpr>,
        expr: Box<CExpr>,
    },
    PatternExists(Box<CPattern>, Option<Box<CExpr>>),
    PatternComprehension(Box<CPattern>, Option<Box<CExpr>>, Box<CExpr>),
    MapProjection(Box<CExpr>, Vec<CMapItem>),
}

/// A compiled map projection item.
#[derive(Clone, Debug)]
pub enum CMapItem {
    Property(String),
    All,
    Entry(String, CExpr),
}

/// Compiles an expression in `scope`; new slots (comprehension variables) come from `slots`.
/// Constant sub-expressions are evaluated now: a type error in them is a compile-time
/// error, as openCypher requires, and the result is cheaper to run.
pub fn compile(e: &Expr, scope: &Scope, slots: &mut Slots) -> Result<CExpr> {
    let compiled = compile_inner(e, scope, slots).map_err(|err| err.at(e.position))?;
    crate::expr::fold::fold(compiled).map_err(|err| err.at(e.position))
}

fn boxed(e: &Expr, scope: &Scope, slots: &mut Slots) -> Result<Box<CExpr>> {
    compile(e, scope, slots).map(Box::new)
}

fn opt(e: &Option<Box<Expr>>, scope: &Scope, slots: &mut Slots) -> Result<Option<Box<CExpr>>> {
    e.as_ref().map(|e| boxed(e, scope, slots)).transpose()
}

fn compile_inner(e: &Expr, scope: &Scope, slots: &mut Slots) -> Result<CExpr> {
    Ok(match &e.kind {
        ExprKind::Null => CExpr::Const(QValue::Null),
        ExprKind::Bool(b) => CExpr::Const(QValue::Bool(*b)),
        ExprKind::Int(i) => CExpr::Const(QValue::Int(*i)),
        ExprKind::Float(f) => CExpr::Const(QValue::Float(*f)),
        ExprKind::String(s) => CExpr::Const(QValue::String(s.clone())),
        ExprKind::Parameter(p) => CExpr::Param(p.clone()),
        ExprKind::Variable(v) => CExpr::Slot(scope.slot(v)?),
        ExprKind::List(items) => CExpr::List(items.iter().map(|i| compile(i, scope, slots)).collect::<Result<_>>()?),
        ExprKind::Map(entries) => CExpr::Map(
            entries
                .iter()
                .map(|(k, v)| Ok((k.clone(), compile(v, scope, slots)?)))
                .collect::<Result<_>>()?,
        ),
        ExprKind::Property(base, key) => CExpr::Property(boxed(base, scope, slots)?, key.clone()),
        ExprKind::Index(base, idx) => CExpr::Index(boxed(base, scope, slots)?, boxed(idx, scope, slots)?),
        ExprKind::Slice(base, from, to) => CExpr::Slice(
            boxed(base, scope, slots)?,
            opt(from, scope, slots)?,
            opt(to, scope, slots)?,
        ),
        ExprKind::Unary(op, inner) => {
            let inner = boxed(inner, scope, slots)?;
            match op {
                UnaryOp::Not => CExpr::Not(inner),
                UnaryOp::Minus => CExpr::Neg(inner),
                UnaryOp::Plus => CExpr::Plus(inner),
            }
        }
        ExprKind::Binary(op, a, b) => CExpr::Binary(*op, boxed(a, scope, slots)?, boxed(b, scope, slots)?),
        ExprKind::Comparison(first, rest) => CExpr::Comparison(
            boxed(first, scope, slots)?,
            rest.iter()
                .map(|(op, e)| Ok((*op, compile(e, scope, slots)?)))
                .collect::<Result<_>>()?,
        ),
        ExprKind::IsNull(inner, negated) => CExpr::IsNull(boxed(inner, scope, slots)?, *negated),
        ExprKind::HasLabels(inner, labels) => CExpr::HasLabels(boxed(inner, scope, slots)?, labels.clone()),
        ExprKind::Function {
            name,
            distinct: _,
            args,
        } => compile_function(name, args, scope, slots)?,
        ExprKind::CountStar => return Err(aggregate_misplaced("count(*)")),
        ExprKind::Case { subject, whens, else_ } => CExpr::Case(
            opt(subject, scope, slots)?,
            whens
                .iter()
                .map(|(w, t)| Ok((compile(w, scope, slots)?, compile(t, scope, slots)?)))
                .collect::<Result<_>>()?,
            opt(else_, scope, slots)?,
        ),
        ExprKind::ListComprehension {
            variable,
            list,
            predicate,
            projection,
        } => {
            let list = boxed(list, scope, slots)?;
            let (inner, slot) = with_var(scope, variable, slots);
            CExpr::ListComp {
                slot,
                list,
                predicate: opt(predicate, &inner, slots)?,
                projection: opt(projection, &inner, slots)?,
            }
        }
        ExprKind::Quantifier {
            kind,
            variable,
            list,
            predicate,
        } => {
            let list = boxed(list, scope, slots)?;
            let (inner, slot) = with_var(scope, variable, slots);
            CExpr::Quantifier {
                kind: *kind,
                slot,
                list,
                predicate: opt(predicate, &inner, slots)?,
            }
        }
        ExprKind::Reduce {
            accumulator,
            init,
            variable,
            list,
            expr,
        } => {
            let init = boxed(init, scope, slots)?;
            let list = boxed(list, scope, slots)?;
            let (inner, acc) = with_var(scope, accumulator, slots);
            let (inner, slot) = with_var(&inner, variable, slots);
            CExpr::Reduce {
                acc,
                init,
                slot,
                list,
                expr: boxed(expr, &inner, slots)?,
            }
        }
        ExprKind::PatternPredicate(element) => {
            let mut inner = scope.clone();
            let pattern = pattern::compile_element(element, None, &mut inner, slots, pattern::Mode::Predicate)?;
            CExpr::PatternExists(Box::new(pattern), None)
        }
        ExprKind::ExistsSubquery { pattern: parts, where_ } => {
            let mut inner = scope.clone();
            let pattern = pattern::compile_parts(parts, &mut inner, slots, pattern::Mode::Match)?;
            CExpr::PatternExists(Box::new(pattern), opt(where_, &inner, slots)?)
        }
        ExprKind::ExistsQuery(_) | ExprKind::CountQuery(_) | ExprKind::CollectQuery(_) => {
            return Err(QueryError::compile(
                ErrorKind::SemanticError,
                "UnsupportedFeature",
                "EXISTS, COUNT and COLLECT subqueries are supported in WHERE, in the items and \
                 ORDER BY of WITH and RETURN, and in SET values; not inside list comprehensions, \
                 aggregating ORDER BY keys or other clauses",
            ))
        }
        ExprKind::PatternComprehension {
            variable,
            pattern: element,
            predicate,
            projection,
        } => {
            let mut inner = scope.clone();
            let pattern =
                pattern::compile_element(element, variable.as_deref(), &mut inner, slots, pattern::Mode::Match)?;
            CExpr::PatternComprehension(
                Box::new(pattern),
                opt(predicate, &inner, slots)?,
                boxed(projection, &inner, slots)?,
            )
        }
        ExprKind::MapProjection { variable, items } => {
            let base = Box::new(CExpr::Slot(scope.slot(variable)?));
            let items = items
                .iter()
                .map(|item| {
                    Ok(match item {
                        MapProjectionItem::Property(k) => CMapItem::Property(k.clone()),
                        MapProjectionItem::AllProperties => CMapItem::All,
                        MapProjectionItem::Literal(k, e) => CMapItem::Entry(k.clone(), compile(e, scope, slots)?),
                        MapProjectionItem::Variable(v) => CMapItem::Entry(v.clone(), CExpr::Slot(scope.slot(v)?)),
                    })
                })
                .collect::<Result<_>>()?;
            CExpr::MapProjection(base, items)
        }
    })
}

fn with_var(scope: &Scope, name: &str, slots: &mut Slots) -> (Scope, usize) {
    let mut inner = scope.clone();
    let slot = inner.bind(name, VarKind::Any, slots);
    (inner, slot)
}

fn aggregate_misplaced(name: &str) -> QueryError {
    QueryError::compile(
        ErrorKind::SyntaxError,
        "InvalidAggregation",
        format!("Invalid use of aggregating function {name} in this context"),
    )
}

fn compile_function(name: &str, args: &[Expr], scope: &Scope, slots: &mut Slots) -> Result<CExpr> {
    if crate::functions::is_aggregate(name) {
        return Err(aggregate_misplaced(&format!("{name}(...)")));
    }
    crate::functions::check_arity(name, args.len())?;
    // The record LOAD CSV is on: slots its operator fills, null outside one.
    let record = match name.to_lowercase().as_str() {
        "linenumber" => Some(crate::exec::load_csv::LINE_VARIABLE),
        "file" => Some(crate::exec::load_csv::FILE_VARIABLE),
        _ => None,
    };
    if let Some(hidden) = record {
        return Ok(scope
            .get(hidden)
            .map_or(CExpr::Const(QValue::Null), |(slot, _)| CExpr::Slot(slot)));
    }
    let args = args.iter().map(|a| compile(a, scope, slots)).collect::<Result<_>>()?;
    Ok(CExpr::Function(name.to_lowercase(), args))
}

/// True when the expression contains an aggregating function call (not inside a nested
/// scope such as a list comprehension's own aggregation, which openCypher forbids anyway).
pub fn contains_aggregate(e: &Expr) -> bool {
    let mut found = false;
    visit(e, &mut |e| {
        found |= matches!(&e.kind, ExprKind::CountStar)
            || matches!(&e.kind, ExprKind::Function { name, .. } if crate::functions::is_aggregate(name));
    });
    found
}

/// Calls `f` on every sub-expression (pre-order), not descending into patterns.
pub fn visit(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    let mut go = |x: &Expr| visit(x, f);
    match &e.kind {
        ExprKind::List(items) => items.iter().for_each(go),
        ExprKind::Map(entries) => entries.iter().for_each(|(_, v)| go(v)),
        ExprKind::Property(b, _) | ExprKind::IsNull(b, _) | ExprKind::HasLabels(b, _) | ExprKind::Unary(_, b) => go(b),
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
            go(a);
            go(b);
        }
        ExprKind::Slice(a, b, c) => {
            go(a);
            b.iter().chain(c.iter()).for_each(|x| go(x));
        }
        ExprKind::Comparison(a, rest) => {
            go(a);
            rest.iter().for_each(|(_, x)| go(x));
        }
        ExprKind::Function { args, .. } => args.iter().for_each(go),
        ExprKind::Case { subject, whens, else_ } => {
            subject.iter().chain(else_.iter()).for_each(|x| go(x));
            whens.iter().for_each(|(w, t)| {
                go(w);
                go(t);
            });
        }
        ExprKind::ListComprehension {
            list,
            predicate,
            projection,
            ..
        } => {
            go(list);
            predicate.iter().chain(projection.iter()).for_each(|x| go(x));
        }
        ExprKind::Quantifier { list, predicate, .. } => {
            go(list);
            predicate.iter().for_each(|x| go(x));
        }
        ExprKind::Reduce { init, list, expr, .. } => {
            go(init);
            go(list);
            go(expr);
        }
        ExprKind::MapProjection { items, .. } => items.iter().for_each(|i| {
            if let MapProjectionItem::Literal(_, x) = i {
                go(x)
            }
        }),
        _ => {}
    }
}

/// Evaluates a compiled expression over `row` (comprehension variables write their own
/// slots in it).
pub fn eval<G: GraphRead>(e: &CExpr, row: &mut [QValue], ctx: &ExecCtx<G>) -> Result<QValue> {
    Ok(match e {
        CExpr::Const(v) => v.clone(),
        CExpr::Param(name) => ctx.param(name)?,
        CExpr::Slot(s) => row.get(*s).cloned().unwrap_or(QValue::Null),
        CExpr::List(items) => QValue::List(items.iter().map(|i| eval(i, row, ctx)).collect::<Result<_>>()?),
        CExpr::Map(entries) => QValue::Map(
            entries
                .iter()
                .map(|(k, v)| Ok((k.clone(), eval(v, row, ctx)?)))
                .collect::<Result<BTreeMap<_, _>>>()?,
        ),
        CExpr::Property(base, key) => match **base {
            // A variable's property is read in place: a map held in a row is not copied
            // to read one of its keys.
            CExpr::Slot(s) => match row.get(s) {
                Some(value) => ctx.property(value, key)?,
                None => QValue::Null,
            },
            _ => {
                let base = eval(base, row, ctx)?;
                ctx.property(&base, key)?
            }
        },
        CExpr::Index(base, idx) => ops::subscript(&eval(base, row, ctx)?, &eval(idx, row, ctx)?, ctx)?,
        CExpr::Slice(base, from, to) => {
            let base = eval(base, row, ctx)?;
            let from = from.as_ref().map(|f| eval(f, row, ctx)).transpose()?;
            let to = to.as_ref().map(|t| eval(t, row, ctx)).transpose()?;
            ops::slice(&base, from.as_ref(), to.as_ref())?
        }
        CExpr::Not(inner) => ops::not(&eval(inner, row, ctx)?)?,
        CExpr::Neg(inner) => ops::neg(&eval(inner, row, ctx)?)?,
        CExpr::Plus(inner) => eval(inner, row, ctx)?,
        CExpr::Binary(op, a, b) => eval_binary(*op, a, b, row, ctx)?,
        CExpr::Comparison(first, rest) => eval_comparison(first, rest, row, ctx)?,
        CExpr::IsNull(inner, negated) => QValue::Bool(eval(inner, row, ctx)?.is_null() != *negated),
        CExpr::HasLabels(inner, labels) => match eval(inner, row, ctx)? {
            QValue::Null => QValue::Null,
            QValue::Node(n) => {
                let have = crate::graph::GraphContext::node_labels(ctx, n)?;
                QValue::Bool(labels.iter().all(|l| have.contains(l)))
            }
            other => {
                return Err(type_error(format!(
                    "expected a node for a label check, got {}",
                    other.type_name()
                )))
            }
        },
        CExpr::Function(name, args) => {
            let args: Vec<QValue> = args.iter().map(|a| eval(a, row, ctx)).collect::<Result<_>>()?;
            crate::functions::call(name, &args, ctx)?
        }
        CExpr::Case(subject, whens, else_) => eval_case(subject.as_deref(), whens, else_.as_deref(), row, ctx)?,
        CExpr::ListComp {
            slot,
            list,
            predicate,
            projection,
        } => {
            let mut out = Vec::new();
            let Some(items) = list_items(eval(list, row, ctx)?)? else {
                return Ok(QValue::Null);
            };
            for item in items {
                // A long list is work like rows are: the deadline and a cancel reach it.
                ctx.step()?;
                row[*slot] = item.clone();
                if let Some(p) = predicate {
                    if eval(p, row, ctx)?.as_bool_or_null()? != Some(true) {
                        continue;
                    }
                }
                out.push(match projection {
                    Some(p) => eval(p, row, ctx)?,
                    None => item,
                });
            }
            QValue::List(out)
        }
        CExpr::Quantifier {
            kind,
            slot,
            list,
            predicate,
        } => eval_quantifier(*kind, *slot, list, predicate, row, ctx)?,
        CExpr::Reduce {
            acc,
            init,
            slot,
            list,
            expr,
        } => {
            row[*acc] = eval(init, row, ctx)?;
            let Some(items) = list_items(eval(list, row, ctx)?)? else {
                return Ok(QValue::Null);
            };
            for item in items {
                ctx.step()?;
                row[*slot] = item;
                row[*acc] = eval(expr, row, ctx)?;
            }
            row[*acc].clone()
        }
        CExpr::PatternExists(pattern, where_) => {
            let mut found = false;
            pattern::for_each_match(pattern, row, ctx, &mut |row| {
                let ok = match where_ {
                    Some(w) => eval(w, row, ctx)?.as_bool_or_null()? == Some(true),
                    None => true,
                };
                found |= ok;
                Ok(!found)
            })?;
            QValue::Bool(found)
        }
        CExpr::PatternComprehension(pattern, predicate, projection) => {
            let mut out = Vec::new();
            pattern::for_each_match(pattern, row, ctx, &mut |row| {
                if let Some(p) = predicate {
                    if eval(p, row, ctx)?.as_bool_or_null()? != Some(true) {
                        return Ok(true);
                    }
                }
                out.push(eval(projection, row, ctx)?);
                Ok(true)
            })?;
            QValue::List(out)
        }
        CExpr::MapProjection(base, items) => eval_map_projection(base, items, row, ctx)?,
    })
}

fn type_error(message: String) -> QueryError {
    QueryError::runtime(ErrorKind::TypeError, "InvalidArgumentType", message)
}

fn list_items(v: QValue) -> Result<Option<Vec<QValue>>> {
    match v {
        QValue::Null => Ok(None),
        QValue::List(items) => Ok(Some(items)),
        other => Err(type_error(format!("expected a list, got {}", other.type_name()))),
    }
}

fn eval_binary<G: GraphRead>(
    op: BinaryOp,
    a: &CExpr,
    b: &CExpr,
    row: &mut [QValue],
    ctx: &ExecCtx<G>,
) -> Result<QValue> {
    let left = eval(a, row, ctx)?;
    // AND / OR short-circuit only on a decided left side; errors on the right still count.
    match (op, &left) {
        (BinaryOp::And, QValue::Bool(false)) => return Ok(QValue::Bool(false)),
        (BinaryOp::Or, QValue::Bool(true)) => return Ok(QValue::Bool(true)),
        _ => {}
    }
    let right = eval(b, row, ctx)?;
    match op {
        BinaryOp::Or => ops::or(&left, &right),
        BinaryOp::Xor => ops::xor(&left, &right),
        BinaryOp::And => ops::and(&left, &right),
        BinaryOp::Add => ops::add(&left, &right),
        BinaryOp::Sub => ops::sub(&left, &right),
        BinaryOp::Mul => ops::mul(&left, &right),
        BinaryOp::Div => ops::div(&left, &right),
        BinaryOp::Mod => ops::modulo(&left, &right),
        BinaryOp::Pow => ops::pow(&left, &right),
        BinaryOp::In => ops::in_list(&left, &right),
        BinaryOp::StartsWith => ops::starts_with(&left, &right),
        BinaryOp::EndsWith => ops::ends_with(&left, &right),
        BinaryOp::Contains => ops::contains(&left, &right),
        BinaryOp::Regex => ops::regex_match(&left, &right),
        BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            ops::compare(op, &left, &right)
        }
    }
}

fn eval_comparison<G: GraphRead>(
    first: &CExpr,
    rest: &[(BinaryOp, CExpr)],
    row: &mut [QValue],
    ctx: &ExecCtx<G>,
) -> Result<QValue> {
    let mut left = eval(first, row, ctx)?;
    let mut result = QValue::Bool(true);
    for (op, e) in rest {
        let right = eval(e, row, ctx)?;
        result = ops::and(&result, &ops::compare(*op, &left, &right)?)?;
        left = right;
    }
    Ok(result)
}

fn eval_case<G: GraphRead>(
    subject: Option<&CExpr>,
    whens: &[(CExpr, CExpr)],
    else_: Option<&CExpr>,
    row: &mut [QValue],
    ctx: &ExecCtx<G>,
) -> Result<QValue> {
    let subject = subject.map(|s| eval(s, row, ctx)).transpose()?;
    for (when, then) in whens {
        let w = eval(when, row, ctx)?;
        let hit = match &subject {
            Some(s) => s.cypher_eq(&w) == Some(true),
            None => matches!(w, QValue::Bool(true)),
        };
        if hit {
            return eval(then, row, ctx);
        }
    }
    else_.map_or(Ok(QValue::Null), |e| eval(e, row, ctx))
}

fn eval_quantifier<G: GraphRead>(
    kind: Quantifier,
    slot: usize,
    list: &CExpr,
    predicate: &Option<Box<CExpr>>,
    row: &mut [QValue],
    ctx: &ExecCtx<G>,
) -> Result<QValue> {
    let Some(items) = list_items(eval(list, row, ctx)?)? else {
        return Ok(QValue::Null);
    };
    let (mut trues, mut nulls) = (0usize, 0usize);
    let total = items.len();
    for item in items {
        row[slot] = item;
        let v = match predicate {
            Some(p) => eval(p, row, ctx)?.as_bool_or_null()?,
            None => Some(true),
        };
        match v {
            Some(true) => trues += 1,
            None => nulls += 1,
            Some(false) => {}
        }
    }
    let falses = total - trues - nulls;
    let decided = |b: bool| Ok(QValue::Bool(b));
    match kind {
        Quantifier::All if falses > 0 => decided(false),
        Quantifier::All if nulls > 0 => Ok(QValue::Null),
        Quantifier::All => decided(true),
        Quantifier::Any if trues > 0 => decided(true),
        Quantifier::Any if nulls > 0 => Ok(QValue::Null),
        Quantifier::Any => decided(false),
        Quantifier::None if trues > 0 => decided(false),
        Quantifier::None if nulls > 0 => Ok(QValue::Null),
        Quantifier::None => decided(true),
        Quantifier::Single if trues > 1 => decided(false),
        Quantifier::Single if nulls > 0 => Ok(QValue::Null),
        Quantifier::Single => decided(trues == 1),
    }
}

fn eval_map_projection<G: GraphRead>(
    base: &CExpr,
    items: &[CMapItem],
    row: &mut [QValue],
    ctx: &ExecCtx<G>,
) -> Result<QValue> {
    let base = eval(base, row, ctx)?;
    if base.is_null() {
        return Ok(QValue::Null);
    }
    let mut out = BTreeMap::new();
    for item in items {
        match item {
            CMapItem::Property(k) => {
                out.insert(k.clone(), ctx.property(&base, k)?);
            }
            CMapItem::All => out.extend(ctx.all_properties(&base)?),
            CMapItem::Entry(k, e) => {
                out.insert(k.clone(), eval(e, row, ctx)?);
            }
        }
    }
    Ok(QValue::Map(out))
}
