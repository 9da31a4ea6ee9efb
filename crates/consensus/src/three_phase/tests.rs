//! Unit tests drive nodes by hand through one `check` helper; a tiny timed scheduler runs the
//! property tests (crash failures with reliable timeouts, and recovery).

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::{Effect as E, Input as I};

const C: NodeId = NodeId(0);
const P1: NodeId = NodeId(1);
const P2: NodeId = NodeId(2);
const P3: NodeId = NodeId(3);
const T: TxId = TxId(1);

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

fn can_commit(participants: &[NodeId]) -> Msg {
    Msg::CanCommit {
        tx: T,
        work: Work::Ready,
        participants: participants.to_vec(),
    }
}

fn decision(outcome: Outcome) -> Msg {
    Msg::Decision { tx: T, outcome }
}

fn sends(out: &[Effect]) -> Vec<(NodeId, Msg)> {
    out.iter()
        .filter_map(|e| match e {
            E::Send { to, msg } => Some((*to, msg.clone())),
            _ => None,
        })
        .collect()
}

fn state(node: &Node) -> Option<State> {
    node.view(T).map(|v| v.state)
}

/// A participant of `participants` that voted yes and waits for the coordinator.
fn waiting(id: NodeId, participants: &[NodeId], variant: Variant) -> Node {
    let mut p = Node::participant(id, C, config(variant));
    p.step(Time(0), msg(C, can_commit(participants)), &mut Vec::new());
    p
}

/// A participant that also received PRECOMMIT from the coordinator.
fn pre_committed(id: NodeId, participants: &[NodeId], variant: Variant) -> Node {
    let mut p = waiting(id, participants, variant);
    let pre = Msg::PreCommit {
        tx: T,
        term: Term(0),
    };
    p.step(Time(0), msg(C, pre), &mut Vec::new());
    p
}

/// Fires the participant's current wait timer and returns the effects.
fn time_out(node: &mut Node) -> Vec<Effect> {
    let Node::Participant(p) = node else {
        panic!("not a participant");
    };
    let wait = p.current_wait(T);
    let mut out = Vec::new();
    node.step(Time(100), I::Timer(Timer::Wait { tx: T, wait }), &mut out);
    out
}

fn begin(participants: &[NodeId]) -> Input {
    I::Request(Request::Begin {
        tx: T,
        work: participants.iter().map(|p| (*p, Work::Ready)).collect(),
    })
}

#[test]
fn a_ready_participant_forces_voted_before_its_yes_vote() {
    let mut p = Node::participant(P1, C, Config::default());
    check(
        &mut p,
        msg(C, can_commit(&[P1, P2])),
        &[
            E::Persist {
                record: Record::Voted {
                    tx: T,
                    participants: vec![P1, P2],
                },
                durability: Durability::Forced,
            },
            E::Output(Output::Voted {
                tx: T,
                vote: Vote::Commit,
            }),
            E::Send {
                to: C,
                msg: Msg::Vote {
                    tx: T,
                    vote: Vote::Commit,
                },
            },
            E::SetTimer {
                timer: Timer::Wait { tx: T, wait: 1 },
                after_ms: 60,
            },
        ],
    );
    assert_eq!(state(&p), Some(State::Waiting));
}

#[test]
fn a_conflict_votes_no_and_aborts_at_once() {
    let mut p = Node::participant(P1, C, Config::default());
    let mut out = Vec::new();
    let cc = Msg::CanCommit {
        tx: T,
        work: Work::Conflict,
        participants: vec![P1],
    };
    p.step(Time(0), msg(C, cc), &mut out);
    assert_eq!(
        sends(&out),
        [(
            C,
            Msg::Vote {
                tx: T,
                vote: Vote::Abort
            }
        )]
    );
    assert_eq!(p.outcome(T), Some(Outcome::Abort));
}

#[test]
fn the_coordinator_forces_pre_committed_before_pre_commit_and_committed_before_do_commit() {
    let mut c = Node::coordinator(C, Config::default());
    let mut out = Vec::new();
    c.step(Time(0), begin(&[P1, P2]), &mut out);
    assert_eq!(
        out.last(),
        Some(&E::SetTimer {
            timer: Timer::VoteTimeout(T),
            after_ms: 50
        })
    );
    let yes = Msg::Vote {
        tx: T,
        vote: Vote::Commit,
    };
    check(&mut c, msg(P1, yes.clone()), &[]);
    let pre = |to| E::Send {
        to,
        msg: Msg::PreCommit {
            tx: T,
            term: Term(0),
        },
    };
    check(
        &mut c,
        msg(P2, yes),
        &[
            E::Persist {
                record: Record::PreCommitted {
                    tx: T,
                    participants: vec![P1, P2],
                },
                durability: Durability::Forced,
            },
            E::Output(Output::PreCommitted { tx: T }),
            pre(P1),
            pre(P2),
            E::SetTimer {
                timer: Timer::AckTimeout(T),
                after_ms: 50,
            },
        ],
    );
    let ack = Msg::Ack {
        tx: T,
        term: Term(0),
    };
    check(&mut c, msg(P1, ack.clone()), &[]);
    let commit = Outcome::Commit;
    check(
        &mut c,
        msg(P2, ack),
        &[
            E::Persist {
                record: Record::Committed { tx: T },
                durability: Durability::Forced,
            },
            E::Output(Output::Decided {
                tx: T,
                outcome: commit,
            }),
            E::Send {
                to: P1,
                msg: decision(commit),
            },
            E::Send {
                to: P2,
                msg: decision(commit),
            },
            E::Output(Output::Replied {
                tx: T,
                outcome: commit,
            }),
        ],
    );
}

