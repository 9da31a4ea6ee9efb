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

/// The gallery scenarios of issue 20 and whether each breaks an invariant: the same verdict at
/// every seed from 1 to 50.
const VERDICTS: &[(&str, Verdict)] = &[
    ("vrrp-lease-clock-drift", Verdict::Violated),
    ("vrrp-lease-drift-within-bound", Verdict::Holds),
    ("disk-torn-write", Verdict::Holds),
    ("disk-corrupt-prepared", Verdict::Holds),
    ("disk-lost-fsync", Verdict::Violated),
    ("paxos-corrupt-promise", Verdict::Holds),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Holds,
    Violated,
}

fn verdict(scenario: &Scenario, seed: u64) -> Verdict {
    let mut run = Run::new(
        scenario,
        RunOptions {
            seed: Some(seed),
            recording: Recording::HashOnly,
            ..RunOptions::default()
        },
    )
    .unwrap();
    run.run_to_end();
    if run.violations().is_empty() {
        Verdict::Holds
    } else {
        Verdict::Violated
    }
}

#[test]
fn every_fault_scenario_has_the_same_verdict_at_seeds_1_to_50() {
    for (name, expected) in VERDICTS {
        let scenario = gallery::find(name).unwrap();
        for seed in 1..=50 {
            assert_eq!(verdict(&scenario, seed), *expected, "{name} at seed {seed}");
        }
    }
}

#[test]
fn the_clock_drift_violation_names_both_holders_and_the_clock_bound() {
    let run = run_full(&gallery::find("vrrp-lease-clock-drift").unwrap(), 1);
    let v = &run.violations()[0];
    assert_eq!(v.invariant, "single-vip-holder");
    assert!(v.detail.contains("drifts within the bound"), "{}", v.detail);
    assert_eq!(
        v.evidence.nodes,
        vec![
            underhood_consensus::NodeId(1),
            underhood_consensus::NodeId(0)
        ]
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(40))]
    /// Leases stay safe for any drifts within the bound they state: every node's clock drifts
    /// by its own amount within `max_drift_ppm`, from its own moment, and the holder is cut
    /// off at a random time; never two holders.
    #[test]
    fn leases_hold_for_any_drift_within_the_bound(
        bound in proptest::sample::select(vec![0u64, 1_000, 50_000]),
        drifts in proptest::collection::vec((-1_000_000i64..=1_000_000, 0u64..8_000), 3),
        cut_at in 2_000u64..12_000,
        seed in 1u64..1_000,
    ) {
        let base = gallery::find("vrrp-lease-partition").unwrap();
        let scenario = base
            .edit(|s| {
                if let underhood_sim::ProtocolConfig::Vrrp(c) = &mut s.protocol {
                    c.vrrp.max_drift_ppm = bound;
                    // Backups that ask for the lease soon after the master goes quiet, and
                    // retry often, so the margin is all that keeps the holders apart.
                    c.vrrp.advert_ms = 10;
                }
                s.faults = drifts
                    .iter()
                    .enumerate()
                    .map(|(node, (d, at))| Fault::Clock {
                        node: node as u32,
                        change: underhood_sim::ClockChange::Drift {
                            drift_ppm: d * bound as i64 / 1_000_000,
                        },
                        when: underhood_sim::When { at_ms: Some(*at), after_event: None },
                    })
                    .collect();
                s.faults.extend(serde_json::from_value::<Vec<Fault>>(serde_json::json!([
                    {"type": "partition", "groups": [[0], [1, 2]], "at_ms": cut_at},
                    {"type": "heal", "at_ms": cut_at + 6_000},
                ])).unwrap());
            })
            .unwrap();
        proptest::prop_assert_eq!(verdict(&scenario, seed), Verdict::Holds);
    }
}

