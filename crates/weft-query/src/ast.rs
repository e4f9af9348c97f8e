//! The abstract syntax tree of openCypher statements plus Weft's admin statements.
//!
//! Produced by the parser, consumed by semantic analysis and the planner. Every
//! expression and pattern element keeps the [`Position`] where it starts, so later
//! phases can point at the offending text. Names (labels, types, keys, variables) are
//! kept as written; keywords are case-insensitive and not kept.

use crate::error::Position;

/// A whole statement as sent by a client.
#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    Query(Query),
    /// `EXPLAIN <statement>`: return the plan instead of running it.
    Explain(Box<Statement>),
    /// `PROFILE <statement>`: run it and return per-operator counts and times.
    Profile(Box<Statement>),
    /// `CREATE INDEX ON :L(p)`, `CREATE INDEX ON :L`, `CREATE INDEX [name] FOR (n:L) ON (n.p)`,
    /// `CREATE INDEX ON :TYPE` for edges is written `CREATE EDGE INDEX ON :TYPE`.
    CreateIndex(IndexTarget),
    DropIndex(IndexTarget),
    /// `CREATE CONSTRAINT ON (n:L) ASSERT n.p IS UNIQUE` / `ASSERT n.a, n.b IS UNIQUE` /
    /// `ASSERT EXISTS (n.p)`.
    CreateConstraint(ConstraintTarget),
    DropConstraint(ConstraintTarget),
    ShowIndexInfo,
    ShowConstraintInfo,
    /// A command another layer registered (`SHOW STORAGE INFO`, `CREATE SNAPSHOT`, the
    /// replication commands): see [`crate::admin`].
    Admin(AdminCall),
}

/// A registered admin command as written: which one, and what follows its keywords.
#[derive(Clone, Debug, PartialEq)]
pub struct AdminCall {
    /// The command's keywords, upper case, joined by single spaces.
    pub command: String,
    pub args: Vec<AdminArg>,
}

/// One token after an admin command's keywords.
#[derive(Clone, Debug, PartialEq)]
pub enum AdminArg {
    /// An unquoted word (keyword or name).
    Word(String),
    /// A backtick-quoted name.
    Quoted(String),
    /// A string literal, single or double quoted.
    Str(String),
    Int(i64),
    Float(f64),
    /// Punctuation, as written.
    Symbol(String),
}

/// What an index covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexTarget {
    Label { label: String },
    LabelProperty { label: String, property: String },
    EdgeType { edge_type: String },
}

/// What a constraint asserts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConstraintTarget {
    Exists { label: String, property: String },
    Unique { label: String, properties: Vec<String> },
}

/// A query: one or more single queries joined by UNION / UNION ALL.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub first: SingleQuery,
    /// Each further part, with `true` for UNION ALL.
    pub unions: Vec<(bool, SingleQuery)>,
}

/// A sequence of clauses.
#[derive(Clone, Debug, PartialEq)]
pub struct SingleQuery {
    pub clauses: Vec<Clause>,
}

/// Which outer variables a `CALL { }` subquery part sees: those of its leading
/// importing `WITH` (plain variables, nothing else), all of them for `WITH *`, else none.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Imports<'q> {
    Nothing,
    All,
    Names(&'q [ProjectionItem]),
}

impl SingleQuery {
    /// What this part, as the body of `CALL { }`, imports from the outer query.
    pub fn imports(&self) -> Imports<'_> {
        let Some(ClauseKind::With(p)) = self.clauses.first().map(|c| &c.kind) else {
            return Imports::Nothing;
        };
        let plain = p.items.iter().all(|item| match &item.expr.kind {
            ExprKind::Variable(v) => item.alias.as_ref().is_none_or(|a| a == v),
            _ => false,
        });
        let bare = !p.distinct && p.order_by.is_empty() && p.skip.is_none() && p.limit.is_none() && p.where_.is_none();
        match (plain && bare, p.star) {
            (false, _) => Imports::Nothing,
            (true, true) => Imports::All,
            (true, false) => Imports::Names(&p.items),
        }
    }

    /// Whether the part ends in RETURN (a returning subquery) rather than an update.
    pub fn returns(&self) -> bool {
        matches!(self.clauses.last().map(|c| &c.kind), Some(ClauseKind::Return(_)))
    }
}

