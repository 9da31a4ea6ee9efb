//! Punching holes, zeroing ranges, and digging holes where data blocks are all zeros.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::mpsc;
use std::thread;

use crate::error::{Error, Op, Result, io_error, is_unsupported};
use crate::map::{ExtentKind, ExtentMap, MapMethod, MapSource, file_size, map_file};
use crate::sys::{self, FallocateFlags};

/// How [`zero_range`] zeroed the range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ZeroMethod {
    /// `FALLOC_FL_ZERO_RANGE`: the range stays allocated and reads as zeros.
    ZeroRange,
    /// The filesystem lacks ZERO_RANGE (tmpfs): punched, then allocated again.
    PunchAndAllocate,
    /// Neither worked: zeros were written.
    WroteZeros,
}

/// What [`dig_holes`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DigReport {
    /// Bytes of data read and checked for zeros.
    pub scanned_bytes: u64,
    /// Bytes turned into holes.
    pub punched_bytes: u64,
    /// `fallocate(PUNCH_HOLE)` calls made: one per run of adjacent zero blocks (split only
    /// past 256 MiB).
    pub punches: u64,
    /// Where the map of data extents came from ([`MapSource::WholeFile`] means the whole file
    /// was scanned).
    pub source: MapSource,
}

/// Deallocates `length` bytes at `offset` (`FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE`): they
/// read as zeros afterwards and the file keeps its size. Partial blocks at the ends are zeroed.
pub fn punch_hole(path: &Path, offset: u64, length: u64) -> Result<()> {
    let file = open_rw(path)?;
    check_range(&file, path, offset, length)?;
    punch(&file, path, offset, length)
}

/// Makes `length` bytes at `offset` read as zeros while keeping them allocated.
pub fn zero_range(path: &Path, offset: u64, length: u64) -> Result<ZeroMethod> {
    let file = open_rw(path)?;
    check_range(&file, path, offset, length)?;
    if length == 0 {
        return Ok(ZeroMethod::ZeroRange);
    }
    let keep = FallocateFlags::KEEP_SIZE;
    let unsupported = |e: &io::Error| e.raw_os_error().is_some_and(is_unsupported);
    match sys::fallocate(&file, FallocateFlags::ZERO_RANGE | keep, offset, length) {
        Ok(()) => return Ok(ZeroMethod::ZeroRange),
        Err(e) if unsupported(&e) => {}
        Err(e) => return Err(io_error(Op::Zero, path, e, 0, length)),
    }
    match sys::fallocate(&file, FallocateFlags::PUNCH_HOLE | keep, offset, length) {
        Ok(()) => {
            sys::fallocate(&file, keep, offset, length)
                .map_err(|e| io_error(Op::Allocate, path, e, 0, length))?;
            return Ok(ZeroMethod::PunchAndAllocate);
        }
        Err(e) if unsupported(&e) => {}
        Err(e) => return Err(io_error(Op::Punch, path, e, 0, length)),
    }
    write_zeros(&file, path, offset, offset + length)?;
    Ok(ZeroMethod::WroteZeros)
}

/// Finds filesystem blocks of data that are all zeros and punches them, like
/// `fallocate --dig-holes`, but reading only data extents, a megabyte at a time, and punching
/// on a second thread while the scan goes on.
///
/// Adjacent zero blocks are punched as one range, as soon as a data block or the end of
/// the extent closes the run. A block is punched only after it was read as zeros, and at
/// most a few runs later. Unwritten (preallocated) extents
/// are left alone: they read as zeros already, and their reservation is the owner's choice.
pub fn dig_holes(path: &Path) -> Result<DigReport> {
    let file = open_rw(path)?;
    let size = file_size(&file, path)?;
    let map = map_file(&file, path, size, MapMethod::Auto)?;
    dig_file(&file, path, &map)
}

/// Bytes read per call while scanning.
pub(crate) const CHUNK: usize = 1 << 20;

pub(crate) fn dig_file(file: &File, path: &Path, map: &ExtentMap) -> Result<DigReport> {
    let block = sys::fs_block_size(file).map_err(|e| io_error(Op::Stat, path, e, 0, 0))?;
    sys::advise_sequential(file);
    // Punching waits for the device (on a filesystem mounted with `discard`, each punch
    // issues a synchronous discard that takes milliseconds), while scanning waits for memory:
    // one thread punches the runs the other has just read as zeros, so the two overlap.
    let (runs, queued) = mpsc::sync_channel::<(u64, u64)>(PUNCH_QUEUE);
    let (scanned, punched) = thread::scope(|scope| {
        let puncher = scope.spawn(move || -> Result<(u64, u64)> {
            let (mut bytes, mut punches) = (0, 0);
            for (start, end) in queued {
                punch(file, path, start, end - start)?;
                bytes += end - start;
                punches += 1;
            }
            Ok((bytes, punches))
        });
        let scanned = scan_zero_runs(file, path, map, block, &mut |run| runs.send(run).is_ok());
        drop(runs);
        // The puncher's error comes first: it is why the scan stopped early.
        let punched = puncher
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (scanned, punched)
    });
    let (punched_bytes, punches) = punched?;
    Ok(DigReport {
        scanned_bytes: scanned?,
        punched_bytes,
        punches,
        source: map.source(),
    })
}

