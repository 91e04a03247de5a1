//! Topic drift: keyword Jaccard per topic (re-represent mode) or optimal matching of two topic
//! sets (refit mode).

use crate::assignment::max_weight_assignment;
use crate::config::{DriftConfig, SimilarityChoice};
use crate::error::{finite, DriftError, Result, Side};
use crate::level::{Check, Level};
use ndarray::Array2;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

const SIGNAL: &str = "topic drift";

/// Jaccard index `|A ∩ B| / |A ∪ B|` of two word lists taken as sets (duplicates ignored).
///
/// `None` when both lists are empty (the index is undefined there).
///
/// ```
/// let a = ["tax", "budget", "deficit"];
/// let b = ["tax", "budget", "vaccine", "virus"];
/// assert_eq!(bertopic_drift::jaccard(&a, &b), Some(2.0 / 5.0));
/// ```
pub fn jaccard<A: AsRef<str>, B: AsRef<str>>(a: &[A], b: &[B]) -> Option<f64> {
    let a: HashSet<&str> = a.iter().map(AsRef::as_ref).collect();
    let b: HashSet<&str> = b.iter().map(AsRef::as_ref).collect();
    let union = a.union(&b).count();
    if union == 0 {
        return None;
    }
    Some(a.intersection(&b).count() as f64 / union as f64)
}

/// One topic in re-represent mode: its training top words and the top words recomputed from
/// the batch documents assigned to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicKeywords {
    /// Topic id (stable, since the model is not refitted).
    pub topic: i64,
    /// Top-n words of the topic in the trained model.
    pub training_words: Vec<String>,
    /// Top-n words recomputed (e.g. c-TF-IDF) from this topic's batch documents.
    pub batch_words: Vec<String>,
    /// Number of batch documents assigned to the topic.
    pub batch_docs: usize,
    /// The Jaccard this topic shows without drift at `batch_docs` documents, when known (see
    /// [`keyword_drift`]); `None` for the fixed thresholds.
    #[serde(default)]
    pub null: Option<JaccardNull>,
}

/// The Jaccard of a topic's training words and words recomputed from `c` documents of the
/// training distribution: mean and standard deviation over resamples. Small `c` gives low
/// overlap without any drift (a few abstracts do not reproduce a topic's top-10 words), so this
/// is what a batch's Jaccard is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct JaccardNull {
    /// Mean Jaccard without drift.
    pub mean: f64,
    /// Its standard deviation.
    pub sd: f64,
}

/// What the scored topics' weighted mean Jaccard would be without drift (from their
/// [`JaccardNull`]s).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KeywordNull {
    /// Expected weighted mean: `Σ wₜ · meanₜ`.
    pub expected: f64,
    /// Its standard deviation `sqrt(Σ wₜ² · sdₜ²)` (topics resampled independently).
    pub sd: f64,
    /// One-sided normal p-value of the observed mean: `Φ((observed − expected) / sd)`.
    pub p_value: f64,
    /// `observed / expected`: 1 without drift; the seed's 0.6 / 0.4 apply to this ratio.
    pub relative: f64,
}

/// Jaccard of one scored topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicJaccard {
    /// Topic id.
    pub topic: i64,
    /// Jaccard of its training and batch words.
    pub jaccard: f64,
    /// Batch documents in the topic.
    pub batch_docs: usize,
    /// Weight in the mean: the topic's share of the scored batch documents.
    pub weight: f64,
}

/// Why a topic was left out of the keyword mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotScoredReason {
    /// Fewer batch documents than `min_docs_per_topic`.
    TooFewDocs,
    /// The outlier topic (its words describe leftovers, not a subject).
    OutlierTopic,
    /// Both word lists are empty.
    NoWords,
    /// Other topics have a null but this one has none (too few training documents to
    /// resample at this size), so its Jaccard cannot be judged.
    NoNull,
}

/// A topic left out of the keyword mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotScored {
    /// Topic id.
    pub topic: i64,
    /// Batch documents in the topic.
    pub batch_docs: usize,
    /// Why it was left out.
    pub reason: NotScoredReason,
}

/// Result of keyword drift in re-represent mode ([`keyword_drift`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeywordDrift {
    /// Batch-share-weighted mean Jaccard over the scored topics, with thresholds; `None` when no
    /// topic could be scored.
    pub mean_jaccard: Option<Check>,
    /// Level of the signal (LOW when nothing was scored).
    pub level: Level,
    /// The `min_docs_per_topic` used.
    pub min_docs_per_topic: usize,
    /// Scored topics, by id.
    pub scored: Vec<TopicJaccard>,
    /// Topics not scored, by id.
    pub not_scored: Vec<NotScored>,
    /// The no-drift expectation the thresholds came from; `None` with fixed thresholds.
    #[serde(default)]
    pub null: Option<KeywordNull>,
}