impl Imports<'_> {
    /// Whether the outer variable `name` is visible inside.
    pub fn includes(&self, name: &str) -> bool {
        match self {
            Imports::Nothing => false,
            Imports::All => true,
            Imports::Names(items) => items
                .iter()
                .any(|item| matches!(&item.expr.kind, ExprKind::Variable(v) if v == name)),
        }
    }
}

/// One clause, with the position of its first keyword.
#[derive(Clone, Debug, PartialEq)]
pub struct Clause {
    pub kind: ClauseKind,
    pub position: Position,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ClauseKind {
    Match {
        optional: bool,
        pattern: Pattern,
        where_: Option<Expr>,
    },
    Unwind {
        expr: Expr,
        variable: String,
    },
    With(Projection),
    Return(Projection),
    Create {
        pattern: Pattern,
    },
    Merge {
        part: PatternPart,
        on_create: Vec<SetItem>,
        on_match: Vec<SetItem>,
    },
    Set {
        items: Vec<SetItem>,
    },
    Remove {
        items: Vec<RemoveItem>,
    },
    Delete {
        detach: bool,
        exprs: Vec<Expr>,
    },
    /// `CALL ns.proc(args) YIELD a, b AS c WHERE ...`; `args` is `None` for the implicit
    /// form without parentheses (arguments taken from parameters).
    Call {
        procedure: String,
        args: Option<Vec<Expr>>,
        yields: Option<Vec<YieldItem>>,
        where_: Option<Expr>,
    },
    Foreach {
        variable: String,
        list: Expr,
        clauses: Vec<Clause>,
    },
    /// `LOAD CSV [WITH HEADERS] FROM source AS variable [FIELDTERMINATOR 'c']` (Neo4j), or
    /// `LOAD CSV FROM source WITH HEADER | NO HEADER [IGNORE BAD] [DELIMITER 'c']
    /// [QUOTE 'c'] [NULLIF 's'] AS variable` (Memgraph): one row per record of the file, a
    /// map by header name or a list of fields.
    LoadCsv {
        source: Expr,
        headers: bool,
        variable: String,
        terminator: Option<String>,
        quote: Option<String>,
        null_if: Option<String>,
        ignore_bad: bool,
    },
    /// `CALL [(scope)] { query }`, run once per incoming row; with `IN TRANSACTIONS [OF n ROWS]`
    /// (`batch` is `Some`, holding `n` when given) every `n` rows commit on their own.
    Subquery {
        query: Box<Query>,
        batch: Option<Option<Expr>>,
        /// `CALL (a, b) { }` / `CALL (*) { }`: the outer variables it sees, declared;
        /// `None`: those of each part's importing WITH.
        scope: Option<CallScope>,
    },
}

/// The variables a `CALL (...) { }` declares it sees.
#[derive(Clone, Debug, PartialEq)]
pub enum CallScope {
    Everything,
    Variables(Vec<String>),
}

impl CallScope {
    /// Whether the outer variable `name` is visible inside.
    pub fn includes(&self, name: &str) -> bool {
        match self {
            CallScope::Everything => true,
            CallScope::Variables(names) => names.iter().any(|n| n == name),
        }
    }
}

/// `YIELD field [AS alias]`.
#[derive(Clone, Debug, PartialEq)]
pub struct YieldItem {
    pub field: String,
    pub alias: Option<String>,
}

/// The body of WITH and RETURN.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    pub distinct: bool,
    /// `*` (all variables in scope), possibly followed by more items.
    pub star: bool,
    pub items: Vec<ProjectionItem>,
    pub order_by: Vec<SortItem>,
    pub skip: Option<Expr>,
    pub limit: Option<Expr>,
    /// WITH ... WHERE (always `None` for RETURN).
    pub where_: Option<Expr>,
}

