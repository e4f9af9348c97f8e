//! Weft's in-process engine behind the runner's [`TckEngine`] seam.
//!
//! This is the only file that names Weft's query engine API: a fresh
//! [`weft_query::Engine`] (new, empty storage) per scenario, queries run in autocommit
//! mode. Test procedures (`And there exists a procedure ...`) cannot be registered yet,
//! so those scenarios fail with the trait's default message; side effects use the trait's
//! default snapshot (two `MATCH` queries).

use weft_query::{Engine, QueryError, QueryResult};

use crate::engine::{EngineFactory, Params, TckEngine};

/// One fresh Weft database.
#[derive(Default)]
pub struct WeftEngine {
    engine: Engine,
}

impl WeftEngine {
    /// A new, empty database.
    pub fn new() -> WeftEngine {
        WeftEngine { engine: Engine::new() }
    }
}

impl TckEngine for WeftEngine {
    fn execute(&self, query: &str, params: &Params) -> Result<QueryResult, QueryError> {
        self.engine.execute(query, params)
    }
}

/// The factory the binary uses: one new [`WeftEngine`] per scenario.
pub fn weft_factory() -> EngineFactory {
    std::sync::Arc::new(|| Box::new(WeftEngine::new()) as Box<dyn TckEngine>)
}
