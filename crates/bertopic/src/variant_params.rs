//! The variants' settings, kept apart from their code: [`BertopicParams`](crate::BertopicParams)
//! holds them, and the variants' code takes checked parameters, so neither module imports the
//! other.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ParamError;

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
    /// Set on a model made by [`merge_models`](crate::variants::merge_models): its inputs and
    /// topic mappings. Such a model assigns new documents to the topic with the most similar
    /// topic embedding (BERTopic's prediction for merged models), whatever the prediction
    /// strategy asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged: Option<MergeRecord>,
    /// Set on a model fitted batch by batch
    /// ([`OnlineTopicModel`](crate::variants::OnlineTopicModel)): incremental PCA, mini-batch
    /// k-means and decayed term counts. Such a model assigns new documents with its reduction
    /// and clustering (BERTopic's `transform` of an online model).
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

/// Settings of online topic modelling, with the values of BERTopic's online example
/// (`IncrementalPCA(n_components=5)`, `MiniBatchKMeans(n_clusters=50)`, no decay, no deletion).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct OnlineParams {
    /// Dimensions kept by the incremental PCA.
    pub n_components: usize,
    /// Topics: the clusters of the mini-batch k-means (the first batch needs this many docs).
    pub n_clusters: usize,
    /// Fraction of the running term counts forgotten at each batch (BERTopic `decay`), in [0, 1].
    pub decay: Option<f64>,
    /// After each batch, terms whose running count over all topics is below this leave the
    /// vocabulary (BERTopic `delete_min_df`); bounds the vocabulary.
    pub delete_min_df: Option<f64>,
    /// Mini-batch k-means' `reassignment_ratio` (sklearn default 0.01).
    pub reassignment_ratio: f64,
}

impl Default for OnlineParams {
    fn default() -> Self {
        OnlineParams {
            n_components: 5,
            n_clusters: 50,
            decay: None,
            delete_min_df: None,
            reassignment_ratio: 0.01,
        }
    }
}

impl OnlineParams {
    /// Checks the ranges (the stages check them again when built).
    pub fn check(&self) -> std::result::Result<(), ParamError> {
        if self.n_components < 1 {
            return Err(ParamError::new(
                "variants.online.n_components",
                "n_components must be at least 1",
            ));
        }
        if self.n_clusters < 1 {
            return Err(ParamError::new(
                "variants.online.n_clusters",
                "n_clusters (the number of topics) must be at least 1",
            ));
        }
        if let Some(d) = self.decay {
            if !d.is_finite() || !(0.0..=1.0).contains(&d) {
                return Err(ParamError::new(
                    "variants.online.decay",
                    format!("decay must be in [0, 1] (got {d})"),
                ));
            }
        }
        if let Some(m) = self.delete_min_df {
            if !m.is_finite() || m < 0.0 {
                return Err(ParamError::new(
                    "variants.online.delete_min_df",
                    format!("delete_min_df must be a count ≥ 0 (got {m})"),
                ));
            }
        }
        let r = self.reassignment_ratio;
        if !r.is_finite() || !(0.0..=1.0).contains(&r) {
            return Err(ParamError::new(
                "variants.online.reassignment_ratio",
                format!("reassignment_ratio must be in [0, 1] (got {r})"),
            ));
        }
        Ok(())
    }
}

/// What [`merge_models`](crate::variants::merge_models) recorded in the merged model's parameters.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MergeRecord {
    /// The threshold the models were merged with.
    pub min_similarity: f64,
    /// One entry per input model, in merge order (the first is the base).
    pub inputs: Vec<MergedInput>,
}

/// One input model of a merge.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MergedInput {
    /// Its training documents, which follow those of the models before it in the merged model.
    pub n_documents: usize,
    /// Its topic ids → the merged model's topic ids (−1 → −1).
    pub mapping: BTreeMap<i64, i64>,
}
