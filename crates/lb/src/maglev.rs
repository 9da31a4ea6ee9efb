//! Maglev consistent hashing (Eisenbud et al., NSDI 2016, §3.4): a prime-sized lookup table
//! filled from per-backend permutations, then one `hash % M` index per lookup.

use crate::hash::{OFFSET_KEY, SKIP_KEY, siphash24};
use crate::{Backend, Backends, LbError};

/// A Maglev table size: a prime in `2..=TableSize::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableSize(u32);

impl TableSize {
    /// The paper's small table size, the prime 65 537.
    pub const DEFAULT: TableSize = TableSize(65_537);
    /// The largest size accepted (2^24): a table of `u32` slots then takes at most 64 MiB.
    pub const MAX: u64 = 1 << 24;

    /// Checks that `size` is a prime no larger than [`TableSize::MAX`].
    pub fn new(size: u64) -> Result<TableSize, LbError> {
        if !(2..=TableSize::MAX).contains(&size) {
            return Err(LbError::TableSizeOutOfRange {
                size,
                max: TableSize::MAX,
            });
        }
        if !is_prime(size) {
            return Err(LbError::TableSizeNotPrime { size });
        }
        // Fits: at most 2^24.
        Ok(TableSize(size as u32))
    }

    /// The number of slots.
    pub fn get(self) -> u64 {
        u64::from(self.0)
    }
}

/// A populated Maglev lookup table over a backend set.
///
/// Each backend's preference list is `(offset + j·skip) mod M` for `j = 0, 1, …`, with
/// `offset = h1(name) mod M` and `skip = h2(name) mod (M − 1) + 1`; `M` is prime, so every list
/// is a permutation of the slots. Backends take turns claiming their next free preferred slot
/// until the table is full; turns go in name order (IPVS goes in list order), so the table is a
/// function of the names, weights and `M` alone. As in IPVS `mh`, a backend of weight `w` takes
/// `w / g` slots per turn, where `g` is the greatest common divisor of the positive weights;
/// weight 0 takes none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maglev {
    backends: Vec<Backend>,
    size: TableSize,
    /// Backend positions, `M` of them; empty when every weight is 0.
    table: Vec<u32>,
}

impl Maglev {
    /// Builds the table. Costs `O(M log M)` probes for equal weights.
    pub fn new(backends: &Backends, size: TableSize) -> Result<Maglev, LbError> {
        let m = size.get();
        if (m as usize) < backends.len() {
            return Err(LbError::TableTooSmall {
                size: m,
                backends: backends.len(),
            });
        }
        let turns = turns(backends.as_slice());
        let mut cursors: Vec<Cursor> = backends
            .as_slice()
            .iter()
            .zip(&turns)
            .enumerate()
            .filter(|(_, (_, turns))| **turns > 0)
            .map(|(idx, (backend, turns))| Cursor {
                // Fits: there are at most M ≤ 2^24 backends.
                idx: idx as u32,
                turns: *turns,
                next: siphash24(OFFSET_KEY, backend.name.as_bytes()) % m,
                skip: siphash24(SKIP_KEY, backend.name.as_bytes()) % (m - 1) + 1,
            })
            .collect();
        // Take turns in name order, so the table does not depend on the order given.
        cursors.sort_by(|a, b| {
            let name = |c: &Cursor| backends.as_slice()[c.idx as usize].name.as_str();
            name(a).cmp(name(b))
        });
        let table = if cursors.is_empty() {
            Vec::new()
        } else {
            populate(&mut cursors, m)
        };
        Ok(Maglev {
            backends: backends.as_slice().to_vec(),
            size,
            table,
        })
    }

    /// The backend for a flow hash: its position in [`Maglev::backends`], or `None` when every
    /// backend is drained. One remainder and one load.
    #[inline]
    pub fn lookup(&self, hash: u64) -> Option<usize> {
        self.table
            .get((hash % self.size.get()) as usize)
            .map(|&idx| idx as usize)
    }

    /// The backend for a flow hash, by value.
    pub fn backend(&self, hash: u64) -> Option<&Backend> {
        self.lookup(hash).and_then(|idx| self.backends.get(idx))
    }

    /// The backends the table was built from, in their given order.
    pub fn backends(&self) -> &[Backend] {
        &self.backends
    }

    /// The table size `M`.
    pub fn table_size(&self) -> TableSize {
        self.size
    }

    /// How the slots are spread over the backends, against their weights.
    pub fn balance(&self) -> Balance {
        let mut slots = vec![0u64; self.backends.len()];
        for &idx in &self.table {
            slots[idx as usize] += 1;
        }
        Balance::new(&self.backends, slots)
    }
}

/// Slot counts per backend and how far they are from the weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Balance {
    /// Slots per backend, in the backends' order.
    pub slots: Vec<u64>,
    /// The fewest slots any backend of positive weight holds.
    pub min_slots: u64,
    /// The most slots any backend of positive weight holds.
    pub max_slots: u64,
    /// The largest `|slot share − weight share| / weight share` over backends of positive
    /// weight; 0 when every weight is 0.
    pub max_relative_error: f64,
}

