//! Operators that consume their whole input before producing a row: aggregation
//! (grouping with one aggregator state per group and aggregate) and sorting (with a
//! bounded top-k when a LIMIT follows).

use crate::error::{ErrorKind, QueryError, Result};
use crate::exec::column_sort::ColumnSort;
use crate::exec::columns::ColumnScan;
use crate::exec::columns_expand::ExpandScan;
use crate::exec::pipeline::{constant_count, AggSpec, Op};
use crate::exec::row::{FastMap, Row};
use crate::exec::ExecCtx;
use crate::expr::{eval, CExpr};
use crate::functions::Aggregator;
use crate::graph::{GraphStats, GraphWrite};
use crate::value::{GroupKey, QValue};
use std::collections::VecDeque;

struct Group {
    keys: Vec<QValue>,
    states: Vec<Box<dyn Aggregator>>,
}

fn new_states(aggs: &[AggSpec]) -> Result<Vec<Box<dyn Aggregator>>> {
    aggs.iter()
        .map(|a| {
            let name = a.name.as_deref().unwrap_or("count_star");
            crate::functions::new_aggregator(name, a.distinct).ok_or_else(|| {
                QueryError::compile(
                    ErrorKind::SyntaxError,
                    "UnknownFunction",
                    format!("unknown aggregate {name}"),
                )
            })
        })
        .collect()
}

/// Groups rows by their key values and keeps one aggregator state per group and
/// aggregate: what both the row path and the column path (`columns.rs`) feed.
pub(crate) struct Groups<'a> {
    aggs: &'a [AggSpec],
    index: FastMap<Vec<GroupKey>, usize>,
    groups: Vec<Group>,
    /// The key being built, kept across rows: only a new group copies it.
    pub key: Vec<GroupKey>,
    /// One aggregate's arguments being built, kept across rows.
    pub args: Vec<QValue>,
}

impl<'a> Groups<'a> {
    pub fn new(aggs: &'a [AggSpec]) -> Self {
        Groups {
            aggs,
            index: FastMap::default(),
            groups: Vec::new(),
            key: Vec::new(),
            args: Vec::new(),
        }
    }

    /// The group of the key in [`Groups::key`], made when new.
    pub fn group(&mut self) -> Result<usize> {
        // Without keys there is one group: no lookup per row.
        if self.key.is_empty() && !self.groups.is_empty() {
            return Ok(0);
        }
        if let Some(at) = self.index.get(self.key.as_slice()) {
            return Ok(*at);
        }
        self.groups.push(Group {
            keys: self.key.iter().map(|k| k.0.clone()).collect(),
            states: new_states(self.aggs)?,
        });
        self.index.insert(self.key.clone(), self.groups.len() - 1);
        Ok(self.groups.len() - 1)
    }

    /// Feeds the arguments in [`Groups::args`] to aggregate `agg` of group `at`.
    pub fn update(&mut self, at: usize, agg: usize) -> Result<()> {
        self.groups[at].states[agg].update(&self.args)
    }

    /// [`Groups::update`] for `rows` rows with the same arguments.
    pub fn update_rows(&mut self, at: usize, agg: usize, rows: u64) -> Result<()> {
        self.groups[at].states[agg].update_rows(&self.args, rows)
    }

    /// One row per group (one with the aggregates' empty results when there are no keys
    /// and no group), with the keys in their slots.
    pub fn finish(mut self, keys: &[(usize, CExpr)], width: usize) -> Result<VecDeque<Row>> {
        if self.groups.is_empty() && keys.is_empty() {
            self.key.clear();
            self.group()?;
        }
        let mut out = VecDeque::new();
        for mut group in self.groups {
            let mut row = vec![QValue::Null; width];
            for ((slot, _), v) in keys.iter().zip(group.keys.drain(..)) {
                row[*slot] = v;
            }
            for (spec, state) in self.aggs.iter().zip(group.states.iter_mut()) {
                row[spec.slot] = state.finish()?;
            }
            out.push_back(row);
        }
        Ok(out)
    }
}

