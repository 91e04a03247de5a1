//! UMAP (McInnes, Healy & Melville 2018) following umap-learn's algorithmic choices, written from
//! the paper and umap-learn's documentation: fuzzy k-NN graph, spectral init, SGD with negative sampling.

use crate::knn::{knn_graph, query_knn, KnnGraph, Prepared};
use crate::linalg::{det_dot64, jacobi_eigen};
use crate::rng::SplitMix64;
use crate::{check_finite, FittedReducer, Metric, NamedArray, ReduceError, Reducer, SavedState};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// UMAP parameters with BERTopic's defaults (n_neighbors 15, n_components 5, min_dist 0.0, cosine).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UmapParams {
    /// Size of the local neighbourhood, counting the point itself (umap-learn's convention). ≥ 2, < n.
    pub n_neighbors: usize,
    /// Output dimension. ≥ 1 and < input dimension.
    pub n_components: usize,
    /// Minimum distance between embedded points (0 ≤ min_dist ≤ spread).
    pub min_dist: f32,
    /// Scale of the embedded points (> 0).
    pub spread: f32,
    /// Input metric.
    pub metric: Metric,
    /// Optimisation epochs; `None` = umap-learn's default (500 if n ≤ 10,000 else 200).
    pub n_epochs: Option<usize>,
    /// Initial SGD learning rate (> 0), decayed linearly to 0.
    pub learning_rate: f32,
    /// Negative samples per positive sample (≥ 1).
    pub negative_sample_rate: usize,
    /// Random seed; output is identical for a seed regardless of thread count.
    pub seed: u64,
    /// Largest n for the exact (brute-force) k-NN; above it, RP-forest + NN-descent.
    pub exact_knn_max: usize,
    /// Epochs for `transform`; `None` = umap-learn's default (100 if n ≤ 10,000 else 30, or n_epochs/3).
    pub transform_epochs: Option<usize>,
}

impl Default for UmapParams {
    fn default() -> Self {
        Self {
            n_neighbors: 15,
            n_components: 5,
            min_dist: 0.0,
            spread: 1.0,
            metric: Metric::Cosine,
            n_epochs: None,
            learning_rate: 1.0,
            negative_sample_rate: 5,
            seed: 42,
            // The exact k-NN (gemm tiles) measured faster than NN-descent at 20k and 35k points
            // on two cores; its quadratic cost catches up around this size.
            exact_knn_max: 50_000,
            transform_epochs: None,
        }
    }
}

impl UmapParams {
    /// Check the data-independent constraints.
    pub fn validate(&self) -> Result<(), ReduceError> {
        let bad = |msg: String| Err(ReduceError::InvalidParameter(msg));
        if self.n_neighbors < 2 {
            return bad(format!("n_neighbors must be ≥ 2, got {}", self.n_neighbors));
        }
        if self.n_components < 1 {
            return bad("n_components must be ≥ 1".into());
        }
        if !(self.min_dist.is_finite() && self.min_dist >= 0.0) {
            return bad(format!(
                "min_dist must be finite and ≥ 0, got {}",
                self.min_dist
            ));
        }
        if !(self.spread.is_finite() && self.spread > 0.0) {
            return bad(format!(
                "spread must be finite and > 0, got {}",
                self.spread
            ));
        }
        if self.min_dist > self.spread {
            return bad(format!(
                "min_dist ({}) must not exceed spread ({})",
                self.min_dist, self.spread
            ));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad(format!(
                "learning_rate must be finite and > 0, got {}",
                self.learning_rate
            ));
        }
        if self.negative_sample_rate < 1 {
            return bad("negative_sample_rate must be ≥ 1".into());
        }
        if self.n_epochs == Some(0) || self.transform_epochs == Some(0) {
            return bad("n_epochs / transform_epochs must be ≥ 1 when given".into());
        }
        Ok(())
    }
}

/// UMAP reducer (validated parameters). See [`UmapParams`].
#[derive(Clone, Debug)]
pub struct Umap {
    params: UmapParams,
}

impl Umap {
    /// Validate `params` and build the reducer.
    pub fn new(params: UmapParams) -> Result<Self, ReduceError> {
        params.validate()?;
        Ok(Self { params })
    }

    /// The parameters.
    pub fn params(&self) -> &UmapParams {
        &self.params
    }
}

