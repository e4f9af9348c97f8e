//! The lexer: query text to a vector of [`Token`]s, each with its byte span and
//! 1-based line/column [`Position`].
//!
//! Owns: whitespace and comments (`//`, `/* */`), names (keywords are plain names — the
//! parser compares them case-insensitively), backtick-quoted names with ``` `` ``` escapes,
//! parameters (`$name`, `$0`, ``$`quoted` ``), number literals (decimal, `0x` hex, `0o`
//! octal, floats with `.5`/`1e3` forms), string literals in both quote styles with their
//! escapes, and punctuation.
//!
//! Promises: never panics and always ends the vector with [`Tok::Eof`]. A malformed
//! number does not stop lexing: it becomes [`Tok::BadNumber`], so the parser can report
//! `InvalidNumberLiteral` where a number was wanted and `UnexpectedSyntax` elsewhere
//! (`{1B2c: 1}` is a bad map key, not a bad number). Any other lexical error becomes a
//! final [`Tok::Error`] token followed by `Eof`; the parser reports it when it gets
//! there, so errors come out in text order.

use crate::error::{Position, QueryError};

/// Punctuation and operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sym {
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Dot,
    DotDot,
    Colon,
    Semicolon,
    Pipe,
    Plus,
    PlusEq,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
    Eq,
    /// `<>`
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `=~`
    RegexMatch,
}

/// What a token is.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// An unquoted name; also every keyword.
    Name(String),
    /// A backtick-quoted name (never a keyword).
    Quoted(String),
    /// An integer literal that fits in `u64`; the parser checks the `i64` range, since
    /// `-9223372036854775808` is the negation of a literal one past `i64::MAX`.
    Int(u64),
    Float(f64),
    /// A malformed number literal: the error detail code and a description.
    BadNumber(&'static str, &'static str),
    Str(String),
    Param(String),
    Sym(Sym),
    /// A lexical error; always the last token before `Eof`.
    Error(Box<QueryError>),
    Eof,
}

/// A token and where it is in the text.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset one past the last character.
    pub end: usize,
    pub position: Position,
}

/// Splits `text` into tokens; see the module docs for the error contract.
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut lexer = Lexer {
        text,
        offset: 0,
        line: 1,
        column: 1,
        // Inline data in bulk statements (`{s:17,d:342,y:2019}`: 13 tokens in 20 bytes)
        // runs at about two tokens per three bytes: sized so up front, a long text's token
        // vector is not copied as it grows. Capped, so that one huge string literal
        // reserves no more than ~10 MB.
        tokens: Vec::with_capacity((text.len() / 3 * 2).min(1 << 17) + 8),
    };
    lexer.run();
    lexer.tokens
}

struct Lexer<'a> {
    text: &'a str,
    offset: usize,
    line: u32,
    column: u32,
    tokens: Vec<Token>,
}

type LexResult<T> = Result<T, QueryError>;

