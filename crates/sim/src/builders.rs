//! Builders for faults, rules and their timing, so a schedule written by hand reads as a
//! sentence: `Fault::power_loss(2).at_ms(100)`, `Fault::drop_messages(Pattern::kind("ack").to(0))`.

use crate::scenario::{DiskFault, Fault, Pattern, When, WriteCrash};

/// A timed fault waiting for its moment: [`Timed::at_ms`] or [`Timed::after_event`] makes it a
/// [`Fault`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "a timed fault needs its moment: .at_ms(t) or .after_event(n, t)"]
pub struct Timed(Fault);

impl Timed {
    /// The fault at virtual time `ms`.
    pub fn at_ms(self, ms: u64) -> Fault {
        self.when(When::at_ms(ms))
    }

    /// The fault right after `events` queue events, at virtual time `ms` (how injected faults
    /// replay exactly).
    pub fn after_event(self, events: u64, ms: u64) -> Fault {
        self.when(When::after_event(events, ms))
    }

    fn when(self, moment: When) -> Fault {
        let mut fault = self.0;
        // `Timed` is only built from timed faults.
        if let Some(when) = fault.when_mut() {
            *when = moment;
        }
        fault
    }
}

/// # Building faults
///
/// ```
/// use underhood_sim::{Fault, Pattern};
///
/// let schedule = [
///     Fault::power_loss(2).at_ms(100),
///     Fault::restart(2).at_ms(200),
///     Fault::drop_messages(Pattern::kind("ack").to(0).count(2)),
/// ];
/// assert_eq!(
///     serde_json::to_string(&schedule[0])?,
///     r#"{"type":"crash","node":2,"lose_unsynced":true,"at_ms":100}"#
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl Fault {
    /// Node `node` crashes, keeping its whole durable log.
    pub fn crash(node: u32) -> Timed {
        Timed(Fault::Crash {
            node,
            lose_unsynced: false,
            when: When::default(),
        })
    }

    /// Node `node` loses power: it crashes, and its un-synced log writes are lost.
    pub fn power_loss(node: u32) -> Timed {
        Timed(Fault::Crash {
            node,
            lose_unsynced: true,
            when: When::default(),
        })
    }

    /// Node `node`'s disk does `fault` once (see [`DiskFault`]): a corruption strikes at that
    /// moment, a torn write at the node's next crash, a failed or lying fsync at its next one.
    pub fn disk(node: u32, fault: DiskFault) -> Timed {
        Timed(Fault::Disk {
            node,
            fault,
            count: 1,
            when: When::default(),
        })
    }

    /// Rule: node `node` crashes (or, with [`WriteCrash::PowerLoss`], loses power) while its
    /// `nth` log write is in flight; the write is never acknowledged.
    pub fn on_write(node: u32, nth: u64, then: WriteCrash) -> Fault {
        Fault::OnWrite {
            node: Some(node),
            nth,
            then,
            undo_after_ms: None,
        }
    }

    /// Node `node` starts again from its durable log.
    pub fn restart(node: u32) -> Timed {
        Timed(Fault::Restart {
            node,
            when: When::default(),
        })
    }

    /// The network splits: nodes in different groups cannot exchange messages (nodes in no
    /// group form one more group).
    pub fn partition(groups: Vec<Vec<u32>>) -> Timed {
        Timed(Fault::Partition {
            groups,
            when: When::default(),
        })
    }

    /// Every node can reach every other again.
    pub fn heal() -> Timed {
        Timed(Fault::Heal {
            when: When::default(),
        })
    }

    /// Rule: the network loses the messages `pattern` matches.
    pub fn drop_messages(pattern: Pattern) -> Fault {
        Fault::Drop { pattern }
    }

    /// Rule: the network delays the messages `pattern` matches by `extra_ms`.
    pub fn delay_messages(pattern: Pattern, extra_ms: u64) -> Fault {
        Fault::Delay { pattern, extra_ms }
    }

    /// Rule: node `node` crashes right after sending the message `pattern` matches, before it
    /// carries out anything else.
    pub fn crash_after_send(node: u32, pattern: Pattern) -> Fault {
        Fault::CrashAfterSend {
            node,
            pattern,
            lose_unsynced: false,
        }
    }
}

impl When {
    /// At virtual time `ms`.
    pub fn at_ms(ms: u64) -> When {
        When {
            at_ms: Some(ms),
            after_event: None,
        }
    }

    /// Right after `events` queue events, at virtual time `ms`.
    pub fn after_event(events: u64, ms: u64) -> When {
        When {
            at_ms: Some(ms),
            after_event: Some(events),
        }
    }
}

impl Default for Pattern {
    /// Every message: the first match, once.
    fn default() -> Pattern {
        Pattern {
            kind: None,
            from: None,
            to: None,
            nth: 1,
            count: 1,
        }
    }
}

/// # Building patterns
///
/// ```
/// use underhood_sim::Pattern;
///
/// // The second and third `write` messages node 0 sends to node 1.
/// let pattern = Pattern::kind("write").from(0).to(1).nth(2).count(2);
/// assert_eq!(pattern.kind.as_deref(), Some("write"));
/// assert_eq!((pattern.from, pattern.to, pattern.nth, pattern.count), (Some(0), Some(1), 2, 2));
/// assert_eq!(Pattern::default().nth, 1);
/// ```
impl Pattern {
    /// Messages of kind `kind` ([`crate::Process::msg_kind`]).
    pub fn kind(kind: &str) -> Pattern {
        Pattern {
            kind: Some(kind.to_owned()),
            ..Pattern::default()
        }
    }

    /// Only messages from node `node`.
    pub fn from(mut self, node: u32) -> Pattern {
        self.from = Some(node);
        self
    }

    /// Only messages to node `node`.
    pub fn to(mut self, node: u32) -> Pattern {
        self.to = Some(node);
        self
    }

    /// From the `nth` match on (counting from 1).
    pub fn nth(mut self, nth: u64) -> Pattern {
        self.nth = nth;
        self
    }

    /// `count` matches in a row.
    pub fn count(mut self, count: u64) -> Pattern {
        self.count = count;
        self
    }
}
