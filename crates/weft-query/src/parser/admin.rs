//! Weft's admin statements: index and constraint DDL, `SHOW INDEX|CONSTRAINT INFO`, and
//! the commands other layers register (see [`crate::admin`]), which are recognised by
//! their keywords and passed on as words and literals.
//!
//! ```text
//! CREATE INDEX ON :L(p)            CREATE INDEX ON :L         CREATE EDGE INDEX ON :T
//! CREATE INDEX [name] FOR (n:L) ON (n.p)
//! DROP INDEX ON :L(p)              DROP INDEX ON :L           DROP EDGE INDEX ON :T
//! CREATE|DROP CONSTRAINT ON (n:L) ASSERT n.p IS UNIQUE
//! CREATE|DROP CONSTRAINT ON (n:L) ASSERT n.a, n.b IS UNIQUE
//! CREATE|DROP CONSTRAINT ON (n:L) ASSERT EXISTS (n.p)
//! SHOW INDEX INFO | SHOW CONSTRAINT INFO
//! SHOW [ALL] INDEXES | CONSTRAINTS | PROCEDURES | [BUILT IN] FUNCTIONS | DATABASES | DATABASE name
//!      [YIELD * | YIELD field [AS alias], ...] [WHERE predicate] [further clauses, e.g. RETURN]
//! <registered keywords> (word | `name` | 'string' | "string" | number | symbol)*
//! ```
//!
//! The catalog SHOWs of the second form become queries: a call of the built-in procedure
//! that lists the same columns (`db.indexes`, `db.constraints`, `dbms.procedures`,
//! `dbms.functions`, `dbms.databases`), so YIELD, WHERE and RETURN work as on any call.
//!
//! The optional index name of the `FOR` form is accepted but not kept (the AST has no
//! place for it). Variables in `FOR (n:L) ON (n.p)` and constraints must agree.

use super::lexer::{Sym, Tok};
use super::{PResult, Parser};
use crate::ast::{
    AdminArg, AdminCall, BinaryOp, Clause, ClauseKind, ConstraintTarget, Expr, ExprKind, IndexTarget, Query, Statement,
    YieldItem,
};
use crate::error::Position;

