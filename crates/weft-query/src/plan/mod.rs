//! The planner: turns a query that passed semantic analysis (`semantic/`) into a tree
//! of operators, checking as it goes the rules that need its name resolution (scopes,
//! undefined variables, clause composition, procedure calls).
//! Projections (WITH / RETURN, aggregation, ORDER BY) live in `plan/projection.rs`.

pub(crate) mod estimate;
pub(crate) mod projection;
pub(crate) mod pushdown;
pub(crate) mod scope;
pub(crate) mod subquery;

use crate::ast::{Clause, ClauseKind, Expr, NodePattern, PatternPart, Query, RemoveItem, SetItem, SingleQuery};
use crate::error::{ErrorKind, QueryError, Result};
use crate::exec::pattern::{self, CNode, Mode};
use crate::exec::pipeline::{Op, OpKind};
use crate::exec::write::{create_direction, CreateNode, CreatePart, CreateRel, SetOp, WriteClause};
use crate::expr::{compile, CExpr};
use crate::graph::GraphStats;
use crate::plan::estimate::{estimate_of, Estimated};
use crate::plan::scope::{Scope, Slots, VarKind};
use std::collections::{HashSet, VecDeque};

/// A planned query: the operator tree and where its output columns are.
#[derive(Clone)]
pub struct Plan {
    pub root: Op,
    pub columns: Vec<String>,
    pub out_slots: Vec<usize>,
    /// Every storage statistic the planner consulted, with what it saw: the only input
    /// besides the query and its parameter names (see [`Plan::still_fits`]).
    pub estimates: Vec<Estimated>,
    /// Whether the query commits in batches (`CALL { } IN TRANSACTIONS`), which only a
    /// statement in a transaction of its own may.
    pub batched: bool,
}

/// Builds plans for one graph (whose statistics guide start-point choice).
pub struct Planner<'s> {
    pub(crate) stats: &'s dyn GraphStats,
    pub(crate) slots: Slots,
    procedures: &'s crate::procedures::Registry,
    /// Names of the parameters supplied with the query.
    params: HashSet<String>,
    /// The estimates made so far (they go into the plan).
    estimates: std::cell::RefCell<Vec<Estimated>>,
    /// How many `CALL { }` subqueries enclose the clause being planned.
    pub(crate) subquery_depth: usize,
    /// Whether the query has a `CALL { } IN TRANSACTIONS`.
    pub(crate) batched: bool,
}

pub(crate) fn error(kind: ErrorKind, detail: &'static str, message: impl Into<String>) -> QueryError {
    QueryError::compile(kind, detail, message)
}

pub(crate) fn syntax(detail: &'static str, message: impl Into<String>) -> QueryError {
    error(ErrorKind::SyntaxError, detail, message)
}

impl<'s> Planner<'s> {
    pub fn new(
        stats: &'s dyn GraphStats,
        procedures: &'s crate::procedures::Registry,
        params: HashSet<String>,
    ) -> Self {
        Planner {
            stats,
            slots: Slots::default(),
            procedures,
            params,
            estimates: Default::default(),
            subquery_depth: 0,
            batched: false,
        }
    }

    /// Plans a whole query (with UNIONs).
    pub fn plan(mut self, q: &Query) -> Result<Plan> {
        let (first, columns, slots) = self.single(&q.first)?;
        if q.unions.is_empty() {
            let width = self.slots.width();
            let mut root = first;
            set_width(&mut root, width);
            return Ok(Plan {
                root,
                columns,
                out_slots: slots,
                estimates: self.estimates.take(),
                batched: self.batched,
            });
        }
        let all = q.unions[0].0;
        if q.unions.iter().any(|(a, _)| *a != all) {
            return Err(syntax(
                "InvalidClauseComposition",
                "Invalid combination of UNION and UNION ALL",
            ));
        }
        let mut inputs = vec![(first, slots.clone())];
        for (_, part) in &q.unions {
            let (op, cols, part_slots) = self.single(part)?;
            if cols != columns {
                return Err(syntax(
                    "DifferentColumnsInUnion",
                    "All sub queries in an UNION must have the same column names",
                ));
            }
            inputs.push((op, part_slots));
        }
        let seen = (!all).then(crate::exec::row::FastSet::default);
        let mut root = Op::new(OpKind::Union {
            inputs,
            current: 0,
            out_slots: slots.clone(),
            seen,
        });
        set_width(&mut root, self.slots.width());
        Ok(Plan {
            root,
            columns,
            out_slots: slots,
            estimates: self.estimates.take(),
            batched: self.batched,
        })
    }

