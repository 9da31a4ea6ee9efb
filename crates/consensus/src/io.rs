//! The sans-IO vocabulary every protocol in this crate shares: identifiers, virtual time, the
//! inputs a node accepts and the effects it asks its environment to carry out.

use serde::{Deserialize, Serialize};

/// A node's identity, unique within one cluster.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct NodeId(pub u32);

/// A transaction's identity, unique within one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TxId(pub u64);

/// Virtual time in milliseconds, as given by the caller; protocols never read a clock.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Time(pub u64);

impl Time {
    /// The time `ms` milliseconds after `self`, saturating at the end of time.
    pub fn after(self, ms: u64) -> Time {
        Time(self.0.saturating_add(ms))
    }
}

impl std::fmt::Display for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "n{}", self.0)
    }
}

impl std::fmt::Display for TxId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "t{}", self.0)
    }
}

impl std::fmt::Display for Time {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

/// Something that happens to a node.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Input<M, T, R> {
    /// A message arrived from `from`.
    Msg {
        /// The sender.
        from: NodeId,
        /// The message.
        msg: M,
    },
    /// A timer the node set earlier fired.
    Timer(T),
    /// A client request arrived.
    Request(R),
}

/// How hard a [`Effect::Persist`] must push its record to stable storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    /// Written and synced before the next effect: survives any crash.
    Forced,
    /// Written to the OS buffer: survives a process crash, lost by a power failure unless a
    /// later forced write syncs it.
    Lazy,
}

/// Something a node asks its environment to do, in the order given.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect<M, T, D, O> {
    /// Send `msg` to `to`; the network may delay, reorder, duplicate or lose it.
    Send {
        /// The receiver.
        to: NodeId,
        /// The message.
        msg: M,
    },
    /// Fire `timer` after `after_ms` milliseconds, unless the node crashes first.
    SetTimer {
        /// The timer to deliver back as [`Input::Timer`].
        timer: T,
        /// The delay in milliseconds.
        after_ms: u64,
    },
    /// Append `record` to the node's durable log.
    Persist {
        /// The record.
        record: D,
        /// Whether the record is synced before the next effect.
        durability: Durability,
    },
    /// Something observable happened (a decision, a reply): for clients and checkers.
    Output(O),
}
