//! The crate's typed errors: what failed, on which path, and how far it got.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// An operation of this crate, named in errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// Opening or creating a file.
    Open,
    /// `fstat`/`fstatfs`.
    Stat,
    /// Reading the extent map (FIEMAP or SEEK_DATA/SEEK_HOLE).
    Map,
    /// Reading data.
    Read,
    /// Writing data.
    Write,
    /// `fallocate(FALLOC_FL_PUNCH_HOLE)`.
    Punch,
    /// `fallocate` that reserves space.
    Allocate,
    /// `fallocate(FALLOC_FL_ZERO_RANGE)` or its fallback.
    Zero,
    /// Setting the file size.
    Truncate,
    /// `fsync` of a file or directory.
    Sync,
    /// Renaming the finished copy into place.
    Rename,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Open => "open",
            Op::Stat => "stat",
            Op::Map => "map extents of",
            Op::Read => "read",
            Op::Write => "write",
            Op::Punch => "punch a hole in",
            Op::Allocate => "allocate",
            Op::Zero => "zero a range of",
            Op::Truncate => "set the size of",
            Op::Sync => "sync",
            Op::Rename => "rename into place",
        })
    }
}

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A system call failed.
    #[error("cannot {op} {path}: {source}")]
    Io {
        /// What was being done.
        op: Op,
        /// The file it was done to.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The filesystem ran out of space; the source (if any) is untouched and no partial
    /// destination is left behind.
    #[error("no space left on device: cannot {op} {path} after {done} of {total} bytes")]
    NoSpace {
        /// What was being done.
        op: Op,
        /// The file being written.
        path: PathBuf,
        /// Bytes finished before the failure.
        done: u64,
        /// Bytes the operation had to do.
        total: u64,
    },
    /// The filesystem does not support an operation that has no safe fallback.
    #[error("the filesystem of {path} cannot {op} ({source})")]
    Unsupported {
        /// What was refused.
        op: Op,
        /// The file.
        path: PathBuf,
        /// The operating system's error (EOPNOTSUPP, ENOTTY, ...).
        source: io::Error,
    },
    /// The path exists already and this operation never overwrites.
    #[error("{path} already exists")]
    AlreadyExists {
        /// The path.
        path: PathBuf,
    },
    /// The path is not a regular file.
    #[error("{path} is not a regular file")]
    NotRegularFile {
        /// The path.
        path: PathBuf,
    },
    /// Source and destination are the same file.
    #[error("{src} and {dst} are the same file")]
    SameFile {
        /// The source path.
        src: PathBuf,
        /// The destination path.
        dst: PathBuf,
    },
    /// A range reaches past the end of the file.
    #[error("range {offset}+{length} reaches past the end of {path} ({size} bytes)")]
    RangeOutOfBounds {
        /// The file.
        path: PathBuf,
        /// Start of the range.
        offset: u64,
        /// Length of the range.
        length: u64,
        /// The file's size.
        size: u64,
    },
    /// The source shrank while it was being read.
    #[error(
        "{path} shrank while being copied: expected {expected} bytes, found end of file at {found}"
    )]
    SourceChanged {
        /// The source.
        path: PathBuf,
        /// The size it had when the copy started.
        expected: u64,
        /// Where the end of file was met.
        found: u64,
    },
    /// The kernel returned a FIEMAP reply this crate cannot make sense of.
    #[error("bad FIEMAP reply for {path}: {source}")]
    BadFiemap {
        /// The file.
        path: PathBuf,
        /// What was wrong with the reply.
        source: FiemapError,
    },
}

/// Why a SIZE such as `10G` did not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseSizeError {
    /// The text was empty.
    #[error("empty size")]
    Empty,
    /// The text does not start with decimal digits.
    #[error("{text:?} does not start with a decimal number")]
    NoNumber {
        /// The whole text.
        text: String,
    },
    /// The suffix is not one of K, M, G, T, P, E (optionally followed by `iB` or `B`).
    #[error("unknown size suffix {suffix:?} (use K, M, G, T, P, E, KiB, KB, ...)")]
    UnknownSuffix {
        /// The suffix found.
        suffix: String,
    },
    /// The size does not fit in 63 bits (the largest file offset Linux accepts).
    #[error("{text:?} is too large (the limit is {} bytes)", i64::MAX)]
    TooLarge {
        /// The whole text.
        text: String,
    },
}

/// Why a FIEMAP reply was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FiemapError {
    /// The buffer is shorter than its header, or than the extents it claims.
    #[error("reply of {len} bytes is too short for {needed} bytes")]
    Truncated {
        /// Bytes given.
        len: usize,
        /// Bytes needed.
        needed: usize,
    },
    /// The kernel mapped more extents than the buffer holds.
    #[error("{mapped} extents mapped but room for only {capacity}")]
    TooManyExtents {
        /// `fm_mapped_extents`.
        mapped: u32,
        /// `fm_extent_count`.
        capacity: u32,
    },
    /// An extent's end overflows 64 bits.
    #[error("extent at {logical} of length {length} overflows")]
    Overflow {
        /// `fe_logical`.
        logical: u64,
        /// `fe_length`.
        length: u64,
    },
    /// Extents out of order or overlapping.
    #[error("extent at {logical} starts before the previous one ends at {previous_end}")]
    Unordered {
        /// `fe_logical` of the offending extent.
        logical: u64,
        /// End of the extent before it.
        previous_end: u64,
    },
}

/// Shorthand used inside the crate.
pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

/// Builds the error for a failed system call, turning ENOSPC into [`Error::NoSpace`] and
/// "not supported" into [`Error::Unsupported`].
pub(crate) fn io_error(
    op: Op,
    path: &std::path::Path,
    source: io::Error,
    done: u64,
    total: u64,
) -> Error {
    let path = path.to_path_buf();
    match source.raw_os_error() {
        Some(libc::ENOSPC) | Some(libc::EDQUOT) => Error::NoSpace {
            op,
            path,
            done,
            total,
        },
        Some(code) if is_unsupported(code) => Error::Unsupported { op, path, source },
        _ => Error::Io { op, path, source },
    }
}

/// Errors that mean "this filesystem does not do that".
pub(crate) fn is_unsupported(code: i32) -> bool {
    matches!(code, libc::EOPNOTSUPP | libc::ENOTTY | libc::ENOSYS)
}
