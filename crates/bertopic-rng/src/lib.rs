//! The one seeded generator of the bertopic workspace: SplitMix64 (Steele, Lea and Flood, 2014).
//!
//! UMAP's sampling (bertopic-reduce), k-means++ seeding (bertopic-cluster), tuning's grid
//! sample and the drift baseline's document sample (bertopic) all draw from it, so one seed
//! gives the same stream on every platform and thread count, and a stream never changes
//! without this crate changing. It is tiny on purpose: the state is one `u64`, a draw is an
//! add and a mix, and a stream can be keyed statelessly ([`SplitMix64::from_keys`]) so that
//! parallel work (one stream per point and epoch) does not depend on scheduling.
//!
//! ```
//! use bertopic_rng::SplitMix64;
//! let mut a = SplitMix64::from_keys(&[42, 7]);
//! let mut b = SplitMix64::from_keys(&[42, 7]);
//! assert_eq!(a.next_u64(), b.next_u64());
//! assert!(a.below(10) < 10);
//! ```

#![warn(missing_docs)]
#![forbid(unsafe_code)]

/// SplitMix64's state increment (the golden ratio's 64-bit fraction).
pub const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function: a bijective mix of one `u64`.
#[inline]
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A SplitMix64 stream.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// The stream whose state starts at `state` (the reference algorithm's seeding).
    #[inline]
    pub fn new(state: u64) -> Self {
        Self(state)
    }

    /// The current state: `SplitMix64::new(r.state())` continues `r`'s stream (a model that
    /// is fitted in several calls saves it between them).
    #[inline]
    pub fn state(&self) -> u64 {
        self.0
    }

    /// A stream keyed by several values (seed, stream ids) mixed together, so streams for
    /// different keys are unrelated.
    #[inline]
    pub fn from_keys(keys: &[u64]) -> Self {
        let mut s = GAMMA;
        for &k in keys {
            s = mix(s ^ k.wrapping_mul(0xD6E8_FEB8_6659_FD93));
        }
        Self(s)
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GAMMA);
        mix(self.0)
    }

    /// Uniform in [0, n) (n > 0); multiply-shift avoids modulo bias well enough for sampling.
    #[inline]
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// `out.len()` draws of [`Self::below`]`(n)`, the same values in the same order. Each draw
    /// depends only on its position (the state advances by a constant per draw), so the loop
    /// has no carried dependency and vectorises.
    #[inline]
    pub fn fill_below(&mut self, out: &mut [u32], n: usize) {
        let base = self.0;
        for (t, slot) in out.iter_mut().enumerate() {
            let state = base.wrapping_add(GAMMA.wrapping_mul(t as u64 + 1));
            *slot = (((mix(state) >> 32) * n as u64) >> 32) as u32;
        }
        self.0 = base.wrapping_add(GAMMA.wrapping_mul(out.len() as u64));
    }

    /// Uniform in [0, 1) (53 bits).
    #[inline]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    #[inline]
    pub fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(1e-300);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Shuffles `v` in place (Fisher–Yates from the last element down, `j = draw % (i + 1)`).
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }

    /// `min(k, n)` distinct values of `0..n`, in ascending order (partial Fisher–Yates from the
    /// first element up, `j = i + draw % (n − i)`; one draw per value).
    pub fn sample_sorted(&mut self, n: usize, k: usize) -> Vec<usize> {
        let mut v: Vec<usize> = (0..n).collect();
        let k = k.min(n);
        for i in 0..k {
            let j = i + (self.next_u64() % (n - i) as u64) as usize;
            v.swap(i, j);
        }
        v.truncate(k);
        v.sort_unstable();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference implementation's first outputs for state 0 (Vigna's splitmix64.c).
    #[test]
    fn matches_the_reference_stream() {
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(r.next_u64(), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn fill_below_equals_repeated_below() {
        let mut a = SplitMix64::from_keys(&[9, 1, 2]);
        let mut b = a.clone();
        let mut out = [0u32; 37];
        a.fill_below(&mut out, 1000);
        let want: Vec<u32> = (0..37).map(|_| b.below(1000) as u32).collect();
        assert_eq!(out.to_vec(), want);
        assert_eq!(
            a.next_u64(),
            b.next_u64(),
            "both streams end in the same state"
        );
    }

    #[test]
    fn samples_and_shuffles_are_permutations() {
        let mut r = SplitMix64::new(5);
        let s = r.sample_sorted(50, 10);
        assert_eq!(s.len(), 10);
        assert!(s.windows(2).all(|w| w[0] < w[1]) && s[9] < 50);
        assert_eq!(r.sample_sorted(3, 10), vec![0, 1, 2]);
        let mut v: Vec<usize> = (0..20).collect();
        r.shuffle(&mut v);
        assert_ne!(v, (0..20).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..20).collect::<Vec<_>>());
    }
}
