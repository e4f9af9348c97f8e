//! Admin commands that the layers above define and register, as procedures are: `SHOW
//! STORAGE INFO` and `CREATE SNAPSHOT` (durability), the replication and cluster commands
//! later. The query engine knows none of them; it only finds them in the query text and
//! calls them.
//!
//! Owns: the registry of commands by their leading keywords, the [`AdminCall`] a command
//! receives (the words and literals after its keywords) and [`AdminArgs`], a cursor over
//! them that reads the usual shapes (a keyword, a name, a quoted string, an integer) and
//! reports anything else as a syntax error naming what was expected.

use crate::ast::{AdminArg, AdminCall};
use crate::engine::Engine;
use crate::error::{ErrorKind, QueryError, Result};
use crate::result::QueryResult;
use std::sync::{Arc, RwLock};

/// What a command does when called.
pub type AdminFn = dyn Fn(&Engine, &mut AdminArgs<'_>) -> Result<QueryResult> + Send + Sync;

/// A command a layer registers with [`Engine::register_admin`].
#[derive(Clone)]
pub struct AdminCommand {
    /// The keywords that start it, upper case (`["SHOW", "STORAGE", "INFO"]`); matched
    /// case-insensitively, longest first.
    pub keywords: Vec<String>,
    /// True when it may be sent inside an explicit transaction (it then runs at once,
    /// outside the transaction, as `SHOW …` does); false refuses it there.
    pub anywhere: bool,
    pub run: Arc<AdminFn>,
}

impl AdminCommand {
    /// A command started by the space-separated `keywords`.
    pub fn new(
        keywords: &str,
        anywhere: bool,
        run: impl Fn(&Engine, &mut AdminArgs<'_>) -> Result<QueryResult> + Send + Sync + 'static,
    ) -> AdminCommand {
        AdminCommand {
            keywords: keywords.split_whitespace().map(str::to_ascii_uppercase).collect(),
            anywhere,
            run: Arc::new(run),
        }
    }

    /// The keywords as one string, which is also the command's key in an [`AdminCall`].
    pub fn key(&self) -> String {
        self.keywords.join(" ")
    }
}

/// The registered commands; shared by clones of one engine.
#[derive(Default)]
pub(crate) struct AdminRegistry {
    commands: RwLock<Vec<AdminCommand>>,
}

impl AdminRegistry {
    /// Adds `command`, replacing one with the same keywords; one without keywords would
    /// take every statement and is ignored.
    pub fn register(&self, command: AdminCommand) {
        if command.keywords.is_empty() {
            return;
        }
        if let Ok(mut commands) = self.commands.write() {
            commands.retain(|c| c.keywords != command.keywords);
            commands.push(command);
            // The parser tries the longest keyword sequence first.
            commands.sort_by_key(|c| std::cmp::Reverse(c.keywords.len()));
        }
    }

    /// Every command's keywords, longest first (for the parser).
    pub fn keywords(&self) -> Vec<Vec<String>> {
        let commands = self.commands.read();
        commands.map_or_else(|_| Vec::new(), |c| c.iter().map(|c| c.keywords.clone()).collect())
    }

    pub fn get(&self, key: &str) -> Option<AdminCommand> {
        let commands = self.commands.read().ok()?;
        commands.iter().find(|c| c.key() == key).cloned()
    }
}

/// A cursor over an [`AdminCall`]'s arguments.
pub struct AdminArgs<'a> {
    call: &'a AdminCall,
    next: usize,
}

impl<'a> AdminArgs<'a> {
    pub fn new(call: &'a AdminCall) -> Self {
        AdminArgs { call, next: 0 }
    }

    /// The command's keywords, for messages.
    pub fn command(&self) -> &str {
        &self.call.command
    }

    fn peek(&self) -> Option<&'a AdminArg> {
        self.call.args.get(self.next)
    }

    /// Takes the keyword `word` (any case) if it comes next.
    pub fn eat_keyword(&mut self, word: &str) -> bool {
        let found = matches!(self.peek(), Some(AdminArg::Word(w)) if w.eq_ignore_ascii_case(word));
        self.next += usize::from(found);
        found
    }

    /// The keyword `word`, or a syntax error.
    pub fn keyword(&mut self, word: &str) -> Result<()> {
        if self.eat_keyword(word) {
            return Ok(());
        }
        Err(self.expected(&format!("'{word}'")))
    }

    /// The first of `words` that comes next (as written in `words`), or a syntax error
    /// listing them.
    pub fn one_of(&mut self, words: &[&'static str]) -> Result<&'static str> {
        if let Some(word) = words.iter().find(|w| self.eat_keyword(w)) {
            return Ok(word);
        }
        let listed: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        Err(self.expected(&listed.join(", ")))
    }

    /// A name (a word or a backtick-quoted name).
    pub fn name(&mut self, what: &str) -> Result<String> {
        match self.peek() {
            Some(AdminArg::Word(w) | AdminArg::Quoted(w)) => {
                self.next += 1;
                Ok(w.clone())
            }
            _ => Err(self.expected(what)),
        }
    }

    /// A string literal (single or double quotes).
    pub fn string(&mut self, what: &str) -> Result<String> {
        match self.peek() {
            Some(AdminArg::Str(s)) => {
                self.next += 1;
                Ok(s.clone())
            }
            _ => Err(self.expected(what)),
        }
    }

    /// An integer literal.
    pub fn integer(&mut self, what: &str) -> Result<i64> {
        match self.peek() {
            Some(AdminArg::Int(i)) => {
                self.next += 1;
                Ok(*i)
            }
            _ => Err(self.expected(what)),
        }
    }

    /// Nothing may follow.
    pub fn end(&self) -> Result<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.expected("end of input")),
        }
    }

    /// A syntax error at the next argument: what came instead of `expected`.
    pub fn expected(&self, expected: &str) -> QueryError {
        let command = &self.call.command;
        let message = match self.peek() {
            None => format!("Unexpected end of input after '{command}': expected {expected}"),
            Some(found) => format!("Invalid input '{found}' in '{command}': expected {expected}"),
        };
        QueryError::compile(ErrorKind::SyntaxError, "UnexpectedSyntax", message)
    }
}

