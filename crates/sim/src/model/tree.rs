//! The breadth-first search tree without its states: for each state of each level, its parent
//! (an index into the level above) and which of the parent's successors it is, 8 bytes in all.
//! A level's states are rebuilt when the search needs them, by walking the tree down from the
//! initial states and regenerating successors, so a frontier costs 8 bytes per state instead
//! of a whole state (kilobytes for the real protocol code), for about 40 % more CPU.

use std::ops::Range;

use super::{Action, Model};

/// A state's place in the tree: its parent in the level above and the index of the successor
/// (in the order [`Model::next`] lists them) that leads to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Link {
    pub(super) parent: u32,
    pub(super) successor: u32,
}

/// The tree: the initial states, then one list of links per level, each sorted by parent.
pub(super) struct Tree<S> {
    roots: Vec<S>,
    levels: Vec<Vec<Link>>,
}

impl<S: Clone> Tree<S> {
    /// A tree of the initial states only (level 0).
    pub(super) fn new(roots: Vec<S>) -> Tree<S> {
        Tree {
            roots,
            levels: Vec::new(),
        }
    }

    /// How many levels there are, the initial one included.
    pub(super) fn depth(&self) -> usize {
        self.levels.len() + 1
    }

    /// How many states level `level` holds.
    pub(super) fn len(&self, level: usize) -> usize {
        match level {
            0 => self.roots.len(),
            _ => self.levels.get(level - 1).map_or(0, Vec::len),
        }
    }

    /// Adds a level below the deepest one; its links must be sorted by parent, and each
    /// parent's by successor.
    pub(super) fn push(&mut self, links: Vec<Link>) {
        debug_assert!(
            links
                .windows(2)
                .all(|w| (w[0].parent, w[0].successor) < (w[1].parent, w[1].successor))
        );
        self.levels.push(links);
    }

    /// Rebuilds the states of `level` whose indices are in `range` and calls `visit` with each
    /// (index, state), in index order, until it returns false. Returns false if it did.
    pub(super) fn walk<M: Model<State = S>>(
        &self,
        model: &M,
        level: usize,
        range: Range<usize>,
        visit: &mut dyn FnMut(usize, S) -> bool,
    ) -> bool {
        if range.is_empty() {
            return true;
        }
        // The ancestors of a run of states are runs too: links are sorted by parent.
        let mut ranges = vec![0..0; level + 1];
        ranges[level] = range;
        for k in (1..=level).rev() {
            let links = &self.levels[k - 1];
            let r = &ranges[k];
            ranges[k - 1] = links[r.start].parent as usize..links[r.end - 1].parent as usize + 1;
        }
        let mut walk = Walk {
            tree: self,
            model,
            target: level,
            cursor: ranges.iter().map(|r| r.start).collect(),
            ends: ranges.iter().map(|r| r.end).collect(),
            visit,
        };
        ranges[0]
            .clone()
            .all(|i| walk.descend(0, i, self.roots[i].clone()))
    }

    /// The actions from an initial state to state `index` of `level`, and the states along the
    /// way (the initial one first).
    pub(super) fn path<M: Model<State = S>>(
        &self,
        model: &M,
        level: usize,
        index: usize,
    ) -> (Vec<Action>, Vec<S>) {
        let mut successors = Vec::with_capacity(level);
        let mut i = index;
        for k in (1..=level).rev() {
            let link = self.levels[k - 1][i];
            successors.push(link.successor as usize);
            i = link.parent as usize;
        }
        successors.reverse();
        let mut states = vec![self.roots[i].clone()];
        let mut actions = Vec::with_capacity(level);
        let mut out = Vec::new();
        for successor in successors {
            out.clear();
            let Some(current) = states.last() else { break };
            model.next(current, &mut out);
            // `next` is deterministic, so the successor is there as when it was first found.
            let Some((state, action)) = out.drain(..).nth(successor) else {
                break;
            };
            actions.push(action);
            states.push(state);
        }
        (actions, states)
    }
}

