//! Running one scenario: the steps, in order, against one fresh engine.
//!
//! Owns: the interpretation of each [`Action`] — setup queries must succeed, parameters
//! are read from TCK notation, the query under test is run after a side-effect snapshot
//! (taken only when a later step checks side effects), and every `Then` step checks the
//! last query's outcome. Error expectations match on type and phase; a different detail
//! code still passes but is reported as a [`Outcome::Passed`] note. Needs: a
//! [`TckEngine`], and the TCK folder for named graphs.

use std::path::Path;

use weft_common::Value;
use weft_query::{ErrorKind, Phase, QueryError, QueryResult};

use crate::compare::check_result;
use crate::engine::{GraphSnapshot, Params, TckEngine};
use crate::gherkin::{Scenario, Table};
use crate::side_effects::SideEffects;
use crate::steps::{classify, Action, ErrorPhase, ExpectedError};
use crate::tck_value::{parse_value, TckValue};

/// How a scenario ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Passed; `detail_mismatch` says which error detail differed, if one did.
    Passed {
        detail_mismatch: Option<String>,
    },
    Failed(String),
}

/// Runs every step of `scenario` against `engine`; `tck_dir` holds `graphs/`.
pub fn run_scenario(engine: &dyn TckEngine, scenario: &Scenario, tck_dir: &Path) -> Outcome {
    let actions: Result<Vec<Action>, String> = scenario
        .steps
        .iter()
        .map(|s| classify(s).map_err(|e| format!("line {}: {e}", s.line)))
        .collect();
    let actions = match actions {
        Ok(actions) => actions,
        Err(message) => return Outcome::Failed(message),
    };
    let mut run = Run {
        engine,
        tck_dir,
        params: Params::new(),
        last: None,
        before: None,
        needs_snapshot: actions.iter().any(Action::checks_side_effects),
        detail_mismatch: None,
    };
    for (action, step) in actions.iter().zip(&scenario.steps) {
        if let Err(message) = run.apply(action) {
            return Outcome::Failed(format!(
                "line {} `{} {}`: {message}",
                step.line, step.keyword, step.text
            ));
        }
    }
    Outcome::Passed {
        detail_mismatch: run.detail_mismatch,
    }
}

/// The state carried from step to step.
struct Run<'a> {
    engine: &'a dyn TckEngine,
    tck_dir: &'a Path,
    params: Params,
    /// Outcome of the last query under test or control query.
    last: Option<Result<QueryResult, QueryError>>,
    /// Snapshot taken right before the last query under test.
    before: Option<Result<GraphSnapshot, String>>,
    needs_snapshot: bool,
    detail_mismatch: Option<String>,
}

