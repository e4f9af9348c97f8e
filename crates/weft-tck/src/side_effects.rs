//! Side effects: the eight TCK counters and how they are measured and checked.
//!
//! Owns: the difference between two [`GraphSnapshot`]s (taken right before the query under
//! test and at the side-effects step) as [`SideEffects`], reading the `| +nodes | 1 |`
//! table of `And the side effects should be:` (counters not listed must be 0), and the
//! check itself. Measuring by snapshot rather than by the engine's own statistics follows
//! the TCK's definition: what a later query can observe, so effects undone within the
//! query do not count. Needs: snapshots from [`crate::engine`].

use std::collections::BTreeSet;
use std::fmt;

use crate::engine::GraphSnapshot;
use crate::gherkin::Table;

/// The counter names in the order the TCK lists them.
pub const COUNTERS: [&str; 8] = [
    "+nodes",
    "-nodes",
    "+relationships",
    "-relationships",
    "+properties",
    "-properties",
    "+labels",
    "-labels",
];

/// The eight counters, indexed like [`COUNTERS`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SideEffects(pub [u64; 8]);

impl SideEffects {
    /// What changed from `before` to `after`.
    pub fn between(before: &GraphSnapshot, after: &GraphSnapshot) -> SideEffects {
        SideEffects([
            added(&before.nodes, &after.nodes),
            added(&after.nodes, &before.nodes),
            added(&before.relationships, &after.relationships),
            added(&after.relationships, &before.relationships),
            added(&before.properties, &after.properties),
            added(&after.properties, &before.properties),
            added(&before.labels, &after.labels),
            added(&after.labels, &before.labels),
        ])
    }

    /// Reads an expectation table of `| name | count |` rows (no header).
    pub fn from_table(table: &Table) -> Result<SideEffects, String> {
        let mut effects = SideEffects::default();
        for row in table {
            let [name, count] = row.as_slice() else {
                return Err(format!("side-effect row must have two cells: {row:?}"));
            };
            let index = COUNTERS
                .iter()
                .position(|c| c == name)
                .ok_or(format!("unknown side effect `{name}`"))?;
            effects.0[index] = count.parse().map_err(|_| format!("bad count `{count}` for {name}"))?;
        }
        Ok(effects)
    }

    /// `Ok` when equal, else a report naming the counters that differ.
    pub fn check(expected: SideEffects, actual: SideEffects) -> Result<(), String> {
        if expected == actual {
            return Ok(());
        }
        Err(format!("side effects differ: expected {expected}, got {actual}"))
    }
}

fn added<T: Ord>(before: &BTreeSet<T>, after: &BTreeSet<T>) -> u64 {
    after.difference(before).count() as u64
}

/// Lists the non-zero counters, e.g. `+nodes 1, +properties 2`, or `none`.
impl fmt::Display for SideEffects {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = COUNTERS
            .iter()
            .zip(self.0)
            .filter(|(_, n)| *n != 0)
            .map(|(name, n)| format!("{name} {n}"))
            .collect();
        if parts.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests;
