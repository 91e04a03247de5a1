//! [`DriftConfig`]: every threshold, seed and sample size, with documented defaults.
//!
//! All structs deserialise with `#[serde(default)]`, so a config file only needs the fields it
//! changes, and reject unknown fields, so a typo is an error rather than a silently ignored knob.

use crate::error::{DriftError, Result};
use serde::{Deserialize, Serialize};

/// Configuration of every signal and of the verdict. `DriftConfig::default()` gives the
/// documented defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DriftConfig {
    /// Id of the outlier topic (BERTopic's `-1`), or `None` when the model has none.
    /// Keyword drift and topic matching skip it (its words describe leftovers, not a subject);
    /// distribution drift keeps it as a category and watches its share. Default `Some(-1)`.
    pub outlier_topic: Option<i64>,
    /// Topic drift (keywords, matching).
    pub topic: TopicDriftConfig,
    /// Topic distribution drift.
    pub distribution: DistributionDriftConfig,
    /// Embedding drift (MMD).
    pub embedding: EmbeddingDriftConfig,
    /// Vocabulary drift (OOV rate).
    pub vocabulary: VocabularyDriftConfig,
    /// Quality on the batch (coherence drop).
    pub quality: QualityDriftConfig,
    /// Which signals vote in the overall level.
    pub voting: Voting,
    /// How the p-value thresholds are shared among the voting tests so that they hold for the
    /// whole report. Default [`FamilyWise::Bonferroni`].
    pub family_wise: FamilyWise,
}

impl Default for DriftConfig {
    fn default() -> Self {
        DriftConfig {
            outlier_topic: Some(-1),
            topic: TopicDriftConfig::default(),
            distribution: DistributionDriftConfig::default(),
            embedding: EmbeddingDriftConfig::default(),
            vocabulary: VocabularyDriftConfig::default(),
            quality: QualityDriftConfig::default(),
            voting: Voting::default(),
            family_wise: FamilyWise::default(),
        }
    }
}

/// How the p-value thresholds of the voting signals are corrected for testing several at once.
///
/// Each voting signal with a no-drift null (topic keywords with their baseline, topic shares
/// with permutations, embeddings, quality with its spread) tests at its `p_medium` /
/// `p_high`. With `k` such signals and no correction, a batch without drift reaches MEDIUM
/// with probability up to `k · p_medium`: measured on arXiv with four voting signals at 0.01,
/// 4 false alarms in 40 same-distribution batches. The overall level is the highest signal
/// level, so the report's false-alarm rate is the family-wise error rate of these tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FamilyWise {
    /// Each test at its own `p_medium` / `p_high` (the family-wise rate grows with the number
    /// of voting signals).
    None,
    /// Weighted Bonferroni: the `k` voting signals with a null share each p threshold equally
    /// (`p / k`), and a signal with several statistics splits its share among them (topic
    /// shares: JS, PSI and the outlier rise, `p / (3k)` each; quality: c_v and NPMI). The
    /// report then raises a false alarm with probability at most `p_medium` (0.01 by default)
    /// whatever the dependence between the signals. Holm's step-down would not flag more
    /// batches: its first step is this test, and any one rejection already sets the level.
    #[default]
    Bonferroni,
}

/// The p thresholds each voting signal tests at ([`DriftConfig::per_test`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PerTest {
    /// The configuration with corrected `p_medium` / `p_high` (pass it to the signal functions).
    pub config: DriftConfig,
    /// Voting signals with a no-drift null that share the p thresholds (`k`).
    pub signals: usize,
    /// The divisor applied to each signal's thresholds (1 when not corrected or not voting).
    pub topic: f64,
    /// Divisor of the topic-share thresholds (per statistic).
    pub distribution: f64,
    /// Divisor of the embedding thresholds.
    pub embedding: f64,
    /// Divisor of the quality thresholds (per statistic).
    pub quality: f64,
}

