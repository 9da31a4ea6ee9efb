//! Trace events: everything that happened in a run, as typed data, hashed into a stable
//! fingerprint and rendered to JSON (with human labels) for the CLI and the browser.

use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use underhood_consensus::{Durability, NodeId, Time};

use crate::engine::DiskEvent;
use crate::hash::TraceHasher;
use crate::process::{Process, TraceValue};
use crate::violation::Violation;

/// One thing that happened at virtual time `time`.
#[derive(Clone, Debug)]
pub struct Event<P: Process> {
    /// When it happened.
    pub time: Time,
    /// When it happened by the clock of the node it happened at, when that clock is not
    /// virtual time (after a clock fault). Not hashed: it follows from the clock events.
    pub local: Option<Time>,
    /// What happened.
    pub kind: EventKind<P>,
}

/// What happened.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum EventKind<P: Process> {
    /// A client request arrived at `node`.
    Request {
        /// The node.
        node: NodeId,
        /// The request.
        request: P::Request,
    },
    /// A message entered the network; a `Deliver` or `Drop` with the same id follows.
    Send {
        /// The message id.
        id: u64,
        /// The sender.
        from: NodeId,
        /// The receiver.
        to: NodeId,
        /// The message.
        msg: P::Msg,
        /// Whether this is the network's extra copy of an earlier send.
        duplicate: bool,
    },
    /// A message arrived.
    Deliver {
        /// The message id.
        id: u64,
        /// The sender.
        from: NodeId,
        /// The receiver.
        to: NodeId,
        /// The message.
        msg: P::Msg,
    },
    /// A message was lost.
    Drop {
        /// The message id.
        id: u64,
        /// The sender.
        from: NodeId,
        /// The receiver.
        to: NodeId,
        /// The message.
        msg: P::Msg,
        /// Why.
        reason: DropReason,
    },
    /// A timer fired.
    Timer {
        /// The node.
        node: NodeId,
        /// The timer.
        timer: P::Timer,
    },
    /// A record was appended to a node's durable log.
    Persist {
        /// The node.
        node: NodeId,
        /// The record.
        record: P::Record,
        /// Whether it was synced.
        durability: Durability,
    },
    /// A node produced an output (a vote, a decision, a reply).
    Output {
        /// The node.
        node: NodeId,
        /// The output.
        output: P::Output,
    },
    /// A node crashed.
    Crash {
        /// The node.
        node: NodeId,
        /// Un-synced log records lost with it.
        lost: u32,
    },
    /// A node restarted from its durable log.
    Restart {
        /// The node.
        node: NodeId,
    },
    /// The network split into groups.
    Partition {
        /// The groups, each sorted, every node in exactly one.
        groups: Vec<Vec<u32>>,
    },
    /// The network healed.
    Heal,
    /// An invariant broke.
    Violation(Violation),
    /// A node's clock jumped or changed rate (a clock fault); its state afterwards.
    Clock {
        /// The node.
        node: NodeId,
        /// How far its clock is now from virtual time (positive: ahead).
        offset_ms: i64,
        /// Its rate from now on, in parts per million (positive: fast).
        drift_ppm: i64,
    },
    /// The node's simulated disk did something: a disk fault struck, or recovery found damage.
    Disk {
        /// The node.
        node: NodeId,
        /// What happened.
        what: DiskEvent,
    },
}

impl<P: Process> EventKind<P> {
    /// The node the event happens at, if one: the receiver of a delivery or drop, the sender
    /// of a send.
    pub fn node(&self) -> Option<NodeId> {
        match self {
            EventKind::Request { node, .. }
            | EventKind::Timer { node, .. }
            | EventKind::Persist { node, .. }
            | EventKind::Output { node, .. }
            | EventKind::Crash { node, .. }
            | EventKind::Restart { node }
            | EventKind::Clock { node, .. }
            | EventKind::Disk { node, .. } => Some(*node),
            EventKind::Send { from, .. } => Some(*from),
            EventKind::Deliver { to, .. } | EventKind::Drop { to, .. } => Some(*to),
            EventKind::Partition { .. } | EventKind::Heal | EventKind::Violation(_) => None,
        }
    }
}

/// Why a message was lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The network's random loss.
    Loss,
    /// Sender and receiver are in different partition groups.
    Partition,
    /// A scripted drop rule matched.
    Rule,
    /// Dropped by an injected fault.
    Injected,
    /// The receiver was down when it arrived.
    ReceiverDown,
}

