//! Load-balancing decisions as pure values: IPVS's schedulers (`rr`, `wrr`, `lc`, `wlc`, `sh`,
//! `mh`) as one deterministic state machine, and Maglev consistent hashing with its balance and
//! disruption measured against plain hash-mod-N.
//! A [`Maglev`] table is a function of the backend names, weights and the prime table size
//! alone, so every load balancer that builds it agrees on where each flow goes.
//!
//! ```
//! use underhood_lb::*;
//!
//! let backends = Backends::parse("a,b,c,d:2")?;
//! let maglev = Maglev::new(&backends, TableSize::new(65_537)?)?;
//! // Slots follow the weights: d holds two fifths of the table, within 1 %.
//! assert!(maglev.balance().max_relative_error < 0.01);
//!
//! let flow = FlowKey::tcp("10.0.0.1:40000".parse()?, "192.0.2.1:443".parse()?);
//! let backend = maglev.backend(flow.hash()).expect("no backend is drained");
//! assert!(["a", "b", "c", "d"].contains(&backend.name.as_str()));
//!
//! // Removing b (a fifth of the weight) moves about a fifth of the flows; mod-N moves most.
//! let without_b = backends.without("b")?;
//! let flows = || synthetic_flows(100_000).map(|f| f.hash());
//! let maglev_moved = remap(&maglev, &Maglev::new(&without_b, TableSize::DEFAULT)?, flows());
//! let mod_n_moved = remap(&ModN::new(&backends), &ModN::new(&without_b), flows());
//! assert!(maglev_moved.fraction() < 0.25 && mod_n_moved.fraction() > 0.5);
//!
//! // IPVS's weighted round robin: weights 4, 3, 2 give a a b a b c a b c.
//! let mut wrr = Scheduler::new(Algorithm::WeightedRoundRobin, &Backends::parse("a:4,b:3,c:2")?)?;
//! let picks: Vec<u32> = (0..9).filter_map(|_| wrr.pick(&flow)).map(|id| id.0).collect();
//! assert_eq!(picks, [0, 0, 1, 0, 1, 2, 0, 1, 2]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The crate performs no IO, reads no clock and draws no random numbers: it never touches a
//! socket or the kernel's IPVS tables, and its hashes are keyed SipHash-2-4 with fixed keys,
//! never `std`'s per-process `RandomState`.
//! Schedulers follow IPVS where it documents its behaviour; the differences are listed on
//! [`Algorithm`]'s variants and [`Scheduler::pick`].

#![forbid(unsafe_code)]
#![deny(missing_docs)]

// The README's Rust examples run as doc tests, so they cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod backend;
pub use backend::{Backend, Backends, MAX_WEIGHT};
mod error;
pub use error::{ConnectionState, LbError};
mod flow;
pub use flow::{FlowKey, Protocol, synthetic_flows};
mod hash;
mod maglev;
pub use maglev::{Balance, Maglev, TableSize};
mod remap;
pub use remap::{Lookup, ModN, Remap, remap};
mod scheduler;
pub use scheduler::{Algorithm, BackendId, Destination, SH_BUCKETS, Scheduler};
