//! Skeen's Three-Phase Commit (1981) with the central-site termination protocol, as a pair of
//! sans-IO state machines.
//!
//! # The protocol
//!
//! A coordinator and its participants move through Skeen's states: `q` (initial), `w` (waiting:
//! voted, outcome unknown), `p` (pre-committed), `c` (committed) and `a` (aborted), named
//! [`State::Initial`], [`State::Waiting`], [`State::PreCommitted`], [`State::Committed`] and
//! [`State::Aborted`].
//!
//! 1. The coordinator sends CANCOMMIT to every participant and enters `w`.
//!    A participant whose local work failed votes no and aborts; otherwise it forces a VOTED
//!    record, votes yes and enters `w`.
//! 2. One "no", or a vote missing after [`Config::vote_timeout_ms`], makes the coordinator abort.
//!    With every "yes" in hand it forces PRE-COMMITTED, sends PRECOMMIT and enters `p`;
//!    a participant forces PRE-COMMITTED, acknowledges and enters `p`.
//! 3. With every acknowledgement, or after [`Config::ack_timeout_ms`] (a participant that did
//!    not answer has crashed and will learn the outcome when it recovers), the coordinator forces
//!    COMMITTED and sends DOCOMMIT.
//!
//! No state is adjacent to both `c` and `a`: a participant in `w` knows nobody has committed,
//! and a participant in `p` knows everybody voted yes. That is what lets the survivors finish
//! without the coordinator.
//!
//! # The termination protocol
//!
//! A participant in `w` or `p` that hears nothing from the coordinator for
//! [`Config::decision_timeout_ms`] starts *term* 1 of the termination protocol.
//! The backup coordinator of term `k` is the `k`-th participant in id order (wrapping around);
//! a participant that is not the backup sends it ELECT and waits twice
//! [`Config::termination_timeout_ms`] for it, then moves to term `k + 1`.
//! With crash failures and reliable timeouts this elects the lowest-numbered live participant,
//! and every live participant agrees on it.
//!
//! The backup sends STATE-REQ to every other participant. A participant adopts the higher term,
//! stops listening to lower terms (the old coordinator is term 0), and reports its state; one
//! still in `q` aborts first (it never voted, so it may). With every report in, or after the
//! termination timeout, the backup decides by these rules, in order (Skeen 1981; Bernstein,
//! Hadzilacos and Goodman, *Concurrency Control and Recovery in Database Systems*, 1987, ch. 7):
//!
//! 1. some state is `a` (its own or a report): abort;
//! 2. some state is `c`: commit;
//! 3. every state is `w`: abort;
//! 4. otherwise some are `p` and none decided: the backup enters `p`, sends PRECOMMIT to the
//!    participants that reported `w`, waits for their acknowledgements (or the timeout), and then
//!    commits.
//!
//! The decision goes to every participant and to the old coordinator. If the backup dies, the
//! survivors time out and elect the next one, which applies the same rules.
//!
//! # Recovery
//!
//! Recovery is a function of the log alone ([`Node::recover`]). A participant with no record
//! never voted, so it may abort: asked about the transaction (ELECT, STATE-REQ, QUERY), it
//! forces ABORTED and answers abort. One that logged VOTED or PRE-COMMITTED is in doubt and asks everybody (QUERY) until somebody
//! that knows the outcome answers. A recovered node never runs a termination round for such a
//! transaction: its state may be older than a decision the survivors took while it was down
//! (Bernstein et al.'s rule), so after a total failure the transaction waits for a node that
//! decided. A coordinator with PRE-COMMITTED but no outcome asks the same way; with no record at
//! all it never pre-committed, so nobody can have committed, and it answers queries with abort.
//!
//! # What 3PC does not survive
//!
//! The rules are safe only if a timeout means the other side crashed. When the network
//! partitions, or a PRECOMMIT is delayed past the timeout, the coordinator's side commits (it
//! treats missing acknowledgements as crashes) while the other side, all in `w`, elects a backup
//! and aborts. The unit test `partition_makes_the_two_sides_decide_differently` replays exactly
//! that.
//!
//! With the default [`Config`], timeouts are reliable while every message takes less than 10 ms
//! (the property test `three_phase_commit_is_atomic_and_non_blocking_with_crash_failures` runs
//! with 1 to 5 ms). On the failure-free path a transaction costs 5 messages per participant
//! (CANCOMMIT, vote, PRECOMMIT, acknowledgement, DOCOMMIT) and 5 message delays, against 2PC's
//! 3 messages and 3 delays (counted by `failure_free_three_phase_commit_sends_5n_messages_in_5_delays`).
//!
//! # Ordering rules a caller must keep
//!
//! Effects come out in the order they must happen. A [`Durability::Forced`] record is on stable
//! storage before any later effect of the same step: VOTED before the yes vote, PRE-COMMITTED
//! before PRECOMMIT or its acknowledgement, COMMITTED before DOCOMMIT.
//!
//! # Broken variants
//!
//! [`Variant`] selects deliberately wrong behaviour: [`Variant::NoTermination`] (blocks like
//! 2PC) and [`Variant::BackupSkipsPreCommit`] (breaks atomicity with crash failures alone).
//!
//! # Example
//!
//! ```
//! use underhood_consensus::three_phase::{Config, Msg, Node, Outcome, Request, Work};
//! use underhood_consensus::{Effect, Input, NodeId, Time, TxId};
//!
//! let config = Config::default();
//! let ids = [NodeId(0), NodeId(1), NodeId(2)];
//! let mut nodes = vec![
//!     Node::coordinator(ids[0], config),
//!     Node::participant(ids[1], ids[0], config),
//!     Node::participant(ids[2], ids[0], config),
//! ];
//! let begin = Request::Begin {
//!     tx: TxId(1),
//!     work: vec![(ids[1], Work::Ready), (ids[2], Work::Ready)],
//! };
//! let mut out = Vec::new();
//! nodes[0].step(Time(0), Input::Request(begin), &mut out);
//! // Deliver every message in the order sent until the network is quiet.
//! let mut in_flight: std::collections::VecDeque<(NodeId, NodeId, Msg)> = Default::default();
//! let mut from = ids[0];
//! loop {
//!     for effect in out.drain(..) {
//!         if let Effect::Send { to, msg } = effect {
//!             in_flight.push_back((from, to, msg));
//!         }
//!     }
//!     let Some((sender, to, msg)) = in_flight.pop_front() else { break };
//!     from = to;
//!     nodes[to.0 as usize].step(Time(1), Input::Msg { from: sender, msg }, &mut out);
//! }
//! assert!(nodes.iter().all(|n| n.outcome(TxId(1)) == Some(Outcome::Commit)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod coordinator;
mod participant;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Durability, NodeId, Time, TxId};

