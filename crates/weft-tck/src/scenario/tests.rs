//! Tests for running one scenario against the scripted fake engine.

use weft_query::ResultValue;

use super::*;
use crate::fake_engine::{fail, rows, FakeEngine, Script};
use crate::gherkin::parse_feature;

/// Runs the single scenario of `steps` (a scenario body) against `engine`.
fn run(engine: &FakeEngine, steps: &str) -> Outcome {
    let text = format!("Feature: T1 - test\n  Scenario: [1] s\n{steps}");
    let feature = parse_feature("t/T1.feature", &text).unwrap();
    run_scenario(engine, &feature.scenarios[0], &crate::default_tck_dir())
}

const PASSED: Outcome = Outcome::Passed { detail_mismatch: None };

fn failed_with(outcome: Outcome, text: &str) {
    match outcome {
        Outcome::Failed(message) => assert!(message.contains(text), "`{message}` lacks `{text}`"),
        other => panic!("expected a failure containing `{text}`, got {other:?}"),
    }
}

const RETURN_ONE: &str = r#"
    Given any graph
    When executing query:
      """
      RETURN 1 AS x
      """
    Then the result should be, in any order:
      | x |
      | 1 |
    And no side effects
"#;

#[test]
fn matching_result_passes() {
    // Set up
    let engine = FakeEngine::default().on("RETURN 1 AS x", rows("x", vec![ResultValue::Int(1)]));

    // Check
    assert_eq!(run(&engine, RETURN_ONE), PASSED);
}

#[test]
fn wrong_result_fails() {
    // Set up
    let engine = FakeEngine::default().on("RETURN 1 AS x", rows("x", vec![ResultValue::Int(2)]));

    // Check
    failed_with(run(&engine, RETURN_ONE), "rows differ");
}

#[test]
fn failing_query_fails_a_result_step() {
    // Set up
    let engine = FakeEngine::default().on("RETURN 1 AS x", fail(ErrorKind::TypeError, false, "X"));

    // Check
    failed_with(run(&engine, RETURN_ONE), "query failed: TypeError");
}

const CREATE_TWO: &str = r#"
    Given an empty graph
    And having executed:
      """
      SETUP
      """
    When executing query:
      """
      CREATE
      """
    Then the result should be empty
    And the side effects should be:
      | +nodes      | 2 |
      | +properties | 2 |
"#;

#[test]
fn side_effects_exclude_setup() {
    // Set up: setup adds node 1 with a new label; the query adds 2 and 3
    let engine = FakeEngine::default()
        .on("SETUP", Script::CreateNodes(vec![1]))
        .on("CREATE", Script::CreateNodes(vec![2, 3]));

    // Check: +labels is 0 because L already existed before the query
    assert_eq!(run(&engine, CREATE_TWO), PASSED);
}

#[test]
fn wrong_side_effects_fail() {
    // Set up
    let engine = FakeEngine::default().on("CREATE", Script::CreateNodes(vec![2, 3]));

    // Check: without the setup node, the label L is new
    failed_with(run(&engine, CREATE_TWO), "got +nodes 2, +properties 2, +labels 1");
}

#[test]
fn failing_setup_fails_the_scenario() {
    // Set up
    let engine = FakeEngine::default().on("SETUP", fail(ErrorKind::SyntaxError, true, "UnexpectedSyntax"));

    // Check
    failed_with(run(&engine, CREATE_TWO), "setup query failed");
}

const ERROR_STEP: &str = r#"
    Given any graph
    When executing query:
      """
      BAD
      """
    Then a SyntaxError should be raised at compile time: UndefinedVariable
"#;

#[test]
fn matching_error_passes() {
    // Set up
    let engine = FakeEngine::default().on("BAD", fail(ErrorKind::SyntaxError, true, "UndefinedVariable"));

    // Check
    assert_eq!(run(&engine, ERROR_STEP), PASSED);
}

