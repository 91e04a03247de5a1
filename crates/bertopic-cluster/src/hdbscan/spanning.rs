//! Which exact minimum-spanning-tree method HDBSCAN runs: Prim over the kd-tree (the
//! reference) or Borůvka over the kd-tree (`kdtree/boruvka.rs`), which grows close to
//! n log n where Prim does not.
//!
//! Ties matter: mutual reachability is full of equal weights (every edge inside a point's
//! core radius weighs a core distance), and which of the tied edges the tree takes, and in
//! which order single linkage merges them, changes which small groups fall out of which
//! cluster. So the Borůvka path does not hand its own tree to single linkage: it replays
//! Prim's rules (start at row 0, a weight changes only on a strict improvement, the lowest
//! row joins among equals) on a sparse graph that holds every edge Prim can take: the
//! Borůvka tree (for every cut it holds an edge of the cut's minimum weight) plus every pair
//! within a point's core radius (the only edges whose weight can equal a core distance).
//! The result is Prim's tree, edge for edge and bit for bit, in Prim's order, unless two
//! different pairs are at exactly the same distance above both core distances (then the
//! tree is still a minimum one).

use ndarray::ArrayView2;

use crate::distance::by_dim;
use crate::kdtree::KdTree;

/// Points from which [`MstAlgorithm::Auto`] runs Borůvka instead of Prim (above the shared
/// corpora, so their results stay Prim's without relying on the replay).
pub const BORUVKA_MIN_POINTS: usize = 50_000;

/// The method for HDBSCAN's minimum spanning tree. Both give Prim's tree (see the module doc
/// for the one exception, exact distance ties above the core distances).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MstAlgorithm {
    /// Prim below [`BORUVKA_MIN_POINTS`] points, Borůvka from there on.
    #[default]
    Auto,
    /// Prim's algorithm (one point joins at a time; ties to the lowest row).
    Prim,
    /// Borůvka's algorithm (every component joins its nearest one each round), then Prim's
    /// rules replayed on the sparse candidate graph.
    Boruvka,
}

/// The MST of the mutual-reachability graph by `algo`: (a, b, weight) edges and the total.
pub(super) fn spanning_tree(
    data: ArrayView2<f64>,
    core: &[f64],
    algo: MstAlgorithm,
) -> (Vec<(usize, usize, f64)>, f64) {
    let boruvka = match algo {
        MstAlgorithm::Auto => data.nrows() >= BORUVKA_MIN_POINTS,
        MstAlgorithm::Prim => false,
        MstAlgorithm::Boruvka => true,
    };
    if !boruvka {
        return super::mst::prim_mst(data, core);
    }
    let data = data.as_standard_layout();
    let (n, d) = data.dim();
    let flat: Vec<f64> = data.iter().copied().collect();
    let tree = KdTree::new(&flat, n, d);
    by_dim!(d, boruvka_by_tree(&tree, core))
}

fn boruvka_by_tree<const D: usize>(tree: &KdTree, core: &[f64]) -> (Vec<(usize, usize, f64)>, f64) {
    let (mst, _) = tree.boruvka::<D>(core);
    let mut adj = tree.core_neighbours::<D>(core);
    // Both directions: `core_neighbours` holds q for p when q is within p's core radius.
    let mut back: Vec<(u32, u32, f64)> = Vec::new();
    for (p, l) in adj.iter().enumerate() {
        back.extend(l.iter().map(|&(q, w)| (q, p as u32, w)));
    }
    for (a, b, w) in mst {
        back.push((a as u32, b as u32, w));
        back.push((b as u32, a as u32, w));
    }
    for (a, b, w) in back {
        adj[a as usize].push((b, w));
    }
    prim_on_graph(&adj)
}

