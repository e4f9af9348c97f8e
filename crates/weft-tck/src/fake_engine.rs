//! A scripted stand-in for a Cypher engine, for the runner's own tests.
//!
//! Answers queries from a fixed table (unknown queries return no rows), applies scripted
//! graph changes to an in-memory snapshot, records the parameters it was given, and can
//! be told to panic or stall, so the runner is tested without the real engine.

use std::cell::RefCell;
use std::collections::BTreeMap;

use weft_query::{ErrorKind, QueryError, QueryResult, QueryStats, ResultValue};

use crate::engine::{GraphSnapshot, Params, TckEngine};
use crate::gherkin::Table;

/// What a scripted query does.
#[derive(Clone, Debug)]
pub enum Script {
    Rows(QueryResult),
    Fail(QueryError),
    /// Adds nodes with these ids (label `L`, property `k = id`) and returns no rows.
    CreateNodes(Vec<u64>),
    Panic,
    /// Sleeps this many milliseconds, then returns no rows.
    Stall(u64),
}

/// The fake engine.
#[derive(Default)]
pub struct FakeEngine {
    pub scripts: BTreeMap<String, Script>,
    pub graph: RefCell<GraphSnapshot>,
    pub seen_params: RefCell<Vec<Params>>,
    pub procedures: RefCell<Vec<String>>,
}

impl FakeEngine {
    /// Scripts `query`.
    pub fn on(mut self, query: &str, script: Script) -> FakeEngine {
        self.scripts.insert(query.to_string(), script);
        self
    }
}

/// A one-column result.
pub fn rows(column: &str, values: Vec<ResultValue>) -> Script {
    let rows = values.into_iter().map(|v| vec![v]).collect();
    Script::Rows(QueryResult {
        columns: vec![column.to_string()],
        rows,
        stats: QueryStats::default(),
    })
}

/// A failing query.
pub fn fail(kind: ErrorKind, compile_time: bool, detail: &'static str) -> Script {
    let error = if compile_time {
        QueryError::compile(kind, detail, "scripted failure")
    } else {
        QueryError::runtime(kind, detail, "scripted failure")
    };
    Script::Fail(error)
}

impl TckEngine for FakeEngine {
    fn execute(&self, query: &str, params: &Params) -> Result<QueryResult, QueryError> {
        self.seen_params.borrow_mut().push(params.clone());
        match self.scripts.get(query) {
            Some(Script::Rows(result)) => Ok(result.clone()),
            Some(Script::Fail(error)) => Err(error.clone()),
            Some(Script::CreateNodes(ids)) => {
                let mut graph = self.graph.borrow_mut();
                for &id in ids {
                    let properties = BTreeMap::from([("k".to_string(), ResultValue::Int(id as i64))]);
                    graph.add_node(id, &["L".to_string()], &properties);
                }
                Ok(QueryResult::default())
            }
            Some(Script::Panic) => panic!("scripted panic"),
            Some(Script::Stall(millis)) => {
                std::thread::sleep(std::time::Duration::from_millis(*millis));
                Ok(QueryResult::default())
            }
            None => Ok(QueryResult::default()),
        }
    }

    fn register_procedure(&self, signature: &str, _table: &Table) -> Result<(), String> {
        self.procedures.borrow_mut().push(signature.to_string());
        Ok(())
    }

    fn snapshot(&self) -> Result<GraphSnapshot, String> {
        Ok(self.graph.borrow().clone())
    }
}
