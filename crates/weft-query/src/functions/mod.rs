//! Cypher's built-in functions: the registry the planner checks calls against, scalar
//! evaluation, and the aggregators the executor feeds row by row.
//!
//! Owns: which names exist (case-insensitive: `toUpper`, `TOUPPER` and `toupper` are one
//! function; namespaced ones such as `date.truncate` likewise), their arities, which are
//! aggregates, and the semantics of each function, grouped by family:
//! `scalar.rs` (graph and general), `convert.rs` (`toInteger` and friends), `list.rs`,
//! `string.rs`, `math.rs`, `temporal/` (constructors and accessors in `mod.rs`, with
//! `map.rs`, `duration.rs`, `between.rs` and `truncate.rs`), `spatial.rs` (points), and
//! `aggregate.rs` ([`Aggregator`]). Operators live in `expr/ops.rs`.
//!
//! Promises: no function panics on any input. Null arguments give null unless the
//! function says otherwise (`coalesce`, `exists`). Wrong argument
//! types are `TypeError InvalidArgumentValue` errors (the TCK's code for `toBoolean([])`,
//! `labels(1)`, `type('')`); out-of-range numbers are `ArgumentError NumberOutOfRange`.
//!
//! Needs: graph reads (`labels`, `type`, `keys`, `properties`) and the statement clock
//! (`timestamp()`, `date()`) through [`GraphContext`].

use std::borrow::Cow;

use crate::error::{ErrorKind, QueryError, Result};
use crate::graph::GraphContext;
use crate::value::QValue;

mod aggregate;
pub(crate) mod convert;
mod list;
mod math;
mod random;
mod scalar;
pub(crate) mod spatial;
mod string;
pub(crate) mod temporal;

#[cfg(test)]
mod tests;

pub use aggregate::{new_aggregator, Aggregator};

/// Whether a function is evaluated per row or folds many rows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Scalar,
    Aggregate,
}

/// A registered function: lower-case name, accepted argument counts, kind.
struct Spec {
    name: &'static str,
    min: usize,
    max: usize,
    kind: Kind,
}

const fn scalar(name: &'static str, min: usize, max: usize) -> Spec {
    Spec {
        name,
        min,
        max,
        kind: Kind::Scalar,
    }
}

const fn aggregate(name: &'static str, min: usize, max: usize) -> Spec {
    Spec {
        name,
        min,
        max,
        kind: Kind::Aggregate,
    }
}

/// Any number of arguments.
const MANY: usize = usize::MAX;