#[test]
fn the_coordinator_aborts_on_a_no_or_a_missing_vote_and_commits_on_missing_acks() {
    let no = Msg::Vote {
        tx: T,
        vote: Vote::Abort,
    };
    let mut c = Node::coordinator(C, Config::default());
    c.step(Time(0), begin(&[P1, P2]), &mut Vec::new());
    c.step(Time(1), msg(P2, no), &mut Vec::new());
    assert_eq!(c.outcome(T), Some(Outcome::Abort));

    let mut c = Node::coordinator(C, Config::default());
    c.step(Time(0), begin(&[P1, P2]), &mut Vec::new());
    c.step(Time(50), I::Timer(Timer::VoteTimeout(T)), &mut Vec::new());
    assert_eq!(c.outcome(T), Some(Outcome::Abort));

    let yes = Msg::Vote {
        tx: T,
        vote: Vote::Commit,
    };
    let mut c = Node::coordinator(C, Config::default());
    c.step(Time(0), begin(&[P1, P2]), &mut Vec::new());
    c.step(Time(1), msg(P1, yes.clone()), &mut Vec::new());
    c.step(Time(1), msg(P2, yes), &mut Vec::new());
    // A late vote timeout changes nothing in `p`; the ack timeout commits.
    check(&mut c, I::Timer(Timer::VoteTimeout(T)), &[]);
    assert_eq!(state(&c), Some(State::PreCommitted));
    c.step(Time(60), I::Timer(Timer::AckTimeout(T)), &mut Vec::new());
    assert_eq!(c.outcome(T), Some(Outcome::Commit));
}

#[test]
fn a_participant_forces_pre_committed_before_acknowledging() {
    let mut p = waiting(P1, &[P1, P2], Variant::Correct);
    check(
        &mut p,
        msg(
            C,
            Msg::PreCommit {
                tx: T,
                term: Term(0),
            },
        ),
        &[
            E::Persist {
                record: Record::PreCommitted {
                    tx: T,
                    participants: vec![P1, P2],
                },
                durability: Durability::Forced,
            },
            E::Output(Output::PreCommitted { tx: T }),
            E::Send {
                to: C,
                msg: Msg::Ack {
                    tx: T,
                    term: Term(0),
                },
            },
            E::SetTimer {
                timer: Timer::Wait { tx: T, wait: 2 },
                after_ms: 60,
            },
        ],
    );
}

#[test]
fn the_lowest_participant_takes_over_and_the_others_elect_it() {
    let all = [P1, P2, P3];
    let mut p1 = waiting(P1, &all, Variant::Correct);
    let out = time_out(&mut p1);
    assert_eq!(
        out[0],
        E::Output(Output::TookOver {
            tx: T,
            term: Term(1)
        })
    );
    assert_eq!(
        sends(&out),
        [
            (
                P2,
                Msg::StateReq {
                    tx: T,
                    term: Term(1)
                }
            ),
            (
                P3,
                Msg::StateReq {
                    tx: T,
                    term: Term(1)
                }
            ),
        ]
    );
    let mut p2 = waiting(P2, &all, Variant::Correct);
    let out = time_out(&mut p2);
    assert_eq!(
        sends(&out),
        [(
            P1,
            Msg::Elect {
                tx: T,
                term: Term(1)
            }
        )]
    );
    // P1 does not answer: P2 is the backup of term 2.
    let out = time_out(&mut p2);
    assert_eq!(
        sends(&out),
        [
            (
                P1,
                Msg::StateReq {
                    tx: T,
                    term: Term(2)
                }
            ),
            (
                P3,
                Msg::StateReq {
                    tx: T,
                    term: Term(2)
                }
            ),
        ]
    );
    assert!(p2.view(T).is_some_and(|v| v.backup && v.term == Term(2)));
}

