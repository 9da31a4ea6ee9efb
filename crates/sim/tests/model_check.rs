//! The exhaustive checker on the real protocol code: every broken 2PC and Multi-Paxos variant is
//! found with a shortest counterexample, correct ones have none within the explored depth, and
//! fingerprints are stable across runs and platforms.

use proptest::prelude::*;
use underhood_sim::model::{self, CheckerOptions, Model, ProtocolModel, Symmetry, Verdict};
use underhood_sim::{ProtocolConfig, TwoPhase, TwoPhaseConfig, gallery};

/// A two-participant, one-transaction 2PC with `variant`, checked to `depth` steps with one
/// crash allowed; returns the broken property and the counterexample's length.
fn check_2pc(variant: &str, depth: u32) -> (Verdict, Option<(&'static str, usize)>, bool) {
    let scenario = gallery::find("happy-path")
        .unwrap()
        .edit(|s| {
            s.protocol = ProtocolConfig::TwoPhaseCommit(TwoPhaseConfig {
                variant: variant.parse().unwrap(),
                ..TwoPhaseConfig::default()
            });
            s.nodes = 3;
            s.workload.transactions = 1;
        })
        .unwrap();
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
    let scenario = gallery::find("happy-path")
        .unwrap()
        .edit(|s| {
            s.nodes = 3;
            s.workload.transactions = 1;
        })
        .unwrap();
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
    let scenario = gallery::find("happy-path")
        .unwrap()
        .edit(|s| {
            s.nodes = 3;
            s.workload.transactions = 1;
        })
        .unwrap();
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

/// Checks a gallery Multi-Paxos scenario in its small configuration (three replicas, at most two
/// timeouts); returns the broken property and the counterexample's length.
fn check_paxos(name: &str) -> (Verdict, Option<(&'static str, usize)>, u64) {
    let scenario = gallery::find(name).unwrap();
    let config = model::small_config(&scenario).unwrap();
    let model = model::multi_paxos_model(&config);
    let report = model::check(
        &model,
        &CheckerOptions {
            max_depth: config.max_depth,
            threads: 2,
            ..CheckerOptions::default()
        },
    );
    if let Some(c) = &report.counterexample {
        let trace = model.trace(&c.actions);
        assert_eq!(trace.len(), c.actions.len() + 1, "{trace:?}");
        assert_eq!(trace.last().unwrap()["kind"], "violation", "{trace:?}");
    }
    let found = report
        .counterexample
        .as_ref()
        .map(|c| (c.property, c.actions.len()));
    (report.verdict, found, report.unique_states)
}

#[test]
fn ignore_accepted_is_found_with_a_shortest_counterexample() {
    // R0 is elected (timeout, prepare, promise) and gets a request; R2 runs for b1.2; R1
    // accepts R0's command (chosen with R0's own vote); R0's promise reports it, R2 ignores it
    // and R0 accepts R2's no-op: two values chosen in slot #0 after nine steps.
    let (verdict, found, _) = check_paxos("paxos-ignore-accepted");
    assert_eq!(
        (verdict, found),
        (Verdict::Violated, Some(("agreement", 9)))
    );
}

#[test]
fn non_unique_ballots_are_found_with_a_shortest_counterexample() {
    // R0 and R1 both campaign with ballot 1.0 and R2 promises both; each leader gets one
    // client's command accepted in slot #0 by the other: ten steps.
    let (verdict, found, _) = check_paxos("paxos-non-unique-ballots");
    assert_eq!(
        (verdict, found),
        (Verdict::Violated, Some(("agreement", 10)))
    );
}

#[test]
fn stale_reads_are_found_with_a_shortest_counterexample() {
    // R0 leads, R1 takes over with R2, a put commits through R1, then R0 answers a read of the
    // same key from its own stale state: ten steps, and no legal order for the history.
    let (verdict, found, _) = check_paxos("paxos-stale-reads");
    assert_eq!(
        (verdict, found),
        (Verdict::Violated, Some(("linearizability", 10)))
    );
}

#[test]
fn forgetful_acceptor_is_found_with_a_shortest_counterexample() {
    // R0 leads with b1.0 and R1 with b2.1; each gets one client's command and accepts it in
    // slot #0 itself. R0 accepts R1's (chosen: R0 and R1 under b2.1), R1 crashes and restarts
    // with its promise and acceptance forgotten, then accepts R0's older accept: a second
    // command chosen in slot #0 (R0 and R1 under b1.0) after twelve steps. About 12 million
    // states; the breadth-first frontier keeps no states, so this takes a few hundred MB.
    let (verdict, found, _) = check_paxos("paxos-forgetful-acceptor");
    assert_eq!(
        (verdict, found),
        (Verdict::Violated, Some(("agreement", 12)))
    );
}

#[test]
fn correct_multi_paxos_has_no_counterexample_within_the_depth() {
    let scenario = gallery::find("paxos-normal").unwrap();
    let config = model::small_config(&scenario).unwrap();
    let model = model::multi_paxos_model(&config);
    let report = model::check(
        &model,
        &CheckerOptions {
            max_depth: 10,
            threads: 2,
            ..CheckerOptions::default()
        },
    );
    assert_eq!(report.verdict, Verdict::Ok);
    assert!(report.truncated);
    assert!(report.unique_states > 10_000, "{}", report.unique_states);
}

/// Gray & Lamport's TwoPhase decides under fairness of the TM and of message receipt, and not
/// under fairness of the TM alone: then the decision may never reach an RM.
#[test]
fn tla_two_phase_eventually_decides_only_if_receipt_is_fair() {
    use model::{LiveVerdict, TlaFairness, TwoPhaseTla};
    let fair = TwoPhaseTla::new(3).with_liveness(TlaFairness::TransactionManagerAndReceipt);
    let report = model::check(&fair, &CheckerOptions::default());
    assert_eq!(report.verdict, Verdict::Ok);
    let live: Vec<_> = report
        .eventually
        .iter()
        .map(|l| (l.property, l.verdict))
        .collect();
    assert_eq!(live, [("all-decided", LiveVerdict::Holds)]);
    assert_eq!(report.eventually[0].states, 288);

    let unfair = TwoPhaseTla::new(3).with_liveness(TlaFairness::TransactionManager);
    let report = model::check(&unfair, &CheckerOptions::default());
    // The verdict is about safety; liveness reports on its own.
    assert_eq!(report.verdict, Verdict::Ok);
    let l = &report.eventually[0];
    assert_eq!(l.verdict, LiveVerdict::Violated);
    // The TM aborts at once; nothing fair is left, and no RM has heard.
    let stem: Vec<&str> = l.stem.iter().map(|a| a.name).collect();
    assert_eq!(stem, ["TMAbort"]);
    assert!(l.cycle.is_empty());
}

/// Correct 2PC without crashes eventually decides; with a coordinator that may crash and never
/// come back, it does not, and the checker shows how.
#[test]
fn two_phase_commit_eventually_decides_unless_the_coordinator_stays_down() {
    use model::LiveVerdict;
    let scenario = gallery::find("happy-path")
        .unwrap()
        .edit(|s| s.nodes = 3)
        .unwrap();
    let mut config = model::small_config(&scenario).unwrap();
    // Retries make the space infinite; three timeouts keep it finite and leave every retry
    // this run needs.
    config.crashes = 0;
    config.timeouts = Some(3);
    let report = model::check(&model::two_phase_model(&config), &CheckerOptions::default());
    let live: Vec<_> = report
        .eventually
        .iter()
        .map(|l| (l.property, l.verdict))
        .collect();
    assert_eq!(live, [("all-decided", LiveVerdict::Holds)]);
    assert_eq!(report.verdict, Verdict::Ok);

    config.crashes = 1;
    let model = model::two_phase_model(&config).restarts_not_forced();
    let report = model::check(
        &model,
        &CheckerOptions {
            max_depth: 12,
            ..CheckerOptions::default()
        },
    );
    let l = &report.eventually[0];
    assert_eq!(l.verdict, LiveVerdict::Violated, "{l:?}");
    assert_eq!(report.verdict, Verdict::Ok);
    assert!(
        l.stem
            .iter()
            .any(|a| a.name == "crash" || a.crash_after.is_some()),
        "{l:?}"
    );
}

/// The small configuration of a gallery scenario, as a model.
fn small_model(name: &str) -> Box<dyn FingerprintPath> {
    let scenario = gallery::find(name).unwrap();
    let config = model::small_config(&scenario).unwrap();
    match name {
        "happy-path" => Box::new(model::two_phase_model(&config)),
        _ => Box::new(model::multi_paxos_model(&config)),
    }
}

/// The fingerprints of the states a path visits from the initial state, the path given as
/// successor indices (each taken modulo the number of successors; the path ends early in a
/// state without any).
trait FingerprintPath {
    fn fingerprints(&self, path: &[u16]) -> Vec<u64>;
}

impl<M: Model> FingerprintPath for M {
    fn fingerprints(&self, path: &[u16]) -> Vec<u64> {
        let mut init = Vec::new();
        self.init(&mut init);
        let mut state = init.swap_remove(0);
        let mut fingerprints = vec![self.fingerprint(&state, Symmetry::Off)];
        let mut out = Vec::new();
        for &choice in path {
            out.clear();
            self.next(&state, &mut out);
            if out.is_empty() {
                break;
            }
            let i = usize::from(choice) % out.len();
            state = out.swap_remove(i).0;
            fingerprints.push(self.fingerprint(&state, Symmetry::Off));
        }
        fingerprints
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A state reached by a random path (deliveries, timers, client requests, crashes in the
    /// middle of a step or between steps, restarts) has the fingerprint of the same state
    /// rebuilt by a fresh model replaying the same path: fingerprints hash the state's contents,
    /// never addresses, allocation order or the order of pending messages.
    #[test]
    fn fingerprints_are_stable_across_runs(
        name in prop::sample::select(vec!["happy-path", "paxos-forgetful-acceptor", "paxos-stale-reads"]),
        path in prop::collection::vec(any::<u16>(), 0..24),
    ) {
        let first = small_model(name).fingerprints(&path);
        let again = small_model(name).fingerprints(&path);
        prop_assert_eq!(first, again);
    }
}

/// Pinned fingerprints of the initial state and of the state a fixed path reaches: the same on
/// every platform (the trace hasher is portable, and the WASM build runs this code). They change
/// only when a protocol's state, its checker's or the model's does; update them then, never for
/// a platform.
#[test]
fn fingerprints_are_pinned() {
    let path = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    check_fingerprints(
        "happy-path",
        &path,
        (16074134477134000398, 8562769620159528709),
    );
    // Re-pinned when the scenario's election and heartbeat timing changed (issue 17 item 5):
    // the replicas' configuration is part of their state.
    check_fingerprints(
        "paxos-forgetful-acceptor",
        &path,
        (16980810650114400154, 17878074242114663832),
    );
}

#[track_caller]
fn check_fingerprints(name: &str, path: &[u16], expected: (u64, u64)) {
    let fingerprints = small_model(name).fingerprints(path);
    assert_eq!(
        fingerprints.len(),
        path.len() + 1,
        "{name}: the path ends early"
    );
    let ends = (fingerprints[0], fingerprints[path.len()]);
    assert_eq!(ends, expected, "{name}");
}

#[test]
fn progress_is_reported_level_by_level_and_ends_at_the_totals() {
    let mut seen = Vec::new();
    let report = model::check_with_progress(
        &model::TwoPhaseTla::new(3),
        &CheckerOptions::default(),
        &mut |p| seen.push(p),
    );
    assert!(seen.len() >= 10, "one report per level: {seen:?}");
    assert!(
        seen.windows(2).all(|w| w[0].depth <= w[1].depth
            && w[0].unique_states <= w[1].unique_states
            && w[0].states <= w[1].states),
        "{seen:?}"
    );
    let last = seen.last().unwrap();
    assert_eq!(
        (last.depth, last.unique_states, last.states),
        (report.max_depth, report.unique_states, report.states)
    );
    assert_eq!(report.unique_states, 288);
}

/// 3PC's weakness is found exhaustively: the untimed checker may fire any timer before any
/// message (a partition or a late message), and a shortest counterexample breaks atomicity; it
/// replays in the simulator and breaks the same invariant there.
#[test]
fn three_phase_commit_breaks_when_a_timeout_lies() {
    let scenario = gallery::find("3pc-partition").unwrap();
    let report =
        model::check_scenario(&scenario, &model::CheckRequest::default(), &mut |_| {}).unwrap();
    assert_eq!(report.verdict, Verdict::Violated);
    assert_eq!(report.property, Some("atomicity"));
    assert_eq!(report.counterexample_steps, 8);
    let replay = report.replay.unwrap();
    let mut run = replay.run().unwrap();
    run.run_to_end();
    assert!(
        run.violations().iter().any(|v| v.invariant == "atomicity"),
        "{}",
        run.summary()
    );
}

/// Paxos Commit with F = 1 (three acceptors), two participants, one crash and two timeouts is
/// clean to depth 8 (the CLI's default is 9; `--max-depth 10` explores 4.2 million states).
#[test]
fn paxos_commit_is_clean_to_depth_eight() {
    let scenario = gallery::find("pc-happy-path").unwrap();
    let request = model::CheckRequest {
        max_depth: Some(8),
        threads: 2,
        ..model::CheckRequest::default()
    };
    let report = model::check_scenario(&scenario, &request, &mut |_| {}).unwrap();
    assert_eq!(report.verdict, Verdict::Ok, "{:?}", report.property);
    assert!(report.unique_states > 100_000, "{}", report.unique_states);
}

/// Correct 2PC (two participants, one transaction, one crash) with up to one disk fault of
/// `faults` per path, checked to `depth` steps.
fn check_2pc_disk(
    faults: &[underhood_sim::DiskFault],
    depth: u32,
) -> (model::CheckReport, ProtocolModel<TwoPhase>) {
    let scenario = gallery::find("happy-path")
        .unwrap()
        .edit(|s| {
            s.nodes = 3;
            s.workload.transactions = 1;
        })
        .unwrap();
    let model = ProtocolModel::new(move || TwoPhase::new(&scenario), 1).with_disk_faults(faults, 1);
    let report = model::check(
        &model,
        &CheckerOptions {
            max_depth: depth,
            threads: 2,
            ..CheckerOptions::default()
        },
    );
    (report, model)
}

#[test]
fn torn_writes_and_corrupt_records_at_every_crash_point_never_break_two_phase_commit() {
    use underhood_sim::DiskFault;
    let (plain, _) = check_2pc_disk(&[], 9);
    let (report, _) = check_2pc_disk(&[DiskFault::TornWrite, DiskFault::Corrupt], 9);
    assert_eq!(report.verdict, Verdict::Ok, "{:?}", report.counterexample);
    // The disk faults were explored: many more states than without them.
    assert!(
        report.unique_states > plain.unique_states * 2,
        "{} vs {}",
        report.unique_states,
        plain.unique_states
    );
}

#[test]
fn a_lying_fsync_breaks_two_phase_commit_and_the_replay_blames_the_disk() {
    use underhood_sim::{DiskFault, Run};
    let (report, model) = check_2pc_disk(&[DiskFault::LostFsync], 14);
    assert_eq!(report.verdict, Verdict::Violated);
    let c = report.counterexample.expect("a counterexample");
    assert_eq!(c.property, "atomicity");
    assert!(
        c.actions.iter().any(|a| a.name == "lost-fsync"),
        "{:?}",
        c.actions
    );
    assert!(
        c.actions
            .iter()
            .any(|a| a.name == "power-loss" || a.crash_after.is_some_and(|p| p % 2 == 1))
    );
    // Replayed through the simulator, the same path breaks atomicity, and the disk is blamed.
    let scenario = gallery::find("happy-path")
        .unwrap()
        .edit(|s| {
            s.nodes = 3;
            s.workload.transactions = 1;
        })
        .unwrap();
    let mut run = Run::scripted(&scenario, 1, model.script(&c.actions)).unwrap();
    run.run_to_end();
    let v = &run.violations()[0];
    assert_eq!(v.invariant, "atomicity");
    assert_eq!(v.broken_by.map(|b| b.environment), Some("disk"));
}