/// Fit 1/(1 + a x^(2b)) to the target curve (1 below min_dist, exp(-(x-min_dist)/spread) above)
/// on 300 points of [0, 3·spread] by Levenberg–Marquardt least squares.
pub fn find_ab_params(spread: f32, min_dist: f32) -> (f32, f32) {
    let (spread, min_dist) = (spread as f64, min_dist as f64);
    let xs: Vec<f64> = (0..300).map(|i| 3.0 * spread * i as f64 / 299.0).collect();
    let ys: Vec<f64> = xs
        .iter()
        .map(|&x| {
            if x < min_dist {
                1.0
            } else {
                (-(x - min_dist) / spread).exp()
            }
        })
        .collect();
    let f = |a: f64, b: f64, x: f64| 1.0 / (1.0 + a * x.powf(2.0 * b));
    let sse = |a: f64, b: f64| {
        xs.iter()
            .zip(&ys)
            .map(|(&x, &y)| (f(a, b, x) - y).powi(2))
            .sum::<f64>()
    };
    let (mut a, mut b) = (1.0f64, 1.0f64);
    let mut lambda = 1e-3;
    let mut cur = sse(a, b);
    for _ in 0..500 {
        // Jacobian of residuals w.r.t. (a, b).
        let (mut jtj, mut jtr) = ([0.0f64; 3], [0.0f64; 2]);
        for (&x, &y) in xs.iter().zip(&ys) {
            let r = f(a, b, x) - y;
            let (da, db) = if x > 0.0 {
                let p = x.powf(2.0 * b);
                let den = (1.0 + a * p).powi(2);
                (-p / den, -a * p * 2.0 * x.ln() / den)
            } else {
                (0.0, 0.0)
            };
            jtj[0] += da * da;
            jtj[1] += da * db;
            jtj[2] += db * db;
            jtr[0] += da * r;
            jtr[1] += db * r;
        }
        let m00 = jtj[0] * (1.0 + lambda);
        let m11 = jtj[2] * (1.0 + lambda);
        let det = m00 * m11 - jtj[1] * jtj[1];
        if det.abs() < 1e-300 {
            break;
        }
        let sa = -(m11 * jtr[0] - jtj[1] * jtr[1]) / det;
        let sb = -(m00 * jtr[1] - jtj[1] * jtr[0]) / det;
        let (na, nb) = (a + sa, b + sb);
        let next = if na > 0.0 && nb > 0.0 {
            sse(na, nb)
        } else {
            f64::INFINITY
        };
        if next < cur {
            let done = (cur - next) < 1e-15 * cur.max(1e-300);
            a = na;
            b = nb;
            cur = next;
            lambda = (lambda * 0.3).max(1e-12);
            if done {
                break;
            }
        } else {
            lambda *= 10.0;
            if lambda > 1e12 {
                break;
            }
        }
    }
    (a as f32, b as f32)
}

/// Per point (rho, sigma): rho = distance to the nearest neighbour (local connectivity 1, or 0 when
/// `local_connectivity_zero`), sigma found by bisection so Σ exp(-(d-rho)/sigma) = log2(target).
pub(crate) fn smooth_knn_dist(
    g: &KnnGraph,
    target_k: f64,
    local_connectivity_zero: bool,
) -> (Vec<f32>, Vec<f32>) {
    let n = g.distances.len() / g.k.max(1);
    let mean_all: f64 =
        g.distances.iter().map(|&d| d as f64).sum::<f64>() / g.distances.len().max(1) as f64;
    let target = target_k.log2();
    let res: Vec<(f32, f32)> = (0..n)
        .into_par_iter()
        .map(|i| {
            let ds = &g.distances[i * g.k..(i + 1) * g.k];
            let rho = if local_connectivity_zero {
                0.0
            } else {
                ds.iter().copied().find(|&d| d > 0.0).unwrap_or(0.0) as f64
            };
            let (mut lo, mut hi, mut mid) = (0.0f64, f64::INFINITY, 1.0f64);
            for _ in 0..64 {
                let s: f64 = ds
                    .iter()
                    .map(|&d| {
                        let x = d as f64 - rho;
                        if x > 0.0 {
                            (-x / mid).exp()
                        } else {
                            1.0
                        }
                    })
                    .sum();
                if (s - target).abs() < 1e-5 {
                    break;
                }
                if s > target {
                    hi = mid;
                    mid = (lo + hi) / 2.0;
                } else {
                    lo = mid;
                    mid = if hi.is_infinite() {
                        mid * 2.0
                    } else {
                        (lo + hi) / 2.0
                    };
                }
            }
            // Floor sigma at 1e-3 of the mean distance, like umap-learn's MIN_K_DIST_SCALE.
            let mean_i: f64 = ds.iter().map(|&d| d as f64).sum::<f64>() / ds.len().max(1) as f64;
            let floor = if rho > 0.0 {
                1e-3 * mean_i
            } else {
                1e-3 * mean_all
            };
            (rho as f32, mid.max(floor) as f32)
        })
        .collect();
    res.into_iter().unzip()
}

/// Membership strength of each directed k-NN edge.
fn memberships(g: &KnnGraph, rhos: &[f32], sigmas: &[f32]) -> Vec<f32> {
    g.distances
        .iter()
        .enumerate()
        .map(|(e, &d)| {
            let i = e / g.k;
            let x = d - rhos[i];
            if x <= 0.0 {
                1.0
            } else {
                (-x / sigmas[i]).exp()
            }
        })
        .collect()
}

/// Symmetric sparse graph in CSR form.
pub(crate) struct Csr {
    pub(crate) indptr: Vec<usize>,
    pub(crate) indices: Vec<u32>,
    pub(crate) weights: Vec<f32>,
}

/// Fuzzy union A + Aᵀ − A∘Aᵀ of the directed membership graph.
fn fuzzy_union(g: &KnnGraph, w: &[f32], n: usize) -> Csr {
    // (row, col, weight, from_transpose)
    let mut trip: Vec<(u32, u32, f32, bool)> = Vec::with_capacity(2 * w.len());
    for (e, &x) in w.iter().enumerate() {
        let i = (e / g.k) as u32;
        let j = g.indices[e];
        if x > 0.0 && i != j {
            trip.push((i, j, x, false));
            trip.push((j, i, x, true));
        }
    }
    trip.par_sort_unstable_by(|a, b| (a.0, a.1, a.3).cmp(&(b.0, b.1, b.3)));
    let mut indptr = vec![0usize; n + 1];
    let mut indices = Vec::with_capacity(trip.len());
    let mut weights = Vec::with_capacity(trip.len());
    let mut t = 0;
    while t < trip.len() {
        let (r, c, x, _) = trip[t];
        let mut a = 0.0f32;
        let mut b = 0.0f32;
        while t < trip.len() && trip[t].0 == r && trip[t].1 == c {
            if trip[t].3 {
                b = trip[t].2;
            } else {
                a = trip[t].2;
            }
            t += 1;
        }
        let _ = x;
        indices.push(c);
        weights.push(a + b - a * b);
        indptr[r as usize + 1] += 1;
    }
    for i in 0..n {
        indptr[i + 1] += indptr[i];
    }
    Csr {
        indptr,
        indices,
        weights,
    }
}

