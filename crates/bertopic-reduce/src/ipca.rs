//! Incremental PCA (Ross et al. 2008, the algorithm of sklearn's `IncrementalPCA`): the model is
//! updated batch by batch and keeps only the mean, the `k` components and their singular values,
//! so memory does not grow with the number of rows seen. BERTopic's online recipe uses it as the
//! reduction stage of `partial_fit`.
//!
//! Each batch stacks the previous components (scaled by their singular values), the batch
//! centred on its own mean and one mean-correction row, and keeps the top `k` right singular
//! vectors of that stack. On a single batch this is exactly PCA; over several batches it is exact
//! when the data lie in a `k`-dimensional affine subspace and a close approximation otherwise.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::linalg::jacobi_eigen;
use crate::{check_finite, FittedReducer, NamedArray, PcaParams, ReduceError, SavedState};

/// Everything an [`IncrementalPca`] needs to continue (plain data, f64 so that saving and
/// loading between batches changes nothing).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncrementalPcaState {
    /// Output dimension `k`.
    pub n_components: usize,
    /// Input dimension `d` (0 before the first batch).
    pub dim: usize,
    /// Rows seen so far.
    pub n_samples_seen: u64,
    /// Mean of every row seen (length `d`).
    pub mean: Vec<f64>,
    /// Components, `k` rows of length `d`, row-major; each has its largest-magnitude entry positive.
    pub components: Vec<f64>,
    /// Singular values of the centred data seen so far, one per component, descending.
    pub singular_values: Vec<f64>,
}

/// Incremental PCA with [`partial_fit`](Self::partial_fit) and [`transform`](Self::transform).
#[derive(Clone, Debug, PartialEq)]
pub struct IncrementalPca {
    state: IncrementalPcaState,
}

impl IncrementalPca {
    /// An unfitted model with `n_components` ≥ 1 outputs.
    pub fn new(n_components: usize) -> Result<Self, ReduceError> {
        if n_components < 1 {
            return Err(ReduceError::InvalidParameter(
                "n_components must be ≥ 1".into(),
            ));
        }
        Ok(Self {
            state: IncrementalPcaState {
                n_components,
                dim: 0,
                n_samples_seen: 0,
                mean: Vec::new(),
                components: Vec::new(),
                singular_values: Vec::new(),
            },
        })
    }

    /// Rebuilds a model from [`state`](Self::state), checking the shapes.
    pub fn from_state(state: IncrementalPcaState) -> Result<Self, ReduceError> {
        let (k, d) = (state.n_components, state.dim);
        let fitted = state.n_samples_seen > 0;
        let ok = k >= 1
            && if fitted {
                k < d
                    && state.mean.len() == d
                    && state.components.len() == k * d
                    && state.singular_values.len() == k
            } else {
                state.mean.is_empty() && state.components.is_empty()
            };
        if !ok {
            return Err(ReduceError::BadState(format!(
                "incremental PCA state with k = {k}, d = {d}, {} mean values, {} component values \
                 and {} singular values",
                state.mean.len(),
                state.components.len(),
                state.singular_values.len()
            )));
        }
        Ok(Self { state })
    }

    /// The state to save; [`from_state`](Self::from_state) continues from it exactly.
    pub fn state(&self) -> &IncrementalPcaState {
        &self.state
    }

    /// Rows seen so far.
    pub fn n_samples_seen(&self) -> u64 {
        self.state.n_samples_seen
    }

