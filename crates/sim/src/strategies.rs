//! Proptest strategies for the simulator's inputs (feature `proptest`): networks, workloads and
//! fault schedules, so a downstream test can let proptest pick the chaos and shrink it.
//!
//! ```
//! use proptest::prelude::*;
//! use underhood_sim::strategies;
//!
//! proptest!(|(faults in strategies::fault_schedule(5, 1_000, &["prepare", "commit"]))| {
//!     prop_assert!(faults.len() <= 8);
//! });
//! ```

use proptest::prelude::*;

use crate::scenario::{Fault, Latency, Network, Ordering, Pattern, When, Workload};

/// Networks from calm to stormy: latency up to 50 ms, loss and duplication up to 30 %.
pub fn network() -> impl Strategy<Value = Network> {
    (0u64..20, 0u64..30, 0u32..300, 0u32..300, any::<bool>()).prop_map(
        |(min, spread, loss, dup, fifo)| Network {
            latency_ms: Latency {
                min,
                max: min + spread,
            },
            loss_per_mille: loss,
            duplicate_per_mille: dup,
            ordering: if fifo { Ordering::Fifo } else { Ordering::Any },
            links: Vec::new(),
        },
    )
}

/// Workloads of 1 to 50 operations (transactions) from 1 to 4 clients over 1 to 4 keys.
pub fn workload() -> impl Strategy<Value = Workload> {
    (
        1u64..50,
        0u64..100,
        1u64..100,
        1u32..5,
        1u32..5,
        0u32..1000,
        0u32..300,
    )
        .prop_map(
            |(transactions, start_ms, interval_ms, clients, keys, read_per_mille, conflict)| {
                Workload {
                    transactions,
                    start_ms,
                    interval_ms,
                    clients,
                    keys,
                    read_per_mille,
                    conflict_per_mille: conflict,
                    ..Workload::default()
                }
            },
        )
}

/// Up to eight faults for a cluster of `nodes`, timed within `horizon_ms`; rules match the given
/// message `kinds` (or any kind when `kinds` is empty).
pub fn fault_schedule(
    nodes: u32,
    horizon_ms: u64,
    kinds: &'static [&'static str],
) -> impl Strategy<Value = Vec<Fault>> {
    prop::collection::vec(fault(nodes.max(1), horizon_ms.max(1), kinds), 0..=8)
}

/// One fault of any type.
pub fn fault(
    nodes: u32,
    horizon_ms: u64,
    kinds: &'static [&'static str],
) -> impl Strategy<Value = Fault> {
    let at = move || {
        (0..horizon_ms).prop_map(|t| When {
            at_ms: Some(t),
            after_event: None,
        })
    };
    let node = move || 0..nodes;
    let pattern = move || {
        (
            prop::option::of(prop::sample::select(if kinds.is_empty() {
                vec![""]
            } else {
                kinds.to_vec()
            })),
            prop::option::of(0..nodes),
            1u64..4,
            1u64..4,
        )
            .prop_map(|(kind, to, nth, count)| Pattern {
                kind: kind.filter(|k| !k.is_empty()).map(str::to_owned),
                from: None,
                to,
                nth,
                count,
            })
    };
    prop_oneof![
        (node(), any::<bool>(), at()).prop_map(|(node, lose_unsynced, when)| Fault::Crash {
            node,
            lose_unsynced,
            when
        }),
        (node(), at()).prop_map(|(node, when)| Fault::Restart { node, when }),
        (prop::collection::vec(node(), 1..3), at()).prop_map(|(mut side, when)| {
            side.sort_unstable();
            side.dedup();
            Fault::Partition {
                groups: vec![side],
                when,
            }
        }),
        at().prop_map(|when| Fault::Heal { when }),
        pattern().prop_map(|pattern| Fault::Drop { pattern }),
        (pattern(), 1u64..300).prop_map(|(pattern, extra_ms)| Fault::Delay { pattern, extra_ms }),
        (node(), pattern(), any::<bool>()).prop_map(|(node, pattern, lose_unsynced)| {
            Fault::CrashAfterSend {
                node,
                pattern,
                lose_unsynced,
            }
        }),
    ]
}
