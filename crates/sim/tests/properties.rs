//! Laws of the simulator, checked over random scenarios, seeds and fault schedules:
//! correct Two-Phase Commit never breaks an invariant; a run is a function of its inputs;
//! scenarios survive a JSON round trip; injected faults replay exactly; shrinking keeps failures.

use proptest::prelude::*;
use underhood_sim::{
    Fault, Latency, Network, OnViolation, Ordering, ProtocolConfig, Recording, Run, RunOptions,
    Scenario, ScenarioSpec, Timeouts, TwoPhaseConfig, Workload, first_violation, gallery,
    random_faults, shrink,
};

fn scenario_strategy() -> impl Strategy<Value = Scenario> {
    (
        2u32..7,
        (0u64..6, 0u64..20),
        0u32..300,
        0u32..200,
        prop::bool::ANY,
        (1u64..6, 0u64..80, 1u64..50),
        0u32..300,
        (10u64..90, 10u64..90, 5u64..60),
    )
        .prop_map(
            |(
                nodes,
                (min, spread),
                loss,
                dup,
                fifo,
                (transactions, start, interval),
                conflict,
                (vote, decision, retry),
            )| {
                Scenario::new(ScenarioSpec {
                    name: "random".into(),
                    description: String::new(),
                    protocol: ProtocolConfig::TwoPhaseCommit(TwoPhaseConfig {
                        timeouts: Timeouts {
                            vote_timeout_ms: vote,
                            decision_timeout_ms: decision,
                            retry_ms: retry,
                        },
                        ..TwoPhaseConfig::default()
                    }),
                    nodes,
                    seed: 1,
                    duration_ms: 1500,
                    network: Network {
                        latency_ms: Latency {
                            min,
                            max: min + spread,
                        },
                        loss_per_mille: loss,
                        duplicate_per_mille: dup,
                        ordering: if fifo { Ordering::Fifo } else { Ordering::Any },
                        links: Vec::new(),
                    },
                    workload: Workload {
                        transactions,
                        start_ms: start,
                        interval_ms: interval,
                        participants_per_tx: None,
                        conflict_per_mille: conflict,
                        ..Workload::default()
                    },
                    faults: Vec::new(),
                    limits: Default::default(),
                })
                .unwrap()
            },
        )
}

fn run(scenario: &Scenario, seed: u64, recording: Recording) -> Run {
    let mut run = Run::new(
        scenario,
        RunOptions {
            seed: Some(seed),
            recording,
            ..RunOptions::default()
        },
    )
    .unwrap();
    run.run_to_end();
    run
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Atomicity, commit validity and stable decisions hold for correct 2PC under any network,
    /// workload and random fault schedule.
    #[test]
    fn correct_two_phase_commit_holds_every_invariant(scenario in scenario_strategy(), seed: u64) {
        let faults = random_faults(&scenario, seed);
        let violation = first_violation(&scenario, seed, &faults).unwrap();
        prop_assert!(violation.is_none(), "seed {seed}, faults {faults:?}: {violation:?}");
    }

    /// Same scenario and seed, same trace hash, whether or not the trace is kept.
    #[test]
    fn runs_are_deterministic(scenario in scenario_strategy(), seed: u64) {
        let s = scenario.with_faults(&random_faults(&scenario, seed)).unwrap();
        let a = run(&s, seed, Recording::Full);
        let b = run(&s, seed, Recording::HashOnly);
        prop_assert_eq!(a.trace_hash(), b.trace_hash());
        prop_assert_eq!(a.summary(), b.summary());
        prop_assert_eq!(a.n_events(), b.n_events());
    }

    /// parse ∘ print = id.
    #[test]
    fn scenarios_round_trip_through_json(scenario in scenario_strategy(), seed: u64) {
        let s = scenario.with_faults(&random_faults(&scenario, seed)).unwrap();
        let back = Scenario::from_json(&s.to_json()).unwrap();
        prop_assert_eq!(back, s);
    }

    /// Faults injected into a live run replay to the same trace from the recorded list.
    #[test]
    fn injected_faults_replay_exactly(
        seed: u64,
        cuts in prop::collection::vec((1u64..400, 0u8..5, 0u32..4), 1..6),
    ) {
        let scenario = gallery::find("lost-messages").unwrap();
        let mut live = Run::new(&scenario, RunOptions { seed: Some(seed), ..RunOptions::default() }).unwrap();
        let mut t = 0;
        for (dt, kind, node) in cuts {
            t += dt;
            live.run_until(t);
            let when = Default::default();
            let fault = match kind {
                0 => Fault::Crash { node, lose_unsynced: node % 2 == 0, when },
                1 => Fault::Restart { node, when },
                2 => Fault::Partition { groups: vec![vec![node]], when },
                3 => Fault::Heal { when },
                _ => {
                    // Drop the oldest message in flight, if there is one.
                    let state = live.state_json();
                    match state["in_flight"].get(0).and_then(|m| m["id"].as_u64()) {
                        Some(id) => Fault::DropMessage { id, when },
                        None => Fault::Heal { when },
                    }
                }
            };
            live.inject(fault).unwrap();
        }
        live.run_to_end();
        let mut replay = Run::new(&scenario, RunOptions {
            seed: Some(seed),
            injected: live.injected().to_vec(),
            ..RunOptions::default()
        }).unwrap();
        replay.run_to_end();
        prop_assert_eq!(live.trace_hash(), replay.trace_hash());
        prop_assert_eq!(live.summary(), replay.summary());
    }
}

