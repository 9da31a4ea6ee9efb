//! Breadth-first (parallel, over a [`Tree`] that keeps no states) and depth-first search over a
//! [`Model`], and counterexample reconstruction.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use super::table::FingerprintSet;
use super::tree::{Link, Tree};
use super::{Action, CheckReport, CheckerOptions, Counterexample, Model, Order, Symmetry, Verdict};

/// Explores `model` as `options` say; stops at the first broken property.
pub fn check<M: Model>(model: &M, options: &CheckerOptions) -> CheckReport {
    check_with_progress(model, options, &mut |_| {})
}

/// How far a search has come: reported after every breadth-first level (and at the end of a
/// depth-first search), for progress displays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Progress {
    /// Levels explored so far (the initial states are level 1).
    pub depth: u32,
    /// Distinct states found so far.
    pub unique_states: u64,
    /// States generated so far, duplicates included.
    pub states: u64,
}

/// [`check`], calling `progress` as the search goes (on the calling thread, between levels).
pub fn check_with_progress<M: Model>(
    model: &M,
    options: &CheckerOptions,
    progress: &mut dyn FnMut(Progress),
) -> CheckReport {
    let seen = FingerprintSet::new();
    let mut init = Vec::new();
    model.init(&mut init);
    let found = match options.order {
        // The search tree gives every path at once.
        Order::BreadthFirst => bfs(model, options, &seen, init, progress),
        // A path costs a second search that remembers parents and keeps its frontier's states;
        // past a million states that is too much memory for a by-product, so big searches
        // report "sometimes" properties without a path.
        Order::DepthFirst => {
            let found = dfs(model, options, &seen, init);
            let with_paths = seen.len() <= 1_000_000;
            // One breadth-first search finds the paths to every witness that needs one.
            let goals: Vec<&M::State> = found
                .seen_props
                .iter()
                .filter(|_| with_paths)
                .chain(found.bad.iter())
                .map(|(_, state)| state)
                .collect();
            let parents = Parents::search(model, options.symmetry, &goals);
            found.map(|state, is_counterexample| {
                if with_paths || is_counterexample {
                    parents.path(model, options.symmetry, &state)
                } else {
                    (Vec::new(), Vec::new())
                }
            })
        }
    };
    let unique_states = seen.len();
    progress(Progress {
        depth: found.max_depth,
        unique_states,
        states: found.generated,
    });
    let discoveries = found
        .seen_props
        .into_iter()
        .map(|(property, (actions, states))| Counterexample {
            property,
            actions,
            states,
        })
        .collect();
    let counterexample = found
        .bad
        .map(|(property, (actions, states))| Counterexample {
            property,
            actions,
            states,
        });
    let eventually = match counterexample {
        Some(_) => Vec::new(),
        None => super::liveness::check_eventually(model, options),
    };
    CheckReport {
        unique_states,
        states: found.generated,
        max_depth: found.max_depth,
        // The verdict is about "always" properties; "eventually" ones report on their own.
        verdict: if counterexample.is_some() {
            Verdict::Violated
        } else {
            Verdict::Ok
        },
        truncated: found.truncated,
        counterexample,
        bytes_per_state: if unique_states == 0 {
            0.0
        } else {
            seen.bytes() as f64 / unique_states as f64
        },
        discoveries,
        eventually,
    }
}

/// A path: the actions from an initial state, and the states along it (debug renderings).
type Path = (Vec<Action>, Vec<String>);

