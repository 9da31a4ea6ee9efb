//! The network of a run: what happens to a message when a node sends it — scripted drop,
//! delay and crash-after-send rules, partitions, seeded loss, latency and duplication, FIFO
//! links — and the messages in flight.

use underhood_consensus::{NodeId, Time};

use super::{Flight, Item, MsgOf, Sim};
use crate::process::{Process, Protocol};
use crate::scenario::{Ordering, Pattern, SenderFault};
use crate::trace::{DropReason, EventKind};

pub(super) struct Rule {
    pub(super) action: RuleAction,
    pub(super) pattern: Pattern,
    pub(super) matched: u64,
}

pub(super) enum RuleAction {
    Drop,
    Delay(u64),
    CrashAfterSend {
        node: u32,
        lose_unsynced: bool,
    },
    OnSend {
        then: SenderFault,
        undo_after_ms: Option<u64>,
    },
}

/// What the rules do to the sender of a message right after it is sent.
#[derive(Default)]
pub(super) struct Struck {
    /// The sender crashes (`Some(lose_unsynced)`).
    pub(super) crash: Option<bool>,
    /// When it restarts, if it crashes.
    pub(super) restart_at: Option<Time>,
    /// The sender is cut off from every other node.
    pub(super) isolate: bool,
    /// When the partition heals, if it is isolated.
    pub(super) undo_isolation_at: Option<Time>,
}

impl<P: Protocol> Sim<P> {
    /// Puts a message on the network. Returns what crash-after-send and on-send rules do to the
    /// sender right after this send.
    pub(super) fn send(&mut self, from: NodeId, to: NodeId, msg: MsgOf<P>) -> Struck {
        let id = self.next_msg;
        self.next_msg += 1;
        let EventKind::Send { msg, .. } = self.record(EventKind::Send {
            id,
            from,
            to,
            msg,
            duplicate: false,
        }) else {
            unreachable!("record hands back the event it was given")
        };
        let kind = <P::Node as Process>::msg_kind(&msg);
        let mut dropped = None;
        let mut extra: u64 = 0;
        let mut struck = Struck::default();
        let now = self.now;
        for rule in &mut self.rules {
            let p = &rule.pattern;
            let sender_matches = match rule.action {
                RuleAction::CrashAfterSend { node, .. } => node == from.0,
                RuleAction::Drop | RuleAction::Delay(_) | RuleAction::OnSend { .. } => true,
            };
            if !sender_matches
                || p.kind.as_deref().is_some_and(|k| k != kind)
                || p.from.is_some_and(|f| f != from.0)
                || p.to.is_some_and(|t| t != to.0)
            {
                continue;
            }
            rule.matched += 1;
            if rule.matched < p.nth || rule.matched - p.nth >= p.count {
                continue;
            }
            match rule.action {
                RuleAction::Drop => dropped = Some(DropReason::Rule),
                RuleAction::Delay(ms) => extra = extra.saturating_add(ms),
                RuleAction::CrashAfterSend { lose_unsynced, .. } => {
                    struck.crash = Some(lose_unsynced);
                }
                RuleAction::OnSend {
                    then,
                    undo_after_ms,
                } => {
                    let undo_at = undo_after_ms.map(|ms| now.after(ms));
                    match then {
                        SenderFault::Crash | SenderFault::PowerLoss => {
                            let power_loss = then == SenderFault::PowerLoss;
                            struck.crash = Some(struck.crash.unwrap_or(false) || power_loss);
                            struck.restart_at = struck.restart_at.or(undo_at);
                        }
                        SenderFault::Isolate => {
                            struck.isolate = true;
                            struck.undo_isolation_at = struck.undo_isolation_at.or(undo_at);
                        }
                    }
                }
            }
        }
        // Every send draws the same numbers in the same order, whatever happens to it, so one
        // fault more or less does not reshuffle the rest of the run.
        let (latency, loss) = self.link(from, to);
        let lost = self.net_rng.chance(loss);
        let delay = self.net_rng.range(latency.min, latency.max);
        let duplicate = self.net_rng.chance(self.env.network().duplicate_per_mille);
        let dup_delay = if duplicate {
            self.net_rng.range(latency.min, latency.max)
        } else {
            0
        };
        if self.group[from.0 as usize] != self.group[to.0 as usize] {
            dropped = dropped.or(Some(DropReason::Partition));
        }
        if lost {
            dropped = dropped.or(Some(DropReason::Loss));
        }
        if let Some(reason) = dropped {
            self.emit(EventKind::Drop {
                id,
                from,
                to,
                msg,
                reason,
            });
            return struck;
        }
        if duplicate {
            let dup_id = self.next_msg;
            self.next_msg += 1;
            self.emit(EventKind::Send {
                id: dup_id,
                from,
                to,
                msg: msg.clone(),
                duplicate: true,
            });
            self.put_in_flight(
                dup_id,
                from,
                to,
                msg.clone(),
                dup_delay.saturating_add(extra),
            );
        }
        self.put_in_flight(id, from, to, msg, delay.saturating_add(extra));
        struck
    }

    fn put_in_flight(&mut self, id: u64, from: NodeId, to: NodeId, msg: MsgOf<P>, delay: u64) {
        let mut at = self.now.after(delay);
        if self.env.network().ordering == Ordering::Fifo {
            let link = (from.0 * self.protocol.n_nodes() + to.0) as usize;
            at = at.max(self.link_last[link]);
            self.link_last[link] = at;
        }
        self.in_flight.insert(
            id,
            Flight {
                from,
                to,
                msg,
                sent_at: self.now,
                deliver_at: at,
            },
        );
        self.push(at, Item::Deliver(id));
    }

    pub(super) fn link(&self, from: NodeId, to: NodeId) -> (crate::scenario::Latency, u32) {
        let net = self.env.network();
        let mut latency = net.latency_ms;
        let mut loss = net.loss_per_mille;
        for link in &net.links {
            if link.from == from.0 && link.to == to.0 {
                latency = link.latency_ms.unwrap_or(latency);
                loss = link.loss_per_mille.unwrap_or(loss);
            }
        }
        (latency, loss)
    }

    /// Takes message `id` off the network, if it is still in flight, and records why.
    pub(super) fn drop_in_flight(&mut self, id: u64, reason: DropReason) {
        if let Some(f) = self.in_flight.remove(id) {
            self.emit(EventKind::Drop {
                id,
                from: f.from,
                to: f.to,
                msg: f.msg,
                reason,
            });
        }
    }
}
