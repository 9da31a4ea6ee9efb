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
