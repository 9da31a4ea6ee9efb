//! Scripted runs: a list of [`Choice`]s, not the queue's order, says what happens next — which
//! message arrives, which timer fires, which client wakes up, who crashes. The model checker's
//! counterexamples replay this way, through the same engine, trace events, checkers and
//! browser view as any simulated run.
//!
//! Choices name messages and timers by content (sender, receiver and the message as JSON), not
//! by id: the checker never sees the engine's ids, and two equal messages on one link are
//! interchangeable. Each choice happens [`SCRIPT_STEP_MS`] after the one before.

use std::collections::BinaryHeap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use underhood_consensus::{Input, NodeId};

use super::{Item, Sim};
use crate::process::Protocol;
use crate::trace::{DropReason, EventKind};

/// Virtual milliseconds between two scripted choices.
pub const SCRIPT_STEP_MS: u64 = 10;

/// One thing that happens next in a scripted run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Choice {
    /// The oldest message in flight from `from` to `to` equal to `msg` arrives.
    Deliver {
        /// The sender.
        from: u32,
        /// The receiver.
        to: u32,
        /// The message, as its JSON.
        msg: Value,
        /// Whether the receiver crashes part way through handling it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cut: Option<Cut>,
    },
    /// A copy of that message arrives; the network keeps the original for later.
    Duplicate {
        /// The sender.
        from: u32,
        /// The receiver.
        to: u32,
        /// The message, as its JSON.
        msg: Value,
        /// Whether the receiver crashes part way through handling it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cut: Option<Cut>,
    },
    /// The network loses that message.
    Drop {
        /// The sender.
        from: u32,
        /// The receiver.
        to: u32,
        /// The message, as its JSON.
        msg: Value,
    },
    /// A pending timer of `node` equal to `timer` fires.
    Timer {
        /// The node.
        node: u32,
        /// The timer, as its JSON.
        timer: Value,
        /// Whether the node crashes part way through handling it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cut: Option<Cut>,
    },
    /// A client's pending wake-up `token` happens (it may send a request).
    Wake {
        /// The wake-up's token.
        token: u64,
        /// Whether the node that gets the request crashes part way through handling it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cut: Option<Cut>,
    },
    /// `node` crashes; with `power_loss` its un-synced log writes are lost too.
    Crash {
        /// The node.
        node: u32,
        /// Whether un-synced writes are lost.
        #[serde(default)]
        power_loss: bool,
    },
    /// `node` restarts from its durable log.
    Restart {
        /// The node.
        node: u32,
    },
    /// A disk fault strikes `node`'s disk once, as a `disk` fault in a scenario does.
    Disk {
        /// The node.
        node: u32,
        /// What its disk does wrong.
        fault: crate::scenario::DiskFault,
    },
}

/// A step cut short: the node carries out its first `effects` effects, then crashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cut {
    /// Effects carried out before the crash.
    pub effects: u32,
    /// Whether un-synced log writes are lost with the crash.
    #[serde(default)]
    pub power_loss: bool,
}

/// A choice that cannot happen in the run's current state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScriptError {
    /// No such message is in flight.
    #[error("step {step}: no message {msg} from node {from} to node {to} is in flight")]
    NoMessage {
        /// The choice's index in the script.
        step: usize,
        /// The sender.
        from: u32,
        /// The receiver.
        to: u32,
        /// The message's JSON.
        msg: String,
    },
    /// No such timer is pending.
    #[error("step {step}: node {node} has no pending timer {timer}")]
    NoTimer {
        /// The choice's index in the script.
        step: usize,
        /// The node.
        node: u32,
        /// The timer's JSON.
        timer: String,
    },
    /// No such client wake-up is pending.
    #[error("step {step}: no client wake-up with token {token} is pending")]
    NoWake {
        /// The choice's index in the script.
        step: usize,
        /// The token.
        token: u64,
    },
    /// The node is not in the state the choice needs (a crash of a node that is down, a
    /// restart of one that is up, an unknown node).
    #[error("step {step}: node {node} {problem}")]
    Node {
        /// The choice's index in the script.
        step: usize,
        /// The node.
        node: u32,
        /// What is wrong.
        problem: NodeProblem,
    },
}

/// What is wrong with the node a choice names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeProblem {
    /// It does not exist.
    Unknown,
    /// It is down, and the choice needs it up.
    Down,
    /// It is up, and the choice needs it down.
    Up,
}

impl fmt::Display for NodeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NodeProblem::Unknown => "does not exist",
            NodeProblem::Down => "is down",
            NodeProblem::Up => "is already up",
        })
    }
}

