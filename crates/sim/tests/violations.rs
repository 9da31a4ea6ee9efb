//! Violations reach JSON as data: the state's `violations` and the trace's `violation` events
//! carry the nodes, transaction, slot, key and the decisions or operations that contradict each
//! other, and that data agrees with the trace it came from.

use serde_json::{Value, json};
use underhood_sim::{Run, RunOptions, gallery};

/// Runs a gallery scenario to the end; returns the first violation of `invariant` in the state
/// JSON and the whole trace.
#[track_caller]
fn check(name: &str, invariant: &str) -> (Value, Vec<Value>) {
    let scenario = gallery::find(name).unwrap();
    let mut run = Run::new(&scenario, RunOptions::default()).unwrap();
    run.run_to_end();
    let state = run.state_json();
    let trace = run.events_json(0).as_array().unwrap().clone();
    let found = state["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["invariant"] == invariant)
        .unwrap_or_else(|| {
            panic!(
                "{name}: no {invariant} violation in {}",
                state["violations"]
            )
        })
        .clone();
    // Every violation has the same fields, said or not.
    for field in [
        "invariant",
        "detail",
        "nodes",
        "tx",
        "slot",
        "key",
        "decisions",
        "operations",
        "event",
        "time",
    ] {
        assert!(found.get(field).is_some(), "{name}: no {field} in {found}");
    }
    // The trace's violation event carries the same evidence as the state.
    let event = &trace[found["event"].as_u64().unwrap() as usize];
    assert_eq!(event["kind"], "violation", "{name}: {event}");
    for field in [
        "invariant",
        "detail",
        "nodes",
        "tx",
        "slot",
        "key",
        "decisions",
        "operations",
    ] {
        assert_eq!(
            event[field], found[field],
            "{name}: {field} differs in {event}"
        );
    }
    (found, trace)
}

#[test]
fn atomicity_names_the_transaction_and_both_decisions() {
    let (v, _) = check("announce-before-log", "atomicity");
    let tx = v["tx"].as_u64().unwrap();
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .starts_with(&format!("t{tx} ")),
        "{v}"
    );
    assert_eq!(v["slot"], Value::Null);
    let nodes = v["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2, "{v}");
    let decisions = v["decisions"].as_array().unwrap();
    let mut by_node: Vec<(Value, Value)> = decisions
        .iter()
        .map(|d| (d["node"].clone(), d["value"].clone()))
        .collect();
    by_node.sort_by_key(|(n, _)| n.as_u64());
    let mut expected: Vec<(Value, Value)> = nodes
        .iter()
        .map(|n| {
            let at = decisions.iter().find(|d| d["node"] == *n).unwrap();
            (n.clone(), at["value"].clone())
        })
        .collect();
    expected.sort_by_key(|(n, _)| n.as_u64());
    assert_eq!(by_node, expected);
    let mut values: Vec<&str> = decisions
        .iter()
        .map(|d| d["value"].as_str().unwrap())
        .collect();
    values.sort_unstable();
    assert_eq!(values, ["abort", "commit"], "{v}");
}

#[test]
fn agreement_names_the_slot_and_both_chosen_commands() {
    let (v, _) = check("paxos-non-unique-ballots", "agreement");
    let slot = v["slot"].as_u64().unwrap();
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .starts_with(&format!("slot #{slot} ")),
        "{v}"
    );
    let decisions = v["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), 2, "{v}");
    assert_ne!(decisions[0]["value"], decisions[1]["value"], "{v}");
    for d in decisions {
        assert_eq!(d["node"], Value::Null, "a quorum chose it: {v}");
        assert!(d["ballot"].is_string(), "{v}");
        assert!(
            v["detail"]
                .as_str()
                .unwrap()
                .contains(d["value"].as_str().unwrap()),
            "{v}"
        );
    }
    // The quorum that accepted the second command.
    assert!(v["nodes"].as_array().unwrap().len() >= 2, "{v}");
}

#[test]
fn linearizability_names_operations_the_trace_can_find() {
    let (v, trace) = check("paxos-stale-reads", "linearizability");
    let key = v["key"].as_u64().unwrap();
    let operations = v["operations"].as_array().unwrap();
    assert!(operations.len() >= 2, "{v}");
    for op in operations {
        let (client, seq) = (&op["client"], &op["seq"]);
        // The request that invoked it: same client, sequence number, time and operation.
        let request = trace
            .iter()
            .find(|e| {
                e["kind"] == "request"
                    && e["request"]["client"] == *client
                    && e["request"]["seq"] == *seq
            })
            .unwrap_or_else(|| panic!("no request for {op}"));
        assert_eq!(request["t"], op["invoke"], "{op}");
        assert_eq!(
            request["label"],
            json!(format!("c{client} #{seq} {}", op["op"].as_str().unwrap())),
            "{op}"
        );
        assert!(
            op["op"].as_str().unwrap().contains(&format!("k{key}")),
            "{op} is not on key k{key}"
        );
        // A result exactly when a reply came.
        assert_eq!(op["result"].is_null(), op["response"].is_null(), "{op}");
    }
    assert!(
        operations
            .iter()
            .any(|o| o["result"].as_str().is_some_and(|r| r.starts_with("= "))),
        "no read among {v}"
    );
}

#[test]
fn single_vip_holder_names_both_holders() {
    let (v, _) = check("vrrp-split-brain", "single-vip-holder");
    // R2 took the address while R1 still held it.
    assert_eq!(v["nodes"], json!([1, 0]), "{v}");
    assert_eq!(v["operations"], json!([]));
}

/// Every violation a gallery run reports names an invariant its protocol lists, so the browser's
/// invariant panel (`Run::invariants`) never shows an invariant without its promise; and the
/// panel's "violated since" is the first violation of each.
#[test]
fn every_violation_names_a_listed_invariant() {
    let mut broken = std::collections::BTreeSet::new();
    for scenario in gallery::gallery() {
        let listed = scenario.protocol.invariants();
        assert!(!listed.is_empty(), "{}: no invariants", scenario.name);
        let mut run = Run::new(&scenario, RunOptions::default()).unwrap();
        run.run_to_end();
        let status = run.invariants();
        assert_eq!(
            status.iter().map(|s| s.name).collect::<Vec<_>>(),
            listed.iter().map(|i| i.name).collect::<Vec<_>>(),
            "{}: a violation names an invariant the protocol does not list",
            scenario.name
        );
        for s in &status {
            let first = run.violations().iter().find(|v| v.invariant == s.name);
            assert_eq!(
                s.violated_since.map(|v| (v.event, v.time)),
                first.map(|v| (v.event, v.time)),
                "{}: {}",
                scenario.name,
                s.name
            );
            let count = run
                .violations()
                .iter()
                .filter(|v| v.invariant == s.name)
                .count();
            assert_eq!(s.violations, count, "{}: {}", scenario.name, s.name);
            if count > 0 {
                broken.insert(s.name);
            }
        }
    }
    // The gallery's broken variants exercise most of the list.
    for name in [
        "atomicity",
        "agreement",
        "linearizability",
        "single-vip-holder",
    ] {
        assert!(broken.contains(name), "no gallery run breaks {name}");
    }
}
