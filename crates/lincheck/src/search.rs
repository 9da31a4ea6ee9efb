//! Wing & Gong's search with Lowe's memoization, one partition at a time, on one or more
//! threads, with a budget after which the answer is unknown.
//!
//! Each partition's calls and returns form a linked list in time order. The search walks it
//! from the front: a call whose operation the model accepts is linearized (taken out of the
//! list with its return) unless that set of linearized operations with that state was seen
//! before; reaching a return whose call is still in the list undoes the last choice.
//! Visited configurations are keyed by a Zobrist hash of the linearized set, updated in O(1)
//! per step, mixed with the state's hash, and compared exactly on a hash match.

use std::collections::hash_map::{Entry, HashMap};
use std::collections::{BTreeMap, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;

use crate::model::{Model, Op, Return};

/// How a check may run: its budget and how many threads check partitions at once.
#[derive(Clone, Debug)]
pub struct Options {
    /// When to give up.
    pub budget: Budget,
    /// Threads for checking partitions in parallel (the answer does not depend on it).
    pub threads: NonZeroUsize,
}

impl Default for Options {
    /// No budget, one thread.
    fn default() -> Self {
        Options {
            budget: Budget::default(),
            threads: NonZeroUsize::MIN,
        }
    }
}

/// When a check gives up and answers [`Verdict::Unknown`]; the default never does.
#[derive(Clone, Copy, Debug, Default)]
pub struct Budget {
    /// The wall-clock instant to stop at (read every few thousand steps; never read if `None`,
    /// so a check without a deadline reads no clock).
    pub deadline: Option<Instant>,
    /// The most search steps to take in one partition (deterministic, unlike a deadline).
    pub max_steps: Option<u64>,
}

/// The result of a check.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Checked<W> {
    /// The answer.
    pub verdict: Verdict<W>,
    /// How many partitions the history split into.
    pub partitions: usize,
}

/// Whether a history is linearizable.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict<W> {
    /// Some order of the operations, each taking effect between its call and its return,
    /// is accepted by the model.
    Linearizable,
    /// No such order exists; the witness shows where every attempt gets stuck.
    NotLinearizable(W),
    /// The budget ran out first.
    Unknown(Exhausted),
}

/// Which budget ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Exhausted {
    /// The deadline passed.
    Time,
    /// A partition took `max_steps` steps.
    Steps,
}

/// Why a partition is not linearizable, in the terms of Knossos' report.
///
/// Every linearization of the partition gets stuck at the return of operation `op`: it can be
/// placed in none of the `states` its predecessors can leave the object in (or every placement
/// leads to a dead end). The events before that return are the longest linearizable prefix.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Witness<S> {
    /// The partition that fails (the smallest one that does).
    pub partition: u64,
    /// Index (into the checked operations) of the operation that cannot be linearized.
    pub op: usize,
    /// When `op` returned: every call and return before this time, in this partition, has a
    /// linearization.
    pub prefix_end: u64,
    /// One such linearization: indices of the operations in the order they take effect (its
    /// last element is Knossos' `:previous-ok`).
    pub linearized: Vec<usize>,
    /// Distinct states the object can be in just before `op` had to take effect (up to
    /// [`MAX_WITNESS_STATES`]).
    pub states: Vec<S>,
}

impl<S> Witness<S> {
    /// The same witness with each state turned into something else (a printable value).
    pub fn map_states<T>(self, f: impl FnMut(&S) -> T) -> Witness<T> {
        Witness {
            partition: self.partition,
            op: self.op,
            prefix_end: self.prefix_end,
            linearized: self.linearized,
            states: self.states.iter().map(f).collect(),
        }
    }
}

/// How many distinct states a [`Witness`] lists at most.
pub const MAX_WITNESS_STATES: usize = 8;

