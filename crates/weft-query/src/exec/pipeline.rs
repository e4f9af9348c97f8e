//! The executor: a tree of pull-based operators. Each `next` call returns one row (a
//! fixed-width vector of values indexed by slot) or `None` when the input is exhausted;
//! rows stream through, so LIMIT stops the work above it early. Operators that must see
//! everything first (aggregation, sorting, writes) buffer.

use crate::error::{ErrorKind, QueryError, Result};
use crate::exec::eager::{aggregate, sort};
use crate::exec::pattern::{first_candidates, for_each_match_from, CPattern};
use crate::exec::row::{FastSet, Row};
use crate::exec::write::WriteClause;
use crate::exec::ExecCtx;
use crate::expr::{eval, CExpr};
use crate::graph::GraphWrite;
use crate::value::Truth;
use crate::value::{GroupKey, QValue};
use std::collections::VecDeque;

/// Where a Match operator is in its current input row.
#[derive(Clone)]
pub struct MatchState {
    row: Row,
    candidates: std::vec::IntoIter<crate::graph::Gid>,
    /// See [`crate::exec::pattern::Candidates`].
    labels_checked_at: Option<u64>,
    matched: bool,
}

/// One aggregate to compute per group.
#[derive(Clone, Debug)]
pub struct AggSpec {
    /// Function name (lower case); `None` for `count(*)`.
    pub name: Option<String>,
    pub distinct: bool,
    pub args: Vec<CExpr>,
    pub slot: usize,
}

/// An operator, how many rows it produced and (under PROFILE) the time spent in it,
/// its inputs included. A clone of an operator that has not run is a fresh plan.
#[derive(Clone)]
pub struct Op {
    pub kind: OpKind,
    pub rows: u64,
    pub timed: bool,
    pub elapsed: std::time::Duration,
    /// Graph accesses under PROFILE, its inputs included (see [`ExecCtx::db_hits`]).
    pub hits: u64,
}

#[derive(Clone)]
pub enum OpKind {
    /// One empty row: the input of a query's first clause.
    Once {
        width: usize,
        done: bool,
    },
    /// The outer row, once: the input of a subquery's first clause.
    Argument {
        row: Option<Row>,
    },
    /// Passes the input rows for which the subquery `sub` yields a row (`EXISTS { }`),
    /// or yields none when `negated`. `sub` is a plan that has not run; each row runs a
    /// copy of it from an [`OpKind::Argument`] holding that row.
    SemiApply {
        input: Box<Op>,
        sub: Box<Op>,
        negated: bool,
    },
    /// Pattern matching, lazy over the start candidates of the current input row: each
    /// candidate's matches are found when the consumer needs more rows.
    Match {
        input: Box<Op>,
        pattern: CPattern,
        filter: Option<CExpr>,
        optional: Option<Vec<usize>>,
        buffer: VecDeque<Row>,
        current: Option<MatchState>,
    },
    Filter {
        input: Box<Op>,
        predicate: CExpr,
    },
    /// One row per list element, produced one at a time.
    Unwind {
        input: Box<Op>,
        list: CExpr,
        slot: usize,
        current: Option<(Row, std::vec::IntoIter<QValue>)>,
    },
    Project {
        input: Box<Op>,
        items: Vec<(usize, CExpr)>,
    },
    Aggregate {
        input: Box<Op>,
        keys: Vec<(usize, CExpr)>,
        aggs: Vec<AggSpec>,
        output: Option<VecDeque<Row>>,
        width: usize,
        /// Once it has run: its name as PROFILE shows it, which says whether a column
        /// path ran (`exec/columns.rs`).
        ran: Option<&'static str>,
    },
    Distinct {
        input: Box<Op>,
        slots: Vec<usize>,
        seen: FastSet<Vec<GroupKey>>,
    },
    Sort {
        input: Box<Op>,
        keys: Vec<(CExpr, bool)>,
        limit: Option<CExpr>,
        output: Option<VecDeque<Row>>,
        /// As [`OpKind::Aggregate`]'s.
        ran: Option<&'static str>,
    },
    Skip {
        input: Box<Op>,
        count: CExpr,
        skipped: bool,
    },
    Limit {
        input: Box<Op>,
        count: CExpr,
        left: Option<u64>,
    },
    Write {
        input: Box<Op>,
        clause: Box<WriteClause>,
        output: Option<VecDeque<Row>>,
    },
    Union {
        inputs: Vec<(Op, Vec<usize>)>,
        current: usize,
        out_slots: Vec<usize>,
        seen: Option<FastSet<Vec<GroupKey>>>,
    },
    /// One row per record of a CSV file (LOAD CSV), read as rows are pulled.
    LoadCsv {
        input: Box<Op>,
        load: Box<crate::exec::load_csv::LoadCsv>,
    },
    /// `CALL { }`: the subquery `sub` (a plan that has not run) once per input row; see
    /// [`crate::exec::subquery::Apply`].
    Apply {
        input: Box<Op>,
        sub: Box<Op>,
        apply: Box<crate::exec::subquery::Apply>,
    },
    /// A procedure call; `outputs` maps output positions to slots. A procedure without
    /// outputs passes each input row through once.
    Call {
        input: Box<Op>,
        procedure: std::sync::Arc<crate::procedures::Procedure>,
        args: Vec<CExpr>,
        outputs: Vec<(usize, usize)>,
        buffer: VecDeque<Row>,
    },
}