/// Spectral initialisation: leading non-trivial eigenvectors of D^-1/2 W D^-1/2 (= smallest of the
/// normalised Laplacian) by block subspace iteration with Rayleigh–Ritz, min-max scaled to [0, 10]
/// plus tiny noise. Returns None when the solver does not produce finite output.
fn spectral_init(g: &Csr, n: usize, dim: usize, seed: u64) -> Option<Vec<f32>> {
    let m = (dim + 1 + 4).min(n);
    if m < dim + 1 {
        return None;
    }
    let deg: Vec<f64> = (0..n)
        .map(|i| {
            g.weights[g.indptr[i]..g.indptr[i + 1]]
                .iter()
                .map(|&x| x as f64)
                .sum()
        })
        .collect();
    let dinv: Vec<f64> = deg
        .iter()
        .map(|&d| if d > 0.0 { 1.0 / d.sqrt() } else { 0.0 })
        .collect();
    // Trivial eigenvector D^{1/2} 1 (normalised), projected out of every iterate.
    let mut triv: Vec<f64> = deg.iter().map(|d| d.sqrt()).collect();
    let tn = det_dot64(&triv, &triv).sqrt();
    if tn <= 0.0 {
        return None;
    }
    triv.iter_mut().for_each(|x| *x /= tn);
    // Edge weights premultiplied by the far end's D^-1/2 (the same product, so the same bits).
    let wd: Vec<f64> = (0..n)
        .into_par_iter()
        .flat_map_iter(|i| {
            (g.indptr[i]..g.indptr[i + 1])
                .map(|e| g.weights[e] as f64 * dinv[g.indices[e] as usize])
        })
        .collect();
    // Shifted operator (I + M)/2 has spectrum in [0, 1], so power iteration favours M's top end.
    // Applied to all m vectors at once (see `apply_shifted`), into a reused `out` (a fresh n×m
    // block per call cost page faults). The usual block widths get a compile-time width (the
    // row sums then live in registers).
    let apply_block = |x: &[f64], out: &mut [f64]| match m {
        10 => apply_shifted::<10>(g, &wd, &dinv, m, x, out),
        7 => apply_shifted::<7>(g, &wd, &dinv, m, x, out),
        _ => apply_shifted::<0>(g, &wd, &dinv, m, x, out),
    };
    let to_block = |q: &[Vec<f64>], x: &mut [f64]| {
        for (c, v) in q.iter().enumerate() {
            for (i, &val) in v.iter().enumerate() {
                x[i * m + c] = val;
            }
        }
    };
    let from_block = |x: &[f64]| -> Vec<Vec<f64>> {
        (0..m)
            .map(|c| (0..n).map(|i| x[i * m + c]).collect())
            .collect()
    };
    let orthonormalise = |q: &mut Vec<Vec<f64>>| -> bool {
        for c in 0..q.len() {
            for _pass in 0..2 {
                let pt = det_dot64(&q[c], &triv);
                q[c].iter_mut().zip(&triv).for_each(|(x, t)| *x -= pt * t);
                for p in 0..c {
                    let (head, tail) = q.split_at_mut(c);
                    let pr = det_dot64(&tail[0], &head[p]);
                    tail[0]
                        .iter_mut()
                        .zip(&head[p])
                        .for_each(|(x, t)| *x -= pr * t);
                }
            }
            let nn = det_dot64(&q[c], &q[c]).sqrt();
            if nn.is_nan() || nn <= 1e-12 {
                return false;
            }
            q[c].iter_mut().for_each(|x| *x /= nn);
        }
        true
    };
    let mut rng = SplitMix64::from_keys(&[seed, 0x7370_6563]);
    let mut q: Vec<Vec<f64>> = (0..m)
        .map(|_| (0..n).map(|_| rng.normal()).collect())
        .collect();
    if !orthonormalise(&mut q) {
        return None;
    }
    // Orthonormalising every few steps is enough to keep the block well conditioned. Fewer
    // rounds were tried (24 / 15): the init then separates clusters less and HDBSCAN on the
    // 1k reference collapsed to 5 clusters (tests/umap_hdbscan.rs failed), so keep these.
    let rounds = if n <= 10_000 { 40 } else { 25 };
    let (mut x, mut y) = (vec![0.0f64; n * m], vec![0.0f64; n * m]);
    for _ in 0..rounds {
        to_block(&q, &mut x);
        for _ in 0..4 {
            apply_block(&x, &mut y);
            std::mem::swap(&mut x, &mut y);
        }
        q = from_block(&x);
        if !orthonormalise(&mut q) {
            return None;
        }
    }
    // Rayleigh–Ritz on the subspace.
    to_block(&q, &mut x);
    apply_block(&x, &mut y);
    let aq: Vec<Vec<f64>> = from_block(&y);
    let mut h = vec![0.0f64; m * m];
    for r in 0..m {
        for c in 0..m {
            h[r * m + c] = det_dot64(&q[r], &aq[c]);
        }
    }
    for r in 0..m {
        for c in (r + 1)..m {
            let s = 0.5 * (h[r * m + c] + h[c * m + r]);
            h[r * m + c] = s;
            h[c * m + r] = s;
        }
    }
    let (_vals, vecs) = jacobi_eigen(&h, m);
    let mut out = vec![0.0f32; n * dim];
    for c in 0..dim {
        let col: Vec<f64> = (0..n)
            .map(|i| (0..m).map(|r| q[r][i] * vecs[r * m + c]).sum())
            .collect();
        let (mn, mx) = col
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        if !(mn.is_finite() && mx.is_finite()) || mx - mn <= 0.0 {
            return None;
        }
        for i in 0..n {
            out[i * dim + c] = (10.0 * (col[i] - mn) / (mx - mn)) as f32;
        }
    }
    let mut nrng = SplitMix64::from_keys(&[seed, 0x6e6f_6973]);
    out.iter_mut()
        .for_each(|x| *x += (1e-4 * nrng.normal()) as f32);
    Some(out)
}

