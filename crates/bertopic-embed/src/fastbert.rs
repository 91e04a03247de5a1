//! A BERT encoder forward pass written for CPU throughput.
//!
//! Same weights and arithmetic as candle-transformers' `BertModel`, organised differently:
//! - sequences are packed without padding, so no compute goes into pad tokens and no mask is
//!   needed (masked keys contribute exactly zero in the padded form, so results agree to rounding);
//! - Q, K and V are one fused matrix product; bias and residual are written into the output before
//!   the product accumulates onto them;
//! - GELU and softmax use branch-free polynomial `erf`/`exp` that the compiler vectorises
//!   (libm's scalar calls were ~15 % of the candle profile);
//! - each chunk of sequences is computed on one thread with single-threaded `gemm` calls, chunks run
//!   in parallel; within a chunk the layer stack runs over groups of about 512 tokens, which keeps
//!   the activations in cache. A chunk's arithmetic does not depend on which thread runs it or on how many
//!   there are, so outputs are bit-identical on any thread count.

use candle_nn::VarBuilder;
use candle_transformers::models::bert::{Config as BertConfig, HiddenAct, PositionEmbeddingType};
use gemm::Parallelism;

use crate::quant::{self, Int8Kernel, QScratch, QWeights};

/// Opt-in CPU-time accounting of the fast encoder's phases, summed over all threads (for
/// `examples/encoder_profile.rs`). Off by default: then no clock is read in the forward pass.
pub mod profile {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::time::{Duration, Instant};

    /// Phase names, in [`take`]'s order.
    pub const PHASES: [&str; 10] = [
        "embeddings + layer norm",
        "QKV projection",
        "attention scores Q·Kᵀ",
        "softmax",
        "attention P·V",
        "attention output projection",
        "layer norms (2 per layer)",
        "FFN up",
        "GELU",
        "FFN down",
    ];
    pub(crate) const EMB: usize = 0;
    pub(crate) const QKV: usize = 1;
    pub(crate) const SCORES: usize = 2;
    pub(crate) const SOFTMAX: usize = 3;
    pub(crate) const PV: usize = 4;
    pub(crate) const ATTN_OUT: usize = 5;
    pub(crate) const LN: usize = 6;
    pub(crate) const UP: usize = 7;
    pub(crate) const GELU: usize = 8;
    pub(crate) const DOWN: usize = 9;

    static ON: AtomicBool = AtomicBool::new(false);
    static NS: [AtomicU64; 10] = [const { AtomicU64::new(0) }; 10];

    /// Starts (or stops) accounting; the totals keep what was added so far.
    pub fn enable(on: bool) {
        ON.store(on, Ordering::Relaxed);
    }

    /// CPU time per phase (see [`PHASES`]) since the last call, summed over threads; resets.
    pub fn take() -> [Duration; 10] {
        std::array::from_fn(|i| Duration::from_nanos(NS[i].swap(0, Ordering::Relaxed)))
    }

    /// CPU time of the calling thread in ns: on a shared machine wall time would also count the
    /// time other processes held the core.
    pub fn thread_cpu_ns() -> u64 {
        #[cfg(target_os = "linux")]
        {
            let mut t = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: `t` is a valid timespec to write into; the clock id is a constant.
            if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0 {
                return t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64;
            }
        }
        static T0: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        T0.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }

    /// A lap clock: `None` when accounting is off, so the hot path reads no clock.
    pub(crate) struct Laps(Option<u64>);

    impl Laps {
        pub(crate) fn start() -> Self {
            Laps(ON.load(Ordering::Relaxed).then(thread_cpu_ns))
        }

        /// Charges the thread's CPU time since the previous lap to `phase`.
        #[inline]
        pub(crate) fn lap(&mut self, phase: usize) {
            if let Some(t) = &mut self.0 {
                let now = thread_cpu_ns();
                NS[phase].fetch_add(now.saturating_sub(*t), Ordering::Relaxed);
                *t = now;
            }
        }
    }
}

