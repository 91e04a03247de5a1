//! Dynamic int8 linear layers for the fast encoder (`Precision::Int8`).
//!
//! Weights are quantized once at load, symmetrically per output channel (`w ≈ s_w[c] · q`,
//! `q ∈ [-127, 127]`); activations are quantized per token (row) on every call
//! (`x ≈ s_x[r] · q`, `q ∈ [-127, 127]`). The product of the integer values accumulates exactly in
//! `i32` and is scaled back to `f32` once per output element; bias, residual, softmax, layer norm
//! and GELU stay in `f32` (the caller's).
//!
//! Two packings, four kernels (and their portable forms), one answer:
//! - **Pairs** (`i16` lanes): the AVX2 kernel multiplies with `vpmaddwd` (`_mm256_madd_epi16`),
//!   two `i16 × i16` products summed into an `i32` without the saturation `vpmaddubsw` has
//!   (`u8 × i8` pairs summed into a *saturating* i16 overflow at 2 · 255 · 127); on Zen 3 the two
//!   issue at the same rate, so the `u8` route would not be faster there. The portable pair
//!   kernel is the fallback for CPUs without AVX2.
//! - **Quads** (`i8` lanes): VNNI's `vpdpbusd` sums four `u8 × i8` products into an `i32`
//!   without saturation, four times the multiply-adds of an f32 FMA of the same width: on zmm
//!   with AVX-512 VNNI (Zen 4, Ice Lake and later Xeons), on ymm with AVX-VNNI (Alder Lake and
//!   later Intel cores). Its first operand is unsigned, so activations go in shifted by +128 and
//!   `128 · Σ_i q_w[i][c]`, kept per column, comes off the sum.
//!
//! Every integer sum is exact (no i32 overflow while `k ≤ MAX_K`) and the scaling is written the
//! same way in every kernel, so all of them give the same bits on every CPU; only the speed
//! differs. The VNNI kernels' body is written once and compiled against the real intrinsics and
//! against [`portable`]'s plain-Rust versions of them, so the code that runs on VNNI hardware is
//! the code the tests run on any CPU.

/// Widest layer input the integer sums are exact for: a quad sums to at most 4 · 255 · 127 before
/// the shift comes off, and `MAX_K / 4` of them stay below `i32::MAX`.
pub(crate) const MAX_K: usize = 65_536;
/// Columns per pair panel (two AVX2 registers of eight i32 sums).
const NR: usize = 16;
/// Rows per pair micro-tile: 4 × 2 accumulators + 2 weight vectors + broadcasts leave the
/// compiler registers to spare (with 6 rows it spilled accumulators to the stack).
const MR: usize = 4;
/// The AVX2 tile is the pair packing's shape.
#[cfg(target_arch = "x86_64")]
const _: () = assert!(avx2::NQ == NR && avx2::MQ == MR);
/// Rows per outer tile (a multiple of every micro-tile's rows): keeps the tile's quantized
/// activations in L2 while panels stream by.
const MT: usize = 64;
/// Largest quantized magnitude (symmetric int8).
const QMAX: f32 = 127.0;
/// The shift that makes a symmetric int8 activation a `u8` for `vpdpbusd`.
const SHIFT: i32 = 128;

/// Which kernel runs on this CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Int8Kernel {
    /// `vpdpbusd` (AVX-512 VNNI) on 512-bit registers.
    Avx512Vnni,
    /// `vpdpbusd` (AVX-VNNI) on 256-bit registers.
    AvxVnni,
    /// `vpmaddwd` on 256-bit registers.
    Avx2,
    /// Portable integer loops (several times slower than the f32 encoder).
    Scalar,
}

impl Int8Kernel {
    /// The name `BERTOPIC_INT8_KERNEL` takes.
    pub fn name(self) -> &'static str {
        match self {
            Int8Kernel::Avx512Vnni => "avx512vnni",
            Int8Kernel::AvxVnni => "avxvnni",
            Int8Kernel::Avx2 => "avx2",
            Int8Kernel::Scalar => "scalar",
        }
    }

    /// Whether this CPU runs the kernel's instructions (else its portable form runs, slowly).
    pub fn native(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            match self {
                Int8Kernel::Avx512Vnni => {
                    std::arch::is_x86_feature_detected!("avx512f")
                        && std::arch::is_x86_feature_detected!("avx512vnni")
                }
                Int8Kernel::AvxVnni => {
                    std::arch::is_x86_feature_detected!("avx2")
                        && std::arch::is_x86_feature_detected!("avxvnni")
                }
                Int8Kernel::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
                Int8Kernel::Scalar => true,
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self == Int8Kernel::Scalar
        }
    }
}

/// Every kernel, fastest first.
const ALL_KERNELS: [Int8Kernel; 4] = [
    Int8Kernel::Avx512Vnni,
    Int8Kernel::AvxVnni,
    Int8Kernel::Avx2,
    Int8Kernel::Scalar,
];

