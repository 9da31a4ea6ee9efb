//! Model-checker counterexamples replay in the simulator: the checker's path becomes a script
//! of choices, and a scripted run of the same scenario, through the engine, its trace events
//! and its checkers, breaks the same property at the same last step.

use underhood_sim::model::{self, CheckerOptions, Verdict};
use underhood_sim::{Choice, Run, SCRIPT_STEP_MS, ScenarioError, ScriptError, gallery};

/// Checks `name` in its small configuration and replays the counterexample; returns the
/// property the checker reports, the script, and the replayed run.
fn check_and_replay(name: &str) -> (&'static str, Vec<Choice>, Run) {
    let scenario = gallery::find(name).unwrap();
    let config = model::small_config(&scenario).unwrap();
    let options = CheckerOptions {
        max_depth: config.max_depth,
        threads: 2,
        ..CheckerOptions::default()
    };
    let (report, script) = match scenario.protocol {
        underhood_sim::ProtocolConfig::TwoPhaseCommit(_) => {
            let m = model::two_phase_model(&config);
            let r = model::check(&m, &options);
            let s = m.script(&r.counterexample.as_ref().unwrap().actions);
            (r, s)
        }
        _ => {
            let m = model::multi_paxos_model(&config);
            let r = model::check(&m, &options);
            let s = m.script(&r.counterexample.as_ref().unwrap().actions);
            (r, s)
        }
    };
    assert_eq!(report.verdict, Verdict::Violated);
    let c = report.counterexample.unwrap();
    assert_eq!(
        script.len(),
        c.actions.len(),
        "every action becomes a choice"
    );
    let mut run = Run::scripted(&config.scenario, config.scenario.seed, script.clone()).unwrap();
    run.run_to_end();
    (c.property, script, run)
}

fn assert_replays(name: &str) {
    let (property, script, run) = check_and_replay(name);
    assert!(run.finished());
    let v = run.violations();
    assert!(
        v.iter().any(|v| v.invariant == property),
        "{name}: the replay should break {property}, got {v:?}\n{}",
        run.summary()
    );
    // It breaks at the last step, not before: the checker's path is a shortest one.
    let first = v.iter().map(|v| v.time.0).min().unwrap();
    assert_eq!(first, script.len() as u64 * SCRIPT_STEP_MS, "{name}: {v:?}");
    // The trace is the simulator's: sends and deliveries with ids, ending in the violation.
    let events = run.events_json(0);
    let events = events.as_array().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "send" && e["id"].is_u64())
    );
    assert!(events.iter().any(|e| e["kind"] == "deliver"));
    assert!(events.iter().any(|e| e["kind"] == "violation"));
}

#[test]
fn two_phase_commit_counterexamples_replay_in_the_simulator() {
    for name in ["abort-on-timeout", "vote-before-log", "announce-before-log"] {
        assert_replays(name);
    }
}

#[test]
fn multi_paxos_counterexamples_replay_in_the_simulator() {
    for name in ["paxos-ignore-accepted", "paxos-stale-reads"] {
        assert_replays(name);
    }
}

#[test]
fn a_replay_is_deterministic_and_its_script_survives_json() {
    let (_, script, run) = check_and_replay("abort-on-timeout");
    let text = serde_json::to_string(&script).unwrap();
    let back: Vec<Choice> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, script);
    let scenario = model::small_config(&gallery::find("abort-on-timeout").unwrap())
        .unwrap()
        .scenario;
    let mut again = Run::scripted(&scenario, scenario.seed, back).unwrap();
    again.run_to_end();
    assert_eq!(again.trace_hash(), run.trace_hash());
    assert_eq!(again.events_json(0), run.events_json(0));
}

