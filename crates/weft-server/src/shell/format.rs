//! How the shell lays out a query's result: an aligned table, CSV or JSON lines.
//!
//! Owns: the layout of a whole result and its summary line. Each layout is a pure
//! function from columns and rows to text, so tests check exact output. Promises:
//! - table: a boxed grid, one cell per value as [`value::text`] writes it; nothing for a
//!   query without columns (a write without RETURN);
//! - csv: RFC 4180 — a header line, fields quoted when they hold `,`, `"` or a line break,
//!   strings bare and null empty;
//! - json: one JSON object per row (JSON lines), keyed by column name in column order.
//!
//! Needs from below: [`value`] for single values.

use std::time::Duration;

use weft_bolt::packstream::dict_get;
use weft_bolt::{BoltValue, Dialect};

use weft_client::QueryResult;
use weft_server::value;

/// The output layouts `--format` chooses from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

impl Format {
    /// The text of a whole result in this layout, ending in a newline unless empty.
    pub fn render(self, columns: &[String], rows: &[Vec<BoltValue>], dialect: Dialect) -> String {
        match self {
            Format::Table => table(columns, rows, dialect),
            Format::Csv => csv(columns, rows, dialect),
            Format::Json => json_lines(columns, rows, dialect),
        }
    }
}

/// A boxed table with every column as wide as its widest cell.
pub fn table(columns: &[String], rows: &[Vec<BoltValue>], dialect: Dialect) -> String {
    if columns.is_empty() {
        return String::new();
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| (0..columns.len()).map(|i| cell(row.get(i), dialect)).collect())
        .collect();
    let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let rule: String = widths
        .iter()
        .map(|w| format!("+{}", "-".repeat(w + 2)))
        .collect::<String>()
        + "+\n";
    let mut out = rule.clone();
    out.push_str(&table_line(columns, &widths));
    out.push_str(&rule);
    for row in &cells {
        out.push_str(&table_line(row, &widths));
    }
    if !cells.is_empty() {
        out.push_str(&rule);
    }
    out
}

fn cell(value: Option<&BoltValue>, dialect: Dialect) -> String {
    value.map_or_else(String::new, |v| value::text(v, dialect))
}

fn table_line(cells: &[String], widths: &[usize]) -> String {
    let mut line = String::new();
    for (cell, width) in cells.iter().zip(widths) {
        let pad = width - cell.chars().count();
        line.push_str(&format!("| {cell}{} ", " ".repeat(pad)));
    }
    line.push_str("|\n");
    line
}

/// A header line of column names, then one line per row.
pub fn csv(columns: &[String], rows: &[Vec<BoltValue>], dialect: Dialect) -> String {
    if columns.is_empty() {
        return String::new();
    }
    let mut out = csv_line(columns.iter().map(|c| csv_field(c)));
    for row in rows {
        out.push_str(&csv_line(row.iter().map(|v| csv_field(&value::plain_text(v, dialect)))));
    }
    out
}

fn csv_line(fields: impl Iterator<Item = String>) -> String {
    fields.collect::<Vec<_>>().join(",") + "\n"
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// One JSON object per row, keyed by column name.
pub fn json_lines(columns: &[String], rows: &[Vec<BoltValue>], dialect: Dialect) -> String {
    let mut out = String::new();
    for row in rows {
        let object: serde_json::Map<String, serde_json::Value> = columns
            .iter()
            .zip(row)
            .map(|(column, v)| (column.clone(), value::json(v, dialect)))
            .collect();
        out.push_str(&serde_json::Value::Object(object).to_string());
        out.push('\n');
    }
    out
}

/// `3 rows, 12 ms` plus the write counters the server reported, if any.
pub fn summary(result: &QueryResult, elapsed: Duration) -> String {
    let rows = result.rows.len();
    let mut line = format!(
        "{rows} row{}, {}",
        if rows == 1 { "" } else { "s" },
        duration_text(elapsed)
    );
    let stats = dict_get(&result.summary, "stats").and_then(BoltValue::as_dict);
    let counters: Vec<String> = stats
        .unwrap_or(&[])
        .iter()
        .filter_map(|(name, v)| match v {
            BoltValue::Integer(n) if *n != 0 => Some(format!("{name}: {n}")),
            _ => None,
        })
        .collect();
    if !counters.is_empty() {
        line.push_str("; ");
        line.push_str(&counters.join(", "));
    }
    line
}

fn duration_text(elapsed: Duration) -> String {
    if elapsed < Duration::from_secs(1) {
        format!("{} ms", elapsed.as_millis())
    } else {
        format!("{:.2} s", elapsed.as_secs_f64())
    }
}

#[cfg(test)]
mod tests;
