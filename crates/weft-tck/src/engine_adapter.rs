//! Weft's in-process engine behind the runner's [`TckEngine`] seam.
//!
//! This is the only file that names Weft's query engine API: a fresh
//! [`weft_query::Engine`] (new, empty storage) per scenario, queries run in autocommit
//! mode. Test procedures (`And there exists a procedure ...`) become fixed-table
//! procedures of that engine; side effects use the trait's default snapshot (two `MATCH`
//! queries).

use weft_query::{Engine, QueryError, QueryResult};

use crate::engine::{EngineFactory, Params, TckEngine};
use crate::gherkin::Table;
use crate::scenario::to_parameter;
use crate::tck_value::parse_value;

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

    fn register_procedure(&self, signature: &str, table: &Table) -> Result<(), String> {
        // The first table row names the columns (inputs, then outputs); a procedure
        // without columns has an empty header.
        let rows = table
            .iter()
            .skip(1)
            .map(|row| {
                row.iter()
                    .map(|cell| to_parameter(&parse_value(cell)?))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, String>>()?;
        let procedure = weft_query::Procedure::from_signature(signature, rows)?;
        self.engine.register_procedure(procedure);
        Ok(())
    }
}

/// The factory the binary uses: one new [`WeftEngine`] per scenario.
pub fn weft_factory() -> EngineFactory {
    std::sync::Arc::new(|| Box::new(WeftEngine::new()) as Box<dyn TckEngine>)
}
