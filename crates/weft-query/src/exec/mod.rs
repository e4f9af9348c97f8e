//! The execution context shared by operators and expressions: the graph (any
//! [`GraphRead`]/[`GraphWrite`]; the executor is generic over it), the parameters, the
//! statement clock and the write statistics, plus graph reads in the query's terms (names,
//! runtime values). Every write goes through [`ExecCtx::graph_mut`], which refuses it when
//! the statement may not write (read-only engine or transaction) and forgets the label
//! checks remembered since the last write.

pub(crate) mod column_filter;
pub(crate) mod column_sort;
pub(crate) mod columns;
pub(crate) mod columns_expand;
pub(crate) mod cursor;
pub(crate) mod eager;
pub(crate) mod explain;
pub(crate) mod load_csv;
pub(crate) mod materialise;
pub(crate) mod pattern;
pub(crate) mod pipeline;
pub(crate) mod row;
pub(crate) mod shortest;
pub(crate) mod subquery;
pub(crate) mod virtuals;
pub(crate) mod write;

use crate::error::{ErrorKind, QueryError, Result};
use crate::graph::{EdgeRef, EdgeTypeId, Gid, GraphContext, GraphRead, GraphWrite, LabelId};
use crate::result::QueryStats;
use crate::value::QValue;
use std::collections::BTreeMap;
use std::time::Instant;
use weft_common::temporal::ZonedDateTime;
use weft_common::PropertyId;

/// How many operator steps pass between two looks at the clock.
const DEADLINE_CHECK_EVERY: u32 = 1024;

/// At most this many label checks are remembered per statement.
const LABEL_MEMO_ENTRIES: usize = 1 << 16;

/// Property names a statement remembers the ids of (looked up by a linear scan).
const PROPERTY_ID_MEMO_ENTRIES: usize = 16;

/// The error of `CALL { } IN TRANSACTIONS` in a transaction the client opened: the
/// engine gives it before the statement runs, and a batch commit checks again.
pub(crate) fn batches_refused() -> QueryError {
    QueryError::compile(
        ErrorKind::SemanticError,
        "ForbiddenDueToTransactionType",
        "A query with 'CALL { ... } IN TRANSACTIONS' can only run as an auto-commit query \
         (session.run), not inside an explicit or managed transaction",
    )
}

/// Everything a running statement needs.
pub struct ExecCtx<G> {
    graph: G,
    params: BTreeMap<String, QValue>,
    pub stats: QueryStats,
    now: ZonedDateTime,
    deadline: Option<Instant>,
    /// The transaction's terminate flag, checked with the deadline.
    terminated: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    steps: std::cell::Cell<u32>,
    /// Whether a node has a label, as seen since the statement last wrote: a traversal
    /// meets the same well-connected nodes again and again, and each storage check takes
    /// the node's lock. Any write access to the transaction forgets it all.
    label_memo: std::cell::RefCell<crate::exec::row::FastMap<(Gid, LabelId), bool>>,
    /// Property ids by name, as found so far: a scan reads the same few keys on every row,
    /// and each storage lookup takes the name table's lock. Only found ids are kept (an
    /// id never changes once a name has one); a name not yet known is asked again.
    property_ids: std::cell::RefCell<Vec<(Box<str>, PropertyId)>>,
    /// How many times the statement has taken the transaction for writing: what was
    /// checked at one generation holds while it stays the same.
    write_generation: u64,
    /// Why the statement may not write, if it may not.
    refuse_writes: Option<Box<QueryError>>,
    /// Threads that may share one large label scan.
    scan_threads: usize,
    /// Where LOAD CSV may read files from (`None`: it may not).
    import_dir: Option<std::sync::Arc<std::path::Path>>,
    /// The engine's list of files being read, which LOAD CSV adds to.
    imports: Option<std::sync::Arc<load_csv::Imports>>,
    /// The engine's procedures (SHOW PROCEDURES lists them).
    procedures: Option<std::sync::Arc<crate::procedures::Registry>>,
    /// Whether the statement runs in a transaction of its own, so that
    /// `CALL { } IN TRANSACTIONS` may commit it in batches.
    own_transaction: bool,
    /// The query timeout, which each committed batch starts again (an import in
    /// batches may run as long as each batch keeps within it).
    batch_timeout: Option<std::time::Duration>,
    /// Nodes and relationships procedures made up for their answers.
    virtuals: std::cell::RefCell<virtuals::Virtuals>,
}

