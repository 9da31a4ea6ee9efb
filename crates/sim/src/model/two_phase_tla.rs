//! Gray & Lamport's TwoPhase spec (the TLA+ example TLC and stateright also check), at the TLA+
//! level of abstraction: the message set only grows, a message can be received any number of
//! times, a resource manager can abort without telling anyone, and nothing crashes.
//!
//! A state packs into one `u64`: two bits of transaction-manager state, then four bits per
//! resource manager (its state, whether the TM recorded it prepared, whether its "Prepared"
//! message was sent). The "Commit" and "Abort" messages exist exactly when the TM decided so,
//! so they need no bits of their own.

use super::{Action, Model, Symmetry};

const TM_INIT: u64 = 0;
const TM_COMMITTED: u64 = 1;
const TM_ABORTED: u64 = 2;

const WORKING: u64 = 0;
const PREPARED: u64 = 1;
const COMMITTED: u64 = 2;
const ABORTED: u64 = 3;

/// The TLA+ TwoPhase model with `n` resource managers (1 to 15).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TwoPhaseTla {
    n: u32,
    fairness: Option<TlaFairness>,
}

/// Which TwoPhase actions weak fairness forces, for the "eventually" property `all-decided`
/// (every resource manager ends committed or aborted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlaFairness {
    /// The transaction manager's actions only: it decides, but nothing makes a resource
    /// manager receive the decision, so the property fails.
    TransactionManager,
    /// The transaction manager's actions and the resource managers' receipt of its decision:
    /// the property holds.
    TransactionManagerAndReceipt,
}

/// A TwoPhase state.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TlaState(u64);

impl TwoPhaseTla {
    /// The model with `n` resource managers, clamped to 1..=15 (15 × 4 + 2 bits fit a `u64`).
    pub fn new(n: u32) -> TwoPhaseTla {
        TwoPhaseTla {
            n: n.clamp(1, 15),
            fairness: None,
        }
    }

    /// Adds the "eventually" property `all-decided` under `fairness`.
    pub fn with_liveness(mut self, fairness: TlaFairness) -> TwoPhaseTla {
        self.fairness = Some(fairness);
        self
    }

    /// How many resource managers.
    pub fn n(&self) -> u32 {
        self.n
    }

    /// The orbit representative: resource managers sorted by their four bits.
    pub fn canonical(&self, s: TlaState) -> TlaState {
        let mut rms: Vec<u64> = (0..self.n).map(|i| rm(s.0, i)).collect();
        rms.sort_unstable();
        let mut out = s.0 & 0b11;
        for (i, r) in rms.into_iter().enumerate() {
            out |= r << (2 + 4 * i);
        }
        TlaState(out)
    }
}

fn rm(s: u64, i: u32) -> u64 {
    (s >> (2 + 4 * i)) & 0xf
}

fn with_rm(s: u64, i: u32, v: u64) -> u64 {
    (s & !(0xf << (2 + 4 * i))) | (v << (2 + 4 * i))
}

fn rm_state(r: u64) -> u64 {
    r & 0b11
}

/// SplitMix64's finalizer: a bijection on `u64`, so distinct states keep distinct fingerprints.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl std::fmt::Debug for TlaState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tm = match self.0 & 0b11 {
            TM_INIT => "init",
            TM_COMMITTED => "committed",
            _ => "aborted",
        };
        write!(f, "tm={tm} rms=[")?;
        let mut i = 0;
        while 2 + 4 * i < 64 {
            let r = rm(self.0, i);
            if r == 0 && (self.0 >> (2 + 4 * i)) == 0 {
                break;
            }
            let state = ["working", "prepared", "committed", "aborted"][rm_state(r) as usize];
            let tm_knows = if r & 0b100 != 0 { "+tmPrepared" } else { "" };
            let sent = if r & 0b1000 != 0 { "+msg" } else { "" };
            write!(
                f,
                "{}{state}{tm_knows}{sent}",
                if i > 0 { ", " } else { "" }
            )?;
            i += 1;
        }
        write!(f, "]")
    }
}

impl Model for TwoPhaseTla {
    type State = TlaState;

    fn init(&self, out: &mut Vec<TlaState>) {
        out.push(TlaState(0));
    }