impl KeywordDrift {
    /// Reason strings when the level is above LOW.
    pub fn reasons(&self) -> Vec<String> {
        self.mean_jaccard
            .and_then(|c| c.describe("weighted mean keyword Jaccard"))
            .map(|d| match &self.null {
                Some(n) => format!(
                    "topic drift: {d} (re-represented top words, {} topic(s) scored; {} expected \
                     without drift at these sizes, p = {})",
                    self.scored.len(),
                    crate::level::num(n.expected),
                    crate::level::num(n.p_value)
                ),
                None => format!(
                    "topic drift: {d} (re-represented top words, {} topic(s) scored)",
                    self.scored.len()
                ),
            })
            .into_iter()
            .collect()
    }

    /// Informational notes (topics not scored).
    pub fn notes(&self) -> Vec<String> {
        let few = self
            .not_scored
            .iter()
            .filter(|t| t.reason == NotScoredReason::TooFewDocs)
            .count();
        let mut notes = Vec::new();
        if self.scored.is_empty() {
            notes.push(format!(
                "topic drift: no topic had {} or more batch documents with words; not scored",
                self.min_docs_per_topic
            ));
        } else if few > 0 {
            notes.push(format!(
                "topic drift: {few} topic(s) with fewer than {} batch documents not scored",
                self.min_docs_per_topic
            ));
        }
        let no_null = self
            .not_scored
            .iter()
            .filter(|t| t.reason == NotScoredReason::NoNull)
            .count();
        if no_null > 0 {
            notes.push(format!(
                "topic drift: {no_null} topic(s) without a no-drift baseline at their batch size \
                 (too few training documents to resample) not scored"
            ));
        }
        notes
    }
}

/// Keyword drift in re-represent mode: per topic, Jaccard of the training top words and the
/// top words recomputed on the batch; the mean weighted by each topic's share of the scored
/// batch documents.
///
/// Topics with fewer than `config.topic.min_docs_per_topic` batch documents, the outlier topic
/// (`config.outlier_topic`) and topics with no words on either side are listed in
/// [`KeywordDrift::not_scored`].
///
/// **Fixed thresholds** (no topic has a [`JaccardNull`]): mean `< config.topic.high_below` is
/// HIGH, `< medium_below` MEDIUM. These assume that a batch without drift reproduces the
/// training words (Jaccard near 1); a batch with tens of documents per topic does not.
///
/// **Size-aware thresholds** (topics carry a [`JaccardNull`] for their batch count; topics
/// without one are then not scored, [`NotScoredReason::NoNull`]). Without drift the weighted
/// mean is about normal with mean `E = Σ wₜ meanₜ` and deviation `S = sqrt(Σ wₜ² sdₜ²)`. A level
/// needs the mean to be both **significant**, below `E − z(p_medium) · S` (one-sided normal
/// p-value at most `p_medium`; `p_high` for HIGH), and **large**, below `medium_below · E`
/// (`high_below · E`): the seed's thresholds applied to the overlap relative to what the batch
/// could show without drift. The reported thresholds are the lower of the two.
///
/// # Errors
/// Empty topic list, duplicate topic ids, no batch document in any topic, invalid config.
pub fn keyword_drift(topics: &[TopicKeywords], config: &DriftConfig) -> Result<KeywordDrift> {
    let cfg = &config.topic;
    cfg.validate()?;
    if topics.is_empty() {
        return Err(DriftError::EmptyTraining {
            signal: SIGNAL,
            what: "no topics were passed",
        });
    }
    let mut sorted: Vec<&TopicKeywords> = topics.iter().collect();
    sorted.sort_by_key(|t| t.topic);
    if let Some(w) = sorted.windows(2).find(|w| w[0].topic == w[1].topic) {
        return Err(DriftError::DuplicateTopic {
            signal: SIGNAL,
            side: Side::Training,
            topic: w[0].topic,
        });
    }
    if sorted.iter().all(|t| t.batch_docs == 0) {
        return Err(DriftError::EmptyBatch {
            signal: SIGNAL,
            what: "no batch document is assigned to any topic",
        });
    }

    let null_mode = sorted
        .iter()
        .any(|t| t.null.is_some() && config.outlier_topic != Some(t.topic));
    for t in &sorted {
        if let Some(n) = &t.null {
            if !(n.mean.is_finite()
                && n.sd.is_finite()
                && (0.0..=1.0).contains(&n.mean)
                && n.sd >= 0.0)
            {
                return Err(DriftError::OutOfRange {
                    what: format!("the no-drift Jaccard of topic {}", t.topic),
                    problem: format!(
                        "mean {} and sd {}; the mean must be in [0, 1] and the sd finite and >= 0",
                        n.mean, n.sd
                    ),
                });
            }
        }
    }
    let mut scored = Vec::new();
    let mut nulls = Vec::new();
    let mut not_scored = Vec::new();
    for t in sorted {
        let skip = |reason| NotScored {
            topic: t.topic,
            batch_docs: t.batch_docs,
            reason,
        };
        if config.outlier_topic == Some(t.topic) {
            not_scored.push(skip(NotScoredReason::OutlierTopic));
        } else if t.batch_docs < cfg.min_docs_per_topic {
            not_scored.push(skip(NotScoredReason::TooFewDocs));
        } else if null_mode && t.null.is_none() {
            not_scored.push(skip(NotScoredReason::NoNull));
        } else if let Some(j) = jaccard(&t.training_words, &t.batch_words) {
            nulls.push(t.null);
            scored.push(TopicJaccard {
                topic: t.topic,
                jaccard: j,
                batch_docs: t.batch_docs,
                weight: 0.0,
            });
        } else {
            not_scored.push(skip(NotScoredReason::NoWords));
        }
    }

    let total: usize = scored.iter().map(|t| t.batch_docs).sum();
    let mut mean = 0.0f64;
    for t in &mut scored {
        t.weight = t.batch_docs as f64 / total as f64;
        mean += t.weight * t.jaccard;
    }
    let mut null = None;
    let mean_jaccard = (!scored.is_empty()).then(|| {
        if !null_mode {
            return Check::below(mean, cfg.medium_below, cfg.high_below);
        }
        let (mut expected, mut var) = (0.0f64, 0.0f64);
        for (t, n) in scored.iter().zip(&nulls) {
            let n = n.expect("null mode scores only topics with a null");
            expected += t.weight * n.mean;
            var += t.weight * t.weight * n.sd * n.sd;
        }
        let sd = var.sqrt();
        let p_value = if sd > 0.0 {
            normal_cdf((mean - expected) / sd)
        } else if mean < expected {
            0.0
        } else {
            1.0
        };
        null = Some(KeywordNull {
            expected,
            sd,
            p_value,
            relative: if expected > 0.0 { mean / expected } else { 1.0 },
        });
        let threshold = |relative: f64, p: f64| {
            (expected - normal_quantile(1.0 - p) * sd).min(relative * expected)
        };
        Check::below(
            mean,
            threshold(cfg.medium_below, cfg.p_medium),
            threshold(cfg.high_below, cfg.p_high),
        )
    });
    Ok(KeywordDrift {
        level: mean_jaccard.map_or(Level::Low, |c| c.level),
        mean_jaccard,
        min_docs_per_topic: cfg.min_docs_per_topic,
        scored,
        not_scored,
        null,
    })
}