/// One application of the shifted operator (I + D^-1/2 W D^-1/2)/2 to the row-major n×m block
/// `x`, into `out`: one pass over the graph, the m values of a neighbour contiguous, each output
/// summed over the row's edges in CSR order. `M` > 0 fixes the width at compile time (same
/// arithmetic, same bits); 0 uses `m`.
fn apply_shifted<const M: usize>(
    g: &Csr,
    wd: &[f64],
    dinv: &[f64],
    m: usize,
    x: &[f64],
    out: &mut [f64],
) {
    let m = if M > 0 { M } else { m };
    out.par_chunks_mut(m)
        .with_min_len(256)
        .enumerate()
        .for_each(|(i, o)| {
            let (e0, e1) = (g.indptr[i], g.indptr[i + 1]);
            let edges = g.indices[e0..e1].iter().zip(&wd[e0..e1]);
            let xi = &x[i * m..(i + 1) * m];
            if M > 0 {
                let mut acc = [0.0f64; M];
                for (&j, &w) in edges {
                    let xj = &x[j as usize * M..(j as usize + 1) * M];
                    for c in 0..M {
                        acc[c] += w * xj[c];
                    }
                }
                for c in 0..M {
                    o[c] = 0.5 * (xi[c] + dinv[i] * acc[c]);
                }
            } else {
                o.fill(0.0);
                for (&j, &w) in edges {
                    let j = j as usize;
                    for (oc, &xc) in o.iter_mut().zip(&x[j * m..(j + 1) * m]) {
                        *oc += w * xc;
                    }
                }
                for (oc, &xc) in o.iter_mut().zip(xi) {
                    *oc = 0.5 * (xc + dinv[i] * *oc);
                }
            }
        });
}

/// Connected components of the symmetric graph (union–find): a label per point, numbered in
/// order of each component's first point, and the number of components.
fn components(g: &Csr, n: usize) -> (Vec<u32>, usize) {
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            parent[x as usize] = parent[parent[x as usize] as usize];
            x = parent[x as usize];
        }
        x
    }
    let mut parent: Vec<u32> = (0..n as u32).collect();
    for i in 0..n {
        for e in g.indptr[i]..g.indptr[i + 1] {
            let (a, b) = (find(&mut parent, i as u32), find(&mut parent, g.indices[e]));
            if a != b {
                parent[a.max(b) as usize] = a.min(b);
            }
        }
    }
    let mut label = vec![u32::MAX; n];
    let mut root_label = vec![u32::MAX; n];
    let mut count = 0u32;
    for (i, l) in label.iter_mut().enumerate() {
        let r = find(&mut parent, i as u32) as usize;
        if root_label[r] == u32::MAX {
            root_label[r] = count;
            count += 1;
        }
        *l = root_label[r];
    }
    (label, count as usize)
}

/// Init for a disconnected graph (documented fallback): each component gets its own cell of a
/// grid (cells 3 apart) and seeded uniform positions inside a unit box there, so components start
/// apart (no edge would pull them together later), then everything is scaled to [0, 10].
fn component_init(labels: &[u32], n_comp: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut side = 1usize;
    while side.checked_pow(dim as u32).is_some_and(|c| c < n_comp) {
        side += 1;
    }
    let extent = 3.0 * (side - 1) as f64 + 1.0;
    let mut rng = SplitMix64::from_keys(&[seed, 0x636f_6d70]);
    let mut out = Vec::with_capacity(labels.len() * dim);
    for &c in labels {
        let mut cell = c as usize;
        for _ in 0..dim {
            let pos = 3.0 * (cell % side) as f64 + rng.unit();
            cell /= side;
            out.push((10.0 * pos / extent) as f32);
        }
    }
    out
}

/// Seeded uniform init in [0, 10]: the documented fallback when the graph is disconnected or the
/// spectral solver fails.
fn random_init(n: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix64::from_keys(&[seed, 0x7261_6e64]);
    (0..n * dim).map(|_| (10.0 * rng.unit()) as f32).collect()
}

