//! Weft's in-process engine behind the runner's [`TckEngine`] seam.
//!
//! This is the only file that names Weft's query engine API. Until `weft_query::Engine`
//! exists, [`WeftEngine`] answers every query with a `DatabaseError` (detail
//! `EngineMissing`), so every scenario that runs a query fails and none passes by accident.
//! When it lands, replace the body with:
//!
//! ```text
//! pub struct WeftEngine { engine: weft_query::Engine }
//! new():    WeftEngine { engine: weft_query::Engine::new() }
//! execute:  self.engine.execute(query, params)
//! ```

use weft_query::{ErrorKind, QueryError, QueryResult};

use crate::engine::{EngineFactory, Params, TckEngine};

/// One fresh Weft database.
#[derive(Debug, Default)]
pub struct WeftEngine;

impl WeftEngine {
    /// A new, empty database.
    pub fn new() -> WeftEngine {
        WeftEngine
    }
}

impl TckEngine for WeftEngine {
    fn execute(&self, query: &str, params: &Params) -> Result<QueryResult, QueryError> {
        let _ = (query, params);
        let message = "weft_query::Engine is not available yet (see weft-tck/src/engine_adapter.rs)";
        Err(QueryError::runtime(ErrorKind::DatabaseError, "EngineMissing", message))
    }
}

/// The factory the binary uses: one new [`WeftEngine`] per scenario.
pub fn weft_factory() -> EngineFactory {
    std::sync::Arc::new(|| Box::new(WeftEngine::new()) as Box<dyn TckEngine>)
}