impl Op {
    pub fn new(kind: OpKind) -> Self {
        Op {
            kind,
            rows: 0,
            timed: false,
            elapsed: std::time::Duration::ZERO,
            hits: 0,
        }
    }

    /// The next row, or `None` at the end.
    pub fn next<G: GraphWrite>(&mut self, ctx: &mut ExecCtx<G>) -> Result<Option<Row>> {
        ctx.step()?;
        let started = self.timed.then(|| (std::time::Instant::now(), ctx.db_hits()));
        let row = self.pull(ctx);
        if let Some((t, hits)) = started {
            self.elapsed += t.elapsed();
            self.hits += ctx.db_hits() - hits;
        }
        let row = row?;
        if row.is_some() {
            self.rows += 1;
        }
        Ok(row)
    }

    fn pull<G: GraphWrite>(&mut self, ctx: &mut ExecCtx<G>) -> Result<Option<Row>> {
        match &mut self.kind {
            OpKind::Once { width, done } => {
                if *done {
                    return Ok(None);
                }
                *done = true;
                Ok(Some(vec![QValue::Null; *width]))
            }
            OpKind::Argument { row } => Ok(row.take()),
            OpKind::SemiApply { input, sub, negated } => loop {
                let Some(row) = input.next(ctx)? else {
                    return Ok(None);
                };
                let mut run = sub.as_ref().clone();
                run.set_argument(&row);
                if run.next(ctx)?.is_some() != *negated {
                    return Ok(Some(row));
                }
            },
            OpKind::Match {
                input,
                pattern,
                filter,
                optional,
                buffer,
                current,
            } => loop {
                if let Some(row) = buffer.pop_front() {
                    return Ok(Some(row));
                }
                let state = match current {
                    Some(state) => state,
                    None => {
                        let Some(mut row) = input.next(ctx)? else {
                            return Ok(None);
                        };
                        let candidates = crate::exec::pattern::first_candidates(pattern, &mut row, ctx)?;
                        current.insert(MatchState {
                            row,
                            candidates: candidates.gids.into_iter(),
                            labels_checked_at: candidates.labels_checked_at,
                            matched: false,
                        })
                    }
                };
                let Some(candidate) = state.candidates.next() else {
                    let state = current.take();
                    if let (Some(new_slots), Some(mut state)) = (optional.as_ref(), state) {
                        if !state.matched {
                            new_slots.iter().for_each(|s| state.row[*s] = QValue::Null);
                            return Ok(Some(state.row));
                        }
                    }
                    continue;
                };
                let ctx_ref: &ExecCtx<G> = ctx;
                let mut row = state.row.clone();
                let checked = state.labels_checked_at;
                for_each_match_from(pattern, candidate, checked, &mut row, ctx_ref, &mut |r| {
                    let keep = match filter {
                        Some(f) => eval(f, r, ctx_ref)?.as_bool_or_null()? == Some(true),
                        None => true,
                    };
                    if keep {
                        buffer.push_back(r.to_vec());
                    }
                    Ok(true)
                })?;
                state.matched |= !buffer.is_empty();
            },
            OpKind::Filter { input, predicate } => loop {
                let Some(mut row) = input.next(ctx)? else {
                    return Ok(None);
                };
                if eval(predicate, &mut row, ctx)?.as_bool_or_null()? == Some(true) {
                    return Ok(Some(row));
                }
            },
            OpKind::Unwind {
                input,
                list,
                slot,
                current,
            } => loop {
                if let Some((row, items)) = current {
                    if let Some(item) = items.next() {
                        let mut r = row.clone();
                        r[*slot] = item;
                        return Ok(Some(r));
                    }
                }
                let first_clause = matches!(input.kind, OpKind::Once { .. });
                let Some(mut row) = input.next(ctx)? else {
                    return Ok(None);
                };
                // Over the query's one starting row a literal list is unwound once in
                // this plan's life (a plan runs once; subqueries run copies): its items
                // are moved out rather than copied (a bulk load's inline rows).
                let items = match list {
                    CExpr::Const(QValue::List(items)) if first_clause => std::mem::take(items),
                    _ => match eval(list, &mut row, ctx)? {
                        QValue::List(items) => items,
                        QValue::Null => Vec::new(),
                        other => vec![other],
                    },
                };
                *current = Some((row, items.into_iter()));
            },
            OpKind::Project { input, items } => {
                let Some(mut row) = input.next(ctx)? else {
                    return Ok(None);
                };
                let values: Vec<QValue> = items
                    .iter()
                    .map(|(_, e)| eval(e, &mut row, ctx))
                    .collect::<Result<_>>()?;
                for ((slot, _), v) in items.iter().zip(values) {
                    row[*slot] = v;
                }
                Ok(Some(row))
            }
            OpKind::Aggregate {
                input,
                keys,
                aggs,
                output,
                width,
                ran,
            } => {
                if output.is_none() {
                    let (rows, name) = aggregate(input, keys, aggs, *width, ctx)?;
                    *output = Some(rows);
                    *ran = Some(name);
                }
                Ok(output.as_mut().and_then(|o| o.pop_front()))
            }
            OpKind::Distinct { input, slots, seen } => loop {
                let Some(row) = input.next(ctx)? else { return Ok(None) };
                let key: Vec<GroupKey> = slots.iter().map(|s| GroupKey::from(row[*s].clone())).collect();
                if seen.insert(key) {
                    return Ok(Some(row));
                }
            },
            OpKind::Sort {
                input,
                keys,
                limit,
                output,
                ran,
            } => {
                if output.is_none() {
                    let (rows, name) = sort(input, keys, limit.as_ref(), ctx)?;
                    *output = Some(rows);
                    *ran = Some(name);
                }
                Ok(output.as_mut().and_then(|o| o.pop_front()))
            }
            OpKind::Skip { input, count, skipped } => {
                if !*skipped {
                    *skipped = true;
                    for _ in 0..constant_count(count, ctx, "SKIP")? {
                        if input.next(ctx)?.is_none() {
                            return Ok(None);
                        }
                    }
                }
                input.next(ctx)
            }
            OpKind::Limit { input, count, left } => {
                if left.is_none() {
                    *left = Some(constant_count(count, ctx, "LIMIT")?);
                }
                match left {
                    Some(0) => Ok(None),
                    Some(n) => {
                        *n -= 1;
                        input.next(ctx)
                    }
                    None => Ok(None),
                }
            }
            OpKind::Write { input, clause, output } => {
                if output.is_none() {
                    // Eager: every read of the input finishes before the first write, so
                    // the clause never sees its own effects.
                    let mut rows = Vec::new();
                    while let Some(row) = input.next(ctx)? {
                        rows.push(row);
                    }
                    *output = Some(clause.apply_batch(rows, ctx)?.into());
                }
                Ok(output.as_mut().and_then(|o| o.pop_front()))
            }
            OpKind::Union {
                inputs,
                current,
                out_slots,
                seen,
            } => loop {
                let Some((op, slots)) = inputs.get_mut(*current) else {
                    return Ok(None);
                };
                let Some(row) = op.next(ctx)? else {
                    *current += 1;
                    continue;
                };
                let mut out = row.clone();
                for (to, from) in out_slots.iter().zip(slots.iter()) {
                    out[*to] = row[*from].clone();
                }
                if let Some(seen) = seen {
                    let key: Vec<GroupKey> = out_slots.iter().map(|s| GroupKey::from(out[*s].clone())).collect();
                    if !seen.insert(key) {
                        continue;
                    }
                }
                return Ok(Some(out));
            },
            OpKind::LoadCsv { input, load } => load.pull(input, ctx),
            OpKind::Apply { input, sub, apply } => apply.pull(input, sub, ctx),
            OpKind::Call {
                input,
                procedure,
                args,
                outputs,
                buffer,
            } => loop {
                if let Some(row) = buffer.pop_front() {
                    return Ok(Some(row));
                }
                let Some(mut row) = input.next(ctx)? else {
                    return Ok(None);
                };
                let values: Vec<QValue> = args.iter().map(|a| eval(a, &mut row, ctx)).collect::<Result<_>>()?;
                let records = crate::procedures::run(procedure, &values, ctx)?;
                if procedure.outputs.is_empty() {
                    return Ok(Some(row));
                }
                for record in records {
                    let mut r = row.clone();
                    for (index, slot) in outputs.iter() {
                        r[*slot] = record.get(*index).cloned().unwrap_or(QValue::Null);
                    }
                    buffer.push_back(r);
                }
            },
        }
    }

