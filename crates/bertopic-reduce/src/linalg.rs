//! Small numeric kernels: a vectorisable dot product, a symmetric Jacobi eigensolver and
//! fixed-order sums (so results never depend on the rayon thread count), and a gemm wrapper.

/// Dot product with 8 independent accumulators so the compiler can vectorise it.
#[inline]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s = 0.0f32;
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s + ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

/// Squared Euclidean distance, vectorisable.
#[inline]
pub(crate) fn sq_dist(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            let d = x[l] - y[l];
            acc[l] += d * d;
        }
    }
    let mut s = 0.0f32;
    for (x, y) in ra.iter().zip(rb) {
        let d = x - y;
        s += d * d;
    }
    s + ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

/// `out[i * b_rows + j] = a_i · b_j` for row-major `a` (a_rows × d) and `b` (b_rows × d), one
/// thread (callers parallelise over blocks). The products of one call depend only on its
/// shapes, never on the thread count.
pub(crate) fn gemm_abt(
    a: &[f32],
    a_rows: usize,
    b: &[f32],
    b_rows: usize,
    d: usize,
    out: &mut [f32],
) {
    assert!(
        a.len() >= a_rows * d && b.len() >= b_rows * d && out.len() >= a_rows * b_rows,
        "gemm_abt: slices shorter than their shapes"
    );
    if a_rows == 0 || b_rows == 0 {
        return;
    }
    if d == 0 {
        out[..a_rows * b_rows].fill(0.0);
        return;
    }
    // SAFETY: the assert above keeps every access inside the three slices: dst is a_rows × b_rows
    // row-major (row stride b_rows), lhs a_rows × d row-major, rhs = bᵀ (d × b_rows: k stride 1,
    // column stride d). read_dst = false, so dst's old contents are never read.
    unsafe {
        gemm::gemm(
            a_rows,
            b_rows,
            d,
            out.as_mut_ptr(),
            1,
            b_rows as isize,
            false,
            a.as_ptr(),
            1,
            d as isize,
            b.as_ptr(),
            d as isize,
            1,
            0.0f32,
            1.0f32,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// Chunk length for fixed-order parallel reductions.
const CHUNK: usize = 4096;

/// Dot product of two f64 vectors, summed in fixed chunks then the chunk sums in order: the
/// same bits on any thread count. Serial: the vectors here have one entry per point, and a
/// parallel split cost more in task overhead than it saved (it was called thousands of times
/// by the spectral init).
///
/// Each chunk is one sequential chain of additions (latency-bound); up to four chunks run in
/// lockstep so their chains overlap. Every chain adds the same terms in the same order as a
/// plain per-chunk `sum`, so the bits are unchanged.
pub(crate) fn det_dot64(a: &[f64], b: &[f64]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let n = a.len().min(b.len());
    // The start value of `f64`'s `Sum` (the per-chunk sums used to be plain `sum()` calls).
    let zero = std::iter::empty::<f64>().sum::<f64>();
    let n_chunks = n.div_ceil(CHUNK);
    let mut sums = Vec::with_capacity(n_chunks);
    for group in (0..n_chunks).step_by(GROUP) {
        let g_end = (group + GROUP).min(n_chunks);
        let mut s = [zero; GROUP];
        let range = |c: usize| (c * CHUNK, ((c + 1) * CHUNK).min(n));
        // Every chunk but the last is CHUNK long: the shortest in the group sets the lockstep.
        let common = (group..g_end)
            .map(|c| range(c).1 - range(c).0)
            .min()
            .unwrap_or(0);
        if g_end - group == GROUP {
            for i in 0..common {
                for (g, sg) in s.iter_mut().enumerate() {
                    let k = (group + g) * CHUNK + i;
                    *sg += a[k] * b[k];
                }
            }
        } else {
            for i in 0..common {
                for (g, sg) in s[..g_end - group].iter_mut().enumerate() {
                    let k = (group + g) * CHUNK + i;
                    *sg += a[k] * b[k];
                }
            }
        }
        for (g, sg) in s[..g_end - group].iter_mut().enumerate() {
            let (lo, hi) = range(group + g);
            for k in lo + common..hi {
                *sg += a[k] * b[k];
            }
        }
        sums.extend_from_slice(&s[..g_end - group]);
    }
    sums.into_iter().sum()
}

/// Chunks of [`det_dot64`] summed in lockstep.
const GROUP: usize = 4;

/// Eigen-decomposition of a symmetric matrix (row-major `m`×`m`) by cyclic Jacobi rotations.
/// Returns (eigenvalues, eigenvectors as columns of a row-major matrix), sorted by descending value.
pub(crate) fn jacobi_eigen(a: &[f64], m: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = a.to_vec();
    let mut v = vec![0.0f64; m * m];
    for i in 0..m {
        v[i * m + i] = 1.0;
    }
    for _sweep in 0..100 {
        let mut off = 0.0;
        let mut total = 0.0;
        for i in 0..m {
            for j in 0..m {
                let x = a[i * m + j] * a[i * m + j];
                total += x;
                if i != j {
                    off += x;
                }
            }
        }
        if off <= 1e-30 * total.max(1e-300) {
            break;
        }
        for p in 0..m {
            for q in (p + 1)..m {
                let apq = a[p * m + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let app = a[p * m + p];
                let aqq = a[q * m + q];
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                // Rotate rows/cols p and q of a.
                for k in 0..m {
                    let akp = a[k * m + p];
                    let akq = a[k * m + q];
                    a[k * m + p] = c * akp - s * akq;
                    a[k * m + q] = s * akp + c * akq;
                }
                for k in 0..m {
                    let apk = a[p * m + k];
                    let aqk = a[q * m + k];
                    a[p * m + k] = c * apk - s * aqk;
                    a[q * m + k] = s * apk + c * aqk;
                }
                for k in 0..m {
                    let vkp = v[k * m + p];
                    let vkq = v[k * m + q];
                    v[k * m + p] = c * vkp - s * vkq;
                    v[k * m + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&x, &y| a[y * m + y].total_cmp(&a[x * m + x]).then(x.cmp(&y)));
    let vals: Vec<f64> = order.iter().map(|&i| a[i * m + i]).collect();
    let mut vecs = vec![0.0f64; m * m];
    for (new_c, &old_c) in order.iter().enumerate() {
        // Sign convention: largest-magnitude component positive, for reproducible output.
        let mut best = 0usize;
        for r in 0..m {
            if v[r * m + old_c].abs() > v[best * m + old_c].abs() {
                best = r;
            }
        }
        let sign = if v[best * m + old_c] < 0.0 { -1.0 } else { 1.0 };
        for r in 0..m {
            vecs[r * m + new_c] = sign * v[r * m + old_c];
        }
    }
    (vals, vecs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The per-chunk sequential sums `det_dot64` must reproduce bit for bit.
    fn plain_chunked(a: &[f64], b: &[f64]) -> f64 {
        a.chunks(CHUNK)
            .zip(b.chunks(CHUNK))
            .map(|(x, y)| x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>())
            .sum()
    }

    #[test]
    fn lockstep_dot_matches_plain_chunked_sums_bit_for_bit() {
        let mut rng = crate::rng::SplitMix64::from_keys(&[3]);
        for n in [
            0,
            1,
            7,
            CHUNK - 1,
            CHUNK,
            CHUNK + 1,
            10_598,
            5 * CHUNK + 3,
            9 * CHUNK,
        ] {
            let a: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
            let b: Vec<f64> = (0..n).map(|_| rng.normal() * 1e3).collect();
            assert_eq!(
                det_dot64(&a, &b).to_bits(),
                plain_chunked(&a, &b).to_bits(),
                "n = {n}"
            );
        }
        // Signed zeros keep the same start value as `Sum`.
        assert_eq!(
            det_dot64(&[-0.0], &[1.0]).to_bits(),
            plain_chunked(&[-0.0], &[1.0]).to_bits()
        );
    }
}
