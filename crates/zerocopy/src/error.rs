//! The crate's error type.

use std::{fmt, io};

use crate::Strategy;

/// Why a transfer stopped. Bytes already moved stay moved: `moved` says how many.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A system call failed with an error no other strategy can work around.
    #[error("{call} failed ({strategy}) after {moved} bytes: {source}")]
    Io {
        /// The failing call.
        call: Call,
        /// The strategy that made it.
        strategy: Strategy,
        /// Bytes written to the destination before it failed.
        moved: u64,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// Source and destination are the same regular file; copying would overwrite what it reads.
    #[error("source and destination are the same file (device {dev}, inode {ino})")]
    SameFile {
        /// The device number.
        dev: u64,
        /// The inode number.
        ino: u64,
    },
    /// An explicit offset was given for a side that cannot seek (a pipe or a socket).
    #[error("the {side} cannot seek, so it takes no explicit offset")]
    NotSeekable {
        /// Which side.
        side: Side,
    },
    /// [`Options::buffer_size`](crate::Options) is zero or above 1 GiB.
    #[error("buffer size {size} is out of range (1 byte to 1 GiB)")]
    BufferSize {
        /// The size given.
        size: usize,
    },
}

impl Error {
    /// The underlying OS error, if any: for example to test for `ErrorKind::BrokenPipe`.
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// One end of a transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Where bytes come from.
    Source,
    /// Where bytes go.
    Destination,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Source => "source",
            Side::Destination => "destination",
        })
    }
}

/// A system call the crate makes, named in errors and in fault injection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Call {
    /// `copy_file_range(2)`.
    CopyFileRange,
    /// `sendfile(2)`.
    Sendfile,
    /// `splice(2)` from the source (into the pipe, or directly).
    SpliceIn,
    /// `splice(2)` from the pipe to the destination.
    SpliceOut,
    /// `pipe2(2)`.
    Pipe,
    /// `mmap(2)`.
    Mmap,
    /// `read(2)` or `pread(2)`.
    Read,
    /// `write(2)` or `pwrite(2)`.
    Write,
    /// `lseek(2)`.
    Seek,
    /// `fstat(2)`.
    Stat,
    /// `poll(2)`, waiting for a non-blocking descriptor.
    Poll,
    /// `shutdown(2)`, forwarding a half-close.
    Shutdown,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Call::CopyFileRange => "copy_file_range",
            Call::Sendfile => "sendfile",
            Call::SpliceIn => "splice (in)",
            Call::SpliceOut => "splice (out)",
            Call::Pipe => "pipe2",
            Call::Mmap => "mmap",
            Call::Read => "read",
            Call::Write => "write",
            Call::Seek => "lseek",
            Call::Stat => "fstat",
            Call::Poll => "poll",
            Call::Shutdown => "shutdown",
        })
    }
}
