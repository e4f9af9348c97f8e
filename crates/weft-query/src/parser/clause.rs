//! Statements, queries and clauses: `EXPLAIN`/`PROFILE`, UNION, and MATCH, UNWIND, WITH,
//! RETURN, CREATE, MERGE, SET, REMOVE, DELETE, CALL, FOREACH, plus the body of
//! `EXISTS { ... }`.
//!
//! The grammar checks made here are only syntactic: RETURN ends a single query, and
//! `YIELD *` belongs to a standalone CALL. Whether clauses compose sensibly (WITH between
//! an update and a read, a final RETURN, ...) is left to semantic analysis.

use super::lexer::{Sym, Tok};
use super::{PResult, Parser};
use crate::ast::{
    CallScope, Clause, ClauseKind, Expr, ExprKind, Projection, ProjectionItem, Query, RemoveItem, SetItem, SingleQuery,
    SortItem, Statement, YieldItem,
};

impl Parser<'_> {
    /// A whole statement: EXPLAIN/PROFILE, an admin statement or a query.
    pub(super) fn statement(&mut self) -> PResult<Statement> {
        if self.eat_kw("EXPLAIN") {
            return self.nested(|p| Ok(Statement::Explain(Box::new(p.statement()?))));
        }
        if self.eat_kw("PROFILE") {
            return self.nested(|p| Ok(Statement::Profile(Box::new(p.statement()?))));
        }
        if let Some(statement) = self.admin_statement()? {
            return Ok(statement);
        }
        Ok(Statement::Query(self.query()?))
    }

    fn query(&mut self) -> PResult<Query> {
        let first = self.single_query()?;
        let mut unions = Vec::new();
        while self.eat_kw("UNION") {
            let all = self.eat_kw("ALL");
            unions.push((all, self.single_query()?));
        }
        Ok(Query { first, unions })
    }

    fn at_query_end(&self) -> bool {
        self.at_end() || self.at_sym(Sym::Semicolon) || self.at_sym(Sym::RBrace) || self.at_kw("UNION")
    }

    fn single_query(&mut self) -> PResult<SingleQuery> {
        self.single_query_from(Vec::new())
    }

    /// A single query whose first `clauses` are already parsed (none: a whole one).
    pub(super) fn single_query_from(&mut self, mut clauses: Vec<Clause>) -> PResult<SingleQuery> {
        if !clauses.is_empty() && self.at_query_end() {
            return Ok(SingleQuery { clauses });
        }
        loop {
            let first = clauses.is_empty();
            let (clause, yield_star) = self.clause()?;
            let is_return = matches!(clause.kind, ClauseKind::Return(_));
            clauses.push(clause);
            if yield_star && !(first && (self.at_end() || self.at_sym(Sym::Semicolon))) {
                let message = "Invalid input 'YIELD *': only a standalone CALL may use YIELD *".to_string();
                return Err(self.error_at("UnexpectedSyntax", message, clauses[clauses.len() - 1].position));
            }
            if self.at_query_end() {
                return Ok(SingleQuery { clauses });
            }
            if is_return {
                return Err(self.error_expected("end of input or UNION after RETURN"));
            }
        }
    }

    /// One clause; the flag says it was a CALL with `YIELD *`.
    fn clause(&mut self) -> PResult<(Clause, bool)> {
        let position = self.position();
        let mut yield_star = false;
        let word = match self.peek() {
            Tok::Name(word) => word.to_ascii_uppercase(),
            _ => return Err(self.error_expected("a clause")),
        };
        let kind = match word.as_str() {
            "MATCH" | "OPTIONAL" => self.match_clause()?,
            "UNWIND" => self.unwind()?,
            "WITH" => {
                self.advance();
                ClauseKind::With(self.projection(true)?)
            }
            "RETURN" => {
                self.advance();
                ClauseKind::Return(self.projection(false)?)
            }
            "CALL" if self.sym_at(1, Sym::LBrace) || self.sym_at(1, Sym::LParen) => self.nested(|p| p.subquery())?,
            "LOAD" => self.load_csv()?,
            "CALL" => {
                let (kind, star) = self.call()?;
                yield_star = star;
                kind
            }
            _ => self.updating_clause()?,
        };
        Ok((Clause { kind, position }, yield_star))
    }

    /// CREATE, MERGE, SET, REMOVE, DELETE, DETACH DELETE, FOREACH (the clauses allowed
    /// inside FOREACH).
    fn updating_clause(&mut self) -> PResult<ClauseKind> {
        const EXPECTED: &str = "a clause (MATCH, OPTIONAL MATCH, UNWIND, WITH, RETURN, CREATE, MERGE, SET, \
                                REMOVE, DELETE, DETACH DELETE, CALL, FOREACH)";
        let Tok::Name(word) = self.peek() else {
            return Err(self.error_expected(EXPECTED));
        };
        let kind = match word.to_ascii_uppercase().as_str() {
            "CREATE" => {
                self.advance();
                ClauseKind::Create {
                    pattern: self.pattern()?,
                }
            }
            "MERGE" => self.merge()?,
            "SET" => {
                self.advance();
                ClauseKind::Set {
                    items: self.set_items()?,
                }
            }
            "REMOVE" => self.remove()?,
            "DELETE" => self.delete(false)?,
            "DETACH" => {
                self.advance();
                if !self.at_kw("DELETE") {
                    return Err(self.error_expected("'DELETE'"));
                }
                self.delete(true)?
            }
            "FOREACH" => self.nested(|p| p.foreach())?,
            _ => return Err(self.error_expected(EXPECTED)),
        };
        Ok(kind)
    }

    fn where_clause(&mut self) -> PResult<Option<Expr>> {
        if self.eat_kw("WHERE") {
            return Ok(Some(self.predicate()?));
        }
        Ok(None)
    }

    fn match_clause(&mut self) -> PResult<ClauseKind> {
        let optional = self.eat_kw("OPTIONAL");
        self.expect_kw("MATCH")?;
        let pattern = self.pattern()?;
        let where_ = self.where_clause()?;
        Ok(ClauseKind::Match {
            optional,
            pattern,
            where_,
        })
    }

    fn unwind(&mut self) -> PResult<ClauseKind> {
        self.advance();
        let expr = self.expr()?;
        self.expect_kw("AS")?;
        let variable = self.variable()?;
        Ok(ClauseKind::Unwind { expr, variable })
    }

    /// The body of WITH (`with_where`) or RETURN.
    fn projection(&mut self, with_where: bool) -> PResult<Projection> {
        let distinct = self.eat_kw("DISTINCT");
        let star = self.eat_sym(Sym::Star);
        let mut items = Vec::new();
        if !star || self.eat_sym(Sym::Comma) {
            items.push(self.projection_item()?);
            while self.eat_sym(Sym::Comma) {
                items.push(self.projection_item()?);
            }
        }
        let mut order_by = Vec::new();
        if self.eat_kw("ORDER") {
            self.expect_kw("BY")?;
            order_by.push(self.sort_item()?);
            while self.eat_sym(Sym::Comma) {
                order_by.push(self.sort_item()?);
            }
        }
        let skip = if self.eat_kw("SKIP") { Some(self.expr()?) } else { None };
        let limit = if self.eat_kw("LIMIT") { Some(self.expr()?) } else { None };
        let where_ = if with_where { self.where_clause()? } else { None };
        Ok(Projection {
            distinct,
            star,
            items,
            order_by,
            skip,
            limit,
            where_,
        })
    }

    fn projection_item(&mut self) -> PResult<ProjectionItem> {
        let start = self.token_at(0).start;
        let expr = self.expr()?;
        let text = self.text.get(start..self.prev_end()).unwrap_or("").trim().to_string();
        let alias = if self.eat_kw("AS") {
            Some(self.variable()?)
        } else {
            None
        };
        Ok(ProjectionItem { expr, alias, text })
    }

    fn sort_item(&mut self) -> PResult<SortItem> {
        let expr = self.expr()?;
        let descending = self.eat_kw("DESC") || self.eat_kw("DESCENDING");
        if !descending && !self.eat_kw("ASC") {
            self.eat_kw("ASCENDING");
        }
        Ok(SortItem { expr, descending })
    }

    /// `MERGE part` then any number of `ON CREATE SET ...` / `ON MATCH SET ...`.
    fn merge(&mut self) -> PResult<ClauseKind> {
        self.advance();
        let part = self.pattern_part()?;
        let (mut on_create, mut on_match) = (Vec::new(), Vec::new());
        while self.eat_kw("ON") {
            let target = if self.eat_kw("CREATE") {
                &mut on_create
            } else if self.eat_kw("MATCH") {
                &mut on_match
            } else {
                return Err(self.error_expected("'CREATE' or 'MATCH'"));
            };
            self.expect_kw("SET")?;
            target.extend(self.set_items()?);
        }
        Ok(ClauseKind::Merge {
            part,
            on_create,
            on_match,
        })
    }

    fn set_items(&mut self) -> PResult<Vec<SetItem>> {
        let mut items = vec![self.set_item()?];
        while self.eat_sym(Sym::Comma) {
            items.push(self.set_item()?);
        }
        Ok(items)
    }

    /// `a.p = e`, `(expr).p = e`, `a = e`, `a += e` or `a:L:M`.
    fn set_item(&mut self) -> PResult<SetItem> {
        if self.variable_at(0) {
            let merge = self.sym_at(1, Sym::PlusEq);
            if merge || self.sym_at(1, Sym::Eq) {
                let variable = self.variable()?;
                self.advance();
                return Ok(SetItem::Variable {
                    variable,
                    value: self.expr()?,
                    merge,
                });
            }
            if self.sym_at(1, Sym::Colon) {
                let variable = self.variable()?;
                return Ok(SetItem::Labels {
                    variable,
                    labels: self.labels()?,
                });
            }
        }
        let (target, key) = self.property_target()?;
        self.expect_sym(Sym::Eq, "=")?;
        Ok(SetItem::Property {
            target,
            key,
            value: self.expr()?,
        })
    }

    /// A property lookup `target.key` used as a SET/REMOVE target.
    fn property_target(&mut self) -> PResult<(Expr, String)> {
        let start = self.position();
        let expr = self.postfix(false)?;
        match expr.kind {
            ExprKind::Property(target, key) => Ok((*target, key)),
            _ => {
                let message = "Invalid input: expected a property (like n.prop), a variable or labels".to_string();
                Err(self.error_at("UnexpectedSyntax", message, start))
            }
        }
    }

    fn remove(&mut self) -> PResult<ClauseKind> {
        self.advance();
        let mut items = vec![self.remove_item()?];
        while self.eat_sym(Sym::Comma) {
            items.push(self.remove_item()?);
        }
        Ok(ClauseKind::Remove { items })
    }

    fn remove_item(&mut self) -> PResult<RemoveItem> {
        if self.variable_at(0) && self.sym_at(1, Sym::Colon) {
            let variable = self.variable()?;
            return Ok(RemoveItem::Labels {
                variable,
                labels: self.labels()?,
            });
        }
        let (target, key) = self.property_target()?;
        Ok(RemoveItem::Property { target, key })
    }

    fn delete(&mut self, detach: bool) -> PResult<ClauseKind> {
        self.expect_kw("DELETE")?;
        let mut exprs = vec![self.expr()?];
        while self.eat_sym(Sym::Comma) {
            exprs.push(self.expr()?);
        }
        Ok(ClauseKind::Delete { detach, exprs })
    }

    /// `FOREACH (x IN list | clause ...)`.
    fn foreach(&mut self) -> PResult<ClauseKind> {
        self.advance();
        self.expect_sym(Sym::LParen, "(")?;
        let variable = self.variable()?;
        self.expect_kw("IN")?;
        let list = self.expr()?;
        self.expect_sym(Sym::Pipe, "|")?;
        let mut clauses = Vec::new();
        while !self.at_sym(Sym::RParen) || clauses.is_empty() {
            let position = self.position();
            clauses.push(Clause {
                kind: self.updating_clause()?,
                position,
            });
        }
        self.advance();
        Ok(ClauseKind::Foreach {
            variable,
            list,
            clauses,
        })
    }

    /// `CALL ns.proc[(args)] [YIELD (* | a [AS b], ...) [WHERE ...]]`; the flag is
    /// `YIELD *`.
    fn call(&mut self) -> PResult<(ClauseKind, bool)> {
        self.advance();
        let procedure = self.dotted_name("a procedure name")?;
        let args = if self.eat_sym(Sym::LParen) {
            Some(self.expr_list(Sym::RParen, ")")?)
        } else {
            None
        };
        let (mut yields, mut where_, mut star) = (None, None, false);
        if self.eat_kw("YIELD") {
            if self.eat_sym(Sym::Star) {
                star = true;
            } else {
                let mut items = vec![self.yield_item()?];
                while self.eat_sym(Sym::Comma) {
                    items.push(self.yield_item()?);
                }
                yields = Some(items);
                where_ = self.where_clause()?;
            }
        }
        Ok((
            ClauseKind::Call {
                procedure,
                args,
                yields,
                where_,
            },
            star,
        ))
    }

    /// `CALL [(a, b) | (*) | ()] { query } [IN TRANSACTIONS [OF n ROW|ROWS]]`; the cursor
    /// is at CALL.
    fn subquery(&mut self) -> PResult<ClauseKind> {
        self.advance();
        let scope = if self.eat_sym(Sym::LParen) {
            let scope = if self.eat_sym(Sym::Star) {
                CallScope::Everything
            } else {
                let mut names = Vec::new();
                while !self.at_sym(Sym::RParen) {
                    names.push(self.variable()?);
                    if !self.eat_sym(Sym::Comma) {
                        break;
                    }
                }
                CallScope::Variables(names)
            };
            self.expect_sym(Sym::RParen, ")")?;
            Some(scope)
        } else {
            None
        };
        self.expect_sym(Sym::LBrace, "{")?;
        let query = self.query()?;
        self.expect_sym(Sym::RBrace, "}")?;
        let batch = if self.eat_kw("IN") {
            self.expect_kw("TRANSACTIONS")?;
            let rows = if self.eat_kw("OF") {
                let n = self.expr()?;
                if !self.eat_kw("ROWS") {
                    self.expect_kw("ROW")?;
                }
                Some(n)
            } else {
                None
            };
            Some(rows)
        } else {
            None
        };
        Ok(ClauseKind::Subquery {
            query: Box::new(query),
            batch,
            scope,
        })
    }

    /// `LOAD CSV [WITH HEADERS] FROM expr AS variable [FIELDTERMINATOR string]` (Neo4j) or
    /// `LOAD CSV FROM expr WITH HEADER | NO HEADER [IGNORE BAD] [DELIMITER string]
    /// [QUOTE string] [NULLIF string] AS variable` (Memgraph).
    fn load_csv(&mut self) -> PResult<ClauseKind> {
        self.advance();
        self.expect_kw("CSV")?;
        let mut headers = self.eat_kw("WITH");
        if headers {
            self.expect_kw("HEADERS")?;
        }
        self.expect_kw("FROM")?;
        let source = self.expr()?;
        let (mut terminator, mut quote, mut null_if, mut ignore_bad) = (None, None, None, false);
        if self.eat_kw("WITH") {
            self.expect_kw("HEADER")?;
            headers = true;
        } else if self.eat_kw("NO") {
            self.expect_kw("HEADER")?;
        }
        loop {
            if self.eat_kw("IGNORE") {
                self.expect_kw("BAD")?;
                ignore_bad = true;
            } else if self.eat_kw("DELIMITER") {
                terminator = Some(self.string_literal("DELIMITER")?);
            } else if self.eat_kw("QUOTE") {
                quote = Some(self.string_literal("QUOTE")?);
            } else if self.eat_kw("NULLIF") {
                null_if = Some(self.string_literal("NULLIF")?);
            } else {
                break;
            }
        }
        self.expect_kw("AS")?;
        let variable = self.variable()?;
        if self.eat_kw("FIELDTERMINATOR") {
            terminator = Some(self.string_literal("FIELDTERMINATOR")?);
        }
        Ok(ClauseKind::LoadCsv {
            source,
            headers,
            variable,
            terminator,
            quote,
            null_if,
            ignore_bad,
        })
    }

    /// A string literal after `keyword`.
    fn string_literal(&mut self, keyword: &str) -> PResult<String> {
        match self.peek().clone() {
            Tok::Str(s) => {
                self.advance();
                Ok(s)
            }
            _ => Err(self.error_expected(&format!("a string literal after {keyword}"))),
        }
    }

    pub(super) fn yield_item(&mut self) -> PResult<YieldItem> {
        let field = self.schema_name("a procedure output name")?;
        let alias = if self.eat_kw("AS") {
            Some(self.variable()?)
        } else {
            None
        };
        Ok(YieldItem { field, alias })
    }

    /// `COUNT { pattern [WHERE pred] }`, `COUNT { query }` or `COLLECT { query }` (a query
    /// ending in RETURN, UNION allowed); the cursor is at COUNT or COLLECT. The pattern
    /// form becomes `MATCH pattern [WHERE pred] RETURN 1`, whose rows it counts.
    pub(super) fn value_subquery(&mut self, keyword: &str) -> PResult<ExprKind> {
        let position = self.position();
        self.advance();
        self.expect_sym(Sym::LBrace, "{")?;
        let clause_start = ["MATCH", "OPTIONAL", "UNWIND", "WITH", "CALL", "RETURN"];
        let one = || {
            let ret = Projection {
                distinct: false,
                star: false,
                items: vec![ProjectionItem {
                    expr: Expr {
                        kind: ExprKind::Int(1),
                        position,
                    },
                    alias: Some("  matched".into()),
                    text: "1".into(),
                }],
                order_by: Vec::new(),
                skip: None,
                limit: None,
                where_: None,
            };
            Clause {
                kind: ClauseKind::Return(ret),
                position,
            }
        };
        let query = if keyword == "COUNT" && !clause_start.iter().any(|kw| self.at_kw(kw)) {
            let pattern = self.pattern()?;
            let where_ = self.where_clause()?;
            let clauses = vec![
                Clause {
                    kind: ClauseKind::Match {
                        optional: false,
                        pattern,
                        where_,
                    },
                    position,
                },
                one(),
            ];
            Query {
                first: SingleQuery { clauses },
                unions: Vec::new(),
            }
        } else {
            let mut query = self.query()?;
            // COUNT counts the rows of a body that need not end in RETURN.
            if keyword == "COUNT" {
                for part in std::iter::once(&mut query.first).chain(query.unions.iter_mut().map(|(_, p)| p)) {
                    if !part.returns() {
                        part.clauses.push(one());
                    }
                }
            }
            query
        };
        self.expect_sym(Sym::RBrace, "}")?;
        Ok(match keyword {
            "COUNT" => ExprKind::CountQuery(Box::new(query)),
            _ => ExprKind::CollectQuery(Box::new(query)),
        })
    }

    /// `EXISTS { pattern [WHERE pred] }`, or `EXISTS { clauses }` ending in RETURN; the
    /// cursor is at EXISTS. `MATCH pattern [WHERE pred] [RETURN simple items]` is kept in
    /// the short form ([`ExprKind::ExistsSubquery`]), which needs no subquery plan.
    pub(super) fn exists_subquery(&mut self) -> PResult<ExprKind> {
        self.advance();
        self.expect_sym(Sym::LBrace, "{")?;
        if !self.at_kw("MATCH") && !self.at_kw("OPTIONAL") && !self.at_kw("UNWIND") && !self.at_kw("WITH") {
            let pattern = self.pattern()?;
            let where_ = self.where_clause()?.map(Box::new);
            self.expect_sym(Sym::RBrace, "}")?;
            return Ok(ExprKind::ExistsSubquery { pattern, where_ });
        }
        let mut clauses = Vec::new();
        while !self.at_sym(Sym::RBrace) {
            let (clause, _) = self.clause()?;
            clauses.push(clause);
        }
        self.advance();
        if let Some(short) = short_exists(&clauses) {
            return Ok(short);
        }
        Ok(ExprKind::ExistsQuery(Box::new(SingleQuery { clauses })))
    }
}

