//! Extent maps: which byte ranges of a file are data, holes, or allocated but unwritten.

use std::fmt;
use std::fs::File;
use std::io;
use std::path::Path;

use crate::error::{Error, Op, Result, is_unsupported};
use crate::fiemap::decode_fiemap;
use crate::sys;

/// What a run of bytes is on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExtentKind {
    /// Written data (it may still contain zeros).
    Data,
    /// Not allocated: reads as zeros and takes no space.
    Hole,
    /// Allocated but never written (preallocated by `fallocate`): reads as zeros, takes space.
    Unwritten,
}

impl ExtentKind {
    /// `"data"`, `"hole"` or `"unwritten"`.
    pub fn name(self) -> &'static str {
        match self {
            ExtentKind::Data => "data",
            ExtentKind::Hole => "hole",
            ExtentKind::Unwritten => "unwritten",
        }
    }
}

/// One run of bytes of the same kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Extent {
    /// Where the run starts in the file.
    pub offset: u64,
    /// Its length in bytes (never zero in a map).
    pub length: u64,
    /// What it is.
    pub kind: ExtentKind,
}

impl Extent {
    /// One past the last byte.
    pub fn end(&self) -> u64 {
        self.offset + self.length
    }
}

/// Where an extent map came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MapSource {
    /// `FS_IOC_FIEMAP`: knows unwritten extents.
    Fiemap,
    /// `lseek(SEEK_DATA/SEEK_HOLE)`: unwritten extents show as holes or data, as the
    /// filesystem decides (ext4: holes).
    SeekHole,
    /// Neither is supported: the whole file is reported as data, and operations that care
    /// scan it for zeros instead.
    WholeFile,
}

impl fmt::Display for MapSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MapSource::Fiemap => "fiemap",
            MapSource::SeekHole => "seek-hole",
            MapSource::WholeFile => "whole-file (no FIEMAP or SEEK_HOLE: scanning)",
        })
    }
}

/// How to read an extent map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MapMethod {
    /// FIEMAP, falling back to SEEK_DATA/SEEK_HOLE, falling back to "all data".
    Auto,
    /// FIEMAP only; [`Error::Unsupported`] where the filesystem lacks it.
    Fiemap,
    /// SEEK_DATA/SEEK_HOLE only; [`Error::Unsupported`] where the filesystem lacks it.
    SeekHole,
}

/// The runs of a file from offset 0 to its size: contiguous, non-empty, and with no two
/// neighbours of the same kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtentMap {
    extents: Vec<Extent>,
    size: u64,
    source: MapSource,
}

impl ExtentMap {
    /// Builds a map of a file of `size` bytes from runs in increasing order: clips them to
    /// the size, fills gaps with holes, drops empty runs and merges neighbours of one kind.
    pub fn from_runs(
        size: u64,
        source: MapSource,
        runs: impl IntoIterator<Item = Extent>,
    ) -> ExtentMap {
        let mut map = ExtentMap {
            extents: Vec::new(),
            size,
            source,
        };
        let mut at = 0;
        for run in runs {
            let start = run.offset.max(at);
            let end = run.offset.saturating_add(run.length).min(size);
            if start >= end {
                continue;
            }
            map.push(at, start, ExtentKind::Hole);
            map.push(start, end, run.kind);
            at = end;
        }
        map.push(at, size, ExtentKind::Hole);
        map
    }

    /// The runs, in order, covering `0..size`.
    pub fn extents(&self) -> &[Extent] {
        &self.extents
    }

    /// The file size the map covers.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Where the map came from.
    pub fn source(&self) -> MapSource {
        self.source
    }

    /// Total bytes of runs of `kind`.
    pub fn bytes(&self, kind: ExtentKind) -> u64 {
        self.runs(kind).map(|e| e.length).sum()
    }

    /// The runs of `kind`.
    pub fn runs(&self, kind: ExtentKind) -> impl Iterator<Item = &Extent> {
        self.extents.iter().filter(move |e| e.kind == kind)
    }

    fn push(&mut self, start: u64, end: u64, kind: ExtentKind) {
        if start >= end {
            return;
        }
        match self.extents.last_mut() {
            Some(last) if last.kind == kind && last.end() == start => {
                last.length = end - last.offset
            }
            _ => self.extents.push(Extent {
                offset: start,
                length: end - start,
                kind,
            }),
        }
    }
}

