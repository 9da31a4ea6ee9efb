//! A failure of `check_with` recorded for people: the file round-trips, carries the violation,
//! the trace and each node's state, and `CheckOptions::recordings` saves it and says where.
//! Malformed files are refused with a typed error naming what is wrong.

use std::collections::BTreeSet;

use underhood_sim::prelude::*;
use underhood_sim::{FoundBy, RecordedKind, RecordedRun, RecordedRunError};

/// A client (node 0) re-sends `Add(n)` every 10 ms until acknowledged; the server (node 1)
/// must apply each request once. Without de-duplication a duplicated message counts twice.
#[derive(Clone, Debug)]
enum Node {
    Client {
        next: u64,
        acked: u64,
    },
    Server {
        count: u64,
        seen: BTreeSet<u64>,
        dedup: bool,
    },
}

#[derive(Clone, Debug, Hash, Serialize)]
#[serde(crate = "underhood_sim::serde")]
enum Msg {
    Add(u64),
    Ack(u64),
}

impl Process for Node {
    type Msg = Msg;
    type Timer = ();
    type Record = u64;
    type Request = ();
    type Output = ();

    fn step(&mut self, _now: Time, input: Inputs<Self>, out: &mut Vec<Effects<Self>>) {
        match (self, input) {
            (Node::Client { next, acked }, Input::Timer(())) => {
                if *acked == *next && *next < 20 {
                    *next += 1;
                }
                if *acked < *next {
                    out.push(Effect::Send {
                        to: NodeId(1),
                        msg: Msg::Add(*next),
                    });
                }
                out.push(Effect::SetTimer {
                    timer: (),
                    after_ms: 10,
                });
            }
            (
                Node::Client { acked, .. },
                Input::Msg {
                    msg: Msg::Ack(id), ..
                },
            ) => {
                *acked = (*acked).max(id);
            }
            (
                Node::Server { count, seen, dedup },
                Input::Msg {
                    from,
                    msg: Msg::Add(id),
                },
            ) => {
                if seen.insert(id) || !*dedup {
                    *count += 1;
                }
                out.push(Effect::Persist {
                    record: id,
                    durability: Durability::Forced,
                });
                out.push(Effect::Send {
                    to: from,
                    msg: Msg::Ack(id),
                });
            }
            _ => {}
        }
    }
}

struct Counter;

impl Protocol for Counter {
    type Node = Node;
    fn n_nodes(&self) -> u32 {
        2
    }
    fn node_name(&self, id: NodeId) -> String {
        ["client", "server"][id.0 as usize].to_owned()
    }
    fn recover(&self, id: NodeId, log: &[u64], _: Time, out: &mut Vec<Effects<Node>>) -> Node {
        if id == NodeId(0) {
            out.push(Effect::SetTimer {
                timer: (),
                after_ms: 1,
            });
            return Node::Client { next: 0, acked: 0 };
        }
        let seen: BTreeSet<u64> = log.iter().copied().collect();
        Node::Server {
            count: seen.len() as u64,
            seen,
            dedup: false,
        }
    }
}

fn applied_once() -> Invariant<Node> {
    Invariant::new("applied-once", |nodes: &[Option<&Node>]| match nodes[1] {
        Some(Node::Server { count, seen, .. }) if *count as usize != seen.len() => Err(format!(
            "counted {count} adds for {} distinct requests",
            seen.len()
        )),
        _ => Ok(()),
    })
}

fn options() -> CheckOptions {
    CheckOptions {
        runs: 30,
        network: Network {
            duplicate_per_mille: 50,
            ..Network::default()
        },
        recordings: None,
        ..CheckOptions::default()
    }
}

