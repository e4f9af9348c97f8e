//! The column path under a projection and a sort: a query's first
//! `MATCH (n:Label) [WHERE ...] RETURN items ORDER BY keys [LIMIT k]` (or the same WITH)
//! run as one label column scan ([`ColumnScan`]) into the row path's [`Sorter`].
//!
//! Owns: recognising that shape, and running it so that a node the WHERE drops reads
//! only the WHERE's properties, and, when every item is a plain read, a row's sort keys
//! come first and its items and row are built only when the sort keeps it.
//!
//! Promises: the rows, order and errors of the row path's projection and sort.

use crate::error::Result;
use crate::exec::columns::{mark_run, start_label, ColumnScan, Started, BATCH};
use crate::exec::eager::Sorter;
use crate::exec::pipeline::{Op, OpKind};
use crate::exec::row::Row;
use crate::exec::ExecCtx;
use crate::expr::{eval, CExpr};
use crate::graph::{GraphStats, GraphWrite, PropertyId};
use crate::value::{QValue, Truth};
use std::collections::VecDeque;

/// A recognised first-clause label scan under a projection and a sort:
/// `MATCH (n:Label) [WHERE ...] RETURN items ORDER BY keys [LIMIT k]` (or WITH), each
/// item and key made of what [`ColumnScan::rewrite`] takes (keys may also read the
/// projected columns).
pub(crate) struct ColumnSort {
    scan: ColumnScan,
    /// How many of the scan's properties the WHERE reads (the first ones): only those
    /// are read for a node the WHERE may still drop.
    filtered: usize,
    items: Vec<(usize, CExpr)>,
    keys: Vec<(CExpr, bool)>,
    /// Every item is a plain read, so the keys (which then read no item) are evaluated
    /// first and the items only for a row the sort keeps.
    keys_first: bool,
}

impl ColumnSort {
    /// The column form of sorting `input` by `keys`, when the plan has that shape.
    pub fn of(input: &Op, keys: &[(CExpr, bool)]) -> Option<ColumnSort> {
        let OpKind::Project { input: matched, items } = &input.kind else {
            return None;
        };
        let mut scan = ColumnScan::first_match(matched)?;
        let filtered = scan.properties.len();
        let items: Vec<(usize, CExpr)> = items
            .iter()
            .map(|(slot, e)| Some((*slot, scan.rewrite(e)?)))
            .collect::<Option<_>>()?;
        scan.readable = items.iter().map(|(slot, _)| *slot).collect();
        let node = scan.node_slot;
        scan.aliases = items
            .iter()
            .filter(|(_, e)| matches!(e, CExpr::Slot(s) if *s == node))
            .map(|(slot, _)| *slot)
            .collect();
        scan.inlined = items.iter().filter(|(_, e)| plain(e)).cloned().collect();
        let keys = keys
            .iter()
            .map(|(e, descending)| Some((scan.rewrite(e)?, *descending)))
            .collect::<Option<_>>()?;
        // Keys read no item then, and plain items cannot fail: a row's keys may come
        // first, and its items only when the sort keeps it.
        let keys_first = items.iter().all(|(_, e)| plain(e));
        Some(ColumnSort {
            scan,
            filtered,
            items,
            keys,
            keys_first,
        })
    }

    /// See [`ColumnScan::indexed`].
    pub fn indexed(&self, stats: &dyn GraphStats) -> bool {
        self.scan.indexed(stats)
    }

    /// Runs the scan, the projection and the sort, keeping the best `limit` rows along
    /// the way; marks `input` (the projection, its Match and Once) as run.
    pub fn sort<G: GraphWrite>(
        self,
        input: &mut Op,
        limit: Option<u64>,
        ctx: &mut ExecCtx<G>,
    ) -> Result<VecDeque<Row>> {
        let started = Started::now(ctx);
        let ColumnSort {
            scan,
            filtered,
            items,
            keys,
            keys_first,
        } = self;
        let mut sorter = Sorter::new(&keys, limit);
        let mut rows = 0u64;
        if let Some(label) = start_label(&scan.label, scan.range.as_ref(), scan.width, ctx)? {
            let ids: Vec<Option<PropertyId>> = scan.properties.iter().map(|p| ctx.graph().find_property(p)).collect();
            let width = scan.width;
            let mut scratch = vec![QValue::Null; width + scan.properties.len()];
            let mut values = Vec::with_capacity(items.len());
            let fast = scan.column_filter.as_ref().and_then(|f| f.bind(ctx));
            let ctx = &*ctx;
            ctx.graph()
                .label_columns(label, &ids, BATCH, ctx.scan_threads(), &mut |nodes, columns| {
                    let read = |p: usize, i: usize| columns[p][i].clone().map_or(QValue::Null, QValue::from);
                    for (i, node) in nodes.iter().enumerate() {
                        ctx.step()?;
                        scratch[scan.node_slot] = QValue::Node(*node);
                        let mut unread = 0;
                        if let Some(fast) = &fast {
                            if fast.test(&|p| columns[p][i].as_ref()) != Some(true) {
                                continue;
                            }
                        } else if let Some(filter) = &scan.filter {
                            for p in 0..filtered {
                                scratch[width + p] = read(p, i);
                            }
                            if eval(filter, &mut scratch, ctx)?.as_bool_or_null()? != Some(true) {
                                continue;
                            }
                            unread = filtered;
                        }
                        for p in unread..columns.len() {
                            scratch[width + p] = read(p, i);
                        }
                        rows += 1;
                        let mut key = Vec::new();
                        if keys_first {
                            key = sort_key(&keys, &mut scratch, ctx)?;
                            if !sorter.wants(&key) {
                                continue;
                            }
                        }
                        // As the projection does: every item from the row as it came, then
                        // each written to its column.
                        values.clear();
                        for (_, e) in &items {
                            values.push(eval(e, &mut scratch, ctx)?);
                        }
                        for ((slot, _), value) in items.iter().zip(values.drain(..)) {
                            scratch[*slot] = value;
                        }
                        if !keys_first {
                            key = sort_key(&keys, &mut scratch, ctx)?;
                        }
                        if !keys_first && !sorter.wants(&key) {
                            continue;
                        }
                        // The item columns are written afresh for the next node before
                        // anything reads them (neither the WHERE nor the items do).
                        sorter.push(key, scratch[..width].to_vec());
                    }
                    Ok(())
                })?;
        }
        if let OpKind::Project { input: matched, .. } = &mut input.kind {
            mark_run(matched, rows, &started, ctx);
        }
        started.charge(input, rows, ctx);
        sorter.finish(ctx)
    }
}

/// A row's sort key.
fn sort_key<G: GraphWrite>(keys: &[(CExpr, bool)], row: &mut [QValue], ctx: &ExecCtx<G>) -> Result<Vec<QValue>> {
    keys.iter().map(|(e, _)| eval(e, row, ctx)).collect()
}

/// True for an expression that reads a slot or a constant: it cannot fail and gives the
/// same value however often it is evaluated.
fn plain(e: &CExpr) -> bool {
    matches!(e, CExpr::Slot(_) | CExpr::Const(_))
}