/// Zero runs read but not yet punched, at most (each up to [`Pending::MAX`] long).
const PUNCH_QUEUE: usize = 4;

/// Reads the whole blocks of every data extent and hands each maximal run of zero blocks to
/// `found` as soon as a data block (or the extent's end) closes it; stops early when `found`
/// returns false. Returns the bytes scanned.
fn scan_zero_runs(
    file: &File,
    path: &Path,
    map: &ExtentMap,
    block: u64,
    found: &mut dyn FnMut((u64, u64)) -> bool,
) -> Result<u64> {
    let mut scanned = 0;
    let mut buf = vec![0; CHUNK];
    // Adjacent zero blocks are punched as one range, as `fallocate --dig-holes` does: each
    // punch costs a journal transaction (and on a `discard` mount a discard), so the number of
    // punches sets the time.
    let mut pending = Pending::default();
    for extent in map.runs(ExtentKind::Data) {
        // Only whole blocks can become holes.
        let start = extent.offset.next_multiple_of(block);
        let end = extent.end() / block * block;
        let mut at = start;
        while at < end {
            // No `WILLNEED` read-ahead here, unlike a copy: the scan reads every data extent in
            // order, which the kernel's sequential read-ahead covers, and the extra requests
            // contended with the punches (a cold 4 GiB image: 3.6 s with them, 3.1 s without).
            let want = (end - at).min(CHUNK as u64) as usize;
            let got = read_full(file, path, &mut buf[..want], at)?;
            scanned += got as u64;
            let mut complete = zero_runs(&buf[..got], at, block)
                .into_iter()
                .filter_map(|(run_start, run_end)| pending.extend(run_start, run_end))
                .collect::<Vec<_>>();
            // A data block follows the pending run: it is complete, punch it now.
            complete.extend(pending.take_if_ends_before(at + got as u64));
            if !complete.into_iter().all(&mut *found) {
                return Ok(scanned);
            }
            if got < want {
                break;
            }
            at += got as u64;
        }
        if !pending.take().into_iter().all(&mut *found) {
            return Ok(scanned);
        }
    }
    Ok(scanned)
}

/// The zero run read so far and not yet punched.
#[derive(Default)]
struct Pending(Option<(u64, u64)>);

impl Pending {
    /// The longest range one punch covers, bounding how long ago its first block was read.
    const MAX: u64 = 256 << 20;

    /// Adds the zero run `start..end`; returns the run to punch now, if any (the pending one,
    /// when the new run does not continue it or it reached [`Pending::MAX`]).
    fn extend(&mut self, start: u64, end: u64) -> Option<(u64, u64)> {
        match &mut self.0 {
            Some(run) if run.1 == start && run.1 - run.0 < Self::MAX => {
                run.1 = end;
                None
            }
            pending => pending.replace((start, end)),
        }
    }

    fn take(&mut self) -> Option<(u64, u64)> {
        self.0.take()
    }

    fn take_if_ends_before(&mut self, offset: u64) -> Option<(u64, u64)> {
        self.0.take_if(|run| run.1 < offset)
    }
}

/// Whether `bytes` are all zero, looking at 32 bytes per step.
pub(crate) fn is_zero(bytes: &[u8]) -> bool {
    let mut chunks = bytes.chunks_exact(32);
    let words_zero = chunks.all(|c| {
        let word = |i: usize| {
            u64::from_ne_bytes([
                c[i],
                c[i + 1],
                c[i + 2],
                c[i + 3],
                c[i + 4],
                c[i + 5],
                c[i + 6],
                c[i + 7],
            ])
        };
        word(0) | word(8) | word(16) | word(24) == 0
    });
    words_zero && chunks.remainder().iter().all(|&b| b == 0)
}