impl Lexer<'_> {
    fn run(&mut self) {
        loop {
            if let Err(e) = self.skip_trivia() {
                return self.finish_with_error(e);
            }
            let (start, position) = (self.offset, self.position());
            let Some(c) = self.peek() else { break };
            match self.token(c) {
                Ok(tok) => self.tokens.push(Token {
                    tok,
                    start,
                    end: self.offset,
                    position,
                }),
                Err(e) => return self.finish_with_error(e),
            }
        }
        self.push_eof();
    }

    fn finish_with_error(&mut self, error: QueryError) {
        let position = error.position.unwrap_or_else(|| self.position());
        let tok = Tok::Error(Box::new(error));
        self.tokens.push(Token {
            tok,
            start: position.offset,
            end: self.offset,
            position,
        });
        self.push_eof();
    }

    fn push_eof(&mut self) {
        let position = self.position();
        self.tokens.push(Token {
            tok: Tok::Eof,
            start: self.offset,
            end: self.offset,
            position,
        });
    }

    fn position(&self) -> Position {
        Position {
            offset: self.offset,
            line: self.line,
            column: self.column,
        }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.offset..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.text[self.offset..].chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.offset += c.len_utf8();
        if c == '\n' {
            self.line = self.line.saturating_add(1);
            self.column = 1;
        } else {
            self.column = self.column.saturating_add(1);
        }
        Some(c)
    }

    fn error_at(&self, detail: &'static str, message: impl Into<String>, position: Position) -> QueryError {
        QueryError::syntax(detail, message, position)
    }

    /// Skips whitespace and comments.
    fn skip_trivia(&mut self) -> LexResult<()> {
        loop {
            match (self.peek(), self.peek_at(1)) {
                (Some(c), _) if c.is_whitespace() => {
                    self.bump();
                }
                (Some('/'), Some('/')) => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                }
                (Some('/'), Some('*')) => self.skip_block_comment()?,
                _ => return Ok(()),
            }
        }
    }

    fn skip_block_comment(&mut self) -> LexResult<()> {
        let start = self.position();
        self.bump();
        self.bump();
        loop {
            match self.bump() {
                Some('*') if self.peek() == Some('/') => {
                    self.bump();
                    return Ok(());
                }
                Some(_) => {}
                None => return Err(self.error_at("UnexpectedSyntax", "Unterminated comment: expected '*/'", start)),
            }
        }
    }

    /// Lexes one token starting with `c`.
    fn token(&mut self, c: char) -> LexResult<Tok> {
        match c {
            '0'..='9' => Ok(self.number()),
            '.' if self.peek_at(1).is_some_and(|d| d.is_ascii_digit()) => Ok(self.number()),
            '\'' | '"' => self.string(c),
            '`' => self.quoted_name().map(Tok::Quoted),
            '$' => self.parameter(),
            c if is_name_start(c) => Ok(Tok::Name(self.take_while(is_name_part).to_string())),
            _ => self.symbol(c),
        }
    }

    fn take_while(&mut self, pred: impl Fn(char) -> bool) -> &str {
        let start = self.offset;
        while self.peek().is_some_and(&pred) {
            self.bump();
        }
        &self.text[start..self.offset]
    }

    fn symbol(&mut self, c: char) -> LexResult<Tok> {
        let next = self.peek_at(1);
        let (sym, len) = match (c, next) {
            ('.', Some('.')) => (Sym::DotDot, 2),
            ('+', Some('=')) => (Sym::PlusEq, 2),
            ('=', Some('~')) => (Sym::RegexMatch, 2),
            ('<', Some('>')) => (Sym::Ne, 2),
            ('<', Some('=')) => (Sym::Le, 2),
            ('>', Some('=')) => (Sym::Ge, 2),
            _ => match single_symbol(c) {
                Some(sym) => (sym, 1),
                None => return Err(self.bad_character(c)),
            },
        };
        for _ in 0..len {
            self.bump();
        }
        Ok(Tok::Sym(sym))
    }

    fn bad_character(&self, c: char) -> QueryError {
        let detail = if c.is_ascii() {
            "UnexpectedSyntax"
        } else {
            "InvalidUnicodeCharacter"
        };
        self.error_at(
            detail,
            format!("Invalid input '{c}': unexpected character"),
            self.position(),
        )
    }

    /// A number literal; a name character right after it makes the whole word a
    /// [`Tok::BadNumber`].
    fn number(&mut self) -> Tok {
        let tok = self.number_body();
        if self.peek().is_some_and(is_name_part) {
            self.take_while(is_name_part);
            return Tok::BadNumber("InvalidNumberLiteral", "invalid number literal");
        }
        tok
    }

    fn number_body(&mut self) -> Tok {
        let start = self.offset;
        if self.peek() == Some('0') {
            match self.peek_at(1) {
                Some('x' | 'X') => return self.radix_integer(16),
                Some('o' | 'O') => return self.radix_integer(8),
                _ => {}
            }
        }
        self.take_while(|c| c.is_ascii_digit());
        let mut is_float = false;
        if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
            self.take_while(|c| c.is_ascii_digit());
            is_float = true;
        }
        if matches!(self.peek(), Some('e' | 'E')) && self.exponent_follows() {
            self.bump();
            if matches!(self.peek(), Some('+' | '-')) {
                self.bump();
            }
            self.take_while(|c| c.is_ascii_digit());
            is_float = true;
        }
        let text = &self.text[start..self.offset];
        if is_float {
            parse_float(text)
        } else {
            text.parse::<u64>()
                .map(Tok::Int)
                .unwrap_or(Tok::BadNumber("IntegerOverflow", "integer literal out of range"))
        }
    }

    /// After an `e`: is there a (signed) digit run, making it an exponent?
    fn exponent_follows(&self) -> bool {
        match self.peek_at(1) {
            Some('+' | '-') => self.peek_at(2).is_some_and(|c| c.is_ascii_digit()),
            Some(c) => c.is_ascii_digit(),
            None => false,
        }
    }

    fn radix_integer(&mut self, radix: u32) -> Tok {
        self.bump();
        self.bump();
        let digits = self.take_while(|c| c.is_digit(radix));
        if digits.is_empty() {
            return Tok::BadNumber("InvalidNumberLiteral", "invalid number literal");
        }
        u64::from_str_radix(digits, radix)
            .map(Tok::Int)
            .unwrap_or(Tok::BadNumber("IntegerOverflow", "integer literal out of range"))
    }

    fn string(&mut self, quote: char) -> LexResult<Tok> {
        let start = self.position();
        self.bump();
        let mut out = String::new();
        loop {
            let position = self.position();
            match self.bump() {
                None => return Err(self.error_at("UnexpectedSyntax", "Unterminated string literal", start)),
                Some(c) if c == quote => return Ok(Tok::Str(out)),
                Some('\\') => self.escape(&mut out, position)?,
                Some(c) => out.push(c),
            }
        }
    }

    /// Decodes the escape after a backslash into `out`.
    fn escape(&mut self, out: &mut String, position: Position) -> LexResult<()> {
        let c = match self.bump() {
            Some('\\') => '\\',
            Some('\'') => '\'',
            Some('"') => '"',
            Some('b' | 'B') => '\u{8}',
            Some('f' | 'F') => '\u{c}',
            Some('n' | 'N') => '\n',
            Some('r' | 'R') => '\r',
            Some('t' | 'T') => '\t',
            Some('u') => self.unicode_escape(4, position)?,
            Some('U') => self.unicode_escape(8, position)?,
            Some(other) => {
                let message = format!("Invalid input '\\{other}': unknown escape sequence in string literal");
                return Err(self.error_at("UnexpectedSyntax", message, position));
            }
            None => return Err(self.error_at("UnexpectedSyntax", "Unterminated string literal", position)),
        };
        out.push(c);
        Ok(())
    }

    /// `\uXXXX` (with a following `\uXXXX` low surrogate if this one is high) or
    /// `\UXXXXXXXX`.
    fn unicode_escape(&mut self, len: usize, position: Position) -> LexResult<char> {
        let code = self.hex_digits(len, position)?;
        if (0xD800..0xDC00).contains(&code) && self.peek() == Some('\\') && self.peek_at(1) == Some('u') {
            self.bump();
            self.bump();
            let low = self.hex_digits(4, position)?;
            if (0xDC00..0xE000).contains(&low) {
                let combined = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                return char::from_u32(combined).ok_or_else(|| self.bad_unicode(position));
            }
            return Err(self.bad_unicode(position));
        }
        char::from_u32(code).ok_or_else(|| self.bad_unicode(position))
    }

    fn hex_digits(&mut self, len: usize, position: Position) -> LexResult<u32> {
        let mut code = 0u32;
        for _ in 0..len {
            match self.peek().and_then(|c| c.to_digit(16)) {
                Some(d) => {
                    self.bump();
                    code = code * 16 + d;
                }
                None => return Err(self.bad_unicode(position)),
            }
        }
        Ok(code)
    }

    fn bad_unicode(&self, position: Position) -> QueryError {
        self.error_at(
            "InvalidUnicodeLiteral",
            "Invalid input: invalid unicode escape in string literal",
            position,
        )
    }

    fn quoted_name(&mut self) -> LexResult<String> {
        let start = self.position();
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.error_at("UnexpectedSyntax", "Unterminated quoted name: expected '`'", start)),
                Some('`') if self.peek() == Some('`') => {
                    self.bump();
                    out.push('`');
                }
                Some('`') => return Ok(out),
                Some(c) => out.push(c),
            }
        }
    }

    fn parameter(&mut self) -> LexResult<Tok> {
        let position = self.position();
        self.bump();
        match self.peek() {
            Some('`') => self.quoted_name().map(Tok::Param),
            Some(c) if is_name_part(c) => Ok(Tok::Param(self.take_while(is_name_part).to_string())),
            _ => Err(self.error_at(
                "UnexpectedSyntax",
                "Invalid input '$': expected a parameter name",
                position,
            )),
        }
    }
}

fn single_symbol(c: char) -> Option<Sym> {
    Some(match c {
        '(' => Sym::LParen,
        ')' => Sym::RParen,
        '[' => Sym::LBracket,
        ']' => Sym::RBracket,
        '{' => Sym::LBrace,
        '}' => Sym::RBrace,
        ',' => Sym::Comma,
        '.' => Sym::Dot,
        ':' => Sym::Colon,
        ';' => Sym::Semicolon,
        '|' => Sym::Pipe,
        '+' => Sym::Plus,
        '-' => Sym::Minus,
        '*' => Sym::Star,
        '/' => Sym::Slash,
        '%' => Sym::Percent,
        '^' => Sym::Caret,
        '=' => Sym::Eq,
        '<' => Sym::Lt,
        '>' => Sym::Gt,
        _ => return None,
    })
}

fn parse_float(text: &str) -> Tok {
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() => Tok::Float(f),
        Ok(_) => Tok::BadNumber("FloatingPointOverflow", "floating point literal out of range"),
        Err(_) => Tok::BadNumber("InvalidNumberLiteral", "invalid number literal"),
    }
}

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_name_part(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}
