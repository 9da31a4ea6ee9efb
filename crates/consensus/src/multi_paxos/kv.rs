//! The replicated state machine: a key-value map with a session table, so each client command
//! is applied at most once and retries get the original answer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Command, Op, OpResult, Slot};

/// A key-value store fed by the log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Kv {
    data: BTreeMap<u32, u64>,
    /// Per client: the last sequence number applied and its result.
    sessions: BTreeMap<u32, (u64, OpResult)>,
}

/// A compacted prefix of the log: the state machine after applying every slot below `next`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Snapshot {
    /// The first slot not included.
    pub next: Slot,
    /// The key-value pairs.
    pub data: Vec<(u32, u64)>,
    /// Per client: (client, last sequence number, its result).
    pub sessions: Vec<(u32, u64, OpResult)>,
}

impl Kv {
    /// Applies one command; returns the client's answer (`None` for no-ops and stale retries).
    pub fn apply(&mut self, command: &Command) -> Option<(u32, u64, OpResult)> {
        let Command::Client { client, seq, op } = *command else {
            return None;
        };
        match self.sessions.get(&client) {
            // A retry of the last command: answer it again without applying it twice.
            Some((last, result)) if *last == seq => return Some((client, seq, *result)),
            // Older than the last one: the client stopped waiting for it long ago.
            Some((last, _)) if *last > seq => return None,
            _ => {}
        }
        let result = match op {
            Op::Put { key, value } => {
                self.data.insert(key, value);
                OpResult::Written
            }
            Op::Get { key } => OpResult::Read(self.data.get(&key).copied()),
        };
        self.sessions.insert(client, (seq, result));
        Some((client, seq, result))
    }

    /// The answer already given to `(client, seq)`, if that was the client's last command.
    pub fn answered(&self, client: u32, seq: u64) -> Option<OpResult> {
        match self.sessions.get(&client) {
            Some((last, result)) if *last == seq => Some(*result),
            _ => None,
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: u32) -> Option<u64> {
        self.data.get(&key).copied()
    }

    /// Every key-value pair in key order.
    pub fn entries(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        self.data.iter().map(|(k, v)| (*k, *v))
    }

    /// The state as a snapshot covering slots below `next`.
    pub fn snapshot(&self, next: Slot) -> Snapshot {
        Snapshot {
            next,
            data: self.entries().collect(),
            sessions: self
                .sessions
                .iter()
                .map(|(c, (s, r))| (*c, *s, *r))
                .collect(),
        }
    }

    /// The state a snapshot holds.
    pub fn restore(snapshot: &Snapshot) -> Kv {
        Kv {
            data: snapshot.data.iter().copied().collect(),
            sessions: snapshot
                .sessions
                .iter()
                .map(|(c, s, r)| (*c, (*s, *r)))
                .collect(),
        }
    }
}
