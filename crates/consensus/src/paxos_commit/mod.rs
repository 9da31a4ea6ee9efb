//! Gray and Lamport's Paxos Commit ("Consensus on Transaction Commit", 2006), as three sans-IO
//! state machines: the transaction manager (the initial leader), the resource managers, and the
//! acceptors.
//!
//! # The protocol
//!
//! Each resource manager (RM) of a transaction has its own instance of Paxos, which chooses
//! [`Value::Prepared`] or [`Value::Aborted`] over the same `2F + 1` acceptors ([`Acceptors`]).
//! The transaction commits if and only if every instance chooses Prepared.
//!
//! 1. A client asks the transaction manager (TM) to commit; the TM sends PREPARE to every RM.
//! 2. An RM whose work succeeded forces PREPARED and sends phase 2a with ballot 0 and the value
//!    Prepared straight to the acceptors (the fast path: ballot 0 needs no phase 1, since no
//!    lower ballot exists and only the RM proposes in it); one whose work failed sends Aborted
//!    and aborts. [`FastPath`] picks whether it writes to every acceptor or to the first `F + 1`
//!    only, as the paper's cost analysis assumes.
//! 3. An acceptor forces what it accepted and answers with phase 2b to the leader. For ballot 0
//!    it bundles: one 2b message carries its votes for every instance, sent once it has them
//!    all (an Aborted vote goes at once, since it alone decides).
//! 4. The TM learns an instance's value once `F + 1` acceptors accepted it in the same ballot.
//!    Every instance Prepared: it sends COMMIT to every RM; one Aborted: ABORT.
//!
//! # When the leader is slow or dead
//!
//! Any leader may finish an instance with a higher ballot `(round, its id)`: phase 1a to every
//! acceptor; with `F + 1` promises (phase 1b), phase 2a with the value accepted in the highest
//! ballot reported, or Aborted if none was; then 2b as above. The TM does this for the
//! instances still open after [`Config::vote_timeout_ms`]; an RM still in doubt after
//! [`Config::takeover_timeout_ms`] (staggered by its position among the RMs) does it for every
//! instance and announces the outcome itself. A leader forces its round before phase 1a, so it
//! never reuses a ballot after a crash. Paxos keeps every instance's choice unique however many
//! leaders compete, so the transaction's outcome is unique: Paxos Commit stays atomic under any
//! message delay, loss or partition, and decides as long as `F + 1` acceptors and one leader can
//! talk.
//!
//! With `F = 0` and the single acceptor on the TM's node, it is Two-Phase Commit: the RMs'
//! phase 2a messages are 2PC's votes, and the acceptor's forced write is the TM's COMMIT record
//! (the test `with_one_acceptor_paxos_commit_is_two_phase_commit` checks decisions, message
//! pattern and blocking).
//!
//! # Recovery
//!
//! Every node recovers from its log alone ([`Node::recover`]): an acceptor from its promises
//! and accepted values, an RM from PREPARED (in doubt: it takes over soon) or its outcome, and
//! a leader's round from its ROUND records. The TM keeps nothing else: a restarted TM has
//! forgotten its transactions, and the in-doubt RMs finish them.
//!
//! # Ordering rules a caller must keep
//!
//! Effects come out in the order they must happen. A [`Durability::Forced`] record is on stable
//! storage before any later effect of the same step: an RM's PREPARED before its phase 2a, an
//! acceptor's PROMISED before its 1b and ACCEPTED before its 2b, a leader's ROUND before its 1a.
//!
//! # Broken variant
//!
//! [`Variant::IgnoreAcceptedVotes`]: a new leader proposes Aborted whatever phase 1b reports,
//! as if every instance were free. If the TM committed and died before everybody heard, the
//! next leader aborts instances already chosen Prepared: atomicity breaks.
//!
//! # Example
//!
//! ```
//! use underhood_consensus::paxos_commit::{Acceptors, Config, Msg, Node, Outcome, Request, Work};
//! use underhood_consensus::{Effect, Input, NodeId, Time, TxId};
//!
//! // TM n0, RMs n1 and n2, acceptors n3, n4 and n5 (F = 1).
//! let tm = NodeId(0);
//! let config = Config::new(Acceptors::new(NodeId(3), 1)?);
//! let mut nodes = vec![Node::tm(tm, config)];
//! nodes.extend((1..=2).map(|i| Node::rm(NodeId(i), tm, config)));
//! nodes.extend(config.acceptors.ids().map(|id| Node::acceptor(id, tm, config)));
//!
//! let work = vec![(NodeId(1), Work::Ready), (NodeId(2), Work::Ready)];
//! let mut out = Vec::new();
//! nodes[0].step(Time(0), Input::Request(Request::Begin { tx: TxId(1), work }), &mut out);
//! let mut in_flight: std::collections::VecDeque<(NodeId, NodeId, Msg)> = Default::default();
//! let mut from = tm;
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
//! assert!(nodes[..3].iter().all(|n| n.outcome(TxId(1)) == Some(Outcome::Commit)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod acceptor;
mod leader;
mod rm;
mod tm;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Durability, NodeId, Time, TxId};

