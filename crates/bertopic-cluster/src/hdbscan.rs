//! HDBSCAN as the `hdbscan` Python library computes it: core distances (k-th nearest *other*
//! point), mutual reachability, minimum spanning tree (Prim, exact), single linkage, condensed
//! tree, excess-of-mass or leaf selection, membership probabilities, and approximate
//! prediction for new points.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::kdtree::KdTree;
use crate::{ArrayData, ClusterError, Clusterer, FittedClusterer, NamedArray, SavedState};

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
        Ok(Hdbscan { params })
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
        let (mst, mst_total_weight) = prim_mst(data.view(), &core);
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

fn sqdist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// [`sqdist`] with the length fixed at compile time (`D` > 0), so the loop unrolls; the
/// additions run in the same order from 0, so the bits equal `sqdist`'s. `D` = 0: any length.
#[inline(always)]
pub(crate) fn sqdist_d<const D: usize>(a: &[f64], b: &[f64]) -> f64 {
    if D == 0 {
        return sqdist(a, b);
    }
    let (a, b) = (&a[..D], &b[..D]);
    let mut s = 0.0;
    for t in 0..D {
        let d = a[t] - b[t];
        s += d * d;
    }
    s
}

/// Calls `$f::<D>` with `D` = the data's column count for common reduced dimensions (5 is
/// BERTopic's default), else `D` = 0 (runtime length).
macro_rules! by_dim {
    ($d:expr, $f:ident($($arg:expr),*)) => {
        match $d {
            2 => $f::<2>($($arg),*),
            5 => $f::<5>($($arg),*),
            10 => $f::<10>($($arg),*),
            _ => $f::<0>($($arg),*),
        }
    };
}

/// Distances from `query` to its `k` nearest rows of `data` (ascending), skipping row `skip`.
fn knn_dists(
    data: ArrayView2<f64>,
    query: &[f64],
    k: usize,
    skip: Option<usize>,
) -> Vec<(f64, usize)> {
    by_dim!(data.ncols(), knn_dists_d(data, query, k, skip))
}

fn knn_dists_d<const D: usize>(
    data: ArrayView2<f64>,
    query: &[f64],
    k: usize,
    skip: Option<usize>,
) -> Vec<(f64, usize)> {
    // One contiguous row-major view; a copy only for a non-standard layout. (A per-row
    // `to_vec` fallback here used to allocate on every comparison: 1.9 s of a 2 s fit.)
    let copy: Vec<f64>;
    let flat: &[f64] = match data.as_slice() {
        Some(s) => s,
        None => {
            copy = data.iter().copied().collect();
            &copy
        }
    };
    let mut best: Vec<(f64, usize)> = Vec::with_capacity(k + 1);
    for (j, row) in flat.chunks_exact(data.ncols().max(1)).enumerate() {
        if Some(j) == skip {
            continue;
        }
        let d = sqdist_d::<D>(query, row);
        if best.len() < k || d < best[best.len() - 1].0 {
            let pos = best.partition_point(|&(bd, bj)| bd < d || (bd == d && bj < j));
            best.insert(pos, (d, j));
            if best.len() > k {
                best.pop();
            }
        }
    }
    best.into_iter().map(|(d, j)| (d.sqrt(), j)).collect()
}

/// Core distance of every point: the distance to its `min_samples`-th nearest *other* point
/// (the `hdbscan` library's convention; scikit-learn counts the point itself).
///
/// Exact, by a kd-tree search whose box bounds round the same way as the distances (see
/// `kdtree.rs`): the distances are the same `sqdist` values a full scan computes, so the result
/// is bit-identical to brute force, at a fraction of the comparisons.
pub fn core_distances(data: ArrayView2<f64>, min_samples: usize) -> Vec<f64> {
    let data = data.as_standard_layout().to_owned();
    let n = data.nrows();
    let d = data.ncols();
    if d == 0 || min_samples == 0 || n < 2 {
        return vec![if min_samples == 0 { 0.0 } else { f64::INFINITY }; n];
    }
    let flat: Vec<f64> = data.iter().copied().collect();
    let tree = KdTree::new(&flat, n, d);
    by_dim!(d, core_by_tree(&tree, min_samples))
}

fn core_by_tree<const D: usize>(tree: &KdTree, k: usize) -> Vec<f64> {
    tree.core_distances::<D>(k)
}

