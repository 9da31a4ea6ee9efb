//! Thin and thick provisioning for sparse files on Linux: create and convert them, read their
//! extent maps (FIEMAP, with SEEK_DATA/SEEK_HOLE and scanning as fallbacks), punch and dig
//! holes, and copy them without turning holes or preallocation into written zeros.
//! Copies are crash-safe: they go to a temporary file beside the destination, are synced, and
//! renamed into place, so a destination never looks complete when it is not
//! ([`Durability::Deferred`] skips the sync for callers who sync later, as after `cp`).
//!
//! ```
//! use underhood_sparse::{CopyOptions, ExtentKind, Provisioning, Size};
//! # let dir = tempfile::tempdir()?;
//! let image = dir.path().join("disk.img");
//! underhood_sparse::create(&image, "1G".parse::<Size>()?.bytes(), Provisioning::Thin)?;
//! std::os::unix::fs::FileExt::write_all_at(
//!     &std::fs::OpenOptions::new().write(true).open(&image)?,
//!     b"boot sector",
//!     0,
//! )?;
//!
//! let copy = dir.path().join("copy.img");
//! underhood_sparse::copy(&image, &copy, &CopyOptions::default(), |_progress| {})?;
//! let stat = underhood_sparse::stat(&copy)?;
//! assert_eq!(stat.apparent_bytes, 1 << 30);
//! assert!(stat.allocated_bytes <= 64 << 10, "the 1 GiB hole stayed a hole");
//! let map = underhood_sparse::map(&copy, underhood_sparse::MapMethod::Auto)?;
//! assert_eq!(map.extents().last().map(|e| e.kind), Some(ExtentKind::Hole));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The crate does no IO beyond the files it is given, never overwrites a file it did not create
//! (copies replace their destination only by an atomic rename), and never turns unwritten
//! preallocation into holes unless asked to (`Prealloc::Thin`, `Provisioning::Thin`).
//! Its only `unsafe` is the `FS_IOC_FIEMAP` ioctl in the private `sys` module.

#![deny(unsafe_code)]
#![deny(missing_docs)]

// The README's Rust examples run as doc tests, so they cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod copy;
pub use copy::{
    CopyOptions, CopyReport, DataMethod, Durability, Prealloc, Progress, SparsePolicy, copy,
};
mod error;
pub use error::{Error, FiemapError, Op, ParseSizeError};
mod fiemap;
pub use fiemap::{FiemapExtent, decode_fiemap};
mod holes;
pub use holes::{DigReport, ZeroMethod, dig_holes, punch_hole, zero_range};
mod map;
pub use map::{Extent, ExtentKind, ExtentMap, MapMethod, MapSource, map};
mod provision;
pub use provision::{ConvertReport, Provisioning, convert, create};
mod readahead;
mod size;
pub use size::Size;
mod stat;
pub use stat::{Stat, stat};
// The syscall edge: the one place `unsafe` is allowed (the FIEMAP ioctl).
#[allow(unsafe_code)]
mod sys;
