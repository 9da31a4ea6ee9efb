//! Each node's local clock: an offset and a rate against the simulator's virtual time, changed
//! by clock faults. Nodes are stepped with their local time and their timers fire when their
//! local clock reaches the deadline.
//!
//! A clock that was never changed reads virtual time exactly, so runs without clock faults are
//! what they were before clocks existed.

use underhood_consensus::Time;

/// One million: drift is in parts per million.
const PPM: i128 = 1_000_000;

/// A node's local clock: it read `local_at_anchor` at virtual time `anchor` and has run at
/// `1 + drift_ppm / 10^6` times virtual time since.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LocalClock {
    anchor: u64,
    local_at_anchor: i64,
    drift_ppm: i64,
}

impl LocalClock {
    /// Whether the clock reads virtual time exactly (it was never changed, or changed back).
    pub(crate) fn is_exact(&self) -> bool {
        self.drift_ppm == 0 && i128::from(self.anchor) == i128::from(self.local_at_anchor)
    }

    /// What the clock reads at virtual time `now` (not before its anchor); it may be negative
    /// after a jump backwards.
    pub(crate) fn read(&self, now: Time) -> i64 {
        let elapsed = i128::from(now.0.saturating_sub(self.anchor));
        let local = i128::from(self.local_at_anchor)
            + (elapsed * (PPM + i128::from(self.drift_ppm))).div_euclid(PPM);
        clamp_i64(local)
    }

    /// The local time the node is stepped with: the reading, never below zero.
    pub(crate) fn local(&self, now: Time) -> Time {
        Time(self.read(now).max(0) as u64)
    }

    /// How far the clock is from virtual time at `now` (positive: ahead).
    pub(crate) fn offset_ms(&self, now: Time) -> i64 {
        clamp_i64(i128::from(self.read(now)) - i128::from(now.0))
    }

    /// The drift in parts per million.
    pub(crate) fn drift_ppm(&self) -> i64 {
        self.drift_ppm
    }

    /// The first virtual time at or after `now` when the clock reads at least `deadline`.
    pub(crate) fn when_reads(&self, now: Time, deadline: u64) -> Time {
        let local_now = i128::from(self.read(now));
        let deadline = i128::from(deadline);
        if deadline <= local_now {
            return now;
        }
        let rate = PPM + i128::from(self.drift_ppm);
        // local(g) >= deadline iff (g - anchor) * rate >= (deadline - local_at_anchor) * PPM.
        let need = deadline - i128::from(self.local_at_anchor);
        let elapsed = (need * PPM + rate - 1).div_euclid(rate);
        let at = i128::from(self.anchor) + elapsed;
        Time(at.clamp(i128::from(now.0), i128::from(u64::MAX)) as u64)
    }

    /// The clock jumps by `offset_ms` at `now`.
    pub(crate) fn jump(&mut self, now: Time, offset_ms: i64) {
        let local = clamp_i64(i128::from(self.read(now)) + i128::from(offset_ms));
        *self = LocalClock {
            anchor: now.0,
            local_at_anchor: local,
            drift_ppm: self.drift_ppm,
        };
    }

    /// The clock runs at `drift_ppm` from `now` on.
    pub(crate) fn set_drift(&mut self, now: Time, drift_ppm: i64) {
        *self = LocalClock {
            anchor: now.0,
            local_at_anchor: self.read(now),
            drift_ppm,
        };
    }
}

fn clamp_i64(v: i128) -> i64 {
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_unchanged_clock_reads_virtual_time() {
        let c = LocalClock::default();
        assert!(c.is_exact());
        assert_eq!(c.local(Time(1234)), Time(1234));
        assert_eq!(c.when_reads(Time(10), 25), Time(25));
    }

    #[test]
    fn a_slow_clock_fires_timers_late_and_a_jump_moves_the_reading() {
        let mut c = LocalClock::default();
        c.set_drift(Time(1000), -100_000);
        assert_eq!(c.local(Time(2000)), Time(1900));
        assert_eq!(c.when_reads(Time(2000), 2800), Time(3000));
        c.jump(Time(3000), -500);
        assert_eq!(c.local(Time(3000)), Time(2300));
        assert_eq!(c.offset_ms(Time(3000)), -700);
        assert!(!c.is_exact());
    }

    proptest! {
        /// The virtual time `when_reads` returns is the first at which the clock reaches the
        /// deadline, for any drift and jump within the scenario limits.
        #[test]
        fn when_reads_is_the_first_instant_the_clock_reaches_the_deadline(
            drift in -500_000i64..=500_000,
            jump in -10_000i64..10_000,
            anchor in 0u64..10_000,
            wait in 0u64..100_000,
        ) {
            let mut c = LocalClock::default();
            c.set_drift(Time(anchor), drift);
            c.jump(Time(anchor), jump);
            let now = Time(anchor);
            let deadline = c.local(now).0 + wait;
            let at = c.when_reads(now, deadline);
            prop_assert!(c.read(at) >= deadline as i64);
            prop_assert!(at == now || c.read(Time(at.0 - 1)) < deadline as i64);
        }
    }
}