#[test]
fn disk_faults_parse_and_are_checked() {
    let base = gallery::find("happy-path").unwrap();
    for (name, fault) in [
        ("torn_write", underhood_sim::DiskFault::TornWrite),
        ("corrupt", underhood_sim::DiskFault::Corrupt),
        ("fsync_error", underhood_sim::DiskFault::FsyncError),
        ("lost_fsync", underhood_sim::DiskFault::LostFsync),
    ] {
        let text = format!(r#"{{"type":"disk","node":1,"at_ms":5,"fault":"{name}","count":2}}"#);
        let parsed: Fault = serde_json::from_str(&text).unwrap();
        assert_eq!(fault.name(), name);
        base.with_faults(&[parsed]).unwrap();
        for (bad, field) in [
            (
                r#"{"type":"disk","node":9,"at_ms":5,"fault":"corrupt"}"#,
                "faults[].node",
            ),
            (
                r#"{"type":"disk","node":1,"at_ms":5,"fault":"corrupt","count":0}"#,
                "faults[].count",
            ),
        ] {
            let err = base
                .with_faults(&[serde_json::from_str(bad).unwrap()])
                .unwrap_err();
            assert!(err.to_string().contains(field), "{err}");
        }
    }
    assert!(
        serde_json::from_str::<Fault>(r#"{"type":"disk","node":1,"at_ms":5,"fault":"melt"}"#)
            .is_err()
    );
}

#[test]
fn each_protocol_states_what_it_assumes_of_clocks_and_disks() {
    use underhood_sim::{ClockAssumption as C, DiskAssumption as D};
    for (scenario, clocks, disk) in [
        ("happy-path", C::Nothing, D::SyncedRecordsSurvive),
        ("3pc-happy-path", C::Synchrony, D::SyncedRecordsSurvive),
        ("pc-happy-path", C::Nothing, D::SyncedRecordsSurvive),
        ("paxos-normal", C::Nothing, D::SyncedRecordsSurvive),
        ("vrrp-split-brain", C::NoSafetyPromise, D::NoDurableState),
        ("vrrp-lease-partition", C::BoundedDrift, D::NoDurableState),
    ] {
        let a = gallery::find(scenario)
            .unwrap()
            .protocol
            .assumptions()
            .unwrap();
        assert_eq!((a.clocks, a.disk), (clocks, disk), "{scenario}");
    }
}

#[test]
fn exploration_draws_clock_faults_when_asked_and_shrinks_them_like_any_fault() {
    use underhood_sim::{
        FaultKinds, FaultKindsError, explore_with, random_faults, random_faults_of,
    };
    let scenario = gallery::find("vrrp-lease-partition").unwrap();
    // The default draws what exploration always drew.
    for seed in 1..=20 {
        assert_eq!(
            random_faults_of(&scenario, seed, FaultKinds::default()),
            random_faults(&scenario, seed)
        );
    }
    let clock = FaultKinds::parse("clock").unwrap();
    assert!(
        (1..=20)
            .flat_map(|seed| random_faults_of(&scenario, seed, clock))
            .all(|f| matches!(f, Fault::Clock { .. }))
    );
    let report = explore_with(
        &scenario,
        1..=40,
        FaultKinds::parse("network,crash,clock").unwrap(),
    )
    .unwrap();
    let failure = report
        .failure
        .expect("a clock beyond the lease bound breaks it");
    assert_eq!(failure.violation.invariant, "single-vip-holder");
    assert!(failure.shrunk.len() < failure.faults.len());
    assert!(
        failure
            .shrunk
            .iter()
            .any(|f| matches!(f, Fault::Clock { .. }))
    );
    assert_eq!(FaultKinds::parse(""), Err(FaultKindsError::Empty));
    assert!(matches!(
        FaultKinds::parse("network,flood"),
        Err(FaultKindsError::Unknown(k)) if k == "flood"
    ));
}

#[test]
fn exploration_draws_disk_faults_after_the_others_and_correct_protocols_survive_them() {
    use underhood_sim::{FaultKinds, explore_with, random_faults_of};
    let with = FaultKinds::parse("network,crash,clock,disk").unwrap();
    let without = FaultKinds::parse("network,crash,clock").unwrap();
    for name in ["happy-path", "paxos-normal"] {
        let scenario = gallery::find(name).unwrap();
        let mut kinds_seen = std::collections::BTreeSet::new();
        for seed in 1..=30 {
            let all = random_faults_of(&scenario, seed, with);
            let before = random_faults_of(&scenario, seed, without);
            // Adding the disk kind keeps every fault drawn before it.
            assert_eq!(&all[..before.len()], &before[..], "{name} seed {seed}");
            let disk: Vec<_> = all[before.len()..].to_vec();
            assert!((1..=2).contains(&disk.len()));
            for f in disk {
                let Fault::Disk { fault, .. } = f else {
                    panic!("{f:?}")
                };
                assert_ne!(fault, underhood_sim::DiskFault::LostFsync);
                kinds_seen.insert(fault.name());
            }
        }
        assert_eq!(kinds_seen.len(), 3, "{kinds_seen:?}");
        // Torn writes, corrupted records and failed fsyncs never break a correct protocol:
        // recovery drops torn tails and refuses corrupt acknowledged records.
        let report =
            explore_with(&scenario, 1..=40, FaultKinds::parse("crash,disk").unwrap()).unwrap();
        assert!(report.failure.is_none(), "{name}: {:?}", report.failure);
    }
}

/// The disk events of a run, as `(node, what)`.
fn disk_events(run: &Run) -> Vec<(u64, String)> {
    run.events_json(0)
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "disk")
        .map(|e| {
            (
                e["node"].as_u64().unwrap(),
                e["what"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_torn_prepared_record_is_dropped_at_recovery_and_everyone_aborts() {
    let run = run_full(&gallery::find("disk-torn-write").unwrap(), 1);
    let disk = disk_events(&run);
    assert_eq!(
        disk,
        [
            (1, "armed".to_owned()),
            (1, "torn".to_owned()),
            (1, "torn_tail_dropped".to_owned())
        ]
    );
    let events = run.events_json(0);
    let events = events.as_array().unwrap();
    // P1 never acknowledged the torn record: no vote left it, and it came back up.
    assert!(!events.iter().any(|e| e["kind"] == "send" && e["from"] == 1));
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "restart" && e["node"] == 1)
    );
    let state = run.state_json();
    assert_eq!(state["nodes"][1]["up"], true);
    assert_eq!(state["nodes"][1]["disk"]["records"], 0, "{state}");
    assert_eq!(state["nodes"][1]["disk"]["damaged"], 0);
    assert!(
        run.summary().contains("1 aborted everywhere"),
        "{}",
        run.summary()
    );
}

#[test]
fn a_corrupt_acknowledged_record_keeps_its_node_down_and_says_why() {
    for (name, node) in [("disk-corrupt-prepared", 1), ("paxos-corrupt-promise", 2)] {
        let run = run_full(&gallery::find(name).unwrap(), 1);
        let disk = disk_events(&run);
        assert_eq!(
            disk.first(),
            Some(&(node, "corrupted".to_owned())),
            "{name}"
        );
        assert_eq!(
            disk.last(),
            Some(&(node, "recovery_refused".to_owned())),
            "{name}"
        );
        let events = run.events_json(0);
        assert!(
            !events
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["kind"] == "restart" && e["node"] == node),
            "{name}: the node must not restart"
        );
        let state = run.state_json();
        let card = &state["nodes"][node as usize];
        assert_eq!(card["up"], false, "{name}");
        let refused = card["disk"]["refused"].as_str().unwrap();
        assert!(
            refused.contains("acknowledged") && refused.contains("corrupt"),
            "{refused}"
        );
        assert!(
            run.summary().contains("stays down: recovery refused"),
            "{}",
            run.summary()
        );
        assert!(run.violations().is_empty(), "{name}");
    }
}

/// `paxos-corrupt-promise` corrupts a promise, not just any record: at every seed 1..50 the
/// crashed replica's log holds only promises when the latent sector error strikes, the error
/// damages exactly one of them, and recovery refuses that very record.
#[test]
fn paxos_corrupt_promise_corrupts_a_promise_at_every_seed() {
    let scenario = gallery::find("paxos-corrupt-promise").unwrap();
    for seed in 1..=50 {
        let run = run_full(&scenario, seed);
        let events = run.events_json(0);
        let events = events.as_array().unwrap();
        let at = |e: &Value| e["t"].as_u64().unwrap();
        let persisted: Vec<&Value> = events
            .iter()
            .filter(|e| e["kind"] == "persist" && e["node"] == 2 && at(e) < 120)
            .collect();
        assert!(!persisted.is_empty(), "seed {seed}: R2 promised nothing");
        assert!(
            persisted
                .iter()
                .all(|e| e["record"].get("promised").is_some()),
            "seed {seed}: R2 logged more than promises before its crash: {persisted:?}"
        );
        let corrupted = events
            .iter()
            .find(|e| e["kind"] == "disk" && e["what"] == "corrupted")
            .unwrap_or_else(|| panic!("seed {seed}: nothing corrupted"));
        let records = corrupted["records"].as_array().unwrap();
        assert_eq!(records.len(), 1, "seed {seed}: {corrupted}");
        assert!(records[0].as_u64().unwrap() < persisted.len() as u64);
        let refused = events
            .iter()
            .find(|e| e["kind"] == "disk" && e["what"] == "recovery_refused")
            .unwrap_or_else(|| panic!("seed {seed}: recovery was not refused"));
        assert_eq!(refused["record"], records[0], "seed {seed}");
        assert!(run.violations().is_empty(), "seed {seed}");
    }
}

#[test]
fn a_lying_disk_is_blamed_for_the_violation_it_causes() {
    let run = run_full(&gallery::find("disk-lost-fsync").unwrap(), 1);
    assert!(
        disk_events(&run)
            .iter()
            .any(|(n, w)| *n == 1 && w == "lost_on_power_loss")
    );
    let v = &run.violations()[0];
    assert_eq!(v.invariant, "atomicity");
    let by = v.broken_by.expect("the disk is blamed");
    assert_eq!((by.environment, by.node), ("disk", 1));
    assert_eq!(by.fault, underhood_sim::DiskFault::LostFsync);
    let state = run.state_json();
    assert_eq!(state["violations"][0]["broken_by"]["environment"], "disk");
    assert!(
        run.summary()
            .contains("the disk of P1, not the protocol, broke the promise"),
        "{}",
        run.summary()
    );
    // The same run with an honest disk holds: the lie is what breaks it.
    let honest = gallery::find("disk-lost-fsync")
        .unwrap()
        .edit(|s| s.faults.retain(|f| !matches!(f, Fault::Disk { .. })))
        .unwrap();
    assert!(run_full(&honest, 1).violations().is_empty());
}

#[test]
fn on_write_rules_parse_and_are_checked() {
    let base = gallery::find("happy-path").unwrap();
    let ok: Fault =
        serde_json::from_str(r#"{"type":"on_write","node":1,"nth":2,"then":"crash"}"#).unwrap();
    base.with_faults(&[ok]).unwrap();
    assert!(
        serde_json::from_str::<Fault>(r#"{"type":"on_write","node":1,"then":"isolate"}"#).is_err()
    );
    for bad in [
        r#"{"type":"on_write","node":9,"then":"crash"}"#,
        r#"{"type":"on_write","nth":0,"then":"crash"}"#,
        r#"{"type":"on_write","then":"crash","undo_after_ms":0}"#,
    ] {
        let fault: Fault = serde_json::from_str(bad).unwrap();
        assert!(base.with_faults(&[fault]).is_err(), "{bad}");
    }
}

#[test]
fn lease_acceptors_keep_nothing_on_disk_so_disk_faults_cannot_touch_them() {
    // PaxosLease acceptors wait out the longest lease after a restart instead of logging
    // promises: every disk fault finds an empty log, and the lease stays safe.
    let base = gallery::find("vrrp-lease-partition").unwrap();
    let mut faults = Vec::new();
    for node in 0..base.nodes {
        for fault in [
            underhood_sim::DiskFault::TornWrite,
            underhood_sim::DiskFault::Corrupt,
            underhood_sim::DiskFault::LostFsync,
        ] {
            faults.push(Fault::disk(node, fault).at_ms(1));
        }
    }
    faults.push(Fault::power_loss(0).at_ms(400));
    faults.push(Fault::restart(0).at_ms(450));
    let run = run_full(&base.with_faults(&faults).unwrap(), 1);
    assert!(run.violations().is_empty(), "{}", run.summary());
    let state = run.state_json();
    for node in state["nodes"].as_array().unwrap() {
        assert_eq!(node["disk"]["records"], 0, "{node}");
    }
    // Nothing was torn, corrupted or lost: only the faults being armed (or finding nothing).
    for (_, what) in disk_events(&run) {
        assert!(what == "armed" || what == "corrupted", "{what}");
    }
}

#[test]
fn exploration_with_disk_faults_tears_corrupts_and_fails_fsyncs_for_real() {
    use underhood_sim::{FaultKinds, random_faults_of};
    let kinds = FaultKinds::parse("crash,disk").unwrap();
    let mut seen = std::collections::BTreeMap::<String, u32>::new();
    for (name, seeds) in [("happy-path", 100), ("paxos-normal", 20)] {
        let scenario = gallery::find(name).unwrap();
        for seed in 1..=seeds {
            let faults = random_faults_of(&scenario, seed, kinds);
            let run = run_full(&scenario.with_faults(&faults).unwrap(), seed);
            assert!(run.violations().is_empty(), "{name} seed {seed}");
            for (_, what) in disk_events(&run) {
                *seen.entry(what).or_default() += 1;
            }
        }
    }
    // What the drawn faults did, not only that they were drawn.
    for what in [
        "armed",
        "corrupted",
        "fsync_failed",
        "recovery_refused",
        "torn",
        "torn_tail_dropped",
    ] {
        assert!(seen.get(what).is_some_and(|n| *n > 0), "{what}: {seen:?}");
    }
}

#[test]
fn shrinking_removes_disk_faults_a_failure_does_not_need() {
    use underhood_sim::{FaultKinds, explore_with};
    // A protocol bug (deciding abort on a timeout) found with disk faults in the schedule: the
    // shrunk schedule keeps none of them, because the bug needs none.
    let scenario = gallery::find("abort-on-timeout").unwrap();
    let report = explore_with(
        &scenario,
        1..=50,
        FaultKinds::parse("network,crash,disk").unwrap(),
    )
    .unwrap();
    let failure = report.failure.expect("abort-on-timeout breaks atomicity");
    assert!(
        failure
            .faults
            .iter()
            .any(|f| matches!(f, Fault::Disk { .. }))
    );
    assert!(
        !failure
            .shrunk
            .iter()
            .any(|f| matches!(f, Fault::Disk { .. })),
        "{:?}",
        failure.shrunk
    );
}