pub use crate::two_phase::{Outcome, Vote, Work};
pub use coordinator::Coordinator;
pub use participant::Participant;

/// Skeen's local states of one node for one transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// `q`: has not voted (participant) or not started (coordinator).
    Initial,
    /// `w`: voted yes (participant) or collecting votes (coordinator); the outcome is unknown.
    Waiting,
    /// `p`: everybody voted yes and this node knows it; commit is the only way out.
    PreCommitted,
    /// `c`: committed.
    Committed,
    /// `a`: aborted.
    Aborted,
}

impl State {
    /// Skeen's one-letter name: `q`, `w`, `p`, `c` or `a`.
    pub fn letter(self) -> char {
        match self {
            State::Initial => 'q',
            State::Waiting => 'w',
            State::PreCommitted => 'p',
            State::Committed => 'c',
            State::Aborted => 'a',
        }
    }

    /// The outcome, in the two final states.
    pub fn outcome(self) -> Option<Outcome> {
        match self {
            State::Committed => Some(Outcome::Commit),
            State::Aborted => Some(Outcome::Abort),
            State::Initial | State::Waiting | State::PreCommitted => None,
        }
    }
}

/// A termination-protocol term: 0 is the original coordinator, `k >= 1` the `k`-th backup.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Term(pub u32);

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "term {}", self.0)
    }
}

