//! Mini-batch k-means (sklearn's `MiniBatchKMeans.partial_fit`): centres move towards each
//! batch with a per-centre learning rate of 1 / (points the centre has absorbed), so the model
//! keeps only `k` centres and `k` counts however many rows it has seen. BERTopic's online recipe
//! uses it as the clustering stage of `partial_fit`; every point gets a cluster (no outliers).
//!
//! The first batch seeds the centres with k-means++ (the helper of [`crate::KMeans`]). Like
//! sklearn, centres that absorbed fewer than `reassignment_ratio` × the largest count are moved
//! onto random rows of the batch (each time `10 k` rows have been seen, or while a centre is
//! still empty), so a centre seeded on an outlier does not stay unused. Randomness comes from a
//! seeded SplitMix64 whose state is part of the saved state: results depend only on the seed
//! and the batches, never on the thread count.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::distance::sqdist;
use crate::kmeans::{kmeans_plus_plus, nearest, Rng};
use crate::{ClusterError, FittedKMeans};

/// Mini-batch k-means hyperparameters (sklearn's defaults where they apply).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MiniBatchKMeansParams {
    /// Number of clusters (k).
    pub n_clusters: usize,
    /// Seed of the k-means++ start and of reassignments.
    pub seed: u64,
    /// Centres with fewer points than this fraction of the largest count are reassigned
    /// (sklearn default 0.01; 0 turns reassignment off).
    pub reassignment_ratio: f64,
}

impl Default for MiniBatchKMeansParams {
    fn default() -> Self {
        MiniBatchKMeansParams {
            n_clusters: 8,
            seed: 42,
            reassignment_ratio: 0.01,
        }
    }
}

/// Everything a [`MiniBatchKMeans`] needs to continue (saving and loading between batches
/// changes nothing).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MiniBatchKMeansState {
    /// The hyperparameters.
    pub params: MiniBatchKMeansParams,
    /// Dimension of the points (0 before the first batch).
    pub dim: usize,
    /// Centres, `n_clusters` rows of length `dim`, row-major (empty before the first batch).
    pub centers: Vec<f64>,
    /// Points absorbed per centre (sklearn's `_counts`).
    pub counts: Vec<f64>,
    /// Rows seen since the last reassignment check.
    pub since_reassign: u64,
    /// Batches seen.
    pub n_steps: u64,
    /// State of the random generator.
    pub rng: u64,
}

/// Mini-batch k-means with [`partial_fit`](Self::partial_fit) and [`predict`](Self::predict).
#[derive(Clone, Debug, PartialEq)]
pub struct MiniBatchKMeans {
    state: MiniBatchKMeansState,
}

impl MiniBatchKMeans {
    /// Validates the parameters.
    pub fn new(params: MiniBatchKMeansParams) -> Result<Self, ClusterError> {
        if params.n_clusters == 0 {
            return Err(ClusterError::InvalidParams(
                "n_clusters must be at least 1".into(),
            ));
        }
        let r = params.reassignment_ratio;
        if !r.is_finite() || !(0.0..=1.0).contains(&r) {
            return Err(ClusterError::InvalidParams(format!(
                "reassignment_ratio must be in [0, 1] (got {r}); sklearn's default is 0.01"
            )));
        }
        let rng = params.seed;
        Ok(MiniBatchKMeans {
            state: MiniBatchKMeansState {
                params,
                dim: 0,
                centers: Vec::new(),
                counts: Vec::new(),
                since_reassign: 0,
                n_steps: 0,
                rng,
            },
        })
    }

    /// Rebuilds a model from [`state`](Self::state), checking the shapes.
    pub fn from_state(state: MiniBatchKMeansState) -> Result<Self, ClusterError> {
        let k = state.params.n_clusters;
        Self::new(state.params.clone())?;
        let ok = if state.n_steps == 0 {
            state.centers.is_empty() && state.counts.is_empty()
        } else {
            state.dim > 0 && state.centers.len() == k * state.dim && state.counts.len() == k
        };
        if !ok || state.centers.iter().any(|v| !v.is_finite()) {
            return Err(ClusterError::BadState(format!(
                "mini-batch k-means state with k = {k}, dim = {}, {} centre values and {} counts",
                state.dim,
                state.centers.len(),
                state.counts.len()
            )));
        }
        Ok(MiniBatchKMeans { state })
    }

    /// The state to save; [`from_state`](Self::from_state) continues from it exactly.
    pub fn state(&self) -> &MiniBatchKMeansState {
        &self.state
    }

    /// The centres (k × dim); `None` before the first batch.
    pub fn centers(&self) -> Option<Array2<f64>> {
        (self.state.n_steps > 0).then(|| {
            Array2::from_shape_vec(
                (self.state.params.n_clusters, self.state.dim),
                self.state.centers.clone(),
            )
            .unwrap_or_else(|_| unreachable!("from_state checks the shape"))
        })
    }