/// Standard normal CDF, `Φ(x) = erfc(−x / √2) / 2`, with erfc from the Chebyshev fit of
/// Numerical Recipes (`erfcc`, relative error below 1.2e-7 everywhere), ample for a p-value.
pub(crate) fn normal_cdf(x: f64) -> f64 {
    let z = -x / std::f64::consts::SQRT_2;
    let a = z.abs();
    let t = 1.0 / (1.0 + 0.5 * a);
    let poly = -a * a - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    0.5 * if z >= 0.0 { erfc } else { 2.0 - erfc }
}

/// `Φ⁻¹(q)` for `q` in `(0, 1)`, by bisection on [`normal_cdf`] (thresholds are computed once
/// per report, so 100 halvings cost nothing).
pub(crate) fn normal_quantile(q: f64) -> f64 {
    let (mut lo, mut hi) = (-40.0f64, 40.0f64);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if normal_cdf(mid) < q {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// One topic of a topic set in matching mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicSummary {
    /// Topic id within its own set (ids of the two sets are unrelated).
    pub id: i64,
    /// Top-n words.
    pub words: Vec<String>,
    /// Topic embedding (e.g. the centroid of its documents' embeddings), if available.
    pub embedding: Option<Vec<f32>>,
    /// Number of documents in the topic (its weight).
    pub size: usize,
}

/// The similarity a matching used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Similarity {
    /// Jaccard of word sets.
    Jaccard,
    /// Cosine of topic embeddings.
    Cosine,
}

/// A matched training/batch topic pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchedTopic {
    /// Training topic id.
    pub training_topic: i64,
    /// Batch topic id.
    pub batch_topic: i64,
    /// Their similarity.
    pub similarity: f64,
}

/// Result of topic matching in refit mode ([`match_topics`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicMatching {
    /// The similarity used.
    pub similarity: Similarity,
    /// Pairs below this similarity count as unmatched.
    pub min_similarity: f64,
    /// Share-weighted similarity `Σ_matched sim · (share_training + share_batch) / 2`, where
    /// unmatched topics count as 0; 1 means identical topic sets. With thresholds.
    pub weighted_similarity: Check,
    /// Level of the signal.
    pub level: Level,
    /// Matched pairs, by training id.
    pub matched: Vec<MatchedTopic>,
    /// Training topics without a match, by id.
    pub vanished: Vec<i64>,
    /// Batch topics without a match, by id.
    pub new: Vec<i64>,
}

