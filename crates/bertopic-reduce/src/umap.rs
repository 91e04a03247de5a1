//! UMAP (McInnes, Healy & Melville 2018) following umap-learn's algorithmic choices, written from
//! the paper and umap-learn's documentation: fuzzy k-NN graph, spectral init, SGD with negative sampling.
//!
//! This file owns the fit pipeline (`impl Reducer for Umap`); the stages live in the
//! submodules: `params` (parameters, validation, the a/b curve fit), `fuzzy` (k-NN graph, smooth
//! k-NN distances, membership strengths, fuzzy union), `spectral` (initial layout), `sgd`
//! (layout optimisation), `transform` (the fitted model and new points) and `state` (save and
//! load).

use ndarray::{Array2, ArrayView2};

use crate::knn::{knn_graph, Prepared};
use crate::{check_finite, FittedReducer, ReduceError, Reducer};

mod fuzzy;
mod params;
mod sgd;
mod spectral;
mod state;
mod target;
mod team;
mod transform;

pub use fuzzy::knn;
pub use params::{find_ab_params, Umap, UmapParams};
pub use target::TargetParams;
pub use transform::FittedUmap;

use fuzzy::{fuzzy_union, memberships, smooth_knn_dist};
use sgd::{optimize_fit, schedule};
use spectral::{component_init, components, random_init, spectral_init};

impl Reducer for Umap {
    fn fit(
        &self,
        data: ArrayView2<f32>,
    ) -> Result<(Box<dyn FittedReducer>, Array2<f32>), ReduceError> {
        self.fit_impl(data, None)
    }

    fn fit_with_target(
        &self,
        data: ArrayView2<f32>,
        y: &[i64],
    ) -> Result<(Box<dyn FittedReducer>, Array2<f32>), ReduceError> {
        self.fit_supervised(data, y, TargetParams::default())
    }
}

impl Umap {
    /// Target-supervised fit (umap-learn's `fit(X, y)`, categorical target): `y` holds one
    /// label per row, −1 = unknown (semi-supervised). Labels pull same-label points together
    /// in the layout; `transform` of new points is unchanged.
    pub fn fit_supervised(
        &self,
        data: ArrayView2<f32>,
        y: &[i64],
        target: TargetParams,
    ) -> Result<(Box<dyn FittedReducer>, Array2<f32>), ReduceError> {
        if y.len() != data.nrows() {
            return Err(ReduceError::InvalidParameter(format!(
                "{} target labels for {} rows: give one label per row (-1 = unknown)",
                y.len(),
                data.nrows()
            )));
        }
        if !(0.0..=1.0).contains(&target.target_weight) {
            return Err(ReduceError::InvalidParameter(format!(
                "target_weight must be in [0, 1] (got {})",
                target.target_weight
            )));
        }
        self.fit_impl(data, Some((y, target)))
    }

    fn fit_impl(
        &self,
        data: ArrayView2<f32>,
        target: Option<(&[i64], TargetParams)>,
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
        let mut csr = fuzzy_union(&g, &w, n);
        if let Some((y, tp)) = target {
            csr = target::intersect_with_labels(&csr, y, &tp);
        }
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
        optimize_fit(
            &mut y,
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
