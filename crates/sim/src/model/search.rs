//! Breadth-first (parallel) and depth-first search over a [`Model`], and counterexample
//! reconstruction.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use super::table::FingerprintSet;
use super::{Action, CheckReport, CheckerOptions, Counterexample, Model, Order, Symmetry, Verdict};

/// Explores `model` as `options` say; stops at the first broken property.
pub fn check<M: Model>(model: &M, options: &CheckerOptions) -> CheckReport {
    let seen = FingerprintSet::new();
    let mut init = Vec::new();
    model.init(&mut init);
    let found = match options.order {
        Order::BreadthFirst => bfs(model, options, &seen, init),
        Order::DepthFirst => dfs(model, options, &seen, init),
    };
    let unique_states = seen.len();
    // A witness path costs a second search that remembers parents; past a million states that
    // is too much memory for a by-product, so big searches report the property without a path.
    let with_paths = unique_states <= 1_000_000;
    let discoveries = found
        .seen_props
        .iter()
        .map(|(property, state)| {
            let (actions, states) = if with_paths {
                path_to(model, options.symmetry, state)
            } else {
                (Vec::new(), Vec::new())
            };
            Counterexample {
                property,
                actions,
                states,
            }
        })
        .collect();
    let counterexample = found.bad.map(|(property, state)| {
        let (actions, states) = path_to(model, options.symmetry, &state);
        Counterexample {
            property,
            actions,
            states,
        }
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

struct Found<S> {
    generated: u64,
    max_depth: u32,
    truncated: bool,
    bad: Option<(&'static str, S)>,
    /// The first witness of each "sometimes" property.
    seen_props: Vec<(&'static str, S)>,
}

/// Records `state` as the witness of every "sometimes" property it shows for the first time.
fn discover<M: Model>(model: &M, state: &M::State, witnesses: &mut Vec<(&'static str, M::State)>) {
    let mut names = Vec::new();
    model.reachable(state, &mut names);
    for name in names {
        if !witnesses.iter().any(|(n, _)| *n == name) {
            witnesses.push((name, state.clone()));
        }
    }
}

fn bfs<M: Model>(
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
    let mut frontier: Vec<M::State> = Vec::new();
    for s in init {
        if seen.insert(model.fingerprint(&s, options.symmetry)) {
            discover(model, &s, &mut found.seen_props);
            if let Some(p) = model.violation(&s) {
                found.bad = Some((p, s));
                found.max_depth = 1;
                return found;
            }
            frontier.push(s);
        }
    }
    let mut depth = 1;
    while !frontier.is_empty() {
        found.max_depth = depth;
        if depth >= options.max_depth || seen.len() >= options.max_states {
            found.truncated = true;
            break;
        }
        let threads = options.threads.max(1).min(frontier.len());
        // Any broken state of the next level is a shortest counterexample, so the first one
        // found stops every worker.
        let stop = AtomicBool::new(false);
        let stop = &stop;
        let results: Vec<Level<M::State>> = if threads <= 1 {
            vec![expand(model, options, seen, &frontier, stop)]
        } else {
            let chunk = frontier.len().div_ceil(threads);
            std::thread::scope(|scope| {
                let handles: Vec<_> = frontier
                    .chunks(chunk)
                    .map(|part| scope.spawn(move || expand(model, options, seen, part, stop)))
                    .collect();
                handles
                    .into_iter()
                    // A worker only panics if the model does; pass that panic on.
                    .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect()
            })
        };
        let mut next = Vec::new();
        for level in results {
            found.generated += level.generated;
            for (name, state) in level.witnesses {
                if !found.seen_props.iter().any(|(n, _)| *n == name) {
                    found.seen_props.push((name, state));
                }
            }
            if found.bad.is_none() {
                found.bad = level.bad;
            }
            next.extend(level.next);
        }
        if found.bad.is_some() {
            found.max_depth = depth + 1;
            return found;
        }
        frontier = next;
        if !frontier.is_empty() {
            depth += 1;
        }
    }
    found
}

struct Level<S> {
    next: Vec<S>,
    generated: u64,
    bad: Option<(&'static str, S)>,
    witnesses: Vec<(&'static str, S)>,
}

fn expand<M: Model>(
    model: &M,
    options: &CheckerOptions,
    seen: &FingerprintSet,
    part: &[M::State],
    stop: &AtomicBool,
) -> Level<M::State> {
    let mut level = Level {
        next: Vec::new(),
        generated: 0,
        bad: None,
        witnesses: Vec::new(),
    };
    let mut out = Vec::new();
    for s in part {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        out.clear();
        model.next(s, &mut out);
        level.generated += out.len() as u64;
        let own = model.fingerprint(s, options.symmetry);
        for (t, _) in out.drain(..) {
            let fp = model.fingerprint(&t, options.symmetry);
            // A self-loop is seen already; skip the probe into the (large, cold) table.
            if fp != own && seen.insert(fp) {
                discover(model, &t, &mut level.witnesses);
                if level.bad.is_none()
                    && let Some(p) = model.violation(&t)
                {
                    level.bad = Some((p, t.clone()));
                    stop.store(true, Ordering::Relaxed);
                }
                level.next.push(t);
            }
        }
    }
    level
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
    for s in init {
        if seen.insert(model.fingerprint(&s, options.symmetry)) {
            stack.push((s, 1));
        }
    }
    let mut out = Vec::new();
    while let Some((s, depth)) = stack.pop() {
        found.max_depth = found.max_depth.max(depth);
        discover(model, &s, &mut found.seen_props);
        if let Some(p) = model.violation(&s) {
            found.bad = Some((p, s));
            return found;
        }
        if depth >= options.max_depth || seen.len() >= options.max_states {
            found.truncated = true;
            continue;
        }
        out.clear();
        model.next(&s, &mut out);
        found.generated += out.len() as u64;
        for (t, _) in out.drain(..).rev() {
            if seen.insert(model.fingerprint(&t, options.symmetry)) {
                stack.push((t, depth + 1));
            }
        }
    }
    found
}

/// A shortest path from an initial state to one with the same fingerprint as `target`: a fresh
/// breadth-first search that remembers parents (only run once a violation was found). Only
/// fingerprints and actions are kept per state; the states along the path are rebuilt by
/// replaying the actions.
fn path_to<M: Model>(
    model: &M,
    symmetry: Symmetry,
    target: &M::State,
) -> (Vec<Action>, Vec<String>) {
    let goal = model.fingerprint(target, symmetry);
    let mut parents: HashMap<u64, Option<(u64, Action)>> = HashMap::new();
    let mut init = Vec::new();
    model.init(&mut init);
    let mut frontier = Vec::new();
    for s in &init {
        let fp = model.fingerprint(s, symmetry);
        if parents.insert(fp, None).is_none() {
            frontier.push((fp, s.clone()));
        }
    }
    let mut out = Vec::new();
    let mut reached = parents.contains_key(&goal);
    while !reached && !frontier.is_empty() {
        let mut next = Vec::new();
        for (fp, s) in &frontier {
            out.clear();
            model.next(s, &mut out);
            for (t, action) in out.drain(..) {
                let tf = model.fingerprint(&t, symmetry);
                if let std::collections::hash_map::Entry::Vacant(e) = parents.entry(tf) {
                    e.insert(Some((*fp, action)));
                    reached |= tf == goal;
                    next.push((tf, t));
                }
                if reached {
                    break;
                }
            }
            if reached {
                break;
            }
        }
        frontier = next;
    }
    let mut actions = Vec::new();
    let mut cur = goal;
    let mut start = goal;
    while let Some(entry) = parents.get(&cur) {
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
