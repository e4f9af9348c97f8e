//! Expression operators and their precedence, lowest to highest:
//! `OR`, `XOR`, `AND`, `NOT`, comparison chains (`=`, `<>`, `<`, `<=`, `>`, `>=`),
//! string/list/null predicates (`STARTS WITH`, `ENDS WITH`, `CONTAINS`, `=~`, `IN`,
//! `IS [NOT] NULL`), `+ -`, `* / %`, `^` (left-associative), unary `+ -`, then postfix
//! property lookup `.k`, index `[i]`, slice `[a..b]` and label predicate `:L:M`.
//!
//! Infix operators are parsed by precedence climbing ([`Parser::climb`]) and prefix
//! operators are collected in loops, so the parser's stack grows with nesting through
//! atoms (parentheses, lists, calls), which [`Parser::expr`] counts, and not with the
//! number of precedence levels. Loops still build deep trees (`a OR b OR ...` is
//! left-deep), and every later phase — and dropping the tree — recurses over it, so each
//! function here also returns the height of the tree it built and expressions taller
//! than [`MAX_HEIGHT`] are rejected. Atoms live in `atom.rs`.

use super::lexer::{Sym, Tok};
use super::{PResult, Parser};
use crate::ast::{BinaryOp, Expr, ExprKind, UnaryOp};
use crate::error::Position;

/// `i64::MIN` without its sign: only valid as the operand of a unary minus.
const I64_MIN_MAGNITUDE: u64 = 1 << 63;

/// The tallest expression tree accepted; see the module docs.
const MAX_HEIGHT: u32 = 500;

// Binding strengths, loosest first.
const OR: u8 = 1;
const XOR: u8 = 2;
const AND: u8 = 3;
const COMPARISON: u8 = 5;
const PREDICATE: u8 = 6;
const ADDITIVE: u8 = 7;
const MULTIPLICATIVE: u8 = 8;
const POWER: u8 = 9;

/// An expression and the height of its tree.
type Tall = (Expr, u32);

/// An infix or postfix operator found at the cursor.
enum Infix {
    /// A left-associative binary operator spelled with `tokens` tokens.
    Binary(BinaryOp, usize),
    Comparison,
    IsNull,
}

