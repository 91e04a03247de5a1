//! Exact PCA: covariance (fixed-order parallel sums) + Jacobi eigen-decomposition.

use crate::linalg::jacobi_eigen;
use crate::{check_finite, FittedReducer, NamedArray, ReduceError, Reducer, SavedState};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// PCA parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PcaParams {
    /// Output dimension (≥ 1, < input dimension).
    pub n_components: usize,
    /// Kept for API symmetry; exact PCA uses no randomness.
    pub seed: u64,
}

impl Default for PcaParams {
    fn default() -> Self {
        Self {
            n_components: 5,
            seed: 42,
        }
    }
}

/// Exact PCA reducer. Components are sign-normalised (largest-magnitude loading positive).
#[derive(Clone, Debug)]
pub struct Pca {
    params: PcaParams,
}

impl Pca {
    /// Validate and build.
    pub fn new(params: PcaParams) -> Result<Self, ReduceError> {
        if params.n_components < 1 {
            return Err(ReduceError::InvalidParameter(
                "n_components must be ≥ 1".into(),
            ));
        }
        Ok(Self { params })
    }
}

/// Fitted PCA: mean (d) and components (d × k, row-major).
pub struct FittedPca {
    params: PcaParams,
    d: usize,
    mean: Vec<f32>,
    components: Vec<f32>,
}

impl Reducer for Pca {
    fn fit(
        &self,
        data: ArrayView2<f32>,
    ) -> Result<(Box<dyn FittedReducer>, Array2<f32>), ReduceError> {
        let (n, d) = data.dim();
        let k = self.params.n_components;
        if k >= d {
            return Err(ReduceError::InvalidParameter(format!(
                "n_components ({k}) must be smaller than the input dimension ({d})"
            )));
        }
        if n < 2 {
            return Err(ReduceError::TooFewPoints {
                n,
                needed: 2,
                n_neighbors: 0,
            });
        }
        check_finite(data)?;
        let rows: Vec<Vec<f64>> = data
            .outer_iter()
            .map(|r| r.iter().map(|&x| x as f64).collect())
            .collect();
        let mut mean = vec![0.0f64; d];
        for r in &rows {
            for (m, x) in mean.iter_mut().zip(r) {
                *m += x;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        // Covariance: chunks of rows summed in parallel, chunks combined in fixed order.
        let parts: Vec<Vec<f64>> = rows
            .par_chunks(256)
            .map(|chunk| {
                let mut c = vec![0.0f64; d * d];
                let mut z = vec![0.0f64; d];
                for r in chunk {
                    for t in 0..d {
                        z[t] = r[t] - mean[t];
                    }
                    for a in 0..d {
                        let za = z[a];
                        let row = &mut c[a * d..(a + 1) * d];
                        for b in a..d {
                            row[b] += za * z[b];
                        }
                    }
                }
                c
            })
            .collect();
        let mut cov = vec![0.0f64; d * d];
        for p in &parts {
            cov.iter_mut().zip(p).for_each(|(c, x)| *c += x);
        }
        for a in 0..d {
            for b in a..d {
                let v = cov[a * d + b] / (n as f64 - 1.0);
                cov[a * d + b] = v;
                cov[b * d + a] = v;
            }
        }
        let (_vals, vecs) = jacobi_eigen(&cov, d);
        let mut components = vec![0.0f32; d * k];
        for r in 0..d {
            for c in 0..k {
                components[r * k + c] = vecs[r * d + c] as f32;
            }
        }
        let fitted = FittedPca {
            params: self.params.clone(),
            d,
            mean: mean.iter().map(|&x| x as f32).collect(),
            components,
        };
        let out = fitted.project(data);
        Ok((Box::new(fitted), out))
    }
}

impl FittedPca {
    fn project(&self, data: ArrayView2<f32>) -> Array2<f32> {
        let k = self.params.n_components;
        let mut out = Array2::<f32>::zeros((data.nrows(), k));
        out.outer_iter_mut()
            .into_par_iter()
            .zip(data.outer_iter().into_par_iter())
            .for_each(|(mut o, r)| {
                for t in 0..self.d {
                    let z = r[t] - self.mean[t];
                    for c in 0..k {
                        o[c] += z * self.components[t * k + c];
                    }
                }
            });
        out
    }

    pub(crate) fn from_state(state: &SavedState) -> Result<Self, ReduceError> {
        let params: PcaParams = serde_json::from_value(state.params.clone())
            .map_err(|e| ReduceError::BadState(format!("pca params: {e}")))?;
        let mean = state.array("mean", 1)?;
        let comp = state.array("components", 2)?;
        let d = mean.shape[0];
        if comp.shape != vec![d, params.n_components] {
            return Err(ReduceError::BadState(
                "components shape disagrees with mean / params".into(),
            ));
        }
        Ok(Self {
            params,
            d,
            mean: mean.data.clone(),
            components: comp.data.clone(),
        })
    }
}

impl FittedReducer for FittedPca {
    fn transform(&self, data: ArrayView2<f32>) -> Result<Array2<f32>, ReduceError> {
        if data.ncols() != self.d {
            return Err(ReduceError::DimensionMismatch {
                expected: self.d,
                got: data.ncols(),
            });
        }
        check_finite(data)?;
        Ok(self.project(data))
    }

    fn n_components(&self) -> usize {
        self.params.n_components
    }

    fn save_state(&self) -> SavedState {
        SavedState {
            kind: "pca".into(),
            params: serde_json::to_value(&self.params).unwrap_or(serde_json::Value::Null),
            arrays: vec![
                NamedArray {
                    name: "mean".into(),
                    shape: vec![self.d],
                    data: self.mean.clone(),
                },
                NamedArray {
                    name: "components".into(),
                    shape: vec![self.d, self.params.n_components],
                    data: self.components.clone(),
                },
            ],
        }
    }
}
