//! Embedding (data) drift: unbiased MMD² with an RBF kernel and a permutation test.
//!
//! The pooled kernel matrix `K` (N × N, N = rows of both sides) is built once, in row blocks of
//! fixed size run in parallel. Being symmetric, only its block-upper part is computed: row block
//! `b` holds columns from the start of block `b` on. Squared distances come from an `f32` Gram
//! product per block, then the median-heuristic bandwidth, then `exp` in place (f64).
//!
//! A labelling that puts the rows of set `X` in sample one needs only `q = aᵀ K a` and
//! `u = aᵀ r` (`a` the 0/1 indicator of `X`, `r = K 1` the row sums, `T = 1ᵀ K 1`):
//! `S_XX = q`, `S_XY = u − q`, `S_YY = T − 2u + q`. The `q`s of a chunk of permutations come from
//! one matrix product per row block, `K[b, b..] · A[b.., :]` (A = the chunk's indicator
//! columns), with the diagonal blocks halved so that `q = 2 Σ_b Σ_{i∈b} aᵢ (K A)ᵢ` counts each
//! off-diagonal pair twice and each diagonal-block pair once. 200 permutations thus cost
//! `N² × 200` multiply-adds in dense products instead of 200 passes of scattered reads.
//!
//! Determinism: permutation `i` draws from a ChaCha8 stream `(seed, 2 + i)` (the subsamples use
//! streams 0 and 1), blocks and chunks have fixed sizes whatever the thread count, and every
//! reduction runs in index order.

use crate::config::DriftConfig;
use crate::error::{DriftError, Result, Side};
use crate::level::{num, Check, Level};
use ndarray::{s, Array2, ArrayView2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

const SIGNAL: &str = "embedding drift";
/// Rows per block of the kernel matrix (fixed, so results do not depend on the thread count).
const BLOCK: usize = 256;
/// Permutations scored per set of block products (fixed, for the same reason).
const PERM_CHUNK: usize = 64;
/// Permutations scored between two checks of the early stop (a multiple of [`PERM_CHUNK`], so
/// the chunks are the same as without stopping).
const PERM_WAVE: usize = 4 * PERM_CHUNK;

/// The MMD² estimator used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MmdEstimator {
    /// `1/(n(n−1)) Σ_{i≠j} k(xᵢ,xⱼ) + 1/(m(m−1)) Σ_{i≠j} k(yᵢ,yⱼ) − 2/(nm) Σ k(xᵢ,yⱼ)`:
    /// unbiased, so it is centred on 0 without drift (and can be slightly negative).
    #[default]
    Unbiased,
}

/// Result of embedding drift ([`embedding_drift`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingDrift {
    /// Observed MMD² (see [`EmbeddingDrift::estimator`]).
    pub mmd2: f64,
    /// The estimator.
    pub estimator: MmdEstimator,
    /// Permutation p-value `(#{permuted MMD² ≥ observed} + 1) / (n_permutations + 1)`, with the
    /// p thresholds (`medium` = `p_medium`, `high` = `p_high`).
    pub p_value: Check,
    /// Smallest MMD² for HIGH.
    pub high_min_mmd2: f64,
    /// Level of the signal: HIGH needs `p < p_high` and `mmd2 ≥ high_min_mmd2`; MEDIUM is
    /// `p < p_medium`.
    pub level: Level,
    /// RBF bandwidth σ (`k = exp(−‖x−y‖² / (2σ²))`): the median pairwise distance of the pooled
    /// sample.
    pub bandwidth: f64,
    /// Most permutations (the configured `n_permutations`).
    pub n_permutations: usize,
    /// Permutations actually run: fewer when `stop_after_exceedances` of them had reached the
    /// observed MMD² (the p-value is then `stop_after_exceedances / permutations_run`).
    #[serde(default)]
    pub permutations_run: usize,
    /// Seed used.
    pub seed: u64,
    /// Embedding dimension.
    pub dim: usize,
    /// Training rows used (after subsampling).
    pub training_rows: usize,
    /// Batch rows used (after subsampling).
    pub batch_rows: usize,
    /// Training rows passed.
    pub training_rows_total: usize,
    /// Batch rows passed.
    pub batch_rows_total: usize,
}

