//! Zero-copy file and socket transfer on Linux, with honest fallbacks.
//! A transfer runs `copy_file_range`, `sendfile`, `splice`, `mmap`+`write` or a read/write loop,
//! picks the best for the pair of descriptors with [`Strategy::Auto`], falls back when the kernel
//! refuses, and returns a [`Report`] that says what actually ran, every fallback and why, and how
//! many system calls it took.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let (src_path, dst_path) = (dir.path().join("src"), dir.path().join("dst"));
//! use underhood_zerocopy::{copy, Options, Strategy};
//!
//! std::fs::write(&src_path, b"hello, kernel")?;
//! let src = std::fs::File::open(&src_path)?;
//! let dst = std::fs::File::create(&dst_path)?;
//! let report = copy(&src, &dst, &Options::default())?;
//! assert_eq!(report.bytes, 13);
//! assert_ne!(report.strategy, Strategy::Auto);
//! assert_eq!(std::fs::read(&dst_path)?, b"hello, kernel");
//! # Ok(())
//! # }
//! ```
//!
//! Non-blocking sockets use [`Transfer::resume`], which returns [`Status::WouldBlock`] with the
//! side to wait for and keeps the bytes already taken; with the `tokio` feature,
//! `tokio::send_file`, `tokio::recv_file` and `tokio::proxy` wait on tokio's readiness instead.
//!
//! The crate never opens, creates or truncates files: it moves bytes between descriptors it is
//! given. It refuses to copy a file onto itself. It runs on Linux only.
//!
//! `unsafe` lives only in the private `sys` module (the memory map); the rest goes through rustix.
#![deny(missing_docs)]
// docs.rs builds with `--cfg docsrs` on nightly: items behind a feature show a badge.
#![cfg_attr(docsrs, feature(doc_cfg))]

// The README's Rust examples run as doc tests, so they cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod error;
mod proxy;
mod report;
mod strategy;
mod sys;
/// The async adapter (feature `tokio`).
#[cfg(feature = "tokio")]
pub mod tokio;
mod transfer;

pub use error::{Call, Error, Side};
pub use proxy::{ProxyReport, proxy};
pub use report::{Fallback, Reason, Report};
pub use strategy::{Strategy, UnknownStrategy};
pub use transfer::{Offset, Options, Status, Transfer, copy};
