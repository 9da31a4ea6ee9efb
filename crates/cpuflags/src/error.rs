//! Typed errors of this crate.

use thiserror::Error;

use crate::Arch;

/// A capture that cannot describe a CPU at all.
///
/// Captures that are merely incomplete parse, and list what they lacked in
/// [`Cpu::missing`](crate::Cpu::missing).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The text is empty or only whitespace.
    #[error("the capture is empty")]
    Empty,
    /// No key this parser knows tells the architecture apart.
    #[error("cannot tell the architecture from the capture (keys seen: {keys:?})")]
    UnknownArchitecture {
        /// Up to eight keys that were present.
        keys: Vec<String>,
    },
    /// A `/proc/cpuinfo` text with no `processor` block.
    #[error("no `processor` block in /proc/cpuinfo text")]
    NoProcessor,
    /// The machine given for a capture is another architecture than the capture's.
    #[error("the capture shows {capture}, not the machine given ({machine})")]
    MachineMismatch {
        /// The machine given.
        machine: Arch,
        /// The architecture the capture shows (`ppc64le` for either POWER).
        capture: Arch,
    },
}

/// A machine name that is not one of `uname -m`'s names this crate knows.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("unknown machine `{machine}` (expected x86_64, aarch64, ppc64le, ppc64 or riscv64)")]
pub struct UnknownMachine {
    /// The name as given.
    pub machine: String,
}

/// Reading the running host failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum HostError {
    /// `/proc/cpuinfo` could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `/proc/cpuinfo` was read but did not parse.
    #[error("cannot parse {path}")]
    Parse {
        /// The file.
        path: &'static str,
        /// Why.
        #[source]
        source: ParseError,
    },
    /// This operating system and architecture have no detection path here.
    #[error("no way to read the CPU on this platform ({os}/{arch})")]
    Unsupported {
        /// `std::env::consts::OS`.
        os: &'static str,
        /// `std::env::consts::ARCH`.
        arch: &'static str,
    },
}

/// A guest CPU spec such as `Westmere,+pcid,-aes` that does not name a known model and flags.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum GuestSpecError {
    /// The spec does not start with a model name.
    #[error("the guest CPU spec is empty; expected `Model[,+flag|,-flag…]`")]
    Empty,
    /// The model is neither a QEMU nor a libvirt x86 model.
    #[error("unknown CPU model {name:?} (QEMU 7.2 and libvirt 9.0 x86 models are known)")]
    UnknownModel {
        /// The name as given.
        name: String,
    },
    /// A flag item is not `+flag`, `-flag`, `flag=on` or `flag=off`.
    #[error("bad flag item {item:?} in guest CPU spec; expected `+flag` or `-flag`")]
    BadItem {
        /// The item as given.
        item: String,
    },
    /// A flag QEMU does not know.
    #[error("unknown CPU flag {name:?}")]
    UnknownFlag {
        /// The name as given.
        name: String,
    },
}

/// Planning over hosts that cannot be planned together.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PlanError {
    /// A baseline of no hosts.
    #[error("a baseline needs at least one host")]
    NoHosts,
    /// Hosts of different instruction-set families have no common guest CPU.
    #[error("host {index} is {found}, but host 0 is {expected}: no guest CPU runs on both")]
    MixedArchitectures {
        /// The index of the first host that differs.
        index: usize,
        /// Host 0's family.
        expected: Arch,
        /// That host's family.
        found: Arch,
    },
    /// Named guest CPU models exist only for x86 here.
    #[error("named guest CPU models are x86 only; these hosts are {arch}")]
    NotX86 {
        /// The hosts' family.
        arch: Arch,
    },
}
