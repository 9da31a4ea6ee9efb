//! The small configurations the checker explores for gallery scenarios: the scenario's protocol
//! and variant, with as few nodes, clients, requests, crashes and timeouts as its bug needs, so a
//! breadth-first search reaches the shortest counterexample. The CLI and the WASM binding both
//! start here, so they check the same thing.

use super::{ProtocolModel, Reachable};
use crate::multi_paxos::MultiPaxos;
use crate::scenario::{ProtocolName, Scenario};
use crate::two_phase::TwoPhase;

/// What to explore for one scenario.
#[derive(Clone, Debug)]
pub struct SmallConfig {
    /// The scenario, shrunk (nodes, clients, requests); its variant is kept.
    pub scenario: Scenario,
    /// Crashes allowed in one path.
    pub crashes: u8,
    /// Timer firings allowed in one path (`None`: any number).
    pub timeouts: Option<u8>,
    /// Depth (in states, the initial one counting as 1) within which the search finishes.
    pub max_depth: u32,
}

/// The configuration for `scenario`, or `None` for a protocol the checker has no adapter for.
///
/// Two-Phase Commit runs a coordinator and two participants, one transaction, one crash. Multi-Paxos
/// runs three replicas and at most two timeouts (two elections), plus what the variant needs:
/// `non-unique-ballots` two clients, one per leader; `stale-reads` a writer and a reader of one
/// key; `forgetful-acceptor` a crash (between steps) and two clients.
pub fn small_config(scenario: &Scenario) -> Option<SmallConfig> {
    let mut s = scenario.clone();
    match s.protocol {
        ProtocolName::TwoPhaseCommit => {
            s.nodes = s.nodes.min(3);
            s.workload.transactions = 1;
            Some(SmallConfig {
                scenario: s,
                crashes: 1,
                timeouts: None,
                max_depth: 24,
            })
        }
        ProtocolName::MultiPaxos => {
            s.nodes = 3;
            s.workload.keys = 1;
            s.workload.readers = 0;
            let (clients, crashes) = match s.variant.as_str() {
                "non-unique-ballots" => (2, 0),
                "stale-reads" => {
                    s.workload.readers = 1;
                    (2, 0)
                }
                "forgetful-acceptor" => (2, 1),
                _ => (1, 0),
            };
            s.workload.clients = clients;
            s.workload.transactions = u64::from(clients);
            Some(SmallConfig {
                scenario: s,
                crashes,
                timeouts: Some(2),
                max_depth: 14,
            })
        }
        _ => None,
    }
}

/// The model of a 2PC configuration, with the blocking state as a "sometimes" property and
/// "every node decides" as an "eventually" one. Clients are seeded with the scenario's seed,
/// so a counterexample's script replays in a [`crate::Run::scripted`] with that seed.
pub fn two_phase_model(config: &SmallConfig) -> ProtocolModel<TwoPhase> {
    let s = config.scenario.clone();
    let seed = s.seed;
    let model = ProtocolModel::new(move || TwoPhase::new(&s), config.crashes)
        .with_workload_seed(seed)
        .sometimes(Reachable {
            name: "in-doubt-while-coordinator-down",
            holds: TwoPhase::in_doubt_while_coordinator_down,
        })
        .eventually(Reachable {
            name: "all-decided",
            holds: TwoPhase::all_decided,
        });
    match config.timeouts {
        Some(t) => model.with_timeout_budget(t),
        None => model,
    }
}

/// The model of a Multi-Paxos configuration (stale timers dropped: replicas' timers carry a
/// generation that only grows).
pub fn multi_paxos_model(config: &SmallConfig) -> ProtocolModel<MultiPaxos> {
    let s = config.scenario.clone();
    let seed = s.seed;
    let model = ProtocolModel::new(move || MultiPaxos::new(&s, seed), config.crashes)
        .with_workload_seed(seed)
        .with_stale_timers_dropped()
        .with_crashes_between_steps();
    match config.timeouts {
        Some(t) => model.with_timeout_budget(t),
        None => model,
    }
}