impl<P: Process> Event<P> {
    /// Folds the event into a trace hash. Every field counts, in a fixed order, through a
    /// platform-independent hasher, so the same run hashes the same natively and in WASM.
    pub(crate) fn hash_into(&self, h: &mut TraceHasher) {
        self.time.hash(h);
        match &self.kind {
            EventKind::Request { node, request } => {
                h.write_u8(0);
                node.hash(h);
                request.hash(h);
            }
            EventKind::Send {
                id,
                from,
                to,
                msg,
                duplicate,
            } => {
                h.write_u8(1);
                (id, from, to, duplicate).hash(h);
                msg.hash(h);
            }
            EventKind::Deliver { id, from, to, msg } => {
                h.write_u8(2);
                (id, from, to).hash(h);
                msg.hash(h);
            }
            EventKind::Drop {
                id,
                from,
                to,
                msg,
                reason,
            } => {
                h.write_u8(3);
                (id, from, to, reason).hash(h);
                msg.hash(h);
            }
            EventKind::Timer { node, timer } => {
                h.write_u8(4);
                node.hash(h);
                timer.hash(h);
            }
            EventKind::Persist {
                node,
                record,
                durability,
            } => {
                h.write_u8(5);
                (node, durability).hash(h);
                record.hash(h);
            }
            EventKind::Output { node, output } => {
                h.write_u8(6);
                node.hash(h);
                output.hash(h);
            }
            EventKind::Crash { node, lost } => {
                h.write_u8(7);
                (node, lost).hash(h);
            }
            EventKind::Restart { node } => {
                h.write_u8(8);
                node.hash(h);
            }
            EventKind::Partition { groups } => {
                h.write_u8(9);
                groups.hash(h);
            }
            EventKind::Heal => h.write_u8(10),
            EventKind::Violation(v) => {
                h.write_u8(11);
                // The evidence is not folded in: it is a function of the same run, and leaving
                // it out keeps every hash what it was before violations carried evidence.
                (v.invariant, &v.detail).hash(h);
            }
            EventKind::Clock {
                node,
                offset_ms,
                drift_ppm,
            } => {
                h.write_u8(12);
                (node, offset_ms, drift_ppm).hash(h);
            }
            EventKind::Disk { node, what } => {
                h.write_u8(13);
                (node, what).hash(h);
            }
        }
    }

    /// The event as JSON, in the shape `docs/sim-wasm-api.md` documents; `names` are the
    /// nodes' display names, used in labels.
    pub fn to_json(&self, index: u64, names: &[String]) -> Value {
        let name = |n: &NodeId| {
            names
                .get(n.0 as usize)
                .cloned()
                .unwrap_or_else(|| n.to_string())
        };
        let mut v = match &self.kind {
            EventKind::Request { node, request } => json!({
                "kind": "request", "node": node.0, "label": P::label_request(request),
                "request": request.to_trace_json(),
            }),
            EventKind::Send {
                id,
                from,
                to,
                msg,
                duplicate,
            } => {
                let mut v = json!({
                    "kind": "send", "id": id, "from": from.0, "to": to.0,
                    "label": P::label_msg(msg), "msg": msg.to_trace_json(),
                });
                if *duplicate {
                    v["duplicate"] = Value::Bool(true);
                }
                v
            }
            EventKind::Deliver { id, from, to, msg } => json!({
                "kind": "deliver", "id": id, "from": from.0, "to": to.0, "label": P::label_msg(msg),
            }),
            EventKind::Drop {
                id,
                from,
                to,
                msg,
                reason,
            } => json!({
                "kind": "drop", "id": id, "from": from.0, "to": to.0, "reason": reason,
                "label": P::label_msg(msg),
            }),
            EventKind::Timer { node, timer } => json!({
                "kind": "timer", "node": node.0, "label": P::label_timer(timer),
                "timer": timer.to_trace_json(),
            }),
            EventKind::Persist {
                node,
                record,
                durability,
            } => json!({
                "kind": "persist", "node": node.0, "durability": durability,
                "label": P::label_record(record), "record": record.to_trace_json(),
            }),
            EventKind::Output { node, output } => json!({
                "kind": "output", "node": node.0, "label": P::label_output(output),
                "output": output.to_trace_json(),
            }),
            EventKind::Crash { node, lost } => json!({
                "kind": "crash", "node": node.0, "lost": lost, "label": format!("crash {}", name(node)),
            }),
            EventKind::Restart { node } => json!({
                "kind": "restart", "node": node.0, "label": format!("restart {}", name(node)),
            }),
            EventKind::Partition { groups } => json!({
                "kind": "partition", "groups": groups, "label": partition_label(groups, names),
            }),
            EventKind::Heal => json!({ "kind": "heal", "label": "heal" }),
            EventKind::Violation(v) => {
                let mut event = json!(v);
                event["kind"] = json!("violation");
                event["label"] = json!(format!("{} violated: {}", v.invariant, v.detail));
                event
            }
            EventKind::Clock {
                node,
                offset_ms,
                drift_ppm,
            } => json!({
                "kind": "clock", "node": node.0, "offset_ms": offset_ms, "drift_ppm": drift_ppm,
                "label": format!("clock {}: {offset_ms:+} ms, {drift_ppm:+} ppm", name(node)),
            }),
            EventKind::Disk { node, what } => {
                let mut v = json!(what);
                v["kind"] = json!("disk");
                v["node"] = json!(node.0);
                v["label"] = json!(format!("{} {}", name(node), what.label()));
                v
            }
        };
        v["i"] = json!(index);
        v["t"] = json!(self.time.0);
        if let Some(local) = self.local {
            v["local_t"] = json!(local.0);
        }
        v
    }
}

/// `partition {C,P1} | {P2,P3}`.
pub(crate) fn partition_label(groups: &[Vec<u32>], names: &[String]) -> String {
    let parts: Vec<String> = groups
        .iter()
        .map(|g| {
            let ids: Vec<String> = g
                .iter()
                .map(|n| {
                    names
                        .get(*n as usize)
                        .cloned()
                        .unwrap_or_else(|| n.to_string())
                })
                .collect();
            format!("{{{}}}", ids.join(","))
        })
        .collect();
    format!("partition {}", parts.join(" | "))
}
