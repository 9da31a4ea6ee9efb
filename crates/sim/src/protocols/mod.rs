//! The protocols the simulator runs by name, one module each, and the one list of them.
//!
//! A protocol is one [`ProtocolConfig`] variant (its name, typed variant and settings, as
//! scenario files spell them) and one module that implements [`Plugin`]: how a run is built,
//! its small configuration and model for the exhaustive checker, its message kinds, its
//! invariants (inside its `Protocol` impl) and its gallery. Nothing outside this folder matches
//! on a protocol; the engine, the CLI and the WASM binding ask through [`ProtocolConfig`].
//!
//! Adding a protocol: write `protocols/NAME.rs` with its `Process`/`Protocol` impls, a config
//! struct implementing [`Plugin`] and a `GALLERY` list, then add one variant to
//! [`ProtocolConfig`], one arm to [`ProtocolConfig::plugin`] and one entry to [`GALLERIES`].

use serde::{Deserialize, Serialize};

use crate::error::ScenarioError;
use crate::model::{CheckRefusal, CheckRequest, Progress, ScenarioCheck, SmallConfig};
use crate::run::{Driver, DynRun};
use crate::scenario::{Scenario, ScenarioSpec};
use crate::violation::RunInvariant;

pub(crate) mod commit;
pub(crate) mod multi_paxos;
pub(crate) mod paxos_commit;
pub(crate) mod three_phase;
pub(crate) mod two_phase;
pub(crate) mod vrrp;

pub use commit::{CommitReport, Decision, TxReport};
pub use multi_paxos::{MultiPaxosConfig, PaxosTimeouts};
pub use paxos_commit::{PaxosCommitConfig, PaxosCommitTimeouts};
pub use three_phase::{ThreePhaseConfig, ThreePhaseTimeouts};
pub use two_phase::{Timeouts, TwoPhaseConfig};
pub use vrrp::{VrrpConfig, VrrpVariant};

/// Which protocol a scenario runs, with its typed variant and its own settings; in JSON the
/// `protocol` field names it and its fields sit next to the scenario's other fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "protocol")]
#[non_exhaustive]
pub enum ProtocolConfig {
    /// Two-Phase Commit with presumed abort (`underhood_consensus::two_phase`).
    #[serde(rename = "two-phase-commit")]
    TwoPhaseCommit(TwoPhaseConfig),
    /// Skeen's Three-Phase Commit with the termination protocol
    /// (`underhood_consensus::three_phase`).
    #[serde(rename = "three-phase-commit")]
    ThreePhaseCommit(ThreePhaseConfig),
    /// Gray & Lamport's Paxos Commit (`underhood_consensus::paxos_commit`).
    #[serde(rename = "paxos-commit")]
    PaxosCommit(PaxosCommitConfig),
    /// Multi-Paxos serving a key-value store (`underhood_consensus::multi_paxos`).
    #[serde(rename = "multi-paxos")]
    MultiPaxos(MultiPaxosConfig),
    /// VRRP v3 virtual-IP failover (`underhood_consensus::vrrp`).
    #[serde(rename = "vrrp")]
    Vrrp(VrrpConfig),
    /// A protocol of your own, run through [`crate::check`]; it cannot be run by name.
    #[serde(rename = "custom")]
    Custom(CustomConfig),
}

/// The settings of a custom protocol: none (its code is given to [`crate::check`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomConfig {
    /// Only `"correct"`: a custom protocol has no built-in broken variants.
    #[serde(default)]
    pub variant: CustomVariant,
}

/// The one variant of a custom protocol.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CustomVariant {
    /// As written.
    #[default]
    Correct,
}

/// What a protocol's safety assumes of its environment beyond the network, declared once in its
/// module: which clock and disk faults it must survive, and which break it by design.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Assumptions {
    /// What it assumes of clocks.
    pub clocks: ClockAssumption,
    /// What it assumes of its durable log.
    pub disk: DiskAssumption,
}

/// What a protocol's safety assumes of the nodes' clocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClockAssumption {
    /// Nothing: timers only decide when things happen, never whether they are safe.
    Nothing,
    /// Every clock drifts within a stated bound (a lease's `max_drift_ppm`); a clock beyond it
    /// breaks safety.
    BoundedDrift,
    /// Timeouts that never fire early: bounded delays and clocks that keep time (3PC's
    /// synchrony); a fast clock is one more way for a timeout to lie.
    Synchrony,
    /// None that matters: the protocol makes no promise a clock could keep (plain VRRP splits
    /// under a partition by design).
    NoSafetyPromise,
}

/// What a protocol's safety assumes of each node's durable log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DiskAssumption {
    /// Nothing: it keeps no durable state that safety depends on.
    NoDurableState,
    /// A record it forced is on disk and reads back intact after a crash.
    SyncedRecordsSurvive,
}

