//! The system-call edge: every call the crate makes, with typed arguments and `Errno` results.
//!
//! Everything here is a thin wrapper over rustix; the only `unsafe` is the memory map.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::ptr::NonNull;

use rustix::fs::{FileType, SeekFrom};
use rustix::io::{Errno, Result};
use rustix::mm::{MapFlags, ProtFlags};
use rustix::pipe::{PipeFlags, SpliceFlags};

use crate::strategy::Kind;

/// What `fstat(2)` says about a descriptor.
pub(crate) fn kind(fd: BorrowedFd<'_>) -> Result<(Kind, u64)> {
    let stat = rustix::fs::fstat(fd)?;
    let kind = match FileType::from_raw_mode(stat.st_mode) {
        FileType::RegularFile => Kind::File {
            dev: stat.st_dev,
            ino: stat.st_ino,
        },
        FileType::Fifo => Kind::Pipe,
        FileType::Socket => Kind::Socket,
        _ => Kind::Other,
    };
    // A negative size is impossible for the kinds that have one; treat it as empty.
    Ok((kind, u64::try_from(stat.st_size).unwrap_or(0)))
}

pub(crate) fn size(fd: BorrowedFd<'_>) -> Result<u64> {
    Ok(u64::try_from(rustix::fs::fstat(fd)?.st_size).unwrap_or(0))
}

pub(crate) fn copy_file_range(
    src: BorrowedFd<'_>,
    src_pos: Option<&mut u64>,
    dst: BorrowedFd<'_>,
    dst_pos: Option<&mut u64>,
    len: usize,
) -> Result<usize> {
    rustix::fs::copy_file_range(src, src_pos, dst, dst_pos, len)
}

pub(crate) fn sendfile(
    dst: BorrowedFd<'_>,
    src: BorrowedFd<'_>,
    src_pos: Option<&mut u64>,
    len: usize,
) -> Result<usize> {
    rustix::fs::sendfile(dst, src, src_pos, len)
}

pub(crate) fn splice(
    src: BorrowedFd<'_>,
    src_pos: Option<&mut u64>,
    dst: BorrowedFd<'_>,
    dst_pos: Option<&mut u64>,
    len: usize,
) -> Result<usize> {
    rustix::pipe::splice(src, src_pos, dst, dst_pos, len, SpliceFlags::MOVE)
}

/// A close-on-exec pipe, enlarged to `size` bytes where the system allows; returns its capacity.
pub(crate) fn pipe(size: usize) -> Result<(OwnedFd, OwnedFd, usize)> {
    let (read, write) = rustix::pipe::pipe_with(PipeFlags::CLOEXEC)?;
    let capacity = rustix::pipe::fcntl_setpipe_size(&write, size)
        .or_else(|_| rustix::pipe::fcntl_getpipe_size(&write))?;
    Ok((read, write, capacity))
}

pub(crate) fn read(fd: BorrowedFd<'_>, buf: &mut [u8], pos: Option<u64>) -> Result<usize> {
    match pos {
        Some(pos) => rustix::io::pread(fd, buf, pos),
        None => rustix::io::read(fd, buf),
    }
}

pub(crate) fn write(fd: BorrowedFd<'_>, buf: &[u8], pos: Option<u64>) -> Result<usize> {
    match pos {
        Some(pos) => rustix::io::pwrite(fd, buf, pos),
        None => rustix::io::write(fd, buf),
    }
}

pub(crate) fn position(fd: BorrowedFd<'_>) -> Result<u64> {
    rustix::fs::seek(fd, SeekFrom::Current(0))
}

pub(crate) fn seek(fd: BorrowedFd<'_>, pos: u64) -> Result<u64> {
    rustix::fs::seek(fd, SeekFrom::Start(pos))
}

/// Bytes waiting to be read from a pipe or socket.
pub(crate) fn readable_bytes(fd: BorrowedFd<'_>) -> Result<u64> {
    rustix::io::ioctl_fionread(fd)
}

/// Blocks until `fd` is ready for `interest` (or has an error or hang-up to report).
pub(crate) fn wait(fd: BorrowedFd<'_>, interest: Interest) -> Result<()> {
    let flags = match interest {
        Interest::Read => rustix::event::PollFlags::IN,
        Interest::Write => rustix::event::PollFlags::OUT,
    };
    let mut fds = [rustix::event::PollFd::new(&fd, flags)];
    rustix::event::poll(&mut fds, None).map(drop)
}

/// What [`wait`] waits for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Interest {
    Read,
    Write,
}

pub(crate) fn page_size() -> usize {
    rustix::param::page_size()
}

/// A read-only shared mapping of part of a file, unmapped on drop.
pub(crate) struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
    /// The file offset of the first mapped byte (a multiple of the page size).
    pub(crate) offset: u64,
}

impl Mapping {
    /// Maps `len` bytes of `fd` from `offset`, which must be a multiple of the page size.
    pub(crate) fn new(fd: BorrowedFd<'_>, offset: u64, len: usize) -> Result<Mapping> {
        if len == 0 || !offset.is_multiple_of(page_size() as u64) {
            return Err(Errno::INVAL);
        }
        // SAFETY: a null hint lets the kernel pick fresh address space, so no existing Rust
        // object is aliased or unmapped; the fd is valid for the call because it is borrowed.
        let ptr = unsafe {
            rustix::mm::mmap(
                std::ptr::null_mut(),
                len,
                ProtFlags::READ,
                MapFlags::SHARED,
                fd.as_fd(),
                offset,
            )?
        };
        let ptr = NonNull::new(ptr.cast::<u8>()).ok_or(Errno::NOMEM)?;
        Ok(Mapping { ptr, len, offset })
    }

    /// The mapped bytes, to be handed to the kernel only.
    ///
    /// The crate never reads these bytes in user space: a concurrent truncation of the file
    /// then shows up as `EFAULT` from `write(2)` instead of `SIGBUS`.
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` is a live PROT_READ mapping of exactly `len` bytes, unmapped only in
        // `drop`, which needs `&mut self`, so it outlives the returned borrow. Another process may
        // change the file's bytes meanwhile; the slice is only passed to write(2), which copies
        // inside the kernel, so no Rust code observes a change.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are exactly what mmap returned, and no borrow of `bytes()` can
        // outlive `self`. An error here would leak address space, nothing worse, so it is ignored.
        let _ = unsafe { rustix::mm::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

// The mapping is plain read-only memory; moving it to another thread is fine.
// SAFETY: nothing in `Mapping` is tied to the creating thread; it is only read through `&self`.
unsafe impl Send for Mapping {}
