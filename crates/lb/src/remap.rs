//! Hash-mod-N, the baseline Maglev is measured against, and the count of flows that move when
//! the backend set changes.

use crate::maglev::turns;
use crate::{Backend, Backends, Maglev};

/// A flow-hash → backend mapping, so tables of different kinds can be compared.
pub trait Lookup {
    /// The backends, in the order [`Lookup::lookup`] indexes.
    fn backends(&self) -> &[Backend];
    /// The position in [`Lookup::backends`] of the backend for `hash`, if any.
    fn lookup(&self, hash: u64) -> Option<usize>;
}

impl Lookup for Maglev {
    fn backends(&self) -> &[Backend] {
        Maglev::backends(self)
    }

    fn lookup(&self, hash: u64) -> Option<usize> {
        Maglev::lookup(self, hash)
    }
}

/// Plain `hash mod N`: each backend of weight `w` occupies `w / gcd` consecutive entries of a
/// short list (so equal weights give exactly `hash % N`), and a flow takes entry `hash % len`.
/// Removing one backend of `N` moves about `(N − 1) / N` of all flows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModN {
    backends: Vec<Backend>,
    entries: Vec<u32>,
}

impl ModN {
    /// Lays out the entries.
    pub fn new(backends: &Backends) -> ModN {
        let entries = turns(backends.as_slice())
            .iter()
            .enumerate()
            // Fits: 2^32 backends would not fit in memory.
            .flat_map(|(idx, &turns)| std::iter::repeat_n(idx as u32, turns as usize))
            .collect();
        ModN {
            backends: backends.as_slice().to_vec(),
            entries,
        }
    }

    /// The backend for `hash`: its position in [`ModN::backends`].
    #[inline]
    pub fn lookup(&self, hash: u64) -> Option<usize> {
        let len = self.entries.len() as u64;
        if len == 0 {
            return None;
        }
        self.entries.get((hash % len) as usize).map(|&i| i as usize)
    }

    /// The backends, in their given order.
    pub fn backends(&self) -> &[Backend] {
        &self.backends
    }
}

impl Lookup for ModN {
    fn backends(&self) -> &[Backend] {
        ModN::backends(self)
    }

    fn lookup(&self, hash: u64) -> Option<usize> {
        ModN::lookup(self, hash)
    }
}

/// How many flows map to a different backend (compared by name) after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Remap {
    /// Flows compared.
    pub flows: u64,
    /// Flows whose backend changed (including to or from no backend).
    pub remapped: u64,
    /// The part of `remapped` that moved between two backends present both before and after:
    /// moves a perfect consistent hash would not make.
    pub collateral: u64,
}

impl Remap {
    /// `remapped / flows` (0 for no flows).
    pub fn fraction(&self) -> f64 {
        ratio(self.remapped, self.flows)
    }

    /// `collateral / flows` (0 for no flows).
    pub fn collateral_fraction(&self) -> f64 {
        ratio(self.collateral, self.flows)
    }
}

/// Looks every hash up in both mappings and counts the flows that moved.
pub fn remap(
    before: &impl Lookup,
    after: &impl Lookup,
    hashes: impl IntoIterator<Item = u64>,
) -> Remap {
    let position_in = |list: &[Backend], name: &str| list.iter().position(|b| b.name == name);
    // Where each old backend sits in the new list, and whether each new backend is new.
    let old_to_new: Vec<Option<usize>> = before
        .backends()
        .iter()
        .map(|b| position_in(after.backends(), &b.name))
        .collect();
    let existed: Vec<bool> = after
        .backends()
        .iter()
        .map(|b| position_in(before.backends(), &b.name).is_some())
        .collect();
    let mut out = Remap::default();
    for hash in hashes {
        out.flows += 1;
        let old = before.lookup(hash);
        let new = after.lookup(hash);
        if old.and_then(|o| old_to_new[o]) == new && old.is_some() == new.is_some() {
            continue;
        }
        out.remapped += 1;
        if let (Some(o), Some(n)) = (old, new)
            && old_to_new[o].is_some()
            && existed[n]
        {
            out.collateral += 1;
        }
    }
    out
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TableSize;

    #[test]
    fn mod_n_with_equal_weights_is_hash_mod_n() {
        let set = Backends::parse("a,b,c").unwrap();
        let mod_n = ModN::new(&set);
        for hash in 0..30 {
            assert_eq!(mod_n.lookup(hash), Some((hash % 3) as usize));
        }
        let weighted = ModN::new(&Backends::parse("a:2,b:4,c:0").unwrap());
        let picks: Vec<_> = (0..3).map(|h| weighted.lookup(h)).collect();
        assert_eq!(picks, [Some(0), Some(1), Some(1)]);
    }

    #[test]
    fn identical_tables_remap_nothing() {
        let set = Backends::parse("a,b,c").unwrap();
        let m = Maglev::new(&set, TableSize::new(251).unwrap()).unwrap();
        assert_eq!(remap(&m, &m, 0..1000).remapped, 0);
    }

    #[test]
    fn removal_counts_necessary_and_collateral_moves() {
        let set = Backends::parse("a,b,c,d").unwrap();
        let after = set.without("b").unwrap();
        let before = ModN::new(&set);
        let mod_n = remap(&before, &ModN::new(&after), 0..12);
        // Hash h goes from the (h mod 4)-th of a, b, c, d to the (h mod 3)-th of a, c, d.
        let stays = (0..12u64)
            .filter(|h| {
                let old = ["a", "b", "c", "d"][(h % 4) as usize];
                let new = ["a", "c", "d"][(h % 3) as usize];
                old == new
            })
            .count() as u64;
        assert_eq!(mod_n.remapped, 12 - stays);
        // Flows that were on `b` (hashes 1, 5, 9) had to move; the rest is collateral.
        assert_eq!(mod_n.collateral, 12 - stays - 3);
    }
}
