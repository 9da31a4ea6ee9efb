//! The fault vocabulary of scenarios: timed faults (crashes, restarts, partitions, clock and
//! disk faults) and rules (drops, delays, crash-after-send, on-send and on-write triggers), as
//! they are written in JSON. `Environment::check_fault` (in `scenario.rs`) checks them against
//! a scenario; the engine carries them out (`engine/faults.rs`).

use serde::{Deserialize, Serialize};

use crate::scenario::MAX_DURATION_MS;

/// A fault: either an action at a moment (`at_ms`, or `after_event` for exact replays of
/// injected faults), or a rule that applies to matching messages for the whole run.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// The node stops: volatile state is lost, the durable log is kept (with `lose_unsynced`,
    /// lazy writes not yet synced are lost too, as in a power failure).
    Crash {
        /// The node.
        node: u32,
        /// Whether un-synced log writes are lost.
        #[serde(default, skip_serializing_if = "is_false")]
        lose_unsynced: bool,
        /// When.
        #[serde(flatten)]
        when: When,
    },
    /// The node starts again from its durable log.
    Restart {
        /// The node.
        node: u32,
        /// When.
        #[serde(flatten)]
        when: When,
    },
    /// Nodes in different groups cannot exchange messages (nodes in no group form one more group).
    Partition {
        /// The groups.
        groups: Vec<Vec<u32>>,
        /// When.
        #[serde(flatten)]
        when: When,
    },
    /// Every node can reach every other again.
    Heal {
        /// When.
        #[serde(flatten)]
        when: When,
    },
    /// The in-flight message with this id is lost.
    DropMessage {
        /// The message id, as in the trace.
        id: u64,
        /// When.
        #[serde(flatten)]
        when: When,
    },
    /// Rule: lose matching messages, from the `nth` match on, `count` of them.
    Drop {
        /// Which messages.
        #[serde(flatten)]
        pattern: Pattern,
    },
    /// Rule: delay matching messages by `extra_ms`, from the `nth` match on, `count` of them.
    Delay {
        /// Which messages.
        #[serde(flatten)]
        pattern: Pattern,
        /// The extra delay.
        extra_ms: u64,
    },
    /// Rule: crash `node` right after it sends its `nth` matching message, before it carries out
    /// anything else (the classic "crash between two effects").
    CrashAfterSend {
        /// The node that crashes.
        node: u32,
        /// Which of its messages.
        #[serde(flatten)]
        pattern: Pattern,
        /// Whether un-synced log writes are lost.
        #[serde(default, skip_serializing_if = "is_false")]
        lose_unsynced: bool,
    },
    /// The node's local clock jumps (`offset_ms`, either sign) or starts running at another
    /// rate (`drift_ppm`, positive runs fast), from this moment on.
    Clock {
        /// The node.
        node: u32,
        /// The change.
        #[serde(flatten)]
        change: ClockChange,
        /// When.
        #[serde(flatten)]
        when: When,
    },
    /// The node's disk misbehaves, `count` times (see [`DiskFault`]).
    Disk {
        /// The node.
        node: u32,
        /// What the disk does wrong.
        fault: DiskFault,
        /// How many times (records corrupted, writes torn, fsyncs failed or lost).
        #[serde(default = "one_u32")]
        count: u32,
        /// When.
        #[serde(flatten)]
        when: When,
    },
    /// Rule: when a message matching the pattern is sent (the `nth` match on, `count` of them;
    /// by any node unless `from` says which), something happens to its sender right after that
    /// send, before it carries out anything else. A trigger tied to a protocol event rather than
    /// to an instant, so a lesson does not depend on timing: "the leader crashes after sending
    /// its second `accept`" holds whichever node leads and whenever it got there.
    ///
    /// JSON: `{"type": "on_send", "kind": "accept", "nth": 2, "then": "crash"}`, or
    /// `{"type": "on_send", "kind": "commit", "nth": 40, "then": "isolate", "undo_after_ms": 500}`.
    OnSend {
        /// Which messages.
        #[serde(flatten)]
        pattern: Pattern,
        /// What happens to the sender.
        then: SenderFault,
        /// Undo it this long after: a crashed sender restarts, an isolated one is healed (every
        /// partition ends). Absent: it lasts to the end of the run.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        undo_after_ms: Option<u64>,
    },
    /// Rule: a node crashes while a log write is in flight. The `nth` write (counting from 1;
    /// of any node unless `node` says which) never completes and is never acknowledged, and
    /// the node's effects after it never happen; an armed `torn_write` disk fault leaves the
    /// record partly written, which recovery drops as a torn tail.
    ///
    /// JSON: `{"type": "on_write", "node": 1, "nth": 1, "then": "power_loss", "undo_after_ms": 20}`.
    OnWrite {
        /// The node whose writes count (any node when absent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<u32>,
        /// Which write, counting from 1.
        #[serde(default = "one")]
        nth: u64,
        /// How the node goes down.
        then: WriteCrash,
        /// Restart the node this long after. Absent: it stays down.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        undo_after_ms: Option<u64>,
    },
}

/// What an [`Fault::OnWrite`] rule does to the node whose write is in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteCrash {
    /// The node crashes; what it wrote before is kept, un-synced writes included.
    Crash,
    /// The node loses power: its un-synced writes are lost too.
    PowerLoss,
}

/// What an [`Fault::OnSend`] rule does to the sender of the matching message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SenderFault {
    /// The sender crashes (its durable log is kept, lazy writes included).
    Crash,
    /// The sender crashes and loses its un-synced log writes, as in a power failure.
    PowerLoss,
    /// The sender is cut off from every other node (a partition with it alone on one side).
    Isolate,
}

