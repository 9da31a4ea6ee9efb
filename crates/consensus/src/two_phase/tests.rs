//! Unit tests: each drives nodes by hand through one `check` helper that compares the effects of
//! a step against the expected list.

use proptest::prelude::*;

use super::*;
use crate::{Effect as E, Input as I};

const C: NodeId = NodeId(0);
const P1: NodeId = NodeId(1);
const P2: NodeId = NodeId(2);

fn config(variant: Variant) -> Config {
    Config {
        variant,
        ..Config::default()
    }
}

#[track_caller]
fn check(node: &mut Node, input: Input, expected: &[Effect]) {
    let mut out = Vec::new();
    node.step(Time(0), input, &mut out);
    assert_eq!(out, expected);
}

fn msg(from: NodeId, msg: Msg) -> Input {
    I::Msg { from, msg }
}

fn begin(tx: u64, work: &[(NodeId, Work)]) -> Input {
    I::Request(Request::Begin {
        tx: TxId(tx),
        work: work.to_vec(),
    })
}

fn prepare(tx: u64, work: Work) -> Msg {
    Msg::Prepare {
        tx: TxId(tx),
        work,
        participants: vec![P1, P2],
    }
}

fn vote(tx: u64, vote: Vote) -> Msg {
    Msg::Vote { tx: TxId(tx), vote }
}

fn decision(tx: u64, outcome: Outcome) -> Msg {
    Msg::Decision {
        tx: TxId(tx),
        outcome,
    }
}

fn voting_coordinator(variant: Variant) -> Node {
    let mut c = Node::coordinator(C, config(variant));
    c.step(
        Time(0),
        begin(1, &[(P1, Work::Ready), (P2, Work::Ready)]),
        &mut Vec::new(),
    );
    c
}

#[test]
fn begin_sends_prepare_to_every_participant_and_arms_the_vote_timeout() {
    let mut c = Node::coordinator(C, Config::default());
    check(
        &mut c,
        begin(1, &[(P1, Work::Ready), (P2, Work::Conflict)]),
        &[
            E::Send {
                to: P1,
                msg: Msg::Prepare {
                    tx: TxId(1),
                    work: Work::Ready,
                    participants: vec![P1, P2],
                },
            },
            E::Send {
                to: P2,
                msg: Msg::Prepare {
                    tx: TxId(1),
                    work: Work::Conflict,
                    participants: vec![P1, P2],
                },
            },
            E::SetTimer {
                timer: Timer::VoteTimeout(TxId(1)),
                after_ms: 50,
            },
        ],
    );
}

#[test]
fn participant_forces_prepared_before_voting_commit() {
    let mut p = Node::participant(P1, C, Config::default());
    check(
        &mut p,
        msg(C, prepare(1, Work::Ready)),
        &[
            E::Persist {
                record: Record::Prepared {
                    tx: TxId(1),
                    participants: vec![P1, P2],
                },
                durability: Durability::Forced,
            },
            E::Output(Output::Voted {
                tx: TxId(1),
                vote: Vote::Commit,
            }),
            E::Send {
                to: C,
                msg: vote(1, Vote::Commit),
            },
            E::SetTimer {
                timer: Timer::DecisionTimeout(TxId(1)),
                after_ms: 60,
            },
        ],
    );
    assert!(matches!(p.view(TxId(1)), Some(TxView::InDoubt { .. })));
}

#[test]
fn vote_before_log_variant_sends_the_vote_first_and_logs_lazily() {
    let mut p = Node::participant(P1, C, config(Variant::VoteBeforeLog));
    let mut out = Vec::new();
    p.step(Time(0), msg(C, prepare(1, Work::Ready)), &mut out);
    assert!(matches!(out[1], E::Send { .. }));
    assert!(matches!(
        out[2],
        E::Persist {
            durability: Durability::Lazy,
            ..
        }
    ));
}

#[test]
fn conflict_votes_abort_and_aborts_at_once() {
    let mut p = Node::participant(P1, C, Config::default());
    let mut out = Vec::new();
    p.step(Time(0), msg(C, prepare(1, Work::Conflict)), &mut out);
    assert!(out.contains(&E::Send {
        to: C,
        msg: vote(1, Vote::Abort)
    }));
    assert_eq!(p.outcome(TxId(1)), Some(Outcome::Abort));
}

#[test]
fn coordinator_forces_commit_before_announcing_it() {
    let mut c = voting_coordinator(Variant::Correct);
    check(&mut c, msg(P1, vote(1, Vote::Commit)), &[]);
    let mut out = Vec::new();
    c.step(Time(0), msg(P2, vote(1, Vote::Commit)), &mut out);
    assert_eq!(
        out[..4],
        [
            E::Persist {
                record: Record::Committed {
                    tx: TxId(1),
                    participants: vec![P1, P2]
                },
                durability: Durability::Forced,
            },
            E::Output(Output::Decided {
                tx: TxId(1),
                outcome: Outcome::Commit
            }),
            E::Send {
                to: P1,
                msg: decision(1, Outcome::Commit)
            },
            E::Send {
                to: P2,
                msg: decision(1, Outcome::Commit)
            },
        ]
    );
    assert_eq!(c.outcome(TxId(1)), Some(Outcome::Commit));
}

