//! The transfer engine: one resumable state machine that runs a chain of strategies.
//!
//! Every byte taken from the source is written to the destination before the transfer reports
//! done; a strategy is given up only between calls, so no byte is read twice or lost.

use std::ops::Range;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::io::Errno;

use crate::report::{Fallback, Reason, Report};
use crate::strategy::Kind;
use crate::sys::{self, Interest, Mapping};
use crate::{Call, Error, Side, Strategy};

/// How to run a transfer. `Options::default()` is `Auto`, the descriptors' own offsets, no
/// limit and a 128 KiB buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The strategy to try first. `Auto` tries the best for the pair of descriptors first; any
    /// other is tried first and followed by [`Strategy::ReadWrite`] as the last resort.
    pub strategy: Strategy,
    /// Where to start reading.
    pub src_offset: Offset,
    /// Where to start writing.
    pub dst_offset: Offset,
    /// Stop after this many bytes (the source's end may come first).
    pub limit: Option<u64>,
    /// The read/write loop's buffer (page-aligned), from 1 byte to 1 GiB.
    pub buffer_size: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            strategy: Strategy::Auto,
            src_offset: Offset::Current,
            dst_offset: Offset::Current,
            limit: None,
            buffer_size: 128 * 1024,
        }
    }
}

/// Where a side of the transfer reads or writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Offset {
    /// At the descriptor's own offset, which advances by the bytes moved (pipes and sockets have
    /// no other kind).
    #[default]
    Current,
    /// At this offset in a regular file; the descriptor's own offset is left alone.
    At(u64),
}

/// Where a call to [`Transfer::resume`] stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Every byte up to the source's end or the limit is in the destination.
    Done,
    /// A non-blocking descriptor would block: call `resume` again once this side is ready.
    WouldBlock(Side),
}

/// A resumable transfer between two descriptors.
///
/// Use [`copy`] for blocking descriptors. For non-blocking ones, call [`resume`](Self::resume)
/// until it returns [`Status::Done`], waiting for the side named by [`Status::WouldBlock`] in
/// between. Bytes already taken from the source (in the pipe or buffer) are kept in the
/// `Transfer` across calls, so always resume with the same two descriptors.
#[derive(Debug)]
pub struct Transfer {
    options: Options,
    kernel: Kernel,
    plan: Option<Plan>,
    report: Report,
    done: bool,
}

/// Copies from `src` to `dst` until the source's end or `options.limit`, waiting in `poll(2)`
/// when a non-blocking descriptor would block.
///
/// # Errors
/// [`Error::Io`] with the bytes already moved when a call fails in a way no fallback can work
/// around; the option errors of [`Transfer::new`]; [`Error::SameFile`] and
/// [`Error::NotSeekable`] before anything is moved.
pub fn copy(src: impl AsFd, dst: impl AsFd, options: &Options) -> Result<Report, Error> {
    let mut transfer = Transfer::new(options.clone())?;
    transfer.run_blocking(src.as_fd(), dst.as_fd())?;
    Ok(transfer.into_report())
}

impl Transfer {
    /// A transfer that has not started yet.
    ///
    /// # Errors
    /// [`Error::BufferSize`] when `options.buffer_size` is 0 or above 1 GiB.
    pub fn new(options: Options) -> Result<Transfer, Error> {
        if options.buffer_size == 0 || options.buffer_size > 1 << 30 {
            return Err(Error::BufferSize {
                size: options.buffer_size,
            });
        }
        Ok(Transfer {
            options,
            kernel: Kernel::default(),
            plan: None,
            report: Report::default(),
            done: false,
        })
    }

    /// Moves bytes until done or until a non-blocking descriptor would block.
    ///
    /// # Errors
    /// As [`copy`]. After an error the transfer cannot go on: further calls return
    /// [`Status::Done`] with the report as it was.
    pub fn resume(&mut self, src: impl AsFd, dst: impl AsFd) -> Result<Status, Error> {
        if self.done {
            return Ok(Status::Done);
        }
        let result = self.step_until_blocked(src.as_fd(), dst.as_fd());
        self.report.syscalls = self.kernel.syscalls;
        match result {
            Ok(Status::WouldBlock(side)) => Ok(Status::WouldBlock(side)),
            other => {
                self.done = true;
                self.plan = None;
                other
            }
        }
    }

