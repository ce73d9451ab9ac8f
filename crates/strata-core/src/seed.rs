//! Deterministic seeding.
//!
//! A [`Seed`] is a 64-bit value. Work that needs several independent random
//! streams (restarts, folds, bootstrap resamples) derives a child seed for each
//! stream from its *index*, never from the order in which threads pick work up,
//! so the same seed gives the same numbers with 1 thread or 64.

use serde::{Deserialize, Serialize};

/// The root of all randomness in an estimator or an experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Seed(pub u64);

/// A seed is read as a whole number of 0 or more; anything else is refused
/// with what a seed is (`seed = -1` in a manifest reads "invalid value:
/// integer `-1`, expected a seed: a whole number, 0 or more", not serde's
/// "expected u64").
impl<'de> Deserialize<'de> for Seed {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Whole;
        impl serde::de::Visitor<'_> for Whole {
            type Value = Seed;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a seed: a whole number, 0 or more")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Seed, E> {
                Ok(Seed(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Seed, E> {
                u64::try_from(v)
                    .map(Seed)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(v), &self))
            }
        }
        d.deserialize_u64(Whole)
    }
}

impl Seed {
    /// Wraps a raw seed.
    pub const fn new(value: u64) -> Self {
        Seed(value)
    }

    /// The raw 64-bit value, for seeding a random number generator.
    pub const fn value(self) -> u64 {
        self.0
    }

    /// The seed of stream `index` below this one (restart `i`, fold `i`, ...).
    ///
    /// Children of different indices are statistically independent and children
    /// of the same index are equal; `child(i).child(j)` differs from
    /// `child(j).child(i)`.
    pub fn child(self, index: u64) -> Seed {
        // Two rounds of SplitMix64 over (seed, index): a bijective, well mixed
        // function, so neighbouring indices give unrelated seeds.
        let a = splitmix64(self.0 ^ 0x5DEE_CE66_D1CE_4E5B);
        Seed(splitmix64(a.wrapping_add(splitmix64(
            index.wrapping_add(0x9E37_79B9_7F4A_7C15),
        ))))
    }

    /// The seed of a named stream below this one ("kmeans", "folds", ...).
    pub fn named(self, label: &str) -> Seed {
        // FNV-1a of the label, then mixed like an index.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in label.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.child(h)
    }
}

impl Default for Seed {
    fn default() -> Self {
        Seed(42)
    }
}

impl From<u64> for Seed {
    fn from(value: u64) -> Self {
        Seed(value)
    }
}

impl std::fmt::Display for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn children_are_reproducible_and_distinct() {
        let s = Seed(7);
        assert_eq!(s.child(3), Seed(7).child(3));
        let kids: HashSet<u64> = (0..10_000).map(|i| s.child(i).value()).collect();
        assert_eq!(kids.len(), 10_000);
        assert_ne!(s.child(1).child(2), s.child(2).child(1));
        assert_ne!(Seed(7).child(0), Seed(8).child(0));
    }

    #[test]
    fn named_streams_differ() {
        let s = Seed(1);
        assert_ne!(s.named("folds"), s.named("kmeans"));
        assert_eq!(s.named("folds"), Seed(1).named("folds"));
    }

    #[test]
    fn a_seed_reads_whole_numbers_of_zero_or_more_and_says_what_it_expects() {
        let read = |t: &str| serde_json::from_str::<Seed>(t);
        assert_eq!(read("0").ok(), Some(Seed(0)));
        assert_eq!(read("42").ok(), Some(Seed(42)));
        assert_eq!(read(&u64::MAX.to_string()).ok(), Some(Seed(u64::MAX)));
        assert_eq!(serde_json::to_string(&Seed(u64::MAX)).ok(), Some(u64::MAX.to_string()));
        for bad in ["-1", "1.5", "\"7\""] {
            let e = read(bad).map(|s| s.value()).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains("expected a seed: a whole number, 0 or more"), "{bad}: {e}");
        }
    }

    #[test]
    fn child_bits_are_balanced() {
        // Each output bit should be set about half the time over many indices.
        let n = 4096u64;
        let mut counts = [0u32; 64];
        for i in 0..n {
            let v = Seed(0).child(i).value();
            for (b, c) in counts.iter_mut().enumerate() {
                *c += ((v >> b) & 1) as u32;
            }
        }
        for c in counts {
            let share = f64::from(c) / n as f64;
            assert!((0.45..0.55).contains(&share), "bit share {share}");
        }
    }
}
