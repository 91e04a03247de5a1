//! Layout optimisation: the edge sampling schedule, the SGD epochs with negative sampling in
//! umap-learn's sequential semantics (fit: one thread; transform: new points in parallel, each
//! sequential; both thread-count independent), and the fast pow approximation the gradients use.

use rayon::prelude::*;

use super::fuzzy::Csr;
use crate::rng::SplitMix64;

/// x^b for x > 0 via fast log2/exp2 approximations (relative error ~1e-4): the SGD's hot spot,
/// where libm's ln/exp dominated the run time.
#[inline]
pub(super) fn fast_pow(x: f32, b: f32) -> f32 {
    fast_exp2(b * fast_log2(x))
}

#[inline]
fn fast_log2(x: f32) -> f32 {
    let bits = x.to_bits();
    let e = ((bits >> 23) & 0xff) as i32 - 127;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000); // [1, 2)
                                                                // ln m = 2 atanh(s), s = (m-1)/(m+1) ≤ 1/3: the odd series converges fast.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let ln_m =
        2.0 * s * (1.0 + s2 * (1.0 / 3.0 + s2 * (0.2 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0)))));
    e as f32 + ln_m * std::f32::consts::LOG2_E
}

#[inline]
fn fast_exp2(x: f32) -> f32 {
    let x = x.clamp(-126.0, 126.0);
    // floor(x) without float→int `as` casts (their saturating NaN semantics stop vectorisation):
    // adding 1.5·2^23 rounds to an integer held in the low mantissa bits.
    const MAGIC: f32 = 12_582_912.0;
    let mut fl = (x + MAGIC) - MAGIC;
    if fl > x {
        fl -= 1.0;
    }
    let f = x - fl;
    let fl_i = (fl + MAGIC).to_bits() as i32 - MAGIC.to_bits() as i32;
    // Polynomial for 2^f on [0, 1).
    let p = 1.0
        + f * (std::f32::consts::LN_2
            + f * (0.240_226_5
                + f * (0.055_504_11 + f * (0.009_618_13 + f * (0.001_333_55 + f * 0.000_154_03)))));
    f32::from_bits(((fl_i + 127) as u32) << 23) * p
}

#[inline]
pub(super) fn clip(x: f32) -> f32 {
    x.clamp(-4.0, 4.0)
}

/// Edges of one head row prepared for SGD: (tail, epochs_per_sample).
pub(super) struct Sched {
    indptr: Vec<usize>,
    pub(super) tails: Vec<u32>,
    pub(super) inv_eps: Vec<f32>,
}

impl Sched {
    /// The head row of every edge, in edge order.
    pub(super) fn heads(&self) -> Vec<u32> {
        let mut h = Vec::with_capacity(self.tails.len());
        for (i, w) in self.indptr.windows(2).enumerate() {
            h.resize(h.len() + (w[1] - w[0]), i as u32);
        }
        h
    }
}

/// Keep edges with weight ≥ max/n_epochs; epochs_per_sample = max / weight.
pub(super) fn schedule(g: &Csr, n_rows: usize, n_epochs: usize) -> Sched {
    let wmax = g.weights.iter().copied().fold(0.0f32, f32::max);
    let mut indptr = vec![0usize; n_rows + 1];
    let mut tails = Vec::new();
    let mut eps = Vec::new();
    for i in 0..n_rows {
        for e in g.indptr[i]..g.indptr[i + 1] {
            let w = g.weights[e];
            if wmax > 0.0 && w >= wmax / n_epochs as f32 && w > 0.0 {
                tails.push(g.indices[e]);
                eps.push(w / wmax);
            }
        }
        indptr[i + 1] = tails.len();
    }
    Sched {
        indptr,
        tails,
        inv_eps: eps,
    }
}

/// Per-edge sampling state, in f64 like umap-learn's accumulators (f32 running sums would move
/// some samples across epoch boundaries).
struct EdgeClock {
    /// Epochs between two samples of the edge (n_epochs / expected samples).
    eps: f64,
    /// The edge is sampled in the first epoch ≥ this.
    next_pos: f64,
    /// Negatives are owed for the epochs up to now past this.
    next_neg: f64,
}

impl EdgeClock {
    fn new(inv_eps: f32, n_epochs: usize, rate: f64) -> Self {
        // umap-learn: epochs_per_sample = n_epochs / (n_epochs · w / w_max), the product in f32.
        let eps = n_epochs as f64 / f64::from(n_epochs as f32 * inv_eps);
        Self {
            eps,
            next_pos: eps,
            next_neg: eps / rate,
        }
    }