    /// The report so far.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The final report.
    pub fn into_report(self) -> Report {
        self.report
    }

    /// Makes each matching call fail once with `errno`, in order; `EINTR` is retried like a real one.
    #[cfg(all(test, not(miri)))]
    pub(crate) fn inject(&mut self, call: Call, errno: Errno) {
        self.kernel.faults.push((call, errno));
    }

    pub(crate) fn run_blocking(
        &mut self,
        src: BorrowedFd<'_>,
        dst: BorrowedFd<'_>,
    ) -> Result<(), Error> {
        loop {
            let (fd, interest) = match self.resume(src, dst)? {
                Status::Done => return Ok(()),
                Status::WouldBlock(Side::Source) => (src, Interest::Read),
                Status::WouldBlock(Side::Destination) => (dst, Interest::Write),
            };
            let waited = self.kernel.call(Call::Poll, || sys::wait(fd, interest));
            self.report.syscalls = self.kernel.syscalls;
            waited.map_err(|errno| self.error(Call::Poll, errno))?;
        }
    }

    fn step_until_blocked(
        &mut self,
        src: BorrowedFd<'_>,
        dst: BorrowedFd<'_>,
    ) -> Result<Status, Error> {
        if self.plan.is_none() {
            self.plan = Some(self.start(src, dst)?);
        }
        loop {
            let outcome = self.drain(dst).and_then(|drained| match drained {
                Some(status) => Ok(Some(status)),
                None if self.finished() => Ok(Some(Status::Done)),
                None => self.step(src, dst).map(|()| None),
            });
            match outcome {
                Ok(Some(status)) => return Ok(status),
                Ok(None) => {}
                Err(Stop::Blocked(side)) => return Ok(Status::WouldBlock(side)),
                Err(Stop::Refused(reason)) => self.fall_back(reason, None)?,
                Err(Stop::Failed(call, errno)) => match Reason::from_errno(errno) {
                    Some(reason) if self.can_fall_back() => {
                        self.fall_back(reason, Some((call, errno)))?;
                    }
                    _ => return Err(self.error(call, errno)),
                },
            }
        }
    }

    /// Resolves the descriptors' kinds, checks the offsets and picks the chain of strategies.
    fn start(&mut self, src: BorrowedFd<'_>, dst: BorrowedFd<'_>) -> Result<Plan, Error> {
        let (src_kind, _) = self
            .kernel
            .call(Call::Stat, || sys::kind(src))
            .map_err(|errno| self.error(Call::Stat, errno))?;
        let (dst_kind, _) = self
            .kernel
            .call(Call::Stat, || sys::kind(dst))
            .map_err(|errno| self.error(Call::Stat, errno))?;
        if let (Kind::File { dev, ino }, Kind::File { dev: d, ino: i }) = (src_kind, dst_kind)
            && (dev, ino) == (d, i)
        {
            return Err(Error::SameFile { dev, ino });
        }
        let seekable = |kind| !matches!(kind, Kind::Pipe | Kind::Socket);
        let src_pos = match self.options.src_offset {
            Offset::At(_) if !seekable(src_kind) => {
                return Err(Error::NotSeekable { side: Side::Source });
            }
            Offset::At(pos) => Some(pos),
            Offset::Current => None,
        };
        let dst_pos = match self.options.dst_offset {
            Offset::At(_) if !seekable(dst_kind) => {
                return Err(Error::NotSeekable {
                    side: Side::Destination,
                });
            }
            Offset::At(pos) => Some(pos),
            Offset::Current => None,
        };
        let chain = match self.options.strategy {
            Strategy::Auto => Kind::auto_chain(src_kind, dst_kind, dst_pos.is_some()),
            Strategy::ReadWrite => vec![Strategy::ReadWrite],
            first => vec![first, Strategy::ReadWrite],
        };
        self.report.strategy = chain[0];
        Ok(Plan {
            chain,
            idx: 0,
            src_kind,
            dst_kind,
            src_pos,
            dst_pos,
            taken: 0,
            src_eof: false,
            fresh: true,
            pipe: None,
            in_pipe: 0,
            buf: None,
            pending: 0..0,
            mapping: None,
        })
    }

