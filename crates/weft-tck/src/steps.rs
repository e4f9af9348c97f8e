//! The TCK's step vocabulary: step text to a typed [`Action`].
//!
//! Owns: recognising each step form the TCK uses (`Given an empty graph`, `When executing
//! query:`, `Then a TypeError should be raised at runtime: ...`, ...) and checking that the
//! doc string or table it needs is there. Promises: an unknown or malformed step is an
//! error naming the step, so the scenario fails visibly instead of passing by accident.
//! Needs: steps from [`crate::gherkin`].

use crate::compare::Ordering;
use crate::gherkin::{Step, Table};

/// When the expected error must be detected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorPhase {
    CompileTime,
    Runtime,
    AnyTime,
}

/// An expected error: TCK type (`SyntaxError`, ..., or `Error` for any), phase, detail
/// code (`*` for any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedError {
    pub error_type: String,
    pub phase: ErrorPhase,
    pub detail: String,
}

/// `SyntaxError at compile time: UndefinedVariable`, as the step writes it.
impl std::fmt::Display for ExpectedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let phase = match self.phase {
            ErrorPhase::CompileTime => "compile time",
            ErrorPhase::Runtime => "runtime",
            ErrorPhase::AnyTime => "any time",
        };
        write!(f, "{} at {phase}: {}", self.error_type, self.detail)
    }
}

/// What a step asks the runner to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// `Given an empty graph` / `Given any graph`: the fresh engine is already empty.
    EmptyGraph,
    /// `Given the <name> graph`: run `graphs/<name>/<name>.cypher`.
    NamedGraph(String),
    /// `And having executed:`: a setup query that must succeed.
    Setup(String),
    /// `And parameters are:`: `name | value` rows.
    Parameters(Table),
    /// `And there exists a procedure <signature>:` with its table.
    Procedure { signature: String, table: Table },
    /// `When executing query:`: the query under test.
    Query(String),
    /// `When executing control query:`: a follow-up read, no side-effect snapshot.
    ControlQuery(String),
    /// `Then the result should be ...:` with the expected table.
    ExpectRows { table: Table, ordering: Ordering },
    /// `Then the result should be empty`.
    ExpectEmpty,
    /// `Then a <Type> should be raised at <phase>: <Detail>`.
    ExpectError(ExpectedError),
    /// `And no side effects` (an empty table) or `And the side effects should be:`.
    SideEffects(Table),
}

impl Action {
    /// Whether this step reads the side-effect snapshot.
    pub fn checks_side_effects(&self) -> bool {
        matches!(self, Action::SideEffects(_))
    }
}

/// Recognises one step.
pub fn classify(step: &Step) -> Result<Action, String> {
    let text = step.text.as_str();
    let docstring = || {
        step.docstring
            .clone()
            .ok_or(format!("step `{text}` needs a doc string"))
    };
    let table = || step.table.clone().ok_or(format!("step `{text}` needs a table"));
    let action = match text {
        "an empty graph" | "any graph" => Action::EmptyGraph,
        "having executed:" => Action::Setup(docstring()?),
        "parameters are:" => Action::Parameters(table()?),
        "executing query:" => Action::Query(docstring()?),
        "executing control query:" => Action::ControlQuery(docstring()?),
        "the result should be empty" => Action::ExpectEmpty,
        "no side effects" => Action::SideEffects(Table::new()),
        "the side effects should be:" => Action::SideEffects(table()?),
        _ => return classify_patterned(step, text),
    };
    Ok(action)
}

fn classify_patterned(step: &Step, text: &str) -> Result<Action, String> {
    if let Some(name) = text.strip_prefix("the ").and_then(|t| t.strip_suffix(" graph")) {
        return Ok(Action::NamedGraph(name.to_string()));
    }
    if let Some(signature) = text.strip_prefix("there exists a procedure ") {
        let signature = signature.trim_end().trim_end_matches(':').trim_end().to_string();
        let table = step.table.clone().ok_or(format!("step `{text}` needs a table"))?;
        return Ok(Action::Procedure { signature, table });
    }
    if let Some(mode) = text.strip_prefix("the result should be") {
        let ordering = result_ordering(mode).ok_or(format!("unknown result step `{text}`"))?;
        let table = step.table.clone().ok_or(format!("step `{text}` needs a table"))?;
        return Ok(Action::ExpectRows { table, ordering });
    }
    if let Some(expected) = parse_error_step(text) {
        return Ok(Action::ExpectError(expected));
    }
    Err(format!("unsupported step `{} {text}`", step.keyword))
}

