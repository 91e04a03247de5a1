//! Dimensionality reduction for BERTopic: UMAP (umap-learn's algorithm, deterministic for a seed on
//! any thread count) and exact PCA, on `ndarray` + `rayon`.
//!
//! ```
//! use bertopic_reduce::{Reducer, Umap, UmapParams};
//! use ndarray::Array2;
//! // 60 points in 8-D on two blobs.
//! let data = Array2::from_shape_fn((60, 8), |(i, j)| ((i % 2) * 5) as f32 + ((i * 7 + j * 3) % 11) as f32 * 0.1);
//! let umap = Umap::new(UmapParams { n_components: 2, n_epochs: Some(50), ..Default::default() }).unwrap();
//! let (fitted, emb) = umap.fit(data.view()).unwrap();
//! assert_eq!(emb.dim(), (60, 2));
//! let again = bertopic_reduce::load_state(&fitted.save_state()).unwrap();
//! assert_eq!(again.transform(data.view()).unwrap().dim(), (60, 2));
//! ```
//!
//! A corpus needs more than `n_neighbors` points (≥ 16 with the default 15): fewer gives
//! [`ReduceError::TooFewPoints`].

#![warn(missing_docs)]

mod hugepage;
mod ipca;
mod knn;
mod linalg;
mod pca;
// The workspace's one seeded generator; `crate::rng` keeps the stage modules' paths short.
use bertopic_rng as rng;
mod umap;

pub use ipca::{IncrementalPca, IncrementalPcaState};
pub use knn::KnnGraph;
pub use pca::{FittedPca, Pca, PcaParams};
pub use umap::{find_ab_params, knn, FittedUmap, TargetParams, Umap, UmapParams};

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Errors from fitting, transforming and loading reducers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReduceError {
    /// A parameter is out of range.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// Not enough points for the neighbourhood size.
    #[error("too few points: got {n}, need at least {needed} (n_neighbors = {n_neighbors}); lower n_neighbors or add documents")]
    TooFewPoints {
        /// Points given.
        n: usize,
        /// Points needed.
        needed: usize,
        /// The neighbourhood size asked for.
        n_neighbors: usize,
    },
    /// An input value is NaN or infinite.
    #[error("row {row}, column {col} is not finite ({value}); clean or drop that embedding")]
    NonFinite {
        /// Row index.
        row: usize,
        /// Column index.
        col: usize,
        /// The value.
        value: f32,
    },
    /// Data dimension differs from the fitted one.
    #[error("expected {expected} columns (the fitted dimension), got {got}")]
    DimensionMismatch {
        /// Fitted dimension.
        expected: usize,
        /// Given dimension.
        got: usize,
    },
    /// A saved state is malformed.
    #[error("bad saved state: {0}")]
    BadState(String),
    /// A saved state of a kind this crate does not build (a caller's own reducer): the caller
    /// that fitted it rebuilds it (the facade's `TopicModel::load_with` takes such loaders).
    #[error("bad saved state: unknown reducer kind {kind:?} (expected \"umap\" or \"pca\")")]
    UnknownKind {
        /// The kind recorded in the state.
        kind: String,
    },
    /// Reading an input file failed.
    #[error("cannot read {path}: {msg}")]
    Io {
        /// File.
        path: String,
        /// What went wrong.
        msg: String,
    },
    /// A bug: please report it.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Input metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Metric {
    /// 1 − cosine similarity (rows are L2-normalised internally).
    #[default]
    Cosine,
    /// Euclidean distance.
    Euclidean,
}

/// A reduction method with validated parameters.
pub trait Reducer: Send + Sync {
    /// Fit on n×d data; returns the fitted reducer and the n×k reduction.
    fn fit(
        &self,
        data: ArrayView2<f32>,
    ) -> Result<(Box<dyn FittedReducer>, Array2<f32>), ReduceError>;
    /// Fit guided by one label per row (−1 = unknown), as umap-learn's `fit(X, y)`. Reducers
    /// that cannot use labels ignore them, as BERTopic does for such models.
    fn fit_with_target(
        &self,
        data: ArrayView2<f32>,
        y: &[i64],
    ) -> Result<(Box<dyn FittedReducer>, Array2<f32>), ReduceError> {
        let _ = y;
        self.fit(data)
    }
}

/// A fitted reducer that can place new points.
pub trait FittedReducer: Send + Sync {
    /// New points into the fitted space.
    fn transform(&self, data: ArrayView2<f32>) -> Result<Array2<f32>, ReduceError>;
    /// Output dimension.
    fn n_components(&self) -> usize;
    /// Everything needed to transform later (see [`load_state`]).
    fn save_state(&self) -> SavedState;
    /// [`save_state`](Self::save_state) without the rows the reducer was fitted on, when they
    /// are `data` (the rows given to `fit`): a caller that keeps those rows anyway stores them
    /// once and hands them back to [`load_state_with_data`]. `None` when the reducer keeps no
    /// training rows or keeps rows other than `data`; then save the whole state.
    fn save_state_without_data(&self, data: ArrayView2<f32>) -> Option<SavedState> {
        let _ = data;
        None
    }
}

/// Serializable state of a fitted reducer.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SavedState {
    /// "umap" or "pca".
    pub kind: String,
    /// The parameters as JSON.
    pub params: serde_json::Value,
    /// Named f32 arrays.
    pub arrays: Vec<NamedArray>,
}

/// A named row-major f32 array.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct NamedArray {
    /// Name.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Row-major values (product of shape).
    pub data: Vec<f32>,
}