/// The int8 kernel this process uses: the fastest this CPU has in hardware, or the one
/// `BERTOPIC_INT8_KERNEL` (`avx512vnni`, `avxvnni`, `avx2`, `scalar`) names. A named kernel the
/// CPU lacks runs in its portable form ([`Int8Kernel::native`] is false): every kernel gives the
/// same bits, so this times kernels side by side on one machine, or checks one machine's
/// arithmetic against a kernel only another machine has.
pub fn int8_kernel() -> Int8Kernel {
    if let Ok(name) = std::env::var("BERTOPIC_INT8_KERNEL") {
        if let Some(k) = ALL_KERNELS.iter().find(|k| k.name() == name.trim()) {
            return *k;
        }
    }
    ALL_KERNELS
        .into_iter()
        .find(|k| k.native())
        .unwrap_or(Int8Kernel::Scalar)
}

/// A `BERTOPIC_INT8_KERNEL` that names no kernel, as a message (a typo must not silently time
/// or check the default kernel).
pub(crate) fn kernel_env_error() -> Option<String> {
    let name = std::env::var("BERTOPIC_INT8_KERNEL").ok()?;
    let names: Vec<&str> = ALL_KERNELS.iter().map(|k| k.name()).collect();
    (!names.contains(&name.trim())).then(|| {
        format!(
            "BERTOPIC_INT8_KERNEL={name:?} names no int8 kernel: use one of {}, or unset it",
            names.join(", ")
        )
    })
}

/// The packed weights, in the layout of the kernel chosen at load.
enum Packed {
    /// Panels of `NR` columns; within a panel, for each input pair `p`: columns 0–7 as
    /// `(q[2p][c], q[2p+1][c])`, then columns 8–15. `kw` = `n_in` rounded up to 2.
    Pairs { kw: usize, q: Vec<i16>, avx2: bool },
    /// Panels of two registers' columns (32 for zmm, `wide`; 16 for ymm); within a panel, for
    /// each input quad `g`: the first register's columns as `q[4g..4g+4][c]`, then the second's.
    /// `kw` = `n_in` rounded up to 4. `shift[c]` = `SHIFT · Σ_i q[i][c]`.
    Quads {
        kw: usize,
        q: Vec<i8>,
        shift: Vec<i32>,
        wide: bool,
        native: bool,
    },
}

/// One linear layer's weights, quantized per output channel and packed for the kernel.
pub(crate) struct QWeights {
    n_in: usize,
    n_out: usize,
    packed: Packed,
    /// Per output channel: `max |w| / 127`.
    scales: Vec<f32>,
}

/// Rounds to the nearest integer, ties to even (what `vcvtps2dq` does; vectorises as `vroundps`).
#[inline(always)]
fn quantize(v: f32, inv_scale: f32) -> i16 {
    (v * inv_scale).round_ties_even().clamp(-QMAX, QMAX) as i16
}

impl QWeights {
    /// Quantizes a weight stored transposed (`w_t` is `n_in × n_out`, row-major), packed for
    /// `kernel` (the encoder resolves [`int8_kernel`] once per load and passes it to every
    /// layer).
    pub(crate) fn from_transposed(
        w_t: &[f32],
        n_in: usize,
        n_out: usize,
        kernel: Int8Kernel,
    ) -> Self {
        Self::with_packing(w_t, n_in, n_out, kernel, kernel.native())
    }

    /// `native` = false runs a packing's portable kernel (tests use it to check that the
    /// portable and hardware kernels agree).
    fn with_packing(
        w_t: &[f32],
        n_in: usize,
        n_out: usize,
        kernel: Int8Kernel,
        native: bool,
    ) -> Self {
        assert_eq!(w_t.len(), n_in * n_out);
        assert!(n_in <= MAX_K, "int8 layers take at most {MAX_K} inputs");
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
        // q(i, c), zero past the matrix (padding inputs and columns).
        let q = |i: usize, c: usize| -> i16 {
            if i < n_in && c < n_out {
                quantize(w_t[i * n_out + c], inv[c])
            } else {
                0
            }
        };
        let packed = match kernel {
            Int8Kernel::Avx512Vnni | Int8Kernel::AvxVnni => {
                let wide = kernel == Int8Kernel::Avx512Vnni;
                let nq = if wide {
                    portable512::NQ
                } else {
                    portable256::NQ
                };
                let lanes = nq / 2;
                let kw = n_in.next_multiple_of(4);
                let panels = n_out.div_ceil(nq);
                let mut packed = vec![0i8; panels * kw * nq];
                let mut shift = vec![0i32; panels * nq];
                for panel in 0..panels {
                    for g in 0..kw / 4 {
                        let base = (panel * kw / 4 + g) * 4 * nq;
                        for j in 0..nq {
                            let c = panel * nq + j;
                            for d in 0..4 {
                                let v = q(4 * g + d, c);
                                // Lane j % lanes of register j / lanes holds column c's quad.
                                packed[base + (j / lanes) * 4 * lanes + (j % lanes) * 4 + d] =
                                    v as i8;
                                shift[c] += SHIFT * v as i32;
                            }
                        }
                    }
                }
                Packed::Quads {
                    kw,
                    q: packed,
                    shift,
                    wide,
                    native,
                }
            }
            Int8Kernel::Avx2 | Int8Kernel::Scalar => {
                let kw = n_in.next_multiple_of(2);
                let panels = n_out.div_ceil(NR);
                let mut packed = vec![0i16; panels * kw * NR];
                for panel in 0..panels {
                    for p in 0..kw / 2 {
                        let base = (panel * kw / 2 + p) * 2 * NR;
                        for j in 0..NR {
                            let c = panel * NR + j;
                            // Lane j of the half-panel (j / 8) holds the pair for column c.
                            let slot = base + (j / 8) * NR + (j % 8) * 2;
                            for d in 0..2 {
                                packed[slot + d] = q(2 * p + d, c);
                            }
                        }
                    }
                }
                Packed::Pairs {
                    kw,
                    q: packed,
                    avx2: kernel == Int8Kernel::Avx2 && native,
                }
            }
        };
        QWeights {
            n_in,
            n_out,
            packed,
            scales,
        }
    }
}

