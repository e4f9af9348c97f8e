//! The execution context shared by operators and expressions: the transaction, the
//! parameters, the statement clock and the write statistics, plus graph reads in the
//! query's terms (names, runtime values). Label checks are remembered until the statement
//! next writes (any write goes through [`ExecCtx::txn_mut`], which forgets them).

use crate::error::{ErrorKind, QueryError, Result};
use crate::graph::GraphContext;
use crate::result::QueryStats;
use crate::value::QValue;
use std::collections::BTreeMap;
use std::time::Instant;
use weft_common::temporal::ZonedDateTime;
use weft_common::PropertyId;
use weft_storage::{EdgeRef, EdgeTypeId, Gid, LabelId, Storage, Transaction};

/// The transaction a statement runs in: borrowed from the caller, or owned by the
/// statement's cursor (a server streaming a result across requests) and handed back when
/// the statement ends.
pub enum TxnHandle<'t> {
    Borrowed(&'t mut Transaction),
    Owned(Box<Transaction>),
}

impl std::ops::Deref for TxnHandle<'_> {
    type Target = Transaction;

    fn deref(&self) -> &Transaction {
        match self {
            TxnHandle::Borrowed(txn) => txn,
            TxnHandle::Owned(txn) => txn,
        }
    }
}

impl std::ops::DerefMut for TxnHandle<'_> {
    fn deref_mut(&mut self) -> &mut Transaction {
        match self {
            TxnHandle::Borrowed(txn) => txn,
            TxnHandle::Owned(txn) => txn,
        }
    }
}

impl TxnHandle<'_> {
    /// The transaction, if this handle owns it.
    pub fn into_owned(self) -> Option<Transaction> {
        match self {
            TxnHandle::Borrowed(_) => None,
            TxnHandle::Owned(txn) => Some(*txn),
        }
    }
}

/// How many operator steps pass between two looks at the clock.
const DEADLINE_CHECK_EVERY: u32 = 1024;

/// At most this many label checks are remembered per statement.
const LABEL_MEMO_ENTRIES: usize = 1 << 16;

/// Property names a statement remembers the ids of (looked up by a linear scan).
const PROPERTY_ID_MEMO_ENTRIES: usize = 16;

/// Everything a running statement needs.
pub struct ExecCtx<'t> {
    pub storage: Storage,
    txn: TxnHandle<'t>,
    params: BTreeMap<String, QValue>,
    pub stats: QueryStats,
    now: ZonedDateTime,
    deadline: Option<Instant>,
    steps: std::cell::Cell<u32>,
    /// Whether a node has a label, as seen since the statement last wrote: a traversal
    /// meets the same well-connected nodes again and again, and each storage check takes
    /// the node's lock. Any write access to the transaction forgets it all.
    label_memo: std::cell::RefCell<crate::pipeline::FastMap<(Gid, LabelId), bool>>,
    /// Property ids by name, as found so far: a scan reads the same few keys on every row,
    /// and each storage lookup takes the name table's lock. Only found ids are kept (an
    /// id never changes once a name has one); a name not yet known is asked again.
    property_ids: std::cell::RefCell<Vec<(Box<str>, PropertyId)>>,
    /// How many times the statement has taken the transaction for writing: what was
    /// checked at one generation holds while it stays the same.
    write_generation: u64,
}

impl<'t> ExecCtx<'t> {
    pub fn new(storage: Storage, txn: TxnHandle<'t>, params: BTreeMap<String, QValue>) -> Self {
        ExecCtx {
            storage,
            txn,
            params,
            stats: QueryStats::default(),
            now: ZonedDateTime::now_utc(),
            deadline: None,
            steps: std::cell::Cell::new(0),
            label_memo: Default::default(),
            property_ids: Default::default(),
            write_generation: 0,
        }
    }

    /// The id of property `key`, if any object ever had it.
    fn property_id(&self, key: &str) -> Option<PropertyId> {
        if let Some((_, id)) = self.property_ids.borrow().iter().find(|(name, _)| &**name == key) {
            return Some(*id);
        }
        let id = self.storage.find_property(key)?;
        let mut known = self.property_ids.borrow_mut();
        if known.len() < PROPERTY_ID_MEMO_ENTRIES {
            known.push((key.into(), id));
        }
        Some(id)
    }

