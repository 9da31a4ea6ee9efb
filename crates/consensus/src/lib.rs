//! Sans-IO protocol state machines for distributed commit and agreement.
//! Every node is a deterministic function from inputs (a message, a timer, a client request, or its
//! durable log at recovery) to [`Effect`]s that the caller carries out in order.
//!
//! # Example
//!
//! A coordinator and one participant commit a transaction; the test drives the messages by hand,
//! which is exactly what `underhood-sim` does with latency, loss and crashes added.
//!
//! ```
//! use underhood_consensus::two_phase::{Config, Msg, Node, Outcome, Request, Work};
//! use underhood_consensus::{Effect, Input, NodeId, Time, TxId};
//!
//! let config = Config::default();
//! let coordinator_id = NodeId(0);
//! let participant_id = NodeId(1);
//! let mut coordinator = Node::coordinator(coordinator_id, config);
//! let mut participant = Node::participant(participant_id, coordinator_id, config);
//!
//! let mut out = Vec::new();
//! let begin = Request::Begin { tx: TxId(7), work: vec![(participant_id, Work::Ready)] };
//! coordinator.step(Time(0), Input::Request(begin), &mut out);
//! // Relay every message between the two nodes until nothing is left to send.
//! let mut inbox: Vec<(NodeId, NodeId, Msg)> = Vec::new();
//! let mut decided = Vec::new();
//! loop {
//!     for effect in out.drain(..) {
//!         match effect {
//!             Effect::Send { to, msg } => inbox.push((to, NodeId(u32::MAX), msg)),
//!             Effect::Output(o) => decided.push(o),
//!             Effect::SetTimer { .. } | Effect::Persist { .. } => {}
//!         }
//!     }
//!     let Some((to, _, msg)) = inbox.pop() else { break };
//!     let from = if to == coordinator_id { participant_id } else { coordinator_id };
//!     let node = if to == coordinator_id { &mut coordinator } else { &mut participant };
//!     node.step(Time(1), Input::Msg { from, msg }, &mut out);
//! }
//! assert_eq!(participant.outcome(TxId(7)), Some(Outcome::Commit));
//! assert_eq!(coordinator.outcome(TxId(7)), Some(Outcome::Commit));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What this crate refuses to do
//!
//! `consensus` performs no IO, reads no clock, spawns nothing and uses no source of randomness.
//! The one pseudo-random choice, Multi-Paxos's election jitter and back-off, comes from a
//! SplitMix64 generator seeded by [`multi_paxos::Config::seed`] and the replica's id, so every
//! node's effects are a function of its configuration and its inputs.
//! Durability is the caller's job: a [`Effect::Persist`] with [`Durability::Forced`] must be on
//! stable storage before any later effect of the same step is carried out.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

// The README's Rust examples run as doc tests, so they cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod io;
pub use io::{Durability, Effect, Input, NodeId, Time, TxId};

pub mod multi_paxos;
pub mod paxos;
pub mod paxos_commit;
pub mod three_phase;
pub mod two_phase;
pub mod vrrp;