/// Prim's algorithm on the mutual-reachability graph, computed on the fly over a kd-tree that
/// skips boxes which cannot improve (O(n) memory). Ties go to the lowest index, so the tree is
/// deterministic, and it equals the exhaustive index-order scan's bit for bit.
fn prim_mst(data: ArrayView2<f64>, core: &[f64]) -> (Vec<(usize, usize, f64)>, f64) {
    let data = data.as_standard_layout();
    let (n, d) = data.dim();
    let flat: Vec<f64> = data.iter().copied().collect();
    let tree = KdTree::new(&flat, n, d);
    by_dim!(d, prim_by_tree(&tree, core))
}

fn prim_by_tree<const D: usize>(tree: &KdTree, core: &[f64]) -> (Vec<(usize, usize, f64)>, f64) {
    tree.prim::<D>(core)
}

/// Merge steps of single linkage: (left, right, distance, size); new nodes are n, n+1, ….
struct Linkage {
    rows: Vec<(usize, usize, f64, usize)>,
}

fn single_linkage(n: usize, mut edges: Vec<(usize, usize, f64)>) -> Linkage {
    // Stable sort keeps Prim's order for tied weights: deterministic.
    edges.sort_by(|a, b| a.2.total_cmp(&b.2));
    let mut parent: Vec<usize> = (0..2 * n).collect();
    let mut size = vec![1usize; 2 * n];
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let mut rows = Vec::with_capacity(n.saturating_sub(1));
    let mut next = n;
    for (a, b, w) in edges {
        let ra = find(&mut parent, a);
        let rb = find(&mut parent, b);
        if ra == rb {
            continue;
        }
        let s = size[ra] + size[rb];
        rows.push((ra, rb, w, s));
        parent[ra] = next;
        parent[rb] = next;
        size[next] = s;
        next += 1;
    }
    Linkage { rows }
}

/// One edge of the condensed tree: `child` (a point < n, or a cluster ≥ n) leaves `parent`
/// at `lambda` = 1 / distance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TreeEdge {
    pub parent: usize,
    pub child: usize,
    pub lambda: f64,
    pub size: usize,
}

fn condense(linkage: &Linkage, n: usize, min_cluster_size: usize) -> Vec<TreeEdge> {
    let mut tree = Vec::new();
    if linkage.rows.is_empty() {
        return tree;
    }
    let node_size = |node: usize| {
        if node < n {
            1
        } else {
            linkage.rows[node - n].3
        }
    };
    let leaves = |node: usize| -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![node];
        while let Some(x) = stack.pop() {
            if x < n {
                out.push(x);
            } else {
                let (l, r, _, _) = linkage.rows[x - n];
                stack.push(r);
                stack.push(l);
            }
        }
        out
    };
    let root = n + linkage.rows.len() - 1;
    let mut relabel = vec![0usize; root + 1];
    relabel[root] = n;
    let mut next_label = n + 1;
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node < n {
            continue;
        }
        let (left, right, dist, _) = linkage.rows[node - n];
        let lambda = if dist > 0.0 {
            1.0 / dist
        } else {
            f64::INFINITY
        };
        let parent = relabel[node];
        let (ls, rs) = (node_size(left), node_size(right));
        let big_l = ls >= min_cluster_size;
        let big_r = rs >= min_cluster_size;
        match (big_l, big_r) {
            (true, true) => {
                for (child, size) in [(left, ls), (right, rs)] {
                    relabel[child] = next_label;
                    tree.push(TreeEdge {
                        parent,
                        child: next_label,
                        lambda,
                        size,
                    });
                    next_label += 1;
                }
                stack.push(right);
                stack.push(left);
            }
            (false, false) => {
                for p in leaves(left).into_iter().chain(leaves(right)) {
                    tree.push(TreeEdge {
                        parent,
                        child: p,
                        lambda,
                        size: 1,
                    });
                }
            }
            (true, false) | (false, true) => {
                let (keep, drop) = if big_l { (left, right) } else { (right, left) };
                for p in leaves(drop) {
                    tree.push(TreeEdge {
                        parent,
                        child: p,
                        lambda,
                        size: 1,
                    });
                }
                relabel[keep] = parent;
                stack.push(keep);
            }
        }
    }
    tree
}

/// Cluster nodes (≥ n) with their birth lambda and parent.
fn cluster_info(tree: &[TreeEdge], n: usize) -> (usize, Vec<f64>, Vec<Option<usize>>) {
    let max_label = tree
        .iter()
        .map(|e| e.parent.max(e.child))
        .max()
        .unwrap_or(n)
        .max(n);
    let m = max_label - n + 1;
    let mut birth = vec![0.0; m];
    let mut parent = vec![None; m];
    for e in tree.iter().filter(|e| e.child >= n) {
        birth[e.child - n] = e.lambda;
        parent[e.child - n] = Some(e.parent);
    }
    (m, birth, parent)
}