/// Checks `ops` against `model`, each partition alone.
///
/// Partitions take turns of 16 384 steps, so one that fails quickly ends the check even
/// when another would take long to finish. With one thread the turns, and so the witness, are
/// the same in every run; with more, the verdict is, but the witness may come from another
/// failing partition.
///
/// See [`Model`] for an example.
pub fn check<M>(
    model: &M,
    ops: &[Op<M::Input, M::Output>],
    options: &Options,
) -> Checked<Witness<M::State>>
where
    M: Model + Sync,
    M::State: Send,
    M::Input: Sync,
    M::Output: Sync,
{
    let mut groups: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (idx, op) in ops.iter().enumerate() {
        groups
            .entry(model.partition(&op.input))
            .or_default()
            .push(idx);
    }
    let partitions = groups.len();
    let queue: VecDeque<Search<'_, M>> = groups
        .into_iter()
        .map(|(partition, members)| Search::new(model, ops, partition, members))
        .collect();
    let threads = options.threads.get().min(partitions.max(1));
    let shared = Mutex::new(Shared {
        queue,
        failure: None,
        exhausted: None,
    });
    let budget = &options.budget;
    let work = || {
        loop {
            let mut search = {
                let Ok(mut shared) = shared.lock() else {
                    return;
                };
                // A failure anywhere decides; a deadline ends every partition; a partition out
                // of steps leaves the others to finish, so the verdict does not depend on turns.
                if shared.failure.is_some() || shared.exhausted == Some(Exhausted::Time) {
                    return;
                }
                match shared.queue.pop_front() {
                    Some(search) => search,
                    None => return,
                }
            };
            let outcome = search.run(SLICE, budget);
            let Ok(mut shared) = shared.lock() else {
                return;
            };
            match outcome {
                None => shared.queue.push_back(search),
                Some(Outcome::Linearizable) => {}
                Some(Outcome::NotLinearizable(witness)) => {
                    shared.failure.get_or_insert(witness);
                }
                Some(Outcome::Exhausted(why)) => {
                    shared.exhausted.get_or_insert(why);
                }
            }
        }
    };
    if threads <= 1 {
        work();
    } else {
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(work);
            }
        });
    }
    // A poisoned lock means a worker panicked, and `scope` has re-raised that panic already.
    let shared = shared.into_inner().unwrap_or_else(|e| e.into_inner());
    let verdict = match (shared.failure, shared.exhausted) {
        (Some(witness), _) => Verdict::NotLinearizable(witness),
        (None, Some(why)) => Verdict::Unknown(why),
        (None, None) => Verdict::Linearizable,
    };
    Checked {
        verdict,
        partitions,
    }
}