    fn next(&self, state: &TlaState, out: &mut Vec<(TlaState, Action)>) {
        let s = state.0;
        let tm = s & 0b11;
        let act = |name, arg| Action {
            name,
            arg,
            crash_after: None,
        };
        if tm == TM_INIT {
            let all_prepared = (0..self.n).all(|i| rm(s, i) & 0b100 != 0);
            if all_prepared {
                out.push((TlaState((s & !0b11) | TM_COMMITTED), act("TMCommit", None)));
            }
            out.push((TlaState((s & !0b11) | TM_ABORTED), act("TMAbort", None)));
        }
        for i in 0..self.n {
            let r = rm(s, i);
            // TMRcvPrepared(rm): also generated when already recorded (a self-loop, as in TLC).
            if tm == TM_INIT && r & 0b1000 != 0 {
                out.push((
                    TlaState(with_rm(s, i, r | 0b100)),
                    act("TMRcvPrepared", Some(i)),
                ));
            }
            if rm_state(r) == WORKING {
                out.push((
                    TlaState(with_rm(s, i, (r & !0b11) | PREPARED | 0b1000)),
                    act("RMPrepare", Some(i)),
                ));
                out.push((
                    TlaState(with_rm(s, i, (r & !0b11) | ABORTED)),
                    act("RMChooseToAbort", Some(i)),
                ));
            }
            if tm == TM_COMMITTED {
                out.push((
                    TlaState(with_rm(s, i, (r & !0b11) | COMMITTED)),
                    act("RMRcvCommitMsg", Some(i)),
                ));
            }
            if tm == TM_ABORTED {
                out.push((
                    TlaState(with_rm(s, i, (r & !0b11) | ABORTED)),
                    act("RMRcvAbortMsg", Some(i)),
                ));
            }
        }
    }

    fn fingerprint(&self, state: &TlaState, symmetry: Symmetry) -> u64 {
        match symmetry {
            Symmetry::Off => mix(state.0),
            Symmetry::On => mix(self.canonical(*state).0),
        }
    }

