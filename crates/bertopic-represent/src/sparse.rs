//! A minimal compressed-sparse-row matrix of `f64`.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::RepresentError;

/// Compressed sparse rows: row `r` holds `indices[indptr[r]..indptr[r+1]]` (strictly
/// increasing column indices) with the matching `values`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CsrMatrix {
    /// Number of rows.
    pub n_rows: usize,
    /// Number of columns.
    pub n_cols: usize,
    /// Row pointers, `n_rows + 1` entries.
    pub indptr: Vec<usize>,
    /// Column index of each stored value.
    pub indices: Vec<usize>,
    /// Stored values.
    pub values: Vec<f64>,
}

impl Default for CsrMatrix {
    fn default() -> Self {
        CsrMatrix {
            n_rows: 0,
            n_cols: 0,
            indptr: vec![0],
            indices: Vec::new(),
            values: Vec::new(),
        }
    }
}

impl CsrMatrix {
    /// Column indices and values of row `r` (empty when `r` is out of range).
    pub fn row(&self, r: usize) -> (&[usize], &[f64]) {
        match (self.indptr.get(r), self.indptr.get(r + 1)) {
            (Some(&a), Some(&b)) if a <= b && b <= self.indices.len() && b <= self.values.len() => {
                (&self.indices[a..b], &self.values[a..b])
            }
            _ => (&[], &[]),
        }
    }

    /// Dense copy (`n_rows × n_cols`).
    pub fn to_dense(&self) -> Array2<f64> {
        let mut out = Array2::zeros((self.n_rows, self.n_cols));
        for r in 0..self.n_rows {
            let (idx, val) = self.row(r);
            for (&c, &v) in idx.iter().zip(val) {
                if c < self.n_cols {
                    out[[r, c]] = v;
                }
            }
        }
        out
    }

    /// Sum of each row.
    pub fn row_sums(&self) -> Vec<f64> {
        (0..self.n_rows)
            .map(|r| self.row(r).1.iter().sum())
            .collect()
    }

    /// Checks the structural invariants (used after deserialisation).
    pub fn check(&self) -> Result<(), RepresentError> {
        let bad = |m: String| Err(RepresentError::Corrupt(m));
        if self.indptr.len() != self.n_rows + 1 {
            return bad(format!(
                "indptr has {} entries for {} rows",
                self.indptr.len(),
                self.n_rows
            ));
        }
        if self.indices.len() != self.values.len() {
            return bad("indices and values differ in length".into());
        }
        if self.indptr.first() != Some(&0) || self.indptr.last() != Some(&self.indices.len()) {
            return bad("indptr does not span the stored values".into());
        }
        for r in 0..self.n_rows {
            if self.indptr[r] > self.indptr[r + 1] {
                return bad(format!("indptr decreases at row {r}"));
            }
            let idx = &self.indices[self.indptr[r]..self.indptr[r + 1]];
            if idx.windows(2).any(|w| w[0] >= w[1]) || idx.last().is_some_and(|&c| c >= self.n_cols)
            {
                return bad(format!(
                    "row {r} has unsorted or out-of-range column indices"
                ));
            }
        }
        Ok(())
    }
}
