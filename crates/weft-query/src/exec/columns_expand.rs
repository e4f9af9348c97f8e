//! The column path of a one-hop aggregation: a query's first
//! `MATCH (a:A)-[r:T]->(b:B) [WHERE ...]` grouped and aggregated over `a`, `r`, `b` and
//! the properties of `a` and `b`, run batch at a time.
//!
//! Owns: recognising that shape in a plan that has not run, and running it as two label
//! scans and one expand: `B`'s members and the far-end properties read once, in columns,
//! into a table by node id; then `A` scanned in batches of columns, each node's
//! relationships listed as the row path lists them, and every far end found in the table
//! (which is also the test of its label). No row is built and no pattern is walked per
//! relationship; the WHERE is tested on the columns when it has that shape
//! ([`ColumnFilter`]) and evaluated on a scratch row otherwise.
//!
//! Promises: the same groups, values and errors as the row path, in the same order: `a`
//! in label-scan order, relationships in the order the graph lists them, as the row
//! path's walk from `a` takes them. Any other shape — a part walked from `b` (the planner
//! found that end cheaper), a variable-length or bound relationship, pattern properties,
//! a `b` without a label whose properties are read, `r`'s properties, a second label on
//! an end — runs on the row path, as does a WHERE bound on `a` that an index serves.

use crate::ast::RelDirection;
use crate::error::Result;
use crate::exec::column_filter::ColumnFilter;
use crate::exec::columns::{
    feed, first_clause, mark_run, range_indexed, rewrite, start_label, IntCounts, Scratch, Started, BATCH,
};
use crate::exec::eager::Groups;
use crate::exec::pattern::{neighbours, other_end, CRel, RangeScan};
use crate::exec::pipeline::{AggSpec, Op};
use crate::exec::row::{FastMap, Row};
use crate::exec::ExecCtx;
use crate::expr::{eval, CExpr};
use crate::graph::{Direction, Gid, GraphStats, GraphWrite, PropertyId, Value};
use crate::value::{QValue, Truth};
use std::collections::VecDeque;

/// Which end of the relationship a property is read from.
#[derive(Clone, Copy, PartialEq)]
enum End {
    /// `a`, the scanned start.
    Near,
    /// `b`, found through the table.
    Far,
}

/// Where a key or argument is read from.
#[derive(Clone, Copy)]
enum Source {
    Node(End),
    Rel,
    /// The property in this position of [`ExpandScan::properties`].
    Property(usize),
}

/// A recognised first-clause one-hop match under an aggregation.
pub(crate) struct ExpandScan {
    near_label: String,
    /// As [`crate::exec::columns::ColumnScan`]'s: a WHERE range on `a`.
    range: Option<RangeScan>,
    far_label: Option<String>,
    near: usize,
    far: usize,
    rel: CRel,
    dir: Option<Direction>,
    width: usize,
    /// Properties read, each once: the end, the key.
    properties: Vec<(End, String)>,
    /// The WHERE over a scratch row: `a`, `r` and `b` in their slots, property `i` in
    /// slot `width + i`; and the same tested on the columns, when it has that shape.
    filter: Option<CExpr>,
    column_filter: Option<ColumnFilter>,
    keys: Vec<Source>,
    args: Vec<Vec<Source>>,
}

impl Scratch for ExpandScan {
    fn property_slot(&mut self, slot: usize, key: &str) -> Option<usize> {
        let end = if slot == self.near {
            End::Near
        } else if slot == self.far {
            End::Far
        } else {
            return None;
        };
        Some(self.width + self.property(end, key))
    }

    fn slot(&self, slot: usize) -> Option<CExpr> {
        [self.near, self.far, self.rel.slot]
            .contains(&slot)
            .then_some(CExpr::Slot(slot))
    }
}

