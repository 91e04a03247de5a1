//! BERTopic's modelling variants beyond the default fit: zero-shot topics
//! ([`VariantParams::zeroshot_topic_list`]), guided topics ([`VariantParams::seed_topic_list`])
//! and supervised / semi-supervised fits
//! ([`Bertopic::fit_with_labels`](crate::Bertopic::fit_with_labels), labels from a corpus column
//! with [`labels`]); merging fitted models
//! ([`merge`], [`TopicModel::merge`](crate::TopicModel::merge)) and manual topics from given
//! assignments ([`manual`]).
//!
//! The settings live in [`BertopicParams::variants`](crate::BertopicParams::variants), so they
//! are saved with the model (`model.json`) and a loaded model refits its words the same way.

mod fit;
mod guided;
pub mod labels;
pub mod manual;
pub mod merge;
pub mod online;
mod zeroshot;

use serde::{Deserialize, Serialize};

use crate::params::ParamError;

pub(crate) use fit::{fit_variants, VariantFit};
pub use labels::{class_ids, ClassLabels, LabelColumn};
pub use merge::{merge_models, MergeRecord, Merged, MergedInput};
pub use online::{OnlineParams, OnlineTopicModel};
/// Boosts the seed words of `seeds` in a fitted c-TF-IDF representation (no-op without seeds).
pub(crate) fn boost_seed_words(
    repr: &mut crate::represent::TopicRepresentation,
    seeds: &[Vec<String>],
    top_n: usize,
) {
    guided::boost_seed_words(repr, seeds, top_n);
}

/// Settings of the variants that change how a model is fitted, with BERTopic's defaults
/// (all off; `zeroshot_min_similarity` 0.7).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct VariantParams {
    /// Zero-shot topic names (BERTopic `zeroshot_topic_list`): a document whose embedding is at
    /// least `zeroshot_min_similarity` cosine-similar to a name's embedding is assigned to that
    /// name's topic; the others are clustered as usual. Needs an embedder for the names.
    pub zeroshot_topic_list: Vec<String>,
    /// Smallest cosine similarity for a zero-shot assignment (BERTopic default 0.7).
    pub zeroshot_min_similarity: f64,
    /// Seed words per topic (BERTopic `seed_topic_list`): documents most similar to a seed
    /// topic's embedding are pulled towards it (and labelled for the reduction), and the seed
    /// words' c-TF-IDF weights are multiplied by 1.2. Needs an embedder for the seed words.
    pub seed_topic_list: Vec<Vec<String>>,
    /// Set on a model made by [`merge_models`]: its inputs and topic mappings. Such a model
    /// assigns new documents to the topic with the most similar topic embedding (BERTopic's
    /// prediction for merged models), whatever the prediction strategy asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged: Option<MergeRecord>,
    /// Set on a model fitted batch by batch ([`OnlineTopicModel`]): incremental PCA,
    /// mini-batch k-means and decayed term counts. Such a model assigns new documents with its
    /// reduction and clustering (BERTopic's `transform` of an online model).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub online: Option<OnlineParams>,
}

impl Default for VariantParams {
    fn default() -> Self {
        VariantParams {
            zeroshot_topic_list: Vec::new(),
            zeroshot_min_similarity: 0.7,
            seed_topic_list: Vec::new(),
            merged: None,
            online: None,
        }
    }
}

impl VariantParams {
    /// Nothing set: the default fit.
    pub fn is_default(&self) -> bool {
        self == &VariantParams::default()
    }

    /// Checks the settings: finite similarity in [-1, 1], no empty names or seed words.
    pub fn check(&self) -> std::result::Result<(), ParamError> {
        let s = self.zeroshot_min_similarity;
        if !s.is_finite() || !(-1.0..=1.0).contains(&s) {
            return Err(ParamError::new(
                "variants.zeroshot_min_similarity",
                format!(
                    "zeroshot_min_similarity must be a cosine similarity in [-1, 1] (got {s}); \
                     BERTopic's default is 0.7"
                ),
            ));
        }
        if let Some(i) = self
            .zeroshot_topic_list
            .iter()
            .position(|t| t.trim().is_empty())
        {
            return Err(ParamError::new(
                "variants.zeroshot_topic_list",
                format!("zero-shot topic {i} (0-based) is empty: give each topic a name"),
            ));
        }
        for (i, seeds) in self.seed_topic_list.iter().enumerate() {
            if seeds.is_empty() || seeds.iter().any(|w| w.trim().is_empty()) {
                return Err(ParamError::new(
                    "variants.seed_topic_list",
                    format!(
                        "seed topic {i} (0-based) has no words or an empty word: give each seed \
                         topic one or more words"
                    ),
                ));
            }
        }
        if let Some(o) = &self.online {
            o.check()?;
        }
        if let Some(m) = &self.merged {
            let s = m.min_similarity;
            if !s.is_finite() || !(-1.0..=1.0).contains(&s) {
                return Err(ParamError::new(
                    "variants.merged.min_similarity",
                    format!("min_similarity must be a cosine similarity in [-1, 1] (got {s})"),
                ));
            }
        }
        Ok(())
    }
}