/// One row of the backup's decision rules: its own state, the reports, and what it does.
#[track_caller]
fn rule(own: State, reports: &[(NodeId, State)], expected: &[(NodeId, Msg)]) {
    let all = [P1, P2, P3];
    let mut backup = match own {
        State::Waiting => waiting(P1, &all, Variant::Correct),
        State::PreCommitted => pre_committed(P1, &all, Variant::Correct),
        other => panic!("a backup is never in {other:?}"),
    };
    time_out(&mut backup);
    let mut out = Vec::new();
    for (from, state) in reports {
        let report = Msg::StateReport {
            tx: T,
            term: Term(1),
            state: *state,
        };
        backup.step(Time(101), msg(*from, report), &mut out);
    }
    if reports.len() < 2 {
        out.extend(time_out(&mut backup));
    }
    assert_eq!(sends(&out), expected);
}

#[test]
fn the_backup_decides_by_skeens_rules() {
    use State::{Aborted as A, Committed as Co, PreCommitted as Pc, Waiting as W};
    let abort = |to| (to, decision(Outcome::Abort));
    let commit = |to| (to, decision(Outcome::Commit));
    let pre = |to| {
        (
            to,
            Msg::PreCommit {
                tx: T,
                term: Term(1),
            },
        )
    };
    // Rule 1: some aborted, even beside a pre-committed one.
    rule(W, &[(P2, A), (P3, W)], &[abort(P2), abort(P3), abort(C)]);
    rule(Pc, &[(P2, Pc), (P3, A)], &[abort(P2), abort(P3), abort(C)]);
    // Rule 2: some committed.
    rule(
        W,
        &[(P2, Co), (P3, W)],
        &[commit(P2), commit(P3), commit(C)],
    );
    // Rule 3: all uncertain, including when a report is missing.
    rule(W, &[(P2, W), (P3, W)], &[abort(P2), abort(P3), abort(C)]);
    rule(W, &[(P2, W)], &[abort(P2), abort(P3), abort(C)]);
    // Rule 4: some pre-committed: pre-commit the uncertain ones first.
    rule(W, &[(P2, Pc), (P3, W)], &[pre(P3)]);
    rule(Pc, &[(P2, W), (P3, W)], &[pre(P2), pre(P3)]);
    // ... and commit at once when nobody is uncertain.
    rule(
        W,
        &[(P2, Pc), (P3, Pc)],
        &[commit(P2), commit(P3), commit(C)],
    );
}

#[test]
fn the_backup_commits_after_the_uncertain_acknowledge_or_time_out() {
    let all = [P1, P2, P3];
    let mut backup = pre_committed(P1, &all, Variant::Correct);
    time_out(&mut backup);
    let mut out = Vec::new();
    for (from, state) in [(P2, State::Waiting), (P3, State::Waiting)] {
        let report = Msg::StateReport {
            tx: T,
            term: Term(1),
            state,
        };
        backup.step(Time(101), msg(from, report), &mut out);
    }
    check(
        &mut backup,
        msg(
            P2,
            Msg::Ack {
                tx: T,
                term: Term(1),
            },
        ),
        &[],
    );
    // P3 never acknowledges: it crashed, and will learn the outcome when it recovers.
    let out = time_out(&mut backup);
    assert_eq!(
        out[0],
        E::Persist {
            record: Record::Committed { tx: T },
            durability: Durability::Forced
        }
    );
    assert_eq!(backup.outcome(T), Some(Outcome::Commit));
}

#[test]
fn a_participant_follows_the_highest_term_and_ignores_lower_ones() {
    let all = [P1, P2, P3];
    let mut p3 = waiting(P3, &all, Variant::Correct);
    check(
        &mut p3,
        msg(
            P2,
            Msg::StateReq {
                tx: T,
                term: Term(2),
            },
        ),
        &[
            E::Send {
                to: P2,
                msg: Msg::StateReport {
                    tx: T,
                    term: Term(2),
                    state: State::Waiting,
                },
            },
            E::SetTimer {
                timer: Timer::Wait { tx: T, wait: 2 },
                after_ms: 80,
            },
        ],
    );
    // The old coordinator (term 0) and the first backup are fenced off.
    check(
        &mut p3,
        msg(
            C,
            Msg::PreCommit {
                tx: T,
                term: Term(0),
            },
        ),
        &[],
    );
    check(
        &mut p3,
        msg(
            P1,
            Msg::StateReq {
                tx: T,
                term: Term(1),
            },
        ),
        &[],
    );
    assert_eq!(state(&p3), Some(State::Waiting));
    // A decision is final whoever sends it.
    p3.step(Time(0), msg(C, decision(Outcome::Abort)), &mut Vec::new());
    assert_eq!(p3.outcome(T), Some(Outcome::Abort));
}

