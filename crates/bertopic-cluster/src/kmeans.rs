//! k-means (k-means++ initialisation, Lloyd iterations, best of `n_init` seeded restarts).
//! Every point gets a cluster: no outliers, as with BERTopic's k-means option.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::distance::sqdist;
use crate::{ArrayData, ClusterError, Clusterer, FittedClusterer, NamedArray, SavedState};

/// k-means hyperparameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KMeansParams {
    /// Number of clusters (k).
    pub n_clusters: usize,
    /// Most Lloyd iterations per run.
    pub max_iter: usize,
    /// Runs from different k-means++ starts; the lowest inertia wins.
    pub n_init: usize,
    /// Random seed of the starts.
    pub seed: u64,
    /// Stop when no centroid moves more than this (squared distance).
    pub tol: f64,
}

impl Default for KMeansParams {
    fn default() -> Self {
        KMeansParams {
            n_clusters: 8,
            max_iter: 300,
            n_init: 4,
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
            return Err(ClusterError::InvalidParams(
                "n_clusters, n_init and max_iter must be at least 1".into(),
            ));
        }
        if params.tol.is_nan() || params.tol < 0.0 {
            return Err(ClusterError::InvalidParams("tol must be >= 0".into()));
        }
        Ok(KMeans { params })
    }
}

/// k-means draws from the workspace's one seeded generator (SplitMix64), identical on every
/// platform.
pub(crate) type Rng = bertopic_rng::SplitMix64;

pub(crate) fn nearest(c: &Array2<f64>, x: &[f64]) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (k, row) in c.rows().into_iter().enumerate() {
        let d = sqdist(row.as_slice().unwrap_or(&[]), x);
        if d < best.1 {
            best = (k, d);
        }
    }
    best
}

/// k-means++ seeding: the first centre uniformly, each next one with probability proportional
/// to the squared distance to the nearest centre chosen so far. Needs `n >= 1` rows.
pub(crate) fn kmeans_plus_plus(x: &Array2<f64>, k: usize, rng: &mut Rng) -> Array2<f64> {
    let (n, d) = x.dim();
    let row = |i: usize| x.row(i).to_vec();
    let mut c = Array2::<f64>::zeros((k, d));
    let first = ((rng.unit() * n as f64) as usize).min(n - 1);
    c.row_mut(0).assign(&x.row(first));
    let mut dist: Vec<f64> = (0..n).map(|i| sqdist(&row(i), &row(first))).collect();
    for j in 1..k {
        let total: f64 = dist.iter().sum();
        let pick = if total <= 0.0 {
            ((rng.unit() * n as f64) as usize).min(n - 1)
        } else {
            let mut t = rng.unit() * total;
            let mut idx = n - 1;
            for (i, &dv) in dist.iter().enumerate() {
                if t < dv {
                    idx = i;
                    break;
                }
                t -= dv;
            }
            idx
        };
        c.row_mut(j).assign(&x.row(pick));
        let cj = row(pick);
        for (i, dv) in dist.iter_mut().enumerate() {
            *dv = dv.min(sqdist(&row(i), &cj));
        }
    }
    c
}

