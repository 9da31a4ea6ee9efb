//! How faults strike a run: timed faults queued or replayed at their moment, rules installed
//! at the start, injections while running, and what each fault does to the network, a node's
//! clock, its disk and its life (crash, restart, isolation).

use std::cmp::Reverse;

use underhood_consensus::{NodeId, Time};

use super::{DiskEvent, Item, Rule, RuleAction, Sim, TimerOf};
use crate::error::{InjectRefusal, ScenarioError};
use crate::process::Protocol;
use crate::scenario::{ClockChange, DiskFault, Fault, When, WriteCrash, fault_type};
use crate::trace::{DropReason, EventKind};

impl<P: Protocol> Sim<P> {
    pub(super) fn schedule_fault(&mut self, fault: Fault) {
        match &fault {
            Fault::Drop { pattern } => self.rules.push(Rule {
                action: RuleAction::Drop,
                pattern: pattern.clone(),
                matched: 0,
            }),
            Fault::Delay { pattern, extra_ms } => self.rules.push(Rule {
                action: RuleAction::Delay(*extra_ms),
                pattern: pattern.clone(),
                matched: 0,
            }),
            Fault::CrashAfterSend {
                node,
                pattern,
                lose_unsynced,
            } => self.rules.push(Rule {
                action: RuleAction::CrashAfterSend {
                    node: *node,
                    lose_unsynced: *lose_unsynced,
                },
                pattern: pattern.clone(),
                matched: 0,
            }),
            Fault::OnSend {
                pattern,
                then,
                undo_after_ms,
            } => self.rules.push(Rule {
                action: RuleAction::OnSend {
                    then: *then,
                    undo_after_ms: *undo_after_ms,
                },
                pattern: pattern.clone(),
                matched: 0,
            }),
            Fault::OnWrite { .. } => self.write_rules.push((fault.clone(), 0)),
            Fault::Crash { when, .. }
            | Fault::Restart { when, .. }
            | Fault::Partition { when, .. }
            | Fault::Heal { when }
            | Fault::DropMessage { when, .. }
            | Fault::Clock { when, .. }
            | Fault::Disk { when, .. } => match (when.after_event, when.at_ms) {
                (Some(after), at) => {
                    self.replays
                        .push((after, Time(at.unwrap_or(0)), fault.clone()));
                }
                (None, Some(at)) => self.push(Time(at), Item::Fault(Box::new(fault.clone()))),
                // `Scenario::check` refuses timed faults without a time.
                (None, None) => {}
            },
        }
    }

    /// Applies `fault` now and records it for replay.
    pub fn inject(&mut self, fault: Fault) -> Result<Fault, ScenarioError> {
        let when = When {
            at_ms: Some(self.now.0),
            after_event: Some(self.steps),
        };
        let Some(fault) = with_time(&fault, when) else {
            return Err(ScenarioError::Inject {
                fault: fault_type(&fault),
                reason: InjectRefusal::RuleNotTimed,
            });
        };
        self.env.check_fault(&fault)?;
        if let Fault::DropMessage { id, .. } = fault
            && !self.in_flight.contains(id)
        {
            return Err(ScenarioError::Inject {
                fault: "drop_message",
                reason: InjectRefusal::NotInFlight(id),
            });
        }
        self.injected.push(fault.clone());
        self.apply_fault(fault.clone());
        Ok(fault)
    }

    pub(super) fn apply_due_replays(&mut self, until: Time) {
        while let Some((after, at, _)) = self.replays.first() {
            if *after > self.steps || *at > until {
                break;
            }
            let (_, at, fault) = self.replays.remove(0);
            self.now = self.now.max(at);
            self.apply_fault(fault);
        }
    }

    pub(super) fn apply_fault(&mut self, fault: Fault) {
        match fault {
            Fault::Crash {
                node,
                lose_unsynced,
                ..
            } => self.crash(NodeId(node), lose_unsynced, None),
            Fault::Restart { node, .. } => self.restart(NodeId(node)),
            Fault::Partition { groups, .. } => {
                let mut all: Vec<Vec<u32>> = groups
                    .into_iter()
                    .filter(|g| !g.is_empty())
                    .map(|mut g| {
                        g.sort_unstable();
                        g
                    })
                    .collect();
                let rest: Vec<u32> = (0..self.protocol.n_nodes())
                    .filter(|n| !all.iter().flatten().any(|m| m == n))
                    .collect();
                if !rest.is_empty() {
                    all.push(rest);
                }
                for (i, g) in all.iter().enumerate() {
                    for n in g {
                        self.group[*n as usize] = i as u32;
                    }
                }
                self.emit(EventKind::Partition { groups: all });
            }
            Fault::Heal { .. } => {
                self.group.fill(0);
                self.emit(EventKind::Heal);
            }
            Fault::DropMessage { id, .. } => self.drop_in_flight(id, DropReason::Injected),
            Fault::Clock { node, change, .. } => self.change_clock(NodeId(node), change),
            Fault::Disk {
                node, fault, count, ..
            } => self.disk_fault(NodeId(node), fault, count),
            // Rules are installed at the start, never applied as events.
            Fault::Drop { .. }
            | Fault::Delay { .. }
            | Fault::CrashAfterSend { .. }
            | Fault::OnSend { .. }
            | Fault::OnWrite { .. } => {}
        }
    }