/// Shrinks a non-linearizable set of operations to a 1-minimal one: every operation left is
/// needed, so dropping any one (with what `close` drops along with it) makes the rest
/// linearizable. This is the smallest story of what went wrong, for a person to read.
///
/// `failing` indexes `ops` and must not be linearizable. `close` gets each candidate subset and
/// returns it closed under the caller's dependencies (a register's reads depend on the write
/// of the value they saw, say), or the subset unchanged. The shrinking is delta debugging:
/// chunks of halving size are dropped while the rest still fails. A candidate whose check
/// runs out of `options.budget` counts as linearizable, so the result always fails.
/// The answer is in call order (ties by index) and is the same in every run.
///
/// ```
/// use underhood_lincheck::{Model, Op, Options, Return, minimize};
///
/// /// A register of small integers, starting at 0: input `Some(v)` writes, `None` reads.
/// struct Register;
///
/// impl Model for Register {
///     type State = u8;
///     type Input = Option<u8>;
///     type Output = u8;
///     fn init(&self) -> u8 {
///         0
///     }
///     fn step(&self, state: &u8, input: &Option<u8>, output: Option<&u8>) -> Option<u8> {
///         match input {
///             Some(v) => Some(*v),
///             None => output.is_none_or(|seen| seen == state).then_some(*state),
///         }
///     }
/// }
///
/// let ok = |time, output| Return::At { time, output };
/// let ops = [
///     Op { input: Some(1), call: 0, ret: ok(1, 0) },
///     Op { input: None, call: 2, ret: ok(3, 1) },
///     Op { input: Some(2), call: 4, ret: ok(5, 0) },
///     Op { input: None, call: 6, ret: ok(7, 1) }, // stale: 2 was written before
///     Op { input: None, call: 8, ret: ok(9, 2) },
/// ];
/// let all: Vec<usize> = (0..ops.len()).collect();
/// // Without dependencies, the last read fails on its own: nothing left wrote 2.
/// assert_eq!(minimize(&Register, &ops, all.clone(), &Options::default(), |s| s), vec![4]);
/// // Keeping every read with a write of its value: 1 written, 2 written, then 1 read.
/// let reads_from = |subset: Vec<usize>| {
///     let written: Vec<u8> = subset.iter().filter_map(|i| ops[*i].input).collect();
///     subset
///         .into_iter()
///         .filter(|i| match (&ops[*i].input, ops[*i].output()) {
///             (None, Some(seen)) => *seen == 0 || written.contains(seen),
///             _ => true,
///         })
///         .collect()
/// };
/// assert_eq!(minimize(&Register, &ops, all, &Options::default(), reads_from), vec![0, 2, 3]);
/// ```
pub fn minimize<M: Model>(
    model: &M,
    ops: &[Op<M::Input, M::Output>],
    failing: Vec<usize>,
    options: &Options,
    mut close: impl FnMut(Vec<usize>) -> Vec<usize>,
) -> Vec<usize> {
    let fails = |members: &[usize]| {
        let mut groups: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
        for &idx in members {
            groups
                .entry(model.partition(&ops[idx].input))
                .or_default()
                .push(idx);
        }
        groups.into_iter().any(|(partition, members)| {
            let mut search = Search::new(model, ops, partition, members);
            let outcome = loop {
                if let Some(outcome) = search.run(SLICE, &options.budget) {
                    break outcome;
                }
            };
            matches!(outcome, Outcome::NotLinearizable(_))
        })
    };
    let mut kept = failing;
    let mut chunk = kept.len().div_ceil(2).max(1);
    loop {
        let mut start = 0;
        let mut removed_any = false;
        while start < kept.len() {
            let end = (start + chunk).min(kept.len());
            let rest: Vec<usize> = kept[..start].iter().chain(&kept[end..]).copied().collect();
            let candidate = close(rest);
            if !candidate.is_empty() && fails(&candidate) {
                kept = candidate;
                removed_any = true;
            } else {
                start = end;
            }
        }
        if chunk == 1 && !removed_any {
            break;
        }
        if !removed_any {
            chunk = chunk.div_ceil(2);
        }
    }
    kept.sort_by_key(|idx| (ops[*idx].call, *idx));
    kept
}

/// How many steps a partition takes before the next one has a turn.
const SLICE: u64 = 1 << 14;

/// What the workers share: partitions waiting for a turn, and what has been found.
struct Shared<'a, M: Model> {
    queue: VecDeque<Search<'a, M>>,
    failure: Option<Witness<M::State>>,
    exhausted: Option<Exhausted>,
}

/// What became of one partition.
enum Outcome<S> {
    Linearizable,
    NotLinearizable(Witness<S>),
    Exhausted(Exhausted),
}

const NIL: u32 = u32::MAX;

/// How often (in steps, a power of two) the deadline is read.
const POLL_EVERY: u64 = 1 << 12;

/// The search of one partition, resumable between turns.
struct Search<'a, M: Model> {
    model: &'a M,
    ops: &'a [Op<M::Input, M::Output>],
    partition: u64,
    /// Indices into `ops`; node 2i is member i's call, 2i+1 its return, 2n the head.
    members: Vec<usize>,
    prev: Vec<u32>,
    next: Vec<u32>,
    unknown: Vec<bool>,
    return_time: Vec<u64>,
    zobrist: Vec<u64>,
    bits: Vec<u64>,
    set_hash: u64,
    hasher: foldhash::fast::FixedState,
    cache: Cache<M::State>,
    stack: Vec<(u32, M::State)>,
    state: M::State,
    best: Option<Witness<M::State>>,
    cursor: u32,
    steps: u64,
}

