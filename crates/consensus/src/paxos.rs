//! Single-decree Paxos: a group of nodes, each proposer, acceptor and learner, agrees on one
//! value.
//!
//! A proposer picks a ballot `(round, its id)` higher than any it has seen and sends PREPARE.
//! An acceptor promises not to accept lower ballots, durably, and reports the value it accepted
//! with the highest ballot. With promises from a majority, the proposer proposes the value of the
//! highest-ballot report (its own value only if none was reported). An acceptor accepts a
//! proposal unless it promised a higher ballot, durably, and tells every learner. A learner that
//! hears the same ballot accepted by a majority has learned the chosen value.
//!
//! The multi-slot version with a stable leader is [`crate::multi_paxos`].
//!
//! ```
//! use underhood_consensus::paxos::{Msg, Node, Value};
//! use underhood_consensus::{Effect, NodeId};
//!
//! let mut nodes: Vec<Node> = (0..3).map(|i| Node::new(NodeId(i), 3)).collect();
//! let mut bag = Vec::new();
//! let mut out = Vec::new();
//! nodes[0].propose(Value(7), &mut out);
//! loop {
//!     for e in out.drain(..) {
//!         if let Effect::Send { to, msg } = e {
//!             bag.push((to, msg));
//!         }
//!     }
//!     let Some((to, msg)) = bag.pop() else { break };
//!     let (to, from): (NodeId, NodeId) = (to, msg.sender());
//!     nodes[to.0 as usize].on_msg(from, msg, &mut out);
//! }
//! assert!(nodes.iter().all(|n| n.learned() == Some(Value(7))));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::multi_paxos::Ballot;
use crate::{Durability, NodeId};

/// The value being agreed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Value(pub u64);

/// Messages; each carries its sender so learners can count acceptors.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    /// Phase 1a.
    Prepare {
        /// The sender.
        from: NodeId,
        /// The ballot.
        ballot: Ballot,
    },
    /// Phase 1b: the promise, with the highest-ballot accepted value, if any.
    Promise {
        /// The sender.
        from: NodeId,
        /// The ballot promised.
        ballot: Ballot,
        /// What the acceptor accepted before.
        accepted: Option<(Ballot, Value)>,
    },
    /// Phase 2a.
    Accept {
        /// The sender.
        from: NodeId,
        /// The ballot.
        ballot: Ballot,
        /// The value.
        value: Value,
    },
    /// Phase 2b, sent to every learner.
    Accepted {
        /// The sender.
        from: NodeId,
        /// The ballot.
        ballot: Ballot,
        /// The value.
        value: Value,
    },
}

impl Msg {
    /// Who sent the message.
    pub fn sender(&self) -> NodeId {
        match self {
            Msg::Prepare { from, .. }
            | Msg::Promise { from, .. }
            | Msg::Accept { from, .. }
            | Msg::Accepted { from, .. } => *from,
        }
    }
}

/// Durable acceptor state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Record {
    /// Promised `ballot`.
    Promised(Ballot),
    /// Accepted `value` under `ballot`.
    Accepted(Ballot, Value),
}

/// The effect type of single-decree Paxos (no timers: retries are the caller's choice).
pub type Effect = crate::Effect<Msg, (), Record, Value>;

/// One node: proposer, acceptor and learner.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Node {
    id: NodeId,
    n: u32,
    // Acceptor.
    promised: Ballot,
    accepted: Option<(Ballot, Value)>,
    // Proposer.
    round: u64,
    proposal: Option<Proposal>,
    // Learner.
    votes: BTreeMap<(Ballot, Value), BTreeSet<NodeId>>,
    learned: Option<Value>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Proposal {
    ballot: Ballot,
    value: Value,
    promises: BTreeSet<NodeId>,
    highest: Option<(Ballot, Value)>,
    sent_accept: bool,
}

impl Node {
    /// A node of an `n`-node group with empty durable state.
    pub fn new(id: NodeId, n: u32) -> Node {
        Node {
            id,
            n,
            promised: Ballot::default(),
            accepted: None,
            round: 0,
            proposal: None,
            votes: BTreeMap::new(),
            learned: None,
        }
    }

    /// A node rebuilt from its durable log.
    pub fn recover(id: NodeId, n: u32, log: &[Record]) -> Node {
        let mut node = Node::new(id, n);
        for record in log {
            match *record {
                Record::Promised(b) => node.promised = node.promised.max(b),
                Record::Accepted(b, v) => {
                    node.promised = node.promised.max(b);
                    node.accepted = Some((b, v));
                }
            }
        }
        node.round = node.promised.round;
        node
    }

    /// The value this node learned was chosen, if any.
    pub fn learned(&self) -> Option<Value> {
        self.learned
    }

    /// Starts (or restarts, with a higher ballot) a proposal of `value`.
    pub fn propose(&mut self, value: Value, out: &mut Vec<Effect>) {
        self.round = self.round.max(self.promised.round) + 1;
        let ballot = Ballot {
            round: self.round,
            leader: self.id,
        };
        // The proposer's own promise, forced first: after a crash the node remembers the round
        // and never reuses a ballot for another value.
        self.promised = ballot;
        out.push(crate::Effect::Persist {
            record: Record::Promised(ballot),
            durability: Durability::Forced,
        });
        self.proposal = Some(Proposal {
            ballot,
            value,
            promises: BTreeSet::new(),
            highest: None,
            sent_accept: false,
        });
        self.broadcast(
            Msg::Prepare {
                from: self.id,
                ballot,
            },
            out,
        );
    }

