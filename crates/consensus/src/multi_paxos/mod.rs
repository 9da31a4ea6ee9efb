//! Multi-Paxos with a stable leader, serving a replicated key-value store.
//!
//! Every node is proposer, acceptor and learner. A node that hears no leader for an election
//! timeout runs phase 1 for a ballot `(round, its id)` over every slot it has not seen chosen; with
//! promises from a majority it adopts, slot by slot, the value accepted with the highest ballot,
//! fills gaps with no-ops, and becomes leader. A leader skips phase 1 for later slots: each client
//! command gets the next slot and one round of ACCEPT / ACCEPTED. Chosen slots are announced
//! (COMMIT), applied in slot order to a key-value [`Kv`] state machine, and compacted into a
//! snapshot every [`Config::snapshot_every`] slots. Heartbeats carry the leader's commit point so
//! lagging replicas ask to catch up (and receive a snapshot when the entries are gone).
//!
//! Reads go through the log like writes: a `Get` is a command in a slot, so it is linearizable
//! without any assumption about clocks. (A lease would need bounded clock drift, which the
//! simulator's clock model does not promise.) Client commands carry `(client, seq)`; the state
//! machine applies each at most once and answers retries from its session table.
//!
//! # Ordering rules a caller must keep
//!
//! An acceptor forces its promise and its accepted value before it answers
//! ([`crate::Durability::Forced`] comes first in the effect list).
//!
//! # Broken variants
//!
//! [`Variant`] selects deliberately wrong behaviour; each breaks a checker in `underhood-sim`.

mod kv;
mod replica;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::NodeId;

pub use kv::{Kv, Snapshot};
pub use replica::{Replica, RoleView};

/// A proposal number: unique per proposer because it carries the proposer's id.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Ballot {
    /// Compared first.
    pub round: u64,
    /// Breaks ties, so two proposers never share a ballot.
    pub leader: NodeId,
}

impl fmt::Display for Ballot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.round, self.leader.0)
    }
}

/// A log position.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Slot(pub u64);

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A key-value operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Set `key` to `value`.
    Put {
        /// The key.
        key: u32,
        /// The value.
        value: u64,
    },
    /// Read `key`.
    Get {
        /// The key.
        key: u32,
    },
}

/// What a slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Fills a gap; changes nothing.
    Noop,
    /// A client's operation, numbered per client for at-most-once application.
    Client {
        /// The client.
        client: u32,
        /// The client's sequence number.
        seq: u64,
        /// The operation.
        op: Op,
    },
}

/// The result of an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpResult {
    /// A put took effect.
    Written,
    /// A get read this value (`None`: never written).
    Read(Option<u64>),
}

/// A client request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Request {
    /// The client.
    pub client: u32,
    /// The client's sequence number (a retry repeats it).
    pub seq: u64,
    /// The operation.
    pub op: Op,
}

/// The messages of the protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    /// Phase 1a: promise not to accept lower ballots; report what you accepted from `from` on.
    Prepare {
        /// The ballot.
        ballot: Ballot,
        /// The first slot the proposer has not seen chosen.
        from: Slot,
    },
    /// Phase 1b.
    Promise {
        /// The ballot promised.
        ballot: Ballot,
        /// Accepted values at slots `>= from`: (slot, ballot, command).
        accepted: Vec<(Slot, Ballot, Command)>,
        /// Values known chosen at slots `>= from`.
        chosen: Vec<(Slot, Command)>,
        /// A snapshot, when the acceptor compacted slots the proposer has not seen.
        snapshot: Option<Snapshot>,
    },
    /// The ballot is lower than one already promised.
    Nack {
        /// The ballot refused.
        ballot: Ballot,
        /// The ballot promised.
        promised: Ballot,
    },
    /// Phase 2a.
    Accept {
        /// The ballot.
        ballot: Ballot,
        /// The slot.
        slot: Slot,
        /// The command.
        command: Command,
    },
    /// Phase 2b.
    Accepted {
        /// The ballot.
        ballot: Ballot,
        /// The slot.
        slot: Slot,
    },
    /// The leader saw `command` chosen at `slot`.
    Commit {
        /// The slot.
        slot: Slot,
        /// The command.
        command: Command,
    },
    /// The leader is alive; `commit` is the number of slots it has applied.
    Heartbeat {
        /// The leader's ballot.
        ballot: Ballot,
        /// Slots applied at the leader.
        commit: Slot,
    },
    /// A lagging replica asks for chosen entries from `from` on.
    CatchUp {
        /// The first slot wanted.
        from: Slot,
    },
    /// Chosen entries (after `snapshot`, if given).
    Entries {
        /// A snapshot to install first.
        snapshot: Option<Snapshot>,
        /// Chosen entries in slot order.
        entries: Vec<(Slot, Command)>,
    },
}