    /// Stops the statement with a timeout error once `deadline` has passed.
    pub fn with_deadline(mut self, deadline: Option<Instant>) -> Self {
        self.deadline = deadline;
        self
    }

    /// Counts one unit of work; every so often, fails if the statement's deadline passed.
    pub fn step(&self) -> Result<()> {
        let steps = self.steps.get().wrapping_add(1);
        self.steps.set(steps);
        if !steps.is_multiple_of(DEADLINE_CHECK_EVERY) {
            return Ok(());
        }
        match self.deadline {
            Some(deadline) if Instant::now() >= deadline => Err(QueryError::timed_out()),
            _ => Ok(()),
        }
    }

    /// Gives the transaction back when the context owns it.
    pub fn into_txn(self) -> TxnHandle<'t> {
        self.txn
    }

    /// The transaction, for reads.
    pub fn txn(&self) -> &Transaction {
        &self.txn
    }

    /// The transaction, for writes.
    pub fn txn_mut(&mut self) -> &mut Transaction {
        self.label_memo.get_mut().clear();
        self.write_generation += 1;
        &mut self.txn
    }

    /// Changes whenever the statement may have written (see [`ExecCtx::txn_mut`]).
    pub fn write_generation(&self) -> u64 {
        self.write_generation
    }

    /// Whether the node exists and has every one of `labels`.
    pub fn has_labels(&self, node: Gid, labels: &[LabelId]) -> bool {
        let [label] = labels else {
            return self.txn.vertex_has_labels(node, labels);
        };
        let mut memo = self.label_memo.borrow_mut();
        if let Some(known) = memo.get(&(node, *label)) {
            return *known;
        }
        let has = self.txn.vertex_has_labels(node, labels);
        if memo.len() < LABEL_MEMO_ENTRIES {
            memo.insert((node, *label), has);
        }
        has
    }

    /// A parameter's value; a missing one is an error naming it.
    pub fn param(&self, name: &str) -> Result<QValue> {
        self.params.get(name).cloned().ok_or_else(|| {
            QueryError::runtime(
                ErrorKind::SemanticError,
                "MissingParameter",
                format!("Expected parameter: ${name}"),
            )
        })
    }

    /// Ids of the named edge types that exist (unknown names match nothing).
    pub fn edge_type_ids(&self, names: &[String]) -> Vec<EdgeTypeId> {
        names.iter().filter_map(|n| self.storage.find_edge_type(n)).collect()
    }

    /// Candidates from a label+property index on one of `labels`, if such an index exists.
    pub fn index_lookup(&self, labels: &[String], key: &str, value: &QValue) -> Option<Vec<Gid>> {
        let prop = self.property_id(key)?;
        let value = value.to_value()?;
        labels.iter().find_map(|l| {
            let label = self.storage.find_label(l)?;
            self.storage.approx_label_property_count(label, prop)?;
            Some(self.txn.vertices_with_property(label, prop, &value))
        })
    }

    /// Candidates from a label+property index range on one of `labels`, if such an index
    /// exists and the bounds are values (a null bound matches nothing).
    pub fn index_range(
        &self,
        labels: &[String],
        key: &str,
        lower: Option<(QValue, bool)>,
        upper: Option<(QValue, bool)>,
    ) -> Option<Vec<Gid>> {
        let prop = self.storage.find_property(key)?;
        let to_bound = |b: &Option<(QValue, bool)>| -> Option<std::ops::Bound<weft_common::Value>> {
            Some(match b {
                None => std::ops::Bound::Unbounded,
                Some((v, true)) => std::ops::Bound::Included(v.to_value().filter(|v| !v.is_null())?),
                Some((v, false)) => std::ops::Bound::Excluded(v.to_value().filter(|v| !v.is_null())?),
            })
        };
        let (Some(lo), Some(hi)) = (to_bound(&lower), to_bound(&upper)) else {
            return Some(Vec::new());
        };
        labels.iter().find_map(|l| {
            let label = self.storage.find_label(l)?;
            self.storage.approx_label_property_count(label, prop)?;
            Some(self.txn.vertices_in_range(label, prop, lo.as_ref(), hi.as_ref()))
        })
    }

    /// The ids of `labels`, or `None` when one of the names was never used.
    pub fn label_ids(&self, labels: &[String]) -> Option<Vec<weft_storage::LabelId>> {
        labels.iter().map(|l| self.storage.find_label(l)).collect()
    }

    /// Nodes with the rarest of `labels` (the caller checks the others).
    pub fn label_scan(&self, labels: &[String]) -> Vec<Gid> {
        let ids: Option<Vec<_>> = labels.iter().map(|l| self.storage.find_label(l)).collect();
        let Some(ids) = ids else { return Vec::new() };
        match ids.iter().min_by_key(|l| self.storage.approx_label_count(**l)) {
            Some(l) => self.txn.vertices_with_label(*l),
            None => Vec::new(),
        }
    }

    /// `value.key`: map entries, node and relationship properties; null stays null.
    pub fn property(&self, value: &QValue, key: &str) -> Result<QValue> {
        match value {
            QValue::Null => Ok(QValue::Null),
            QValue::Map(m) => Ok(m.get(key).cloned().unwrap_or(QValue::Null)),
            QValue::Node(n) => self.node_property(*n, key),
            QValue::Relationship(r) => self.rel_property(r, key),
            other => crate::ops::property(other, key, self),
        }
    }

    /// All properties of a node, relationship or map.
    pub fn all_properties(&self, value: &QValue) -> Result<BTreeMap<String, QValue>> {
        match value {
            QValue::Map(m) => Ok(m.clone()),
            QValue::Node(n) => self.node_properties(*n),
            QValue::Relationship(r) => self.rel_properties(r),
            QValue::Null => Ok(BTreeMap::new()),
            other => Err(QueryError::runtime(
                ErrorKind::TypeError,
                "InvalidArgumentType",
                format!("expected a node, relationship or map, got {}", other.type_name()),
            )),
        }
    }
}