/// x^b for x > 0 via fast log2/exp2 approximations (relative error ~1e-4): the SGD's hot spot,
/// where libm's ln/exp dominated the run time.
#[inline]
fn fast_pow(x: f32, b: f32) -> f32 {
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
fn clip(x: f32) -> f32 {
    x.clamp(-4.0, 4.0)
}

/// Edges of one head row prepared for SGD: (tail, epochs_per_sample).
struct Sched {
    indptr: Vec<usize>,
    tails: Vec<u32>,
    inv_eps: Vec<f32>,
}

/// Keep edges with weight ≥ max/n_epochs; epochs_per_sample = max / weight.
fn schedule(g: &Csr, n_rows: usize, n_epochs: usize) -> Sched {
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

/// SGD layout optimisation. Each epoch every head row is updated by one task: its own coordinates
/// move sequentially through its sampled edges, other points are read from the previous epoch's
/// snapshot (a Jacobi-style sweep), and negative samples come from a per-(row, epoch) seeded RNG.
/// Results therefore do not depend on the thread count. `others` = None: heads and tails share
/// `heads` (fit); Some(fixed): tails and negatives index the fixed training embedding (transform).
#[allow(clippy::too_many_arguments)]
fn optimize(
    heads: &mut Vec<f32>,
    others: Option<&[f32]>,
    dim: usize,
    s: &Sched,
    n_epochs: usize,
    a: f32,
    b: f32,
    lr: f32,
    neg_rate: usize,
    seed: u64,
) {
    let max_deg = s.indptr.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    let ctx = SgdCtx {
        s,
        dim,
        a,
        b,
        neg_rate,
        seed,
        fit: others.is_none(),
        avx2: avx2_available(),
        cap: max_deg * (1 + neg_rate),
        gather: avx2_available() && others.map_or(heads.len(), <[f32]>::len) < i32::MAX as usize,
    };
    // Common output sizes get a compile-time dimension (unrolled loops, no bounds checks).
    match dim {
        2 => optimize_d::<2>(heads, others, &ctx, n_epochs, lr),
        5 => optimize_d::<5>(heads, others, &ctx, n_epochs, lr),
        _ => optimize_d::<0>(heads, others, &ctx, n_epochs, lr),
    }
}

/// Everything one row update needs besides the positions.
struct SgdCtx<'a> {
    s: &'a Sched,
    dim: usize,
    a: f32,
    b: f32,
    neg_rate: usize,
    seed: u64,
    /// Heads and tails share one embedding (fit), so coincident negatives get pushed apart.
    fit: bool,
    /// The CPU has AVX2: the row kernel runs in an 8-lane build of the same code (the arithmetic
    /// is unchanged, no fused multiply-add, so results are bit-identical to the baseline build).
    avx2: bool,
    /// Most samples one row can draw in an epoch (largest degree × (1 + negative rate)).
    cap: usize,
    /// AVX2 gathers for the sample blocks (AVX2 present and every offset fits an i32).
    gather: bool,
}

fn avx2_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// [`optimize`] body; `D` > 0 fixes the dimension at compile time, 0 uses `ctx.dim`.
fn optimize_d<const D: usize>(
    heads: &mut Vec<f32>,
    others: Option<&[f32]>,
    ctx: &SgdCtx,
    n_epochs: usize,
    lr: f32,
) {
    let dim = if D > 0 { D } else { ctx.dim };
    let mut next = heads.clone();
    for epoch in 0..n_epochs {
        let alpha = lr * (1.0 - epoch as f32 / n_epochs as f32);
        let snap: &[f32] = heads;
        let tails_src: &[f32] = others.unwrap_or(snap);
        next.par_chunks_mut(dim)
            .with_min_len(1024)
            .enumerate()
            .for_each_init(
                || Scratch::new(ctx.cap, dim, D == 0),
                |sc, (i, yi)| {
                    yi.copy_from_slice(&snap[i * dim..(i + 1) * dim]);
                    row_update::<D>(ctx, sc, tails_src, i, epoch, yi, alpha);
                },
            );
        std::mem::swap(heads, &mut next);
    }
}

/// Per-thread buffers for one row's samples, in blocks of [`LANES`]: sample indices, the
/// coordinate differences (block-major: a block's `dim` lane vectors together), squared lengths
/// and coefficients; and for a run-time dimension the per-coordinate lane sums.
struct Scratch {
    idx: Vec<u32>,
    diff: Vec<[f32; LANES]>,
    d2: Vec<[f32; LANES]>,
    coef: Vec<[f32; LANES]>,
    acc: Vec<[f32; LANES]>,
    tail: Vec<f32>,
}

impl Scratch {
    /// `cap`: most samples of one row; `dim`: embedding dimension; `runtime_dim`: the lane sums
    /// live here rather than on the stack.
    fn new(cap: usize, dim: usize, runtime_dim: bool) -> Self {
        let blocks = cap.div_ceil(LANES).max(1);
        let sums = if runtime_dim { dim } else { 0 };
        Self {
            idx: vec![0; blocks * LANES],
            diff: vec![[0.0; LANES]; blocks * dim],
            d2: vec![[0.0; LANES]; blocks],
            coef: vec![[0.0; LANES]; blocks],
            acc: vec![[0.0; LANES]; sums],
            tail: vec![0.0; sums],
        }
    }
}

/// Per-row lane sums, borrowed from the stack or from [`Scratch`].
struct RowBufs<'a> {
    acc: &'a mut [[f32; LANES]],
    tail: &'a mut [f32],
}

/// The per-row sample buffers of [`Scratch`].
struct SampleBufs<'a> {
    idx: &'a mut [u32],
    diff: &'a mut [[f32; LANES]],
    d2: &'a mut [[f32; LANES]],
    coef: &'a mut [[f32; LANES]],
}