impl Parser<'_> {
    /// An admin statement if one starts here, otherwise `None` (nothing consumed).
    pub(super) fn admin_statement(&mut self) -> PResult<Option<Statement>> {
        if let Some(call) = self.registered_command()? {
            return Ok(Some(Statement::Admin(call)));
        }
        if self.at_kw("CREATE") {
            // `CREATE index = (a)-->(b)` is a path called `index`, not DDL.
            if self.kw_at(1, "INDEX") && !self.sym_at(2, Sym::Eq) {
                self.advance();
                self.advance();
                return Ok(Some(Statement::CreateIndex(self.index_target(true)?)));
            }
            if self.kw_at(1, "EDGE") && self.kw_at(2, "INDEX") {
                self.advance();
                return Ok(Some(Statement::CreateIndex(self.edge_index_target()?)));
            }
            if self.kw_at(1, "CONSTRAINT") {
                self.advance();
                self.advance();
                return Ok(Some(Statement::CreateConstraint(self.constraint_target()?)));
            }
            return Ok(None);
        }
        if self.eat_kw("DROP") {
            return self.drop_statement().map(Some);
        }
        if self.eat_kw("SHOW") {
            return self.show_statement().map(Some);
        }
        Ok(None)
    }

    fn drop_statement(&mut self) -> PResult<Statement> {
        if self.eat_kw("INDEX") {
            return Ok(Statement::DropIndex(self.index_target(false)?));
        }
        if self.at_kw("EDGE") {
            return Ok(Statement::DropIndex(self.edge_index_target()?));
        }
        if self.eat_kw("CONSTRAINT") {
            return Ok(Statement::DropConstraint(self.constraint_target()?));
        }
        Err(self.error_expected("'INDEX', 'EDGE INDEX' or 'CONSTRAINT'"))
    }

    fn show_statement(&mut self) -> PResult<Statement> {
        if let Some((procedure, index_type)) = self.show_catalog() {
            return self.show_query(procedure, index_type).map(Statement::Query);
        }
        let statement = if self.eat_kw("INDEX") {
            Statement::ShowIndexInfo
        } else if self.eat_kw("CONSTRAINT") {
            Statement::ShowConstraintInfo
        } else {
            // Name the registered SHOW commands too, so the message lists every choice.
            let mut choices: Vec<String> = ["INDEX INFO", "CONSTRAINT INFO", "INDEXES", "CONSTRAINTS"]
                .iter()
                .chain(&["PROCEDURES", "FUNCTIONS", "DATABASES"])
                .map(|c| format!("'{c}'"))
                .collect();
            let registered = self.commands.iter().filter(|c| c.len() > 1 && c[0] == "SHOW");
            choices.extend(registered.map(|c| format!("'{}'", c[1..].join(" "))));
            choices.dedup();
            return Err(self.error_expected(&choices.join(", ")));
        };
        self.expect_kw("INFO")?;
        Ok(statement)
    }

    /// After SHOW: the procedure behind Neo4j 5's `SHOW [ALL] INDEXES`, `SHOW CONSTRAINTS`,
    /// `SHOW PROCEDURES`, `SHOW [BUILT IN] FUNCTIONS`, `SHOW DATABASES` and
    /// `SHOW DATABASE name` (Memgraph's `SHOW INDEX INFO` and `SHOW CONSTRAINT INFO` are
    /// not these). Consumes the keywords only when it finds one.
    fn show_catalog(&mut self) -> Option<(&'static str, Option<&'static str>)> {
        let kind = if self.at_kw("RANGE") {
            Some("RANGE")
        } else if self.at_kw("LOOKUP") {
            Some("LOOKUP")
        } else {
            None
        };
        let skip = usize::from(self.at_kw("ALL") || kind.is_some());
        let skip = skip
            + if self.kw_at(0, "BUILT") && self.kw_at(1, "IN") {
                2
            } else {
                0
            };
        let word = match self.peek_at(skip) {
            Tok::Name(w) => w.to_ascii_uppercase(),
            _ => return None,
        };
        let info = self.kw_at(skip + 1, "INFO");
        let procedure = match word.as_str() {
            "INDEX" | "INDEXES" if !info => "db.indexes",
            "CONSTRAINT" | "CONSTRAINTS" if !info && kind.is_none() => "db.constraints",
            "PROCEDURE" | "PROCEDURES" if kind.is_none() => "dbms.procedures",
            "FUNCTION" | "FUNCTIONS" if kind.is_none() => "dbms.functions",
            "DATABASE" | "DATABASES" if kind.is_none() => "dbms.databases",
            _ => return None,
        };
        (0..=skip).for_each(|_| self.advance());
        Some((procedure, kind))
    }

    /// The rest of a catalog SHOW as a query: a call of `procedure` with Neo4j's
    /// optional `YIELD ... [WHERE ...]` or `WHERE ...`, then any further clauses
    /// (`RETURN ...`). `SHOW DATABASE name` keeps the row of that name.
    fn show_query(&mut self, procedure: &str, index_type: Option<&str>) -> PResult<Query> {
        let position = self.position();
        let items = |fields: Vec<String>| {
            fields
                .into_iter()
                .map(|field| YieldItem { field, alias: None })
                .collect::<Vec<_>>()
        };
        let all = || items(crate::procedures::builtin_outputs(procedure));
        // Without YIELD, Neo4j shows fewer columns of procedures and functions.
        let default = || match procedure {
            "dbms.procedures" => items(
                ["name", "description", "mode", "worksOnSystem"]
                    .map(String::from)
                    .to_vec(),
            ),
            "dbms.functions" => items(["name", "category", "description"].map(String::from).to_vec()),
            _ => all(),
        };
        let mut where_ = index_type.map(|kind| Self::column_is("type", kind, position));
        if procedure == "dbms.databases" && !self.at_end() && !self.at_kw("YIELD") && !self.at_kw("WHERE") {
            if let Tok::Name(name) | Tok::Quoted(name) = self.peek().clone() {
                self.advance();
                where_ = Some(Self::column_is("name", &name, position));
            }
        }
        let yields = if self.eat_kw("YIELD") {
            if self.eat_sym(Sym::Star) {
                Some(all())
            } else {
                let mut items = vec![self.yield_item()?];
                while self.eat_sym(Sym::Comma) {
                    items.push(self.yield_item()?);
                }
                Some(items)
            }
        } else {
            Some(default())
        };
        if self.eat_kw("WHERE") {
            let condition = self.predicate()?;
            where_ = Some(match where_ {
                Some(name) => Expr {
                    position,
                    kind: ExprKind::Binary(BinaryOp::And, Box::new(name), Box::new(condition)),
                },
                None => condition,
            });
        }
        let call = Clause {
            kind: ClauseKind::Call {
                procedure: procedure.to_owned(),
                args: Some(Vec::new()),
                yields,
                where_,
            },
            position,
        };
        let first = self.single_query_from(vec![call])?;
        Ok(Query {
            first,
            unions: Vec::new(),
        })
    }

    /// `column = 'value'` as a parsed predicate.
    fn column_is(column: &str, value: &str, position: Position) -> Expr {
        let e = |kind| Expr { kind, position };
        e(ExprKind::Comparison(
            Box::new(e(ExprKind::Variable(column.into()))),
            vec![(BinaryOp::Eq, e(ExprKind::String(value.to_owned())))],
        ))
    }

    /// A registered command if its keywords start here (`CREATE snapshot = (a)` stays a
    /// path called `snapshot`): the rest of the statement becomes its arguments.
    fn registered_command(&mut self) -> PResult<Option<AdminCall>> {
        let commands = self.commands;
        let Some(keywords) = commands.iter().find(|keywords| {
            keywords.iter().enumerate().all(|(i, kw)| self.kw_at(i, kw)) && !self.sym_at(keywords.len(), Sym::Eq)
        }) else {
            return Ok(None);
        };
        keywords.iter().for_each(|_| self.advance());
        let mut args = Vec::new();
        let at_last_semicolon = |p: &Self| p.at_sym(Sym::Semicolon) && matches!(p.peek_at(1), Tok::Eof);
        while !self.at_end() && !at_last_semicolon(self) {
            args.push(self.admin_arg()?);
        }
        Ok(Some(AdminCall {
            command: keywords.join(" "),
            args,
        }))
    }

    /// One argument of a registered command.
    fn admin_arg(&mut self) -> PResult<AdminArg> {
        let arg = match self.peek() {
            Tok::Name(w) => AdminArg::Word(w.clone()),
            Tok::Quoted(w) => AdminArg::Quoted(w.clone()),
            Tok::Str(s) => AdminArg::Str(s.clone()),
            Tok::Int(i) => match i64::try_from(*i) {
                Ok(i) => AdminArg::Int(i),
                Err(_) => return Err(self.error_expected("an integer that fits in 64 bits")),
            },
            Tok::Float(x) => AdminArg::Float(*x),
            Tok::Sym(_) => AdminArg::Symbol(self.token_text()),
            Tok::Param(_) => return Err(self.error_expected("a literal (admin commands take no parameters)")),
            Tok::BadNumber(..) | Tok::Error(_) | Tok::Eof => return Err(self.error_expected("a word or a literal")),
        };
        self.advance();
        Ok(arg)
    }

    /// After `INDEX`: `ON :L[(p)]`, or (when creating) `[name] FOR (n:L) ON (n.p)`.
    fn index_target(&mut self, creating: bool) -> PResult<IndexTarget> {
        if self.eat_kw("ON") {
            let label = self.colon_name("a label name")?;
            if !self.eat_sym(Sym::LParen) {
                return Ok(IndexTarget::Label { label });
            }
            let property = self.schema_name("a property key name")?;
            self.expect_sym(Sym::RParen, ")")?;
            return Ok(IndexTarget::LabelProperty { label, property });
        }
        if !creating {
            return Err(self.error_expected("'ON'"));
        }
        if !self.at_kw("FOR") {
            self.schema_name("'ON', 'FOR' or an index name")?;
        }
        self.expect_kw("FOR")?;
        let (variable, label) = self.labelled_node()?;
        self.expect_kw("ON")?;
        self.expect_sym(Sym::LParen, "(")?;
        let property = self.variable_property(&variable)?;
        self.expect_sym(Sym::RParen, ")")?;
        Ok(IndexTarget::LabelProperty { label, property })
    }

    /// `EDGE INDEX ON :T` (the cursor is at `EDGE`).
    fn edge_index_target(&mut self) -> PResult<IndexTarget> {
        self.expect_kw("EDGE")?;
        self.expect_kw("INDEX")?;
        self.expect_kw("ON")?;
        Ok(IndexTarget::EdgeType {
            edge_type: self.colon_name("a relationship type name")?,
        })
    }

    /// After `CONSTRAINT`: `ON (n:L) ASSERT (n.p, ... IS UNIQUE | EXISTS (n.p))`.
    fn constraint_target(&mut self) -> PResult<ConstraintTarget> {
        self.expect_kw("ON")?;
        let (variable, label) = self.labelled_node()?;
        self.expect_kw("ASSERT")?;
        if self.eat_kw("EXISTS") {
            self.expect_sym(Sym::LParen, "(")?;
            let property = self.variable_property(&variable)?;
            self.expect_sym(Sym::RParen, ")")?;
            return Ok(ConstraintTarget::Exists { label, property });
        }
        let mut properties = vec![self.variable_property(&variable)?];
        while self.eat_sym(Sym::Comma) {
            properties.push(self.variable_property(&variable)?);
        }
        self.expect_kw("IS")?;
        self.expect_kw("UNIQUE")?;
        Ok(ConstraintTarget::Unique { label, properties })
    }

    /// `:Name`.
    fn colon_name(&mut self, what: &str) -> PResult<String> {
        self.expect_sym(Sym::Colon, ":")?;
        self.schema_name(what)
    }

    /// `(n:L)`: the variable and the label.
    fn labelled_node(&mut self) -> PResult<(String, String)> {
        self.expect_sym(Sym::LParen, "(")?;
        let variable = self.variable()?;
        let label = self.colon_name("a label name")?;
        self.expect_sym(Sym::RParen, ")")?;
        Ok((variable, label))
    }

    /// `n.p` where `n` must be `variable`; returns `p`.
    fn variable_property(&mut self, variable: &str) -> PResult<String> {
        let position = self.position();
        let used = self.variable()?;
        if used != variable {
            let message = format!("Invalid input '{used}': expected the variable '{variable}'");
            return Err(self.error_at("UnexpectedSyntax", message, position));
        }
        self.expect_sym(Sym::Dot, ".")?;
        self.schema_name("a property key name")
    }
}