/// The messages of the protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    /// Coordinator → participant: can you commit `tx`? Lists every participant, for termination.
    CanCommit {
        /// The transaction.
        tx: TxId,
        /// This participant's local result.
        work: Work,
        /// Every participant of `tx`, in id order.
        participants: Vec<NodeId>,
    },
    /// Participant → coordinator: the vote.
    Vote {
        /// The transaction.
        tx: TxId,
        /// The vote.
        vote: Vote,
    },
    /// Coordinator (term 0) or backup → participant: everybody voted yes; enter `p`.
    PreCommit {
        /// The transaction.
        tx: TxId,
        /// The sender's term.
        term: Term,
    },
    /// Participant → sender of a [`Msg::PreCommit`]: this node is in `p`, durably.
    Ack {
        /// The transaction.
        tx: TxId,
        /// The term acknowledged.
        term: Term,
    },
    /// The outcome (DOCOMMIT or ABORT), from the coordinator, a backup, or anybody asked.
    Decision {
        /// The transaction.
        tx: TxId,
        /// The outcome.
        outcome: Outcome,
    },
    /// Participant → the backup of `term`: the coordinator is silent, take over.
    Elect {
        /// The transaction.
        tx: TxId,
        /// The term whose backup is asked.
        term: Term,
    },
    /// Backup → participant: report your state for `term`.
    StateReq {
        /// The transaction.
        tx: TxId,
        /// The backup's term.
        term: Term,
    },
    /// Participant → backup: its state.
    StateReport {
        /// The transaction.
        tx: TxId,
        /// The term answered.
        term: Term,
        /// The participant's state.
        state: State,
    },
    /// A recovered node in doubt → everybody: what happened to `tx`? Answered by a
    /// [`Msg::Decision`] from nodes that know.
    Query {
        /// The transaction.
        tx: TxId,
    },
}

impl Msg {
    /// The message's kind as a short lowercase word, for rules and display.
    pub fn kind(&self) -> &'static str {
        match self {
            Msg::CanCommit { .. } => "can-commit",
            Msg::Vote { .. } => "vote",
            Msg::PreCommit { .. } => "pre-commit",
            Msg::Ack { .. } => "ack",
            Msg::Decision {
                outcome: Outcome::Commit,
                ..
            } => "commit",
            Msg::Decision {
                outcome: Outcome::Abort,
                ..
            } => "abort",
            Msg::Elect { .. } => "elect",
            Msg::StateReq { .. } => "state-req",
            Msg::StateReport { .. } => "state-report",
            Msg::Query { .. } => "query",
        }
    }

    /// The transaction the message is about.
    pub fn tx(&self) -> TxId {
        match self {
            Msg::CanCommit { tx, .. }
            | Msg::Vote { tx, .. }
            | Msg::PreCommit { tx, .. }
            | Msg::Ack { tx, .. }
            | Msg::Decision { tx, .. }
            | Msg::Elect { tx, .. }
            | Msg::StateReq { tx, .. }
            | Msg::StateReport { tx, .. }
            | Msg::Query { tx } => *tx,
        }
    }
}

/// Timers a node sets for itself. A timer names the wait it ends; a node ignores a timer for a
/// wait that is already over, so timers never need cancelling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// Coordinator: votes on `tx` are overdue; abort if still in `w`.
    VoteTimeout(TxId),
    /// Coordinator: acknowledgements of PRECOMMIT are overdue; commit if still in `p`.
    AckTimeout(TxId),
    /// Recovered coordinator or participant: ask again.
    Retry(TxId),
    /// Participant: the wait number `wait` on `tx` is over (for the coordinator, for a backup,
    /// for state reports, or for acknowledgements, depending on where the node is).
    Wait {
        /// The transaction.
        tx: TxId,
        /// Which wait; a newer wait makes older timers stale.
        wait: u32,
    },
}

