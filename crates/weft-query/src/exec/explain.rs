//! EXPLAIN and PROFILE: the operator tree as rows, top down, each operator indented under
//! the one that pulls from it, with its estimated rows and — under PROFILE — the rows it
//! produced, its graph accesses (db hits: reads of nodes, relationships, properties,
//! labels and index entries, its inputs' own not counted) and its time with its inputs'.
//!
//! Estimates come from the graph's statistics: label counts, label+property index sizes,
//! the average number of relationships per node; a condition is taken to keep 30% of the
//! rows and an UNWIND to give ten per list, as nothing says better before running.

use crate::exec::pattern::{CElement, CRel};
use crate::exec::pipeline::{Op, OpKind};
use crate::graph::GraphStats;
use crate::plan::estimate::estimate_of;
use crate::result::{QueryResult, ResultValue};
use crate::value::QValue;
use std::time::Duration;

/// The share of rows a condition is assumed to keep.
const SELECTIVITY: f64 = 0.3;

/// Rows per list an UNWIND is assumed to give, and records per file for LOAD CSV.
const ROWS_PER_LIST: f64 = 10.0;
const ROWS_PER_FILE: f64 = 1000.0;

struct Line {
    text: String,
    estimate: f64,
    rows: u64,
    hits: u64,
    time: Duration,
}

/// The plan of `root` as a result: EXPLAIN's `QUERY PLAN` and `ESTIMATED ROWS`, or
/// (`profile`) PROFILE's columns.
pub(crate) fn plan_rows(root: &Op, stats: &dyn GraphStats, profile: bool) -> QueryResult {
    let mut lines = Vec::new();
    describe(root, 0, stats, &mut lines);
    let rows = lines
        .into_iter()
        .map(|l| {
            let estimate = ResultValue::Int(l.estimate.round().min(i64::MAX as f64) as i64);
            if profile {
                vec![
                    ResultValue::String(l.text),
                    ResultValue::Int(l.rows as i64),
                    estimate,
                    ResultValue::Int(l.hits as i64),
                    ResultValue::Float(l.time.as_secs_f64() * 1e3),
                ]
            } else {
                vec![ResultValue::String(l.text), estimate]
            }
        })
        .collect();
    let columns: &[&str] = if profile {
        &[
            "OPERATOR",
            "ACTUAL HITS",
            "ESTIMATED ROWS",
            "DB HITS",
            "INCLUSIVE TIME (ms)",
        ]
    } else {
        &["QUERY PLAN", "ESTIMATED ROWS"]
    };
    QueryResult {
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        rows,
        ..Default::default()
    }
}

/// Adds `op`'s line and its inputs' below it; returns `op`'s estimate.
fn describe(op: &Op, depth: usize, stats: &dyn GraphStats, out: &mut Vec<Line>) -> f64 {
    let (name, children) = name(op);
    let at = out.len();
    out.push(Line {
        text: format!("{}* {name}", "| ".repeat(depth)),
        estimate: 0.0,
        rows: op.rows,
        hits: op.hits - children.iter().map(|c| c.hits).sum::<u64>().min(op.hits),
        time: op.elapsed,
    });
    let inputs: Vec<f64> = children.iter().map(|c| describe(c, depth + 1, stats, out)).collect();
    let estimate = estimate(op, &inputs, stats);
    let estimate = if estimate.is_finite() {
        estimate.max(0.0)
    } else {
        f64::MAX
    };
    out[at].estimate = estimate;
    estimate
}

fn name(op: &Op) -> (&str, Vec<&Op>) {
    match &op.kind {
        OpKind::Once { .. } => ("Once", vec![]),
        OpKind::Argument { .. } => ("Argument", vec![]),
        OpKind::SemiApply { input, sub, negated } => {
            (if *negated { "AntiSemiApply" } else { "SemiApply" }, vec![input, sub])
        }
        OpKind::Match { input, optional, .. } => {
            (if optional.is_some() { "OptionalMatch" } else { "Match" }, vec![input])
        }
        OpKind::Filter { input, .. } => ("Filter", vec![input]),
        OpKind::Unwind { input, .. } => ("Unwind", vec![input]),
        OpKind::Project { input, .. } => ("Produce", vec![input]),
        OpKind::Aggregate { input, keys, aggs, .. } => {
            let columns = crate::exec::columns::ColumnScan::of(input, keys, aggs).is_some();
            let name = if columns {
                "Aggregate (label columns)"
            } else {
                "Aggregate"
            };
            (name, vec![input])
        }
        OpKind::Distinct { input, .. } => ("Distinct", vec![input]),
        OpKind::Sort { input, limit, .. } => (if limit.is_some() { "TopK" } else { "OrderBy" }, vec![input]),
        OpKind::Skip { input, .. } => ("Skip", vec![input]),
        OpKind::Limit { input, .. } => ("Limit", vec![input]),
        OpKind::Write { input, clause, .. } => (clause.name(), vec![input]),
        OpKind::Union { inputs, .. } => ("Union", inputs.iter().map(|(op, _)| op).collect()),
        OpKind::Call { input, .. } => ("CallProcedure", vec![input]),
        OpKind::LoadCsv { input, .. } => ("LoadCSV", vec![input]),
        OpKind::Apply { input, sub, apply } => (
            if apply.batched() { "TransactionApply" } else { "Apply" },
            vec![input, sub],
        ),
    }
}

