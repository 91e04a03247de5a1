//! Clustering for bertopic: the [`Clusterer`] trait, HDBSCAN (the default, with approximate
//! prediction for new points, as the Python `hdbscan` library computes it), k-means, and
//! clustering scores ([`metrics`]).
//!
//! ```
//! use bertopic_cluster::{Clusterer, Hdbscan, HdbscanParams};
//! let mut pts = Vec::new();
//! for i in 0..40 {
//!     let c = if i < 20 { 0.0 } else { 10.0 };
//!     pts.extend([c + (i % 5) as f64 * 0.1, c + (i / 5 % 4) as f64 * 0.1]);
//! }
//! let data = ndarray::Array2::from_shape_vec((40, 2), pts).unwrap();
//! let hdb = Hdbscan::new(HdbscanParams { min_cluster_size: 5, ..Default::default() }).unwrap();
//! let fitted = hdb.fit(data.view()).unwrap();
//! assert_eq!(fitted.n_clusters(), 2);
//! ```

#![warn(missing_docs)]

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

mod distance;
mod hdbscan;
mod kdtree;
mod kmeans;
pub mod metrics;
mod minibatch;

pub use hdbscan::{
    core_distances, ClusterSelection, FittedHdbscan, Hdbscan, HdbscanParams, MstAlgorithm,
    TreeEdge, BORUVKA_MIN_POINTS,
};
pub use kmeans::{FittedKMeans, KMeans, KMeansParams};
pub use minibatch::{inertia, MiniBatchKMeans, MiniBatchKMeansParams, MiniBatchKMeansState};

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// A hyperparameter out of range (the message says which and why).
    #[error("invalid clustering parameter: {0}")]
    InvalidParams(String),
    /// Fewer points than the algorithm needs.
    #[error("{n} points are too few: at least {needed} are needed for this {what}")]
    TooFewPoints {
        /// Points given.
        n: usize,
        /// Points needed.
        needed: usize,
        /// The parameter that sets the minimum (`min_samples`, `number of clusters`).
        what: &'static str,
    },
    /// A point with a NaN or infinite coordinate.
    #[error("row {row} (0-based) of the points to cluster has a NaN or infinite value")]
    NonFinite {
        /// The first such row, 0-based.
        row: usize,
    },
    /// New points whose dimension differs from the training points'.
    #[error("points have {got} dimensions, the model was fitted on {expected}")]
    DimensionMismatch {
        /// Dimension of the training points.
        expected: usize,
        /// Dimension of the points given.
        got: usize,
    },
    /// A saved state that cannot be turned back into a model.
    #[error("saved clusterer state is unusable: {0}")]
    BadState(String),
    /// A saved state of a kind this crate does not build (a caller's own clusterer): the
    /// caller that fitted it rebuilds it (the facade's `TopicModel::load_with` takes such
    /// loaders).
    #[error("saved clusterer state is unusable: unknown clusterer kind `{kind}` (known: hdbscan, kmeans)")]
    UnknownKind {
        /// The kind recorded in the state.
        kind: String,
    },
}

/// A clustering algorithm with validated hyperparameters.
pub trait Clusterer: Send + Sync {
    /// Clusters the rows of `data`.
    fn fit(&self, data: ArrayView2<f64>) -> Result<Box<dyn FittedClusterer>, ClusterError>;
}

/// A fitted clustering.
pub trait FittedClusterer: Send + Sync {
    /// Label of each training point: −1 = outlier; clusters 0.. by size, largest first.
    fn labels(&self) -> &[i64];
    /// Membership strength of each training point in its cluster (0 for outliers).
    fn probabilities(&self) -> &[f64];
    /// Number of clusters (outliers not counted).
    fn n_clusters(&self) -> usize;
    /// Labels and probabilities of new points.
    fn predict(&self, data: ArrayView2<f64>) -> Result<(Vec<i64>, Vec<f64>), ClusterError>;
    /// Everything needed to rebuild this model with [`load_state`].
    fn save_state(&self) -> SavedState;
}

/// Plain-data state of a fitted clusterer (arrays go to safetensors, params to JSON).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SavedState {
    /// Which clusterer (`hdbscan`, `kmeans`).
    pub kind: String,
    /// Its hyperparameters, as JSON.
    pub params: serde_json::Value,
    /// Its fitted arrays.
    pub arrays: Vec<NamedArray>,
}

/// One named array of a [`SavedState`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NamedArray {
    /// Name of the array within its state.
    pub name: String,
    /// Shape, row-major.
    pub shape: Vec<usize>,
    /// The values.
    pub data: ArrayData,
}

/// Array payloads.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ArrayData {
    /// Floating-point values.
    F64(Vec<f64>),
    /// Integer values (labels, indices, sizes).
    I64(Vec<i64>),
}

/// Rebuilds a fitted clusterer saved with [`FittedClusterer::save_state`].
pub fn load_state(state: &SavedState) -> Result<Box<dyn FittedClusterer>, ClusterError> {
    match state.kind.as_str() {
        "hdbscan" => Ok(Box::new(hdbscan::load(state)?)),
        "kmeans" => Ok(Box::new(kmeans::load(state)?)),
        other => Err(ClusterError::UnknownKind {
            kind: other.to_string(),
        }),
    }
}

pub(crate) fn check_finite(data: ArrayView2<f64>) -> Result<(), ClusterError> {
    match data
        .rows()
        .into_iter()
        .position(|r| r.iter().any(|v| !v.is_finite()))
    {
        Some(row) => Err(ClusterError::NonFinite { row }),
        None => Ok(()),
    }
}
