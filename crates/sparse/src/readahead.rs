//! Reading ahead of a copy or scan: the next data extents are handed to the kernel with
//! `POSIX_FADV_WILLNEED`, so that reads from a cold page cache overlap instead of waiting one
//! after another (what `qemu-img convert` gets from its concurrent requests).

use std::fs::File;

use crate::map::{Extent, ExtentKind, ExtentMap};
use crate::sys;

/// How far ahead of the reader the kernel is asked to read.
pub(crate) const WINDOW: u64 = 32 << 20;

/// Bytes per `fadvise` call, so that one huge extent is not requested all at once.
const PIECE: u64 = 4 << 20;

/// A cursor over the data extents of a map, ahead of the reader.
pub(crate) struct ReadAhead {
    runs: Vec<(u64, u64)>,
    idx: usize,
    at: u64,
    /// Data bytes requested so far.
    requested: u64,
}

impl ReadAhead {
    /// A cursor at the first data extent of `map`.
    pub(crate) fn new(map: &ExtentMap) -> ReadAhead {
        let runs: Vec<(u64, u64)> = map
            .runs(ExtentKind::Data)
            .map(|e: &Extent| (e.offset, e.end()))
            .collect();
        let at = runs.first().map_or(0, |run| run.0);
        ReadAhead {
            runs,
            idx: 0,
            at,
            requested: 0,
        }
    }

    /// Asks for the data extents in order until `WINDOW` bytes past `consumed` (the data bytes
    /// the reader has read so far) are requested.
    pub(crate) fn advance(&mut self, file: &File, consumed: u64) {
        self.advance_with(consumed, &mut |offset, len| {
            sys::advise_will_need(file, offset, len);
        });
    }

    /// [`ReadAhead::advance`], handing each range to `request`.
    fn advance_with(&mut self, consumed: u64, request: &mut dyn FnMut(u64, u64)) {
        while self.requested < consumed.saturating_add(WINDOW) {
            let Some(&(_, end)) = self.runs.get(self.idx) else {
                return;
            };
            if self.at >= end {
                self.idx += 1;
                if let Some(&(next, _)) = self.runs.get(self.idx) {
                    self.at = next;
                }
                continue;
            }
            let len = (end - self.at).min(PIECE);
            request(self.at, len);
            self.at += len;
            self.requested += len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::map::MapSource;
    use proptest::prelude::*;

    proptest! {
        /// The requests cover the data runs in order, exactly once, never past a run's end,
        /// and stay within a window (plus one piece) of the reader.
        #[test]
        fn requests_follow_the_data_runs(
            layout in proptest::collection::vec((1u64..40 << 20, any::<bool>()), 0..12),
            steps in proptest::collection::vec(0u64..24 << 20, 0..40),
        ) {
            let mut at = 0;
            let extents: Vec<Extent> = layout
                .iter()
                .map(|&(length, data)| {
                    let kind = if data { ExtentKind::Data } else { ExtentKind::Hole };
                    let extent = Extent { offset: at, length, kind };
                    at += length;
                    extent
                })
                .collect();
            let map = ExtentMap::from_runs(at, MapSource::Fiemap, extents);
            let data: Vec<(u64, u64)> = map
                .runs(ExtentKind::Data)
                .map(|e| (e.offset, e.end()))
                .collect();
            let total: u64 = data.iter().map(|(start, end)| end - start).sum();
            let mut ahead = ReadAhead::new(&map);
            let mut requested: Vec<(u64, u64)> = Vec::new();
            let mut consumed = 0u64;
            for step in steps.into_iter().chain([u64::MAX / 2]) {
                consumed = consumed.saturating_add(step).min(total);
                ahead.advance_with(consumed, &mut |offset, len| requested.push((offset, offset + len)));
                let asked: u64 = requested.iter().map(|(start, end)| end - start).sum();
                prop_assert!(asked >= (consumed + WINDOW).min(total));
                prop_assert!(asked <= consumed + WINDOW + PIECE);
            }
            // Joined, the requests are exactly the data runs.
            let mut joined: Vec<(u64, u64)> = Vec::new();
            for (start, end) in requested {
                match joined.last_mut() {
                    Some(last) if last.1 == start => last.1 = end,
                    _ => joined.push((start, end)),
                }
            }
            let mut runs: Vec<(u64, u64)> = Vec::new();
            for (start, end) in data {
                match runs.last_mut() {
                    Some(last) if last.1 == start => last.1 = end,
                    _ => runs.push((start, end)),
                }
            }
            prop_assert_eq!(joined, runs);
        }
    }
}