/// `op`'s estimated rows from its inputs' (in the order `name` lists them).
fn estimate(op: &Op, inputs: &[f64], stats: &dyn GraphStats) -> f64 {
    let input = inputs.first().copied().unwrap_or(1.0);
    match &op.kind {
        OpKind::Once { .. } | OpKind::Argument { .. } => 1.0,
        OpKind::SemiApply { .. } | OpKind::Filter { .. } => input * SELECTIVITY,
        OpKind::Match {
            pattern,
            filter,
            optional,
            ..
        } => {
            let per_row: f64 = pattern.parts.iter().map(|part| matches_of(part, stats)).product();
            let kept = if filter.is_some() { SELECTIVITY } else { 1.0 };
            let rows = input * per_row * kept;
            if optional.is_some() {
                rows.max(input)
            } else {
                rows
            }
        }
        OpKind::Unwind { .. } => input * ROWS_PER_LIST,
        OpKind::LoadCsv { .. } => input * ROWS_PER_FILE,
        OpKind::Aggregate { keys, .. } if keys.is_empty() => 1.0,
        OpKind::Aggregate { .. } => input.sqrt().max(1.0),
        OpKind::Limit { count, .. } | OpKind::Skip { count, .. } => match (count, &op.kind) {
            (crate::expr::CExpr::Const(QValue::Int(n)), OpKind::Limit { .. }) => input.min(*n as f64),
            (crate::expr::CExpr::Const(QValue::Int(n)), _) => (input - *n as f64).max(0.0),
            _ => input,
        },
        OpKind::Union { .. } => inputs.iter().sum(),
        OpKind::Apply { apply, .. } if apply.value.is_none() && !apply.returns.is_empty() => {
            input * inputs.get(1).copied().unwrap_or(1.0)
        }
        _ => input,
    }
}

/// Matches of one pattern part per incoming row: its start candidates (one when bound),
/// times the relationships each hop fans out to, times the share of nodes that pass each
/// further node's labels.
fn matches_of(part: &CElement, stats: &dyn GraphStats) -> f64 {
    let start = if part.reversed { part.nodes.len() - 1 } else { 0 };
    let first = &part.nodes[start];
    let mut rows = if first.bound {
        1.0
    } else {
        estimate_of(stats, &first.labels, first.props.is_some(), false).max(1) as f64
    };
    let vertices = stats.approx_vertex_count().max(1) as f64;
    let degree = stats.approx_edge_count() as f64 / vertices;
    for (i, rel) in part.rels.iter().enumerate() {
        let next = if part.reversed {
            &part.nodes[i]
        } else {
            &part.nodes[i + 1]
        };
        rows *= fan_out(rel, degree);
        if next.bound {
            rows /= vertices;
        } else if !next.labels.is_empty() {
            let share = estimate_of(stats, &next.labels, false, false) as f64 / vertices;
            rows *= share.min(1.0);
        }
    }
    rows
}

/// Relationships one hop of `rel` reaches from a node.
fn fan_out(rel: &CRel, degree: f64) -> f64 {
    let both = if rel.direction == crate::ast::RelDirection::Both {
        2.0
    } else {
        1.0
    };
    let step = degree * both;
    if rel.search.is_some() {
        return 1.0;
    }
    match rel.length {
        None => step,
        Some((min, max)) => {
            let hops = max.unwrap_or(min.max(1) + 2).min(min.max(1) + 2).clamp(1, 32);
            step.powi(hops as i32)
        }
    }
}