/// How a clock fault changes a node's local clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "ClockWire", into = "ClockWire")]
pub enum ClockChange {
    /// The clock jumps by this many milliseconds (negative: backwards).
    Jump {
        /// The jump.
        offset_ms: i64,
    },
    /// From now on the clock runs at `1 + drift_ppm / 1 000 000` times real time.
    Drift {
        /// Parts per million; positive runs fast.
        drift_ppm: i64,
    },
}

/// The most a clock fault may jump a clock, either way.
pub const MAX_CLOCK_JUMP_MS: i64 = MAX_DURATION_MS as i64;
/// The most a clock may drift, either way: half as fast to one and a half times as fast.
pub const MAX_DRIFT_PPM: i64 = 500_000;

/// A clock fault as written: exactly one of the two fields.
#[derive(Serialize, Deserialize)]
struct ClockWire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    offset_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    drift_ppm: Option<i64>,
}

impl TryFrom<ClockWire> for ClockChange {
    type Error = &'static str;

    fn try_from(w: ClockWire) -> Result<ClockChange, &'static str> {
        match (w.offset_ms, w.drift_ppm) {
            (Some(offset_ms), None) => Ok(ClockChange::Jump { offset_ms }),
            (None, Some(drift_ppm)) => Ok(ClockChange::Drift { drift_ppm }),
            _ => Err("a clock fault takes exactly one of offset_ms and drift_ppm"),
        }
    }
}

impl From<ClockChange> for ClockWire {
    fn from(c: ClockChange) -> ClockWire {
        match c {
            ClockChange::Jump { offset_ms } => ClockWire {
                offset_ms: Some(offset_ms),
                drift_ppm: None,
            },
            ClockChange::Drift { drift_ppm } => ClockWire {
                offset_ms: None,
                drift_ppm: Some(drift_ppm),
            },
        }
    }
}

/// What a node's simulated disk does wrong (the `fault` of a `disk` fault).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiskFault {
    /// At the next crash, the last record not yet synced (or being written) is partially
    /// persisted; a checksummed log drops it as a torn tail.
    TornWrite,
    /// A stored record's bytes change (a latent sector error); a checksummed log refuses to
    /// recover from it when it was acknowledged.
    Corrupt,
    /// The next fsync fails (EIO); the node stops, and is never retried.
    FsyncError,
    /// The next fsync reports success, but the record never reaches the disk: the disk lies,
    /// and no protocol survives that.
    LostFsync,
}

impl DiskFault {
    /// The name as written in JSON.
    pub fn name(self) -> &'static str {
        match self {
            DiskFault::TornWrite => "torn_write",
            DiskFault::Corrupt => "corrupt",
            DiskFault::FsyncError => "fsync_error",
            DiskFault::LostFsync => "lost_fsync",
        }
    }
}

/// When a timed fault happens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct When {
    /// At this virtual time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<u64>,
    /// Right after this many queue events were processed (how injected faults replay exactly);
    /// `at_ms` then gives the time, which may be later than the last event's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_event: Option<u64>,
}

/// Which messages a rule matches; absent fields match anything.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pattern {
    /// The message kind (`"commit"`, `"vote"`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<u32>,
    /// The receiver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<u32>,
    /// The first match affected, counting from 1.
    #[serde(default = "one")]
    pub nth: u64,
    /// How many matches in a row are affected.
    #[serde(default = "one")]
    pub count: u64,
}

impl Fault {
    /// The moment of a timed fault; `None` for rules.
    pub fn when(&self) -> Option<When> {
        match self {
            Fault::Crash { when, .. }
            | Fault::Restart { when, .. }
            | Fault::Partition { when, .. }
            | Fault::Heal { when }
            | Fault::DropMessage { when, .. }
            | Fault::Clock { when, .. }
            | Fault::Disk { when, .. } => Some(*when),
            Fault::Drop { .. }
            | Fault::Delay { .. }
            | Fault::CrashAfterSend { .. }
            | Fault::OnSend { .. }
            | Fault::OnWrite { .. } => None,
        }
    }

    /// The moment of a timed fault, to change; `None` for rules (the same faults as
    /// [`Fault::when`], beside it so the two lists stay one).
    pub(crate) fn when_mut(&mut self) -> Option<&mut When> {
        match self {
            Fault::Crash { when, .. }
            | Fault::Restart { when, .. }
            | Fault::Partition { when, .. }
            | Fault::Heal { when }
            | Fault::DropMessage { when, .. }
            | Fault::Clock { when, .. }
            | Fault::Disk { when, .. } => Some(when),
            Fault::Drop { .. }
            | Fault::Delay { .. }
            | Fault::CrashAfterSend { .. }
            | Fault::OnSend { .. }
            | Fault::OnWrite { .. } => None,
        }
    }
}

/// The fault's `type` as written in JSON.
pub(crate) fn fault_type(fault: &Fault) -> &'static str {
    match fault {
        Fault::Crash { .. } => "crash",
        Fault::Restart { .. } => "restart",
        Fault::Partition { .. } => "partition",
        Fault::Heal { .. } => "heal",
        Fault::DropMessage { .. } => "drop_message",
        Fault::Drop { .. } => "drop",
        Fault::Delay { .. } => "delay",
        Fault::CrashAfterSend { .. } => "crash_after_send",
        Fault::Clock { .. } => "clock",
        Fault::Disk { .. } => "disk",
        Fault::OnSend { .. } => "on_send",
        Fault::OnWrite { .. } => "on_write",
    }
}

fn one() -> u64 {
    1
}

fn one_u32() -> u32 {
    1
}

fn is_false(b: &bool) -> bool {
    !*b
}