impl<'a, M: Model> Search<'a, M> {
    fn new(
        model: &'a M,
        ops: &'a [Op<M::Input, M::Output>],
        partition: u64,
        members: Vec<usize>,
    ) -> Self {
        let n = members.len();
        let head = 2 * n;
        let mut order: Vec<(u64, u8, u32)> = Vec::with_capacity(2 * n);
        let mut unknown = vec![false; n];
        let mut return_time = vec![u64::MAX; n];
        for (local, &global) in members.iter().enumerate() {
            let op = &ops[global];
            // Node numbers are u32: a partition of two billion operations would not fit in
            // memory long before.
            let local32 = local as u32;
            order.push((op.call, 0, local32));
            match op.ret {
                Return::At { time, .. } => {
                    let time = time.max(op.call);
                    return_time[local] = time;
                    order.push((time, 1, local32));
                }
                Return::Unknown => {
                    unknown[local] = true;
                    order.push((u64::MAX, 2, local32));
                }
            }
        }
        // Calls before returns at equal times: operations that touch overlap.
        order.sort_unstable();
        let mut prev = vec![NIL; 2 * n + 1];
        let mut next = vec![NIL; 2 * n + 1];
        let mut last = head as u32;
        for &(_, kind, local) in &order {
            let node = 2 * local + u32::from(kind != 0);
            next[last as usize] = node;
            prev[node as usize] = last;
            last = node;
        }
        let words = n.div_ceil(64).max(1);
        Search {
            model,
            ops,
            partition,
            cursor: next[head],
            members,
            prev,
            next,
            unknown,
            return_time,
            zobrist: (0..n as u64).map(splitmix64).collect(),
            bits: vec![0u64; words],
            set_hash: 0,
            hasher: foldhash::fast::FixedState::with_seed(0x6c69_6e63_6865_636b),
            cache: Cache::new(words),
            stack: Vec::new(),
            state: model.init(),
            best: None,
            steps: 0,
        }
    }

    /// Runs up to `slice` more steps; `None` if the partition is not decided yet.
    fn run(&mut self, slice: u64, budget: &Budget) -> Option<Outcome<M::State>> {
        let head = 2 * self.members.len();
        let stop_at = self.steps + slice;
        loop {
            self.steps += 1;
            if self.steps.is_multiple_of(POLL_EVERY) {
                if budget.max_steps.is_some_and(|max| self.steps >= max) {
                    return Some(Outcome::Exhausted(Exhausted::Steps));
                }
                if budget.deadline.is_some_and(|d| Instant::now() >= d) {
                    return Some(Outcome::Exhausted(Exhausted::Time));
                }
            }
            if self.steps >= stop_at {
                return None;
            }
            let cursor = self.cursor;
            if cursor == NIL {
                return Some(Outcome::Linearizable);
            }
            let local = (cursor / 2) as usize;
            if cursor.is_multiple_of(2) {
                let op = &self.ops[self.members[local]];
                if let Some(after) = self.model.step(&self.state, &op.input, op.output()) {
                    let (word, mask) = (local / 64, 1u64 << (local % 64));
                    self.bits[word] |= mask;
                    let candidate = self.set_hash ^ self.zobrist[local];
                    let key = candidate ^ self.hasher.hash_one(&after);
                    if self.cache.insert(key, &self.bits, &after) {
                        let before = std::mem::replace(&mut self.state, after);
                        self.stack.push((cursor, before));
                        self.set_hash = candidate;
                        lift(&mut self.prev, &mut self.next, cursor);
                        self.cursor = self.next[head];
                        continue;
                    }
                    self.bits[word] &= !mask;
                }
                self.cursor = self.next[cursor as usize];
            } else if self.unknown[local] {
                // Only calls are left before the unknown returns at the end of time: every
                // operation that returned has been linearized.
                return Some(Outcome::Linearizable);
            } else {
                record(
                    &mut self.best,
                    self.partition,
                    &self.members,
                    local,
                    self.return_time[local],
                    &self.stack,
                    &self.state,
                );
                let Some((call, before)) = self.stack.pop() else {
                    // The search only fails at a return, which records a witness first.
                    return Some(match self.best.take() {
                        Some(witness) => Outcome::NotLinearizable(witness),
                        None => Outcome::Linearizable,
                    });
                };
                let undone = (call / 2) as usize;
                self.bits[undone / 64] &= !(1u64 << (undone % 64));
                self.set_hash ^= self.zobrist[undone];
                self.state = before;
                unlift(&mut self.prev, &mut self.next, call);
                self.cursor = self.next[call as usize];
            }
        }
    }
}

