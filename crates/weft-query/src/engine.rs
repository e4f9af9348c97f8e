//! The engine: runs one statement end to end (parse, plan, execute, materialise the
//! result) in an autocommit transaction or in a caller's explicit transaction, and runs
//! admin statements (indexes, constraints, introspection, and the commands other layers
//! register).
//!
//! Parsed statements are cached by text, plans by text and parameter names. A cached plan
//! runs only while the storage statistics it was built from are unchanged (otherwise the
//! query is planned again), so caching never changes which plan a query gets.

use crate::admin::{AdminArgs, AdminCommand, AdminRegistry};
use crate::ast::{ConstraintTarget, IndexTarget, Statement};
use crate::error::{ErrorKind, QueryError, Result};
use crate::exec::cursor::Cursor;
use crate::exec::explain::describe_plan;
use crate::exec::ExecCtx;
use crate::graph::local::{AccessMode, LocalGraph, Txn, TxnHandle};
use crate::plan::{Plan, Planner};
use crate::procedures::{Procedure, Registry};
use crate::result::{QueryResult, QueryStats, ResultValue};
use crate::slot::{ReplaceError, StorageSlot};
use crate::value::QValue;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use weft_common::Value;
use weft_storage::{ConstraintInfo, IndexInfo, Storage};

/// One database: a storage and the means to query it.
#[derive(Clone, Default)]
pub struct Engine {
    /// Replaced whole by [`Engine::replace_storage`]; shared by clones.
    pub(crate) storage: Arc<StorageSlot>,
    parsed: Arc<Mutex<HashMap<String, Arc<Statement>>>>,
    plans: Arc<Mutex<HashMap<String, Arc<Plan>>>>,
    procedures: Arc<Registry>,
    query_timeout: Option<Duration>,
    /// Threads one large label scan may use (shared by clones; see `set_scan_threads`).
    scan_threads: Arc<std::sync::atomic::AtomicUsize>,
    admin: Arc<AdminRegistry>,
    pub(crate) read_only: Arc<crate::graph::access::ReadOnlySwitch>,
    /// The only directory LOAD CSV reads from (unset: LOAD CSV is refused); shared by
    /// clones, set once.
    import_dir: Arc<std::sync::OnceLock<Arc<std::path::Path>>>,
    /// The files LOAD CSV statements are reading now.
    imports: Arc<crate::exec::load_csv::Imports>,
}

/// Parsed statements kept by query text (parameters are bound at run time, so one entry
/// serves every execution of a parameterised query); plans likewise, per text and
/// parameter names.
const PARSE_CACHE_ENTRIES: usize = 1024;

/// Statements longer than this are not cached: long texts (bulk loads with inline data)
/// rarely repeat, and their syntax trees are large.
const PARSE_CACHE_MAX_QUERY_BYTES: usize = 4096;

impl Engine {
    /// An engine over a new, empty storage.
    pub fn new() -> Self {
        Self::with_storage(Storage::new())
    }

    /// An engine over an existing storage.
    pub fn with_storage(storage: Storage) -> Self {
        Engine {
            storage: Arc::new(StorageSlot::new(storage)),
            parsed: Arc::default(),
            plans: Arc::default(),
            procedures: Arc::default(),
            query_timeout: None,
            scan_threads: Arc::new(std::sync::atomic::AtomicUsize::new(1)),
            admin: Arc::default(),
            read_only: Arc::default(),
            import_dir: Arc::default(),
            imports: Arc::default(),
        }
    }

    /// Lets LOAD CSV read files inside `dir`, and nowhere else, for this engine and its
    /// clones. Only the first call counts: it returns `false` when one came before.
    pub fn set_import_dir(&self, dir: std::path::PathBuf) -> bool {
        self.import_dir.set(Arc::from(dir)).is_ok()
    }