    /// Plans one single query; returns the operator, column names and their slots.
    fn single(&mut self, q: &SingleQuery) -> Result<(Op, Vec<String>, Vec<usize>)> {
        self.single_from(q, Op::new(OpKind::Once { width: 0, done: false }), Scope::default())
    }

    /// Plans a single query over the rows of `op` with `scope` visible (a subquery
    /// starts from its outer row and names).
    pub(crate) fn single_from(
        &mut self,
        q: &SingleQuery,
        mut op: Op,
        mut scope: Scope,
    ) -> Result<(Op, Vec<String>, Vec<usize>)> {
        let last = q.clauses.len().saturating_sub(1);
        for (i, clause) in q.clauses.iter().enumerate() {
            if let ClauseKind::Return(p) = &clause.kind {
                if i != last {
                    return Err(syntax(
                        "InvalidClauseComposition",
                        "RETURN can only be used at the end of the query",
                    ));
                }
                let (op, cols, slots) = self.projection(op, &mut scope, p, true)?;
                return Ok((op, cols, slots));
            }
            if let ClauseKind::Call {
                procedure,
                args,
                yields,
                where_,
            } = &clause.kind
            {
                if q.clauses.len() == 1 {
                    return self.call(
                        op,
                        &mut scope,
                        procedure,
                        args.as_deref(),
                        yields.as_deref(),
                        where_.as_ref(),
                        true,
                    );
                }
            }
            op = self.clause(op, &mut scope, clause).map_err(|e| e.at(clause.position))?;
        }
        match q.clauses.last().map(|c| &c.kind) {
            Some(kind)
                if crate::semantic::is_update(kind)
                    || matches!(kind, ClauseKind::Call { .. })
                    || crate::plan::subquery::is_unit(kind) =>
            {
                Ok((op, Vec::new(), Vec::new()))
            }
            _ => Err(syntax(
                "InvalidClauseComposition",
                "Query cannot conclude with MATCH, WITH or UNWIND (must be a RETURN clause or an update clause)",
            )),
        }
    }

