//! Opt-in post-fit quality steps and the named presets built from them (issue #22, part 4).
//!
//! BERTopic offers several ways to improve a fitted model without touching UMAP or HDBSCAN:
//! assigning outliers to their nearest topic (`reduce_outliers`), merging similar topics
//! (`nr_topics="auto"`) and re-weighting c-TF-IDF (`bm25_weighting`,
//! `reduce_frequent_words`). [`PostFit`] names any combination of them; a [`QualityPreset`]
//! is a measured combination with a name. [`QualityPreset::Default`] is BERTopic's plain
//! pipeline and changes nothing.
//!
//! The candidates were measured on both shared corpora (arXiv 20k, State of the Union
//! 10,598) with three or more seeds by `examples/quality_presets.rs`; its results are
//! `tests/reference/quality-presets.json` and the README's quality section.

use ndarray::{Array2, Axis};
use serde::{Deserialize, Serialize};

use crate::cluster::{Clusterer, Hdbscan, HdbscanParams};
use crate::error::{BertopicError, Result};
use crate::model::{OutlierStrategy, TopicModel};

/// A named set of post-fit steps, chosen with `BertopicBuilder::quality` or
/// `bertopic train --quality`. Saved with the model (absent = `Default`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QualityPreset {
    /// BERTopic's pipeline as it is: no post-fit step.
    #[default]
    Default,
    /// The combination that raised c_v and NPMI and lowered the outlier share on both shared
    /// corpora at once (see [`QualityPreset::post_fit`] for the steps).
    Best,
}

impl QualityPreset {
    /// The post-fit steps of the preset.
    pub fn post_fit(self) -> PostFit {
        match self {
            QualityPreset::Default => PostFit::default(),
            // Embedding outlier reduction alone: the only step that raised c_v and NPMI and
            // lowered outliers on both shared corpora (NMI on arXiv rose too). The threshold
            // keeps documents unlike every topic (cosine < 0.5 to each centroid, ~1.5 %) as
            // outliers; 0.0 or 0.6 scored the same within the seed spread. bm25 helped on one
            // corpus only, `auto` merging lowered c_v on State of the Union, and
            // reduce_frequent_words lowered c_v and NPMI on both.
            QualityPreset::Best => PostFit {
                outliers: Some(OutlierReduction {
                    strategy: OutlierStrategy::Embeddings,
                    threshold: 0.5,
                }),
                ..PostFit::default()
            },
        }
    }

    /// The preset's name as the CLI spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            QualityPreset::Default => "default",
            QualityPreset::Best => "best",
        }
    }

    /// Whether this is BERTopic's plain pipeline (serde skips saving it, so models of the
    /// default pipeline are written exactly as before presets existed).
    pub fn is_default(&self) -> bool {
        *self == QualityPreset::Default
    }
}

impl std::fmt::Display for QualityPreset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for QualityPreset {
    type Err = BertopicError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "default" => Ok(QualityPreset::Default),
            "best" => Ok(QualityPreset::Best),
            other => Err(BertopicError::InvalidParams(format!(
                "unknown quality preset {other:?}: use \"default\" or \"best\""
            ))),
        }
    }
}

/// Outlier reduction: an outlier joins its most similar topic when the similarity reaches
/// `threshold` (BERTopic's `reduce_outliers` followed by `update_topics`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OutlierReduction {
    /// How similarity is measured.
    pub strategy: OutlierStrategy,
    /// Smallest similarity that moves an outlier; BERTopic's default 0 moves every one.
    pub threshold: f64,
}