/// `out (rows × n) = a (rows × k) · b`, where `b` is `k × n` with the given strides, accumulating
/// onto `out` when `accumulate` (else overwriting) and scaling the product by `scale`.
///
/// # Safety contract (checked by the callers' slice lengths)
/// `out`, `a`, `b` must cover the strided extents described.
#[allow(clippy::too_many_arguments)]
fn matmul(
    rows: usize,
    n: usize,
    k: usize,
    out: &mut [f32],
    out_rs: usize,
    a: &[f32],
    a_rs: usize,
    b: &[f32],
    b_rs: usize,
    b_cs: usize,
    accumulate: bool,
    scale: f32,
) {
    if rows == 0 || n == 0 {
        return;
    }
    // Bounds: the last element each operand touches must be inside its slice.
    assert!(out.len() >= (rows - 1) * out_rs + n);
    assert!(k == 0 || a.len() >= (rows - 1) * a_rs + k);
    assert!(k == 0 || b.len() > (k - 1) * b_rs + (n - 1) * b_cs);
    // SAFETY: the asserts above keep every strided access inside the slices; `out` does not
    // alias `a` or `b` (distinct borrows).
    unsafe {
        gemm::gemm(
            rows,
            n,
            k,
            out.as_mut_ptr(),
            1,
            out_rs as isize,
            accumulate,
            a.as_ptr(),
            1,
            a_rs as isize,
            b.as_ptr(),
            b_cs as isize,
            b_rs as isize,
            1.0,
            scale,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
}

/// A dense layer with its weight stored transposed (`n_in × n_out`, row-major).
struct Dense {
    /// Empty when the layer runs in int8 (`q`).
    w_t: Vec<f32>,
    bias: Vec<f32>,
    n_in: usize,
    n_out: usize,
    q: Option<QWeights>,
}

impl Dense {
    fn load(
        vbs: &[VarBuilder],
        n_in: usize,
        n_out_each: usize,
        int8: Option<Int8Kernel>,
    ) -> candle_core::Result<Self> {
        // Several layers with the same input can be fused side by side (Q, K, V).
        let n_out = n_out_each * vbs.len();
        let mut w_t = vec![0f32; n_in * n_out];
        let mut bias = Vec::with_capacity(n_out);
        for (part, vb) in vbs.iter().enumerate() {
            let w = vb.get((n_out_each, n_in), "weight")?.to_vec2::<f32>()?;
            for (o, row) in w.iter().enumerate() {
                for (i, &v) in row.iter().enumerate() {
                    w_t[i * n_out + part * n_out_each + o] = v;
                }
            }
            bias.extend(vb.get(n_out_each, "bias")?.to_vec1::<f32>()?);
        }
        let q = int8.map(|kernel| QWeights::from_transposed(&w_t, n_in, n_out, kernel));
        Ok(Dense {
            w_t: if q.is_some() { Vec::new() } else { w_t },
            bias,
            n_in,
            n_out,
            q,
        })
    }

    /// `out = x · Wᵀ + b (+ residual)` for `rows` rows.
    fn forward(
        &self,
        x: &[f32],
        rows: usize,
        residual: Option<&[f32]>,
        out: &mut [f32],
        qs: &mut QScratch,
    ) {
        let out = &mut out[..rows * self.n_out];
        match residual {
            Some(res) => {
                for (o, r) in out
                    .chunks_exact_mut(self.n_out)
                    .zip(res.chunks_exact(self.n_out))
                {
                    for ((o, r), b) in o.iter_mut().zip(r).zip(&self.bias) {
                        *o = r + b;
                    }
                }
            }
            None => {
                for o in out.chunks_exact_mut(self.n_out) {
                    o.copy_from_slice(&self.bias);
                }
            }
        }
        if let Some(q) = &self.q {
            quant::qlinear(q, &x[..rows * self.n_in], rows, out, qs);
            return;
        }
        matmul(
            rows, self.n_out, self.n_in, out, self.n_out, x, self.n_in, &self.w_t, self.n_out, 1,
            true, 1.0,
        );
    }
}

struct LayerNorm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
    eps: f32,
}

impl LayerNorm {
    fn load(vb: VarBuilder, n: usize, eps: f64) -> candle_core::Result<Self> {
        Ok(LayerNorm {
            gamma: vb.get(n, "weight")?.to_vec1()?,
            beta: vb.get(n, "bias")?.to_vec1()?,
            eps: eps as f32,
        })
    }

    /// Normalises every row of `x` in place.
    fn apply(&self, x: &mut [f32]) {
        let n = self.gamma.len();
        for row in x.chunks_exact_mut(n) {
            let mean = sum_lanes(row) / n as f32;
            let mut acc = [0f32; LANES];
            for c in row.chunks(LANES) {
                for (a, v) in acc.iter_mut().zip(c) {
                    *a += (v - mean) * (v - mean);
                }
            }
            let var = acc.iter().sum::<f32>() / n as f32;
            let inv = 1.0 / (var + self.eps).sqrt();
            for ((v, g), b) in row.iter_mut().zip(&self.gamma).zip(&self.beta) {
                *v = (*v - mean) * inv * g + b;
            }
        }
    }
}

/// Per-thread scratch buffers, grown to the largest chunk seen.
#[derive(Default)]
struct Work {
    x: Vec<f32>,
    qkv: Vec<f32>,
    ctx: Vec<f32>,
    tmp: Vec<f32>,
    inter: Vec<f32>,
    scores: Vec<f32>,
    quant: QScratch,
}

struct Layer {
    qkv: Dense,
    attn_out: Dense,
    ln_attn: LayerNorm,
    inter: Dense,
    out: Dense,
    ln_out: LayerNorm,
}

/// The encoder: embeddings and transformer layers, weights in plain vectors.
pub(crate) struct FastBert {
    word: Vec<f32>,
    pos: Vec<f32>,
    type0: Vec<f32>,
    ln_emb: LayerNorm,
    layers: Vec<Layer>,
    hidden: usize,
    heads: usize,
    inter: usize,
    vocab: usize,
    max_pos: usize,
    act: HiddenAct,
    /// RoBERTa-family position ids: real tokens count from `pad + 1`, pad tokens sit at `pad`.
    roberta_pad: Option<u32>,
}

/// Why the fast engine cannot run a model (the caller reports it with the folder).
pub(crate) fn unsupported(config: &BertConfig) -> Option<String> {
    if config.position_embedding_type != PositionEmbeddingType::Absolute {
        return Some("only absolute position embeddings are supported".into());
    }
    None
}

impl FastBert {
    /// Loads BERT weights; `roberta_pad` = `Some(pad_token_id)` for XLM-R / RoBERTa models,
    /// whose position ids start after the padding index. `int8` quantizes the linear layers
    /// for that kernel (see [`crate::quant`]); embeddings and layer norms stay f32.
    pub(crate) fn load(
        vb: VarBuilder,
        config: &BertConfig,
        roberta_pad: Option<u32>,
        int8: Option<Int8Kernel>,
    ) -> candle_core::Result<Self> {
        let vb = if vb.contains_tensor("bert.embeddings.word_embeddings.weight") {
            vb.pp("bert")
        } else if vb.contains_tensor("roberta.embeddings.word_embeddings.weight") {
            vb.pp("roberta")
        } else {
            vb
        };
        let h = config.hidden_size;
        let emb = vb.pp("embeddings");
        let flat = |t: candle_core::Tensor| t.flatten_all()?.to_vec1::<f32>();
        let word = flat(emb.get((config.vocab_size, h), "word_embeddings.weight")?)?;
        let pos = flat(emb.get(
            (config.max_position_embeddings, h),
            "position_embeddings.weight",
        )?)?;
        let types = flat(emb.get(
            (config.type_vocab_size.max(1), h),
            "token_type_embeddings.weight",
        )?)?;
        let ln_emb = LayerNorm::load(emb.pp("LayerNorm"), h, config.layer_norm_eps)?;
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for l in 0..config.num_hidden_layers {
            let lv = vb.pp(format!("encoder.layer.{l}"));
            let att = lv.pp("attention");
            let sa = att.pp("self");
            layers.push(Layer {
                qkv: Dense::load(&[sa.pp("query"), sa.pp("key"), sa.pp("value")], h, h, int8)?,
                attn_out: Dense::load(&[att.pp("output.dense")], h, h, int8)?,
                ln_attn: LayerNorm::load(att.pp("output.LayerNorm"), h, config.layer_norm_eps)?,
                inter: Dense::load(
                    &[lv.pp("intermediate.dense")],
                    h,
                    config.intermediate_size,
                    int8,
                )?,
                out: Dense::load(&[lv.pp("output.dense")], config.intermediate_size, h, int8)?,
                ln_out: LayerNorm::load(lv.pp("output.LayerNorm"), h, config.layer_norm_eps)?,
            });
        }
        Ok(FastBert {
            word,
            pos,
            type0: types[..h].to_vec(),
            ln_emb,
            layers,
            hidden: h,
            heads: config.num_attention_heads,
            inter: config.intermediate_size,
            vocab: config.vocab_size,
            max_pos: config.max_position_embeddings,
            act: config.hidden_act,
            roberta_pad,
        })
    }

    /// Runs `seqs` through the encoder and hands each sequence's last-layer token vectors
    /// (`len × hidden`) to `each`, in order. Ids must be `< vocab` (the caller checks; others are
    /// clamped rather than read out of bounds); positions past the table reuse its last row.
    pub(crate) fn forward(&self, seqs: &[&[u32]], each: impl FnMut(usize, &[f32])) {
        // Buffers live per thread and are reused: fresh multi-megabyte allocations per batch
        // cost page faults (clear_page was 12–18 % of the profile).
        thread_local! {
            static WORK: std::cell::RefCell<Work> = std::cell::RefCell::new(Work::default());
        }
        WORK.with(|w| self.forward_in(seqs, &mut w.borrow_mut(), each));
    }

    /// Runs the layer stack over groups of consecutive sequences of about [`group_tokens`]
    /// tokens each, so a group's activations stay in cache from one product to the next. A
    /// sequence's arithmetic does not depend on its group (rows of a product are independent and
    /// `gemm` blocks `k` the same way whatever the row count), so grouping changes no bits.
    fn forward_in(&self, seqs: &[&[u32]], w: &mut Work, mut each: impl FnMut(usize, &[f32])) {
        let limit = group_tokens();
        let mut first = 0;
        while first < seqs.len() {
            let mut end = first + 1;
            let mut tokens = seqs[first].len();
            // At least two rows: `gemm` takes a matrix-vector path for one row.
            while end < seqs.len() && (tokens < 2 || tokens + seqs[end].len() <= limit) {
                tokens += seqs[end].len();
                end += 1;
            }
            self.forward_group(&seqs[first..end], w, &mut |i, v| each(first + i, v));
            first = end;
        }
    }

    fn forward_group(&self, seqs: &[&[u32]], w: &mut Work, each: &mut dyn FnMut(usize, &[f32])) {
        let h = self.hidden;
        let total: usize = seqs.iter().map(|s| s.len()).sum();
        let longest = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
        let Work {
            x,
            qkv,
            ctx,
            tmp,
            inter,
            scores,
            quant: qs,
        } = w;
        for (buf, len) in [
            (&mut *x, total * h),
            (&mut *qkv, total * 3 * h),
            (&mut *ctx, total * h),
            (&mut *tmp, total * h),
            (&mut *inter, total * self.inter),
            (&mut *scores, longest * longest),
        ] {
            buf.resize(len.max(buf.len()), 0.0);
        }
        let mut laps = profile::Laps::start();
        let mut row = 0;
        for s in seqs {
            let mut real = 0usize;
            for (p, &id) in s.iter().enumerate() {
                let p = match self.roberta_pad {
                    None => p,
                    Some(pad) if id == pad => pad as usize,
                    Some(pad) => {
                        real += 1;
                        pad as usize + real
                    }
                };
                let id = (id as usize).min(self.vocab - 1);
                let p = p.min(self.max_pos - 1);
                let dst = &mut x[row * h..(row + 1) * h];
                let w = &self.word[id * h..(id + 1) * h];
                let pe = &self.pos[p * h..(p + 1) * h];
                for (((d, a), b), c) in dst.iter_mut().zip(w).zip(pe).zip(&self.type0) {
                    *d = a + b + c;
                }
                row += 1;
            }
        }
        self.ln_emb.apply(&mut x[..total * h]);
        laps.lap(profile::EMB);
        let dh = h / self.heads;
        let scale = 1.0 / (dh as f32).sqrt();
        for layer in &self.layers {
            layer.qkv.forward(x, total, None, qkv, qs);
            laps.lap(profile::QKV);
            let mut start = 0;
            for s in seqs {
                let len = s.len();
                let q = &qkv[start * 3 * h..(start + len) * 3 * h];
                let c = &mut ctx[start * h..(start + len) * h];
                for head in 0..self.heads {
                    let off = head * dh;
                    let sc = &mut scores[..len * len];
                    // scores = scale · Q_h K_hᵀ: K_hᵀ[d, j] = qkv[j, h + off + d].
                    matmul(
                        len,
                        len,
                        dh,
                        sc,
                        len,
                        &q[off..],
                        3 * h,
                        &q[h + off..],
                        1,
                        3 * h,
                        false,
                        scale,
                    );
                    laps.lap(profile::SCORES);
                    softmax_rows(sc, len);
                    laps.lap(profile::SOFTMAX);
                    // ctx_h = P · V_h.
                    matmul(
                        len,
                        dh,
                        len,
                        &mut c[off..],
                        h,
                        sc,
                        len,
                        &q[2 * h + off..],
                        3 * h,
                        1,
                        false,
                        1.0,
                    );
                    laps.lap(profile::PV);
                }
                start += len;
            }
            layer.attn_out.forward(ctx, total, Some(x), tmp, qs);
            laps.lap(profile::ATTN_OUT);
            layer.ln_attn.apply(&mut tmp[..total * h]);
            laps.lap(profile::LN);
            std::mem::swap(x, tmp);
            layer.inter.forward(x, total, None, inter, qs);
            laps.lap(profile::UP);
            let inter = &mut inter[..total * self.inter];
            activate(self.act, inter);
            laps.lap(profile::GELU);
            layer.out.forward(inter, total, Some(x), tmp, qs);
            laps.lap(profile::DOWN);
            layer.ln_out.apply(&mut tmp[..total * h]);
            laps.lap(profile::LN);
            std::mem::swap(x, tmp);
        }
        let mut start = 0;
        for (i, s) in seqs.iter().enumerate() {
            each(i, &x[start * h..(start + s.len()) * h]);
            start += s.len();
        }
    }
}

/// Tokens per group of sequences in [`FastBert::forward_in`] (a longer sequence is a group of its
/// own): [`GROUP_TOKENS`], or `$BERTOPIC_EMBED_GROUP_TOKENS` (read on every call, so a benchmark
/// can compare settings in one process; any value gives the same bits).
fn group_tokens() -> usize {
    std::env::var("BERTOPIC_EMBED_GROUP_TOKENS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(GROUP_TOKENS)
}

/// About two abstracts: a group's activations (~15 KB a token across x, QKV, context and the FFN
/// intermediate) then take ~8 MB, in L3 from one product to the next, where a 32-document chunk
/// (~7,700 tokens, ~115 MB) streamed them from memory. Measured (#20, thread CPU time, busy
/// machine): speed unchanged within that machine's ±5 % noise, scratch buffers per thread ~8 MB
/// instead of ~115 MB.
pub(crate) const GROUP_TOKENS: usize = 512;

/// Lanes for reductions: partial sums in a fixed 8-lane layout vectorise and are the same on
/// every run, whatever the thread count.
const LANES: usize = 8;

/// Maximum of a row (rows come from finite products, so NaN handling is not needed).
#[inline(always)]
fn max_lanes(r: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let mut chunks = r.chunks_exact(LANES);
    for c in &mut chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a = if *v > *a { *v } else { *a };
        }
    }
    let mut m = f32::NEG_INFINITY;
    for v in acc.iter().chain(chunks.remainder()) {
        m = if *v > m { *v } else { m };
    }
    m
}