/// `expr [AS alias]`; `text` is the expression's source text, the column name when there
/// is no alias.
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectionItem {
    pub expr: Expr,
    pub alias: Option<String>,
    pub text: String,
}

/// `expr [ASC|DESC]`.
#[derive(Clone, Debug, PartialEq)]
pub struct SortItem {
    pub expr: Expr,
    pub descending: bool,
}

/// One item of SET (also ON CREATE SET / ON MATCH SET).
#[derive(Clone, Debug, PartialEq)]
pub enum SetItem {
    /// `target.key = value` (target is any expression yielding a node, relationship or map).
    Property { target: Expr, key: String, value: Expr },
    /// `n = map` (replace all) or `n += map` (merge).
    Variable { variable: String, value: Expr, merge: bool },
    /// `n:A:B`.
    Labels { variable: String, labels: Vec<String> },
}

/// One item of REMOVE.
#[derive(Clone, Debug, PartialEq)]
pub enum RemoveItem {
    Property { target: Expr, key: String },
    Labels { variable: String, labels: Vec<String> },
}

/// Comma-separated pattern parts.
pub type Pattern = Vec<PatternPart>;

/// `[p =] (a)-[r]->(b)...`, or a `shortestPath(...)` / `allShortestPaths(...)` part.
#[derive(Clone, Debug, PartialEq)]
pub struct PatternPart {
    pub variable: Option<String>,
    pub element: PatternElement,
    pub shortest: Option<Shortest>,
    /// Written as `shortestPath(...)` / `allShortestPaths(...)`: the MATCH's WHERE then
    /// picks among the paths (shortest of those it keeps), where the GQL selectors
    /// (`SHORTEST k`, `ALL SHORTEST`) filter the paths they selected.
    pub legacy: bool,
}

/// The path selector of a pattern part: `shortestPath(...)` / `SHORTEST 1` (`One`),
/// `allShortestPaths(...)` / `ALL SHORTEST` (`All`), `SHORTEST k` (`Count(k)`, the `k`
/// shortest paths, by length, of each pair of ends).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shortest {
    One,
    All,
    Count(u64),
}

/// Memgraph's path searches written inside a relationship pattern:
/// `-[*BFS ..n (r, n | filter)]->`, `-[*WSHORTEST (r, n | weight) total (r, n | filter)]->`,
/// `-[*ALLSHORTEST (r, n | weight) total]->`.
#[derive(Clone, Debug, PartialEq)]
pub struct PathSearch {
    pub kind: SearchKind,
    /// The weight of one step (the weighted searches).
    pub weight: Option<Lambda>,
    /// The variable that receives a weighted path's total weight.
    pub total: Option<String>,
    /// Which steps the search may take.
    pub filter: Option<Lambda>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchKind {
    /// Breadth first: a shortest path by length.
    Bfs,
    /// A path of least total weight.
    WeightedShortest,
    /// Every path of least total weight.
    AllWeightedShortest,
}

/// `(r, n | expr)`: an expression of the relationship a step takes and the node it reaches.
#[derive(Clone, Debug, PartialEq)]
pub struct Lambda {
    pub edge: String,
    pub node: String,
    pub body: Expr,
}

/// A node followed by zero or more (relationship, node) steps.
#[derive(Clone, Debug, PartialEq)]
pub struct PatternElement {
    pub start: NodePattern,
    pub chain: Vec<(RelPattern, NodePattern)>,
}

/// `(var:Label:Other {props})`.
#[derive(Clone, Debug, PartialEq)]
pub struct NodePattern {
    pub variable: Option<String>,
    pub labels: Vec<String>,
    /// A map literal or a parameter.
    pub properties: Option<Box<Expr>>,
    pub position: Position,
}

/// Which way a relationship pattern points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelDirection {
    /// `-[]->`
    Outgoing,
    /// `<-[]-`
    Incoming,
    /// `-[]-` (or `<-[]->`)
    Both,
}

