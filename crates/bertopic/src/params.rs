use serde::{Deserialize, Serialize};

use crate::cluster::HdbscanParams;
use crate::error::{BertopicError, Result};
use crate::preprocess::{Language, TokenizerConfig};
use crate::reduce::UmapParams;
use crate::represent::{CtfidfParams, VectorizerParams};

/// Hyperparameters of the whole pipeline, with BERTopic's defaults.
///
/// Plain data: build it with struct update syntax or through [`crate::BERTopicBuilder`], then
/// [`validate`](Self::validate) it (the builder does this for you).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct BERTopicParams {
    /// Language of the documents: picks the stop words and BERTopic's English-only cleaning.
    pub language: Language,
    /// Remove the language's stop words from topic words. BERTopic's own default is `false`
    /// (which yields topics like `the_of_and`); the seed pipeline and this crate use `true`.
    pub stop_words: bool,
    /// Words per topic (BERTopic `top_n_words`).
    pub top_n_words: usize,
    /// N-gram range of topic terms (BERTopic `n_gram_range`).
    pub ngram_range: (usize, usize),
    /// Smallest topic size; sets HDBSCAN's `min_cluster_size` (BERTopic `min_topic_size`).
    pub min_topic_size: usize,
    /// Merge topics down to this many after fitting (BERTopic `nr_topics`); `None` keeps all.
    pub nr_topics: Option<usize>,
    /// Seed for every randomised stage.
    pub seed: u64,
    /// Embedding model id or folder.
    pub embedding_model: String,
    /// UMAP settings (the seed above overrides `umap.seed`).
    pub umap: UmapParams,
    /// HDBSCAN settings (`min_topic_size` above overrides `min_cluster_size`).
    pub hdbscan: HdbscanParams,
    /// Vocabulary settings.
    pub vectorizer: VectorizerParams,
    /// c-TF-IDF weighting.
    pub ctfidf: CtfidfParams,
    /// Representative documents kept per topic.
    pub n_representative_docs: usize,
    /// Maximal Marginal Relevance diversity for topic words (needs an embedder); `None` = off.
    pub mmr_diversity: Option<f32>,
}

impl Default for BERTopicParams {
    fn default() -> Self {
        BERTopicParams {
            language: Language::English,
            stop_words: true,
            top_n_words: 10,
            ngram_range: (1, 1),
            min_topic_size: 10,
            nr_topics: None,
            seed: 42,
            embedding_model: crate::embed::DEFAULT_MODEL.to_string(),
            umap: UmapParams::default(),
            hdbscan: HdbscanParams::default(),
            vectorizer: VectorizerParams::default(),
            ctfidf: CtfidfParams::default(),
            n_representative_docs: 3,
            mmr_diversity: None,
        }
    }
}

impl BERTopicParams {
    /// Checks ranges that the stages cannot check themselves.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(BertopicError::InvalidParams(m));
        if self.top_n_words == 0 {
            return bad("top_n_words must be at least 1".into());
        }
        if self.min_topic_size < 2 {
            return bad(format!(
                "min_topic_size must be at least 2 (got {})",
                self.min_topic_size
            ));
        }
        let (lo, hi) = self.ngram_range;
        if lo == 0 || lo > hi {
            return bad(format!(
                "ngram_range must satisfy 1 <= min <= max (got ({lo}, {hi}))"
            ));
        }
        if let Some(n) = self.nr_topics {
            if n < 1 {
                return bad("nr_topics must be at least 1".into());
            }
        }
        if let Some(d) = self.mmr_diversity {
            if !(0.0..=1.0).contains(&d) {
                return bad(format!("mmr_diversity must be in [0, 1] (got {d})"));
            }
        }
        Ok(())
    }

    /// UMAP settings with the pipeline seed applied.
    pub fn umap_params(&self) -> UmapParams {
        UmapParams {
            seed: self.seed,
            ..self.umap.clone()
        }
    }

    /// HDBSCAN settings with `min_topic_size` applied.
    pub fn hdbscan_params(&self) -> HdbscanParams {
        HdbscanParams {
            min_cluster_size: self.min_topic_size,
            ..self.hdbscan.clone()
        }
    }

    /// The tokenizer used for topic terms (and, with unigrams, for coherence).
    pub fn tokenizer_config(&self) -> TokenizerConfig {
        TokenizerConfig {
            language: if self.stop_words {
                self.language
            } else {
                Language::None
            },
            ngram_range: self.ngram_range,
            ..TokenizerConfig::default()
        }
    }
}
