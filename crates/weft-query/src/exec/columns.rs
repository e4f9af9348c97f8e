//! The column path: a query's first `MATCH (n:Label) [WHERE ...]` run batch at a time,
//! under an aggregation (grouped over `n` and its properties); under a projection and a
//! sort the same scan runs from [`crate::exec::column_sort`].
//!
//! Owns: recognising that first clause in a plan that has not run, and running it as one
//! label scan that hands back, per batch of nodes, one vector of values per property read
//! ([`GraphRead::label_columns`]); keys and arguments are read from those vectors, so no
//! pattern is walked per node, each node is locked once, and property names are resolved
//! once per statement. Also the helpers both column paths and the expand share.
//!
//! Without keys and with only `count(*)` / `count(n)`, the label's kept count answers
//! when the graph has one for the transaction ([`GraphRead::label_count`]), and no node
//! is visited.
//!
//! A WHERE (and a projection's item or sort key) made of `n`, its properties, constants,
//! parameters, operators, comparisons, label tests and function calls is evaluated per
//! node on a scratch row that holds the node and the values read (`ColumnScan::rewrite`).
//!
//! Promises: the same rows, groups, order, values and errors as the row path
//! (`eager.rs`), which it shares the grouping, aggregator states and sorting with; any
//! other shape — another kind of WHERE (a pattern, a subquery, a comprehension), a
//! second label, pattern properties, an aggregation key other than `n` or `n.key`, a
//! DISTINCT or a SKIP without ORDER BY, an earlier clause — runs on the row path, as does
//! a WHERE bound on one property that a label+property index serves
//! ([`ColumnScan::indexed`]). Under PROFILE the scan's rows are counted on its Match
//! (none when the count answered) and on the projection.

use crate::error::Result;
use crate::exec::column_filter::ColumnFilter;
use crate::exec::eager::Groups;
use crate::exec::pattern::{CPattern, RangeScan};
use crate::exec::pipeline::{AggSpec, Op, OpKind};
use crate::exec::row::{FastMap, Row};
use crate::exec::ExecCtx;
use crate::expr::{eval, CExpr};
use crate::graph::{GraphStats, GraphWrite, LabelId, PropertyId, Value};
use crate::value::{GroupKey, QValue, Truth};
use std::collections::VecDeque;
use std::time::Instant;

/// Nodes per batch.
pub(crate) const BATCH: usize = 1024;

/// Where a key or argument is read from.
#[derive(Clone, Copy)]
enum Source {
    /// The node itself.
    Node,
    /// The property in this position of [`ColumnScan::properties`].
    Property(usize),
}

/// A recognised first-clause label scan: the scan, its WHERE, and under an aggregation its
/// keys and arguments ([`crate::exec::column_sort::ColumnSort`] holds one for a sort).
pub(crate) struct ColumnScan {
    pub(super) label: String,
    /// The range the WHERE puts on one property: an index on the label and that key
    /// serves it better, and takes the query to the row path; without one, its bounds
    /// still decide as the row path's start does ([`start_label`]).
    pub(super) range: Option<RangeScan>,
    /// The scanned node's slot, and the width of the rows its Match makes.
    pub(super) node_slot: usize,
    pub(super) width: usize,
    /// The Match's WHERE, with `n.key` read from a scratch row: the node in its slot,
    /// property `i` of [`ColumnScan::properties`] in slot `width + i`.
    pub(super) filter: Option<CExpr>,
    /// The same WHERE tested on the columns, when it has that shape.
    pub(super) column_filter: Option<ColumnFilter>,
    /// Property names read, each once.
    pub(super) properties: Vec<String>,
    /// Slots other than the node's that a rewritten expression may read as they stand
    /// on the scratch row (the columns a projection wrote there), and among them those
    /// that hold the node itself (`RETURN n`), whose properties are read as the node's.
    pub(super) readable: Vec<usize>,
    pub(super) aliases: Vec<usize>,
    /// Readable slots whose item is a plain read (see [`plain`]): their expression is
    /// used in place of the slot, so a sort key can be had before the items are.
    pub(super) inlined: Vec<(usize, CExpr)>,
    keys: Vec<Source>,
    /// Per aggregate, its arguments.
    args: Vec<Vec<Source>>,
}

