//! EXPLAIN and PROFILE: the operator tree as rows, top down, each operator indented under
//! the one that pulls from it, with its estimated rows and — under PROFILE — the rows it
//! produced, its graph accesses (db hits: reads of nodes, relationships, properties,
//! labels and index entries, its inputs' own not counted) and its time with its inputs'.
//!
//! Estimates come from the graph's statistics: label counts, label+property index sizes,
//! the average number of relationships per node; a condition is taken to keep 30% of the
//! rows and an UNWIND to give ten per list, as nothing says better before running.

use crate::exec::eager::{column_sort, sort_name, AggregatePath};
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

/// An operator of a described plan, with its inputs: what EXPLAIN and PROFILE report,
/// and what a Bolt server sends as the summary's `plan` or `profile`.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanTree {
    pub operator: String,
    pub estimated_rows: f64,
    /// Under PROFILE: what running it showed.
    pub profile: Option<Profiled>,
    pub children: Vec<PlanTree>,
}

/// What PROFILE measured of one operator.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Profiled {
    pub rows: u64,
    /// Graph accesses of this operator alone (its inputs' not counted).
    pub db_hits: u64,
    /// Time with its inputs'.
    pub time: Duration,
}

/// The plan of `root` as a tree (`profile`: with what running it measured) and as rows:
/// EXPLAIN's `QUERY PLAN` and `ESTIMATED ROWS`, or PROFILE's columns.
pub(crate) fn describe_plan(root: &Op, stats: &dyn GraphStats, profile: bool) -> (QueryResult, PlanTree) {
    let tree = tree(root, stats, profile);
    let mut rows = Vec::new();
    flatten(&tree, 0, &mut rows);
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
    let result = QueryResult {
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        rows,
        ..Default::default()
    };
    (result, tree)
}

/// The tree's operators top down, each indented under the one that pulls from it.
fn flatten(t: &PlanTree, depth: usize, out: &mut Vec<Vec<ResultValue>>) {
    let text = ResultValue::String(format!("{}* {}", "| ".repeat(depth), t.operator));
    let estimate = ResultValue::Int(t.estimated_rows.round().min(i64::MAX as f64) as i64);
    out.push(match t.profile {
        Some(p) => vec![
            text,
            ResultValue::Int(p.rows as i64),
            estimate,
            ResultValue::Int(p.db_hits as i64),
            ResultValue::Float(p.time.as_secs_f64() * 1e3),
        ],
        None => vec![text, estimate],
    });
    for child in &t.children {
        flatten(child, depth + 1, out);
    }
}

/// `op` and its inputs as a tree, estimates computed from the inputs up.
fn tree(op: &Op, stats: &dyn GraphStats, profile: bool) -> PlanTree {
    let (name, inputs) = name(op, stats);
    let inputs_hits: u64 = inputs.iter().map(|c| c.hits).sum();
    let children: Vec<PlanTree> = inputs.iter().map(|c| tree(c, stats, profile)).collect();
    let estimates: Vec<f64> = children.iter().map(|c| c.estimated_rows).collect();
    let estimate = estimate(op, &estimates, stats);
    PlanTree {
        operator: name.to_owned(),
        estimated_rows: if estimate.is_finite() {
            estimate.max(0.0)
        } else {
            f64::MAX
        },
        profile: profile.then_some(Profiled {
            rows: op.rows,
            db_hits: op.hits - inputs_hits.min(op.hits),
            time: op.elapsed,
        }),
        children,
    }
}

fn name<'a>(op: &'a Op, stats: &dyn GraphStats) -> (&'a str, Vec<&'a Op>) {
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
        // Once run, the path taken; before (EXPLAIN), the path it would take now.
        OpKind::Aggregate {
            input, keys, aggs, ran, ..
        } => {
            let name = ran.unwrap_or_else(|| AggregatePath::of(input, keys, aggs, stats).name());
            (name, vec![input])
        }
        OpKind::Distinct { input, .. } => ("Distinct", vec![input]),
        OpKind::Sort {
            input,
            keys,
            limit,
            ran,
            ..
        } => {
            let name = ran.unwrap_or_else(|| sort_name(limit.is_some(), column_sort(input, keys, stats).is_some()));
            (name, vec![input])
        }
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