impl TopicMatching {
    /// Reason strings when the level is above LOW.
    pub fn reasons(&self) -> Vec<String> {
        let name = match self.similarity {
            Similarity::Jaccard => "share-weighted matched Jaccard",
            Similarity::Cosine => "share-weighted matched cosine",
        };
        self.weighted_similarity
            .describe(name)
            .map(|d| {
                format!(
                    "topic drift: {d} ({} matched, {} vanished, {} new topic(s))",
                    self.matched.len(),
                    self.vanished.len(),
                    self.new.len()
                )
            })
            .into_iter()
            .collect()
    }

    /// Informational notes (vanished and new topics when the level is LOW).
    pub fn notes(&self) -> Vec<String> {
        if self.level == Level::Low && (!self.vanished.is_empty() || !self.new.is_empty()) {
            vec![format!(
                "topic drift: {} vanished and {} new topic(s) in the refit",
                self.vanished.len(),
                self.new.len()
            )]
        } else {
            Vec::new()
        }
    }
}

/// Topic drift in refit mode: matches training topics to batch topics one-to-one by an optimal
/// assignment ([`max_weight_assignment`]) that maximises the total similarity.
///
/// Similarity: cosine of topic embeddings when `config.topic.similarity` is `Cosine`, or `Auto`
/// and every topic on both sides has an embedding; Jaccard of words otherwise. Similarities
/// below the minimum (`min_jaccard` / `min_cosine`) are zeroed before the assignment, so it never
/// spends a topic on a pair that would not count, and such pairs are reported as unmatched:
/// training topics as vanished, batch topics as new. The outlier topic is skipped on both
/// sides. Topic sizes weight the score; a side whose sizes are all 0 is weighted uniformly.
///
/// # Errors
/// Empty side (after dropping the outlier topic), duplicate ids, missing or mismatched
/// embeddings when cosine is forced, non-finite embeddings, invalid config.
pub fn match_topics(
    training: &[TopicSummary],
    batch: &[TopicSummary],
    config: &DriftConfig,
) -> Result<TopicMatching> {
    let cfg = &config.topic;
    cfg.validate()?;
    let training = prepare_side(training, Side::Training, config.outlier_topic)?;
    let batch = prepare_side(batch, Side::Batch, config.outlier_topic)?;

    let all_have_embeddings = training
        .iter()
        .chain(batch.iter())
        .all(|t| t.embedding.is_some());
    let similarity = match cfg.similarity {
        SimilarityChoice::Jaccard => Similarity::Jaccard,
        SimilarityChoice::Cosine => Similarity::Cosine,
        SimilarityChoice::Auto if all_have_embeddings => Similarity::Cosine,
        SimilarityChoice::Auto => Similarity::Jaccard,
    };
    let (min_similarity, medium, high) = match similarity {
        Similarity::Jaccard => (cfg.min_jaccard, cfg.medium_below, cfg.high_below),
        Similarity::Cosine => (
            cfg.min_cosine,
            cfg.cosine_medium_below,
            cfg.cosine_high_below,
        ),
    };

    let sim = match similarity {
        Similarity::Jaccard => Array2::from_shape_fn((training.len(), batch.len()), |(i, j)| {
            jaccard(&training[i].words, &batch[j].words).unwrap_or(0.0)
        }),
        Similarity::Cosine => cosine_matrix(&training, &batch)?,
    };
    // Below-minimum pairs are worth nothing, so the assignment is free to leave them out.
    let gated = sim.mapv(|s| if s >= min_similarity { s } else { 0.0 });
    let assignment = max_weight_assignment(gated.view())?;

    let w_train = shares(&training);
    let w_batch = shares(&batch);
    let mut matched = Vec::new();
    let mut batch_matched = vec![false; batch.len()];
    let mut vanished = Vec::new();
    let mut score = 0.0f64;
    for (i, col) in assignment.iter().enumerate() {
        match col {
            Some(j) if sim[[i, *j]] >= min_similarity => {
                let s = sim[[i, *j]];
                batch_matched[*j] = true;
                score += s * (w_train[i] + w_batch[*j]) / 2.0;
                matched.push(MatchedTopic {
                    training_topic: training[i].id,
                    batch_topic: batch[*j].id,
                    similarity: s,
                });
            }
            _ => vanished.push(training[i].id),
        }
    }
    let new: Vec<i64> = batch
        .iter()
        .zip(&batch_matched)
        .filter(|(_, m)| !**m)
        .map(|(t, _)| t.id)
        .collect();
    let weighted_similarity = Check::below(score, medium, high);
    Ok(TopicMatching {
        similarity,
        min_similarity,
        level: weighted_similarity.level,
        weighted_similarity,
        matched,
        vanished,
        new,
    })
}

