//! The exhaustive checker on the real protocol code: every broken 2PC variant is found with a
//! shortest counterexample, and correct 2PC has none within the explored depth.

use underhood_sim::model::{self, CheckerOptions, ProtocolModel, Verdict};
use underhood_sim::{TwoPhase, gallery};

/// A two-participant, one-transaction 2PC with `variant`, checked to `depth` steps with one
/// crash allowed; returns the broken property and the counterexample's length.
fn check_2pc(variant: &str, depth: u32) -> (Verdict, Option<(&'static str, usize)>, bool) {
    let mut scenario = gallery::find("happy-path").unwrap();
    scenario.variant = variant.into();
    scenario.nodes = 3;
    scenario.workload.transactions = 1;
    let model = ProtocolModel::new(move || TwoPhase::new(&scenario), 1);
    let report = model::check(
        &model,
        &CheckerOptions {
            max_depth: depth,
            threads: 2,
            ..CheckerOptions::default()
        },
    );
    let found = report
        .counterexample
        .as_ref()
        .map(|c| (c.property, c.actions.len()));
    if let Some(c) = &report.counterexample {
        // The counterexample replays as a trace that ends in the violation.
        let trace = model.trace(&c.actions);
        assert_eq!(trace.last().unwrap()["kind"], "violation", "{trace:?}");
    }
    (report.verdict, found, report.truncated)
}

#[test]
fn abort_on_timeout_is_found_with_a_shortest_counterexample() {
    // begin, 2 prepares, 2 votes, a timeout: six steps.
    assert_eq!(
        check_2pc("abort-on-timeout", 12),
        (Verdict::Violated, Some(("atomicity", 6)), false)
    );
}

#[test]
fn vote_before_log_is_found() {
    let (verdict, found, _) = check_2pc("vote-before-log", 12);
    assert_eq!(verdict, Verdict::Violated);
    assert_eq!(found.map(|f| f.0), Some("atomicity"));
}

#[test]
fn announce_before_log_is_found() {
    let (verdict, found, _) = check_2pc("announce-before-log", 12);
    assert_eq!(verdict, Verdict::Violated);
    assert_eq!(found.map(|f| f.0), Some("atomicity"));
}

#[test]
fn correct_two_phase_commit_has_no_counterexample_within_the_depth() {
    let (verdict, found, truncated) = check_2pc("correct", 9);
    assert_eq!((verdict, found), (Verdict::Ok, None));
    assert!(truncated, "the retry loops make the full space infinite");
}

/// 2PC's blocking state is reachable, and the checker shows the shortest way there.
#[test]
fn a_participant_in_doubt_with_the_coordinator_down_is_reachable() {
    let mut scenario = gallery::find("happy-path").unwrap();
    scenario.nodes = 3;
    scenario.workload.transactions = 1;
    let model =
        ProtocolModel::new(move || TwoPhase::new(&scenario), 1).sometimes(model::Reachable {
            name: "in-doubt-while-coordinator-down",
            holds: TwoPhase::in_doubt_while_coordinator_down,
        });
    let report = model::check(
        &model,
        &CheckerOptions {
            max_depth: 6,
            ..CheckerOptions::default()
        },
    );
    assert_eq!(report.verdict, Verdict::Ok);
    let found: Vec<(&str, usize)> = report
        .discoveries
        .iter()
        .map(|d| (d.property, d.actions.len()))
        .collect();
    // The coordinator crashes right after sending its first PREPARE; that PREPARE arrives and
    // the participant votes: in doubt, with nobody to ask who knows more.
    assert_eq!(found, [("in-doubt-while-coordinator-down", 2)]);
}

/// With loss allowed, correct 2PC still never breaks atomicity (within the depth).
#[test]
fn correct_two_phase_commit_survives_loss_and_duplication() {
    let mut scenario = gallery::find("happy-path").unwrap();
    scenario.nodes = 3;
    scenario.workload.transactions = 1;
    let model = ProtocolModel::new(move || TwoPhase::new(&scenario), 0)
        .with_loss()
        .with_duplication();
    let report = model::check(
        &model,
        &CheckerOptions {
            max_depth: 9,
            threads: 2,
            ..CheckerOptions::default()
        },
    );
    assert_eq!(report.verdict, Verdict::Ok);
    assert!(report.unique_states > 1_000);
}
