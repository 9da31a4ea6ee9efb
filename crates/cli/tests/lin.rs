//! The `underhood lin check` command-line contract: one line per file, the JSON shape, and the
//! exit statuses 0 (all linearizable), 1 (one is not), 3 (unknown), 2 (bad input).

use serde_json::Value;

mod common;
use common::{check_any, underhood};

fn data(file: &str) -> String {
    format!(
        "{}/../lincheck/testdata/porcupine/{file}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn text_lines_in_argument_order() {
    let bad = data("jepsen/etcd_000.log");
    let good = data("jepsen/etcd_002.log");
    let out = check_any(
        &["lin", "check", &good, &bad, "--model", "cas-register"],
        1,
        "",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], format!("{good}: linearizable"));
    assert_eq!(lines[1], format!("{bad}: NOT linearizable"));
    assert!(
        lines[2].starts_with(
            "  cannot linearize: operation 43 (process 11, line 85): :read nil -> :ok 2"
        ),
        "{out}"
    );
    assert!(
        lines[3].starts_with("  longest linearizable prefix: 85 events"),
        "{out}"
    );
    check_any(
        &["lin", "check", &good, "--model", "cas-register"],
        0,
        ": linearizable",
    );
}

#[test]
fn json_object_per_file() {
    let bad = data("kv/c01-bad.txt");
    let good = data("kv/c01-ok.txt");
    let out = check_any(
        &["lin", "check", &bad, &good, "--model", "kv", "--json"],
        1,
        "",
    );
    let objects: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 2);
    assert_eq!(objects[0]["file"], bad.as_str());
    assert_eq!(objects[0]["linearizable"], false);
    assert_eq!(objects[0]["model"], "kv");
    assert_eq!(objects[0]["operations"], 38);
    assert_eq!(objects[0]["partitions"], 8);
    assert!(objects[0]["seconds"].as_f64().unwrap() >= 0.0);
    let witness = &objects[0]["witness"];
    assert_eq!(witness["key"], "7");
    assert_eq!(witness["op"]["f"], ":get");
    assert_eq!(witness["op"]["completion"]["value"], "x 0 0 y");
    assert_eq!(witness["states"], serde_json::json!(["x 0 0 yx 0 3 y"]));
    assert_eq!(objects[1]["linearizable"], true);
    assert_eq!(objects[1]["witness"], Value::Null);
    // Whole: one partition.
    let out = check_any(
        &[
            "lin",
            "check",
            &good,
            "--model",
            "kv",
            "--json",
            "--no-partition",
        ],
        0,
        "",
    );
    let object: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(object["partitions"], 1);
}

#[test]
fn unknown_when_the_budget_runs_out() {
    let hard = data("kv/c50-bad.txt");
    let out = check_any(
        &[
            "lin",
            "check",
            &hard,
            "--model",
            "kv",
            "--no-partition",
            "--max-seconds",
            "0.3",
        ],
        3,
        "",
    );
    assert_eq!(
        out,
        format!("{hard}: unknown (time budget of 0.3 s exhausted)\n")
    );
    let out = check_any(
        &[
            "lin",
            "check",
            &hard,
            "--model",
            "kv",
            "--no-partition",
            "--max-seconds",
            "0.3",
            "--json",
        ],
        3,
        "",
    );
    let object: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(object["linearizable"], Value::Null);
}

#[test]
fn bad_input_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.edn");
    std::fs::write(
        &path,
        "[{:process 0 :type :invoke :f :read}\n {:process 0 :type :ok :f :read :value [1}]",
    )
    .unwrap();
    let path = path.to_str().unwrap();
    check_any(
        &["lin", "check", path, "--model", "register"],
        2,
        "h.edn:2:42: unexpected '}', expected `]`",
    );
    // Not the model's function: the line and column of the invocation.
    check_any(
        &[
            "lin",
            "check",
            &data("jepsen/etcd_002.log"),
            "--model",
            "register",
        ],
        2,
        "etcd_002.log:4:21: the register model has no function :cas",
    );
    let jsonl = dir.path().join("h.jsonl");
    std::fs::write(
        &jsonl,
        "{\"process\": 0, \"type\": \"invoke\", \"f\": \"read\"}\n{\"process\": 0 \"type\"}\n",
    )
    .unwrap();
    check_any(
        &[
            "lin",
            "check",
            jsonl.to_str().unwrap(),
            "--model",
            "register",
            "--format",
            "jsonl",
        ],
        2,
        "h.jsonl:2:15: invalid JSON",
    );
    check_any(
        &["lin", "check", path, "--model", "kv", "--initial", "1"],
        2,
        "--initial applies to register",
    );
    check_any(
        &[
            "lin",
            "check",
            path,
            "--model",
            "register",
            "--initial",
            "[1",
        ],
        2,
        "--initial",
    );
    check_any(
        &[
            "lin",
            "check",
            path,
            "--model",
            "register",
            "--max-seconds",
            "0",
        ],
        2,
        "--max-seconds",
    );
    check_any(
        &["lin", "check", "/nonexistent/h.edn", "--model", "register"],
        2,
        "reading /nonexistent/h.edn",
    );
    let out = underhood(&["lin", "check", "--model", "teapot", path]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn initial_value_and_formats() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.log");
    std::fs::write(
        &path,
        "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:read\t0\n",
    )
    .unwrap();
    let path = path.to_str().unwrap();
    check_any(
        &["lin", "check", path, "--model", "register"],
        1,
        "NOT linearizable",
    );
    check_any(
        &[
            "lin",
            "check",
            path,
            "--model",
            "register",
            "--initial",
            "0",
        ],
        0,
        ": linearizable",
    );
    check_any(
        &[
            "lin",
            "check",
            path,
            "--model",
            "register",
            "--initial",
            "0",
            "--format",
            "jepsen-log",
        ],
        0,
        ": linearizable",
    );
    // Read as EDN, the log is not a history.
    check_any(
        &[
            "lin", "check", path, "--model", "register", "--format", "edn",
        ],
        2,
        "1:1",
    );
}
