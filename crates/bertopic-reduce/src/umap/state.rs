//! Save and load of a fitted model: parameters, training data, embedding and a/b as a
//! [`SavedState`]. The training data may be left out and given back at load
//! ([`crate::load_state_with_data`]) by a caller that stores those rows itself.

use ndarray::ArrayView2;
use rayon::prelude::*;

use super::{FittedUmap, UmapParams};
use crate::knn::{normalise, Prepared};
use crate::{Metric, NamedArray, ReduceError, SavedState};

const TRAIN: &str = "train_data";

impl FittedUmap {
    pub(crate) fn from_state(state: &SavedState) -> Result<Self, ReduceError> {
        Self::from_state_with(state, None)
    }

    /// Rebuilds from `state`; its training rows come from the state when it holds them, else
    /// from `data` (prepared exactly as `fit` prepared them, so transforms are bit for bit the
    /// same).
    pub(crate) fn from_state_with(
        state: &SavedState,
        data: Option<ArrayView2<f32>>,
    ) -> Result<Self, ReduceError> {
        let params: UmapParams = serde_json::from_value(state.params.clone())
            .map_err(|e| ReduceError::BadState(format!("umap params: {e}")))?;
        params.validate()?;
        let emb = state.array("embedding", 2)?;
        let ab = state.array("ab", 1)?;
        let train = if state.arrays.iter().any(|a| a.name == TRAIN) {
            let train = state.array(TRAIN, 2)?;
            Prepared {
                data: train.data.clone(),
                n: train.shape[0],
                d: train.shape[1],
                metric: params.metric,
            }
        } else {
            let data = data.ok_or_else(|| {
                ReduceError::BadState(format!(
                    "missing array {TRAIN:?}: this UMAP state was saved without its training \
                     rows; load it with load_state_with_data and the rows it was fitted on"
                ))
            })?;
            crate::check_finite(data)?;
            Prepared::new(data, params.metric)
        };
        if emb.shape[0] != train.n || emb.shape[1] != params.n_components || ab.data.len() != 2 {
            return Err(ReduceError::BadState(
                "array shapes disagree with each other or the params".into(),
            ));
        }
        Ok(Self {
            a: ab.data[0],
            b: ab.data[1],
            train,
            embedding: emb.data.clone(),
            params,
        })
    }

    /// Everything [`from_state`](Self::from_state) needs to rebuild this model; without the
    /// training rows unless `with_train`.
    pub(super) fn to_state(&self, with_train: bool) -> SavedState {
        let mut arrays = Vec::with_capacity(3);
        if with_train {
            arrays.push(NamedArray {
                name: TRAIN.into(),
                shape: vec![self.train.n, self.train.d],
                data: self.train.data.clone(),
            });
        }
        arrays.push(NamedArray {
            name: "embedding".into(),
            shape: vec![self.train.n, self.params.n_components],
            data: self.embedding.clone(),
        });
        arrays.push(NamedArray {
            name: "ab".into(),
            shape: vec![2],
            data: vec![self.a, self.b],
        });
        SavedState {
            kind: "umap".into(),
            params: serde_json::to_value(&self.params).unwrap_or(serde_json::Value::Null),
            arrays,
        }
    }

    /// Whether `data`, prepared as `fit` prepares it, is this model's training rows bit for bit:
    /// only then may the state leave them out.
    pub(super) fn fitted_on(&self, data: ArrayView2<f32>) -> bool {
        let (n, d) = data.dim();
        if (n, d) != (self.train.n, self.train.d) {
            return false;
        }
        let cosine = self.train.metric == Metric::Cosine;
        (0..n).into_par_iter().all(|i| {
            let mut row: Vec<f32> = data.row(i).iter().copied().collect();
            if cosine {
                normalise(&mut row);
            }
            row.iter()
                .zip(self.train.row(i))
                .all(|(a, b)| a.to_bits() == b.to_bits())
        })
    }
}