/// Prim from row 0 on a sparse graph, with the rules of the kd-tree Prim (`kdtree.rs`): a
/// candidate weight changes only on a strict improvement (so the parent is the earliest joined
/// point reaching it) and the lowest (weight, row) joins next. Returns (parent, child, weight)
/// in join order and the total summed in that order.
fn prim_on_graph(adj: &[Vec<(u32, f64)>]) -> (Vec<(usize, usize, f64)>, f64) {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let n = adj.len();
    let mut edges = Vec::with_capacity(n.saturating_sub(1));
    let mut total = 0.0;
    if n == 0 {
        return (edges, total);
    }
    let mut best = vec![f64::INFINITY; n];
    let mut from = vec![0usize; n];
    let mut joined = vec![false; n];
    // Weights are ≥ +0, so their bit patterns sort as the numbers do.
    let mut heap: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
    joined[0] = true;
    let mut current = 0usize;
    while edges.len() + 1 < n {
        for &(j, w) in &adj[current] {
            let j = j as usize;
            if !joined[j] && w < best[j] {
                best[j] = w;
                from[j] = current;
                heap.push(Reverse((w.to_bits(), j)));
            }
        }
        let next = loop {
            match heap.pop() {
                None => break None,
                Some(Reverse((bits, j))) => {
                    if !joined[j] && bits == best[j].to_bits() {
                        break Some(j);
                    }
                }
            }
        };
        let Some(next) = next else { break };
        let w = best[next];
        if w == f64::INFINITY {
            break;
        }
        edges.push((from[next], next, w));
        total += w;
        joined[next] = true;
        current = next;
    }
    (edges, total)
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;
    use proptest::prelude::*;

    use super::{spanning_tree, MstAlgorithm};
    use crate::hdbscan::core_distances;
    use crate::{FittedClusterer, Hdbscan, HdbscanParams};

    /// Seeded points: `n` rows of `d` values in [0, 1), or on a coarse grid (many tied
    /// distances and core distances) when `grid` is set.
    fn points(n: usize, d: usize, seed: u64, grid: bool) -> Array2<f64> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        Array2::from_shape_fn((n, d), |_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let u = (s >> 11) as f64 / (1u64 << 53) as f64;
            if grid {
                (u * 6.0).floor()
            } else {
                u
            }
        })
    }

    /// Borůvka's tree against Prim's: a spanning tree (n - 1 edges joining everything), the
    /// same sorted weights bit for bit, the same total within summation-order rounding.
    fn assert_same_weights(x: &Array2<f64>, k: usize, what: &str) {
        let core = core_distances(x.view(), k);
        let (p, pw) = spanning_tree(x.view(), &core, MstAlgorithm::Prim);
        let (b, bw) = spanning_tree(x.view(), &core, MstAlgorithm::Boruvka);
        assert_eq!(p.len(), b.len(), "{what}: edge count");
        assert_eq!(b.len(), x.nrows() - 1, "{what}: spanning");
        let mut parent: Vec<usize> = (0..x.nrows()).collect();
        fn find(p: &mut [usize], mut i: usize) -> usize {
            while p[i] != i {
                p[i] = p[p[i]];
                i = p[i];
            }
            i
        }
        for &(a, c, _) in &b {
            let (ra, rc) = (find(&mut parent, a), find(&mut parent, c));
            assert_ne!(ra, rc, "{what}: Borůvka edge ({a}, {c}) closes a cycle");
            parent[ra] = rc;
        }
        let sorted = |e: &[(usize, usize, f64)]| {
            let mut w: Vec<u64> = e.iter().map(|e| e.2.to_bits()).collect();
            w.sort_unstable();
            w
        };
        assert_eq!(sorted(&p), sorted(&b), "{what}: sorted weights");
        assert!(
            (pw - bw).abs() <= 1e-9 * pw.abs().max(1.0),
            "{what}: {pw} vs {bw}"
        );
    }

    /// On data without exact distance ties the Borůvka path gives Prim's tree bit for bit.
    #[test]
    fn boruvka_replay_is_prims_tree() {
        for (n, d, k) in [(900, 2, 5), (800, 5, 10), (600, 3, 1), (500, 5, 15)] {
            let x = points(n, d, 7 * n as u64 + k as u64, false);
            let core = core_distances(x.view(), k);
            let (p, pw) = spanning_tree(x.view(), &core, MstAlgorithm::Prim);
            let (b, bw) = spanning_tree(x.view(), &core, MstAlgorithm::Boruvka);
            let bits = |e: &[(usize, usize, f64)]| -> Vec<(usize, usize, u64)> {
                e.iter().map(|e| (e.0, e.1, e.2.to_bits())).collect()
            };
            assert_eq!(bits(&p), bits(&b), "n {n} d {d} k {k}");
            assert_eq!(pw.to_bits(), bw.to_bits(), "n {n} d {d} k {k}");
        }
    }

    #[test]
    fn boruvka_weights_equal_prim_on_random_and_tied_data() {
        for (n, d, grid) in [
            (600, 2, false),
            (700, 5, false),
            (500, 5, true),
            (400, 3, true),
        ] {
            for k in [1, 5, 15] {
                let x = points(n, d, n as u64 + k as u64, grid);
                assert_same_weights(&x, k, &format!("n {n} d {d} grid {grid} k {k}"));
            }
        }
    }

    #[test]
    fn boruvka_labels_equal_prim() {
        for (seed, grid) in [(1, false), (2, true), (3, false)] {
            // Blobs: clusters of varied density on top of uniform noise.
            let mut x = points(1500, 5, seed, grid);
            for (i, mut row) in x.rows_mut().into_iter().enumerate() {
                if i % 3 != 0 {
                    let c = (i % 7) as f64 * 4.0;
                    row.mapv_inplace(|v| c + v * (0.2 + (i % 5) as f64 * 0.1));
                }
            }
            let params = HdbscanParams {
                min_cluster_size: 15,
                ..HdbscanParams::default()
            };
            let fit = |algo| {
                Hdbscan::new(params.clone())
                    .unwrap()
                    .with_mst(algo)
                    .fit_concrete(x.view())
                    .unwrap()
            };
            let (p, b) = (fit(MstAlgorithm::Prim), fit(MstAlgorithm::Boruvka));
            assert!(p.n_clusters() > 1, "seed {seed}: the data has clusters");
            assert_eq!(p.labels(), b.labels(), "seed {seed} grid {grid}");
            assert_eq!(
                p.probabilities(),
                b.probabilities(),
                "seed {seed} grid {grid}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn boruvka_weights_equal_prim_prop(
            n in 3usize..160,
            d in 1usize..5,
            k in 1usize..8,
            seed in any::<u64>(),
            grid in any::<bool>(),
        ) {
            let x = points(n, d, seed, grid);
            assert_same_weights(&x, k.min(n - 1), "proptest");
        }
    }
}