impl ExpandScan {
    /// The column form of aggregating `input` by `keys`, when the plan has that shape.
    pub fn of(input: &Op, keys: &[(usize, CExpr)], aggs: &[AggSpec]) -> Option<ExpandScan> {
        let (pattern, filter, width) = first_clause(input)?;
        let [part] = pattern.parts.as_slice() else { return None };
        let ([a, b], [rel]) = (part.nodes.as_slice(), part.rels.as_slice()) else {
            return None;
        };
        let [near_label] = a.labels.as_slice() else { return None };
        let far_label = match b.labels.as_slice() {
            [] => None,
            [label] => Some(label.clone()),
            _ => return None,
        };
        let plain_ends = !a.bound && !b.bound && a.props.is_none() && b.props.is_none() && a.slot != b.slot;
        let plain_rel = !rel.bound && rel.props.is_none() && rel.length.is_none() && rel.search.is_none();
        if part.reversed || part.path_slot.is_some() || !plain_ends || !plain_rel {
            return None;
        }
        let mut scan = ExpandScan {
            near_label: near_label.clone(),
            range: a.range.clone(),
            far_label,
            near: a.slot,
            far: b.slot,
            rel: rel.clone(),
            dir: match rel.direction {
                RelDirection::Both => None,
                RelDirection::Outgoing => Some(Direction::Out),
                RelDirection::Incoming => Some(Direction::In),
            },
            width,
            properties: Vec::new(),
            filter: None,
            column_filter: None,
            keys: Vec::new(),
            args: Vec::new(),
        };
        if let Some(filter) = filter {
            let filter = rewrite(filter, &mut scan)?;
            scan.column_filter = ColumnFilter::of(&filter, width);
            scan.filter = Some(filter);
        }
        for (_, e) in keys {
            let source = scan.source(e)?;
            scan.keys.push(source);
        }
        for spec in aggs {
            let args = spec.args.iter().map(|e| scan.source(e)).collect::<Option<_>>()?;
            scan.args.push(args);
        }
        // Without a label on `b`, nothing lists its properties in columns.
        let far_read = scan.properties.iter().any(|(end, _)| *end == End::Far);
        (scan.far_label.is_some() || !far_read).then_some(scan)
    }

    /// True when the row path is the better plan: an index serves the WHERE's range on
    /// `a` (see [`crate::exec::columns::ColumnScan::indexed`]), or `b`'s label is so much
    /// larger than the relationships `a`'s members are expected to have that reading all
    /// of it would cost more than the row path's walk.
    pub fn prefers_rows(&self, stats: &dyn GraphStats) -> bool {
        if range_indexed(stats, &self.near_label, self.range.as_ref()) {
            return true;
        }
        let (Some(near), Some(Some(far))) = (
            stats.find_label(&self.near_label),
            self.far_label.as_ref().map(|l| stats.find_label(l)),
        ) else {
            return false;
        };
        let degree = stats.approx_edge_count() / stats.approx_vertex_count().max(1);
        let walked = stats.approx_label_count(near).saturating_mul(degree.max(1));
        stats.approx_label_count(far) > walked.saturating_mul(4).saturating_add(4096)
    }

    fn source(&mut self, e: &CExpr) -> Option<Source> {
        match e {
            CExpr::Slot(s) if *s == self.near => Some(Source::Node(End::Near)),
            CExpr::Slot(s) if *s == self.far => Some(Source::Node(End::Far)),
            CExpr::Slot(s) if *s == self.rel.slot => Some(Source::Rel),
            CExpr::Property(base, key) => match **base {
                CExpr::Slot(s) if s == self.near => Some(Source::Property(self.property(End::Near, key))),
                CExpr::Slot(s) if s == self.far => Some(Source::Property(self.property(End::Far, key))),
                _ => None,
            },
            _ => None,
        }
    }

    fn property(&mut self, end: End, key: &str) -> usize {
        match self.properties.iter().position(|(e, k)| *e == end && k == key) {
            Some(at) => at,
            None => {
                self.properties.push((end, key.to_owned()));
                self.properties.len() - 1
            }
        }
    }

