//! Tests for whole runs over a small TCK tree: counting, skips, filter, panics and timeouts.

use std::path::Path;

use weft_query::{ErrorKind, ResultValue};

use super::*;
use crate::fake_engine::{fail, rows, FakeEngine, Script};
use crate::TckEngine;

const A1: &str = r#"Feature: A1 - runner test

  Scenario: [1] passes
    Given any graph
    When executing query:
      """
      ONE
      """
    Then the result should be, in any order:
      | x |
      | 1 |

  Scenario: [2] fails
    Given any graph
    When executing query:
      """
      ONE
      """
    Then the result should be empty

  Scenario: [3] panics
    Given any graph
    When executing query:
      """
      PANIC
      """
    Then the result should be empty

  Scenario: [4] stalls
    Given any graph
    When executing query:
      """
      STALL
      """
    Then the result should be empty

  @ignore
  Scenario: [5] ignored upstream
    Given any graph

  Scenario Outline: [6] outline <q>
    Given any graph
    When executing query:
      """
      <q>
      """
    Then a TypeError should be raised at runtime: <detail>

    Examples:
      | q   | detail  |
      | BAD | Exact   |
      | BAD | Other   |
"#;

const B1: &str = "Feature: B1 - skipped folder\n  Scenario: [1] any\n    Given any graph\n";

const C1: &str = r#"Feature: C1 - fixture procedures

  Scenario: [1] needs a procedure
    Given an empty graph
    And there exists a procedure test.p() :: (x :: INTEGER?):
      | x |
      | 1 |
    When executing query:
      """
      ONE
      """
    Then the result should be, in any order:
      | x |
      | 1 |

  Scenario: [2] needs none
    Given any graph
    When executing query:
      """
      ONE
      """
    Then the result should be, in any order:
      | x |
      | 1 |
"#;

/// Writes a small TCK tree into a fresh folder under the system temp dir.
fn tck_tree(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("weft-tck-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let files = [
        ("features/a/A1.feature", A1),
        ("features/b/B1.feature", B1),
        ("features/c/C1.feature", C1),
    ];
    for (path, text) in files {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap_or(Path::new("."))).unwrap();
        std::fs::write(file, text).unwrap();
    }
    dir
}

fn options(dir: PathBuf) -> Options {
    let factory: EngineFactory = Arc::new(|| {
        let engine = FakeEngine::default()
            .on("ONE", rows("x", vec![ResultValue::Int(1)]))
            .on("PANIC", Script::Panic)
            .on("STALL", Script::Stall(3_000))
            .on("BAD", fail(ErrorKind::TypeError, false, "Exact"));
        Box::new(engine) as Box<dyn TckEngine>
    });
    let mut options = Options::new(dir, factory);
    options.timeout = Duration::from_millis(500);
    options.skip = SkipList::parse("b/  # folder skipped in this test").unwrap();
    options
}

#[test]
fn every_scenario_is_counted_once() {
    // Set up
    let dir = tck_tree("counts");

    // Act
    let summary = run(&options(dir.clone())).unwrap();

    // Check: passes 1, 6a, 6b and both of C1 (the fake registers procedures); fails 2,
    // 3 (panic), 4 (timeout); skips 5 (@ignore), B1
    assert_eq!(
        summary.folders["a"],
        Counts {
            passed: 3,
            failed: 3,
            skipped: 1
        }
    );
    assert_eq!(
        summary.folders["b"],
        Counts {
            passed: 0,
            failed: 0,
            skipped: 1
        }
    );
    assert_eq!(
        summary.total,
        Counts {
            passed: 5,
            failed: 3,
            skipped: 2
        }
    );
    assert_eq!((summary.detail_mismatches, summary.timeouts), (1, 1));
    assert_eq!(summary.skipped_for_procedures, 0);
    assert_eq!(summary.closing_line(), "TCK: 5 passed, 3 failed, 2 skipped");
    let status = |id: &str| &summary.reports.iter().find(|r| r.id.contains(id)).unwrap().status;
    assert!(matches!(status("[3] panics"), Status::Failed(m) if m.contains("panicked: scripted panic")));
    assert!(matches!(status("[4] stalls"), Status::Failed(m) if m.starts_with("timed out")));
    assert!(matches!(
        status("[6] outline BAD (example 2)"),
        Status::PassedDetailMismatch(_)
    ));
    let text = summary.to_string();
    assert!(text.contains("a     3 passed     3 failed     1 skipped"), "{text}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn filter_selects_by_path_and_id() {
    // Set up
    let dir = tck_tree("filter");
    let mut options = options(dir.clone());
    options.filter = Some("A1 [1]".into());

    // Act
    let summary = run(&options).unwrap();

    // Check
    assert_eq!(
        summary.total,
        Counts {
            passed: 1,
            failed: 0,
            skipped: 0
        }
    );
    assert_eq!(summary.reports[0].id, "a/A1.feature: A1 [1] passes");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn missing_tck_folder_is_an_error() {
    // Check
    assert!(run(&options(PathBuf::from("/nonexistent/tck"))).is_err());
}

#[test]
fn fixture_procedures_are_skipped_when_the_engine_has_none() {
    // Set up
    let dir = tck_tree("fixtures");
    let mut options = options(dir.clone());
    options.filter = Some("C1".into());
    options.fixture_procedures = false;

    // Act
    let summary = run(&options).unwrap();

    // Check: [1] is skipped for its procedure, [2] runs.
    let expected = Counts {
        passed: 1,
        failed: 0,
        skipped: 1,
    };
    assert_eq!((summary.total, summary.skipped_for_procedures), (expected, 1));
    let skipped = &summary.reports[0];
    assert!(skipped.id.contains("C1 [1]"));
    assert_eq!(skipped.status, Status::Skipped(NO_FIXTURE_PROCEDURES.to_string()));
    assert!(summary
        .to_string()
        .contains("needing fixture procedures (not over Bolt): 1"));
    let _ = std::fs::remove_dir_all(dir);
}
