//! Resource budgets: a scenario whose workload cannot fit its budgets is refused at
//! `Scenario::new`, and a run that outgrows them stops with a typed error naming the limit.

use underhood_sim::{LimitExceeded, Limits, Run, RunOptions, Scenario, ScenarioError, gallery};

#[track_caller]
fn run_with(name: &str, limits: Limits) -> Run {
    let scenario = gallery::find(name)
        .unwrap()
        .edit(|s| s.limits = limits)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut run = Run::new(&scenario, RunOptions::default()).unwrap();
    run.run_to_end();
    run
}

#[test]
fn a_run_stops_at_its_event_budget() {
    // The estimate (200 operations x 5 replicas x 8) fits; the storm's retries do not.
    let run = run_with(
        "paxos-storm",
        Limits {
            max_events: 10_000,
            ..Limits::default()
        },
    );
    assert!(
        matches!(
            run.limit_exceeded(),
            Some(LimitExceeded::Events {
                max_events: 10_000,
                ..
            })
        ),
        "{:?}",
        run.limit_exceeded()
    );
    assert!(run.finished());
    assert_eq!(run.n_events(), 10_000);
}

#[test]
fn a_run_stops_before_its_trace_outgrows_the_memory_budget() {
    let run = run_with(
        "paxos-storm",
        Limits {
            max_memory_mb: 2,
            ..Limits::default()
        },
    );
    assert!(
        matches!(
            run.limit_exceeded(),
            Some(LimitExceeded::Memory {
                max_memory_mb: 2,
                ..
            })
        ),
        "{:?}",
        run.limit_exceeded()
    );
}

#[test]
fn a_run_within_its_budgets_reports_none() {
    let run = run_with("happy-path", Limits::default());
    assert_eq!(run.limit_exceeded(), None);
}

#[test]
fn workloads_too_big_for_the_budgets_are_refused_before_running() {
    let huge = r#"{"name": "huge", "protocol": "two-phase-commit", "nodes": 64,
        "duration_ms": 1000000000, "workload": {"transactions": 10000000, "interval_ms": 1}}"#;
    assert!(matches!(
        Scenario::from_json(huge),
        Err(ScenarioError::EventBudget {
            estimated: 5_120_000_000,
            max_events: 5_000_000
        })
    ));
    let roomy = r#"{"name": "roomy", "protocol": "two-phase-commit", "nodes": 8,
        "duration_ms": 100000, "workload": {"transactions": 70000},
        "limits": {"max_events": 100000000, "max_memory_mb": 64}}"#;
    assert!(matches!(
        Scenario::from_json(roomy),
        Err(ScenarioError::MemoryBudget {
            max_memory_mb: 64,
            ..
        })
    ));
    let too_much = r#"{"name": "x", "protocol": "two-phase-commit", "nodes": 3,
        "duration_ms": 1000, "limits": {"max_events": 100000001}}"#;
    assert!(matches!(
        Scenario::from_json(too_much),
        Err(ScenarioError::OutOfRange {
            field: "limits.max_events",
            ..
        })
    ));
}

#[test]
fn limits_print_only_when_not_the_defaults_and_read_back() {
    let plain = gallery::find("happy-path").unwrap();
    assert!(!plain.to_json().contains("limits"));
    let tight = plain
        .edit(|s| {
            s.limits = Limits {
                max_events: 1234,
                max_memory_mb: 5,
            }
        })
        .unwrap();
    let text = tight.to_json();
    assert!(text.contains("\"max_events\": 1234"), "{text}");
    assert_eq!(Scenario::from_json(&text).unwrap(), tight);
}
