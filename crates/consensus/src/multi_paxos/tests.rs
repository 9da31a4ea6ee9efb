//! Multi-Paxos driven by hand: a tiny cluster whose message order, losses, timers and crashes
//! are chosen by the test (or by proptest).

use proptest::prelude::*;

use super::*;
use crate::{Durability, Effect as E, Input as I, Time};

/// A cluster with one bag of messages in flight, the durable logs, and every applied entry.
struct Cluster {
    config: Config,
    replicas: Vec<Replica>,
    logs: Vec<Vec<Record>>,
    bag: Vec<(NodeId, NodeId, Msg)>,
    timers: Vec<(NodeId, Timer)>,
    applied: Vec<(NodeId, Slot, Command)>,
    replies: Vec<(u32, u64, Reply)>,
}

impl Cluster {
    fn new(n: u32, variant: Variant) -> Cluster {
        let config = Config {
            n,
            variant,
            snapshot_every: 4,
            ..Config::default()
        };
        let mut c = Cluster {
            config,
            replicas: Vec::new(),
            logs: vec![Vec::new(); n as usize],
            bag: Vec::new(),
            timers: Vec::new(),
            applied: Vec::new(),
            replies: Vec::new(),
        };
        for i in 0..n {
            let mut out = Vec::new();
            c.replicas.push(Replica::new(NodeId(i), config, &mut out));
            c.apply(NodeId(i), out);
        }
        c
    }

    fn apply(&mut self, from: NodeId, out: Vec<Effect>) {
        for effect in out {
            match effect {
                E::Send { to, msg } => self.bag.push((from, to, msg)),
                E::SetTimer { timer, .. } => self.timers.push((from, timer)),
                E::Persist { record, .. } => self.logs[from.0 as usize].push(record),
                E::Output(Output::Applied { slot, command }) => {
                    self.applied.push((from, slot, command))
                }
                E::Output(Output::Reply { client, seq, reply }) => {
                    self.replies.push((client, seq, reply))
                }
                E::Output(_) => {}
            }
        }
    }

    fn step(&mut self, id: NodeId, input: Input) {
        let mut out = Vec::new();
        self.replicas[id.0 as usize].step(Time(0), input, &mut out);
        self.apply(id, out);
    }

    /// Fires the newest election timer of `id`.
    fn elect(&mut self, id: NodeId) {
        let timer = self
            .timers
            .iter()
            .rev()
            .find(|(n, t)| *n == id && matches!(t, Timer::Election(_)))
            .map(|(_, t)| *t)
            .unwrap();
        self.step(id, I::Timer(timer));
    }

    /// Delivers every message in the bag, oldest first, until it is empty.
    fn settle(&mut self) {
        self.settle_without(None);
    }

    /// Like `settle`, but messages to `cut` are lost.
    fn settle_without(&mut self, cut: Option<NodeId>) {
        while !self.bag.is_empty() {
            let (from, to, msg) = self.bag.remove(0);
            if Some(to) != cut {
                self.step(to, I::Msg { from, msg });
            }
        }
    }

    fn crash_and_recover(&mut self, id: NodeId) {
        self.timers.retain(|(n, _)| *n != id);
        self.bag.retain(|(_, to, _)| *to != id);
        let mut out = Vec::new();
        self.replicas[id.0 as usize] =
            Replica::recover(id, self.config, &self.logs[id.0 as usize], &mut out);
        self.apply(id, out);
    }

    /// Every replica applied the same command at the same slot.
    fn agree(&self) -> Result<(), String> {
        let mut seen = std::collections::BTreeMap::new();
        for (node, slot, command) in &self.applied {
            if let Some((other, c)) = seen.insert(*slot, (*node, *command))
                && c != *command
            {
                return Err(format!(
                    "{slot}: {other} applied {c:?}, {node} applied {command:?}"
                ));
            }
        }
        Ok(())
    }
}

fn put(client: u32, seq: u64, key: u32, value: u64) -> Input {
    I::Request(Request {
        client,
        seq,
        op: Op::Put { key, value },
    })
}

fn get(client: u32, seq: u64, key: u32) -> Input {
    I::Request(Request {
        client,
        seq,
        op: Op::Get { key },
    })
}

