//! Side by side: one workload and one fault schedule, written once in protocol-neutral roles
//! (the coordinator, participant `k`, acceptor `k`), run on Two-Phase Commit, Three-Phase Commit
//! and Paxos Commit, with one row of outcomes and costs per protocol.
//!
//! A [`Comparison`] is parsed and checked like a scenario; [`Comparison::scenario`] turns it
//! into each protocol's [`Scenario`] (participant `k` is node `k` everywhere; acceptors exist only
//! in Paxos Commit, after the participants, and faults naming them are left out elsewhere), and
//! [`compare`] runs all three.

use serde::{Deserialize, Serialize};

use crate::engine::Recording;
use crate::error::ScenarioError;
use crate::protocols::{
    CommitReport, PaxosCommitConfig, ProtocolConfig, ThreePhaseConfig, TwoPhaseConfig,
};
use crate::run::{Run, RunOptions};
use crate::scenario::{Fault, Network, Scenario, ScenarioSpec, When, Workload};

/// The comparisons in the gallery, in display order.
const GALLERY: [&str; 2] = [
    include_str!("../scenarios/compare-coordinator-crash.json"),
    include_str!("../scenarios/compare-partition.json"),
];

/// The protocols a comparison runs, in order.
pub const PROTOCOLS: [&str; 3] = ["two-phase-commit", "three-phase-commit", "paxos-commit"];

/// A node by its part in a commit protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The coordinator (Paxos Commit's transaction manager).
    Coordinator,
    /// Participant `k`, from 1.
    Participant(u32),
    /// Acceptor `k`, from 1 (Paxos Commit only).
    Acceptor(u32),
}

/// A timed fault on roles.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RoleFault {
    /// The node stops (its durable log is kept).
    Crash {
        /// Who.
        role: Role,
        /// When.
        at_ms: u64,
    },
    /// The node starts again from its log.
    Restart {
        /// Who.
        role: Role,
        /// When.
        at_ms: u64,
    },
    /// Nodes in different groups cannot exchange messages.
    Partition {
        /// The groups.
        groups: Vec<Vec<Role>>,
        /// When.
        at_ms: u64,
    },
    /// Everybody can reach everybody again.
    Heal {
        /// When.
        at_ms: u64,
    },
}

/// A comparison as written: what [`Comparison::from_json`] reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComparisonSpec {
    /// Short unique name.
    pub name: String,
    /// What it shows.
    #[serde(default)]
    pub description: String,
    /// How many participants.
    pub participants: u32,
    /// Paxos Commit's tolerated acceptor failures (`2F + 1` acceptors).
    #[serde(default = "one")]
    pub f: u32,
    /// The default seed.
    #[serde(default = "one_u64")]
    pub seed: u64,
    /// How long each run lasts.
    pub duration_ms: u64,
    /// The network, the same for all.
    #[serde(default)]
    pub network: Network,
    /// The transactions, the same for all.
    #[serde(default)]
    pub workload: Workload,
    /// The faults, on roles.
    #[serde(default)]
    pub faults: Vec<RoleFault>,
}

/// A checked comparison: every protocol's scenario is valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    spec: ComparisonSpec,
    scenarios: Vec<Scenario>,
}

/// One protocol's row: the columns of `underhood sim compare --json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CompareRun {
    /// The protocol's name.
    pub protocol: &'static str,
    /// `held` or `violated`.
    pub atomicity: Verdict,
    /// Every participant decided every transaction, and so did the coordinator unless it is
    /// down at the end.
    pub decided_everywhere: bool,
    /// Some participant that is up at the end is still in doubt.
    pub blocked: bool,
    /// The longest time one participant spent in doubt, in total.
    pub in_doubt_ms_max: u64,
    /// Messages sent.
    pub messages: u64,
    /// Log writes forced to disk.
    pub forced_writes: u64,
    /// From the first transaction's start to the last decision of the last transaction, when
    /// decided everywhere.
    pub decision_latency_ms: Option<u64>,
    /// The run's trace hash, to reproduce it.
    pub trace_hash: String,
}

