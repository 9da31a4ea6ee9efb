//! Apparent size against allocated bytes, as `du --apparent-size` against `du`.

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::error::{Error, Op, Result, io_error};
use crate::map::{ExtentKind, MapMethod, MapSource, map_file};
use crate::sys;

/// What a file takes: its size, its allocation and the shape of its extent map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    /// The file size (`st_size`, `du --apparent-size -B1`).
    pub apparent_bytes: u64,
    /// Bytes allocated (`st_blocks * 512`, `du -B1`), including preallocation past the end.
    pub allocated_bytes: u64,
    /// The filesystem block size (`fstatfs` `f_bsize`).
    pub block_size: u64,
    /// Runs of written data.
    pub data_extents: u64,
    /// Runs of allocated but unwritten bytes (zero when the map has no FIEMAP).
    pub unwritten_extents: u64,
    /// Runs of holes.
    pub holes: u64,
    /// Bytes of written data.
    pub data_bytes: u64,
    /// Bytes allocated but unwritten.
    pub unwritten_bytes: u64,
    /// Bytes in holes.
    pub hole_bytes: u64,
    /// Where the extent map came from.
    pub source: MapSource,
}

/// Measures the file at `path`.
pub fn stat(path: &Path) -> Result<Stat> {
    let file = File::open(path).map_err(|source| Error::Io {
        op: Op::Open,
        path: path.into(),
        source,
    })?;
    let meta = file.metadata().map_err(|source| Error::Io {
        op: Op::Stat,
        path: path.into(),
        source,
    })?;
    if !meta.is_file() {
        return Err(Error::NotRegularFile { path: path.into() });
    }
    let map = map_file(&file, path, meta.len(), MapMethod::Auto)?;
    let block_size = sys::fs_block_size(&file).map_err(|e| io_error(Op::Stat, path, e, 0, 0))?;
    let count = |kind| map.runs(kind).count() as u64;
    // Metadata again: FIEMAP's sync may have allocated delayed blocks.
    let blocks = file.metadata().map(|m| m.blocks()).unwrap_or(meta.blocks());
    Ok(Stat {
        apparent_bytes: meta.len(),
        allocated_bytes: blocks * 512,
        block_size,
        data_extents: count(ExtentKind::Data),
        unwritten_extents: count(ExtentKind::Unwritten),
        holes: count(ExtentKind::Hole),
        data_bytes: map.bytes(ExtentKind::Data),
        unwritten_bytes: map.bytes(ExtentKind::Unwritten),
        hole_bytes: map.bytes(ExtentKind::Hole),
        source: map.source(),
    })
}