impl DriftConfig {
    /// The configuration the signal functions get under [`DriftConfig::family_wise`]:
    /// `keyword_null` says whether the topic keywords are judged against a no-drift baseline
    /// (without one they have no p-value and do not count). Vocabulary drift has no p-value
    /// and never counts. Non-voting signals keep their thresholds and do not count.
    pub fn per_test(&self, keyword_null: bool) -> PerTest {
        let v = &self.voting;
        let statistics = 2.0 + f64::from(u8::from(self.outlier_topic.is_some()));
        let tested = [
            v.topic && keyword_null,
            v.distribution && self.distribution.n_permutations > 0,
            v.embedding,
            v.quality,
        ];
        let k = tested.iter().filter(|&&t| t).count();
        let mut out = PerTest {
            config: self.clone(),
            signals: k,
            topic: 1.0,
            distribution: 1.0,
            embedding: 1.0,
            quality: 1.0,
        };
        if self.family_wise == FamilyWise::None || k == 0 {
            return out;
        }
        let kf = k as f64;
        let c = &mut out.config;
        if tested[0] {
            out.topic = kf;
            c.topic.p_medium /= kf;
            c.topic.p_high /= kf;
        }
        if tested[1] {
            out.distribution = kf * statistics;
            c.distribution.p_medium /= out.distribution;
            c.distribution.p_high /= out.distribution;
        }
        if tested[2] {
            out.embedding = kf;
            c.embedding.p_medium /= kf;
            c.embedding.p_high /= kf;
        }
        if tested[3] {
            out.quality = 2.0 * kf;
            c.quality.p_medium /= out.quality;
            c.quality.p_high /= out.quality;
        }
        out
    }

    /// Checks every field; each signal function also checks the part it uses.
    pub fn validate(&self) -> Result<()> {
        self.topic.validate()?;
        self.distribution.validate()?;
        self.embedding.validate()?;
        self.vocabulary.validate()?;
        self.quality.validate()?;
        // The corrected thresholds must still be reachable by the permutations.
        let per = self.per_test(true);
        let corrected = &per.config.distribution;
        if corrected.n_permutations > 0
            && (corrected.p_high * (corrected.n_permutations as f64 + 1.0)).floor() < 1.0
        {
            return Err(invalid(
                "distribution.n_permutations",
                format!(
                    "is {} but the family-wise corrected `distribution.p_high` ({} / {} = {:.3e}) needs at least {}; raise it, or set `family_wise` to \"none\"",
                    corrected.n_permutations,
                    self.distribution.p_high,
                    per.distribution,
                    corrected.p_high,
                    (1.0 / corrected.p_high).ceil() as usize - 1
                ),
            ));
        }
        Ok(())
    }
}

/// How topics are compared in matching mode ([`crate::match_topics`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimilarityChoice {
    /// Cosine of topic embeddings when every topic on both sides has one, else Jaccard of words.
    #[default]
    Auto,
    /// Jaccard of the topic word sets.
    Jaccard,
    /// Cosine of the topic embeddings (an error if one is missing).
    Cosine,
}

/// Thresholds of topic drift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopicDriftConfig {
    /// Mean Jaccard below this is MEDIUM. Default `0.6`, the seed project's drift threshold.
    pub medium_below: f64,
    /// Mean Jaccard below this is HIGH. Default `0.4`, the seed project's HIGH threshold.
    pub high_below: f64,
    /// Re-represent mode: topics with fewer batch documents are listed as not scored.
    /// Default `10` (BERTopic's default `min_topic_size`): with fewer documents the recomputed
    /// top words mostly reflect single documents, not the topic.
    pub min_docs_per_topic: usize,
    /// Matching mode: the similarity used. Default [`SimilarityChoice::Auto`].
    pub similarity: SimilarityChoice,
    /// Matching mode, Jaccard: pairs below this count as unmatched. Default `0.1`: two top-10
    /// lists must share at least 2 words (`2/18 = 0.111`); one shared word (`1/19`) is chance.
    pub min_jaccard: f64,
    /// Matching mode, cosine: pairs below this count as unmatched. Default `0.5`: centroids of
    /// unrelated topics of sentence-embedding models commonly reach 0.3–0.5.
    pub min_cosine: f64,
    /// Matching mode, cosine: weighted similarity below this is MEDIUM. Default `0.8`. Cosine of
    /// topic embeddings runs much higher than keyword Jaccard for the same subject (a refit of
    /// the same topic is typically above 0.9), so Jaccard's 0.6 / 0.4 would never fire.
    pub cosine_medium_below: f64,
    /// Matching mode, cosine: weighted similarity below this is HIGH. Default `0.6`.
    pub cosine_high_below: f64,
    /// Re-represent mode with a null ([`crate::TopicKeywords::null`]): MEDIUM also needs the
    /// weighted mean Jaccard to be this unlikely for a same-distribution batch with the same
    /// documents per topic (one-sided normal p-value). Default `0.01` (see
    /// `distribution.p_medium`).
    pub p_medium: f64,
    /// Re-represent mode with a null: p-value at most this for HIGH. Default `0.001`.
    pub p_high: f64,
}

