//! Tiny seeded RNG (SplitMix64): stateless seeding per (point, epoch) keeps results thread-count independent.

/// SplitMix64 generator.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    /// Seed derived from several keys (seed, stream ids) by mixing.
    pub(crate) fn from_keys(keys: &[u64]) -> Self {
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        for &k in keys {
            s = mix(s ^ k.wrapping_mul(0xD6E8_FEB8_6659_FD93));
        }
        Self(s)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GAMMA);
        mix(self.0)
    }

    /// Uniform in [0, n) (n > 0); multiply-shift avoids modulo bias well enough for sampling.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// `out.len()` draws of [`Self::below`]`(n)`, the same values in the same order. Each draw
    /// depends only on its position (the state advances by a constant per draw), so the loop
    /// has no carried dependency and vectorises.
    #[inline]
    pub(crate) fn fill_below(&mut self, out: &mut [u32], n: usize) {
        let base = self.0;
        for (t, slot) in out.iter_mut().enumerate() {
            let state = base.wrapping_add(GAMMA.wrapping_mul(t as u64 + 1));
            *slot = (((mix(state) >> 32) * n as u64) >> 32) as u32;
        }
        self.0 = base.wrapping_add(GAMMA.wrapping_mul(out.len() as u64));
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    pub(crate) fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(1e-300);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// SplitMix64's state increment.
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