/// One row's SGD step, in the AVX2 build when the CPU has it.
#[inline(always)]
fn row_update<const D: usize>(
    ctx: &SgdCtx,
    sc: &mut Scratch,
    tails_src: &[f32],
    i: usize,
    epoch: usize,
    yi: &mut [f32],
    alpha: f32,
) {
    let mut acc = [[0.0f32; LANES]; D];
    let mut tail = [0.0f32; D];
    let Scratch {
        idx,
        diff,
        d2,
        coef,
        acc: acc_rt,
        tail: tail_rt,
    } = sc;
    let sums = if D > 0 {
        RowBufs {
            acc: &mut acc,
            tail: &mut tail,
        }
    } else {
        RowBufs {
            acc: acc_rt,
            tail: tail_rt,
        }
    };
    let bufs = SampleBufs {
        idx,
        diff,
        d2,
        coef,
    };
    #[cfg(target_arch = "x86_64")]
    if ctx.avx2 {
        // SAFETY: `ctx.avx2` is set only when the running CPU reports AVX2.
        unsafe { row_update_avx2::<D>(ctx, bufs, sums, tails_src, i, epoch, yi, alpha) };
        return;
    }
    row_update_body::<D>(ctx, bufs, sums, tails_src, i, epoch, yi, alpha);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn row_update_avx2<const D: usize>(
    ctx: &SgdCtx,
    bufs: SampleBufs,
    sums: RowBufs,
    tails_src: &[f32],
    i: usize,
    epoch: usize,
    yi: &mut [f32],
    alpha: f32,
) {
    row_update_body::<D>(ctx, bufs, sums, tails_src, i, epoch, yi, alpha);
}

/// Differences yi − y_k for the eight samples of a block and their squared lengths, with one
/// AVX2 gather per coordinate instead of scalar loads (which also kept the lanes in memory and
/// stalled store forwarding). Same operations in the same order as the scalar loop, so the
/// same bits.
///
/// # Safety
/// The CPU must have AVX2, `block` must hold eight indices k with
/// (k + 1) · yi.len() ≤ tails.len(), and tails.len() must fit an i32.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn gather_block_avx2(
    tails: &[f32],
    block: &[u32],
    yi: &[f32],
    diff: &mut [[f32; LANES]],
    d2: &mut [f32; LANES],
) {
    use std::arch::x86_64::*;
    debug_assert!(block.len() >= LANES && diff.len() >= yi.len());
    let rows = _mm256_loadu_si256(block.as_ptr() as *const __m256i);
    let base = _mm256_mullo_epi32(rows, _mm256_set1_epi32(yi.len() as i32));
    let mut acc = _mm256_setzero_ps();
    for (t, (&y, out)) in yi.iter().zip(diff.iter_mut()).enumerate() {
        let offs = _mm256_add_epi32(base, _mm256_set1_epi32(t as i32));
        let g = _mm256_i32gather_ps::<4>(tails.as_ptr(), offs);
        let x = _mm256_sub_ps(_mm256_set1_ps(y), g);
        _mm256_storeu_ps(out.as_mut_ptr(), x);
        acc = _mm256_add_ps(acc, _mm256_mul_ps(x, x));
    }
    _mm256_storeu_ps(d2.as_mut_ptr(), acc);
}

/// Lanes of the sample loop: eight independent partial sums per coordinate, combined in a fixed
/// order (vectorisable and deterministic).
const LANES: usize = 8;