/// One depth-first walk over a slice of the tree.
struct Walk<'a, S, M> {
    tree: &'a Tree<S>,
    model: &'a M,
    target: usize,
    /// Per level: the next link to visit, and the end of the slice.
    cursor: Vec<usize>,
    ends: Vec<usize>,
    visit: &'a mut dyn FnMut(usize, S) -> bool,
}

impl<S: Clone, M: Model<State = S>> Walk<'_, S, M> {
    /// Visits the descendants in the target level of `state`, which is state `index` of
    /// `level`; false if the visitor asked to stop.
    fn descend(&mut self, level: usize, index: usize, state: S) -> bool {
        if level == self.target {
            return (self.visit)(index, state);
        }
        let links = &self.tree.levels[level];
        let first = self.cursor[level + 1];
        let mut last = first;
        while last < self.ends[level + 1] && links[last].parent as usize == index {
            last += 1;
        }
        if first == last {
            return true;
        }
        self.cursor[level + 1] = last;
        let mut out = Vec::new();
        self.model.next(&state, &mut out);
        drop(state);
        let mut child = first;
        for (successor, (next, _)) in out.into_iter().enumerate() {
            if child == last {
                break;
            }
            if links[child].successor as usize == successor {
                if !self.descend(level + 1, child, next) {
                    return false;
                }
                child += 1;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;

    use super::*;
    use crate::model::{Symmetry, TwoPhaseTla};

    /// TwoPhase's breadth-first tree, and every level's states kept beside it.
    fn tree_and_levels() -> (Tree<<TwoPhaseTla as Model>::State>, Vec<Vec<u64>>) {
        let model = TwoPhaseTla::new(3);
        let fp = |s: &<TwoPhaseTla as Model>::State| model.fingerprint(s, Symmetry::Off);
        let mut roots = Vec::new();
        model.init(&mut roots);
        let mut seen: HashSet<u64> = roots.iter().map(fp).collect();
        let mut levels = vec![roots.clone()];
        let mut tree = Tree::new(roots);
        let mut out = Vec::new();
        while let Some(level) = levels.last().filter(|l| !l.is_empty()) {
            let mut next = Vec::new();
            let mut links = Vec::new();
            for (parent, s) in level.iter().enumerate() {
                out.clear();
                model.next(s, &mut out);
                for (successor, (t, _)) in out.drain(..).enumerate() {
                    if seen.insert(fp(&t)) {
                        links.push(Link {
                            parent: parent as u32,
                            successor: successor as u32,
                        });
                        next.push(t);
                    }
                }
            }
            tree.push(links);
            levels.push(next);
        }
        let fingerprints = levels.iter().map(|l| l.iter().map(fp).collect()).collect();
        (tree, fingerprints)
    }

    proptest! {
        /// Any run of a level (a worker's part) is rebuilt exactly, in order, until the visitor
        /// says stop, and the path to any state leads to it in as many steps as its level.
        #[test]
        fn slices_and_paths_rebuild_the_levels_states(level in 0usize..12, a in 0usize..100, b in 0usize..100) {
            let (tree, levels) = tree_and_levels();
            let model = TwoPhaseTla::new(3);
            let level = level % tree.depth();
            let len = tree.len(level);
            prop_assume!(len > 0);
            let (start, end) = (a % len, b % len);
            let range = start.min(end)..start.max(end) + 1;
            let mut rebuilt = Vec::new();
            tree.walk(&model, level, range.clone(), &mut |i, s| {
                rebuilt.push((i, model.fingerprint(&s, Symmetry::Off)));
                true
            });
            let expected: Vec<(usize, u64)> =
                range.clone().map(|i| (i, levels[level][i])).collect();
            prop_assert_eq!(rebuilt, expected);
            // A visitor that says stop is not called again.
            let mut calls = 0;
            let finished = tree.walk(&model, level, range.clone(), &mut |_, _| {
                calls += 1;
                false
            });
            prop_assert_eq!((finished, calls), (false, 1));
            let (actions, states) = tree.path(&model, level, range.start);
            prop_assert_eq!(actions.len(), level);
            let last = states.last().map(|s| model.fingerprint(s, Symmetry::Off));
            prop_assert_eq!(last, Some(levels[level][range.start]));
        }
    }
}
