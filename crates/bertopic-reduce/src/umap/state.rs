//! Save and load of a fitted model: parameters, training data, embedding and a/b as a
//! [`SavedState`].

use super::{FittedUmap, UmapParams};
use crate::knn::Prepared;
use crate::{NamedArray, ReduceError, SavedState};

impl FittedUmap {
    pub(crate) fn from_state(state: &SavedState) -> Result<Self, ReduceError> {
        let params: UmapParams = serde_json::from_value(state.params.clone())
            .map_err(|e| ReduceError::BadState(format!("umap params: {e}")))?;
        params.validate()?;
        let train = state.array("train_data", 2)?;
        let emb = state.array("embedding", 2)?;
        let ab = state.array("ab", 1)?;
        let (n, d) = (train.shape[0], train.shape[1]);
        if emb.shape[0] != n || emb.shape[1] != params.n_components || ab.data.len() != 2 {
            return Err(ReduceError::BadState(
                "array shapes disagree with each other or the params".into(),
            ));
        }
        Ok(Self {
            a: ab.data[0],
            b: ab.data[1],
            train: Prepared {
                data: train.data.clone(),
                n,
                d,
                metric: params.metric,
            },
            embedding: emb.data.clone(),
            params,
        })
    }

    /// Everything [`from_state`](Self::from_state) needs to rebuild this model.
    pub(super) fn to_state(&self) -> SavedState {
        SavedState {
            kind: "umap".into(),
            params: serde_json::to_value(&self.params).unwrap_or(serde_json::Value::Null),
            arrays: vec![
                NamedArray {
                    name: "train_data".into(),
                    shape: vec![self.train.n, self.train.d],
                    data: self.train.data.clone(),
                },
                NamedArray {
                    name: "embedding".into(),
                    shape: vec![self.train.n, self.params.n_components],
                    data: self.embedding.clone(),
                },
                NamedArray {
                    name: "ab".into(),
                    shape: vec![2],
                    data: vec![self.a, self.b],
                },
            ],
        }
    }
}
