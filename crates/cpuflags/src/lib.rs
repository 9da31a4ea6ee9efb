//! CPU feature detection and KVM guest CPU planning: what a host's CPU offers (its flags, x86-64
//! psABI level and archspec microarchitecture), what a fleet has in common, and which named QEMU
//! or libvirt guest model fits, with the flags to add and why they matter.
//! Input is the running host (CPUID on x86-64) or captured text: Linux `/proc/cpuinfo` of x86_64,
//! aarch64, ppc64le and riscv64 machines, and macOS `sysctl` dumps.
//!
//! # Example
//!
//! ```
//! use underhood_cpuflags::{Cpu, GuestCpu, baseline, compare, microarchitecture, psabi};
//!
//! let haswell = Cpu::from_cpuinfo(include_str!("../testdata/cpuinfo/x86_64-haswell-e5-2680v3.txt"))?;
//! let cascade = Cpu::from_cpuinfo(include_str!("../testdata/cpuinfo/x86_64-cascadelake-gold-6248.txt"))?;
//! assert_eq!(microarchitecture(&cascade).name, "cascadelake");
//! assert_eq!(psabi(&cascade.flags).level.map(|l| l.name()), Some("x86_64_v4"));
//!
//! let plan = baseline(&[haswell.clone(), cascade])?;
//! println!("-cpu {}", plan.qemu_cpu().unwrap_or_default());
//! println!("{}", plan.libvirt_xml().unwrap_or_default());
//!
//! let check = compare(&GuestCpu::parse("Westmere,+pcid")?, &haswell)?;
//! assert!(check.migration_safe && check.missing.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The crate reads no file and no clock by itself: only [`Cpu::detect_host`] looks at the
//! machine (CPUID, or `/proc/cpuinfo` off x86). It bundles archspec's microarchitecture database
//! and the QEMU 7.2 / libvirt 9.0 x86 model lists; it knows no Arm or POWER guest models.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

// The README's Rust examples run as doc tests, so they cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod archspec;
pub use archspec::{Microarchitecture, microarchitecture};
mod cpu;
pub use cpu::{Arch, CoreGroup, Cpu, Missing, Source};
mod error;
pub use error::{GuestSpecError, HostError, ParseError, PlanError, UnknownMachine};
mod host;
mod models;
pub use models::{Catalog, CpuModel, find_model, libvirt_models, qemu_models};
mod names;
pub use names::{canonical_flag, libvirt_flag, qemu_flag};
mod parse;
mod plan;
pub use plan::{
    Action, Baseline, Comparison, GuestCpu, NearMiss, Recommendation, baseline, compare,
};
mod psabi;
pub use psabi::{Psabi, PsabiLevel, psabi};