/// Selected cluster nodes, in increasing node order.
fn select_clusters(tree: &[TreeEdge], n: usize, params: &HdbscanParams) -> Vec<usize> {
    if tree.is_empty() {
        return Vec::new();
    }
    let (m, birth, _) = cluster_info(tree, n);
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); m];
    let mut stability = vec![0.0f64; m];
    for e in tree {
        let p = e.parent - n;
        let l = if e.lambda.is_finite() {
            e.lambda
        } else {
            f64::MAX.sqrt()
        };
        stability[p] += (l - birth[p]) * e.size as f64;
        if e.child >= n {
            children[p].push(e.child - n);
        }
    }
    let mut selected = vec![false; m];
    match params.selection {
        ClusterSelection::Leaf => {
            for c in 0..m {
                if children[c].is_empty() && (c != 0 || params.allow_single_cluster) {
                    selected[c] = true;
                }
            }
        }
        ClusterSelection::Eom => {
            for s in selected.iter_mut().skip(1) {
                *s = true;
            }
            if params.allow_single_cluster {
                selected[0] = true;
            }
            let lowest = if params.allow_single_cluster { 0 } else { 1 };
            // Children always have larger labels than their parents: go bottom-up.
            for c in (lowest..m).rev() {
                let child_stab: f64 = children[c].iter().map(|&k| stability[k]).sum();
                if !children[c].is_empty() && child_stab > stability[c] {
                    selected[c] = false;
                    stability[c] = child_stab;
                } else {
                    let mut stack = children[c].clone();
                    while let Some(k) = stack.pop() {
                        selected[k] = false;
                        stack.extend(children[k].iter().copied());
                    }
                }
            }
        }
    }
    (0..m).filter(|&c| selected[c]).map(|c| c + n).collect()
}

/// Labels (index into `selected`, −1 = noise) and probabilities of the training points.
fn label_points(tree: &[TreeEdge], n: usize, selected: &[usize]) -> (Vec<i64>, Vec<f64>) {
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
    params: HdbscanParams,
    data: Array2<f64>,
    core: Vec<f64>,
    tree: Vec<TreeEdge>,
    /// Selected cluster nodes; position = final label.
    selected: Vec<usize>,
    labels: Vec<i64>,
    probabilities: Vec<f64>,
    mst_total_weight: f64,
    // Derived lookups.
    point_edge: Vec<(usize, f64)>,
    cluster_parent: Vec<Option<(usize, f64)>>,
    max_lambda: Vec<f64>,
}

impl FittedHdbscan {
    #[allow(clippy::too_many_arguments)]
    fn from_parts(
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
        let n = self.data.nrows();
        SavedState {
            kind: "hdbscan".into(),
            params: serde_json::to_value(&self.params).unwrap_or(serde_json::Value::Null),
            arrays: vec![
                NamedArray {
                    name: "data".into(),
                    shape: vec![n, self.data.ncols()],
                    data: ArrayData::F64(self.data.iter().copied().collect()),
                },
                NamedArray {
                    name: "core_distances".into(),
                    shape: vec![n],
                    data: ArrayData::F64(self.core.clone()),
                },
                NamedArray {
                    name: "tree_parent".into(),
                    shape: vec![self.tree.len()],
                    data: ArrayData::I64(self.tree.iter().map(|e| e.parent as i64).collect()),
                },
                NamedArray {
                    name: "tree_child".into(),
                    shape: vec![self.tree.len()],
                    data: ArrayData::I64(self.tree.iter().map(|e| e.child as i64).collect()),
                },
                NamedArray {
                    name: "tree_lambda".into(),
                    shape: vec![self.tree.len()],
                    data: ArrayData::F64(self.tree.iter().map(|e| e.lambda).collect()),
                },
                NamedArray {
                    name: "tree_size".into(),
                    shape: vec![self.tree.len()],
                    data: ArrayData::I64(self.tree.iter().map(|e| e.size as i64).collect()),
                },
                NamedArray {
                    name: "selected".into(),
                    shape: vec![self.selected.len()],
                    data: ArrayData::I64(self.selected.iter().map(|&c| c as i64).collect()),
                },
                NamedArray {
                    name: "labels".into(),
                    shape: vec![n],
                    data: ArrayData::I64(self.labels.clone()),
                },
                NamedArray {
                    name: "probabilities".into(),
                    shape: vec![n],
                    data: ArrayData::F64(self.probabilities.clone()),
                },
                NamedArray {
                    name: "mst_total_weight".into(),
                    shape: vec![1],
                    data: ArrayData::F64(vec![self.mst_total_weight]),
                },
            ],
        }
    }
}

