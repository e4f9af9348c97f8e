//! Graph patterns: `p = (a:A {k: 1})-[r:T|U*1..3]->(b)`, comma-separated parts,
//! `shortestPath(...)` / `allShortestPaths(...)`, node and relationship patterns with
//! labels, types, variable lengths and property maps or parameters.
//!
//! Used by MATCH, CREATE, MERGE, pattern predicates, pattern comprehensions and EXISTS
//! subqueries. Length ranges written without `*` (`[:T..]`) or with a negative bound
//! (`[:T*-2]`) fail with `InvalidRelationshipPattern`.

use super::lexer::{Sym, Tok};
use super::{PResult, Parser};
use crate::ast::{
    Expr, ExprKind, Lambda, NodePattern, PathSearch, Pattern, PatternElement, PatternPart, RelDirection, RelPattern,
    SearchKind, Shortest,
};

const BAD_REL: &str = "InvalidRelationshipPattern";

impl Parser<'_> {
    /// Comma-separated pattern parts.
    pub(super) fn pattern(&mut self) -> PResult<Pattern> {
        let mut parts = vec![self.pattern_part()?];
        while self.eat_sym(Sym::Comma) {
            parts.push(self.pattern_part()?);
        }
        Ok(parts)
    }

    /// `[p =] element`, `[p =] shortestPath(element)` / `allShortestPaths(element)`, or
    /// `[p =] SHORTEST k | ALL SHORTEST | ANY [SHORTEST] element`.
    pub(super) fn pattern_part(&mut self) -> PResult<PatternPart> {
        let mut variable = None;
        if self.name_at(0) && self.sym_at(1, Sym::Eq) {
            variable = Some(self.variable()?);
            self.advance();
        }
        if let Some(selector) = self.path_selector()? {
            return Ok(PatternPart {
                variable,
                element: self.pattern_element()?,
                shortest: Some(selector),
                legacy: false,
            });
        }
        let shortest = if self.kw_at(0, "shortestPath") && self.sym_at(1, Sym::LParen) {
            Some(Shortest::One)
        } else if self.kw_at(0, "allShortestPaths") && self.sym_at(1, Sym::LParen) {
            Some(Shortest::All)
        } else {
            None
        };
        let element = if shortest.is_some() {
            self.advance();
            self.expect_sym(Sym::LParen, "(")?;
            let element = self.pattern_element()?;
            self.expect_sym(Sym::RParen, ")")?;
            element
        } else {
            self.pattern_element()?
        };
        Ok(PatternPart {
            variable,
            element,
            legacy: shortest.is_some(),
            shortest,
        })
    }

    /// GQL's path selectors before a pattern: `SHORTEST k [PATH|PATHS]`, `ALL SHORTEST
    /// [PATH|PATHS]` and `ANY SHORTEST [PATH]`. Nothing is consumed when none starts here.
    fn path_selector(&mut self) -> PResult<Option<Shortest>> {
        let selector = if self.kw_at(0, "SHORTEST") && matches!(self.peek_at(1), Tok::Int(_)) {
            self.advance();
            let Tok::Int(k) = *self.peek() else {
                unreachable!("checked above")
            };
            self.advance();
            if k == 0 {
                return Err(self.error_expected("a number of paths of at least 1 after SHORTEST"));
            }
            if k == 1 {
                Shortest::One
            } else {
                Shortest::Count(k)
            }
        } else if self.kw_at(0, "ALL") && self.kw_at(1, "SHORTEST") {
            self.advance();
            self.advance();
            Shortest::All
        } else if self.kw_at(0, "ANY") && self.kw_at(1, "SHORTEST") {
            self.advance();
            self.advance();
            Shortest::One
        } else {
            return Ok(None);
        };
        if !self.eat_kw("PATHS") {
            self.eat_kw("PATH");
        }
        Ok(Some(selector))
    }

    /// A node followed by any number of (relationship, node) steps; `((a)-->(b))` may be
    /// parenthesised.
    pub(super) fn pattern_element(&mut self) -> PResult<PatternElement> {
        self.nested(|p| {
            if p.at_sym(Sym::LParen) && p.sym_at(1, Sym::LParen) {
                p.advance();
                let element = p.pattern_element()?;
                p.expect_sym(Sym::RParen, ")")?;
                return Ok(element);
            }
            let start = p.node_pattern()?;
            let mut chain = Vec::new();
            while p.at_sym(Sym::Minus) || p.at_sym(Sym::Lt) {
                let rel = p.relationship()?;
                chain.push((rel, p.node_pattern()?));
            }
            Ok(PatternElement { start, chain })
        })
    }

    /// `(var:A:B {props})`, every part optional.
    fn node_pattern(&mut self) -> PResult<NodePattern> {
        let position = self.position();
        self.expect_sym(Sym::LParen, "(")?;
        let variable = if self.variable_at(0) {
            Some(self.variable()?)
        } else {
            None
        };
        let labels = if self.at_sym(Sym::Colon) {
            self.labels()?
        } else {
            Vec::new()
        };
        let properties = self.pattern_properties()?;
        if !self.at_sym(Sym::RParen) {
            let expected = match (&variable, labels.is_empty(), &properties) {
                (None, true, None) => "a variable name, ':', '{', a parameter or ')'",
                (_, _, None) => "':', '{', a parameter or ')'",
                _ => "')'",
            };
            return Err(self.error_expected(expected));
        }
        self.advance();
        Ok(NodePattern {
            variable,
            labels,
            properties,
            position,
        })
    }

    /// An optional `{map}` or `$param` of a node or relationship pattern.
    fn pattern_properties(&mut self) -> PResult<Option<Box<Expr>>> {
        let position = self.position();
        let kind = match self.peek() {
            Tok::Sym(Sym::LBrace) => ExprKind::Map(self.map_literal()?),
            Tok::Param(name) => {
                let kind = ExprKind::Parameter(name.clone());
                self.advance();
                kind
            }
            _ => return Ok(None),
        };
        Ok(Some(Box::new(Expr { kind, position })))
    }

    /// `-->`, `<--`, `--`, `<-->` or the same with a `[...]` detail in the middle.
    fn relationship(&mut self) -> PResult<RelPattern> {
        let position = self.position();
        let incoming = self.eat_sym(Sym::Lt);
        self.expect_sym(Sym::Minus, "-")?;
        let mut rel = RelPattern {
            variable: None,
            types: Vec::new(),
            direction: RelDirection::Both,
            length: None,
            properties: None,
            search: None,
            position,
        };
        if self.at_sym(Sym::LBracket) {
            self.relationship_detail(&mut rel)?;
        }
        self.expect_sym(Sym::Minus, "-")?;
        let outgoing = self.eat_sym(Sym::Gt);
        rel.direction = match (incoming, outgoing) {
            (true, false) => RelDirection::Incoming,
            (false, true) => RelDirection::Outgoing,
            _ => RelDirection::Both,
        };
        Ok(rel)
    }

    /// `[var:T|:U*min..max {props}]`.
    fn relationship_detail(&mut self, rel: &mut RelPattern) -> PResult<()> {
        self.expect_sym(Sym::LBracket, "[")?;
        if self.variable_at(0) {
            rel.variable = Some(self.variable()?);
        }
        if self.eat_sym(Sym::Colon) {
            rel.types.push(self.schema_name("a relationship type name")?);
            while self.eat_sym(Sym::Pipe) {
                self.eat_sym(Sym::Colon);
                rel.types.push(self.schema_name("a relationship type name")?);
            }
        }
        if self.eat_sym(Sym::Star) {
            let kind = match self.peek() {
                Tok::Name(w) if w.eq_ignore_ascii_case("BFS") => Some(SearchKind::Bfs),
                Tok::Name(w) if w.eq_ignore_ascii_case("WSHORTEST") => Some(SearchKind::WeightedShortest),
                Tok::Name(w) if w.eq_ignore_ascii_case("ALLSHORTEST") => Some(SearchKind::AllWeightedShortest),
                _ => None,
            };
            if kind.is_some() {
                self.advance();
            }
            rel.length = Some(self.length_range()?);
            if let Some(kind) = kind {
                rel.search = Some(Box::new(self.path_search(kind)?));
            }
        } else if self.at_sym(Sym::DotDot) || matches!(self.peek(), Tok::Int(_)) {
            let message = format!("Invalid input '{}': a length range must follow '*'", self.token_text());
            return Err(self.error_at(BAD_REL, message, self.position()));
        }
        rel.properties = self.pattern_properties()?;
        if !self.at_sym(Sym::RBracket) {
            return Err(self.error_expected("']'"));
        }
        self.advance();
        Ok(())
    }

    /// After `*BFS [range]`, `*WSHORTEST`, `*ALLSHORTEST`: the lambdas (weight, then the
    /// total's variable, for the weighted ones; then an optional filter).
    fn path_search(&mut self, kind: SearchKind) -> PResult<PathSearch> {
        let mut search = PathSearch {
            kind,
            weight: None,
            total: None,
            filter: None,
        };
        if kind != SearchKind::Bfs {
            if !self.at_sym(Sym::LParen) {
                return Err(self.error_expected("a weight lambda such as (r, n | r.weight)"));
            }
            search.weight = Some(self.lambda()?);
            if self.variable_at(0) {
                search.total = Some(self.variable()?);
            }
        }
        if self.at_sym(Sym::LParen) {
            search.filter = Some(self.lambda()?);
        }
        Ok(search)
    }

    /// `(r, n | expr)`.
    fn lambda(&mut self) -> PResult<Lambda> {
        self.expect_sym(Sym::LParen, "(")?;
        let edge = self.variable()?;
        self.expect_sym(Sym::Comma, ",")?;
        let node = self.variable()?;
        self.expect_sym(Sym::Pipe, "|")?;
        let body = self.expr()?;
        self.expect_sym(Sym::RParen, ")")?;
        Ok(Lambda { edge, node, body })
    }

    /// After `*`: nothing, `n`, `n..`, `..m` or `n..m`. A single `n` means exactly `n`.
    fn length_range(&mut self) -> PResult<(Option<i64>, Option<i64>)> {
        let min = self.length_bound()?;
        if !self.eat_sym(Sym::DotDot) {
            return Ok((min, min));
        }
        let max = self.length_bound()?;
        Ok((min, max))
    }

    fn length_bound(&mut self) -> PResult<Option<i64>> {
        match self.peek() {
            Tok::Int(v) => match i64::try_from(*v) {
                Ok(v) => {
                    self.advance();
                    Ok(Some(v))
                }
                Err(_) => {
                    let message = format!("Invalid input '{}': integer literal out of range", self.token_text());
                    Err(self.error_at("IntegerOverflow", message, self.position()))
                }
            },
            Tok::Sym(Sym::Minus) | Tok::Float(_) | Tok::BadNumber(..) | Tok::Param(_) => {
                let message = format!(
                    "Invalid input '{}': a relationship length must be a non-negative integer literal",
                    self.token_text()
                );
                Err(self.error_at(BAD_REL, message, self.position()))
            }
            _ => Ok(None),
        }
    }
}