impl Default for TopicDriftConfig {
    fn default() -> Self {
        TopicDriftConfig {
            medium_below: 0.6,
            high_below: 0.4,
            min_docs_per_topic: 10,
            similarity: SimilarityChoice::Auto,
            min_jaccard: 0.1,
            min_cosine: 0.5,
            cosine_medium_below: 0.8,
            cosine_high_below: 0.6,
            p_medium: 0.01,
            p_high: 0.001,
        }
    }
}

impl TopicDriftConfig {
    /// Checks ranges and threshold order.
    pub fn validate(&self) -> Result<()> {
        below_pair(
            "topic.medium_below",
            self.medium_below,
            "topic.high_below",
            self.high_below,
            0.0,
            1.0,
        )?;
        below_pair(
            "topic.cosine_medium_below",
            self.cosine_medium_below,
            "topic.cosine_high_below",
            self.cosine_high_below,
            -1.0,
            1.0,
        )?;
        if self.min_docs_per_topic == 0 {
            return Err(invalid(
                "topic.min_docs_per_topic",
                "must be at least 1".into(),
            ));
        }
        in_range_open_low("topic.min_jaccard", self.min_jaccard, 0.0, 1.0)?;
        in_range_open_low("topic.min_cosine", self.min_cosine, 0.0, 1.0)?;
        p_pair("topic", 0, self.p_medium, self.p_high)
    }
}

/// Thresholds of topic distribution drift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DistributionDriftConfig {
    /// Jensen–Shannon distance (base 2, in `[0, 1]`) at or above this is MEDIUM. Default `0.13`.
    ///
    /// For small shifts JS divergence ≈ PSI / 8 (both are second order in `p − q`: PSI is the
    /// symmetrised KL, `Σ (p−q)²/m`, JSD is `Σ (p−q)²/(8m)`), so in bits the JS distance is
    /// `≈ sqrt(PSI / (8 ln 2))`: PSI's conventional 0.1 and 0.25 map to 0.134 and 0.212.
    /// The JS defaults 0.13 / 0.21 therefore agree with the PSI defaults on small shifts, and
    /// stay meaningful where PSI blows up (empty bins).
    pub js_medium: f64,
    /// Jensen–Shannon distance at or above this is HIGH. Default `0.21` (see `js_medium`).
    pub js_high: f64,
    /// PSI at or above this is MEDIUM. Default `0.1` (the conventional "moderate shift").
    pub psi_medium: f64,
    /// PSI at or above this is HIGH. Default `0.25` (the conventional "significant shift").
    pub psi_high: f64,
    /// Shares below this are raised to it inside PSI, so an empty bin on one side gives a large
    /// but finite term. Default `1e-4` (one document in 10,000): a topic that appears with a 5%
    /// share from nothing adds `0.05 · ln(500) ≈ 0.31`, HIGH on its own.
    pub psi_epsilon: f64,
    /// Outlier share rise (batch − training) at or above this is MEDIUM. Default `0.05`
    /// (5 percentage points): new subjects show up as outliers first.
    pub outlier_rise_medium: f64,
    /// Outlier share rise at or above this is HIGH. Default `0.15` (15 points).
    pub outlier_rise_high: f64,
    /// Label permutations of the size-aware null (see [`crate::topic_distribution_drift`]).
    /// Default `20000`, so that the family-wise corrected `p_high` can be reached (`0.001 / 12`
    /// with four voting signals, see [`FamilyWise`]; 0.1–0.2 s for 5,000 + 250 labels and 63
    /// topics on two cores). `0` turns the null off: JS, PSI and
    /// the outlier rise are then compared with the fixed thresholds above, which a batch of a
    /// few hundred documents exceeds by sampling noise alone when the model has dozens of topics.
    pub n_permutations: usize,
    /// With the null: a statistic is MEDIUM only if at most this share of permutations reach
    /// it (p-value ≤ `p_medium`). Default `0.01`, before the family-wise correction
    /// ([`DriftConfig::family_wise`]), which divides it among the voting signals and this
    /// signal's three statistics.
    pub p_medium: f64,
    /// With the null: p-value at most this for HIGH. Default `0.001`.
    pub p_high: f64,
    /// Seed of the permutations. Default `42` (`bertopic monitor --seed` sets it).
    pub seed: u64,
}

