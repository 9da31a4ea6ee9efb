//! A deterministic simulator for distributed protocols: virtual time, a seeded network that
//! delays, reorders, duplicates, loses and partitions, nodes that crash and recover from their
//! durable logs, clocks that jump and drift, disks that tear, corrupt, fail or lose writes,
//! invariants checked after every event, traces with a stable hash, random
//! exploration over seeds, and shrinking of failing fault schedules.
//!
//! # Test your own protocol
//!
//! Implement [`Process`] for a node and [`Protocol`] for the cluster (`use
//! underhood_sim::prelude::*;` brings everything in), name your [`Invariant`]s, and call
//! [`check_with`] (random faults over many seeds, failures shrunk and reproducible) and
//! [`check_exhaustive`] (every interleaving of a small configuration, a shortest
//! counterexample) with the same list; a panic in your code is a violation too. [`check`] has a
//! complete example, and `docs/HARNESS.md` (compiled as a doc test) walks through a
//! primary-backup register, also in the repository as the crate `examples/primary-backup`.
//!
//! Our own protocols plug in the same way: Two-Phase Commit from `underhood-consensus` is the
//! first ([`TwoPhase`]).
//!
//! # Example
//!
//! Run the gallery scenario where the coordinator crashes before deciding: the participants stay
//! in doubt, but no invariant breaks, and the same seed always gives the same trace.
//!
//! ```
//! use underhood_sim::{Run, RunOptions, gallery};
//!
//! let scenario = gallery::find("coordinator-crash-before-decision")?;
//! let mut run = Run::new(&scenario, RunOptions::default())?;
//! run.run_to_end();
//! assert!(run.violations().is_empty());
//! assert!(run.summary().contains("still in doubt at the end"));
//!
//! let mut again = Run::new(&scenario, RunOptions::default())?;
//! again.run_to_end();
//! assert_eq!(run.trace_hash(), again.trace_hash());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Scenario files are JSON ([`Scenario::from_json`]); faults are scripted in them or injected
//! into a running simulation ([`Run::inject`]) and recorded so a re-run reproduces them.
//!
//! # What this crate refuses to do
//!
//! Nothing that affects a trace reads a clock, iterates a hash map, or depends on threads: a
//! run is a function of (scenario, seed, injected faults), natively and in WASM alike.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// docs.rs builds with `--cfg docsrs` on nightly: items behind a feature show a badge.
#![cfg_attr(docsrs, feature(doc_cfg))]

// The README's Rust examples run as doc tests, so they cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

// The guide to testing your own protocol is compiled, so its example cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/HARNESS.md")]
struct HarnessDoctests;

mod engine;
pub use engine::{BrokenBy, Damage, DiskEvent, Refusal};
pub use engine::{
    Choice, Counts, Cut, Invariant, NodeProblem, OnViolation, Recording, SCRIPT_STEP_MS,
    ScriptError, Sim, ViolationAt,
};
mod error;
pub use error::{InjectRefusal, LimitExceeded, ScenarioError};
mod explore;
mod fault;
pub use explore::{ExploreReport, Failure, explore, first_violation, random_faults, shrink};
pub use explore::{FaultKinds, FaultKindsError, explore_with, random_faults_of};
pub mod compare;
pub mod gallery;
mod harness;
pub use harness::{CheckFailure, CheckOptions, CheckReport, RECORDINGS_VAR, check, check_with};
mod builders;
pub use builders::Timed;
mod exhaustive;
pub use exhaustive::{ExhaustiveFailure, ExhaustiveOptions, ExhaustiveReport, check_exhaustive};
mod hash;
pub mod linearizability;
mod process;
pub use process::{Effects, Inputs, Process, Protocol, TraceValue};
mod recorded;
pub use recorded::{
    FoundBy, MAX_RECORDED_RUN_BYTES, NodeSnapshot, Place, RECORDED_RUN_FORMAT,
    RECORDED_RUN_VERSION, RecordedEvent, RecordedKind, RecordedRun, RecordedRunError,
    RecordedViolation,
};
mod rng;
pub use rng::SimRng;
mod run;
pub use run::{Replay, Run, RunOptions, parse_seed};
mod scenario;
#[cfg(feature = "proptest")]
pub mod strategies;
mod sync;
pub use protocols::{Assumptions, ClockAssumption, DiskAssumption};
pub use scenario::{
    BYTES_PER_EVENT, Conflict, EVENTS_PER_NODE_PER_TRANSACTION, Environment, Fault, Latency,
    Limits, Link, MAX_DURATION_MS, MAX_EVENTS, MAX_MEMORY_MB, MAX_NODES, MAX_TRANSACTIONS, Network,
    Ordering, Pattern, Scenario, ScenarioSpec, SenderFault, When, Workload, WriteCrash,
};
pub use scenario::{ClockChange, DiskFault, MAX_CLOCK_JUMP_MS, MAX_DRIFT_PPM};
mod protocols;
pub use protocols::paxos_commit::PaxosCommit;
pub use protocols::three_phase::ThreePhase;
pub use protocols::{
    CommitReport, CustomConfig, CustomVariant, Decision, MultiPaxosConfig, PaxosCommitConfig,
    PaxosCommitTimeouts, PaxosTimeouts, ProtocolConfig, ThreePhaseConfig, ThreePhaseTimeouts,
    Timeouts, TwoPhaseConfig, TxReport, VrrpConfig, VrrpVariant,
};
mod trace;
pub use trace::{DropReason, Event, EventKind};
mod violation;
pub use violation::{
    ClientOperation, Decided, Evidence, InvariantStatus, RunInvariant, ViolatedSince, Violation,
};
pub mod model;
pub mod prelude;
// Everything a protocol's signature names, so `underhood-sim` is the only dependency a
// protocol under test needs; `serde` too, for `#[serde(crate = "underhood_sim::serde")]` when a
// protocol wants its messages as JSON in traces (`TraceValue` otherwise shows their `Debug`).
pub use protocols::multi_paxos::MultiPaxos;
pub use protocols::two_phase::{COORDINATOR, TwoPhase};
pub use protocols::vrrp::{
    Action as VrrpAction, OperatorAction, VARIANTS as VRRP_VARIANTS, Vrrp, VrrpSettings,
};
pub use serde;
pub use underhood_consensus::{Durability, Effect, Input, NodeId, Time};
