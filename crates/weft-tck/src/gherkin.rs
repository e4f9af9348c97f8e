//! A reader for the subset of Gherkin that the openCypher TCK uses.
//!
//! Owns: turning `.feature` text into [`Feature`]s whose [`Scenario`]s are ready to run —
//! `Background:` steps are prepended to every scenario and each `Scenario Outline:` is
//! expanded into one scenario per `Examples:` row, with `<placeholders>` filled in the
//! scenario name, step text, doc strings and tables. Promises: every scenario of the input
//! appears exactly once (outline rows counted one by one); table cells come back with
//! Gherkin's escapes (`\|`, `\\`, `\n`) already undone. Needs: nothing but the text.
//!
//! Supported: `Feature:`, `Background:`, `Scenario:`/`Example:`, `Scenario Outline:`/
//! `Scenario Template:`, `Examples:`/`Scenarios:`, tags, `#` comment lines, steps
//! (`Given`/`When`/`Then`/`And`/`But`/`*`), `"""` and ```` ``` ```` doc strings and `|` tables.
//! Not supported (unused by the TCK): `Rule:`, languages other than English.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::TckError;

/// A table attached to a step or an `Examples:` block: rows of unescaped, trimmed cells.
pub type Table = Vec<Vec<String>>;

/// One `.feature` file.
#[derive(Clone, Debug)]
pub struct Feature {
    /// Path relative to the features folder, `/`-separated (`clauses/match/Match4.feature`).
    pub path: String,
    /// The feature title, e.g. `Match4 - Match variable length patterns scenarios`.
    pub name: String,
    pub scenarios: Vec<Scenario>,
}

impl Feature {
    /// The short feature name before ` - ` (`Match4`), used in scenario ids.
    pub fn short_name(&self) -> &str {
        self.name.split(" - ").next().unwrap_or(&self.name).trim()
    }

    /// The folder of the feature file (`clauses/match`).
    pub fn folder(&self) -> &str {
        self.path.rsplit_once('/').map_or("", |(folder, _)| folder)
    }
}

/// A runnable scenario: a plain scenario or one expanded row of an outline.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The title with placeholders filled, e.g. `[3] Matching using a bound relationship`.
    pub name: String,
    pub tags: Vec<String>,
    /// 1-based line of the `Scenario` keyword.
    pub line: usize,
    /// For an outline row: its 1-based number across all `Examples:` blocks.
    pub example: Option<usize>,
    pub steps: Vec<Step>,
}

impl Scenario {
    /// The number in brackets at the start of the name (`[3] ...` gives `3`).
    pub fn number(&self) -> Option<&str> {
        let rest = self.name.strip_prefix('[')?;
        rest.split_once(']').map(|(number, _)| number)
    }
}

/// One step line with its optional doc string or table.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// `Given`, `When`, `Then`, `And`, `But` or `*`.
    pub keyword: String,
    /// The text after the keyword, e.g. `executing query:`.
    pub text: String,
    pub docstring: Option<String>,
    pub table: Option<Table>,
    /// 1-based line of the step.
    pub line: usize,
}

/// A syntax problem in a feature file.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseError {
    pub path: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Reads every `.feature` file under `dir` (recursively), sorted by path.
pub fn read_features(dir: &Path) -> Result<Vec<Feature>, TckError> {
    let mut files = Vec::new();
    collect_feature_files(dir, &mut files)?;
    files.sort();
    let mut features = Vec::with_capacity(files.len());
    for file in files {
        let relative = file.strip_prefix(dir).unwrap_or(&file).components();
        let relative: Vec<_> = relative.map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        let source = std::fs::read_to_string(&file).map_err(|e| TckError::io(&file, e))?;
        features.push(parse_feature(&relative.join("/"), &source)?);
    }
    Ok(features)
}

