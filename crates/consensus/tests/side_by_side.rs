//! Two-Phase Commit, Three-Phase Commit and Paxos Commit under the same faults, driven through
//! the public API only, as `underhood-sim` drives them: the coordinator (or TM) is node 0, the
//! participants (or RMs) nodes 1 to 3, Paxos Commit's three acceptors (F = 1) nodes 4 to 6.
//! Every message takes 10 ms; a partition drops what crosses it when it arrives.

use std::collections::BTreeMap;

use proptest::prelude::*;
use std::fmt::Debug;

use underhood_consensus::{Effect, Input, NodeId, Time, TxId};
use underhood_consensus::{paxos_commit as pc, three_phase as tpc, two_phase as tp};

use tp::{Outcome, Request, Work};

const T: TxId = TxId(1);
const LATENCY: u64 = 10;
const PARTICIPANTS: [NodeId; 3] = [NodeId(1), NodeId(2), NodeId(3)];

/// The effects of a node `N`.
type Effects<N> =
    Vec<Effect<<N as Node>::Msg, <N as Node>::Timer, <N as Node>::Record, <N as Node>::Output>>;

/// What the driver needs from a node of any of the three protocols.
trait Node: Clone {
    type Msg: Clone + Debug;
    type Timer: Clone + Debug;
    type Record: Clone + Debug;
    type Output;

    fn step(
        &mut self,
        now: Time,
        input: Input<Self::Msg, Self::Timer, Request>,
        out: &mut Effects<Self>,
    );
    fn outcome(&self, tx: TxId) -> Option<Outcome>;
    fn in_doubt(&self, tx: TxId) -> bool;
}

impl Node for tp::Node {
    type Msg = tp::Msg;
    type Timer = tp::Timer;
    type Record = tp::Record;
    type Output = tp::Output;

    fn step(&mut self, now: Time, input: tp::Input, out: &mut Vec<tp::Effect>) {
        tp::Node::step(self, now, input, out);
    }
    fn outcome(&self, tx: TxId) -> Option<Outcome> {
        tp::Node::outcome(self, tx)
    }
    fn in_doubt(&self, tx: TxId) -> bool {
        matches!(self.view(tx), Some(tp::TxView::InDoubt { .. }))
    }
}

impl Node for tpc::Node {
    type Msg = tpc::Msg;
    type Timer = tpc::Timer;
    type Record = tpc::Record;
    type Output = tpc::Output;

    fn step(&mut self, now: Time, input: tpc::Input, out: &mut Vec<tpc::Effect>) {
        tpc::Node::step(self, now, input, out);
    }
    fn outcome(&self, tx: TxId) -> Option<Outcome> {
        tpc::Node::outcome(self, tx)
    }
    fn in_doubt(&self, tx: TxId) -> bool {
        self.view(tx).is_some_and(|v| v.in_doubt_since.is_some())
    }
}

impl Node for pc::Node {
    type Msg = pc::Msg;
    type Timer = pc::Timer;
    type Record = pc::Record;
    type Output = pc::Output;

    fn step(&mut self, now: Time, input: pc::Input, out: &mut Vec<pc::Effect>) {
        pc::Node::step(self, now, input, out);
    }
    fn outcome(&self, tx: TxId) -> Option<Outcome> {
        pc::Node::outcome(self, tx)
    }
    fn in_doubt(&self, tx: TxId) -> bool {
        matches!(
            self.view(tx),
            Some(pc::TxView::Rm {
                in_doubt_since: Some(_),
                ..
            })
        )
    }
}

enum Event<N: Node> {
    Deliver {
        from: NodeId,
        to: NodeId,
        msg: N::Msg,
    },
    Timer {
        node: NodeId,
        timer: N::Timer,
    },
    Crash(NodeId),
}

/// The faults of a run, the same for every protocol.
#[derive(Clone, Default)]
struct Faults {
    /// The coordinator dies for good at this time.
    coordinator_dies_at: Option<u64>,
    /// From `start` to `end`, `side` cannot talk to the rest.
    partition: Option<(u64, u64, Vec<NodeId>)>,
}

struct Run<N: Node> {
    nodes: Vec<Option<N>>,
    queue: BTreeMap<(u64, u64), Event<N>>,
    seq: u64,
    faults: Faults,
    messages: usize,
}

impl<N: Node> Run<N> {
    fn new(nodes: Vec<N>, faults: Faults) -> Run<N> {
        let mut run = Run {
            nodes: nodes.into_iter().map(Some).collect(),
            queue: BTreeMap::new(),
            seq: 0,
            faults,
            messages: 0,
        };
        if let Some(at) = run.faults.coordinator_dies_at {
            run.at(at, Event::Crash(NodeId(0)));
        }
        run
    }