#[test]
fn different_detail_passes_with_a_note() {
    // Set up
    let engine = FakeEngine::default().on("BAD", fail(ErrorKind::SyntaxError, true, "UnexpectedSyntax"));

    // Act
    let outcome = run(&engine, ERROR_STEP);

    // Check
    let Outcome::Passed {
        detail_mismatch: Some(note),
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert!(
        note.contains("expected detail UndefinedVariable, got UnexpectedSyntax"),
        "{note}"
    );
}

#[test]
fn wrong_kind_phase_or_success_fails() {
    // Set up
    let wrong_kind = FakeEngine::default().on("BAD", fail(ErrorKind::SemanticError, true, "UndefinedVariable"));
    let wrong_phase = FakeEngine::default().on("BAD", fail(ErrorKind::SyntaxError, false, "UndefinedVariable"));
    let no_error = FakeEngine::default();

    // Check
    failed_with(run(&wrong_kind, ERROR_STEP), "got SemanticError");
    failed_with(run(&wrong_phase, ERROR_STEP), "got SyntaxError at runtime");
    failed_with(run(&no_error, ERROR_STEP), "but the query succeeded with 0 rows");
}

#[test]
fn wildcards_accept_any_phase_and_detail() {
    // Set up
    let expected = |phase, detail: &str| ExpectedError {
        error_type: "TypeError".into(),
        phase,
        detail: detail.into(),
    };
    let runtime = QueryError::runtime(ErrorKind::TypeError, "InvalidArgumentType", "m");

    // Check
    assert_eq!(check_error(&expected(ErrorPhase::AnyTime, "*"), &runtime), Ok(None));
    assert_eq!(
        check_error(&expected(ErrorPhase::Runtime, "InvalidArgumentType"), &runtime),
        Ok(None)
    );
    assert!(check_error(&expected(ErrorPhase::CompileTime, "*"), &runtime).is_err());
    let any = ExpectedError {
        error_type: "Error".into(),
        phase: ErrorPhase::AnyTime,
        detail: "*".into(),
    };
    assert_eq!(check_error(&any, &runtime), Ok(None));
}

#[test]
fn parameters_reach_the_engine() {
    // Set up
    let engine = FakeEngine::default();
    let steps = "    Given any graph\n    And parameters are:\n      | name | 'Ann' |\n      | ids  | [1, 2.5] |\n    When executing query:\n      \"\"\"\n      Q\n      \"\"\"\n    Then the result should be empty\n";

    // Act
    let outcome = run(&engine, steps);

    // Check
    assert_eq!(outcome, PASSED);
    let seen = engine.seen_params.borrow();
    assert_eq!(seen[0].get("name"), Some(&Value::String("Ann".into())));
    assert_eq!(
        seen[0].get("ids"),
        Some(&Value::List(vec![Value::Int(1), Value::Float(2.5)]))
    );
    assert!(to_parameter(&parse_value("(:A)").unwrap()).is_err());
}

#[test]
fn control_query_result_is_checked() {
    // Set up
    let engine = FakeEngine::default().on("CONTROL", rows("c", vec![ResultValue::Int(5)]));
    let steps = "    Given any graph\n    When executing query:\n      \"\"\"\n      Q\n      \"\"\"\n    Then the result should be empty\n    When executing control query:\n      \"\"\"\n      CONTROL\n      \"\"\"\n    Then the result should be, in any order:\n      | c |\n      | 5 |\n";

    // Check
    assert_eq!(run(&engine, steps), PASSED);
}

#[test]
fn named_graph_script_runs_as_setup() {
    // Set up: the fake answers the binary-tree-1 script with a failure
    let script = std::fs::read_to_string(crate::default_tck_dir().join("graphs/binary-tree-1/binary-tree-1.cypher"));
    let script = script.unwrap().trim().trim_end_matches(';').to_string();
    let engine = FakeEngine::default().on(&script, fail(ErrorKind::SyntaxError, true, "X"));

    // Check: the exact script text (without the trailing `;`) reached the engine
    failed_with(
        run(&engine, "    Given the binary-tree-1 graph\n"),
        "setup query failed",
    );
    failed_with(
        run(&FakeEngine::default(), "    Given the no-such graph\n"),
        "cannot read",
    );
}

#[test]
fn unknown_steps_fail() {
    // Check
    failed_with(
        run(&FakeEngine::default(), "    Given a mystery\n"),
        "unsupported step `Given a mystery`",
    );
}
