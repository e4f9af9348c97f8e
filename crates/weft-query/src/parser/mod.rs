//! The openCypher parser: query text to an [`ast::Statement`].
//!
//! Owns: the grammar of openCypher 9 plus Weft's admin statements (`EXPLAIN`, `PROFILE`,
//! index and constraint DDL, `SHOW ... INFO`), and every *syntax* error. Semantic rules
//! (undefined variables, aggregation placement, clause composition) belong to semantic
//! analysis; the parser accepts such queries.
//!
//! Promises to the layer above: [`parse`] never panics on any input (the text comes from
//! the network), bounds its recursion depth, and runs in time polynomial in the input
//! (it never backtracks; ambiguities are settled by token lookahead). Errors are
//! [`QueryError::syntax`] values naming the offending token, what was expected and its
//! position; the detail code is `UnexpectedSyntax` unless a TCK code fits better
//! (`InvalidNumberLiteral`, `IntegerOverflow`, `FloatingPointOverflow`,
//! `InvalidUnicodeLiteral`, `InvalidUnicodeCharacter`, `InvalidRelationshipPattern`).
//!
//! AST conventions chosen here:
//! - Every comparison, even a single `a = b`, is [`ast::ExprKind::Comparison`]; comparison
//!   operators never appear in [`ast::ExprKind::Binary`].
//! - A unary minus applied directly to a number literal is folded into the literal
//!   (`-1` is `Int(-1)`), which is how `-9223372036854775808` is representable.
//! - Variable length `*` is `Some((None, None))`, `*2` is `Some((Some(2), Some(2)))`.
//! - A standalone `CALL p() YIELD *` has `yields: None`, like a call without YIELD.
//! - [`Position::offset`] is a byte offset; line and column count characters from 1.
//! - Pattern predicates (`(a)-->(b)` as an expression) are accepted only inside a WHERE
//!   (of a clause, comprehension, quantifier or EXISTS) and in `exists(...)` arguments.
//!
//! Layout: [`lexer`] makes tokens; this file holds the token cursor shared by the
//! grammar files `clause` (queries and clauses), `expr` (operators), `atom` (literals,
//! calls, comprehensions), `pattern` and `admin`.

mod admin;
mod atom;
mod clause;
mod expr;
mod lexer;
mod pattern;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_expr;

use crate::ast::Statement;
use crate::error::{Position, QueryError};
use lexer::{Sym, Tok, Token};

/// Parses one statement (an optional trailing `;` is allowed, a second statement is not).
pub fn parse(text: &str) -> Result<Statement, QueryError> {
    parse_with(text, &[])
}

/// As [`parse`], also recognising the registered admin commands started by `commands`
/// (each a sequence of upper-case keywords, longest first).
pub fn parse_with(text: &str, commands: &[Vec<String>]) -> Result<Statement, QueryError> {
    let mut parser = Parser::new(text, commands);
    let statement = parser.statement()?;
    parser.eat_sym(Sym::Semicolon);
    if !parser.at_end() {
        return Err(parser.error_expected("end of input"));
    }
    Ok(statement)
}

type PResult<T> = Result<T, QueryError>;

/// How deeply expressions, patterns and clauses may nest. Each level costs about 5 KiB of
/// stack in optimised builds (18 KiB unoptimised), so this keeps the recursive descent
/// well inside a 2 MiB thread.
const MAX_DEPTH: usize = 64;

