//! The set of visited fingerprints: open addressing with linear probing over bare `u64`s
//! (zero marks an empty slot), sharded behind mutexes so both threads can insert at once.
//! Shards grow by half at 92 % load (any size works: slots are picked by multiply-shift, not a
//! mask), so the table holds 8.7–13 bytes per state, about 10.5 on average.

use crate::sync::Mutex;

const SHARD_BITS: u32 = 6;
const SHARDS: usize = 1 << SHARD_BITS;

/// A concurrent set of non-zero 64-bit fingerprints.
pub(crate) struct FingerprintSet {
    shards: Vec<Mutex<Shard>>,
}

struct Shard {
    slots: Vec<u64>,
    len: usize,
}

impl FingerprintSet {
    pub(crate) fn new() -> FingerprintSet {
        FingerprintSet {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        slots: vec![0; 16],
                        len: 0,
                    })
                })
                .collect(),
        }
    }

    /// Inserts `fp`; true if it was not there before. Zero is mapped to another value.
    pub(crate) fn insert(&self, fp: u64) -> bool {
        let fp = if fp == 0 { 0x9e37_79b9_7f4a_7c15 } else { fp };
        let shard = (fp >> (64 - SHARD_BITS)) as usize;
        // A poisoned shard means another worker panicked; its data is still a valid set.
        let mut guard = match self.shards[shard].lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        guard.insert(fp)
    }

    /// How many fingerprints are stored.
    pub(crate) fn len(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| match s.lock() {
                Ok(g) => g.len as u64,
                Err(p) => p.into_inner().len as u64,
            })
            .sum()
    }

    /// Bytes of slot storage.
    pub(crate) fn bytes(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| match s.lock() {
                Ok(g) => g.slots.len() as u64 * 8,
                Err(p) => p.into_inner().slots.len() as u64 * 8,
            })
            .sum()
    }
}

impl Shard {
    fn insert(&mut self, fp: u64) -> bool {
        if (self.len + 1) * 100 > self.slots.len() * 92 {
            self.grow();
        }
        let inserted = probe_insert(&mut self.slots, fp);
        if inserted {
            self.len += 1;
        }
        inserted
    }

    fn grow(&mut self) {
        let bigger = vec![0; self.slots.len() + self.slots.len() / 2];
        let old = std::mem::replace(&mut self.slots, bigger);
        for fp in old.into_iter().filter(|fp| *fp != 0) {
            probe_insert(&mut self.slots, fp);
        }
    }
}

fn probe_insert(slots: &mut [u64], fp: u64) -> bool {
    let len = slots.len();
    // The top bits picked the shard; the rest, scaled to the table (multiply-shift), pick the
    // slot.
    let mut i = ((u128::from(fp << SHARD_BITS) * len as u128) >> 64) as usize;
    loop {
        match slots[i] {
            0 => {
                slots[i] = fp;
                return true;
            }
            x if x == fp => return false,
            _ => i = if i + 1 == len { 0 } else { i + 1 },
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn behaves_like_a_set(fps in prop::collection::vec(any::<u64>(), 0..2000)) {
            let set = FingerprintSet::new();
            let mut reference = std::collections::BTreeSet::new();
            for fp in fps {
                let key = if fp == 0 { 0x9e37_79b9_7f4a_7c15 } else { fp };
                prop_assert_eq!(set.insert(fp), reference.insert(key));
            }
            prop_assert_eq!(set.len(), reference.len() as u64);
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;

    /// Two threads inserting the same fingerprints: each is reported new exactly once.
    #[test]
    fn concurrent_inserts_report_each_fingerprint_once() {
        loom::model(|| {
            let set = loom::sync::Arc::new(FingerprintSet::new());
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    let set = set.clone();
                    loom::thread::spawn(move || {
                        [1u64 << 60 | 7, 2u64 << 60 | 7]
                            .iter()
                            .filter(|fp| set.insert(**fp))
                            .count()
                    })
                })
                .collect();
            let new: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
            assert_eq!(new, 2);
            assert_eq!(set.len(), 2);
        });
    }
}
