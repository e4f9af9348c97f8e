//! Schema statements inside explicit transactions, as Neo4j runs them.
//!
//! Owns: sorting a statement sent within an explicit transaction into a query, a schema
//! change (index and constraint DDL) or an admin statement that runs anywhere (`SHOW …`,
//! `CREATE SNAPSHOT`); the [`SchemaChange`]s a transaction collects, applied together at
//! its commit; and the rule that one transaction either changes the schema or writes
//! data, never both ([`forbidden_mix`]). Promises: [`Engine::apply_schema`] applies all of
//! a transaction's changes or, when one fails, takes back the ones already applied and
//! reports the failing statement, so a commit never leaves half its schema behind.
//!
//! Storage gives each DDL its own commit timestamp, so the changes are applied at commit
//! time, in order, one after another; until then nobody, the transaction included, sees
//! them.

use crate::ast::{ConstraintTarget, IndexTarget, Statement};
use crate::engine::Engine;
use crate::error::{ErrorKind, QueryError, Result};
use crate::result::QueryStats;

/// What a statement is, inside an explicit transaction.
pub enum InTransaction {
    /// A query (reading or writing data): it runs in the transaction.
    Query,
    /// An index or constraint change: collected, applied at commit.
    Schema(SchemaChange),
    /// An admin statement that changes neither data nor schema: it runs at once.
    Anywhere,
}

/// One index or constraint change waiting for its transaction's commit.
#[derive(Clone, Debug)]
pub struct SchemaChange {
    statement: Statement,
}

impl SchemaChange {
    /// The counters the change reports when it is applied.
    pub fn stats(&self) -> QueryStats {
        let mut stats = QueryStats::default();
        match &self.statement {
            Statement::CreateIndex(_) => stats.indexes_added = 1,
            Statement::DropIndex(_) => stats.indexes_removed = 1,
            Statement::CreateConstraint(_) => stats.constraints_added = 1,
            Statement::DropConstraint(_) => stats.constraints_removed = 1,
            _ => {}
        }
        stats
    }

    /// The change that takes this one back.
    fn inverse(&self) -> Option<Statement> {
        Some(match &self.statement {
            Statement::CreateIndex(t) => Statement::DropIndex(t.clone()),
            Statement::DropIndex(t) => Statement::CreateIndex(t.clone()),
            Statement::CreateConstraint(c) => Statement::DropConstraint(c.clone()),
            Statement::DropConstraint(c) => Statement::CreateConstraint(c.clone()),
            _ => return None,
        })
    }

    /// How the change reads in a message.
    fn describe(&self) -> String {
        let (verb, what) = match &self.statement {
            Statement::CreateIndex(t) => ("create", index_text(t)),
            Statement::DropIndex(t) => ("drop", index_text(t)),
            Statement::CreateConstraint(c) => ("create", constraint_text(c)),
            Statement::DropConstraint(c) => ("drop", constraint_text(c)),
            _ => ("run", "an admin statement".to_string()),
        };
        format!("{verb} {what}")
    }
}

fn index_text(target: &IndexTarget) -> String {
    match target {
        IndexTarget::Label { label } => format!("the index on :{label}"),
        IndexTarget::LabelProperty { label, property } => format!("the index on :{label}({property})"),
        IndexTarget::EdgeType { edge_type } => format!("the edge index on :{edge_type}"),
    }
}

fn constraint_text(target: &ConstraintTarget) -> String {
    match target {
        ConstraintTarget::Exists { label, property } => format!("the existence constraint on :{label}({property})"),
        ConstraintTarget::Unique { label, properties } => {
            format!("the uniqueness constraint on :{label}({})", properties.join(", "))
        }
    }
}

/// The error for a transaction that would both change the schema and write data; `now`
/// says what the refused statement is.
pub fn forbidden_mix(now: Mix) -> QueryError {
    let message = match now {
        Mix::SchemaAfterWrites => {
            "Tried to change the schema in a transaction that has already written data: \
             a transaction either changes indexes and constraints or writes data; run the \
             schema change in a transaction of its own"
        }
        Mix::WritesAfterSchema => {
            "Tried to write data in a transaction that has already changed the schema: \
             a transaction either changes indexes and constraints or writes data; run the \
             data writes in a transaction of their own"
        }
    };
    QueryError::runtime(ErrorKind::SemanticError, "ForbiddenDueToTransactionType", message)
}

/// The error for a registered command that may not run inside an explicit transaction.
fn forbidden_in_transaction(command: &str) -> QueryError {
    let message = format!("'{command}' cannot run inside an explicit transaction; send it on its own");
    QueryError::runtime(ErrorKind::SemanticError, "ForbiddenDueToTransactionType", message)
}

/// Which way a transaction tried to mix schema changes and data writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mix {
    SchemaAfterWrites,
    WritesAfterSchema,
}