#[test]
fn a_recorded_failure_round_trips_and_shows_the_violation_the_trace_and_the_states() {
    let invariants = [applied_once()];
    let failure = check_with(|_| Counter, &invariants, &options()).unwrap_err();
    let recorded = failure.recorded_run(|_| Counter, &invariants);

    // What the failure says, the recording says.
    assert_eq!(recorded.seed(), failure.seed);
    assert_eq!(recorded.violation().invariant, "applied-once");
    assert_eq!(recorded.violation().detail, failure.violation.detail);
    assert_eq!(recorded.violation().t, failure.violation.time.0);
    assert_eq!(recorded.shrunk(), failure.shrunk.as_slice());
    assert_eq!(recorded.faults(), failure.faults.as_slice());
    assert_eq!(recorded.nodes(), ["client", "server"]);

    // The trace ends with the violation event, at the index the violation gives.
    let last = recorded.events().last().expect("events");
    assert_eq!(last.i, failure.violation.event);
    match &last.what {
        RecordedKind::Violation {
            invariant, detail, ..
        } => {
            assert_eq!(invariant, "applied-once");
            assert_eq!(detail, &failure.violation.detail);
        }
        other => panic!("the last event is {other:?}"),
    }
    // The re-sent request the bug counts twice is in it, with the message as JSON.
    let adds = recorded
        .events()
        .iter()
        .filter(|e| matches!(&e.what, RecordedKind::Send { msg, .. } if msg["Add"] == 1));
    assert!(adds.count() >= 2, "Add(1) is not sent twice");
    // The server's state at the end shows the double count.
    let server = recorded
        .states()
        .iter()
        .rfind(|s| s.node == 1)
        .expect("a server state");
    let state = server.state.as_deref().expect("the server is up");
    assert!(
        state.contains("count:") && state.contains("dedup: false"),
        "{state}"
    );
    assert!(server.log_len > 0);

    // The file reads back as the same run, and prints the same.
    let text = recorded.to_json();
    let back = RecordedRun::from_json(&text).unwrap();
    assert_eq!(back, recorded);
    assert_eq!(back.to_json(), text);
}

#[test]
fn the_recordings_option_saves_the_file_and_the_message_says_where() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("recordings");
    let _ = std::fs::remove_dir_all(&dir);
    let invariants = [applied_once()];
    let options = CheckOptions {
        recordings: Some(dir.clone()),
        ..options()
    };
    let failure = check_with(|_| Counter, &invariants, &options).unwrap_err();
    let path = failure.saved().expect("saved");
    assert_eq!(
        path,
        dir.join(format!("applied-once-seed-{}.json", failure.seed))
    );
    assert!(
        failure
            .to_string()
            .contains(&format!("recorded run saved to {}", path.display()))
    );
    let saved = RecordedRun::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(saved, failure.recorded_run(|_| Counter, &invariants));
    // Without the option nothing is saved, and the message does not mention it.
    let failure = check_with(
        |_| Counter,
        &invariants,
        &CheckOptions { ..self::options() },
    )
    .unwrap_err();
    assert_eq!(failure.saved(), None);
    assert!(!failure.to_string().contains("recorded run"));
}

#[test]
fn a_directory_that_cannot_be_written_is_reported_not_a_panic() {
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("not-a-directory");
    std::fs::write(&file, "x").unwrap();
    let invariants = [applied_once()];
    let options = CheckOptions {
        recordings: Some(file.clone()),
        ..options()
    };
    let failure = check_with(|_| Counter, &invariants, &options).unwrap_err();
    assert_eq!(failure.saved(), None);
    assert!(
        failure
            .to_string()
            .contains("could not save the recorded run to"),
        "{failure}"
    );
}

/// One malformed file and the error it must give.
#[track_caller]
fn refused(text: &str, expected: &str) {
    match RecordedRun::from_json(text) {
        Ok(run) => panic!("accepted: {run:?}"),
        Err(e) => assert!(e.to_string().contains(expected), "{e}"),
    }
}

