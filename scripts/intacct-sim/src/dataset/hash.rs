//! Counter-based randomness: every choice the dataset makes is a pure function of a key
//! (seed, object, record, field, revision), never of a generator's position in a stream.
//!
//! The mixing is SplitMix64's finaliser, written out here so that the output depends on
//! neither the platform nor any crate's version of a hasher.

/// The golden-ratio increment of SplitMix64.
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's finaliser: a bijective avalanche of 64 bits.
pub(crate) const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stable 64-bit name hash (FNV-1a), used to key draws by field or purpose.
pub(crate) const fn salt(name: &str) -> u64 {
    let bytes = name.as_bytes();
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0100_0000_01B3);
        i += 1;
    }
    h
}

/// A short stream of random numbers derived from a key.
#[derive(Clone, Debug)]
pub(crate) struct Draw {
    state: u64,
}

impl Draw {
    /// The stream keyed by `parts` (order matters).
    pub(crate) fn new(parts: &[u64]) -> Draw {
        let mut state = GOLDEN;
        for &p in parts {
            state = mix(state ^ p).wrapping_add(GOLDEN);
        }
        Draw { state }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix(self.state)
    }

    /// Uniform in `0..n` (`n > 0`), by multiply-shift (no modulo bias worth mentioning).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `p / 1000`.
    pub(crate) fn per_mille(&mut self, p: u64) -> bool {
        self.below(1000) < p
    }

    /// One element of a non-empty slice.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_matches_splitmix64_reference_values() {
        // SplitMix64 seeded with 0 yields these first outputs (reference implementation by
        // Sebastiano Vigna): state += golden; mix(state).
        let mut d = Draw { state: 0 };
        assert_eq!(d.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(d.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(d.next_u64(), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn fnv1a_matches_reference() {
        assert_eq!(salt(""), 0xCBF2_9CE4_8422_2325);
        assert_eq!(salt("a"), 0xAF63_DC4C_8601_EC8C);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut d = Draw::new(&[1, 2, 3]);
        let mut seen = [false; 7];
        for _ in 0..1000 {
            let v = d.below(7);
            assert!(v < 7);
            seen[v as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }
}
