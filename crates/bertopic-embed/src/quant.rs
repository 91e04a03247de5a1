//! Dynamic int8 linear layers for the fast encoder (`Precision::Int8`).
//!
//! Weights are quantized once at load, symmetrically per output channel (`w ≈ s_w[c] · q`,
//! `q ∈ [-127, 127]`); activations are quantized per token (row) on every call
//! (`x ≈ s_x[r] · q`, `q ∈ [-127, 127]`). The product of the integer values accumulates exactly in
//! `i32` and is scaled back to `f32` once per output element; bias, residual, softmax, layer norm
//! and GELU stay in `f32` (the caller's).
//!
//! The AVX2 kernel multiplies with `vpmaddwd` (`_mm256_madd_epi16`) on int8 values held in i16
//! lanes: it sums two `i16 × i16` products into an `i32` without the saturation `vpmaddubsw` has
//! (`u8 × i8` pairs summed into a *saturating* i16 overflow at 2 · 255 · 127), and on Zen 3 it
//! issues at the same rate, so the `u8` route would not be faster there. Every integer sum is
//! exact (|pair| ≤ 2 · 127² and at most `k / 2` pairs: no i32 overflow for `k < 133_000`), and the
//! scaling is written the same way in both paths, so the AVX2 and scalar kernels give the same
//! bits; only the speed differs.

/// Columns per packed panel (two AVX2 registers of eight i32 sums).
const NR: usize = 16;
/// Rows per micro-tile: 4 × 2 accumulators + 2 weight vectors + broadcasts leave the compiler
/// registers to spare (with 6 rows it spilled accumulators to the stack).
const MR: usize = 4;
/// Rows per outer tile (a multiple of `MR`): keeps the tile's quantized activations in L2 while
/// panels stream by.
const MT: usize = 64;
/// Largest quantized magnitude (symmetric int8).
const QMAX: f32 = 127.0;

/// One linear layer's weights, quantized per output channel and packed for the kernel.
pub(crate) struct QWeights {
    n_in: usize,
    n_out: usize,
    /// `n_in` rounded up to even (the kernel consumes input pairs).
    kp: usize,
    /// Panels of `NR` output columns; within a panel, for each input pair `p`: columns 0–7 as
    /// `(w[2p][c], w[2p+1][c])` pairs, then columns 8–15. Columns past `n_out` are zero.
    packed: Vec<i16>,
    /// Per output channel: `max |w| / 127`.
    scales: Vec<f32>,
}

/// Rounds to the nearest integer, ties to even (what `vcvtps2dq` does; vectorises as `vroundps`).
#[inline(always)]
fn quantize(v: f32, inv_scale: f32) -> i16 {
    (v * inv_scale).round_ties_even().clamp(-QMAX, QMAX) as i16
}

impl QWeights {
    /// Quantizes a weight stored transposed (`w_t` is `n_in × n_out`, row-major).
    pub(crate) fn from_transposed(w_t: &[f32], n_in: usize, n_out: usize) -> Self {
        assert_eq!(w_t.len(), n_in * n_out);
        let mut scales = vec![0f32; n_out];
        for row in w_t.chunks_exact(n_out.max(1)) {
            for (s, &v) in scales.iter_mut().zip(row) {
                *s = s.max(v.abs());
            }
        }
        let inv: Vec<f32> = scales
            .iter_mut()
            .map(|s| {
                let m = *s;
                *s = m / QMAX;
                if m > 0.0 {
                    QMAX / m
                } else {
                    0.0
                }
            })
            .collect();
        let kp = n_in.next_multiple_of(2);
        let panels = n_out.div_ceil(NR);
        let mut packed = vec![0i16; panels * kp * NR];
        for panel in 0..panels {
            for p in 0..kp / 2 {
                let base = (panel * kp / 2 + p) * 2 * NR;
                for j in 0..NR {
                    let c = panel * NR + j;
                    if c >= n_out {
                        continue;
                    }
                    // Lane j of the half-panel (j / 8) holds the pair for column c.
                    let slot = base + (j / 8) * NR + (j % 8) * 2;
                    for d in 0..2 {
                        let i = 2 * p + d;
                        if i < n_in {
                            packed[slot + d] = quantize(w_t[i * n_out + c], inv[c]);
                        }
                    }
                }
            }
        }
        QWeights {
            n_in,
            n_out,
            kp,
            packed,
            scales,
        }
    }
}

