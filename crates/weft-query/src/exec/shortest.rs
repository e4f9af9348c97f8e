//! Shortest-path searches inside a pattern: what a variable-length relationship does when
//! its part is `shortestPath(...)`, `allShortestPaths(...)`, `SHORTEST k`, `ALL SHORTEST`,
//! or Memgraph's `*BFS`, `*WSHORTEST`, `*ALLSHORTEST`.
//!
//! Owns the searches: breadth first (from both ends at once when the far end is bound and
//! no filter lambda needs the direction of travel), Dijkstra for weights (a negative or
//! non-numeric weight fails the statement), and the `k` shortest trails by length. Each
//! found path is handed to the matcher's continuation as its relationships and far end.
//! Promises: paths come shortest first; a relationship the rest of the MATCH already
//! uses is never taken; every step honours the relationship's types, direction and
//! property map; the statement's deadline is checked as the search goes.

use crate::error::{ErrorKind, QueryError, Result};
use crate::exec::pattern::{check_rel_props, neighbours, other_end, CRel};
use crate::exec::row::FastMap;
use crate::exec::ExecCtx;
use crate::expr::{eval, CExpr};
use crate::graph::{Direction, EdgeRef, Gid, GraphRead};
use crate::value::QValue;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// What a search looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchKind {
    /// Shortest by number of steps: one path per end node (`all`: every path of that
    /// length).
    Unweighted { all: bool },
    /// The `k` shortest trails by length between two bound ends.
    Count(u64),
    /// Least total weight (`all`: every path of that weight).
    Weighted { all: bool },
}

/// `(r, n | body)` compiled: the slots its variables take while it is evaluated.
#[derive(Clone, Debug)]
pub struct CLambda {
    pub edge_slot: usize,
    pub node_slot: usize,
    pub body: CExpr,
}

/// A relationship pattern's search.
#[derive(Clone, Debug)]
pub struct CSearch {
    pub kind: SearchKind,
    pub filter: Option<CLambda>,
    pub weight: Option<CLambda>,
    /// Where a weighted path's total weight goes.
    pub total_slot: Option<usize>,
    /// The MATCH's WHERE when it reads the path: a shortest path is then the shortest
    /// of those it keeps (the matcher evaluates it on each path the search hands on).
    pub path_filter: Option<CExpr>,
}

/// What became of a path handed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Took {
    /// It was kept (it passed the path filter, if any).
    Kept,
    /// The path filter refused it: the search looks further.
    Refused,
    /// The consumer wants no more rows at all.
    Stop,
}

/// Receives each path found: its relationships from the start, its far end and (for a
/// weighted search) its total weight.
pub type Found<'a> = dyn FnMut(&mut [QValue], Vec<EdgeRef>, Gid, Option<f64>) -> Result<Took> + 'a;

/// How many trails the search by length wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    /// The first `k` kept.
    First(u64),
    /// Every kept trail of the shortest length at which one is kept.
    AllOfFirstLength,
}

/// Where a search starts and may go.
pub struct Ends<'a> {
    pub from: Gid,
    /// The far end when the row binds it.
    pub to: Option<Gid>,
    pub dir: Option<Direction>,
    pub min: u64,
    pub max: Option<u64>,
    /// Relationships the rest of the MATCH binds.
    pub used: &'a [Gid],
}

