//! Layout optimisation: the edge sampling schedule and the SGD epochs with negative sampling
//! (thread-count independent, an AVX2 build chosen at run time with identical arithmetic), and
//! the fast pow approximation its gradient uses.

use rayon::prelude::*;

use super::fuzzy::Csr;
use crate::rng::SplitMix64;

/// x^b for x > 0 via fast log2/exp2 approximations (relative error ~1e-4): the SGD's hot spot,
/// where libm's ln/exp dominated the run time.
#[inline]
fn fast_pow(x: f32, b: f32) -> f32 {
    fast_exp2(b * fast_log2(x))
}

#[inline]
fn fast_log2(x: f32) -> f32 {
    let bits = x.to_bits();
    let e = ((bits >> 23) & 0xff) as i32 - 127;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000); // [1, 2)
                                                                // ln m = 2 atanh(s), s = (m-1)/(m+1) ≤ 1/3: the odd series converges fast.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let ln_m =
        2.0 * s * (1.0 + s2 * (1.0 / 3.0 + s2 * (0.2 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0)))));
    e as f32 + ln_m * std::f32::consts::LOG2_E
}

#[inline]
fn fast_exp2(x: f32) -> f32 {
    let x = x.clamp(-126.0, 126.0);
    // floor(x) without float→int `as` casts (their saturating NaN semantics stop vectorisation):
    // adding 1.5·2^23 rounds to an integer held in the low mantissa bits.
    const MAGIC: f32 = 12_582_912.0;
    let mut fl = (x + MAGIC) - MAGIC;
    if fl > x {
        fl -= 1.0;
    }
    let f = x - fl;
    let fl_i = (fl + MAGIC).to_bits() as i32 - MAGIC.to_bits() as i32;
    // Polynomial for 2^f on [0, 1).
    let p = 1.0
        + f * (std::f32::consts::LN_2
            + f * (0.240_226_5
                + f * (0.055_504_11 + f * (0.009_618_13 + f * (0.001_333_55 + f * 0.000_154_03)))));
    f32::from_bits(((fl_i + 127) as u32) << 23) * p
}

#[inline]
fn clip(x: f32) -> f32 {
    x.clamp(-4.0, 4.0)
}

/// Edges of one head row prepared for SGD: (tail, epochs_per_sample).
pub(super) struct Sched {
    indptr: Vec<usize>,
    pub(super) tails: Vec<u32>,
    pub(super) inv_eps: Vec<f32>,
}

/// Keep edges with weight ≥ max/n_epochs; epochs_per_sample = max / weight.
pub(super) fn schedule(g: &Csr, n_rows: usize, n_epochs: usize) -> Sched {
    let wmax = g.weights.iter().copied().fold(0.0f32, f32::max);
    let mut indptr = vec![0usize; n_rows + 1];
    let mut tails = Vec::new();
    let mut eps = Vec::new();
    for i in 0..n_rows {
        for e in g.indptr[i]..g.indptr[i + 1] {
            let w = g.weights[e];
            if wmax > 0.0 && w >= wmax / n_epochs as f32 && w > 0.0 {
                tails.push(g.indices[e]);
                eps.push(w / wmax);
            }
        }
        indptr[i + 1] = tails.len();
    }
    Sched {
        indptr,
        tails,
        inv_eps: eps,
    }
}

/// SGD layout optimisation. Each epoch every head row is updated by one task: its own coordinates
/// move sequentially through its sampled edges, other points are read from the previous epoch's
/// snapshot (a Jacobi-style sweep), and negative samples come from a per-(row, epoch) seeded RNG.
/// Results therefore do not depend on the thread count. `others` = None: heads and tails share
/// `heads` (fit); Some(fixed): tails and negatives index the fixed training embedding (transform).
#[allow(clippy::too_many_arguments)]
pub(super) fn optimize(
    heads: &mut Vec<f32>,
    others: Option<&[f32]>,
    dim: usize,
    s: &Sched,
    n_epochs: usize,
    a: f32,
    b: f32,
    lr: f32,
    neg_rate: usize,
    seed: u64,
) {
    let max_deg = s.indptr.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    let ctx = SgdCtx {
        s,
        dim,
        a,
        b,
        neg_rate,
        seed,
        fit: others.is_none(),
        avx2: avx2_available(),
        cap: max_deg * (1 + neg_rate),
        gather: avx2_available() && others.map_or(heads.len(), <[f32]>::len) < i32::MAX as usize,
    };
    // Common output sizes get a compile-time dimension (unrolled loops, no bounds checks).
    match dim {
        2 => optimize_d::<2>(heads, others, &ctx, n_epochs, lr),
        5 => optimize_d::<5>(heads, others, &ctx, n_epochs, lr),
        _ => optimize_d::<0>(heads, others, &ctx, n_epochs, lr),
    }
}