/// Every sample of this row and epoch is evaluated at the row's position at the start of the
/// epoch and the summed clipped gradient is applied once. Positive samples first, then
/// negatives, each in a fixed order: deterministic on any thread count.
///
/// The samples run in blocks of [`LANES`], in three passes over all of the row's blocks:
/// differences and squared distances (gathered), then coefficients, then the clipped products
/// added into per-lane sums block by block (the last, partial block is summed sequentially).
/// The first two passes carry no dependency from block to block, so the CPU overlaps the long
/// division-and-polynomial chains of several blocks; only the last pass is ordered.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn row_update_body<const D: usize>(
    ctx: &SgdCtx,
    bufs: SampleBufs,
    sums: RowBufs,
    tails_src: &[f32],
    i: usize,
    epoch: usize,
    yi: &mut [f32],
    alpha: f32,
) {
    let dim = if D > 0 { D } else { ctx.dim };
    let s = ctx.s;
    let SampleBufs {
        idx,
        diff,
        d2,
        coef,
    } = bufs;
    let (e0, e1) = (s.indptr[i], s.indptr[i + 1]);
    // Sampled this epoch when a multiple of eps falls in (epoch, epoch+1]. (Values are ≥ 0 and
    // small, so floor equals the truncating cast; floor is one instruction in the AVX2 build.)
    // Branch-free: the write always happens, the count only moves for sampled edges.
    let (ep0, ep1) = (epoch as f32, (epoch + 1) as f32);
    let mut n_pos = 0usize;
    for (&inv, &tail) in s.inv_eps[e0..e1].iter().zip(&s.tails[e0..e1]) {
        idx[n_pos] = tail;
        n_pos += ((ep1 * inv).floor() > (ep0 * inv).floor()) as usize;
    }
    if n_pos == 0 {
        return;
    }
    let m = n_pos * (1 + ctx.neg_rate);
    let n_tail = tails_src.len() / dim;
    let mut rng = SplitMix64::from_keys(&[ctx.seed, i as u64, epoch as u64]);
    rng.fill_below(&mut idx[n_pos..m], n_tail);
    let blocks = m.div_ceil(LANES);
    // The last block is padded with index 0 (a valid row); only its real lanes are summed.
    idx[m..blocks * LANES].fill(0);

    // Pass 1: differences and squared distances.
    for (b, (block, d2b)) in idx[..blocks * LANES]
        .chunks_exact(LANES)
        .zip(d2.iter_mut())
        .enumerate()
    {
        let diffb = &mut diff[b * dim..(b + 1) * dim];
        #[cfg(target_arch = "x86_64")]
        if ctx.gather {
            // SAFETY: `ctx.gather` is set only with AVX2 present and when every offset
            // (index × dim + t < tails_src.len()) fits an i32; the indices come from the
            // schedule or from `below(n_tail)` (or are the padding 0), so they are in range.
            unsafe { gather_block_avx2(tails_src, block, yi, diffb, d2b) };
            continue;
        }
        *d2b = [0.0; LANES];
        for (l, &k) in block.iter().enumerate() {
            let k = k as usize;
            let yk = &tails_src[k * dim..(k + 1) * dim];
            for t in 0..dim {
                let x = yi[t] - yk[t];
                diffb[t][l] = x;
                d2b[l] += x * x;
            }
        }
    }

    // Pass 2: coefficient of sample q at squared distance x (attractive for q < n_pos).
    let (a, b) = (ctx.a, ctx.b);
    let pos_num = -2.0 * a * b;
    let neg_num = 2.0 * b;
    // Coincident negative samples (other than the row itself) are counted per lane on the way.
    let mut coincident = [0u32; LANES];
    for (blk, ((cb, d2b), kb)) in coef[..blocks]
        .iter_mut()
        .zip(&d2[..blocks])
        .zip(idx.chunks_exact(LANES))
        .enumerate()
    {
        // Local copies again keep the lane loop vectorised.
        let (x8, mut c8) = (*d2b, [0.0f32; LANES]);
        let k8: [u32; LANES] = kb.try_into().expect("LANES-long chunk");
        for l in 0..LANES {
            let x = x8[l];
            let q = blk * LANES + l;
            coincident[l] += (q >= n_pos && q < m && x == 0.0 && k8[l] as usize != i) as u32;
            let xm = x.max(f32::MIN_POSITIVE);
            let pb = fast_pow(xm, b);
            let q1 = 1.0 + a * pb;
            // One division per lane: numerator and denominator are selected first.
            let pos = q < n_pos;
            let num = if pos { pos_num * pb } else { neg_num };
            let den = if pos { xm * q1 } else { (0.001 + x) * q1 };
            let c = num / den;
            c8[l] = if x > 0.0 { c } else { 0.0 };
        }
        *cb = c8;
    }

    // Pass 3: clipped products into the lane sums, block by block.
    let RowBufs { acc, tail } = sums;
    acc.fill([0.0; LANES]);
    tail.fill(0.0);
    let full = m / LANES;
    for (cb, diffb) in coef[..full].iter().zip(diff.chunks_exact(dim)) {
        for (a8, d) in acc.iter_mut().zip(diffb) {
            // Through a local copy: acc and diff arrive as two slices the optimiser cannot
            // prove disjoint, which otherwise keeps this loop scalar.
            let mut a = *a8;
            for l in 0..LANES {
                a[l] += clip(cb[l] * d[l]);
            }
            *a8 = a;
        }
    }
    let rem = m - full * LANES;
    if rem > 0 {
        let cb = &coef[full];
        for (tl, d) in tail.iter_mut().zip(&diff[full * dim..(full + 1) * dim]) {
            let mut sum = 0.0f32;
            for l in 0..rem {
                sum += clip(cb[l] * d[l]);
            }
            *tl = sum;
        }
    }
    // Coincident negatives get a fixed push of 4 each; the count is exact, so 4·count equals
    // the running sum of fours.
    let push = if ctx.fit {
        4.0 * coincident.iter().sum::<u32>() as f32
    } else {
        0.0
    };
    for t in 0..dim {
        let a8 = &acc[t];
        let sum =
            ((a8[0] + a8[4]) + (a8[1] + a8[5])) + ((a8[2] + a8[6]) + (a8[3] + a8[7])) + tail[t];
        yi[t] += alpha * (sum + push);
    }
}

impl Reducer for Umap {
    fn fit(
        &self,
        data: ArrayView2<f32>,
    ) -> Result<(Box<dyn FittedReducer>, Array2<f32>), ReduceError> {
        let p = &self.params;
        let (n, d) = data.dim();
        if n <= p.n_neighbors {
            return Err(ReduceError::TooFewPoints {
                n,
                needed: p.n_neighbors.saturating_add(1),
                n_neighbors: p.n_neighbors,
            });
        }
        if p.n_components >= d {
            return Err(ReduceError::InvalidParameter(format!(
                "n_components ({}) must be smaller than the input dimension ({d})",
                p.n_components
            )));
        }
        check_finite(data)?;
        let timing = std::env::var_os("BERTOPIC_REDUCE_TIMING").is_some();
        // Per-stage wall times on stderr when BERTOPIC_REDUCE_TIMING is set (see
        // examples/profile_fit.rs).
        let mut t0 = std::time::Instant::now();
        let mut lap = |what: &str| {
            if timing {
                eprintln!("umap stage {what}: {:.3} s", t0.elapsed().as_secs_f64());
                t0 = std::time::Instant::now();
            }
        };
        let prep = Prepared::new(data, p.metric);
        let k = p.n_neighbors - 1;
        let g = knn_graph(&prep, k, p.seed, p.exact_knn_max);
        lap("knn");
        let (rhos, sigmas) = smooth_knn_dist(&g, p.n_neighbors as f64, false);
        let w = memberships(&g, &rhos, &sigmas);
        let csr = fuzzy_union(&g, &w, n);
        lap("fuzzy graph");
        let n_epochs = p.n_epochs.unwrap_or(if n <= 10_000 { 500 } else { 200 });
        let dim = p.n_components;
        // A disconnected graph has several trivial eigenvectors, so the spectral layout would only
        // separate components: use the documented random fallback then.
        let (labels, n_comp) = components(&csr, n);
        let mut y = if n_comp > 1 {
            component_init(&labels, n_comp, dim, p.seed)
        } else {
            spectral_init(&csr, n, dim, p.seed).unwrap_or_else(|| random_init(n, dim, p.seed))
        };
        lap("spectral init");
        let (a, b) = find_ab_params(p.spread, p.min_dist);
        let sched = schedule(&csr, n, n_epochs);
        lap("schedule");
        if timing {
            let per_epoch: f32 = sched.inv_eps.iter().sum();
            eprintln!(
                "umap: {} edges, {per_epoch:.0} samples per epoch, {n_epochs} epochs",
                sched.tails.len()
            );
        }
        optimize(
            &mut y,
            None,
            dim,
            &sched,
            n_epochs,
            a,
            b,
            p.learning_rate,
            p.negative_sample_rate,
            p.seed,
        );
        lap("sgd");
        let emb = Array2::from_shape_vec((n, dim), y.clone())
            .map_err(|e| ReduceError::Internal(format!("embedding shape: {e}")))?;
        let fitted = FittedUmap {
            params: p.clone(),
            a,
            b,
            train: prep,
            embedding: y,
        };
        Ok((Box::new(fitted), emb))
    }
}