    fn clause(&mut self, input: Op, scope: &mut Scope, clause: &Clause) -> Result<Op> {
        Ok(match &clause.kind {
            ClauseKind::Match {
                optional,
                pattern: parts,
                where_,
            } => {
                let before: HashSet<usize> = visible_slots(scope);
                let before_names = scope.clone();
                let split = crate::plan::subquery::split_match_where(where_.as_ref(), *optional);
                // Conditions next to a subquery are checked after the MATCH: one on the
                // path there would filter the shortest paths instead of choosing them.
                let reads = |e: &Expr| conditions_on_shortest(parts, e);
                let filters_path = match &split.rest {
                    Some(rest) => reads(rest)?,
                    None => false,
                };
                let deferred = split.deferred.iter().map(reads).collect::<Result<Vec<_>>>()?;
                if deferred.contains(&true) || filters_path && !split.subqueries.is_empty() {
                    return Err(error(
                        ErrorKind::SemanticError,
                        "UnsupportedFeature",
                        "a condition on a shortest path next to an EXISTS, COUNT or COLLECT subquery is not \
                         supported yet: test the subquery in a WITH ... WHERE after the MATCH",
                    ));
                }
                let where_ = &split.rest;
                let pushed = crate::plan::pushdown::push_equalities(parts, where_.as_ref(), scope);
                let parts = &pushed;
                let (stats, estimates) = (self.stats, &self.estimates);
                let estimate = |n: &CNode| {
                    let value = estimate_of(stats, &n.labels, n.props.is_some(), n.bound);
                    estimates.borrow_mut().push(Estimated {
                        labels: n.labels.clone(),
                        props: n.props.is_some(),
                        bound: n.bound,
                        value,
                    });
                    value
                };
                let mut pattern = pattern::compile_parts_with(parts, scope, &mut self.slots, Mode::Match, &estimate)?;
                self.attach_ranges(&mut pattern, where_.as_ref(), &before_names)?;
                let filter = where_
                    .as_ref()
                    .map(|w| compile(w, scope, &mut self.slots))
                    .transpose()?;
                if filters_path {
                    // The search keeps only paths the WHERE keeps (see exec/shortest.rs);
                    // it needs both ends bound when it starts.
                    let part = &mut pattern.parts[0];
                    if !part.nodes.iter().all(|n| n.bound) {
                        return Err(error(
                            ErrorKind::SemanticError,
                            "UnsupportedFeature",
                            "a WHERE on a shortest path needs both ends bound by an earlier MATCH \
                             (MATCH (a ...), (b ...) MATCH p = shortestPath((a)-[*]-(b)) WHERE ...)",
                        ));
                    }
                    if let Some(search) = part.rels.first_mut().and_then(|r| r.search.as_mut()) {
                        search.path_filter = filter.clone();
                    }
                }
                let optional = optional.then(|| {
                    let mut new: Vec<usize> = visible_slots(scope).difference(&before).copied().collect();
                    new.extend(anonymous_slots(&pattern));
                    new
                });
                let matched = Op::new(OpKind::Match {
                    input: Box::new(input),
                    pattern,
                    filter,
                    optional,
                    buffer: VecDeque::new(),
                    current: None,
                });
                self.semi_apply(matched, scope, &split)?
            }
            ClauseKind::Unwind { expr, variable } => {
                let list = compile(expr, scope, &mut self.slots)?;
                let slot = self.bind_new(scope, variable, VarKind::Any)?;
                Op::new(OpKind::Unwind {
                    input: Box::new(input),
                    list,
                    slot,
                    current: None,
                })
            }
            ClauseKind::LoadCsv {
                source,
                headers,
                variable,
                terminator,
                quote,
                null_if,
                ignore_bad,
            } => {
                use crate::exec::load_csv::{one_char, CsvFormat, LoadCsv, OpenFile, FILE_VARIABLE, LINE_VARIABLE};
                let source = compile(source, scope, &mut self.slots)?;
                let format = CsvFormat {
                    headers: *headers,
                    delimiter: one_char("FIELDTERMINATOR", terminator.as_deref(), b',')?,
                    quote: one_char("QUOTE", quote.as_deref(), b'"')?,
                    null_if: null_if.clone(),
                    ignore_bad: *ignore_bad,
                };
                let slot = self.bind_new(scope, variable, VarKind::Value)?;
                let line_slot = scope.bind(LINE_VARIABLE, VarKind::Value, &mut self.slots);
                let file_slot = scope.bind(FILE_VARIABLE, VarKind::Value, &mut self.slots);
                Op::new(OpKind::LoadCsv {
                    input: Box::new(input),
                    load: Box::new(LoadCsv {
                        source,
                        format,
                        slot,
                        line_slot,
                        file_slot,
                        open: OpenFile::default(),
                    }),
                })
            }
            ClauseKind::Subquery {
                query,
                batch,
                scope: declared,
            } => self.call_subquery(input, scope, query, batch.as_ref(), declared.as_ref())?,
            ClauseKind::With(p) => self.projection(input, scope, p, false)?.0,
            ClauseKind::Return(_) => unreachable_return()?,
            ClauseKind::Call {
                procedure,
                args,
                yields,
                where_,
            } => {
                self.call(
                    input,
                    scope,
                    procedure,
                    args.as_deref(),
                    yields.as_deref(),
                    where_.as_ref(),
                    false,
                )?
                .0
            }
            _ => {
                let mut input = input;
                let hoisted;
                let clause = match &clause.kind {
                    // SET values holding EXISTS, COUNT or COLLECT subqueries read generated
                    // variables, computed for each incoming row first.
                    ClauseKind::Set { items } if items.iter().any(set_value_has_subquery) => {
                        let mut owned = clause.clone();
                        if let ClauseKind::Set { items } = &mut owned.kind {
                            for item in items {
                                if let SetItem::Property { value, .. } | SetItem::Variable { value, .. } = item {
                                    self.hoist_subqueries(&mut input, scope, value)?;
                                }
                            }
                        }
                        hoisted = owned;
                        &hoisted
                    }
                    _ => clause,
                };
                let write = self.write_clause(scope, clause)?;
                Op::new(OpKind::Write {
                    input: Box::new(input),
                    clause: Box::new(write),
                    output: None,
                })
            }
        })
    }

