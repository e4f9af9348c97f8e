//! Transaction control sent as query text: Memgraph's clients (pymgclient) open and end
//! explicit transactions with the statements `BEGIN`, `COMMIT` and `ROLLBACK` in RUN,
//! not with Bolt's BEGIN and COMMIT messages.
//!
//! Owns: recognising those statements (whole statements, any case, an optional `;`), for
//! every server and relay that drives a transaction from them.

/// A transaction-control statement sent as query text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Begin,
    Commit,
    Rollback,
}

/// The statement `query` is, if it is BEGIN, COMMIT or ROLLBACK.
pub fn control_statement(query: &str) -> Option<Control> {
    // Runs for every RUN: compare in place rather than copy the whole query text, which
    // can be a large bulk load.
    let word = query.trim().trim_end_matches(';').trim();
    [
        ("BEGIN", Control::Begin),
        ("COMMIT", Control::Commit),
        ("ROLLBACK", Control::Rollback),
    ]
    .into_iter()
    .find_map(|(text, control)| word.eq_ignore_ascii_case(text).then_some(control))
}

#[cfg(test)]
mod tests {
    use super::{control_statement, Control};

    #[test]
    fn control_words_are_whole_statements_in_any_case() {
        assert_eq!(control_statement(" begin; "), Some(Control::Begin));
        assert_eq!(control_statement("COMMIT"), Some(Control::Commit));
        assert_eq!(control_statement("Rollback ;"), Some(Control::Rollback));
        assert_eq!(control_statement("BEGIN CREATE (n)"), None);
        assert_eq!(control_statement("RETURN 1"), None);
    }
}
