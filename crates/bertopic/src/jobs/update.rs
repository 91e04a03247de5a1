//! `bertopic update`: one batch of online topic modelling, from files to a model folder.

use crate::error::{BertopicError, Result};
use crate::fs::{DirPolicy, DirWriter};
use crate::variants::OnlineTopicModel;
use crate::MODEL_FOLDER_FILES;

use super::Corpus;

/// One `bertopic update`: read a batch, continue an online model (or start one), and write the
/// updated model into a new folder (the input model folder is never changed).
#[derive(Debug, Clone)]
pub struct UpdateJob {
    /// The online model folder to continue; `None` starts a model of `params`.
    pub model: Option<std::path::PathBuf>,
    /// Parameters of a new model (`variants.online` must be set); ignored when continuing.
    pub params: crate::BertopicParams,
    /// The batch (CSV, JSON Lines or text; `-` = standard input).
    pub input: std::path::PathBuf,
    /// How to read it.
    pub read: crate::preprocess::ReadOptions,
    /// Precomputed embeddings of the batch (`.npy`); otherwise the model's embedding model.
    pub embeddings: Option<std::path::PathBuf>,
    /// The folder for the updated model.
    pub output: std::path::PathBuf,
    /// What may already be in `output`.
    pub output_policy: DirPolicy,
    /// Read and write the embedding cache.
    pub cache: bool,
    /// Show progress bars.
    pub progress: bool,
}

/// What [`update`] did.
#[derive(Debug)]
pub struct UpdateOutcome {
    /// The updated online model.
    pub online: OnlineTopicModel,
    /// How the batch was read.
    pub summary: crate::preprocess::ReadSummary,
}

/// Runs an [`UpdateJob`]: `model.json`, `model.safetensors`, `online.safetensors` and
/// `topic_info.csv` are written to `output` together.
pub fn update(job: &UpdateJob) -> Result<UpdateOutcome> {
    let mut online = match &job.model {
        Some(dir) => OnlineTopicModel::load(dir)?,
        None => OnlineTopicModel::new(job.params.checked()?)?,
    };
    // Checked (and locked) before the expensive work.
    let out = DirWriter::begin(&job.output, MODEL_FOLDER_FILES, job.output_policy)?;
    let corpus = Corpus::read(&job.input, &job.read)?;
    let texts = corpus.texts();
    match &job.embeddings {
        Some(p) => online.partial_fit(&texts, &super::load_embeddings(p, &corpus)?)?,
        None => {
            let spec = online.params().embedding_model.clone();
            let e = super::embedder(&spec, job.cache, job.progress)?;
            online.partial_fit_with(&texts, e.as_ref())?;
        }
    }
    let model = online
        .model()
        .ok_or_else(|| BertopicError::Mismatch("no model after a batch".into()))?;
    online.write_into(model, &out)?;
    out.commit()?;
    Ok(UpdateOutcome {
        online,
        summary: corpus.summary,
    })
}
