//! A tiny seeded PRNG (SplitMix64).
//!
//! The engine needs randomness in two places only (retransmit-request jitter
//! and the per-peer ACK trigger, docs/protocol.md §6.4/§6.6) and the simulator needs
//! it for loss and delay. Both must be reproducible from a seed so that a
//! failing simulation can be replayed exactly; cryptographic quality is not
//! needed, so no external crate is pulled in.

/// SplitMix64: fast, full-period, good enough statistical quality.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator seeded with `seed` (any value, 0 included).
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform value in `lo..=hi` (returns `lo` when `hi <= lo`).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        let span = hi - lo;
        if span == u64::MAX {
            return self.next_u64();
        }
        lo + self.next_u64() % (span + 1)
    }

    /// True with probability `p` (clamped to `0.0..=1.0`).
    pub fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        // 53 random bits give a uniform f64 in [0, 1).
        let x = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        x < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_ranges_hold() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mut seen = [false; 201];
        for _ in 0..10_000 {
            let v = a.range(50, 250);
            assert!((50..=250).contains(&v));
            seen[(v - 50) as usize] = true;
        }
        assert!(
            seen.iter().all(|s| *s),
            "every value of the range is reachable"
        );
        assert_eq!(a.range(9, 3), 9);
        assert!(!a.chance(0.0));
        assert!(a.chance(1.0));
    }
}
