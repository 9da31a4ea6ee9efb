//! The simulator's only source of randomness: ChaCha8 streams derived from the run's seed, so a
//! run draws the same numbers on every platform (natively and in WASM).

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// Independent random streams of one run. Each concern draws from its own stream, so adding a
/// fault does not shift the network's latencies and shrinking stays meaningful.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stream {
    /// Latency, loss and duplication.
    Network = 1,
    /// Client requests and their local outcomes.
    Workload = 2,
    /// Random fault schedules of `explore`.
    Faults = 3,
}

/// A seeded, portable random number generator (ChaCha8), handed to protocols for workloads.
#[derive(Clone, Debug)]
pub struct SimRng(ChaCha8Rng);

impl SimRng {
    pub(crate) fn new(seed: u64, stream: Stream) -> SimRng {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream as u64);
        SimRng(rng)
    }

    /// A uniform number in `0..n` (0 when `n` is 0), without modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        if n <= 1 {
            return 0;
        }
        // Rejection sampling: draw again when the draw falls in the biased tail.
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let x = self.0.next_u64();
            if x < zone {
                return x % n;
            }
        }
    }

    /// A uniform number in `min..=max`.
    pub fn range(&mut self, min: u64, max: u64) -> u64 {
        if max <= min {
            return min;
        }
        match (max - min).checked_add(1) {
            Some(width) => min + self.below(width),
            // The full u64 range: every draw is in it.
            None => self.0.next_u64(),
        }
    }

    /// True with probability `per_mille / 1000`; draws nothing when the answer is certain.
    pub fn chance(&mut self, per_mille: u32) -> bool {
        match per_mille {
            0 => false,
            1000.. => true,
            p => self.below(1000) < u64::from(p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_independent() {
        let draw = |seed, stream| {
            let mut r = SimRng::new(seed, stream);
            (0..8).map(|_| r.below(1000)).collect::<Vec<_>>()
        };
        assert_eq!(draw(7, Stream::Network), draw(7, Stream::Network));
        assert_ne!(draw(7, Stream::Network), draw(7, Stream::Workload));
        assert_ne!(draw(7, Stream::Network), draw(8, Stream::Network));
    }

    #[test]
    fn the_first_draws_of_seed_one_are_pinned() {
        // Pinned so a change of generator or sampling, which would break every saved link and
        // trace hash, cannot pass unnoticed.
        let mut r = SimRng::new(1, Stream::Network);
        let got: Vec<u64> = (0..4).map(|_| r.below(100)).collect();
        assert_eq!(got, PINNED);
    }

    const PINNED: [u64; 4] = [95, 34, 10, 47];

    proptest::proptest! {
        #[test]
        fn range_stays_in_bounds(seed: u64, min in 0u64..1000, width in 0u64..1000) {
            let mut r = SimRng::new(seed, Stream::Faults);
            let x = r.range(min, min + width);
            proptest::prop_assert!((min..=min + width).contains(&x));
        }
    }
}