impl std::fmt::Display for AdminArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdminArg::Word(w) => write!(f, "{w}"),
            AdminArg::Quoted(w) => write!(f, "`{w}`"),
            AdminArg::Str(s) => write!(f, "\"{s}\""),
            AdminArg::Int(i) => write!(f, "{i}"),
            AdminArg::Float(x) => write!(f, "{x}"),
            AdminArg::Symbol(s) => write!(f, "{s}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{AdminArgs, AdminCommand, AdminRegistry};
    use crate::ast::{AdminArg, AdminCall};
    use crate::result::QueryResult;

    fn call(args: Vec<AdminArg>) -> AdminCall {
        AdminCall {
            command: "REGISTER REPLICA".into(),
            args,
        }
    }

    #[test]
    fn args_read_keywords_names_strings_and_integers_and_name_what_is_wrong() {
        let c = call(vec![
            AdminArg::Word("r1".into()),
            AdminArg::Word("sync".into()),
            AdminArg::Word("WITH".into()),
            AdminArg::Word("TIMEOUT".into()),
            AdminArg::Int(5),
            AdminArg::Word("TO".into()),
            AdminArg::Str("127.0.0.1:10000".into()),
        ]);
        let mut args = AdminArgs::new(&c);
        assert_eq!(args.name("a replica name").unwrap(), "r1");
        assert_eq!(args.one_of(&["ASYNC", "SYNC", "STRICT_SYNC"]).unwrap(), "SYNC");
        assert!(args.eat_keyword("with"));
        args.keyword("TIMEOUT").unwrap();
        assert_eq!(args.integer("seconds").unwrap(), 5);
        args.keyword("TO").unwrap();
        assert!(args.integer("a port").is_err());
        assert_eq!(args.string("an address").unwrap(), "127.0.0.1:10000");
        args.end().unwrap();
        let error = args.keyword("AT").unwrap_err();
        assert_eq!(
            error.message,
            "Unexpected end of input after 'REGISTER REPLICA': expected 'AT'"
        );
    }

    #[test]
    fn the_registry_replaces_a_command_and_lists_the_longest_keywords_first() {
        let registry = AdminRegistry::default();
        let nothing = |_: &crate::Engine, _: &mut AdminArgs<'_>| Ok(QueryResult::default());
        registry.register(AdminCommand::new("SHOW REPLICAS", true, nothing));
        registry.register(AdminCommand::new("show replication role", true, nothing));
        registry.register(AdminCommand::new("SHOW REPLICAS", false, nothing));
        registry.register(AdminCommand::new("  ", true, nothing));
        assert_eq!(
            registry.keywords(),
            vec![
                vec!["SHOW".to_string(), "REPLICATION".into(), "ROLE".into()],
                vec!["SHOW".to_string(), "REPLICAS".into()],
            ]
        );
        assert!(!registry.get("SHOW REPLICAS").unwrap().anywhere);
        assert!(registry.get("SHOW STORAGE INFO").is_none());
    }
}
