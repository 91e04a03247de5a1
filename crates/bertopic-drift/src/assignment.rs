//! Optimal one-to-one assignment (Hungarian / Kuhn–Munkres with potentials, O(n² m)).

use crate::error::{DriftError, Result};
use ndarray::ArrayView2;

/// Maximum-weight one-to-one assignment of rows to columns of a (possibly rectangular) weight
/// matrix.
///
/// Returns, per row, the column it is assigned to; with more rows than columns, `rows − cols`
/// rows get `None`. Every column (or every row, whichever side is smaller) is assigned, even
/// with weight 0: callers drop pairs below their own threshold. Runs in `O(k² · K)` for
/// `k = min(rows, cols)`, `K = max(rows, cols)`; ties are broken deterministically.
///
/// ```
/// use bertopic_drift::max_weight_assignment;
/// use ndarray::array;
///
/// let w = array![[0.9, 0.8], [0.85, 0.1]];
/// // Greedy would take (0,0) = 0.9 and then (1,1) = 0.1; the optimum is 0.8 + 0.85.
/// assert_eq!(max_weight_assignment(w.view()).unwrap(), vec![Some(1), Some(0)]);
/// ```
///
/// # Errors
/// [`DriftError::NonFinite`] if a weight is NaN or infinite.
pub fn max_weight_assignment(weights: ArrayView2<'_, f64>) -> Result<Vec<Option<usize>>> {
    let (rows, cols) = weights.dim();
    if let Some(((r, c), w)) = weights.indexed_iter().find(|(_, w)| !w.is_finite()) {
        return Err(DriftError::NonFinite {
            what: "similarity matrix".into(),
            location: format!("row {r}, column {c}: {w}"),
        });
    }
    if rows == 0 || cols == 0 {
        return Ok(vec![None; rows]);
    }
    if rows <= cols {
        let col_of_row = solve_min_cost(rows, cols, |i, j| -weights[[i, j]]);
        Ok(col_of_row.into_iter().map(Some).collect())
    } else {
        // Solve the transpose (the algorithm wants rows <= cols), then invert.
        let row_of_col = solve_min_cost(cols, rows, |j, i| -weights[[i, j]]);
        let mut out = vec![None; rows];
        for (j, i) in row_of_col.into_iter().enumerate() {
            out[i] = Some(j);
        }
        Ok(out)
    }
}

