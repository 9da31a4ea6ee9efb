//! A primary-backup register, tested with `underhood-sim`: the worked example of
//! `docs/HARNESS.md`.
//!
//! A client (node 0) writes 1, 2, … to the primary (node 1), re-sending until acknowledged.
//! The primary forwards each write to the backup (node 2) and acknowledges the client once the
//! backup has acknowledged it. The backup must keep every acknowledged write, crash or not, so
//! that it can take over. The lazy backup acknowledges before its write is synced, and a power
//! loss makes it forget a write the client saw acknowledged.

use underhood_sim::prelude::*;

/// How many writes the client makes.
pub const WRITES: u64 = 2;

/// The client, primary and backup.
#[derive(Clone, Debug, Hash)]
pub enum Node {
    /// Node 0: writes `1..=WRITES` in turn.
    Client {
        /// The highest acknowledged write.
        acked: u64,
    },
    /// Node 1: forwards writes and acknowledges them once the backup has.
    Primary,
    /// Node 2: keeps every write it acknowledged.
    Backup {
        /// The highest write held.
        value: u64,
        /// How it stores writes.
        kind: Backup,
    },
}

/// How the backup stores a write before acknowledging it.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Backup {
    /// Synced to disk first: correct.
    Synced,
    /// Written to the OS buffer only: a power loss forgets an acknowledged write.
    Lazy,
    /// Panics on the second write (a bug of another kind).
    Panics,
}

/// The messages.
#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Client to primary, and primary to backup: store this value.
    Write(u64),
    /// Backup to primary, and primary to client: stored.
    Ack(u64),
}

// Traces show messages as their `Debug` text; derive serde's `Serialize` instead for JSON.
impl TraceValue for Msg {}

impl Process for Node {
    type Msg = Msg;
    type Timer = ();
    type Record = u64;
    type Request = ();
    type Output = ();
    // Optional: lets fault rules name kinds, and the random ones pick among them.
    const MSG_KINDS: &'static [&'static str] = &["write", "ack"];

    fn msg_kind(msg: &Msg) -> &'static str {
        match msg {
            Msg::Write(_) => "write",
            Msg::Ack(_) => "ack",
        }
    }

    fn step(&mut self, _now: Time, input: Inputs<Self>, out: &mut Vec<Effects<Self>>) {
        let send = |to, msg| Effect::Send { to: NodeId(to), msg };
        match (self, input) {
            (Node::Client { acked }, Input::Timer(())) if *acked < WRITES => {
                out.push(send(1, Msg::Write(*acked + 1)));
                out.push(Effect::SetTimer { timer: (), after_ms: 20 });
            }
            (Node::Client { acked }, Input::Msg { msg: Msg::Ack(v), .. }) => *acked = v.max(*acked),
            // The primary forwards writes to the backup and acknowledgements to the client.
            (Node::Primary, Input::Msg { from, msg }) => {
                out.push(send(if from.0 == 0 { 2 } else { 0 }, msg))
            }
            (Node::Backup { value, kind }, Input::Msg { msg: Msg::Write(v), .. }) => {
                assert!(v < 2 || *kind != Backup::Panics, "no room for write {v}");
                *value = v.max(*value);
                let durability = match kind {
                    Backup::Lazy => Durability::Lazy,
                    _ => Durability::Forced,
                };
                out.push(Effect::Persist { record: v, durability });
                out.push(send(1, Msg::Ack(v)));
            }
            _ => {}
        }
    }
}

/// The cluster, with a backup of kind `.0`.
#[derive(Clone, Debug)]
pub struct PrimaryBackup(pub Backup);

impl Protocol for PrimaryBackup {
    type Node = Node;

    fn n_nodes(&self) -> u32 {
        3
    }

    fn recover(&self, id: NodeId, log: &[u64], _: Time, out: &mut Vec<Effects<Node>>) -> Node {
        match id.0 {
            0 => {
                out.push(Effect::SetTimer { timer: (), after_ms: 1 });
                Node::Client { acked: 0 }
            }
            1 => Node::Primary,
            _ => Node::Backup { value: log.iter().copied().max().unwrap_or(0), kind: self.0 },
        }
    }
}

/// The backup holds every write the client saw acknowledged (while both are up).
pub fn backup_has_acked_writes() -> Invariant<Node> {
    Invariant::new("backup-has-acked-writes", |nodes: &[Option<&Node>]| {
        match (nodes[0], nodes[2]) {
            (Some(Node::Client { acked }), Some(Node::Backup { value, .. })) if value < acked => {
                Err(format!("the client saw write {acked} acknowledged; the backup holds {value}"))
            }
            _ => Ok(()),
        }
    })
}