/// Per-thread buffers for the quantized activations.
#[derive(Default)]
pub(crate) struct QScratch {
    a: Vec<i16>,
    scales: Vec<f32>,
}

/// Which kernel runs on this CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Int8Kernel {
    /// `vpmaddwd` on 256-bit registers.
    Avx2,
    /// Portable integer loops (several times slower than the f32 encoder).
    Scalar,
}

/// The int8 kernel this CPU gets (AVX2 when the CPU has it, else the scalar fallback).
pub fn int8_kernel() -> Int8Kernel {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        return Int8Kernel::Avx2;
    }
    Int8Kernel::Scalar
}

/// `out (rows × n_out) += x (rows × n_in) · Wᵀ` with int8 weights and per-row int8 activations.
/// `out` holds the bias (and residual) already.
pub(crate) fn qlinear(w: &QWeights, x: &[f32], rows: usize, out: &mut [f32], s: &mut QScratch) {
    let (k, kp, n) = (w.n_in, w.kp, w.n_out);
    assert!(x.len() >= rows * k && out.len() >= rows * n);
    // Rows are padded to a multiple of MR with zeros: the AVX2 tile always reads MR rows.
    let padded = rows.next_multiple_of(MR);
    s.a.resize((padded * kp).max(s.a.len()), 0);
    s.a[rows * kp..padded * kp].fill(0);
    s.scales.resize(rows.max(s.scales.len()), 0.0);
    quantize_rows(&x[..rows * k], k, kp, &mut s.a, &mut s.scales);
    let kernel = int8_kernel();
    for m0 in (0..rows).step_by(MT) {
        let mt = MT.min(rows - m0);
        for panel in 0..n.div_ceil(NR) {
            let b = &w.packed[panel * kp * NR..(panel + 1) * kp * NR];
            let c0 = panel * NR;
            let nc = NR.min(n - c0);
            let sw = &w.scales[c0..c0 + nc];
            for r0 in (m0..m0 + mt).step_by(MR) {
                let mr = MR.min(m0 + mt - r0);
                let a = &s.a[r0 * kp..(r0 + MR) * kp];
                let sa = &s.scales[r0..r0 + mr];
                let o = &mut out[r0 * n + c0..(r0 + mr - 1) * n + c0 + nc];
                match kernel {
                    #[cfg(target_arch = "x86_64")]
                    Int8Kernel::Avx2 => {
                        // SAFETY: `int8_kernel` returned Avx2 only after detecting AVX2.
                        unsafe { avx2::tile(mr, a, kp, b, o, n, nc, sa, sw) }
                    }
                    _ => scalar_tile(mr, a, kp, b, o, n, nc, sa, sw),
                }
            }
        }
    }
}

/// Quantizes each row of `x` (`k` wide) into `q` (`kp` wide, zero-padded), scale per row.
fn quantize_rows(x: &[f32], k: usize, kp: usize, q: &mut [i16], scales: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        #[target_feature(enable = "avx2")]
        fn wide(x: &[f32], k: usize, kp: usize, q: &mut [i16], scales: &mut [f32]) {
            quantize_rows_body(x, k, kp, q, scales)
        }
        // SAFETY: the CPU supports AVX2 (checked just above).
        return unsafe { wide(x, k, kp, q, scales) };
    }
    quantize_rows_body(x, k, kp, q, scales)
}

#[inline(always)]
fn quantize_rows_body(x: &[f32], k: usize, kp: usize, q: &mut [i16], scales: &mut [f32]) {
    for ((row, qr), s) in x
        .chunks_exact(k)
        .zip(q.chunks_exact_mut(kp))
        .zip(scales.iter_mut())
    {
        // Max |x| in 8 fixed lanes (vectorises; order does not matter for a max).
        let mut acc = [0f32; 8];
        let mut chunks = row.chunks_exact(8);
        for c in &mut chunks {
            for (a, v) in acc.iter_mut().zip(c) {
                *a = a.max(v.abs());
            }
        }
        let mut m = acc.iter().fold(0f32, |m, &v| m.max(v));
        for v in chunks.remainder() {
            m = m.max(v.abs());
        }
        let inv = if m > 0.0 { QMAX / m } else { 0.0 };
        *s = m / QMAX;
        for (d, &v) in qr.iter_mut().zip(row) {
            *d = quantize(v, inv);
        }
        qr[k..].fill(0);
    }
}

