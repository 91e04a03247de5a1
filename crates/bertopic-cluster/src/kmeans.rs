//! k-means (greedy k-means++ initialisation, Lloyd iterations, best of `n_init` seeded
//! restarts, scikit-learn's tolerance rule and empty-cluster relocation). Every point gets a
//! cluster: no outliers, as with BERTopic's k-means option. Deterministic for a seed, whatever
//! the thread count (sums are taken in point order).

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{ArrayData, ClusterError, Clusterer, FittedClusterer, NamedArray, SavedState};

/// k-means hyperparameters (scikit-learn's defaults, with a fixed seed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KMeansParams {
    /// Number of clusters (at least 1).
    pub n_clusters: usize,
    /// Lloyd iterations per run at most.
    pub max_iter: usize,
    /// Seeded restarts; the run with the lowest inertia wins.
    pub n_init: usize,
    /// Seed of the k-means++ initialisation.
    pub seed: u64,
    /// Convergence: stop when the centres' total squared shift is at most `tol` times the
    /// mean per-feature variance of the data (scikit-learn's rule).
    pub tol: f64,
}

impl Default for KMeansParams {
    fn default() -> Self {
        KMeansParams {
            n_clusters: 8,
            max_iter: 300,
            n_init: 1,
            seed: 42,
            tol: 1e-4,
        }
    }
}

/// The k-means clusterer (validated parameters).
#[derive(Clone, Debug)]
pub struct KMeans {
    params: KMeansParams,
}

impl KMeans {
    /// Validates the parameters.
    pub fn new(params: KMeansParams) -> Result<Self, ClusterError> {
        if params.n_clusters == 0 || params.n_init == 0 || params.max_iter == 0 {
            return Err(ClusterError::InvalidParams(format!(
                "n_clusters, n_init and max_iter must be at least 1 (got {}, {}, {})",
                params.n_clusters, params.n_init, params.max_iter
            )));
        }
        if !params.tol.is_finite() || params.tol < 0.0 {
            return Err(ClusterError::InvalidParams(format!(
                "tol must be a finite number >= 0 (got {})",
                params.tol
            )));
        }
        Ok(KMeans { params })
    }
}

/// SplitMix64: a tiny seeded generator, identical on every platform.
struct Rng(u64);
impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        ((self.next_f64() * n as f64) as usize).min(n.saturating_sub(1))
    }
}

fn sq(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Nearest centre (lowest index on ties) and its squared distance.
fn nearest(centres: &[f64], d: usize, x: &[f64]) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (k, c) in centres.chunks_exact(d.max(1)).enumerate() {
        let dist = sq(c, x);
        if dist < best.1 {
            best = (k, dist);
        }
    }
    best
}

/// Index drawn with probability proportional to `weights` (uniform if they sum to 0).
fn draw(weights: &[f64], rng: &mut Rng) -> usize {
    let total: f64 = weights.iter().sum();
    if total.is_nan() || total <= 0.0 || total.is_infinite() {
        return rng.below(weights.len());
    }
    let mut t = rng.next_f64() * total;
    for (i, &w) in weights.iter().enumerate() {
        if t < w {
            return i;
        }
        t -= w;
    }
    weights.len() - 1
}

/// Greedy k-means++: each new centre is the best (lowest potential) of 2 + ln k candidates
/// drawn proportionally to the squared distance to the nearest chosen centre.
fn init_centres(x: &[f64], n: usize, d: usize, k: usize, rng: &mut Rng) -> Vec<f64> {
    let row = |i: usize| &x[i * d..(i + 1) * d];
    let trials = 2 + (k as f64).ln().floor() as usize;
    let first = rng.below(n);
    let mut centres = row(first).to_vec();
    let mut closest: Vec<f64> = (0..n).map(|i| sq(row(i), row(first))).collect();
    for _ in 1..k {
        let mut best: Option<(f64, Vec<f64>)> = None;
        let mut best_idx = 0;
        for _ in 0..trials {
            let cand = draw(&closest, rng);
            let updated: Vec<f64> = (0..n)
                .into_par_iter()
                .map(|i| closest[i].min(sq(row(i), row(cand))))
                .collect();
            let potential: f64 = updated.iter().sum();
            if best.as_ref().is_none_or(|(p, _)| potential < *p) {
                best = Some((potential, updated));
                best_idx = cand;
            }
        }
        if let Some((_, updated)) = best {
            closest = updated;
        }
        centres.extend_from_slice(row(best_idx));
    }
    centres
}