#[test]
fn a_participant_that_never_voted_aborts_durably_when_asked_and_votes_no_later() {
    let mut p = Node::participant(P2, C, Config::default());
    let mut out = Vec::new();
    p.step(
        Time(0),
        msg(
            P1,
            Msg::StateReq {
                tx: T,
                term: Term(1),
            },
        ),
        &mut out,
    );
    assert_eq!(
        out[0],
        E::Persist {
            record: Record::Aborted { tx: T },
            durability: Durability::Forced
        }
    );
    assert!(sends(&out).contains(&(
        P1,
        Msg::StateReport {
            tx: T,
            term: Term(1),
            state: State::Aborted
        }
    )));
    check(
        &mut p,
        msg(C, can_commit(&[P1, P2])),
        &[E::Send {
            to: C,
            msg: Msg::Vote {
                tx: T,
                vote: Vote::Abort,
            },
        }],
    );
}

#[test]
fn without_the_termination_protocol_a_participant_only_asks_and_blocks() {
    let all = [P1, P2];
    let mut p1 = pre_committed(P1, &all, Variant::NoTermination);
    let mut p2 = pre_committed(P2, &all, Variant::NoTermination);
    for _ in 0..3 {
        let out = time_out(&mut p1);
        assert_eq!(
            sends(&out),
            [(C, Msg::Query { tx: T }), (P2, Msg::Query { tx: T })]
        );
        // The peer is in doubt too and says nothing; the coordinator is down.
        check(&mut p2, msg(P1, Msg::Query { tx: T }), &[]);
    }
    assert_eq!(p1.outcome(T), None);
    // The correct protocol decides in the same spot.
    let mut p1 = pre_committed(P1, &all, Variant::Correct);
    time_out(&mut p1);
    let report = Msg::StateReport {
        tx: T,
        term: Term(1),
        state: State::PreCommitted,
    };
    p1.step(Time(101), msg(P2, report), &mut Vec::new());
    assert_eq!(p1.outcome(T), Some(Outcome::Commit));
}

/// Delivers `msg` from `from` to `to` and returns the messages it sends.
fn deliver(
    nodes: &mut BTreeMap<NodeId, Node>,
    from: NodeId,
    to: NodeId,
    m: Msg,
) -> Vec<(NodeId, Msg)> {
    let mut out = Vec::new();
    if let Some(node) = nodes.get_mut(&to) {
        node.step(Time(0), msg(from, m), &mut out);
    }
    sends(&out)
}

fn cluster(participants: &[NodeId], variant: Variant) -> BTreeMap<NodeId, Node> {
    let mut nodes = BTreeMap::new();
    nodes.insert(C, Node::coordinator(C, config(variant)));
    for p in participants {
        nodes.insert(*p, Node::participant(*p, C, config(variant)));
    }
    nodes
}

/// Runs the first two phases: every participant votes yes; returns the PRECOMMITs to deliver.
fn up_to_pre_commit(
    nodes: &mut BTreeMap<NodeId, Node>,
    participants: &[NodeId],
) -> Vec<(NodeId, Msg)> {
    let mut out = Vec::new();
    nodes
        .get_mut(&C)
        .expect("coordinator")
        .step(Time(0), begin(participants), &mut out);
    let mut pre_commits = Vec::new();
    for (to, m) in sends(&out) {
        for (_, vote) in deliver(nodes, C, to, m) {
            pre_commits = deliver(nodes, to, C, vote);
        }
    }
    pre_commits
}

#[test]
fn partition_makes_the_two_sides_decide_differently() {
    // {C, P1} | {P2, P3}: PRECOMMIT reaches P1 only.
    let all = [P1, P2, P3];
    let mut nodes = cluster(&all, Variant::Correct);
    let pre_commits = up_to_pre_commit(&mut nodes, &all);
    let (to, pre) = pre_commits[0].clone();
    assert_eq!(to, P1);
    for (_, ack) in deliver(&mut nodes, C, P1, pre) {
        deliver(&mut nodes, P1, C, ack);
    }
    // C's side: the acknowledgements from P2 and P3 are overdue, so C commits and tells P1.
    let mut out = Vec::new();
    let c = nodes.get_mut(&C).expect("coordinator");
    c.step(Time(50), I::Timer(Timer::AckTimeout(T)), &mut out);
    for (to, m) in sends(&out) {
        if to == P1 {
            deliver(&mut nodes, C, P1, m);
        }
    }
    // The other side: P2 and P3 time out in `w`; P2's ELECT to P1 is lost in the partition;
    // P2 becomes the backup of term 2, hears P3 is in `w`, and aborts by rule 3.
    let p2 = nodes.get_mut(&P2).expect("p2");
    let elect = sends(&time_out(p2));
    assert_eq!(
        elect,
        [(
            P1,
            Msg::Elect {
                tx: T,
                term: Term(1)
            }
        )]
    );
    let p3 = nodes.get_mut(&P3).expect("p3");
    time_out(p3);
    let p2 = nodes.get_mut(&P2).expect("p2");
    let req = sends(&time_out(p2));
    for (_, report) in deliver(&mut nodes, P2, P3, req[1].1.clone()) {
        deliver(&mut nodes, P3, P2, report);
    }
    // P1's report never comes; the backup decides with what it has.
    let p2 = nodes.get_mut(&P2).expect("p2");
    for (to, m) in sends(&time_out(p2)) {
        if to == P3 {
            deliver(&mut nodes, P2, P3, m);
        }
    }
    let outcomes: Vec<Option<Outcome>> = nodes.values().map(|n| n.outcome(T)).collect();
    let (commit, abort) = (Some(Outcome::Commit), Some(Outcome::Abort));
    assert_eq!(outcomes, [commit, commit, abort, abort]);
}

