//! The column path of aggregation: a query's first `MATCH (n:Label) [WHERE ...]` grouped
//! and aggregated over `n` and its properties, run batch at a time.
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
//! A WHERE made of `n`, its properties, constants, parameters, operators, comparisons,
//! label tests and function calls is evaluated per node on a scratch row that holds the
//! node and the values read (`ColumnScan::rewrite`).
//!
//! Promises: the same groups, values and errors as the row path (`eager.rs`), which it
//! shares the grouping and aggregator states with; any other shape — another kind of
//! WHERE (a pattern, a subquery, a comprehension; a bound on one property, which an
//! index range could serve), a second label, pattern properties, an
//! expression other than `n` or `n.key` in the return, an earlier clause — runs on the
//! row path. Under PROFILE the scan's rows are counted on its Match
//! (none when the count answered).

use crate::error::Result;
use crate::exec::eager::Groups;
use crate::exec::pattern::CPattern;
use crate::exec::pipeline::{AggSpec, Op, OpKind};
use crate::exec::row::{FastMap, Row};
use crate::exec::ExecCtx;
use crate::expr::{eval, CExpr};
use crate::graph::{GraphWrite, PropertyId, Value};
use crate::value::{GroupKey, QValue, Truth};
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
    /// The scanned node's slot, and the width of the rows its Match makes.
    node_slot: usize,
    width: usize,
    /// The Match's WHERE, with `n.key` read from a scratch row: the node in its slot,
    /// property `i` of [`ColumnScan::properties`] in slot `width + i`.
    filter: Option<CExpr>,
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
            filter,
            optional: None,
            buffer,
            current: None,
        } = &input.kind
        else {
            return None;
        };
        let OpKind::Once { width, .. } = first.kind else {
            return None;
        };
        if !buffer.is_empty() {
            return None;
        }
        let (slot, label) = single_labelled_node(pattern)?;
        let mut scan = ColumnScan {
            label,
            node_slot: slot,
            width,
            filter: None,
            properties: Vec::new(),
            keys: Vec::new(),
            args: Vec::new(),
        };
        if let Some(filter) = filter {
            scan.filter = Some(scan.rewrite(filter)?);
        }
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
            && self.filter.is_none()
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
                Some(Source::Property(self.property(key)))
            }
            _ => None,
        }
    }

    /// The position of property `key` among those read, added when new.
    fn property(&mut self, key: &str) -> usize {
        match self.properties.iter().position(|p| p == key) {
            Some(at) => at,
            None => {
                self.properties.push(key.to_owned());
                self.properties.len() - 1
            }
        }
    }

    /// `e` with every `n.key` of the scanned node turned into its scratch slot, when `e`
    /// is made of constants, parameters, the node, its properties, operators,
    /// comparisons, label tests and function calls (which evaluate their arguments as
    /// values); `None` for anything else, which leaves the query on the row path.
    fn rewrite(&mut self, e: &CExpr) -> Option<CExpr> {
        let node = self.node_slot;
        if let CExpr::Property(base, key) = e {
            if matches!(**base, CExpr::Slot(s) if s == node) {
                return Some(CExpr::Slot(self.width + self.property(key)));
            }
        }
        let mut boxed = |e: &CExpr| self.rewrite(e).map(Box::new);
        Some(match e {
            CExpr::Const(_) | CExpr::Param(_) => e.clone(),
            CExpr::Slot(s) if *s == node => e.clone(),
            CExpr::Not(a) => CExpr::Not(boxed(a)?),
            CExpr::Neg(a) => CExpr::Neg(boxed(a)?),
            CExpr::Plus(a) => CExpr::Plus(boxed(a)?),
            CExpr::IsNull(a, negated) => CExpr::IsNull(boxed(a)?, *negated),
            CExpr::HasLabels(a, labels) => CExpr::HasLabels(boxed(a)?, labels.clone()),
            CExpr::Binary(op, a, b) => {
                let a = boxed(a)?;
                CExpr::Binary(*op, a, self.rewrite(b).map(Box::new)?)
            }
            CExpr::Comparison(first, rest) => {
                let first = boxed(first)?;
                let rest = rest
                    .iter()
                    .map(|(op, e)| Some((*op, self.rewrite(e)?)))
                    .collect::<Option<_>>()?;
                CExpr::Comparison(first, rest)
            }
            CExpr::List(items) => CExpr::List(items.iter().map(|i| self.rewrite(i)).collect::<Option<_>>()?),
            CExpr::Function(name, args) => CExpr::Function(
                name.clone(),
                args.iter().map(|a| self.rewrite(a)).collect::<Option<_>>()?,
            ),
            _ => return None,
        })
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
            let mut scratch = vec![QValue::Null; self.width + self.properties.len()];
            // Rows counted by an integer key: grouped on the integer itself and counted in
            // place, their groups made (in first-seen order, like any other) through
            // `groups`, so that other values still meet them as equal keys.
            let by_int = match (&self.filter, self.keys.as_slice()) {
                (None, [Source::Property(p)]) if aggs.iter().all(|a| a.name.is_none()) => Some(*p),
                _ => None,
            };
            let mut int_groups: FastMap<i64, usize> = FastMap::default();
            let mut counted: Vec<u64> = Vec::new();
            let ctx = &*ctx;
            ctx.graph()
                .label_columns(label, &ids, BATCH, ctx.scan_threads(), &mut |nodes, columns| {
                    let read = |source: Source, i: usize| match source {
                        Source::Node => QValue::Node(nodes[i]),
                        Source::Property(p) => columns[p][i].clone().map_or(QValue::Null, QValue::from),
                    };
                    for i in 0..nodes.len() {
                        ctx.step()?;
                        if let Some(Some(Value::Int(key))) = by_int.map(|p| &columns[p][i]) {
                            rows += 1;
                            let at = match int_groups.get(key) {
                                Some(at) => *at,
                                None => {
                                    groups.key.clear();
                                    groups.key.push(GroupKey::from(QValue::Int(*key)));
                                    let at = groups.group()?;
                                    int_groups.insert(*key, at);
                                    at
                                }
                            };
                            if counted.len() <= at {
                                counted.resize(at + 1, 0);
                            }
                            counted[at] += 1;
                            continue;
                        }
                        if let Some(filter) = &self.filter {
                            scratch[self.node_slot] = read(Source::Node, i);
                            for p in 0..columns.len() {
                                scratch[self.width + p] = read(Source::Property(p), i);
                            }
                            if eval(filter, &mut scratch, ctx)?.as_bool_or_null()? != Some(true) {
                                continue;
                            }
                        }
                        rows += 1;
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
                    Ok(())
                })?;
            groups.args.clear();
            for (at, n) in counted.into_iter().enumerate().filter(|(_, n)| *n > 0) {
                for agg in 0..aggs.len() {
                    groups.update_rows(at, agg, n)?;
                }
            }
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
