//! Two-Phase Commit with presumed abort, as a pair of sans-IO state machines.
//!
//! A client asks the coordinator to commit a transaction that touches some participants.
//! The coordinator sends PREPARE; each participant forces a PREPARED record and votes to commit,
//! or votes to abort (and aborts at once). With every vote to commit in hand the coordinator forces
//! a COMMIT record, then announces the decision; one vote to abort, or a vote that does not arrive
//! within [`Config::vote_timeout_ms`], makes it abort. Aborts are never forced and never
//! acknowledged: a coordinator that remembers nothing of a transaction answers "abort"
//! (presumed abort). Committed participants acknowledge, and the coordinator writes a lazy END.
//!
//! A participant that voted to commit is *in doubt* until it learns the outcome: it may not decide
//! alone. After [`Config::decision_timeout_ms`] it asks the coordinator and its peers
//! (cooperative termination): a peer that decided answers with the outcome, a peer that never
//! voted aborts and answers "abort", and a peer in doubt can only say so. When every peer is in
//! doubt and the coordinator is down, the transaction blocks: that is 2PC's famous weakness.
//!
//! # Ordering rules a caller must keep
//!
//! Effects come out in the order they must happen. A [`Durability::Forced`] record must be on
//! stable storage before any later effect of the same step: the participant's PREPARED before its
//! vote, the coordinator's COMMIT before its announcement.
//!
//! # Broken variants
//!
//! [`Variant`] selects deliberately wrong behaviour, for teaching and for testing checkers.
//! Each breaks atomicity under a specific fault; `underhood-sim` has a scenario for each.

mod coordinator;
mod participant;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Durability, NodeId, Time, TxId};

pub use coordinator::Coordinator;
pub use participant::Participant;

/// What a participant's local work concluded, carried in PREPARE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Work {
    /// The local work succeeded: the participant can vote to commit.
    Ready,
    /// The local work failed (a constraint, a lock conflict): the participant votes to abort.
    Conflict,
}

/// A participant's vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vote {
    /// Ready to commit; the participant is now in doubt until it learns the outcome.
    Commit,
    /// Refuses; the participant has already aborted.
    Abort,
}

/// The fate of a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every participant applies the transaction.
    Commit,
    /// No participant applies the transaction.
    Abort,
}

/// What a node knows about a transaction, in answer to a [`Msg::Query`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The node knows the outcome.
    Decided(Outcome),
    /// The node voted to commit and does not know the outcome either.
    InDoubt,
}

/// The messages of the protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    /// Coordinator → participant: vote on `tx`. Lists every participant, for cooperative termination.
    Prepare {
        /// The transaction.
        tx: TxId,
        /// This participant's local result.
        work: Work,
        /// Every participant of `tx`.
        participants: Vec<NodeId>,
    },
    /// Participant → coordinator: the vote on `tx`.
    Vote {
        /// The transaction.
        tx: TxId,
        /// The vote.
        vote: Vote,
    },
    /// Coordinator → participant: the outcome of `tx`.
    Decision {
        /// The transaction.
        tx: TxId,
        /// The outcome.
        outcome: Outcome,
    },
    /// Participant → coordinator: the commit of `tx` is durable here.
    Ack {
        /// The transaction.
        tx: TxId,
    },
    /// In-doubt participant → coordinator or peer: what happened to `tx`?
    Query {
        /// The transaction.
        tx: TxId,
    },
    /// The answer to a [`Msg::Query`].
    Status {
        /// The transaction.
        tx: TxId,
        /// What the sender knows.
        status: Status,
    },
}

impl Msg {
    /// The message's kind as a short lowercase word (`prepare`, `vote`, …), for rules and display.
    pub fn kind(&self) -> &'static str {
        match self {
            Msg::Prepare { .. } => "prepare",
            Msg::Vote { .. } => "vote",
            Msg::Decision {
                outcome: Outcome::Commit,
                ..
            } => "commit",
            Msg::Decision {
                outcome: Outcome::Abort,
                ..
            } => "abort",
            Msg::Ack { .. } => "ack",
            Msg::Query { .. } => "query",
            Msg::Status { .. } => "status",
        }
    }

    /// The transaction the message is about.
    pub fn tx(&self) -> TxId {
        match self {
            Msg::Prepare { tx, .. }
            | Msg::Vote { tx, .. }
            | Msg::Decision { tx, .. }
            | Msg::Ack { tx }
            | Msg::Query { tx }
            | Msg::Status { tx, .. } => *tx,
        }
    }
}

/// Timers a node sets for itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// Coordinator: votes on `tx` are overdue; abort if still voting.
    VoteTimeout(TxId),
    /// Coordinator: re-send COMMIT for `tx` to participants that have not acknowledged.
    Resend(TxId),
    /// Participant: still in doubt about `tx`; ask the coordinator and peers.
    DecisionTimeout(TxId),
}