pub use crate::multi_paxos::Ballot;
pub use crate::two_phase::{Outcome, Request, Vote, Work};
pub use acceptor::Acceptor;
pub use rm::ResourceManager;
pub use tm::TransactionManager;

/// What one RM's instance of Paxos chooses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    /// The RM is prepared to commit.
    Prepared,
    /// The RM, or a leader on its behalf, aborts.
    Aborted,
}

/// The acceptors: `2F + 1` consecutive node ids starting at `first`. Any `F + 1` of them form a
/// majority, so `F` may fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "AcceptorsRepr", into = "AcceptorsRepr")]
pub struct Acceptors {
    first: NodeId,
    f: u32,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptorsRepr {
    first: NodeId,
    f: u32,
}

/// The acceptor ids would run past the largest [`NodeId`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooManyAcceptors {
    /// The first id asked for.
    pub first: NodeId,
    /// The faults to tolerate asked for.
    pub f: u32,
}

impl fmt::Display for TooManyAcceptors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "2F + 1 = {} acceptors from {} run past the largest node id",
            u64::from(self.f) * 2 + 1,
            self.first
        )
    }
}

impl std::error::Error for TooManyAcceptors {}

impl Acceptors {
    /// `2f + 1` acceptors with ids `first, first + 1, …`.
    pub fn new(first: NodeId, f: u32) -> Result<Acceptors, TooManyAcceptors> {
        let count = u64::from(f) * 2 + 1;
        if u64::from(first.0) + count - 1 > u64::from(u32::MAX) {
            return Err(TooManyAcceptors { first, f });
        }
        Ok(Acceptors { first, f })
    }

    /// How many acceptors may fail: `F`.
    pub fn f(self) -> u32 {
        self.f
    }

    /// How many there are: `2F + 1`.
    pub fn count(self) -> u32 {
        self.f * 2 + 1
    }

    /// How many make a majority: `F + 1`.
    pub fn majority(self) -> usize {
        self.f as usize + 1
    }

    /// Every acceptor's id, in order.
    pub fn ids(self) -> impl Iterator<Item = NodeId> {
        // `new` checked that the last id fits.
        (self.first.0..=self.first.0 + (self.count() - 1)).map(NodeId)
    }

    /// Whether `id` is one of them.
    pub fn contains(self, id: NodeId) -> bool {
        id.0 >= self.first.0 && id.0 - self.first.0 < self.count()
    }
}

impl TryFrom<AcceptorsRepr> for Acceptors {
    type Error = TooManyAcceptors;

    fn try_from(repr: AcceptorsRepr) -> Result<Self, Self::Error> {
        Acceptors::new(repr.first, repr.f)
    }
}

impl From<Acceptors> for AcceptorsRepr {
    fn from(a: Acceptors) -> Self {
        AcceptorsRepr {
            first: a.first,
            f: a.f,
        }
    }
}

/// Which acceptors an RM sends its ballot-0 phase 2a to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FastPath {
    /// Every acceptor: one slow or dead acceptor does not slow the transaction down.
    #[default]
    AllAcceptors,
    /// The first `F + 1` only, as the paper counts: fewer messages, but one dead acceptor among
    /// them sends every transaction through the TM's timeout and a higher ballot.
    FirstMajority,
}