    /// Whether the edge is sampled in epoch `now`; if so, advances the clock and returns how
    /// many negative samples go with it (owed at `rate` per epoch of sampling interval, the
    /// count truncated, so it varies from sample to sample).
    #[inline]
    fn tick(&mut self, now: f64, rate: f64) -> Option<usize> {
        if self.next_pos > now {
            return None;
        }
        self.next_pos += self.eps;
        if rate <= 0.0 {
            return Some(0);
        }
        let per = self.eps / rate;
        let n_neg = ((now - self.next_neg) / per).max(0.0) as usize;
        self.next_neg += n_neg as f64 * per;
        Some(n_neg)
    }
}

/// Step size of epoch `epoch`: umap-learn lowers it after each epoch, from `lr` after epoch 0
/// (in which no edge is due yet).
#[inline]
fn step(lr: f32, epoch: usize, n_epochs: usize) -> f32 {
    lr * (1.0 - epoch.saturating_sub(1) as f32 / n_epochs as f32)
}

/// Squared distance.
#[inline(always)]
fn dist2(p: &[f32], q: &[f32]) -> f32 {
    let mut d2 = 0.0f32;
    for (x, y) in p.iter().zip(q) {
        let t = x - y;
        d2 += t * t;
    }
    d2
}

/// Gradient coefficients of the attractive (edge) and repulsive (negative) terms at squared
/// distance `d2` > 0, for 1 / (1 + a·d^(2b)).
#[derive(Clone, Copy)]
struct Coef {
    a: f32,
    b: f32,
}

impl Coef {
    #[inline(always)]
    fn attract(self, d2: f32) -> f32 {
        let pb = fast_pow(d2, self.b);
        -2.0 * self.a * self.b * pb / (d2 * (1.0 + self.a * pb))
    }

    #[inline(always)]
    fn repel(self, d2: f32) -> f32 {
        2.0 * self.b / ((0.001 + d2) * (1.0 + self.a * fast_pow(d2, self.b)))
    }
}

/// One negative sample: push `yj` away from `yk` (skipped at distance 0: the point itself or
/// a coincident one, as umap-learn 0.5 does).
#[inline(always)]
fn push_away(yj: &mut [f32], yk: &[f32], c: Coef, alpha: f32) {
    let d2 = dist2(yj, yk);
    if d2 > 0.0 {
        let g = c.repel(d2);
        for (p, q) in yj.iter_mut().zip(yk) {
            *p += clip(g * (*p - *q)) * alpha;
        }
    }
}

/// Fit-time layout optimisation with umap-learn's update semantics (its euclidean SGD with
/// `move_other=True` and `parallel=False`, the path a seeded umap-learn takes):
///
/// - the directed edges of the symmetric graph are visited one after another, row by row, and
///   every move is applied at once, so later samples see earlier moves;
/// - a sampled edge (j, k) moves j by +grad and k by −grad; the graph holds both (j, k) and
///   (k, j), so each undirected edge pulls both endpoints twice per sample;
/// - edge e is first sampled in epoch ⌈eps_e⌉, nothing moves in epoch 0 (see [`step`]);
/// - negatives move only the head (see [`EdgeClock::tick`] and [`push_away`]).
///
/// One thread by construction, so the result does not depend on the thread count; negatives
/// come from one SplitMix64 stream per epoch. Cost: O(n_epochs × edges) sequential steps.
#[allow(clippy::too_many_arguments)]
pub(super) fn optimize_fit(
    y: &mut [f32],
    dim: usize,
    s: &Sched,
    n_epochs: usize,
    a: f32,
    b: f32,
    lr: f32,
    neg_rate: usize,
    seed: u64,
) {
    // Common output sizes get a compile-time dimension (unrolled loops, no bounds checks).
    match dim {
        2 => fit_d::<2>(y, dim, s, n_epochs, Coef { a, b }, lr, neg_rate, seed),
        5 => fit_d::<5>(y, dim, s, n_epochs, Coef { a, b }, lr, neg_rate, seed),
        _ => fit_d::<0>(y, dim, s, n_epochs, Coef { a, b }, lr, neg_rate, seed),
    }
}