/// Records in a node's durable log. Recovery rebuilds a node from these alone.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Record {
    /// Participant: voted yes on `tx` (forced before the vote). Skeen's `w`.
    Voted {
        /// The transaction.
        tx: TxId,
        /// Every participant of `tx`.
        participants: Vec<NodeId>,
    },
    /// Entered `p` (forced before PRECOMMIT is sent or acknowledged).
    PreCommitted {
        /// The transaction.
        tx: TxId,
        /// Every participant of `tx`.
        participants: Vec<NodeId>,
    },
    /// `tx` committed (forced before DOCOMMIT is sent).
    Committed {
        /// The transaction.
        tx: TxId,
    },
    /// `tx` aborted. Lazy, except for a participant that aborts in `q` on a backup's request.
    Aborted {
        /// The transaction.
        tx: TxId,
    },
}

impl Record {
    /// The transaction the record is about.
    pub fn tx(&self) -> TxId {
        match self {
            Record::Voted { tx, .. }
            | Record::PreCommitted { tx, .. }
            | Record::Committed { tx }
            | Record::Aborted { tx } => *tx,
        }
    }
}

/// A client request, the same as Two-Phase Commit's.
pub use crate::two_phase::Request;

/// What a node reports to clients and checkers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    /// A participant cast its vote on `tx`.
    Voted {
        /// The transaction.
        tx: TxId,
        /// The vote.
        vote: Vote,
    },
    /// The node entered `p` for `tx`.
    PreCommitted {
        /// The transaction.
        tx: TxId,
    },
    /// A participant became the backup coordinator of `tx` in `term`.
    TookOver {
        /// The transaction.
        tx: TxId,
        /// Its term.
        term: Term,
    },
    /// The node decided `tx`. A correct node never decides the same transaction two ways.
    Decided {
        /// The transaction.
        tx: TxId,
        /// The outcome.
        outcome: Outcome,
    },
    /// The coordinator answered the client.
    Replied {
        /// The transaction.
        tx: TxId,
        /// The outcome.
        outcome: Outcome,
    },
}

/// The concrete effect type of Three-Phase Commit.
pub type Effect = crate::Effect<Msg, Timer, Record, Output>;
/// The concrete input type of Three-Phase Commit.
pub type Input = crate::Input<Msg, Timer, Request>;

/// Deliberately wrong behaviour, selectable by name (see [`Variant::NAMES`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// The protocol as it should be.
    #[default]
    Correct,
    /// No termination protocol: a participant that times out only asks the coordinator and its
    /// peers, like 2PC's cooperative termination, and blocks while the coordinator is down.
    NoTermination,
    /// A backup that sees some `p` commits at once, without first moving the `w` participants to
    /// `p`: if it dies right after, the next backup sees only `w` and aborts.
    BackupSkipsPreCommit,
}

impl Variant {
    /// Every variant's name, as [`FromStr`] and serde accept it.
    pub const NAMES: [&'static str; 3] = ["correct", "no-termination", "backup-skips-pre-commit"];

    /// The variant's name.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Correct => Self::NAMES[0],
            Variant::NoTermination => Self::NAMES[1],
            Variant::BackupSkipsPreCommit => Self::NAMES[2],
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A variant name that is not one of [`Variant::NAMES`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownVariant {
    /// The name given.
    pub name: String,
}

impl fmt::Display for UnknownVariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown three-phase commit variant {:?} (expected one of: {})",
            self.name,
            Variant::NAMES.join(", ")
        )
    }
}

impl std::error::Error for UnknownVariant {}

impl FromStr for Variant {
    type Err = UnknownVariant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Variant::Correct,
            Variant::NoTermination,
            Variant::BackupSkipsPreCommit,
        ]
        .into_iter()
        .find(|v| v.name() == s)
        .ok_or_else(|| UnknownVariant { name: s.to_owned() })
    }
}