impl Msg {
    /// The message's kind as a short lowercase word, for rules and display.
    pub fn kind(&self) -> &'static str {
        match self {
            Msg::Prepare { .. } => "prepare",
            Msg::Promise { .. } => "promise",
            Msg::Nack { .. } => "nack",
            Msg::Accept { .. } => "accept",
            Msg::Accepted { .. } => "accepted",
            Msg::Commit { .. } => "commit",
            Msg::Heartbeat { .. } => "heartbeat",
            Msg::CatchUp { .. } => "catch_up",
            Msg::Entries { .. } => "entries",
        }
    }

    /// Every kind [`Msg::kind`] returns.
    pub const KINDS: [&'static str; 9] = [
        "prepare",
        "promise",
        "nack",
        "accept",
        "accepted",
        "commit",
        "heartbeat",
        "catch_up",
        "entries",
    ];
}

/// Timers a replica sets for itself. Each carries a generation; a newer timer of the same kind
/// makes older ones stale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// No leader heard from: run for leader.
    Election(u64),
    /// Leader: send heartbeats and re-send what is unacknowledged.
    Heartbeat(u64),
}

/// Records in a replica's durable log.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Record {
    /// Promised not to accept ballots below this one.
    Promised(Ballot),
    /// Accepted `command` at `slot` under `ballot`.
    Accepted {
        /// The slot.
        slot: Slot,
        /// The ballot.
        ballot: Ballot,
        /// The command.
        command: Command,
    },
    /// Learned that `command` was chosen at `slot`.
    Chosen {
        /// The slot.
        slot: Slot,
        /// The command.
        command: Command,
    },
    /// Everything before `snapshot.next` is applied and compacted into the snapshot.
    Snapshot(Snapshot),
}

/// What a replica reports to clients and checkers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    /// This acceptor accepted `command` at `slot` under `ballot`.
    Accepted {
        /// The slot.
        slot: Slot,
        /// The ballot.
        ballot: Ballot,
        /// The command.
        command: Command,
    },
    /// This replica applied `command`, the entry at `slot`, to its state machine.
    Applied {
        /// The slot.
        slot: Slot,
        /// The command.
        command: Command,
    },
    /// This replica became leader.
    Elected {
        /// Its ballot.
        ballot: Ballot,
    },
    /// An answer to a client.
    Reply {
        /// The client.
        client: u32,
        /// The request's sequence number.
        seq: u64,
        /// The answer.
        reply: Reply,
    },
}

/// An answer to a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// The operation took effect with this result.
    Done(OpResult),
    /// Not the leader; try the hinted node.
    NotLeader {
        /// The leader as far as this replica knows.
        hint: Option<NodeId>,
    },
}

/// The concrete effect type of Multi-Paxos.
pub type Effect = crate::Effect<Msg, Timer, Record, Output>;
/// The concrete input type of Multi-Paxos.
pub type Input = crate::Input<Msg, Timer, Request>;

/// Deliberately wrong behaviour, selectable by name (see [`Variant::NAMES`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// The protocol as it should be.
    #[default]
    Correct,
    /// A new leader proposes no-ops instead of the values its promises report accepted: a value
    /// already chosen can be overwritten.
    IgnoreAccepted,
    /// Acceptors keep promises and accepted values in memory only: after a crash they forget
    /// them and accept what they had promised to refuse.
    ForgetfulAcceptor,
    /// Ballots carry no proposer id: two proposers can both win the same ballot.
    NonUniqueBallots,
    /// A leader answers reads from its own state without going through the log: a deposed leader
    /// that has not noticed serves stale values.
    StaleReads,
}

impl Variant {
    /// Every variant's name, as [`FromStr`] and serde accept it.
    pub const NAMES: [&'static str; 5] = [
        "correct",
        "ignore-accepted",
        "forgetful-acceptor",
        "non-unique-ballots",
        "stale-reads",
    ];

    const ALL: [Variant; 5] = [
        Variant::Correct,
        Variant::IgnoreAccepted,
        Variant::ForgetfulAcceptor,
        Variant::NonUniqueBallots,
        Variant::StaleReads,
    ];

    /// The variant's name.
    pub fn name(self) -> &'static str {
        let idx = Self::ALL.iter().position(|v| *v == self).unwrap_or(0);
        Self::NAMES[idx]
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Variant {
    type Err = crate::two_phase::UnknownVariant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.name() == s)
            .ok_or_else(|| crate::two_phase::UnknownVariant { name: s.to_owned() })
    }
}

/// Timing and behaviour shared by every replica of a cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// How many replicas (ids `0..n`).
    pub n: u32,
    /// A follower runs for leader after hearing nothing for this long (plus jitter).
    pub election_ms: u64,
    /// How often a leader sends heartbeats and re-sends unacknowledged accepts.
    pub heartbeat_ms: u64,
    /// Base of the randomized exponential back-off after losing an election.
    pub backoff_ms: u64,
    /// Take a snapshot after this many applied slots (0: never).
    pub snapshot_every: u64,
    /// Seeds each replica's back-off jitter (mixed with its id).
    pub seed: u64,
    /// Which behaviour to run.
    pub variant: Variant,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            n: 3,
            election_ms: 60,
            heartbeat_ms: 20,
            backoff_ms: 20,
            snapshot_every: 50,
            seed: 0,
            variant: Variant::Correct,
        }
    }
}

impl Config {
    /// How many replicas make a majority.
    pub fn majority(&self) -> usize {
        self.n as usize / 2 + 1
    }
}

#[cfg(test)]
mod tests;