impl<G: GraphRead> ExecCtx<G> {
    /// Stored properties by name, as runtime values.
    fn named(&self, props: impl IntoIterator<Item = (PropertyId, weft_common::Value)>) -> BTreeMap<String, QValue> {
        props
            .into_iter()
            .map(|(k, v)| (self.graph.property_name(k), QValue::from(v)))
            .collect()
    }

    pub fn new(graph: G, params: BTreeMap<String, QValue>) -> Self {
        ExecCtx {
            graph,
            params,
            stats: QueryStats::default(),
            now: ZonedDateTime::now_utc(),
            deadline: None,
            terminated: None,
            steps: std::cell::Cell::new(0),
            label_memo: Default::default(),
            property_ids: Default::default(),
            write_generation: 0,
            refuse_writes: None,
            scan_threads: 1,
            import_dir: None,
            imports: None,
            procedures: None,
            own_transaction: false,
            batch_timeout: None,
            virtuals: Default::default(),
        }
    }

    /// Lets LOAD CSV read files from `dir` (and from nowhere else).
    pub fn with_import_dir(mut self, dir: Option<std::sync::Arc<std::path::Path>>) -> Self {
        self.import_dir = dir;
        self
    }

    /// Where LOAD CSV may read files from.
    pub fn import_dir(&self) -> Option<&std::path::Path> {
        self.import_dir.as_deref()
    }

    /// Reports LOAD CSV's progress to `imports` (the engine's list).
    pub fn with_imports(mut self, imports: std::sync::Arc<load_csv::Imports>) -> Self {
        self.imports = Some(imports);
        self
    }

    /// Lists the engine's procedures as `procedures` (for SHOW PROCEDURES).
    pub fn with_procedures(mut self, procedures: std::sync::Arc<crate::procedures::Registry>) -> Self {
        self.procedures = Some(procedures);
        self
    }

    /// The engine's procedures (none for a statement run outside an engine).
    pub fn procedures(&self) -> Vec<std::sync::Arc<crate::procedures::Procedure>> {
        self.procedures.as_ref().map(|r| r.all()).unwrap_or_default()
    }