/// Runs `search` over `rel` between `ends`, calling `found` per path, shortest first.
pub fn run<G: GraphRead>(
    search: &CSearch,
    rel: &CRel,
    ends: &Ends,
    row: &mut [QValue],
    ctx: &ExecCtx<G>,
    found: &mut Found,
) -> Result<bool> {
    if ends.min > 1 {
        return Err(QueryError::runtime(
            ErrorKind::SemanticError,
            "UnsupportedFeature",
            "a shortest-path search must allow paths of length 0 or 1 (write *0.. or *1..)",
        ));
    }
    if ends.min == 0
        && ends.to.is_none_or(|to| to == ends.from)
        && found(row, Vec::new(), ends.from, Some(0.0))? == Took::Stop
    {
        return Ok(false);
    }
    if ends.to == Some(ends.from) {
        return Ok(true);
    }
    let mut walker = Walker { search, rel, ends, ctx };
    if search.path_filter.is_some() {
        // Shortest among the paths the WHERE keeps: by length, until enough are kept.
        let Some(to) = ends.to else {
            return Err(QueryError::runtime(
                ErrorKind::SemanticError,
                "UnsupportedFeature",
                "a WHERE on a shortest path needs both ends of the path bound",
            ));
        };
        let want = match search.kind {
            SearchKind::Unweighted { all: true } => Want::AllOfFirstLength,
            SearchKind::Unweighted { all: false } => Want::First(1),
            SearchKind::Count(k) => Want::First(k),
            SearchKind::Weighted { .. } => {
                return Err(QueryError::runtime(
                    ErrorKind::SemanticError,
                    "UnsupportedFeature",
                    "a WHERE on a weighted shortest path is not supported: use a filter lambda",
                ))
            }
        };
        return walker.by_length(to, want, row, found);
    }
    match search.kind {
        SearchKind::Unweighted { all } => match ends.to {
            Some(to) if search.filter.is_none() => walker.both_ways(to, all, row, found),
            _ => walker.breadth_first(all, row, found),
        },
        SearchKind::Count(k) => match ends.to {
            Some(to) => walker.by_length(to, Want::First(k), row, found),
            None => Err(QueryError::runtime(
                ErrorKind::SemanticError,
                "UnsupportedFeature",
                "SHORTEST k with k > 1 needs both ends of the path bound",
            )),
        },
        SearchKind::Weighted { all } => {
            if ends.max.is_some() {
                return Err(QueryError::runtime(
                    ErrorKind::SemanticError,
                    "UnsupportedFeature",
                    "a weighted shortest-path search takes no upper bound on its length",
                ));
            }
            walker.dijkstra(all, row, found)
        }
    }
}

/// Per node reached: how far (steps, or weight), and the steps that reach it that far
/// (one, or all), each a relationship and the node it leaves.
type Reached<T> = FastMap<Gid, (T, Vec<(EdgeRef, Gid)>)>;
type Parents = Reached<u64>;

/// Receives each trail of the `k` shortest.
type Take<'a> = dyn FnMut(&mut [QValue], Vec<EdgeRef>) -> Result<Taken> + 'a;

/// What happens after a trail is handed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Taken {
    /// Look for more.
    More,
    /// `k` are found: the search is over, the match goes on.
    Enough,
    /// The consumer wants no more rows at all.
    Stop,
}

struct Walker<'a, G> {
    search: &'a CSearch,
    rel: &'a CRel,
    ends: &'a Ends<'a>,
    ctx: &'a ExecCtx<G>,
}