#[test]
fn a_leader_is_elected_and_serves_writes_and_reads_through_the_log() {
    let mut c = Cluster::new(3, Variant::Correct);
    c.elect(NodeId(1));
    c.settle();
    assert_eq!(c.replicas[1].role(), RoleView::Leader);
    c.step(NodeId(1), put(7, 1, 3, 42));
    c.settle();
    c.step(NodeId(1), get(7, 2, 3));
    c.settle();
    assert_eq!(
        c.replies,
        [
            (7, 1, Reply::Done(OpResult::Written)),
            (7, 2, Reply::Done(OpResult::Read(Some(42)))),
        ]
    );
    for r in &c.replicas {
        assert_eq!(r.kv().get(3), Some(42), "{}", r.id());
    }
    c.agree().unwrap();
}

#[test]
fn followers_redirect_clients_to_the_leader() {
    let mut c = Cluster::new(3, Variant::Correct);
    c.elect(NodeId(2));
    c.settle();
    c.step(NodeId(0), put(1, 1, 1, 1));
    assert_eq!(
        c.replies.last(),
        Some(&(
            1,
            1,
            Reply::NotLeader {
                hint: Some(NodeId(2))
            }
        ))
    );
}

#[test]
fn a_retried_command_is_applied_once() {
    let mut c = Cluster::new(3, Variant::Correct);
    c.elect(NodeId(0));
    c.settle();
    c.step(NodeId(0), put(1, 1, 5, 10));
    c.step(NodeId(0), put(1, 1, 5, 10));
    c.settle();
    c.step(NodeId(0), put(1, 1, 5, 10));
    let applied_puts = c
        .applied
        .iter()
        .filter(|(n, _, cmd)| *n == NodeId(0) && matches!(cmd, Command::Client { .. }))
        .count();
    assert_eq!(applied_puts, 1);
    assert_eq!(c.replies.len(), 2, "{:?}", c.replies);
}

#[test]
fn acceptors_force_promises_and_accepts_before_answering() {
    let config = Config::default();
    let mut out = Vec::new();
    let mut r = Replica::new(NodeId(1), config, &mut out);
    out.clear();
    let ballot = Ballot {
        round: 3,
        leader: NodeId(0),
    };
    r.step(
        Time(0),
        I::Msg {
            from: NodeId(0),
            msg: Msg::Prepare {
                ballot,
                from: Slot(0),
            },
        },
        &mut out,
    );
    assert_eq!(
        out[0],
        E::Persist {
            record: Record::Promised(ballot),
            durability: Durability::Forced
        }
    );
    assert!(matches!(
        out.last(),
        Some(E::Send {
            msg: Msg::Promise { .. },
            ..
        })
    ));
    out.clear();
    let command = Command::Noop;
    r.step(
        Time(0),
        I::Msg {
            from: NodeId(0),
            msg: Msg::Accept {
                ballot,
                slot: Slot(0),
                command,
            },
        },
        &mut out,
    );
    assert!(matches!(
        out[0],
        E::Persist {
            record: Record::Accepted { .. },
            durability: Durability::Forced
        }
    ));
    assert!(matches!(
        out.last(),
        Some(E::Send {
            msg: Msg::Accepted { .. },
            ..
        })
    ));
    // A lower ballot is refused with the promise it lost to.
    out.clear();
    let low = Ballot {
        round: 2,
        leader: NodeId(2),
    };
    r.step(
        Time(0),
        I::Msg {
            from: NodeId(2),
            msg: Msg::Prepare {
                ballot: low,
                from: Slot(0),
            },
        },
        &mut out,
    );
    assert_eq!(
        out,
        [E::Send {
            to: NodeId(2),
            msg: Msg::Nack {
                ballot: low,
                promised: ballot
            }
        }]
    );
}

#[test]
fn a_new_leader_adopts_the_highest_accepted_value_unless_broken() {
    for (variant, expected) in [
        (
            Variant::Correct,
            Command::Client {
                client: 1,
                seq: 1,
                op: Op::Put { key: 1, value: 9 },
            },
        ),
        (Variant::IgnoreAccepted, Command::Noop),
    ] {
        let mut c = Cluster::new(3, variant);
        c.elect(NodeId(0));
        c.settle();
        // The leader's accept reaches node 1 only; then node 2 takes over.
        c.step(NodeId(0), put(1, 1, 1, 9));
        c.bag
            .retain(|(_, to, m)| *to == NodeId(1) && matches!(m, Msg::Accept { .. }));
        let (from, to, msg) = c.bag.remove(0);
        c.step(to, I::Msg { from, msg });
        c.bag.clear();
        c.elect(NodeId(2));
        c.bag.retain(|(_, to, _)| *to != NodeId(0));
        c.settle();
        let at_slot_0: Vec<Command> = c
            .applied
            .iter()
            .filter(|(n, s, _)| *n == NodeId(2) && *s == Slot(0))
            .map(|(_, _, cmd)| *cmd)
            .collect();
        assert_eq!(at_slot_0, [expected], "{variant}");
    }
}