impl EmbeddingDrift {
    /// Reason string when the level is above LOW.
    pub fn reasons(&self) -> Vec<String> {
        let p = &self.p_value;
        let head = format!("{SIGNAL}: MMD² {}, p = {}", num(self.mmd2), num(p.value));
        match self.level {
            Level::Low => Vec::new(),
            Level::High => vec![format!("{head} < {}", num(p.high))],
            Level::Medium if p.value < p.high => vec![format!(
                "{head} < {} but MMD² < {} (significant, small effect)",
                num(p.high),
                num(self.high_min_mmd2)
            )],
            Level::Medium => vec![format!("{head} < {}", num(p.medium))],
        }
    }

    /// Informational notes (unreachable HIGH, subsampling).
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let p_min = 1.0 / (self.n_permutations as f64 + 1.0);
        if p_min >= self.p_value.high {
            notes.push(format!(
                "{SIGNAL}: with {} permutations the smallest p-value is {}, so p < {} (HIGH) cannot be reached; raise n_permutations",
                self.n_permutations,
                num(p_min),
                num(self.p_value.high)
            ));
        }
        if self.training_rows < self.training_rows_total || self.batch_rows < self.batch_rows_total
        {
            notes.push(format!(
                "{SIGNAL}: tested a seeded subsample of {} of {} training and {} of {} batch rows",
                self.training_rows,
                self.training_rows_total,
                self.batch_rows,
                self.batch_rows_total
            ));
        }
        notes
    }
}

/// Embedding drift: two-sample test of training vs batch document embeddings by MMD².
///
/// Each side is reduced to at most `config.embedding.max_rows_per_side` rows (a seeded
/// subsample without replacement); the pooled rows are centred, the RBF bandwidth is the median
/// pairwise distance of the pooled sample (median heuristic), the statistic is the unbiased
/// MMD² ([`MmdEstimator::Unbiased`]) and the p-value comes from `n_permutations` random
/// relabellings of the pooled rows. Same inputs and seed give the same result on any number of
/// threads.
///
/// Cost: about `N² · dim / 2` f32 and `N² · n_permutations / 2` f64 multiply-adds in dense
/// blocked products, N = rows used on both sides; memory about `8 N²` bytes (128 MB for
/// 2,000 + 2,000 rows: the kernel's upper half plus a copy of the distances for the median).
///
/// # Errors
/// Empty batch, fewer than 2 rows on a side, different dimensions, zero dimensions, NaN or
/// infinite values, invalid config.
pub fn embedding_drift(
    training: ArrayView2<'_, f32>,
    batch: ArrayView2<'_, f32>,
    config: &DriftConfig,
) -> Result<EmbeddingDrift> {
    embedding_drift_blocked(training, batch, config, BLOCK)
}

/// [`embedding_drift`] with a given kernel block size (tests use small blocks).
fn embedding_drift_blocked(
    training: ArrayView2<'_, f32>,
    batch: ArrayView2<'_, f32>,
    config: &DriftConfig,
    block: usize,
) -> Result<EmbeddingDrift> {
    let cfg = &config.embedding;
    cfg.validate()?;
    let (nt, dim) = training.dim();
    let (nb, dim_b) = batch.dim();
    if nb == 0 {
        return Err(DriftError::EmptyBatch {
            signal: SIGNAL,
            what: "no batch embeddings",
        });
    }
    if nt == 0 {
        return Err(DriftError::EmptyTraining {
            signal: SIGNAL,
            what: "no training embeddings",
        });
    }
    for (side, rows) in [(Side::Batch, nb), (Side::Training, nt)] {
        if rows < 2 {
            return Err(DriftError::TooFewRows { side, rows });
        }
    }
    if dim != dim_b {
        return Err(DriftError::DimensionMismatch {
            training: dim,
            batch: dim_b,
        });
    }
    if dim == 0 {
        return Err(DriftError::ZeroDimension);
    }
    check_finite(training, Side::Training)?;
    check_finite(batch, Side::Batch)?;

    let rows_t = subsample(nt, cfg.max_rows_per_side, cfg.seed, 0);
    let rows_b = subsample(nb, cfg.max_rows_per_side, cfg.seed, 1);
    let z = pooled_centred(training, &rows_t, batch, &rows_b);
    let (test, bandwidth) = PermutationTest::new(&z, rows_t.len(), block);
    drop(z);
    // Stop early only once LOW is certain (see `EmbeddingDriftConfig::stop_after_exceedances`).
    let stop_at = if cfg.stop_after_exceedances == 0 {
        0
    } else {
        let settled = (cfg.p_medium.max(cfg.p_high) * (cfg.n_permutations as f64 + 1.0)).ceil();
        cfg.stop_after_exceedances.max(settled as usize)
    };
    let (observed, p, run) = test.run(cfg.n_permutations, cfg.seed, stop_at);
    let (n, m, perms) = (rows_t.len(), rows_b.len(), cfg.n_permutations);

    let p_value = Check::below(p, cfg.p_medium, cfg.p_high);
    let level = match p_value.level {
        Level::High if observed < cfg.high_min_mmd2 => Level::Medium,
        l => l,
    };
    Ok(EmbeddingDrift {
        mmd2: observed,
        estimator: MmdEstimator::Unbiased,
        p_value,
        high_min_mmd2: cfg.high_min_mmd2,
        level,
        bandwidth,
        n_permutations: perms,
        permutations_run: run,
        seed: cfg.seed,
        dim,
        training_rows: n,
        batch_rows: m,
        training_rows_total: nt,
        batch_rows_total: nb,
    })
}