impl<G: GraphRead> Walker<'_, G> {
    /// The steps from `at`, forwards (or backwards from the far end), that the pattern
    /// and the filter allow: each relationship with the node it reaches.
    fn steps(&self, at: Gid, backwards: bool, row: &mut [QValue]) -> Result<Vec<(EdgeRef, Gid)>> {
        self.ctx.step()?;
        let dir = match (self.ends.dir, backwards) {
            (None, _) => None,
            (Some(d), false) => Some(d),
            (Some(Direction::Out), true) => Some(Direction::In),
            (Some(Direction::In), true) => Some(Direction::Out),
        };
        let mut out = Vec::new();
        for edge in neighbours(at, dir, self.rel, self.ctx)? {
            if self.ends.used.contains(&edge.gid) || !check_rel_props(self.rel, &edge, row, self.ctx)? {
                continue;
            }
            let next = other_end(&edge, at);
            if let Some(filter) = &self.search.filter {
                if !lambda_holds(filter, &edge, next, row, self.ctx)? {
                    continue;
                }
            }
            out.push((edge, next));
        }
        Ok(out)
    }

    /// Breadth first from the start: each node reached is handed on (with one or all of
    /// its shortest paths) as soon as its level is complete.
    fn breadth_first(&mut self, all: bool, row: &mut [QValue], found: &mut Found) -> Result<bool> {
        let mut parents: Parents = FastMap::default();
        parents.insert(self.ends.from, (0, Vec::new()));
        let mut frontier = vec![self.ends.from];
        let mut level = 0;
        while !frontier.is_empty() && self.ends.max.is_none_or(|max| level < max) {
            level += 1;
            let next = self.expand(&frontier, &mut parents, level, all, false, row)?;
            for &node in &next {
                if self.ends.to.is_some_and(|to| to != node) {
                    continue;
                }
                let ctx = self.ctx;
                let mut take = |path: &[EdgeRef]| Ok(found(row, path.to_vec(), node, None)? != Took::Stop);
                if !each_path(&parents, node, all, ctx, &mut take)? {
                    return Ok(false);
                }
                if self.ends.to.is_some() {
                    return Ok(true);
                }
            }
            frontier = next;
        }
        Ok(true)
    }

    /// One level of breadth-first search: the nodes first reached at `level`.
    fn expand(
        &self,
        frontier: &[Gid],
        parents: &mut Parents,
        level: u64,
        all: bool,
        backwards: bool,
        row: &mut [QValue],
    ) -> Result<Vec<Gid>> {
        let mut next = Vec::new();
        for &at in frontier {
            for (edge, node) in self.steps(at, backwards, row)? {
                match parents.get_mut(&node) {
                    None => {
                        parents.insert(node, (level, vec![(edge, at)]));
                        next.push(node);
                    }
                    Some((depth, via)) if *depth == level && all => via.push((edge, at)),
                    Some(_) => {}
                }
            }
        }
        Ok(next)
    }

    /// Breadth first from both ends, a level at a time from the smaller frontier, until
    /// the two meet: the shortest paths run through the nodes where they met.
    fn both_ways(&mut self, to: Gid, all: bool, row: &mut [QValue], found: &mut Found) -> Result<bool> {
        let from = self.ends.from;
        let (mut ahead, mut behind): (Parents, Parents) = (FastMap::default(), FastMap::default());
        ahead.insert(from, (0, Vec::new()));
        behind.insert(to, (0, Vec::new()));
        let (mut front, mut back) = (vec![from], vec![to]);
        let (mut front_level, mut back_level) = (0, 0);
        loop {
            if front.is_empty() || back.is_empty() {
                return Ok(true);
            }
            if self.ends.max.is_some_and(|max| front_level + back_level >= max) {
                return Ok(true);
            }
            let forwards = front.len() <= back.len();
            let reached = if forwards {
                front_level += 1;
                front = self.expand(&front, &mut ahead, front_level, all, false, row)?;
                &front
            } else {
                back_level += 1;
                back = self.expand(&back, &mut behind, back_level, all, true, row)?;
                &back
            };
            let other = if forwards { &behind } else { &ahead };
            let meetings: Vec<Gid> = reached.iter().copied().filter(|n| other.contains_key(n)).collect();
            let Some(length) = meetings.iter().map(|m| ahead[m].0 + behind[m].0).min() else {
                continue;
            };
            let ctx = self.ctx;
            for m in meetings.into_iter().filter(|m| ahead[m].0 + behind[m].0 == length) {
                // The path to the meeting node, then from it to the far end.
                let go_on = each_path(&ahead, m, all, ctx, &mut |head| {
                    each_path(&behind, m, all, ctx, &mut |tail| {
                        let path = head.iter().chain(tail.iter().rev()).copied().collect();
                        Ok(found(row, path, to, None)? != Took::Stop)
                    })
                })?;
                if !go_on {
                    return Ok(false);
                }
                if !all {
                    return Ok(true);
                }
            }
            return Ok(true);
        }
    }

    /// Trails (no relationship twice) from the start to `to` by length, every trail of
    /// one length before any longer one, pruned by each node's distance to `to`, until
    /// `want` is met among those `found` keeps.
    fn by_length(&mut self, to: Gid, want: Want, row: &mut [QValue], found: &mut Found) -> Result<bool> {
        // Distances to `to`, walking backwards from it, and every relationship on the
        // way: a trail to `to` takes only those, each once, so none is longer than
        // there are of them.
        let mut distance: Parents = FastMap::default();
        distance.insert(to, (0, Vec::new()));
        let mut edges: FastMap<Gid, ()> = FastMap::default();
        let mut frontier = vec![to];
        let mut level = 0;
        while !frontier.is_empty() && self.ends.max.is_none_or(|max| level < max) {
            level += 1;
            let mut next = Vec::new();
            for &at in &frontier {
                for (edge, node) in self.steps(at, true, row)? {
                    edges.insert(edge.gid, ());
                    if let std::collections::hash_map::Entry::Vacant(v) = distance.entry(node) {
                        v.insert((level, Vec::new()));
                        next.push(node);
                    }
                }
            }
            frontier = next;
        }
        let Some(&(shortest, _)) = distance.get(&self.ends.from) else {
            return Ok(true);
        };
        let longest = self.ends.max.unwrap_or(u64::MAX).min(edges.len() as u64);
        // The search ends once `want` is met; the match goes on unless `found` said stop.
        let mut left = match want {
            Want::First(k) => k,
            Want::AllOfFirstLength => u64::MAX,
        };
        let mut length = shortest.max(1);
        while length <= longest {
            let mut kept = false;
            let mut take = |row: &mut [QValue], path: Vec<EdgeRef>| -> Result<Taken> {
                match found(row, path, to, None)? {
                    Took::Stop => return Ok(Taken::Stop),
                    Took::Refused => return Ok(Taken::More),
                    Took::Kept => kept = true,
                }
                left -= 1;
                Ok(if left == 0 { Taken::Enough } else { Taken::More })
            };
            let (taken, longer) = self.trails(length, &distance, row, &mut take)?;
            match taken {
                Taken::Stop => return Ok(false),
                Taken::Enough => return Ok(true),
                Taken::More if !longer => return Ok(true),
                Taken::More if kept && want == Want::AllOfFirstLength => return Ok(true),
                Taken::More => length += 1,
            }
        }
        Ok(true)
    }

    /// Every trail of exactly `length` steps from the start to `to`, each handed to
    /// `take`, depth first with an explicit stack (no recursion per step), pruned by each
    /// node's distance to `to`. Also says whether a longer trail may exist: only if some
    /// branch ran out of steps (was cut by `length`) rather than out of relationships.
    fn trails(&self, length: u64, distance: &Parents, row: &mut [QValue], take: &mut Take) -> Result<(Taken, bool)> {
        let mut cut = false;
        let mut trail: Vec<EdgeRef> = Vec::new();
        let mut frames = vec![(self.steps(self.ends.from, false, row)?, 0usize)];
        while let Some((steps, next)) = frames.last_mut() {
            let Some(&(edge, node)) = steps.get(*next) else {
                frames.pop();
                trail.pop();
                continue;
            };
            *next += 1;
            if trail.iter().any(|e| e.gid == edge.gid) {
                continue;
            }
            let left = length - trail.len() as u64 - 1;
            match distance.get(&node) {
                None => continue,
                Some((d, _)) if *d > left => {
                    cut = true;
                    continue;
                }
                Some(_) => {}
            }
            trail.push(edge);
            if left == 0 {
                // Only `to` is at distance 0. A longer trail may pass through it.
                cut = true;
                match take(row, trail.clone())? {
                    Taken::More => {}
                    done => return Ok((done, cut)),
                }
                trail.pop();
                continue;
            }
            frames.push((self.steps(node, false, row)?, 0));
        }
        Ok((Taken::More, cut))
    }

    /// Dijkstra from the start by the weight lambda; each node is handed on (with one or
    /// all of its least-weight paths) when it is settled.
    fn dijkstra(&mut self, all: bool, row: &mut [QValue], found: &mut Found) -> Result<bool> {
        let Some(weight) = &self.search.weight else {
            return Err(QueryError::runtime(
                ErrorKind::SemanticError,
                "InvalidArgumentValue",
                "a weighted shortest-path search needs a weight lambda",
            ));
        };
        let mut best: Reached<f64> = FastMap::default();
        best.insert(self.ends.from, (0.0, Vec::new()));
        let mut settled: FastMap<Gid, ()> = FastMap::default();
        let mut queue = BinaryHeap::new();
        queue.push(Queued(0.0, self.ends.from));
        while let Some(Queued(cost, at)) = queue.pop() {
            if settled.contains_key(&at) || best.get(&at).is_some_and(|(b, _)| cost > *b) {
                continue;
            }
            settled.insert(at, ());
            if at != self.ends.from && self.ends.to.is_none_or(|to| to == at) {
                let ctx = self.ctx;
                let mut take = |path: &[EdgeRef]| Ok(found(row, path.to_vec(), at, Some(cost))? != Took::Stop);
                if !each_path(&best, at, all, ctx, &mut take)? {
                    return Ok(false);
                }
                if self.ends.to.is_some() {
                    return Ok(true);
                }
            }
            for (edge, next) in self.steps(at, false, row)? {
                let step = step_weight(weight, &edge, next, row, self.ctx)?;
                let total = cost + step;
                match best.get_mut(&next) {
                    Some((b, via)) if total == *b && all && !settled.contains_key(&next) => via.push((edge, at)),
                    Some((b, _)) if total >= *b => {}
                    _ => {
                        if !settled.contains_key(&next) {
                            best.insert(next, (total, vec![(edge, at)]));
                            queue.push(Queued(total, next));
                        }
                    }
                }
            }
        }
        Ok(true)
    }
}