impl Run<'_> {
    fn apply(&mut self, action: &Action) -> Result<(), String> {
        match action {
            Action::EmptyGraph => Ok(()),
            Action::NamedGraph(name) => self.named_graph(name),
            Action::Setup(query) => self.setup(query),
            Action::Parameters(table) => self.parameters(table),
            Action::Procedure { signature, table } => self.engine.register_procedure(signature, table),
            Action::Query(query) => {
                if self.needs_snapshot {
                    self.before = Some(self.engine.snapshot());
                }
                self.last = Some(self.engine.execute(query, &self.params));
                Ok(())
            }
            Action::ControlQuery(query) => {
                self.last = Some(self.engine.execute(query, &self.params));
                Ok(())
            }
            Action::ExpectRows { table, ordering } => check_result(table, self.result()?, *ordering),
            Action::ExpectEmpty => match self.result()?.rows.len() {
                0 => Ok(()),
                n => Err(format!("expected no rows, got {n}")),
            },
            Action::ExpectError(expected) => self.expect_error(expected),
            Action::SideEffects(table) => self.side_effects(table),
        }
    }

    fn setup(&self, query: &str) -> Result<(), String> {
        match self.engine.execute(query, &self.params) {
            Ok(_) => Ok(()),
            Err(e) => Err(format!(
                "setup query failed: {} {:?}/{}: {e}",
                kind_name(e.kind),
                e.phase,
                e.detail
            )),
        }
    }

    fn named_graph(&self, name: &str) -> Result<(), String> {
        let file = self.tck_dir.join("graphs").join(name).join(format!("{name}.cypher"));
        let script = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        self.setup(script.trim().trim_end_matches(';'))
    }

    fn parameters(&mut self, table: &Table) -> Result<(), String> {
        for row in table {
            let [name, value] = row.as_slice() else {
                return Err(format!("parameter row must have two cells: {row:?}"));
            };
            self.params.insert(name.clone(), to_parameter(&parse_value(value)?)?);
        }
        Ok(())
    }

    /// The last query's result, or why there is none.
    fn result(&self) -> Result<&QueryResult, String> {
        match &self.last {
            Some(Ok(result)) => Ok(result),
            Some(Err(e)) => Err(format!(
                "query failed: {} {:?}/{}: {e}",
                kind_name(e.kind),
                e.phase,
                e.detail
            )),
            None => Err("no query was executed".to_string()),
        }
    }

    fn expect_error(&mut self, expected: &ExpectedError) -> Result<(), String> {
        let error = match &self.last {
            Some(Err(error)) => error,
            Some(Ok(result)) => {
                let rows = result.rows.len();
                return Err(format!("expected {expected}, but the query succeeded with {rows} rows"));
            }
            None => return Err("no query was executed".to_string()),
        };
        self.detail_mismatch = check_error(expected, error)?;
        Ok(())
    }

    fn side_effects(&self, table: &Table) -> Result<(), String> {
        let expected = SideEffects::from_table(table)?;
        let before = match &self.before {
            Some(Ok(before)) => before,
            Some(Err(e)) => return Err(format!("could not snapshot the graph before the query: {e}")),
            None => return Err("side effects checked before any query under test".to_string()),
        };
        let after = self
            .engine
            .snapshot()
            .map_err(|e| format!("could not snapshot the graph after the query: {e}"))?;
        SideEffects::check(expected, SideEffects::between(before, &after))
    }
}

/// The TCK's words for a phase.
fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::CompileTime => "compile time",
        Phase::Runtime => "runtime",
    }
}

/// The TCK's name for an error kind (the enum's variant name).
fn kind_name(kind: ErrorKind) -> String {
    format!("{kind:?}")
}

/// Type and phase must match (`Error` and `any time` are wildcards); a detail other than
/// the expected one (unless `*`) is returned as a note, not a failure.
pub fn check_error(expected: &ExpectedError, error: &QueryError) -> Result<Option<String>, String> {
    let actual_type = kind_name(error.kind);
    let type_matches = match expected.error_type.as_str() {
        "Error" => true,
        // Not one of our kinds: recognised by its detail code.
        "ParameterMissing" => error.detail == "MissingParameter",
        "ConstraintValidationFailed" => error.kind == ErrorKind::ConstraintVerificationFailed,
        name => name == actual_type,
    };
    let phase_matches = match expected.phase {
        ErrorPhase::AnyTime => true,
        ErrorPhase::CompileTime => error.phase == Phase::CompileTime,
        ErrorPhase::Runtime => error.phase == Phase::Runtime,
    };
    if !type_matches || !phase_matches {
        return Err(format!(
            "expected {expected}, got {actual_type} at {}: {} ({error})",
            phase_name(error.phase),
            error.detail
        ));
    }
    if expected.detail == "*" || expected.detail == error.detail {
        return Ok(None);
    }
    Ok(Some(format!(
        "expected detail {}, got {} ({error})",
        expected.detail, error.detail
    )))
}

/// Converts a parameter value; graph entities cannot be parameters.
pub fn to_parameter(value: &TckValue) -> Result<Value, String> {
    Ok(match value {
        TckValue::Null => Value::Null,
        TckValue::Bool(b) => Value::Bool(*b),
        TckValue::Int(i) => Value::Int(*i),
        TckValue::Float(x) => Value::Float(*x),
        TckValue::String(s) => Value::String(s.clone()),
        TckValue::List(items) => Value::List(items.iter().map(to_parameter).collect::<Result<_, _>>()?),
        TckValue::Map(map) => {
            let entries = map.iter().map(|(k, v)| Ok((k.clone(), to_parameter(v)?)));
            Value::Map(entries.collect::<Result<_, String>>()?)
        }
        other => return Err(format!("a parameter cannot be a graph entity: {other}")),
    })
}

#[cfg(test)]
mod tests;
