//! `CALL { }` subqueries at run time: the subquery's plan runs once per incoming row,
//! from an Argument leaf holding that row, and — with `IN TRANSACTIONS` — every `n`
//! incoming rows the statement's transaction is committed and a new one begun, so an
//! import of any size holds at most one batch of changes.
//!
//! A returning subquery extends the incoming row with the values it returns, once per
//! row it returns; a unit subquery (no RETURN) passes the incoming row on once, after
//! its updates; a subquery used as a value (EXISTS, COUNT, COLLECT, hoisted out of an
//! expression by the planner) puts that value in a generated variable of the row. An
//! error while a row from LOAD CSV is processed names the file and line.

use crate::error::{ErrorKind, QueryError, Result};
use crate::exec::pipeline::{constant_count, Op};
use crate::exec::row::Row;
use crate::exec::ExecCtx;
use crate::expr::CExpr;
use crate::graph::GraphWrite;
use crate::plan::subquery::ValueOf;
use crate::value::QValue;
use std::collections::VecDeque;

/// The state of one `CALL { }`.
#[derive(Clone)]
pub struct Apply {
    /// Slots the subquery returns (empty: a unit subquery).
    pub returns: Vec<usize>,
    /// `IN TRANSACTIONS`: how many incoming rows go into one transaction.
    pub batch: Option<Batch>,
    /// The line and file slots of the LOAD CSV the incoming rows come from, if any.
    pub record: Option<(usize, usize)>,
    /// Whether the subquery updates the graph (its rows must all run, pulled or not).
    pub writes: bool,
    /// For a subquery used as a value (EXISTS, COUNT, COLLECT): what it gives and the
    /// slot that receives it; each incoming row then goes on once.
    pub value: Option<(ValueOf, usize)>,
    pub buffer: VecDeque<Row>,
}

/// Batching of `IN TRANSACTIONS`.
#[derive(Clone)]
pub struct Batch {
    /// The `OF n ROWS` expression (1000 when not written).
    pub size: CExpr,
    /// Its value, once evaluated.
    pub rows: Option<u64>,
    /// Incoming rows processed since the last commit.
    pub pending: u64,
    /// The CSV line of the batch's first row, when its rows come from LOAD CSV.
    pub first_line: Option<i64>,
}

/// Rows per transaction when `IN TRANSACTIONS` names no count (as in Neo4j).
pub const DEFAULT_BATCH_ROWS: i64 = 1000;

impl Apply {
    /// Whether the subquery commits in batches.
    pub fn batched(&self) -> bool {
        self.batch.is_some()
    }

    /// The next outgoing row.
    pub fn pull<G: GraphWrite>(&mut self, input: &mut Op, sub: &Op, ctx: &mut ExecCtx<G>) -> Result<Option<Row>> {
        loop {
            if let Some(row) = self.buffer.pop_front() {
                return Ok(Some(row));
            }
            let Some(row) = input.next(ctx)? else {
                return Ok(None);
            };
            self.run(sub, &row, ctx).map_err(|e| self.at_record(e, &row))?;
            if let Some(batch) = &mut self.batch {
                let rows = match batch.rows {
                    Some(rows) => rows,
                    None => match constant_count(&batch.size, ctx, "IN TRANSACTIONS OF")? {
                        0 => {
                            return Err(QueryError::runtime(
                                ErrorKind::ArgumentError,
                                "InvalidArgumentValue",
                                "IN TRANSACTIONS OF n ROWS needs n of at least 1",
                            ))
                        }
                        rows => *batch.rows.insert(rows),
                    },
                };
                batch.pending += 1;
                let line = self.record.and_then(|(line, _)| match row[line] {
                    QValue::Int(line) => Some(line),
                    _ => None,
                });
                let first = *batch.first_line.get_or_insert(line.unwrap_or(0));
                if batch.pending >= rows {
                    batch.pending = 0;
                    batch.first_line = None;
                    ctx.commit_batch().map_err(|e| match (line, self.record) {
                        (Some(last), Some((_, file))) => QueryError {
                            message: format!(
                                "{} (while committing {}, lines {first}-{last})",
                                e.message,
                                text(&row[file])
                            ),
                            ..e
                        },
                        _ => e,
                    })?;
                }
            }
        }
    }

    /// Runs the subquery for one incoming row, buffering what goes on.
    fn run<G: GraphWrite>(&mut self, sub: &Op, row: &Row, ctx: &mut ExecCtx<G>) -> Result<()> {
        let mut run = sub.clone();
        run.set_argument(row);
        if let Some((kind, slot)) = self.value {
            let mut out = row.clone();
            out[slot] = match kind {
                ValueOf::Exists => QValue::Bool(run.next(ctx)?.is_some()),
                ValueOf::Count => {
                    let mut n = 0;
                    while run.next(ctx)?.is_some() {
                        n += 1;
                    }
                    QValue::Int(n)
                }
                ValueOf::Collect => {
                    let mut items = Vec::new();
                    while let Some(returned) = run.next(ctx)? {
                        items.push(returned[self.returns[0]].clone());
                    }
                    QValue::List(items)
                }
            };
            self.buffer.push_back(out);
            return Ok(());
        }
        if self.returns.is_empty() {
            while run.next(ctx)?.is_some() {}
            self.buffer.push_back(row.clone());
            return Ok(());
        }
        while let Some(returned) = run.next(ctx)? {
            let mut out = row.clone();
            for slot in &self.returns {
                out[*slot] = returned[*slot].clone();
            }
            self.buffer.push_back(out);
        }
        Ok(())
    }

    /// `error`, naming the CSV record `row` came from when it came from one.
    fn at_record(&self, mut error: QueryError, row: &Row) -> QueryError {
        let Some((line, file)) = self.record else {
            return error;
        };
        if let (QValue::Int(line), QValue::String(file)) = (&row[line], &row[file]) {
            error.message = format!("{} (while importing {file}, line {line})", error.message);
        }
        error
    }
}

fn text(v: &QValue) -> &str {
    match v {
        QValue::String(s) => s,
        _ => "?",
    }
}