/// What a search found; `W` witnesses a property (a state, or a path to one).
struct Found<W> {
    generated: u64,
    max_depth: u32,
    truncated: bool,
    bad: Option<(&'static str, W)>,
    /// The first witness of each "sometimes" property.
    seen_props: Vec<(&'static str, W)>,
}

impl<W> Found<W> {
    /// The same findings with each witness turned into another (`true` for the broken
    /// property's).
    fn map<V>(self, mut f: impl FnMut(W, bool) -> V) -> Found<V> {
        Found {
            generated: self.generated,
            max_depth: self.max_depth,
            truncated: self.truncated,
            seen_props: self
                .seen_props
                .into_iter()
                .map(|(name, w)| (name, f(w, false)))
                .collect(),
            bad: self.bad.map(|(name, w)| (name, f(w, true))),
        }
    }
}

/// Records `witness` for every "sometimes" property `state` shows for the first time.
fn discover<M: Model, W: Clone>(
    model: &M,
    state: &M::State,
    witness: &W,
    witnesses: &mut Vec<(&'static str, W)>,
) {
    let mut names = Vec::new();
    model.reachable(state, &mut names);
    for name in names {
        if !witnesses.iter().any(|(n, _)| *n == name) {
            witnesses.push((name, witness.clone()));
        }
    }
}

/// Breadth first, level by level. Every level is recorded in a [`Tree`] (8 bytes per state),
/// which gives the paths; a level's states themselves are kept while they fit in
/// [`FRONTIER_BUDGET`] and otherwise rebuilt from the tree when expanded: the real protocol
/// code's states weigh kilobytes, and a frontier of millions of them would not fit in memory.
fn bfs<M: Model>(
    model: &M,
    options: &CheckerOptions,
    seen: &FingerprintSet,
    init: Vec<M::State>,
    progress: &mut dyn FnMut(Progress),
) -> Found<Path> {
    // Witnesses are (level, index) in the tree until the search ends.
    let mut found: Found<(usize, usize)> = Found {
        generated: init.len() as u64,
        max_depth: 0,
        truncated: false,
        bad: None,
        seen_props: Vec::new(),
    };
    let mut roots = Vec::new();
    for s in init {
        if seen.insert(model.fingerprint(&s, options.symmetry)) {
            discover(model, &s, &(0, roots.len()), &mut found.seen_props);
            if found.bad.is_none()
                && let Some(p) = model.violation(&s)
            {
                found.bad = Some((p, (0, roots.len())));
            }
            roots.push(s);
        }
    }
    // While a level's states fit in the budget they are kept, and the next level is expanded
    // from them directly; past it, from the tree (8 bytes a state, rebuilt on demand).
    let cap = FRONTIER_BUDGET / model.state_bytes().max(1);
    let mut frontier = (roots.len() <= cap).then(|| roots.clone());
    let mut tree = Tree::new(roots);
    if found.bad.is_some() {
        found.max_depth = 1;
    }
    while found.bad.is_none() && tree.len(tree.depth() - 1) > 0 {
        let level = tree.depth() - 1;
        let depth = tree.depth() as u32;
        found.max_depth = depth;
        if depth >= options.max_depth || seen.len() >= options.max_states {
            found.truncated = true;
            break;
        }
        let width = tree.len(level);
        let threads = options.threads.max(1).min(width);
        // Any broken state of the next level is a shortest counterexample, so the first one
        // found stops every worker.
        let stop = AtomicBool::new(false);
        let (tree_ref, stop) = (&tree, &stop);
        let keep = cap / threads;
        let chunk = width.div_ceil(threads);
        let parts: Vec<Range<usize>> = (0..width)
            .step_by(chunk)
            .map(|start| start..(start + chunk).min(width))
            .collect();
        // Kept states go to their part's worker, by value.
        let mut kept: Vec<Option<Vec<M::State>>> = match frontier.take() {
            Some(mut states) => {
                let mut chunks: Vec<Option<Vec<M::State>>> = parts
                    .iter()
                    .rev()
                    .map(|part| Some(states.split_off(part.start)))
                    .collect();
                chunks.reverse();
                chunks
            }
            None => parts.iter().map(|_| None).collect(),
        };
        let work: Vec<Part<M::State>> = parts.into_iter().zip(kept.drain(..)).collect();
        let results: Vec<Level<M::State>> = if threads <= 1 {
            work.into_iter()
                .map(|(part, states)| {
                    let from = Source {
                        tree: tree_ref,
                        level,
                        states,
                    };
                    expand(model, options, seen, from, part, keep, stop)
                })
                .collect()
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = work
                    .into_iter()
                    .map(|(part, states)| {
                        scope.spawn(move || {
                            let from = Source {
                                tree: tree_ref,
                                level,
                                states,
                            };
                            expand(model, options, seen, from, part, keep, stop)
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    // A worker only panics if the model does; pass that panic on.
                    .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect()
            })
        };
        let mut links = Vec::with_capacity(results.iter().map(|r| r.links.len()).sum());
        let mut next: Option<Vec<M::State>> = results
            .iter()
            .all(|r| r.states.is_some())
            .then(|| Vec::with_capacity(results.iter().map(|r| r.links.len()).sum()));
        for result in results {
            if let (Some(next), Some(mut part)) = (next.as_mut(), result.states) {
                next.append(&mut part);
            }
            found.generated += result.generated;
            // The worker's indices count from the start of its part of the new level.
            let offset = links.len();
            for (name, index) in result.witnesses {
                if !found.seen_props.iter().any(|(n, _)| *n == name) {
                    found.seen_props.push((name, (level + 1, offset + index)));
                }
            }
            if found.bad.is_none() {
                found.bad = result
                    .bad
                    .map(|(p, index)| (p, (level + 1, offset + index)));
            }
            links.extend(result.links);
        }
        let reached = if links.is_empty() { depth } else { depth + 1 };
        frontier = next.take();
        tree.push(links);
        progress(Progress {
            depth: reached,
            unique_states: seen.len(),
            states: found.generated,
        });
        if found.bad.is_some() {
            found.max_depth = depth + 1;
        }
    }
    found.map(|(level, index), _| {
        let (actions, states) = tree.path(model, level, index);
        (actions, states.iter().map(|s| format!("{s:?}")).collect())
    })
}

/// What one worker found while expanding its part of a level: the new level's links, and
/// witnesses as indices into them.
struct Level<S> {
    links: Vec<Link>,
    /// The new states themselves, in link order, unless there were more than the worker
    /// could keep.
    states: Option<Vec<S>>,
    generated: u64,
    bad: Option<(&'static str, usize)>,
    witnesses: Vec<(&'static str, usize)>,
}

/// Bytes of frontier states a breadth-first search keeps before it rebuilds levels from its
/// tree instead (see [`Model::state_bytes`]).
const FRONTIER_BUDGET: usize = 512 << 20;

/// A worker's share of a level: the indices, and the states when the level was kept.
type Part<S> = (Range<usize>, Option<Vec<S>>);

/// Where a level's states come from: kept in memory, or rebuilt from the tree.
struct Source<'a, S> {
    tree: &'a Tree<S>,
    level: usize,
    /// The part's states, when the level was kept.
    states: Option<Vec<S>>,
}

/// Expands the states `part` of a level, and keeps the new states if there are at most `keep`.
fn expand<M: Model>(
    model: &M,
    options: &CheckerOptions,
    seen: &FingerprintSet,
    from: Source<'_, M::State>,
    part: Range<usize>,
    keep: usize,
    stop: &AtomicBool,
) -> Level<M::State> {
    let mut result = Level {
        links: Vec::new(),
        states: Some(Vec::new()),
        generated: 0,
        bad: None,
        witnesses: Vec::new(),
    };
    let mut out = Vec::new();
    let mut visit = |parent: usize, s: M::State| {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        // The state budget holds inside a level too (checked every 4096 new states: counting
        // takes every shard's lock); the caller sees it reached and stops, truncated.
        if options.max_states != u64::MAX
            && result.links.len() % 4096 == 4095
            && seen.len() >= options.max_states
        {
            stop.store(true, Ordering::Relaxed);
            return false;
        }
        out.clear();
        model.next(&s, &mut out);
        result.generated += out.len() as u64;
        let own = model.fingerprint(&s, options.symmetry);
        for (successor, (t, _)) in out.drain(..).enumerate() {
            let fp = model.fingerprint(&t, options.symmetry);
            // A self-loop is seen already; skip the probe into the (large, cold) table.
            if fp != own && seen.insert(fp) {
                let index = result.links.len();
                discover(model, &t, &index, &mut result.witnesses);
                if result.bad.is_none()
                    && let Some(p) = model.violation(&t)
                {
                    result.bad = Some((p, index));
                    stop.store(true, Ordering::Relaxed);
                }
                // Levels stay far below 2^32 states: their fingerprints alone would take
                // 40 GB.
                result.links.push(Link {
                    parent: parent as u32,
                    successor: successor as u32,
                });
                if result.states.as_ref().is_some_and(|k| k.len() >= keep) {
                    result.states = None;
                }
                if let Some(kept) = result.states.as_mut() {
                    kept.push(t);
                }
            }
        }
        true
    };
    match from.states {
        Some(states) => {
            for (i, s) in states.into_iter().enumerate() {
                if !visit(part.start + i, s) {
                    break;
                }
            }
        }
        None => {
            from.tree.walk(model, from.level, part, &mut visit);
        }
    }
    result
}

fn dfs<M: Model>(
    model: &M,
    options: &CheckerOptions,
    seen: &FingerprintSet,
    init: Vec<M::State>,
) -> Found<M::State> {
    let mut found = Found {
        generated: init.len() as u64,
        max_depth: 0,
        truncated: false,
        bad: None,
        seen_props: Vec::new(),
    };
    let mut stack: Vec<(M::State, u32)> = Vec::new();
    // The search is single-threaded, so it counts the states it stores itself: summing the
    // set's 64 shards for every state popped took a third of a small search.
    let mut stored = seen.len();
    for s in init {
        if seen.insert(model.fingerprint(&s, options.symmetry)) {
            stored += 1;
            stack.push((s, 1));
        }
    }
    let mut out = Vec::new();
    while let Some((s, depth)) = stack.pop() {
        found.max_depth = found.max_depth.max(depth);
        discover(model, &s, &s, &mut found.seen_props);
        if let Some(p) = model.violation(&s) {
            found.bad = Some((p, s));
            return found;
        }
        if depth >= options.max_depth || stored >= options.max_states {
            found.truncated = true;
            continue;
        }
        out.clear();
        model.next(&s, &mut out);
        found.generated += out.len() as u64;
        for (t, _) in out.drain(..).rev() {
            if seen.insert(model.fingerprint(&t, options.symmetry)) {
                stored += 1;
                stack.push((t, depth + 1));
            }
        }
    }
    found
}

/// Shortest paths from the initial states to given states: a fresh breadth-first search that
/// remembers each fingerprint's parent and stops once every goal is reached (only run after a
/// depth-first search, whose stack gives no shortest paths). Only fingerprints and actions are
/// kept per state; the states along a path are rebuilt by replaying its actions.
struct Parents {
    /// Each reached fingerprint's parent and the action from it (`None` for initial states).
    links: HashMap<u64, Option<(u64, Action)>, BuildHasherDefault<FingerprintHasher>>,
}

impl Parents {
    fn search<M: Model>(model: &M, symmetry: Symmetry, goals: &[&M::State]) -> Parents {
        let mut left: Vec<u64> = goals
            .iter()
            .map(|g| model.fingerprint(g, symmetry))
            .collect();
        let mut links = HashMap::default();
        let mut init = Vec::new();
        model.init(&mut init);
        let mut frontier = Vec::new();
        let reach = |links: &mut HashMap<_, _, _>, fp: u64, link, left: &mut Vec<u64>| {
            let std::collections::hash_map::Entry::Vacant(e) = links.entry(fp) else {
                return false;
            };
            e.insert(link);
            left.retain(|&goal| goal != fp);
            true
        };
        for s in init {
            let fp = model.fingerprint(&s, symmetry);
            if reach(&mut links, fp, None, &mut left) {
                frontier.push((fp, s));
            }
        }
        let mut out = Vec::new();
        while !left.is_empty() && !frontier.is_empty() {
            let mut next = Vec::new();
            'level: for (fp, s) in &frontier {
                out.clear();
                model.next(s, &mut out);
                for (t, action) in out.drain(..) {
                    let tf = model.fingerprint(&t, symmetry);
                    if reach(&mut links, tf, Some((*fp, action)), &mut left) {
                        if left.is_empty() {
                            break 'level;
                        }
                        next.push((tf, t));
                    }
                }
            }
            frontier = next;
        }
        Parents { links }
    }

    /// The path to `target` (found by [`Parents::search`] with it among the goals).
    fn path<M: Model>(&self, model: &M, symmetry: Symmetry, target: &M::State) -> Path {
        let goal = model.fingerprint(target, symmetry);
        let mut actions = Vec::new();
        let mut cur = goal;
        let mut start = goal;
        while let Some(entry) = self.links.get(&cur) {
            match entry {
                Some((parent, action)) => {
                    actions.push(*action);
                    cur = *parent;
                }
                None => {
                    start = cur;
                    break;
                }
            }
        }
        actions.reverse();
        let mut init = Vec::new();
        model.init(&mut init);
        let first = init
            .into_iter()
            .find(|s| model.fingerprint(s, symmetry) == start);
        let rendered = match first {
            Some(s) => replay(model, s, &actions)
                .iter()
                .map(|s| format!("{s:?}"))
                .collect(),
            None => vec![format!("{target:?}")],
        };
        (actions, rendered)
    }
}

/// Hashes a fingerprint to itself: fingerprints are already uniformly mixed 64-bit hashes, and
/// SipHash over them cost more than the search that needed the table.
#[derive(Default)]
struct FingerprintHasher(u64);

impl Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u64(&mut self, fp: u64) {
        self.0 = fp;
    }
}

/// The states a path of actions visits from `start` (`start` first), as far as each action is
/// one of the current state's successors.
pub(super) fn replay<M: Model>(model: &M, start: M::State, actions: &[Action]) -> Vec<M::State> {
    let mut states = vec![start];
    let mut out = Vec::new();
    for action in actions {
        out.clear();
        let Some(cur) = states.last() else { break };
        model.next(cur, &mut out);
        match out.drain(..).find(|(_, a)| a == action) {
            Some((t, _)) => states.push(t),
            None => break,
        }
    }
    states
}
