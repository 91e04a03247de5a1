//! HDBSCAN as the `hdbscan` Python library computes it: core distances (k-th nearest *other*
//! point), mutual reachability, minimum spanning tree (Prim, exact), single linkage, condensed
//! tree, excess-of-mass or leaf selection, membership probabilities, and approximate
//! prediction for new points.
//!
//! This file owns the parameters ([`HdbscanParams`], [`ClusterSelection`]), their validation
//! and the fit pipeline ([`Hdbscan::fit_concrete`]); the stages live in the submodules:
//! `core_dist` (core distances), `mst` (Prim's MST and single linkage), `tree` (condensed tree
//! and cluster selection), `predict` (the fitted model: training probabilities and approximate
//! prediction) and `state` (save and load).

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::{ClusterError, Clusterer, FittedClusterer};

mod core_dist;
mod mst;
mod predict;
mod spanning;
mod state;
#[cfg(test)]
mod tests;
mod tree;

pub use core_dist::core_distances;
pub use predict::FittedHdbscan;
pub use spanning::{MstAlgorithm, BORUVKA_MIN_POINTS};
pub(crate) use state::load;
pub use tree::TreeEdge;

use mst::single_linkage;
use predict::label_points;
use tree::{condense, select_clusters};

/// How clusters are chosen from the condensed tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ClusterSelection {
    /// Excess of mass (hdbscan's default): the most persistent clusters.
    #[default]
    Eom,
    /// The leaves of the condensed tree: many small, homogeneous clusters.
    Leaf,
}

/// HDBSCAN hyperparameters, with BERTopic's defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HdbscanParams {
    /// Smallest group that counts as a cluster.
    pub min_cluster_size: usize,
    /// Neighbours for the core distance; `None` = `min_cluster_size` (hdbscan's default).
    pub min_samples: Option<usize>,
    /// Cluster selection method.
    pub selection: ClusterSelection,
    /// Allow the root to be the single cluster.
    pub allow_single_cluster: bool,
}

impl Default for HdbscanParams {
    fn default() -> Self {
        HdbscanParams {
            min_cluster_size: 10,
            min_samples: None,
            selection: ClusterSelection::Eom,
            allow_single_cluster: false,
        }
    }
}

impl HdbscanParams {
    fn min_samples(&self) -> usize {
        self.min_samples.unwrap_or(self.min_cluster_size)
    }
}

/// The HDBSCAN clusterer (validated parameters).
#[derive(Clone, Debug)]
pub struct Hdbscan {
    params: HdbscanParams,
    /// Not a hyperparameter (every method gives the same clusters): not saved.
    mst: MstAlgorithm,
}

impl Hdbscan {
    /// Validates the parameters.
    pub fn new(params: HdbscanParams) -> Result<Self, ClusterError> {
        if params.min_cluster_size < 2 {
            return Err(ClusterError::InvalidParams(format!(
                "min_cluster_size must be at least 2 (got {})",
                params.min_cluster_size
            )));
        }
        if params.min_samples == Some(0) {
            return Err(ClusterError::InvalidParams(
                "min_samples must be at least 1".into(),
            ));
        }
        Ok(Hdbscan {
            params,
            mst: MstAlgorithm::Auto,
        })
    }

    /// Chooses the minimum-spanning-tree method ([`MstAlgorithm::Auto`] by default).
    pub fn with_mst(mut self, mst: MstAlgorithm) -> Self {
        self.mst = mst;
        self
    }

    /// Fits and returns the concrete fitted model (tree, MST weight, core distances).
    pub fn fit_concrete(&self, data: ArrayView2<f64>) -> Result<FittedHdbscan, ClusterError> {
        crate::check_finite(data)?;
        let n = data.nrows();
        let k = self.params.min_samples();
        if n <= k {
            return Err(ClusterError::TooFewPoints {
                n,
                needed: k + 1,
                what: "min_samples",
            });
        }
        let data = data.to_owned();
        let core = core_distances(data.view(), k);
        let (mst, mst_total_weight) = spanning::spanning_tree(data.view(), &core, self.mst);
        let linkage = single_linkage(n, mst);
        let tree = condense(&linkage, n, self.params.min_cluster_size);
        let selected = select_clusters(&tree, n, &self.params);
        let (raw_labels, raw_probs) = label_points(&tree, n, &selected);
        // Renumber by size, largest first; ties by the smallest member index.
        let mut stats: Vec<(usize, usize, usize)> = selected
            .iter()
            .enumerate()
            .map(|(i, _)| {
                let members = raw_labels.iter().filter(|&&l| l == i as i64);
                let count = members.count();
                let first = raw_labels
                    .iter()
                    .position(|&l| l == i as i64)
                    .unwrap_or(usize::MAX);
                (i, count, first)
            })
            .collect();
        stats.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
        let mut new_of = vec![-1i64; selected.len()];
        let mut ordered_selected = Vec::with_capacity(selected.len());
        for (new, &(old, _, _)) in stats.iter().enumerate() {
            new_of[old] = new as i64;
            ordered_selected.push(selected[old]);
        }
        let labels: Vec<i64> = raw_labels
            .iter()
            .map(|&l| if l < 0 { -1 } else { new_of[l as usize] })
            .collect();
        Ok(FittedHdbscan::from_parts(
            self.params.clone(),
            data,
            core,
            tree,
            ordered_selected,
            labels,
            raw_probs,
            mst_total_weight,
        ))
    }
}

impl Clusterer for Hdbscan {
    fn fit(&self, data: ArrayView2<f64>) -> Result<Box<dyn FittedClusterer>, ClusterError> {
        Ok(Box::new(self.fit_concrete(data)?))
    }
}