    /// Updates the centres with one batch and returns its labels against the updated centres
    /// (sklearn's `labels_` after `partial_fit`). The first batch needs at least `n_clusters` rows.
    pub fn partial_fit(&mut self, batch: ArrayView2<f64>) -> Result<Vec<i64>, ClusterError> {
        crate::check_finite(batch)?;
        let (n, d) = batch.dim();
        let k = self.state.params.n_clusters;
        let x = batch.as_standard_layout().to_owned();
        let mut rng = Rng::new(self.state.rng);
        let mut centers = match self.centers() {
            Some(c) => {
                if d != self.state.dim {
                    return Err(ClusterError::DimensionMismatch {
                        expected: self.state.dim,
                        got: d,
                    });
                }
                c
            }
            None => {
                if n < k {
                    return Err(ClusterError::TooFewPoints {
                        n,
                        needed: k,
                        what: "number of clusters (the first batch seeds every centre)",
                    });
                }
                self.state.counts = vec![0.0; k];
                kmeans_plus_plus(&x, k, &mut rng)
            }
        };
        if n > 0 {
            let labels = assign(&centers, &x);
            // Each centre becomes the mean of everything it has absorbed.
            let mut sums = Array2::<f64>::zeros((k, d));
            let mut added = vec![0.0f64; k];
            for (i, &l) in labels.iter().enumerate() {
                let mut s = sums.row_mut(l);
                s += &x.row(i);
                added[l] += 1.0;
            }
            for (j, &a) in added.iter().enumerate() {
                if a > 0.0 {
                    let old = self.state.counts[j];
                    let total = old + a;
                    let mut c = centers.row_mut(j);
                    c.zip_mut_with(&sums.row(j), |cv, sv| *cv = (*cv * old + sv) / total);
                    self.state.counts[j] = total;
                }
            }
            self.state.since_reassign += n as u64;
            let due =
                self.state.counts.contains(&0.0) || self.state.since_reassign >= 10 * k as u64;
            if due {
                self.state.since_reassign = 0;
                self.reassign(&mut centers, &x, &mut rng);
            }
        }
        self.state.dim = d;
        self.state.centers = centers.iter().copied().collect();
        self.state.n_steps += 1;
        self.state.rng = rng.state();
        Ok(assign(&centers, &x).into_iter().map(|l| l as i64).collect())
    }

    /// Moves low-count centres onto random distinct rows of the batch (sklearn's rule).
    fn reassign(&mut self, centers: &mut Array2<f64>, x: &Array2<f64>, rng: &mut Rng) {
        let ratio = self.state.params.reassignment_ratio;
        let counts = &mut self.state.counts;
        let max = counts.iter().copied().fold(0.0f64, f64::max);
        if ratio <= 0.0 || max <= 0.0 {
            return;
        }
        let mut low: Vec<usize> = (0..counts.len())
            .filter(|&j| counts[j] < ratio * max)
            .collect();
        // At most half the batch; the centres with the fewest points go first.
        let cap = x.nrows() / 2;
        if low.len() > cap {
            low.sort_by(|&a, &b| counts[a].total_cmp(&counts[b]).then(a.cmp(&b)));
            low.truncate(cap);
            low.sort_unstable();
        }
        if low.is_empty() {
            return;
        }
        // Distinct rows by a partial Fisher–Yates shuffle.
        let mut idx: Vec<usize> = (0..x.nrows()).collect();
        for (t, &j) in low.iter().enumerate() {
            let r = t + ((rng.unit() * (idx.len() - t) as f64) as usize).min(idx.len() - t - 1);
            idx.swap(t, r);
            centers.row_mut(j).assign(&x.row(idx[t]));
        }
        let floor = (0..counts.len())
            .filter(|j| !low.contains(j))
            .map(|j| counts[j])
            .fold(f64::INFINITY, f64::min);
        let floor = if floor.is_finite() { floor } else { 0.0 };
        for &j in &low {
            // Not back to zero, so the centre is not reassigned again at once (sklearn's rule).
            counts[j] = floor;
        }
    }

    /// Nearest centre of each row.
    pub fn predict(&self, data: ArrayView2<f64>) -> Result<Vec<i64>, ClusterError> {
        crate::check_finite(data)?;
        let centers = self.centers().ok_or_else(|| {
            ClusterError::InvalidParams(
                "mini-batch k-means has seen no batch yet: call partial_fit first".into(),
            )
        })?;
        if data.ncols() != self.state.dim {
            return Err(ClusterError::DimensionMismatch {
                expected: self.state.dim,
                got: data.ncols(),
            });
        }
        let x = data.as_standard_layout().to_owned();
        Ok(assign(&centers, &x).into_iter().map(|l| l as i64).collect())
    }

