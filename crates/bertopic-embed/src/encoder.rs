//! The candle BERT sentence encoder (sentence-transformers pipeline: Transformer → Pooling → Normalize).

use std::io::IsTerminal;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config as BertConfig};
use candle_transformers::models::xlm_roberta::{Config as XlmrConfig, XLMRobertaModel};
use ndarray::Array2;
use rayon::prelude::*;
use serde::Deserialize;
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::device::EmbedDevice;
use crate::error::EmbedError;
use crate::fastbert::{self, FastBert};
use crate::resolve::ResolvedModel;
use crate::Embedder;

/// `max_seq_length` used when the folder has no `sentence_bert_config.json` (the value
/// sentence-transformers ships for all-MiniLM-L6-v2; capped at the model's position count).
pub const FALLBACK_MAX_SEQ_LENGTH: usize = 256;

/// How to encode. Validated by [`SentenceEncoder::load`].
#[derive(Debug, Clone)]
pub struct EncoderOptions {
    /// Texts per forward pass (default 32, sentence-transformers' default). Texts are sorted by
    /// length first, so padding stays small.
    pub batch_size: usize,
    /// Overrides the folder's `max_seq_length` (tokens including `[CLS]`/`[SEP]`).
    pub max_seq_length: Option<usize>,
    /// Show a progress bar on stderr (only when stderr is a terminal).
    pub progress: bool,
    /// Which forward-pass implementation runs the model (default [`Engine::Fast`]).
    pub engine: Engine,
    /// Arithmetic of the linear layers (default [`Precision::F32`]; `Int8` needs
    /// [`Engine::Fast`]).
    pub precision: Precision,
    /// Where the model runs (default the CPU). On [`EmbedDevice::Cuda`] the model is
    /// candle-transformers' BERT on candle's CUDA backend whatever `engine` says (the fast
    /// engine is CPU code), in f32: int8 is refused there.
    pub device: EmbedDevice,
}

/// Arithmetic of the encoder's linear layers.
///
/// bf16 is not offered: CPUs with AVX2 only have no bf16 arithmetic, so bf16 weights would be
/// widened to f32 before every product and run no faster than f32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// Full f32, the sentence-transformers parity path.
    #[default]
    F32,
    /// Dynamic int8: weights quantized per output channel at load, activations per token on
    /// each call, exact i32 accumulation (AVX2 `vpmaddwd`, with a scalar fallback on CPUs
    /// without AVX2 that is slower than f32). Softmax, layer norm and GELU stay f32. Embeddings
    /// differ slightly from f32 ones (see the crate README for the measured cosines), so the
    /// fingerprint and cache key carry `+int8`.
    Int8,
}

impl std::str::FromStr for Precision {
    type Err = EmbedError;
    fn from_str(s: &str) -> Result<Self, EmbedError> {
        match s.to_ascii_lowercase().as_str() {
            "f32" => Ok(Precision::F32),
            "int8" => Ok(Precision::Int8),
            "bf16" => Err(EmbedError::InvalidParam(
                "precision bf16 is not supported: without AVX-512 BF16 it would run no faster \
                 than f32; use f32 or int8"
                    .into(),
            )),
            other => Err(EmbedError::InvalidParam(format!(
                "unknown precision `{other}`: use f32 or int8"
            ))),
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::Int8 => "int8",
        })
    }
}

/// The forward-pass implementation. Both read the same weights and agree to rounding
/// (cosine ≥ 0.9999999 on real text); the tests check one against the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// This crate's packed, unpadded CPU forward pass: batches run in parallel on all cores,
    /// bit-identical on any thread count. About 2–3× the throughput of [`Engine::Candle`].
    #[default]
    Fast,
    /// candle-transformers' `BertModel` on padded batches (the reference implementation).
    Candle,
}

enum Model {
    Fast(FastBert),
    Candle(Box<BertModel>),
    CandleXlmr(Box<XLMRobertaModel>),
}

impl Default for EncoderOptions {
    fn default() -> Self {
        EncoderOptions {
            batch_size: 32,
            max_seq_length: None,
            progress: false,
            engine: Engine::Fast,
            precision: Precision::F32,
            device: EmbedDevice::Cpu,
        }
    }
}

/// How token vectors become one sentence vector (from `1_Pooling/config.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// Mean over the attention mask (sentence-transformers' default).
    Mean,
    /// The first (`[CLS]`) token.
    Cls,
    /// Element-wise maximum over real tokens.
    Max,
}

