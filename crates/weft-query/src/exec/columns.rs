//! The column path of aggregation: a query's first `MATCH (n:Label)` grouped and
//! aggregated over `n` and its properties, run batch at a time.
//!
//! Owns: recognising that shape in a plan that has not run, and running it as one label
//! scan that hands back, per batch of nodes, one vector of values per property read
//! ([`GraphRead::label_columns`]); keys and arguments are read from those vectors, so no
//! row is built, no pattern is walked per node, each node is locked once, and property
//! names are resolved once per statement.
//!
//! Without keys and with only `count(*)` / `count(n)`, the label's kept count answers
//! when the graph has one for the transaction ([`GraphRead::label_count`]), and no node
//! is visited.
//!
//! Promises: the same groups, values and errors as the row path (`eager.rs`), which it
//! shares the grouping and aggregator states with; any other shape — a WHERE, a second
//! label, pattern properties, an expression other than `n` or `n.key`, an earlier
//! clause — runs on the row path. Under PROFILE the scan's rows are counted on its Match
//! (none when the count answered).

use crate::error::Result;
use crate::exec::eager::Groups;
use crate::exec::pattern::CPattern;
use crate::exec::pipeline::{AggSpec, Op, OpKind};
use crate::exec::row::Row;
use crate::exec::ExecCtx;
use crate::expr::CExpr;
use crate::graph::{GraphWrite, PropertyId};
use crate::value::{GroupKey, QValue};
use std::collections::VecDeque;
use std::time::Instant;

/// Nodes per batch.
const BATCH: usize = 1024;

/// Where a key or argument is read from.
#[derive(Clone, Copy)]
enum Source {
    /// The node itself.
    Node,
    /// The property in this position of [`ColumnScan::properties`].
    Property(usize),
}

/// A recognised first-clause label scan under an aggregation.
pub(crate) struct ColumnScan {
    label: String,
    /// Property names read, each once.
    properties: Vec<String>,
    keys: Vec<Source>,
    /// Per aggregate, its arguments.
    args: Vec<Vec<Source>>,
}

impl ColumnScan {
    /// The column form of aggregating `input` by `keys`, when the plan has that shape.
    pub fn of(input: &Op, keys: &[(usize, CExpr)], aggs: &[AggSpec]) -> Option<ColumnScan> {
        let OpKind::Match {
            input: first,
            pattern,
            filter: None,
            optional: None,
            buffer,
            current: None,
        } = &input.kind
        else {
            return None;
        };
        if !buffer.is_empty() || !matches!(first.kind, OpKind::Once { .. }) {
            return None;
        }
        let (slot, label) = single_labelled_node(pattern)?;
        let mut scan = ColumnScan {
            label,
            properties: Vec::new(),
            keys: Vec::new(),
            args: Vec::new(),
        };
        for (_, e) in keys {
            let source = scan.source(e, slot)?;
            scan.keys.push(source);
        }
        for spec in aggs {
            let args = spec.args.iter().map(|e| scan.source(e, slot)).collect::<Option<_>>()?;
            scan.args.push(args);
        }
        Some(scan)
    }

    /// True when the result is one row of node counts: no keys, and every aggregate is
    /// `count(*)` or `count(n)` (each counts every scanned node once).
    fn counts_only(&self, aggs: &[AggSpec]) -> bool {
        self.keys.is_empty()
            && aggs
                .iter()
                .zip(&self.args)
                .all(|(spec, args)| match spec.name.as_deref() {
                    None => true,
                    Some("count") => !spec.distinct && matches!(args.as_slice(), [Source::Node]),
                    Some(_) => false,
                })
    }

    /// Where `e` is read from: `n` or `n.key` of the scanned node in `slot`.
    fn source(&mut self, e: &CExpr, slot: usize) -> Option<Source> {
        match e {
            CExpr::Slot(s) if *s == slot => Some(Source::Node),
            CExpr::Property(base, key) if matches!(**base, CExpr::Slot(s) if s == slot) => {
                let at = match self.properties.iter().position(|p| p == key) {
                    Some(at) => at,
                    None => {
                        self.properties.push(key.clone());
                        self.properties.len() - 1
                    }
                };
                Some(Source::Property(at))
            }
            _ => None,
        }
    }

    /// Runs the scan and the aggregation; marks `input` (the Match and its Once) as run.
    pub fn aggregate<G: GraphWrite>(
        self,
        input: &mut Op,
        keys: &[(usize, CExpr)],
        aggs: &[AggSpec],
        width: usize,
        ctx: &mut ExecCtx<G>,
    ) -> Result<VecDeque<Row>> {
        let started = Instant::now();
        let mut groups = Groups::new(aggs);
        let mut rows = 0u64;
        let label = ctx
            .label_ids(std::slice::from_ref(&self.label))
            .and_then(|l| l.first().copied());
        let counted = label.filter(|_| self.counts_only(aggs));
        if let Some(count) = counted.and_then(|l| ctx.graph().label_count(l)) {
            mark_run(input, 0, started);
            let mut row = vec![QValue::Null; width];
            for spec in aggs {
                row[spec.slot] = QValue::Int(i64::try_from(count).unwrap_or(i64::MAX));
            }
            return Ok(VecDeque::from([row]));
        }
        if let Some(label) = label {
            let ids: Vec<Option<PropertyId>> = self.properties.iter().map(|p| ctx.graph().find_property(p)).collect();
            let ctx = &*ctx;
            ctx.graph()
                .label_columns(label, &ids, BATCH, ctx.scan_threads(), &mut |nodes, columns| {
                    let read = |source: Source, i: usize| match source {
                        Source::Node => QValue::Node(nodes[i]),
                        Source::Property(p) => columns[p][i].clone().map_or(QValue::Null, QValue::from),
                    };
                    for i in 0..nodes.len() {
                        ctx.step()?;
                        groups.key.clear();
                        for source in &self.keys {
                            groups.key.push(GroupKey::from(read(*source, i)));
                        }
                        let at = groups.group()?;
                        for (agg, args) in self.args.iter().enumerate() {
                            groups.args.clear();
                            groups.args.extend(args.iter().map(|source| read(*source, i)));
                            groups.update(at, agg)?;
                        }
                    }
                    rows += nodes.len() as u64;
                    Ok(())
                })?;
        }
        mark_run(input, rows, started);
        groups.finish(keys, width)
    }
}

/// The slot and label of a pattern that is one new node with one label and nothing else.
fn single_labelled_node(pattern: &CPattern) -> Option<(usize, String)> {
    let [part] = pattern.parts.as_slice() else { return None };
    let [node] = part.nodes.as_slice() else { return None };
    let [label] = node.labels.as_slice() else { return None };
    let plain = part.rels.is_empty() && part.path_slot.is_none();
    let unconstrained = !node.bound && node.props.is_none() && node.range.is_none();
    (plain && unconstrained).then(|| (node.slot, label.clone()))
}

/// Leaves the Match and the Once below it as having run: the Once gave its one row and
/// the Match `rows` (with the time under PROFILE).
fn mark_run(input: &mut Op, rows: u64, started: Instant) {
    if let OpKind::Match { input: first, .. } = &mut input.kind {
        if let OpKind::Once { done, .. } = &mut first.kind {
            *done = true;
        }
        first.rows += 1;
    }
    input.rows += rows;
    if input.timed {
        input.elapsed += started.elapsed();
    }
}