    pub(crate) fn bind_new(&mut self, scope: &mut Scope, name: &str, kind: VarKind) -> Result<usize> {
        if scope.get(name).is_some() {
            return Err(syntax(
                "VariableAlreadyBound",
                format!("Variable `{name}` already declared"),
            ));
        }
        Ok(scope.bind(name, kind, &mut self.slots))
    }

    /// Plans `CALL proc(args) YIELD ... [WHERE ...]`. `standalone` is a query made of this
    /// clause alone: it may pass arguments implicitly (from same-named parameters) and
    /// returns every output when there is no YIELD.
    #[allow(clippy::too_many_arguments)]
    fn call(
        &mut self,
        input: Op,
        scope: &mut Scope,
        procedure: &str,
        args: Option<&[Expr]>,
        yields: Option<&[crate::ast::YieldItem]>,
        where_: Option<&Expr>,
        standalone: bool,
    ) -> Result<(Op, Vec<String>, Vec<usize>)> {
        let p = self.procedures.get(procedure)?;
        let args = match args {
            Some(args) => self.call_arguments(&p, args, scope)?,
            None if !standalone => {
                return Err(syntax(
                    "InvalidArgumentPassingMode",
                    format!("Procedure call inside a query must pass its arguments explicitly: {procedure}(...)"),
                ))
            }
            None => p
                .inputs
                .iter()
                .map(|(name, _)| {
                    if self.params.contains(name) {
                        Ok(CExpr::Param(name.clone()))
                    } else {
                        Err(error(
                            ErrorKind::SemanticError,
                            "MissingParameter",
                            format!("Procedure {procedure} needs parameter ${name}"),
                        ))
                    }
                })
                .collect::<Result<_>>()?,
        };
        let mut outputs = Vec::new();
        let mut columns = Vec::new();
        match yields {
            Some(items) => {
                for item in items {
                    let Some(index) = p.outputs.iter().position(|(n, _)| *n == item.field) else {
                        return Err(syntax(
                            "UndefinedVariable",
                            format!("Unknown procedure output: `{}`", item.field),
                        ));
                    };
                    let name = item.alias.as_deref().unwrap_or(&item.field);
                    outputs.push((index, self.bind_new(scope, name, VarKind::Any)?));
                    columns.push(name.to_owned());
                }
            }
            None if standalone => {
                for (index, (name, _)) in p.outputs.iter().enumerate() {
                    outputs.push((index, self.slots.alloc()));
                    columns.push(name.clone());
                }
            }
            None => {}
        }
        let slots = outputs.iter().map(|(_, s)| *s).collect();
        let mut op = Op::new(OpKind::Call {
            input: Box::new(input),
            procedure: p,
            args,
            outputs,
            buffer: VecDeque::new(),
        });
        if let Some(w) = where_ {
            let predicate = compile(w, scope, &mut self.slots)?;
            op = Op::new(OpKind::Filter {
                input: Box::new(op),
                predicate,
            });
        }
        Ok((op, columns, slots))
    }