/// Minimum-cost assignment of every one of `n` rows to distinct columns among `m >= n`, by
/// shortest augmenting paths with row/column potentials. Returns the column of each row.
fn solve_min_cost(n: usize, m: usize, cost: impl Fn(usize, usize) -> f64) -> Vec<usize> {
    // 1-based internally; index 0 is the virtual start column / "no row".
    let mut u = vec![0.0f64; n + 1];
    let mut v = vec![0.0f64; m + 1];
    let mut row_of = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    for i in 1..=n {
        row_of[0] = i;
        let mut j0 = 0usize;
        let mut min_v = vec![f64::INFINITY; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = row_of[j0];
            let mut delta = f64::INFINITY;
            let mut j1 = 0usize;
            for j in 1..=m {
                if used[j] {
                    continue;
                }
                let reduced = cost(i0 - 1, j - 1) - u[i0] - v[j];
                if reduced < min_v[j] {
                    min_v[j] = reduced;
                    way[j] = j0;
                }
                if min_v[j] < delta {
                    delta = min_v[j];
                    j1 = j;
                }
            }
            // n <= m guarantees a free column, so j1 was set (costs are finite).
            for j in 0..=m {
                if used[j] {
                    u[row_of[j]] += delta;
                    v[j] -= delta;
                } else {
                    min_v[j] -= delta;
                }
            }
            j0 = j1;
            if row_of[j0] == 0 {
                break;
            }
        }
        // Flip the augmenting path back to the start.
        loop {
            let j1 = way[j0];
            row_of[j0] = row_of[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut col_of = vec![0usize; n];
    for j in 1..=m {
        if row_of[j] != 0 {
            col_of[row_of[j] - 1] = j - 1;
        }
    }
    col_of
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn total(w: &Array2<f64>, a: &[Option<usize>]) -> f64 {
        a.iter()
            .enumerate()
            .filter_map(|(i, j)| j.map(|j| w[[i, j]]))
            .sum()
    }

    /// Best total over all injective maps from the smaller side, by brute force.
    fn brute_force(w: &Array2<f64>) -> f64 {
        fn rec(w: &Array2<f64>, i: usize, used: &mut Vec<bool>, transpose: bool) -> f64 {
            let (n, m) = if transpose {
                (w.ncols(), w.nrows())
            } else {
                (w.nrows(), w.ncols())
            };
            if i == n {
                return 0.0;
            }
            let mut best = f64::NEG_INFINITY;
            for j in 0..m {
                if !used[j] {
                    used[j] = true;
                    let x = if transpose { w[[j, i]] } else { w[[i, j]] };
                    best = best.max(x + rec(w, i + 1, used, transpose));
                    used[j] = false;
                }
            }
            best
        }
        let transpose = w.nrows() > w.ncols();
        let m = w.nrows().max(w.ncols());
        rec(w, 0, &mut vec![false; m], transpose)
    }

    #[test]
    fn hand_computed_square_case() {
        // Rows: training topics, columns: batch topics. Optimum: 0->2, 1->0, 2->1 = 0.9+0.8+0.7.
        let w = array![[0.1, 0.2, 0.9], [0.8, 0.75, 0.3], [0.7, 0.7, 0.0]];
        let a = max_weight_assignment(w.view()).unwrap();
        assert_eq!(a, vec![Some(2), Some(0), Some(1)]);
        assert!((total(&w, &a) - 2.4).abs() < 1e-12);
    }

    #[test]
    fn more_columns_than_rows() {
        let w = array![[0.1, 0.5, 0.4, 0.0], [0.2, 0.6, 0.1, 0.3]];
        // 0->2 (0.4) + 1->1 (0.6) = 1.0 beats 0->1 (0.5) + 1->3 (0.3) = 0.8.
        assert_eq!(
            max_weight_assignment(w.view()).unwrap(),
            vec![Some(2), Some(1)]
        );
    }

    #[test]
    fn more_rows_than_columns_leaves_rows_unassigned() {
        let w = array![[0.1], [0.9], [0.5]];
        assert_eq!(
            max_weight_assignment(w.view()).unwrap(),
            vec![None, Some(0), None]
        );
    }

    #[test]
    fn empty_and_non_finite_inputs() {
        let w = Array2::<f64>::zeros((3, 0));
        assert_eq!(max_weight_assignment(w.view()).unwrap(), vec![None; 3]);
        let w = array![[0.1, f64::NAN]];
        assert!(matches!(
            max_weight_assignment(w.view()),
            Err(DriftError::NonFinite { .. })
        ));
    }

    #[test]
    fn matches_brute_force_on_random_rectangles() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..300 {
            let n = rng.random_range(1..=6);
            let m = rng.random_range(1..=6);
            // Coarse values make ties common, which is where bugs hide.
            let w = Array2::from_shape_fn((n, m), |_| rng.random_range(0..5) as f64 / 4.0);
            let a = max_weight_assignment(w.view()).unwrap();
            let cols: Vec<usize> = a.iter().flatten().copied().collect();
            let mut dedup = cols.clone();
            dedup.sort_unstable();
            dedup.dedup();
            assert_eq!(dedup.len(), cols.len(), "a column used twice: {a:?}");
            assert_eq!(cols.len(), n.min(m));
            assert!(
                (total(&w, &a) - brute_force(&w)).abs() < 1e-9,
                "{w:?} {a:?}"
            );
        }
    }
}