impl Balance {
    /// Compares slot counts with weights.
    pub fn new(backends: &[Backend], slots: Vec<u64>) -> Balance {
        let total_slots: u64 = slots.iter().sum();
        let total_weight: u64 = backends.iter().map(|b| u64::from(b.weight)).sum();
        let live = || {
            backends
                .iter()
                .zip(&slots)
                .filter(|(b, _)| b.weight > 0)
                .map(|(b, s)| (b.weight, *s))
        };
        let min_slots = live().map(|(_, s)| s).min().unwrap_or(0);
        let max_slots = live().map(|(_, s)| s).max().unwrap_or(0);
        let max_relative_error = if total_slots == 0 {
            0.0
        } else {
            live()
                .map(|(w, s)| {
                    let want = f64::from(w) / total_weight as f64;
                    (s as f64 / total_slots as f64 - want).abs() / want
                })
                .fold(0.0, f64::max)
        };
        Balance {
            slots,
            min_slots,
            max_slots,
            max_relative_error,
        }
    }

    /// `max_slots − min_slots`: at most 1 for equal weights.
    pub fn spread(&self) -> u64 {
        self.max_slots - self.min_slots
    }
}

/// The slots each backend claims per round: its weight over the gcd of the positive weights.
pub(crate) fn turns(backends: &[Backend]) -> Vec<u32> {
    let gcd = backends
        .iter()
        .map(|b| b.weight)
        .filter(|&w| w > 0)
        .fold(0, gcd);
    backends
        .iter()
        .map(|b| b.weight.checked_div(gcd).unwrap_or(0))
        .collect()
}

pub(crate) fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// One backend's walk through its preference list.
struct Cursor {
    idx: u32,
    turns: u32,
    /// The next slot of its permutation to try.
    next: u64,
    skip: u64,
}

/// The paper's population loop; `cursors` is non-empty and every `turns` is positive.
fn populate(cursors: &mut [Cursor], m: u64) -> Vec<u32> {
    const EMPTY: u32 = u32::MAX;
    let mut table = vec![EMPTY; m as usize];
    let mut filled = 0u64;
    loop {
        for cursor in cursors.iter_mut() {
            for _ in 0..cursor.turns {
                // M is prime and 0 < skip < M, so the walk reaches every slot, and at least
                // one slot is still empty here: the loop ends.
                let mut slot = cursor.next;
                while table[slot as usize] != EMPTY {
                    slot += cursor.skip;
                    if slot >= m {
                        slot -= m;
                    }
                }
                table[slot as usize] = cursor.idx;
                cursor.next = slot + cursor.skip;
                if cursor.next >= m {
                    cursor.next -= m;
                }
                filled += 1;
                if filled == m {
                    return table;
                }
            }
        }
    }
}

fn is_prime(n: u64) -> bool {
    if n < 4 {
        return n >= 2;
    }
    if n.is_multiple_of(2) {
        return false;
    }
    let mut d = 3;
    while d * d <= n {
        if n.is_multiple_of(d) {
            return false;
        }
        d += 2;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(size: u64, expected: Result<u64, LbError>) {
        assert_eq!(TableSize::new(size).map(TableSize::get), expected, "{size}");
    }

    #[test]
    fn table_sizes() {
        for prime in [2, 3, 5, 251, 4093, 65_521, 65_537, 16_777_213] {
            check(prime, Ok(prime));
        }
        for composite in [4, 9, 65_536, 65_535, 16_777_215] {
            check(
                composite,
                Err(LbError::TableSizeNotPrime { size: composite }),
            );
        }
        for size in [0, 1, (1 << 24) + 1, u64::MAX] {
            let max = TableSize::MAX;
            check(size, Err(LbError::TableSizeOutOfRange { size, max }));
        }
    }

    #[test]
    fn primality_matches_a_sieve() {
        let n = 10_000;
        let mut composite = vec![false; n];
        for i in 2..n {
            if !composite[i] {
                for j in (i * i..n).step_by(i) {
                    composite[j] = true;
                }
            }
            assert_eq!(is_prime(i as u64), !composite[i], "{i}");
        }
    }

    #[test]
    fn turns_divide_by_the_gcd() {
        let set = Backends::parse("a:4,b:6,c:0,d:2").unwrap();
        assert_eq!(turns(set.as_slice()), [2, 3, 0, 1]);
        let drained = Backends::parse("a:0,b:0").unwrap();
        assert_eq!(turns(drained.as_slice()), [0, 0]);
    }

    #[test]
    fn small_table_by_hand() {
        // Every slot is taken, each backend holds 2 or 3 of 7.
        let set = Backends::parse("a,b,c").unwrap();
        let maglev = Maglev::new(&set, TableSize::new(7).unwrap()).unwrap();
        let balance = maglev.balance();
        assert_eq!(balance.slots.iter().sum::<u64>(), 7);
        assert_eq!((balance.min_slots, balance.max_slots), (2, 3));
        // The table is a function of the names alone.
        let again = Maglev::new(&set, TableSize::new(7).unwrap()).unwrap();
        assert_eq!(maglev, again);
    }

    #[test]
    fn refuses_a_table_smaller_than_the_backend_set() {
        let set = Backends::parse("a,b,c,d").unwrap();
        assert_eq!(
            Maglev::new(&set, TableSize::new(3).unwrap()),
            Err(LbError::TableTooSmall {
                size: 3,
                backends: 4
            })
        );
    }

    #[test]
    fn all_drained_maps_nothing() {
        let set = Backends::parse("a:0,b:0").unwrap();
        let maglev = Maglev::new(&set, TableSize::new(251).unwrap()).unwrap();
        assert_eq!(maglev.lookup(12345), None);
        assert_eq!(maglev.balance().max_relative_error, 0.0);
    }
}