    /// Compiles explicit procedure arguments, checking count, aggregation and the types
    /// of constant arguments.
    fn call_arguments(&mut self, p: &crate::procedures::Procedure, args: &[Expr], scope: &Scope) -> Result<Vec<CExpr>> {
        if args.len() != p.inputs.len() {
            return Err(syntax(
                "InvalidNumberOfArguments",
                format!(
                    "Procedure {} takes {} arguments, got {}",
                    p.name,
                    p.inputs.len(),
                    args.len()
                ),
            ));
        }
        let mut out = Vec::new();
        for (arg, (name, ty)) in args.iter().zip(&p.inputs) {
            if crate::expr::contains_aggregate(arg) {
                return Err(syntax("InvalidAggregation", "Procedure arguments cannot aggregate"));
            }
            let e = compile(arg, scope, &mut self.slots)?;
            if let CExpr::Const(v) = &e {
                if !ty.accepts(v) {
                    return Err(syntax(
                        "InvalidArgumentType",
                        format!("Argument `{name}` of {} must be {ty:?}, got {}", p.name, v.type_name()),
                    ));
                }
            }
            out.push(e);
        }
        Ok(out)
    }

    fn write_clause(&mut self, scope: &mut Scope, clause: &Clause) -> Result<WriteClause> {
        Ok(match &clause.kind {
            ClauseKind::Create { pattern: parts } => {
                let mut out = Vec::new();
                for part in parts {
                    out.push(self.create_part(scope, part, None)?);
                }
                WriteClause::Create(out)
            }
            ClauseKind::Merge {
                part,
                on_create,
                on_match,
            } => {
                if part.shortest.is_some() {
                    return Err(syntax(
                        "InvalidShortestPath",
                        "MERGE cannot use shortestPath(), allShortestPaths() or SHORTEST",
                    ));
                }
                let before: HashSet<String> = scope.names().into_iter().collect();
                for rel in part.element.chain.iter().map(|(r, _)| r) {
                    if rel.length.is_some() {
                        return Err(syntax(
                            "CreatingVarLength",
                            "Variable length relationships cannot be used in MERGE",
                        ));
                    }
                }
                let pattern = pattern::compile_parts(std::slice::from_ref(part), scope, &mut self.slots, Mode::Match)?;
                let create = self.create_part(scope, part, Some(&before))?;
                let on_create = self.set_items(scope, on_create)?;
                let on_match = self.set_items(scope, on_match)?;
                WriteClause::Merge {
                    pattern,
                    create,
                    on_create,
                    on_match,
                }
            }
            ClauseKind::Set { items } => WriteClause::Set(self.set_items(scope, items)?),
            ClauseKind::Remove { items } => WriteClause::Set(self.remove_items(scope, items)?),
            ClauseKind::Delete { detach, exprs } => {
                let exprs = exprs
                    .iter()
                    .map(|e| compile(e, scope, &mut self.slots))
                    .collect::<Result<_>>()?;
                WriteClause::Delete { exprs, detach: *detach }
            }
            ClauseKind::Foreach {
                variable,
                list,
                clauses,
            } => {
                let list = compile(list, scope, &mut self.slots)?;
                let mut inner = scope.clone();
                let slot = inner.bind(variable, VarKind::Any, &mut self.slots);
                let mut body = Vec::new();
                for c in clauses {
                    match c.kind {
                        ClauseKind::Create { .. }
                        | ClauseKind::Merge { .. }
                        | ClauseKind::Set { .. }
                        | ClauseKind::Remove { .. }
                        | ClauseKind::Delete { .. }
                        | ClauseKind::Foreach { .. } => body.push(self.write_clause(&mut inner, c)?),
                        _ => {
                            return Err(syntax(
                                "InvalidClauseComposition",
                                "Only update clauses may be used in FOREACH",
                            ))
                        }
                    }
                }
                WriteClause::Foreach { slot, list, body }
            }
            _ => return Err(syntax("InvalidClauseComposition", "not an update clause")),
        })
    }

