//! The `underhood lb` command-line contract: output lines, JSON shape and exit statuses.

use serde_json::Value;

mod common;
use common::check_any as check;

#[track_caller]
fn json(args: &[&str]) -> Value {
    serde_json::from_str(&check(args, 0, "{")).expect("one JSON object")
}

/// The number after `key: ` on the line that starts with it.
#[track_caller]
fn number(stdout: &str, key: &str) -> f64 {
    let prefix = format!("{key}: ");
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {key:?} line in\n{stdout}"));
    line[prefix.len()..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number in {line:?}"))
}

const TEN: &str = "a,b,c,d,e,f,g,h,i,j";

#[test]
fn maglev_balance_and_removal() {
    let out = check(
        &[
            "lb",
            "maglev",
            "--backends",
            TEN,
            "--table-size",
            "65537",
            "--remove",
            "c",
            "--flows",
            "200000",
        ],
        0,
        "backends: 10",
    );
    assert_eq!(number(&out, "table-size"), 65537.0);
    assert!(
        out.contains("balance: max/min slot difference 1 (max 6554, min 6553)"),
        "{out}"
    );
    assert!(out.contains("backend c: weight 1, slots "), "{out}");
    let remapped = number(&out, "remapped");
    let mod_n = number(&out, "remapped-mod-n");
    // c held a tenth of the flows; mod-N moves nine tenths.
    assert!((0.09..0.12).contains(&remapped), "{remapped}");
    assert!((0.85..0.95).contains(&mod_n), "{mod_n}");
}

#[test]
fn maglev_without_a_change_prints_no_remap() {
    let out = check(
        &["lb", "maglev", "--backends", "a,b,c:2", "--flows", "1000"],
        0,
        "table-size: 65537",
    );
    assert!(!out.contains("remapped"), "{out}");
    assert!(out.contains("backend c: weight 2, slots 32768"), "{out}");
}

#[test]
fn maglev_json_with_add() {
    let v = json(&[
        "lb",
        "maglev",
        "--backends",
        "a,b,c",
        "--table-size",
        "4093",
        "--add",
        "d:3",
        "--flows",
        "50000",
        "--json",
    ]);
    assert_eq!(v["table_size"], 4093);
    assert_eq!(v["backends"], 3);
    assert_eq!(v["table"]["balance"]["spread"], 1);
    let after = v["after"]["backends"].as_array().unwrap();
    assert_eq!(after.len(), 4);
    assert_eq!(after[3]["name"], "d");
    // d has half the weight, so about half the flows move to it and few move elsewhere.
    let remapped = v["remapped"].as_f64().unwrap();
    assert!((0.45..0.55).contains(&remapped), "{remapped}");
    assert!(v["remapped_collateral"].as_f64().unwrap() < 0.05);
    assert!(v["remapped_mod_n"].as_f64().unwrap() > remapped);
}

#[test]
fn maglev_is_deterministic() {
    let args = [
        "lb",
        "maglev",
        "--backends",
        "x:2,y,z",
        "--remove",
        "y",
        "--flows",
        "5000",
    ];
    assert_eq!(check(&args, 0, "remapped:"), check(&args, 0, "remapped:"));
}

#[test]
fn bad_input_exits_2_with_a_message() {
    let cases: [(&[&str], &str); 9] = [
        (&["--backends", "a,a"], "\"a\" is listed twice"),
        (&["--backends", ""], "no backends"),
        (&["--backends", "a,,b"], "backend 2 has an empty name"),
        (&["--backends", "a:x"], "weight \"x\" is not a number"),
        (&["--backends", "a:70000"], "above the maximum 65535"),
        (
            &["--backends", "a,b", "--table-size", "65536"],
            "65536 is not prime",
        ),
        (
            &["--backends", "a,b,c", "--table-size", "2"],
            "smaller than the number of backends",
        ),
        (
            &["--backends", "a,b", "--remove", "z"],
            "no backend named \"z\"",
        ),
        (
            &["--backends", "a,b", "--add", "b"],
            "\"b\" is listed twice",
        ),
    ];
    for (args, message) in cases {
        let mut full = vec!["lb", "maglev"];
        full.extend_from_slice(args);
        check(&full, 2, message);
    }
    check(&["lb", "maglev"], 2, "--backends");
}

#[test]
fn schedule_follows_weights() {
    let out = check(
        &[
            "lb",
            "schedule",
            "--scheduler",
            "wrr",
            "--backends",
            "a:3,b:1,c:0",
            "--flows",
            "400",
        ],
        0,
        "scheduler: wrr",
    );
    assert!(out.contains("backend a: weight 3, picks 300"), "{out}");
    assert!(out.contains("backend b: weight 1, picks 100"), "{out}");
    assert!(out.contains("backend c: weight 0, picks 0"), "{out}");
    for scheduler in ["rr", "lc", "wlc", "sh", "mh"] {
        let v = json(&[
            "lb",
            "schedule",
            "--scheduler",
            scheduler,
            "--backends",
            "a,b:2",
            "--flows",
            "300",
            "--json",
        ]);
        let picks: u64 = v["backends"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["picks"].as_u64().unwrap())
            .sum();
        assert_eq!(
            picks + v["unscheduled"].as_u64().unwrap(),
            300,
            "{scheduler}"
        );
    }
    check(
        &["lb", "schedule", "--scheduler", "xx", "--backends", "a"],
        2,
        "unknown scheduler \"xx\"",
    );
}
