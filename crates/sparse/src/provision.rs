//! Creating thin and thick files, and converting between them in place.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

use crate::error::{Error, Op, Result, io_error};
use crate::holes::{dig_file, open_rw, punch, write_zeros};
use crate::map::{ExtentKind, MapMethod, MapSource, file_size, map_file};
use crate::sys::{self, FallocateFlags};

/// How a file's space is provisioned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provisioning {
    /// Sparse: nothing allocated until written (`ftruncate`).
    Thin,
    /// Space reserved with `fallocate`, unwritten: reads as zeros, no zeros written.
    ThickLazy,
    /// Space reserved and zeros written to every byte that was not data.
    ThickEager,
}

/// What [`convert`] changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvertReport {
    /// Bytes deallocated (to thin).
    pub freed_bytes: u64,
    /// Bytes newly reserved (to thick).
    pub allocated_bytes: u64,
    /// Bytes of zeros written (to eager).
    pub zeroed_bytes: u64,
    /// Where the extent map came from.
    pub source: MapSource,
}

/// Creates a new file of `size` bytes at `path`, provisioned as asked. Never overwrites: an
/// existing path is [`Error::AlreadyExists`]. On failure (for example [`Error::NoSpace`],
/// which says how far it got) the new file is removed again.
pub fn create(path: &Path, size: u64, provisioning: Provisioning) -> Result<()> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|source| match source.kind() {
            io::ErrorKind::AlreadyExists => Error::AlreadyExists { path: path.into() },
            _ => Error::Io {
                op: Op::Open,
                path: path.into(),
                source,
            },
        })?;
    let result = provision_new(&file, path, size, provisioning);
    if result.is_err() {
        drop(file);
        // The file is ours (create_new) and incomplete; a failed removal leaves the original
        // error as the one worth reporting.
        let _ = std::fs::remove_file(path);
    }
    result
}

/// Converts the file at `path` in place. To [`Provisioning::Thin`]: unwritten extents (and
/// holes, which may hide preallocation where there is no FIEMAP) are punched and all-zero data blocks dug out. To thick: holes are allocated (and, eagerly, zeros
/// written over holes and unwritten extents). The content never changes; on
/// [`Error::NoSpace`] the file keeps its content and the error says how far it got.
pub fn convert(path: &Path, provisioning: Provisioning) -> Result<ConvertReport> {
    let file = open_rw(path)?;
    let size = file_size(&file, path)?;
    let map = map_file(&file, path, size, MapMethod::Auto)?;
    let mut report = ConvertReport {
        freed_bytes: 0,
        allocated_bytes: 0,
        zeroed_bytes: 0,
        source: map.source(),
    };
    match provisioning {
        Provisioning::Thin => {
            // Holes are punched too: without FIEMAP (tmpfs), preallocation looks like holes,
            // and punching a real hole changes nothing.
            for extent in map.extents().iter().filter(|e| e.kind != ExtentKind::Data) {
                punch(&file, path, extent.offset, extent.length)?;
                if extent.kind == ExtentKind::Unwritten {
                    report.freed_bytes += extent.length;
                }
            }
            report.freed_bytes += dig_file(&file, path, &map)?.punched_bytes;
        }
        Provisioning::ThickLazy | Provisioning::ThickEager => {
            let holes = map.bytes(ExtentKind::Hole);
            let mut done = 0;
            for extent in map.runs(ExtentKind::Hole) {
                allocate(&file, path, extent.offset, extent.end(), done, holes)?;
                done += extent.length;
            }
            report.allocated_bytes = holes;
            if provisioning == Provisioning::ThickEager {
                for extent in map.extents().iter().filter(|e| e.kind != ExtentKind::Data) {
                    write_zeros(&file, path, extent.offset, extent.end())?;
                    report.zeroed_bytes += extent.length;
                }
            }
        }
    }
    file.sync_all()
        .map_err(|e| io_error(Op::Sync, path, e, 0, 0))?;
    Ok(report)
}

/// Bytes reserved per `fallocate` call, so that ENOSPC can say how far it got.
const ALLOCATE_STEP: u64 = 1 << 30;

fn provision_new(file: &File, path: &Path, size: u64, provisioning: Provisioning) -> Result<()> {
    file.set_len(size)
        .map_err(|e| io_error(Op::Truncate, path, e, 0, size))?;
    if provisioning != Provisioning::Thin {
        allocate(file, path, 0, size, 0, size)?;
    }
    if provisioning == Provisioning::ThickEager {
        write_zeros(file, path, 0, size)?;
    }
    file.sync_all()
        .map_err(|e| io_error(Op::Sync, path, e, 0, 0))
}

/// Reserves `start..end` (within the file size), one step at a time; `done` and `total` place
/// this range in the whole operation for [`Error::NoSpace`].
fn allocate(file: &File, path: &Path, start: u64, end: u64, done: u64, total: u64) -> Result<()> {
    let mut at = start;
    while at < end {
        let step = (end - at).min(ALLOCATE_STEP);
        sys::fallocate(file, FallocateFlags::empty(), at, step)
            .map_err(|e| io_error(Op::Allocate, path, e, done + (at - start), total))?;
        at += step;
    }
    Ok(())
}
