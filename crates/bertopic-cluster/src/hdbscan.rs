//! HDBSCAN as the `hdbscan` Python library computes it: core distances (k-th nearest *other*
//! point), mutual reachability, minimum spanning tree (Borůvka on a kd-tree, exact), single
//! linkage, condensed tree, excess-of-mass or leaf selection (with `cluster_selection_epsilon`
//! and `allow_single_cluster`), membership probabilities, and approximate prediction for new
//! points.

use std::sync::atomic::AtomicU64;

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::kdtree::{key_less, BoruvkaState, EdgeKey, KdTree};
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

/// HDBSCAN hyperparameters, with BERTopic's defaults (`min_cluster_size` 10, the rest as the
/// `hdbscan` library's defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HdbscanParams {
    /// Smallest group that counts as a cluster (at least 2).
    pub min_cluster_size: usize,
    /// Neighbours for the core distance; `None` = `min_cluster_size` (hdbscan's default).
    pub min_samples: Option<usize>,
    /// Cluster selection method.
    pub selection: ClusterSelection,
    /// Clusters born closer than this distance are merged into their parent
    /// (hdbscan's `cluster_selection_epsilon`; 0 = off).
    pub cluster_selection_epsilon: f64,
    /// Allow the root to be the single cluster.
    pub allow_single_cluster: bool,
}

impl Default for HdbscanParams {
    fn default() -> Self {
        HdbscanParams {
            min_cluster_size: 10,
            min_samples: None,
            selection: ClusterSelection::Eom,
            cluster_selection_epsilon: 0.0,
            allow_single_cluster: false,
        }
    }
}

impl HdbscanParams {
    fn min_samples(&self) -> usize {
        self.min_samples.unwrap_or(self.min_cluster_size)
    }

    fn validate(&self) -> Result<(), ClusterError> {
        if self.min_cluster_size < 2 {
            return Err(ClusterError::InvalidParams(format!(
                "min_cluster_size must be at least 2 (got {})",
                self.min_cluster_size
            )));
        }
        if self.min_samples == Some(0) {
            return Err(ClusterError::InvalidParams(
                "min_samples must be at least 1 (or None to use min_cluster_size)".into(),
            ));
        }
        if !self.cluster_selection_epsilon.is_finite() || self.cluster_selection_epsilon < 0.0 {
            return Err(ClusterError::InvalidParams(format!(
                "cluster_selection_epsilon must be a finite distance >= 0 (got {})",
                self.cluster_selection_epsilon
            )));
        }
        Ok(())
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
        params.validate()?;
        Ok(Hdbscan { params })
    }

    /// The validated parameters.
    pub fn params(&self) -> &HdbscanParams {
        &self.params
    }

    /// Fits and returns the concrete fitted model (condensed tree, MST weight, core
    /// distances).
    pub fn fit_concrete(&self, data: ArrayView2<f64>) -> Result<FittedHdbscan, ClusterError> {
        crate::check_finite(data)?;
        let (n, d) = data.dim();
        if n == 0 {
            return Err(ClusterError::TooFewPoints {
                n,
                needed: 1,
                what: "HDBSCAN fit",
            });
        }
        if d == 0 {
            return Err(ClusterError::NoDimensions);
        }
        let data = data.as_standard_layout().to_owned();
        let flat = data.as_slice().map(<[f64]>::to_vec).unwrap_or_default();
        let kd = KdTree::new(&flat, d);
        let wanted = self.params.min_samples();
        // Like hdbscan: min_samples is capped at n - 1 (and at least 1).
        let k = wanted.min(n - 1).max(1);
        let (core, pred_core) = if n == 1 {
            (vec![f64::INFINITY], vec![0.0])
        } else {
            core_and_prediction_distances(&kd, &flat, d, k, wanted)
        };
        let mst = if n > 1 {
            boruvka_mst(&kd, &core)
        } else {
            Vec::new()
        };
        let mst_total_weight = mst.iter().map(|e| e.0).sum();
        let linkage = single_linkage(n, mst);
        let tree = condense(&linkage, n, self.params.min_cluster_size);
        let info = ClusterInfo::new(&tree, n);
        let selected = select_clusters(&info, &self.params);
        let (raw_labels, raw_probs) = label_points(&tree, &info, n, &selected, &self.params);
        // Renumber by size, largest first; ties by the smallest member index. Selected
        // clusters that ended with no member (a root cut below every point) are dropped.
        let mut stats: Vec<(usize, usize, usize)> = (0..selected.len())
            .map(|i| (i, 0usize, usize::MAX))
            .collect();
        for (p, &l) in raw_labels.iter().enumerate() {
            if l >= 0 {
                let s = &mut stats[l as usize];
                s.1 += 1;
                s.2 = s.2.min(p);
            }
        }
        stats.retain(|s| s.1 > 0);
        stats.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
        let mut new_of = vec![-1i64; selected.len()];
        let mut ordered_selected = Vec::with_capacity(stats.len());
        for (new, &(old, _, _)) in stats.iter().enumerate() {
            new_of[old] = new as i64;
            ordered_selected.push(selected[old] + n);
        }
        let labels: Vec<i64> = raw_labels
            .iter()
            .map(|&l| if l < 0 { -1 } else { new_of[l as usize] })
            .collect();
        FittedHdbscan::from_parts(
            self.params.clone(),
            data,
            core,
            pred_core,
            tree,
            ordered_selected,
            labels,
            raw_probs,
            mst_total_weight,
        )
    }
}