/// One k-means run: greedy k-means++ then Lloyd iterations. Returns centres, assignment and
/// inertia.
fn run_once(
    x: &[f64],
    n: usize,
    d: usize,
    k: usize,
    p: &KMeansParams,
    threshold: f64,
    rng: &mut Rng,
) -> (Vec<f64>, Vec<usize>, f64) {
    let row = |i: usize| &x[i * d..(i + 1) * d];
    let mut centres = init_centres(x, n, d, k, rng);
    for _ in 0..p.max_iter {
        let assign: Vec<(usize, f64)> = (0..n)
            .into_par_iter()
            .map(|i| nearest(&centres, d, row(i)))
            .collect();
        // Sums in point order: identical for any thread count.
        let mut sums = vec![0.0; k * d];
        let mut counts = vec![0usize; k];
        for (i, &(a, _)) in assign.iter().enumerate() {
            counts[a] += 1;
            for (s, v) in sums[a * d..(a + 1) * d].iter_mut().zip(row(i)) {
                *s += v;
            }
        }
        // An empty cluster takes the point farthest from its centre (as scikit-learn does).
        let mut taken = vec![false; n];
        let mut shift = 0.0;
        for j in 0..k {
            let new: Vec<f64> = if counts[j] == 0 {
                let far = (0..n)
                    .filter(|&i| !taken[i])
                    .max_by(|&a, &b| assign[a].1.total_cmp(&assign[b].1).then(b.cmp(&a)));
                match far {
                    Some(i) => {
                        taken[i] = true;
                        row(i).to_vec()
                    }
                    None => centres[j * d..(j + 1) * d].to_vec(),
                }
            } else {
                sums[j * d..(j + 1) * d]
                    .iter()
                    .map(|s| s / counts[j] as f64)
                    .collect()
            };
            shift += sq(&new, &centres[j * d..(j + 1) * d]);
            centres[j * d..(j + 1) * d].copy_from_slice(&new);
        }
        if shift <= threshold {
            break;
        }
    }
    let assign: Vec<(usize, f64)> = (0..n)
        .into_par_iter()
        .map(|i| nearest(&centres, d, row(i)))
        .collect();
    let inertia = assign.iter().map(|a| a.1).sum();
    (centres, assign.into_iter().map(|a| a.0).collect(), inertia)
}

impl Clusterer for KMeans {
    fn fit(&self, data: ArrayView2<f64>) -> Result<Box<dyn FittedClusterer>, ClusterError> {
        crate::check_finite(data)?;
        let n = data.nrows();
        let k = self.params.n_clusters;
        if n < k {
            return Err(ClusterError::TooFewPoints {
                n,
                needed: k,
                what: "number of clusters",
            });
        }
        let d = data.ncols();
        if d == 0 {
            return Err(ClusterError::NoDimensions);
        }
        let owned = data.as_standard_layout().to_owned();
        let x = owned.as_slice().map(<[f64]>::to_vec).unwrap_or_default();
        // scikit-learn's tolerance: relative to the mean per-feature variance.
        let mean_var = (0..d)
            .map(|c| {
                let col = owned.column(c);
                let m = col.sum() / n as f64;
                col.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n as f64
            })
            .sum::<f64>()
            / d as f64;
        let threshold = self.params.tol * mean_var;
        let mut rng = Rng(self.params.seed);
        let mut best: Option<(Vec<f64>, Vec<usize>, f64)> = None;
        for _ in 0..self.params.n_init {
            let r = run_once(&x, n, d, k, &self.params, threshold, &mut rng);
            if best.as_ref().is_none_or(|b| r.2 < b.2) {
                best = Some(r);
            }
        }
        let (flat_centres, assign, _) =
            best.ok_or_else(|| ClusterError::InvalidParams("n_init is 0".into()))?;
        let centroids = Array2::from_shape_vec((k, d), flat_centres)
            .map_err(|e| ClusterError::InvalidParams(format!("centroid shape: {e}")))?;
        // Renumber by size, largest first; ties by the first member.
        let mut counts: Vec<(usize, usize, usize)> = (0..k).map(|j| (j, 0, usize::MAX)).collect();
        for (i, &a) in assign.iter().enumerate() {
            counts[a].1 += 1;
            counts[a].2 = counts[a].2.min(i);
        }
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
        let mut order = Array2::<f64>::zeros(centroids.dim());
        let mut new_of = vec![0i64; k];
        for (new, &(old, _, _)) in counts.iter().enumerate() {
            order.row_mut(new).assign(&centroids.row(old));
            new_of[old] = new as i64;
        }
        let labels = assign.iter().map(|&a| new_of[a]).collect();
        Ok(Box::new(FittedKMeans {
            params: self.params.clone(),
            centroids: order,
            labels,
            probabilities: vec![1.0; n],
        }))
    }
}