    /// Feeds every remaining row to `f`, as `next` would return them one by one. A Match
    /// hands each match to `f` in place instead of copying it into its buffer: what an
    /// operator that consumes its whole input (aggregation) wants.
    pub fn drain<G: GraphWrite>(&mut self, ctx: &mut ExecCtx<G>, f: &mut Consumer<G>) -> Result<()> {
        let OpKind::Match {
            input,
            pattern,
            filter,
            optional: None,
            buffer,
            current,
        } = &mut self.kind
        else {
            return self.drain_rows(ctx, f);
        };
        if self.timed {
            return self.drain_rows(ctx, f);
        }
        let mut rows = 0;
        let drained = drain_match(input, pattern, filter.as_ref(), buffer, current, ctx, &mut rows, f);
        self.rows += rows;
        drained
    }

    fn drain_rows<G: GraphWrite>(&mut self, ctx: &mut ExecCtx<G>, f: &mut Consumer<G>) -> Result<()> {
        while let Some(mut row) = self.next(ctx)? {
            f(&mut row, ctx)?;
        }
        Ok(())
    }

    /// Runs every write operator the consumer never pulled (e.g. below `LIMIT 0`):
    /// updates happen whether or not their rows are returned.
    pub fn finish_writes<G: GraphWrite>(&mut self, ctx: &mut ExecCtx<G>) -> Result<()> {
        match &mut self.kind {
            OpKind::Write { output: None, .. } => {
                self.next(ctx)?;
                return Ok(());
            }
            // A subquery's plan is a template, run once per row: the rows left run now.
            OpKind::Apply { apply, .. } if apply.writes => {
                while self.next(ctx)?.is_some() {}
                return Ok(());
            }
            OpKind::Apply { input, .. } => return input.finish_writes(ctx),
            _ => {}
        }
        self.children_mut()
            .into_iter()
            .try_for_each(|child| child.finish_writes(ctx))
    }