impl Clusterer for Hdbscan {
    fn fit(&self, data: ArrayView2<f64>) -> Result<Box<dyn FittedClusterer>, ClusterError> {
        Ok(Box::new(self.fit_concrete(data)?))
    }
}

/// Core distances (k-th nearest other point) and the core distances that hdbscan's
/// prediction data uses (its k-NN query counts the point itself, so `wanted`-th nearest
/// *including* the point), from one k-NN pass.
fn core_and_prediction_distances(
    kd: &KdTree,
    flat: &[f64],
    d: usize,
    k: usize,
    wanted: usize,
) -> (Vec<f64>, Vec<f64>) {
    let n = kd.len();
    (0..n)
        .into_par_iter()
        .map(|i| {
            // The query point is among its own k + 1 nearest (at distance 0), and which
            // index counts as "itself" among duplicates does not change the distances.
            let nb = kd.knn(&flat[i * d..(i + 1) * d], k + 1);
            let core = nb.last().map_or(f64::INFINITY, |&(dist, _)| dist);
            let p = wanted.min(nb.len()).max(1) - 1;
            (core, nb.get(p).map_or(0.0, |&(dist, _)| dist))
        })
        .unzip()
}

/// Core distance of every point: the distance to its `min_samples`-th nearest *other* point
/// (the `hdbscan` library's convention; scikit-learn counts the point itself). As in
/// hdbscan, `min_samples` is capped at `n - 1`; a single point gets infinity. Rows must be
/// finite.
pub fn core_distances(data: ArrayView2<f64>, min_samples: usize) -> Vec<f64> {
    let (n, d) = data.dim();
    if n == 0 {
        return Vec::new();
    }
    if n == 1 || d == 0 {
        return vec![if n == 1 { f64::INFINITY } else { 0.0 }; n];
    }
    let data = data.as_standard_layout().to_owned();
    let flat = data.as_slice().map(<[f64]>::to_vec).unwrap_or_default();
    let kd = KdTree::new(&flat, d);
    let k = min_samples.min(n - 1).max(1);
    core_and_prediction_distances(&kd, &flat, d, k, k).0
}