/// The messages of the protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    /// TM → RM: prepare `tx`. Lists every RM, the instances of the transaction.
    Prepare {
        /// The transaction.
        tx: TxId,
        /// This RM's local result.
        work: Work,
        /// Every RM of `tx`, in id order.
        rms: Vec<NodeId>,
    },
    /// RM (ballot 0) or leader → acceptor: accept `value` for `rm`'s instance in `ballot`.
    Phase2a {
        /// The transaction.
        tx: TxId,
        /// Whose instance.
        rm: NodeId,
        /// The ballot.
        ballot: Ballot,
        /// The value.
        value: Value,
        /// Every RM of `tx`, so the acceptor knows when its ballot-0 bundle is complete.
        rms: Vec<NodeId>,
    },
    /// Acceptor → leader: accepted, for one instance or (ballot 0) for all of them at once.
    Phase2b {
        /// The transaction.
        tx: TxId,
        /// `(instance, ballot, value)` for each vote carried.
        votes: Vec<(NodeId, Ballot, Value)>,
    },
    /// Leader → acceptor: promise not to accept lower ballots in `rm`'s instance.
    Phase1a {
        /// The transaction.
        tx: TxId,
        /// Whose instance.
        rm: NodeId,
        /// The ballot.
        ballot: Ballot,
        /// Every RM of `tx`.
        rms: Vec<NodeId>,
    },
    /// Acceptor → leader: the promise, with what it accepted in the highest ballot, if anything.
    Phase1b {
        /// The transaction.
        tx: TxId,
        /// Whose instance.
        rm: NodeId,
        /// The ballot promised.
        ballot: Ballot,
        /// The acceptor's highest-ballot vote in this instance.
        accepted: Option<(Ballot, Value)>,
    },
    /// Leader → RMs (and a leading RM → the TM): the outcome.
    Decision {
        /// The transaction.
        tx: TxId,
        /// The outcome.
        outcome: Outcome,
    },
}

impl Msg {
    /// The message's kind as a short lowercase word, for rules and display.
    pub fn kind(&self) -> &'static str {
        match self {
            Msg::Prepare { .. } => "prepare",
            Msg::Phase2a { .. } => "phase2a",
            Msg::Phase2b { .. } => "phase2b",
            Msg::Phase1a { .. } => "phase1a",
            Msg::Phase1b { .. } => "phase1b",
            Msg::Decision {
                outcome: Outcome::Commit,
                ..
            } => "commit",
            Msg::Decision {
                outcome: Outcome::Abort,
                ..
            } => "abort",
        }
    }

    /// The transaction the message is about.
    pub fn tx(&self) -> TxId {
        match self {
            Msg::Prepare { tx, .. }
            | Msg::Phase2a { tx, .. }
            | Msg::Phase2b { tx, .. }
            | Msg::Phase1a { tx, .. }
            | Msg::Phase1b { tx, .. }
            | Msg::Decision { tx, .. } => *tx,
        }
    }
}

/// Timers a node sets for itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// TM: instances of `tx` still open; finish them with a higher ballot.
    VoteTimeout(TxId),
    /// RM: still in doubt about `tx`; lead it to an outcome.
    Takeover(TxId),
    /// Leader: round `round` of `tx` made no progress; start a higher one.
    Retry {
        /// The transaction.
        tx: TxId,
        /// The round that timed out; a later round makes the timer stale.
        round: u64,
    },
}

/// Records in a node's durable log. Recovery rebuilds a node from these alone.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Record {
    /// RM: voted Prepared on `tx` (forced before its phase 2a).
    Prepared {
        /// The transaction.
        tx: TxId,
        /// Every RM of `tx`.
        rms: Vec<NodeId>,
    },
    /// RM: `tx` committed (forced).
    Committed {
        /// The transaction.
        tx: TxId,
    },
    /// RM: `tx` aborted (lazy).
    Aborted {
        /// The transaction.
        tx: TxId,
    },
    /// Leader: the highest round it has used (forced before its phase 1a).
    Round(u64),
    /// Acceptor: promised `ballot` in `rm`'s instance of `tx` (forced before its phase 1b).
    Promised {
        /// The transaction.
        tx: TxId,
        /// Whose instance.
        rm: NodeId,
        /// The ballot.
        ballot: Ballot,
    },
    /// Acceptor: accepted `value` in `ballot` for `rm`'s instance (forced before its phase 2b).
    Accepted {
        /// The transaction.
        tx: TxId,
        /// Whose instance.
        rm: NodeId,
        /// The ballot.
        ballot: Ballot,
        /// The value.
        value: Value,
        /// Every RM of `tx`.
        rms: Vec<NodeId>,
    },
}