    /// Runs the scans, the expand and the aggregation; marks `input` (the Match and its
    /// Once) as run.
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
        let far_label = self.far_label.as_ref().map(|l| ctx.graph().find_label(l));
        // Where each property is in its end's columns.
        let mut at = Vec::with_capacity(self.properties.len());
        let (mut near_keys, mut far_keys) = (Vec::<Option<PropertyId>>::new(), Vec::new());
        for (end, key) in &self.properties {
            let keys = if *end == End::Near {
                &mut near_keys
            } else {
                &mut far_keys
            };
            at.push(keys.len());
            keys.push(ctx.graph().find_property(key));
        }
        let near_label = start_label(&self.near_label, self.range.as_ref(), self.width, ctx)?;
        if let (Some(near_label), None | Some(Some(_))) = (near_label, far_label) {
            let far = match far_label.flatten() {
                Some(label) => Some(FarTable::read(label, &far_keys, ctx)?),
                None => None,
            };
            let fast = self.column_filter.as_ref().and_then(|f| f.bind(ctx));
            let key = match self.keys.as_slice() {
                [Source::Property(p)] => Some(*p),
                _ => None,
            };
            let by_int = IntCounts::key_of(key, aggs, self.filter.is_none() || fast.is_some());
            let mut counts = IntCounts::default();
            let mut scratch = vec![QValue::Null; self.width + self.properties.len()];
            let ctx = &*ctx;
            ctx.graph().label_columns(
                near_label,
                &near_keys,
                BATCH,
                ctx.scan_threads(),
                &mut |nodes, columns| {
                    for (i, node) in nodes.iter().enumerate() {
                        ctx.step()?;
                        for edge in neighbours(*node, self.dir, &self.rel, ctx)? {
                            ctx.step()?;
                            let other = other_end(&edge, *node);
                            let j = match &far {
                                Some(far) => match far.position(other) {
                                    Some(j) => j,
                                    None => continue,
                                },
                                None => 0,
                            };
                            let value = |p: usize| match self.properties[p].0 {
                                End::Near => columns[at[p]][i].as_ref(),
                                End::Far => far.as_ref().and_then(|f| f.columns[at[p]][j].as_ref()),
                            };
                            let read = |source: Source| match source {
                                Source::Node(End::Near) => QValue::Node(*node),
                                Source::Node(End::Far) => QValue::Node(other),
                                Source::Rel => QValue::Relationship(edge),
                                Source::Property(p) => value(p).cloned().map_or(QValue::Null, QValue::from),
                            };
                            if let Some(fast) = &fast {
                                if fast.test(&value) != Some(true) {
                                    continue;
                                }
                            } else if let Some(filter) = &self.filter {
                                scratch[self.near] = read(Source::Node(End::Near));
                                scratch[self.far] = read(Source::Node(End::Far));
                                scratch[self.rel.slot] = read(Source::Rel);
                                for p in 0..self.properties.len() {
                                    scratch[self.width + p] = read(Source::Property(p));
                                }
                                if eval(filter, &mut scratch, ctx)?.as_bool_or_null()? != Some(true) {
                                    continue;
                                }
                            }
                            rows += 1;
                            if let Some(Some(Value::Int(key))) = by_int.map(value) {
                                counts.add(*key, &mut groups)?;
                                continue;
                            }
                            feed(&mut groups, &self.keys, &self.args, read)?;
                        }
                    }
                    Ok(())
                },
            )?;
            counts.finish(&mut groups, aggs.len())?;
        }
        mark_run(input, rows, &started, ctx);
        groups.finish(keys, width)
    }
}

/// The far label's members as this transaction sees them, with the far-end properties
/// read, findable by node id.
struct FarTable {
    /// Position by node id: dense when the ids are not much sparser than the members.
    dense: Vec<u32>,
    sparse: FastMap<Gid, usize>,
    /// Per far-end key, one value per member.
    columns: Vec<Vec<Option<Value>>>,
}

impl FarTable {
    fn read<G: GraphWrite>(
        label: crate::graph::LabelId,
        keys: &[Option<PropertyId>],
        ctx: &ExecCtx<G>,
    ) -> Result<Self> {
        let mut members = Vec::new();
        let mut columns = vec![Vec::new(); keys.len()];
        ctx.graph()
            .label_columns(label, keys, BATCH, ctx.scan_threads(), &mut |nodes, read| {
                for _ in nodes {
                    ctx.step()?;
                }
                members.extend_from_slice(nodes);
                for (column, values) in columns.iter_mut().zip(read) {
                    column.extend_from_slice(values);
                }
                Ok(())
            })?;
        let top = members.iter().map(|g| g.0).max().unwrap_or(0);
        let dense_fits = top <= 16 * members.len() as u64 + 65_536 && members.len() < u32::MAX as usize;
        let mut table = FarTable {
            dense: Vec::new(),
            sparse: FastMap::default(),
            columns,
        };
        if dense_fits {
            table.dense = vec![u32::MAX; top as usize + 1];
        }
        for (position, gid) in members.iter().enumerate() {
            match (table.dense.get_mut(gid.0 as usize), u32::try_from(position)) {
                (Some(slot), Ok(position)) => *slot = position,
                _ => {
                    table.sparse.insert(*gid, position);
                }
            }
        }
        Ok(table)
    }

    fn position(&self, gid: Gid) -> Option<usize> {
        match self.dense.get(gid.0 as usize) {
            Some(position) => (*position != u32::MAX).then_some(*position as usize),
            None => self.sparse.get(&gid).copied(),
        }
    }
}