    /// Handles a message from `from`.
    pub fn on_msg(&mut self, from: NodeId, msg: Msg, out: &mut Vec<Effect>) {
        match msg {
            Msg::Prepare { ballot, .. } => {
                self.round = self.round.max(ballot.round);
                if ballot < self.promised {
                    return;
                }
                if ballot > self.promised {
                    self.promised = ballot;
                    out.push(crate::Effect::Persist {
                        record: Record::Promised(ballot),
                        durability: Durability::Forced,
                    });
                }
                out.push(crate::Effect::Send {
                    to: from,
                    msg: Msg::Promise {
                        from: self.id,
                        ballot,
                        accepted: self.accepted,
                    },
                });
            }
            Msg::Promise {
                ballot, accepted, ..
            } => {
                let majority = self.n as usize / 2 + 1;
                let Some(p) = self.proposal.as_mut().filter(|p| p.ballot == ballot) else {
                    return;
                };
                p.promises.insert(from);
                if accepted.is_some_and(|a| p.highest.is_none_or(|h| a.0 > h.0)) {
                    p.highest = accepted;
                }
                if p.promises.len() >= majority && !p.sent_accept {
                    p.sent_accept = true;
                    // Safety hinges on this line: adopt the highest-ballot accepted value.
                    let value = p.highest.map_or(p.value, |(_, v)| v);
                    let msg = Msg::Accept {
                        from: self.id,
                        ballot,
                        value,
                    };
                    self.broadcast(msg, out);
                }
            }
            Msg::Accept { ballot, value, .. } => {
                if ballot < self.promised {
                    return;
                }
                self.promised = ballot;
                self.accepted = Some((ballot, value));
                out.push(crate::Effect::Persist {
                    record: Record::Accepted(ballot, value),
                    durability: Durability::Forced,
                });
                let msg = Msg::Accepted {
                    from: self.id,
                    ballot,
                    value,
                };
                self.broadcast(msg, out);
            }
            Msg::Accepted { ballot, value, .. } => {
                let majority = self.n as usize / 2 + 1;
                let voters = self.votes.entry((ballot, value)).or_default();
                voters.insert(from);
                if voters.len() >= majority && self.learned.is_none() {
                    self.learned = Some(value);
                    out.push(crate::Effect::Output(value));
                }
            }
        }
    }

    /// Sends to every node, this one included (through the caller, like any other message).
    fn broadcast(&self, msg: Msg, out: &mut Vec<Effect>) {
        for to in (0..self.n).map(NodeId) {
            out.push(crate::Effect::Send {
                to,
                msg: msg.clone(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Dueling proposers, any delivery order, losses and crash-recoveries: at most one
        /// value is ever learned, and it is one that was proposed.
        #[test]
        fn at_most_one_value_is_chosen(
            n in 1u32..6,
            choices in prop::collection::vec((0u8..5, any::<prop::sample::Index>()), 0..200),
        ) {
            let mut nodes: Vec<Node> = (0..n).map(|i| Node::new(NodeId(i), n)).collect();
            let mut logs: Vec<Vec<Record>> = vec![Vec::new(); n as usize];
            let mut bag: Vec<(NodeId, NodeId, Msg)> = Vec::new();
            let mut learned: Vec<Value> = Vec::new();
            let mut proposed: Vec<Value> = Vec::new();
            for (action, idx) in choices {
                let mut out = Vec::new();
                let node = NodeId(idx.index(n as usize) as u32);
                match action {
                    0 | 1 if !bag.is_empty() => {
                        let (from, to, msg) = bag.remove(idx.index(bag.len()));
                        if action == 0 {
                            nodes[to.0 as usize].on_msg(from, msg, &mut out);
                            for e in out.drain(..) {
                                match e {
                                    crate::Effect::Send { to: t, msg } => bag.push((to, t, msg)),
                                    crate::Effect::Persist { record, .. } => logs[to.0 as usize].push(record),
                                    crate::Effect::Output(v) => learned.push(v),
                                    crate::Effect::SetTimer { .. } => {}
                                }
                            }
                        }
                        continue;
                    }
                    2 => {
                        let value = Value(u64::from(node.0) * 100 + proposed.len() as u64);
                        proposed.push(value);
                        nodes[node.0 as usize].propose(value, &mut out);
                        for e in &out {
                            if let crate::Effect::Persist { record, .. } = e {
                                logs[node.0 as usize].push(*record);
                            }
                        }
                    }
                    3 => {
                        nodes[node.0 as usize] = Node::recover(node, n, &logs[node.0 as usize]);
                    }
                    _ => {}
                }
                for e in out {
                    if let crate::Effect::Send { to, msg } = e {
                        bag.push((node, to, msg));
                    }
                }
            }
            if let Some(first) = learned.first() {
                prop_assert!(learned.iter().all(|v| v == first), "{learned:?}");
                prop_assert!(proposed.contains(first));
            }
        }
    }
}