fn collect_feature_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), TckError> {
    for entry in std::fs::read_dir(dir).map_err(|e| TckError::io(dir, e))? {
        let path = entry.map_err(|e| TckError::io(dir, e))?.path();
        if path.is_dir() {
            collect_feature_files(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "feature") {
            out.push(path);
        }
    }
    Ok(())
}

/// A scenario as written, before outline expansion.
#[derive(Default)]
struct RawScenario {
    name: String,
    tags: Vec<String>,
    line: usize,
    outline: bool,
    steps: Vec<Step>,
    examples: Vec<Table>,
}

/// Where table rows currently go.
#[derive(Clone, Copy, PartialEq)]
enum Target {
    /// Feature description text; no steps yet.
    Description,
    Background,
    Scenario,
    Examples,
}

/// Parses the text of one feature file; `path` is used in names and errors.
pub fn parse_feature(path: &str, source: &str) -> Result<Feature, ParseError> {
    let mut parser = Parser {
        path,
        lines: source.lines().collect(),
        pos: 0,
    };
    parser.parse()
}

struct Parser<'a> {
    path: &'a str,
    lines: Vec<&'a str>,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            path: self.path.to_string(),
            line: self.pos + 1,
            message: message.into(),
        }
    }

    fn parse(&mut self) -> Result<Feature, ParseError> {
        let mut name = None;
        let mut background: Vec<Step> = Vec::new();
        let mut raw: Vec<RawScenario> = Vec::new();
        let mut tags: Vec<String> = Vec::new();
        let mut target = Target::Description;
        while self.pos < self.lines.len() {
            let line = self.lines[self.pos].trim();
            if line.is_empty() || line.starts_with('#') {
                self.pos += 1;
                continue;
            }
            if line.starts_with('@') {
                tags.extend(line.split_whitespace().map(str::to_string));
            } else if let Some(title) = line.strip_prefix("Feature:") {
                name = Some(title.trim().to_string());
            } else if line.starts_with("Background:") {
                target = Target::Background;
            } else if let Some((title, outline)) = scenario_title(line) {
                let tags = std::mem::take(&mut tags);
                raw.push(RawScenario {
                    name: title,
                    tags,
                    line: self.pos + 1,
                    outline,
                    ..Default::default()
                });
                target = Target::Scenario;
            } else if line.starts_with("Examples:") || line.starts_with("Scenarios:") {
                tags.clear();
                let scenario = raw
                    .last_mut()
                    .filter(|s| s.outline)
                    .ok_or_else(|| self.error("Examples outside an outline"))?;
                scenario.examples.push(Table::new());
                target = Target::Examples;
            } else if line.starts_with("\"\"\"") || line.starts_with("```") {
                let text = self.docstring()?;
                let step =
                    last_step(target, &mut background, &mut raw).ok_or_else(|| self.error("stray doc string"))?;
                step.docstring = Some(text);
            } else if line.starts_with('|') {
                let row = split_row(line).map_err(|m| self.error(m))?;
                self.add_row(target, row, &mut background, &mut raw)?;
            } else if let Some((keyword, text)) = step_keyword(line) {
                let step = Step {
                    keyword,
                    text,
                    docstring: None,
                    table: None,
                    line: self.pos + 1,
                };
                match target {
                    Target::Background => background.push(step),
                    Target::Scenario => raw.last_mut().expect("scenario target has a scenario").steps.push(step),
                    _ => return Err(self.error("step outside a scenario")),
                }
            } else if target != Target::Description {
                return Err(self.error(format!("unexpected line: {line}")));
            }
            self.pos += 1;
        }
        let name = name.ok_or_else(|| self.error("no Feature: line"))?;
        let mut scenarios = Vec::new();
        for scenario in raw {
            expand(scenario, &background, &mut scenarios);
        }
        Ok(Feature {
            path: self.path.to_string(),
            name,
            scenarios,
        })
    }

    fn add_row(
        &self,
        target: Target,
        row: Vec<String>,
        background: &mut [Step],
        raw: &mut [RawScenario],
    ) -> Result<(), ParseError> {
        if target == Target::Examples {
            let table = raw
                .last_mut()
                .and_then(|s| s.examples.last_mut())
                .expect("examples target has a table");
            table.push(row);
            return Ok(());
        }
        let step = last_step(target, background, raw).ok_or_else(|| self.error("table without a step"))?;
        step.table.get_or_insert_with(Table::new).push(row);
        Ok(())
    }

    /// Reads a doc string starting at the current line; leaves `pos` on its closing line.
    /// Content lines lose as much leading whitespace as the opening delimiter had.
    fn docstring(&mut self) -> Result<String, ParseError> {
        let opening = self.lines[self.pos];
        let indent = opening.len() - opening.trim_start().len();
        let delimiter = &opening.trim()[..3];
        let mut content = Vec::new();
        loop {
            self.pos += 1;
            let Some(line) = self.lines.get(self.pos) else {
                return Err(self.error("unterminated doc string"));
            };
            if line.trim() == delimiter {
                return Ok(content.join("\n"));
            }
            let strip = line.len() - line.trim_start().len();
            content.push(&line[strip.min(indent)..]);
        }
    }
}

