//! Squared Euclidean distances and the brute-force k-nearest scan: the arithmetic every
//! distance in this crate goes through, so that the kd-tree searches (`kdtree.rs`), HDBSCAN's
//! approximate prediction and the brute-force oracles in the tests give the same bits.

use ndarray::ArrayView2;

/// Squared Euclidean distance between two equally long rows, summed from index 0.
pub(crate) fn sqdist(a: &[f64], b: &[f64]) -> f64 {
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
pub(crate) use by_dim;

/// Distances from `query` to its `k` nearest rows of `data` (ascending), skipping row `skip`.
pub(crate) fn knn_dists(
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