impl GraphContext for ExecCtx<'_> {
    fn node_labels(&self, node: Gid) -> Result<Vec<String>> {
        Ok(self
            .txn
            .labels(node)?
            .into_iter()
            .map(|l| self.storage.label_name(l))
            .collect())
    }

    fn node_property(&self, node: Gid, key: &str) -> Result<QValue> {
        let Some(prop) = self.property_id(key) else {
            // Still fail for a deleted node, as other property reads do.
            self.txn.labels(node)?;
            return Ok(QValue::Null);
        };
        Ok(self
            .txn
            .vertex_property(node, prop)?
            .map(QValue::from)
            .unwrap_or(QValue::Null))
    }

    fn node_properties(&self, node: Gid) -> Result<BTreeMap<String, QValue>> {
        let props = self.txn.vertex_properties(node)?;
        Ok(props
            .into_iter()
            .map(|(k, v)| (self.storage.property_name(k), QValue::from(v)))
            .collect())
    }

    fn rel_property(&self, rel: &EdgeRef, key: &str) -> Result<QValue> {
        // Storage still shows a deleted relationship's properties to the transaction
        // that deleted it; only a statement that deleted relationships pays the check.
        if self.stats.relationships_deleted > 0 && !self.txn.edge_exists(rel) {
            return Err(QueryError::runtime(
                ErrorKind::EntityNotFound,
                "DeletedEntityAccess",
                "The relationship was deleted in this transaction; its properties cannot be read",
            ));
        }
        let Some(prop) = self.property_id(key) else {
            return Ok(QValue::Null);
        };
        Ok(self
            .txn
            .edge_property(rel, prop)?
            .map(QValue::from)
            .unwrap_or(QValue::Null))
    }

    fn rel_properties(&self, rel: &EdgeRef) -> Result<BTreeMap<String, QValue>> {
        let props = self.txn.edge_properties(rel)?;
        Ok(props
            .into_iter()
            .map(|(k, v)| (self.storage.property_name(k), QValue::from(v)))
            .collect())
    }

    fn rel_type(&self, rel: &EdgeRef) -> String {
        self.storage.edge_type_name(rel.edge_type)
    }

    fn statement_time(&self) -> ZonedDateTime {
        self.now.clone()
    }
}