/// Fitted k-means: centroids ordered by cluster size.
#[derive(Clone, Debug)]
pub struct FittedKMeans {
    params: KMeansParams,
    centroids: Array2<f64>,
    labels: Vec<i64>,
    probabilities: Vec<f64>,
}

impl FittedKMeans {
    /// Cluster centres, row `i` = cluster `i`.
    pub fn centroids(&self) -> &Array2<f64> {
        &self.centroids
    }
}

impl FittedClusterer for FittedKMeans {
    fn labels(&self) -> &[i64] {
        &self.labels
    }
    fn probabilities(&self) -> &[f64] {
        &self.probabilities
    }
    fn n_clusters(&self) -> usize {
        self.centroids.nrows()
    }
    fn predict(&self, data: ArrayView2<f64>) -> Result<(Vec<i64>, Vec<f64>), ClusterError> {
        crate::check_finite(data)?;
        if data.ncols() != self.centroids.ncols() {
            return Err(ClusterError::DimensionMismatch {
                expected: self.centroids.ncols(),
                got: data.ncols(),
            });
        }
        let data = data.as_standard_layout();
        let d = data.ncols();
        let flat = data.as_slice().map(<[f64]>::to_vec).unwrap_or_default();
        let centres = self
            .centroids
            .as_slice()
            .map(<[f64]>::to_vec)
            .unwrap_or_default();
        let labels: Vec<i64> = (0..data.nrows())
            .into_par_iter()
            .map(|i| nearest(&centres, d, &flat[i * d..(i + 1) * d]).0 as i64)
            .collect();
        let probs = vec![1.0; labels.len()];
        Ok((labels, probs))
    }
    fn save_state(&self) -> SavedState {
        SavedState {
            kind: "kmeans".into(),
            params: serde_json::to_value(&self.params).unwrap_or(serde_json::Value::Null),
            arrays: vec![
                NamedArray {
                    name: "centroids".into(),
                    shape: self.centroids.shape().to_vec(),
                    data: ArrayData::F64(self.centroids.iter().copied().collect()),
                },
                NamedArray {
                    name: "labels".into(),
                    shape: vec![self.labels.len()],
                    data: ArrayData::I64(self.labels.clone()),
                },
            ],
        }
    }
}

pub(crate) fn load(state: &SavedState) -> Result<FittedKMeans, ClusterError> {
    let params: KMeansParams = serde_json::from_value(state.params.clone())
        .map_err(|e| ClusterError::BadState(format!("kmeans params: {e}")))?;
    let mut centroids = None;
    let mut labels = None;
    for a in &state.arrays {
        match (a.name.as_str(), &a.data) {
            ("centroids", ArrayData::F64(v)) if a.shape.len() == 2 => {
                centroids = Some(
                    Array2::from_shape_vec((a.shape[0], a.shape[1]), v.clone())
                        .map_err(|e| ClusterError::BadState(format!("centroids: {e}")))?,
                )
            }
            ("labels", ArrayData::I64(v)) => labels = Some(v.clone()),
            _ => {}
        }
    }
    let centroids = centroids.ok_or_else(|| ClusterError::BadState("missing centroids".into()))?;
    let labels: Vec<i64> = labels.ok_or_else(|| ClusterError::BadState("missing labels".into()))?;
    let probabilities = vec![1.0; labels.len()];
    Ok(FittedKMeans {
        params,
        centroids,
        labels,
        probabilities,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_result_on_one_and_two_threads() {
        let mut s = 3u64;
        let v: Vec<f64> = (0..4000 * 4)
            .map(|i| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
                ((i / 4) % 7) as f64 * 2.0 + (s >> 40) as f64 / (1u64 << 24) as f64
            })
            .collect();
        let x = Array2::from_shape_vec((4000, 4), v).unwrap();
        let km = KMeans::new(KMeansParams {
            n_clusters: 7,
            n_init: 2,
            ..Default::default()
        })
        .unwrap();
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    let f = km.fit(x.view()).unwrap();
                    (f.labels().to_vec(), f.predict(x.view()).unwrap())
                })
        };
        let (one, two) = (run(1), run(2));
        assert_eq!(one, two);
        // Seven well-separated groups: every group is one cluster.
        let labels = &one.0;
        for i in 0..4000 {
            assert_eq!(labels[i], labels[i % 7], "point {i}");
        }
    }
}