/// The short form of `MATCH pattern [WHERE pred] [RETURN items]` when the RETURN (if
/// any) cannot change whether a row exists: plain items, no DISTINCT, SKIP or LIMIT.
fn short_exists(clauses: &[Clause]) -> Option<ExprKind> {
    let (first, rest) = clauses.split_first()?;
    let ClauseKind::Match {
        optional: false,
        pattern,
        where_,
    } = &first.kind
    else {
        return None;
    };
    match rest {
        [] => {}
        [Clause {
            kind: ClauseKind::Return(p),
            ..
        }] if simple_return(p) => {}
        _ => return None,
    }
    Some(ExprKind::ExistsSubquery {
        pattern: pattern.clone(),
        where_: where_.clone().map(Box::new),
    })
}

fn simple_return(p: &Projection) -> bool {
    let plain = p.items.iter().all(|item| {
        matches!(
            item.expr.kind,
            ExprKind::Null
                | ExprKind::Bool(_)
                | ExprKind::Int(_)
                | ExprKind::Float(_)
                | ExprKind::String(_)
                | ExprKind::Parameter(_)
                | ExprKind::Variable(_)
                | ExprKind::Property(..)
        )
    });
    plain && p.skip.is_none() && p.limit.is_none() && p.order_by.is_empty()
}
