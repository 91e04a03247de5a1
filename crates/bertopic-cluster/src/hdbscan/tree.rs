//! Stage 3: the condensed tree (single linkage pruned at `min_cluster_size`) and cluster
//! selection on it (excess of mass or leaves).

use super::mst::Linkage;
use super::{ClusterSelection, HdbscanParams};

/// One edge of the condensed tree: `child` (a point < n, or a cluster ≥ n) leaves `parent`
/// at `lambda` = 1 / distance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TreeEdge {
    /// The cluster node (≥ n) the child leaves.
    pub parent: usize,
    /// A point (< n) or a cluster node (≥ n).
    pub child: usize,
    /// 1 / the distance at which the child leaves (∞ at distance 0).
    pub lambda: f64,
    /// Number of points in the child.
    pub size: usize,
}

pub(super) fn condense(linkage: &Linkage, n: usize, min_cluster_size: usize) -> Vec<TreeEdge> {
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
pub(super) fn cluster_info(tree: &[TreeEdge], n: usize) -> (usize, Vec<f64>, Vec<Option<usize>>) {
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
pub(super) fn select_clusters(tree: &[TreeEdge], n: usize, params: &HdbscanParams) -> Vec<usize> {
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
