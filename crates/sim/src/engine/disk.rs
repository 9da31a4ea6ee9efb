//! Each node's simulated disk: the durable log as a sequence of checksummed frames behind a
//! header that says how many frames the last fsync made durable; the disk faults that tear,
//! corrupt, fail or lose writes; and recovery, which reads the log back.
//!
//! Only this module knows how a log is laid out on disk and what a damaged frame means.
//!
//! Records stay typed, not bytes, so damage is kept where a reader would see it: a frame whose
//! checksum no longer matches its bytes, because a crash tore it mid-write, a latent sector error
//! changed it, or a lost write left a hole where it should be. Recovery checks every frame:
//! - a damaged frame at or past the header's synced length was never acknowledged as durable:
//!   it and everything after it are a torn tail, dropped;
//! - a damaged frame before it was acknowledged: recovery refuses, and the node stays down,
//!   rather than come back having forgotten what it promised.
//!
//! A disk without faults is exactly the plain log it replaces: no event, no change of trace.

use serde::Serialize;
use underhood_consensus::Durability;

use crate::scenario::DiskFault;

/// How a frame is damaged: its checksum fails when read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Damage {
    /// Partly written when the node crashed.
    Torn,
    /// Its bytes changed on the medium (a latent sector error).
    Corrupt,
    /// Never written: the disk acknowledged its fsync and dropped it, and a later fsync
    /// made the frames after it durable, leaving a hole.
    Lost,
}

impl Damage {
    /// As written in events and messages.
    pub fn name(self) -> &'static str {
        match self {
            Damage::Torn => "torn",
            Damage::Corrupt => "corrupt",
            Damage::Lost => "lost",
        }
    }
}

/// Something a node's simulated disk did, as the trace records it (`"what"` in JSON).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "what", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DiskEvent {
    /// A torn-write, fsync-error or lost-fsync fault now waits for the next crash or fsync.
    Armed {
        /// The fault.
        fault: DiskFault,
        /// How many times it will strike.
        count: u32,
    },
    /// A latent sector error damaged these records (counting from 0; none when the log held no
    /// undamaged record).
    Corrupted {
        /// The records.
        records: Vec<u64>,
    },
    /// A crash left this record partly written.
    Torn {
        /// The record.
        record: u64,
    },
    /// An fsync failed: the node stops (the write is never retried).
    FsyncFailed {
        /// The record being synced.
        record: u64,
    },
    /// The disk acknowledged an fsync and dropped the write.
    FsyncLost {
        /// The record.
        record: u64,
    },
    /// Records whose fsync the disk lied about vanished with the power.
    LostOnPowerLoss {
        /// How many.
        records: u32,
    },
    /// Recovery dropped a damaged tail that was never acknowledged.
    TornTailDropped {
        /// How many records.
        records: u32,
    },
    /// Recovery found an acknowledged record damaged: the node stays down.
    RecoveryRefused {
        /// The first bad record.
        record: u64,
        /// What is wrong with it.
        damage: Damage,
    },
}

impl DiskEvent {
    /// A short human label.
    pub fn label(&self) -> String {
        match self {
            DiskEvent::Armed { fault, count } => format!("disk: {} armed (×{count})", fault.name()),
            DiskEvent::Corrupted { records } if records.is_empty() => {
                "disk: corruption found no record to damage".to_owned()
            }
            DiskEvent::Corrupted { records } => format!("disk: records {records:?} corrupted"),
            DiskEvent::Torn { record } => format!("disk: record {record} torn"),
            DiskEvent::FsyncFailed { record } => {
                format!("disk: fsync of record {record} failed (EIO): node stops")
            }
            DiskEvent::FsyncLost { record } => {
                format!("disk: fsync of record {record} acknowledged, write dropped")
            }
            DiskEvent::LostOnPowerLoss { records } => {
                format!("disk: {records} acknowledged record(s) lost with the power")
            }
            DiskEvent::TornTailDropped { records } => {
                format!("disk: recovery dropped a torn tail of {records} record(s)")
            }
            DiskEvent::RecoveryRefused { record, damage } => format!(
                "disk: recovery refused: acknowledged record {record} is {}",
                damage.name()
            ),
        }
    }
}