/// Drops the outlier topic, sorts by id, rejects empty sides and duplicate ids.
fn prepare_side(
    topics: &[TopicSummary],
    side: Side,
    outlier: Option<i64>,
) -> Result<Vec<&TopicSummary>> {
    let mut v: Vec<&TopicSummary> = topics.iter().filter(|t| Some(t.id) != outlier).collect();
    if v.is_empty() {
        let what = "no topics besides the outlier topic";
        return Err(match side {
            Side::Training => DriftError::EmptyTraining {
                signal: SIGNAL,
                what,
            },
            Side::Batch => DriftError::EmptyBatch {
                signal: SIGNAL,
                what,
            },
        });
    }
    v.sort_by_key(|t| t.id);
    if let Some(w) = v.windows(2).find(|w| w[0].id == w[1].id) {
        return Err(DriftError::DuplicateTopic {
            signal: SIGNAL,
            side,
            topic: w[0].id,
        });
    }
    Ok(v)
}

/// Size shares of a side, uniform when all sizes are 0.
fn shares(topics: &[&TopicSummary]) -> Vec<f64> {
    let total: usize = topics.iter().map(|t| t.size).sum();
    if total == 0 {
        return vec![1.0 / topics.len() as f64; topics.len()];
    }
    topics
        .iter()
        .map(|t| t.size as f64 / total as f64)
        .collect()
}

/// Cosine similarities (f64), after checking presence, dimensions and finiteness.
fn cosine_matrix(training: &[&TopicSummary], batch: &[&TopicSummary]) -> Result<Array2<f64>> {
    let mut dim = None;
    let mut unit = |topics: &[&TopicSummary], side: Side| -> Result<Vec<Vec<f64>>> {
        topics
            .iter()
            .map(|t| {
                let e = t
                    .embedding
                    .as_ref()
                    .ok_or(DriftError::MissingTopicEmbedding { side, topic: t.id })?;
                let expected = *dim.get_or_insert(e.len());
                if e.len() != expected {
                    return Err(DriftError::TopicEmbeddingDimension {
                        side,
                        topic: t.id,
                        expected,
                        found: e.len(),
                    });
                }
                let v: Vec<f64> = e.iter().map(|&x| f64::from(x)).collect();
                for x in &v {
                    finite(
                        *x,
                        &format!("{side} topic embeddings"),
                        &format!("topic {}", t.id),
                    )?;
                }
                let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
                // A zero vector has no direction: it gets similarity 0 to everything.
                Ok(if norm > 0.0 {
                    v.iter().map(|x| x / norm).collect()
                } else {
                    v
                })
            })
            .collect()
    };
    let a = unit(training, Side::Training)?;
    let b = unit(batch, Side::Batch)?;
    Ok(Array2::from_shape_fn((a.len(), b.len()), |(i, j)| {
        let dot: f64 = a[i].iter().zip(&b[j]).map(|(x, y)| x * y).sum();
        dot.clamp(-1.0, 1.0)
    }))
}

/// Keyword drift in either mode, as stored in the report (`"mode"` tells which).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum TopicDrift {
    /// Re-represent mode ([`keyword_drift`]).
    ReRepresent(KeywordDrift),
    /// Refit / matching mode ([`match_topics`]).
    Matching(TopicMatching),
}

impl TopicDrift {
    /// Level of the signal.
    pub fn level(&self) -> Level {
        match self {
            TopicDrift::ReRepresent(k) => k.level,
            TopicDrift::Matching(m) => m.level,
        }
    }

    /// Reason strings when the level is above LOW.
    pub fn reasons(&self) -> Vec<String> {
        match self {
            TopicDrift::ReRepresent(k) => k.reasons(),
            TopicDrift::Matching(m) => m.reasons(),
        }
    }

    /// Informational notes.
    pub fn notes(&self) -> Vec<String> {
        match self {
            TopicDrift::ReRepresent(k) => k.notes(),
            TopicDrift::Matching(m) => m.notes(),
        }
    }
}

impl From<KeywordDrift> for TopicDrift {
    fn from(k: KeywordDrift) -> Self {
        TopicDrift::ReRepresent(k)
    }
}