    fn plan(&mut self) -> &mut Plan {
        // The plan is set by `start` before any step runs, and only cleared once done.
        self.plan.as_mut().expect("the plan is set before stepping")
    }

    fn finished(&mut self) -> bool {
        let limit = self.options.limit;
        let plan = self.plan();
        plan.src_eof || limit.is_some_and(|limit| plan.taken >= limit)
    }

    fn can_fall_back(&mut self) -> bool {
        let plan = self.plan();
        plan.idx + 1 < plan.chain.len()
    }

    /// Gives up the current strategy for the next one, keeping any bytes already taken.
    fn fall_back(&mut self, reason: Reason, failed: Option<(Call, Errno)>) -> Result<(), Error> {
        if !self.can_fall_back() {
            return Err(match failed {
                Some((call, errno)) => self.error(call, errno),
                // Refusals come only from strategies that `ReadWrite` always follows.
                None => self.error(Call::Read, Errno::INVAL),
            });
        }
        // Bytes already spliced into the pipe move to the buffer so the next strategy writes them.
        if self.plan().in_pipe > 0 {
            self.salvage_pipe()?;
        }
        let bytes = self.report.bytes;
        let plan = self.plan();
        let from = plan.chain[plan.idx];
        plan.idx += 1;
        plan.fresh = true;
        plan.mapping = None;
        let to = plan.chain[plan.idx];
        self.report.strategy = to;
        self.report.fallbacks.push(Fallback {
            from,
            to,
            reason,
            at: bytes,
        });
        Ok(())
    }

    fn salvage_pipe(&mut self) -> Result<(), Error> {
        let size = self.options.buffer_size;
        let plan = self.plan.as_mut().expect("the plan is set before stepping");
        let n = plan.in_pipe;
        let buf = plan.buf.get_or_insert_with(|| AlignedBuf::new(size.max(n)));
        if buf.len() < n {
            *buf = AlignedBuf::new(n);
        }
        let Some((read, _, _)) = &plan.pipe else {
            return Ok(());
        };
        let mut filled = 0;
        while filled < n {
            let got = self
                .kernel
                .call(Call::Read, || {
                    sys::read(read.as_fd(), &mut buf.as_mut()[filled..n], None)
                })
                .map_err(|errno| (Call::Read, errno));
            match got {
                Ok(0) => break,
                Ok(got) => filled += got,
                Err((call, errno)) => {
                    let moved = self.report.bytes;
                    return Err(Error::Io {
                        call,
                        strategy: Strategy::Splice,
                        moved,
                        source: errno.into(),
                    });
                }
            }
        }
        plan.pending = 0..filled;
        plan.in_pipe = 0;
        Ok(())
    }

    /// Writes out bytes already taken from the source: in the pipe, then in the buffer.
    fn drain(&mut self, dst: BorrowedFd<'_>) -> Result<Option<Status>, Stop> {
        let plan = self.plan.as_mut().expect("the plan is set before stepping");
        while plan.in_pipe > 0 {
            let Some((read, _, _)) = &plan.pipe else {
                break;
            };
            let n = self
                .kernel
                .call(Call::SpliceOut, || {
                    sys::splice(read.as_fd(), None, dst, plan.dst_pos.as_mut(), plan.in_pipe)
                })
                .map_err(|errno| Stop::from_errno(Call::SpliceOut, errno, Side::Destination))?;
            if n == 0 {
                return Err(Stop::Failed(Call::SpliceOut, Errno::IO));
            }
            plan.in_pipe -= n;
            self.report.bytes += n as u64;
        }
        while !plan.pending.is_empty() {
            let buf = plan.buf.as_ref().expect("pending bytes live in the buffer");
            let bytes = &buf.as_ref()[plan.pending.clone()];
            let dst_pos = plan.dst_pos;
            let n = self
                .kernel
                .call(Call::Write, || sys::write(dst, bytes, dst_pos))
                .map_err(|errno| Stop::from_errno(Call::Write, errno, Side::Destination))?;
            if n == 0 {
                return Err(Stop::Failed(Call::Write, Errno::IO));
            }
            plan.pending.start += n;
            if let Some(pos) = &mut plan.dst_pos {
                *pos += n as u64;
            }
            self.report.bytes += n as u64;
        }
        Ok(None)
    }

