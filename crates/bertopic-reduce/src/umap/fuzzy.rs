//! The fuzzy simplicial set: the k-NN graph ([`knn`]), smooth k-NN distances (rho, sigma per
//! point), membership strength of each directed edge, and their fuzzy union into one symmetric
//! sparse graph ([`Csr`]).

use ndarray::ArrayView2;
use rayon::prelude::*;

use crate::knn::{knn_graph, KnnGraph, Prepared};
use crate::{check_finite, Metric, ReduceError};

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

/// Per point (rho, sigma): rho = distance to the nearest neighbour (local connectivity 1, or 0 when
/// `local_connectivity_zero`), sigma found by bisection so Σ exp(-(d-rho)/sigma) = log2(target).
pub(super) fn smooth_knn_dist(
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
pub(super) fn memberships(g: &KnnGraph, rhos: &[f32], sigmas: &[f32]) -> Vec<f32> {
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
pub(super) struct Csr {
    pub(super) indptr: Vec<usize>,
    pub(super) indices: Vec<u32>,
    pub(super) weights: Vec<f32>,
}

/// Fuzzy union A + Aᵀ − A∘Aᵀ of the directed membership graph.
pub(super) fn fuzzy_union(g: &KnnGraph, w: &[f32], n: usize) -> Csr {
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