    fn at(&mut self, time: u64, event: Event<N>) {
        self.seq += 1;
        self.queue.insert((time, self.seq), event);
    }

    fn cut(&self, now: u64, a: NodeId, b: NodeId) -> bool {
        self.faults
            .partition
            .as_ref()
            .is_some_and(|(start, end, side)| {
                (*start..*end).contains(&now) && side.contains(&a) != side.contains(&b)
            })
    }

    fn apply(&mut self, now: u64, id: NodeId, out: Effects<N>) {
        for effect in out {
            match effect {
                Effect::Send { to, msg } => {
                    self.messages += 1;
                    self.at(now + LATENCY, Event::Deliver { from: id, to, msg });
                }
                Effect::SetTimer { timer, after_ms } => {
                    self.at(now + after_ms, Event::Timer { node: id, timer });
                }
                Effect::Persist { .. } | Effect::Output(_) => {}
            }
        }
    }

    fn run(&mut self, work: Vec<(NodeId, Work)>, until: u64) {
        let mut out = Vec::new();
        let begin = Input::Request(Request::Begin { tx: T, work });
        if let Some(c) = self.nodes[0].as_mut() {
            c.step(Time(0), begin, &mut out);
        }
        self.apply(0, NodeId(0), out);
        while let Some(((now, _), event)) = self.queue.pop_first() {
            if now > until {
                break;
            }
            let mut out = Vec::new();
            let id = match event {
                Event::Deliver { from, to, msg } => {
                    if self.cut(now, from, to) {
                        continue;
                    }
                    let Some(node) = self.nodes[to.0 as usize].as_mut() else {
                        continue;
                    };
                    node.step(Time(now), Input::Msg { from, msg }, &mut out);
                    to
                }
                Event::Timer { node, timer } => {
                    let Some(n) = self.nodes[node.0 as usize].as_mut() else {
                        continue;
                    };
                    n.step(Time(now), Input::Timer(timer), &mut out);
                    node
                }
                Event::Crash(id) => {
                    self.nodes[id.0 as usize] = None;
                    continue;
                }
            };
            self.apply(now, id, out);
        }
    }

    /// What each participant decided (`None`: undecided), and whether any live one is in doubt.
    fn verdict(&self) -> (Vec<Option<Outcome>>, bool) {
        let outcomes = PARTICIPANTS
            .iter()
            .map(|p| self.nodes[p.0 as usize].as_ref().and_then(|n| n.outcome(T)))
            .collect();
        let blocked = PARTICIPANTS
            .iter()
            .filter_map(|p| self.nodes[p.0 as usize].as_ref())
            .any(|n| n.in_doubt(T));
        (outcomes, blocked)
    }
}

fn ready() -> Vec<(NodeId, Work)> {
    PARTICIPANTS.iter().map(|p| (*p, Work::Ready)).collect()
}

fn two_phase(faults: &Faults) -> Run<tp::Node> {
    let config = tp::Config::default();
    let mut nodes = vec![tp::Node::coordinator(NodeId(0), config)];
    nodes.extend(
        PARTICIPANTS
            .iter()
            .map(|p| tp::Node::participant(*p, NodeId(0), config)),
    );
    Run::new(nodes, faults.clone())
}

fn three_phase(faults: &Faults) -> Run<tpc::Node> {
    let config = tpc::Config::default();
    let mut nodes = vec![tpc::Node::coordinator(NodeId(0), config)];
    nodes.extend(
        PARTICIPANTS
            .iter()
            .map(|p| tpc::Node::participant(*p, NodeId(0), config)),
    );
    Run::new(nodes, faults.clone())
}

fn paxos_commit(faults: &Faults) -> Run<pc::Node> {
    let acceptors = pc::Acceptors::new(NodeId(4), 1).expect("small ids");
    let config = pc::Config::new(acceptors);
    let mut nodes = vec![pc::Node::tm(NodeId(0), config)];
    nodes.extend(
        PARTICIPANTS
            .iter()
            .map(|p| pc::Node::rm(*p, NodeId(0), config)),
    );
    nodes.extend(
        acceptors
            .ids()
            .map(|a| pc::Node::acceptor(a, NodeId(0), config)),
    );
    Run::new(nodes, faults.clone())
}