/// Timeouts and the variant, shared by every node of a cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// How long the coordinator waits for votes before it aborts.
    pub vote_timeout_ms: u64,
    /// How long the coordinator waits for acknowledgements of PRECOMMIT before it commits anyway.
    pub ack_timeout_ms: u64,
    /// How long a participant in `w` or `p` waits for the coordinator before it starts the
    /// termination protocol.
    pub decision_timeout_ms: u64,
    /// How long a backup waits for state reports, and for acknowledgements of its PRECOMMIT;
    /// a follower waits twice as long for each message of its backup.
    pub termination_timeout_ms: u64,
    /// How often a recovered node in doubt asks again.
    pub retry_ms: u64,
    /// Which behaviour to run.
    pub variant: Variant,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            vote_timeout_ms: 50,
            ack_timeout_ms: 50,
            decision_timeout_ms: 60,
            termination_timeout_ms: 40,
            retry_ms: 40,
            variant: Variant::Correct,
        }
    }
}

/// A node's role, which recovery needs besides the durable log.
pub use crate::two_phase::Role;

/// One node of a Three-Phase Commit cluster.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    /// The coordinator.
    Coordinator(Coordinator),
    /// A participant.
    Participant(Participant),
}

/// How a node sees one transaction, for display and checkers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TxView {
    /// Skeen's state.
    pub state: State,
    /// The highest termination term this node has taken part in (0: none).
    pub term: Term,
    /// Whether this node is the backup coordinator of `term`.
    pub backup: bool,
    /// Since when the node is in doubt (participant in `w` or `p`, or a recovered coordinator
    /// in `p`), if it is.
    pub in_doubt_since: Option<Time>,
}

impl Node {
    /// A fresh coordinator with an empty log.
    pub fn coordinator(id: NodeId, config: Config) -> Node {
        Node::Coordinator(Coordinator::new(id, config))
    }

    /// A fresh participant with an empty log.
    pub fn participant(id: NodeId, coordinator: NodeId, config: Config) -> Node {
        Node::Participant(Participant::new(id, coordinator, config))
    }

    /// Rebuilds a node after a crash from its role and durable log only.
    /// Effects needed to resume (queries, timers) are pushed to `out`.
    pub fn recover(
        id: NodeId,
        role: Role,
        config: Config,
        log: &[Record],
        now: Time,
        out: &mut Vec<Effect>,
    ) -> Node {
        match role {
            Role::Coordinator => Node::Coordinator(Coordinator::recover(id, config, log, now, out)),
            Role::Participant { coordinator } => {
                Node::Participant(Participant::recover(id, coordinator, config, log, now, out))
            }
        }
    }

    /// Handles one input at time `now`, pushing effects to `out` in the order they must happen.
    pub fn step(&mut self, now: Time, input: Input, out: &mut Vec<Effect>) {
        match self {
            Node::Coordinator(c) => c.step(now, input, out),
            Node::Participant(p) => p.step(now, input, out),
        }
    }

    /// The node's role.
    pub fn role(&self) -> Role {
        match self {
            Node::Coordinator(_) => Role::Coordinator,
            Node::Participant(p) => Role::Participant {
                coordinator: p.coordinator(),
            },
        }
    }

    /// The outcome of `tx` as this node knows it, if decided.
    pub fn outcome(&self, tx: TxId) -> Option<Outcome> {
        self.view(tx)?.state.outcome()
    }

    /// How this node sees `tx`, if it has heard of it.
    pub fn view(&self, tx: TxId) -> Option<TxView> {
        match self {
            Node::Coordinator(c) => c.view(tx),
            Node::Participant(p) => p.view(tx),
        }
    }

    /// Every transaction this node has heard of, in id order, with how it sees it.
    pub fn views(&self) -> Vec<(TxId, TxView)> {
        match self {
            Node::Coordinator(c) => c.views(),
            Node::Participant(p) => p.views(),
        }
    }
}

fn persist(record: Record, durability: Durability) -> Effect {
    crate::Effect::Persist { record, durability }
}

fn send(to: NodeId, msg: Msg) -> Effect {
    crate::Effect::Send { to, msg }
}

fn set_timer(timer: Timer, after_ms: u64) -> Effect {
    crate::Effect::SetTimer { timer, after_ms }
}

fn output(o: Output) -> Effect {
    crate::Effect::Output(o)
}

#[cfg(test)]
mod tests;