/// Per-thread buffers for the quantized activations.
#[derive(Default)]
pub(crate) struct QScratch {
    pairs: Vec<i16>,
    quads: Vec<u8>,
    scales: Vec<f32>,
}

/// A quantized activation as a kernel reads it.
trait Lane: Copy {
    /// The lane holding 0.
    const ZERO: Self;
    fn from_q(q: i16) -> Self;
}

impl Lane for i16 {
    const ZERO: Self = 0;
    #[inline(always)]
    fn from_q(q: i16) -> Self {
        q
    }
}

impl Lane for u8 {
    const ZERO: Self = SHIFT as u8;
    #[inline(always)]
    fn from_q(q: i16) -> Self {
        (q as i32 + SHIFT) as u8
    }
}

/// `out (rows × n_out) += x (rows × n_in) · Wᵀ` with int8 weights and per-row int8 activations.
/// `out` holds the bias (and residual) already.
pub(crate) fn qlinear(w: &QWeights, x: &[f32], rows: usize, out: &mut [f32], s: &mut QScratch) {
    let (k, n) = (w.n_in, w.n_out);
    assert!(x.len() >= rows * k && out.len() >= rows * n);
    match w.packed {
        Packed::Pairs { kw, ref q, avx2 } => {
            let a = quantize_rows(&x[..rows * k], k, kw, MR, &mut s.pairs, &mut s.scales);
            drive(rows, n, NR, MR, |r0, mr, panel, nc| {
                let b = &q[panel * kw * NR..(panel + 1) * kw * NR];
                let c0 = panel * NR;
                let (a, sa, sw) = (&a[r0 * kw..], &s.scales[r0..r0 + mr], &w.scales[c0..]);
                let o = &mut out[r0 * n + c0..(r0 + mr - 1) * n + c0 + nc];
                #[cfg(target_arch = "x86_64")]
                if avx2 {
                    // SAFETY: `avx2` is set only where the CPU has AVX2 (`Int8Kernel::native`).
                    return unsafe { avx2::tile(mr, a, kw, b, &[0; NR], o, n, nc, sa, sw) };
                }
                let _ = avx2;
                pair_tile(mr, a, kw, b, o, n, nc, sa, sw)
            });
        }
        Packed::Quads {
            kw,
            ref q,
            ref shift,
            wide,
            native,
        } => {
            let (nq, mq) = if wide {
                (portable512::NQ, portable512::MQ)
            } else {
                (portable256::NQ, portable256::MQ)
            };
            let a = quantize_rows(&x[..rows * k], k, kw, mq, &mut s.quads, &mut s.scales);
            drive(rows, n, nq, mq, |r0, mr, panel, nc| {
                let b = &q[panel * kw * nq..(panel + 1) * kw * nq];
                let c0 = panel * nq;
                let sh = &shift[c0..c0 + nq];
                let (a, sa, sw) = (&a[r0 * kw..], &s.scales[r0..r0 + mr], &w.scales[c0..]);
                let o = &mut out[r0 * n + c0..(r0 + mr - 1) * n + c0 + nc];
                #[cfg(target_arch = "x86_64")]
                if native {
                    // SAFETY: `native` is set only where the CPU has the kernel's features
                    // (`Int8Kernel::native`).
                    return unsafe {
                        if wide {
                            vnni512::tile(mr, a, kw, b, sh, o, n, nc, sa, sw)
                        } else {
                            vnni256::tile(mr, a, kw, b, sh, o, n, nc, sa, sw)
                        }
                    };
                }
                let _ = native;
                // SAFETY: the portable intrinsics need no CPU feature.
                unsafe {
                    if wide {
                        portable512::tile(mr, a, kw, b, sh, o, n, nc, sa, sw)
                    } else {
                        portable256::tile(mr, a, kw, b, sh, o, n, nc, sa, sw)
                    }
                }
            });
        }
    }
}

