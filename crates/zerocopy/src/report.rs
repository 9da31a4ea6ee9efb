//! What a transfer did: bytes, the strategy that ran, every fallback and why, syscalls made.

use std::fmt;

use crate::Strategy;

/// The outcome of a transfer, complete or so far.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Report {
    /// Bytes written to the destination.
    pub bytes: u64,
    /// The strategy that ran last, never [`Strategy::Auto`] once the transfer has started.
    pub strategy: Strategy,
    /// Each time a strategy was given up for the next one, in order.
    pub fallbacks: Vec<Fallback>,
    /// System calls made, including retried and refused ones.
    pub syscalls: u64,
}

/// One strategy given up for another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fallback {
    /// The strategy given up.
    pub from: Strategy,
    /// The strategy tried next.
    pub to: Strategy,
    /// Why.
    pub reason: Reason,
    /// Bytes already written to the destination when it happened.
    pub at: u64,
}

/// Why a strategy was given up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// `EXDEV`: the two files are on different filesystems.
    CrossDevice,
    /// `EINVAL`: the kernel does not support this strategy for these descriptors.
    Invalid,
    /// `ENOSYS`: the kernel lacks the system call.
    NotImplemented,
    /// `EOPNOTSUPP`: the filesystem or socket does not support it.
    NotSupported,
    /// `ENODEV`: the source cannot be memory-mapped.
    NoDevice,
    /// `EBADF`: refused for this descriptor, for example a destination opened with `O_APPEND`.
    BadDescriptor,
    /// The first call moved zero bytes, as procfs and sysfs files do although they are not empty.
    ZeroBytes,
    /// `sendfile(2)` writes at the destination's own offset and cannot honour an explicit one.
    DestinationOffset,
}

impl Reason {
    /// A short stable code: the errno name (`EXDEV`), `zero-bytes` or `destination-offset`.
    pub fn code(self) -> &'static str {
        match self {
            Reason::CrossDevice => "EXDEV",
            Reason::Invalid => "EINVAL",
            Reason::NotImplemented => "ENOSYS",
            Reason::NotSupported => "EOPNOTSUPP",
            Reason::NoDevice => "ENODEV",
            Reason::BadDescriptor => "EBADF",
            Reason::ZeroBytes => "zero-bytes",
            Reason::DestinationOffset => "destination-offset",
        }
    }

    /// The reason an errno from a strategy's system call gives to try the next one, if any.
    pub(crate) fn from_errno(errno: rustix::io::Errno) -> Option<Reason> {
        use rustix::io::Errno;
        Some(match errno {
            Errno::XDEV => Reason::CrossDevice,
            Errno::INVAL => Reason::Invalid,
            Errno::NOSYS => Reason::NotImplemented,
            Errno::OPNOTSUPP => Reason::NotSupported,
            Errno::NODEV => Reason::NoDevice,
            Errno::BADF => Reason::BadDescriptor,
            _ => return None,
        })
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Report {
    /// One line, such as `1048576 bytes by sendfile in 3 syscalls (fallbacks: copy-file-range→sendfile: EXDEV)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} bytes by {} in {} syscalls",
            self.bytes, self.strategy, self.syscalls
        )?;
        for (i, fb) in self.fallbacks.iter().enumerate() {
            let lead = if i == 0 { " (fallbacks: " } else { ", " };
            write!(f, "{lead}{}→{}: {}", fb.from, fb.to, fb.reason)?;
        }
        if !self.fallbacks.is_empty() {
            f.write_str(")")?;
        }
        Ok(())
    }
}