pub(crate) fn load(state: &SavedState) -> Result<FittedHdbscan, ClusterError> {
    let params: HdbscanParams = serde_json::from_value(state.params.clone())
        .map_err(|e| ClusterError::BadState(format!("hdbscan params: {e}")))?;
    let f = |name: &str| -> Result<(&[usize], &[f64]), ClusterError> {
        match state.arrays.iter().find(|a| a.name == name) {
            Some(NamedArray {
                shape,
                data: ArrayData::F64(v),
                ..
            }) => Ok((shape, v)),
            _ => Err(ClusterError::BadState(format!("missing f64 array {name}"))),
        }
    };
    let i = |name: &str| -> Result<&[i64], ClusterError> {
        match state.arrays.iter().find(|a| a.name == name) {
            Some(NamedArray {
                data: ArrayData::I64(v),
                ..
            }) => Ok(v),
            _ => Err(ClusterError::BadState(format!("missing i64 array {name}"))),
        }
    };
    let (shape, flat) = f("data")?;
    if shape.len() != 2 {
        return Err(ClusterError::BadState("data is not 2-d".into()));
    }
    let data = Array2::from_shape_vec((shape[0], shape[1]), flat.to_vec())
        .map_err(|e| ClusterError::BadState(format!("data: {e}")))?;
    let n = data.nrows();
    let (_, core) = f("core_distances")?;
    let (_, lambda) = f("tree_lambda")?;
    let (parent, child, size) = (i("tree_parent")?, i("tree_child")?, i("tree_size")?);
    if parent.len() != lambda.len()
        || child.len() != lambda.len()
        || size.len() != lambda.len()
        || core.len() != n
    {
        return Err(ClusterError::BadState("inconsistent array lengths".into()));
    }
    let as_usize = |v: i64| {
        usize::try_from(v).map_err(|_| ClusterError::BadState(format!("negative index {v}")))
    };
    let mut tree = Vec::with_capacity(lambda.len());
    for k in 0..lambda.len() {
        tree.push(TreeEdge {
            parent: as_usize(parent[k])?,
            child: as_usize(child[k])?,
            lambda: lambda[k],
            size: as_usize(size[k])?,
        });
    }
    let max_node = n + tree.len() + 1;
    if tree
        .iter()
        .any(|e| e.parent < n || e.parent > max_node || e.child > max_node)
    {
        return Err(ClusterError::BadState(
            "condensed tree refers to unknown nodes".into(),
        ));
    }
    let selected = i("selected")?
        .iter()
        .map(|&v| as_usize(v))
        .collect::<Result<Vec<_>, _>>()?;
    let labels = i("labels")?.to_vec();
    let (_, probs) = f("probabilities")?;
    let (_, w) = f("mst_total_weight")?;
    if labels.len() != n || probs.len() != n {
        return Err(ClusterError::BadState(
            "labels/probabilities length differs from data".into(),
        ));
    }
    Ok(FittedHdbscan::from_parts(
        params,
        data,
        core.to_vec(),
        tree,
        selected,
        labels,
        probs.to_vec(),
        w.first().copied().unwrap_or(0.0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute-force core distances: the previous implementation, kept as the oracle.
    fn brute(data: ArrayView2<f64>, k: usize) -> Vec<f64> {
        let data = data.as_standard_layout().to_owned();
        (0..data.nrows())
            .map(|i| {
                let q = data.row(i).to_vec();
                knn_dists(data.view(), &q, k, Some(i))
                    .last()
                    .map_or(f64::INFINITY, |&(d, _)| d)
            })
            .collect()
    }

    /// Seeded 53-bit pseudo-random integers (xorshift64) for test data.
    fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state >> 11
        }
    }

    /// Our Prim against the index-order oracle: same edges, same order, same weight bits.
    fn assert_same_tree_as_reference(x: ArrayView2<f64>, core: &[f64], what: &str) {
        let (got, _) = prim_mst(x, core);
        let want = prim_reference(x, core);
        assert_eq!(got.len(), want.len(), "{what}");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(
                (g.0, g.1, g.2.to_bits()),
                (w.0, w.1, w.2.to_bits()),
                "{what}"
            );
        }
    }

    /// Textbook Prim in index order (the earlier implementation's rules), as the oracle.
    fn prim_reference(data: ArrayView2<f64>, core: &[f64]) -> Vec<(usize, usize, f64)> {
        let n = data.nrows();
        let rows: Vec<Vec<f64>> = data.rows().into_iter().map(|r| r.to_vec()).collect();
        let mut in_tree = vec![false; n];
        let mut best = vec![f64::INFINITY; n];
        let mut from = vec![0usize; n];
        let mut edges = Vec::new();
        let mut current = 0;
        in_tree[0] = true;
        for _ in 1..n {
            let mut win = (f64::INFINITY, usize::MAX);
            for j in 0..n {
                if in_tree[j] {
                    continue;
                }
                let mr = sqdist(&rows[current], &rows[j])
                    .sqrt()
                    .max(core[current])
                    .max(core[j]);
                if mr < best[j] {
                    best[j] = mr;
                    from[j] = current;
                }
                if best[j] < win.0 {
                    win = (best[j], j);
                }
            }
            in_tree[win.1] = true;
            edges.push((from[win.1], win.1, win.0));
            current = win.1;
        }
        edges
    }

    #[test]
    fn prim_equals_index_order_prim_bitwise() {
        let mut bits = xorshift(0x2545_F491_4F6C_DD1D);
        // Coarse values: many exactly equal distances, so tie handling is exercised.
        let mut next = || (bits() % 7) as f64;
        for (n, d) in [(200, 5), (150, 2), (90, 3), (9000, 5)] {
            let v: Vec<f64> = (0..n * d).map(|_| next()).collect();
            let x = Array2::from_shape_vec((n, d), v).unwrap();
            let core = core_distances(x.view(), 5);
            assert_same_tree_as_reference(x.view(), &core, &format!("n {n} d {d}"));
        }
    }

    /// Continuous clustered data, where the tree prunes most boxes: still the same tree.
    #[test]
    fn pruned_prim_equals_index_order_prim_on_clustered_data() {
        let mut bits = xorshift(0x1234_5678_9ABC_DEF1);
        let mut unit = || bits() as f64 / (1u64 << 53) as f64;
        for (n, d, k) in [(3000, 5, 10), (1200, 3, 5), (800, 7, 4), (600, 2, 1)] {
            let mut v = Vec::with_capacity(n * d);
            for i in 0..n {
                let centre = (i % 9) as f64 * 2.5;
                for t in 0..d {
                    let spread = if i % 9 == 0 { 3.0 } else { 0.4 };
                    v.push(centre * (t as f64 + 1.0).sqrt() + spread * (unit() - 0.5));
                }
            }
            let x = Array2::from_shape_vec((n, d), v).unwrap();
            let core = core_distances(x.view(), k);
            let want_core = brute(x.view(), k);
            for (g, w) in core.iter().zip(&want_core) {
                assert_eq!(g.to_bits(), w.to_bits(), "core n {n} d {d}");
            }
            assert_same_tree_as_reference(x.view(), &core, &format!("n {n} d {d}"));
        }
    }

    #[test]
    fn tree_core_distances_equal_brute_force_bitwise() {
        let mut bits = xorshift(0x9E37_79B9_7F4A_7C15);
        let mut next = || bits() as f64 / (1u64 << 53) as f64;
        for (n, d) in [(300, 5), (257, 2), (120, 7), (40, 10), (5, 5)] {
            // Clustered points with exact duplicates and shared first coordinates (ties).
            let mut v = Vec::with_capacity(n * d);
            for i in 0..n {
                let c = (i % 4) as f64 * 3.0;
                for t in 0..d {
                    let x = if i % 17 == 0 && i > 0 {
                        v[(i - 1) * d + t]
                    } else {
                        c + next()
                    };
                    v.push(if t == 0 && i % 5 == 0 { c } else { x });
                }
            }
            let x = Array2::from_shape_vec((n, d), v).unwrap();
            for k in [1, 5, 10, n + 3] {
                let got = core_distances(x.view(), k);
                let want = brute(x.view(), k);
                assert_eq!(got.len(), want.len());
                for (g, w) in got.iter().zip(&want) {
                    assert_eq!(g.to_bits(), w.to_bits(), "n {n} d {d} k {k}");
                }
            }
        }
    }
}