#[test]
fn malformed_files_are_refused_with_what_is_wrong() {
    let invariants = [applied_once()];
    let failure = check_with(|_| Counter, &invariants, &options()).unwrap_err();
    let good: serde_json::Value =
        serde_json::from_str(&failure.recorded_run(|_| Counter, &invariants).to_json()).unwrap();
    let with = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v = good.clone();
        edit(&mut v);
        v.to_string()
    };
    refused("", "not a recorded run");
    refused("[1, 2]", "not a recorded run");
    refused(
        r#"{"scenario": {}, "seed": 1, "script": []}"#,
        "its format is None",
    );
    refused(
        &with(&|v| v["format"] = "underhood-replay".into()),
        "\"underhood-replay\"",
    );
    refused(
        &with(&|v| v["version"] = 2.into()),
        "version 2 is not supported",
    );
    refused(
        &with(&|v| v["found_by"] = serde_json::json!({"by": "oracle"})),
        "unknown variant `oracle`",
    );
    refused(
        &with(&|v| v["found_by"] = serde_json::json!({"by": "exhaustive", "steps": 3})),
        "missing field `unique_states`",
    );
    refused(
        &with(&|v| {
            v["found_by"] =
                serde_json::json!({"by": "exhaustive", "steps": 3, "unique_states": 9, "x": 1})
        }),
        "unknown field `x`",
    );
    // A file that names what found it reads back as such; one that does not is a random run's.
    let named = with(&|v| {
        v["found_by"] = serde_json::json!({"by": "exhaustive", "steps": 3, "unique_states": 9})
    });
    assert_eq!(
        RecordedRun::from_json(&named).unwrap().found_by(),
        FoundBy::Exhaustive {
            steps: 3,
            unique_states: 9
        }
    );
    assert_eq!(
        RecordedRun::from_json(&good.to_string())
            .unwrap()
            .found_by(),
        FoundBy::Check
    );
    assert!(good.get("found_by").is_none());
    refused(
        &with(&|v| v["nodes"] = serde_json::json!(["a"])),
        "2 to 64 nodes",
    );
    refused(
        &with(&|v| v["duration_ms"] = 0.into()),
        "not one the simulator accepts",
    );
    let late = serde_json::json!([{"type": "crash", "node": 1, "at_ms": 5000}]);
    refused(
        &with(&|v| v["shrunk"] = late.clone()),
        "not one the simulator accepts",
    );
    let stranger = serde_json::json!([{"type": "crash", "node": 7, "at_ms": 5}]);
    refused(
        &with(&|v| v["faults"] = stranger.clone()),
        "not one the simulator accepts",
    );
    refused(
        &with(&|v| v["events"][1]["i"] = 7.into()),
        "position 1 says it is event 7",
    );
    refused(
        &with(&|v| v["events"][2]["t"] = 0.into()),
        "event 2 is at 0 ms",
    );
    refused(
        &with(&|v| v["events"][2]["t"] = 1_000_000.into()),
        "event 3 is at",
    );
    refused(
        &with(&|v| v["events"][0]["kind"] = "teleport".into()),
        "not a recorded run",
    );
    refused(
        &with(&|v| v["states"][0]["node"] = 9.into()),
        "state 0 names node 9",
    );
    refused(
        &with(&|v| v["violation"]["event"] = 99_999.into()),
        "the violation is after",
    );
    refused(
        &with(&|v| v["surprise"] = true.into()),
        "unknown field `surprise`",
    );
    let big = format!("{{\"format\": \"{}\"}}", " ".repeat(16 * 1024 * 1024));
    assert!(matches!(
        RecordedRun::from_json(&big),
        Err(RecordedRunError::TooLarge { .. })
    ));
    // Event 1 sends from node 0 to node 1: naming a node the run lacks is refused.
    let send = good["events"]
        .as_array()
        .unwrap()
        .iter()
        .position(|e| e["kind"] == "send")
        .unwrap();
    refused(
        &with(&|v| v["events"][send]["to"] = 2.into()),
        &format!("event {send} names node 2"),
    );
}