/// Which path an aggregation takes.
pub(crate) enum AggregatePath {
    Columns(ColumnScan),
    Expand(ExpandScan),
    Rows,
}

impl AggregatePath {
    /// The path for aggregating `input`, by its shape and the graph's statistics.
    pub fn of(input: &Op, keys: &[(usize, CExpr)], aggs: &[AggSpec], stats: &dyn GraphStats) -> AggregatePath {
        if let Some(scan) = ColumnScan::of(input, keys, aggs).filter(|s| !s.indexed(stats)) {
            return AggregatePath::Columns(scan);
        }
        match ExpandScan::of(input, keys, aggs).filter(|s| !s.prefers_rows(stats)) {
            Some(expand) => AggregatePath::Expand(expand),
            None => AggregatePath::Rows,
        }
    }

    /// The operator's name under EXPLAIN and PROFILE.
    pub fn name(&self) -> &'static str {
        match self {
            AggregatePath::Columns(_) => "Aggregate (label columns)",
            AggregatePath::Expand(_) => "Aggregate (label columns, expand)",
            AggregatePath::Rows => "Aggregate",
        }
    }
}

/// Groups the input by `keys` and runs `aggs` per group; one row per group (one row
/// with the aggregates' empty results when there are no keys and no input). The shapes
/// of [`AggregatePath`] run in column form instead. Also returns the path's name.
pub(crate) fn aggregate<G: GraphWrite>(
    input: &mut Op,
    keys: &[(usize, CExpr)],
    aggs: &[AggSpec],
    width: usize,
    ctx: &mut ExecCtx<G>,
) -> Result<(VecDeque<Row>, &'static str)> {
    let path = AggregatePath::of(input, keys, aggs, ctx.graph());
    let name = path.name();
    let rows = match path {
        AggregatePath::Columns(scan) => scan.aggregate(input, keys, aggs, width, ctx)?,
        AggregatePath::Expand(expand) => expand.aggregate(input, keys, aggs, width, ctx)?,
        AggregatePath::Rows => aggregate_rows(input, keys, aggs, width, ctx)?,
    };
    Ok((rows, name))
}

fn aggregate_rows<G: GraphWrite>(
    input: &mut Op,
    keys: &[(usize, CExpr)],
    aggs: &[AggSpec],
    width: usize,
    ctx: &mut ExecCtx<G>,
) -> Result<VecDeque<Row>> {
    let mut groups = Groups::new(aggs);
    input.drain(ctx, &mut |row, ctx| {
        groups.key.clear();
        for (_, e) in keys {
            groups.key.push(GroupKey::from(eval(e, row, ctx)?));
        }
        let at = groups.group()?;
        for (i, spec) in aggs.iter().enumerate() {
            groups.args.clear();
            for e in &spec.args {
                groups.args.push(eval(e, row, ctx)?);
            }
            groups.update(at, i)?;
        }
        Ok(())
    })?;
    groups.finish(keys, width)
}

/// A sort's column form, when its input has that shape and no index serves its range.
pub(crate) fn column_sort(input: &Op, keys: &[(CExpr, bool)], stats: &dyn GraphStats) -> Option<ColumnSort> {
    ColumnSort::of(input, keys).filter(|s| !s.indexed(stats))
}

/// A sort's name under EXPLAIN and PROFILE.
pub(crate) fn sort_name(limited: bool, columns: bool) -> &'static str {
    match (limited, columns) {
        (true, true) => "TopK (label columns)",
        (true, false) => "TopK",
        (false, true) => "OrderBy (label columns)",
        (false, false) => "OrderBy",
    }
}

