//! Expression atoms: literals, parameters, variables, lists and maps, function calls
//! (`count(*)`, namespaced, `DISTINCT`), `CASE`, list and pattern comprehensions,
//! quantifiers, `reduce`, pattern predicates, `EXISTS { ... }`, map projections and
//! parenthesised expressions.
//!
//! Every choice between look-alike forms is made by token lookahead before consuming
//! anything (never by trial parsing), which keeps parsing linear-ish on hostile input:
//! `[x IN` starts a list comprehension, `[(a)-->` or `[p = (a)-->` a pattern
//! comprehension, `(a)-->` (a parenthesised group followed by a relationship) a pattern
//! predicate, `name(` a call and `name {` a map projection.

use super::lexer::{Sym, Tok};
use super::{PResult, Parser};
use crate::ast::{Expr, ExprKind, MapProjectionItem, Quantifier};

fn boxed(expr: Expr) -> Box<Expr> {
    Box::new(expr)
}

impl Parser<'_> {
    /// One atom.
    pub(super) fn atom(&mut self) -> PResult<Expr> {
        let position = self.position();
        let kind = match self.peek().clone() {
            Tok::Int(v) => self.int_literal(v)?,
            Tok::Float(f) => {
                self.advance();
                ExprKind::Float(f)
            }
            Tok::BadNumber(detail, why) => {
                let message = format!("Invalid input '{}': {why}", self.token_text());
                return Err(self.error_at(detail, message, position));
            }
            Tok::Str(s) => {
                self.advance();
                ExprKind::String(s)
            }
            Tok::Param(name) => {
                self.advance();
                ExprKind::Parameter(name)
            }
            Tok::Sym(Sym::LParen) => self.paren_or_pattern()?,
            Tok::Sym(Sym::LBracket) => self.bracket_atom()?,
            Tok::Sym(Sym::LBrace) => ExprKind::Map(self.map_literal()?),
            Tok::Name(name) => self.name_atom(&name)?,
            Tok::Quoted(_) if self.function_call_ahead() => self.function_call()?,
            Tok::Quoted(_) => self.variable_atom()?,
            _ => return Err(self.error_expected("an expression")),
        };
        Ok(Expr { kind, position })
    }

    fn int_literal(&mut self, v: u64) -> PResult<ExprKind> {
        match i64::try_from(v) {
            Ok(v) => {
                self.advance();
                Ok(ExprKind::Int(v))
            }
            Err(_) => {
                let message = format!("Invalid input '{}': integer literal out of range", self.token_text());
                Err(self.error_at("IntegerOverflow", message, self.position()))
            }
        }
    }

    /// An atom starting with an unquoted name: keyword forms, calls or a variable.
    fn name_atom(&mut self, name: &str) -> PResult<ExprKind> {
        let upper = name.to_ascii_uppercase();
        let call = self.sym_at(1, Sym::LParen);
        match upper.as_str() {
            "NULL" => self.keyword_literal(ExprKind::Null),
            "TRUE" => self.keyword_literal(ExprKind::Bool(true)),
            "FALSE" => self.keyword_literal(ExprKind::Bool(false)),
            "CASE" => self.case_expr(),
            "COUNT" if call && self.sym_at(2, Sym::Star) => {
                self.advance();
                self.advance();
                self.advance();
                self.expect_sym(Sym::RParen, ")")?;
                Ok(ExprKind::CountStar)
            }
            "ALL" | "ANY" | "NONE" | "SINGLE" if call && self.name_at(2) && self.kw_at(3, "IN") => {
                self.quantifier(&upper)
            }
            "REDUCE" if call && self.name_at(2) && self.sym_at(3, Sym::Eq) => self.reduce(),
            "EXISTS" if self.sym_at(1, Sym::LBrace) => self.exists_subquery(),
            "COUNT" | "COLLECT" if self.sym_at(1, Sym::LBrace) => self.nested(|p| p.value_subquery(&upper)),
            "EXISTS" if call => self.with_patterns(true, |p| p.function_call()),
            _ if self.function_call_ahead() => self.function_call(),
            _ => self.variable_atom(),
        }
    }

    fn keyword_literal(&mut self, kind: ExprKind) -> PResult<ExprKind> {
        self.advance();
        Ok(kind)
    }

    /// A variable, or a map projection `v {...}`.
    fn variable_atom(&mut self) -> PResult<ExprKind> {
        let variable = match self.variable() {
            Ok(v) => v,
            Err(_) => return Err(self.error_expected("an expression")),
        };
        if self.at_sym(Sym::LBrace) {
            return self.map_projection(variable);
        }
        Ok(ExprKind::Variable(variable))
    }

    /// `name(`, `ns.name(`, `a.b.c(`: a (namespaced) function call ahead?
    fn function_call_ahead(&self) -> bool {
        let mut n = 0;
        loop {
            if !self.name_at(n) {
                return false;
            }
            if self.sym_at(n + 1, Sym::LParen) {
                return true;
            }
            if !self.sym_at(n + 1, Sym::Dot) {
                return false;
            }
            n += 2;
        }
    }

    /// A dotted name `a.b.c`, as written (used for functions and procedures).
    pub(super) fn dotted_name(&mut self, what: &str) -> PResult<String> {
        let mut name = self.schema_name(what)?;
        while self.at_sym(Sym::Dot) && self.name_at(1) {
            self.advance();
            name.push('.');
            name.push_str(&self.schema_name(what)?);
        }
        Ok(name)
    }

    fn function_call(&mut self) -> PResult<ExprKind> {
        if let Tok::Name(first) = self.peek() {
            if super::is_reserved(first) && !first.eq_ignore_ascii_case("EXISTS") && !self.sym_at(1, Sym::Dot) {
                return Err(self.error_expected("an expression"));
            }
        }
        let name = self.dotted_name("a function name")?;
        self.expect_sym(Sym::LParen, "(")?;
        let distinct = self.eat_kw("DISTINCT");
        let args = self.expr_list(Sym::RParen, ")")?;
        Ok(ExprKind::Function { name, distinct, args })
    }

    /// Comma-separated expressions up to and including the closer.
    pub(super) fn expr_list(&mut self, close: Sym, shown: &str) -> PResult<Vec<Expr>> {
        let mut items = Vec::new();
        if self.eat_sym(close) {
            return Ok(items);
        }
        loop {
            items.push(self.expr()?);
            if self.eat_sym(close) {
                return Ok(items);
            }
            if !self.eat_sym(Sym::Comma) {
                return Err(self.error_expected(&format!("',' or '{shown}'")));
            }
        }
    }

    /// `{k: v, ...}` (the cursor is at `{`).
    pub(super) fn map_literal(&mut self) -> PResult<Vec<(String, Expr)>> {
        self.expect_sym(Sym::LBrace, "{")?;
        let mut entries = Vec::new();
        if self.eat_sym(Sym::RBrace) {
            return Ok(entries);
        }
        loop {
            let key = self.schema_name("a property key name")?;
            self.expect_sym(Sym::Colon, ":")?;
            entries.push((key, self.expr()?));
            if self.eat_sym(Sym::RBrace) {
                return Ok(entries);
            }
            if !self.eat_sym(Sym::Comma) {
                return Err(self.error_expected("',' or '}'"));
            }
        }
    }

    /// `v {.a, .*, k: e, w}` after the variable `v`.
    fn map_projection(&mut self, variable: String) -> PResult<ExprKind> {
        self.expect_sym(Sym::LBrace, "{")?;
        let mut items = Vec::new();
        if self.eat_sym(Sym::RBrace) {
            return Ok(ExprKind::MapProjection { variable, items });
        }
        loop {
            items.push(self.map_projection_item()?);
            if self.eat_sym(Sym::RBrace) {
                return Ok(ExprKind::MapProjection { variable, items });
            }
            if !self.eat_sym(Sym::Comma) {
                return Err(self.error_expected("',' or '}'"));
            }
        }
    }

    fn map_projection_item(&mut self) -> PResult<MapProjectionItem> {
        if self.eat_sym(Sym::Dot) {
            if self.eat_sym(Sym::Star) {
                return Ok(MapProjectionItem::AllProperties);
            }
            return Ok(MapProjectionItem::Property(
                self.schema_name("a property key name or '*'")?,
            ));
        }
        if self.name_at(0) && self.sym_at(1, Sym::Colon) {
            let key = self.schema_name("a property key name")?;
            self.advance();
            return Ok(MapProjectionItem::Literal(key, self.expr()?));
        }
        Ok(MapProjectionItem::Variable(self.variable()?))
    }

    /// `( expr )` or a pattern predicate `(a)-[:T]->(b)`.
    fn paren_or_pattern(&mut self) -> PResult<ExprKind> {
        if self.relationship_after_group(0) {
            if !self.patterns_allowed {
                let message = format!(
                    "Invalid input '{}': a pattern can only be used as a predicate in WHERE or exists(); \
                     use a pattern comprehension or EXISTS {{ ... }} elsewhere",
                    self.token_text()
                );
                return Err(self.error_at("UnexpectedSyntax", message, self.position()));
            }
            return Ok(ExprKind::PatternPredicate(self.pattern_element()?));
        }
        self.expect_sym(Sym::LParen, "(")?;
        let inner = self.expr()?;
        self.expect_sym(Sym::RParen, ")")?;
        Ok(inner.kind)
    }

    /// Is the bracket group starting `n` tokens ahead followed by the start of a
    /// relationship pattern (`-[`, `--(`, `-->(`, `<-[`, `<--(`, `<-->(`)?
    pub(super) fn relationship_after_group(&self, n: usize) -> bool {
        let Some(close) = self.closer_of(n) else { return false };
        let after = close.saturating_sub(self.pos).saturating_add(1);
        let at = |k: usize, sym: Sym| self.sym_at(after + k, sym);
        let dashes_then_node = |k: usize| at(k, Sym::LParen) || (at(k, Sym::Gt) && at(k + 1, Sym::LParen));
        if at(0, Sym::Minus) {
            at(1, Sym::LBracket) || (at(1, Sym::Minus) && dashes_then_node(2))
        } else if at(0, Sym::Lt) && at(1, Sym::Minus) {
            at(2, Sym::LBracket) || (at(2, Sym::Minus) && dashes_then_node(3))
        } else {
            false
        }
    }

    /// `[`: a list literal, list comprehension or pattern comprehension.
    fn bracket_atom(&mut self) -> PResult<ExprKind> {
        if self.name_at(1) && self.kw_at(2, "IN") {
            return self.list_comprehension();
        }
        let named = self.name_at(1) && self.sym_at(2, Sym::Eq) && self.relationship_after_group(3);
        if named || (self.sym_at(1, Sym::LParen) && self.relationship_after_group(1)) {
            return self.pattern_comprehension();
        }
        self.advance();
        Ok(ExprKind::List(self.expr_list(Sym::RBracket, "]")?))
    }

    /// `x IN list` (shared by comprehensions and quantifiers).
    fn in_clause(&mut self) -> PResult<(String, Expr)> {
        let variable = self.variable()?;
        self.expect_kw("IN")?;
        Ok((variable, self.expr()?))
    }

    fn optional_where(&mut self) -> PResult<Option<Box<Expr>>> {
        if self.eat_kw("WHERE") {
            return Ok(Some(boxed(self.predicate()?)));
        }
        Ok(None)
    }

    fn list_comprehension(&mut self) -> PResult<ExprKind> {
        self.expect_sym(Sym::LBracket, "[")?;
        let (variable, list) = self.in_clause()?;
        let predicate = self.optional_where()?;
        let projection = if self.eat_sym(Sym::Pipe) {
            Some(boxed(self.expr()?))
        } else {
            None
        };
        self.expect_sym(Sym::RBracket, "]")?;
        Ok(ExprKind::ListComprehension {
            variable,
            list: boxed(list),
            predicate,
            projection,
        })
    }

    fn pattern_comprehension(&mut self) -> PResult<ExprKind> {
        self.expect_sym(Sym::LBracket, "[")?;
        let mut variable = None;
        if !self.at_sym(Sym::LParen) {
            variable = Some(self.variable()?);
            self.expect_sym(Sym::Eq, "=")?;
        }
        let pattern = self.pattern_element()?;
        let predicate = self.optional_where()?;
        self.expect_sym(Sym::Pipe, "|")?;
        let projection = boxed(self.expr()?);
        self.expect_sym(Sym::RBracket, "]")?;
        Ok(ExprKind::PatternComprehension {
            variable,
            pattern,
            predicate,
            projection,
        })
    }

    /// `all(x IN list WHERE pred)` and `any`/`none`/`single`.
    fn quantifier(&mut self, upper: &str) -> PResult<ExprKind> {
        let kind = match upper {
            "ALL" => Quantifier::All,
            "ANY" => Quantifier::Any,
            "NONE" => Quantifier::None,
            _ => Quantifier::Single,
        };
        self.advance();
        self.expect_sym(Sym::LParen, "(")?;
        let (variable, list) = self.in_clause()?;
        let predicate = self.optional_where()?;
        self.expect_sym(Sym::RParen, ")")?;
        Ok(ExprKind::Quantifier {
            kind,
            variable,
            list: boxed(list),
            predicate,
        })
    }

    /// `reduce(acc = init, x IN list | expr)`.
    fn reduce(&mut self) -> PResult<ExprKind> {
        self.advance();
        self.expect_sym(Sym::LParen, "(")?;
        let accumulator = self.variable()?;
        self.expect_sym(Sym::Eq, "=")?;
        let init = boxed(self.expr()?);
        self.expect_sym(Sym::Comma, ",")?;
        let (variable, list) = self.in_clause()?;
        self.expect_sym(Sym::Pipe, "|")?;
        let expr = boxed(self.expr()?);
        self.expect_sym(Sym::RParen, ")")?;
        Ok(ExprKind::Reduce {
            accumulator,
            init,
            variable,
            list: boxed(list),
            expr,
        })
    }

    /// `CASE [subject] WHEN a THEN b ... [ELSE c] END`.
    fn case_expr(&mut self) -> PResult<ExprKind> {
        self.advance();
        if self.at_kw("END") {
            return Err(self.error_expected("'WHEN'"));
        }
        let subject = if self.at_kw("WHEN") {
            None
        } else {
            Some(boxed(self.expr()?))
        };
        let mut whens = Vec::new();
        while self.eat_kw("WHEN") {
            let condition = self.expr()?;
            self.expect_kw("THEN")?;
            whens.push((condition, self.expr()?));
        }
        if whens.is_empty() {
            return Err(self.error_expected("'WHEN'"));
        }
        let else_ = if self.eat_kw("ELSE") {
            Some(boxed(self.expr()?))
        } else {
            None
        };
        self.expect_kw("END")?;
        Ok(ExprKind::Case { subject, whens, else_ })
    }
}
