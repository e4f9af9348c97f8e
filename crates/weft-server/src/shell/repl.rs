//! The shell's session: reading input, running statements, shell commands and output.
//!
//! Owns: what happens to each line of input, whether typed at a prompt ([`Shell::interactive`],
//! with line editing and history) or read from `-c` or a pipe ([`Shell::script`]); the
//! `:param`, `:params`, `:help` and `:exit` commands; and where results and errors go —
//! results to stdout in the chosen [`Format`], errors to stderr naming the Neo4j status
//! code. Promises: a query failure is reported and remembered ([`Shell::failed`]) without
//! ending an interactive session; a script stops at its first failure, so later
//! statements never run against a state the failed one was meant to set up. A lost
//! connection ends either mode with an error.
//!
//! Needs from below: [`Client`] to run queries, [`input`] to find where statements end,
//! [`format`] and [`value`] to show results.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use rustyline::error::ReadlineError;
use weft_bolt::messages::Dict;
use weft_bolt::BoltValue;

use super::format::{self, Format};
use super::{input, progress, value};
use weft_client::{Client, ClientError};

const PROMPT: &str = "weft> ";
const CONTINUATION: &str = "  ...> ";
const HISTORY_FILE: &str = ".weft_history";

const HELP: &str = "\
End each query with ; — it may span several lines.
  :param NAME VALUE   set parameter $NAME; VALUE is a JSON literal, e.g. 42, \"Ann\", [1, 2], {\"k\": true}
  :params             list the parameters (:params clear forgets them all)
  :help               show this help
  :exit               leave the shell (Ctrl-D does too; Ctrl-C drops a half-typed query)";

/// Whether the session goes on after a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    Exit,
}

/// One connection's session and its settings.
pub struct Shell {
    client: Client,
    format: Format,
    params: Dict,
    /// Stdout is a terminal: print the summary line after a table.
    terminal: bool,
    /// Paint errors red (stderr is a terminal and `NO_COLOR` is unset).
    color: bool,
    failed: bool,
    /// Where to open a second connection for the progress bar of an import (set when
    /// stderr is a terminal).
    progress: Option<(String, weft_client::ConnectOptions)>,
}

impl Shell {
    pub fn new(client: Client, format: Format) -> Shell {
        let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Shell {
            client,
            format,
            params: Vec::new(),
            terminal: std::io::stdout().is_terminal(),
            color,
            failed: false,
            progress: None,
        }
    }

    /// Draws a progress bar on stderr while a LOAD CSV statement runs, from a second
    /// connection to `address` (only when stderr is a terminal).
    pub fn with_progress(mut self, address: &str, options: &weft_client::ConnectOptions) -> Shell {
        if std::io::stderr().is_terminal() {
            self.progress = Some((address.to_owned(), options.clone()));
        }
        self
    }

    /// Whether any query or command failed.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Sets parameter `name` from the literal `text`.
    pub fn set_param(&mut self, name: &str, text: &str) -> Result<(), String> {
        let name = name.trim_start_matches('$');
        if name.is_empty() {
            return Err("a parameter needs a name: :param NAME VALUE".into());
        }
        let value = parse_literal(text)?;
        self.params.retain(|(n, _)| n != name);
        self.params.push((name.to_string(), value));
        Ok(())
    }

    /// Closes the connection politely.
    pub fn close(self) {
        self.client.close();
    }

    /// Runs lines from `-c` or a pipe until they end, a statement fails or `:exit`.
    pub fn script(&mut self, lines: impl Iterator<Item = std::io::Result<String>>) -> anyhow::Result<()> {
        let mut buffer = String::new();
        for line in lines {
            let line = line?;
            if input::is_blank(&buffer) && line.trim_start().starts_with(':') {
                buffer.clear();
                if self.command(&line)? == Flow::Exit || self.failed {
                    return Ok(());
                }
                continue;
            }
            buffer.push_str(&line);
            buffer.push('\n');
            let (statements, rest) = input::split(&buffer);
            buffer = rest;
            for statement in statements {
                if !self.execute(&statement)? {
                    return Ok(());
                }
            }
        }
        self.execute(&buffer)?;
        Ok(())
    }