impl From<TopicMatching> for TopicDrift {
    fn from(m: TopicMatching) -> Self {
        TopicDrift::Matching(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn kw(topic: i64, train: &str, batch: &str, docs: usize) -> TopicKeywords {
        TopicKeywords {
            topic,
            training_words: words(train),
            batch_words: words(batch),
            batch_docs: docs,
            null: None,
        }
    }

    fn with_null(mut k: TopicKeywords, mean: f64, sd: f64) -> TopicKeywords {
        k.null = Some(JaccardNull { mean, sd });
        k
    }

    #[test]
    fn normal_cdf_and_quantile_hand_values() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        // Φ(1.959964) = 0.975, Φ(−2.326348) = 0.01, Φ(3.090232) = 0.999 (tables).
        assert!((normal_cdf(1.959_964) - 0.975).abs() < 1e-6);
        assert!((normal_cdf(-2.326_348) - 0.01).abs() < 1e-7);
        assert!((normal_quantile(0.99) - 2.326_348).abs() < 1e-4);
        assert!((normal_quantile(0.999) - 3.090_232).abs() < 1e-4);
        assert!((normal_quantile(0.5)).abs() < 1e-6);
    }

    #[test]
    fn null_mode_judges_the_mean_against_what_no_drift_gives() {
        let c = config(10);
        // Topic 0: J = 1/7 (a b c d vs a e f g), null 0.3 ± 0.05; topic 1: J = 2/6 = 1/3,
        // null 0.35 ± 0.05. Weights 0.5 / 0.5: mean 0.238095, E = 0.325,
        // S = sqrt(0.25·0.0025 + 0.25·0.0025) = 0.0353553, z = −2.45902, p = 0.006965.
        let topics = vec![
            with_null(kw(0, "a b c d", "a e f g", 20), 0.3, 0.05),
            with_null(kw(1, "p q r s", "p q t u", 20), 0.35, 0.05),
        ];
        let k = keyword_drift(&topics, &c).unwrap();
        let n = k.null.unwrap();
        assert!((n.expected - 0.325).abs() < 1e-12);
        assert!((n.sd - 0.035_355_34).abs() < 1e-8);
        assert!((n.p_value - 0.006_965).abs() < 2e-5, "{}", n.p_value);
        assert!((n.relative - 0.238_095_2 / 0.325).abs() < 1e-6);
        let m = k.mean_jaccard.unwrap();
        // MEDIUM threshold: min(0.325 − 2.326348 · 0.0353553, 0.6 · 0.325) = min(0.242751, 0.195)
        // = 0.195: the mean 0.238 is significant (p < 0.01) but not a 40% drop: LOW.
        assert!((m.medium - 0.195).abs() < 1e-9, "{}", m.medium);
        assert!((m.high - 0.13).abs() < 1e-9, "{}", m.high);
        assert_eq!(k.level, Level::Low);
        // The same Jaccards with the fixed seed thresholds are HIGH (< 0.4).
        let fixed = keyword_drift(
            &[
                kw(0, "a b c d", "a e f g", 20),
                kw(1, "p q r s", "p q t u", 20),
            ],
            &c,
        )
        .unwrap();
        assert_eq!(fixed.level, Level::High);
        assert!(fixed.null.is_none());

        // Both topics lost every word: mean 0, p ≈ 0 and 0 < 0.4 · E: HIGH, with the expectation
        // in the reason.
        let gone = vec![
            with_null(kw(0, "a b c d", "w x y z", 20), 0.3, 0.05),
            with_null(kw(1, "p q r s", "k l m n", 20), 0.35, 0.05),
        ];
        let k = keyword_drift(&gone, &c).unwrap();
        assert_eq!(k.level, Level::High);
        assert!(
            k.reasons()[0].contains("0.325 expected without drift"),
            "{:?}",
            k.reasons()
        );
    }

    #[test]
    fn null_mode_leaves_out_topics_without_a_null() {
        let topics = vec![
            with_null(kw(0, "a b", "a b", 20), 0.5, 0.1),
            kw(1, "c d", "e f", 30),
        ];
        let k = keyword_drift(&topics, &config(10)).unwrap();
        assert_eq!(k.scored.len(), 1);
        assert_eq!(k.not_scored[0].reason, NotScoredReason::NoNull);
        assert_eq!(k.level, Level::Low);
        assert!(k
            .notes()
            .iter()
            .any(|n| n.contains("without a no-drift baseline")));
        let bad = vec![with_null(kw(0, "a", "a", 20), f64::NAN, 0.1)];
        assert!(matches!(
            keyword_drift(&bad, &config(10)),
            Err(DriftError::OutOfRange { .. })
        ));
    }

    fn config(min_docs: usize) -> DriftConfig {
        let mut c = DriftConfig::default();
        c.topic.min_docs_per_topic = min_docs;
        c
    }

    #[test]
    fn jaccard_hand_values() {
        assert_eq!(jaccard(&words("a b c"), &words("a b c")), Some(1.0));
        assert_eq!(jaccard(&words("a b"), &words("c d")), Some(0.0));
        assert_eq!(
            jaccard(&words("a b c d"), &words("c d e f")),
            Some(2.0 / 6.0)
        );
        // Duplicates are ignored: {a, b} vs {a}.
        assert_eq!(jaccard(&words("a a b"), &words("a")), Some(0.5));
        assert_eq!(jaccard(&words(""), &words("a")), Some(0.0));
        assert_eq!(jaccard::<String, String>(&[], &[]), None);
    }

    #[test]
    fn keyword_mean_is_weighted_by_batch_share() {
        // Topic 0: J = 1 (30 docs), topic 1: J = 2/6 (10 docs), topic 2: J = 0 but 3 docs (< 5),
        // outlier -1 skipped. Mean = (30·1 + 10·(1/3)) / 40 = 0.8333.
        let topics = vec![
            kw(1, "a b c d", "c d e f", 10),
            kw(0, "x y z", "z y x", 30),
            kw(2, "p q", "r s", 3),
            kw(-1, "the of", "the and", 50),
        ];
        let k = keyword_drift(&topics, &config(5)).unwrap();
        let mean = k.mean_jaccard.unwrap();
        assert!((mean.value - (30.0 + 10.0 / 3.0) / 40.0).abs() < 1e-12);
        assert_eq!(k.level, Level::Low);
        assert_eq!(
            k.scored.iter().map(|t| t.topic).collect::<Vec<_>>(),
            vec![0, 1]
        );
        assert!((k.scored[0].weight - 0.75).abs() < 1e-12);
        assert_eq!(
            k.not_scored,
            vec![
                NotScored {
                    topic: -1,
                    batch_docs: 50,
                    reason: NotScoredReason::OutlierTopic
                },
                NotScored {
                    topic: 2,
                    batch_docs: 3,
                    reason: NotScoredReason::TooFewDocs
                },
            ]
        );
        assert!(k.reasons().is_empty());
        assert_eq!(k.notes().len(), 1);
    }

    #[test]
    fn keyword_levels_follow_the_seed_thresholds() {
        // J = 2/4 = 0.5 -> MEDIUM (< 0.6, >= 0.4).
        let k = keyword_drift(&[kw(0, "a b c", "a b d", 10)], &config(1)).unwrap();
        assert_eq!(k.level, Level::Medium);
        assert_eq!(
            k.reasons(),
            vec![
                "topic drift: weighted mean keyword Jaccard 0.5 < 0.6 (re-represented top words, 1 topic(s) scored)"
                    .to_string()
            ]
        );
        // J = 1/5 = 0.2 -> HIGH.
        let k = keyword_drift(&[kw(0, "a b c", "a d e", 10)], &config(1)).unwrap();
        assert_eq!(k.level, Level::High);
        assert!((k.mean_jaccard.unwrap().value - 0.2).abs() < 1e-12);
    }

    #[test]
    fn keyword_nothing_scored_is_low_with_a_note() {
        let k = keyword_drift(&[kw(0, "a", "b", 2), kw(1, "", "", 20)], &config(5)).unwrap();
        assert_eq!(k.mean_jaccard, None);
        assert_eq!(k.level, Level::Low);
        assert_eq!(k.not_scored[1].reason, NotScoredReason::NoWords);
        assert!(k.notes()[0].contains("not scored"));
    }

    #[test]
    fn keyword_bad_inputs_are_errors() {
        assert!(matches!(
            keyword_drift(&[], &config(5)),
            Err(DriftError::EmptyTraining { .. })
        ));
        assert!(matches!(
            keyword_drift(&[kw(0, "a", "a", 0)], &config(5)),
            Err(DriftError::EmptyBatch { .. })
        ));
        assert!(matches!(
            keyword_drift(&[kw(3, "a", "a", 9), kw(3, "b", "b", 9)], &config(5)),
            Err(DriftError::DuplicateTopic { topic: 3, .. })
        ));
    }

    fn summary(id: i64, w: &str, size: usize, emb: Option<Vec<f32>>) -> TopicSummary {
        TopicSummary {
            id,
            words: words(w),
            embedding: emb,
            size,
        }
    }

    #[test]
    fn matching_by_jaccard_reports_pairs_vanished_and_new() {
        let training = vec![
            summary(0, "tax budget deficit spend", 50, None),
            summary(1, "war army troops peace", 30, None),
            summary(2, "farm crop wheat corn", 20, None),
            summary(-1, "the of and", 99, None),
        ];
        let batch = vec![
            summary(10, "army troops peace navy", 40, None), // J with 1 = 3/5
            summary(11, "tax budget spend debt", 40, None),  // J with 0 = 3/5
            summary(12, "virus vaccine mask health", 20, None),
        ];
        let m = match_topics(&training, &batch, &DriftConfig::default()).unwrap();
        assert_eq!(m.similarity, Similarity::Jaccard);
        assert_eq!(
            m.matched,
            vec![
                MatchedTopic {
                    training_topic: 0,
                    batch_topic: 11,
                    similarity: 0.6
                },
                MatchedTopic {
                    training_topic: 1,
                    batch_topic: 10,
                    similarity: 0.6
                },
            ]
        );
        assert_eq!(m.vanished, vec![2]);
        assert_eq!(m.new, vec![12]);
        // Shares: training 0.5, 0.3, 0.2; batch 0.4, 0.4, 0.2.
        // Score = 0.6·(0.5+0.4)/2 + 0.6·(0.3+0.4)/2 = 0.27 + 0.21 = 0.48 -> MEDIUM.
        assert!((m.weighted_similarity.value - 0.48).abs() < 1e-12);
        assert_eq!(m.level, Level::Medium);
        assert!(m.reasons()[0].contains("2 matched, 1 vanished, 1 new"));
    }

    #[test]
    fn matching_identical_sets_scores_one() {
        let t = vec![summary(0, "a b", 5, None), summary(1, "c d", 5, None)];
        let m = match_topics(&t, &t, &DriftConfig::default()).unwrap();
        assert!((m.weighted_similarity.value - 1.0).abs() < 1e-12);
        assert_eq!(m.level, Level::Low);
        assert!(m.vanished.is_empty() && m.new.is_empty());
    }

    #[test]
    fn matching_pairs_below_minimum_are_unmatched() {
        // J = 1/19 < 0.1: no match although the assignment could pair them.
        let training = vec![summary(0, "a b c d e f g h i j", 1, None)];
        let batch = vec![summary(0, "a k l m n o p q r s", 1, None)];
        let m = match_topics(&training, &batch, &DriftConfig::default()).unwrap();
        assert!(m.matched.is_empty());
        assert_eq!((m.vanished.clone(), m.new.clone()), (vec![0], vec![0]));
        assert_eq!(m.weighted_similarity.value, 0.0);
        assert_eq!(m.level, Level::High);
    }

    #[test]
    fn matching_uses_cosine_when_all_topics_have_embeddings() {
        let training = vec![
            summary(0, "a", 1, Some(vec![1.0, 0.0])),
            summary(1, "b", 1, Some(vec![0.0, 1.0])),
        ];
        let batch = vec![
            summary(5, "x", 1, Some(vec![0.0, 2.0])),
            summary(6, "y", 1, Some(vec![3.0, 4.0])),
        ];
        let m = match_topics(&training, &batch, &DriftConfig::default()).unwrap();
        assert_eq!(m.similarity, Similarity::Cosine);
        // Options: 0-6 (0.6) + 1-5 (1.0) = 1.6 vs 0-5 (0) + 1-6 (0.8) = 0.8.
        assert_eq!(m.matched.len(), 2);
        assert_eq!(
            (m.matched[0].training_topic, m.matched[0].batch_topic),
            (0, 6)
        );
        assert!((m.matched[0].similarity - 0.6).abs() < 1e-7);
        assert_eq!(
            (m.matched[1].training_topic, m.matched[1].batch_topic),
            (1, 5)
        );
        // Score = (0.6 + 1.0) / 2 = 0.8 -> not below 0.8: LOW (within f32 rounding).
        assert!((m.weighted_similarity.value - 0.8).abs() < 1e-7);
    }

    #[test]
    fn matching_falls_back_to_jaccard_and_checks_embeddings() {
        let training = vec![summary(0, "a b", 1, Some(vec![1.0, 0.0]))];
        let batch = vec![summary(0, "a b", 1, None)];
        let m = match_topics(&training, &batch, &DriftConfig::default()).unwrap();
        assert_eq!(m.similarity, Similarity::Jaccard);

        let mut c = DriftConfig::default();
        c.topic.similarity = SimilarityChoice::Cosine;
        assert!(matches!(
            match_topics(&training, &batch, &c),
            Err(DriftError::MissingTopicEmbedding {
                side: Side::Batch,
                topic: 0
            })
        ));
        let batch = vec![summary(0, "a b", 1, Some(vec![1.0, 0.0, 0.0]))];
        assert!(matches!(
            match_topics(&training, &batch, &c),
            Err(DriftError::TopicEmbeddingDimension {
                expected: 2,
                found: 3,
                ..
            })
        ));
        let batch = vec![summary(0, "a b", 1, Some(vec![f32::NAN, 0.0]))];
        assert!(matches!(
            match_topics(&training, &batch, &c),
            Err(DriftError::NonFinite { .. })
        ));
        let only_outliers = vec![summary(-1, "a", 1, None)];
        assert!(matches!(
            match_topics(&training, &only_outliers, &c),
            Err(DriftError::EmptyBatch { .. })
        ));
    }

    #[test]
    fn topic_drift_serialises_with_mode_tag() {
        let k = keyword_drift(&[kw(0, "a b", "a b", 10)], &config(1)).unwrap();
        let json = serde_json::to_value(TopicDrift::from(k.clone())).unwrap();
        assert_eq!(json["mode"], "re_represent");
        assert_eq!(json["level"], "LOW");
        assert_eq!(json["mean_jaccard"]["value"], 1.0);
        let back: TopicDrift = serde_json::from_value(json).unwrap();
        assert_eq!(back, TopicDrift::ReRepresent(k));
    }
}
