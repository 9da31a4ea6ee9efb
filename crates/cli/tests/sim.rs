//! The `underhood sim` command-line contract: output shapes and exit statuses.

mod common;
use common::{check, check_any, underhood};

#[test]
fn list_names_every_scenario_as_text_and_json() {
    check(&["sim", "list"], 0, "coordinator-crash-before-decision");
    let json = check(&["sim", "list", "--json"], 0, "\"name\"");
    let list: serde_json::Value = serde_json::from_str(&json).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"happy-path") && names.contains(&"vote-before-log"));
    assert!(
        list[0]["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
}

#[test]
fn run_prints_a_summary_with_the_trace_hash_and_exits_by_verdict() {
    let out = check(
        &[
            "sim",
            "run",
            "--scenario",
            "coordinator-crash-before-decision",
        ],
        0,
        "invariants: all held",
    );
    assert!(out.contains("P1=in-doubt"), "{out}");
    let hash_line = out.lines().find(|l| l.starts_with("trace-hash: ")).unwrap();
    assert_eq!(hash_line.len(), "trace-hash: ".len() + 16);
    check(
        &["sim", "run", "--scenario", "announce-before-log"],
        1,
        "VIOLATED atomicity",
    );
    let a = check(
        &["sim", "run", "--scenario", "lost-messages", "--seed", "9"],
        0,
        "seed 9",
    );
    let b = check(
        &["sim", "run", "--scenario", "lost-messages", "--seed", "9"],
        0,
        "seed 9",
    );
    assert_eq!(a, b);
}

#[test]
fn run_json_prints_the_full_trace() {
    let out = check(
        &["sim", "run", "--scenario", "happy-path", "--json"],
        0,
        "\"events\"",
    );
    let trace: serde_json::Value = serde_json::from_str(&out).unwrap();
    let events = trace["events"].as_array().unwrap();
    assert!(events.len() > 20);
    assert_eq!(events[0]["i"], 0);
    assert!(events.iter().any(|e| e["kind"] == "deliver"));
    assert_eq!(trace["trace_hash"].as_str().map(str::len), Some(16));
}

#[test]
fn run_file_reads_a_scenario() {
    let dir = std::env::temp_dir().join(format!("underhood-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s.json");
    let text = r#"{"name":"mine","protocol":"two-phase-commit","nodes":3,"duration_ms":300}"#;
    std::fs::write(&path, text).unwrap();
    check(
        &["sim", "run", "--file", path.to_str().unwrap()],
        0,
        "scenario: mine",
    );
    std::fs::write(
        &path,
        r#"{"name":"bad","protocol":"two-phase-commit","nodes":1,"duration_ms":3}"#,
    )
    .unwrap();
    let out = underhood(&["sim", "run", "--file", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 to 64 nodes"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_input_exits_2() {
    for args in [
        &["sim", "run", "--scenario", "no-such-thing"][..],
        &[
            "sim",
            "run",
            "--scenario",
            "happy-path",
            "--seed",
            "minus-one",
        ],
        &["sim", "run"],
        &["sim", "run", "--file", "/nonexistent/scenario.json"],
        &[
            "sim",
            "explore",
            "--scenario",
            "happy-path",
            "--seeds",
            "9..1",
        ],
        &["sim", "frobnicate"],
    ] {
        assert_eq!(underhood(args).status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn explore_finds_and_shrinks_a_broken_variant() {
    check(
        &[
            "sim",
            "explore",
            "--scenario",
            "happy-path",
            "--seeds",
            "1..200",
        ],
        0,
        "every invariant held",
    );
    let out = check(
        &[
            "sim",
            "explore",
            "--scenario",
            "abort-on-timeout",
            "--seeds",
            "1..50",
        ],
        1,
        "first violating seed: ",
    );
    assert!(out.contains("shrunk fault schedule"), "{out}");
    assert!(out.contains("reproduce: underhood sim run"), "{out}");
}

#[test]
fn disk_scenarios_say_what_the_disk_did() {
    let torn = check(
        &["sim", "run", "--scenario", "disk-torn-write"],
        0,
        "invariants: all held",
    );
    assert!(torn.contains("1 aborted everywhere"), "{torn}");
    let corrupt = check(
        &["sim", "run", "--scenario", "disk-corrupt-prepared"],
        0,
        "disk: P1 stays down: recovery refused: record 0 was acknowledged",
    );
    assert!(corrupt.contains("invariants: all held"), "{corrupt}");
    let lied = check(
        &["sim", "run", "--scenario", "disk-lost-fsync"],
        1,
        "VIOLATED atomicity",
    );
    assert!(
        lied.contains("the disk of P1, not the protocol, broke the promise"),
        "{lied}"
    );
    check(
        &[
            "sim",
            "explore",
            "--scenario",
            "happy-path",
            "--seeds",
            "1..40",
            "--fault-kinds",
            "crash,disk",
        ],
        0,
        "every invariant held",
    );
    // The JSON names the disk too.
    let json = underhood(&["sim", "run", "--scenario", "disk-lost-fsync", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        v["violations"][0]["broken_by"]["environment"], "disk",
        "{v}"
    );
}

#[test]
fn paxos_scenarios_run_like_2pc_ones() {
    let list = check(&["sim", "list"], 0, "paxos-normal");
    assert!(list.contains("paxos-stale-reads"));
    let out = check(
        &["sim", "run", "--scenario", "paxos-partition-old-leader"],
        0,
        "invariants: all held",
    );
    assert!(out.lines().any(|l| l.starts_with("trace-hash: ")), "{out}");
    for (name, invariant) in [
        ("paxos-ignore-accepted", "agreement"),
        ("paxos-forgetful-acceptor", "agreement"),
        ("paxos-non-unique-ballots", "agreement"),
        ("paxos-stale-reads", "linearizability"),
    ] {
        check(
            &["sim", "run", "--scenario", name],
            1,
            &format!("VIOLATED {invariant}"),
        );
    }
    check(
        &[
            "sim",
            "explore",
            "--scenario",
            "paxos-normal",
            "--seeds",
            "1..5",
        ],
        0,
        "every invariant held",
    );
}

#[test]
fn check_counts_the_tla_two_phase_states() {
    let out = check(
        &["sim", "check", "--model", "two-phase-tla", "--rms", "3"],
        0,
        "unique-states: 288",
    );
    assert!(out.contains("states: 1146"), "{out}");
    assert!(out.contains("max-depth: 11"), "{out}");
    assert!(out.contains("verdict: ok"), "{out}");
    assert!(
        out.contains("sometimes: all-committed is reachable in 10 steps"),
        "{out}"
    );
    let json = check(
        &[
            "sim",
            "check",
            "--model",
            "two-phase-tla",
            "--rms",
            "4",
            "--dfs",
            "--json",
        ],
        0,
        "unique_states",
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["unique_states"], 1568);
    assert_eq!(v["verdict"], "ok");
    assert!(v["seconds"].as_f64().is_some());
    let sym = check(
        &[
            "sim",
            "check",
            "--model",
            "two-phase-tla",
            "--rms",
            "5",
            "--symmetry",
            "--threads",
            "2",
            "--json",
        ],
        0,
        "unique_states",
    );
    let v: serde_json::Value = serde_json::from_str(&sym).unwrap();
    assert!(v["unique_states"].as_u64().unwrap() < 8832);
    assert_eq!(
        underhood(&["sim", "check", "--model", "nope"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        underhood(&["sim", "check", "--model", "two-phase-tla", "--rms", "99"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn check_scenario_prints_a_counterexample_trace() {
    let out = check(
        &[
            "sim",
            "check",
            "--scenario",
            "abort-on-timeout",
            "--max-depth",
            "10",
        ],
        1,
        "verdict: violated",
    );
    assert!(
        out.contains("counterexample: atomicity broken after"),
        "{out}"
    );
    assert!(out.contains("decision timeout t1"), "{out}");
    let blocked = check(
        &[
            "sim",
            "check",
            "--scenario",
            "coordinator-crash-before-decision",
            "--max-depth",
            "6",
            "--loss",
        ],
        0,
        "sometimes: in-doubt-while-coordinator-down is reachable in 2 steps",
    );
    assert!(blocked.contains("verdict: ok"), "{blocked}");
    assert_eq!(
        underhood(&["sim", "check", "--scenario", "no-such-scenario"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn check_explores_disk_faults_when_asked() {
    let ok = check(
        &[
            "sim",
            "check",
            "--scenario",
            "happy-path",
            "--disk-faults",
            "torn_write,corrupt",
            "--max-depth",
            "9",
        ],
        0,
        "verdict: ok",
    );
    assert!(ok.contains("max-depth: 9"), "{ok}");
    let lied = check(
        &[
            "sim",
            "check",
            "--scenario",
            "happy-path",
            "--disk-faults",
            "lost_fsync",
        ],
        1,
        "counterexample: atomicity broken after 9 steps",
    );
    assert!(
        lied.contains("lost-fsync P1") || lied.contains("lost-fsync P2"),
        "{lied}"
    );
    for bad in ["melt", "fsync_error", ""] {
        assert_eq!(
            underhood(&[
                "sim",
                "check",
                "--scenario",
                "happy-path",
                "--disk-faults",
                bad
            ])
            .status
            .code(),
            Some(2),
            "{bad}"
        );
    }
}

#[test]
fn check_finds_broken_paxos_variants_with_shortest_counterexamples() {
    let out = check(
        &["sim", "check", "--scenario", "paxos-ignore-accepted"],
        1,
        "counterexample: agreement broken after 9 steps",
    );
    assert!(out.contains("verdict: violated"), "{out}");
    assert!(
        out.contains("deliver R2 → R0: accept b1.2 #0 no-op"),
        "{out}"
    );
}

#[test]
fn check_reports_eventually_properties() {
    let out = check(
        &[
            "sim",
            "check",
            "--scenario",
            "happy-path",
            "--crashes",
            "0",
            "--timeouts",
            "3",
        ],
        0,
        "eventually all-decided: holds",
    );
    assert!(out.contains("verdict: ok"), "{out}");
}

#[test]
fn a_counterexample_saved_by_check_replays_in_the_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("replay.json");
    let file = file.to_str().unwrap();
    check(
        &[
            "sim",
            "check",
            "--scenario",
            "abort-on-timeout",
            "--save-replay",
            file,
        ],
        1,
        "underhood sim replay",
    );
    // The replay is a simulator trace, event by event, ending in the same violation.
    let out = check(&["sim", "replay", file], 1, "C → P1  deliver prepare t1");
    assert!(out.contains("P1  timer decision timeout t1"), "{out}");
    assert!(out.contains("invariants: VIOLATED atomicity"), "{out}");
    let json = check(&["sim", "replay", file, "--json"], 1, "\"events\"");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["violations"][0]["invariant"], "atomicity");
    // A file that is not a replay is refused with a clear message.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"scenario\": 1}").unwrap();
    check_any(
        &["sim", "replay", bad.to_str().unwrap()],
        2,
        "invalid replay JSON",
    );
    check_any(
        &[
            "sim",
            "replay",
            dir.path().join("missing.json").to_str().unwrap(),
        ],
        2,
        "cannot read replay file",
    );
}

/// `sim compare --json`: one row per protocol with the contract's fields; on the coordinator
/// crash 2PC blocks while 3PC and Paxos Commit decide; on the partition 3PC breaks atomicity
/// while 2PC and Paxos Commit stay atomic; at any seed.
#[test]
fn compare_runs_the_commit_family_side_by_side() {
    for seed in ["1", "7", "42"] {
        let crash = check(
            &[
                "sim",
                "compare",
                "--scenario",
                "compare-coordinator-crash",
                "--seed",
                seed,
                "--json",
            ],
            0,
            "\"runs\"",
        );
        let crash: serde_json::Value = serde_json::from_str(&crash).unwrap();
        assert_eq!(crash["scenario"], "compare-coordinator-crash");
        assert_eq!(crash["seed"], seed.parse::<u64>().unwrap());
        let runs = crash["runs"].as_array().unwrap();
        let protocols: Vec<&str> = runs
            .iter()
            .map(|r| r["protocol"].as_str().unwrap())
            .collect();
        assert_eq!(
            protocols,
            ["two-phase-commit", "three-phase-commit", "paxos-commit"]
        );
        for r in runs {
            for field in [
                "atomicity",
                "decided_everywhere",
                "blocked",
                "in_doubt_ms_max",
                "messages",
                "forced_writes",
                "decision_latency_ms",
            ] {
                assert!(r.get(field).is_some(), "{field} missing in {r}");
            }
            assert_eq!(r["atomicity"], "held", "{r}");
        }
        assert_eq!(runs[0]["blocked"], true);
        assert_eq!(runs[0]["decided_everywhere"], false);
        for r in &runs[1..] {
            assert_eq!(r["blocked"], false, "{r}");
            assert_eq!(r["decided_everywhere"], true, "{r}");
        }

        let split = check(
            &[
                "sim",
                "compare",
                "--scenario",
                "compare-partition",
                "--seed",
                seed,
                "--json",
            ],
            0,
            "\"runs\"",
        );
        let split: serde_json::Value = serde_json::from_str(&split).unwrap();
        let verdicts: Vec<&str> = split["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["atomicity"].as_str().unwrap())
            .collect();
        assert_eq!(verdicts, ["held", "violated", "held"]);
    }
    let table = check(
        &["sim", "compare", "--scenario", "compare-partition"],
        0,
        "three-phase-commit",
    );
    assert!(table.contains("VIOLATED"), "{table}");
    check_any(
        &["sim", "compare", "--scenario", "nope"],
        2,
        "no gallery scenario",
    );
}

/// A scenario whose faults or workload could only happen after the run ends is refused before
/// it runs, naming what and when, instead of running nothing and saying all held.
#[test]
fn faults_and_workload_after_the_end_are_refused() {
    check_any(
        &[
            "sim",
            "run",
            "--scenario",
            "happy-path",
            "--faults",
            r#"[{"type":"crash","node":1,"at_ms":999999}]"#,
        ],
        2,
        "fault \"crash\" at_ms 999999 is after the run ends (duration_ms 600)",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("late.json");
    let spec = serde_json::json!({"name": "late", "protocol": "two-phase-commit", "nodes": 3,
        "duration_ms": 600, "workload": {"transactions": 1, "start_ms": 700}});
    std::fs::write(&path, spec.to_string()).unwrap();
    check_any(
        &["sim", "run", "--file", path.to_str().unwrap()],
        2,
        "workload.start_ms 700 is after the run ends (duration_ms 600)",
    );
}

/// A scenario states budgets for events and memory (or gets the defaults): one whose workload
/// is already too big is refused before it runs, and one that outgrows its budget while it runs
/// stops with exit 2 naming the limit, instead of running out of memory.
#[test]
fn scenarios_too_big_for_their_budgets_are_refused_or_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.json");
    // Within every documented range, and far too big: it used to abort allocating the trace.
    let spec = serde_json::json!({"name": "huge", "protocol": "two-phase-commit", "nodes": 64,
        "duration_ms": 1_000_000_000u64,
        "workload": {"transactions": 10_000_000u64, "interval_ms": 1}});
    std::fs::write(&huge, spec.to_string()).unwrap();
    check_any(
        &["sim", "run", "--file", huge.to_str().unwrap()],
        2,
        "more than limits.max_events 5000000",
    );
    let small = dir.path().join("small-budget.json");
    let spec = serde_json::json!({"name": "small-budget", "protocol": "multi-paxos", "nodes": 3,
        "duration_ms": 3000, "workload": {"transactions": 20},
        "limits": {"max_events": 500}});
    std::fs::write(&small, spec.to_string()).unwrap();
    check_any(
        &["sim", "run", "--file", small.to_str().unwrap()],
        2,
        "the run stopped at limits.max_events: 500 events",
    );
    let mut spec = spec;
    spec["limits"] = serde_json::json!({"max_events": 0});
    std::fs::write(&small, spec.to_string()).unwrap();
    check_any(
        &["sim", "run", "--file", small.to_str().unwrap()],
        2,
        "limits.max_events is 0; it must be between 1 and 100000000",
    );
}

/// Model checking and exploration are bounded: progress on stderr, "truncated" and exit 3 at
/// `--max-states` or `--max-seconds`, and an exploration too long to finish is refused.
#[test]
fn long_checks_and_explorations_stop_at_their_budgets() {
    let out = check(
        &[
            "sim",
            "check",
            "--model",
            "two-phase-tla",
            "--rms",
            "15",
            "--max-seconds",
            "3",
        ],
        3,
        "verdict: truncated (--max-seconds 3 reached",
    );
    assert!(!out.contains("verdict: ok"), "{out}");
    let stderr = String::from_utf8_lossy(
        &underhood(&[
            "sim",
            "check",
            "--model",
            "two-phase-tla",
            "--rms",
            "15",
            "--max-seconds",
            "5",
        ])
        .stderr,
    )
    .into_owned();
    assert!(
        stderr.contains("progress: ") && stderr.contains("unique states"),
        "{stderr}"
    );
    check(
        &[
            "sim",
            "check",
            "--model",
            "two-phase-tla",
            "--rms",
            "15",
            "--max-states",
            "20000",
        ],
        3,
        "verdict: truncated (--max-states 20000 reached",
    );
    let out_of_scenario_cut = check(
        &[
            "sim",
            "check",
            "--scenario",
            "paxos-normal",
            "--max-depth",
            "4294967295",
            "--max-states",
            "20000",
        ],
        3,
        "verdict: truncated (--max-states 20000 reached",
    );
    // One verdict, and `--json` says "truncated" too.
    assert_eq!(
        out_of_scenario_cut.matches("verdict:").count(),
        1,
        "{out_of_scenario_cut}"
    );
    let cut = underhood(&[
        "sim",
        "check",
        "--model",
        "two-phase-tla",
        "--rms",
        "15",
        "--max-states",
        "20000",
        "--json",
    ]);
    assert_eq!(cut.status.code(), Some(3));
    let value: serde_json::Value = serde_json::from_slice(&cut.stdout).unwrap();
    assert_eq!(value["verdict"], "truncated", "{value}");
    // A small search that finishes within its budget keeps its verdict and exit status.
    check(
        &["sim", "check", "--model", "two-phase-tla", "--rms", "2"],
        0,
        "verdict: ok",
    );
    check_any(
        &[
            "sim",
            "explore",
            "--scenario",
            "happy-path",
            "--seeds",
            "0..18446744073709551615",
        ],
        2,
        "is 18446744073709551616 seeds, more than 1000000000 without a budget; add --max-seconds S or --max-states N",
    );
    check(
        &[
            "sim",
            "explore",
            "--scenario",
            "happy-path",
            "--seeds",
            "0..18446744073709551615",
            "--max-seconds",
            "2",
        ],
        3,
        "verdict: truncated (--max-seconds 2 reached",
    );
    // Exploration's state budget counts the events its runs simulate.
    let cut = check(
        &[
            "sim",
            "explore",
            "--scenario",
            "happy-path",
            "--seeds",
            "0..18446744073709551615",
            "--max-states",
            "1000",
        ],
        3,
        "verdict: truncated (--max-states 1000 reached: ",
    );
    assert_eq!(cut.matches("verdict:").count(), 1, "{cut}");
    check(
        &[
            "sim",
            "explore",
            "--scenario",
            "happy-path",
            "--seeds",
            "1..3",
            "--max-states",
            "100000000",
        ],
        0,
        "explored 3 seeds",
    );
    check_any(
        &[
            "sim",
            "check",
            "--model",
            "two-phase-tla",
            "--max-seconds",
            "0",
        ],
        2,
        "is not a positive number of seconds",
    );
}