#[test]
fn a_message_delayed_past_a_timeout_breaks_atomicity_without_a_partition() {
    // Every node is up and every link works, but some messages are slow: PRECOMMIT reaches P3
    // only, P3's state report reaches backup P1 after P1's termination timeout, and P1's ABORT
    // to P3 and C arrives after C's acknowledgement timeout.
    let all = [P1, P2, P3];
    let mut nodes = cluster(&all, Variant::Correct);
    let pre_commits = up_to_pre_commit(&mut nodes, &all);
    let (to, pre) = pre_commits[2].clone();
    assert_eq!(to, P3);
    for (_, ack) in deliver(&mut nodes, C, P3, pre) {
        deliver(&mut nodes, P3, C, ack);
    }
    let p1 = nodes.get_mut(&P1).expect("p1");
    let mut slow = Vec::new();
    for (to, req) in sends(&time_out(p1)) {
        for (_, report) in deliver(&mut nodes, P1, to, req) {
            if to == P2 {
                deliver(&mut nodes, P2, P1, report);
            } else {
                slow.push((P3, P1, report));
            }
        }
    }
    // Backup P1 saw only `w` (its own and P2's): rule 3, abort.
    let p1 = nodes.get_mut(&P1).expect("p1");
    for (to, m) in sends(&time_out(p1)) {
        if to == P2 {
            deliver(&mut nodes, P1, P2, m);
        } else {
            slow.push((P1, to, m));
        }
    }
    // C's acknowledgements from P1 and P2 are overdue: C commits and tells P3 first.
    let mut out = Vec::new();
    let c = nodes.get_mut(&C).expect("coordinator");
    c.step(Time(50), I::Timer(Timer::AckTimeout(T)), &mut out);
    for (to, m) in sends(&out) {
        if to == P3 {
            deliver(&mut nodes, C, P3, m);
        }
    }
    for (from, to, m) in slow {
        deliver(&mut nodes, from, to, m);
    }
    let outcomes: Vec<Option<Outcome>> = nodes.values().map(|n| n.outcome(T)).collect();
    let (commit, abort) = (Some(Outcome::Commit), Some(Outcome::Abort));
    assert_eq!(outcomes, [commit, abort, abort, commit]);
}

#[test]
fn a_backup_that_skips_pre_commit_breaks_atomicity_when_it_dies_after_committing() {
    // The coordinator dies after PRECOMMIT reached P1 only.
    let all = [P1, P2, P3];
    for variant in [Variant::BackupSkipsPreCommit, Variant::Correct] {
        let mut p1 = pre_committed(P1, &all, variant);
        let mut p2 = waiting(P2, &all, variant);
        let mut p3 = waiting(P3, &all, variant);
        time_out(&mut p1);
        let mut sent = Vec::new();
        for (from, node) in [(P2, &mut p2), (P3, &mut p3)] {
            let mut out = Vec::new();
            let req = Msg::StateReq {
                tx: T,
                term: Term(1),
            };
            node.step(Time(0), msg(P1, req), &mut out);
            for (_, report) in sends(&out) {
                let mut out = Vec::new();
                p1.step(Time(0), msg(from, report), &mut out);
                sent.extend(sends(&out));
            }
        }
        // P1 dies now: nothing it sent after its last forced record arrives.
        // P2 and P3 elect P2 (term 2), which hears from P3 only.
        time_out(&mut p2);
        time_out(&mut p3);
        let mut out = Vec::new();
        for (_, report) in {
            let req = Msg::StateReq {
                tx: T,
                term: Term(2),
            };
            p3.step(Time(0), msg(P2, req), &mut out);
            sends(&out)
        } {
            p2.step(Time(0), msg(P3, report), &mut Vec::new());
        }
        time_out(&mut p2);
        match variant {
            Variant::BackupSkipsPreCommit => {
                assert!(sent.iter().all(|(_, m)| m.kind() == "commit"), "{sent:?}");
                assert_eq!(p1.outcome(T), Some(Outcome::Commit));
                assert_eq!(p2.outcome(T), Some(Outcome::Abort));
            }
            _ => {
                // P1 had to pre-commit P2 and P3 first and has not decided; P2, now the
                // backup, finds nobody uncertain... unless the PRECOMMITs were lost with P1,
                // in which case everybody is still `w` or `p` and nobody committed.
                assert_eq!(p1.outcome(T), None);
                assert!(
                    sent.iter().all(|(_, m)| m.kind() == "pre-commit"),
                    "{sent:?}"
                );
                assert_eq!(p2.outcome(T), Some(Outcome::Abort));
            }
        }
    }
}

