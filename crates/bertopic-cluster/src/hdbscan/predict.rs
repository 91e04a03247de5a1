//! Stage 4: the fitted model ([`FittedHdbscan`]): labels and membership probabilities of the
//! training points, and approximate prediction of new points (as `hdbscan`'s
//! `approximate_predict`).

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use super::tree::{cluster_info, TreeEdge};
use super::HdbscanParams;
use crate::distance::knn_dists;
use crate::{ClusterError, FittedClusterer, SavedState};

/// Labels (index into `selected`, −1 = noise) and probabilities of the training points.
pub(super) fn label_points(
    tree: &[TreeEdge],
    n: usize,
    selected: &[usize],
) -> (Vec<i64>, Vec<f64>) {
    let mut labels = vec![-1i64; n];
    let mut probs = vec![0.0; n];
    if tree.is_empty() {
        return (labels, probs);
    }
    let (m, _, parent) = cluster_info(tree, n);
    let mut sel_index = vec![None; m];
    for (i, &c) in selected.iter().enumerate() {
        sel_index[c - n] = Some(i);
    }
    let mut point_edge: Vec<Option<(usize, f64)>> = vec![None; n];
    for e in tree.iter().filter(|e| e.child < n) {
        point_edge[e.child] = Some((e.parent, e.lambda));
    }
    let resolve = |mut c: usize| -> Option<usize> {
        loop {
            if let Some(i) = sel_index[c - n] {
                return Some(i);
            }
            c = parent[c - n]?;
        }
    };
    // Max lambda of the direct children of each selected cluster (hdbscan's convention).
    let mut max_lambda = vec![0.0f64; selected.len()];
    for e in tree {
        if let Some(i) = sel_index[e.parent - n] {
            max_lambda[i] = max_lambda[i].max(e.lambda);
        }
    }
    for p in 0..n {
        if let Some((c, lambda)) = point_edge[p] {
            if let Some(i) = resolve(c) {
                labels[p] = i as i64;
                let ml = max_lambda[i];
                probs[p] = if !ml.is_finite() || ml <= 0.0 {
                    1.0
                } else {
                    lambda.min(ml) / ml
                };
            }
        }
    }
    (labels, probs)
}

/// A fitted HDBSCAN model: labels, probabilities, and what approximate prediction needs.
#[derive(Clone, Debug)]
pub struct FittedHdbscan {
    pub(super) params: HdbscanParams,
    pub(super) data: Array2<f64>,
    pub(super) core: Vec<f64>,
    pub(super) tree: Vec<TreeEdge>,
    /// Selected cluster nodes; position = final label.
    pub(super) selected: Vec<usize>,
    pub(super) labels: Vec<i64>,
    pub(super) probabilities: Vec<f64>,
    pub(super) mst_total_weight: f64,
    // Derived lookups.
    point_edge: Vec<(usize, f64)>,
    cluster_parent: Vec<Option<(usize, f64)>>,
    max_lambda: Vec<f64>,
}

impl FittedHdbscan {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn from_parts(
        params: HdbscanParams,
        data: Array2<f64>,
        core: Vec<f64>,
        tree: Vec<TreeEdge>,
        selected: Vec<usize>,
        labels: Vec<i64>,
        probabilities: Vec<f64>,
        mst_total_weight: f64,
    ) -> Self {
        let n = data.nrows();
        let m = tree
            .iter()
            .map(|e| e.parent.max(e.child))
            .max()
            .unwrap_or(n)
            .max(n)
            - n
            + 1;
        let mut point_edge = vec![(n, 0.0); n];
        let mut cluster_parent = vec![None; m];
        for e in &tree {
            if e.child < n {
                point_edge[e.child] = (e.parent, e.lambda);
            } else {
                cluster_parent[e.child - n] = Some((e.parent, e.lambda));
            }
        }
        let mut max_lambda = vec![0.0f64; selected.len()];
        for e in &tree {
            if let Some(i) = selected.iter().position(|&c| c == e.parent) {
                max_lambda[i] = max_lambda[i].max(e.lambda);
            }
        }
        FittedHdbscan {
            params,
            data,
            core,
            tree,
            selected,
            labels,
            probabilities,
            mst_total_weight,
            point_edge,
            cluster_parent,
            max_lambda,
        }
    }

    /// Total weight of the mutual-reachability minimum spanning tree.
    pub fn mst_total_weight(&self) -> f64 {
        self.mst_total_weight
    }

    /// Core distance of every training point.
    pub fn core_distances(&self) -> &[f64] {
        &self.core
    }

    /// The condensed tree.
    pub fn condensed_tree(&self) -> &[TreeEdge] {
        &self.tree
    }

    fn label_of_node(&self, mut c: usize) -> Option<usize> {
        let n = self.data.nrows();
        loop {
            if let Some(i) = self.selected.iter().position(|&s| s == c) {
                return Some(i);
            }
            c = self
                .cluster_parent
                .get(c.checked_sub(n)?)?
                .map(|(p, _)| p)?;
        }
    }

    fn predict_one(&self, x: &[f64]) -> (i64, f64) {
        let n = self.data.nrows();
        if self.tree.is_empty() {
            return (-1, 0.0);
        }
        let k = self.params.min_samples().min(n);
        let nbrs = knn_dists(self.data.view(), x, k, None);
        let core_x = nbrs.last().map_or(f64::INFINITY, |&(d, _)| d);
        let mut best = (f64::INFINITY, usize::MAX);
        for &(d, j) in &nbrs {
            let mr = d.max(core_x).max(self.core[j]);
            if mr < best.0 || (mr == best.0 && j < best.1) {
                best = (mr, j);
            }
        }
        let (mr, nn) = best;
        if nn == usize::MAX {
            return (-1, 0.0);
        }
        let lambda = if mr > 0.0 { 1.0 / mr } else { f64::INFINITY };
        let (mut node, nn_lambda) = self.point_edge[nn];
        if nn_lambda > lambda {
            // The new point is farther out than its neighbour: it leaves the tree higher up.
            while let Some(Some((p, l))) = self.cluster_parent.get(node - n) {
                if *l < lambda {
                    break;
                }
                node = *p;
            }
        }
        match self.label_of_node(node) {
            Some(i) => {
                let ml = self.max_lambda[i];
                let p = if !ml.is_finite() || ml <= 0.0 {
                    1.0
                } else {
                    lambda.min(ml) / ml
                };
                (i as i64, p)
            }
            None => (-1, 0.0),
        }
    }
}

impl FittedClusterer for FittedHdbscan {
    fn labels(&self) -> &[i64] {
        &self.labels
    }
    fn probabilities(&self) -> &[f64] {
        &self.probabilities
    }
    fn n_clusters(&self) -> usize {
        self.selected.len()
    }
    fn predict(&self, data: ArrayView2<f64>) -> Result<(Vec<i64>, Vec<f64>), ClusterError> {
        crate::check_finite(data)?;
        if data.ncols() != self.data.ncols() {
            return Err(ClusterError::DimensionMismatch {
                expected: self.data.ncols(),
                got: data.ncols(),
            });
        }
        let rows: Vec<Vec<f64>> = data.rows().into_iter().map(|r| r.to_vec()).collect();
        let out: Vec<(i64, f64)> = rows.par_iter().map(|x| self.predict_one(x)).collect();
        Ok(out.into_iter().unzip())
    }
    fn save_state(&self) -> SavedState {
        self.to_state()
    }
}
