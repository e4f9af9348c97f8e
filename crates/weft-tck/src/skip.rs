//! The skip list: scenarios Weft decides not to run, each with a reason.
//!
//! Owns: reading `skip.txt` — one entry a line, `pattern  # reason`, blank lines and lines
//! starting with `#` ignored — and deciding whether a scenario is skipped. A pattern is a
//! feature path or folder (`clauses/call`, `clauses/call/Call1.feature`), a scenario id
//! (`Graph5 [2]`), a whole feature by short name (`Call1`) or a full scenario title.
//! Scenarios tagged `@ignore` upstream are always skipped. Promises: an entry without a
//! reason is rejected, so every skip stays explained.

use crate::gherkin::{Feature, Scenario};

/// One skip entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkipEntry {
    pub pattern: String,
    pub reason: String,
}

/// The parsed skip list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SkipList {
    pub entries: Vec<SkipEntry>,
}

impl SkipList {
    /// Parses the text of a skip file.
    pub fn parse(text: &str) -> Result<SkipList, String> {
        let mut entries = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((pattern, reason)) = line.split_once('#') else {
                return Err(format!("skip list line {}: `{line}` has no `# reason`", index + 1));
            };
            let (pattern, reason) = (pattern.trim(), reason.trim());
            if pattern.is_empty() || reason.is_empty() {
                return Err(format!(
                    "skip list line {}: needs both a pattern and a reason",
                    index + 1
                ));
            }
            entries.push(SkipEntry {
                pattern: pattern.to_string(),
                reason: reason.to_string(),
            });
        }
        Ok(SkipList { entries })
    }

    /// Why `scenario` of `feature` is skipped, or `None` to run it.
    pub fn reason(&self, feature: &Feature, scenario: &Scenario) -> Option<String> {
        if scenario.tags.iter().any(|t| t == "@ignore") {
            return Some("tagged @ignore upstream".to_string());
        }
        let entry = self.entries.iter().find(|e| matches(&e.pattern, feature, scenario))?;
        Some(entry.reason.clone())
    }
}

fn matches(pattern: &str, feature: &Feature, scenario: &Scenario) -> bool {
    if pattern.contains('/') || pattern.ends_with(".feature") {
        let folder = pattern.trim_end_matches('/');
        return feature.path == folder || feature.path.starts_with(&format!("{folder}/"));
    }
    let short = feature.short_name();
    let id = scenario.number().map(|n| format!("{short} [{n}]"));
    pattern == short || id.as_deref() == Some(pattern) || pattern == scenario.name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feature(path: &str, name: &str) -> Feature {
        Feature {
            path: path.into(),
            name: name.into(),
            scenarios: Vec::new(),
        }
    }

    fn scenario(name: &str, tags: &[&str]) -> Scenario {
        let tags = tags.iter().map(|t| t.to_string()).collect();
        Scenario {
            name: name.into(),
            tags,
            line: 1,
            example: None,
            steps: Vec::new(),
        }
    }

    #[test]
    fn entries_need_reasons() {
        // Check
        assert!(SkipList::parse("clauses/call\n").is_err());
        assert!(SkipList::parse("clauses/call #   \n").is_err());
        let list = SkipList::parse("# comment\n\nclauses/call  # no procedures\n").unwrap();
        assert_eq!(
            list.entries,
            vec![SkipEntry {
                pattern: "clauses/call".into(),
                reason: "no procedures".into()
            }]
        );
    }

    #[test]
    fn patterns_match_paths_ids_and_names() {
        // Set up
        let list = SkipList::parse("clauses/call # a\nMatch4 [3] # b\nReturn2 # c\n[1] Some title # d\n").unwrap();
        let call = feature("clauses/call/Call1.feature", "Call1 - Basic procedure calling");
        let match4 = feature(
            "clauses/match/Match4.feature",
            "Match4 - Match variable length patterns",
        );
        let return2 = feature("clauses/return/Return2.feature", "Return2 - Return single expression");

        // Check
        assert_eq!(list.reason(&call, &scenario("[9] x", &[])), Some("a".into()));
        assert_eq!(list.reason(&match4, &scenario("[3] x", &[])), Some("b".into()));
        assert_eq!(list.reason(&match4, &scenario("[30] x", &[])), None);
        assert_eq!(list.reason(&return2, &scenario("[5] y", &[])), Some("c".into()));
        assert_eq!(list.reason(&match4, &scenario("[1] Some title", &[])), Some("d".into()));
        assert!(list.reason(&match4, &scenario("[4] z", &["@ignore"])).is_some());
        assert_eq!(
            list.reason(&feature("clauses/callx/A.feature", "A"), &scenario("[1] q", &[])),
            None
        );
    }
}
