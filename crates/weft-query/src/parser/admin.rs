//! Weft's admin statements: index and constraint DDL and `SHOW ... INFO`.
//!
//! ```text
//! CREATE INDEX ON :L(p)            CREATE INDEX ON :L         CREATE EDGE INDEX ON :T
//! CREATE INDEX [name] FOR (n:L) ON (n.p)
//! DROP INDEX ON :L(p)              DROP INDEX ON :L           DROP EDGE INDEX ON :T
//! CREATE|DROP CONSTRAINT ON (n:L) ASSERT n.p IS UNIQUE
//! CREATE|DROP CONSTRAINT ON (n:L) ASSERT n.a, n.b IS UNIQUE
//! CREATE|DROP CONSTRAINT ON (n:L) ASSERT EXISTS (n.p)
//! SHOW INDEX INFO | SHOW CONSTRAINT INFO | SHOW STORAGE INFO
//! CREATE SNAPSHOT                  SHOW SNAPSHOTS
//! ```
//!
//! The optional index name of the `FOR` form is accepted but not kept (the AST has no
//! place for it). Variables in `FOR (n:L) ON (n.p)` and constraints must agree.

use super::lexer::Sym;
use super::{PResult, Parser};
use crate::ast::{ConstraintTarget, IndexTarget, Statement};

impl Parser<'_> {
    /// An admin statement if one starts here, otherwise `None` (nothing consumed).
    pub(super) fn admin_statement(&mut self) -> PResult<Option<Statement>> {
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
            // `CREATE snapshot = (a)-->(b)` is a path called `snapshot`.
            if self.kw_at(1, "SNAPSHOT") && !self.sym_at(2, Sym::Eq) {
                self.advance();
                self.advance();
                return Ok(Some(Statement::CreateSnapshot));
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
        if self.eat_kw("SNAPSHOTS") {
            return Ok(Statement::ShowSnapshots);
        }
        let statement = if self.eat_kw("INDEX") {
            Statement::ShowIndexInfo
        } else if self.eat_kw("CONSTRAINT") {
            Statement::ShowConstraintInfo
        } else if self.eat_kw("STORAGE") {
            Statement::ShowStorageInfo
        } else {
            return Err(self.error_expected("'INDEX', 'CONSTRAINT', 'STORAGE' or 'SNAPSHOTS'"));
        };
        self.expect_kw("INFO")?;
        Ok(statement)
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