/// Why a node's recovery was refused: an acknowledged record fails its checksum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Refusal {
    /// The first bad record, counting from 0.
    pub record: u64,
    /// What is wrong with it.
    pub damage: Damage,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "record {} was acknowledged as durable but fails its checksum ({}); \
             recovering without it could break a promise",
            self.record,
            self.damage.name()
        )
    }
}

/// Disk faults waiting for the next crash or fsync.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Armed {
    pub(crate) torn_write: u32,
    pub(crate) fsync_error: u32,
    pub(crate) lost_fsync: u32,
}

/// What an append did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Write {
    /// Written (and synced, when forced).
    Done,
    /// The fsync failed: the node must stop, and its un-synced writes are gone.
    FsyncFailed,
    /// The fsync reported success but the disk dropped the write.
    FsyncLost,
}

/// What a crash did to the disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Crashed {
    /// Un-synced records lost (power loss).
    pub(crate) lost: u32,
    /// The record a torn write left partly written.
    pub(crate) torn: Option<usize>,
    /// Records whose fsync the disk lied about, gone with the power.
    pub(crate) vanished: u32,
}

/// One node's disk.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Disk<R> {
    records: Vec<R>,
    /// The header: how many frames the last honest fsync made durable.
    synced: usize,
    /// Damaged frames by index, in increasing order (there are few).
    damaged: Vec<(usize, Damage)>,
    /// Frames the disk acknowledged and dropped: they vanish at the next power loss.
    lied: Vec<usize>,
    armed: Armed,
    refused: Option<Refusal>,
}

impl<R> Default for Disk<R> {
    fn default() -> Self {
        Disk {
            records: Vec::new(),
            synced: 0,
            damaged: Vec::new(),
            lied: Vec::new(),
            armed: Armed::default(),
            refused: None,
        }
    }
}

impl<R: Clone> Disk<R> {
    /// The log as the node wrote it (damaged frames included).
    pub(crate) fn records(&self) -> &[R] {
        &self.records
    }

    /// Records written but not made durable by an fsync.
    pub(crate) fn unsynced(&self) -> usize {
        self.records.len() - self.synced
    }

    /// Damaged frames.
    #[cfg(test)]
    pub(crate) fn damaged(&self) -> usize {
        self.damaged.len()
    }

    /// Frames not damaged.
    pub(crate) fn undamaged(&self) -> usize {
        self.records.len() - self.damaged.len()
    }

    /// How many frames the header says are durable.
    pub(crate) fn synced(&self) -> usize {
        self.synced
    }

    /// Whether no fault touched this disk: nothing armed, damaged, lied about or refused.
    pub(crate) fn is_plain(&self) -> bool {
        self.damaged.is_empty()
            && self.lied.is_empty()
            && self.armed == Armed::default()
            && self.refused.is_none()
    }

    /// Feeds what faults did to this disk (damage, lies, armed faults, a refusal) to `h`,
    /// for fingerprints that must tell such disks apart.
    pub(crate) fn hash_damage(&self, h: &mut impl std::hash::Hasher) {
        use std::hash::Hash;
        // Element by element: a slice of `usize` would hash its bytes whole, 4 or 8 per
        // element depending on the platform.
        for &(i, damage) in &self.damaged {
            h.write_u64(i as u64);
            damage.hash(h);
        }
        for &i in &self.lied {
            h.write_u64(i as u64);
        }
        (self.armed, self.refused).hash(h);
    }

    /// Faults waiting for the next crash or fsync.
    pub(crate) fn armed(&self) -> Armed {
        self.armed
    }

    /// Why the last recovery was refused, until one succeeds.
    pub(crate) fn refused(&self) -> Option<Refusal> {
        self.refused
    }

