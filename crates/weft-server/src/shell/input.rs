//! Where one statement of shell input ends: at a `;` outside strings, quoted names and
//! comments.
//!
//! Owns: the lexical scan that lets a query span lines and lets `;` appear inside
//! `'...'`, `"..."`, `` `...` ``, `// ...` and `/* ... */`. Promises: [`split`] returns the
//! complete statements, trimmed and without their `;`, and the unfinished rest verbatim, so
//! a caller can keep the rest and append the next line. Empty statements (`;;`) are
//! dropped. It does not parse Cypher: the server reports any syntax error.

/// Where the scan is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lexical {
    Code,
    /// Inside a string or a backticked name closed by this character.
    Quoted(char),
    /// After a backslash inside a string.
    Escaped(char),
    LineComment,
    BlockComment,
}

/// The complete statements in `text` and the unfinished rest.
pub fn split(text: &str) -> (Vec<String>, String) {
    let mut statements = Vec::new();
    let mut state = Lexical::Code;
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        state = match (state, c) {
            (Lexical::Code, ';') => {
                push_statement(&mut statements, &text[start..i]);
                start = i + 1;
                Lexical::Code
            }
            (Lexical::Code, '\'' | '"' | '`') => Lexical::Quoted(c),
            (Lexical::Code, '/') if next == Some('/') => Lexical::LineComment,
            (Lexical::Code, '/') if next == Some('*') => {
                chars.next();
                Lexical::BlockComment
            }
            (Lexical::Quoted(q), '\\') if q != '`' => Lexical::Escaped(q),
            (Lexical::Quoted(q), c) if c == q => Lexical::Code,
            (Lexical::Escaped(q), _) => Lexical::Quoted(q),
            (Lexical::LineComment, '\n') => Lexical::Code,
            (Lexical::BlockComment, '*') if next == Some('/') => {
                chars.next();
                Lexical::Code
            }
            (state, _) => state,
        };
    }
    (statements, text[start..].to_string())
}

fn push_statement(statements: &mut Vec<String>, text: &str) {
    let statement = text.trim();
    if !statement.is_empty() {
        statements.push(statement.to_string());
    }
}

/// Whether `text` holds nothing but whitespace and closed comments (nothing to run, and
/// nothing left open that would change how the next line reads).
pub fn is_blank(text: &str) -> bool {
    // A `;` that ends the text unless a string or block comment is still open.
    let (statements, rest) = split(&format!("{text}\n;"));
    rest.is_empty() && statements.iter().all(|s| strip_comments(s).trim().is_empty())
}

/// `text` without its comments (strings and quoted names kept intact).
fn strip_comments(text: &str) -> String {
    let mut out = String::new();
    let mut state = Lexical::Code;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let (new_state, keep) = match (state, c) {
            (Lexical::Code, '/') if next == Some('/') => (Lexical::LineComment, false),
            (Lexical::Code, '/') if next == Some('*') => {
                chars.next();
                (Lexical::BlockComment, false)
            }
            (Lexical::Code, '\'' | '"' | '`') => (Lexical::Quoted(c), true),
            (Lexical::Quoted(q), '\\') if q != '`' => (Lexical::Escaped(q), true),
            (Lexical::Quoted(q), c) if c == q => (Lexical::Code, true),
            (Lexical::Escaped(q), _) => (Lexical::Quoted(q), true),
            (Lexical::LineComment, '\n') => (Lexical::Code, true),
            (Lexical::BlockComment, '*') if next == Some('/') => {
                chars.next();
                (Lexical::Code, false)
            }
            (state @ (Lexical::LineComment | Lexical::BlockComment), _) => (state, false),
            (state, _) => (state, true),
        };
        state = new_state;
        if keep {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_semicolons_and_keeps_the_rest() {
        let (statements, rest) = split("RETURN 1; RETURN 2;\nMATCH (n)\n");
        assert_eq!(statements, vec!["RETURN 1", "RETURN 2"]);
        assert_eq!(rest, "\nMATCH (n)\n");
    }

    #[test]
    fn ignores_semicolons_in_strings_names_and_comments() {
        let text = "RETURN 'a;b' AS `x;y`, \"c\\\";d\" // e;f\n/* g;h */ ;";
        let (statements, rest) = split(text);
        assert_eq!(statements.len(), 1, "{statements:?}");
        assert!(statements[0].starts_with("RETURN 'a;b' AS `x;y`"));
        assert_eq!(rest, "");
    }

    #[test]
    fn a_statement_can_span_lines() {
        let (statements, rest) = split("MATCH (n)\n");
        assert!(statements.is_empty());
        let (statements, rest) = split(&format!("{rest}RETURN n;"));
        assert_eq!(statements, vec!["MATCH (n)\nRETURN n"]);
        assert_eq!(rest, "");
    }

    #[test]
    fn empty_statements_are_dropped() {
        assert_eq!(split(" ;; RETURN 1 ;").0, vec!["RETURN 1"]);
    }

    #[test]
    fn comments_alone_are_blank() {
        assert!(is_blank("  // nothing\n /* still; nothing */ "));
        assert!(!is_blank("RETURN 1 // one"));
        assert!(!is_blank("RETURN '//'"));
        assert!(!is_blank("/* open comment"));
    }
}
