//! Loading a model fitted with a caller's own reducer or clusterer.
//!
//! A saved model records each fitted stage as a [`SavedState`](crate::reduce::SavedState):
//! its `kind`, its parameters and its arrays. The built-in kinds (`umap`, `pca`; `hdbscan`,
//! `kmeans`) are rebuilt by their crates. Any other kind is a caller's stage, and the caller
//! rebuilds it: [`TopicModel::load_with`] takes [`StageLoaders`], one function per kind.
//!
//! A model whose stage kind no loader knows still loads. Its topics, words, documents and
//! embeddings are all there; only that stage is not rebuilt, so the model carries a
//! [`StageNotice`] ([`TopicModel::stage_notice`]) and:
//! - [`PredictStrategy::Umap`](crate::PredictStrategy::Umap) (reducer then clusterer) predicts
//!   by cosine similarity to the topic embeddings instead, as merged models do
//!   ([`TopicModel::transform_light`]);
//! - [`PredictStrategy::Knn`](crate::PredictStrategy::Knn), the default, needs neither stage
//!   and predicts exactly as with the loader;
//! - saving writes the stage's state back unchanged, so a later load with the loader gets the
//!   stage back.
//!
//! ```no_run
//! use bertopic::loaders::StageLoaders;
//! use bertopic::TopicModel;
//! # fn my_reducer(s: &bertopic::reduce::SavedState)
//! #     -> Result<Box<dyn bertopic::reduce::FittedReducer>, bertopic::reduce::ReduceError> { todo!() }
//! # fn main() -> bertopic::Result<()> {
//! let loaders = StageLoaders::new().reducer("my-reducer", |state, _rows| my_reducer(state));
//! let model = TopicModel::load_with("runs/custom".as_ref(), &loaders)?;
//! assert!(model.stage_notice().is_none());
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ndarray::{Array2, ArrayView2};

use crate::cluster::{self, ClusterError, FittedClusterer};
use crate::reduce::{self, FittedReducer, ReduceError};

#[cfg(doc)]
use crate::TopicModel;

/// Rebuilds a caller's fitted reducer from its saved state. The second argument holds the rows
/// the reducer was fitted on when its
/// [`save_state_without_data`](FittedReducer::save_state_without_data) left them out (the
/// model stores them once, as its training embeddings); `None` when the state is whole.
pub type ReducerLoader = dyn Fn(
        &reduce::SavedState,
        Option<ArrayView2<'_, f32>>,
    ) -> std::result::Result<Box<dyn FittedReducer>, ReduceError>
    + Send
    + Sync;

/// Rebuilds a caller's fitted clusterer from its saved state.
pub type ClustererLoader = dyn Fn(&cluster::SavedState) -> std::result::Result<Box<dyn FittedClusterer>, ClusterError>
    + Send
    + Sync;

/// The loaders of a caller's stage kinds, for [`TopicModel::load_with`]. Built-in kinds always
/// load through their crates, so a loader registered under `umap`, `pca`, `hdbscan` or
/// `kmeans` is never called; registering a kind twice keeps the last loader.
#[derive(Clone, Default)]
pub struct StageLoaders {
    reducers: BTreeMap<String, Arc<ReducerLoader>>,
    clusterers: BTreeMap<String, Arc<ClustererLoader>>,
}

impl fmt::Debug for StageLoaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StageLoaders")
            .field("reducers", &self.reducers.keys().collect::<Vec<_>>())
            .field("clusterers", &self.clusterers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl StageLoaders {
    /// No loaders: only the built-in kinds load (what [`TopicModel::load`] uses).
    pub fn new() -> StageLoaders {
        StageLoaders::default()
    }

    /// Rebuilds reducers saved with `kind` (their [`SavedState::kind`](reduce::SavedState)).
    pub fn reducer<F>(mut self, kind: impl Into<String>, load: F) -> StageLoaders
    where
        F: Fn(
                &reduce::SavedState,
                Option<ArrayView2<'_, f32>>,
            ) -> std::result::Result<Box<dyn FittedReducer>, ReduceError>
            + Send
            + Sync
            + 'static,
    {
        self.reducers.insert(kind.into(), Arc::new(load));
        self
    }

    /// Rebuilds clusterers saved with `kind` (their [`SavedState::kind`](cluster::SavedState)).
    pub fn clusterer<F>(mut self, kind: impl Into<String>, load: F) -> StageLoaders
    where
        F: Fn(&cluster::SavedState) -> std::result::Result<Box<dyn FittedClusterer>, ClusterError>
            + Send
            + Sync
            + 'static,
    {
        self.clusterers.insert(kind.into(), Arc::new(load));
        self
    }

    /// The built-in reducer for `state`, else this kind's loader, else a stand-in that keeps
    /// the state for saving (and `Ok(None)` as its second value says it was not rebuilt).
    pub(crate) fn load_reducer(
        &self,
        state: reduce::SavedState,
        rows: Option<ArrayView2<'_, f32>>,
    ) -> std::result::Result<(Box<dyn FittedReducer>, bool), ReduceError> {
        let built_in = match rows {
            Some(r) => reduce::load_state_with_data(&state, r),
            None => reduce::load_state(&state),
        };
        match built_in {
            Err(ReduceError::UnknownKind { .. }) => {}
            other => return other.map(|r| (r, true)),
        }
        if let Some(load) = self.reducers.get(&state.kind) {
            return load(&state, rows).map(|r| (r, true));
        }
        let without_rows = rows.map(|r| r.dim());
        Ok((
            Box::new(UnloadedReducer {
                state,
                without_rows,
            }),
            false,
        ))
    }

    /// [`load_reducer`](Self::load_reducer) for clusterers.
    pub(crate) fn load_clusterer(
        &self,
        state: cluster::SavedState,
    ) -> std::result::Result<(Box<dyn FittedClusterer>, bool), ClusterError> {
        match cluster::load_state(&state) {
            Err(ClusterError::UnknownKind { .. }) => {}
            other => return other.map(|c| (c, true)),
        }
        if let Some(load) = self.clusterers.get(&state.kind) {
            return load(&state).map(|c| (c, true));
        }
        Ok((Box::new(UnloadedClusterer { state }), false))
    }
}

/// Why a loaded model predicts without its reducer or clusterer: their kinds were saved by a
/// caller's own stages and no [`StageLoaders`] entry rebuilt them. The model is otherwise whole
/// (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StageNotice {
    /// The model folder.
    pub model: PathBuf,
    /// The reducer's kind, when it was not rebuilt.
    pub reducer: Option<String>,
    /// The clusterer's kind, when it was not rebuilt.
    pub clusterer: Option<String>,
}