/// Walks `rows` in outer tiles of `MT`, panels of `nr` columns, and micro-tiles of `mr` rows,
/// calling `tile(first row, rows in the micro-tile, panel, columns in the panel)`.
fn drive(
    rows: usize,
    n: usize,
    nr: usize,
    mr: usize,
    mut tile: impl FnMut(usize, usize, usize, usize),
) {
    for m0 in (0..rows).step_by(MT) {
        let mt = MT.min(rows - m0);
        for panel in 0..n.div_ceil(nr) {
            let nc = nr.min(n - panel * nr);
            for r0 in (m0..m0 + mt).step_by(mr) {
                tile(r0, mr.min(m0 + mt - r0), panel, nc);
            }
        }
    }
}

/// Quantizes each row of `x` (`k` wide) into `q` (`kw` wide, padded with zeros, rows padded to a
/// multiple of `mr`: a tile always reads whole micro-tiles), scale per row.
fn quantize_rows<'q, T: Lane>(
    x: &[f32],
    k: usize,
    kw: usize,
    mr: usize,
    q: &'q mut Vec<T>,
    scales: &mut Vec<f32>,
) -> &'q [T] {
    let rows = x.len() / k.max(1);
    let padded = rows.next_multiple_of(mr);
    q.resize((padded * kw).max(q.len()), T::ZERO);
    q[rows * kw..padded * kw].fill(T::ZERO);
    scales.resize(rows.max(scales.len()), 0.0);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        #[target_feature(enable = "avx2")]
        fn wide<T: Lane>(x: &[f32], k: usize, kw: usize, q: &mut [T], scales: &mut [f32]) {
            quantize_rows_body(x, k, kw, q, scales)
        }
        // SAFETY: the CPU supports AVX2 (checked just above).
        unsafe { wide(x, k, kw, q, scales) };
        return &q[..padded * kw];
    }
    quantize_rows_body(x, k, kw, q, scales);
    &q[..padded * kw]
}

#[inline(always)]
fn quantize_rows_body<T: Lane>(x: &[f32], k: usize, kw: usize, q: &mut [T], scales: &mut [f32]) {
    if k == 0 {
        return;
    }
    for ((row, qr), s) in x
        .chunks_exact(k)
        .zip(q.chunks_exact_mut(kw))
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
            *d = T::from_q(quantize(v, inv));
        }
        qr[k..].fill(T::ZERO);
    }
}

/// Adds `acc · (s_x · s_w)` into `out`: the one epilogue every kernel's arithmetic matches.
#[inline(always)]
fn scale_into(out: &mut [f32], acc: &[i32], sa: f32, sw: &[f32]) {
    for ((o, &acc), &sw) in out.iter_mut().zip(acc).zip(sw) {
        *o += acc as f32 * (sa * sw);
    }
}

/// Portable pair micro-tile: `mr` rows × `nc` columns of one panel.
#[allow(clippy::too_many_arguments)]
fn pair_tile(
    mr: usize,
    a: &[i16],
    kw: usize,
    b: &[i16],
    out: &mut [f32],
    out_rs: usize,
    nc: usize,
    sa: &[f32],
    sw: &[f32],
) {
    for r in 0..mr {
        let ar = &a[r * kw..(r + 1) * kw];
        let mut acc = [0i32; NR];
        for (p, pair) in ar.chunks_exact(2).enumerate() {
            let bp = &b[p * 2 * NR..(p + 1) * 2 * NR];
            for (j, acc) in acc.iter_mut().enumerate() {
                let slot = (j / 8) * NR + (j % 8) * 2;
                *acc += pair[0] as i32 * bp[slot] as i32 + pair[1] as i32 * bp[slot + 1] as i32;
            }
        }
        scale_into(
            &mut out[r * out_rs..r * out_rs + nc],
            &acc,
            sa[r],
            &sw[..nc],
        );
    }
}

/// One row's step of a tile: broadcast the row's group of inputs (4 bytes: a pair of i16 or a
/// quad of u8), two `dot_acc`. Outside `simd_tile!` because a macro defined inside another cannot
/// take its own `$` arguments.
macro_rules! dp_row {
    ($a0:ident, $kw:ident, $r:expr, $lo:ident, $hi:ident, $b0:ident, $b1:ident) => {
        let av = set1_i(($a0.wrapping_add($r * $kw) as *const i32).read_unaligned());
        $lo = dot_acc($lo, av, $b0);
        $hi = dot_acc($hi, av, $b1);
    };
}

