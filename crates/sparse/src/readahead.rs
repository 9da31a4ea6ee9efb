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
            sys::advise_will_need(file, self.at, len);
            self.at += len;
            self.requested += len;
        }
    }
}