    /// The disk as the browser shows it (`docs/sim-wasm-api.md`).
    pub(crate) fn view(&self) -> serde_json::Value {
        let mut armed = serde_json::Map::new();
        for (name, n) in [
            (DiskFault::TornWrite, self.armed.torn_write),
            (DiskFault::FsyncError, self.armed.fsync_error),
            (DiskFault::LostFsync, self.armed.lost_fsync),
        ] {
            if n > 0 {
                armed.insert(name.name().to_owned(), n.into());
            }
        }
        serde_json::json!({
            "records": self.records.len(), "synced": self.synced, "damaged": self.damaged.len(),
            "armed": armed, "refused": self.refused.map(|r| r.to_string()),
        })
    }

    /// Appends a record; a forced write also syncs, unless an armed fault makes the fsync fail
    /// or lie.
    pub(crate) fn append(&mut self, record: R, durability: Durability) -> Write {
        self.records.push(record);
        if durability == Durability::Lazy {
            return Write::Done;
        }
        if self.armed.fsync_error > 0 {
            self.armed.fsync_error -= 1;
            return Write::FsyncFailed;
        }
        if self.armed.lost_fsync > 0 {
            self.armed.lost_fsync -= 1;
            self.lied.push(self.records.len() - 1);
            return Write::FsyncLost;
        }
        self.synced = self.records.len();
        Write::Done
    }

    /// A disk fault strikes: `corrupt` damages the `count` newest undamaged records now (it
    /// returns their indices); the others wait for the next crash or fsync.
    pub(crate) fn fault(&mut self, fault: DiskFault, count: u32) -> Vec<u64> {
        match fault {
            DiskFault::TornWrite => self.armed.torn_write += count,
            DiskFault::FsyncError => self.armed.fsync_error += count,
            DiskFault::LostFsync => self.armed.lost_fsync += count,
            DiskFault::Corrupt => {
                let mut hit = Vec::new();
                for i in (0..self.records.len()).rev() {
                    if hit.len() == count as usize {
                        break;
                    }
                    if self.damage_at(i).is_none() {
                        hit.push(i);
                    }
                }
                for &i in &hit {
                    self.mark(i, Damage::Corrupt);
                }
                hit.reverse();
                return hit.into_iter().map(|i| i as u64).collect();
            }
        }
        Vec::new()
    }

    /// The node crashes; `in_flight` is a record it was writing at that moment, which is not
    /// acknowledged. With power loss, writes not made durable are gone. An armed torn write
    /// leaves the in-flight record, or else the newest un-synced one, partly written.
    pub(crate) fn crash(&mut self, power_loss: bool, in_flight: Option<R>) -> Crashed {
        let mut crashed = Crashed::default();
        let tear = self.armed.torn_write > 0;
        // The frame left torn, moved to the end of what survives.
        let mut torn: Option<R> = None;
        if tear {
            if let Some(record) = in_flight {
                torn = Some(record);
            } else if self.records.len() > self.synced {
                self.unmark(self.records.len() - 1);
                self.lied.retain(|&i| i + 1 != self.records.len());
                torn = self.records.pop();
            }
        }
        if power_loss {
            for i in std::mem::take(&mut self.lied) {
                if i < self.synced {
                    self.mark(i, Damage::Lost);
                } else {
                    crashed.vanished += 1;
                }
            }
            crashed.lost = (self.records.len() - self.synced) as u32 - crashed.vanished;
            self.truncate(self.synced);
        }
        if let Some(record) = torn {
            self.armed.torn_write -= 1;
            self.records.push(record);
            let i = self.records.len() - 1;
            self.mark(i, Damage::Torn);
            crashed.torn = Some(i);
        }
        crashed
    }

    /// Reads the log back at a restart: the records to recover from, after dropping a damaged
    /// tail that was never acknowledged (how many is returned), or the refusal when an
    /// acknowledged record is damaged. What survives counts as durable from then on.
    pub(crate) fn recover(&mut self) -> Result<u32, Refusal> {
        if let Some(&(record, damage)) = self.damaged.first()
            && record < self.synced
        {
            let refusal = Refusal {
                record: record as u64,
                damage,
            };
            self.refused = Some(refusal);
            return Err(refusal);
        }
        self.refused = None;
        let keep = self.damaged.first().map_or(self.records.len(), |d| d.0);
        let dropped = (self.records.len() - keep) as u32;
        self.truncate(keep);
        self.synced = self.records.len();
        Ok(dropped)
    }