fn last_step<'s>(target: Target, background: &'s mut [Step], raw: &'s mut [RawScenario]) -> Option<&'s mut Step> {
    match target {
        Target::Background => background.last_mut(),
        Target::Scenario => raw.last_mut()?.steps.last_mut(),
        _ => None,
    }
}

/// `Scenario: x` gives `("x", false)`, `Scenario Outline: x` gives `("x", true)`.
fn scenario_title(line: &str) -> Option<(String, bool)> {
    let forms = [
        ("Scenario Outline:", true),
        ("Scenario Template:", true),
        ("Scenario:", false),
        ("Example:", false),
    ];
    forms
        .iter()
        .find_map(|(prefix, outline)| line.strip_prefix(prefix).map(|t| (t.trim().to_string(), *outline)))
}

fn step_keyword(line: &str) -> Option<(String, String)> {
    ["Given", "When", "Then", "And", "But", "*"].iter().find_map(|keyword| {
        let rest = line.strip_prefix(keyword)?;
        rest.starts_with(' ')
            .then(|| (keyword.to_string(), rest.trim().to_string()))
    })
}

/// Splits `| a | b\|c |` into `["a", "b|c"]`, undoing `\|`, `\\` and `\n`.
pub fn split_row(line: &str) -> Result<Vec<String>, String> {
    let inner = line.trim().strip_prefix('|').ok_or("table row must start with |")?;
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('|') => cell.push('|'),
                Some('\\') => cell.push('\\'),
                Some('n') => cell.push('\n'),
                Some(other) => {
                    cell.push('\\');
                    cell.push(other);
                }
                None => cell.push('\\'),
            },
            '|' => cells.push(std::mem::take(&mut cell).trim().to_string()),
            _ => cell.push(c),
        }
    }
    if !cell.trim().is_empty() {
        return Err("table row must end with |".to_string());
    }
    Ok(cells)
}

/// Turns one raw scenario into runnable scenarios (one per example row for outlines).
fn expand(raw: RawScenario, background: &[Step], out: &mut Vec<Scenario>) {
    let with_background = |steps: Vec<Step>| background.iter().cloned().chain(steps).collect::<Vec<_>>();
    if !raw.outline {
        let steps = with_background(raw.steps);
        out.push(Scenario {
            name: raw.name,
            tags: raw.tags,
            line: raw.line,
            example: None,
            steps,
        });
        return;
    }
    let mut number = 0;
    for table in &raw.examples {
        let Some((header, rows)) = table.split_first() else {
            continue;
        };
        for row in rows {
            number += 1;
            let fill = |text: &str| substitute(text, header, row);
            let steps = raw.steps.iter().map(|step| Step {
                keyword: step.keyword.clone(),
                text: fill(&step.text),
                docstring: step.docstring.as_deref().map(fill),
                table: step
                    .table
                    .as_ref()
                    .map(|t| t.iter().map(|r| r.iter().map(|c| fill(c)).collect()).collect()),
                line: step.line,
            });
            out.push(Scenario {
                name: fill(&raw.name),
                tags: raw.tags.clone(),
                line: raw.line,
                example: Some(number),
                steps: with_background(steps.collect()),
            });
        }
    }
}

/// Replaces each `<name>` whose name is in `header` by the row's value, in one pass (values
/// are not searched again); other `<` characters, as in `a <= b`, are left alone.
pub fn substitute(text: &str, header: &[String], row: &[String]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let value = after.find('>').and_then(|end| {
            let index = header.iter().position(|h| h == &after[..end])?;
            Some((row.get(index).map_or("", String::as_str), end))
        });
        match value {
            Some((value, end)) => {
                out.push_str(value);
                rest = &after[end + 1..];
            }
            None => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