#[rustfmt::skip]
const FUNCTIONS: &[Spec] = &[
    // Graph and general scalars.
    scalar("id", 1, 1), scalar("elementid", 1, 1), scalar("labels", 1, 1), scalar("type", 1, 1),
    scalar("keys", 1, 1), scalar("properties", 1, 1), scalar("startnode", 1, 1), scalar("endnode", 1, 1),
    scalar("nodes", 1, 1), scalar("relationships", 1, 1), scalar("length", 1, 1),
    scalar("coalesce", 1, MANY), scalar("timestamp", 0, 0), scalar("exists", 1, 1),
    scalar("randomuuid", 0, 0), scalar("linenumber", 0, 0), scalar("file", 0, 0),
    // Conversions.
    scalar("toboolean", 1, 1), scalar("tobooleanornull", 1, 1), scalar("tointeger", 1, 1),
    scalar("tointegerornull", 1, 1), scalar("tofloat", 1, 1), scalar("tofloatornull", 1, 1),
    scalar("tostring", 1, 1), scalar("tostringornull", 1, 1), scalar("tobooleanlist", 1, 1),
    scalar("tointegerlist", 1, 1), scalar("tofloatlist", 1, 1), scalar("tostringlist", 1, 1),
    // Lists.
    scalar("size", 1, 1), scalar("head", 1, 1), scalar("last", 1, 1), scalar("tail", 1, 1),
    scalar("range", 2, 3), scalar("reverse", 1, 1),
    // Strings.
    scalar("toupper", 1, 1), scalar("tolower", 1, 1), scalar("upper", 1, 1), scalar("lower", 1, 1),
    scalar("trim", 1, 1), scalar("ltrim", 1, 1), scalar("rtrim", 1, 1), scalar("replace", 3, 3),
    scalar("substring", 2, 3), scalar("left", 2, 2), scalar("right", 2, 2), scalar("split", 2, 2),
    // Mathematics.
    scalar("abs", 1, 1), scalar("ceil", 1, 1), scalar("floor", 1, 1), scalar("round", 1, 3),
    scalar("sign", 1, 1), scalar("rand", 0, 0), scalar("sqrt", 1, 1), scalar("exp", 1, 1),
    scalar("log", 1, 1), scalar("log10", 1, 1), scalar("e", 0, 0), scalar("pi", 0, 0),
    scalar("sin", 1, 1), scalar("cos", 1, 1), scalar("tan", 1, 1), scalar("cot", 1, 1),
    scalar("asin", 1, 1), scalar("acos", 1, 1), scalar("atan", 1, 1), scalar("atan2", 2, 2),
    scalar("degrees", 1, 1), scalar("radians", 1, 1), scalar("haversin", 1, 1), scalar("isnan", 1, 1),
    // Temporal constructors, clocks, truncation and differences.
    scalar("date", 0, 1), scalar("localtime", 0, 1), scalar("localdatetime", 0, 1),
    scalar("datetime", 0, 1), scalar("duration", 1, 1),
    scalar("date.statement", 0, 1), scalar("date.transaction", 0, 1), scalar("date.realtime", 0, 1),
    scalar("localtime.statement", 0, 1), scalar("localtime.transaction", 0, 1),
    scalar("localtime.realtime", 0, 1), scalar("localdatetime.statement", 0, 1),
    scalar("localdatetime.transaction", 0, 1), scalar("localdatetime.realtime", 0, 1),
    scalar("datetime.statement", 0, 1), scalar("datetime.transaction", 0, 1),
    scalar("datetime.realtime", 0, 1),
    scalar("time", 0, 1), scalar("time.statement", 0, 1), scalar("time.transaction", 0, 1),
    scalar("time.realtime", 0, 1), scalar("time.truncate", 2, 3),
    scalar("date.truncate", 2, 3), scalar("localtime.truncate", 2, 3),
    scalar("localdatetime.truncate", 2, 3), scalar("datetime.truncate", 2, 3),
    scalar("datetime.fromepoch", 2, 2), scalar("datetime.fromepochmillis", 1, 1),
    scalar("duration.between", 2, 2), scalar("duration.inmonths", 2, 2),
    scalar("duration.indays", 2, 2), scalar("duration.inseconds", 2, 2),
    // Spatial.
    scalar("point", 1, 1), scalar("point.distance", 2, 2), scalar("point.withinbbox", 3, 3),
    // Aggregates.
    aggregate("count", 1, 1), aggregate("sum", 1, 1), aggregate("avg", 1, 1), aggregate("min", 1, 1),
    aggregate("max", 1, 1), aggregate("collect", 1, 1), aggregate("stdev", 1, 1),
    aggregate("stdevp", 1, 1), aggregate("percentilecont", 2, 2), aggregate("percentiledisc", 2, 2),
];

/// Every registered function as (name, fewest arguments, most arguments).
pub(crate) fn registered() -> impl Iterator<Item = (&'static str, usize, usize)> {
    FUNCTIONS.iter().map(|spec| (spec.name, spec.min, spec.max))
}

/// The canonical (ASCII lower-case) form of a function name, borrowing when possible.
fn canonical(name: &str) -> Cow<'_, str> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

fn spec(name: &str) -> Option<&'static Spec> {
    let name = canonical(name);
    FUNCTIONS.iter().find(|spec| spec.name == name)
}