/// The SIMD micro-tile, written once against neutral names for the intrinsics (`dot_acc`,
/// `loadu_i`, …), which each expansion site imports: AVX2's `vpmaddwd` + `vpaddd` on i16 pairs,
/// `vpdpbusd` on u8 quads at 512 or 256 bits, or [`portable`] versions of the latter. `step` is
/// the inputs one i32 lane of `dot_acc` consumes (2 or 4), `lanes` the i32 lanes per register
/// (a panel is two registers wide), `rows` one `(r, lo, hi)` per micro-tile row naming its
/// accumulators. Rows of `a` past `mr` are padding, computed and dropped; the tile is added into
/// `out`'s first `mr` rows and `nc` columns, as `(acc − shift) · (s_x · s_w)`.
///
/// Per step: two panel loads, one broadcast of each row's group (4 bytes) and two `dot_acc` per
/// row, into named accumulators (an array of them would spill to the stack).
///
/// # Safety
/// The intrinsics' CPU features (the hardware expansions). Slices: `a` holds the tile's rows of
/// `kw` (a multiple of `step`) values, `b` one panel of `kw · 2 · lanes` values, `shift`
/// `2 · lanes` values, `out` reaches row `mr − 1`'s column `nc − 1` at stride `out_rs`, `sa` has
/// `mr` and `sw` `nc` values (checked by asserts).
macro_rules! simd_tile {
    (
        $(#[$attr:meta])*;
        $a_ty:ty, $b_ty:ty; step = $step:expr; lanes = $lanes:expr;
        rows = [$(($r:expr, $lo:ident, $hi:ident)),+]
    ) => {
        /// Columns per panel.
        pub(super) const NQ: usize = 2 * $lanes;
        /// Rows per micro-tile.
        pub(super) const MQ: usize = [$($r),+].len();

        #[allow(clippy::too_many_arguments)]
        $(#[$attr])*
        pub(super) unsafe fn tile(
            mr: usize,
            a: &[$a_ty],
            kw: usize,
            b: &[$b_ty],
            shift: &[i32],
            out: &mut [f32],
            out_rs: usize,
            nc: usize,
            sa: &[f32],
            sw: &[f32],
        ) {
            assert!((1..=MQ).contains(&mr) && (1..=NQ).contains(&nc) && kw.is_multiple_of($step));
            assert!(a.len() >= MQ * kw && b.len() >= kw * NQ && shift.len() >= NQ);
            assert!(out.len() >= (mr - 1) * out_rs + nc && sa.len() >= mr && sw.len() >= nc);
            let z = setzero_i();
            $(let (mut $lo, mut $hi) = (z, z);)+
            let mut a0 = a.as_ptr();
            let mut bp = b.as_ptr();
            // Walking pointers with wrapping arithmetic: no index maths (and no overflow checks
            // in debug builds) inside the loop.
            let mut left = kw / $step;
            while left > 0 {
                left -= 1;
                // SAFETY: on step g, `bp` is at b[g·step·NQ], whose step·NQ values are inside the
                // panel, and `a0 + r·kw` at a[r·kw + step·g], whose group is inside row r < MQ
                // (asserted above); all loads are unaligned.
                unsafe {
                    let b0 = loadu_i(bp.cast());
                    let b1 = loadu_i(bp.wrapping_add($step * $lanes).cast());
                    $(dp_row!(a0, kw, $r, $lo, $hi, b0, b1);)+
                }
                a0 = a0.wrapping_add($step);
                bp = bp.wrapping_add($step * NQ);
            }
            let mut swv = [0f32; NQ];
            swv[..nc].copy_from_slice(&sw[..nc]);
            // SAFETY: `shift` holds NQ i32s (asserted above), `swv` NQ floats.
            let (s0, s1, w0, w1) = unsafe {
                (
                    loadu_i(shift.as_ptr().cast()),
                    loadu_i(shift.as_ptr().add($lanes).cast()),
                    loadu_f(swv.as_ptr()),
                    loadu_f(swv.as_ptr().add($lanes)),
                )
            };
            for (r, (lo, hi)) in [$(($lo, $hi)),+].into_iter().enumerate().take(mr) {
                let s = set1_f(sa[r]);
                // `scale_into`'s arithmetic: (acc − shift) · (s_x · s_w), then added to out.
                let v0 = mul_f(cvt_f(sub_i(lo, s0)), mul_f(s, w0));
                let v1 = mul_f(cvt_f(sub_i(hi, s1)), mul_f(s, w1));
                let o = &mut out[r * out_rs..r * out_rs + nc];
                if nc == NQ {
                    // SAFETY: `o` holds NQ floats.
                    unsafe {
                        let p = o.as_mut_ptr();
                        storeu_f(p, add_f(loadu_f(p), v0));
                        let p = p.add($lanes);
                        storeu_f(p, add_f(loadu_f(p), v1));
                    }
                } else {
                    let mut tmp = [0f32; NQ];
                    // SAFETY: `tmp` holds NQ floats.
                    unsafe {
                        storeu_f(tmp.as_mut_ptr(), v0);
                        storeu_f(tmp.as_mut_ptr().add($lanes), v1);
                    }
                    for (o, t) in o.iter_mut().zip(&tmp) {
                        *o += t;
                    }
                }
            }
        }
    };
}

/// The 512-bit quad tile: 8 rows × 32 columns, 16 accumulators + 2 panel vectors + a broadcast
/// of AVX-512's 32 registers; 16 independent `vpdpbusd` chains hide its latency.
macro_rules! quad_tile_512 {
    ($(#[$attr:meta])*) => {
        simd_tile!($(#[$attr])*; u8, i8; step = 4; lanes = 16; rows = [
            (0, c00, c01), (1, c10, c11), (2, c20, c21), (3, c30, c31),
            (4, c40, c41), (5, c50, c51), (6, c60, c61), (7, c70, c71)
        ]);
    };
}

/// The 256-bit quad tile: 4 rows × 16 columns, 8 accumulators + 2 panel vectors + a broadcast
/// of AVX2's 16 registers (the pair kernel's shape).
macro_rules! quad_tile_256 {
    ($(#[$attr:meta])*) => {
        simd_tile!($(#[$attr])*; u8, i8; step = 4; lanes = 8; rows = [
            (0, c00, c01), (1, c10, c11), (2, c20, c21), (3, c30, c31)
        ]);
    };
}

/// AVX2: the pair tile, 4 rows × 16 columns of i16 pairs (with 6 rows the compiler spilled
/// accumulators to the stack).
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::{
        __m256i, _mm256_add_epi32, _mm256_add_ps as add_f, _mm256_cvtepi32_ps as cvt_f,
        _mm256_loadu_ps as loadu_f, _mm256_loadu_si256 as loadu_i, _mm256_madd_epi16,
        _mm256_mul_ps as mul_f, _mm256_set1_epi32 as set1_i, _mm256_set1_ps as set1_f,
        _mm256_setzero_si256 as setzero_i, _mm256_storeu_ps as storeu_f, _mm256_sub_epi32 as sub_i,
    };

    /// `vpmaddwd` + `vpaddd`: lane i gains `a[2i]·b[2i] + a[2i+1]·b[2i+1]` (i16 products).
    ///
    /// # Safety
    /// The CPU must support AVX2 (this is inlined into the AVX2 tile).
    #[inline(always)]
    unsafe fn dot_acc(acc: __m256i, a: __m256i, b: __m256i) -> __m256i {
        // SAFETY: the caller's.
        unsafe { _mm256_add_epi32(acc, _mm256_madd_epi16(a, b)) }
    }

    simd_tile!(#[target_feature(enable = "avx2")]; i16, i16; step = 2; lanes = 8; rows = [
        (0, c00, c01), (1, c10, c11), (2, c20, c21), (3, c30, c31)
    ]);
}

/// AVX-512 VNNI (`vpdpbusd` on zmm).
#[cfg(target_arch = "x86_64")]
mod vnni512 {
    use std::arch::x86_64::{
        _mm512_add_ps as add_f, _mm512_cvtepi32_ps as cvt_f, _mm512_dpbusd_epi32 as dot_acc,
        _mm512_loadu_ps as loadu_f, _mm512_loadu_si512 as loadu_i, _mm512_mul_ps as mul_f,
        _mm512_set1_epi32 as set1_i, _mm512_set1_ps as set1_f, _mm512_setzero_si512 as setzero_i,
        _mm512_storeu_ps as storeu_f, _mm512_sub_epi32 as sub_i,
    };
    quad_tile_512!(#[target_feature(enable = "avx512f,avx512vnni")]);
}

/// AVX-VNNI (`vpdpbusd` on ymm, VEX-encoded: Alder Lake and later Intel cores, Zen 5).
#[cfg(target_arch = "x86_64")]
mod vnni256 {
    use std::arch::x86_64::{
        _mm256_add_ps as add_f, _mm256_cvtepi32_ps as cvt_f, _mm256_dpbusd_avx_epi32 as dot_acc,
        _mm256_loadu_ps as loadu_f, _mm256_loadu_si256 as loadu_i, _mm256_mul_ps as mul_f,
        _mm256_set1_epi32 as set1_i, _mm256_set1_ps as set1_f, _mm256_setzero_si256 as setzero_i,
        _mm256_storeu_ps as storeu_f, _mm256_sub_epi32 as sub_i,
    };
    quad_tile_256!(#[target_feature(enable = "avx2,avxvnni")]);
}

/// The quad tiles on [`portable`]'s intrinsics: the fallback where the packing is quads but the
/// CPU lacks the instructions (`BERTOPIC_INT8_KERNEL`, tests), and the check that the hardware
/// kernels' code is right.
mod portable512 {
    use super::portable::w16::*;
    quad_tile_512!();
}

mod portable256 {
    use super::portable::w8::*;
    quad_tile_256!();
}

/// Plain-Rust versions of the intrinsics the quad tiles use, at 16 and 8 lanes, with Intel's
/// semantics: lane order, `vpdpbusd`'s unsigned first and signed second operand, wrapping i32
/// sums, round-to-nearest-even conversion.
mod portable {
    macro_rules! width {
        ($name:ident, $n:expr) => {
            pub(crate) mod $name {
                #[derive(Clone, Copy)]
                #[repr(C)]
                pub(crate) struct I([i32; $n]);

                #[derive(Clone, Copy)]
                #[repr(C)]
                pub(crate) struct F([f32; $n]);

                pub(crate) fn setzero_i() -> I {
                    I([0; $n])
                }

                pub(crate) fn set1_i(v: i32) -> I {
                    I([v; $n])
                }

                pub(crate) fn set1_f(v: f32) -> F {
                    F([v; $n])
                }

                /// # Safety
                /// `p` must be readable for one vector.
                pub(crate) unsafe fn loadu_i(p: *const I) -> I {
                    // SAFETY: the caller's.
                    unsafe { p.read_unaligned() }
                }

                /// # Safety
                /// `p` must be writable for one vector.
                #[cfg(test)]
                pub(crate) unsafe fn storeu_i(p: *mut I, v: I) {
                    // SAFETY: the caller's.
                    unsafe { p.write_unaligned(v) }
                }

                /// # Safety
                /// `p` must be readable for one vector of floats.
                pub(crate) unsafe fn loadu_f(p: *const f32) -> F {
                    // SAFETY: the caller's.
                    unsafe { (p as *const F).read_unaligned() }
                }

                /// # Safety
                /// `p` must be writable for one vector of floats.
                pub(crate) unsafe fn storeu_f(p: *mut f32, v: F) {
                    // SAFETY: the caller's.
                    unsafe { (p as *mut F).write_unaligned(v) }
                }

                pub(crate) fn add_f(a: F, b: F) -> F {
                    F(std::array::from_fn(|i| a.0[i] + b.0[i]))
                }

                pub(crate) fn mul_f(a: F, b: F) -> F {
                    F(std::array::from_fn(|i| a.0[i] * b.0[i]))
                }

                /// Round to nearest, ties to even: the default MXCSR mode, and what `as f32` does.
                pub(crate) fn cvt_f(a: I) -> F {
                    F(std::array::from_fn(|i| a.0[i] as f32))
                }

                pub(crate) fn sub_i(a: I, b: I) -> I {
                    I(std::array::from_fn(|i| a.0[i].wrapping_sub(b.0[i])))
                }

                /// `vpdpbusd`, lane i: `src[i] + Σ_{j<4} u8(a.byte[4i+j]) · i8(b.byte[4i+j])`.
                pub(crate) fn dot_acc(src: I, a: I, b: I) -> I {
                    I(std::array::from_fn(|i| {
                        let (x, y) = (a.0[i].to_le_bytes(), b.0[i].to_le_bytes());
                        let dot: i32 = (0..4).map(|j| x[j] as i32 * y[j] as i8 as i32).sum();
                        src.0[i].wrapping_add(dot)
                    }))
                }
            }
        };
    }
    width!(w16, 16);
    width!(w8, 8);
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

    /// Every packing and kernel this build has: (kernel, native). Native kernels only where the
    /// CPU has them; the portable ones everywhere.
    fn kernels() -> Vec<(Int8Kernel, bool)> {
        let mut all = vec![
            (Int8Kernel::Scalar, false),
            (Int8Kernel::Avx512Vnni, false),
            (Int8Kernel::AvxVnni, false),
        ];
        for k in [
            Int8Kernel::Avx2,
            Int8Kernel::Avx512Vnni,
            Int8Kernel::AvxVnni,
        ] {
            if k.native() {
                all.push((k, true));
            }
        }
        all
    }

    fn run(q: &QWeights, x: &[f32], rows: usize, bias: &[f32]) -> Vec<f32> {
        let n = bias.len();
        let mut out = vec![0f32; rows * n];
        for r in out.chunks_exact_mut(n) {
            r.copy_from_slice(bias);
        }
        // A used scratch (bigger, dirty) must not change anything.
        let mut s = QScratch::default();
        qlinear(
            q,
            &vec![1.0; (rows + 9) * q.n_in],
            rows + 9,
            &mut vec![0.0; (rows + 9) * n],
            &mut s,
        );
        qlinear(q, x, rows, &mut out, &mut s);
        out
    }

    /// Shapes with `k` not a multiple of 2 or 4, `n` not a multiple of 16 or 32, and rows not a
    /// multiple of 4, 8 or 64.
    #[test]
    fn every_kernel_gives_the_same_bits_close_to_the_f32_product() {
        let shapes = [
            (1, 1, 1),
            (7, 33, 17),
            (65, 64, 48),
            (13, 385, 40),
            (70, 130, 70),
        ];
        for &(rows, k, n) in &shapes {
            let x = values(rows * k, 1 + k as u64);
            let w_t = values(k * n, 7 + n as u64);
            let bias = values(n, 3);
            let reference = run(
                &QWeights::with_packing(&w_t, k, n, Int8Kernel::Scalar, false),
                &x,
                rows,
                &bias,
            );
            for (kernel, native) in kernels() {
                let q = QWeights::with_packing(&w_t, k, n, kernel, native);
                let out = run(&q, &x, rows, &bias);
                assert_eq!(
                    out, reference,
                    "{kernel:?} (native {native}) differs at {rows}×{k}×{n}"
                );
            }
            let q = QWeights::from_transposed(&w_t, k, n, int8_kernel());
            let out = run(&q, &x, rows, &bias);
            assert_eq!(out, reference, "the dispatched kernel differs");
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

    /// Full-scale values of both signs over a wide input: the largest sums the kernels see, and
    /// the `u8` shift at its extremes (activations −127 → 1, +127 → 255).
    #[test]
    fn extreme_values_sum_exactly_in_every_kernel() {
        let (rows, k, n) = (9, 4099, 33);
        let x: Vec<f32> = (0..rows * k)
            .map(|i| if (i / 3) % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let w_t: Vec<f32> = (0..k * n)
            .map(|i| if i % 5 == 0 { -2.0 } else { 2.0 })
            .collect();
        let bias = vec![0f32; n];
        let reference = run(
            &QWeights::with_packing(&w_t, k, n, Int8Kernel::Scalar, false),
            &x,
            rows,
            &bias,
        );
        for (kernel, native) in kernels() {
            let q = QWeights::with_packing(&w_t, k, n, kernel, native);
            assert_eq!(
                run(&q, &x, rows, &bias),
                reference,
                "{kernel:?} (native {native})"
            );
        }
        // Every product is ±127 · 127 · (1/127) · (2/127) = ±2: the exact sum, in f32.
        for r in 0..rows {
            for c in 0..n {
                let exact: f32 = (0..k).map(|i| x[r * k + i] * w_t[i * n + c]).sum();
                assert_eq!(reference[r * n + c], exact, "[{r},{c}]");
            }
        }
    }

    /// The portable `vpdpbusd` on a worked example at both widths, and against the instruction
    /// itself on random bytes where the CPU has it.
    #[test]
    fn portable_dpbusd_reads_unsigned_times_signed_bytes() {
        let a = i32::from_le_bytes([255, 1, 128, 0]);
        let b = i32::from_le_bytes([0x80, 0x7f, 0xff, 3]);
        // 255·(−128) + 1·127 + 128·(−1) + 0·3 + 10
        let want = 10 - 32640 + 127 - 128;
        {
            use portable::w16::*;
            let mut out = [0i32; 16];
            let v = dot_acc(set1_i(10), set1_i(a), set1_i(b));
            // SAFETY: `out` holds 16 i32s.
            unsafe { storeu_i(out.as_mut_ptr().cast(), v) };
            assert_eq!(out, [want; 16]);
        }
        {
            use portable::w8::*;
            let mut out = [0i32; 8];
            let v = dot_acc(set1_i(10), set1_i(a), set1_i(b));
            // SAFETY: `out` holds 8 i32s.
            unsafe { storeu_i(out.as_mut_ptr().cast(), v) };
            assert_eq!(out, [want; 8]);
        }
        #[cfg(target_arch = "x86_64")]
        if Int8Kernel::Avx512Vnni.native() {
            #[target_feature(enable = "avx512f,avx512vnni")]
            fn hw(src: &[i32; 16], a: &[i32; 16], b: &[i32; 16]) -> [i32; 16] {
                use std::arch::x86_64::*;
                let mut out = [0i32; 16];
                // SAFETY: each array holds 16 i32s.
                unsafe {
                    let v = _mm512_dpbusd_epi32(
                        _mm512_loadu_si512(src.as_ptr().cast()),
                        _mm512_loadu_si512(a.as_ptr().cast()),
                        _mm512_loadu_si512(b.as_ptr().cast()),
                    );
                    _mm512_storeu_si512(out.as_mut_ptr().cast(), v);
                }
                out
            }
            use portable::w16::*;
            for seed in 0..64 {
                let r = |o: u64| -> [i32; 16] {
                    std::array::from_fn(|i| {
                        (values(1, seed * 1000 + o * 16 + i as u64)[0] * 2e9) as i32
                    })
                };
                let (src, a, b) = (r(0), r(1), r(2));
                let mut out = [0i32; 16];
                // SAFETY: `out` holds 16 i32s; the CPU has the instructions (checked above).
                unsafe {
                    let load = |v: &[i32; 16]| loadu_i(v.as_ptr().cast());
                    storeu_i(
                        out.as_mut_ptr().cast(),
                        dot_acc(load(&src), load(&a), load(&b)),
                    );
                    assert_eq!(hw(&src, &a, &b), out, "seed {seed}");
                }
            }
        }
    }

    #[test]
    fn zero_rows_and_columns_quantize_to_zero() {
        let q = QWeights::from_transposed(&[0.0; 6], 2, 3, int8_kernel());
        assert!(q.scales.iter().all(|&s| s == 0.0));
        let mut out = vec![1f32; 3];
        qlinear(&q, &[0.0, 0.0], 1, &mut out, &mut QScratch::default());
        assert_eq!(out, vec![1.0; 3]);
    }
}