/// Reads the extent map of the file at `path`.
///
/// FIEMAP is asked to sync the file first (`FIEMAP_FLAG_SYNC`), so data still in the page cache
/// is never mistaken for an unwritten extent.
pub fn map(path: &Path, method: MapMethod) -> Result<ExtentMap> {
    let file = File::open(path).map_err(|source| Error::Io {
        op: Op::Open,
        path: path.into(),
        source,
    })?;
    let size = file_size(&file, path)?;
    map_file(&file, path, size, method)
}

/// Extents asked for per FIEMAP call.
const FIEMAP_BATCH: u32 = 340;
/// `FIEMAP_FLAG_SYNC`.
const FIEMAP_FLAG_SYNC: u32 = 1;

pub(crate) fn map_file(
    file: &File,
    path: &Path,
    size: u64,
    method: MapMethod,
) -> Result<ExtentMap> {
    let io = |source: io::Error| match source.raw_os_error() {
        Some(code) if is_unsupported(code) || code == libc::EINVAL => Error::Unsupported {
            op: Op::Map,
            path: path.into(),
            source,
        },
        _ => Error::Io {
            op: Op::Map,
            path: path.into(),
            source,
        },
    };
    let fiemap = || fiemap_runs(file, path, size).map_err(|e| e.map_io(io));
    let seek = || seek_runs(file, size).map_err(io);
    let (source, runs) = match method {
        MapMethod::Fiemap => (MapSource::Fiemap, fiemap()?),
        MapMethod::SeekHole => (MapSource::SeekHole, seek()?),
        MapMethod::Auto => match fiemap() {
            Ok(runs) => (MapSource::Fiemap, runs),
            Err(Error::Unsupported { .. }) => match seek() {
                Ok(runs) => (MapSource::SeekHole, runs),
                Err(Error::Unsupported { .. }) => (
                    MapSource::WholeFile,
                    vec![Extent {
                        offset: 0,
                        length: size,
                        kind: ExtentKind::Data,
                    }],
                ),
                Err(e) => return Err(e),
            },
            Err(e) => return Err(e),
        },
    };
    Ok(ExtentMap::from_runs(size, source, runs))
}

pub(crate) fn file_size(file: &File, path: &Path) -> Result<u64> {
    let meta = file.metadata().map_err(|source| Error::Io {
        op: Op::Stat,
        path: path.into(),
        source,
    })?;
    if !meta.is_file() {
        return Err(Error::NotRegularFile { path: path.into() });
    }
    Ok(meta.len())
}

enum FiemapFailure {
    Io(io::Error),
    Bad(Error),
}

impl FiemapFailure {
    fn map_io(self, f: impl FnOnce(io::Error) -> Error) -> Error {
        match self {
            FiemapFailure::Io(e) => f(e),
            FiemapFailure::Bad(e) => e,
        }
    }
}

fn fiemap_runs(file: &File, path: &Path, size: u64) -> Result<Vec<Extent>, FiemapFailure> {
    let mut buf = sys::FiemapBuf::new(FIEMAP_BATCH);
    let mut runs = Vec::new();
    let mut start = 0;
    let mut flags = FIEMAP_FLAG_SYNC;
    // At least one call, even for an empty file, so that a filesystem without FIEMAP is
    // recognised as such.
    loop {
        let reply = buf.map(file, start, flags).map_err(FiemapFailure::Io)?;
        flags = 0;
        let extents = decode_fiemap(&reply).map_err(|source| {
            FiemapFailure::Bad(Error::BadFiemap {
                path: path.into(),
                source,
            })
        })?;
        let Some(last) = extents.last().copied() else {
            break;
        };
        for extent in &extents {
            runs.push(Extent {
                offset: extent.logical,
                length: extent.length,
                kind: if extent.is_unwritten() {
                    ExtentKind::Unwritten
                } else {
                    ExtentKind::Data
                },
            });
        }
        let end = last.logical + last.length;
        if last.is_last() || end <= start || end >= size {
            break;
        }
        start = end;
    }
    Ok(runs)
}

