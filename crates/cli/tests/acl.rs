//! The `underhood acl` command-line contract: output lines, JSON shapes and exit statuses.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn underhood(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_underhood"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the underhood binary runs");
    // A command that stops reading early (a refused input) may close stdin first.
    if let Err(err) = child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
    }
    child.wait_with_output().unwrap()
}

/// Writes an ACL file into this test binary's own temporary folder.
fn acl_file(name: &str, json: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("underhood-acl-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, json).unwrap();
    path
}

#[track_caller]
fn check(args: &[&str], stdin: &str, status: i32, stdout: &str, stderr_has: &str) {
    let out = underhood(args, stdin);
    let got = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(status), "{args:?}\n{got}\n{err}");
    assert_eq!(got, stdout, "{args:?}\n{err}");
    assert!(
        err.contains(stderr_has),
        "{args:?}: {stderr_has:?} not in {err}"
    );
}

const ACLS: &str = r#"[
 {"principal":"User:alice","host":"*","operation":"READ","permission":"ALLOW","resource_type":"TOPIC","pattern_type":"PREFIXED","name":"orders"},
 {"principal":"User:*","host":"*","operation":"ALL","permission":"DENY","resource_type":"TOPIC","pattern_type":"LITERAL","name":"orders-secret"},
 {"principal":"User:bob","host":"10.0.0.1","operation":"ALL","permission":"ALLOW","resource_type":"CLUSTER","pattern_type":"LITERAL","name":"*"}
]"#;