    /// A fitted nearest-centre model of the current centres with `labels` as its training
    /// labels (saved and loaded as `kmeans`), for prediction.
    pub fn to_fitted(&self, labels: Vec<i64>) -> Result<FittedKMeans, ClusterError> {
        let centers = self.centers().ok_or_else(|| {
            ClusterError::InvalidParams(
                "mini-batch k-means has seen no batch yet: call partial_fit first".into(),
            )
        })?;
        FittedKMeans::from_centroids(centers, labels)
    }
}

/// Nearest centre per row (independent per row, so parallel without changing results).
fn assign(centers: &Array2<f64>, x: &Array2<f64>) -> Vec<usize> {
    (0..x.nrows())
        .into_par_iter()
        .map(|i| nearest(centers, x.row(i).as_slice().unwrap_or(&[])).0)
        .collect()
}

/// Sum of squared distances of rows to their nearest centre (for tests and reports).
pub fn inertia(centers: &Array2<f64>, data: ArrayView2<f64>) -> f64 {
    data.rows()
        .into_iter()
        .map(|r| {
            centers
                .rows()
                .into_iter()
                .map(|c| sqdist(c.as_slice().unwrap_or(&[]), &r.to_vec()))
                .fold(f64::INFINITY, f64::min)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FittedClusterer;

    /// Three blobs in 2-D, rows interleaved so every batch sees all blobs.
    fn blobs(n: usize) -> Array2<f64> {
        let centres = [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)];
        Array2::from_shape_fn((n, 2), |(i, j)| {
            let (cx, cy) = centres[i % 3];
            let jitter = ((i * 37 + j * 11) % 17) as f64 / 17.0 - 0.5;
            if j == 0 {
                cx + jitter
            } else {
                cy + jitter
            }
        })
    }

    fn run(seed: u64, x: &Array2<f64>, batch: usize) -> (MiniBatchKMeans, Vec<Vec<i64>>) {
        let mut m = MiniBatchKMeans::new(MiniBatchKMeansParams {
            n_clusters: 3,
            seed,
            ..Default::default()
        })
        .unwrap();
        let labels = (0..x.nrows())
            .step_by(batch)
            .map(|s| {
                m.partial_fit(x.slice(ndarray::s![s..(s + batch).min(x.nrows()), ..]))
                    .unwrap()
            })
            .collect();
        (m, labels)
    }

    #[test]
    fn finds_the_blobs_batch_by_batch() {
        let x = blobs(300);
        let (m, _) = run(7, &x, 30);
        let pred = m.predict(x.view()).unwrap();
        // Rows of one blob share a label, and the three labels differ.
        for b in 0..3 {
            let first = pred[b];
            assert!(pred.iter().skip(b).step_by(3).all(|&l| l == first));
        }
        assert_ne!(pred[0], pred[1]);
        assert_ne!(pred[1], pred[2]);
        assert_ne!(pred[0], pred[2]);
        assert!(inertia(&m.centers().unwrap(), x.view()) < 300.0 * 0.5);
        let fitted = m.to_fitted(pred.clone()).unwrap();
        assert_eq!(fitted.predict(x.view()).unwrap().0, pred);
    }

    #[test]
    fn deterministic_and_resumable() {
        let x = blobs(240);
        let (a, la) = run(3, &x, 40);
        let (b, lb) = run(3, &x, 40);
        assert_eq!(a, b);
        assert_eq!(la, lb);
        // Stop after two batches, rebuild from the state, continue: same as uninterrupted.
        let (mut half, _) = run(3, &x.slice(ndarray::s![..80, ..]).to_owned(), 40);
        half = MiniBatchKMeans::from_state(half.state().clone()).unwrap();
        for s in (80..240).step_by(40) {
            half.partial_fit(x.slice(ndarray::s![s..s + 40, ..]))
                .unwrap();
        }
        assert_eq!(half, a);
    }

    #[test]
    fn refuses_bad_input() {
        assert!(MiniBatchKMeans::new(MiniBatchKMeansParams {
            n_clusters: 0,
            ..Default::default()
        })
        .is_err());
        let mut m = MiniBatchKMeans::new(MiniBatchKMeansParams::default()).unwrap();
        assert!(m.predict(blobs(3).view()).is_err());
        assert!(matches!(
            m.partial_fit(blobs(5).view()),
            Err(ClusterError::TooFewPoints { .. })
        ));
        m.partial_fit(blobs(30).view()).unwrap();
        let wrong = Array2::<f64>::zeros((4, 3));
        assert!(matches!(
            m.partial_fit(wrong.view()),
            Err(ClusterError::DimensionMismatch { .. })
        ));
    }
}