/// Minimal spanning tree of the mutual-reachability graph by Borůvka's algorithm: each
/// round, every component joins its least edge to another component, found with kd-tree
/// searches pruned by box distance, core distances and the component's best so far. Edges
/// are ordered by (weight, lower index, higher index), so the tree is unique and identical
/// for any thread count.
fn boruvka_mst(kd: &KdTree, core: &[f64]) -> Vec<EdgeKey> {
    let n = kd.len();
    let st = BoruvkaState::new(kd, core);
    let mut uf = UnionFind::new(n);
    let mut edges: Vec<EdgeKey> = Vec::with_capacity(n.saturating_sub(1));
    while edges.len() + 1 < n {
        let comp: Vec<usize> = (0..n).map(|p| uf.find(st.original(p))).collect();
        let node_comp = st.node_components(&comp);
        let bounds: Vec<AtomicU64> = (0..n)
            .map(|_| AtomicU64::new(f64::INFINITY.to_bits()))
            .collect();
        let found: Vec<Option<EdgeKey>> = (0..n)
            .into_par_iter()
            .map(|p| st.nearest_other(p, &comp, &node_comp, &bounds[comp[p]]))
            .collect();
        let mut best: Vec<Option<EdgeKey>> = vec![None; n];
        for (p, f) in found.into_iter().enumerate() {
            if let Some(key) = f {
                let slot = &mut best[comp[p]];
                if slot.is_none_or(|b| key_less(&key, &b)) {
                    *slot = Some(key);
                }
            }
        }
        let mut chosen: Vec<EdgeKey> = best.into_iter().flatten().collect();
        chosen.sort_by(cmp_key);
        let before = edges.len();
        for key in chosen {
            if uf.union(key.1, key.2) {
                edges.push(key);
            }
        }
        if edges.len() == before {
            break; // cannot happen for finite data; guards against an endless loop
        }
    }
    edges
}

fn cmp_key(a: &EdgeKey, b: &EdgeKey) -> std::cmp::Ordering {
    a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2))
}

struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
        }
    }
    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }
    fn union(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        // The smaller root wins: deterministic component ids.
        let (lo, hi) = (ra.min(rb), ra.max(rb));
        self.parent[hi] = lo;
        true
    }
}

/// Merge steps of single linkage: (left, right, distance, size); new nodes are n, n+1, ….
struct Linkage {
    rows: Vec<(usize, usize, f64, usize)>,
}

