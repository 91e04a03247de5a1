//! Bit-exactness against the brute-force oracles: kd-tree core distances and the pruned Prim
//! against exhaustive scans.

use ndarray::{Array2, ArrayView2};

use super::core_distances;
use super::mst::prim_mst;
use crate::distance::{knn_dists, sqdist};

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