#[test]
fn a_script_that_does_not_fit_is_refused_with_the_step() {
    let scenario = model::small_config(&gallery::find("abort-on-timeout").unwrap())
        .unwrap()
        .scenario;
    // Restarting a node that is up.
    let err = Run::scripted(&scenario, 1, vec![Choice::Restart { node: 1 }]).unwrap_err();
    assert!(
        matches!(
            err,
            ScenarioError::Script(ScriptError::Node {
                step: 0,
                node: 1,
                ..
            })
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("step 0: node 1 is already up"),
        "{err}"
    );
    // Delivering a message nobody sent.
    let script = vec![
        Choice::Crash {
            node: 2,
            power_loss: false,
        },
        Choice::Deliver {
            from: 0,
            to: 2,
            msg: serde_json::json!("no such message"),
            cut: None,
        },
    ];
    let err = Run::scripted(&scenario, 1, script).unwrap_err();
    assert!(
        matches!(
            err,
            ScenarioError::Script(ScriptError::NoMessage { step: 1, .. })
        ),
        "{err}"
    );
    // A scripted run takes no injections.
    let mut run = Run::scripted(&scenario, 1, Vec::new()).unwrap();
    assert!(run.finished());
    let fault: underhood_sim::Fault =
        serde_json::from_value(serde_json::json!({"type": "crash", "node": 1, "at_ms": 0}))
            .unwrap();
    assert!(run.inject(fault).is_err());
}

/// Walks `model` from its initial state, taking at each step the successor `picks` names
/// (modulo how many there are); returns the actions and the invariant broken at the end.
fn walk<M: model::Model>(m: &M, picks: &[u16]) -> (Vec<model::Action>, Option<&'static str>) {
    let mut init = Vec::new();
    m.init(&mut init);
    let mut state = init.pop().unwrap();
    let mut actions = Vec::new();
    let mut out = Vec::new();
    for pick in picks {
        out.clear();
        m.next(&state, &mut out);
        if out.is_empty() {
            break;
        }
        let (next, action) = out.swap_remove(usize::from(*pick) % out.len());
        actions.push(action);
        state = next;
    }
    (actions, m.violation(&state))
}

/// Replays `actions` of a scenario's model and returns the invariants the replay breaks.
fn replay_verdict(
    config: &model::SmallConfig,
    script: Vec<Choice>,
    len: usize,
) -> Vec<&'static str> {
    assert_eq!(script.len(), len, "every action becomes a choice");
    let mut run = Run::scripted(&config.scenario, config.scenario.seed, script)
        .unwrap_or_else(|e| panic!("a path the checker took does not replay: {e}"));
    run.run_to_end();
    let mut broken: Vec<&'static str> = run.violations().iter().map(|v| v.invariant).collect();
    broken.dedup();
    broken
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Any path the checker can take — crashes part way through a step and power losses
    /// included — replays in the simulator, and breaks exactly what the checker says it breaks.
    #[test]
    fn every_two_phase_path_replays_with_the_checkers_verdict(
        variant in proptest::sample::select(vec!["correct", "abort-on-timeout", "vote-before-log", "announce-before-log"]),
        picks in proptest::collection::vec(proptest::prelude::any::<u16>(), 0..30),
    ) {
        let scenario = gallery::find("happy-path").unwrap().edit(|s| {
            s.protocol = underhood_sim::ProtocolConfig::TwoPhaseCommit(underhood_sim::TwoPhaseConfig {
                variant: variant.parse().unwrap(),
                ..Default::default()
            });
        }).unwrap();
        let config = model::small_config(&scenario).unwrap();
        let m = model::two_phase_model(&config);
        let (actions, broken) = walk(&m, &picks);
        let replayed = replay_verdict(&config, m.script(&actions), actions.len());
        proptest::prop_assert_eq!(replayed, broken.into_iter().collect::<Vec<_>>());
    }

    /// The same for Multi-Paxos, whose checkers (agreement, linearizability) judge client
    /// histories: the replay's times order operations as the checker's logical clock does.
    #[test]
    fn every_multi_paxos_path_replays_with_the_checkers_verdict(
        name in proptest::sample::select(vec!["paxos-normal", "paxos-ignore-accepted", "paxos-stale-reads", "paxos-non-unique-ballots", "paxos-forgetful-acceptor"]),
        picks in proptest::collection::vec(proptest::prelude::any::<u16>(), 0..24),
    ) {
        let config = model::small_config(&gallery::find(name).unwrap()).unwrap();
        let m = model::multi_paxos_model(&config);
        let (actions, broken) = walk(&m, &picks);
        let replayed = replay_verdict(&config, m.script(&actions), actions.len());
        proptest::prop_assert_eq!(replayed, broken.into_iter().collect::<Vec<_>>());
    }
}