fn seek_runs(file: &File, size: u64) -> io::Result<Vec<Extent>> {
    let mut runs = Vec::new();
    let mut at = 0;
    while at < size {
        let Some(data) = sys::seek_data(file, at)? else {
            break;
        };
        if data >= size {
            break;
        }
        let hole = sys::seek_hole(file, data)?.min(size);
        if hole <= data {
            // A filesystem that answers nonsense: treat the rest as data rather than loop.
            runs.push(Extent {
                offset: data,
                length: size - data,
                kind: ExtentKind::Data,
            });
            break;
        }
        runs.push(Extent {
            offset: data,
            length: hole - data,
            kind: ExtentKind::Data,
        });
        at = hole;
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ExtentKind::{Data, Hole, Unwritten};
    use proptest::prelude::*;

    fn run(offset: u64, length: u64, kind: ExtentKind) -> Extent {
        Extent {
            offset,
            length,
            kind,
        }
    }

    #[track_caller]
    fn check(size: u64, runs: &[(u64, u64, ExtentKind)], expected: &[(u64, u64, ExtentKind)]) {
        let map = ExtentMap::from_runs(
            size,
            MapSource::Fiemap,
            runs.iter().map(|&(o, l, k)| run(o, l, k)),
        );
        let got: Vec<_> = map
            .extents()
            .iter()
            .map(|e| (e.offset, e.length, e.kind))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn from_runs_fills_gaps_clips_and_merges() {
        check(0, &[], &[]);
        check(0, &[(0, 4096, Data)], &[]);
        check(10, &[], &[(0, 10, Hole)]);
        check(10, &[(0, 10, Data)], &[(0, 10, Data)]);
        check(
            10,
            &[(2, 3, Data)],
            &[(0, 2, Hole), (2, 3, Data), (5, 5, Hole)],
        );
        check(
            10,
            &[(0, 4, Data), (4, 4, Data)],
            &[(0, 8, Data), (8, 2, Hole)],
        );
        check(
            10,
            &[(0, 4, Data), (4, 4, Unwritten)],
            &[(0, 4, Data), (4, 4, Unwritten), (8, 2, Hole)],
        );
        // Preallocation past the end of file (KEEP_SIZE) is clipped away.
        check(
            10,
            &[(8, 100, Unwritten)],
            &[(0, 8, Hole), (8, 2, Unwritten)],
        );
        check(10, &[(20, 5, Data)], &[(0, 10, Hole)]);
        // Overlaps keep the first claim; zero lengths vanish; u64 overflow saturates.
        check(
            10,
            &[
                (0, 6, Data),
                (4, 4, Unwritten),
                (9, 0, Data),
                (9, u64::MAX, Data),
            ],
            &[(0, 6, Data), (6, 2, Unwritten), (8, 1, Hole), (9, 1, Data)],
        );
    }

    fn kind() -> impl Strategy<Value = ExtentKind> {
        prop_oneof![Just(Data), Just(Hole), Just(Unwritten)]
    }

    proptest! {
        #[test]
        fn from_runs_covers_the_file_with_merged_runs(
            size in 0u64..10_000,
            raw in proptest::collection::vec((0u64..12_000, 0u64..3_000, kind()), 0..20),
        ) {
            let mut runs: Vec<Extent> = raw.iter().map(|&(o, l, k)| run(o, l, k)).collect();
            runs.sort_by_key(|e| e.offset);
            let map = ExtentMap::from_runs(size, MapSource::SeekHole, runs.clone());
            let mut at = 0;
            for pair in map.extents().windows(2) {
                prop_assert_ne!(pair[0].kind, pair[1].kind);
            }
            for e in map.extents() {
                prop_assert_eq!(e.offset, at);
                prop_assert!(e.length > 0);
                at = e.end();
            }
            prop_assert_eq!(at, size);
            // Every byte the map calls data was claimed as data by some run.
            for e in map.runs(Data) {
                for probe in [e.offset, e.end() - 1] {
                    prop_assert!(runs.iter().any(|r| r.kind == Data && r.offset <= probe && probe < r.offset.saturating_add(r.length)));
                }
            }
        }
    }
}