impl ColumnScan {
    /// The column form of aggregating `input` by `keys`, when the plan has that shape.
    pub fn of(input: &Op, keys: &[(usize, CExpr)], aggs: &[AggSpec]) -> Option<ColumnScan> {
        let mut scan = ColumnScan::first_match(input)?;
        let slot = scan.node_slot;
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

    /// The scan of `input` when it is a query's first clause, `MATCH (n:Label)` with at
    /// most a WHERE the column path evaluates; the WHERE's properties come first among
    /// [`ColumnScan::properties`].
    pub(super) fn first_match(input: &Op) -> Option<ColumnScan> {
        let (pattern, filter, width) = first_clause(input)?;
        let (slot, label, range) = single_labelled_node(pattern)?;
        let mut scan = ColumnScan {
            label,
            range,
            node_slot: slot,
            width,
            filter: None,
            column_filter: None,
            properties: Vec::new(),
            readable: Vec::new(),
            aliases: Vec::new(),
            inlined: Vec::new(),
            keys: Vec::new(),
            args: Vec::new(),
        };
        if let Some(filter) = filter {
            let filter = scan.rewrite(filter)?;
            scan.column_filter = ColumnFilter::of(&filter, width);
            scan.filter = Some(filter);
        }
        Some(scan)
    }

    /// True when an index serves the WHERE's range: the row path reads only the nodes
    /// in range from it, where this path would read every node with the label.
    pub fn indexed(&self, stats: &dyn GraphStats) -> bool {
        range_indexed(stats, &self.label, self.range.as_ref())
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

    /// `e` over the scratch row; see [`rewrite`].
    pub(super) fn rewrite(&mut self, e: &CExpr) -> Option<CExpr> {
        rewrite(e, self)
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
        let started = Started::now(ctx);
        let mut groups = Groups::new(aggs);
        let mut rows = 0u64;
        let label = start_label(&self.label, self.range.as_ref(), self.width, ctx)?;
        let counted = label.filter(|_| self.counts_only(aggs));
        if let Some(count) = counted.and_then(|l| ctx.graph().label_count(l)) {
            mark_run(input, 0, &started, ctx);
            let mut row = vec![QValue::Null; width];
            for spec in aggs {
                row[spec.slot] = QValue::Int(i64::try_from(count).unwrap_or(i64::MAX));
            }
            return Ok(VecDeque::from([row]));
        }
        if let Some(label) = label {
            let ids: Vec<Option<PropertyId>> = self.properties.iter().map(|p| ctx.graph().find_property(p)).collect();
            let mut scratch = vec![QValue::Null; self.width + self.properties.len()];
            let fast = self.column_filter.as_ref().and_then(|f| f.bind(ctx));
            let key = match self.keys.as_slice() {
                [Source::Property(p)] => Some(*p),
                _ => None,
            };
            let by_int = IntCounts::key_of(key, aggs, self.filter.is_none() || fast.is_some());
            let mut counts = IntCounts::default();
            let ctx = &*ctx;
            ctx.graph()
                .label_columns(label, &ids, BATCH, ctx.scan_threads(), &mut |nodes, columns| {
                    let read = |source: Source, i: usize| match source {
                        Source::Node => QValue::Node(nodes[i]),
                        Source::Property(p) => columns[p][i].clone().map_or(QValue::Null, QValue::from),
                    };
                    for i in 0..nodes.len() {
                        ctx.step()?;
                        if let Some(fast) = &fast {
                            if fast.test(&|p| columns[p][i].as_ref()) != Some(true) {
                                continue;
                            }
                        } else if let Some(filter) = &self.filter {
                            scratch[self.node_slot] = read(Source::Node, i);
                            for p in 0..columns.len() {
                                scratch[self.width + p] = read(Source::Property(p), i);
                            }
                            if eval(filter, &mut scratch, ctx)?.as_bool_or_null()? != Some(true) {
                                continue;
                            }
                        }
                        rows += 1;
                        if let Some(Some(Value::Int(key))) = by_int.map(|p| &columns[p][i]) {
                            counts.add(*key, &mut groups)?;
                            continue;
                        }
                        feed(&mut groups, &self.keys, &self.args, |s| read(s, i))?;
                    }
                    Ok(())
                })?;
            counts.finish(&mut groups, aggs.len())?;
        }
        mark_run(input, rows, &started, ctx);
        groups.finish(keys, width)
    }
}

/// Rows of an aggregation whose only key is an integer and whose aggregates are all
/// `count(*)`: grouped on the integer itself and counted in place, their groups made (in
/// first-seen order, like any other) through `groups`, so that other values still meet
/// them as equal keys.
#[derive(Default)]
pub(crate) struct IntCounts {
    at: FastMap<i64, usize>,
    counted: Vec<u64>,
}

impl IntCounts {
    /// The property to count by in place: the aggregation's only key, when it is a
    /// property read from the columns (`property`), every aggregate is `count(*)`, and
    /// any WHERE is tested on the columns (`tested_on_columns`), so no row is built.
    pub fn key_of(property: Option<usize>, aggs: &[AggSpec], tested_on_columns: bool) -> Option<usize> {
        property.filter(|_| tested_on_columns && aggs.iter().all(|a| a.name.is_none()))
    }

    #[inline(always)]
    pub fn add(&mut self, key: i64, groups: &mut Groups) -> Result<()> {
        match self.at.get(&key) {
            Some(at) => {
                self.counted[*at] += 1;
                Ok(())
            }
            None => self.first(key, groups),
        }
    }

    /// The first row of `key`: its group made.
    #[cold]
    fn first(&mut self, key: i64, groups: &mut Groups) -> Result<()> {
        groups.key.clear();
        groups.key.push(GroupKey::from(QValue::Int(key)));
        let at = groups.group()?;
        self.at.insert(key, at);
        if self.counted.len() <= at {
            self.counted.resize(at + 1, 0);
        }
        self.counted[at] += 1;
        Ok(())
    }

    /// Adds the counts to the groups' `aggregates` count(*) states.
    pub fn finish(self, groups: &mut Groups, aggregates: usize) -> Result<()> {
        groups.args.clear();
        for (at, n) in self.counted.into_iter().enumerate().filter(|(_, n)| *n > 0) {
            for agg in 0..aggregates {
                groups.update_rows(at, agg, n)?;
            }
        }
        Ok(())
    }
}

/// Feeds one row to an aggregation: grouped by `keys` with `args` per aggregate, each
/// value given by `read`. (Rows [`IntCounts`] takes are counted before, at the call:
/// the check kept there, out of this call, keeps the counting loop tight.)
pub(crate) fn feed<S: Copy>(
    groups: &mut Groups,
    keys: &[S],
    args: &[Vec<S>],
    read: impl Fn(S) -> QValue,
) -> Result<()> {
    groups.key.clear();
    for source in keys {
        groups.key.push(GroupKey::from(read(*source)));
    }
    let at = groups.group()?;
    for (agg, args) in args.iter().enumerate() {
        groups.args.clear();
        groups.args.extend(args.iter().map(|source| read(*source)));
        groups.update(at, agg)?;
    }
    Ok(())
}

/// Where a rewritten expression reads from, for [`rewrite`].
pub(crate) trait Scratch {
    /// The scratch slot holding property `key` of the node in `slot`, when that node is
    /// one the scan reads properties of.
    fn property_slot(&mut self, slot: usize, key: &str) -> Option<usize>;
    /// What stands for slot `slot` in a rewritten expression (the slot itself when it may
    /// be read as it is); `None` when it may not be read.
    fn slot(&self, slot: usize) -> Option<CExpr>;
}

impl Scratch for ColumnScan {
    fn property_slot(&mut self, slot: usize, key: &str) -> Option<usize> {
        (slot == self.node_slot || self.aliases.contains(&slot)).then(|| self.width + self.property(key))
    }

    fn slot(&self, slot: usize) -> Option<CExpr> {
        if let Some((_, inlined)) = self.inlined.iter().find(|(s, _)| *s == slot) {
            return Some(inlined.clone());
        }
        (slot == self.node_slot || self.readable.contains(&slot)).then_some(CExpr::Slot(slot))
    }
}

/// `e` with every property of a scanned node turned into its scratch slot, when `e` is
/// made of constants, parameters, readable slots, those properties, operators,
/// comparisons, label tests and function calls (which evaluate their arguments as
/// values); `None` for anything else, which leaves the query on the row path.
pub(crate) fn rewrite(e: &CExpr, on: &mut dyn Scratch) -> Option<CExpr> {
    if let CExpr::Property(base, key) = e {
        if let CExpr::Slot(s) = **base {
            if let Some(slot) = on.property_slot(s, key) {
                return Some(CExpr::Slot(slot));
            }
        }
    }
    let mut boxed = |e: &CExpr| rewrite(e, on).map(Box::new);
    Some(match e {
        CExpr::Slot(s) => on.slot(*s)?,
        CExpr::Const(_) | CExpr::Param(_) => e.clone(),
        CExpr::Not(a) => CExpr::Not(boxed(a)?),
        CExpr::Neg(a) => CExpr::Neg(boxed(a)?),
        CExpr::Plus(a) => CExpr::Plus(boxed(a)?),
        CExpr::IsNull(a, negated) => CExpr::IsNull(boxed(a)?, *negated),
        CExpr::HasLabels(a, labels) => CExpr::HasLabels(boxed(a)?, labels.clone()),
        CExpr::Binary(op, a, b) => {
            let a = boxed(a)?;
            CExpr::Binary(*op, a, boxed(b)?)
        }
        CExpr::Comparison(first, rest) => {
            let first = boxed(first)?;
            let rest = rest
                .iter()
                .map(|(op, e)| Some((*op, rewrite(e, on)?)))
                .collect::<Option<_>>()?;
            CExpr::Comparison(first, rest)
        }
        CExpr::List(items) => CExpr::List(items.iter().map(|i| rewrite(i, on)).collect::<Option<_>>()?),
        CExpr::Function(name, args) => CExpr::Function(
            name.clone(),
            args.iter().map(|a| rewrite(a, on)).collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

/// The label a first-clause scan reads, as the row path's start decides it: `None` when
/// the graph has never seen the name, or when the WHERE range (with no index serving
/// it) leaves no candidate.
pub(crate) fn start_label<G: GraphWrite>(
    label: &str,
    range: Option<&RangeScan>,
    width: usize,
    ctx: &ExecCtx<G>,
) -> Result<Option<LabelId>> {
    Ok(range_allows(range, width, ctx)?
        .then(|| ctx.graph().find_label(label))
        .flatten())
}

/// Whether the row path's start would scan the label for a WHERE range without an
/// index: it evaluates both bounds first (so their errors stand, node or no node), and
/// a null or unstorable bound on a key the graph knows leaves it no candidate at all.
fn range_allows<G: GraphWrite>(range: Option<&RangeScan>, width: usize, ctx: &ExecCtx<G>) -> Result<bool> {
    let Some(range) = range else { return Ok(true) };
    let mut row = vec![QValue::Null; width];
    let mut bound = |b: &Option<(CExpr, bool)>| b.as_ref().map(|(e, _)| eval(e, &mut row, ctx)).transpose();
    let (lower, upper) = (bound(&range.lower)?, bound(&range.upper)?);
    if ctx.graph().find_property(&range.key).is_none() {
        return Ok(true);
    }
    let storable = |b: Option<QValue>| b.is_none_or(|v| v.to_value().is_some_and(|v| !v.is_null()));
    Ok(storable(lower) && storable(upper))
}

/// Whether an index on `label` and the range's key exists.
pub(crate) fn range_indexed(stats: &dyn GraphStats, label: &str, range: Option<&RangeScan>) -> bool {
    let Some(range) = range else { return false };
    let (Some(label), Some(key)) = (stats.find_label(label), stats.find_property(&range.key)) else {
        return false;
    };
    stats.approx_label_property_count(label, key).is_some()
}

/// The pattern, WHERE and row width of `input` when it is a query's first clause: a
/// MATCH (not OPTIONAL) over the one empty row, that has not begun.
pub(crate) fn first_clause(input: &Op) -> Option<(&CPattern, Option<&CExpr>, usize)> {
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
    buffer.is_empty().then_some((pattern, filter.as_ref(), width))
}

/// The slot and label of a pattern that is one new node with one label and nothing else,
/// and the range its WHERE bounds, if any (the WHERE still filters).
fn single_labelled_node(pattern: &CPattern) -> Option<(usize, String, Option<RangeScan>)> {
    let [part] = pattern.parts.as_slice() else { return None };
    let [node] = part.nodes.as_slice() else { return None };
    let [label] = node.labels.as_slice() else { return None };
    let plain = part.rels.is_empty() && part.path_slot.is_none();
    let unconstrained = !node.bound && node.props.is_none();
    (plain && unconstrained).then(|| (node.slot, label.clone(), node.range.clone()))
}

/// When a column path started: the time, and the graph accesses made so far.
pub(crate) struct Started {
    at: Instant,
    hits: u64,
}

impl Started {
    pub fn now<G: GraphWrite>(ctx: &ExecCtx<G>) -> Started {
        Started {
            at: Instant::now(),
            hits: ctx.db_hits(),
        }
    }

    /// Charges `op` with `rows` and, under PROFILE, with the time and the graph accesses
    /// since the start (PROFILE reports an operator's accesses less its inputs').
    pub fn charge<G: GraphWrite>(&self, op: &mut Op, rows: u64, ctx: &ExecCtx<G>) {
        op.rows += rows;
        if op.timed {
            op.elapsed += self.at.elapsed();
            op.hits += ctx.db_hits() - self.hits;
        }
    }
}

/// Leaves the Match and the Once below it as having run: the Once gave its one row and
/// the Match `rows`, with the time and the graph accesses under PROFILE.
pub(crate) fn mark_run<G: GraphWrite>(input: &mut Op, rows: u64, started: &Started, ctx: &ExecCtx<G>) {
    if let OpKind::Match { input: first, .. } = &mut input.kind {
        if let OpKind::Once { done, .. } = &mut first.kind {
            *done = true;
        }
        first.rows += 1;
    }
    started.charge(input, rows, ctx);
}