fn request(principal: &str, operation: &str, resource_type: &str, name: Option<&str>) -> String {
    let name = name.map_or(String::new(), |n| format!(r#","name":"{n}""#));
    format!(
        r#"{{"principal":"{principal}","host":"10.0.0.1","operation":"{operation}","resource_type":"{resource_type}"{name}}}"#
    )
}

#[test]
fn eval_answers_one_line_per_request() {
    let acls = acl_file("eval.json", ACLS);
    let acls = acls.to_str().unwrap();
    let stdin = [
        request("User:alice", "DESCRIBE", "TOPIC", Some("orders-1")),
        request("User:alice", "READ", "TOPIC", Some("orders-secret")),
        request("User:alice", "WRITE", "TOPIC", Some("orders-1")),
        request("User:carol", "READ", "GROUP", Some("g")),
        request("User:alice", "READ", "TOPIC", None),
        request("User:bob", "ALTER", "CLUSTER", Some("kafka-cluster")),
    ]
    .join("\n");
    check(
        &["acl", "eval", "--acls", acls],
        &stdin,
        0,
        "ALLOWED\nDENIED\nDENIED\nDENIED\nALLOWED\nALLOWED\n",
        "",
    );
    let out = underhood(&["acl", "eval", "--acls", acls, "--explain"], &stdin);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("ALLOWED\tallowed by (pattern=ResourcePattern(resourceType=TOPIC, name=orders, patternType=PREFIXED)"), "{text}");
    assert!(
        lines[1].starts_with(
            "DENIED\tdenied by (pattern=ResourcePattern(resourceType=TOPIC, name=orders-secret"
        ),
        "{text}"
    );
    assert_eq!(lines[2], "DENIED\tno matching ALLOW");
    assert!(lines[3].starts_with("DENIED\tno ACL found"), "{text}");
    check(
        &[
            "acl",
            "eval",
            "--acls",
            acls,
            "--allow-everyone-if-no-acl-found",
            "--super-users",
            "User:x; User:carol",
        ],
        &stdin,
        0,
        "ALLOWED\nDENIED\nDENIED\nALLOWED\nALLOWED\nALLOWED\n",
        "",
    );
}

#[test]
fn eval_refuses_bad_bindings_and_bad_request_lines() {
    let ok = acl_file("ok.json", ACLS);
    let good = request("User:alice", "READ", "TOPIC", Some("orders"));
    check(
        &["acl", "eval", "--acls", ok.to_str().unwrap()],
        &format!("{good}\n{{\"principal\":\"User:a\"}}\n"),
        2,
        "ALLOWED\n",
        "line 2",
    );
    check(
        &["acl", "eval", "--acls", ok.to_str().unwrap()],
        "User:a\n",
        2,
        "",
        "line 1",
    );
    for (part, value) in [
        ("operation", "ANY"),
        ("operation", "FROB"),
        ("pattern_type", "MATCH"),
        ("pattern_type", "ANY"),
        ("resource_type", "ANY"),
        ("resource_type", "UNKNOWN"),
        ("permission", "ANY"),
    ] {
        let mut binding = serde_json::json!({"principal":"User:a","host":"*","operation":"READ","permission":"ALLOW","resource_type":"TOPIC","pattern_type":"LITERAL","name":"t"});
        binding[part] = value.into();
        let file = acl_file("bad.json", &format!("[{binding}]"));
        check(
            &["acl", "eval", "--acls", file.to_str().unwrap()],
            "",
            2,
            "",
            value,
        );
    }
    // KRaft loads a CLUSTER binding named `*`, unlike CreateAcls.
    let cluster = acl_file(
        "cluster.json",
        r#"[{"principal":"User:a","host":"*","operation":"ALL","permission":"ALLOW","resource_type":"CLUSTER","pattern_type":"LITERAL","name":"*"}]"#,
    );
    let stdin = r#"{"principal":"User:a","host":"h","operation":"ALTER","resource_type":"CLUSTER","name":"kafka-cluster"}"#;
    check(
        &["acl", "eval", "--acls", cluster.to_str().unwrap()],
        stdin,
        0,
        "ALLOWED\n",
        "",
    );
}

#[test]
fn kafka_acls_prints_one_json_object() {
    let out = underhood(
        &[
            "acl",
            "kafka-acls",
            "--bootstrap-server",
            "localhost:9092",
            "--add",
            "--allow-principal",
            "User:alice",
            "--producer",
            "--topic",
            "t",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["action"], "add");
    let bindings = json["bindings"].as_array().unwrap();
    let ops: Vec<&str> = bindings
        .iter()
        .map(|b| b["operation"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["CREATE", "DESCRIBE", "WRITE"]);
    assert_eq!(
        bindings[0],
        serde_json::json!({"principal":"User:alice","host":"*","operation":"CREATE","permission":"ALLOW","resource_type":"TOPIC","pattern_type":"LITERAL","name":"t"})
    );

    let out = underhood(
        &[
            "acl",
            "kafka-acls",
            "--bootstrap-server",
            "b",
            "--remove",
            "--topic",
            "t",
        ],
        "",
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"action":"remove","confirm_prompt":true,"filters":[{"resource_type":"TOPIC","pattern_type":"LITERAL","name":"t","principal":null,"host":null,"operation":null,"permission":null}]})
    );

    let out = underhood(
        &[
            "acl",
            "kafka-acls",
            "--bootstrap-server",
            "b",
            "--list",
            "--principal",
            "User:a",
        ],
        "",
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"action":"list","filters":[{"resource_type":null,"pattern_type":null,"name":null,"principal":null,"host":null,"operation":null,"permission":null}],"principals":["User:a"]})
    );

    check(
        &[
            "acl",
            "kafka-acls",
            "--bootstrap-server",
            "b",
            "--add",
            "--topic",
            "t",
        ],
        "",
        1,
        "",
        "You must specify one of: --allow-principal, --deny-principal when trying to add ACLs.",
    );
}

#[test]
fn lint_who_can_and_diff() {
    let acls = acl_file(
        "lint.json",
        r#"[
 {"principal":"User:a","host":"*","operation":"READ","permission":"ALLOW","resource_type":"TOPIC","pattern_type":"LITERAL","name":"t"},
 {"principal":"User:*","host":"*","operation":"ALL","permission":"DENY","resource_type":"TOPIC","pattern_type":"PREFIXED","name":"t"},
 {"principal":"User:b","host":"*","operation":"DESCRIBE","permission":"ALLOW","resource_type":"GROUP","pattern_type":"LITERAL","name":"g"},
 {"principal":"User:b","host":"*","operation":"READ","permission":"ALLOW","resource_type":"GROUP","pattern_type":"LITERAL","name":"*"}
]"#,
    );
    let acls = acls.to_str().unwrap();
    let out = underhood(&["acl", "lint", acls], "");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("shadowed\t") && l.contains("name=t, patternType=LITERAL")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("redundant\t") && l.contains("name=g,")),
        "{text}"
    );

    let out = underhood(
        &["acl", "who-can", "DESCRIBE", "GROUP", "g", "--acls", acls],
        "",
    );
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.starts_with("ALLOWED\tUser:b\t*\tallowed by"), "{text}");
    assert!(text.contains("\nDENIED\t*\t*\tno matching ALLOW"), "{text}");

    let empty = acl_file("empty.json", "[]");
    let out = underhood(&["acl", "diff", empty.to_str().unwrap(), acls], "");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("+\t"))
            .count(),
        4
    );
}

