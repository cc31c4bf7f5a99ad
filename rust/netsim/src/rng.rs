//! A small seedable random number generator, so a relay's losses repeat from run to run.

/// SplitMix64 (Steele, Lea, Flood 2014): one 64-bit state, passes BigCrush, and any seed,
/// including 0, gives a good sequence. Not cryptographic; it only decides which packets drop.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// True with probability `ppm` / 1 000 000.
    pub(crate) fn chance_ppm(&mut self, ppm: u32) -> bool {
        // Always draw, even at 0 ppm: the sequence of decisions then depends only on the seed
        // and the number of packets, not on when the loss was switched on.
        (self.next_u64() % 1_000_000) < ppm as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        assert!((0..100).all(|_| a.next_u64() == b.next_u64()));
        assert_ne!(Rng::new(7).next_u64(), Rng::new(8).next_u64());
    }

    #[test]
    fn chance_matches_the_rate() {
        let mut r = Rng::new(1);
        let hits = (0..100_000).filter(|_| r.chance_ppm(100_000)).count();
        assert!((9_000..11_000).contains(&hits), "10 % of 100 000 draws, got {hits}");
        assert!(!(0..1000).any(|_| r.chance_ppm(0)));
        assert!((0..1000).all(|_| r.chance_ppm(1_000_000)));
    }
}
