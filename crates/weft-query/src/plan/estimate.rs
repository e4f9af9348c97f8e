//! Start-point estimates: how many candidates a node pattern would start a traversal
//! with, from the graph's statistics ([`GraphStats`]: label counts, vertex count). The planner orients each
//! pattern part from its cheaper end by them, and records every estimate it makes in the
//! plan, so a cached plan can tell whether planning again would still build it.

use crate::graph::GraphStats;
use crate::plan::Plan;

/// One start-point estimate the planner made: the node pattern's shape and the result.
#[derive(Clone, Debug)]
pub struct Estimated {
    pub labels: Vec<String>,
    pub props: bool,
    pub bound: bool,
    pub value: u64,
}

impl Plan {
    /// True when planning the same query again would see the same statistics, so would
    /// build this same plan: a cached copy may then run instead.
    pub fn still_fits(&self, stats: &dyn GraphStats) -> bool {
        self.estimates
            .iter()
            .all(|e| estimate_of(stats, &e.labels, e.props, e.bound) == e.value)
    }
}

/// Estimated start candidates of a node pattern (its labels, whether it has property
/// constraints, whether it is bound), from storage counts.
pub(crate) fn estimate_of(stats: &dyn GraphStats, labels: &[String], props: bool, bound: bool) -> u64 {
    if bound {
        return 0;
    }
    let ids: Vec<_> = labels.iter().filter_map(|l| stats.find_label(l)).collect();
    if ids.len() < labels.len() {
        return 0; // an unknown label matches nothing: cheapest start
    }
    let by_label = ids.iter().map(|l| stats.approx_label_count(*l)).min();
    let indexed = props && ids.iter().any(|l| stats.approx_label_count(*l) > 0);
    match by_label {
        Some(c) if indexed => c / 16 + 1,
        Some(c) => c + 1,
        None => stats.approx_vertex_count() + 2,
    }
}