impl Default for DistributionDriftConfig {
    fn default() -> Self {
        DistributionDriftConfig {
            js_medium: 0.13,
            js_high: 0.21,
            psi_medium: 0.1,
            psi_high: 0.25,
            psi_epsilon: 1e-4,
            outlier_rise_medium: 0.05,
            outlier_rise_high: 0.15,
            n_permutations: 20_000,
            p_medium: 0.01,
            p_high: 0.001,
            seed: 42,
        }
    }
}

impl DistributionDriftConfig {
    /// Checks ranges and threshold order.
    pub fn validate(&self) -> Result<()> {
        above_pair(
            "distribution.js_medium",
            self.js_medium,
            "distribution.js_high",
            self.js_high,
        )?;
        above_pair(
            "distribution.psi_medium",
            self.psi_medium,
            "distribution.psi_high",
            self.psi_high,
        )?;
        above_pair(
            "distribution.outlier_rise_medium",
            self.outlier_rise_medium,
            "distribution.outlier_rise_high",
            self.outlier_rise_high,
        )?;
        in_range_open_low("distribution.psi_epsilon", self.psi_epsilon, 0.0, 0.5)?;
        p_pair(
            "distribution",
            self.n_permutations,
            self.p_medium,
            self.p_high,
        )
    }
}

/// Settings of embedding drift (MMD² permutation test).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmbeddingDriftConfig {
    /// At most this many rows per side enter the test (a seeded subsample without replacement).
    /// Default `2000`: the pooled kernel matrix is `(2·2000)²` f64 = 128 MB and the whole test
    /// takes well under a second; more rows mostly buy power the verdict does not need.
    /// Memory grows as `32 · max_rows_per_side²` bytes; at most 10,000 is accepted.
    pub max_rows_per_side: usize,
    /// Most permutations of the test. Default `1000`: the smallest reachable p-value is
    /// `1/1001 ≈ 0.001`, below the family-wise corrected threshold (`0.01 / 3` with three
    /// voting signals). A batch without drift usually stops far earlier
    /// (`stop_after_exceedances`).
    pub n_permutations: usize,
    /// Stop the permutations once this many reach the observed MMD² (Besag and Clifford's
    /// sequential p-value `h / L` after `L` permutations): the batch is then clearly LOW and
    /// the rest would only refine a large p-value. Never fewer than the count that makes LOW
    /// certain (`p_medium · (n_permutations + 1)`), so stopping never changes a level.
    /// Default `10` (a p-value above about 0.04 is settled within the first 256
    /// permutations); `0` always runs `n_permutations`.
    pub stop_after_exceedances: usize,
    /// Seed of the subsample and of the permutations. Default `42`.
    pub seed: u64,
    /// p-value below this is MEDIUM. Default `0.01`, like the other signals with a null,
    /// before the family-wise correction ([`DriftConfig::family_wise`]); at 0.05 this signal
    /// alone raised about one false alarm in 20 same-distribution batches.
    pub p_medium: f64,
    /// p-value below this is HIGH, if MMD² also reaches `high_min_mmd2`. Default `0.01`.
    pub p_high: f64,
    /// Smallest MMD² for HIGH. Default `0.001`. With thousands of rows a tiny, harmless shift is
    /// already significant; HIGH asks for an effect too. With the median-heuristic RBF kernel
    /// on sentence embeddings, a batch where ~10% of the documents are about clearly new
    /// subjects gives MMD² of the order of 0.001 (MMD² grows with the square of that fraction).
    /// Calibrate by comparing two halves of the training data.
    pub high_min_mmd2: f64,
}

impl Default for EmbeddingDriftConfig {
    fn default() -> Self {
        EmbeddingDriftConfig {
            max_rows_per_side: 2000,
            n_permutations: 1000,
            stop_after_exceedances: 10,
            seed: 42,
            p_medium: 0.01,
            p_high: 0.01,
            high_min_mmd2: 0.001,
        }
    }
}

/// Largest accepted [`EmbeddingDriftConfig::max_rows_per_side`] (a 3.2 GB kernel matrix).
pub const MAX_ROWS_PER_SIDE_LIMIT: usize = 10_000;