    /// Cuts `node` off from every other node (an [`Fault::OnSend`] rule); heals at `heal_at`.
    pub(super) fn isolate(&mut self, node: NodeId, heal_at: Option<Time>) {
        self.apply_fault(Fault::Partition {
            groups: vec![vec![node.0]],
            when: When::default(),
        });
        if let Some(at) = heal_at {
            let heal = Fault::Heal {
                when: When {
                    at_ms: Some(at.0),
                    after_event: None,
                },
            };
            self.push(at, Item::Fault(Box::new(heal)));
        }
    }

    /// A clock fault: the node's clock jumps or changes rate now, and its pending timers are
    /// queued again for the virtual time at which the changed clock reaches their deadlines.
    pub(super) fn change_clock(&mut self, node: NodeId, change: ClockChange) {
        let now = self.now;
        let slot = &mut self.nodes[node.0 as usize];
        match change {
            ClockChange::Jump { offset_ms } => slot.clock.jump(now, offset_ms),
            ClockChange::Drift { drift_ppm } => slot.clock.set_drift(now, drift_ppm),
        }
        let old_epoch = slot.clock_epoch;
        slot.clock_epoch += 1;
        let (clock, epoch) = (slot.clock, slot.clock_epoch);
        let mut pending: Vec<(u64, NodeId, u32, TimerOf<P>, u64)> = self
            .queue
            .iter()
            .filter_map(|Reverse(e)| match &e.item {
                Item::Timer {
                    node: n,
                    incarnation,
                    timer,
                    deadline,
                    epoch,
                } if *n == node && *epoch == old_epoch => {
                    Some((e.seq, *n, *incarnation, timer.clone(), *deadline))
                }
                _ => None,
            })
            .collect();
        // In the order they were set, so equal deadlines keep their order.
        pending.sort_by_key(|p| p.0);
        for (_, n, incarnation, timer, deadline) in pending {
            let item = Item::Timer {
                node: n,
                incarnation,
                timer,
                deadline,
                epoch,
            };
            self.push(clock.when_reads(now, deadline), item);
        }
        self.emit(EventKind::Clock {
            node,
            offset_ms: clock.offset_ms(now),
            drift_ppm: clock.drift_ppm(),
        });
    }

    /// A disk fault strikes `node`'s disk: corruption now, the others at its next crash or fsync.
    pub(super) fn disk_fault(&mut self, node: NodeId, fault: DiskFault, count: u32) {
        let records = self.nodes[node.0 as usize].disk.fault(fault, count);
        let what = match fault {
            DiskFault::Corrupt => DiskEvent::Corrupted { records },
            _ => DiskEvent::Armed { fault, count },
        };
        self.emit(EventKind::Disk { node, what });
    }

    /// Whether an on-write rule crashes `id` during the write it is about to make: with power
    /// loss or not, and when it restarts.
    pub(super) fn write_struck(&mut self, id: NodeId) -> Option<(bool, Option<Time>)> {
        let mut struck = None;
        for (rule, matched) in &mut self.write_rules {
            let Fault::OnWrite {
                node,
                nth,
                then,
                undo_after_ms,
            } = rule
            else {
                continue;
            };
            if node.is_some_and(|n| n != id.0) {
                continue;
            }
            *matched += 1;
            if *matched == *nth && struck.is_none() {
                let restart_at = undo_after_ms.map(|ms| Time(self.now.0.saturating_add(ms)));
                struck = Some((*then == WriteCrash::PowerLoss, restart_at));
            }
        }
        struck
    }

    /// Queues a restart of `id` at `at`, if any.
    pub(super) fn schedule_restart(&mut self, id: NodeId, at: Option<Time>) {
        if let Some(at) = at {
            let restart = Fault::Restart {
                node: id.0,
                when: When {
                    at_ms: Some(at.0),
                    after_event: None,
                },
            };
            self.push(at, Item::Fault(Box::new(restart)));
        }
    }
}

/// The same timed fault at another moment; `None` for rules, which have no moment.
fn with_time(fault: &Fault, new: When) -> Option<Fault> {
    let mut f = fault.clone();
    *f.when_mut()? = new;
    Some(f)
}