fn check_finite(x: ArrayView2<'_, f32>, side: Side) -> Result<()> {
    for (i, row) in x.rows().into_iter().enumerate() {
        if let Some(j) = row.iter().position(|v| !v.is_finite()) {
            return Err(DriftError::NonFinite {
                what: format!("{side} embeddings"),
                location: format!("row {i}, column {j}"),
            });
        }
    }
    Ok(())
}

/// A ChaCha8 generator on stream `stream` of `seed`.
fn rng_for(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// All rows when they fit, else `max` rows drawn without replacement (sorted).
fn subsample(rows: usize, max: usize, seed: u64, stream: u64) -> Vec<usize> {
    if rows <= max {
        return (0..rows).collect();
    }
    let mut picked = rand::seq::index::sample(&mut rng_for(seed, stream), rows, max).into_vec();
    picked.sort_unstable();
    picked
}

/// The chosen rows of both sides stacked (training first) and centred on their joint mean:
/// distances do not change, and the f32 Gram product loses less to cancellation.
fn pooled_centred(
    training: ArrayView2<'_, f32>,
    rows_t: &[usize],
    batch: ArrayView2<'_, f32>,
    rows_b: &[usize],
) -> Array2<f32> {
    let dim = training.ncols();
    let picked: Vec<_> = rows_t
        .iter()
        .map(|&i| training.row(i))
        .chain(rows_b.iter().map(|&i| batch.row(i)))
        .collect();
    let mut mean = vec![0.0f64; dim];
    for row in &picked {
        for (acc, &x) in mean.iter_mut().zip(row) {
            *acc += f64::from(x);
        }
    }
    let count = picked.len() as f64;
    mean.iter_mut().for_each(|x| *x /= count);
    Array2::from_shape_fn((picked.len(), dim), |(i, j)| {
        (f64::from(picked[i][j]) - mean[j]) as f32
    })
}

/// Row-major `N × N` squared Euclidean distances, block-upper part only (row block `b` holds
/// columns from `b · block` on, its diagonal block exactly symmetric with a zero diagonal).
fn squared_distances(z: &Array2<f32>, block: usize) -> Vec<f64> {
    let n = z.nrows();
    let sq: Vec<f64> = z
        .rows()
        .into_iter()
        .map(|r| r.iter().map(|&x| f64::from(x) * f64::from(x)).sum())
        .collect();
    let mut d2 = vec![0.0f64; n * n];
    d2.par_chunks_mut(block * n)
        .enumerate()
        .for_each(|(b, out)| {
            let r0 = b * block;
            let rows = out.len() / n;
            let gram = z
                .slice(s![r0..r0 + rows, ..])
                .dot(&z.slice(s![r0.., ..]).t());
            for (li, (o, g)) in out.chunks_mut(n).zip(gram.rows()).enumerate() {
                let sq_i = sq[r0 + li];
                for ((dst, &gij), &sq_j) in o[r0..].iter_mut().zip(g).zip(&sq[r0..]) {
                    *dst = (sq_i + sq_j - 2.0 * f64::from(gij)).max(0.0);
                }
                o[r0 + li] = 0.0;
            }
            // The two halves of the diagonal block round differently: keep the upper one.
            for li in 0..rows {
                for lj in 0..li {
                    out[li * n + r0 + lj] = out[lj * n + r0 + li];
                }
            }
        });
    d2
}

/// Median of the pairwise distances `i < j` (mean of the two middle ones for an even count),
/// read from the upper triangle of `d2`. Falls back to the root mean square distance if the
/// median is 0 (mostly duplicate rows), and to 1 if every row is identical (the kernel is then
/// constant and MMD² is 0 anyway).
fn median_bandwidth(d2: &[f64], n: usize) -> f64 {
    let mut upper = Vec::with_capacity(n * (n - 1) / 2);
    for i in 0..n {
        upper.extend_from_slice(&d2[i * n + i + 1..(i + 1) * n]);
    }
    let (len, mid) = (upper.len(), upper.len() / 2);
    let (lower, &mut hi, _) = upper.select_nth_unstable_by(mid, f64::total_cmp);
    let median = if len % 2 == 1 {
        hi.sqrt()
    } else {
        let lo = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        0.5 * (lo.sqrt() + hi.sqrt())
    };
    if median > 0.0 {
        return median;
    }
    let rms = (upper.iter().sum::<f64>() / len as f64).sqrt();
    if rms > 0.0 {
        rms
    } else {
        1.0
    }
}

/// Draws sample one (`n` of `total` pooled rows) for permutation `index`: a partial
/// Fisher–Yates shuffle, returned sorted so sums run in index order.
fn random_labelling(seed: u64, index: u64, total: usize, n: usize) -> Vec<usize> {
    let mut rng = rng_for(seed, 2 + index);
    let mut idx: Vec<usize> = (0..total).collect();
    for i in 0..n {
        let j = rng.random_range(i..total);
        idx.swap(i, j);
    }
    idx.truncate(n);
    idx.sort_unstable();
    idx
}

/// The block-upper kernel matrix (diagonal blocks halved) with its row sums, ready to score
/// labellings.
struct PermutationTest {
    /// Row-major `total × total`; see [`squared_distances`] for the part that is set.
    kernel: Vec<f64>,
    total: usize,
    block: usize,
    row_sums: Vec<f64>,
    grand_total: f64,
    /// Rows of sample one (the first `n` pooled rows).
    n: usize,
}

impl PermutationTest {
    /// Builds the kernel of the pooled rows `z` (sample one = first `n` rows); also returns the
    /// bandwidth.
    fn new(z: &Array2<f32>, n: usize, block: usize) -> (Self, f64) {
        let total = z.nrows();
        let mut kernel = squared_distances(z, block);
        let bandwidth = median_bandwidth(&kernel, total);
        let gamma = 1.0 / (2.0 * bandwidth * bandwidth);
        kernel
            .par_chunks_mut(block * total)
            .enumerate()
            .for_each(|(b, out)| {
                for row in out.chunks_mut(total) {
                    row[b * block..]
                        .iter_mut()
                        .for_each(|d2| *d2 = (-gamma * *d2).exp());
                }
            });
        let row_sums = block_upper_row_sums(&kernel, total, block);
        let grand_total = row_sums.iter().sum();
        // Halve the diagonal blocks: see `stats`.
        kernel
            .par_chunks_mut(block * total)
            .enumerate()
            .for_each(|(b, out)| {
                let (r0, r1) = (b * block, (b * block + block).min(total));
                for row in out.chunks_mut(total) {
                    row[r0..r1].iter_mut().for_each(|k| *k *= 0.5);
                }
            });
        let test = PermutationTest {
            kernel,
            total,
            block,
            row_sums,
            grand_total,
            n,
        };
        (test, bandwidth)
    }

    /// Observed MMD², permutation p-value and the permutations run.
    ///
    /// Permutations are scored in waves of [`PERM_WAVE`] (chunks in parallel) and read in
    /// index order; with `stop_at > 0` the test stops at the permutation `L` where `stop_at`
    /// of them have reached the observed value, with Besag and Clifford's sequential p-value
    /// `stop_at / L`. Where it stops depends only on the seed, not on the thread count.
    fn run(&self, perms: usize, seed: u64, stop_at: usize) -> (f64, f64, usize) {
        let observed = self.stats(&[(0..self.n).collect()])[0];
        let mut at_least = 0usize;
        let mut done = 0usize;
        while done < perms {
            let end = (done + PERM_WAVE).min(perms);
            let permuted: Vec<f64> = (done..end)
                .step_by(PERM_CHUNK)
                .collect::<Vec<usize>>()
                .into_par_iter()
                .map(|c0| {
                    let labellings: Vec<Vec<usize>> = (c0..(c0 + PERM_CHUNK).min(end))
                        .map(|i| random_labelling(seed, i as u64, self.total, self.n))
                        .collect();
                    self.stats(&labellings)
                })
                .collect::<Vec<Vec<f64>>>()
                .concat();
            for (k, &s) in permuted.iter().enumerate() {
                if s >= observed {
                    at_least += 1;
                    if stop_at > 0 && at_least >= stop_at {
                        let run = done + k + 1;
                        return (observed, at_least as f64 / run as f64, run);
                    }
                }
            }
            done = end;
        }
        (
            observed,
            (at_least as f64 + 1.0) / (perms as f64 + 1.0),
            perms,
        )
    }

    /// Unbiased MMD² of each labelling (sorted rows of sample one).
    fn stats(&self, labellings: &[Vec<usize>]) -> Vec<f64> {
        let (total, block, cols) = (self.total, self.block, labellings.len());
        let mut indicator = Array2::<f64>::zeros((total, cols));
        for (c, rows) in labellings.iter().enumerate() {
            for &i in rows {
                indicator[[i, c]] = 1.0;
            }
        }
        let kernel = ArrayView2::from_shape((total, total), &self.kernel)
            .expect("kernel buffer is total × total");
        // Per row block, Σ_{i∈b} aᵢ (K[b, b..] A[b..])ᵢ for every column.
        let partial: Vec<Vec<f64>> = (0..total.div_ceil(block))
            .into_par_iter()
            .map(|b| {
                let (r0, r1) = (b * block, (b * block + block).min(total));
                let prod = kernel
                    .slice(s![r0..r1, r0..])
                    .dot(&indicator.slice(s![r0.., ..]));
                (0..cols)
                    .map(|c| {
                        (r0..r1)
                            .map(|i| indicator[[i, c]] * prod[[i - r0, c]])
                            .sum()
                    })
                    .collect()
            })
            .collect();
        let m = total - self.n;
        labellings
            .iter()
            .enumerate()
            .map(|(c, rows)| {
                // Off-diagonal blocks were visited once (count twice), halved diagonal blocks
                // once (count once after doubling).
                let q = 2.0 * partial.iter().map(|v| v[c]).sum::<f64>();
                let u: f64 = rows.iter().map(|&i| self.row_sums[i]).sum();
                mmd2_unbiased(q, self.grand_total - 2.0 * u + q, u - q, self.n, m)
            })
            .collect()
    }
}

/// Row sums of the full symmetric matrix from its block-upper part: a row's own part plus the
/// column sums of the blocks above it (the transposed lower part), added in block order.
fn block_upper_row_sums(kernel: &[f64], total: usize, block: usize) -> Vec<f64> {
    let parts: Vec<(Vec<f64>, Vec<f64>)> = kernel
        .par_chunks(block * total)
        .enumerate()
        .map(|(b, rows)| {
            let (r0, r1) = (b * block, (b * block + block).min(total));
            let mut own = Vec::with_capacity(r1 - r0);
            let mut below = vec![0.0f64; total];
            for row in rows.chunks(total) {
                own.push(row[r0..].iter().sum::<f64>());
                for (acc, &k) in below[r1..].iter_mut().zip(&row[r1..]) {
                    *acc += k;
                }
            }
            (own, below)
        })
        .collect();
    let mut sums: Vec<f64> = parts
        .iter()
        .flat_map(|(own, _)| own.iter().copied())
        .collect();
    for (_, below) in &parts {
        for (s, b) in sums.iter_mut().zip(below) {
            *s += b;
        }
    }
    sums
}

/// Unbiased MMD² from the block sums of a kernel with unit diagonal (`k(x, x) = 1` for RBF).
fn mmd2_unbiased(s_xx: f64, s_yy: f64, s_xy: f64, n: usize, m: usize) -> f64 {
    let (n, m) = (n as f64, m as f64);
    (s_xx - n) / (n * (n - 1.0)) + (s_yy - m) / (m * (m - 1.0)) - 2.0 * s_xy / (n * m)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Roughly normal rows (sum of 4 uniforms), shifted by `shift` in every coordinate.
    fn sample(rows: usize, dim: usize, shift: f32, seed: u64) -> Array2<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Array2::from_shape_fn((rows, dim), |_| {
            let s: f32 = (0..4).map(|_| rng.random::<f32>() - 0.5).sum();
            s + shift
        })
    }

    /// `perms` permutations, all of them (no early stop).
    fn config(perms: usize) -> DriftConfig {
        let mut c = DriftConfig::default();
        c.embedding.n_permutations = perms;
        c.embedding.stop_after_exceedances = 0;
        c
    }

    fn dist2(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
    }

    /// Direct O(n²) MMD²_u and median bandwidth, in f64 from the raw rows.
    fn naive(x: &Array2<f32>, y: &Array2<f32>) -> (f64, f64) {
        let rows: Vec<Vec<f64>> = x
            .rows()
            .into_iter()
            .chain(y.rows())
            .map(|r| r.iter().map(|&v| f64::from(v)).collect())
            .collect();
        let mut d: Vec<f64> = Vec::new();
        for i in 0..rows.len() {
            for j in i + 1..rows.len() {
                d.push(dist2(&rows[i], &rows[j]).sqrt());
            }
        }
        d.sort_by(f64::total_cmp);
        let h = d.len() / 2;
        let sigma = if d.len() % 2 == 1 {
            d[h]
        } else {
            (d[h - 1] + d[h]) / 2.0
        };
        let k = |a: &[f64], b: &[f64]| (-dist2(a, b) / (2.0 * sigma * sigma)).exp();
        let (xs, ys) = rows.split_at(x.nrows());
        let (n, m) = (xs.len() as f64, ys.len() as f64);
        let mut kxx = 0.0;
        for (i, a) in xs.iter().enumerate() {
            for (j, b) in xs.iter().enumerate() {
                if i != j {
                    kxx += k(a, b);
                }
            }
        }
        let mut kyy = 0.0;
        for (i, a) in ys.iter().enumerate() {
            for (j, b) in ys.iter().enumerate() {
                if i != j {
                    kyy += k(a, b);
                }
            }
        }
        let mut kxy = 0.0;
        for a in xs {
            for b in ys {
                kxy += k(a, b);
            }
        }
        let mmd2 = kxx / (n * (n - 1.0)) + kyy / (m * (m - 1.0)) - 2.0 * kxy / (n * m);
        (mmd2, sigma)
    }

    #[test]
    fn mmd_matches_naive_computation() {
        for (n, m, shift) in [(7, 9, 0.0), (8, 8, 0.5), (2, 3, 1.0), (20, 13, 0.2)] {
            let x = sample(n, 5, 0.0, 1);
            let y = sample(m, 5, shift, 2);
            let (mmd2, sigma) = naive(&x, &y);
            // Block 4 exercises the block-upper bookkeeping (several blocks, a partial last one).
            for block in [4, BLOCK] {
                let e = embedding_drift_blocked(x.view(), y.view(), &config(19), block).unwrap();
                assert!(
                    (e.bandwidth - sigma).abs() < 1e-5 * sigma,
                    "{} vs {sigma}",
                    e.bandwidth
                );
                assert!((e.mmd2 - mmd2).abs() < 1e-6, "{} vs {mmd2}", e.mmd2);
                assert_eq!((e.training_rows, e.batch_rows), (n, m));
            }
        }
    }

    #[test]
    fn permuted_statistics_match_naive_on_relabelled_rows() {
        let x = sample(6, 4, 0.0, 3);
        let y = sample(5, 4, 0.7, 4);
        let pooled = ndarray::concatenate(ndarray::Axis(0), &[x.view(), y.view()]).unwrap();
        let all_x: Vec<usize> = (0..6).collect();
        let z = pooled_centred(x.view(), &all_x, y.view(), &[0, 1, 2, 3, 4]);
        for block in [1, 4, 11, BLOCK] {
            let (test, _) = PermutationTest::new(&z, 6, block);
            for index in 0..5 {
                let l = random_labelling(9, index, 11, 6);
                assert_eq!(l.len(), 6);
                let stat = test.stats(std::slice::from_ref(&l))[0];
                let rest: Vec<usize> = (0..11).filter(|i| !l.contains(i)).collect();
                let (mmd2, _) = naive(
                    &pooled.select(ndarray::Axis(0), &l),
                    &pooled.select(ndarray::Axis(0), &rest),
                );
                assert!(
                    (stat - mmd2).abs() < 1e-6,
                    "block {block}: {stat} vs {mmd2}"
                );
            }
        }
    }

    #[test]
    fn block_upper_row_sums_equal_full_row_sums() {
        // Symmetric 5 × 5, k_ij = 1 / (1 + i + j); block 2: rows 0-1 keep columns 0.., rows 2-3
        // columns 2.., row 4 column 4.
        let total = 5;
        let full = |i: usize, j: usize| 1.0 / (1.0 + i as f64 + j as f64);
        let mut upper = vec![0.0; total * total];
        for i in 0..total {
            for j in (i / 2) * 2..total {
                upper[i * total + j] = full(i, j);
            }
        }
        let sums = block_upper_row_sums(&upper, total, 2);
        for (i, s) in sums.iter().enumerate() {
            let expect: f64 = (0..total).map(|j| full(i, j)).sum();
            assert!((s - expect).abs() < 1e-12, "row {i}: {s} vs {expect}");
        }
    }

    #[test]
    fn shifted_samples_give_the_smallest_p_value_and_high() {
        let x = sample(60, 8, 0.0, 5);
        let y = sample(60, 8, 1.0, 6);
        let e = embedding_drift(x.view(), y.view(), &config(99)).unwrap();
        assert_eq!(e.p_value.value, 1.0 / 100.0);
        // p = 0.01 is not < 0.01: LOW by default, MEDIUM with p_medium 0.05. With 199
        // permutations it reaches HIGH.
        assert_eq!(e.level, Level::Low);
        let mut c = config(99);
        c.embedding.p_medium = 0.05;
        let e = embedding_drift(x.view(), y.view(), &c).unwrap();
        assert_eq!(e.level, Level::Medium);
        let e = embedding_drift(x.view(), y.view(), &config(199)).unwrap();
        assert_eq!(e.p_value.value, 1.0 / 200.0);
        assert_eq!(e.level, Level::High);
        assert!(e.mmd2 > 0.1);
        let r = &e.reasons()[0];
        assert!(
            r.starts_with("embedding drift: MMD² ") && r.ends_with(", p = 0.005 < 0.01"),
            "{r}"
        );
    }

    #[test]
    fn significant_but_small_effect_is_medium() {
        let x = sample(60, 8, 0.0, 5);
        let y = sample(60, 8, 1.0, 6);
        let mut c = config(199);
        c.embedding.high_min_mmd2 = 10.0;
        let e = embedding_drift(x.view(), y.view(), &c).unwrap();
        assert_eq!(e.level, Level::Medium);
        assert!(e.reasons()[0].contains("small effect"), "{:?}", e.reasons());
    }

    #[test]
    fn same_rows_on_both_sides_are_low() {
        let x = sample(40, 6, 0.0, 7);
        let e = embedding_drift(x.view(), x.view(), &config(99)).unwrap();
        assert!(
            e.mmd2 < 0.0,
            "unbiased MMD² of identical samples is negative: {}",
            e.mmd2
        );
        assert!(e.p_value.value > 0.5);
        assert_eq!(e.level, Level::Low);
        assert!(e.reasons().is_empty());
    }

    #[test]
    fn p_value_formula_and_notes() {
        let x = sample(10, 3, 0.0, 8);
        let y = sample(10, 3, 0.0, 9);
        let e = embedding_drift(x.view(), y.view(), &config(19)).unwrap();
        let k = e.p_value.value * 20.0;
        assert!((k - k.round()).abs() < 1e-9 && (1.0..=20.0).contains(&k.round()));
        // 1/20 = 0.05 >= 0.01: HIGH unreachable, said in a note.
        assert!(e.notes()[0].contains("cannot be reached"));
    }

    #[test]
    fn identical_rows_do_not_break_the_bandwidth() {
        let x = Array2::<f32>::ones((5, 3));
        let e = embedding_drift(x.view(), x.view(), &config(9)).unwrap();
        assert_eq!(e.bandwidth, 1.0);
        assert_eq!(e.mmd2, 0.0);
        assert_eq!(e.p_value.value, 1.0);
    }

    #[test]
    fn deterministic_across_thread_counts_and_subsampled() {
        let x = sample(300, 16, 0.0, 10);
        let y = sample(250, 16, 0.1, 11);
        let mut c = config(70);
        c.embedding.max_rows_per_side = 120;
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| embedding_drift_blocked(x.view(), y.view(), &c, 32).unwrap())
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(3));
        assert_eq!((one.training_rows, one.batch_rows), (120, 120));
        assert_eq!((one.training_rows_total, one.batch_rows_total), (300, 250));
        assert!(one
            .notes()
            .iter()
            .any(|n| n.contains("subsample of 120 of 300")));
        c.embedding.seed = 43;
        let other = embedding_drift(x.view(), y.view(), &c).unwrap();
        assert_ne!(one.mmd2, other.mmd2);
    }

    #[test]
    fn early_stop_is_sequential_and_never_changes_the_level() {
        // No drift: stops once 11 permutations reach the observed MMD² (10 asked, but LOW is
        // only certain from p_medium · 1001 = 10.01, so 11), p = 11 / L.
        let x = sample(80, 6, 0.0, 12);
        let y = sample(40, 6, 0.0, 13);
        let mut c = config(1000);
        let full = embedding_drift(x.view(), y.view(), &c).unwrap();
        c.embedding.stop_after_exceedances = 10;
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| embedding_drift_blocked(x.view(), y.view(), &c, 16).unwrap())
        };
        let early = run(1);
        assert_eq!(early, run(3));
        assert!(early.permutations_run < 1000, "{}", early.permutations_run);
        assert_eq!(full.permutations_run, 1000);
        let p = 11.0 / early.permutations_run as f64;
        assert!((early.p_value.value - p).abs() < 1e-12);
        assert_eq!((early.level, full.level), (Level::Low, Level::Low));
        // Another block size rounds the kernel sums differently.
        assert!((early.mmd2 - full.mmd2).abs() < 1e-12);
        // The full test sees the same first permutations: 11 exceedances within them, so
        // its p-value is at least 12 / 1001.
        assert!(full.p_value.value >= 12.0 / 1001.0);
        // Drift: nothing stops it, the result is the full test's.
        let y = sample(40, 6, 1.0, 14);
        let full = embedding_drift(x.view(), y.view(), &config(300)).unwrap();
        let mut c = config(300);
        c.embedding.stop_after_exceedances = 10;
        let early = embedding_drift(x.view(), y.view(), &c).unwrap();
        assert_eq!(early.p_value, full.p_value);
        assert_eq!(early.permutations_run, 300);
        assert_eq!(early.level, Level::High);
        // A stop count below what makes LOW certain is raised to it: with p_medium 0.2 and
        // 99 permutations, at least 20 exceedances.
        let y = sample(40, 6, 0.0, 15);
        let mut c = config(99);
        c.embedding.p_medium = 0.2;
        c.embedding.stop_after_exceedances = 1;
        let e = embedding_drift(x.view(), y.view(), &c).unwrap();
        if e.permutations_run < 99 {
            assert!(e.p_value.value * e.permutations_run as f64 >= 20.0 - 1e-9);
        }
        assert_eq!(
            e.level,
            embedding_drift(x.view(), y.view(), &{
                c.embedding.stop_after_exceedances = 0;
                c.clone()
            })
            .unwrap()
            .level
        );
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let c = config(9);
        let a = sample(5, 4, 0.0, 1);
        let empty = Array2::<f32>::zeros((0, 4));
        assert!(matches!(
            embedding_drift(a.view(), empty.view(), &c),
            Err(DriftError::EmptyBatch { .. })
        ));
        assert!(matches!(
            embedding_drift(empty.view(), a.view(), &c),
            Err(DriftError::EmptyTraining { .. })
        ));
        let one = sample(1, 4, 0.0, 1);
        assert_eq!(
            embedding_drift(a.view(), one.view(), &c),
            Err(DriftError::TooFewRows {
                side: Side::Batch,
                rows: 1
            })
        );
        let wide = sample(5, 6, 0.0, 1);
        assert_eq!(
            embedding_drift(a.view(), wide.view(), &c),
            Err(DriftError::DimensionMismatch {
                training: 4,
                batch: 6
            })
        );
        let flat = Array2::<f32>::zeros((3, 0));
        assert_eq!(
            embedding_drift(flat.view(), flat.view(), &c),
            Err(DriftError::ZeroDimension)
        );
        let mut nan = a.clone();
        nan[[2, 1]] = f32::NAN;
        let err = embedding_drift(a.view(), nan.view(), &c).unwrap_err();
        assert!(err.to_string().contains("batch embeddings"), "{err}");
        assert!(err.to_string().contains("row 2, column 1"), "{err}");
        let mut bad = config(9);
        bad.embedding.max_rows_per_side = 1;
        assert!(matches!(
            embedding_drift(a.view(), a.view(), &bad),
            Err(DriftError::InvalidConfig { .. })
        ));
    }
}