/// Every protocol's gallery: JSON texts in display order.
pub(crate) const GALLERIES: [&[&str]; 5] = [
    two_phase::GALLERY,
    three_phase::GALLERY,
    paxos_commit::GALLERY,
    multi_paxos::GALLERY,
    vrrp::GALLERY,
];

/// What a protocol's module provides to the rest of the simulator. Implemented by the
/// protocol's config type, so each method sees the typed settings.
pub(crate) trait Plugin {
    /// The protocol's name as scenario files spell it.
    fn name(&self) -> &'static str;
    /// The variant's name.
    fn variant_name(&self) -> &'static str;
    /// The same settings with the correct variant.
    fn correct(&self) -> ProtocolConfig;
    /// The message kinds fault rules may name (`None`: any).
    fn msg_kinds(&self) -> Option<&'static [&'static str]>;
    /// The invariants every run checks, in the order the browser lists them.
    fn invariants(&self) -> &'static [RunInvariant];
    /// Checks what only this protocol knows about a scenario (its settings, node roles).
    fn check(&self, spec: &ScenarioSpec) -> Result<(), ScenarioError>;
    /// A run of `scenario` with `seed`, driven by its queue or by a script.
    fn run(
        &self,
        scenario: &Scenario,
        seed: u64,
        driver: Driver,
    ) -> Result<Box<dyn DynRun>, ScenarioError>;
    /// The small configuration the exhaustive checker explores for `scenario`.
    fn small_config(&self, scenario: &Scenario) -> Result<SmallConfig, CheckRefusal>;
    /// What the protocol's safety assumes of clocks and disks, stated in its module.
    fn assumptions(&self) -> Option<Assumptions>;
    /// Checks a small configuration exhaustively.
    fn check_small(
        &self,
        config: &SmallConfig,
        request: &CheckRequest,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ScenarioCheck, CheckRefusal>;
}

impl ProtocolConfig {
    /// The protocol's module: the one place that matches on the protocol.
    pub(crate) fn plugin(&self) -> &dyn Plugin {
        match self {
            ProtocolConfig::TwoPhaseCommit(c) => c,
            ProtocolConfig::ThreePhaseCommit(c) => c,
            ProtocolConfig::PaxosCommit(c) => c,
            ProtocolConfig::MultiPaxos(c) => c,
            ProtocolConfig::Vrrp(c) => c,
            ProtocolConfig::Custom(c) => c,
        }
    }

    /// The protocol's name as scenario files spell it (`"two-phase-commit"`).
    pub fn name(&self) -> &'static str {
        self.plugin().name()
    }

    /// The variant's name (`"correct"`, `"vote-before-log"`).
    pub fn variant_name(&self) -> &'static str {
        self.plugin().variant_name()
    }

    /// The message kinds fault rules may name; `None` when the protocol does not list them
    /// (custom protocols), so any kind is accepted.
    pub fn msg_kinds(&self) -> Option<&'static [&'static str]> {
        self.plugin().msg_kinds()
    }

    /// The invariants every run of this protocol checks (none for a custom protocol, whose
    /// checks are given to [`crate::check`]).
    pub fn invariants(&self) -> &'static [RunInvariant] {
        self.plugin().invariants()
    }

    /// The same protocol and settings with its correct variant.
    pub fn correct(&self) -> ProtocolConfig {
        self.plugin().correct()
    }

    pub(crate) fn check(&self, spec: &ScenarioSpec) -> Result<(), ScenarioError> {
        self.plugin().check(spec)
    }

    /// What the protocol's safety assumes of clocks and disks (`None`: a custom protocol, which
    /// states nothing).
    pub fn assumptions(&self) -> Option<Assumptions> {
        self.plugin().assumptions()
    }
}

impl Plugin for CustomConfig {
    fn name(&self) -> &'static str {
        "custom"
    }
    fn variant_name(&self) -> &'static str {
        "correct"
    }
    fn correct(&self) -> ProtocolConfig {
        ProtocolConfig::Custom(self.clone())
    }
    fn msg_kinds(&self) -> Option<&'static [&'static str]> {
        None
    }
    fn invariants(&self) -> &'static [RunInvariant] {
        &[]
    }
    fn check(&self, _spec: &ScenarioSpec) -> Result<(), ScenarioError> {
        Ok(())
    }
    fn run(&self, _: &Scenario, _: u64, _: Driver) -> Result<Box<dyn DynRun>, ScenarioError> {
        Err(ScenarioError::CustomProtocol)
    }
    fn small_config(&self, _: &Scenario) -> Result<SmallConfig, CheckRefusal> {
        Err(CheckRefusal::Custom)
    }
    fn assumptions(&self) -> Option<Assumptions> {
        None
    }
    fn check_small(
        &self,
        _: &SmallConfig,
        _: &CheckRequest,
        _: &mut dyn FnMut(Progress),
    ) -> Result<ScenarioCheck, CheckRefusal> {
        Err(CheckRefusal::Custom)
    }
}