impl EmbeddingDriftConfig {
    /// Checks ranges and threshold order.
    pub fn validate(&self) -> Result<()> {
        if self.max_rows_per_side < 2 || self.max_rows_per_side > MAX_ROWS_PER_SIDE_LIMIT {
            return Err(invalid(
                "embedding.max_rows_per_side",
                format!(
                    "is {} but must be between 2 and {MAX_ROWS_PER_SIDE_LIMIT}",
                    self.max_rows_per_side
                ),
            ));
        }
        if self.n_permutations == 0 {
            return Err(invalid(
                "embedding.n_permutations",
                "must be at least 1 (1000 is a good default)".into(),
            ));
        }
        below_pair(
            "embedding.p_medium",
            self.p_medium,
            "embedding.p_high",
            self.p_high,
            0.0,
            1.0,
        )?;
        if !(self.high_min_mmd2.is_finite() && self.high_min_mmd2 >= 0.0) {
            return Err(invalid(
                "embedding.high_min_mmd2",
                format!("is {} but must be a finite number >= 0", self.high_min_mmd2),
            ));
        }
        Ok(())
    }
}

/// Thresholds of vocabulary drift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VocabularyDriftConfig {
    /// Without a baseline: OOV token rate at or above this is MEDIUM. Default `0.10`.
    pub medium_rate: f64,
    /// Without a baseline: OOV token rate at or above this is HIGH. Default `0.25`.
    pub high_rate: f64,
    /// With a baseline OOV rate (measured on held-out training text): a rise at or above this
    /// is MEDIUM. Default `0.05` (5 points). Prefer a baseline: a vectorizer with `min_df > 1`
    /// or stop-word removal leaves a sizeable OOV rate even on training text.
    pub medium_rise: f64,
    /// With a baseline: a rise at or above this is HIGH. Default `0.15` (15 points).
    pub high_rise: f64,
    /// How many of the most frequent OOV tokens the report lists. Default `20`.
    pub top_oov: usize,
}

impl Default for VocabularyDriftConfig {
    fn default() -> Self {
        VocabularyDriftConfig {
            medium_rate: 0.10,
            high_rate: 0.25,
            medium_rise: 0.05,
            high_rise: 0.15,
            top_oov: 20,
        }
    }
}

impl VocabularyDriftConfig {
    /// Checks threshold order.
    pub fn validate(&self) -> Result<()> {
        above_pair(
            "vocabulary.medium_rate",
            self.medium_rate,
            "vocabulary.high_rate",
            self.high_rate,
        )?;
        above_pair(
            "vocabulary.medium_rise",
            self.medium_rise,
            "vocabulary.high_rise",
            self.high_rise,
        )
    }
}

/// Thresholds of the quality signal (coherence drop from training to batch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QualityDriftConfig {
    /// c_v drop (training − batch) at or above this is MEDIUM. Default `0.05`.
    /// c_v of good topics sits around 0.4–0.7, so 0.05 is a visible loss.
    pub c_v_drop_medium: f64,
    /// c_v drop at or above this is HIGH. Default `0.10`.
    pub c_v_drop_high: f64,
    /// NPMI drop at or above this is MEDIUM. Default `0.03`.
    /// NPMI of good topics sits around 0.0–0.2, a narrower scale than c_v.
    pub npmi_drop_medium: f64,
    /// NPMI drop at or above this is HIGH. Default `0.06`.
    pub npmi_drop_high: f64,
    /// With the training spread given ([`crate::QualityInputs::training_c_v_sd`]): a drop is
    /// MEDIUM only if also at least `z(1 − p_medium)` standard deviations. Default `0.01`.
    pub p_medium: f64,
    /// With the spread: HIGH only if at least `z(1 − p_high)` standard deviations. Default
    /// `0.001`.
    pub p_high: f64,
}

impl Default for QualityDriftConfig {
    fn default() -> Self {
        QualityDriftConfig {
            c_v_drop_medium: 0.05,
            c_v_drop_high: 0.10,
            npmi_drop_medium: 0.03,
            npmi_drop_high: 0.06,
            p_medium: 0.01,
            p_high: 0.001,
        }
    }
}