/// Everything one row update needs besides the positions.
struct SgdCtx<'a> {
    s: &'a Sched,
    dim: usize,
    a: f32,
    b: f32,
    neg_rate: usize,
    seed: u64,
    /// Heads and tails share one embedding (fit), so coincident negatives get pushed apart.
    fit: bool,
    /// The CPU has AVX2: the row kernel runs in an 8-lane build of the same code (the arithmetic
    /// is unchanged, no fused multiply-add, so results are bit-identical to the baseline build).
    avx2: bool,
    /// Most samples one row can draw in an epoch (largest degree × (1 + negative rate)).
    cap: usize,
    /// AVX2 gathers for the sample blocks (AVX2 present and every offset fits an i32).
    gather: bool,
}

fn avx2_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// [`optimize`] body; `D` > 0 fixes the dimension at compile time, 0 uses `ctx.dim`.
fn optimize_d<const D: usize>(
    heads: &mut Vec<f32>,
    others: Option<&[f32]>,
    ctx: &SgdCtx,
    n_epochs: usize,
    lr: f32,
) {
    let dim = if D > 0 { D } else { ctx.dim };
    let mut next = heads.clone();
    for epoch in 0..n_epochs {
        let alpha = lr * (1.0 - epoch as f32 / n_epochs as f32);
        let snap: &[f32] = heads;
        let tails_src: &[f32] = others.unwrap_or(snap);
        next.par_chunks_mut(dim)
            .with_min_len(1024)
            .enumerate()
            .for_each_init(
                || Scratch::new(ctx.cap, dim, D == 0),
                |sc, (i, yi)| {
                    yi.copy_from_slice(&snap[i * dim..(i + 1) * dim]);
                    row_update::<D>(ctx, sc, tails_src, i, epoch, yi, alpha);
                },
            );
        std::mem::swap(heads, &mut next);
    }
}

/// Per-thread buffers for one row's samples, in blocks of [`LANES`]: sample indices, the
/// coordinate differences (block-major: a block's `dim` lane vectors together), squared lengths
/// and coefficients; and for a run-time dimension the per-coordinate lane sums.
struct Scratch {
    idx: Vec<u32>,
    diff: Vec<[f32; LANES]>,
    d2: Vec<[f32; LANES]>,
    coef: Vec<[f32; LANES]>,
    acc: Vec<[f32; LANES]>,
    tail: Vec<f32>,
}

impl Scratch {
    /// `cap`: most samples of one row; `dim`: embedding dimension; `runtime_dim`: the lane sums
    /// live here rather than on the stack.
    fn new(cap: usize, dim: usize, runtime_dim: bool) -> Self {
        let blocks = cap.div_ceil(LANES).max(1);
        let sums = if runtime_dim { dim } else { 0 };
        Self {
            idx: vec![0; blocks * LANES],
            diff: vec![[0.0; LANES]; blocks * dim],
            d2: vec![[0.0; LANES]; blocks],
            coef: vec![[0.0; LANES]; blocks],
            acc: vec![[0.0; LANES]; sums],
            tail: vec![0.0; sums],
        }
    }
}

/// Per-row lane sums, borrowed from the stack or from [`Scratch`].
struct RowBufs<'a> {
    acc: &'a mut [[f32; LANES]],
    tail: &'a mut [f32],
}

/// The per-row sample buffers of [`Scratch`].
struct SampleBufs<'a> {
    idx: &'a mut [u32],
    diff: &'a mut [[f32; LANES]],
    d2: &'a mut [[f32; LANES]],
    coef: &'a mut [[f32; LANES]],
}