    /// Updates the model with one batch (n × d). The first batch fixes `d` and needs at least
    /// `n_components` rows; `n_components` must be smaller than `d`.
    pub fn partial_fit(&mut self, batch: ArrayView2<f32>) -> Result<(), ReduceError> {
        let (n, d) = batch.dim();
        let k = self.state.n_components;
        let first = self.state.n_samples_seen == 0;
        if first {
            if k >= d {
                return Err(ReduceError::InvalidParameter(format!(
                    "n_components ({k}) must be smaller than the input dimension ({d})"
                )));
            }
            if n < k {
                return Err(ReduceError::InvalidParameter(format!(
                    "the first batch has {n} rows, fewer than n_components ({k}): give a larger \
                     first batch"
                )));
            }
        } else if d != self.state.dim {
            return Err(ReduceError::DimensionMismatch {
                expected: self.state.dim,
                got: d,
            });
        }
        if n == 0 {
            return Ok(());
        }
        check_finite(batch)?;
        let mut batch_mean = vec![0.0f64; d];
        for r in batch.outer_iter() {
            for (m, &x) in batch_mean.iter_mut().zip(r) {
                *m += f64::from(x);
            }
        }
        batch_mean.iter_mut().for_each(|m| *m /= n as f64);
        let seen = self.state.n_samples_seen as f64;
        let total = seen + n as f64;
        // The stack whose right singular vectors are the new components.
        let mut rows: Vec<f64> = Vec::with_capacity((k + n + 1) * d);
        if !first {
            for (c, &s) in self.state.singular_values.iter().enumerate() {
                rows.extend(
                    self.state.components[c * d..(c + 1) * d]
                        .iter()
                        .map(|v| s * v),
                );
            }
        }
        for r in batch.outer_iter() {
            rows.extend(r.iter().zip(&batch_mean).map(|(&x, m)| f64::from(x) - m));
        }
        let new_mean: Vec<f64> = if first {
            batch_mean.clone()
        } else {
            // The correction row carries the shift between the old mean and the batch mean.
            let scale = (seen * n as f64 / total).sqrt();
            rows.extend(
                self.state
                    .mean
                    .iter()
                    .zip(&batch_mean)
                    .map(|(old, b)| scale * (old - b)),
            );
            self.state
                .mean
                .iter()
                .zip(&batch_mean)
                .map(|(old, b)| (old * seen + b * n as f64) / total)
                .collect()
        };
        let r = rows.len() / d;
        let (values, vectors) = top_right_singular(&rows, r, d, k);
        self.state.dim = d;
        self.state.n_samples_seen += n as u64;
        self.state.mean = new_mean;
        self.state.singular_values = values;
        self.state.components = vectors;
        Ok(())
    }

    /// Projects rows onto the components (`(x − mean) · componentsᵀ`), in f64.
    pub fn transform(&self, data: ArrayView2<f32>) -> Result<Array2<f64>, ReduceError> {
        let (k, d) = (self.state.n_components, self.state.dim);
        if self.state.n_samples_seen == 0 {
            return Err(ReduceError::InvalidParameter(
                "incremental PCA has seen no rows yet: call partial_fit first".into(),
            ));
        }
        if data.ncols() != d {
            return Err(ReduceError::DimensionMismatch {
                expected: d,
                got: data.ncols(),
            });
        }
        check_finite(data)?;
        let mut out = Array2::<f64>::zeros((data.nrows(), k));
        let mut z = vec![0.0f64; d];
        for (mut o, row) in out.outer_iter_mut().zip(data.outer_iter()) {
            for ((zt, &x), m) in z.iter_mut().zip(row).zip(&self.state.mean) {
                *zt = f64::from(x) - m;
            }
            for c in 0..k {
                let comp = &self.state.components[c * d..(c + 1) * d];
                o[c] = comp.iter().zip(&z).map(|(a, b)| a * b).sum();
            }
        }
        Ok(out)
    }

    /// The saved form of the fitted projection as a plain PCA (`kind = "pca"`, f32), so a model
    /// using it loads and transforms with [`crate::load_state`] like any PCA model.
    pub fn to_pca_state(&self) -> Result<SavedState, ReduceError> {
        let (k, d) = (self.state.n_components, self.state.dim);
        if self.state.n_samples_seen == 0 {
            return Err(ReduceError::InvalidParameter(
                "incremental PCA has seen no rows yet: call partial_fit first".into(),
            ));
        }
        // FittedPca keeps components as d × k.
        let mut comps = vec![0.0f32; d * k];
        for c in 0..k {
            for t in 0..d {
                comps[t * k + c] = self.state.components[c * d + t] as f32;
            }
        }
        let params = PcaParams {
            n_components: k,
            ..PcaParams::default()
        };
        Ok(SavedState {
            kind: "pca".into(),
            params: serde_json::to_value(&params)
                .map_err(|e| ReduceError::Internal(e.to_string()))?,
            arrays: vec![
                NamedArray {
                    name: "mean".into(),
                    shape: vec![d],
                    data: self.state.mean.iter().map(|&x| x as f32).collect(),
                },
                NamedArray {
                    name: "components".into(),
                    shape: vec![d, k],
                    data: comps,
                },
            ],
        })
    }