/// [`optimize_fit`] body; `D` > 0 fixes the dimension at compile time, 0 uses `dim`.
#[allow(clippy::too_many_arguments)]
fn fit_d<const D: usize>(
    y: &mut [f32],
    dim: usize,
    s: &Sched,
    n_epochs: usize,
    c: Coef,
    lr: f32,
    neg_rate: usize,
    seed: u64,
) {
    let dim = if D > 0 { D } else { dim };
    let n = y.len() / dim;
    if n == 0 || n_epochs == 0 {
        return;
    }
    let rate = neg_rate as f64;
    let mut clocks: Vec<EdgeClock> = s
        .inv_eps
        .iter()
        .map(|&inv| EdgeClock::new(inv, n_epochs, rate))
        .collect();
    let heads = s.heads();
    // The head's coordinates live here while its edge and negatives are processed.
    let mut yj = vec![0.0f32; dim];
    for epoch in 0..n_epochs {
        let alpha = step(lr, epoch, n_epochs);
        let now = epoch as f64;
        let mut rng = SplitMix64::from_keys(&[seed, epoch as u64]);
        for ((clock, &j), &k) in clocks.iter_mut().zip(&heads).zip(&s.tails) {
            let Some(n_neg) = clock.tick(now, rate) else {
                continue;
            };
            let (j, k) = (j as usize, k as usize);
            yj.copy_from_slice(&y[j * dim..(j + 1) * dim]);
            let yk = &mut y[k * dim..(k + 1) * dim];
            let d2 = dist2(&yj, yk);
            if d2 > 0.0 && j != k {
                let g = c.attract(d2);
                for (p, q) in yj.iter_mut().zip(yk.iter_mut()) {
                    let gd = clip(g * (*p - *q));
                    *p += gd * alpha;
                    *q -= gd * alpha;
                }
            }
            for _ in 0..n_neg {
                let k = rng.below(n);
                // The head itself is at distance 0 (and its stored row is stale here).
                if k != j {
                    push_away(&mut yj, &y[k * dim..(k + 1) * dim], c, alpha);
                }
            }
            y[j * dim..(j + 1) * dim].copy_from_slice(&yj);
        }
    }
}

/// Transform-time layout optimisation: new points (`heads`, m × dim) against the fixed training
/// embedding `tails`. umap-learn's semantics with `move_other=False`: each new point runs
/// through its sampled edges and their negatives one after another, the training points never
/// move. New points do not interact, so they run in parallel, each with its own seeded stream:
/// the result does not depend on the thread count.
#[allow(clippy::too_many_arguments)]
pub(super) fn optimize_transform(
    heads: &mut [f32],
    tails: &[f32],
    dim: usize,
    s: &Sched,
    n_epochs: usize,
    a: f32,
    b: f32,
    lr: f32,
    neg_rate: usize,
    seed: u64,
) {
    let n_tail = tails.len() / dim;
    if dim == 0 || n_tail == 0 || n_epochs == 0 {
        return;
    }
    let c = Coef { a, b };
    let rate = neg_rate as f64;
    heads.par_chunks_mut(dim).enumerate().for_each(|(i, yi)| {
        let edges = s.indptr[i]..s.indptr[i + 1];
        let mut clocks: Vec<EdgeClock> = s.inv_eps[edges.clone()]
            .iter()
            .map(|&inv| EdgeClock::new(inv, n_epochs, rate))
            .collect();
        let tails_i = &s.tails[edges];
        let mut rng = SplitMix64::from_keys(&[seed, i as u64]);
        for epoch in 0..n_epochs {
            let alpha = step(lr, epoch, n_epochs);
            let now = epoch as f64;
            for (clock, &k) in clocks.iter_mut().zip(tails_i) {
                let Some(n_neg) = clock.tick(now, rate) else {
                    continue;
                };
                let k = k as usize;
                let yk = &tails[k * dim..(k + 1) * dim];
                let d2 = dist2(yi, yk);
                if d2 > 0.0 {
                    let g = c.attract(d2);
                    for (p, q) in yi.iter_mut().zip(yk) {
                        *p += clip(g * (*p - *q)) * alpha;
                    }
                }
                for _ in 0..n_neg {
                    let k = rng.below(n_tail);
                    push_away(yi, &tails[k * dim..(k + 1) * dim], c, alpha);
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::fast_pow;

    #[test]
    fn fast_pow_is_accurate() {
        for &b in &[0.5f32, 0.7915, 0.895, 1.0, 1.5] {
            for i in 1..2000 {
                let x = i as f32 * 0.05;
                let (f, e) = (fast_pow(x, b), x.powf(b));
                assert!(((f - e) / e).abs() < 1e-4, "x={x} b={b}: {f} vs {e}");
            }
        }
    }
}