/// Post-fit steps, applied in this order by [`TopicModel::apply_post_fit`]: c-TF-IDF
/// weighting, automatic topic merging, outlier reduction. All off by default.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct PostFit {
    /// c-TF-IDF's BM25-style idf (BERTopic `ClassTfidfTransformer(bm25_weighting=True)`).
    pub bm25_weighting: bool,
    /// Square-root term frequencies (BERTopic `reduce_frequent_words=True`).
    pub reduce_frequent_words: bool,
    /// Merge similar topics (BERTopic `nr_topics="auto"`: HDBSCAN with min_cluster_size 2 on
    /// the L2-normalised topic embeddings; topics in one cluster become one topic).
    pub merge_auto: bool,
    /// Assign outliers to topics.
    pub outliers: Option<OutlierReduction>,
}

impl PostFit {
    /// Whether no step is on.
    pub fn is_noop(&self) -> bool {
        *self == PostFit::default()
    }

    /// Checks the thresholds (finite; cosine similarities lie in [−1, 1]).
    pub fn check(&self) -> Result<()> {
        if let Some(o) = self.outliers {
            if !o.threshold.is_finite() || !(-1.0..=1.0).contains(&o.threshold) {
                return Err(BertopicError::InvalidParams(format!(
                    "outlier threshold must be a cosine similarity in [-1, 1] (got {})",
                    o.threshold
                )));
            }
        }
        Ok(())
    }
}

impl TopicModel {
    /// Applies `steps` to this fitted model (its training documents are needed to refit the
    /// topic words). Deterministic: no step draws random numbers.
    pub fn apply_post_fit(&mut self, docs: &[String], steps: &PostFit) -> Result<()> {
        steps.check()?;
        if steps.is_noop() {
            return Ok(());
        }
        self.check_training_docs("post-fit quality steps", docs)?;
        let ctfidf = &self.params.ctfidf;
        if (steps.bm25_weighting && !ctfidf.bm25_weighting)
            || (steps.reduce_frequent_words && !ctfidf.reduce_frequent_words)
        {
            let mut p = self.params.clone().into_inner();
            p.ctfidf.bm25_weighting |= steps.bm25_weighting;
            p.ctfidf.reduce_frequent_words |= steps.reduce_frequent_words;
            self.params = p.check()?;
            self.refresh_topics(docs)?;
        }
        if steps.merge_auto {
            self.reduce_topics_auto(docs)?;
        }
        if let Some(o) = steps.outliers {
            let topics = self.doc_topics.clone();
            let moved = self.reduce_outliers(docs, &topics, o.strategy, o.threshold, None)?;
            if moved != topics {
                self.update_topics(docs, &moved)?;
            }
        }
        Ok(())
    }

    /// Merges similar topics as BERTopic's `nr_topics="auto"` does: HDBSCAN
    /// (min_cluster_size 2, EOM) on the L2-normalised embeddings of the non-outlier topics;
    /// each cluster of topics becomes one topic, unclustered topics stay. Topics are then
    /// renumbered by size.
    pub fn reduce_topics_auto(&mut self, docs: &[String]) -> Result<()> {
        let rows = self.topic_embedding_rows();
        // HDBSCAN needs more points than its min_samples to find any structure.
        if rows.len() < 3 {
            return Ok(());
        }
        let te = self.topic_embeddings.select(Axis(0), &rows);
        let mut x: Array2<f64> = te.mapv(f64::from);
        for mut row in x.axis_iter_mut(Axis(0)) {
            let norm = row.dot(&row).sqrt();
            if norm > 0.0 {
                row /= norm;
            }
        }
        let hdbscan = Hdbscan::new(HdbscanParams {
            min_cluster_size: 2,
            ..HdbscanParams::default()
        })?;
        let fitted = hdbscan.fit(x.view())?;
        let mut groups: std::collections::BTreeMap<i64, Vec<i64>> = Default::default();
        for (k, &label) in fitted.labels().iter().enumerate() {
            if label >= 0 {
                groups
                    .entry(label)
                    .or_default()
                    .push(self.topics[rows[k]].id);
            }
        }
        let groups: Vec<Vec<i64>> = groups.into_values().filter(|g| g.len() > 1).collect();
        if groups.is_empty() {
            return Ok(());
        }
        self.merge_topics(docs, &groups)
    }
}
