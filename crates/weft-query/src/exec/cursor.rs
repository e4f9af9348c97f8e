//! Result streaming: a cursor over one running statement, from which a client pulls rows
//! in batches (Bolt's PULL n) and which it may discard early (DISCARD): the pipeline only
//! runs as far as the rows pulled, except that updates always complete.

use crate::error::Result;
use crate::exec::explain::PlanTree;
use crate::exec::materialise::materialise;
use crate::exec::ExecCtx;
use crate::graph::local::{LocalGraph, Txn, TxnHandle};
use crate::plan::Plan;
use crate::result::{QueryResult, QueryStats, ResultValue};
use std::collections::VecDeque;

enum Source<'t> {
    /// A running pipeline.
    Plan {
        plan: Box<Plan>,
        ctx: Box<ExecCtx<LocalGraph<'t>>>,
    },
    /// A result computed up front (EXPLAIN, PROFILE, admin statements), with the
    /// transaction it ran in when there was one.
    Ready {
        rows: VecDeque<Vec<ResultValue>>,
        stats: QueryStats,
        txn: Option<TxnHandle<'t>>,
    },
}

/// A statement in progress within a transaction.
pub struct Cursor<'t> {
    columns: Vec<String>,
    source: Source<'t>,
    exhausted: bool,
    /// The plan of an EXPLAIN or PROFILE, for a server's summary.
    plan: Option<PlanTree>,
}

impl<'t> Cursor<'t> {
    pub(crate) fn running(plan: Plan, ctx: ExecCtx<LocalGraph<'t>>) -> Self {
        Cursor {
            columns: plan.columns.clone(),
            source: Source::Plan {
                plan: Box::new(plan),
                ctx: Box::new(ctx),
            },
            exhausted: false,
            plan: None,
        }
    }

    /// The rows of EXPLAIN or PROFILE, with the plan they describe.
    pub(crate) fn planned(result: QueryResult, plan: PlanTree, txn: Option<TxnHandle<'t>>) -> Self {
        let mut cursor = Cursor::ready(result, txn);
        cursor.plan = Some(plan);
        cursor
    }

    /// The plan, when the statement was EXPLAIN or PROFILE (a PROFILE's with what
    /// running it measured).
    pub fn plan(&self) -> Option<&PlanTree> {
        self.plan.as_ref()
    }

    pub(crate) fn ready(result: QueryResult, txn: Option<TxnHandle<'t>>) -> Self {
        Cursor {
            columns: result.columns,
            source: Source::Ready {
                rows: result.rows.into(),
                stats: result.stats,
                txn,
            },
            exhausted: false,
            plan: None,
        }
    }

    /// The result's column names.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// True once every row has been fetched.
    pub fn is_exhausted(&self) -> bool {
        self.exhausted
    }

    /// Up to `n` more rows (fewer only at the end).
    pub fn fetch(&mut self, n: usize) -> Result<Vec<Vec<ResultValue>>> {
        let mut out = Vec::new();
        while out.len() < n && !self.exhausted {
            match self.next_row()? {
                Some(row) => out.push(row),
                None => self.exhausted = true,
            }
        }
        Ok(out)
    }

    fn next_row(&mut self) -> Result<Option<Vec<ResultValue>>> {
        match &mut self.source {
            Source::Ready { rows, .. } => Ok(rows.pop_front()),
            Source::Plan { plan, ctx } => loop {
                let Some(row) = plan.root.next(ctx)? else {
                    return Ok(None);
                };
                if plan.columns.is_empty() {
                    continue; // an update query without RETURN returns no rows
                }
                let values = plan
                    .out_slots
                    .iter()
                    .map(|s| materialise(&row[*s], ctx))
                    .collect::<Result<_>>()?;
                return Ok(Some(values));
            },
        }
    }

    /// Ends the statement: rows not fetched are discarded, but every update the
    /// statement makes is carried out. Returns the statement's statistics.
    pub fn finish(self) -> Result<QueryStats> {
        self.close().map(|(stats, _)| stats)
    }

    /// As [`Cursor::finish`], and hands back the transaction when the cursor owns it
    /// (one started by [`crate::Engine::start_in`] or [`crate::Engine::start`]). On an
    /// error the owned transaction is dropped, which rolls it back.
    pub fn close(self) -> Result<(QueryStats, Option<Txn>)> {
        match self.source {
            Source::Ready { stats, txn, .. } => Ok((stats, txn.and_then(TxnHandle::into_owned))),
            Source::Plan { mut plan, mut ctx } => {
                plan.root.finish_writes(&mut ctx)?;
                let stats = ctx.stats;
                Ok((stats, (*ctx).into_graph().into_txn().into_owned()))
            }
        }
    }

    /// Fetches everything and finishes.
    pub fn collect(mut self) -> Result<QueryResult> {
        let rows = self.fetch(usize::MAX)?;
        let columns = self.columns.clone();
        let stats = self.finish()?;
        Ok(QueryResult { columns, rows, stats })
    }
}
