//! Exhaustive model checking: every interleaving of a small configuration, breadth first
//! (shortest counterexamples, both cores) or depth first (low memory), with states deduplicated
//! by a 64-bit fingerprint, optional exact symmetry reduction, and depth and state limits.
//!
//! A [`Model`] gives initial states, successors, "always" properties, "sometimes" properties
//! (reachability, with shortest witnesses) and "eventually" properties (liveness under weak
//! fairness, with lassos: [`check_eventually`]). The same machinery runs the TLA+-level TwoPhase
//! spec ([`TwoPhaseTla`]), used to cross-check state counts with TLC, and the real protocol code
//! ([`ProtocolModel`], in the small configurations of [`small_config`]).
//!
//! ```
//! use underhood_sim::model::{self, CheckerOptions, TwoPhaseTla, Verdict};
//!
//! let report = model::check(&TwoPhaseTla::new(3), &CheckerOptions::default());
//! assert_eq!(report.unique_states, 288);
//! assert_eq!(report.verdict, Verdict::Ok);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod check_scenario;
mod liveness;
mod protocol;
mod search;
mod table;
mod tree;
mod two_phase_tla;

pub use crate::protocols::multi_paxos::multi_paxos_model;
pub use crate::protocols::paxos_commit::paxos_commit_model;
pub use crate::protocols::three_phase::three_phase_model;
pub use crate::protocols::two_phase::two_phase_model;
pub use check_scenario::{
    CheckRefusal, CheckRequest, Eventually, Reached, ScenarioCheck, SmallConfig, check_scenario,
    small_config,
};
pub(crate) use check_scenario::{check_small, small_model};
pub use liveness::{LiveVerdict, Liveness, MAX_GRAPH_STATES, check_eventually};
pub use protocol::{ProtocolModel, ProtocolState, Reachable};
pub use search::{Progress, check, check_with_progress};
pub use two_phase_tla::{TlaFairness, TwoPhaseTla};

/// A state space to explore.
pub trait Model: Sync {
    /// A state; small and cheap to clone.
    type State: Clone + Send + Sync + std::fmt::Debug;

    /// The initial states.
    fn init(&self, out: &mut Vec<Self::State>);

    /// About how many bytes one state takes, what it owns included. Breadth-first search keeps
    /// a level's states while they fit in 512 MiB, and rebuilds them from its search tree
    /// (8 bytes a state) past that.
    fn state_bytes(&self) -> usize {
        size_of::<Self::State>()
    }

    /// Every successor of `state`, with a label for the action that leads there. Deterministic:
    /// the same successors in the same order every time (breadth-first search rebuilds states
    /// by replaying successor indices).
    fn next(&self, state: &Self::State, out: &mut Vec<(Self::State, Action)>);

    /// A 64-bit fingerprint that identifies the state (or, with symmetry reduction on, its
    /// orbit). Equal states must give equal fingerprints on every platform.
    fn fingerprint(&self, state: &Self::State, symmetry: Symmetry) -> u64;

    /// The first "always" property `state` breaks, if any.
    fn violation(&self, state: &Self::State) -> Option<&'static str>;

    /// "Sometimes" properties: pushes the name of each one `state` demonstrates (a state the
    /// search should show is reachable, like "a participant in doubt with the coordinator down").
    fn reachable(&self, state: &Self::State, found: &mut Vec<&'static str>) {
        let _ = (state, found);
    }

    /// The names of the "eventually" properties: goals every fair execution must reach (see
    /// [`check_eventually`]). None by default.
    fn eventually(&self) -> &[&'static str] {
        &[]
    }

    /// Whether `state` reaches the goal of "eventually" property `index`.
    fn achieves(&self, state: &Self::State, index: usize) -> bool {
        let _ = (state, index);
        false
    }

    /// The identity of `action` taken in `state` for weak fairness, the same in every state
    /// (deliver this message, fire this timer), or `None` for an action fairness never forces
    /// (a crash, a loss). By default every action is fair and its label is its identity.
    fn fairness(&self, state: &Self::State, action: &Action) -> Option<u64> {
        let _ = state;
        let mut h = crate::hash::TraceHasher::default();
        std::hash::Hash::hash(action, &mut h);
        Some(std::hash::Hasher::finish(&h))
    }
}

/// An action label, for counterexample paths: a name and up to two parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Action {
    /// What happened (`"RMPrepare"`, `"deliver"`).
    pub name: &'static str,
    /// Its parameter (a resource manager, a message index), if any.
    pub arg: Option<u32>,
    /// For a step cut short by a crash: how many of its effects happened first.
    pub crash_after: Option<u32>,
}

/// Whether states that differ only by a permutation of interchangeable nodes count as one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Symmetry {
    /// Every state counts.
    #[default]
    Off,
    /// One canonical representative per orbit.
    On,
}

/// The search order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Order {
    /// Level by level: the first counterexample is a shortest one; both threads help. The
    /// frontier is kept while it fits in 512 MiB ([`Model::state_bytes`]), and past that as 8 bytes
    /// per state, rebuilt by replaying paths when expanded.
    #[default]
    BreadthFirst,
    /// Stack order: memory grows with depth, not width.
    DepthFirst,
}

/// How to search.
#[derive(Clone, Copy, Debug)]
pub struct CheckerOptions {
    /// Breadth or depth first.
    pub order: Order,
    /// Symmetry reduction.
    pub symmetry: Symmetry,
    /// Worker threads for breadth-first search (1 in WASM).
    pub threads: usize,
    /// Stop exploring below this depth (`u32::MAX`: no limit).
    pub max_depth: u32,
    /// Stop after this many unique states (`u64::MAX`: no limit).
    pub max_states: u64,
}

impl Default for CheckerOptions {
    fn default() -> Self {
        CheckerOptions {
            order: Order::BreadthFirst,
            symmetry: Symmetry::Off,
            threads: 1,
            max_depth: u32::MAX,
            max_states: u64::MAX,
        }
    }
}

/// The outcome of a search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every reachable state (within the limits) satisfies every property.
    Ok,
    /// A property is broken; see the counterexample.
    Violated,
}

/// What a search found.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CheckReport {
    /// Distinct states (or orbits) found.
    pub unique_states: u64,
    /// States generated, duplicates included (TLC's "states generated").
    pub states: u64,
    /// The longest shortest path from an initial state, counting the initial state as depth 1.
    pub max_depth: u32,
    /// The verdict.
    pub verdict: Verdict,
    /// Whether a depth or state limit cut the search short.
    pub truncated: bool,
    /// The broken property and a path to it (actions from an initial state), if any.
    pub counterexample: Option<Counterexample>,
    /// Bytes used by the fingerprint table per unique state.
    pub bytes_per_state: f64,
    /// Every "sometimes" property shown reachable, with a shortest path to a witness (no path
    /// when a depth-first search found more than a million states).
    pub discoveries: Vec<Counterexample>,
    /// Every "eventually" property's verdict under weak fairness, with a lasso when violated
    /// (decided only when no "always" property broke; [`CheckReport::verdict`] is about "always"
    /// properties only).
    pub eventually: Vec<Liveness>,
}

/// A path to a state that breaks a property.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Counterexample {
    /// The property.
    pub property: &'static str,
    /// The actions from an initial state, in order.
    pub actions: Vec<Action>,
    /// The states along the path (debug renderings), the initial one first.
    pub states: Vec<String>,
}