/// The input ordered by `keys` (each descending when its flag is set), cut to `limit`;
/// and the sort's name (see [`sort_name`]).
pub(crate) fn sort<G: GraphWrite>(
    input: &mut Op,
    keys: &[(CExpr, bool)],
    limit: Option<&CExpr>,
    ctx: &mut ExecCtx<G>,
) -> Result<(VecDeque<Row>, &'static str)> {
    let limited = limit.is_some();
    let limit = limit.map(|l| constant_count(l, ctx, "LIMIT")).transpose()?;
    if let Some(scan) = column_sort(input, keys, ctx.graph()) {
        return Ok((scan.sort(input, limit, ctx)?, sort_name(limited, true)));
    }
    let mut sorter = Sorter::new(keys, limit);
    while let Some(mut row) = input.next(ctx)? {
        let sort_key: Vec<QValue> = keys
            .iter()
            .map(|(e, _)| eval(e, &mut row, ctx))
            .collect::<Result<_>>()?;
        if sorter.wants(&sort_key) {
            sorter.push(sort_key, row);
        }
    }
    Ok((sorter.finish(ctx)?, sort_name(limited, false)))
}

/// openCypher's order of two sort keys, each part reversed where `descending` says.
fn compare(descending: &[bool], a: &[QValue], b: &[QValue]) -> std::cmp::Ordering {
    for ((x, y), desc) in a.iter().zip(b).zip(descending) {
        let o = x.order_cmp(y);
        let o = if *desc { o.reverse() } else { o };
        if o != std::cmp::Ordering::Equal {
            return o;
        }
    }
    std::cmp::Ordering::Equal
}

/// Rows with their sort keys, ordered at the end (stably: rows with equal keys keep the
/// order they came in), and kept to the best `limit` along the way.
pub(crate) struct Sorter {
    descending: Vec<bool>,
    limit: Option<u64>,
    rows: Vec<(Vec<QValue>, Row)>,
    /// With a limit, once `limit` rows were kept: the key of the last of them. A later
    /// row with this key or one after it can never be among the first `limit`.
    last_kept: Option<Vec<QValue>>,
}

impl Sorter {
    pub fn new(keys: &[(CExpr, bool)], limit: Option<u64>) -> Sorter {
        Sorter {
            descending: keys.iter().map(|(_, d)| *d).collect(),
            limit,
            rows: Vec::new(),
            last_kept: None,
        }
    }

    /// Whether a row with `key`, coming after every row pushed so far, can still be among
    /// the first `limit` (callers may skip building a row that cannot).
    pub fn wants(&self, key: &[QValue]) -> bool {
        self.limit != Some(0)
            && self
                .last_kept
                .as_ref()
                .is_none_or(|last| compare(&self.descending, key, last) == std::cmp::Ordering::Less)
    }

    /// Keeps a row that [`Sorter::wants`].
    pub fn push(&mut self, key: Vec<QValue>, row: Row) {
        debug_assert!(self.wants(&key), "a row the sort refuses");
        self.rows.push((key, row));
        // Top-k: keep at most 2k rows between compactions.
        if let Some(k) = self.limit {
            if self.rows.len() as u64 > 2 * k.max(512) {
                let descending = &self.descending;
                self.rows.sort_by(|a, b| compare(descending, &a.0, &b.0));
                self.rows.truncate(k as usize);
                self.last_kept = self.rows.last().map(|(key, _)| key.clone()).filter(|_| k > 0);
            }
        }
    }

    /// The rows in order, cut to the limit.
    pub fn finish<G: GraphWrite>(self, ctx: &ExecCtx<G>) -> Result<VecDeque<Row>> {
        let Sorter {
            descending,
            limit,
            mut rows,
            ..
        } = self;
        // A long sort still answers the deadline and a cancel: once a check fails, every
        // further comparison is "equal", so the sort ends at once, and the error stands.
        let stopped = std::cell::RefCell::new(None);
        rows.sort_by(|a, b| {
            if stopped.borrow().is_some() {
                return std::cmp::Ordering::Equal;
            }
            if let Err(error) = ctx.step() {
                *stopped.borrow_mut() = Some(error);
                return std::cmp::Ordering::Equal;
            }
            compare(&descending, &a.0, &b.0)
        });
        if let Some(error) = stopped.into_inner() {
            return Err(error);
        }
        if let Some(k) = limit {
            rows.truncate(k as usize);
        }
        Ok(rows.into_iter().map(|(_, r)| r).collect())
    }
}