    /// One call (or a few) of the current strategy.
    fn step(&mut self, src: BorrowedFd<'_>, dst: BorrowedFd<'_>) -> Result<(), Stop> {
        let left = self
            .options
            .limit
            .map_or(u64::MAX, |limit| limit - self.plan().taken);
        let want = usize::try_from(left).unwrap_or(usize::MAX).min(1 << 30);
        let buffer_size = self.options.buffer_size;
        let plan = self.plan.as_mut().expect("the plan is set before stepping");
        let kernel = &mut self.kernel;
        let strategy = plan.chain[plan.idx];
        let moved = match strategy {
            Strategy::CopyFileRange => {
                let n = kernel
                    .call(Call::CopyFileRange, || {
                        sys::copy_file_range(
                            src,
                            plan.src_pos.as_mut(),
                            dst,
                            plan.dst_pos.as_mut(),
                            want,
                        )
                    })
                    .map_err(|errno| Stop::from_errno(Call::CopyFileRange, errno, Side::Source))?;
                self.report.bytes += n as u64;
                n
            }
            Strategy::Sendfile => {
                if plan.dst_pos.is_some() {
                    return Err(Stop::Refused(Reason::DestinationOffset));
                }
                let n = kernel
                    .call(Call::Sendfile, || {
                        sys::sendfile(dst, src, plan.src_pos.as_mut(), want)
                    })
                    .map_err(|errno| Stop::from_errno(Call::Sendfile, errno, Side::Destination))?;
                self.report.bytes += n as u64;
                n
            }
            Strategy::Splice if plan.src_kind == Kind::Pipe || plan.dst_kind == Kind::Pipe => {
                let result = kernel.call(Call::SpliceIn, || {
                    sys::splice(src, plan.src_pos.as_mut(), dst, plan.dst_pos.as_mut(), want)
                });
                let n = match result {
                    Ok(n) => n,
                    Err(Errno::AGAIN) => {
                        // Whichever side has nothing to give or no room is the one to wait for.
                        let empty = sys::readable_bytes(src).map_or(true, |n| n == 0);
                        kernel.syscalls += 1;
                        let side = if empty {
                            Side::Source
                        } else {
                            Side::Destination
                        };
                        return Err(Stop::Blocked(side));
                    }
                    Err(errno) => return Err(Stop::Failed(Call::SpliceIn, errno)),
                };
                self.report.bytes += n as u64;
                n
            }
            Strategy::Splice => {
                if plan.pipe.is_none() {
                    let pipe = kernel
                        .call(Call::Pipe, || sys::pipe(1 << 20))
                        .map_err(|errno| Stop::Failed(Call::Pipe, errno))?;
                    plan.pipe = Some(pipe);
                }
                let (_, write, capacity) = plan.pipe.as_ref().expect("the pipe was just made");
                let len = want.min(*capacity);
                let n = kernel
                    .call(Call::SpliceIn, || {
                        sys::splice(src, plan.src_pos.as_mut(), write.as_fd(), None, len)
                    })
                    .map_err(|errno| Stop::from_errno(Call::SpliceIn, errno, Side::Source))?;
                plan.in_pipe = n;
                n
            }
            Strategy::Mmap => {
                let n = mmap_step(kernel, plan, src, dst, want)?;
                self.report.bytes += n as u64;
                n
            }
            Strategy::ReadWrite | Strategy::Auto => {
                let buf = plan.buf.get_or_insert_with(|| AlignedBuf::new(buffer_size));
                let len = want.min(buf.len());
                let src_pos = plan.src_pos;
                let n = kernel
                    .call(Call::Read, || {
                        sys::read(src, &mut buf.as_mut()[..len], src_pos)
                    })
                    .map_err(|errno| Stop::from_errno(Call::Read, errno, Side::Source))?;
                if let Some(pos) = &mut plan.src_pos {
                    *pos += n as u64;
                }
                plan.pending = 0..n;
                n
            }
        };
        if moved == 0 {
            // procfs and sysfs files report zero bytes to the in-kernel paths although they are
            // not empty: give the next strategy a chance before calling it the end.
            let zero_copy = !matches!(strategy, Strategy::ReadWrite | Strategy::Auto);
            if plan.fresh && zero_copy && matches!(plan.src_kind, Kind::File { .. }) {
                return Err(Stop::Refused(Reason::ZeroBytes));
            }
            plan.src_eof = true;
        }
        plan.fresh = false;
        plan.taken += moved as u64;
        Ok(())
    }