impl Engine {
    /// What `query` is when sent inside an explicit transaction (a syntax error is
    /// returned as such).
    pub fn classify_in_transaction(&self, query: &str) -> Result<InTransaction> {
        let statement = self.parse(query)?;
        Ok(match statement.as_ref() {
            Statement::Query(_) | Statement::Explain(_) | Statement::Profile(_) => InTransaction::Query,
            Statement::CreateIndex(_)
            | Statement::DropIndex(_)
            | Statement::CreateConstraint(_)
            | Statement::DropConstraint(_) => InTransaction::Schema(SchemaChange {
                statement: statement.as_ref().clone(),
            }),
            Statement::ShowIndexInfo | Statement::ShowConstraintInfo => InTransaction::Anywhere,
            Statement::Admin(call) => {
                if !self.admin_command(&call.command)?.anywhere {
                    return Err(forbidden_in_transaction(&call.command));
                }
                InTransaction::Anywhere
            }
        })
    }

    /// Applies a committing transaction's schema changes in order. When one fails, the
    /// ones before it are taken back (newest first) and the error names the change that
    /// failed; the counters of all changes are returned on success.
    pub fn apply_schema(&self, changes: &[SchemaChange]) -> Result<QueryStats> {
        if let Some(refused) = self.write_refusal(crate::graph::local::AccessMode::ReadWrite) {
            return Err(refused);
        }
        let mut total = QueryStats::default();
        for (done, change) in changes.iter().enumerate() {
            if let Err(error) = self.admin(&change.statement) {
                for applied in changes[..done].iter().rev() {
                    if let Some(inverse) = applied.inverse() {
                        // Each inverse undoes a change that just succeeded, so it finds
                        // what it removes or re-creates; a failure here would leave the
                        // schema as it is and is reported with the original error.
                        if let Err(undo) = self.admin(&inverse) {
                            tracing::error!(change = applied.describe(), %undo, "cannot take back a schema change");
                        }
                    }
                }
                return Err(QueryError {
                    message: format!(
                        "The transaction's schema changes were not applied: cannot {}: {}",
                        change.describe(),
                        error.message
                    ),
                    ..error
                });
            }
            add(&mut total, change.stats());
        }
        Ok(total)
    }
}

fn add(total: &mut QueryStats, stats: QueryStats) {
    total.indexes_added += stats.indexes_added;
    total.indexes_removed += stats.indexes_removed;
    total.constraints_added += stats.constraints_added;
    total.constraints_removed += stats.constraints_removed;
}

#[cfg(test)]
mod tests {
    use super::InTransaction;
    use crate::Engine;
    use std::collections::BTreeMap;

    fn change(engine: &Engine, query: &str) -> super::SchemaChange {
        match engine.classify_in_transaction(query).expect("parses") {
            InTransaction::Schema(change) => change,
            _ => panic!("{query} is not a schema change"),
        }
    }

    #[test]
    fn statements_are_sorted_into_queries_schema_changes_and_the_rest() {
        let engine = Engine::new();
        let kind = |q: &str| match engine.classify_in_transaction(q).expect("parses") {
            InTransaction::Query => "query",
            InTransaction::Schema(_) => "schema",
            InTransaction::Anywhere => "anywhere",
        };
        assert_eq!(kind("CREATE (n) RETURN n"), "query");
        assert_eq!(kind("EXPLAIN MATCH (n) RETURN n"), "query");
        assert_eq!(kind("CREATE INDEX FOR (p:Person) ON (p.id)"), "schema");
        assert_eq!(kind("DROP CONSTRAINT ON (n:L) ASSERT n.p IS UNIQUE"), "schema");
        assert_eq!(kind("SHOW INDEX INFO"), "anywhere");
        assert!(engine.classify_in_transaction("CREATE INDEX ON").is_err());
    }

    #[test]
    fn a_failing_change_takes_back_the_ones_before_it() {
        // Set up: an existing index on :B(x), so creating it again fails.
        let engine = Engine::new();
        engine
            .execute("CREATE INDEX ON :B(x)", &BTreeMap::new())
            .expect("index");
        let changes = [
            change(&engine, "CREATE INDEX ON :A(x)"),
            change(&engine, "CREATE CONSTRAINT ON (n:A) ASSERT n.y IS UNIQUE"),
            change(&engine, "CREATE INDEX ON :B(x)"),
        ];

        // Act
        let error = engine.apply_schema(&changes).expect_err("the third change fails");

        // Check: the message names it, and the first two are gone again.
        assert!(error.message.contains("cannot create the index on :B(x)"), "{error}");
        let indexes = engine.execute("SHOW INDEX INFO", &BTreeMap::new()).expect("show");
        let constraints = engine.execute("SHOW CONSTRAINT INFO", &BTreeMap::new()).expect("show");
        assert_eq!(indexes.rows.len(), 1, "{indexes:?}");
        assert!(constraints.rows.is_empty(), "{constraints:?}");
    }

    #[test]
    fn changes_are_applied_in_order_with_their_counters() {
        let engine = Engine::new();
        let changes = [
            change(&engine, "CREATE INDEX ON :A(x)"),
            change(&engine, "DROP INDEX ON :A(x)"),
            change(&engine, "CREATE INDEX ON :A(y)"),
        ];
        let stats = engine.apply_schema(&changes).expect("applies");
        assert_eq!((stats.indexes_added, stats.indexes_removed), (2, 1));
    }
}
