//! Graph patterns: compilation against a scope, and the matcher that enumerates every
//! way a pattern fits the graph given the variables a row already binds.
//!
//! A pattern part is traversed from one end: the end already bound by the row if any,
//! otherwise the end the planner estimates to have fewer candidates. Relationships may
//! not repeat within one MATCH (relationship isomorphism); variables that occur twice
//! must bind the same entity.

use crate::ast::{Lambda, NodePattern, PatternElement, PatternPart, RelDirection, RelPattern, Shortest};
use crate::error::{ErrorKind, QueryError, Result};
use crate::exec::shortest::{CLambda, CSearch, Ends, SearchKind, Took};
use crate::exec::ExecCtx;
use crate::expr::{compile, eval, CExpr};
use crate::graph::{Direction, EdgeRef, EdgeTypeId, Gid, GraphRead, LabelId};
use crate::plan::scope::{Scope, Slots, VarKind};
use crate::value::{PathValue, QValue, Truth};
use std::borrow::Cow;
use std::collections::HashSet;

/// What the pattern is compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// MATCH / OPTIONAL MATCH / MERGE / EXISTS: may introduce variables.
    Match,
    /// A pattern used as a predicate: may not introduce named variables.
    Predicate,
}

#[derive(Clone, Debug)]
pub struct CNode {
    pub slot: usize,
    pub name: Option<String>,
    pub labels: Vec<String>,
    pub props: Option<CExpr>,
    /// The slot holds a value before this node is visited (check instead of bind).
    pub bound: bool,
    /// A range on one property (from WHERE) that a label+property index can serve.
    pub range: Option<RangeScan>,
    /// `labels` resolved to ids, once every name is known to the storage.
    pub label_ids: std::sync::OnceLock<Vec<LabelId>>,
}

/// `key` between optional bounds, each with whether it is inclusive.
#[derive(Clone, Debug)]
pub struct RangeScan {
    pub key: String,
    pub lower: Option<(CExpr, bool)>,
    pub upper: Option<(CExpr, bool)>,
}

#[derive(Clone, Debug)]
pub struct CRel {
    pub slot: usize,
    pub name: Option<String>,
    pub types: Vec<String>,
    pub direction: RelDirection,
    /// (min, max) hops for a variable-length relationship.
    pub length: Option<(u64, Option<u64>)>,
    pub props: Option<CExpr>,
    pub bound: bool,
    /// `types` resolved to ids, once every name is known to the storage.
    pub type_ids: std::sync::OnceLock<Vec<EdgeTypeId>>,
    /// A shortest-path search instead of every path (variable length only).
    pub search: Option<Box<CSearch>>,
}

/// One pattern part, ready to traverse.
#[derive(Clone, Debug)]
pub struct CElement {
    pub path_slot: Option<usize>,
    pub nodes: Vec<CNode>,
    pub rels: Vec<CRel>,
    /// Traverse from the last node towards the first.
    pub reversed: bool,
}

/// Comma-separated parts matched together.
#[derive(Clone, Debug)]
pub struct CPattern {
    pub parts: Vec<CElement>,
}

/// Estimated number of start candidates of a node pattern (lower is better).
pub type Estimate<'a> = &'a dyn Fn(&CNode) -> u64;

fn anon(slots: &mut Slots) -> usize {
    slots.alloc()
}

fn compile_props(props: &Option<Box<crate::ast::Expr>>, scope: &Scope, slots: &mut Slots) -> Result<Option<CExpr>> {
    props.as_ref().map(|p| compile(p, scope, slots)).transpose()
}

/// The slot of a pattern element's variable (bound here, or already in scope), or a fresh
/// anonymous one; a pattern used as a predicate cannot introduce a variable.
fn variable_slot(
    variable: &Option<String>,
    kind: VarKind,
    scope: &mut Scope,
    slots: &mut Slots,
    mode: Mode,
) -> Result<usize> {
    match variable {
        Some(name) if mode == Mode::Predicate && scope.get(name).is_none() => Err(QueryError::compile(
            ErrorKind::SyntaxError,
            "UndefinedVariable",
            format!("Variable `{name}` not defined (patterns used as predicates cannot introduce variables)"),
        )),
        Some(name) => Ok(scope.bind_pattern(name, kind, slots)),
        None => Ok(anon(slots)),
    }
}