    /// Whether this plan contains an update.
    pub(crate) fn writes(&mut self) -> bool {
        matches!(self.kind, OpKind::Write { .. }) || self.children_mut().into_iter().any(|c| c.writes())
    }

    /// Turns on timing for this operator and everything below it (PROFILE).
    pub fn time_all(&mut self) {
        self.timed = true;
        self.children_mut().into_iter().for_each(Op::time_all);
    }

    /// Gives the [`OpKind::Argument`] leaf of a subquery plan the outer row.
    pub(crate) fn set_argument(&mut self, outer: &Row) {
        match &mut self.kind {
            OpKind::Argument { row } => *row = Some(outer.clone()),
            _ => self.children_mut().into_iter().for_each(|c| c.set_argument(outer)),
        }
    }

    /// The operators this one pulls from (a SemiApply's subquery plan included).
    pub(crate) fn children_mut(&mut self) -> Vec<&mut Op> {
        match &mut self.kind {
            OpKind::Once { .. } | OpKind::Argument { .. } => Vec::new(),
            OpKind::SemiApply { input, sub, .. } | OpKind::Apply { input, sub, .. } => {
                vec![input.as_mut(), sub.as_mut()]
            }
            OpKind::Union { inputs, .. } => inputs.iter_mut().map(|(op, _)| op).collect(),
            OpKind::Match { input, .. }
            | OpKind::Filter { input, .. }
            | OpKind::Unwind { input, .. }
            | OpKind::Project { input, .. }
            | OpKind::Aggregate { input, .. }
            | OpKind::Distinct { input, .. }
            | OpKind::Sort { input, .. }
            | OpKind::Skip { input, .. }
            | OpKind::Limit { input, .. }
            | OpKind::Write { input, .. }
            | OpKind::LoadCsv { input, .. }
            | OpKind::Call { input, .. } => vec![input.as_mut()],
        }
    }
}

