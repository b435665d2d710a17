//! The deterministic random source behind every seeded value.
//!
//! Each row draws from its own stream keyed by `(seed, stream, index)`, so a
//! row never depends on the rows generated before it: any row can be
//! regenerated on its own (tests predicting values, drift inserting rows
//! beyond the base count, producers running in any order). splitmix64 is
//! tiny, fast and statistically good enough for fixture data; it is not a
//! cryptographic generator and needs not be.

/// One row's random stream.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

/// The splitmix64 finaliser: a bijective 64-bit mix.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    /// The stream for row `index` of `stream` (a per-table/per-purpose tag)
    /// under `seed`.
    #[inline]
    pub fn new(seed: u64, stream: u64, index: u64) -> Rng {
        let s = mix64(seed ^ 0x6a09_e667_f3bc_c908);
        let s = mix64(s ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let s = mix64(s ^ index);
        Rng { state: s }
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(self.state)
    }

    /// Uniform in `0..n` (`n > 0`), by 128-bit multiply (no modulo bias worth
    /// mentioning at fixture sizes).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    #[inline]
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        debug_assert!(lo <= hi);
        lo + self.below((hi - lo) as u64 + 1) as i64
    }

    /// Uniform in `[0, 1)`.
    #[inline]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`.
    #[inline]
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One element of a non-empty slice.
    #[inline]
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A version-4 uuid, lowercase and hyphenated.
    pub fn uuid_v4(&mut self) -> String {
        let hi = (self.next_u64() & 0xffff_ffff_ffff_0fff) | 0x4000;
        let lo = (self.next_u64() & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            hi >> 32,
            (hi >> 16) & 0xffff,
            hi & 0xffff,
            lo >> 48,
            lo & 0xffff_ffff_ffff
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_independent() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(1, 2, 3).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rng::new(1, 2, 3).next_u64(), Rng::new(1, 2, 4).next_u64());
        assert_ne!(Rng::new(1, 2, 3).next_u64(), Rng::new(1, 3, 3).next_u64());
        assert_ne!(Rng::new(1, 2, 3).next_u64(), Rng::new(2, 2, 3).next_u64());
    }

    #[test]
    fn uuids_are_version_4() {
        // Pinned: bike ids are these uuids, so a change reseeds every bike.
        let u = Rng::new(1, 1, 1).uuid_v4();
        assert_eq!(u, "461149d2-913a-47fa-90f9-de3074fff898");
        assert_eq!((&u[14..15], &u[19..20]), ("4", "9"));
    }

    #[test]
    fn bounded_draws_stay_in_range() {
        let mut r = Rng::new(7, 7, 7);
        for _ in 0..10_000 {
            assert!(r.below(3) < 3);
            let x = r.range(-5, 5);
            assert!((-5..=5).contains(&x));
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
        }
    }
}