    /// Compiles a CREATE part (`merge_before: None`) or MERGE's create part, where
    /// `merge_before` names the variables bound before the MERGE: the pattern's own
    /// variables are already in `scope` (bound by MERGE's match) and are created here.
    fn create_part(
        &mut self,
        scope: &mut Scope,
        part: &PatternPart,
        merge_before: Option<&HashSet<String>>,
    ) -> Result<CreatePart> {
        let element = &part.element;
        let mut nodes = vec![self.create_node(scope, &element.start, merge_before)?];
        let mut rels = Vec::new();
        for (r, n) in &element.chain {
            if r.length.is_some() {
                return Err(syntax(
                    "CreatingVarLength",
                    "Variable length relationships cannot be created",
                ));
            }
            let [rel_type] = r.types.as_slice() else {
                return Err(syntax(
                    "NoSingleRelationshipType",
                    "A single relationship type must be specified for CREATE",
                ));
            };
            // MERGE may leave the direction open: it matches either way and creates
            // left to right.
            let backwards = match (merge_before, r.direction) {
                (Some(_), crate::ast::RelDirection::Both) => false,
                _ => create_direction(r.direction)?,
            };
            let props = r
                .properties
                .as_ref()
                .map(|p| compile(p, scope, &mut self.slots))
                .transpose()?;
            let slot = match &r.variable {
                Some(name) => self.created_slot(scope, name, VarKind::Relationship),
                None => self.slots.alloc(),
            };
            rels.push(CreateRel {
                slot,
                rel_type: rel_type.clone(),
                backwards,
                props,
            });
            nodes.push(self.create_node(scope, n, merge_before)?);
        }
        let path_slot = part
            .variable
            .as_ref()
            .map(|name| self.created_slot(scope, name, VarKind::Path));
        // A variable repeated within the part is created once, then reused.
        let mut created = HashSet::new();
        for node in nodes.iter_mut().filter(|n| !n.existing) {
            if !created.insert(node.slot) {
                node.existing = true;
                node.labels.clear();
                node.props = None;
            }
        }
        Ok(CreatePart { path_slot, nodes, rels })
    }

    /// The slot of a relationship or path variable a create part introduces: MERGE's
    /// match has bound it already; semantic analysis has refused one bound before.
    fn created_slot(&mut self, scope: &mut Scope, name: &str, kind: VarKind) -> usize {
        match scope.get(name) {
            Some((slot, _)) => slot,
            None => scope.bind(name, kind, &mut self.slots),
        }
    }

    fn create_node(
        &mut self,
        scope: &mut Scope,
        n: &NodePattern,
        merge_before: Option<&HashSet<String>>,
    ) -> Result<CreateNode> {
        let props = n
            .properties
            .as_ref()
            .map(|p| compile(p, scope, &mut self.slots))
            .transpose()?;
        let fresh = |slot| CreateNode {
            slot,
            existing: false,
            labels: n.labels.clone(),
            props: None,
        };
        let Some(name) = &n.variable else {
            return Ok(CreateNode {
                props,
                ..fresh(self.slots.alloc())
            });
        };
        let introduced_by_merge = merge_before.is_some_and(|before| !before.contains(name));
        match scope.get(name) {
            Some((slot, _)) if introduced_by_merge => Ok(CreateNode { props, ..fresh(slot) }),
            // Semantic analysis has checked that a bound variable is a bare node here.
            Some((slot, _)) => Ok(CreateNode {
                slot,
                existing: true,
                labels: Vec::new(),
                props: None,
            }),
            None => {
                let slot = scope.bind(name, VarKind::Node, &mut self.slots);
                Ok(CreateNode { props, ..fresh(slot) })
            }
        }
    }

    fn set_items(&mut self, scope: &mut Scope, items: &[SetItem]) -> Result<Vec<SetOp>> {
        items
            .iter()
            .map(|item| {
                Ok(match item {
                    SetItem::Property { target, key, value } => SetOp::Property {
                        target: compile(target, scope, &mut self.slots)?,
                        key: key.clone(),
                        value: compile(value, scope, &mut self.slots)?,
                    },
                    SetItem::Variable { variable, value, merge } => SetOp::Replace {
                        target: CExpr::Slot(scope.slot(variable)?),
                        value: compile(value, scope, &mut self.slots)?,
                        merge: *merge,
                    },
                    SetItem::Labels { variable, labels } => SetOp::AddLabels {
                        target: CExpr::Slot(scope.slot(variable)?),
                        labels: labels.clone(),
                    },
                })
            })
            .collect()
    }

