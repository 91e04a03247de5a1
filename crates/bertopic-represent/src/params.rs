//! Hyperparameters with BERTopic's defaults.

use serde::{Deserialize, Serialize};

use crate::RepresentError;

/// Vocabulary pruning, as sklearn's `CountVectorizer` does it. BERTopic fits the vectorizer on
/// one string per topic, so document frequencies here count *topics*, not documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VectorizerParams {
    /// Keep terms that occur in at least this many topics (sklearn `min_df` as an integer; 0 acts as 1).
    pub min_df: usize,
    /// Drop terms that occur in more than this fraction of topics (sklearn `max_df` as a float
    /// in (0, 1]); `None` = keep all.
    pub max_df: Option<f64>,
    /// Keep only the most frequent terms (by total count; ties → earlier in sorted order).
    pub max_features: Option<usize>,
}

impl Default for VectorizerParams {
    fn default() -> Self {
        VectorizerParams {
            min_df: 1,
            max_df: None,
            max_features: None,
        }
    }
}

impl VectorizerParams {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<(), RepresentError> {
        if let Some(m) = self.max_df {
            if !(m > 0.0 && m <= 1.0) {
                return Err(RepresentError::InvalidParams(format!(
                    "max_df must be a fraction in (0, 1] (got {m})"
                )));
            }
        }
        if self.max_features == Some(0) {
            return Err(RepresentError::InvalidParams(
                "max_features must be at least 1 (or None for no limit)".into(),
            ));
        }
        Ok(())
    }
}

/// BERTopic's `ClassTfidfTransformer` options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CtfidfParams {
    /// BM25-inspired idf `ln(1 + (A − f + 0.5) / (f + 0.5))` instead of `ln(A / f + 1)`.
    pub bm25_weighting: bool,
    /// Square root of the L1-normalised term frequencies (damps very frequent words).
    pub reduce_frequent_words: bool,
}

/// Settings of [`fit`](crate::fit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RepresentParams {
    /// Words kept per topic (BERTopic `top_n_words`, default 10).
    pub top_n_words: usize,
    /// Vocabulary pruning.
    pub vectorizer: VectorizerParams,
    /// c-TF-IDF weighting.
    pub ctfidf: CtfidfParams,
    /// BERTopic's English cleaning of the per-topic strings: remove everything except ASCII
    /// letters, digits and spaces (`re.sub(r"[^A-Za-z0-9 ]+", "", s)`). `true` for English.
    pub strip_non_alphanumeric: bool,
    /// Representative documents kept per topic (default 3).
    pub n_representative_docs: usize,
    /// MMR diversity in [0, 1] for topic words; needs [`fit_with_embedder`](crate::fit_with_embedder).
    pub mmr_diversity: Option<f32>,
}

impl Default for RepresentParams {
    fn default() -> Self {
        RepresentParams {
            top_n_words: 10,
            vectorizer: VectorizerParams::default(),
            ctfidf: CtfidfParams::default(),
            strip_non_alphanumeric: true,
            n_representative_docs: 3,
            mmr_diversity: None,
        }
    }
}

impl RepresentParams {
    /// Checks every range.
    pub fn validate(&self) -> Result<(), RepresentError> {
        if self.top_n_words == 0 {
            return Err(RepresentError::InvalidParams(
                "top_n_words must be at least 1".into(),
            ));
        }
        if let Some(d) = self.mmr_diversity {
            if !(0.0..=1.0).contains(&d) {
                return Err(RepresentError::InvalidParams(format!(
                    "mmr_diversity must be in [0, 1] (got {d})"
                )));
            }
        }
        self.vectorizer.validate()
    }
}
