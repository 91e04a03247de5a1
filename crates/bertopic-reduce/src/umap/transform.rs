//! The fitted model ([`FittedUmap`]) and `transform`: new points placed by their exact k-NN
//! among the training data, started at the neighbours' weighted mean embedding and moved by a
//! short SGD against the fixed training embedding.

use ndarray::{Array2, ArrayView2};

use super::fuzzy::{memberships, smooth_knn_dist, Csr};
use super::sgd::{optimize_transform, schedule};
use super::UmapParams;
use crate::knn::{query_knn, Prepared};
use crate::{check_finite, FittedReducer, ReduceError, SavedState};

/// A fitted UMAP: the (prepared) training data and its embedding, enough to place new points.
pub struct FittedUmap {
    pub(super) params: UmapParams,
    pub(super) a: f32,
    pub(super) b: f32,
    pub(super) train: Prepared,
    pub(super) embedding: Vec<f32>,
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
        // Start at the membership-weighted mean of the neighbours' embeddings, or, as umap-learn
        // does, exactly at a training point the new point coincides with (membership 1).
        let mut y = vec![0.0f32; m * dim];
        for i in 0..m {
            let ws = &w[i * k..(i + 1) * k];
            if let Some(e) = ws.iter().position(|&wt| wt == 1.0) {
                let j = g.indices[i * k + e] as usize;
                y[i * dim..(i + 1) * dim].copy_from_slice(&self.embedding[j * dim..(j + 1) * dim]);
                continue;
            }
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
        optimize_transform(
            &mut y,
            &self.embedding,
            dim,
            &sched,
            n_epochs,
            self.a,
            self.b,
            // umap-learn places new points with a quarter of the fit's initial step.
            p.learning_rate / 4.0,
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
        self.to_state(true)
    }

    fn save_state_without_data(&self, data: ArrayView2<f32>) -> Option<SavedState> {
        self.fitted_on(data).then(|| self.to_state(false))
    }
}
