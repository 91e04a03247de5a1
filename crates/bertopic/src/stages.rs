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

/// Loads the sentence encoder for `spec` through the resolution chain (folder, HF cache, Hub,
/// PyPI wheel).
pub fn load_embedder(spec: &str, progress: bool) -> Result<Arc<dyn Embedder>> {
    let resolved = crate::embed::resolve_model(spec, &ResolveOptions::default())?;
    let encoder = SentenceEncoder::load(
        &resolved,
        EncoderOptions {
            progress,
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