#[test]
fn recovery_rebuilds_promise_accepted_values_and_the_state_machine() {
    let mut c = Cluster::new(3, Variant::Correct);
    c.elect(NodeId(0));
    c.settle();
    for seq in 1..=6 {
        c.step(NodeId(0), put(1, seq, 2, seq * 10));
        c.settle();
    }
    let before = c.replicas[1].clone();
    c.crash_and_recover(NodeId(1));
    let after = &c.replicas[1];
    assert_eq!(after.promised(), before.promised());
    assert_eq!(after.kv().get(2), Some(60));
    assert_eq!(after.next_apply(), before.next_apply());
    assert!(after.snapshot_next() >= Slot(4), "snapshots every 4 slots");
}

#[test]
fn a_lagging_replica_catches_up_from_a_snapshot() {
    let mut c = Cluster::new(3, Variant::Correct);
    c.elect(NodeId(0));
    c.settle();
    for seq in 1..=9 {
        c.step(NodeId(0), put(1, seq, 1, seq));
        // Node 2 hears nothing.
        c.settle_without(Some(NodeId(2)));
    }
    assert_eq!(c.replicas[2].next_apply(), Slot(0));
    let heartbeat = c
        .timers
        .iter()
        .rev()
        .find(|(n, t)| *n == NodeId(0) && matches!(t, Timer::Heartbeat(_)))
        .map(|(_, t)| *t)
        .unwrap();
    c.step(NodeId(0), I::Timer(heartbeat));
    c.settle();
    assert_eq!(c.replicas[2].next_apply(), c.replicas[0].next_apply());
    assert_eq!(c.replicas[2].kv().get(1), Some(9));
    c.agree().unwrap();
}

#[test]
fn variant_names_round_trip() {
    for name in Variant::NAMES {
        let v: Variant = name.parse().unwrap();
        assert_eq!(v.name(), name);
    }
    assert!("sloppy".parse::<Variant>().is_err());
}

proptest! {
    /// Whatever the order of messages, losses, timeouts and crash-recoveries, replicas never
    /// apply different commands at the same slot.
    #[test]
    fn correct_multi_paxos_agrees(
        n in 1u32..6,
        choices in prop::collection::vec((0u8..6, any::<prop::sample::Index>(), 0u64..4), 0..150),
    ) {
        let mut c = Cluster::new(n, Variant::Correct);
        let mut seq = 0;
        for (action, idx, value) in choices {
            match action {
                0 | 1 if !c.bag.is_empty() => {
                    let (from, to, msg) = c.bag.remove(idx.index(c.bag.len()));
                    if action == 0 {
                        c.step(to, I::Msg { from, msg });
                    }
                }
                2 if !c.timers.is_empty() => {
                    let (node, timer) = c.timers.remove(idx.index(c.timers.len()));
                    c.step(node, I::Timer(timer));
                }
                3 => {
                    seq += 1;
                    let node = NodeId(idx.index(n as usize) as u32);
                    c.step(node, put(1, seq, value as u32, seq));
                }
                4 => {
                    let node = NodeId(idx.index(n as usize) as u32);
                    c.crash_and_recover(node);
                }
                _ => {}
            }
            prop_assert!(c.agree().is_ok(), "{:?}", c.agree());
        }
    }
}

/// The election jitter is pseudo-random, drawn from `Config::seed` and the replica's id: the same
/// seed always gives the same timers, other seeds other ones.
#[test]
fn election_jitter_is_a_function_of_the_seed_and_id() {
    let timers = |seed: u64, id: u32| {
        let mut out = Vec::new();
        let config = Config {
            seed,
            ..Config::default()
        };
        Replica::new(NodeId(id), config, &mut out);
        out.iter()
            .filter_map(|e| match e {
                E::SetTimer { after_ms, .. } => Some(*after_ms),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert!(!timers(7, 1).is_empty());
    assert_eq!(timers(7, 1), timers(7, 1));
    assert!((1..16).any(|seed| timers(seed, 1) != timers(0, 1)));
    assert!((1..3).any(|id| timers(0, id) != timers(0, 0)));
}
