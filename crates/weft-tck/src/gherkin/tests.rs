//! Tests for the Gherkin reader: a sample feature, escapes, outline expansion and the whole vendored TCK.

use std::collections::BTreeMap;

use super::*;

const SAMPLE: &str = r#"#
# licence header
#
Feature: Sample1 - A small feature

  Free description text.

  Background:
    Given an empty graph

  @skipStyleCheck
  Scenario: [1] Plain
    When executing query:
      """
      RETURN 'a|b' AS s,
        1 AS i
      """
    Then the result should be, in any order:
      | s       | i |
      | 'a\|b'  | 1 |
      | '\\'    | 2 |
    And no side effects

  Scenario Outline: [2] Compare with <op>
    When executing query:
      """
      RETURN 1 <op> 2 AS r, 1 <= 2 AS le
      """
    Then the result should be, in any order:
      | r        | le   |
      | <result> | true |

    Examples:
      | op | result |
      | <  | true   |
      #| = | false  |
      | >  | false  |

    Examples:
      | op | result |
      | <> | true   |
"#;

#[test]
fn sample_feature_is_read() {
    // Act
    let feature = parse_feature("sample/Sample1.feature", SAMPLE).unwrap();

    // Check: name, background prepended, tags, doc string indentation, cell escapes
    assert_eq!(feature.short_name(), "Sample1");
    assert_eq!(feature.folder(), "sample");
    assert_eq!(
        feature.scenarios.len(),
        4,
        "1 plain + 3 outline rows (one commented out)"
    );
    let plain = &feature.scenarios[0];
    assert_eq!(plain.number(), Some("1"));
    assert_eq!(plain.tags, vec!["@skipStyleCheck".to_string()]);
    assert_eq!(plain.steps[0].text, "an empty graph");
    assert_eq!(
        plain.steps[1].docstring.as_deref(),
        Some("RETURN 'a|b' AS s,\n  1 AS i")
    );
    let table = plain.steps[2].table.as_ref().unwrap();
    assert_eq!(table[1], vec!["'a|b'".to_string(), "1".to_string()]);
    assert_eq!(table[2][0], "'\\'");
    assert_eq!(plain.steps.len(), 4);
}

#[test]
fn outline_rows_are_expanded() {
    // Act
    let feature = parse_feature("sample/Sample1.feature", SAMPLE).unwrap();

    // Check: placeholders filled everywhere, `<=` untouched, rows numbered across blocks
    let rows: Vec<_> = feature.scenarios[1..].iter().collect();
    assert_eq!(
        rows.iter().map(|s| s.example).collect::<Vec<_>>(),
        vec![Some(1), Some(2), Some(3)]
    );
    assert_eq!(rows[0].name, "[2] Compare with <");
    assert_eq!(
        rows[0].steps[1].docstring.as_deref(),
        Some("RETURN 1 < 2 AS r, 1 <= 2 AS le")
    );
    assert_eq!(rows[1].steps[2].table.as_ref().unwrap()[1][0], "false");
    assert_eq!(
        rows[2].steps[1].docstring.as_deref(),
        Some("RETURN 1 <> 2 AS r, 1 <= 2 AS le")
    );
}

#[test]
fn rows_split_with_gherkin_escapes() {
    // Check
    assert_eq!(
        split_row("| a | b\\|c | \\\\ | x\\ny |").unwrap(),
        vec!["a", "b|c", "\\", "x\ny"]
    );
    assert_eq!(split_row("| '\\'' |").unwrap(), vec!["'\\''"], "other escapes stay");
    assert_eq!(split_row("||").unwrap(), vec![""]);
    assert!(split_row("| a").is_err());
}

#[test]
fn substitution_is_one_pass() {
    // Set up
    let header = vec!["a".to_string(), "b".to_string()];
    let row = vec!["<b>".to_string(), "2".to_string()];

    // Check: a value that looks like a placeholder is not expanded again
    assert_eq!(substitute("<a> <b> <c> x <= y", &header, &row), "<b> 2 <c> x <= y");
}

#[test]
fn malformed_files_are_errors() {
    // Check
    assert!(parse_feature("x", "Scenario: no feature").is_err());
    let unterminated = "Feature: F\n  Scenario: s\n    When executing query:\n      \"\"\"\n      RETURN 1\n";
    assert_eq!(
        parse_feature("x", unterminated).unwrap_err().message,
        "unterminated doc string"
    );
    assert!(parse_feature("x", "Feature: F\n  Scenario: s\n    Given x\n    nonsense\n").is_err());
}

/// Reads the vendored TCK: all 220 files, 3,897 test cases (1,339 scenarios plus 2,558
/// outline rows), per /work/shared/tck/README.md.
#[test]
fn the_whole_tck_is_read() {
    // Act
    let features = read_features(&crate::default_tck_dir().join("features")).unwrap();

    // Check
    let mut per_folder: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for feature in &features {
        let counts = per_folder.entry(feature.folder()).or_default();
        for scenario in &feature.scenarios {
            match scenario.example {
                None => counts.0 += 1,
                Some(_) => counts.1 += 1,
            }
        }
    }
    for (folder, (plain, rows)) in &per_folder {
        println!(
            "{folder:<36} {plain:>4} scenarios {rows:>4} outline rows {:>5} cases",
            plain + rows
        );
    }
    let plain: usize = per_folder.values().map(|c| c.0).sum();
    let rows: usize = per_folder.values().map(|c| c.1).sum();
    println!(
        "total: {} files, {plain} scenarios, {rows} outline rows, {} cases",
        features.len(),
        plain + rows
    );
    assert_eq!(features.len(), 220);
    assert_eq!(plain, 1339);
    assert_eq!(rows, 2558);
    assert_eq!(plain + rows, 3897);
}