    /// The statement's virtual nodes and relationships (see `exec/virtuals.rs`).
    pub fn virtuals(&self) -> std::cell::RefMut<'_, virtuals::Virtuals> {
        self.virtuals.borrow_mut()
    }

    /// The files LOAD CSV is reading now, in this engine (an empty list outside one).
    pub fn imports(&self) -> std::sync::Arc<load_csv::Imports> {
        self.imports.clone().unwrap_or_default()
    }

    /// Marks the statement as running in a transaction of its own (autocommit), which it
    /// may commit in batches, each given `timeout` anew.
    pub fn in_own_transaction(mut self, own: bool, timeout: Option<std::time::Duration>) -> Self {
        self.own_transaction = own;
        self.batch_timeout = timeout;
        self
    }

    /// Lets up to `threads` threads share one large label scan.
    pub fn with_scan_threads(mut self, threads: usize) -> Self {
        self.scan_threads = threads.max(1);
        self
    }

    /// Threads that may share one large label scan.
    pub fn scan_threads(&self) -> usize {
        self.scan_threads
    }

    /// The id of property `key`, if any object ever had it.
    fn property_id(&self, key: &str) -> Option<PropertyId> {
        if let Some((_, id)) = self.property_ids.borrow().iter().find(|(name, _)| &**name == key) {
            return Some(*id);
        }
        let id = self.graph.find_property(key)?;
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
        if self
            .terminated
            .as_ref()
            .is_some_and(|t| t.load(std::sync::atomic::Ordering::Relaxed))
        {
            return Err(QueryError::terminated());
        }
        match self.deadline {
            Some(deadline) if Instant::now() >= deadline => Err(QueryError::timed_out()),
            _ => Ok(()),
        }
    }

    /// Stops the statement with `TransactionTerminated` once `flag` is set.
    pub fn with_terminator(mut self, flag: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Self {
        self.terminated = Some(flag);
        self
    }

    /// Refuses every write of the statement with `error` (`None`: writes allowed).
    pub fn refusing_writes(mut self, error: Option<QueryError>) -> Self {
        self.refuse_writes = error.map(Box::new);
        self
    }

    /// Gives the graph back when the statement ends.
    pub fn into_graph(self) -> G {
        self.graph
    }

    /// The graph, for reads.
    pub fn graph(&self) -> &G {
        &self.graph
    }

    /// Graph accesses the statement has made so far (PROFILE's db hits).
    pub fn db_hits(&self) -> u64 {
        self.graph.hits()
    }

    /// Changes whenever the statement may have written (see [`ExecCtx::graph_mut`]).
    pub fn write_generation(&self) -> u64 {
        self.write_generation
    }

    /// Whether the node exists and has every one of `labels`.
    pub fn has_labels(&self, node: Gid, labels: &[LabelId]) -> bool {
        let [label] = labels else {
            return self.graph.vertex_has_labels(node, labels);
        };
        if let Some(has) = self.graph.settled_has_label(node, *label) {
            return has;
        }
        let mut memo = self.label_memo.borrow_mut();
        if let Some(known) = memo.get(&(node, *label)) {
            return *known;
        }
        let has = self.graph.vertex_has_labels(node, labels);
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
        names.iter().filter_map(|n| self.graph.find_edge_type(n)).collect()
    }

    /// Candidates from a label+property index on one of `labels`, if such an index exists.
    pub fn index_lookup(&self, labels: &[String], key: &str, value: &QValue) -> Option<Vec<Gid>> {
        let prop = self.property_id(key)?;
        let value = value.to_value()?;
        labels
            .iter()
            .find_map(|l| self.graph.index_lookup(self.graph.find_label(l)?, prop, &value))
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
        let prop = self.graph.find_property(key)?;
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
            let label = self.graph.find_label(l)?;
            self.graph.index_range(label, prop, lo.as_ref(), hi.as_ref())
        })
    }

    /// The ids of `labels`, or `None` when one of the names was never used.
    pub fn label_ids(&self, labels: &[String]) -> Option<Vec<LabelId>> {
        labels.iter().map(|l| self.graph.find_label(l)).collect()
    }

    /// Nodes with the rarest of `labels` (the caller checks the others).
    pub fn label_scan(&self, labels: &[String]) -> Vec<Gid> {
        let Some(ids) = self.label_ids(labels) else {
            return Vec::new();
        };
        match ids.iter().min_by_key(|l| self.graph.approx_label_count(**l)) {
            Some(l) => self.graph.vertices_with_label(*l),
            None => Vec::new(),
        }
    }

    /// Nodes with an outgoing relationship of one of `types` (unknown names match nothing).
    pub fn source_scan(&self, types: &[String]) -> Vec<Gid> {
        match self.edge_type_ids(types) {
            ids if ids.is_empty() => Vec::new(),
            ids => self.graph.vertices_with_out_type(&ids),
        }
    }

    /// `value.key`: map entries, node and relationship properties; null stays null.
    pub fn property(&self, value: &QValue, key: &str) -> Result<QValue> {
        match value {
            QValue::Null => Ok(QValue::Null),
            QValue::Map(m) => Ok(m.get(key).cloned().unwrap_or(QValue::Null)),
            QValue::Node(n) => self.node_property(*n, key),
            QValue::Relationship(r) => self.rel_property(r, key),
            other => crate::expr::ops::property(other, key, self),
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

impl<G: GraphWrite> ExecCtx<G> {
    /// The graph, for writes: refused when the statement may not write. Forgets the
    /// label checks remembered so far (the write may change them).
    pub fn graph_mut(&mut self) -> Result<&mut G> {
        if let Some(error) = &self.refuse_writes {
            return Err(error.as_ref().clone());
        }
        self.label_memo.get_mut().clear();
        self.write_generation += 1;
        Ok(&mut self.graph)
    }

    /// Commits the statement's writes so far and goes on in a new transaction
    /// (`CALL { } IN TRANSACTIONS`); refused inside a transaction the client opened.
    pub fn commit_batch(&mut self) -> Result<()> {
        if !self.own_transaction {
            return Err(batches_refused());
        }
        // What was checked in the old transaction may differ in the new one.
        self.label_memo.get_mut().clear();
        self.write_generation += 1;
        self.graph.commit_batch()?;
        if let Some(timeout) = self.batch_timeout {
            self.deadline = Some(Instant::now() + timeout);
        }
        Ok(())
    }
}

impl<G: GraphRead> GraphContext for ExecCtx<G> {
    fn node_labels(&self, node: Gid) -> Result<Vec<String>> {
        if let Some((labels, _)) = self.virtuals.borrow().find_node(node) {
            return Ok(labels.clone());
        }
        Ok(self
            .graph
            .vertex_labels(node)?
            .into_iter()
            .map(|l| self.graph.label_name(l))
            .collect())
    }

    fn node_property(&self, node: Gid, key: &str) -> Result<QValue> {
        if let Some((_, props)) = self.virtuals.borrow().find_node(node) {
            return Ok(props.get(key).cloned().unwrap_or(QValue::Null));
        }
        let Some(prop) = self.property_id(key) else {
            // Still fail for a deleted node, as other property reads do.
            self.graph.vertex_labels(node)?;
            return Ok(QValue::Null);
        };
        Ok(self
            .graph
            .vertex_property(node, prop)?
            .map(QValue::from)
            .unwrap_or(QValue::Null))
    }

    fn node_properties(&self, node: Gid) -> Result<BTreeMap<String, QValue>> {
        if let Some((_, props)) = self.virtuals.borrow().find_node(node) {
            return Ok(props.clone());
        }
        let props = self.graph.vertex_properties(node)?;
        Ok(self.named(props))
    }

    fn rel_property(&self, rel: &EdgeRef, key: &str) -> Result<QValue> {
        if let Some((_, props)) = self.virtuals.borrow().find_relationship(rel) {
            return Ok(props.get(key).cloned().unwrap_or(QValue::Null));
        }
        // Storage still shows a deleted relationship's properties to the transaction
        // that deleted it; only a statement that deleted relationships pays the check.
        if self.stats.relationships_deleted > 0 && !self.graph.edge_exists(rel) {
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
            .graph
            .edge_property(rel, prop)?
            .map(QValue::from)
            .unwrap_or(QValue::Null))
    }

    fn rel_properties(&self, rel: &EdgeRef) -> Result<BTreeMap<String, QValue>> {
        if let Some((_, props)) = self.virtuals.borrow().find_relationship(rel) {
            return Ok(props.clone());
        }
        let props = self.graph.edge_properties(rel)?;
        Ok(self.named(props))
    }

    fn rel_type(&self, rel: &EdgeRef) -> String {
        if let Some((rel_type, _)) = self.virtuals.borrow().find_relationship(rel) {
            return rel_type.clone();
        }
        self.graph.edge_type_name(rel.edge_type)
    }

    fn statement_time(&self) -> ZonedDateTime {
        self.now.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::ExecCtx;
    use crate::error::{ErrorKind, QueryError};
    use crate::graph::local::{AccessMode, LocalGraph, Txn, TxnHandle};
    use crate::graph::{GraphRead, GraphWrite};
    use std::collections::BTreeMap;

    #[test]
    fn a_statement_refusing_writes_refuses_every_write_call_and_still_reads() {
        // Set up: a context over an empty local graph that may not write.
        let storage = crate::Engine::new().storage().clone();
        let txn = Txn::begin(&storage, AccessMode::ReadWrite, Default::default());
        let graph = LocalGraph::new(storage, TxnHandle::Owned(Box::new(txn)));
        let refusal = QueryError::runtime(ErrorKind::ReadOnly, "AccessMode", "no");
        let mut ctx = ExecCtx::new(graph, BTreeMap::new()).refusing_writes(Some(refusal.clone()));

        // Act
        let write = ctx.graph_mut().and_then(|g| g.create_vertex());

        // Check: refused without a write; reads go on.
        assert_eq!(write, Err(refusal));
        assert_eq!(ctx.write_generation(), 0);
        assert!(ctx.graph().all_vertices().is_empty());
    }
}
