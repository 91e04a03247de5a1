//! Which exact minimum-spanning-tree method HDBSCAN runs: Prim (the reference, kept below
//! [`BORUVKA_MIN_POINTS`] so every result on today's corpora stays bit-identical) or Borůvka
//! over the kd-tree (`kdtree/boruvka.rs`), which grows close to n log n where Prim does not.

use ndarray::ArrayView2;

use crate::distance::by_dim;
use crate::kdtree::KdTree;

/// Points from which [`MstAlgorithm::Auto`] runs Borůvka instead of Prim.
pub const BORUVKA_MIN_POINTS: usize = 50_000;

/// The method for HDBSCAN's minimum spanning tree. Both are exact: same total weight and the
/// same sorted edge weights; with tied weights the edges may differ, and so may the order in
/// which single linkage merges clusters at one height (not the clusters at each height).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MstAlgorithm {
    /// Prim below [`BORUVKA_MIN_POINTS`] points, Borůvka from there on.
    #[default]
    Auto,
    /// Prim's algorithm (one point joins at a time; ties to the lowest row).
    Prim,
    /// Borůvka's algorithm (every component joins its nearest one each round).
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
    tree.boruvka::<D>(core)
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