#[test]
fn variant_names_round_trip() {
    for name in Variant::NAMES {
        let v: Variant = name.parse().unwrap();
        assert_eq!(v.name(), name);
        assert_eq!(v.to_string(), name);
    }
    let err = "sloppy".parse::<Variant>().unwrap_err();
    assert!(err.to_string().contains("no-termination"));
}

/// A tiny timed scheduler: every message takes 1 to `max_latency` ms (less than any timeout,
/// so timeouts are reliable), timers fire when due, nodes crash and recover on schedule.
struct Timed {
    nodes: Vec<Option<Node>>,
    logs: Vec<Vec<Record>>,
    config: Config,
    queue: BTreeMap<(u64, u64), Event>,
    seq: u64,
    now: u64,
    incarnation: Vec<u32>,
    latencies: Vec<u64>,
    sent: usize,
    decided: Vec<(NodeId, Outcome)>,
    voted_yes: Vec<bool>,
    ever_down: Vec<bool>,
    /// Crash this node right after its log reaches this length, dropping the rest of the step,
    /// and recover it after the given milliseconds.
    crash_at_log_len: Option<(NodeId, usize, u64)>,
    /// Crash this node for good right after it sends its `n`-th message.
    crash_after_sends: Option<(NodeId, usize)>,
    sent_by: Vec<usize>,
    /// Messages sent, and the longest causal chain of messages (message delays).
    depth_max: u32,
}

#[derive(Clone, Debug)]
enum Event {
    Deliver {
        from: NodeId,
        to: NodeId,
        msg: Msg,
        depth: u32,
    },
    Timer {
        node: NodeId,
        timer: Timer,
        incarnation: u32,
    },
    Crash(NodeId),
    Recover(NodeId),
}

impl Timed {
    fn new(n_participants: u32, config: Config, latencies: Vec<u64>) -> Timed {
        let mut nodes = vec![Some(Node::coordinator(C, config))];
        for i in 1..=n_participants {
            nodes.push(Some(Node::participant(NodeId(i), C, config)));
        }
        let n = nodes.len();
        Timed {
            nodes,
            logs: vec![Vec::new(); n],
            config,
            queue: BTreeMap::new(),
            seq: 0,
            now: 0,
            incarnation: vec![0; n],
            latencies: if latencies.is_empty() {
                vec![1]
            } else {
                latencies
            },
            sent: 0,
            decided: Vec::new(),
            voted_yes: vec![false; n],
            ever_down: vec![false; n],
            crash_at_log_len: None,
            crash_after_sends: None,
            sent_by: vec![0; n],
            depth_max: 0,
        }
    }

    fn at(&mut self, time: u64, event: Event) {
        self.seq += 1;
        self.queue.insert((time, self.seq), event);
    }

    fn begin(&mut self, work: Vec<(NodeId, Work)>) {
        let mut out = Vec::new();
        let request = Request::Begin { tx: T, work };
        if let Some(c) = self.nodes[0].as_mut() {
            c.step(Time(0), I::Request(request), &mut out);
        }
        self.apply(C, out, 0);
    }

    fn apply(&mut self, id: NodeId, out: Vec<Effect>, depth: u32) {
        let i = id.0 as usize;
        for effect in out {
            match effect {
                E::Send { to, msg } => {
                    let latency = self.latencies[self.sent % self.latencies.len()];
                    self.sent += 1;
                    let depth = depth + 1;
                    self.depth_max = self.depth_max.max(depth);
                    self.at(
                        self.now + latency,
                        Event::Deliver {
                            from: id,
                            to,
                            msg,
                            depth,
                        },
                    );
                    self.sent_by[i] += 1;
                    if self.crash_after_sends == Some((id, self.sent_by[i])) {
                        self.crash(id);
                        return;
                    }
                }
                E::SetTimer { timer, after_ms } => {
                    let incarnation = self.incarnation[i];
                    self.at(
                        self.now + after_ms,
                        Event::Timer {
                            node: id,
                            timer,
                            incarnation,
                        },
                    );
                }
                E::Persist { record, .. } => {
                    self.logs[i].push(record);
                    if let Some((node, len, down_ms)) = self.crash_at_log_len
                        && node == id
                        && len == self.logs[i].len()
                    {
                        self.crash_at_log_len = None;
                        self.crash(id);
                        self.at(self.now + down_ms, Event::Recover(id));
                        return;
                    }
                }
                E::Output(Output::Decided { outcome, .. }) => self.decided.push((id, outcome)),
                E::Output(Output::Voted {
                    vote: Vote::Commit, ..
                }) => self.voted_yes[i] = true,
                E::Output(_) => {}
            }
        }
    }