impl QualityDriftConfig {
    /// Checks threshold order.
    pub fn validate(&self) -> Result<()> {
        above_pair(
            "quality.c_v_drop_medium",
            self.c_v_drop_medium,
            "quality.c_v_drop_high",
            self.c_v_drop_high,
        )?;
        above_pair(
            "quality.npmi_drop_medium",
            self.npmi_drop_medium,
            "quality.npmi_drop_high",
            self.npmi_drop_high,
        )?;
        p_pair("quality", 0, self.p_medium, self.p_high)
    }
}

/// Which signals vote in the overall level (all by default). A signal that does not vote is
/// still reported, with its reasons moved to the report's notes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Voting {
    /// Topic drift (keywords or matching).
    pub topic: bool,
    /// Topic distribution drift.
    pub distribution: bool,
    /// Embedding drift.
    pub embedding: bool,
    /// Vocabulary drift.
    pub vocabulary: bool,
    /// Quality (coherence drop).
    pub quality: bool,
}

impl Default for Voting {
    fn default() -> Self {
        Voting {
            topic: true,
            distribution: true,
            embedding: true,
            vocabulary: true,
            quality: true,
        }
    }
}

fn invalid(field: &'static str, problem: String) -> DriftError {
    DriftError::InvalidConfig { field, problem }
}

fn finite_field(field: &'static str, x: f64) -> Result<()> {
    if x.is_finite() {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("is {x} but must be a finite number"),
        ))
    }
}

/// Thresholds of a "below is bad" check: `lo <= high <= medium <= hi`.
fn below_pair(
    medium_field: &'static str,
    medium: f64,
    high_field: &'static str,
    high: f64,
    lo: f64,
    hi: f64,
) -> Result<()> {
    finite_field(medium_field, medium)?;
    finite_field(high_field, high)?;
    for (field, x) in [(medium_field, medium), (high_field, high)] {
        if x < lo || x > hi {
            return Err(invalid(
                field,
                format!("is {x} but must be in [{lo}, {hi}]"),
            ));
        }
    }
    if high > medium {
        return Err(invalid(
            high_field,
            format!(
                "is {high} but must not exceed `{medium_field}` ({medium}): lower values are worse"
            ),
        ));
    }
    Ok(())
}

/// Thresholds of an "above is bad" check: `medium <= high`.
fn above_pair(
    medium_field: &'static str,
    medium: f64,
    high_field: &'static str,
    high: f64,
) -> Result<()> {
    finite_field(medium_field, medium)?;
    finite_field(high_field, high)?;
    if medium > high {
        return Err(invalid(
            medium_field,
            format!(
                "is {medium} but must not exceed `{high_field}` ({high}): higher values are worse"
            ),
        ));
    }
    Ok(())
}

/// p-value thresholds of a null test: `0 < p_high <= p_medium < 1`, and (when `permutations`
/// is not 0) enough permutations to reach `p_high`: a p-value is at least `1 / (R + 1)`.
fn p_pair(section: &'static str, permutations: usize, p_medium: f64, p_high: f64) -> Result<()> {
    let (pm, ph, np) = match section {
        "distribution" => (
            "distribution.p_medium",
            "distribution.p_high",
            "distribution.n_permutations",
        ),
        "quality" => ("quality.p_medium", "quality.p_high", "quality.p_high"),
        _ => ("topic.p_medium", "topic.p_high", "topic.p_high"),
    };
    in_range_open_low(pm, p_medium, 0.0, 1.0)?;
    in_range_open_low(ph, p_high, 0.0, 1.0)?;
    if p_high > p_medium {
        return Err(invalid(
            ph,
            format!("is {p_high} but must not exceed `{pm}` ({p_medium}): smaller p-values are stronger evidence"),
        ));
    }
    if permutations > 0 && (p_high * (permutations as f64 + 1.0)).floor() < 1.0 {
        let need = (1.0 / p_high).ceil() as usize - 1;
        return Err(invalid(
            np,
            format!(
                "is {permutations} but `{ph}` = {p_high} needs at least {need}: the smallest p-value of R permutations is 1 / (R + 1); use 0 to turn the null off"
            ),
        ));
    }
    Ok(())
}