#[test]
fn lint_and_who_can_refuse_what_eval_refuses() {
    // A binding `eval` refuses (UNKNOWN operation, empty name) is refused by lint too.
    for (name, binding) in [
        (
            "unknown-op.json",
            r#"{"principal":"User:a","host":"*","operation":"FLY","permission":"ALLOW","resource_type":"TOPIC","pattern_type":"LITERAL","name":"t"}"#,
        ),
        (
            "empty-name.json",
            r#"{"principal":"User:a","host":"*","operation":"READ","permission":"ALLOW","resource_type":"TOPIC","pattern_type":"LITERAL","name":""}"#,
        ),
        (
            "unknown-type.json",
            r#"{"principal":"User:a","host":"*","operation":"READ","permission":"ALLOW","resource_type":"SPACESHIP","pattern_type":"LITERAL","name":"t"}"#,
        ),
    ] {
        let file = acl_file(name, &format!("[{binding}]"));
        let file = file.to_str().unwrap();
        let eval = underhood(&["acl", "eval", "--acls", file], "");
        assert_eq!(eval.status.code(), Some(2), "eval {name}");
        let lint = underhood(&["acl", "lint", file], "");
        assert_eq!(lint.status.code(), Some(2), "lint {name}");
        assert!(lint.stdout.is_empty());
        let who = underhood(
            &["acl", "who-can", "READ", "TOPIC", "t", "--acls", file],
            "",
        );
        assert_eq!(who.status.code(), Some(2), "who-can {name}");
    }
    // Unknown operations and resource types are errors, not a DENIED answer.
    let acls = acl_file("who.json", ACLS);
    let acls = acls.to_str().unwrap();
    check(
        &["acl", "who-can", "FLY", "TOPIC", "x", "--acls", acls],
        "",
        2,
        "",
        "unknown operation \"FLY\"; expected one of ",
    );
    check(
        &["acl", "who-can", "ANY", "TOPIC", "x", "--acls", acls],
        "",
        2,
        "",
        "unknown operation",
    );
    check(
        &["acl", "who-can", "READ", "SPACESHIP", "x", "--acls", acls],
        "",
        2,
        "",
        "unknown resource type \"SPACESHIP\"",
    );
    // Input files are read up to --max-input-bytes.
    check(
        &["acl", "lint", "/dev/zero"],
        "",
        2,
        "",
        "--max-input-bytes",
    );
    check(
        &["acl", "lint", acls, "--max-input-bytes", "10"],
        "",
        2,
        "",
        "larger than the input limit of 10 bytes",
    );
}

#[test]
fn eval_refuses_an_endless_request_line() {
    let acls = acl_file("eval-limit.json", ACLS);
    let long = "x".repeat(1500);
    check(
        &[
            "acl",
            "eval",
            "--acls",
            acls.to_str().unwrap(),
            "--max-input-bytes",
            "1000",
        ],
        &format!("{long}\n"),
        2,
        "",
        "line 1 of standard input is longer than the input limit of 1000 bytes",
    );
    // Lines under the limit are answered one by one, as before.
    let line = request("User:alice", "READ", "TOPIC", Some("orders-1"));
    check(
        &[
            "acl",
            "eval",
            "--acls",
            acls.to_str().unwrap(),
            "--max-input-bytes",
            "1000",
        ],
        &format!("{line}\n\n{line}"),
        0,
        "ALLOWED\nALLOWED\n",
        "",
    );
}
