//! The transfer strategies, their names on the command line, and what a descriptor is.

use std::fmt;
use std::str::FromStr;

/// How bytes move from the source to the destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Strategy {
    /// The best strategy for the pair of descriptors, falling back down a fixed list.
    #[default]
    Auto,
    /// `copy_file_range(2)`: file to file inside the kernel (reflinks on CoW filesystems).
    CopyFileRange,
    /// `sendfile(2)`: from a file to anything, usually a socket.
    Sendfile,
    /// `splice(2)` through a pipe (reused for the whole transfer), or directly when one side is a pipe.
    Splice,
    /// `mmap(2)` the source and `write(2)` from the mapping.
    Mmap,
    /// A `read(2)`/`write(2)` loop with a page-aligned buffer of [`Options::buffer_size`](crate::Options) bytes.
    ReadWrite,
}

impl Strategy {
    /// Every strategy, in the order the command line lists them.
    pub const ALL: [Strategy; 6] = [
        Strategy::Auto,
        Strategy::CopyFileRange,
        Strategy::Sendfile,
        Strategy::Splice,
        Strategy::Mmap,
        Strategy::ReadWrite,
    ];

    /// The name used on the command line and in reports, such as `copy-file-range`.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Auto => "auto",
            Strategy::CopyFileRange => "copy-file-range",
            Strategy::Sendfile => "sendfile",
            Strategy::Splice => "splice",
            Strategy::Mmap => "mmap",
            Strategy::ReadWrite => "rw",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A strategy name that is not one of [`Strategy::ALL`]'s names.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown strategy {name:?} (expected auto, copy-file-range, sendfile, splice, mmap or rw)")]
pub struct UnknownStrategy {
    /// What was given.
    pub name: String,
}

impl FromStr for Strategy {
    type Err = UnknownStrategy;

    fn from_str(name: &str) -> Result<Strategy, UnknownStrategy> {
        Strategy::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| UnknownStrategy {
                name: name.to_owned(),
            })
    }
}

/// What kind of file a descriptor refers to, as far as the strategies care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A regular file: seekable, has a size, can be mapped.
    File {
        dev: u64,
        ino: u64,
    },
    Pipe,
    Socket,
    /// Character devices, directories and the rest: only splice and read/write are tried.
    Other,
}

impl Kind {
    /// The strategies `Auto` tries for this pair, best first.
    pub(crate) fn auto_chain(src: Kind, dst: Kind, explicit_dst_offset: bool) -> Vec<Strategy> {
        use Strategy::{CopyFileRange, ReadWrite, Sendfile, Splice};
        let mut chain = match (src, dst) {
            (Kind::File { .. }, Kind::File { .. }) => {
                vec![CopyFileRange, Sendfile, Splice, ReadWrite]
            }
            (Kind::File { .. }, Kind::Pipe) => vec![Splice, ReadWrite],
            (Kind::File { .. }, _) => vec![Sendfile, Splice, ReadWrite],
            _ => vec![Splice, ReadWrite],
        };
        // sendfile(2) writes at the destination's own offset, so it cannot honour an explicit one.
        if explicit_dst_offset {
            chain.retain(|s| *s != Sendfile);
        }
        chain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(name: &str, expected: Result<Strategy, ()>) {
        assert_eq!(
            name.parse::<Strategy>().map_err(|_| ()),
            expected,
            "{name:?}"
        );
    }

    #[test]
    fn names_parse_and_print_back() {
        for s in Strategy::ALL {
            check(s.name(), Ok(s));
            assert_eq!(s.to_string(), s.name());
        }
        check("rw", Ok(Strategy::ReadWrite));
        check("copy_file_range", Err(()));
        check("Auto", Err(()));
        check("", Err(()));
        check("splice ", Err(()));
    }

    #[test]
    fn unknown_names_are_quoted_in_the_error() {
        let err = "nope".parse::<Strategy>().unwrap_err();
        assert_eq!(err.name, "nope");
        assert!(err.to_string().contains("\"nope\""));
    }
}