impl SavedState {
    /// The array called `name`, checked to have `ndim` dimensions and a matching length.
    pub fn array(&self, name: &str, ndim: usize) -> Result<&NamedArray, ReduceError> {
        let a = self
            .arrays
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| ReduceError::BadState(format!("missing array {name:?}")))?;
        if a.shape.len() != ndim || a.shape.iter().product::<usize>() != a.data.len() {
            return Err(ReduceError::BadState(format!(
                "array {name:?} has shape {:?} and {} values",
                a.shape,
                a.data.len()
            )));
        }
        Ok(a)
    }
}

/// Rebuild a fitted reducer from [`FittedReducer::save_state`] output.
pub fn load_state(state: &SavedState) -> Result<Box<dyn FittedReducer>, ReduceError> {
    match state.kind.as_str() {
        "umap" => Ok(Box::new(FittedUmap::from_state(state)?)),
        "pca" => Ok(Box::new(FittedPca::from_state(state)?)),
        k => Err(ReduceError::UnknownKind {
            kind: k.to_string(),
        }),
    }
}

/// Rebuild a fitted reducer from [`FittedReducer::save_state_without_data`] output, given back
/// the rows it was fitted on (a whole [`save_state`](FittedReducer::save_state) loads too; then
/// `data` is not used).
pub fn load_state_with_data(
    state: &SavedState,
    data: ArrayView2<f32>,
) -> Result<Box<dyn FittedReducer>, ReduceError> {
    match state.kind.as_str() {
        "umap" => Ok(Box::new(FittedUmap::from_state_with(state, Some(data))?)),
        _ => load_state(state),
    }
}

/// Error naming the first non-finite value (by row, then column).
pub(crate) fn check_finite(data: ArrayView2<f32>) -> Result<(), ReduceError> {
    for (row, r) in data.outer_iter().enumerate() {
        for (col, &value) in r.iter().enumerate() {
            if !value.is_finite() {
                return Err(ReduceError::NonFinite { row, col, value });
            }
        }
    }
    Ok(())
}

/// Trustworthiness (sklearn's definition, Euclidean in both spaces):
/// T(k) = 1 − 2/(n k (2n − 3k − 1)) Σᵢ Σ_{j ∈ Uᵢᵏ} (r(i, j) − k), where Uᵢᵏ are the k nearest
/// neighbours of i in the embedding that are not among its k nearest in the input, and r(i, j) is
/// j's rank (1 = nearest) among i's neighbours in the input. Needs 1 ≤ k < n/2.
///
/// Returns NaN when the inputs are unusable (row counts differ, k out of range, non-finite
/// values); use [`try_trustworthiness`] to get the reason as a typed error.
pub fn trustworthiness(high: ArrayView2<f32>, low: ArrayView2<f32>, k: usize) -> f64 {
    try_trustworthiness(high, low, k).unwrap_or(f64::NAN)
}

/// [`trustworthiness`] with a typed error saying why the inputs are unusable.
pub fn try_trustworthiness(
    original: ArrayView2<f32>,
    embedded: ArrayView2<f32>,
    k: usize,
) -> Result<f64, ReduceError> {
    let n = original.nrows();
    if embedded.nrows() != n {
        return Err(ReduceError::InvalidParameter(format!(
            "{} original rows but {} embedded rows",
            n,
            embedded.nrows()
        )));
    }
    if k < 1 || 2 * k >= n {
        return Err(ReduceError::InvalidParameter(format!(
            "trustworthiness needs 1 ≤ k < n/2 (n = {n}), got k = {k}"
        )));
    }
    check_finite(original)?;
    check_finite(embedded)?;
    let rows =
        |a: ArrayView2<f32>| -> Vec<Vec<f32>> { a.outer_iter().map(|r| r.to_vec()).collect() };
    let (xo, xe) = (rows(original), rows(embedded));
    let penalties: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|i| {
            let order = |x: &Vec<Vec<f32>>| -> Vec<usize> {
                let mut d: Vec<(f32, usize)> = (0..n)
                    .filter(|&j| j != i)
                    .map(|j| (linalg::sq_dist(&x[i], &x[j]), j))
                    .collect();
                d.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                d.into_iter().map(|(_, j)| j).collect()
            };
            let oo = order(&xo);
            let mut rank = vec![0usize; n];
            for (r, &j) in oo.iter().enumerate() {
                rank[j] = r + 1;
            }
            let oe = order(&xe);
            oe[..k]
                .iter()
                .map(|&j| rank[j].saturating_sub(k) as f64)
                .sum()
        })
        .collect();
    let s: f64 = penalties.iter().sum();
    let (nf, kf) = (n as f64, k as f64);
    Ok(1.0 - 2.0 / (nf * kf * (2.0 * nf - 3.0 * kf - 1.0)) * s)
}

/// Read a 2-D `.npy` file (f32 or f64, little-endian, C or Fortran order) into an n×d `f32`
/// array, with the workspace's one `.npy` parser (`bertopic_fs::npy`).
pub fn read_npy_f32(path: &std::path::Path) -> Result<Array2<f32>, ReduceError> {
    let err = |msg: String| ReduceError::Io {
        path: path.display().to_string(),
        msg,
    };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let m = bertopic_fs::npy::parse_npy(&bytes).map_err(err)?;
    Array2::from_shape_vec((m.rows, m.cols), m.values).map_err(|e| err(e.to_string()))
}