/// What a node reports to clients and checkers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    /// An RM cast its vote (its ballot-0 value) on `tx`.
    Voted {
        /// The transaction.
        tx: TxId,
        /// The vote.
        vote: Vote,
    },
    /// A leader started `round` for the open instances of `tx`.
    Leading {
        /// The transaction.
        tx: TxId,
        /// The round.
        round: u64,
    },
    /// The node decided `tx`. A correct cluster never decides the same transaction two ways.
    Decided {
        /// The transaction.
        tx: TxId,
        /// The outcome.
        outcome: Outcome,
    },
    /// The TM answered the client.
    Replied {
        /// The transaction.
        tx: TxId,
        /// The outcome.
        outcome: Outcome,
    },
}

/// The concrete effect type of Paxos Commit.
pub type Effect = crate::Effect<Msg, Timer, Record, Output>;
/// The concrete input type of Paxos Commit.
pub type Input = crate::Input<Msg, Timer, Request>;

/// Deliberately wrong behaviour, selectable by name (see [`Variant::NAMES`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// The protocol as it should be.
    #[default]
    Correct,
    /// A leader's phase 2a proposes Aborted whatever values phase 1b reported.
    IgnoreAcceptedVotes,
}

impl Variant {
    /// Every variant's name, as [`FromStr`] and serde accept it.
    pub const NAMES: [&'static str; 2] = ["correct", "ignore-accepted-votes"];

    /// The variant's name.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Correct => Self::NAMES[0],
            Variant::IgnoreAcceptedVotes => Self::NAMES[1],
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
            "unknown paxos commit variant {:?} (expected one of: {})",
            self.name,
            Variant::NAMES.join(", ")
        )
    }
}

impl std::error::Error for UnknownVariant {}

impl FromStr for Variant {
    type Err = UnknownVariant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Variant::Correct, Variant::IgnoreAcceptedVotes]
            .into_iter()
            .find(|v| v.name() == s)
            .ok_or_else(|| UnknownVariant { name: s.to_owned() })
    }
}

/// The acceptors, timeouts and variant, shared by every node of a cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The `2F + 1` acceptors.
    pub acceptors: Acceptors,
    /// Where RMs send their ballot-0 phase 2a.
    #[serde(default)]
    pub fast_path: FastPath,
    /// How long the TM waits for every instance before it finishes the open ones itself.
    #[serde(default = "defaults::vote_timeout_ms")]
    pub vote_timeout_ms: u64,
    /// How long an RM in doubt waits before it leads; the `k`-th RM (from 0) waits
    /// `k * retry_ms` longer, so in-doubt RMs do not all compete at once.
    #[serde(default = "defaults::takeover_timeout_ms")]
    pub takeover_timeout_ms: u64,
    /// How long a leader's round may take before it starts a higher one, times its rank plus
    /// one (the TM has rank 0, the `k`-th RM rank `k + 1`): leaders that compete after a
    /// partition heals fall out of step, so one of them finishes a round.
    #[serde(default = "defaults::retry_ms")]
    pub retry_ms: u64,
    /// Which behaviour to run.
    #[serde(default)]
    pub variant: Variant,
}

mod defaults {
    pub(super) fn vote_timeout_ms() -> u64 {
        50
    }
    pub(super) fn takeover_timeout_ms() -> u64 {
        60
    }
    pub(super) fn retry_ms() -> u64 {
        40
    }
}

impl Config {
    /// The default timeouts and behaviour with these acceptors.
    pub fn new(acceptors: Acceptors) -> Config {
        Config {
            acceptors,
            fast_path: FastPath::default(),
            vote_timeout_ms: defaults::vote_timeout_ms(),
            takeover_timeout_ms: defaults::takeover_timeout_ms(),
            retry_ms: defaults::retry_ms(),
            variant: Variant::default(),
        }
    }
}

/// A node's role, which recovery needs besides the durable log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The transaction manager: runs transactions for clients, the initial leader.
    Tm,
    /// A resource manager: votes, applies the outcome, leads when in doubt.
    Rm {
        /// Its TM.
        tm: NodeId,
    },
    /// An acceptor.
    Acceptor {
        /// The TM, where ballot-0 phase 2b messages go.
        tm: NodeId,
    },
}

/// One node of a Paxos Commit cluster.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    /// The transaction manager.
    Tm(TransactionManager),
    /// A resource manager.
    Rm(ResourceManager),
    /// An acceptor.
    Acceptor(Acceptor),
}