impl StageNotice {
    /// A notice when either stage was not rebuilt.
    pub(crate) fn new(
        model: &Path,
        reducer: Option<&str>,
        clusterer: Option<&str>,
    ) -> Option<StageNotice> {
        (reducer.is_some() || clusterer.is_some()).then(|| StageNotice {
            model: model.to_path_buf(),
            reducer: reducer.map(str::to_string),
            clusterer: clusterer.map(str::to_string),
        })
    }
}

impl fmt::Display for StageNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stages: Vec<String> = [("reducer", &self.reducer), ("clusterer", &self.clusterer)]
            .iter()
            .filter_map(|(what, kind)| kind.as_ref().map(|k| format!("{what} kind {k:?}")))
            .collect();
        write!(
            f,
            "{}: the {} {} not built in and no loader was given for {} (TopicModel::load_with); \
             prediction with --strategy umap uses the topic-embedding similarity instead, knn \
             (the default) is unaffected",
            self.model.display(),
            stages.join(" and the "),
            if stages.len() == 1 { "is" } else { "are" },
            if stages.len() == 1 { "it" } else { "them" },
        )
    }
}

/// A copy of a fitted reducer through its saved state (the stand-in of an unknown kind stays
/// one): for a model built from another's stages.
pub(crate) fn copy_reducer(
    r: &dyn FittedReducer,
) -> std::result::Result<Box<dyn FittedReducer>, ReduceError> {
    Ok(StageLoaders::default()
        .load_reducer(r.save_state(), None)?
        .0)
}

/// [`copy_reducer`] for clusterers.
pub(crate) fn copy_clusterer(
    c: &dyn FittedClusterer,
) -> std::result::Result<Box<dyn FittedClusterer>, ClusterError> {
    Ok(StageLoaders::default().load_clusterer(c.save_state())?.0)
}

/// A reducer of a kind no loader knew: its state, kept for saving. It cannot transform.
struct UnloadedReducer {
    state: reduce::SavedState,
    /// Shape of the training rows its state was saved without (then a save leaves them out
    /// again, when the model's rows have that shape).
    without_rows: Option<(usize, usize)>,
}

impl FittedReducer for UnloadedReducer {
    fn transform(&self, _data: ArrayView2<f32>) -> std::result::Result<Array2<f32>, ReduceError> {
        Err(ReduceError::UnknownKind {
            kind: self.state.kind.clone(),
        })
    }

    fn n_components(&self) -> usize {
        // Unknown for a foreign kind unless its parameters say.
        self.state
            .params
            .get("n_components")
            .and_then(|v| v.as_u64())
            .map_or(0, |n| n as usize)
    }

    fn save_state(&self) -> reduce::SavedState {
        self.state.clone()
    }

    fn save_state_without_data(&self, data: ArrayView2<f32>) -> Option<reduce::SavedState> {
        (self.without_rows == Some(data.dim())).then(|| self.state.clone())
    }
}

/// A clusterer of a kind no loader knew: its state, kept for saving. It cannot predict, and
/// its training labels are not known (the model keeps each document's topic).
struct UnloadedClusterer {
    state: cluster::SavedState,
}

impl FittedClusterer for UnloadedClusterer {
    fn labels(&self) -> &[i64] {
        &[]
    }

    fn probabilities(&self) -> &[f64] {
        &[]
    }

    fn n_clusters(&self) -> usize {
        0
    }

    fn predict(
        &self,
        _data: ArrayView2<f64>,
    ) -> std::result::Result<(Vec<i64>, Vec<f64>), ClusterError> {
        Err(ClusterError::UnknownKind {
            kind: self.state.kind.clone(),
        })
    }

    fn save_state(&self) -> cluster::SavedState {
        self.state.clone()
    }
}