    fn error(&self, call: Call, errno: Errno) -> Error {
        Error::Io {
            call,
            strategy: self.report.strategy,
            moved: self.report.bytes,
            source: errno.into(),
        }
    }
}

/// Writes the next part of the source from a shared mapping; returns the bytes written.
fn mmap_step(
    kernel: &mut Kernel,
    plan: &mut Plan,
    src: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
    want: usize,
) -> Result<usize, Stop> {
    const WINDOW: u64 = 16 << 20;
    if !matches!(plan.src_kind, Kind::File { .. }) {
        // Only regular files can be mapped; the kernel would say ENODEV.
        return Err(Stop::Refused(Reason::NoDevice));
    }
    let failed = |call| move |errno| Stop::Failed(call, errno);
    let pos = match plan.src_pos {
        Some(pos) => pos,
        None => kernel
            .call(Call::Seek, || sys::position(src))
            .map_err(failed(Call::Seek))?,
    };
    // A second attempt follows a shrink seen through EFAULT, with a mapping cut to the new size.
    let mut n = None;
    for _attempt in 0..2 {
        let covered = plan
            .mapping
            .as_ref()
            .is_some_and(|m| m.offset <= pos && pos < m.offset + m.bytes().len() as u64);
        if !covered {
            plan.mapping = None;
            let size = kernel
                .call(Call::Stat, || sys::size(src))
                .map_err(failed(Call::Stat))?;
            if size <= pos {
                return Ok(0);
            }
            let page = sys::page_size() as u64;
            let start = pos - pos % page;
            let end = size.min(start + WINDOW);
            let len = usize::try_from(end - start).unwrap_or(usize::MAX);
            let mapping = kernel
                .call(Call::Mmap, || Mapping::new(src, start, len))
                .map_err(failed(Call::Mmap))?;
            plan.mapping = Some(mapping);
        }
        let mapping = plan.mapping.as_ref().expect("mapped above");
        let from = usize::try_from(pos - mapping.offset).unwrap_or(0);
        let bytes = &mapping.bytes()[from..];
        let bytes = &bytes[..bytes.len().min(want)];
        let dst_pos = plan.dst_pos;
        match kernel.call(Call::Write, || sys::write(dst, bytes, dst_pos)) {
            Ok(written) => {
                n = Some(written);
                break;
            }
            // The file shrank under the mapping: map again up to its new end, if it has one.
            Err(Errno::FAULT) => plan.mapping = None,
            Err(errno) => return Err(Stop::from_errno(Call::Write, errno, Side::Destination)),
        }
    }
    let Some(n) = n else {
        return Err(Stop::Failed(Call::Write, Errno::FAULT));
    };
    if let Some(pos) = &mut plan.dst_pos {
        *pos += n as u64;
    }
    match &mut plan.src_pos {
        Some(pos) => *pos += n as u64,
        None => {
            kernel
                .call(Call::Seek, || sys::seek(src, pos + n as u64))
                .map_err(failed(Call::Seek))?;
        }
    }
    Ok(n)
}