    fn violation(&self, state: &TlaState) -> Option<&'static str> {
        let (mut committed, mut aborted) = (false, false);
        for i in 0..self.n {
            match rm_state(rm(state.0, i)) {
                COMMITTED => committed = true,
                ABORTED => aborted = true,
                _ => {}
            }
        }
        (committed && aborted).then_some("TCConsistent")
    }

    fn reachable(&self, state: &TlaState, found: &mut Vec<&'static str>) {
        let all = |want| (0..self.n).all(|i| rm_state(rm(state.0, i)) == want);
        if all(COMMITTED) {
            found.push("all-committed");
        }
        if all(ABORTED) {
            found.push("all-aborted");
        }
    }

    fn eventually(&self) -> &[&'static str] {
        match self.fairness {
            Some(_) => &["all-decided"],
            None => &[],
        }
    }

    fn achieves(&self, state: &TlaState, _index: usize) -> bool {
        (0..self.n).all(|i| matches!(rm_state(rm(state.0, i)), COMMITTED | ABORTED))
    }

    fn fairness(&self, _state: &TlaState, action: &Action) -> Option<u64> {
        let fair = matches!(
            (self.fairness, action.name),
            (_, "TMCommit" | "TMAbort" | "TMRcvPrepared")
                | (
                    Some(TlaFairness::TransactionManagerAndReceipt),
                    "RMRcvCommitMsg" | "RMRcvAbortMsg"
                )
        );
        // Labels are stable: a name and a resource manager.
        fair.then(|| {
            let mut h = crate::hash::TraceHasher::default();
            std::hash::Hash::hash(action, &mut h);
            std::hash::Hasher::finish(&h)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::model::{CheckerOptions, Order, Verdict, check};

    /// TLC's and stateright's published unique-state counts.
    const PUBLISHED: [(u32, u64); 6] = [
        (2, 56),
        (3, 288),
        (4, 1_568),
        (5, 8_832),
        (6, 50_816),
        (7, 296_448),
    ];

    #[track_caller]
    fn count(n: u32, options: CheckerOptions) -> u64 {
        let report = check(&TwoPhaseTla::new(n), &options);
        assert_eq!(report.verdict, Verdict::Ok);
        report.unique_states
    }

    #[test]
    fn unique_state_counts_match_tlc_in_every_search_order() {
        for (n, expected) in PUBLISHED {
            if n == 7 {
                // The biggest one once, on two threads, to keep debug test runs short.
                let options = CheckerOptions {
                    threads: 2,
                    ..CheckerOptions::default()
                };
                assert_eq!(count(n, options), expected);
                continue;
            }
            for options in [
                CheckerOptions::default(),
                CheckerOptions {
                    order: Order::DepthFirst,
                    ..CheckerOptions::default()
                },
                CheckerOptions {
                    threads: 2,
                    ..CheckerOptions::default()
                },
            ] {
                assert_eq!(count(n, options), expected, "n = {n}, {options:?}");
            }
        }
    }

    #[test]
    fn three_rms_generate_1146_states_at_depth_11() {
        let report = check(&TwoPhaseTla::new(3), &CheckerOptions::default());
        assert_eq!((report.states, report.max_depth), (1_146, 11));
    }

    /// Symmetry reduction is exact: its count equals the number of distinct canonical forms of
    /// every reachable state, computed here without it, in both search orders.
    #[test]
    fn symmetry_reduction_counts_exactly_the_orbits() {
        for n in 2..=6 {
            let model = TwoPhaseTla::new(n);
            let mut all = BTreeSet::new();
            let mut stack = vec![TlaState(0)];
            let mut out = Vec::new();
            while let Some(s) = stack.pop() {
                if !all.insert(s.0) {
                    continue;
                }
                out.clear();
                model.next(&s, &mut out);
                stack.extend(out.drain(..).map(|(t, _)| t));
            }
            let orbits: BTreeSet<u64> = all
                .iter()
                .map(|s| model.canonical(TlaState(*s)).0)
                .collect();
            for order in [Order::BreadthFirst, Order::DepthFirst] {
                let options = CheckerOptions {
                    order,
                    symmetry: Symmetry::On,
                    ..CheckerOptions::default()
                };
                assert_eq!(count(n, options), orbits.len() as u64, "n = {n}, {order:?}");
            }
        }
    }

    #[test]
    fn commit_and_abort_are_both_reachable_with_shortest_witnesses() {
        let report = check(&TwoPhaseTla::new(3), &CheckerOptions::default());
        let found: Vec<(&str, usize)> = report
            .discoveries
            .iter()
            .map(|d| (d.property, d.actions.len()))
            .collect();
        // Each RM aborts on its own: 3 steps. Every RM prepares, the TM records each and
        // commits, each RM receives it: 3 + 3 + 1 + 3 = 10 steps.
        assert!(found.contains(&("all-aborted", 3)), "{found:?}");
        assert!(found.contains(&("all-committed", 10)), "{found:?}");
    }

    #[test]
    fn limits_truncate_the_search() {
        let report = check(
            &TwoPhaseTla::new(4),
            &CheckerOptions {
                max_depth: 3,
                ..CheckerOptions::default()
            },
        );
        assert!(report.truncated);
        assert_eq!(report.max_depth, 3);
        assert!(report.unique_states < 1_568);
    }
}

#[cfg(test)]
mod fingerprint_tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Fingerprints are a bijection of the packed state (no two states collide), and
        /// symmetric states share the fingerprint of their orbit.
        #[test]
        fn fingerprints_are_exact_and_symmetric(a in 0u64..(1 << 22), b in 0u64..(1 << 22)) {
            let m = TwoPhaseTla::new(5);
            let (sa, sb) = (TlaState(a), TlaState(b));
            prop_assert_eq!(
                m.fingerprint(&sa, Symmetry::Off) == m.fingerprint(&sb, Symmetry::Off),
                a == b
            );
            // Swap resource managers 0 and 1: same orbit.
            let swapped = with_rm(with_rm(a, 0, rm(a, 1)), 1, rm(a, 0));
            prop_assert_eq!(
                m.fingerprint(&sa, Symmetry::On),
                m.fingerprint(&TlaState(swapped), Symmetry::On)
            );
        }
    }

    /// Pinned values: fingerprints must not change between runs or platforms (they are plain
    /// integer arithmetic, checked natively and in the WASM determinism check).
    #[test]
    fn fingerprints_are_pinned() {
        let m = TwoPhaseTla::new(3);
        assert_eq!(m.fingerprint(&TlaState(0), Symmetry::Off), 0);
        assert_eq!(m.fingerprint(&TlaState(0b1001_0110), Symmetry::Off), PINNED);
    }

    const PINNED: u64 = 3_775_569_054_957_595_571;
}