fn single_linkage(n: usize, mut edges: Vec<EdgeKey>) -> Linkage {
    // Sorted by the full key: ties in weight merge in a fixed order.
    edges.sort_by(cmp_key);
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
    for (w, a, b) in edges {
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
    /// Parent cluster node (≥ n; the root is n).
    pub parent: usize,
    /// A point (< n) or a child cluster (≥ n).
    pub child: usize,
    /// 1 / distance at which the child leaves the parent (infinite at distance 0).
    pub lambda: f64,
    /// Points in the child.
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

/// The cluster nodes of a condensed tree (node `n + i` ↔ index `i`; the root is index 0).
/// Clusters are numbered in preorder, so a parent's index is below its children's.
#[derive(Clone, Debug, Default)]
struct ClusterInfo {
    /// Lambda at which each cluster appears (root: 0).
    birth: Vec<f64>,
    parent: Vec<Option<usize>>,
    children: Vec<Vec<usize>>,
    /// Largest lambda among each cluster's direct children (hdbscan's "death").
    max_lambda: Vec<f64>,
    /// Excess of mass: Σ over children of (lambda − birth) × size.
    stability: Vec<f64>,
}

impl ClusterInfo {
    fn new(tree: &[TreeEdge], n: usize) -> Self {
        let m = match tree.iter().map(|e| e.parent.max(e.child)).max() {
            Some(top) if top >= n => top - n + 1,
            _ => 0,
        };
        let mut info = ClusterInfo {
            birth: vec![0.0; m],
            parent: vec![None; m],
            children: vec![Vec::new(); m],
            max_lambda: vec![0.0; m],
            stability: vec![0.0; m],
        };
        for e in tree.iter().filter(|e| e.child >= n) {
            info.birth[e.child - n] = e.lambda;
            info.parent[e.child - n] = Some(e.parent - n);
            info.children[e.parent - n].push(e.child - n);
        }
        for e in tree {
            let p = e.parent - n;
            info.max_lambda[p] = info.max_lambda[p].max(e.lambda);
            // Equal lambdas add nothing; skipping them avoids inf − inf for clusters born
            // at distance 0 (duplicate points).
            if e.lambda > info.birth[p] {
                info.stability[p] += (e.lambda - info.birth[p]) * e.size as f64;
            }
        }
        info
    }

    fn len(&self) -> usize {
        self.birth.len()
    }

    fn descendants(&self, c: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = self.children[c].clone();
        while let Some(k) = stack.pop() {
            out.push(k);
            stack.extend(self.children[k].iter().copied());
        }
        out
    }
}

/// Selected cluster indices (into [`ClusterInfo`]), ascending, following hdbscan's rules.
fn select_clusters(info: &ClusterInfo, params: &HdbscanParams) -> Vec<usize> {
    let m = info.len();
    if m == 0 {
        return Vec::new();
    }
    let has_subclusters = m > 1;
    let eps = params.cluster_selection_epsilon;
    let single = params.allow_single_cluster;
    let mut selected: Vec<usize> = match params.selection {
        ClusterSelection::Eom => {
            let mut is_cluster = vec![true; m];
            is_cluster[0] = single;
            let mut stab = info.stability.clone();
            let lowest = if single { 0 } else { 1 };
            // Children have larger indices than their parents: bottom-up.
            for c in (lowest..m).rev() {
                let subtree: f64 = info.children[c].iter().map(|&k| stab[k]).sum();
                if subtree > stab[c] {
                    is_cluster[c] = false;
                    stab[c] = subtree;
                } else {
                    for k in info.descendants(c) {
                        is_cluster[k] = false;
                    }
                }
            }
            let eom: Vec<usize> = (0..m).filter(|&c| is_cluster[c]).collect();
            if eps != 0.0 && has_subclusters {
                if eom == [0] {
                    if single {
                        eom
                    } else {
                        Vec::new()
                    }
                } else {
                    epsilon_search(&eom, info, eps, single)
                }
            } else {
                eom
            }
        }
        ClusterSelection::Leaf => {
            let leaves: Vec<usize> = if has_subclusters {
                (1..m).filter(|&c| info.children[c].is_empty()).collect()
            } else {
                Vec::new()
            };
            if eps != 0.0 {
                epsilon_search(&leaves, info, eps, single)
            } else if leaves.is_empty() {
                // No split at all: the root stands; labelling decides whether it counts.
                vec![0]
            } else {
                leaves
            }
        }
    };
    selected.sort_unstable();
    selected.dedup();
    selected
}

/// Replaces clusters born below distance `eps` by their closest ancestor born above it
/// (hdbscan's epsilon search), visiting candidates in increasing index order.
fn epsilon_search(candidates: &[usize], info: &ClusterInfo, eps: f64, single: bool) -> Vec<usize> {
    let mut processed = vec![false; info.len()];
    let mut out = Vec::new();
    for &leaf in candidates {
        if leaf == 0 || 1.0 / info.birth[leaf] >= eps {
            out.push(leaf);
            continue;
        }
        if processed[leaf] {
            continue;
        }
        let mut node = leaf;
        let chosen = loop {
            match info.parent[node] {
                None | Some(0) => break if single { 0 } else { node },
                Some(p) => {
                    if 1.0 / info.birth[p] > eps {
                        break p;
                    }
                    node = p;
                }
            }
        };
        out.push(chosen);
        for k in info.descendants(chosen) {
            processed[k] = true;
        }
    }
    out
}

/// For each cluster index: position in `selected` of its nearest selected ancestor-or-self.
fn resolve_selected(info: &ClusterInfo, selected: &[usize]) -> Vec<Option<usize>> {
    let mut out: Vec<Option<usize>> = vec![None; info.len()];
    for (i, &c) in selected.iter().enumerate() {
        out[c] = Some(i);
    }
    // Parents precede children: one ascending pass propagates downwards.
    for c in 0..info.len() {
        if out[c].is_none() {
            out[c] = info.parent[c].and_then(|p| out[p]);
        }
    }
    out
}

/// The condensed-tree edge of every point (parent cluster index, lambda).
fn point_edges(tree: &[TreeEdge], n: usize) -> Vec<Option<(usize, f64)>> {
    let mut out = vec![None; n];
    for e in tree.iter().filter(|e| e.child < n) {
        out[e.child] = Some((e.parent - n, e.lambda));
    }
    out
}

/// hdbscan's membership strength: the point's lambda over its cluster's largest lambda.
fn membership(lambda: f64, max_lambda: f64) -> f64 {
    if max_lambda == 0.0 || !lambda.is_finite() {
        1.0
    } else {
        lambda.min(max_lambda) / max_lambda
    }
}

/// Labels (index into `selected`, −1 = noise) and probabilities of the training points.
fn label_points(
    tree: &[TreeEdge],
    info: &ClusterInfo,
    n: usize,
    selected: &[usize],
    params: &HdbscanParams,
) -> (Vec<i64>, Vec<f64>) {
    let mut labels = vec![-1i64; n];
    let mut probs = vec![0.0; n];
    let resolved = resolve_selected(info, selected);
    // The root counts as a cluster only when it is the single selected one and that is
    // allowed; then only points denser than a threshold belong to it.
    let root_threshold = if selected == [0] && params.allow_single_cluster {
        Some(if params.cluster_selection_epsilon != 0.0 {
            1.0 / params.cluster_selection_epsilon
        } else {
            info.max_lambda[0]
        })
    } else {
        None
    };
    for (p, edge) in point_edges(tree, n).into_iter().enumerate() {
        let Some((c, lambda)) = edge else { continue };
        let Some(i) = resolved[c] else { continue };
        let node = selected[i];
        if node == 0 {
            match root_threshold {
                Some(t) if lambda >= t => {}
                _ => continue,
            }
        }
        labels[p] = i as i64;
        probs[p] = membership(lambda, info.max_lambda[node]);
    }
    (labels, probs)
}

/// A fitted HDBSCAN model: labels, probabilities, and what approximate prediction needs.
#[derive(Clone, Debug)]
pub struct FittedHdbscan {
    params: HdbscanParams,
    data: Array2<f64>,
    core: Vec<f64>,
    /// Core distances as hdbscan's prediction data computes them (the point itself counted).
    pred_core: Vec<f64>,
    tree: Vec<TreeEdge>,
    /// Selected cluster nodes (≥ n); position = final label.
    selected: Vec<usize>,
    labels: Vec<i64>,
    probabilities: Vec<f64>,
    mst_total_weight: f64,
    // Derived lookups.
    kd: KdTree,
    info: ClusterInfo,
    point_edge: Vec<(usize, f64)>,
    /// Final label of each cluster index (nearest selected ancestor-or-self), −1 if none.
    label_of_cluster: Vec<i64>,
}

impl FittedHdbscan {
    #[allow(clippy::too_many_arguments)]
    fn from_parts(
        params: HdbscanParams,
        data: Array2<f64>,
        core: Vec<f64>,
        pred_core: Vec<f64>,
        tree: Vec<TreeEdge>,
        selected: Vec<usize>,
        labels: Vec<i64>,
        probabilities: Vec<f64>,
        mst_total_weight: f64,
    ) -> Result<Self, ClusterError> {
        let bad = |what: &str| Err(ClusterError::BadState(what.to_string()));
        let (n, d) = data.dim();
        if core.len() != n || pred_core.len() != n || labels.len() != n || probabilities.len() != n
        {
            return bad("core distances, labels or probabilities do not match the data length");
        }
        let top = n + tree.len();
        if tree
            .iter()
            .any(|e| e.parent < n || e.parent > top || e.child > top)
        {
            return bad("condensed tree refers to unknown nodes");
        }
        let info = ClusterInfo::new(&tree, n);
        for (c, p) in info.parent.iter().enumerate() {
            if p.is_some_and(|p| p >= c) {
                return bad("condensed tree is not in parent-before-child order");
            }
        }
        if selected.iter().any(|&s| s < n || s - n >= info.len()) {
            return bad("selected clusters are not nodes of the condensed tree");
        }
        let edges = point_edges(&tree, n);
        if !tree.is_empty() && edges.iter().any(Option::is_none) {
            return bad("a point is missing from the condensed tree");
        }
        let k = selected.len() as i64;
        if labels.iter().any(|&l| l < -1 || l >= k) {
            return bad("labels out of range");
        }
        let point_edge = edges.into_iter().map(|e| e.unwrap_or((0, 0.0))).collect();
        let sel_idx: Vec<usize> = selected.iter().map(|&s| s - n).collect();
        let label_of_cluster = resolve_selected(&info, &sel_idx)
            .into_iter()
            .map(|o| o.map_or(-1, |i| i as i64))
            .collect();
        let flat = data.as_slice().map(<[f64]>::to_vec).unwrap_or_default();
        let kd = KdTree::new(&flat, d);
        Ok(FittedHdbscan {
            params,
            data,
            core,
            pred_core,
            tree,
            selected,
            labels,
            probabilities,
            mst_total_weight,
            kd,
            info,
            point_edge,
            label_of_cluster,
        })
    }

    /// The parameters this model was fitted with.
    pub fn params(&self) -> &HdbscanParams {
        &self.params
    }

    /// Total weight of the mutual-reachability minimum spanning tree.
    pub fn mst_total_weight(&self) -> f64 {
        self.mst_total_weight
    }

    /// Core distance of every training point.
    pub fn core_distances(&self) -> &[f64] {
        &self.core
    }

    /// The condensed tree (points are nodes `0..n`, clusters `n..`, the root is `n`).
    pub fn condensed_tree(&self) -> &[TreeEdge] {
        &self.tree
    }

    /// Condensed-tree node of each final cluster (index = label).
    pub fn selected_nodes(&self) -> &[usize] {
        &self.selected
    }

    /// hdbscan's `cluster_persistence_`: each cluster's stability divided by its size times
    /// the largest lambda in the tree (1 if that is 0 or infinite), index = label.
    pub fn cluster_persistence(&self) -> Vec<f64> {
        let n = self.data.nrows();
        let max_lambda = self.tree.iter().map(|e| e.lambda).fold(0.0, f64::max);
        let mut sizes = vec![0usize; self.selected.len()];
        for &l in self.labels.iter().filter(|&&l| l >= 0) {
            sizes[l as usize] += 1;
        }
        self.selected
            .iter()
            .zip(&sizes)
            .map(|(&c, &size)| {
                if !max_lambda.is_finite() || max_lambda == 0.0 || size == 0 {
                    1.0
                } else {
                    self.info.stability[c - n] / (size as f64 * max_lambda)
                }
            })
            .collect()
    }

    /// hdbscan's `approximate_predict` for one point: its 2·min_samples nearest training
    /// points, the nearest of them by mutual reachability (the new point's core distance is
    /// the distance to its (min_samples+1)-th nearest), attach there in the condensed tree,
    /// climb while the attaching lambda is below a cluster's birth, report the selected
    /// cluster above (or noise) and lambda over the cluster's largest lambda.
    fn predict_one(&self, x: &[f64]) -> (i64, f64) {
        let n = self.data.nrows();
        if self.tree.is_empty() || self.selected.is_empty() {
            return (-1, 0.0);
        }
        let wanted = self.params.min_samples().max(1);
        let nb = self.kd.knn(x, (2 * wanted).min(n));
        let Some(&(_, _)) = nb.first() else {
            return (-1, 0.0);
        };
        let core_x = nb[wanted.min(nb.len() - 1)].0;
        let mut best = (f64::INFINITY, usize::MAX);
        for &(dist, j) in &nb {
            let mr = dist.max(core_x).max(self.pred_core[j]);
            if mr < best.0 {
                best = (mr, j);
            }
        }
        let (mr, nn) = best;
        if nn == usize::MAX {
            return (-1, 0.0);
        }
        let lambda = if mr > 0.0 { 1.0 / mr } else { f64::MAX };
        let (mut c, nn_lambda) = self.point_edge[nn];
        if nn_lambda > lambda {
            // The new point joins farther out than its neighbour: it belongs to the
            // cluster that was alive at its own lambda.
            while let Some(p) = self.info.parent[c] {
                if self.info.birth[c] < lambda {
                    break;
                }
                c = p;
            }
        }
        match self.label_of_cluster[c] {
            l if l >= 0 => {
                let node = self.selected[l as usize] - n;
                let ml = self.info.max_lambda[node];
                let prob = if ml > 0.0 { lambda.min(ml) / ml } else { 1.0 };
                (l, prob)
            }
            _ => (-1, 0.0),
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
        let data = data.as_standard_layout();
        let d = data.ncols();
        let flat = data.as_slice().map(<[f64]>::to_vec).unwrap_or_default();
        let out: Vec<(i64, f64)> = (0..data.nrows())
            .into_par_iter()
            .map(|i| self.predict_one(&flat[i * d..(i + 1) * d]))
            .collect();
        Ok(out.into_iter().unzip())
    }
    fn save_state(&self) -> SavedState {
        let n = self.data.nrows();
        let t = self.tree.len();
        let f = |name: &str, shape: Vec<usize>, v: Vec<f64>| NamedArray {
            name: name.into(),
            shape,
            data: ArrayData::F64(v),
        };
        let i = |name: &str, v: Vec<i64>| NamedArray {
            name: name.into(),
            shape: vec![v.len()],
            data: ArrayData::I64(v),
        };
        SavedState {
            kind: "hdbscan".into(),
            params: serde_json::to_value(&self.params).unwrap_or(serde_json::Value::Null),
            arrays: vec![
                f(
                    "data",
                    vec![n, self.data.ncols()],
                    self.data.iter().copied().collect(),
                ),
                f("core_distances", vec![n], self.core.clone()),
                f("prediction_core_distances", vec![n], self.pred_core.clone()),
                i(
                    "tree_parent",
                    self.tree.iter().map(|e| e.parent as i64).collect(),
                ),
                i(
                    "tree_child",
                    self.tree.iter().map(|e| e.child as i64).collect(),
                ),
                f(
                    "tree_lambda",
                    vec![t],
                    self.tree.iter().map(|e| e.lambda).collect(),
                ),
                i(
                    "tree_size",
                    self.tree.iter().map(|e| e.size as i64).collect(),
                ),
                i(
                    "selected",
                    self.selected.iter().map(|&c| c as i64).collect(),
                ),
                i("labels", self.labels.clone()),
                f("probabilities", vec![n], self.probabilities.clone()),
                f("mst_total_weight", vec![1], vec![self.mst_total_weight]),
            ],
        }
    }
}

pub(crate) fn load(state: &SavedState) -> Result<FittedHdbscan, ClusterError> {
    let params: HdbscanParams = serde_json::from_value(state.params.clone())
        .map_err(|e| ClusterError::BadState(format!("hdbscan params: {e}")))?;
    params.validate()?;
    let find = |name: &str| state.arrays.iter().find(|a| a.name == name);
    let f = |name: &str| -> Result<(&[usize], &[f64]), ClusterError> {
        match find(name) {
            Some(NamedArray {
                shape,
                data: ArrayData::F64(v),
                ..
            }) => Ok((shape, v)),
            _ => Err(ClusterError::BadState(format!(
                "missing f64 array `{name}`"
            ))),
        }
    };
    let i = |name: &str| -> Result<&[i64], ClusterError> {
        match find(name) {
            Some(NamedArray {
                data: ArrayData::I64(v),
                ..
            }) => Ok(v),
            _ => Err(ClusterError::BadState(format!(
                "missing i64 array `{name}`"
            ))),
        }
    };
    let (shape, flat) = f("data")?;
    if shape.len() != 2 || shape[0].checked_mul(shape[1]) != Some(flat.len()) {
        return Err(ClusterError::BadState(
            "`data` is not a 2-d array of its stated shape".into(),
        ));
    }
    let data = Array2::from_shape_vec((shape[0], shape[1]), flat.to_vec())
        .map_err(|e| ClusterError::BadState(format!("data: {e}")))?;
    crate::check_finite(data.view())?;
    let (_, core) = f("core_distances")?;
    let (_, pred_core) = f("prediction_core_distances")?;
    let (_, lambda) = f("tree_lambda")?;
    let (parent, child, size) = (i("tree_parent")?, i("tree_child")?, i("tree_size")?);
    if parent.len() != lambda.len() || child.len() != lambda.len() || size.len() != lambda.len() {
        return Err(ClusterError::BadState(
            "condensed tree arrays differ in length".into(),
        ));
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
    let selected = i("selected")?
        .iter()
        .map(|&v| as_usize(v))
        .collect::<Result<Vec<_>, _>>()?;
    let (_, probs) = f("probabilities")?;
    let (_, w) = f("mst_total_weight")?;
    FittedHdbscan::from_parts(
        params,
        data,
        core.to_vec(),
        pred_core.to_vec(),
        tree,
        selected,
        i("labels")?.to_vec(),
        probs.to_vec(),
        w.first().copied().unwrap_or(0.0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kdtree::edge_key;

    /// Prim's algorithm, O(n²), with the same (weight, low, high) edge order: the oracle for
    /// Borůvka, which must return exactly the same edges.
    fn prim_mst(flat: &[f64], d: usize, core: &[f64]) -> Vec<EdgeKey> {
        let n = core.len();
        let row = |i: usize| &flat[i * d..(i + 1) * d];
        let mut in_tree = vec![false; n];
        let mut best: Vec<Option<EdgeKey>> = vec![None; n];
        let mut edges = Vec::new();
        let mut cur = 0;
        in_tree[0] = true;
        for _ in 1..n {
            for j in 0..n {
                if in_tree[j] {
                    continue;
                }
                let w = crate::kdtree::sqdist(row(cur), row(j))
                    .sqrt()
                    .max(core[cur])
                    .max(core[j]);
                let key = edge_key(w, cur, j);
                if best[j].is_none_or(|b| key_less(&key, &b)) {
                    best[j] = Some(key);
                }
            }
            let next = (0..n)
                .filter(|&j| !in_tree[j])
                .min_by(|&a, &b| cmp_key(&best[a].unwrap(), &best[b].unwrap()))
                .unwrap();
            in_tree[next] = true;
            edges.push(best[next].unwrap());
            cur = next;
        }
        edges.sort_by(cmp_key);
        edges
    }

    /// Seeded points with clusters, exact duplicates and grid ties.
    fn awkward_points(n: usize, d: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 33) as f64 / (1u64 << 31) as f64
        };
        let mut v = Vec::with_capacity(n * d);
        for i in 0..n {
            let centre = (i % 4) as f64 * 3.0;
            for _ in 0..d {
                let x = centre + next();
                // Every fifth point on a coarse grid: many tied distances.
                v.push(if i % 5 == 0 {
                    (x * 4.0).round() / 4.0
                } else {
                    x
                });
            }
            if i % 17 == 3 && i >= 1 {
                // an exact duplicate of the previous point
                let prev: Vec<f64> = v[(i - 1) * d..i * d].to_vec();
                v[i * d..(i + 1) * d].copy_from_slice(&prev);
            }
        }
        v
    }

    #[test]
    fn knn_matches_brute_force() {
        let (n, d) = (700, 3);
        let flat = awkward_points(n, d, 5);
        let kd = KdTree::new(&flat, d);
        for q in (0..n).step_by(7) {
            let x = &flat[q * d..(q + 1) * d];
            let mut all: Vec<(f64, usize)> = (0..n)
                .map(|j| (crate::kdtree::sqdist(x, &flat[j * d..(j + 1) * d]), j))
                .collect();
            all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let want: Vec<(f64, usize)> = all[..12].iter().map(|&(s, j)| (s.sqrt(), j)).collect();
            assert_eq!(kd.knn(x, 12), want, "query {q}");
        }
    }

    #[test]
    fn boruvka_equals_prim() {
        for (n, d, seed, k) in [
            (400, 2, 1, 5),
            (600, 5, 2, 10),
            (300, 3, 3, 1),
            (64, 1, 4, 3),
        ] {
            let flat = awkward_points(n, d, seed);
            let x = Array2::from_shape_vec((n, d), flat.clone()).unwrap();
            let core = core_distances(x.view(), k);
            let kd = KdTree::new(&flat, d);
            let mut b = boruvka_mst(&kd, &core);
            b.sort_by(cmp_key);
            assert_eq!(b, prim_mst(&flat, d, &core), "n={n} d={d}");
        }
    }

    #[test]
    fn same_result_on_one_and_two_threads() {
        let (n, d) = (3000, 5);
        let x = Array2::from_shape_vec((n, d), awkward_points(n, d, 9)).unwrap();
        let h = Hdbscan::new(HdbscanParams::default()).unwrap();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let f = h.fit_concrete(x.view()).unwrap();
                let p = f.predict(x.view()).unwrap();
                (
                    f.labels.clone(),
                    f.probabilities.clone(),
                    f.mst_total_weight,
                    p,
                )
            })
        };
        assert_eq!(run(1), run(2));
    }
}