/// Remembers the furthest return the search got stuck at, and the states it was stuck in.
fn record<S: Clone + Eq>(
    best: &mut Option<Witness<S>>,
    partition: u64,
    members: &[usize],
    local: usize,
    time: u64,
    stack: &[(u32, S)],
    state: &S,
) {
    match best {
        Some(witness) if witness.prefix_end > time => {}
        Some(witness) if witness.prefix_end == time => {
            if witness.states.len() < MAX_WITNESS_STATES && !witness.states.contains(state) {
                witness.states.push(state.clone());
            }
        }
        _ => {
            *best = Some(Witness {
                partition,
                op: members[local],
                prefix_end: time,
                linearized: stack
                    .iter()
                    .map(|(call, _)| members[(call / 2) as usize])
                    .collect(),
                states: vec![state.clone()],
            });
        }
    }
}

/// Takes a call node and its return out of the list.
fn lift(prev: &mut [u32], next: &mut [u32], call: u32) {
    for node in [call, call + 1] {
        let (p, n) = (prev[node as usize], next[node as usize]);
        next[p as usize] = n;
        if n != NIL {
            prev[n as usize] = p;
        }
    }
}

/// Puts back what [`lift`] took out, in reverse order.
fn unlift(prev: &mut [u32], next: &mut [u32], call: u32) {
    for node in [call + 1, call] {
        let (p, n) = (prev[node as usize], next[node as usize]);
        next[p as usize] = node;
        if n != NIL {
            prev[n as usize] = node;
        }
    }
}

/// The visited (linearized set, state) pairs: a hash index over flat arrays, with chains for
/// equal hashes, so an insert allocates nothing per entry beyond the arrays' growth.
struct Cache<S> {
    index: HashMap<u64, u32, BuildHasherDefault<PassThrough>>,
    chain: Vec<u32>,
    words: usize,
    bits: Vec<u64>,
    states: Vec<S>,
}

impl<S: Clone + Eq> Cache<S> {
    fn new(words: usize) -> Self {
        Cache {
            index: HashMap::default(),
            chain: Vec::new(),
            words,
            bits: Vec::new(),
            states: Vec::new(),
        }
    }

    /// Adds the pair; `false` if it was already there.
    fn insert(&mut self, key: u64, bits: &[u64], state: &S) -> bool {
        let id = self.states.len() as u32;
        let Cache {
            index,
            chain,
            words,
            bits: all_bits,
            states,
        } = self;
        match index.entry(key) {
            Entry::Vacant(slot) => {
                slot.insert(id);
                chain.push(NIL);
            }
            Entry::Occupied(mut slot) => {
                let mut at = *slot.get();
                while at != NIL {
                    let start = at as usize * *words;
                    if states[at as usize] == *state && all_bits[start..start + *words] == *bits {
                        return false;
                    }
                    at = chain[at as usize];
                }
                chain.push(*slot.get());
                slot.insert(id);
            }
        }
        all_bits.extend_from_slice(bits);
        states.push(state.clone());
        true
    }
}

/// A hasher for keys that are already well-mixed 64-bit hashes.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// A fixed pseudo-random 64-bit value per operation (SplitMix64).
fn splitmix64(seed: u64) -> u64 {
    let mut z = seed
        .wrapping_add(0x9e37_79b9_7f4a_7c15)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