/// A fitted UMAP: the (prepared) training data and its embedding, enough to place new points.
pub struct FittedUmap {
    params: UmapParams,
    a: f32,
    b: f32,
    train: Prepared,
    embedding: Vec<f32>,
}

impl FittedUmap {
    pub(crate) fn from_state(state: &SavedState) -> Result<Self, ReduceError> {
        let params: UmapParams = serde_json::from_value(state.params.clone())
            .map_err(|e| ReduceError::BadState(format!("umap params: {e}")))?;
        params.validate()?;
        let train = state.array("train_data", 2)?;
        let emb = state.array("embedding", 2)?;
        let ab = state.array("ab", 1)?;
        let (n, d) = (train.shape[0], train.shape[1]);
        if emb.shape[0] != n || emb.shape[1] != params.n_components || ab.data.len() != 2 {
            return Err(ReduceError::BadState(
                "array shapes disagree with each other or the params".into(),
            ));
        }
        Ok(Self {
            a: ab.data[0],
            b: ab.data[1],
            train: Prepared {
                data: train.data.clone(),
                n,
                d,
                metric: params.metric,
            },
            embedding: emb.data.clone(),
            params,
        })
    }
}

impl FittedReducer for FittedUmap {
    fn transform(&self, data: ArrayView2<f32>) -> Result<Array2<f32>, ReduceError> {
        let p = &self.params;
        let (m, d) = data.dim();
        if d != self.train.d {
            return Err(ReduceError::DimensionMismatch {
                expected: self.train.d,
                got: d,
            });
        }
        check_finite(data)?;
        let dim = p.n_components;
        if m == 0 {
            return Ok(Array2::zeros((0, dim)));
        }
        let q = Prepared::new(data, p.metric);
        let k = p.n_neighbors.min(self.train.n);
        let g = query_knn(&self.train, &q, k);
        let (rhos, sigmas) = smooth_knn_dist(&g, p.n_neighbors as f64, true);
        let w = memberships(&g, &rhos, &sigmas);
        // Start at the membership-weighted mean of the neighbours' embeddings.
        let mut y = vec![0.0f32; m * dim];
        for i in 0..m {
            let ws = &w[i * k..(i + 1) * k];
            let tot: f32 = ws.iter().sum();
            for (e, &wt) in ws.iter().enumerate() {
                let j = g.indices[i * k + e] as usize;
                let frac = if tot > 0.0 { wt / tot } else { 1.0 / k as f32 };
                for t in 0..dim {
                    y[i * dim + t] += frac * self.embedding[j * dim + t];
                }
            }
        }
        let n_epochs = match (p.transform_epochs, p.n_epochs) {
            (Some(t), _) => t,
            (None, Some(e)) => (e / 3).max(1),
            (None, None) => {
                if self.train.n <= 10_000 {
                    100
                } else {
                    30
                }
            }
        };
        let csr = Csr {
            indptr: (0..=m).map(|i| i * k).collect(),
            indices: g.indices.clone(),
            weights: w,
        };
        let sched = schedule(&csr, m, n_epochs);
        optimize(
            &mut y,
            Some(&self.embedding),
            dim,
            &sched,
            n_epochs,
            self.a,
            self.b,
            p.learning_rate,
            p.negative_sample_rate,
            p.seed ^ 0x7472_616e,
        );
        Array2::from_shape_vec((m, dim), y)
            .map_err(|e| ReduceError::Internal(format!("shape: {e}")))
    }

    fn n_components(&self) -> usize {
        self.params.n_components
    }

    fn save_state(&self) -> SavedState {
        SavedState {
            kind: "umap".into(),
            params: serde_json::to_value(&self.params).unwrap_or(serde_json::Value::Null),
            arrays: vec![
                NamedArray {
                    name: "train_data".into(),
                    shape: vec![self.train.n, self.train.d],
                    data: self.train.data.clone(),
                },
                NamedArray {
                    name: "embedding".into(),
                    shape: vec![self.train.n, self.params.n_components],
                    data: self.embedding.clone(),
                },
                NamedArray {
                    name: "ab".into(),
                    shape: vec![2],
                    data: vec![self.a, self.b],
                },
            ],
        }
    }
}

/// k-NN graph (self excluded) used by UMAP, exposed for tests and benches: exact when n ≤
/// `exact_max`, else RP-forest + NN-descent. Rows are L2-normalised first for cosine.
pub fn knn(
    data: ArrayView2<f32>,
    k: usize,
    metric: Metric,
    seed: u64,
    exact_max: usize,
) -> Result<KnnGraph, ReduceError> {
    let n = data.nrows();
    if k == 0 || k >= n {
        return Err(ReduceError::InvalidParameter(format!(
            "k must be in 1..n (n = {n}), got {k}"
        )));
    }
    check_finite(data)?;
    Ok(knn_graph(&Prepared::new(data, metric), k, seed, exact_max))
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
