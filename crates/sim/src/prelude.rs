//! Everything needed to write a protocol and test it: `use underhood_sim::prelude::*;`.
//!
//! The traits ([`Process`], [`Protocol`]), what their signatures name ([`Effect`], [`Input`],
//! [`NodeId`], [`Time`], [`Durability`]), invariants, the two checks ([`check`] and
//! [`check_exhaustive`]) with their options and failures, and the fault and network builders.
//! Messages, timers and log records are [`TraceValue`]s: `impl TraceValue for Msg {}` shows
//! them in traces as their `Debug` text, or derive [`Serialize`] (serde's, re-exported; add
//! `#[serde(crate = "underhood_sim::serde")]`) to show them as JSON.

pub use crate::{
    CheckFailure, CheckOptions, CheckReport, DiskFault, Durability, Effect, Effects,
    ExhaustiveFailure, ExhaustiveOptions, ExhaustiveReport, Fault, Input, Inputs, Invariant,
    Network, NodeId, Pattern, Process, Protocol, SimRng, Time, TraceValue, When, WriteCrash, check,
    check_exhaustive, check_with,
};
pub use serde::Serialize;
