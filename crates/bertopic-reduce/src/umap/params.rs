//! Parameters: [`UmapParams`] with BERTopic's defaults and their validation, the validated
//! reducer [`Umap`], and the a/b curve fit ([`find_ab_params`]) that turns `min_dist` and
//! `spread` into the layout's attraction curve.

use serde::{Deserialize, Serialize};

use crate::{Metric, ReduceError};

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
            // NN-descent beats the exact k-NN (gemm tiles) from about 20k points on two cores
            // (30k: 14.8 s against 25.3 s, 50k: 29 s against 69 s); up to 20k (the shared
            // corpora) the exact graph stays, so their fits keep their results.
            exact_knn_max: 20_000,
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
    pub(super) params: UmapParams,
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