#[test]
fn announce_before_log_variant_announces_first() {
    let mut c = voting_coordinator(Variant::AnnounceBeforeLog);
    let mut out = Vec::new();
    c.step(Time(0), msg(P1, vote(1, Vote::Commit)), &mut out);
    c.step(Time(0), msg(P2, vote(1, Vote::Commit)), &mut out);
    assert!(matches!(out[0], E::Send { .. }));
    assert!(matches!(out[2], E::Persist { .. }));
}

#[test]
fn one_abort_vote_aborts_without_forcing_anything() {
    let mut c = voting_coordinator(Variant::Correct);
    let mut out = Vec::new();
    c.step(Time(0), msg(P2, vote(1, Vote::Abort)), &mut out);
    assert!(!out.iter().any(|e| matches!(
        e,
        E::Persist {
            durability: Durability::Forced,
            ..
        }
    )));
    assert!(out.contains(&E::Send {
        to: P1,
        msg: decision(1, Outcome::Abort)
    }));
    assert_eq!(c.outcome(TxId(1)), Some(Outcome::Abort));
}

#[test]
fn vote_timeout_aborts_but_a_late_timer_after_commit_does_nothing() {
    let mut c = voting_coordinator(Variant::Correct);
    let mut out = Vec::new();
    c.step(Time(50), I::Timer(Timer::VoteTimeout(TxId(1))), &mut out);
    assert_eq!(c.outcome(TxId(1)), Some(Outcome::Abort));

    let mut c = voting_coordinator(Variant::Correct);
    c.step(Time(1), msg(P1, vote(1, Vote::Commit)), &mut out);
    c.step(Time(1), msg(P2, vote(1, Vote::Commit)), &mut out);
    check(&mut c, I::Timer(Timer::VoteTimeout(TxId(1))), &[]);
    assert_eq!(c.outcome(TxId(1)), Some(Outcome::Commit));
}

#[test]
fn coordinator_presumes_abort_for_transactions_it_never_logged() {
    let mut c = Node::coordinator(C, Config::default());
    check(
        &mut c,
        msg(P1, Msg::Query { tx: TxId(9) }),
        &[E::Send {
            to: P1,
            msg: Msg::Status {
                tx: TxId(9),
                status: Status::Decided(Outcome::Abort),
            },
        }],
    );
}

#[test]
fn recovered_coordinator_resends_unacknowledged_commits_only() {
    let log = [
        Record::Committed {
            tx: TxId(1),
            participants: vec![P1, P2],
        },
        Record::Committed {
            tx: TxId(2),
            participants: vec![P1],
        },
        Record::End { tx: TxId(2) },
    ];
    let mut out = Vec::new();
    let c = Node::recover(
        C,
        Role::Coordinator,
        Config::default(),
        &log,
        Time(5),
        &mut out,
    );
    assert_eq!(
        out,
        [
            E::Send {
                to: P1,
                msg: decision(1, Outcome::Commit)
            },
            E::Send {
                to: P2,
                msg: decision(1, Outcome::Commit)
            },
            E::SetTimer {
                timer: Timer::Resend(TxId(1)),
                after_ms: 40
            },
        ]
    );
    assert_eq!(c.outcome(TxId(2)), Some(Outcome::Commit));
}

#[test]
fn recovered_participant_is_in_doubt_and_asks_everyone() {
    let log = [Record::Prepared {
        tx: TxId(1),
        participants: vec![P1, P2],
    }];
    let mut out = Vec::new();
    let p = Node::recover(
        P1,
        Role::Participant { coordinator: C },
        Config::default(),
        &log,
        Time(5),
        &mut out,
    );
    assert_eq!(p.view(TxId(1)), Some(TxView::InDoubt { since: Time(5) }));
    assert_eq!(
        out[..2],
        [
            E::Send {
                to: C,
                msg: Msg::Query { tx: TxId(1) }
            },
            E::Send {
                to: P2,
                msg: Msg::Query { tx: TxId(1) }
            },
        ]
    );
}

#[test]
fn in_doubt_participant_does_not_decide_alone_unless_broken() {
    for (variant, expected) in [
        (Variant::Correct, None),
        (Variant::AbortOnTimeout, Some(Outcome::Abort)),
    ] {
        let mut p = Node::participant(P1, C, config(variant));
        let mut out = Vec::new();
        p.step(Time(0), msg(C, prepare(1, Work::Ready)), &mut out);
        p.step(
            Time(60),
            I::Timer(Timer::DecisionTimeout(TxId(1))),
            &mut out,
        );
        assert_eq!(p.outcome(TxId(1)), expected, "{variant}");
    }
}