/// A queue entry: cost and node, least cost first.
struct Queued(f64, Gid);

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then_with(|| other.1 .0.cmp(&self.1 .0))
    }
}

/// Hands each path to `node` through `parents` (the first, or every one), start first,
/// to `f`, one at a time: depth first over the parent lists back to the start, so the
/// exponentially many paths of a grid are never held at once. False once `f` says stop.
fn each_path<T, G: GraphRead>(
    parents: &Reached<T>,
    node: Gid,
    all: bool,
    ctx: &ExecCtx<G>,
    f: &mut dyn FnMut(&[EdgeRef]) -> Result<bool>,
) -> Result<bool> {
    // Frame `i` is a node and the next of its parents to try; edge `i` leads from frame
    // `i + 1`'s node to frame `i`'s.
    let mut frames: Vec<(Gid, usize)> = vec![(node, 0)];
    let mut edges: Vec<EdgeRef> = Vec::new();
    let mut path: Vec<EdgeRef> = Vec::new();
    while let Some((at, next)) = frames.last_mut() {
        ctx.step()?;
        let via = parents.get(at).map(|(_, via)| via.as_slice()).unwrap_or(&[]);
        if via.is_empty() {
            path.clear();
            path.extend(edges.iter().rev());
            if !f(&path)? {
                return Ok(false);
            }
            if !all {
                return Ok(true);
            }
            frames.pop();
            edges.pop();
            continue;
        }
        let tried = if all { via.len() } else { 1 };
        if *next >= tried {
            frames.pop();
            edges.pop();
            continue;
        }
        let (edge, prev) = via[*next];
        *next += 1;
        edges.push(edge);
        frames.push((prev, 0));
    }
    Ok(true)
}