fn run_once(
    x: &Array2<f64>,
    k: usize,
    p: &KMeansParams,
    rng: &mut Rng,
) -> (Array2<f64>, Vec<usize>, f64) {
    let (n, d) = x.dim();
    let row = |i: usize| x.row(i).to_vec();
    let mut c = kmeans_plus_plus(x, k, rng);
    let mut assign = vec![0usize; n];
    for _ in 0..p.max_iter {
        for (i, a) in assign.iter_mut().enumerate() {
            *a = nearest(&c, &row(i)).0;
        }
        let mut sums = Array2::<f64>::zeros((k, d));
        let mut counts = vec![0usize; k];
        for (i, &a) in assign.iter().enumerate() {
            let mut s = sums.row_mut(a);
            s += &x.row(i);
            counts[a] += 1;
        }
        let mut shift: f64 = 0.0;
        for (j, &cnt) in counts.iter().enumerate() {
            if cnt == 0 {
                continue; // an empty cluster keeps its centroid
            }
            let newc: Vec<f64> = sums.row(j).iter().map(|v| v / cnt as f64).collect();
            shift = shift.max(sqdist(&newc, &c.row(j).to_vec()));
            c.row_mut(j).assign(&ndarray::ArrayView1::from(&newc));
        }
        if shift <= p.tol {
            break;
        }
    }
    let mut inertia = 0.0;
    for (i, a) in assign.iter_mut().enumerate() {
        let (k2, dd) = nearest(&c, &row(i));
        *a = k2;
        inertia += dd;
    }
    (c, assign, inertia)
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
        let x = data.as_standard_layout().to_owned();
        let mut rng = Rng::new(self.params.seed);
        let mut best: Option<(Array2<f64>, Vec<usize>, f64)> = None;
        for _ in 0..self.params.n_init {
            let r = run_once(&x, k, &self.params, &mut rng);
            if best.as_ref().is_none_or(|b| r.2 < b.2) {
                best = Some(r);
            }
        }
        let (centroids, assign, _) =
            best.ok_or_else(|| ClusterError::InvalidParams("n_init is 0".into()))?;
        // Renumber by size, largest first; ties by the first member.
        let mut counts: Vec<(usize, usize, usize)> = (0..k)
            .map(|j| {
                let c = assign.iter().filter(|&&a| a == j).count();
                let f = assign.iter().position(|&a| a == j).unwrap_or(usize::MAX);
                (j, c, f)
            })
            .collect();
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

    /// A nearest-centroid model with the given centres (row `i` = cluster `i`) and training
    /// labels (one per training row, in `0..k`); used for a mini-batch k-means snapshot.
    pub fn from_centroids(centroids: Array2<f64>, labels: Vec<i64>) -> Result<Self, ClusterError> {
        crate::check_finite(centroids.view())?;
        let k = centroids.nrows();
        if k == 0 || labels.iter().any(|&l| l < 0 || l as usize >= k) {
            return Err(ClusterError::InvalidParams(format!(
                "{k} centroids and labels outside 0..{k}: need k >= 1 and every label a centroid row"
            )));
        }
        Ok(FittedKMeans {
            params: KMeansParams {
                n_clusters: k,
                ..KMeansParams::default()
            },
            centroids,
            probabilities: vec![1.0; labels.len()],
            labels,
        })
    }

    /// A nearest-centroid model from given groups (no Lloyd iterations): centroid `c` is the
    /// mean of the rows labelled `c`; `labels` (one per row, in `0..k`, or −1 = none) are kept
    /// as the training labels. The facade uses it where topics come from labels or zero-shot
    /// names instead of clustering, so `predict` still places new points.
    pub fn from_groups(
        data: ArrayView2<f64>,
        labels: &[i64],
        k: usize,
    ) -> Result<Self, ClusterError> {
        crate::check_finite(data)?;
        if labels.len() != data.nrows() || k == 0 {
            return Err(ClusterError::InvalidParams(format!(
                "{} labels for {} rows and {k} groups: need one label per row and k >= 1",
                labels.len(),
                data.nrows()
            )));
        }
        let mut centroids = Array2::<f64>::zeros((k, data.ncols()));
        let mut counts = vec![0usize; k];
        for (row, &l) in data.rows().into_iter().zip(labels) {
            if l >= 0 && (l as usize) < k {
                let mut c = centroids.row_mut(l as usize);
                c += &row;
                counts[l as usize] += 1;
            }
        }
        for (j, &c) in counts.iter().enumerate() {
            if c > 0 {
                centroids.row_mut(j).mapv_inplace(|v| v / c as f64);
            }
        }
        Ok(FittedKMeans {
            params: KMeansParams {
                n_clusters: k,
                ..KMeansParams::default()
            },
            centroids,
            labels: labels.to_vec(),
            probabilities: vec![1.0; labels.len()],
        })
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
        let labels = data
            .rows()
            .into_iter()
            .map(|r| nearest(&self.centroids, &r.to_vec()).0 as i64)
            .collect::<Vec<_>>();
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