/// Shrinking keeps the failure and never grows the schedule.
#[test]
fn shrinking_keeps_a_failure_and_removes_noise() {
    let scenario = gallery::find("abort-on-timeout").unwrap();
    let mut noise = random_faults(&gallery::find("happy-path").unwrap(), 3);
    noise.retain(|f| !matches!(f, Fault::Crash { .. } | Fault::Restart { .. }));
    let scripted = scenario.faults.clone();
    let base = scenario.edit(|s| s.faults.clear()).unwrap();
    let mut schedule = noise.clone();
    schedule.extend(scripted);
    assert!(first_violation(&base, 1, &schedule).unwrap().is_some());
    let (shrunk, runs) = shrink(&base, 1, schedule.clone()).unwrap();
    assert!(first_violation(&base, 1, &shrunk).unwrap().is_some());
    assert!(shrunk.len() <= schedule.len());
    assert_eq!(shrunk.len(), 1, "{shrunk:?}");
    assert!(runs > 0);
}

/// A run that stops at the first violation reports the same first violation.
#[test]
fn stopping_at_a_violation_reports_it() {
    let scenario = gallery::find("vote-before-log").unwrap();
    let mut full = Run::new(&scenario, RunOptions::default()).unwrap();
    full.run_to_end();
    let mut stopped = Run::new(
        &scenario,
        RunOptions {
            on_violation: OnViolation::Stop,
            recording: Recording::HashOnly,
            ..RunOptions::default()
        },
    )
    .unwrap();
    stopped.run_to_end();
    assert_eq!(full.violations()[0], stopped.violations()[0]);
    assert_eq!(stopped.violations().len(), 1);
}

/// The published strategies give schedules every scenario accepts, and correct 2PC survives them.
#[cfg(feature = "proptest")]
mod strategies {
    use proptest::prelude::*;
    use underhood_sim::{first_violation, gallery, strategies};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn correct_2pc_survives_any_published_schedule(
            faults in strategies::fault_schedule(4, 400, &["prepare", "vote", "commit", "abort"]),
            network in strategies::network(),
            seed: u64,
        ) {
            let scenario = gallery::find("happy-path").unwrap().edit(|s| s.network = network).unwrap();
            let v = first_violation(&scenario, seed, &faults).unwrap();
            prop_assert!(v.is_none(), "{v:?} with {faults:?}");
        }

        #[test]
        fn correct_paxos_survives_any_published_schedule(
            faults in strategies::fault_schedule(3, 600, &[]),
            workload in strategies::workload(),
            seed: u64,
        ) {
            let scenario = gallery::find("paxos-normal").unwrap().edit(|s| {
                s.nodes = 3;
                s.duration_ms = 1_500;
                s.workload = workload;
            }).unwrap();
            let v = first_violation(&scenario, seed, &faults).unwrap();
            prop_assert!(v.is_none(), "{v:?} with {faults:?}");
        }
    }
}