fn node(n: &NodePattern, scope: &mut Scope, slots: &mut Slots, mode: Mode) -> Result<CNode> {
    let props = compile_props(&n.properties, scope, slots)?;
    let slot = variable_slot(&n.variable, VarKind::Node, scope, slots, mode)?;
    Ok(CNode {
        range: None,
        label_ids: std::sync::OnceLock::new(),
        slot,
        name: n.variable.clone(),
        labels: n.labels.clone(),
        props,
        bound: false,
    })
}

fn rel(r: &RelPattern, scope: &mut Scope, slots: &mut Slots, mode: Mode) -> Result<CRel> {
    let props = compile_props(&r.properties, scope, slots)?;
    let kind = if r.length.is_some() {
        VarKind::RelationshipList
    } else {
        VarKind::Relationship
    };
    let slot = variable_slot(&r.variable, kind, scope, slots, mode)?;
    let length = match r.length {
        None => None,
        Some((min, max)) => {
            let check = |v: Option<i64>| match v {
                Some(v) if v < 0 => Err(QueryError::compile(
                    ErrorKind::SyntaxError,
                    "InvalidRelationshipPattern",
                    "variable-length bounds must not be negative",
                )),
                other => Ok(other.map(|v| v as u64)),
            };
            Some((check(min)?.unwrap_or(1), check(max)?))
        }
    };
    let search = match &r.search {
        None => None,
        Some(s) => {
            let lambda = |l: &Option<Lambda>, slots: &mut Slots| -> Result<Option<CLambda>> {
                let Some(l) = l else { return Ok(None) };
                let mut inner = scope.clone();
                let edge_slot = inner.bind(&l.edge, VarKind::Relationship, slots);
                let node_slot = inner.bind(&l.node, VarKind::Node, slots);
                let body = compile(&l.body, &inner, slots)?;
                Ok(Some(CLambda {
                    edge_slot,
                    node_slot,
                    body,
                }))
            };
            let kind = match s.kind {
                crate::ast::SearchKind::Bfs => SearchKind::Unweighted { all: false },
                crate::ast::SearchKind::WeightedShortest => SearchKind::Weighted { all: false },
                crate::ast::SearchKind::AllWeightedShortest => SearchKind::Weighted { all: true },
            };
            let (filter, weight) = (lambda(&s.filter, slots)?, lambda(&s.weight, slots)?);
            let total_slot = s.total.as_deref().map(|name| scope.bind(name, VarKind::Value, slots));
            Some(Box::new(CSearch {
                kind,
                filter,
                weight,
                total_slot,
                path_filter: None,
            }))
        }
    };
    Ok(CRel {
        search,
        slot,
        name: r.variable.clone(),
        types: r.types.clone(),
        direction: r.direction,
        length,
        props,
        bound: false,
        type_ids: std::sync::OnceLock::new(),
    })
}

/// Compiles one pattern element, binding its variables in `scope`.
pub fn compile_element(
    e: &PatternElement,
    path: Option<&str>,
    scope: &mut Scope,
    slots: &mut Slots,
    mode: Mode,
) -> Result<CPattern> {
    let before: HashSet<usize> = scope
        .names()
        .iter()
        .filter_map(|n| scope.get(n))
        .map(|(s, _)| s)
        .collect();
    let mut element = element(e, path, scope, slots, mode)?;
    orient(&mut element, &before, &|_| 1);
    Ok(CPattern { parts: vec![element] })
}