impl Parser<'_> {
    /// A full expression.
    pub(super) fn expr(&mut self) -> PResult<Expr> {
        let (expr, height) = self.nested(|p| p.climb(OR))?;
        self.child_height = self.child_height.max(height);
        Ok(expr)
    }

    /// An expression where pattern predicates are allowed (a WHERE).
    pub(super) fn predicate(&mut self) -> PResult<Expr> {
        self.with_patterns(true, |p| p.expr())
    }

    /// Fails if a tree of `height` is taller than [`MAX_HEIGHT`].
    fn check_height(&self, height: u32) -> PResult<u32> {
        if height <= MAX_HEIGHT {
            return Ok(height);
        }
        let message = format!("Invalid input '{}': expression nested too deeply", self.token_text());
        Err(self.error_at("UnexpectedSyntax", message, self.position()))
    }

    /// The operator at the cursor and its binding strength.
    fn infix_at(&self) -> Option<(Infix, u8)> {
        let binary = |op, strength| Some((Infix::Binary(op, 1), strength));
        match self.peek() {
            Tok::Sym(Sym::Eq | Sym::Ne | Sym::Lt | Sym::Le | Sym::Gt | Sym::Ge) => {
                Some((Infix::Comparison, COMPARISON))
            }
            Tok::Sym(Sym::RegexMatch) => binary(BinaryOp::Regex, PREDICATE),
            Tok::Sym(Sym::Plus) => binary(BinaryOp::Add, ADDITIVE),
            Tok::Sym(Sym::Minus) => binary(BinaryOp::Sub, ADDITIVE),
            Tok::Sym(Sym::Star) => binary(BinaryOp::Mul, MULTIPLICATIVE),
            Tok::Sym(Sym::Slash) => binary(BinaryOp::Div, MULTIPLICATIVE),
            Tok::Sym(Sym::Percent) => binary(BinaryOp::Mod, MULTIPLICATIVE),
            Tok::Sym(Sym::Caret) => binary(BinaryOp::Pow, POWER),
            Tok::Name(word) => match word.to_ascii_uppercase().as_str() {
                "OR" => binary(BinaryOp::Or, OR),
                "XOR" => binary(BinaryOp::Xor, XOR),
                "AND" => binary(BinaryOp::And, AND),
                "CONTAINS" => binary(BinaryOp::Contains, PREDICATE),
                "IN" => binary(BinaryOp::In, PREDICATE),
                "STARTS" if self.kw_at(1, "WITH") => Some((Infix::Binary(BinaryOp::StartsWith, 2), PREDICATE)),
                "ENDS" if self.kw_at(1, "WITH") => Some((Infix::Binary(BinaryOp::EndsWith, 2), PREDICATE)),
                "IS" => Some((Infix::IsNull, PREDICATE)),
                _ => None,
            },
            _ => None,
        }
    }

    /// Operators binding at least as tightly as `min`, by precedence climbing.
    fn climb(&mut self, min: u8) -> PResult<Tall> {
        let mut left = self.operand()?;
        while let Some((infix, strength)) = self.infix_at() {
            if strength < min {
                break;
            }
            left = match infix {
                Infix::Binary(op, tokens) => {
                    for _ in 0..tokens {
                        self.advance();
                    }
                    let right = self.climb(strength + 1)?;
                    self.binary(op, left, right)?
                }
                Infix::Comparison => self.comparison_chain(left)?,
                Infix::IsNull => self.is_null(left)?,
            };
        }
        Ok(left)
    }

    /// `left op right`, if not too tall.
    fn binary(&self, op: BinaryOp, (left, lh): Tall, (right, rh): Tall) -> PResult<Tall> {
        let height = self.check_height(lh.max(rh) + 1)?;
        let position = left.position;
        Ok((
            Expr {
                kind: ExprKind::Binary(op, Box::new(left), Box::new(right)),
                position,
            },
            height,
        ))
    }

    fn comparison_op(&self) -> Option<BinaryOp> {
        match self.peek() {
            Tok::Sym(Sym::Eq) => Some(BinaryOp::Eq),
            Tok::Sym(Sym::Ne) => Some(BinaryOp::Ne),
            Tok::Sym(Sym::Lt) => Some(BinaryOp::Lt),
            Tok::Sym(Sym::Le) => Some(BinaryOp::Le),
            Tok::Sym(Sym::Gt) => Some(BinaryOp::Gt),
            Tok::Sym(Sym::Ge) => Some(BinaryOp::Ge),
            _ => None,
        }
    }

    /// A chain `a < b <= c` after `a`; always a `Comparison`, even with one operator.
    fn comparison_chain(&mut self, (first, mut height): Tall) -> PResult<Tall> {
        let mut chain = Vec::new();
        while let Some(op) = self.comparison_op() {
            self.advance();
            let (operand, h) = self.climb(PREDICATE)?;
            height = height.max(h);
            chain.push((op, operand));
        }
        let height = self.check_height(height + 1)?;
        let position = first.position;
        Ok((
            Expr {
                kind: ExprKind::Comparison(Box::new(first), chain),
                position,
            },
            height,
        ))
    }

    /// `IS [NOT] NULL` after `expr`.
    fn is_null(&mut self, (expr, height): Tall) -> PResult<Tall> {
        self.expect_kw("IS")?;
        let negated = self.eat_kw("NOT");
        self.expect_kw("NULL")?;
        let height = self.check_height(height + 1)?;
        let position = expr.position;
        Ok((
            Expr {
                kind: ExprKind::IsNull(Box::new(expr), negated),
                position,
            },
            height,
        ))
    }

    /// An operand of an infix operator: `NOT`s over a comparison, or unary `+`/`-`s over
    /// a postfix expression. Minus folds into number literals, which is how
    /// `-9223372036854775808` (one past `i64::MAX` negated) is written.
    fn operand(&mut self) -> PResult<Tall> {
        if self.at_kw("NOT") {
            return self.not_expr();
        }
        let mut ops: Vec<(UnaryOp, Position)> = Vec::new();
        loop {
            let op = match self.peek() {
                Tok::Sym(Sym::Minus) => UnaryOp::Minus,
                Tok::Sym(Sym::Plus) => UnaryOp::Plus,
                _ => break,
            };
            ops.push((op, self.position()));
            self.advance();
        }
        let (mut expr, mut height) = match (ops.last(), self.peek()) {
            (Some((UnaryOp::Minus, position)), Tok::Int(I64_MIN_MAGNITUDE)) => {
                let position = *position;
                ops.pop();
                self.advance();
                self.postfix_ops(
                    (
                        Expr {
                            kind: ExprKind::Int(i64::MIN),
                            position,
                        },
                        1,
                    ),
                    true,
                )?
            }
            _ => self.postfix_tall(true)?,
        };
        for (op, position) in ops.into_iter().rev() {
            let folded;
            (expr, folded) = apply_unary(op, expr, position);
            if !folded {
                height = self.check_height(height + 1)?;
            }
        }
        Ok((expr, height))
    }

    /// `NOT NOT ... comparison`.
    fn not_expr(&mut self) -> PResult<Tall> {
        let mut nots = Vec::new();
        while self.at_kw("NOT") {
            nots.push(self.position());
            self.advance();
        }
        let (mut expr, height) = self.climb(COMPARISON)?;
        let height = self.check_height(u32::try_from(nots.len()).unwrap_or(u32::MAX).saturating_add(height))?;
        for position in nots.into_iter().rev() {
            expr = Expr {
                kind: ExprKind::Unary(UnaryOp::Not, Box::new(expr)),
                position,
            };
        }
        Ok((expr, height))
    }

    /// An atom followed by its postfix operators; `labels` allows `:L` predicates
    /// (off for SET/REMOVE targets, where `n:L` means something else).
    pub(super) fn postfix(&mut self, labels: bool) -> PResult<Expr> {
        let (expr, height) = self.postfix_tall(labels)?;
        self.child_height = self.child_height.max(height);
        Ok(expr)
    }

    fn postfix_tall(&mut self, labels: bool) -> PResult<Tall> {
        let saved = std::mem::replace(&mut self.child_height, 0);
        let atom = self.atom();
        let height = self.child_height.saturating_add(1);
        self.child_height = saved;
        self.postfix_ops((atom?, height), labels)
    }

    fn postfix_ops(&mut self, (mut expr, mut height): Tall, labels: bool) -> PResult<Tall> {
        let position = expr.position;
        loop {
            let saved = std::mem::replace(&mut self.child_height, 0);
            let kind = if self.eat_sym(Sym::Dot) {
                let key = self.schema_name("a property key name");
                ExprKind::Property(Box::new(expr), key?)
            } else if self.at_sym(Sym::LBracket) {
                self.index_or_slice(expr)?
            } else if labels && self.at_sym(Sym::Colon) {
                ExprKind::HasLabels(Box::new(expr), self.labels()?)
            } else {
                self.child_height = saved;
                return Ok((expr, height));
            };
            height = self.check_height(height.max(self.child_height).saturating_add(1))?;
            self.child_height = saved;
            expr = Expr { kind, position };
        }
    }

    /// `[i]`, `[a..b]`, `[..b]`, `[a..]`, `[..]` after `expr`.
    fn index_or_slice(&mut self, expr: Expr) -> PResult<ExprKind> {
        self.expect_sym(Sym::LBracket, "[")?;
        let from = if self.at_sym(Sym::DotDot) {
            None
        } else {
            Some(Box::new(self.expr()?))
        };
        if self.eat_sym(Sym::DotDot) {
            let to = if self.at_sym(Sym::RBracket) {
                None
            } else {
                Some(Box::new(self.expr()?))
            };
            self.expect_sym(Sym::RBracket, "]")?;
            return Ok(ExprKind::Slice(Box::new(expr), from, to));
        }
        self.expect_sym(Sym::RBracket, "]")?;
        match from {
            Some(index) => Ok(ExprKind::Index(Box::new(expr), index)),
            None => Err(self.error_expected("an expression")),
        }
    }

    /// `:A:B` (at least one label); also used by node patterns and SET/REMOVE.
    pub(super) fn labels(&mut self) -> PResult<Vec<String>> {
        let mut labels = Vec::new();
        while self.eat_sym(Sym::Colon) {
            labels.push(self.schema_name("a label name")?);
        }
        if labels.is_empty() {
            return Err(self.error_expected("':'"));
        }
        Ok(labels)
    }
}

/// Applies a prefix operator, folding a minus into a number literal; says whether it
/// folded.
fn apply_unary(op: UnaryOp, expr: Expr, position: Position) -> (Expr, bool) {
    let (kind, folded) = match (op, expr.kind) {
        (UnaryOp::Minus, ExprKind::Int(v)) if v != i64::MIN => (ExprKind::Int(-v), true),
        (UnaryOp::Minus, ExprKind::Float(f)) => (ExprKind::Float(-f), true),
        (op, kind) => (
            ExprKind::Unary(
                op,
                Box::new(Expr {
                    kind,
                    position: expr.position,
                }),
            ),
            false,
        ),
    };
    (Expr { kind, position }, folded)
}
