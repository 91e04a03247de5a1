//! Target-supervised UMAP (umap-learn's `fit(X, y)` with `target_metric="categorical"`): the
//! fuzzy graph of the data is intersected with the graph of the labels, so edges between points
//! of different labels are weakened strongly, edges touching an unlabelled point (label −1)
//! mildly, then every point's strongest edge is reset to 1 and the graph symmetrised again.
//!
//! Written from umap-learn's documented semantics (categorical target: far distance
//! `2.5 / (1 − target_weight)`, unknown distance 1.0, local connectivity reset afterwards).

use super::fuzzy::Csr;

/// How the labels weigh against the data in the supervised fuzzy graph.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TargetParams {
    /// umap-learn's `target_weight` in [0, 1]: 0 = the data only (labels still cut the graph
    /// a little), 1 = labels dominate. umap-learn's default is 0.5.
    pub target_weight: f32,
}

impl Default for TargetParams {
    fn default() -> Self {
        TargetParams { target_weight: 0.5 }
    }
}

impl TargetParams {
    /// Distance assigned to an edge between two different labels.
    pub(super) fn far_dist(&self) -> f32 {
        if self.target_weight < 1.0 {
            2.5 / (1.0 - self.target_weight)
        } else {
            1.0e12
        }
    }
}

/// Distance assigned to an edge with an unlabelled end (umap-learn's `unknown_dist`).
const UNKNOWN_DIST: f32 = 1.0;

/// The supervised graph: intersection with the categorical label space, then the local
/// connectivity reset (row max → 1, fuzzy union with the transpose).
pub(super) fn intersect_with_labels(g: &Csr, y: &[i64], p: &TargetParams) -> Csr {
    let n = g.indptr.len() - 1;
    let far = (-p.far_dist()).exp();
    let unknown = (-UNKNOWN_DIST).exp();
    // Directed triplets after the intersection and the per-row max normalisation.
    let mut rows: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
    for (i, row) in rows.iter_mut().enumerate() {
        let span = g.indptr[i]..g.indptr[i + 1];
        let mut max = 0.0f32;
        for e in span.clone() {
            let j = g.indices[e] as usize;
            let mut w = g.weights[e];
            if y[i] < 0 || y[j] < 0 {
                w *= unknown;
            } else if y[i] != y[j] {
                w *= far;
            }
            if w > 0.0 {
                max = max.max(w);
                row.push((g.indices[e], w));
            }
        }
        if max > 0.0 {
            for (_, w) in row.iter_mut() {
                *w /= max;
            }
        }
    }
    // Fuzzy union A + Aᵀ − A∘Aᵀ; rows of `g` are sorted by column, so each row stays sorted.
    let mut sym: Vec<Vec<(u32, f32, f32)>> = vec![Vec::new(); n];
    for (i, row) in rows.iter().enumerate() {
        for &(j, w) in row {
            sym[i].push((j, w, 0.0));
            sym[j as usize].push((i as u32, 0.0, w));
        }
    }
    let mut indptr = Vec::with_capacity(n + 1);
    let mut indices = Vec::new();
    let mut weights = Vec::new();
    indptr.push(0);
    for mut row in sym {
        row.sort_by_key(|&(j, _, _)| j);
        let mut k = 0;
        while k < row.len() {
            let j = row[k].0;
            let (mut a, mut b) = (0.0f32, 0.0f32);
            while k < row.len() && row[k].0 == j {
                a = a.max(row[k].1);
                b = b.max(row[k].2);
                k += 1;
            }
            let w = a + b - a * b;
            if w > 0.0 {
                indices.push(j);
                weights.push(w);
            }
        }
        indptr.push(indices.len());
    }
    Csr {
        indptr,
        indices,
        weights,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dense(g: &Csr, n: usize) -> Vec<Vec<f32>> {
        let mut m = vec![vec![0.0; n]; n];
        for (i, row) in m.iter_mut().enumerate() {
            for e in g.indptr[i]..g.indptr[i + 1] {
                row[g.indices[e] as usize] = g.weights[e];
            }
        }
        m
    }

    #[test]
    fn different_labels_are_cut_and_unknown_softened() {
        // A triangle 0-1-2 of equal weights plus 2-3; labels 0, 0, 1, unknown.
        let n = 4;
        let edges = [(0, 1), (0, 2), (1, 2), (2, 3)];
        let mut rows: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
        for &(a, b) in &edges {
            rows[a].push((b as u32, 0.8));
            rows[b].push((a as u32, 0.8));
        }
        let mut g = Csr {
            indptr: vec![0],
            indices: Vec::new(),
            weights: Vec::new(),
        };
        for mut r in rows {
            r.sort_by_key(|x| x.0);
            for (j, w) in r {
                g.indices.push(j);
                g.weights.push(w);
            }
            g.indptr.push(g.indices.len());
        }
        let out = dense(
            &intersect_with_labels(&g, &[0, 0, 1, -1], &TargetParams::default()),
            n,
        );
        // Symmetric, same-label edge reset to 1, cross-label edge far weaker than unknown.
        for (i, row) in out.iter().enumerate() {
            for (j, w) in row.iter().enumerate() {
                assert!((w - out[j][i]).abs() < 1e-6);
            }
        }
        assert!((out[0][1] - 1.0).abs() < 1e-6);
        assert!(out[0][2] < 0.05, "cross-label edge {}", out[0][2]);
        assert!(out[2][3] > 0.5, "unknown edge {}", out[2][3]);
        assert!(out[0][2] < out[2][3]);
    }
}
