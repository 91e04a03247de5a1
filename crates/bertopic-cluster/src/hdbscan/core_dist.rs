//! Stage 1: the core distance of every point (distance to its `min_samples`-th nearest other
//! point), by an exact kd-tree search.

use ndarray::ArrayView2;

use crate::distance::by_dim;
use crate::kdtree::KdTree;

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