/// One row's SGD step, in the AVX2 build when the CPU has it.
#[inline(always)]
fn row_update<const D: usize>(
    ctx: &SgdCtx,
    sc: &mut Scratch,
    tails_src: &[f32],
    i: usize,
    epoch: usize,
    yi: &mut [f32],
    alpha: f32,
) {
    let mut acc = [[0.0f32; LANES]; D];
    let mut tail = [0.0f32; D];
    let Scratch {
        idx,
        diff,
        d2,
        coef,
        acc: acc_rt,
        tail: tail_rt,
    } = sc;
    let sums = if D > 0 {
        RowBufs {
            acc: &mut acc,
            tail: &mut tail,
        }
    } else {
        RowBufs {
            acc: acc_rt,
            tail: tail_rt,
        }
    };
    let bufs = SampleBufs {
        idx,
        diff,
        d2,
        coef,
    };
    #[cfg(target_arch = "x86_64")]
    if ctx.avx2 {
        // SAFETY: `ctx.avx2` is set only when the running CPU reports AVX2.
        unsafe { row_update_avx2::<D>(ctx, bufs, sums, tails_src, i, epoch, yi, alpha) };
        return;
    }
    row_update_body::<D>(ctx, bufs, sums, tails_src, i, epoch, yi, alpha);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn row_update_avx2<const D: usize>(
    ctx: &SgdCtx,
    bufs: SampleBufs,
    sums: RowBufs,
    tails_src: &[f32],
    i: usize,
    epoch: usize,
    yi: &mut [f32],
    alpha: f32,
) {
    row_update_body::<D>(ctx, bufs, sums, tails_src, i, epoch, yi, alpha);
}

/// Differences yi − y_k for the eight samples of a block and their squared lengths, with one
/// AVX2 gather per coordinate instead of scalar loads (which also kept the lanes in memory and
/// stalled store forwarding). Same operations in the same order as the scalar loop, so the
/// same bits.
///
/// # Safety
/// The CPU must have AVX2, `block` must hold eight indices k with
/// (k + 1) · yi.len() ≤ tails.len(), and tails.len() must fit an i32.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn gather_block_avx2(
    tails: &[f32],
    block: &[u32],
    yi: &[f32],
    diff: &mut [[f32; LANES]],
    d2: &mut [f32; LANES],
) {
    use std::arch::x86_64::*;
    debug_assert!(block.len() >= LANES && diff.len() >= yi.len());
    let rows = _mm256_loadu_si256(block.as_ptr() as *const __m256i);
    let base = _mm256_mullo_epi32(rows, _mm256_set1_epi32(yi.len() as i32));
    let mut acc = _mm256_setzero_ps();
    for (t, (&y, out)) in yi.iter().zip(diff.iter_mut()).enumerate() {
        let offs = _mm256_add_epi32(base, _mm256_set1_epi32(t as i32));
        let g = _mm256_i32gather_ps::<4>(tails.as_ptr(), offs);
        let x = _mm256_sub_ps(_mm256_set1_ps(y), g);
        _mm256_storeu_ps(out.as_mut_ptr(), x);
        acc = _mm256_add_ps(acc, _mm256_mul_ps(x, x));
    }
    _mm256_storeu_ps(d2.as_mut_ptr(), acc);
}

/// Lanes of the sample loop: eight independent partial sums per coordinate, combined in a fixed
/// order (vectorisable and deterministic).
const LANES: usize = 8;