/// An RM's state for one transaction (the paper's `rmState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RmState {
    /// Voted Prepared; the outcome is unknown.
    Prepared,
    /// Committed.
    Committed,
    /// Aborted.
    Aborted,
}

/// An acceptor's state in one instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InstanceView {
    /// Whose instance.
    pub rm: NodeId,
    /// The highest ballot promised.
    pub promised: Ballot,
    /// The value accepted in the highest ballot, if any.
    pub accepted: Option<(Ballot, Value)>,
}

/// How a node sees one transaction, for display and checkers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "role")]
pub enum TxView {
    /// The TM: the value each instance chose, as far as it learned, and the outcome.
    Tm {
        /// Each RM's instance and its chosen value, if learned.
        chosen: Vec<(NodeId, Option<Value>)>,
        /// The outcome, once decided.
        outcome: Option<Outcome>,
    },
    /// An RM.
    Rm {
        /// Its state.
        state: RmState,
        /// Since when it is in doubt, while it is.
        in_doubt_since: Option<Time>,
        /// The round it leads, if it took over.
        leading: Option<u64>,
    },
    /// An acceptor: its promise and vote in each instance it heard of.
    Acceptor {
        /// One entry per instance.
        instances: Vec<InstanceView>,
    },
}

impl Node {
    /// A fresh transaction manager with an empty log.
    pub fn tm(id: NodeId, config: Config) -> Node {
        Node::Tm(TransactionManager::new(id, config))
    }

    /// A fresh resource manager with an empty log.
    pub fn rm(id: NodeId, tm: NodeId, config: Config) -> Node {
        Node::Rm(ResourceManager::new(id, tm, config))
    }

    /// A fresh acceptor with an empty log.
    pub fn acceptor(id: NodeId, tm: NodeId, config: Config) -> Node {
        Node::Acceptor(Acceptor::new(id, tm, config))
    }

    /// Rebuilds a node after a crash from its role and durable log only.
    /// Effects needed to resume (timers) are pushed to `out`.
    pub fn recover(
        id: NodeId,
        role: Role,
        config: Config,
        log: &[Record],
        now: Time,
        out: &mut Vec<Effect>,
    ) -> Node {
        match role {
            Role::Tm => Node::Tm(TransactionManager::recover(id, config, log)),
            Role::Rm { tm } => Node::Rm(ResourceManager::recover(id, tm, config, log, now, out)),
            Role::Acceptor { tm } => Node::Acceptor(Acceptor::recover(id, tm, config, log)),
        }
    }

    /// Handles one input at time `now`, pushing effects to `out` in the order they must happen.
    pub fn step(&mut self, now: Time, input: Input, out: &mut Vec<Effect>) {
        match self {
            Node::Tm(n) => n.step(now, input, out),
            Node::Rm(n) => n.step(now, input, out),
            Node::Acceptor(n) => n.step(input, out),
        }
    }

    /// The node's role.
    pub fn role(&self) -> Role {
        match self {
            Node::Tm(_) => Role::Tm,
            Node::Rm(n) => Role::Rm { tm: n.tm() },
            Node::Acceptor(n) => Role::Acceptor { tm: n.tm() },
        }
    }

    /// The outcome of `tx` as this node knows it (the TM and RMs; acceptors never know).
    pub fn outcome(&self, tx: TxId) -> Option<Outcome> {
        match self.view(tx)? {
            TxView::Tm { outcome, .. } => outcome,
            TxView::Rm { state, .. } => match state {
                RmState::Prepared => None,
                RmState::Committed => Some(Outcome::Commit),
                RmState::Aborted => Some(Outcome::Abort),
            },
            TxView::Acceptor { .. } => None,
        }
    }

    /// How this node sees `tx`, if it has heard of it.
    pub fn view(&self, tx: TxId) -> Option<TxView> {
        match self {
            Node::Tm(n) => n.view(tx),
            Node::Rm(n) => n.view(tx),
            Node::Acceptor(n) => n.view(tx),
        }
    }

    /// Every transaction this node has heard of, in id order, with how it sees it.
    pub fn views(&self) -> Vec<(TxId, TxView)> {
        match self {
            Node::Tm(n) => n.views(),
            Node::Rm(n) => n.views(),
            Node::Acceptor(n) => n.views(),
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