/// Why a step stopped early.
enum Stop {
    /// A non-blocking descriptor would block.
    Blocked(Side),
    /// The strategy cannot go on, though no call failed.
    Refused(Reason),
    /// A call failed.
    Failed(Call, Errno),
}

impl Stop {
    /// `EAGAIN` blocks on `side`; anything else failed.
    fn from_errno(call: Call, errno: Errno, side: Side) -> Stop {
        if errno == Errno::AGAIN {
            Stop::Blocked(side)
        } else {
            Stop::Failed(call, errno)
        }
    }
}

/// The state a transfer keeps between calls.
#[derive(Debug)]
struct Plan {
    chain: Vec<Strategy>,
    idx: usize,
    src_kind: Kind,
    dst_kind: Kind,
    /// Explicit positions, advanced as bytes move; `None` uses the descriptors' own offsets.
    src_pos: Option<u64>,
    dst_pos: Option<u64>,
    /// Bytes taken from the source so far.
    taken: u64,
    src_eof: bool,
    /// The current strategy has not moved a byte yet.
    fresh: bool,
    /// Splice's pipe (read end, write end, capacity) and the bytes in it.
    pipe: Option<(OwnedFd, OwnedFd, usize)>,
    in_pipe: usize,
    /// The read/write buffer and the part of it not yet written.
    buf: Option<AlignedBuf>,
    pending: Range<usize>,
    mapping: Option<Mapping>,
}

impl std::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Mapping({} bytes at {})",
            self.bytes().len(),
            self.offset
        )
    }
}

/// Counts system calls, retries `EINTR`, and (in tests) injects failures.
#[derive(Debug, Default)]
struct Kernel {
    syscalls: u64,
    faults: Vec<(Call, Errno)>,
}

impl Kernel {
    fn call<T>(
        &mut self,
        call: Call,
        mut f: impl FnMut() -> rustix::io::Result<T>,
    ) -> rustix::io::Result<T> {
        loop {
            self.syscalls += 1;
            let result = match self.faults.iter().position(|(c, _)| *c == call) {
                Some(idx) => Err(self.faults.remove(idx).1),
                None => f(),
            };
            if !matches!(result, Err(Errno::INTR)) {
                return result;
            }
        }
    }
}

/// A page-aligned byte buffer (unaligned buffers make the kernel's copies much slower).
struct AlignedBuf {
    storage: Vec<u8>,
    start: usize,
    len: usize,
}

impl AlignedBuf {
    fn new(len: usize) -> AlignedBuf {
        let page = sys::page_size();
        let storage = vec![0; len + page];
        let start = storage.as_ptr().align_offset(page).min(page);
        AlignedBuf {
            storage,
            start,
            len,
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn as_ref(&self) -> &[u8] {
        &self.storage[self.start..self.start + self.len]
    }

    fn as_mut(&mut self) -> &mut [u8] {
        &mut self.storage[self.start..self.start + self.len]
    }
}

impl std::fmt::Debug for AlignedBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AlignedBuf({} bytes)", self.len)
    }
}

#[cfg(all(test, not(miri)))]
#[path = "transfer_tests.rs"]
mod tests;

#[cfg(test)]
mod buffer_tests {
    use super::AlignedBuf;

    #[test]
    fn a_transfer_can_move_to_another_thread_or_task() {
        fn send<T: Send>() {}
        send::<super::Transfer>();
        send::<crate::Report>();
        send::<crate::Error>();
    }

    #[test]
    fn buffers_are_page_aligned_and_exactly_sized() {
        for len in [1, 100, 4096, 128 * 1024 + 3] {
            let mut buf = AlignedBuf::new(len);
            assert_eq!(buf.len(), len);
            assert_eq!(buf.as_mut().len(), len);
            assert_eq!(buf.as_ref().as_ptr() as usize % super::sys::page_size(), 0);
        }
    }
}
