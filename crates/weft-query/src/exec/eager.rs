//! Operators that consume their whole input before producing a row: aggregation
//! (grouping with one aggregator state per group and aggregate) and sorting (with a
//! bounded top-k when a LIMIT follows).

use crate::error::{ErrorKind, QueryError, Result};
use crate::exec::pipeline::{constant_count, AggSpec, Op};
use crate::exec::row::{FastMap, Row};
use crate::exec::ExecCtx;
use crate::expr::{eval, CExpr};
use crate::functions::Aggregator;
use crate::graph::GraphWrite;
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

/// Groups the input by `keys` and runs `aggs` per group; one row per group (one row
/// with the aggregates' empty results when there are no keys and no input).
pub(crate) fn aggregate<G: GraphWrite>(
    input: &mut Op,
    keys: &[(usize, CExpr)],
    aggs: &[AggSpec],
    width: usize,
    ctx: &mut ExecCtx<G>,
) -> Result<VecDeque<Row>> {
    let mut index: FastMap<Vec<GroupKey>, usize> = FastMap::default();
    let mut groups: Vec<Group> = Vec::new();
    let mut args: Vec<QValue> = Vec::new();
    let mut key: Vec<GroupKey> = Vec::with_capacity(keys.len());
    input.drain(ctx, &mut |row, ctx| {
        let at = if keys.is_empty() {
            if groups.is_empty() {
                groups.push(Group {
                    keys: Vec::new(),
                    states: new_states(aggs)?,
                });
            }
            0
        } else {
            // The key is built in a buffer kept across rows: only a new group copies it.
            key.clear();
            for (_, e) in keys {
                key.push(GroupKey::from(eval(e, row, ctx)?));
            }
            match index.get(key.as_slice()) {
                Some(at) => *at,
                None => {
                    groups.push(Group {
                        keys: key.iter().map(|k| k.0.clone()).collect(),
                        states: new_states(aggs)?,
                    });
                    index.insert(key.clone(), groups.len() - 1);
                    groups.len() - 1
                }
            }
        };
        for (spec, state) in aggs.iter().zip(groups[at].states.iter_mut()) {
            args.clear();
            for e in &spec.args {
                args.push(eval(e, row, ctx)?);
            }
            state.update(&args)?;
        }
        Ok(())
    })?;
    if groups.is_empty() && keys.is_empty() {
        groups.push(Group {
            keys: Vec::new(),
            states: new_states(aggs)?,
        });
    }
    let mut out = VecDeque::new();
    for mut group in groups {
        let mut row = vec![QValue::Null; width];
        for ((slot, _), v) in keys.iter().zip(group.keys.drain(..)) {
            row[*slot] = v;
        }
        for (spec, state) in aggs.iter().zip(group.states.iter_mut()) {
            row[spec.slot] = state.finish()?;
        }
        out.push_back(row);
    }
    Ok(out)
}

/// The input ordered by `keys` (each descending when its flag is set), cut to `limit`.
pub(crate) fn sort<G: GraphWrite>(
    input: &mut Op,
    keys: &[(CExpr, bool)],
    limit: Option<&CExpr>,
    ctx: &mut ExecCtx<G>,
) -> Result<VecDeque<Row>> {
    let limit = limit.map(|l| constant_count(l, ctx, "LIMIT")).transpose()?;
    let mut rows: Vec<(Vec<QValue>, Row)> = Vec::new();
    let compare = |a: &Vec<QValue>, b: &Vec<QValue>| {
        for ((x, y), (_, desc)) in a.iter().zip(b.iter()).zip(keys.iter()) {
            let o = x.order_cmp(y);
            let o = if *desc { o.reverse() } else { o };
            if o != std::cmp::Ordering::Equal {
                return o;
            }
        }
        std::cmp::Ordering::Equal
    };
    while let Some(mut row) = input.next(ctx)? {
        let sort_key: Vec<QValue> = keys
            .iter()
            .map(|(e, _)| eval(e, &mut row, ctx))
            .collect::<Result<_>>()?;
        rows.push((sort_key, row));
        // Top-k: keep at most 2k rows between compactions.
        if let Some(k) = limit {
            if rows.len() as u64 > 2 * k.max(512) {
                rows.sort_by(|a, b| compare(&a.0, &b.0));
                rows.truncate(k as usize);
            }
        }
    }
    rows.sort_by(|a, b| compare(&a.0, &b.0));
    if let Some(k) = limit {
        rows.truncate(k as usize);
    }
    Ok(rows.into_iter().map(|(_, r)| r).collect())
}