fn element(
    e: &PatternElement,
    path: Option<&str>,
    scope: &mut Scope,
    slots: &mut Slots,
    mode: Mode,
) -> Result<CElement> {
    let mut nodes = vec![node(&e.start, scope, slots, mode)?];
    let mut rels = Vec::new();
    for (r, n) in &e.chain {
        rels.push(rel(r, scope, slots, mode)?);
        nodes.push(node(n, scope, slots, mode)?);
    }
    // Semantic analysis has refused a path name that is already bound.
    let path_slot = path.map(|name| scope.bind(name, VarKind::Path, slots));
    Ok(CElement {
        path_slot,
        nodes,
        rels,
        reversed: false,
    })
}

/// Compiles the parts of a MATCH-like pattern.
pub fn compile_parts(parts: &[PatternPart], scope: &mut Scope, slots: &mut Slots, mode: Mode) -> Result<CPattern> {
    compile_parts_with(parts, scope, slots, mode, &|_| 1)
}

/// Compiles the parts of a MATCH-like pattern, orienting each by `estimate`.
pub fn compile_parts_with(
    parts: &[PatternPart],
    scope: &mut Scope,
    slots: &mut Slots,
    mode: Mode,
    estimate: Estimate,
) -> Result<CPattern> {
    let mut bound: HashSet<usize> = scope
        .names()
        .iter()
        .filter_map(|n| scope.get(n))
        .map(|(s, _)| s)
        .collect();
    let mut out = Vec::new();
    for part in parts {
        let mut e = element(&part.element, part.variable.as_deref(), scope, slots, mode)?;
        if let Some(selector) = part.shortest {
            shortest_part(&mut e, selector)?;
        }
        orient(&mut e, &bound, estimate);
        bound.extend(e.nodes.iter().map(|n| n.slot).chain(e.rels.iter().map(|r| r.slot)));
        out.push(e);
    }
    Ok(CPattern { parts: out })
}

/// Makes the one relationship of a `shortestPath(...)`-like part a shortest-path search.
fn shortest_part(e: &mut CElement, selector: Shortest) -> Result<()> {
    let [rel] = e.rels.as_mut_slice() else {
        return Err(QueryError::compile(
            ErrorKind::SyntaxError,
            "InvalidShortestPath",
            "a shortest path is searched over a pattern of exactly one relationship, such as (a)-[:T*]-(b)",
        ));
    };
    if rel.search.is_some() {
        return Err(QueryError::compile(
            ErrorKind::SyntaxError,
            "InvalidShortestPath",
            "shortestPath() and SHORTEST take a plain relationship pattern, not *BFS or *WSHORTEST",
        ));
    }
    if rel.length.is_some_and(|(min, _)| min > 1) {
        return Err(QueryError::compile(
            ErrorKind::SyntaxError,
            "InvalidShortestPath",
            "a shortest path must allow a minimal length of 0 or 1",
        ));
    }
    let kind = match selector {
        Shortest::One => SearchKind::Unweighted { all: false },
        Shortest::All => SearchKind::Unweighted { all: true },
        Shortest::Count(k) => SearchKind::Count(k),
    };
    rel.length.get_or_insert((1, Some(1)));
    rel.search = Some(Box::new(CSearch {
        kind,
        filter: None,
        weight: None,
        total_slot: None,
        path_filter: None,
    }));
    Ok(())
}

/// Picks the traversal end and marks which occurrences check instead of bind.
fn orient(e: &mut CElement, bound: &HashSet<usize>, estimate: Estimate) {
    let first = &e.nodes[0];
    let last = &e.nodes[e.nodes.len() - 1];
    e.reversed = match (bound.contains(&first.slot), bound.contains(&last.slot)) {
        (true, _) => false,
        (false, true) => true,
        (false, false) => e.nodes.len() > 1 && estimate(last) < estimate(first),
    };
    let mut seen = bound.clone();
    let order: Vec<usize> = if e.reversed {
        (0..e.nodes.len()).rev().collect()
    } else {
        (0..e.nodes.len()).collect()
    };
    for (step, &i) in order.iter().enumerate() {
        if step > 0 {
            let r = if e.reversed { i } else { i - 1 };
            e.rels[r].bound = !seen.insert(e.rels[r].slot);
        }
        e.nodes[i].bound = !seen.insert(e.nodes[i].slot);
    }
}