/// The maximal runs of all-zero whole blocks (aligned to `block` in file offsets) in `buf`,
/// which holds the bytes at `offset`; as absolute `(start, end)` pairs.
pub(crate) fn zero_runs(buf: &[u8], offset: u64, block: u64) -> Vec<(u64, u64)> {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    let end = offset + buf.len() as u64;
    let mut at = offset.next_multiple_of(block);
    while at + block <= end {
        let from = (at - offset) as usize;
        if is_zero(&buf[from..from + block as usize]) {
            match runs.last_mut() {
                Some(last) if last.1 == at => last.1 += block,
                _ => runs.push((at, at + block)),
            }
        }
        at += block;
    }
    runs
}

pub(crate) fn open_rw(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|source| Error::Io {
            op: Op::Open,
            path: path.into(),
            source,
        })
}

pub(crate) fn punch(file: &File, path: &Path, offset: u64, length: u64) -> Result<()> {
    if length == 0 {
        return Ok(());
    }
    sys::fallocate(
        file,
        FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE,
        offset,
        length,
    )
    .map_err(|e| io_error(Op::Punch, path, e, 0, length))
}

/// Reads until `buf` is full or end of file; returns the bytes read.
pub(crate) fn read_full(file: &File, path: &Path, buf: &mut [u8], offset: u64) -> Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], offset + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(Error::Io {
                    op: Op::Read,
                    path: path.into(),
                    source,
                });
            }
        }
    }
    Ok(got)
}

/// Writes zeros over `start..end`; ENOSPC reports how many bytes were done.
pub(crate) fn write_zeros(file: &File, path: &Path, start: u64, end: u64) -> Result<()> {
    let zeros = vec![0; CHUNK.min((end - start) as usize)];
    let mut at = start;
    while at < end {
        let n = (end - at).min(CHUNK as u64) as usize;
        file.write_all_at(&zeros[..n], at)
            .map_err(|e| io_error(Op::Write, path, e, at - start, end - start))?;
        at += n as u64;
    }
    Ok(())
}

fn check_range(file: &File, path: &Path, offset: u64, length: u64) -> Result<()> {
    let size = file_size(file, path)?;
    match offset.checked_add(length) {
        Some(end) if end <= size => Ok(()),
        _ => Err(Error::RangeOutOfBounds {
            path: path.into(),
            offset,
            length,
            size,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[track_caller]
    fn check(buf: &[u8], offset: u64, block: u64, expected: &[(u64, u64)]) {
        assert_eq!(zero_runs(buf, offset, block), expected);
    }

    #[test]
    fn zero_runs_are_whole_aligned_blocks() {
        let mut buf = vec![0u8; 16];
        check(&buf, 0, 4, &[(0, 16)]);
        check(&buf, 2, 4, &[(4, 16)]);
        check(&buf, 0, 32, &[]);
        buf[5] = 1;
        check(&buf, 0, 4, &[(0, 4), (8, 16)]);
        buf[15] = 1;
        check(&buf, 0, 4, &[(0, 4), (8, 12)]);
        check(&[], 0, 4, &[]);
    }

    #[test]
    fn pending_runs_join_until_a_gap_or_the_cap() {
        let mut pending = Pending::default();
        assert_eq!(pending.extend(0, 4), None);
        assert_eq!(pending.extend(4, 8), None);
        assert_eq!(pending.take_if_ends_before(8), None);
        assert_eq!(pending.take_if_ends_before(12), Some((0, 8)));
        assert_eq!(pending.extend(16, 20), None);
        assert_eq!(pending.extend(24, 28), Some((16, 20)));
        assert_eq!(pending.take(), Some((24, 28)));
        assert_eq!(pending.take(), None);
        let max = Pending::MAX;
        assert_eq!(pending.extend(0, max), None);
        assert_eq!(pending.extend(max, max + 4), Some((0, max)));
    }

    /// A zero run longer than one read is still one punch; separate runs are separate punches.
    #[test]
    fn dig_punches_each_zero_run_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.img");
        let mut content = vec![0u8; 5 * CHUNK];
        content[..4096].fill(1);
        content[3 * CHUNK + 8192..3 * CHUNK + 12288].fill(2);
        std::fs::write(&path, &content).unwrap();
        let report = dig_holes(&path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), content);
        assert_eq!(report.punches, 2, "{report:?}");
        assert_eq!(report.punched_bytes, content.len() as u64 - 8192);
    }

    proptest! {
        #[test]
        fn is_zero_agrees_with_a_byte_loop(len in 0usize..200, at in 0usize..200, value in 1u8..) {
            let mut buf = vec![0u8; len];
            prop_assert!(is_zero(&buf));
            if at < len {
                buf[at] = value;
                prop_assert!(!is_zero(&buf));
            }
        }
    }
}