/// `-[var:T1|T2*min..max {props}]->`.
#[derive(Clone, Debug, PartialEq)]
pub struct RelPattern {
    pub variable: Option<String>,
    pub types: Vec<String>,
    pub direction: RelDirection,
    /// Variable length: `Some((min, max))`; `*` alone is `Some((None, None))`.
    pub length: Option<(Option<i64>, Option<i64>)>,
    pub properties: Option<Box<Expr>>,
    /// Memgraph's `*BFS`, `*WSHORTEST`, `*ALLSHORTEST` (with a variable length).
    pub search: Option<Box<PathSearch>>,
    pub position: Position,
}

/// An expression and where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub position: Position,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Parameter(String),
    Variable(String),
    List(Vec<Expr>),
    Map(Vec<(String, Expr)>),
    /// `expr.key`
    Property(Box<Expr>, String),
    /// `expr[index]`
    Index(Box<Expr>, Box<Expr>),
    /// `expr[from..to]`
    Slice(Box<Expr>, Option<Box<Expr>>, Option<Box<Expr>>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `a < b <= c`: a chain of comparisons, each operand evaluated once.
    Comparison(Box<Expr>, Vec<(BinaryOp, Expr)>),
    /// `expr IS NULL` (`negated`: IS NOT NULL).
    IsNull(Box<Expr>, bool),
    /// `expr:A:B` as a predicate.
    HasLabels(Box<Expr>, Vec<String>),
    /// `name(args)`, `ns.name(DISTINCT args)`; the name as written.
    Function {
        name: String,
        distinct: bool,
        args: Vec<Expr>,
    },
    /// `count(*)`
    CountStar,
    Case {
        subject: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        else_: Option<Box<Expr>>,
    },
    /// `[x IN list WHERE pred | proj]`
    ListComprehension {
        variable: String,
        list: Box<Expr>,
        predicate: Option<Box<Expr>>,
        projection: Option<Box<Expr>>,
    },
    /// `[p = (a)-->(b) WHERE pred | proj]`
    PatternComprehension {
        variable: Option<String>,
        pattern: PatternElement,
        predicate: Option<Box<Expr>>,
        projection: Box<Expr>,
    },
    /// `all(x IN list WHERE pred)` and friends.
    Quantifier {
        kind: Quantifier,
        variable: String,
        list: Box<Expr>,
        predicate: Option<Box<Expr>>,
    },
    /// `reduce(acc = init, x IN list | expr)`
    Reduce {
        accumulator: String,
        init: Box<Expr>,
        variable: String,
        list: Box<Expr>,
        expr: Box<Expr>,
    },
    /// A pattern used as a predicate: `WHERE (a)-->(b)`.
    PatternPredicate(PatternElement),
    /// `EXISTS { MATCH ... WHERE ... }` or `EXISTS { (a)-->(b) WHERE ... }`.
    ExistsSubquery {
        pattern: Pattern,
        where_: Option<Box<Expr>>,
    },
    /// `EXISTS { MATCH ... WITH ... RETURN ... }`: a full subquery over the outer
    /// variables, true when it yields a row (the short forms are [`ExprKind::ExistsSubquery`]).
    ExistsQuery(Box<SingleQuery>),
    /// `COUNT { ... }`: how many rows the subquery yields (the pattern form counts matches).
    CountQuery(Box<Query>),
    /// `COLLECT { ... RETURN x }`: the subquery's one column as a list.
    CollectQuery(Box<Query>),
    /// `n {.a, .*, b: expr, c}`
    MapProjection {
        variable: String,
        items: Vec<MapProjectionItem>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum MapProjectionItem {
    /// `.key`
    Property(String),
    /// `.*`
    AllProperties,
    /// `key: expr`
    Literal(String, Expr),
    /// `var` (key is the variable name)
    Variable(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantifier {
    All,
    Any,
    None,
    Single,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Minus,
    Plus,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    Xor,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    In,
    StartsWith,
    EndsWith,
    Contains,
    /// `=~`
    Regex,
}