/// Calls `f` with the row extended by each match; `f` returns whether to go on.
pub fn for_each_match<G: GraphRead>(
    p: &CPattern,
    row: &mut [QValue],
    ctx: &ExecCtx<G>,
    f: &mut dyn FnMut(&mut [QValue]) -> Result<bool>,
) -> Result<()> {
    let mut used = Vec::new();
    match_parts(&p.parts, row, ctx, &mut used, f).map(|_| ())
}

fn match_parts<G: GraphRead>(
    parts: &[CElement],
    row: &mut [QValue],
    ctx: &ExecCtx<G>,
    used: &mut Vec<Gid>,
    f: &mut dyn FnMut(&mut [QValue]) -> Result<bool>,
) -> Result<bool> {
    let Some(part) = parts.first() else {
        return f(row);
    };
    for candidate in start_candidates(part, row, ctx)?.gids {
        if !match_from(parts, candidate, false, row, ctx, used, f)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn start_index(part: &CElement) -> usize {
    if part.reversed {
        part.nodes.len() - 1
    } else {
        0
    }
}

/// The start candidates of a pattern's first part for this row (empty pattern: none).
pub fn first_candidates<G: GraphRead>(p: &CPattern, row: &mut [QValue], ctx: &ExecCtx<G>) -> Result<Candidates> {
    match p.parts.first() {
        Some(part) => start_candidates(part, row, ctx),
        None => Ok(Candidates::default()),
    }
}

/// Start candidates and, when they came from a scan of the start node's only label, the
/// write generation of the statement at that scan.
#[derive(Default)]
pub struct Candidates {
    pub gids: Vec<Gid>,
    pub labels_checked_at: Option<u64>,
}

impl Candidates {
    /// Candidates whose labels still need checking.
    fn unchecked(gids: Vec<Gid>) -> Candidates {
        Candidates {
            gids,
            labels_checked_at: None,
        }
    }
}

/// Like [`for_each_match`], with the first part starting at `candidate` only: a caller
/// can walk the candidates one at a time and stop early.
/// `labels_checked_at` comes with the candidate's [`Candidates`]: while the statement has
/// not written since, the start node's label need not be checked again.
pub fn for_each_match_from<G: GraphRead>(
    p: &CPattern,
    candidate: Gid,
    labels_checked_at: Option<u64>,
    row: &mut [QValue],
    ctx: &ExecCtx<G>,
    f: &mut dyn FnMut(&mut [QValue]) -> Result<bool>,
) -> Result<()> {
    let mut used = Vec::new();
    let labels_checked = labels_checked_at == Some(ctx.write_generation());
    match_from(&p.parts, candidate, labels_checked, row, ctx, &mut used, f).map(|_| ())
}

#[allow(clippy::too_many_arguments)]
fn match_from<G: GraphRead>(
    parts: &[CElement],
    candidate: Gid,
    labels_checked: bool,
    row: &mut [QValue],
    ctx: &ExecCtx<G>,
    used: &mut Vec<Gid>,
    f: &mut dyn FnMut(&mut [QValue]) -> Result<bool>,
) -> Result<bool> {
    let Some((part, rest)) = parts.split_first() else {
        return f(row);
    };
    let start = &part.nodes[start_index(part)];
    if !bind_checked_node(start, candidate, labels_checked, row, ctx)? {
        return Ok(true);
    }
    let mut trail = Trail {
        nodes: vec![candidate],
        rels: Vec::new(),
        keep_rels: part.path_slot.is_some(),
    };
    walk(part, 1, &mut trail, row, ctx, used, &mut |row, trail, used| {
        if let Some(slot) = part.path_slot {
            row[slot] = QValue::Path(trail.path(part.reversed));
        }
        match_parts(rest, row, ctx, used, f)
    })
}

/// Nodes and relationship hops visited so far, in traversal order. The hops are kept
/// only when the part binds a path variable (`keep_rels`): nothing else reads them.
struct Trail {
    nodes: Vec<Gid>,
    rels: Vec<Vec<EdgeRef>>,
    keep_rels: bool,
}

impl Trail {
    fn push(&mut self, node: Gid, hops: impl FnOnce() -> Vec<EdgeRef>) {
        self.nodes.push(node);
        if self.keep_rels {
            self.rels.push(hops());
        }
    }

    fn pop(&mut self) {
        self.nodes.pop();
        if self.keep_rels {
            self.rels.pop();
        }
    }

    fn path(&self, reversed: bool) -> PathValue {
        let mut nodes = self.nodes.clone();
        let mut hops: Vec<EdgeRef> = Vec::new();
        // Expand variable-length hops into single steps with their intermediate nodes.
        let mut walked = vec![nodes[0]];
        for (i, rels) in self.rels.iter().enumerate() {
            let mut at = nodes[i];
            for r in rels {
                at = if r.from == at { r.to } else { r.from };
                hops.push(*r);
                walked.push(at);
            }
        }
        nodes = walked;
        if reversed {
            nodes.reverse();
            hops.reverse();
        }
        PathValue {
            start: nodes[0],
            steps: hops.into_iter().zip(nodes.into_iter().skip(1)).collect(),
        }
    }
}

type Done<'a> = dyn FnMut(&mut [QValue], &Trail, &mut Vec<Gid>) -> Result<bool> + 'a;

fn walk<G: GraphRead>(
    part: &CElement,
    step: usize,
    trail: &mut Trail,
    row: &mut [QValue],
    ctx: &ExecCtx<G>,
    used: &mut Vec<Gid>,
    done: &mut Done,
) -> Result<bool> {
    if step == part.nodes.len() {
        return done(row, trail, used);
    }
    let (rel, next, flip) = if part.reversed {
        let i = part.nodes.len() - 1 - step;
        (&part.rels[i], &part.nodes[i], true)
    } else {
        (&part.rels[step - 1], &part.nodes[step], false)
    };
    let dir = match (rel.direction, flip) {
        (RelDirection::Both, _) => None,
        (RelDirection::Outgoing, false) | (RelDirection::Incoming, true) => Some(Direction::Out),
        _ => Some(Direction::In),
    };
    let from = *trail.nodes.last().unwrap_or(&Gid(0));
    match rel.length {
        None => {
            for edge in neighbours(from, dir, rel, ctx)? {
                let other = other_end(&edge, from);
                ctx.step()?;
                if used.contains(&edge.gid) || !check_rel(rel, &edge, row, ctx)? {
                    continue;
                }
                if !bind_node(next, other, row, ctx)? {
                    continue;
                }
                if !rel.bound {
                    row[rel.slot] = QValue::Relationship(edge);
                }
                used.push(edge.gid);
                trail.push(other, || vec![edge]);
                let go_on = walk(part, step + 1, trail, row, ctx, used, done)?;
                trail.pop();
                used.pop();
                if !go_on {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Some((min, max)) if rel.search.is_some() => {
            search(part, step, rel, next, dir, from, min, max, trail, row, ctx, used, done)
        }
        Some((min, max)) => {
            let mut hops = Vec::new();
            var_length(
                part, step, rel, next, dir, from, min, max, &mut hops, trail, row, ctx, used, done,
            )
        }
    }
}

/// A variable-length step that searches shortest paths: each path found continues the
/// walk from its far end, its relationships bound like any variable-length ones.
#[allow(clippy::too_many_arguments)]
fn search<G: GraphRead>(
    part: &CElement,
    step: usize,
    rel: &CRel,
    next: &CNode,
    dir: Option<Direction>,
    from: Gid,
    min: u64,
    max: Option<u64>,
    trail: &mut Trail,
    row: &mut [QValue],
    ctx: &ExecCtx<G>,
    used: &mut Vec<Gid>,
    done: &mut Done,
) -> Result<bool> {
    let Some(search) = rel.search.as_deref() else {
        return Ok(true);
    };
    let to = match (next.bound, &row[next.slot]) {
        (false, _) => None,
        (true, QValue::Node(g)) => Some(*g),
        (true, _) => return Ok(true),
    };
    // A far end the pattern refuses is refused for every path: no search.
    if let Some(to) = to {
        if !bind_node(next, to, row, ctx)? {
            return Ok(true);
        }
    }
    let taken = used.clone();
    let ends = Ends {
        from,
        to,
        dir,
        min,
        max,
        used: &taken,
    };
    let mut accept = |row: &mut [QValue], hops: Vec<EdgeRef>, end: Gid, total: Option<f64>| -> Result<Took> {
        if !bind_node(next, end, row, ctx)? {
            return Ok(Took::Refused);
        }
        let mut list: Vec<QValue> = hops.iter().map(|e| QValue::Relationship(*e)).collect();
        if part.reversed {
            list.reverse();
        }
        let list = QValue::List(list);
        if rel.bound && row[rel.slot].cypher_eq(&list) != Some(true) {
            return Ok(Took::Refused);
        }
        if !rel.bound {
            row[rel.slot] = list;
        }
        if let (Some(slot), Some(total)) = (search.total_slot, total) {
            row[slot] = QValue::Float(total);
        }
        trail.push(end, || hops.clone());
        if let Some(filter) = &search.path_filter {
            // The part's only relationship: the trail is the whole path.
            if let Some(slot) = part.path_slot {
                row[slot] = QValue::Path(trail.path(part.reversed));
            }
            if eval(filter, row, ctx)?.as_bool_or_null()? != Some(true) {
                trail.pop();
                return Ok(Took::Refused);
            }
        }
        let before = used.len();
        used.extend(hops.iter().map(|e| e.gid));
        let go_on = walk(part, step + 1, trail, row, ctx, used, done);
        trail.pop();
        used.truncate(before);
        Ok(if go_on? { Took::Kept } else { Took::Stop })
    };
    crate::exec::shortest::run(search, rel, &ends, row, ctx, &mut accept)
}

#[allow(clippy::too_many_arguments)]
fn var_length<G: GraphRead>(
    part: &CElement,
    step: usize,
    rel: &CRel,
    next: &CNode,
    dir: Option<Direction>,
    at: Gid,
    min: u64,
    max: Option<u64>,
    hops: &mut Vec<EdgeRef>,
    trail: &mut Trail,
    row: &mut [QValue],
    ctx: &ExecCtx<G>,
    used: &mut Vec<Gid>,
    done: &mut Done,
) -> Result<bool> {
    ctx.step()?;
    let depth = hops.len() as u64;
    if depth >= min && bind_node(next, at, row, ctx)? {
        let mut list: Vec<QValue> = hops.iter().map(|e| QValue::Relationship(*e)).collect();
        if part.reversed {
            list.reverse();
        }
        let list = QValue::List(list);
        let fits = !rel.bound || row[rel.slot].cypher_eq(&list) == Some(true);
        if fits {
            if !rel.bound {
                row[rel.slot] = list;
            }
            trail.push(at, || hops.clone());
            let go_on = walk(part, step + 1, trail, row, ctx, used, done)?;
            trail.pop();
            if !go_on {
                return Ok(false);
            }
        }
    }
    if max.is_some_and(|m| depth >= m) {
        return Ok(true);
    }
    for edge in neighbours(at, dir, rel, ctx)? {
        let other = other_end(&edge, at);
        if used.contains(&edge.gid) || !check_rel_props(rel, &edge, row, ctx)? {
            continue;
        }
        used.push(edge.gid);
        hops.push(edge);
        let go_on = var_length(
            part, step, rel, next, dir, other, min, max, hops, trail, row, ctx, used, done,
        )?;
        hops.pop();
        used.pop();
        if !go_on {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Edges leaving `at` in `dir` (both when `None`) with the rel's types; a self-loop is
/// listed once.
pub(crate) fn neighbours<G: GraphRead>(
    at: Gid,
    dir: Option<Direction>,
    rel: &CRel,
    ctx: &ExecCtx<G>,
) -> Result<Vec<EdgeRef>> {
    let types = match rel.type_ids.get() {
        Some(ids) => ids.as_slice(),
        None => {
            let ids = ctx.edge_type_ids(&rel.types);
            if ids.len() < rel.types.len() {
                // A type name the storage has not seen: no edge has it (and with no
                // known type at all there is nothing to walk).
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                return edges_of(at, dir, &ids, ctx);
            }
            rel.type_ids.get_or_init(|| ids).as_slice()
        }
    };
    edges_of(at, dir, types, ctx)
}

fn edges_of<G: GraphRead>(
    at: Gid,
    dir: Option<Direction>,
    types: &[EdgeTypeId],
    ctx: &ExecCtx<G>,
) -> Result<Vec<EdgeRef>> {
    match dir {
        Some(dir) => ctx.graph().edges(at, dir, types),
        None => {
            let mut out = ctx.graph().edges(at, Direction::Out, types)?;
            let incoming = ctx.graph().edges(at, Direction::In, types)?;
            out.extend(incoming.into_iter().filter(|e| e.from != e.to));
            Ok(out)
        }
    }
}

/// The end of `edge` that is not `at` (`at` itself for a self-loop).
pub(crate) fn other_end(edge: &EdgeRef, at: Gid) -> Gid {
    if edge.from == at {
        edge.to
    } else {
        edge.from
    }
}

fn check_rel<G: GraphRead>(rel: &CRel, edge: &EdgeRef, row: &mut [QValue], ctx: &ExecCtx<G>) -> Result<bool> {
    if rel.bound {
        match &row[rel.slot] {
            QValue::Relationship(r) if r.gid == edge.gid => {}
            _ => return Ok(false),
        }
    }
    check_rel_props(rel, edge, row, ctx)
}

pub(crate) fn check_rel_props<G: GraphRead>(
    rel: &CRel,
    edge: &EdgeRef,
    row: &mut [QValue],
    ctx: &ExecCtx<G>,
) -> Result<bool> {
    let Some(props) = &rel.props else { return Ok(true) };
    props_match(props, &QValue::Relationship(*edge), row, ctx)
}

fn props_match<G: GraphRead>(props: &CExpr, entity: &QValue, row: &mut [QValue], ctx: &ExecCtx<G>) -> Result<bool> {
    let Some(wanted) = pattern_props(props, row, ctx)? else {
        return Err(QueryError::runtime(
            ErrorKind::TypeError,
            "InvalidArgumentType",
            "pattern properties must be a map",
        ));
    };
    for (k, v) in wanted {
        if ctx.property(entity, &k)?.cypher_eq(&v) != Some(true) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Pattern properties as key and value pairs; keys borrowed from the pattern when it
/// writes them out.
type PropPairs<'e> = Vec<(Cow<'e, str>, QValue)>;

/// The keys and values of pattern properties (`None` when they are not a map). Written
/// out as a map literal with distinct keys, as they almost always are, only the values
/// are evaluated: no map is built and no key copied for each row and node.
fn pattern_props<'e, G: GraphRead>(
    props: &'e CExpr,
    row: &mut [QValue],
    ctx: &ExecCtx<G>,
) -> Result<Option<PropPairs<'e>>> {
    if let CExpr::Map(entries) = props {
        let distinct = entries
            .iter()
            .enumerate()
            .all(|(i, (k, _))| entries[..i].iter().all(|(other, _)| other != k));
        if distinct {
            let values = entries
                .iter()
                .map(|(k, e)| Ok((Cow::Borrowed(k.as_str()), eval(e, row, ctx)?)));
            return values.collect::<Result<_>>().map(Some);
        }
    }
    Ok(match eval(props, row, ctx)? {
        QValue::Map(map) => Some(map.into_iter().map(|(k, v)| (Cow::Owned(k), v)).collect()),
        _ => None,
    })
}

/// Start candidates for a part's traversal: the bound value, an index lookup, a label
/// scan, the sources of the first relationship's types, or every node.
fn start_candidates<G: GraphRead>(part: &CElement, row: &mut [QValue], ctx: &ExecCtx<G>) -> Result<Candidates> {
    let n = &part.nodes[start_index(part)];
    if n.bound {
        return match &row[n.slot] {
            QValue::Node(g) => Ok(Candidates::unchecked(vec![*g])),
            QValue::Null => Ok(Candidates::default()),
            other => Err(QueryError::runtime(
                ErrorKind::TypeError,
                "InvalidArgumentType",
                format!("expected a node, got {}", other.type_name()),
            )),
        };
    }
    if let (Some(props), false) = (&n.props, n.labels.is_empty()) {
        if let Some(wanted) = pattern_props(props, row, ctx)? {
            for (k, v) in &wanted {
                if let Some(gids) = ctx.index_lookup(&n.labels, k, v) {
                    return Ok(Candidates::unchecked(gids));
                }
            }
        }
    }
    if let (Some(range), false) = (&n.range, n.labels.is_empty()) {
        let bound = |b: &Option<(CExpr, bool)>, row: &mut [QValue]| -> Result<Option<(QValue, bool)>> {
            b.as_ref()
                .map(|(e, inclusive)| Ok((eval(e, row, ctx)?, *inclusive)))
                .transpose()
        };
        let (lower, upper) = (bound(&range.lower, row)?, bound(&range.upper, row)?);
        if let Some(gids) = ctx.index_range(&n.labels, &range.key, lower, upper) {
            return Ok(Candidates::unchecked(gids));
        }
    }
    if !n.labels.is_empty() {
        // The scan checks its label on every candidate; with one label that is all of
        // them, and it holds until the statement next writes.
        return Ok(Candidates {
            gids: ctx.label_scan(&n.labels),
            labels_checked_at: (n.labels.len() == 1).then(|| ctx.write_generation()),
        });
    }
    if let Some(types) = outgoing_types(part) {
        return Ok(Candidates::unchecked(ctx.source_scan(types)));
    }
    Ok(Candidates::unchecked(ctx.graph().all_vertices()))
}

/// The types of the first relationship a part traverses, when it leaves the start node
/// outgoing and takes at least one hop: only the sources of those types can start a match.
fn outgoing_types(part: &CElement) -> Option<&[String]> {
    let rel = if part.reversed {
        part.rels.last()?
    } else {
        part.rels.first()?
    };
    let outgoing = match rel.direction {
        RelDirection::Outgoing => !part.reversed,
        RelDirection::Incoming => part.reversed,
        RelDirection::Both => false,
    };
    let hops = rel.length.is_none_or(|(min, _)| min >= 1);
    (outgoing && hops && !rel.types.is_empty()).then_some(&rel.types[..])
}

/// Checks a node against the pattern (and binds it when new).
fn bind_node<G: GraphRead>(n: &CNode, gid: Gid, row: &mut [QValue], ctx: &ExecCtx<G>) -> Result<bool> {
    bind_checked_node(n, gid, false, row, ctx)
}

/// [`bind_node`], skipping the label check when `labels_checked`.
fn bind_checked_node<G: GraphRead>(
    n: &CNode,
    gid: Gid,
    labels_checked: bool,
    row: &mut [QValue],
    ctx: &ExecCtx<G>,
) -> Result<bool> {
    if n.bound {
        match &row[n.slot] {
            QValue::Node(g) if *g == gid => {}
            _ => return Ok(false),
        }
    }
    if !n.labels.is_empty() && !labels_checked {
        let ids = match n.label_ids.get() {
            Some(ids) => ids,
            // An unknown label name: no node has it.
            None => match ctx.label_ids(&n.labels) {
                Some(ids) => n.label_ids.get_or_init(|| ids),
                None => return Ok(false),
            },
        };
        if !ctx.has_labels(gid, ids) {
            return Ok(false);
        }
    }
    if let Some(props) = &n.props {
        if !props_match(props, &QValue::Node(gid), row, ctx)? {
            return Ok(false);
        }
    }
    if !n.bound {
        row[n.slot] = QValue::Node(gid);
    }
    Ok(true)
}