/// Portable micro-tile: `mr` rows × `nc` columns of one panel.
#[allow(clippy::too_many_arguments)]
fn scalar_tile(
    mr: usize,
    a: &[i16],
    kp: usize,
    b: &[i16],
    out: &mut [f32],
    out_rs: usize,
    nc: usize,
    sa: &[f32],
    sw: &[f32],
) {
    for r in 0..mr {
        let ar = &a[r * kp..(r + 1) * kp];
        let mut acc = [0i32; NR];
        for (p, pair) in ar.chunks_exact(2).enumerate() {
            let bp = &b[p * 2 * NR..(p + 1) * 2 * NR];
            for (j, acc) in acc.iter_mut().enumerate() {
                let slot = (j / 8) * NR + (j % 8) * 2;
                *acc += pair[0] as i32 * bp[slot] as i32 + pair[1] as i32 * bp[slot + 1] as i32;
            }
        }
        let o = &mut out[r * out_rs..r * out_rs + nc];
        for ((o, &acc), &sw) in o.iter_mut().zip(&acc).zip(sw) {
            *o += acc as f32 * (sa[r] * sw);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{MR, NR};
    use std::arch::x86_64::*;

    /// One tile: `MR` rows of `a` (rows past `mr` are zero padding, computed and dropped) ×
    /// one 16-column panel, added into `out`'s first `mr` rows and `nc` columns.
    ///
    /// Per input pair: two panel loads, four broadcasts of a row's pair (one i32 = two i16),
    /// eight `vpmaddwd` + `vpaddd` into eight named accumulators (written out by hand: the
    /// generic form spilled them to the stack).
    ///
    /// # Safety
    /// The CPU must support AVX2. Slices: `a` holds `MR` rows of `kp` (even) values, `b` one
    /// panel of `kp · NR` values, `out` reaches row `mr − 1`'s column `nc − 1` at stride `out_rs`,
    /// `sa` has `mr` and `sw` has `nc` values (checked by asserts).
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn tile(
        mr: usize,
        a: &[i16],
        kp: usize,
        b: &[i16],
        out: &mut [f32],
        out_rs: usize,
        nc: usize,
        sa: &[f32],
        sw: &[f32],
    ) {
        assert!((1..=MR).contains(&mr) && (1..=NR).contains(&nc) && kp.is_multiple_of(2));
        assert!(a.len() >= MR * kp && b.len() >= kp * NR);
        assert!(out.len() >= (mr - 1) * out_rs + nc && sa.len() >= mr && sw.len() >= nc);
        let z = _mm256_setzero_si256();
        let (mut c00, mut c01, mut c10, mut c11) = (z, z, z, z);
        let (mut c20, mut c21, mut c30, mut c31) = (z, z, z, z);
        // Walking pointers with wrapping arithmetic: no index maths (and no overflow checks in
        // debug builds) inside the loop.
        let mut a0 = a.as_ptr();
        let mut bp = b.as_ptr();
        let mut left = kp / 2;
        while left > 0 {
            left -= 1;
            // SAFETY: on step p, `bp` is at b[p·2·NR], whose 2·NR values are inside the panel,
            // and `a0 + r·kp` at a[r·kp + 2p], whose pair is inside row r < MR (asserted above);
            // all loads are unaligned.
            unsafe {
                let b0 = _mm256_loadu_si256(bp as *const __m256i);
                let b1 = _mm256_loadu_si256(bp.wrapping_add(NR) as *const __m256i);
                macro_rules! row {
                    ($r:expr, $lo:ident, $hi:ident) => {
                        let av = _mm256_set1_epi32(
                            (a0.wrapping_add($r * kp) as *const i32).read_unaligned(),
                        );
                        $lo = _mm256_add_epi32($lo, _mm256_madd_epi16(av, b0));
                        $hi = _mm256_add_epi32($hi, _mm256_madd_epi16(av, b1));
                    };
                }
                row!(0, c00, c01);
                row!(1, c10, c11);
                row!(2, c20, c21);
                row!(3, c30, c31);
            }
            a0 = a0.wrapping_add(2);
            bp = bp.wrapping_add(2 * NR);
        }
        let mut swv = [0f32; NR];
        swv[..nc].copy_from_slice(&sw[..nc]);
        // SAFETY: `swv` holds NR floats.
        let (sw0, sw1) = unsafe {
            (
                _mm256_loadu_ps(swv.as_ptr()),
                _mm256_loadu_ps(swv.as_ptr().add(8)),
            )
        };
        let acc = [(c00, c01), (c10, c11), (c20, c21), (c30, c31)];
        for (r, &(lo, hi)) in acc.iter().enumerate().take(mr) {
            let s = _mm256_set1_ps(sa[r]);
            // Same operation order as the scalar path: acc · (s_x · s_w), then added to out.
            let v0 = _mm256_mul_ps(_mm256_cvtepi32_ps(lo), _mm256_mul_ps(s, sw0));
            let v1 = _mm256_mul_ps(_mm256_cvtepi32_ps(hi), _mm256_mul_ps(s, sw1));
            let mut tmp = [0f32; NR];
            // SAFETY: `tmp` holds NR floats.
            unsafe {
                _mm256_storeu_ps(tmp.as_mut_ptr(), v0);
                _mm256_storeu_ps(tmp.as_mut_ptr().add(8), v1);
            }
            let o = &mut out[r * out_rs..r * out_rs + nc];
            for (o, t) in o.iter_mut().zip(&tmp) {
                *o += t;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small deterministic pseudo-random values in [-1, 1).
    fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect()
    }

    /// Shapes with odd `k`, `n` not a multiple of 16 and rows not a multiple of 6 or 60.
    #[test]
    fn int8_product_matches_f32_and_both_kernels_agree() {
        for &(rows, k, n) in &[(1, 1, 1), (7, 33, 17), (65, 64, 48), (13, 385, 40)] {
            let x = values(rows * k, 1 + k as u64);
            let w_t = values(k * n, 7 + n as u64);
            let bias = values(n, 3);
            let q = QWeights::from_transposed(&w_t, k, n);
            let mut out = vec![0f32; rows * n];
            for r in out.chunks_exact_mut(n) {
                r.copy_from_slice(&bias);
            }
            let mut s = QScratch::default();
            qlinear(&q, &x, rows, &mut out, &mut s);
            // Scalar kernel on the same quantized operands: the same bits.
            let mut ref_out = vec![0f32; rows * n];
            for r in ref_out.chunks_exact_mut(n) {
                r.copy_from_slice(&bias);
            }
            for panel in 0..n.div_ceil(NR) {
                let c0 = panel * NR;
                let nc = NR.min(n - c0);
                for r in 0..rows {
                    scalar_tile(
                        1,
                        &s.a[r * q.kp..(r + 1) * q.kp],
                        q.kp,
                        &q.packed[panel * q.kp * NR..(panel + 1) * q.kp * NR],
                        &mut ref_out[r * n + c0..r * n + c0 + nc],
                        n,
                        nc,
                        &s.scales[r..r + 1],
                        &q.scales[c0..c0 + nc],
                    );
                }
            }
            assert_eq!(out, ref_out, "kernels disagree at {rows}×{k}×{n}");
            // Against the f32 product: each term's error is at most half a step of each factor,
            // so |error| ≤ Σ (|x|·Δw + |w|·Δx + Δx·Δw) with Δ = scale / 2.
            for r in 0..rows {
                let xr = &x[r * k..(r + 1) * k];
                let sx = xr.iter().fold(0f32, |m, v| m.max(v.abs())) / QMAX;
                for c in 0..n {
                    let exact: f64 = bias[c] as f64
                        + (0..k)
                            .map(|i| xr[i] as f64 * w_t[i * n + c] as f64)
                            .sum::<f64>();
                    let sw = q.scales[c];
                    let bound: f64 = (0..k)
                        .map(|i| {
                            (xr[i].abs() * sw / 2.0
                                + w_t[i * n + c].abs() * sx / 2.0
                                + sx * sw / 4.0) as f64
                        })
                        .sum::<f64>()
                        + 1e-5;
                    let got = out[r * n + c] as f64;
                    assert!(
                        (got - exact).abs() <= bound,
                        "{rows}×{k}×{n} [{r},{c}]: {got} vs {exact} (bound {bound})"
                    );
                }
            }
        }
    }

    #[test]
    fn zero_rows_and_columns_quantize_to_zero() {
        let q = QWeights::from_transposed(&[0.0; 6], 2, 3);
        assert!(q.scales.iter().all(|&s| s == 0.0));
        let mut out = vec![1f32; 3];
        qlinear(&q, &[0.0, 0.0], 1, &mut out, &mut QScratch::default());
        assert_eq!(out, vec![1.0; 3]);
    }
}