#[derive(Deserialize)]
struct PoolingConfig {
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
}

#[derive(Deserialize)]
struct ModuleEntry {
    #[serde(default)]
    path: String,
    #[serde(rename = "type", default)]
    kind: String,
}

#[derive(Deserialize)]
struct StConfig {
    max_seq_length: Option<usize>,
}

/// A sentence-transformers BERT model on the CPU (or a CUDA GPU, see [`EncoderOptions::device`]).
///
/// The allocator matters for speed: binaries should set `#[global_allocator] static A:
/// mimalloc::MiMalloc = mimalloc::MiMalloc;` (it removed most system time in our measurements).
pub struct SentenceEncoder {
    model: Model,
    /// Id used to pad candle batches (RoBERTa derives positions from it, so it must be the real one).
    pad_id: u32,
    vocab_size: usize,
    tokenizer: Tokenizer,
    device: Device,
    run_on: EmbedDevice,
    dim: usize,
    pooling: Pooling,
    normalize: bool,
    max_seq_length: usize,
    max_seq_overridden: bool,
    precision: Precision,
    batch_size: usize,
    progress: bool,
    model_id: String,
    weights_sha256: String,
}

fn invalid(dir: &Path, reason: impl Into<String>) -> EmbedError {
    EmbedError::InvalidModel {
        dir: dir.to_path_buf(),
        reason: reason.into(),
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, EmbedError> {
    let text = std::fs::read_to_string(path).map_err(|e| EmbedError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| EmbedError::InvalidModel {
        dir: path.parent().unwrap_or(path).to_path_buf(),
        reason: format!("{}: {e}", path.display()),
    })
}

impl SentenceEncoder {
    /// Loads tokenizer, weights and pipeline settings from a resolved model folder.
    pub fn load(model: &ResolvedModel, opts: EncoderOptions) -> Result<Self, EmbedError> {
        let dir = model.dir.as_path();
        if opts.batch_size == 0 {
            return Err(EmbedError::InvalidParam(
                "batch_size must be at least 1".into(),
            ));
        }
        // Device first: a binary without CUDA says so before reading any file.
        // int8 is this crate's AVX2 integer kernel on CPU memory; candle has no such op on CUDA.
        if opts.device.is_cuda() && opts.precision == Precision::Int8 {
            return Err(EmbedError::DeviceUnavailable {
                device: opts.device.to_string(),
                reason: "precision int8 runs on the CPU's integer units only; use f32 on CUDA"
                    .into(),
            });
        }
        let device = opts.device.candle()?;
        // The fast engine is hand-written CPU code; on a GPU candle's own ops run the model.
        let engine = if opts.device.is_cuda() {
            Engine::Candle
        } else {
            opts.engine
        };
        let config: BertConfig = read_json(&dir.join("config.json"))?;
        // BERT and the XLM-R / RoBERTa family (the multilingual sentence-transformers models)
        // share the architecture; RoBERTa numbers positions from the padding index + 1.
        let roberta = match config.model_type.as_deref() {
            None | Some("bert") => false,
            Some("xlm-roberta") | Some("roberta") => true,
            Some(t) => {
                return Err(invalid(
                    dir,
                    format!("model_type `{t}` is not supported (bert, xlm-roberta, roberta)"),
                ))
            }
        };
        if config.num_attention_heads == 0
            || !config
                .hidden_size
                .is_multiple_of(config.num_attention_heads)
        {
            return Err(invalid(
                dir,
                "hidden_size is not a multiple of num_attention_heads",
            ));
        }

        // Pipeline modules: pooling folder and whether a Normalize module follows.
        let modules_path = dir.join("modules.json");
        let (pooling_dir, normalize) = if modules_path.is_file() {
            let modules: Vec<ModuleEntry> = read_json(&modules_path)?;
            let pool = modules
                .iter()
                .find(|m| m.kind.ends_with("Pooling"))
                .map(|m| dir.join(&m.path));
            let norm = modules.iter().any(|m| m.kind.ends_with("Normalize"));
            (pool, norm)
        } else {
            (None, false)
        };
        let pooling = match pooling_dir.map(|d| d.join("config.json")) {
            Some(p) if p.is_file() => {
                let pc: PoolingConfig = read_json(&p)?;
                match (
                    pc.pooling_mode_mean_tokens,
                    pc.pooling_mode_cls_token,
                    pc.pooling_mode_max_tokens,
                ) {
                    (true, false, false) => Pooling::Mean,
                    (false, true, false) => Pooling::Cls,
                    (false, false, true) => Pooling::Max,
                    _ => {
                        return Err(invalid(
                            dir,
                            "pooling config must select exactly one of mean / cls / max",
                        ))
                    }
                }
            }
            _ => Pooling::Mean,
        };

        let st_path = dir.join("sentence_bert_config.json");
        let folder_msl = if st_path.is_file() {
            read_json::<StConfig>(&st_path)?.max_seq_length
        } else {
            None
        };
        let max_pos = config.max_position_embeddings;
        let max_seq_length = match opts.max_seq_length {
            Some(n) if n < 2 || n > max_pos => {
                return Err(EmbedError::InvalidParam(format!(
                    "max_seq_length {n} must be in 2..={max_pos} (the model's position embeddings)"
                )))
            }
            Some(n) => n,
            None => folder_msl.unwrap_or(FALLBACK_MAX_SEQ_LENGTH).min(max_pos),
        };

        // tokenizer.json may carry its own truncation/padding (MiniLM's: 128, fixed padding);
        // sentence-transformers ignores them, so do we: truncate at max_seq_length, pad per batch.
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| invalid(dir, format!("tokenizer.json: {e}")))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_seq_length,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;

        let weights_path = dir.join("model.safetensors");
        let bytes = std::fs::read(&weights_path).map_err(|e| EmbedError::io(&weights_path, e))?;
        if let Err(e) = safetensors::SafeTensors::deserialize(&bytes) {
            return Err(EmbedError::CorruptWeights {
                path: weights_path,
                reason: e.to_string(),
            });
        }
        let vb =
            VarBuilder::from_buffered_safetensors(bytes, DType::F32, &device).map_err(|e| {
                EmbedError::CorruptWeights {
                    path: weights_path.clone(),
                    reason: e.to_string(),
                }
            })?;
        let mismatch =
            |e: candle_core::Error| invalid(dir, format!("weights do not match config.json: {e}"));
        if opts.precision == Precision::Int8 && engine != Engine::Fast {
            return Err(EmbedError::InvalidParam(
                "precision int8 needs the fast engine (Engine::Fast)".into(),
            ));
        }
        // The int8 kernel, resolved once for every layer (and for the warning below).
        let int8 = (opts.precision == Precision::Int8).then(crate::int8_kernel);
        if let Some(kernel) = int8 {
            if let Some(why) = crate::quant::kernel_env_error() {
                return Err(EmbedError::InvalidParam(why));
            }
            let widest = config.hidden_size.max(config.intermediate_size);
            if widest > crate::quant::MAX_K {
                return Err(invalid(
                    dir,
                    format!(
                        "a layer {widest} wide is past int8's exact range ({}); use f32",
                        crate::quant::MAX_K
                    ),
                ));
            }
            // A library should not print, but a 5× slowdown the user asked for by name deserves
            // a word; it goes to stderr once per load.
            if !kernel.native() {
                eprintln!(
                    "warning: this CPU lacks the {} instructions BERTOPIC_INT8_KERNEL names; \
                     int8 runs that kernel's portable form, much slower than f32",
                    kernel.name()
                );
            } else if kernel == crate::Int8Kernel::Scalar {
                eprintln!(
                    "warning: int8 runs a portable integer kernel here (no AVX2, or \
                     BERTOPIC_INT8_KERNEL=scalar), slower than f32"
                );
            }
        }
        let bert = match engine {
            Engine::Fast => {
                if let Some(why) = fastbert::unsupported(&config) {
                    return Err(invalid(dir, format!("{why}; load it with Engine::Candle")));
                }
                let pad = roberta.then_some(config.pad_token_id as u32);
                Model::Fast(FastBert::load(vb, &config, pad, int8).map_err(mismatch)?)
            }
            Engine::Candle if roberta => {
                let xc: XlmrConfig = read_json(&dir.join("config.json"))?;
                let vb = if vb.contains_tensor("roberta.embeddings.word_embeddings.weight") {
                    vb.pp("roberta")
                } else {
                    vb
                };
                Model::CandleXlmr(Box::new(XLMRobertaModel::new(&xc, vb).map_err(mismatch)?))
            }
            Engine::Candle => {
                Model::Candle(Box::new(BertModel::load(vb, &config).map_err(mismatch)?))
            }
        };

        Ok(SentenceEncoder {
            model: bert,
            pad_id: config.pad_token_id as u32,
            vocab_size: config.vocab_size,
            tokenizer,
            device,
            run_on: opts.device,
            dim: config.hidden_size,
            pooling,
            normalize,
            max_seq_length,
            max_seq_overridden: opts.max_seq_length.is_some_and(|n| Some(n) != folder_msl),
            precision: opts.precision,
            batch_size: opts.batch_size,
            progress: opts.progress,
            model_id: model.model_id.clone(),
            weights_sha256: model.weights_sha256.clone(),
        })
    }

    /// Tokens per text (including `[CLS]`/`[SEP]`), truncated.
    pub fn max_seq_length(&self) -> usize {
        self.max_seq_length
    }

    /// The arithmetic of the linear layers.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Where the model runs.
    pub fn device(&self) -> EmbedDevice {
        self.run_on
    }

    /// The pooling read from the folder.
    pub fn pooling(&self) -> Pooling {
        self.pooling
    }

    /// Whether outputs are L2-normalised (a Normalize module is in modules.json).
    pub fn normalizes(&self) -> bool {
        self.normalize
    }

    /// The token ids the model sees for each text (truncated, with special tokens, unpadded).
    pub fn tokenize(&self, texts: &[String]) -> Result<Vec<Vec<u32>>, EmbedError> {
        let inputs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let encs = self
            .tokenizer
            .encode_batch(inputs, true)
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        Ok(encs.into_iter().map(|e| e.get_ids().to_vec()).collect())
    }

    /// Embeds already tokenised inputs with an explicit batch size (see [`Embedder::embed`]).
    pub fn embed_ids(
        &self,
        ids: &[Vec<u32>],
        batch_size: usize,
    ) -> Result<Array2<f32>, EmbedError> {
        if batch_size == 0 {
            return Err(EmbedError::InvalidParam(
                "batch_size must be at least 1".into(),
            ));
        }
        for (i, seq) in ids.iter().enumerate() {
            if seq.is_empty() {
                return Err(EmbedError::InvalidParam(format!(
                    "token sequence {i} is empty (tokenize adds [CLS]/[SEP]; use tokenize)"
                )));
            }
            if let Some(&bad) = seq.iter().find(|&&t| t as usize >= self.vocab_size) {
                return Err(EmbedError::InvalidParam(format!(
                    "token sequence {i} has id {bad}, outside the model's vocabulary of {} \
                     (was it tokenized with another model's tokenizer?)",
                    self.vocab_size
                )));
            }
        }
        // Longer inputs are cut at max_seq_length, as `tokenize` does.
        let ids: Vec<&[u32]> = ids
            .iter()
            .map(|s| &s[..s.len().min(self.max_seq_length)])
            .collect();
        let n = ids.len();
        let mut out = Array2::<f32>::zeros((n, self.dim));
        // Longest first (as sentence-transformers does): batches hold similar lengths, so
        // little compute goes into padding. Stable sort keeps equal lengths in input order.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(ids[i].len()));

        let bar = if self.progress && std::io::stderr().is_terminal() && n > batch_size {
            let b = indicatif::ProgressBar::new(n as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "embedding {bar:30} {pos}/{len} docs [{elapsed_precise} < {eta_precise}]",
            ) {
                b.set_style(style);
            }
            b
        } else {
            indicatif::ProgressBar::hidden()
        };
        let place = |out: &mut Array2<f32>, chunk: &[usize], rows: &[f32]| {
            for (k, &i) in chunk.iter().enumerate() {
                out.row_mut(i).assign(&ndarray::ArrayView1::from(
                    &rows[k * self.dim..(k + 1) * self.dim],
                ));
            }
        };
        match &self.model {
            Model::Fast(bert) => {
                // Chunks are independent and each runs single-threaded; a sequence's bits do
                // not depend on its chunk, so the cut may follow the thread count (balance)
                // without changing any output. collect keeps chunk order.
                let lens: Vec<usize> = order.iter().map(|&i| ids[i].len()).collect();
                let chunks: Vec<&[usize]> =
                    balanced_chunks(&lens, batch_size, rayon::current_num_threads())
                        .into_iter()
                        .map(|r| &order[r])
                        .collect();
                let pooled: Vec<Vec<f32>> = chunks
                    .par_iter()
                    .map(|chunk| {
                        let seqs: Vec<&[u32]> = chunk.iter().map(|&i| ids[i]).collect();
                        let d = self.dim;
                        let mut rows = vec![0f32; seqs.len() * d];
                        bert.forward(&seqs, |r, tokens| {
                            self.pool(tokens, seqs[r].len(), &mut rows[r * d..(r + 1) * d]);
                        });
                        bar.inc(chunk.len() as u64);
                        rows
                    })
                    .collect();
                for (chunk, rows) in chunks.iter().zip(&pooled) {
                    place(&mut out, chunk, rows);
                }
            }
            Model::Candle(_) | Model::CandleXlmr(_) => {
                for chunk in order.chunks(batch_size) {
                    let rows = self.forward_padded(chunk.iter().map(|&i| ids[i]))?;
                    place(&mut out, chunk, &rows);
                    bar.inc(chunk.len() as u64);
                }
            }
        }
        bar.finish_and_clear();
        Ok(out)
    }

    /// One padded forward pass of candle-transformers' BERT / XLM-R; returns pooled rows.
    fn forward_padded<'a>(
        &self,
        batch: impl Iterator<Item = &'a [u32]> + Clone,
    ) -> Result<Vec<f32>, EmbedError> {
        let b = batch.clone().count();
        let len = batch.clone().map(<[u32]>::len).max().unwrap_or(0).max(1);
        let mut input = vec![self.pad_id; b * len];
        let mut mask = vec![0u32; b * len];
        let mut lens = Vec::with_capacity(b);
        for (r, seq) in batch.enumerate() {
            input[r * len..r * len + seq.len()].copy_from_slice(seq);
            mask[r * len..r * len + seq.len()].fill(1);
            lens.push(seq.len());
        }
        let input = Tensor::from_vec(input, (b, len), &self.device)?;
        let mask = Tensor::from_vec(mask, (b, len), &self.device)?;
        let types = input.zeros_like()?;
        let hidden = match &self.model {
            Model::Candle(bert) => bert.forward(&input, &types, Some(&mask))?,
            Model::CandleXlmr(xlmr) => xlmr.forward(&input, &mask, &types, None, None, None)?,
            Model::Fast(_) => {
                return Err(EmbedError::InvalidParam(
                    "internal: the fast engine has no padded pass".into(),
                ))
            }
        };
        let hidden = hidden.flatten_all()?.to_vec1::<f32>()?;
        let d = self.dim;
        let mut out = vec![0f32; b * d];
        for (r, &n_tok) in lens.iter().enumerate() {
            let base = r * len * d;
            self.pool(
                &hidden[base..base + n_tok * d],
                n_tok,
                &mut out[r * d..(r + 1) * d],
            );
        }
        Ok(out)
    }

    /// Pools `n_tok` token vectors (`n_tok × dim`, real tokens only) into `row`, then normalises.
    fn pool(&self, tokens: &[f32], n_tok: usize, row: &mut [f32]) {
        let d = self.dim;
        let tok = |t: usize| &tokens[t * d..(t + 1) * d];
        match self.pooling {
            Pooling::Cls => row.copy_from_slice(tok(0)),
            Pooling::Mean => {
                row.fill(0.0);
                for t in 0..n_tok {
                    for (o, v) in row.iter_mut().zip(tok(t)) {
                        *o += v;
                    }
                }
                // sentence-transformers clamps the token count at 1e-9.
                let c = (n_tok as f32).max(1e-9);
                row.iter_mut().for_each(|o| *o /= c);
            }
            Pooling::Max => {
                row.fill(f32::NEG_INFINITY);
                for t in 0..n_tok {
                    for (o, v) in row.iter_mut().zip(tok(t)) {
                        *o = o.max(*v);
                    }
                }
            }
        }
        if self.normalize {
            let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
            row.iter_mut().for_each(|v| *v /= norm);
        }
    }
}