/// Sum of a row in 8 interleaved partial sums.
#[inline(always)]
fn sum_lanes(r: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let mut chunks = r.chunks_exact(LANES);
    for c in &mut chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    acc.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

/// Runs `$body` (a function of one `&mut [f32]` argument, `#[inline(always)]`) compiled for the
/// widest vector unit the CPU has. Elementwise maths and the fixed 8-lane reductions give the
/// same bits on every path; only the speed differs.
macro_rules! dispatch {
    ($name:ident, $body:ident, ($($arg:ident: $ty:ty),*)) => {
        fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                fn wide($($arg: $ty),*) {
                    $body($($arg),*)
                }
                #[target_feature(enable = "avx2")]
                fn mid($($arg: $ty),*) {
                    $body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU supports AVX-512F (checked just above).
                    return unsafe { wide($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports AVX2 (checked just above).
                    return unsafe { mid($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}

dispatch!(softmax_rows, softmax_rows_body, (m: &mut [f32], width: usize));
dispatch!(activate, activate_body, (act: HiddenAct, v: &mut [f32]));

#[inline(always)]
fn softmax_rows_body(m: &mut [f32], width: usize) {
    for r in m.chunks_exact_mut(width) {
        softmax_in_place(r);
    }
}

#[inline(always)]
fn activate_body(act: HiddenAct, v: &mut [f32]) {
    match act {
        HiddenAct::Gelu => v.iter_mut().for_each(|x| *x = gelu_erf(*x)),
        HiddenAct::GeluApproximate => v.iter_mut().for_each(|x| *x = gelu_tanh(*x)),
        HiddenAct::Relu => v.iter_mut().for_each(|x| *x = x.max(0.0)),
    }
}

/// Softmax of one row, in place.
#[inline(always)]
fn softmax_in_place(r: &mut [f32]) {
    let max = max_lanes(r);
    r.iter_mut().for_each(|v| *v = exp(*v - max));
    let inv = 1.0 / sum_lanes(r);
    r.iter_mut().for_each(|v| *v *= inv);
}

/// `eˣ` with relative error ≈ 1e-7, branch-free so loops over it vectorise.
#[inline(always)]
fn exp(x: f32) -> f32 {
    // eˣ = 2ⁿ · eʳ with n = round(x / ln 2), |r| ≤ ln 2 / 2; eʳ by its Taylor series to r⁶.
    let x = x.clamp(-87.0, 88.0);
    // Adding 1.5·2²³ rounds to an integer held in the low mantissa bits; the bias 127 rides along,
    // so the bits give the exponent field of 2ⁿ without a (saturating, unvectorisable) cast.
    const ROUND: f32 = 12_582_912.0;
    let shifted = x * std::f32::consts::LOG2_E + (ROUND + 127.0);
    let n = shifted - (ROUND + 127.0);
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    let biased = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    p * f32::from_bits(biased << 23)
}

/// Gauss error function, absolute error ≤ 1.5e-7 (Abramowitz & Stegun 7.1.26).
#[inline(always)]
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_8 + t * (-1.453_152 + t * 1.061_405_4))));
    let y = 1.0 - poly * exp(-a * a);
    y.copysign(x)
}

/// GELU with the exact (erf) form, as BERT's `gelu`.
#[inline(always)]
fn gelu_erf(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// GELU's tanh approximation (`gelu_new`).
#[inline(always)]
fn gelu_tanh(x: f32) -> f32 {
    let u = 0.797_884_6 * (x + 0.044_715 * x * x * x);
    // tanh(u) = 1 − 2 / (e²ᵘ + 1)
    let th = 1.0 - 2.0 / (exp(2.0 * u) + 1.0);
    0.5 * x * (1.0 + th)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_accurate() {
        let mut worst = 0f64;
        let mut x = -80.0f32;
        while x < 80.0 {
            let rel = ((exp(x) as f64) - (x as f64).exp()).abs() / (x as f64).exp();
            worst = worst.max(rel);
            x += 0.0137;
        }
        assert!(worst < 3e-7, "worst relative error {worst}");
        assert!(exp(-1000.0) < 1e-37 && exp(-1000.0) >= 0.0);
    }

    #[test]
    fn erf_is_accurate() {
        // Reference: erf by its Maclaurin series in f64 (converges well for |x| ≤ 3).
        let erf64 = |x: f64| {
            let mut term = x;
            let mut sum = x;
            for n in 1..200 {
                term *= -x * x / n as f64;
                sum += term / (2 * n + 1) as f64;
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        };
        let mut x = -3.0f32;
        while x <= 3.0 {
            let d = (erf(x) as f64 - erf64(x as f64)).abs();
            // The formula's 1.5e-7 plus f32 rounding of `1 − poly·e^(−x²)` (a few ulps of 1).
            assert!(d < 5e-7, "erf({x}) off by {d}");
            x += 0.01;
        }
        assert_eq!(erf(10.0), 1.0);
        assert_eq!(erf(-10.0), -1.0);
    }

    #[test]
    fn softmax_sums_to_one() {
        let mut r = vec![1.0f32, 2.0, 3.0, -50.0, 0.5];
        softmax_in_place(&mut r);
        let s: f32 = r.iter().sum();
        assert!((s - 1.0).abs() < 1e-6);
        assert!(r[2] > r[1] && r[1] > r[0]);
    }
}