/// Reads the part after `the result should be`, e.g. `, in order:`.
fn result_ordering(mode: &str) -> Option<Ordering> {
    let ordering = |rows_in_order, ignore_list_order| {
        Some(Ordering {
            rows_in_order,
            ignore_list_order,
        })
    };
    match mode {
        ", in any order:" => ordering(false, false),
        ", in order:" => ordering(true, false),
        " (ignoring element order for lists):" | ", in any order (ignoring element order for lists):" => {
            ordering(false, true)
        }
        ", in order (ignoring element order for lists):" => ordering(true, true),
        _ => None,
    }
}

/// `a TypeError should be raised at runtime: InvalidArgumentType`.
fn parse_error_step(text: &str) -> Option<ExpectedError> {
    let rest = text.strip_prefix("a ").or_else(|| text.strip_prefix("an "))?;
    let (error_type, rest) = rest.split_once(" should be raised at ")?;
    let (phase, detail) = rest.split_once(':')?;
    let phase = match phase.trim() {
        "compile time" => ErrorPhase::CompileTime,
        "runtime" => ErrorPhase::Runtime,
        "any time" => ErrorPhase::AnyTime,
        _ => return None,
    };
    Some(ExpectedError {
        error_type: error_type.trim().to_string(),
        phase,
        detail: detail.trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(text: &str) -> Step {
        Step {
            keyword: "Then".into(),
            text: text.into(),
            docstring: None,
            table: Some(Table::new()),
            line: 1,
        }
    }

    #[test]
    fn error_steps_are_parsed() {
        // Act
        let action = classify(&step(
            "a SyntaxError should be raised at compile time: UndefinedVariable",
        ));

        // Check
        let expected = ExpectedError {
            error_type: "SyntaxError".into(),
            phase: ErrorPhase::CompileTime,
            detail: "UndefinedVariable".into(),
        };
        assert_eq!(action, Ok(Action::ExpectError(expected)));
    }

    #[test]
    fn result_forms_are_recognised() {
        // Act
        let forms = [
            ("the result should be, in any order:", false, false),
            ("the result should be, in order:", true, false),
            ("the result should be (ignoring element order for lists):", false, true),
            (
                "the result should be, in any order (ignoring element order for lists):",
                false,
                true,
            ),
            (
                "the result should be, in order (ignoring element order for lists):",
                true,
                true,
            ),
        ];

        // Check
        for (text, rows_in_order, ignore_list_order) in forms {
            let ordering = Ordering {
                rows_in_order,
                ignore_list_order,
            };
            assert_eq!(
                classify(&step(text)),
                Ok(Action::ExpectRows {
                    table: Table::new(),
                    ordering
                }),
                "{text}"
            );
        }
    }

    #[test]
    fn named_graphs_and_procedures_are_recognised() {
        // Check
        assert_eq!(
            classify(&step("the binary-tree-2 graph")),
            Ok(Action::NamedGraph("binary-tree-2".into()))
        );
        let procedure = classify(&step(
            "there exists a procedure test.my.proc(in :: INTEGER?) :: (a :: INTEGER?) :",
        ));
        let signature = "test.my.proc(in :: INTEGER?) :: (a :: INTEGER?)".to_string();
        assert_eq!(
            procedure,
            Ok(Action::Procedure {
                signature,
                table: Table::new()
            })
        );
    }

    #[test]
    fn unknown_steps_are_errors() {
        // Check
        assert!(classify(&step("there exists a CSV file")).is_err());
        assert!(classify(&step("having executed:")).is_err(), "missing doc string");
    }
}