/// Checks one protocol's verdict: each participant's outcome, and whether one is blocked.
#[track_caller]
fn check<N: Node>(mut run: Run<N>, expected: [Option<Outcome>; 3], blocked: bool) {
    run.run(ready(), 3_000);
    assert_eq!(run.verdict(), (expected.to_vec(), blocked));
}

#[test]
fn failure_free_every_protocol_commits() {
    let commit = Some(Outcome::Commit);
    check(two_phase(&Faults::default()), [commit; 3], false);
    check(three_phase(&Faults::default()), [commit; 3], false);
    check(paxos_commit(&Faults::default()), [commit; 3], false);
}

/// The coordinator dies after every vote is sent (votes leave at 10 ms) and before any decision
/// leaves it (the first could leave at 20 ms): 2PC blocks, 3PC and Paxos Commit decide.
#[test]
fn coordinator_crash_blocks_only_two_phase_commit() {
    let faults = Faults {
        coordinator_dies_at: Some(15),
        ..Faults::default()
    };
    check(two_phase(&faults), [None; 3], true);
    // Nobody reached `p`: the backup sees only `w` and aborts.
    check(three_phase(&faults), [Some(Outcome::Abort); 3], false);
    // Every Prepared vote is safe with the acceptors: an RM leads the transaction to commit.
    check(paxos_commit(&faults), [Some(Outcome::Commit); 3], false);
}

/// From 25 ms to 1 s the coordinator, participant 1 and acceptor 4 are cut off from the rest,
/// while decisions are on their way (the coordinator's second-phase messages leave at 20 ms and
/// would arrive at 30 ms). 3PC breaks atomicity; 2PC and Paxos Commit stay atomic and finish
/// once the network heals.
#[test]
fn partition_breaks_only_three_phase_commit() {
    let faults = Faults {
        partition: Some((25, 1_000, vec![NodeId(0), NodeId(1), NodeId(4)])),
        ..Faults::default()
    };
    let (commit, abort) = (Some(Outcome::Commit), Some(Outcome::Abort));
    // PRECOMMIT reaches participant 1 only (on the coordinator's side): the coordinator
    // commits on the acknowledgement timeout and tells participant 1; the cut-off side elects
    // a backup among participants 2 and 3, sees only `w`, and aborts. Healing changes nothing:
    // a decision is final.
    check(three_phase(&faults), [commit, abort, abort], false);
    let mut run = three_phase(&faults);
    run.run(ready(), 3_000);
    assert_eq!(run.nodes[0].as_ref().and_then(|c| c.outcome(T)), commit);
    // 2PC: COMMIT is lost on the way to 2 and 3, which wait in doubt, then commit on a resend.
    check(two_phase(&faults), [commit; 3], false);
    // Paxos Commit: the majority of acceptors is with RMs 2 and 3, which lead the
    // transaction to commit; RM 1 hears it after the heal.
    check(paxos_commit(&faults), [commit; 3], false);
}

/// Every decision a run's nodes hold (coordinator or TM included).
fn decisions<N: Node>(run: &Run<N>) -> Vec<Outcome> {
    run.nodes
        .iter()
        .flatten()
        .filter_map(|n| n.outcome(T))
        .collect()
}

proptest! {
    /// Any partition (any side, any window before 600 ms), with or without the coordinator
    /// dying: 2PC and Paxos Commit never decide both ways; once the network heals, no Paxos
    /// Commit RM stays in doubt, and no 2PC participant either while its coordinator lives.
    #[test]
    fn two_phase_and_paxos_commit_stay_atomic_and_finish_after_any_partition(
        side in prop::collection::vec(any::<bool>(), 7),
        start in 0u64..300,
        length in 1u64..300,
        dies in prop::option::of(0u64..200),
    ) {
        let side: Vec<NodeId> = (0..7).filter(|i| side[*i as usize]).map(NodeId).collect();
        let faults = Faults {
            coordinator_dies_at: dies,
            partition: Some((start, start + length, side)),
        };
        let mut run = paxos_commit(&faults);
        run.run(ready(), 5_000);
        let outcomes = decisions(&run);
        prop_assert!(outcomes.windows(2).all(|w| w[0] == w[1]), "{:?}", outcomes);
        prop_assert!(!run.verdict().1, "an RM is still in doubt");

        let mut run = two_phase(&faults);
        run.run(ready(), 5_000);
        let outcomes = decisions(&run);
        prop_assert!(outcomes.windows(2).all(|w| w[0] == w[1]), "{:?}", outcomes);
        if dies.is_none() {
            prop_assert!(!run.verdict().1, "a participant is still in doubt");
        }
    }
}