    fn crash(&mut self, id: NodeId) {
        let i = id.0 as usize;
        self.nodes[i] = None;
        self.incarnation[i] += 1;
        self.ever_down[i] = true;
    }

    fn run(&mut self, until: u64) {
        while let Some(((time, _), event)) = self.queue.pop_first() {
            if time > until {
                break;
            }
            self.now = time;
            let mut out = Vec::new();
            let now = Time(time);
            let (id, depth) = match event {
                Event::Deliver {
                    from,
                    to,
                    msg,
                    depth,
                } => {
                    let Some(node) = self.nodes[to.0 as usize].as_mut() else {
                        continue;
                    };
                    node.step(now, I::Msg { from, msg }, &mut out);
                    (to, depth)
                }
                Event::Timer {
                    node,
                    timer,
                    incarnation,
                } => {
                    if incarnation != self.incarnation[node.0 as usize] {
                        continue;
                    }
                    let Some(n) = self.nodes[node.0 as usize].as_mut() else {
                        continue;
                    };
                    n.step(now, I::Timer(timer), &mut out);
                    (node, 0)
                }
                Event::Crash(id) => {
                    self.crash(id);
                    continue;
                }
                Event::Recover(id) => {
                    let i = id.0 as usize;
                    if self.nodes[i].is_some() {
                        continue;
                    }
                    let role = if id == C {
                        Role::Coordinator
                    } else {
                        Role::Participant { coordinator: C }
                    };
                    let node = Node::recover(id, role, self.config, &self.logs[i], now, &mut out);
                    self.nodes[i] = Some(node);
                    (id, 0)
                }
            };
            self.apply(id, out, depth);
        }
    }

    /// Every decision taken, from outputs and from durable records (a node that crashes right
    /// after logging its decision has decided, even if its output was lost with the step).
    fn decisions(&self) -> Vec<(NodeId, Outcome)> {
        let mut all = self.decided.clone();
        for (i, log) in self.logs.iter().enumerate() {
            for record in log {
                let outcome = match record {
                    Record::Committed { .. } => Outcome::Commit,
                    Record::Aborted { .. } => Outcome::Abort,
                    Record::Voted { .. } | Record::PreCommitted { .. } => continue,
                };
                all.push((NodeId(i as u32), outcome));
            }
        }
        all.sort_by_key(|(node, outcome)| (*node, *outcome == Outcome::Commit));
        all.dedup();
        all
    }

    fn outcomes_agree(&self) -> Result<(), String> {
        let all = self.decisions();
        match all.first() {
            Some((_, first)) if all.iter().any(|(_, o)| o != first) => {
                Err(format!("decisions differ: {all:?}"))
            }
            _ => Ok(()),
        }
    }
}

#[test]
fn failure_free_three_phase_commit_sends_5n_messages_in_5_delays() {
    for n in 1..=6u32 {
        let mut sim = Timed::new(n, Config::default(), vec![1]);
        let work = (1..=n).map(|i| (NodeId(i), Work::Ready)).collect();
        sim.begin(work);
        sim.run(10_000);
        assert_eq!(sim.decided.len() as u32, n + 1);
        assert!(sim.decided.iter().all(|(_, o)| *o == Outcome::Commit));
        // CANCOMMIT, vote, PRECOMMIT, ack, DOCOMMIT: one of each per participant.
        assert_eq!(sim.sent as u32, 5 * n, "n = {n}");
        assert_eq!(sim.depth_max, 5, "n = {n}");
    }
}

#[test]
fn recovery_from_every_log_prefix_keeps_atomicity_and_everybody_decides() {
    // Crash each node right after each record it writes (dropping the rest of that step), on
    // the failure-free path and on a path where the coordinator dies mid-PRECOMMIT.
    for coordinator_dies in [false, true] {
        for node in 0..=3u32 {
            for len in 1..=3usize {
                let mut sim = Timed::new(3, Config::default(), vec![1, 2, 3]);
                sim.crash_at_log_len = Some((NodeId(node), len, 500));
                if coordinator_dies {
                    // The coordinator's second send of PRECOMMIT happens at time 3..=4.
                    sim.at(4, Event::Crash(C));
                }
                let work = (1..=3).map(|i| (NodeId(i), Work::Ready)).collect();
                sim.begin(work);
                sim.run(5_000);
                let label = format!("node {node} after {len} records, {coordinator_dies}");
                assert_eq!(sim.outcomes_agree(), Ok(()), "{label}");
                for p in 1..=3 {
                    let node = sim.nodes[p].as_ref().expect("recovered");
                    assert!(node.outcome(T).is_some(), "{label}: P{p} undecided");
                }
            }
        }
    }
}

