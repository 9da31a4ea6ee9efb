//! Every gallery scenario tells the story its description promises: the right verdict, and the
//! same trace hash on every run.

use underhood_sim::{Recording, Run, RunOptions, gallery};

#[track_caller]
fn check(name: &str, expected_violation: Option<&str>, in_doubt_at_end: bool) {
    let scenario = gallery::find(name).unwrap();
    let mut run = Run::new(&scenario, RunOptions::default()).unwrap();
    run.run_to_end();
    let summary = run.summary();
    let got = run.violations().first().map(|v| v.invariant);
    assert_eq!(got, expected_violation, "{name}:\n{summary}");
    assert_eq!(
        summary.contains("still in doubt at the end"),
        in_doubt_at_end,
        "{name}:\n{summary}"
    );
    let mut again = Run::new(
        &scenario,
        RunOptions {
            recording: Recording::HashOnly,
            ..RunOptions::default()
        },
    )
    .unwrap();
    again.run_to_end();
    assert_eq!(
        run.trace_hash(),
        again.trace_hash(),
        "{name}: recording changed the hash"
    );
}

#[test]
fn happy_path() {
    check("happy-path", None, false);
}

#[test]
fn no_vote() {
    check("no-vote", None, false);
}

#[test]
fn coordinator_crash_before_decision_blocks() {
    check("coordinator-crash-before-decision", None, true);
}

#[test]
fn coordinator_crash_after_decision_recovers() {
    check("coordinator-crash-after-decision", None, false);
}

#[test]
fn participant_crash_after_yes_recovers() {
    check("participant-crash-after-yes", None, false);
}

#[test]
fn lost_messages_stay_atomic() {
    check("lost-messages", None, false);
}

#[test]
fn partition_during_commit_blocks_then_heals() {
    check("partition-during-commit", None, false);
}

#[test]
fn announce_before_log_breaks_atomicity() {
    check("announce-before-log", Some("atomicity"), false);
}

#[test]
fn vote_before_log_breaks_atomicity() {
    check("vote-before-log", Some("atomicity"), false);
}

#[test]
fn abort_on_timeout_breaks_atomicity() {
    check("abort-on-timeout", Some("atomicity"), false);
}