impl<P: Protocol> Sim<P> {
    /// Makes `choice` happen [`SCRIPT_STEP_MS`] after the previous event, instead of whatever
    /// the queue holds next; `step` is the choice's index, for errors. A choice that cannot
    /// happen changes nothing and says why.
    pub fn apply_choice(&mut self, step: usize, choice: &Choice) -> Result<(), ScriptError> {
        let node_check = |sim: &Self, node: u32, want_up: bool| {
            let problem = match sim.nodes.get(node as usize) {
                None => Some(NodeProblem::Unknown),
                Some(slot) if slot.node.is_some() && !want_up => Some(NodeProblem::Up),
                Some(slot) if slot.node.is_none() && want_up => Some(NodeProblem::Down),
                Some(_) => None,
            };
            problem.map_or(Ok(()), |problem| {
                Err(ScriptError::Node {
                    step,
                    node,
                    problem,
                })
            })
        };
        // Find what the choice names before anything changes.
        enum Plan {
            Message(u64),
            Queued(usize),
            Node,
        }
        let plan = match choice {
            Choice::Deliver { from, to, msg, .. }
            | Choice::Duplicate { from, to, msg, .. }
            | Choice::Drop { from, to, msg } => {
                Plan::Message(self.find_message(*from, *to, msg).ok_or_else(|| {
                    ScriptError::NoMessage {
                        step,
                        from: *from,
                        to: *to,
                        msg: msg.to_string(),
                    }
                })?)
            }
            Choice::Timer { node, timer, .. } => {
                node_check(self, *node, true)?;
                let at = self
                    .find_queued(|item| match item {
                        Item::Timer {
                            node: n,
                            incarnation,
                            timer: t,
                            epoch,
                            ..
                        } => {
                            let slot = &self.nodes[*node as usize];
                            n.0 == *node
                                && *incarnation == slot.incarnation
                                && *epoch == slot.clock_epoch
                                && json_eq(t, timer)
                        }
                        _ => false,
                    })
                    .ok_or_else(|| ScriptError::NoTimer {
                        step,
                        node: *node,
                        timer: timer.to_string(),
                    })?;
                Plan::Queued(at)
            }
            Choice::Wake { token, .. } => {
                let at = self
                    .find_queued(|item| matches!(item, Item::Wake(t) if t == token))
                    .ok_or(ScriptError::NoWake {
                        step,
                        token: *token,
                    })?;
                Plan::Queued(at)
            }
            Choice::Crash { node, .. } => {
                node_check(self, *node, true)?;
                Plan::Node
            }
            Choice::Restart { node } => {
                node_check(self, *node, false)?;
                Plan::Node
            }
            Choice::Disk { node, .. } => {
                if self.nodes.get(*node as usize).is_none() {
                    return Err(ScriptError::Node {
                        step,
                        node: *node,
                        problem: NodeProblem::Unknown,
                    });
                }
                Plan::Node
            }
        };
        self.now = self.now.after(SCRIPT_STEP_MS);
        self.steps += 1;
        match (choice, plan) {
            (Choice::Deliver { cut, .. }, Plan::Message(id)) => self.deliver(id, *cut),
            (Choice::Duplicate { cut, .. }, Plan::Message(id)) => {
                let copy = self.next_msg;
                self.next_msg += 1;
                let flight = self.in_flight.get(id).map(|f| super::Flight::<P::Node> {
                    from: f.from,
                    to: f.to,
                    msg: f.msg.clone(),
                    sent_at: self.now,
                    deliver_at: self.now,
                });
                if let Some(flight) = flight {
                    self.emit(EventKind::Send {
                        id: copy,
                        from: flight.from,
                        to: flight.to,
                        msg: flight.msg.clone(),
                        duplicate: true,
                    });
                    self.in_flight.insert(copy, flight);
                    self.deliver(copy, *cut);
                }
            }
            (Choice::Drop { .. }, Plan::Message(id)) => self.drop_in_flight(id, DropReason::Loss),
            (Choice::Timer { cut, .. }, Plan::Queued(at)) => {
                if let Item::Timer { node, timer, .. } = self.take_queued(at) {
                    self.emit(EventKind::Timer {
                        node,
                        timer: timer.clone(),
                    });
                    self.step_node_cut(node, Input::Timer(timer), *cut);
                }
            }
            (Choice::Wake { cut, .. }, Plan::Queued(at)) => {
                if let Item::Wake(token) = self.take_queued(at)
                    && let Some((node, request)) = self.wake_client(token)
                {
                    self.step_node_cut(node, Input::Request(request), *cut);
                }
            }
            (Choice::Crash { node, power_loss }, _) => self.crash(NodeId(*node), *power_loss, None),
            (Choice::Restart { node }, _) => self.restart(NodeId(*node)),
            (Choice::Disk { node, fault }, _) => self.disk_fault(NodeId(*node), *fault, 1),
            // Each choice planned above has its own arm.
            _ => {}
        }
        if !self.invariants.is_empty() {
            self.check_state_invariants();
        }
        Ok(())
    }

    /// Ends a scripted run: nothing more happens, and the whole-run checks run now.
    pub fn end_script(&mut self) {
        self.stopped = true;
        self.check_at_end();
    }

    /// The oldest message in flight from `from` to `to` whose JSON is `msg`.
    fn find_message(&self, from: u32, to: u32, msg: &Value) -> Option<u64> {
        self.in_flight
            .iter()
            .filter(|(_, f)| f.from.0 == from && f.to.0 == to && json_eq(&f.msg, msg))
            .map(|(id, _)| id)
            .min()
    }

    /// The position (in the queue's storage) of the earliest queued item `matches` accepts.
    fn find_queued(&self, matches: impl Fn(&Item<P::Node>) -> bool) -> Option<usize> {
        self.queue
            .iter()
            .enumerate()
            .filter(|(_, e)| matches(&e.0.item))
            .min_by_key(|(_, e)| (e.0.time, e.0.seq))
            .map(|(i, _)| i)
    }

    /// Takes the item at `at` (a position from [`Sim::find_queued`]) out of the queue.
    fn take_queued(&mut self, at: usize) -> Item<P::Node> {
        let mut entries = std::mem::take(&mut self.queue).into_vec();
        let entry = entries.swap_remove(at);
        self.queue = BinaryHeap::from(entries);
        entry.0.item
    }
}

/// Whether `value` serializes to `json`.
fn json_eq<T: crate::process::TraceValue>(value: &T, json: &Value) -> bool {
    value.to_trace_json() == *json
}