    /// Stops any statement that runs longer than `timeout` (`None`: no limit) with a
    /// `TransactionTimedOut` error; the time counts from the statement's start.
    pub fn with_query_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.query_timeout = timeout;
        self
    }

    /// Lets up to `threads` threads share one large label scan (default 1), for this
    /// engine and its clones: a server passes its query worker count.
    pub fn set_scan_threads(&self, threads: usize) {
        self.scan_threads
            .store(threads.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    /// Registers (or replaces) a procedure for `CALL`.
    pub fn register_procedure(&self, procedure: Procedure) {
        self.procedures.register(procedure);
        // Plans hold the procedures they call.
        if let Ok(mut plans) = self.plans.lock() {
            plans.clear();
        }
    }

    /// Registers (or replaces) an admin command: from now on statements starting with its
    /// keywords run it.
    pub fn register_admin(&self, command: AdminCommand) {
        self.admin.register(command);
        // Texts parsed before may now read as the command.
        if let Ok(mut parsed) = self.parsed.lock() {
            parsed.clear();
        }
    }

    /// The parsed statement for `query`, from the cache when it was seen before.
    pub(crate) fn parse(&self, query: &str) -> Result<Arc<Statement>> {
        if let Some(hit) = self.parsed.lock().ok().and_then(|c| c.get(query).cloned()) {
            return Ok(hit);
        }
        let statement = Arc::new(crate::parser::parse_with(query, &self.admin.keywords())?);
        if query.len() > PARSE_CACHE_MAX_QUERY_BYTES {
            return Ok(statement);
        }
        if let Ok(mut cache) = self.parsed.lock() {
            if cache.len() >= PARSE_CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(query.to_owned(), statement.clone());
        }
        Ok(statement)
    }

    /// The storage statements start on now.
    pub fn storage(&self) -> Storage {
        self.storage.current()
    }

    /// Replaces the storage while the engine runs (a member installing a snapshot from
    /// its leader): no transaction or schema change starts meanwhile, the running ones
    /// are waited for up to `wait`, then what `install` returns (given the old storage)
    /// becomes current; statements that start afterwards run on it. When transactions
    /// are still running after `wait`, nothing changes and the error says how many.
    pub fn replace_storage<E>(
        &self,
        wait: Duration,
        install: impl FnOnce(&Storage) -> std::result::Result<Storage, E>,
    ) -> std::result::Result<Storage, ReplaceError<E>> {
        let new = self.storage.replace(wait, install)?;
        // The plans were made against the old statistics; the parsed texts still hold.
        if let Ok(mut plans) = self.plans.lock() {
            plans.clear();
        }
        Ok(new)
    }

    /// Runs one statement in its own transaction, committed on success.
    pub fn execute(&self, query: &str, params: &BTreeMap<String, Value>) -> Result<QueryResult> {
        let statement = self.parse(query)?;
        self.refuse_schema_write(&statement)?;
        if let Some(result) = self.admin(&statement)? {
            return Ok(result);
        }
        let mut txn = self.begin(AccessMode::ReadWrite);
        let result = self.run(query, &statement, params, &mut txn, true)?;
        txn.commit()?;
        Ok(result)
    }

    /// Runs one statement inside a caller's transaction (explicit transactions); admin
    /// statements are refused there.
    pub fn execute_in(&self, txn: &mut Txn, query: &str, params: &BTreeMap<String, Value>) -> Result<QueryResult> {
        let statement = self.parse(query)?;
        refuse_admin(&statement)?;
        self.run(query, &statement, params, txn, false)
    }

    /// Starts a statement inside a caller's transaction and returns a cursor to pull its
    /// rows from (admin statements are refused, as in [`Engine::execute_in`]).
    pub fn cursor<'t>(&self, txn: &'t mut Txn, query: &str, params: &BTreeMap<String, Value>) -> Result<Cursor<'t>> {
        let statement = self.parse(query)?;
        refuse_admin(&statement)?;
        self.start_statement(query, &statement, params, TxnHandle::Borrowed(txn), false)
    }

    /// Starts one statement in a transaction of its own (autocommit), which the returned
    /// cursor owns: [`Cursor::close`] hands it back for the caller to commit once the rows
    /// are pulled. Admin statements run to completion here and own no transaction.
    pub fn start(&self, query: &str, params: &BTreeMap<String, Value>) -> Result<Cursor<'static>> {
        self.start_as(AccessMode::ReadWrite, query, params)
    }

    /// As [`Engine::start`], in a transaction of `mode`: a read-only one refuses writes
    /// (a driver's read session).
    pub fn start_as(&self, mode: AccessMode, query: &str, params: &BTreeMap<String, Value>) -> Result<Cursor<'static>> {
        let statement = self.parse(query)?;
        self.refuse_schema_write(&statement)?;
        if let Some(result) = self.admin(&statement)? {
            return Ok(Cursor::ready(result, None));
        }
        let txn = self.begin(mode);
        self.start_statement(query, &statement, params, TxnHandle::Owned(Box::new(txn)), true)
    }

    /// Starts a statement in an explicit transaction that the returned cursor takes over
    /// until [`Cursor::close`] gives it back. On an error the transaction is rolled back,
    /// as a failed statement ends its transaction. Admin statements are refused.
    pub fn start_in(&self, txn: Txn, query: &str, params: &BTreeMap<String, Value>) -> Result<Cursor<'static>> {
        let statement = self.parse(query)?;
        refuse_admin(&statement)?;
        self.start_statement(query, &statement, params, TxnHandle::Owned(Box::new(txn)), false)
    }

    fn run(
        &self,
        query: &str,
        statement: &Statement,
        params: &BTreeMap<String, Value>,
        txn: &mut Txn,
        own: bool,
    ) -> Result<QueryResult> {
        self.start_statement(query, statement, params, TxnHandle::Borrowed(txn), own)?
            .collect()
    }

    /// A fresh plan for `query`: a copy of the cached one when it still fits the storage
    /// statistics, else a new one (cached for next time).
    fn plan(
        &self,
        storage: &Storage,
        text: &str,
        query: &crate::ast::Query,
        params: &BTreeMap<String, Value>,
    ) -> Result<Plan> {
        let mut key = String::with_capacity(text.len() + 16);
        key.push_str(text);
        for name in params.keys() {
            key.push('\0');
            key.push_str(name);
        }
        let cached = self.plans.lock().ok().and_then(|c| c.get(&key).cloned());
        if let Some(plan) = cached.filter(|p| p.still_fits(storage)) {
            return Ok(plan.as_ref().clone());
        }
        let param_names = params.keys().cloned().collect();
        crate::semantic::analyze(query, &param_names)?;
        let plan = Planner::new(storage, &self.procedures, param_names).plan(query)?;
        if text.len() <= PARSE_CACHE_MAX_QUERY_BYTES {
            if let Ok(mut cache) = self.plans.lock() {
                if cache.len() >= PARSE_CACHE_ENTRIES {
                    cache.clear();
                }
                cache.insert(key, Arc::new(plan.clone()));
            }
        }
        Ok(plan)
    }

    fn start_statement<'t>(
        &self,
        query_text: &str,
        statement: &Statement,
        params: &BTreeMap<String, Value>,
        txn: TxnHandle<'t>,
        own_transaction: bool,
    ) -> Result<Cursor<'t>> {
        let (query, mode) = match statement {
            Statement::Query(q) => (q, Mode::Run),
            Statement::Explain(inner) => match inner.as_ref() {
                Statement::Query(q) => (q, Mode::Explain),
                _ => return Err(admin_not_plannable()),
            },
            Statement::Profile(inner) => match inner.as_ref() {
                Statement::Query(q) => (q, Mode::Profile),
                _ => return Err(admin_not_plannable()),
            },
            _ => return Err(admin_not_plannable()),
        };
        // A write where writes are refused fails before planning: nothing runs, nothing
        // is written, whether or not a row would have reached the update.
        let refusal = self.write_refusal(txn.mode());
        if let Some(error) = refusal
            .clone()
            .filter(|_| mode != Mode::Explain && crate::graph::access::updates(query))
        {
            return Err(error);
        }
        let storage = txn.storage();
        let mut plan = self.plan(&storage, query_text, query, params)?;
        if mode == Mode::Explain {
            let (rows, tree) = describe_plan(&plan.root, &storage, false);
            return Ok(Cursor::planned(rows, tree, Some(txn)));
        }
        if plan.batched && !own_transaction {
            return Err(crate::exec::batches_refused());
        }
        let params = params
            .iter()
            .map(|(k, v)| (k.clone(), QValue::from(v.clone())))
            .collect();
        let deadline = self.query_timeout.map(|timeout| Instant::now() + timeout);
        let terminator = txn.terminator();
        let graph = LocalGraph::new(storage.clone(), txn);
        let mut ctx = ExecCtx::new(graph, params)
            .with_deadline(deadline)
            .with_terminator(terminator)
            .with_scan_threads(self.scan_threads.load(std::sync::atomic::Ordering::Relaxed))
            .with_import_dir(self.import_dir.get().cloned())
            .with_imports(self.imports.clone())
            .with_procedures(self.procedures.clone())
            .in_own_transaction(own_transaction, self.query_timeout)
            .refusing_writes(refusal);
        if mode == Mode::Profile {
            plan.root.time_all();
            while plan.root.next(&mut ctx)?.is_some() {}
            plan.root.finish_writes(&mut ctx)?;
            let (rows, tree) = describe_plan(&plan.root, &storage, true);
            return Ok(Cursor::planned(rows, tree, Some(ctx.into_graph().into_txn())));
        }
        Ok(Cursor::running(plan, ctx))
    }

    /// Runs an admin statement; `None` for anything else.
    pub(crate) fn admin(&self, statement: &Statement) -> Result<Option<QueryResult>> {
        // A schema change passes the storage's gate like a transaction: a replacement
        // waits for it to finish.
        let ddl = matches!(
            statement,
            Statement::CreateIndex(_)
                | Statement::DropIndex(_)
                | Statement::CreateConstraint(_)
                | Statement::DropConstraint(_)
        );
        let entry = ddl.then(|| self.storage.enter());
        let s = &entry.as_ref().map_or_else(|| self.storage(), |e| e.storage.clone());
        let mut stats = QueryStats::default();
        let done = |stats| {
            Ok(Some(QueryResult {
                stats,
                ..QueryResult::default()
            }))
        };
        match statement {
            Statement::CreateIndex(t) => {
                match t {
                    IndexTarget::Label { label } => s.create_label_index(label)?,
                    IndexTarget::LabelProperty { label, property } => s.create_label_property_index(label, property)?,
                    IndexTarget::EdgeType { edge_type } => s.create_edge_type_index(edge_type)?,
                };
                stats.indexes_added = 1;
                done(stats)
            }
            Statement::DropIndex(t) => {
                match t {
                    IndexTarget::Label { label } => s.drop_label_index(label)?,
                    IndexTarget::LabelProperty { label, property } => s.drop_label_property_index(label, property)?,
                    IndexTarget::EdgeType { edge_type } => s.drop_edge_type_index(edge_type)?,
                };
                stats.indexes_removed = 1;
                done(stats)
            }
            Statement::CreateConstraint(c) => {
                match c {
                    ConstraintTarget::Exists { label, property } => s.create_existence_constraint(label, property)?,
                    ConstraintTarget::Unique { label, properties } => {
                        let props: Vec<&str> = properties.iter().map(String::as_str).collect();
                        s.create_unique_constraint(label, &props)?
                    }
                };
                stats.constraints_added = 1;
                done(stats)
            }
            Statement::DropConstraint(c) => {
                match c {
                    ConstraintTarget::Exists { label, property } => s.drop_existence_constraint(label, property)?,
                    ConstraintTarget::Unique { label, properties } => {
                        let props: Vec<&str> = properties.iter().map(String::as_str).collect();
                        s.drop_unique_constraint(label, &props)?
                    }
                };
                stats.constraints_removed = 1;
                done(stats)
            }
            Statement::ShowIndexInfo => Ok(Some(self.index_info())),
            Statement::ShowConstraintInfo => Ok(Some(self.constraint_info())),
            Statement::Admin(call) => {
                let command = self.admin_command(&call.command)?;
                (command.run)(self, &mut AdminArgs::new(call)).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// The registered command `key` names.
    pub(crate) fn admin_command(&self, key: &str) -> Result<AdminCommand> {
        self.admin.get(key).ok_or_else(|| {
            let message = format!("'{key}' is not available on this instance");
            QueryError::compile(ErrorKind::SemanticError, "UnknownCommand", message)
        })
    }

    fn index_info(&self) -> QueryResult {
        let text = |v: &str| ResultValue::String(v.to_owned());
        let rows = self
            .storage()
            .index_info()
            .into_iter()
            .map(|i| match i {
                IndexInfo::Label(l) => vec![text("label"), text(&l), ResultValue::Null],
                IndexInfo::LabelProperty(l, p) => vec![text("label+property"), text(&l), text(&p)],
                IndexInfo::EdgeType(t) => vec![text("edge-type"), text(&t), ResultValue::Null],
            })
            .collect();
        QueryResult {
            columns: vec!["index type".into(), "label".into(), "property".into()],
            rows,
            ..Default::default()
        }
    }

    fn constraint_info(&self) -> QueryResult {
        let text = |v: &str| ResultValue::String(v.to_owned());
        let rows = self
            .storage()
            .constraint_info()
            .into_iter()
            .map(|c| match c {
                ConstraintInfo::Exists(l, p) => vec![text("exists"), text(&l), text(&p)],
                ConstraintInfo::Unique(l, ps) => {
                    vec![
                        text("unique"),
                        text(&l),
                        ResultValue::List(ps.iter().map(|p| text(p)).collect()),
                    ]
                }
            })
            .collect();
        QueryResult {
            columns: vec!["constraint type".into(), "label".into(), "properties".into()],
            rows,
            ..Default::default()
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Run,
    Explain,
    Profile,
}

fn is_admin(s: &Statement) -> bool {
    !matches!(s, Statement::Query(_) | Statement::Explain(_) | Statement::Profile(_))
}

/// Admin statements never run inside a caller's storage transaction: a server collects
/// an explicit transaction's schema changes for its commit (see `schema_txn`).
fn refuse_admin(statement: &Statement) -> Result<()> {
    if is_admin(statement) {
        return Err(QueryError::runtime(
            ErrorKind::SemanticError,
            "SchemaInTransaction",
            "Index, constraint and admin statements cannot run inside a storage transaction",
        ));
    }
    Ok(())
}

fn admin_not_plannable() -> QueryError {
    QueryError::compile(
        ErrorKind::SemanticError,
        "NotPlannable",
        "EXPLAIN and PROFILE apply to queries only",
    )
}