    fn remove_items(&mut self, scope: &mut Scope, items: &[RemoveItem]) -> Result<Vec<SetOp>> {
        items
            .iter()
            .map(|item| {
                Ok(match item {
                    RemoveItem::Property { target, key } => SetOp::RemoveProperty {
                        target: compile(target, scope, &mut self.slots)?,
                        key: key.clone(),
                    },
                    RemoveItem::Labels { variable, labels } => SetOp::RemoveLabels {
                        target: CExpr::Slot(scope.slot(variable)?),
                        labels: labels.clone(),
                    },
                })
            })
            .collect()
    }
}

fn unreachable_return() -> Result<Op> {
    Err(syntax(
        "InvalidClauseComposition",
        "RETURN can only be used at the end of the query",
    ))
}

fn visible_slots(scope: &Scope) -> HashSet<usize> {
    scope
        .names()
        .iter()
        .filter_map(|n| scope.get(n))
        .map(|(s, _)| s)
        .collect()
}

fn anonymous_slots(p: &pattern::CPattern) -> Vec<usize> {
    p.parts
        .iter()
        .flat_map(|e| {
            let nodes = e.nodes.iter().filter(|n| n.name.is_none()).map(|n| n.slot);
            let rels = e.rels.iter().filter(|r| r.name.is_none()).map(|r| r.slot);
            nodes.chain(rels).collect::<Vec<_>>()
        })
        .collect()
}

/// Gives every row-producing leaf the final row width.
pub(crate) fn set_width(op: &mut Op, width: usize) {
    match &mut op.kind {
        OpKind::Once { width: w, .. } | OpKind::Aggregate { width: w, .. } => *w = width,
        _ => {}
    }
    op.children_mut().into_iter().for_each(|child| set_width(child, width));
}

/// Whether a WHERE reads the path or the relationships of a `shortestPath()`-like part:
/// then the search must find the shortest paths the WHERE keeps (Neo4j looks past the
/// shortest ones that fail it), so it evaluates the WHERE on each path it finds. That
/// needs the part to be the MATCH's only one (every variable the WHERE reads is bound
/// when a path is found); with other parts the query is refused.
fn conditions_on_shortest(parts: &[PatternPart], where_: &Expr) -> Result<bool> {
    let names: Vec<&str> = parts
        .iter()
        .filter(|p| p.shortest.is_some() && p.legacy)
        .flat_map(|p| {
            let rels = p.element.chain.iter().filter_map(|(r, _)| r.variable.as_deref());
            p.variable.as_deref().into_iter().chain(rels)
        })
        .collect();
    let mut read = None;
    crate::expr::visit(where_, &mut |x| {
        if let crate::ast::ExprKind::Variable(v) = &x.kind {
            if names.contains(&v.as_str()) {
                read = Some(v.clone());
            }
        }
    });
    match read {
        None => Ok(false),
        Some(_) if parts.len() == 1 => Ok(true),
        Some(name) => Err(error(
            ErrorKind::SemanticError,
            "UnsupportedFeature",
            format!(
                "a WHERE condition on `{name}`, the path or relationships of a shortest-path search, is \
                 supported only when the search is the MATCH's only pattern: match the ends first \
                 (MATCH (a ...), (b ...) MATCH p = shortestPath((a)-[*]-(b)) WHERE ...)"
            ),
        )),
    }
}

/// Whether a SET item's value holds an EXISTS, COUNT or COLLECT subquery.
fn set_value_has_subquery(item: &SetItem) -> bool {
    match item {
        SetItem::Property { value, .. } | SetItem::Variable { value, .. } => {
            crate::plan::subquery::has_value_subquery(value)
        }
        SetItem::Labels { .. } => false,
    }
}
