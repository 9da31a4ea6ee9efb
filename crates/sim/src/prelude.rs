//! Everything needed to write a protocol and test it: `use underhood_sim::prelude::*;`.
//!
//! The traits ([`Process`], [`Protocol`]), what their signatures name ([`Effect`], [`Input`],
//! [`NodeId`], [`Time`], [`Durability`]), invariants, the two checks ([`check`] and
//! [`check_exhaustive`]) with their options and failures, and the fault and network builders.
//! [`Serialize`] is serde's, re-exported: messages and log records derive it (with
//! `#[serde(crate = "underhood_sim::serde")]`) so traces and replays can show them.

pub use crate::{
    CheckFailure, CheckOptions, CheckReport, DiskFault, Durability, Effect, Effects,
    ExhaustiveFailure, ExhaustiveOptions, ExhaustiveReport, Fault, Input, Inputs, Invariant,
    Network, NodeId, Pattern, Process, Protocol, SimRng, Time, When, WriteCrash, check,
    check_exhaustive, check_with,
};
pub use serde::Serialize;