/// Whether `name` is a built-in function (scalar or aggregate), in any letter case.
pub fn function_exists(name: &str) -> bool {
    spec(name).is_some()
}

/// Whether `name` is an aggregate function (`count`, `collect`, `percentileDisc`, ...).
pub fn is_aggregate(name: &str) -> bool {
    spec(name).is_some_and(|spec| spec.kind == Kind::Aggregate)
}

/// Compile-time check of a call: `SyntaxError UnknownFunction` for a name that does not
/// exist, `SyntaxError InvalidNumberOfArguments` for a wrong argument count.
pub fn check_arity(name: &str, args: usize) -> Result<()> {
    let Some(spec) = spec(name) else {
        let message = format!("unknown function '{name}': check the spelling, or whether it is a procedure (CALL)");
        return Err(QueryError::compile(ErrorKind::SyntaxError, "UnknownFunction", message));
    };
    if (spec.min..=spec.max).contains(&args) {
        return Ok(());
    }
    let expected = match (spec.min, spec.max) {
        (min, max) if min == max => format!("{min}"),
        (min, MANY) => format!("at least {min}"),
        (min, max) => format!("{min} to {max}"),
    };
    let message = format!("function '{name}' takes {expected} argument(s), got {args}");
    Err(QueryError::compile(
        ErrorKind::SyntaxError,
        "InvalidNumberOfArguments",
        message,
    ))
}

/// Evaluates the scalar function `name` on already evaluated `args`. Aggregates are not
/// callable here: use [`new_aggregator`].
pub fn call(name: &str, args: &[QValue], ctx: &dyn GraphContext) -> Result<QValue> {
    check_arity(name, args.len()).map_err(|e| QueryError {
        phase: crate::error::Phase::Runtime,
        ..e
    })?;
    let canonical = canonical(name);
    let name = canonical.as_ref();
    if is_aggregate(name) {
        let message = format!("aggregate function '{name}' cannot be evaluated per row");
        return Err(QueryError::runtime(
            ErrorKind::SyntaxError,
            "InvalidAggregation",
            message,
        ));
    }
    scalar::call(name, args, ctx)
        .or_else(|| convert::call(name, args))
        .or_else(|| list::call(name, args))
        .or_else(|| string::call(name, args))
        .or_else(|| math::call(name, args))
        .or_else(|| temporal::call(name, args, ctx))
        .or_else(|| spatial::call(name, args))
        .unwrap_or_else(|| {
            let message = format!("function '{name}' is registered but has no implementation");
            Err(QueryError::runtime(
                ErrorKind::DatabaseError,
                "UnknownFunction",
                message,
            ))
        })
}

/// Argument `i`, or null if absent (arity is checked before evaluation; this keeps the
/// functions total anyway).
pub(crate) fn arg(args: &[QValue], i: usize) -> &QValue {
    args.get(i).unwrap_or(&QValue::Null)
}

/// `TypeError InvalidArgumentValue`: `func` cannot take a value of this type.
pub(crate) fn invalid_value(func: &str, expected: &str, got: &QValue) -> QueryError {
    let message = format!(
        "invalid input for function '{func}()': expected {expected}, got {}",
        got.type_name()
    );
    QueryError::runtime(ErrorKind::TypeError, "InvalidArgumentValue", message)
}

/// `ArgumentError NumberOutOfRange`.
pub(crate) fn out_of_range(func: &str, message: impl std::fmt::Display) -> QueryError {
    let message = format!("invalid input for function '{func}()': {message}");
    QueryError::runtime(ErrorKind::ArgumentError, "NumberOutOfRange", message)
}

/// `ArgumentError InvalidArgumentValue`: right type, unusable value (an unparsable date
/// string, an unknown unit).
pub(crate) fn bad_argument(func: &str, message: impl std::fmt::Display) -> QueryError {
    let message = format!("invalid input for function '{func}()': {message}");
    QueryError::runtime(ErrorKind::ArgumentError, "InvalidArgumentValue", message)
}