/// Evaluates a SKIP/LIMIT count: a non-negative integer.
pub(crate) fn constant_count<G: GraphWrite>(e: &CExpr, ctx: &ExecCtx<G>, what: &str) -> Result<u64> {
    match eval(e, &mut [], ctx)? {
        QValue::Int(n) if n >= 0 => Ok(n as u64),
        QValue::Int(n) => Err(QueryError::runtime(
            ErrorKind::SyntaxError,
            "NegativeIntegerArgument",
            format!("{what} must be a non-negative integer, got {n}"),
        )),
        other => Err(QueryError::runtime(
            ErrorKind::SyntaxError,
            "InvalidArgumentType",
            format!("{what} must be an integer, got {}", other.type_name()),
        )),
    }
}

/// A consumer of drained rows; it may write slots of the row (comprehension variables).
pub type Consumer<'f, G> = dyn FnMut(&mut [QValue], &ExecCtx<G>) -> Result<()> + 'f;

/// [`Op::drain`] for a (non-optional) Match: buffered rows first, then every match of
/// the current and the remaining input rows, each passed to `f` where it was found.
#[allow(clippy::too_many_arguments)]
fn drain_match<G: GraphWrite>(
    input: &mut Op,
    pattern: &CPattern,
    filter: Option<&CExpr>,
    buffer: &mut VecDeque<Row>,
    current: &mut Option<MatchState>,
    ctx: &mut ExecCtx<G>,
    rows: &mut u64,
    f: &mut Consumer<G>,
) -> Result<()> {
    while let Some(mut row) = buffer.pop_front() {
        *rows += 1;
        f(&mut row, ctx)?;
    }
    loop {
        let state = match current.take() {
            Some(state) => state,
            None => {
                let Some(mut row) = input.next(ctx)? else {
                    return Ok(());
                };
                let candidates = first_candidates(pattern, &mut row, ctx)?;
                MatchState {
                    row,
                    candidates: candidates.gids.into_iter(),
                    labels_checked_at: candidates.labels_checked_at,
                    matched: false,
                }
            }
        };
        let ctx: &ExecCtx<G> = ctx;
        // One row buffer for every candidate: refilled from the input row, not reallocated.
        let mut row = state.row.clone();
        for candidate in state.candidates {
            ctx.step()?;
            row.clone_from(&state.row);
            for_each_match_from(pattern, candidate, state.labels_checked_at, &mut row, ctx, &mut |r| {
                let keep = match filter {
                    Some(e) => eval(e, r, ctx)?.as_bool_or_null()? == Some(true),
                    None => true,
                };
                if keep {
                    *rows += 1;
                    f(r, ctx)?;
                }
                Ok(true)
            })?;
        }
    }
}