/// Words that cannot be used unquoted as a variable or function name (openCypher's
/// reserved words); they stay usable as labels, types, property keys and map keys.
const RESERVED: &[&str] = &[
    "ALL",
    "ASC",
    "ASCENDING",
    "BY",
    "CREATE",
    "DELETE",
    "DESC",
    "DESCENDING",
    "DETACH",
    "EXISTS",
    "LIMIT",
    "MATCH",
    "MERGE",
    "ON",
    "OPTIONAL",
    "ORDER",
    "REMOVE",
    "RETURN",
    "SET",
    "SKIP",
    "WHERE",
    "WITH",
    "UNION",
    "UNWIND",
    "AND",
    "AS",
    "CONTAINS",
    "DISTINCT",
    "ENDS",
    "IN",
    "IS",
    "NOT",
    "OR",
    "STARTS",
    "XOR",
    "CASE",
    "ELSE",
    "END",
    "THEN",
    "WHEN",
    "NULL",
    "TRUE",
    "FALSE",
    "CONSTRAINT",
    "DO",
    "FOR",
    "REQUIRE",
    "UNIQUE",
    "MANDATORY",
    "SCALAR",
    "OF",
    "ADD",
    "DROP",
];

/// Token cursor plus the little context the grammar needs.
struct Parser<'a> {
    text: &'a str,
    /// The registered admin commands' keywords, longest first.
    commands: &'a [Vec<String>],
    /// Always ends with `Eof`.
    tokens: Vec<Token>,
    /// For each opening bracket token, the index of its matching closer.
    closers: Vec<Option<usize>>,
    pos: usize,
    depth: usize,
    /// True while parsing a WHERE predicate, where pattern predicates are allowed.
    patterns_allowed: bool,
    /// The height of the tallest expression finished since the enclosing atom began
    /// (see `parser/expr.rs`).
    child_height: u32,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, commands: &'a [Vec<String>]) -> Self {
        let tokens = lexer::tokenize(text);
        let closers = match_brackets(&tokens);
        Parser {
            text,
            commands,
            tokens,
            closers,
            pos: 0,
            depth: 0,
            patterns_allowed: false,
            child_height: 0,
        }
    }

    // ----- looking -----

    fn token_at(&self, n: usize) -> &Token {
        let last = self.tokens.len() - 1;
        &self.tokens[self.pos.saturating_add(n).min(last)]
    }

    fn peek(&self) -> &Tok {
        &self.token_at(0).tok
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.token_at(n).tok
    }

    fn position(&self) -> Position {
        self.token_at(0).position
    }

    fn at_end(&self) -> bool {
        matches!(self.peek(), Tok::Eof)
    }

    fn at_sym(&self, sym: Sym) -> bool {
        self.sym_at(0, sym)
    }

    fn sym_at(&self, n: usize, sym: Sym) -> bool {
        matches!(self.peek_at(n), Tok::Sym(s) if *s == sym)
    }

    fn at_kw(&self, kw: &str) -> bool {
        self.kw_at(0, kw)
    }

    fn kw_at(&self, n: usize, kw: &str) -> bool {
        matches!(self.peek_at(n), Tok::Name(name) if name.eq_ignore_ascii_case(kw))
    }

    /// Is the token `n` ahead a name (quoted or not)?
    fn name_at(&self, n: usize) -> bool {
        matches!(self.peek_at(n), Tok::Name(_) | Tok::Quoted(_))
    }

    /// The index of the token matching the opening bracket `n` tokens ahead.
    fn closer_of(&self, n: usize) -> Option<usize> {
        let index = self.pos.saturating_add(n);
        self.closers.get(index).copied().flatten()
    }

    /// Byte offset just past the last consumed token.
    fn prev_end(&self) -> usize {
        match self.pos.checked_sub(1) {
            Some(i) => self.tokens[i].end,
            None => 0,
        }
    }

    // ----- consuming -----

    fn advance(&mut self) {
        if !self.at_end() && !matches!(self.peek(), Tok::Error(_)) {
            self.pos += 1;
        }
    }

    fn eat_sym(&mut self, sym: Sym) -> bool {
        let found = self.at_sym(sym);
        if found {
            self.advance();
        }
        found
    }

    fn expect_sym(&mut self, sym: Sym, shown: &str) -> PResult<()> {
        if self.eat_sym(sym) {
            Ok(())
        } else {
            Err(self.error_expected(&format!("'{shown}'")))
        }
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        let found = self.at_kw(kw);
        if found {
            self.advance();
        }
        found
    }

    fn expect_kw(&mut self, kw: &str) -> PResult<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.error_expected(&format!("'{kw}'")))
        }
    }

    /// A schema name (label, type, property key, map key): any name, reserved or not.
    fn schema_name(&mut self, what: &str) -> PResult<String> {
        match self.peek() {
            Tok::Name(name) | Tok::Quoted(name) => {
                let name = name.clone();
                self.advance();
                Ok(name)
            }
            _ => Err(self.error_expected(what)),
        }
    }

    /// A variable: a quoted name or an unquoted one that is not reserved.
    fn variable(&mut self) -> PResult<String> {
        if self.variable_at(0) {
            self.schema_name("a variable name")
        } else {
            Err(self.error_expected("a variable name"))
        }
    }

    fn variable_at(&self, n: usize) -> bool {
        match self.peek_at(n) {
            Tok::Quoted(_) => true,
            Tok::Name(name) => !is_reserved(name),
            _ => false,
        }
    }

    /// Runs `f` one nesting level deeper, failing past [`MAX_DEPTH`].
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.depth >= MAX_DEPTH {
            return Err(self.too_deep());
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    // Kept out of line: `nested` sits on every recursion path, so its frame stays small.
    #[cold]
    #[inline(never)]
    fn too_deep(&self) -> QueryError {
        let message = format!("Invalid input '{}': query nested too deeply", self.token_text());
        QueryError::syntax("UnexpectedSyntax", message, self.position())
    }

    /// Runs `f` with pattern predicates allowed or not, restoring the flag afterwards.
    fn with_patterns<T>(&mut self, allowed: bool, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        let saved = std::mem::replace(&mut self.patterns_allowed, allowed);
        let result = f(self);
        self.patterns_allowed = saved;
        result
    }

    // ----- errors -----

    /// The source text of the current token, shortened for messages.
    fn token_text(&self) -> String {
        let token = self.token_at(0);
        let text = self.text.get(token.start..token.end).unwrap_or("");
        let mut shown: String = text.chars().take(40).collect();
        if shown.len() < text.len() {
            shown.push_str("...");
        }
        shown
    }

    /// `Invalid input 'x': expected <expected>` at the current token (or the lexer's own
    /// error if the current token is one).
    fn error_expected(&self, expected: &str) -> QueryError {
        if let Tok::Error(e) = self.peek() {
            return (**e).clone();
        }
        let message = if self.at_end() {
            format!("Unexpected end of input: expected {expected}")
        } else {
            format!("Invalid input '{}': expected {expected}", self.token_text())
        };
        QueryError::syntax("UnexpectedSyntax", message, self.position())
    }

    /// A syntax error with a specific detail code at `position`.
    fn error_at(&self, detail: &'static str, message: String, position: Position) -> QueryError {
        QueryError::syntax(detail, message, position)
    }
}

fn is_reserved(name: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name))
}

/// Pairs `(`/`)`, `[`/`]` and `{`/`}` tokens; unmatched ones get `None`.
fn match_brackets(tokens: &[Token]) -> Vec<Option<usize>> {
    let mut closers = vec![None; tokens.len()];
    let mut stack: Vec<(usize, Sym)> = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let Tok::Sym(sym) = token.tok else { continue };
        let open = match sym {
            Sym::RParen => Sym::LParen,
            Sym::RBracket => Sym::LBracket,
            Sym::RBrace => Sym::LBrace,
            Sym::LParen | Sym::LBracket | Sym::LBrace => {
                stack.push((i, sym));
                continue;
            }
            _ => continue,
        };
        // An unbalanced closer leaves the brackets around it unmatched.
        match stack.pop() {
            Some((j, s)) if s == open => closers[j] = Some(i),
            _ => stack.clear(),
        }
    }
    closers
}