/// A lambda's value for a step along `edge` to `node`.
fn apply<G: GraphRead>(l: &CLambda, edge: &EdgeRef, node: Gid, row: &mut [QValue], ctx: &ExecCtx<G>) -> Result<QValue> {
    row[l.edge_slot] = QValue::Relationship(*edge);
    row[l.node_slot] = QValue::Node(node);
    eval(&l.body, row, ctx)
}

/// Whether the filter lambda holds for a step along `edge` to `node`.
fn lambda_holds<G: GraphRead>(
    l: &CLambda,
    edge: &EdgeRef,
    node: Gid,
    row: &mut [QValue],
    ctx: &ExecCtx<G>,
) -> Result<bool> {
    Ok(matches!(apply(l, edge, node, row, ctx)?, QValue::Bool(true)))
}

/// The weight lambda's value for a step: a number of at least zero.
fn step_weight<G: GraphRead>(
    l: &CLambda,
    edge: &EdgeRef,
    node: Gid,
    row: &mut [QValue],
    ctx: &ExecCtx<G>,
) -> Result<f64> {
    let w = match apply(l, edge, node, row, ctx)? {
        QValue::Int(i) => i as f64,
        QValue::Float(f) => f,
        other => {
            return Err(QueryError::runtime(
                ErrorKind::TypeError,
                "InvalidArgumentType",
                format!("a path weight must be a number, got {}", other.type_name()),
            ))
        }
    };
    if w < 0.0 || w.is_nan() {
        return Err(QueryError::runtime(
            ErrorKind::ArgumentError,
            "NegativeWeight",
            format!("a weighted shortest-path search cannot take a negative (or NaN) weight, got {w}"),
        ));
    }
    Ok(w)
}