proptest! {
    /// With crash failures and reliable timeouts (every message is faster than every timeout),
    /// whatever crashes and recoveries happen, no two nodes decide differently, and every
    /// participant that voted yes and never crashed decides: 3PC does not block.
    #[test]
    fn three_phase_commit_is_atomic_and_non_blocking_with_crash_failures(
        work in prop::collection::vec(prop::bool::weighted(0.85), 1..5),
        latencies in prop::collection::vec(1u64..=5, 1..16),
        crashes in prop::collection::vec(
            (0usize..5, 0u64..250, prop::option::of(1u64..400)),
            0..4,
        ),
    ) {
        let n = work.len() as u32;
        let mut sim = Timed::new(n, Config::default(), latencies);
        for (node, at, back_after) in crashes {
            let id = NodeId((node % (n as usize + 1)) as u32);
            sim.at(at, Event::Crash(id));
            if let Some(after) = back_after {
                sim.at(at + after, Event::Recover(id));
            }
        }
        let work = work
            .iter()
            .enumerate()
            .map(|(i, ok)| (NodeId(i as u32 + 1), if *ok { Work::Ready } else { Work::Conflict }))
            .collect();
        sim.begin(work);
        sim.run(20_000);
        prop_assert_eq!(sim.outcomes_agree(), Ok(()));
        for p in 1..=n as usize {
            if sim.voted_yes[p] && !sim.ever_down[p] {
                let decided = sim.nodes[p].as_ref().and_then(|node| node.outcome(T));
                prop_assert!(decided.is_some(), "P{} is blocked: {:?}", p, sim.decided);
            }
        }
    }
}

/// Deterministic pseudo-random latencies for the searches below (a 64-bit LCG).
fn latencies(seed: u64, max: u64, len: usize) -> Vec<u64> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            1 + (x >> 33) % max
        })
        .collect()
}

#[test]
fn the_same_scheduler_finds_a_violation_once_messages_can_outlast_timeouts() {
    // No crash at all: only latencies up to 60 ms against timeouts of 40 to 80 ms.
    let violated = (0..500u64).find(|seed| {
        let mut sim = Timed::new(3, Config::default(), latencies(*seed, 60, 32));
        sim.begin((1..=3).map(|i| (NodeId(i), Work::Ready)).collect());
        sim.run(20_000);
        sim.outcomes_agree().is_err()
    });
    assert!(violated.is_some());
}

#[test]
fn the_scheduler_shows_the_skipped_pre_commit_breaking_atomicity_with_crashes_alone() {
    for variant in [Variant::Correct, Variant::BackupSkipsPreCommit] {
        let mut sim = Timed::new(3, config(variant), vec![1]);
        // The coordinator dies right after its first PRECOMMIT (its 4th message) leaves; the
        // backup P1 dies right after it logs its decision, before telling anybody.
        sim.crash_after_sends = Some((C, 4));
        sim.crash_at_log_len = Some((P1, 3, 10_000));
        sim.begin((1..=3).map(|i| (NodeId(i), Work::Ready)).collect());
        sim.run(5_000);
        match variant {
            Variant::BackupSkipsPreCommit => {
                assert_eq!(
                    sim.decisions(),
                    [
                        (P1, Outcome::Commit),
                        (P2, Outcome::Abort),
                        (P3, Outcome::Abort)
                    ]
                );
            }
            _ => {
                // P1 pre-committed P2 and P3 before its COMMITTED record; they commit too.
                assert_eq!(sim.outcomes_agree(), Ok(()));
                assert_eq!(sim.decisions().len(), 3, "{:?}", sim.decisions());
            }
        }
    }
}

#[test]
fn the_coordinator_dying_after_pre_commit_blocks_only_without_the_termination_protocol() {
    for variant in [Variant::Correct, Variant::NoTermination] {
        let mut sim = Timed::new(3, config(variant), vec![1, 2]);
        // The coordinator dies for good after its last PRECOMMIT leaves.
        sim.crash_after_sends = Some((C, 6));
        sim.begin((1..=3).map(|i| (NodeId(i), Work::Ready)).collect());
        sim.run(5_000);
        let outcomes: Vec<Option<Outcome>> = (1..=3)
            .map(|p| sim.nodes[p].as_ref().and_then(|n| n.outcome(T)))
            .collect();
        let expected = match variant {
            Variant::NoTermination => None,
            _ => Some(Outcome::Commit),
        };
        assert_eq!(outcomes, [expected; 3], "{variant}");
    }
}