impl Embedder for SentenceEncoder {
    fn embed(&self, texts: &[String]) -> Result<Array2<f32>, EmbedError> {
        let ids = self.tokenize(texts)?;
        self.embed_ids(&ids, self.batch_size)
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn model_id(&self) -> String {
        self.model_id.clone()
    }

    /// The weights' sha256; with a `max_seq_length` override that differs from the folder's,
    /// `+max_seq_length=N` is appended, and `+int8` for [`Precision::Int8`] (outputs differ, so
    /// cache keys must too).
    fn fingerprint(&self) -> String {
        let mut f = self.weights_sha256.clone();
        if self.max_seq_overridden {
            f.push_str(&format!("+max_seq_length={}", self.max_seq_length));
        }
        if self.precision == Precision::Int8 {
            f.push_str("+int8");
        }
        f
    }
}

/// Chunks per thread [`balanced_chunks`] aims at: enough that the longest-first order's uneven
/// chunk costs even out across threads.
const CHUNKS_PER_THREAD: usize = 4;

/// Cuts `lens` (sequence lengths, longest first) into consecutive ranges of about equal token
/// count: [`CHUNKS_PER_THREAD`] per thread when there is enough work, else one per
/// [`fastbert::GROUP_TOKENS`] tokens (rounded up), and none with more than `batch_size` sequences.
/// Fixed `batch_size` chunks left threads idle: 32 documents at batch 32 ran on one thread, 100
/// on two threads split 64 / 36.
fn balanced_chunks(
    lens: &[usize],
    batch_size: usize,
    threads: usize,
) -> Vec<std::ops::Range<usize>> {
    let total: usize = lens.iter().sum();
    // Cut at the k-th share of the tokens rather than on filling a size, so the last chunk is
    // not a small remainder.
    let shares = (threads.max(1) * CHUNKS_PER_THREAD)
        .min(total.div_ceil(crate::fastbert::GROUP_TOKENS))
        .max(1);
    let mut out = Vec::new();
    let (mut start, mut done) = (0, 0);
    for (i, &len) in lens.iter().enumerate() {
        let reached = done * shares >= (out.len() + 1) * total;
        if i > start && (reached || i - start == batch_size) {
            out.push(start..i);
            start = i;
        }
        done += len;
    }
    if start < lens.len() {
        out.push(start..lens.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::ModelSource;

    fn nowhere() -> ResolvedModel {
        ResolvedModel {
            dir: std::path::PathBuf::from("/nonexistent/bertopic-model"),
            model_id: "none".into(),
            weights_sha256: String::new(),
            source: ModelSource::LocalPath,
        }
    }

    /// The device is checked before any file is read, so these errors are about the device,
    /// not about the missing folder.
    #[test]
    fn cuda_refusals_come_first_and_say_why() {
        let load = |precision| {
            let Err(e) = SentenceEncoder::load(
                &nowhere(),
                EncoderOptions {
                    device: EmbedDevice::Cuda(0),
                    precision,
                    ..Default::default()
                },
            ) else {
                panic!("cuda:0 with {precision} was accepted");
            };
            e
        };
        let e = load(Precision::Int8);
        assert!(matches!(e, EmbedError::DeviceUnavailable { .. }), "{e}");
        assert!(e.to_string().contains("int8"), "{e}");
        if !crate::CUDA_BUILT {
            let e = load(Precision::F32);
            assert!(matches!(e, EmbedError::DeviceUnavailable { .. }), "{e}");
            assert!(e.to_string().contains("--features cuda"), "{e}");
        }
    }

    /// Every sequence in exactly one chunk, in order; no chunk over `batch_size`; enough chunks
    /// for every thread when the input allows it.
    #[test]
    fn balanced_chunks_cover_the_input_and_keep_threads_busy() {
        let check = |lens: &[usize], batch: usize, threads: usize| {
            let chunks = balanced_chunks(lens, batch, threads);
            let mut next = 0;
            for c in &chunks {
                assert_eq!(c.start, next, "{chunks:?}");
                assert!(!c.is_empty() && c.len() <= batch, "{chunks:?}");
                next = c.end;
            }
            assert_eq!(next, lens.len());
            chunks
        };
        assert!(check(&[], 32, 2).is_empty());
        assert_eq!(check(&[7], 32, 2), vec![0..1]);
        // 32 abstracts at batch 32 on 2 threads: no longer one chunk (one idle thread).
        let abstracts: Vec<usize> = (0..32).map(|i| 256 - i * 3).collect();
        assert!(check(&abstracts, 32, 2).len() >= 2 * CHUNKS_PER_THREAD);
        // 100 abstracts: chunks within one sequence of their share, so threads split evenly.
        let hundred: Vec<usize> = (0..100).map(|i| 256 - i).collect();
        let chunks = check(&hundred, 32, 2);
        let tokens: Vec<usize> = chunks
            .iter()
            .map(|c| hundred[c.clone()].iter().sum())
            .collect();
        let (lo, hi) = (tokens.iter().min().unwrap(), tokens.iter().max().unwrap());
        assert!(hi - lo <= 2 * 256, "{tokens:?}");
        // Many short texts: batch_size still bounds a chunk.
        let short = vec![12; 1000];
        assert!(check(&short, 16, 2)
            .iter()
            .all(|c| c.len() == 16 || c.end == 1000));
        // Tiny inputs stay in one group-sized chunk instead of one-token slivers.
        assert_eq!(check(&[5; 10], 32, 8), vec![0..10]);
    }
}
