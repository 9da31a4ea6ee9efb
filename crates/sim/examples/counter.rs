//! The example of `underhood_sim::check` as a program: a counter protocol checked under random
//! faults, correct and buggy. Run with `cargo run -p underhood-sim --example counter`.

use std::collections::BTreeSet;
use underhood_consensus::{Durability, Effect, Input, NodeId, Time};
use underhood_sim::{CheckOptions, Effects, Inputs, Invariant, Network, Process, Protocol};

/// A client or the server.
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

/// The messages.
#[derive(Clone, Debug, Hash, serde::Serialize)]
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
            // Every 10 ms the client (re-)sends its oldest unacknowledged request.
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

/// The cluster: one client, one server.
struct Counter {
    dedup: bool,
}

impl Protocol for Counter {
    type Node = Node;
    fn n_nodes(&self) -> u32 {
        2
    }
    fn boot(&self, id: NodeId, out: &mut Vec<Effects<Node>>) -> Node {
        self.recover(id, &[], Time(0), out)
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
            dedup: self.dedup,
        }
    }
}

/// The server counted each distinct request once.
fn applied_once(nodes: &[Option<&Node>]) -> Result<(), String> {
    match nodes.get(1).copied().flatten() {
        Some(Node::Server { count, seen, .. }) if *count as usize != seen.len() => Err(format!(
            "counted {count} adds for {} distinct requests",
            seen.len()
        )),
        _ => Ok(()),
    }
}
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let invariants = [Invariant::new("applied-once", applied_once)];
    let options = CheckOptions {
        runs: 30,
        network: Network {
            duplicate_per_mille: 50,
            ..Network::default()
        },
        ..CheckOptions::default()
    };

    // The correct server passes every seed, faults and all.
    let report = underhood_sim::check_with(|_seed| Counter { dedup: true }, &invariants, &options)?;
    assert_eq!(report.runs, 30);

    // The buggy one fails, with a seed and a shrunk fault schedule that reproduce it.
    let failure =
        underhood_sim::check_with(|_seed| Counter { dedup: false }, &invariants, &options)
            .unwrap_err();
    assert_eq!(failure.violation.invariant, "applied-once");
    assert!(failure.to_string().contains("seed"));
    println!(
        "correct server: {} seeds, {} events, every invariant held",
        report.runs, report.events
    );
    println!("buggy server:\n{failure}");
    Ok(())
}