    /// The fitted projection as a [`FittedReducer`] (a PCA; see [`to_pca_state`](Self::to_pca_state)).
    pub fn to_fitted(&self) -> Result<Box<dyn FittedReducer>, ReduceError> {
        crate::load_state(&self.to_pca_state()?)
    }
}

/// The `k` largest singular values of the row-major `r × d` matrix `m` and their right singular
/// vectors (`k` rows of length `d`, largest-magnitude entry positive, as sklearn's `svd_flip`
/// with `u_based_decision=False`). Uses the eigen-decomposition of the smaller Gram matrix:
/// `mᵀm` (d × d) or `m mᵀ` (r × r, then `v = mᵀu / s`). Sums run in a fixed order.
fn top_right_singular(m: &[f64], r: usize, d: usize, k: usize) -> (Vec<f64>, Vec<f64>) {
    let mut values = Vec::with_capacity(k);
    let mut vectors = vec![0.0f64; k * d];
    if d <= r {
        let mut g = vec![0.0f64; d * d];
        for row in m.chunks_exact(d) {
            for a in 0..d {
                let x = row[a];
                if x == 0.0 {
                    continue;
                }
                let out = &mut g[a * d..(a + 1) * d];
                for b in a..d {
                    out[b] += x * row[b];
                }
            }
        }
        for a in 0..d {
            for b in 0..a {
                g[a * d + b] = g[b * d + a];
            }
        }
        let (vals, vecs) = jacobi_eigen(&g, d);
        for c in 0..k {
            values.push(vals[c].max(0.0).sqrt());
            for t in 0..d {
                vectors[c * d + t] = vecs[t * d + c];
            }
        }
    } else {
        let mut g = vec![0.0f64; r * r];
        for a in 0..r {
            let ra = &m[a * d..(a + 1) * d];
            for b in a..r {
                let v: f64 = ra
                    .iter()
                    .zip(&m[b * d..(b + 1) * d])
                    .map(|(x, y)| x * y)
                    .sum();
                g[a * r + b] = v;
                g[b * r + a] = v;
            }
        }
        let (vals, vecs) = jacobi_eigen(&g, r);
        for c in 0..k {
            let s = vals[c].max(0.0).sqrt();
            values.push(s);
            let v = &mut vectors[c * d..(c + 1) * d];
            for a in 0..r {
                let u = vecs[a * r + c];
                for (vt, x) in v.iter_mut().zip(&m[a * d..(a + 1) * d]) {
                    *vt += u * x;
                }
            }
            // Normalise directly (s can be ~0 for a rank-deficient stack).
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm > 0.0 {
                v.iter_mut().for_each(|x| *x /= norm);
            }
        }
    }
    for v in vectors.chunks_exact_mut(d) {
        let mut best = 0;
        for t in 0..d {
            if v[t].abs() > v[best].abs() {
                best = t;
            }
        }
        if v[best] < 0.0 {
            v.iter_mut().for_each(|x| *x = -*x);
        }
    }
    (values, vectors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Pca, Reducer};

    /// Deterministic pseudo-random values in [-0.5, 0.5).
    fn noise(i: usize) -> f32 {
        let x = (i as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(17);
        ((x >> 40) as f32 / (1u64 << 24) as f32) - 0.5
    }

    /// `n` rows in 8-D on a 3-D affine subspace with distinct spreads, plus `eps` noise.
    fn data(n: usize, eps: f32) -> Array2<f32> {
        let basis = [
            [0.6f32, 0.2, -0.3, 0.1, 0.5, 0.0, -0.4, 0.3],
            [-0.1, 0.7, 0.2, -0.5, 0.0, 0.3, 0.2, -0.2],
            [0.3, -0.1, 0.6, 0.2, -0.3, 0.5, 0.1, 0.4],
        ];
        let spread = [5.0f32, 2.0, 0.7];
        Array2::from_shape_fn((n, 8), |(i, j)| {
            let mut v = 1.0 + j as f32 * 0.25;
            for c in 0..3 {
                v += spread[c] * noise(i * 7 + c) * basis[c][j];
            }
            v + eps * noise(i * 13 + j + 100_000)
        })
    }

    /// Compares IPCA's projection with batch PCA's, component by component up to sign.
    fn assert_matches_pca(x: &Array2<f32>, batch: usize, tol: f64) {
        let (fitted, want) = Pca::new(PcaParams {
            n_components: 3,
            seed: 0,
        })
        .unwrap()
        .fit(x.view())
        .unwrap();
        let mut ipca = IncrementalPca::new(3).unwrap();
        for start in (0..x.nrows()).step_by(batch) {
            let end = (start + batch).min(x.nrows());
            ipca.partial_fit(x.slice(ndarray::s![start..end, ..]))
                .unwrap();
        }
        assert_eq!(ipca.n_samples_seen(), x.nrows() as u64);
        let got = ipca.transform(x.view()).unwrap();
        for c in 0..3 {
            let dot: f64 = (0..x.nrows())
                .map(|i| got[[i, c]] * f64::from(want[[i, c]]))
                .sum();
            let sign = dot.signum();
            for i in 0..x.nrows() {
                let diff = (got[[i, c]] - sign * f64::from(want[[i, c]])).abs();
                assert!(diff < tol, "row {i}, component {c}: diff {diff}");
            }
        }
        // The saved PCA form transforms like the incremental model.
        let back = ipca.to_fitted().unwrap().transform(x.view()).unwrap();
        let fitted_out = fitted.transform(x.view()).unwrap();
        assert_eq!(back.dim(), fitted_out.dim());
        for (a, b) in back.iter().zip(got.iter()) {
            assert!((f64::from(*a) - b).abs() < 1e-4);
        }
    }

    #[test]
    fn one_batch_is_pca() {
        // Full-rank data: one batch is exactly PCA.
        assert_matches_pca(&data(120, 0.5), 120, 1e-4);
    }

    #[test]
    fn batches_match_pca_on_low_rank_data() {
        // Data near a 3-D subspace: batches of 25 (Gram of the stack) and 40 rows.
        assert_matches_pca(&data(200, 1e-4), 25, 2e-3);
        assert_matches_pca(&data(200, 1e-4), 40, 2e-3);
    }

    #[test]
    fn state_round_trip_continues_exactly() {
        let x = data(90, 0.1);
        let mut a = IncrementalPca::new(2).unwrap();
        a.partial_fit(x.slice(ndarray::s![0..30, ..])).unwrap();
        let mut b = IncrementalPca::from_state(a.state().clone()).unwrap();
        for part in [30..60, 60..90] {
            a.partial_fit(x.slice(ndarray::s![part.clone(), ..]))
                .unwrap();
            b.partial_fit(x.slice(ndarray::s![part, ..])).unwrap();
        }
        assert_eq!(a, b);
    }

    #[test]
    fn refuses_bad_input() {
        let mut p = IncrementalPca::new(3).unwrap();
        assert!(p.transform(data(4, 0.0).view()).is_err());
        assert!(p.partial_fit(data(2, 0.0).view()).is_err());
        p.partial_fit(data(10, 0.1).view()).unwrap();
        let wrong = Array2::<f32>::zeros((5, 4));
        assert!(matches!(
            p.partial_fit(wrong.view()),
            Err(ReduceError::DimensionMismatch { .. })
        ));
        assert!(IncrementalPca::new(0).is_err());
    }
}