    fn damage_at(&self, i: usize) -> Option<Damage> {
        self.damaged.iter().find(|d| d.0 == i).map(|d| d.1)
    }

    fn mark(&mut self, i: usize, damage: Damage) {
        self.unmark(i);
        let at = self.damaged.partition_point(|d| d.0 < i);
        self.damaged.insert(at, (i, damage));
    }

    fn unmark(&mut self, i: usize) {
        self.damaged.retain(|d| d.0 != i);
    }

    fn truncate(&mut self, len: usize) {
        self.records.truncate(len);
        self.damaged.retain(|d| d.0 < len);
        self.lied.retain(|&i| i < len);
        self.synced = self.synced.min(len);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Something that happens to a disk, for the property tests.
    #[derive(Clone, Debug)]
    enum Op {
        Write(Durability),
        Fault(DiskFault, u32),
        Crash { power_loss: bool, mid_write: bool },
        Restart,
    }

    fn op() -> impl Strategy<Value = Op> {
        let fault = prop_oneof![
            Just(DiskFault::TornWrite),
            Just(DiskFault::Corrupt),
            Just(DiskFault::FsyncError),
            Just(DiskFault::LostFsync),
        ];
        prop_oneof![
            6 => prop_oneof![Just(Durability::Forced), Just(Durability::Lazy)].prop_map(Op::Write),
            2 => (fault, 1u32..3).prop_map(|(f, n)| Op::Fault(f, n)),
            2 => (any::<bool>(), any::<bool>())
                .prop_map(|(power_loss, mid_write)| Op::Crash { power_loss, mid_write }),
            2 => Just(Op::Restart),
        ]
    }

    /// A node's view of its own log: what it wrote and which writes it saw acknowledged.
    #[derive(Default)]
    struct Model {
        next: u32,
        /// Records the node holds in memory, and whether each was acknowledged durable.
        written: Vec<(u32, bool)>,
        /// Whether a fault that may lose an acknowledged record silently struck (a lying fsync).
        lied: bool,
        /// Whether a corruption struck since the node last wrote its log fresh.
        corrupted: bool,
        up: bool,
    }

    proptest! {
        /// Recovery never hands back a damaged record, never reorders or invents one, and never
        /// silently loses an acknowledged one: it either returns every acknowledged record, in
        /// order, or refuses — unless the disk lied about an fsync, the one fault no log can
        /// detect when it hits the tail.
        #[test]
        fn recovery_keeps_every_acknowledged_record_or_refuses(
            ops in proptest::collection::vec(op(), 1..60)
        ) {
            let mut disk: Disk<u32> = Disk::default();
            let mut m = Model { up: true, ..Model::default() };
            for op in ops {
                match op {
                    Op::Write(durability) if m.up => {
                        m.next += 1;
                        match disk.append(m.next, durability) {
                            Write::Done => m.written.push((m.next, durability == Durability::Forced)),
                            Write::FsyncLost => {
                                m.written.push((m.next, true));
                                m.lied = true;
                            }
                            Write::FsyncFailed => {
                                // The node stops, as after fsyncgate: never acknowledged.
                                disk.crash(true, None);
                                m.up = false;
                            }
                        }
                        if durability == Durability::Forced && m.up {
                            // An fsync acknowledges every earlier write too.
                            for w in &mut m.written {
                                w.1 = true;
                            }
                        }
                    }
                    Op::Write(_) => {}
                    Op::Fault(fault, n) => {
                        if fault == DiskFault::Corrupt && !disk.fault(fault, n).is_empty() {
                            m.corrupted = true;
                        } else if fault != DiskFault::Corrupt {
                            disk.fault(fault, n);
                        }
                    }
                    Op::Crash { power_loss, mid_write } if m.up => {
                        let in_flight = mid_write.then(|| {
                            m.next += 1;
                            m.next
                        });
                        disk.crash(power_loss, in_flight);
                        m.up = false;
                    }
                    Op::Crash { .. } => {}
                    Op::Restart => {
                        if m.up {
                            continue;
                        }
                        match disk.recover() {
                            Ok(_) => {
                                let log = disk.records().to_vec();
                                // Never a record the node did not write, never out of order.
                                let wrote: Vec<u32> = m.written.iter().map(|w| w.0).collect();
                                prop_assert!(is_subsequence(&log, &wrote), "{log:?} vs {wrote:?}");
                                if !m.lied {
                                    let acked: Vec<u32> =
                                        m.written.iter().filter(|w| w.1).map(|w| w.0).collect();
                                    prop_assert!(acked.iter().all(|a| log.contains(a)),
                                        "lost an acknowledged record: {log:?} vs {acked:?}");
                                }
                                prop_assert_eq!(disk.damaged(), 0);
                                // The node now holds exactly what it read, all durable.
                                m.written = log.iter().map(|&r| (r, true)).collect();
                                m.up = true;
                            }
                            Err(refusal) => {
                                // Only damage the node was told about as durable is refused.
                                prop_assert!(m.corrupted || m.lied, "{refusal}");
                            }
                        }
                    }
                }
            }
        }
    }

    fn is_subsequence(sub: &[u32], of: &[u32]) -> bool {
        let mut it = of.iter();
        sub.iter().all(|s| it.any(|o| o == s))
    }

    #[test]
    fn a_torn_in_flight_write_is_dropped_as_a_tail() {
        let mut disk: Disk<u32> = Disk::default();
        disk.append(1, Durability::Forced);
        disk.fault(DiskFault::TornWrite, 1);
        let crashed = disk.crash(true, Some(2));
        assert_eq!(crashed.torn, Some(1));
        assert_eq!(disk.records(), &[1, 2]);
        assert_eq!(disk.recover(), Ok(1));
        assert_eq!(disk.records(), &[1]);
        assert_eq!(disk.armed(), Armed::default());
    }

    #[test]
    fn an_acknowledged_corrupt_record_is_refused_every_time() {
        let mut disk: Disk<u32> = Disk::default();
        disk.append(1, Durability::Forced);
        disk.append(2, Durability::Forced);
        assert_eq!(disk.fault(DiskFault::Corrupt, 1), vec![1]);
        disk.crash(false, None);
        let refusal = Refusal {
            record: 1,
            damage: Damage::Corrupt,
        };
        assert_eq!(disk.recover(), Err(refusal));
        assert_eq!(disk.recover(), Err(refusal));
        assert_eq!(disk.refused(), Some(refusal));
    }

    #[test]
    fn a_lying_fsync_loses_the_tail_silently_and_leaves_a_hole_before_a_later_one() {
        // At the tail: the record is gone and nothing can tell.
        let mut disk: Disk<u32> = Disk::default();
        disk.append(1, Durability::Forced);
        disk.fault(DiskFault::LostFsync, 1);
        assert_eq!(disk.append(2, Durability::Forced), Write::FsyncLost);
        let crashed = disk.crash(true, None);
        assert_eq!((crashed.lost, crashed.vanished), (0, 1));
        assert_eq!(disk.recover(), Ok(0));
        assert_eq!(disk.records(), &[1]);
        // Before a later honest fsync: a hole the checksums catch.
        let mut disk: Disk<u32> = Disk::default();
        disk.fault(DiskFault::LostFsync, 1);
        disk.append(1, Durability::Forced);
        disk.append(2, Durability::Forced);
        disk.crash(true, None);
        assert_eq!(
            disk.recover(),
            Err(Refusal {
                record: 0,
                damage: Damage::Lost
            })
        );
    }

    #[test]
    fn a_failed_fsync_is_not_acknowledged_and_lazy_writes_never_sync() {
        let mut disk: Disk<u32> = Disk::default();
        disk.append(1, Durability::Lazy);
        assert_eq!(disk.unsynced(), 1);
        disk.fault(DiskFault::FsyncError, 1);
        assert_eq!(disk.append(2, Durability::Forced), Write::FsyncFailed);
        let crashed = disk.crash(true, None);
        assert_eq!(crashed.lost, 2);
        assert_eq!(disk.recover(), Ok(0));
        assert!(disk.records().is_empty());
        assert_eq!(disk.damaged(), 0);
    }
}