/// Every sample of this row and epoch is evaluated at the row's position at the start of the
/// epoch and the summed clipped gradient is applied once. Positive samples first, then
/// negatives, each in a fixed order: deterministic on any thread count.
///
/// The samples run in blocks of [`LANES`], in three passes over all of the row's blocks:
/// differences and squared distances (gathered), then coefficients, then the clipped products
/// added into per-lane sums block by block (the last, partial block is summed sequentially).
/// The first two passes carry no dependency from block to block, so the CPU overlaps the long
/// division-and-polynomial chains of several blocks; only the last pass is ordered.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn row_update_body<const D: usize>(
    ctx: &SgdCtx,
    bufs: SampleBufs,
    sums: RowBufs,
    tails_src: &[f32],
    i: usize,
    epoch: usize,
    yi: &mut [f32],
    alpha: f32,
) {
    let dim = if D > 0 { D } else { ctx.dim };
    let s = ctx.s;
    let SampleBufs {
        idx,
        diff,
        d2,
        coef,
    } = bufs;
    let (e0, e1) = (s.indptr[i], s.indptr[i + 1]);
    // Sampled this epoch when a multiple of eps falls in (epoch, epoch+1]. (Values are ≥ 0 and
    // small, so floor equals the truncating cast; floor is one instruction in the AVX2 build.)
    // Branch-free: the write always happens, the count only moves for sampled edges.
    let (ep0, ep1) = (epoch as f32, (epoch + 1) as f32);
    let mut n_pos = 0usize;
    for (&inv, &tail) in s.inv_eps[e0..e1].iter().zip(&s.tails[e0..e1]) {
        idx[n_pos] = tail;
        n_pos += ((ep1 * inv).floor() > (ep0 * inv).floor()) as usize;
    }
    if n_pos == 0 {
        return;
    }
    let m = n_pos * (1 + ctx.neg_rate);
    let n_tail = tails_src.len() / dim;
    let mut rng = SplitMix64::from_keys(&[ctx.seed, i as u64, epoch as u64]);
    rng.fill_below(&mut idx[n_pos..m], n_tail);
    let blocks = m.div_ceil(LANES);
    // The last block is padded with index 0 (a valid row); only its real lanes are summed.
    idx[m..blocks * LANES].fill(0);

    // Pass 1: differences and squared distances.
    for (b, (block, d2b)) in idx[..blocks * LANES]
        .chunks_exact(LANES)
        .zip(d2.iter_mut())
        .enumerate()
    {
        let diffb = &mut diff[b * dim..(b + 1) * dim];
        #[cfg(target_arch = "x86_64")]
        if ctx.gather {
            // SAFETY: `ctx.gather` is set only with AVX2 present and when every offset
            // (index × dim + t < tails_src.len()) fits an i32; the indices come from the
            // schedule or from `below(n_tail)` (or are the padding 0), so they are in range.
            unsafe { gather_block_avx2(tails_src, block, yi, diffb, d2b) };
            continue;
        }
        *d2b = [0.0; LANES];
        for (l, &k) in block.iter().enumerate() {
            let k = k as usize;
            let yk = &tails_src[k * dim..(k + 1) * dim];
            for t in 0..dim {
                let x = yi[t] - yk[t];
                diffb[t][l] = x;
                d2b[l] += x * x;
            }
        }
    }

    // Pass 2: coefficient of sample q at squared distance x (attractive for q < n_pos).
    let (a, b) = (ctx.a, ctx.b);
    let pos_num = -2.0 * a * b;
    let neg_num = 2.0 * b;
    // Coincident negative samples (other than the row itself) are counted per lane on the way.
    let mut coincident = [0u32; LANES];
    for (blk, ((cb, d2b), kb)) in coef[..blocks]
        .iter_mut()
        .zip(&d2[..blocks])
        .zip(idx.chunks_exact(LANES))
        .enumerate()
    {
        // Local copies again keep the lane loop vectorised.
        let (x8, mut c8) = (*d2b, [0.0f32; LANES]);
        let k8: [u32; LANES] = kb.try_into().expect("LANES-long chunk");
        for l in 0..LANES {
            let x = x8[l];
            let q = blk * LANES + l;
            coincident[l] += (q >= n_pos && q < m && x == 0.0 && k8[l] as usize != i) as u32;
            let xm = x.max(f32::MIN_POSITIVE);
            let pb = fast_pow(xm, b);
            let q1 = 1.0 + a * pb;
            // One division per lane: numerator and denominator are selected first.
            let pos = q < n_pos;
            let num = if pos { pos_num * pb } else { neg_num };
            let den = if pos { xm * q1 } else { (0.001 + x) * q1 };
            let c = num / den;
            c8[l] = if x > 0.0 { c } else { 0.0 };
        }
        *cb = c8;
    }

    // Pass 3: clipped products into the lane sums, block by block.
    let RowBufs { acc, tail } = sums;
    acc.fill([0.0; LANES]);
    tail.fill(0.0);
    let full = m / LANES;
    for (cb, diffb) in coef[..full].iter().zip(diff.chunks_exact(dim)) {
        for (a8, d) in acc.iter_mut().zip(diffb) {
            // Through a local copy: acc and diff arrive as two slices the optimiser cannot
            // prove disjoint, which otherwise keeps this loop scalar.
            let mut a = *a8;
            for l in 0..LANES {
                a[l] += clip(cb[l] * d[l]);
            }
            *a8 = a;
        }
    }
    let rem = m - full * LANES;
    if rem > 0 {
        let cb = &coef[full];
        for (tl, d) in tail.iter_mut().zip(&diff[full * dim..(full + 1) * dim]) {
            let mut sum = 0.0f32;
            for l in 0..rem {
                sum += clip(cb[l] * d[l]);
            }
            *tl = sum;
        }
    }
    // Coincident negatives get a fixed push of 4 each; the count is exact, so 4·count equals
    // the running sum of fours.
    let push = if ctx.fit {
        4.0 * coincident.iter().sum::<u32>() as f32
    } else {
        0.0
    };
    for t in 0..dim {
        let a8 = &acc[t];
        let sum =
            ((a8[0] + a8[4]) + (a8[1] + a8[5])) + ((a8[2] + a8[6]) + (a8[3] + a8[7])) + tail[t];
        yi[t] += alpha * (sum + push);
    }
}

#[cfg(test)]
mod tests {
    use super::fast_pow;

    #[test]
    fn fast_pow_is_accurate() {
        for &b in &[0.5f32, 0.7915, 0.895, 1.0, 1.5] {
            for i in 1..2000 {
                let x = i as f32 * 0.05;
                let (f, e) = (fast_pow(x, b), x.powf(b));
                assert!(((f - e) / e).abs() < 1e-4, "x={x} b={b}: {f} vs {e}");
            }
        }
    }
}