#[test]
fn peer_that_never_voted_aborts_durably_and_votes_abort_later() {
    let mut p = Node::participant(P2, C, Config::default());
    let mut out = Vec::new();
    p.step(Time(0), msg(P1, Msg::Query { tx: TxId(1) }), &mut out);
    assert_eq!(
        out[0],
        E::Persist {
            record: Record::Aborted { tx: TxId(1) },
            durability: Durability::Forced
        }
    );
    check(
        &mut p,
        msg(C, prepare(1, Work::Ready)),
        &[E::Send {
            to: C,
            msg: vote(1, Vote::Abort),
        }],
    );
}

#[test]
fn in_doubt_peers_can_only_say_so() {
    let mut p = Node::participant(P2, C, Config::default());
    p.step(Time(0), msg(C, prepare(1, Work::Ready)), &mut Vec::new());
    check(
        &mut p,
        msg(P1, Msg::Query { tx: TxId(1) }),
        &[E::Send {
            to: P1,
            msg: Msg::Status {
                tx: TxId(1),
                status: Status::InDoubt,
            },
        }],
    );
}

#[test]
fn variant_names_round_trip() {
    for name in Variant::NAMES {
        let v: Variant = name.parse().unwrap();
        assert_eq!(v.name(), name);
    }
    let err = "sloppy".parse::<Variant>().unwrap_err();
    assert!(err.to_string().contains("abort-on-timeout"));
}

/// A tiny network for the property test: messages wait in one bag and are delivered in an order
/// chosen by the test, some dropped, with a crash and recovery of any node in between.
struct Cluster {
    nodes: Vec<Node>,
    logs: Vec<Vec<Record>>,
    bag: Vec<(NodeId, NodeId, Msg)>,
    timers: Vec<(NodeId, Timer)>,
    decided: Vec<(NodeId, TxId, Outcome)>,
}

impl Cluster {
    fn new(n_participants: u32) -> Cluster {
        let mut nodes = vec![Node::coordinator(C, Config::default())];
        for i in 1..=n_participants {
            nodes.push(Node::participant(NodeId(i), C, Config::default()));
        }
        let n = nodes.len();
        Cluster {
            nodes,
            logs: vec![Vec::new(); n],
            bag: Vec::new(),
            timers: Vec::new(),
            decided: Vec::new(),
        }
    }

    fn apply(&mut self, from: NodeId, out: Vec<Effect>) {
        for effect in out {
            match effect {
                E::Send { to, msg } => self.bag.push((from, to, msg)),
                E::SetTimer { timer, .. } => self.timers.push((from, timer)),
                E::Persist { record, .. } => self.logs[from.0 as usize].push(record),
                E::Output(Output::Decided { tx, outcome }) => {
                    self.decided.push((from, tx, outcome))
                }
                E::Output(_) => {}
            }
        }
    }

    fn step(&mut self, id: NodeId, input: Input) {
        let mut out = Vec::new();
        self.nodes[id.0 as usize].step(Time(0), input, &mut out);
        self.apply(id, out);
    }

    fn crash_and_recover(&mut self, id: NodeId) {
        let role = self.nodes[id.0 as usize].role();
        self.timers.retain(|(n, _)| *n != id);
        let mut out = Vec::new();
        self.nodes[id.0 as usize] = Node::recover(
            id,
            role,
            Config::default(),
            &self.logs[id.0 as usize],
            Time(0),
            &mut out,
        );
        self.apply(id, out);
    }
}

proptest! {
    /// Whatever the delivery order, losses, timeouts and crashes, no two nodes decide differently.
    #[test]
    fn correct_two_phase_commit_is_atomic(
        work in prop::collection::vec(prop::bool::weighted(0.8), 1..4),
        choices in prop::collection::vec((0u8..4, any::<prop::sample::Index>()), 0..80),
    ) {
        let mut cluster = Cluster::new(work.len() as u32);
        let work: Vec<(NodeId, Work)> = work
            .iter()
            .enumerate()
            .map(|(i, ok)| (NodeId(i as u32 + 1), if *ok { Work::Ready } else { Work::Conflict }))
            .collect();
        cluster.step(C, I::Request(Request::Begin { tx: TxId(1), work }));
        for (action, idx) in choices {
            match action {
                0 | 1 if !cluster.bag.is_empty() => {
                    let (from, to, msg) = cluster.bag.remove(idx.index(cluster.bag.len()));
                    if action == 0 {
                        cluster.step(to, I::Msg { from, msg });
                    }
                }
                2 if !cluster.timers.is_empty() => {
                    let (node, timer) = cluster.timers.remove(idx.index(cluster.timers.len()));
                    cluster.step(node, I::Timer(timer));
                }
                3 => {
                    let n = cluster.nodes.len();
                    cluster.crash_and_recover(NodeId(idx.index(n) as u32));
                }
                _ => {}
            }
        }
        let first = cluster.decided.first().map(|d| d.2);
        for (node, tx, outcome) in &cluster.decided {
            prop_assert_eq!(Some(*outcome), first, "{} decided {:?} on {}", node, outcome, tx);
        }
    }
}