    /// Reads queries and commands at a prompt until `:exit` or end of input.
    pub fn interactive(&mut self) -> anyhow::Result<()> {
        let mut editor = rustyline::DefaultEditor::new()?;
        let history = history_path();
        if let Some(path) = &history {
            // A missing history file is normal on first use.
            let _ = editor.load_history(path);
        }
        println!(
            "Connected to Weft over Bolt {}. Type :help for help; end queries with ;",
            self.client.version()
        );
        let mut buffer = String::new();
        loop {
            let prompt = if buffer.is_empty() { PROMPT } else { CONTINUATION };
            let line = match editor.readline(prompt) {
                Ok(line) => line,
                Err(ReadlineError::Interrupted) => {
                    buffer.clear();
                    continue;
                }
                Err(ReadlineError::Eof) => break,
                Err(error) => return Err(error.into()),
            };
            if !line.trim().is_empty() {
                let _ = editor.add_history_entry(line.as_str());
            }
            if buffer.is_empty() && line.trim_start().starts_with(':') {
                if self.command(&line)? == Flow::Exit {
                    break;
                }
                continue;
            }
            buffer.push_str(&line);
            buffer.push('\n');
            let (statements, rest) = input::split(&buffer);
            buffer = if input::is_blank(&rest) { String::new() } else { rest };
            for statement in statements {
                self.execute(&statement)?;
            }
        }
        if let Some(path) = &history {
            if let Err(error) = editor.save_history(path) {
                self.error(&format!("cannot save history to {}: {error}", path.display()));
            }
        }
        Ok(())
    }

    /// Runs one statement and prints its result; false if the server rejected it.
    /// Comments alone are not sent.
    fn execute(&mut self, statement: &str) -> anyhow::Result<bool> {
        if input::is_blank(statement) {
            return Ok(true);
        }
        let started = Instant::now();
        let watcher = self
            .progress
            .as_ref()
            .filter(|_| progress::imports(statement))
            .map(|(address, options)| progress::Watcher::start(address.clone(), options.clone()));
        let result = self.client.run(statement.trim(), &self.params);
        drop(watcher);
        let result = match result {
            Ok(result) => result,
            Err(error @ ClientError::Query { .. }) => {
                self.error(&error.to_string());
                self.failed = true;
                return Ok(false);
            }
            Err(lost) => return Err(lost.into()),
        };
        let elapsed = started.elapsed();
        let mut text = self.format.render(&result.columns, &result.rows, self.client.dialect());
        if self.format == Format::Table && self.terminal {
            text.push_str(&format::summary(&result, elapsed));
            text.push('\n');
        }
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(text.as_bytes())?;
        stdout.flush()?;
        Ok(true)
    }

    /// Carries out a `:command` line.
    fn command(&mut self, line: &str) -> anyhow::Result<Flow> {
        let line = line.trim().trim_end_matches(';').trim_end();
        let (name, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        match (name, rest.trim()) {
            (":exit" | ":quit", _) => return Ok(Flow::Exit),
            (":help", _) => println!("{HELP}"),
            (":params", "clear") => self.params.clear(),
            (":params", _) => print!("{}", self.params_text()),
            (":param", rest) => {
                let (param, literal) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                if let Err(message) = self.set_param(param, literal) {
                    self.fail(&message);
                }
            }
            (other, _) => self.fail(&format!("unknown command {other}; :help lists the commands")),
        }
        std::io::stdout().flush()?;
        Ok(Flow::Continue)
    }

    /// One `:param` line per parameter, which pasted back sets it again.
    fn params_text(&self) -> String {
        let dialect = self.client.dialect();
        self.params
            .iter()
            .map(|(name, v)| format!(":param {name} {}\n", value::json(v, dialect)))
            .collect()
    }

    fn fail(&mut self, message: &str) {
        self.error(message);
        self.failed = true;
    }

    fn error(&self, message: &str) {
        if self.color {
            eprintln!("\x1b[31merror: {message}\x1b[0m");
        } else {
            eprintln!("error: {message}");
        }
    }
}

/// A parameter value: JSON, or a Cypher single-quoted string.
pub fn parse_literal(text: &str) -> Result<BoltValue, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("a parameter needs a value: :param NAME VALUE".into());
    }
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(text) {
        return Ok(value::from_json(&json));
    }
    let single = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\''));
    match single {
        Some(s) if !s.contains('\'') => Ok(BoltValue::String(s.to_string())),
        _ => Err(format!(
            "cannot read `{text}` as a value; write JSON, e.g. 42, \"Ann\" or [1, 2]"
        )),
    }
}

/// `$HOME/.weft_history`, if there is a home directory.
fn history_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(HISTORY_FILE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_json_or_single_quoted_strings() {
        assert_eq!(parse_literal(" 42 "), Ok(BoltValue::Integer(42)));
        assert_eq!(parse_literal("2.5"), Ok(BoltValue::Float(2.5)));
        assert_eq!(parse_literal("'Ann'"), Ok(BoltValue::String("Ann".into())));
        let map = BoltValue::Dictionary(vec![("k".into(), BoltValue::List(vec![BoltValue::Null]))]);
        assert_eq!(parse_literal(r#"{"k": [null]}"#), Ok(map));
        assert!(parse_literal("Ann").is_err());
        assert!(parse_literal("").is_err());
    }
}
