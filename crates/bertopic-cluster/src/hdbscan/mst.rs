//! Stage 2: the minimum spanning tree of the mutual-reachability graph (Prim, exact, over the
//! kd-tree) and the single-linkage merge order it gives.

use ndarray::ArrayView2;

use crate::distance::by_dim;
use crate::kdtree::KdTree;

/// Prim's algorithm on the mutual-reachability graph, computed on the fly over a kd-tree that
/// skips boxes which cannot improve (O(n) memory). Ties go to the lowest index, so the tree is
/// deterministic, and it equals the exhaustive index-order scan's bit for bit.
pub(super) fn prim_mst(data: ArrayView2<f64>, core: &[f64]) -> (Vec<(usize, usize, f64)>, f64) {
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
pub(super) struct Linkage {
    pub(super) rows: Vec<(usize, usize, f64, usize)>,
}

pub(super) fn single_linkage(n: usize, mut edges: Vec<(usize, usize, f64)>) -> Linkage {
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