/// Whether an invariant held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// It held for the whole run.
    Held,
    /// It broke.
    Violated,
}

/// The result of [`compare`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ComparisonReport {
    /// The comparison's name.
    pub scenario: String,
    /// The seed all three ran with.
    pub seed: u64,
    /// One row per protocol, in [`PROTOCOLS`] order.
    pub runs: Vec<CompareRun>,
}

impl Comparison {
    /// Checks a comparison: it must give a valid scenario for every protocol.
    pub fn new(spec: ComparisonSpec) -> Result<Comparison, ScenarioError> {
        let scenarios = PROTOCOLS
            .iter()
            .map(|p| scenario_for(&spec, p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Comparison { spec, scenarios })
    }

    /// Parses and checks a comparison.
    pub fn from_json(text: &str) -> Result<Comparison, ScenarioError> {
        let spec: ComparisonSpec = serde_json::from_str(text).map_err(ScenarioError::Json)?;
        Comparison::new(spec)
    }

    /// The comparison as written.
    pub fn spec(&self) -> &ComparisonSpec {
        &self.spec
    }

    /// The scenario `protocol` (one of [`PROTOCOLS`]) runs.
    pub fn scenario(&self, protocol: &str) -> Option<&Scenario> {
        PROTOCOLS
            .iter()
            .position(|p| *p == protocol)
            .map(|i| &self.scenarios[i])
    }
}

/// The gallery's comparisons.
pub fn gallery() -> Vec<Comparison> {
    GALLERY
        .iter()
        .filter_map(|text| Comparison::from_json(text).ok())
        .collect()
}

/// The gallery comparison called `name`.
pub fn find(name: &str) -> Result<Comparison, ScenarioError> {
    gallery()
        .into_iter()
        .find(|c| c.spec.name == name)
        .ok_or_else(|| ScenarioError::UnknownScenario {
            name: name.to_owned(),
        })
}

/// Runs `comparison` on every protocol with `seed` (`None`: its own).
pub fn compare(comparison: &Comparison, seed: Option<u64>) -> ComparisonReport {
    let seed = seed.unwrap_or(comparison.spec.seed);
    let runs = PROTOCOLS
        .iter()
        .zip(&comparison.scenarios)
        .map(|(protocol, scenario)| row(protocol, scenario, seed))
        .collect();
    ComparisonReport {
        scenario: comparison.spec.name.clone(),
        seed,
        runs,
    }
}

/// Runs one protocol and reads its row off the run.
fn row(protocol: &'static str, scenario: &Scenario, seed: u64) -> CompareRun {
    let options = RunOptions {
        seed: Some(seed),
        recording: Recording::HashOnly,
        ..RunOptions::default()
    };
    // `Comparison::new` built every scenario valid, so a run always starts.
    let Ok(mut run) = Run::new(scenario, options) else {
        unreachable!("a checked comparison gives runnable scenarios")
    };
    run.run_to_end();
    let state = run.state_json();
    let report: CommitReport = serde_json::from_value(state["protocol"]["commit"].clone())
        .unwrap_or(CommitReport {
            txs: Vec::new(),
            in_doubt_ms: Vec::new(),
            in_doubt_now: Vec::new(),
        });
    let up = |node: u32| {
        state["nodes"][node as usize]["up"]
            .as_bool()
            .unwrap_or(false)
    };
    let participants = 1..=scenario_participants(scenario);
    let decided_everywhere = report.txs.iter().all(|t| {
        let decided = |n: u32| t.decided.iter().any(|d| d.node == n);
        t.participants.iter().all(|p| decided(*p)) && (decided(0) || !up(0))
    });
    let blocked = participants
        .clone()
        .any(|p| up(p) && report.in_doubt_now.get(p as usize).is_some_and(|n| *n > 0));
    let in_doubt_ms_max = participants
        .filter_map(|p| report.in_doubt_ms.get(p as usize).copied())
        .max()
        .unwrap_or(0);
    let first_start = report.txs.iter().map(|t| t.started_ms).min().unwrap_or(0);
    let last_decision = report
        .txs
        .iter()
        .flat_map(|t| t.decided.iter().map(|d| d.at_ms))
        .max();
    let counts = run.counts();
    CompareRun {
        protocol,
        atomicity: if run.violations().iter().any(|v| v.invariant == "atomicity") {
            Verdict::Violated
        } else {
            Verdict::Held
        },
        decided_everywhere,
        blocked,
        in_doubt_ms_max,
        messages: counts.sends,
        forced_writes: counts.forced_writes,
        decision_latency_ms: last_decision
            .filter(|_| decided_everywhere && !report.txs.is_empty())
            .map(|t| t.saturating_sub(first_start)),
        trace_hash: format!("{:016x}", run.trace_hash()),
    }
}

/// How many participants a commit scenario has.
fn scenario_participants(scenario: &Scenario) -> u32 {
    match &scenario.protocol {
        ProtocolConfig::PaxosCommit(c) => c.participants(scenario.nodes).unwrap_or(0),
        _ => scenario.nodes - 1,
    }
}

/// The scenario `protocol` runs for `spec`.
fn scenario_for(spec: &ComparisonSpec, protocol: &str) -> Result<Scenario, ScenarioError> {
    let n = spec.participants;
    let (config, acceptors) = match protocol {
        "two-phase-commit" => (ProtocolConfig::TwoPhaseCommit(TwoPhaseConfig::default()), 0),
        "three-phase-commit" => (
            ProtocolConfig::ThreePhaseCommit(ThreePhaseConfig::default()),
            0,
        ),
        _ => (
            ProtocolConfig::PaxosCommit(PaxosCommitConfig {
                f: spec.f,
                ..PaxosCommitConfig::default()
            }),
            2 * spec.f + 1,
        ),
    };
    let node = |role: Role| match role {
        Role::Coordinator => Some(0),
        Role::Participant(k) if (1..=n).contains(&k) => Some(k),
        Role::Acceptor(k) if (1..=acceptors).contains(&k) => Some(n + k),
        Role::Participant(_) | Role::Acceptor(_) => None,
    };
    let at = |ms: u64| When {
        at_ms: Some(ms),
        after_event: None,
    };
    let mut faults = Vec::new();
    for f in &spec.faults {
        match f {
            RoleFault::Crash { role, at_ms } => {
                if let Some(node) = node(*role) {
                    faults.push(Fault::Crash {
                        node,
                        lose_unsynced: false,
                        when: at(*at_ms),
                    });
                }
            }
            RoleFault::Restart { role, at_ms } => {
                if let Some(node) = node(*role) {
                    faults.push(Fault::Restart {
                        node,
                        when: at(*at_ms),
                    });
                }
            }
            RoleFault::Partition { groups, at_ms } => faults.push(Fault::Partition {
                groups: groups
                    .iter()
                    .map(|g| g.iter().filter_map(|r| node(*r)).collect())
                    .collect(),
                when: at(*at_ms),
            }),
            RoleFault::Heal { at_ms } => faults.push(Fault::Heal { when: at(*at_ms) }),
        }
    }
    Scenario::new(ScenarioSpec {
        name: format!("{}/{protocol}", spec.name),
        description: spec.description.clone(),
        protocol: config,
        nodes: 1 + n + acceptors,
        seed: spec.seed,
        duration_ms: spec.duration_ms,
        network: spec.network.clone(),
        workload: spec.workload.clone(),
        faults,
        limits: Default::default(),
    })
}

fn one() -> u32 {
    1
}

fn one_u64() -> u64 {
    1
}