/// `lo < x <= hi`.
fn in_range_open_low(field: &'static str, x: f64, lo: f64, hi: f64) -> Result<()> {
    finite_field(field, x)?;
    if x <= lo || x > hi {
        return Err(invalid(
            field,
            format!("is {x} but must be in ({lo}, {hi}]"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_documented_values() {
        let c = DriftConfig::default();
        c.validate().unwrap();
        assert_eq!(c.outlier_topic, Some(-1));
        assert_eq!((c.topic.medium_below, c.topic.high_below), (0.6, 0.4));
        assert_eq!(
            (c.distribution.psi_medium, c.distribution.psi_high),
            (0.1, 0.25)
        );
        assert_eq!(c.embedding.max_rows_per_side, 2000);
        assert_eq!(c.embedding.n_permutations, 1000);
        assert_eq!(c.family_wise, FamilyWise::Bonferroni);
    }

    #[test]
    fn bonferroni_shares_the_p_thresholds_among_voting_tests() {
        let c = DriftConfig::default();
        // Topic keywords (with a baseline), topic shares, embeddings, quality: 4 signals.
        let per = c.per_test(true);
        assert_eq!(per.signals, 4);
        assert_eq!(per.config.topic.p_medium, 0.01 / 4.0);
        assert_eq!(per.config.distribution.p_medium, 0.01 / 12.0);
        assert_eq!(per.config.distribution.p_high, 0.001 / 12.0);
        assert_eq!(per.config.embedding.p_medium, 0.01 / 4.0);
        assert_eq!(per.config.quality.p_medium, 0.01 / 8.0);
        // Without the keyword baseline and with quality not voting: 2 signals, and the
        // non-voting quality keeps its own thresholds.
        let mut c = DriftConfig::default();
        c.voting.quality = false;
        let per = c.per_test(false);
        assert_eq!(per.signals, 2);
        assert_eq!(per.config.topic, c.topic);
        assert_eq!(per.config.quality, c.quality);
        assert_eq!(per.config.embedding.p_medium, 0.005);
        assert_eq!(per.config.distribution.p_medium, 0.01 / 6.0);
        // Off: unchanged.
        c.family_wise = FamilyWise::None;
        assert_eq!(c.per_test(true).config, c);
        // The corrected p_high must be reachable by the topic-share permutations.
        let mut c = DriftConfig::default();
        c.distribution.n_permutations = 2000;
        let msg = c.validate().unwrap_err().to_string();
        assert!(msg.contains("distribution.n_permutations"), "{msg}");
        c.family_wise = FamilyWise::None;
        c.validate().unwrap();
    }

    #[test]
    fn js_defaults_match_psi_defaults_for_small_shifts() {
        let c = DistributionDriftConfig::default();
        let map = |psi: f64| (psi / (8.0 * std::f64::consts::LN_2)).sqrt();
        assert!((map(c.psi_medium) - c.js_medium).abs() < 0.005);
        assert!((map(c.psi_high) - c.js_high).abs() < 0.005);
    }

    #[test]
    fn partial_json_fills_defaults_and_typos_are_rejected() {
        let c: DriftConfig =
            serde_json::from_str(r#"{"embedding": {"seed": 7}, "voting": {"quality": false}}"#)
                .unwrap();
        assert_eq!(c.embedding.seed, 7);
        assert_eq!(c.embedding.n_permutations, 1000);
        assert!(!c.voting.quality && c.voting.topic);
        let err = serde_json::from_str::<DriftConfig>(r#"{"embedding": {"sed": 7}}"#);
        assert!(err.is_err());
        let round: DriftConfig =
            serde_json::from_str(&serde_json::to_string(&DriftConfig::default()).unwrap()).unwrap();
        assert_eq!(round, DriftConfig::default());
    }

    #[test]
    fn invalid_values_name_the_field() {
        let mut c = DriftConfig::default();
        c.topic.high_below = 0.7;
        let msg = c.validate().unwrap_err().to_string();
        assert!(msg.contains("topic.high_below"), "{msg}");

        let mut c = DriftConfig::default();
        c.embedding.n_permutations = 0;
        assert!(matches!(
            c.validate(),
            Err(DriftError::InvalidConfig {
                field: "embedding.n_permutations",
                ..
            })
        ));

        let mut c = DriftConfig::default();
        c.distribution.psi_epsilon = 0.0;
        assert!(c.validate().is_err());

        let mut c = DriftConfig::default();
        c.distribution.js_high = f64::NAN;
        assert!(c.validate().is_err());

        let mut c = DriftConfig::default();
        c.embedding.max_rows_per_side = 1_000_000;
        assert!(c.validate().is_err());
    }
}
