//! What the pipeline, the fitted model and tuning share: the stage timings, the input checks and
//! the default embedder's loading. A leaf module, so `pipeline` (which builds models) and `model`
//! (which re-embeds for `transform`) do not import each other.

use std::sync::Arc;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::embed::{Embedder, EncoderOptions, ResolveOptions, SentenceEncoder};
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

/// Suffix of an embedding model spec that selects the int8 encoder
/// ([`crate::embed::Precision::Int8`]), e.g. `sentence-transformers/all-MiniLM-L6-v2+int8`. It is
/// part of the spec, so a model trained with it is saved with it and embeds new documents (predict,
/// monitor, serve) with the same arithmetic.
pub const INT8_SUFFIX: &str = "+int8";

/// Loads the sentence encoder for `spec` through the resolution chain (folder, HF cache, Hub,
/// PyPI wheel); a trailing [`INT8_SUFFIX`] loads it with int8 linear layers.
pub fn load_embedder(spec: &str, progress: bool) -> Result<Arc<dyn Embedder>> {
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
