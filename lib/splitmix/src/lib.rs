//! SplitMix64 (Steele, Lea and Flood; the seeding generator of
//! `java.util.SplittableRandom` and xoshiro): a tiny deterministic random
//! generator, good enough to spread test inputs and fast on any target.
//!
//! Abide's tests, fuzzers and crash loops print their seed so a failure
//! replays; they all draw from this one generator, and the kernel's disk
//! test and the host check of it fill blocks with [`mix`], so both sides
//! agree on every word. Its output for a seed is fixed (the crate's tests
//! pin it): recorded seeds and figures depend on it.
#![no_std]

/// The golden-ratio increment, 2^64 / φ rounded to odd: SplitMix64's step,
/// and a good multiplier for spreading small integers over 64 bits.
pub const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// SplitMix64's output function of its state, after one [`GAMMA`] step: a
/// fixed, well-mixed function of `x`. `mix(x)` is the first draw of
/// `SplitMix64::new(x)`.
pub fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(GAMMA);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The generator: 64 bits of state, one [`GAMMA`] step a draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// The generator whose draws `seed` fixes.
    pub const fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        let drawn = mix(self.state);
        self.state = self.state.wrapping_add(GAMMA);
        drawn
    }

    /// A number below `bound` (the next draw modulo it; 0 when `bound` is
    /// 0). It takes one draw whatever `bound` is.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}