/// Records in a node's durable log. Recovery rebuilds a node from these alone.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Record {
    /// Participant: voted to commit `tx` (forced before the vote).
    Prepared {
        /// The transaction.
        tx: TxId,
        /// Every participant of `tx`, for cooperative termination after recovery.
        participants: Vec<NodeId>,
    },
    /// Coordinator or participant: `tx` committed (forced before it is announced or acknowledged).
    Committed {
        /// The transaction.
        tx: TxId,
        /// Every participant of `tx` (coordinator records only; empty at participants).
        participants: Vec<NodeId>,
    },
    /// `tx` aborted. Lazy, except for a participant that aborts on a peer's query before voting.
    Aborted {
        /// The transaction.
        tx: TxId,
    },
    /// Coordinator: every participant acknowledged the commit of `tx`; it may be forgotten.
    End {
        /// The transaction.
        tx: TxId,
    },
}

/// A client request.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    /// Commit transaction `tx`, whose local work at each participant is given.
    Begin {
        /// The transaction.
        tx: TxId,
        /// Each participant and how its local work went.
        work: Vec<(NodeId, Work)>,
    },
}

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

/// The concrete effect type of Two-Phase Commit.
pub type Effect = crate::Effect<Msg, Timer, Record, Output>;
/// The concrete input type of Two-Phase Commit.
pub type Input = crate::Input<Msg, Timer, Request>;

/// Deliberately wrong behaviour, selectable by name (see [`Variant::NAMES`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// The protocol as it should be.
    #[default]
    Correct,
    /// The coordinator announces its decision before forcing it to the log: a crash in between
    /// leaves it presuming abort for a transaction some participants committed.
    AnnounceBeforeLog,
    /// A participant votes to commit before its PREPARED record is durable: after a crash it
    /// forgets the vote and tells its peers the transaction aborted.
    VoteBeforeLog,
    /// An in-doubt participant aborts on its own when the decision is late, while the
    /// coordinator may have committed.
    AbortOnTimeout,
}

impl Variant {
    /// Every variant's name, as [`FromStr`] and serde accept it.
    pub const NAMES: [&'static str; 4] = [
        "correct",
        "announce-before-log",
        "vote-before-log",
        "abort-on-timeout",
    ];

    /// The variant's name.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Correct => Self::NAMES[0],
            Variant::AnnounceBeforeLog => Self::NAMES[1],
            Variant::VoteBeforeLog => Self::NAMES[2],
            Variant::AbortOnTimeout => Self::NAMES[3],
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
            "unknown two-phase commit variant {:?} (expected one of: {})",
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
            Variant::AnnounceBeforeLog,
            Variant::VoteBeforeLog,
            Variant::AbortOnTimeout,
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
    /// How long an in-doubt participant waits before it asks the coordinator and its peers.
    pub decision_timeout_ms: u64,
    /// How often queries and unacknowledged COMMITs are re-sent.
    pub retry_ms: u64,
    /// Which behaviour to run.
    pub variant: Variant,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            vote_timeout_ms: 50,
            decision_timeout_ms: 60,
            retry_ms: 40,
            variant: Variant::Correct,
        }
    }
}

/// A node's role, which recovery needs besides the durable log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs transactions for clients.
    Coordinator,
    /// Holds data; votes and applies decisions.
    Participant {
        /// Its coordinator.
        coordinator: NodeId,
    },
}

/// One node of a Two-Phase Commit cluster.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    /// A coordinator.
    Coordinator(Coordinator),
    /// A participant.
    Participant(Participant),
}

/// How a node sees one transaction, for display.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum TxView {
    /// Coordinator: collecting votes.
    Voting {
        /// Votes to commit received so far.
        commit_votes: usize,
        /// Participants asked.
        participants: usize,
    },
    /// Participant: voted to commit, outcome unknown.
    InDoubt {
        /// When the vote was cast (or the node recovered into doubt).
        since: Time,
    },
    /// Decided.
    Decided {
        /// The outcome.
        outcome: Outcome,
    },
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
    /// Effects needed to resume (re-sent decisions, timers) are pushed to `out`.
    pub fn recover(
        id: NodeId,
        role: Role,
        config: Config,
        log: &[Record],
        now: Time,
        out: &mut Vec<Effect>,
    ) -> Node {
        match role {
            Role::Coordinator => Node::Coordinator(Coordinator::recover(id, config, log, out)),
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
        match self.view(tx)? {
            TxView::Decided { outcome } => Some(outcome),
            TxView::Voting { .. } | TxView::InDoubt { .. } => None,
        }
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
