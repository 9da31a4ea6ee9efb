//! Clock and disk faults (issue 20): the JSON forms, local clocks that drift and jump, and the
//! gallery scenarios that show each assumption failing or holding.

use serde_json::Value;
use underhood_sim::{Fault, Recording, Run, RunOptions, Scenario, ScenarioError, gallery};

/// `vrrp-lease-partition` with `extra` faults added.
fn lease_with(extra: &str) -> Scenario {
    let base = gallery::find("vrrp-lease-partition").unwrap();
    let faults: Vec<Fault> = serde_json::from_str(extra).unwrap();
    base.with_faults(&faults).unwrap()
}

fn run_full(scenario: &Scenario, seed: u64) -> Run {
    let mut run = Run::new(
        scenario,
        RunOptions {
            seed: Some(seed),
            recording: Recording::Full,
            ..RunOptions::default()
        },
    )
    .unwrap();
    run.run_to_end();
    run
}

#[test]
fn clock_faults_parse_in_both_forms_and_refuse_anything_else() {
    let jump: Fault =
        serde_json::from_str(r#"{"type":"clock","node":1,"at_ms":50,"offset_ms":-20}"#).unwrap();
    let drift: Fault =
        serde_json::from_str(r#"{"type":"clock","node":1,"at_ms":50,"drift_ppm":2000}"#).unwrap();
    for f in [&jump, &drift] {
        let back: Fault = serde_json::from_str(&serde_json::to_string(f).unwrap()).unwrap();
        assert_eq!(&back, f);
    }
    for bad in [
        r#"{"type":"clock","node":1,"at_ms":50}"#,
        r#"{"type":"clock","node":1,"at_ms":50,"offset_ms":1,"drift_ppm":2}"#,
    ] {
        let err = serde_json::from_str::<Fault>(bad).unwrap_err().to_string();
        assert!(
            err.contains("exactly one of offset_ms and drift_ppm"),
            "{err}"
        );
    }
    let base = gallery::find("vrrp-lease-partition").unwrap();
    let too_fast: Fault =
        serde_json::from_str(r#"{"type":"clock","node":1,"at_ms":50,"drift_ppm":600000}"#).unwrap();
    assert!(matches!(
        base.with_faults(&[too_fast]),
        Err(ScenarioError::SignedOutOfRange {
            field: "faults[].drift_ppm",
            value: 600_000,
            ..
        })
    ));
    let no_node: Fault =
        serde_json::from_str(r#"{"type":"clock","node":9,"at_ms":50,"offset_ms":1}"#).unwrap();
    assert!(matches!(
        base.with_faults(&[no_node]),
        Err(ScenarioError::NodeOutOfRange { node: 9, .. })
    ));
}

#[test]
fn a_drifting_clock_shows_in_the_trace_with_both_times_and_is_deterministic() {
    let s = lease_with(r#"[{"type":"clock","node":0,"at_ms":100,"drift_ppm":-100000}]"#);
    let run = run_full(&s, 1);
    let events = run.events_json(0);
    let events = events.as_array().unwrap();
    let clock = events
        .iter()
        .find(|e| e["kind"] == "clock")
        .expect("a clock event");
    assert_eq!(clock["node"], 0);
    assert_eq!(clock["drift_ppm"], -100_000);
    // Every later event at node 0 carries its local time, 10% behind virtual time.
    let timer = events
        .iter()
        .rfind(|e| e["kind"] == "timer" && e["node"] == 0)
        .unwrap();
    let (t, local) = (
        timer["t"].as_u64().unwrap(),
        timer["local_t"].as_u64().unwrap(),
    );
    assert_eq!(local, 100 + (t - 100) * 9 / 10, "{timer}");
    // Events at other nodes carry no local time.
    assert!(
        events
            .iter()
            .filter(|e| e["kind"] == "timer" && e["node"] == 1)
            .all(|e| e.get("local_t").is_none())
    );
    let state = run.state_json();
    assert_eq!(state["nodes"][0]["clock"]["drift_ppm"], -100_000);
    assert_eq!(state["nodes"][1]["clock"]["offset_ms"], 0);
    assert_eq!(run_full(&s, 1).trace_hash(), run.trace_hash());
    let plain = run_full(&gallery::find("vrrp-lease-partition").unwrap(), 1);
    assert_ne!(plain.trace_hash(), run.trace_hash());
}

#[test]
fn a_jump_forward_fires_pending_timers_at_once() {
    // VRRP masters advertise every second by their own clock: a jump of 10 s makes the
    // master's pending advertisement timer due at the moment of the jump.
    let s = lease_with(r#"[{"type":"clock","node":0,"at_ms":4500,"offset_ms":10000}]"#);
    let run = run_full(&s, 1);
    let events = run.events_json(0);
    let first_timer_after: &Value = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "timer" && e["node"] == 0 && e["t"].as_u64().unwrap() >= 4500)
        .unwrap();
    assert_eq!(first_timer_after["t"], 4500, "{first_timer_after}");
    assert!(first_timer_after["local_t"].as_u64().unwrap() >= 14_500);
}
