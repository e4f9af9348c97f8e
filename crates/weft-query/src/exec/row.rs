//! The executor's data shapes, apart from any operator: a row of slot values and the
//! hash tables that group and deduplicate rows.

use crate::value::QValue;

/// Hash tables for grouping and DISTINCT: fast hashing with a per-process random seed.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

/// A row of slot values.
pub type Row = Vec<QValue>;
