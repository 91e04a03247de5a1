//! What a fitted model keeps of its training corpus for drift monitoring (saved in `model.json`
//! as `monitor_baseline`): plain data and its lookups, apart from [`crate::monitor`] so the
//! model can hold it without importing the monitor, which imports the model.

use serde::{Deserialize, Serialize};

use crate::drift;

/// Figures of the training corpus a batch is compared with, saved in `model.json`
/// (`monitor_baseline`, optional: older models have none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingBaseline {
    /// Training documents they were computed on.
    pub docs: usize,
    /// Mean c_v of the model's topics on the training documents.
    pub c_v: Option<f64>,
    /// Mean NPMI (c_npmi) of the model's topics on the training documents.
    pub npmi: Option<f64>,
    /// Expected OOV rate of a new document of the training distribution: the share of training
    /// tokens outside the vocabulary or found in no other training document (a leave-one-out
    /// estimate; the plain training OOV rate is 0 by construction when `min_df` is 1).
    pub oov_rate: Option<f64>,
    /// c_v and NPMI on seeded samples of the training documents of growing size (mean of 5
    /// samples each). Coherence depends on the size of the reference corpus, so a batch is
    /// compared with the training value interpolated at its own size.
    #[serde(default)]
    pub by_size: Vec<CoherenceAtSize>,
    /// Whether `by_size` is held out: each sample's value minus what choosing the topic words
    /// on that sample added (the same sample scored with c-TF-IDF words recomputed from all the
    /// topics' documents, minus scored with words recomputed without the sample). A batch is
    /// never among the documents its topic words came from, so an in-sample baseline (older
    /// models, `false`) expects too much: 500 unseen State of the Union passages scored 0.04
    /// NPMI below it.
    #[serde(default)]
    pub held_out: bool,
    /// Per topic, the keyword Jaccard a batch without drift shows at a given number of the
    /// topic's documents (the null of the keyword signal; see [`KeywordBaseline`]). `None` in
    /// models saved before it was recorded: their keyword signal keeps the fixed thresholds and
    /// does not vote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keywords: Option<Vec<KeywordBaseline>>,
    /// Topic counts of training documents assigned the way a new document is (see
    /// [`ReferenceTopics`]): the training side of the topic-share signal. `None` in models
    /// saved before it was recorded: the monitor then uses the fitted topics of a sample of
    /// the training documents, and a note says to retrain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_topics: Option<ReferenceTopics>,
}

/// The topic mix a batch without drift is expected to show, recorded at training time.
///
/// A batch's documents are assigned by the model's k-NN vote ([`crate::predict`]), but a
/// training document keeps the topic HDBSCAN fitted, and the two label distributions differ
/// (on arXiv, `tests/drift.rs`: 41.7 % outliers among the fitted labels of a training sample, 35.0 %
/// among predictions of unseen papers, and 5 of 40 same-distribution batches at JS p ≤ 0.01). Compared
/// with the fitted labels, every same-distribution batch looks shifted, and the topic-share
/// test raised false alarms. So each of a seeded sample of training documents is assigned by
/// the same k-NN vote as a new document, its own row left out of its neighbours
/// (leave-one-out): like with like (0 of those 40 batches at JS p ≤ 0.01). The neighbours'
/// topics were fitted with the row present, so it has a little fewer outliers than unseen
/// documents (33.0 % against 35.0 %); the outlier-rise check's size gate (5 points beyond the
/// noise) absorbs that.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceTopics {
    /// How the labels were made: `"leave_one_out_knn"`.
    pub method: String,
    /// Training documents assigned (a seeded sample of at most [`REFERENCE_ROWS`]).
    pub docs: usize,
    /// Documents per topic id (−1 = outliers), ascending ids.
    pub counts: Vec<(i64, usize)>,
}

/// Most training documents behind [`ReferenceTopics`]: enough that the reference adds little
/// noise to a batch of a few hundred, and a bounded cost (one k-NN query per row against every
/// training row: about 1 s for 6,000 against 6,000 rows of 384 dimensions on two cores).
pub const REFERENCE_ROWS: usize = 5000;
/// Seed of the [`ReferenceTopics`] sample.
pub(crate) const REFERENCE_SEED: u64 = 0x5EED_0DD5;

/// One topic's no-drift keyword overlap by batch size, recorded at training time.
///
/// For each size `c` of [`KEYWORD_NULL_SIZES`] up to half the topic's training documents,
/// [`KEYWORD_NULL_REPEATS`] seeded draws of `c` of the topic's training documents are
/// re-represented exactly as a batch is (c-TF-IDF with the model's vocabulary and idf, words in
/// at least 2 of the documents) and compared by Jaccard with the words of the topic's other
/// training documents. Held-out words rather than the model's own: those came from the very
/// documents drawn, which would overstate the overlap a new batch can reach. The reference
/// has at least half the topic's documents, so it is a little noisier than the model's words
/// and the expected overlap a little low: the check errs towards LOW.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeywordBaseline {
    /// Topic id.
    pub topic: i64,
    /// Its training documents.
    pub training_docs: usize,
    /// Jaccard mean and standard deviation by number of documents, ascending.
    pub by_size: Vec<KeywordNullAtSize>,
}

/// No-drift Jaccard of one topic at `docs` documents.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KeywordNullAtSize {
    /// Documents drawn.
    pub docs: usize,
    /// Mean Jaccard over the draws.
    pub mean: f64,
    /// Standard deviation over the draws.
    pub sd: f64,
}

/// Batch counts per topic at which the keyword null is recorded (those up to half the topic).
pub const KEYWORD_NULL_SIZES: [usize; 13] =
    [5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 1000];
/// Draws per topic and size.
pub const KEYWORD_NULL_REPEATS: u64 = 20;

impl KeywordBaseline {
    /// The no-drift Jaccard at `docs` batch documents: linear in log(size) between recorded
    /// sizes; the largest recorded size above them (the overlap grows with the size, so this
    /// expects less than the batch could show: towards LOW); `None` below the smallest.
    pub fn at(&self, docs: usize) -> Option<drift::JaccardNull> {
        let first = self.by_size.first()?;
        if docs < first.docs {
            return None;
        }
        let pts = |f: fn(&KeywordNullAtSize) -> f64| -> Vec<(f64, f64)> {
            self.by_size
                .iter()
                .map(|k| ((k.docs as f64).ln(), f(k)))
                .collect()
        };
        let x = (docs as f64).ln();
        Some(drift::JaccardNull {
            mean: interpolate(&pts(|k| k.mean), x)?,
            sd: interpolate(&pts(|k| k.sd), x)?,
        })
    }
}

/// Training coherence on a sample of `docs` documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoherenceAtSize {
    /// Documents in the sample.
    pub docs: usize,
    /// Mean c_v.
    pub c_v: Option<f64>,
    /// Mean NPMI.
    pub npmi: Option<f64>,
    /// Standard deviation of c_v over the samples (absent in older models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c_v_sd: Option<f64>,
    /// Standard deviation of NPMI over the samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub npmi_sd: Option<f64>,
}

/// Training coherence at a batch's size ([`TrainingBaseline::coherence_at`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CoherenceExpected {
    /// Expected c_v.
    pub c_v: Option<f64>,
    /// Expected NPMI.
    pub npmi: Option<f64>,
    /// How much c_v of a same-distribution batch of this size varies: the sample standard
    /// deviation, widened by `sqrt(1 + 1/repeats)` for the uncertainty of the mean.
    pub c_v_sd: Option<f64>,
    /// The same for NPMI.
    pub npmi_sd: Option<f64>,
}

/// Sample sizes of [`TrainingBaseline::by_size`] (those below the training size, then all).
pub(crate) const BASELINE_SIZES: [usize; 8] = [25, 50, 100, 200, 500, 1000, 2000, 5000];
/// Samples averaged per size (5 so that their spread can gate the quality signal).
pub(crate) const BASELINE_REPEATS: u64 = 5;

impl TrainingBaseline {
    /// Training c_v and NPMI at `docs` documents, with their spread when recorded: linear in
    /// log(size) between the recorded sizes, the nearest recorded size outside them.
    pub fn coherence_at(&self, docs: usize) -> CoherenceExpected {
        if self.by_size.is_empty() {
            return CoherenceExpected {
                c_v: self.c_v,
                npmi: self.npmi,
                ..CoherenceExpected::default()
            };
        }
        let x = (docs.max(1) as f64).ln();
        let pick = |f: fn(&CoherenceAtSize) -> Option<f64>| {
            let pts: Vec<(f64, f64)> = self
                .by_size
                .iter()
                .filter_map(|c| f(c).map(|v| ((c.docs.max(1) as f64).ln(), v)))
                .collect();
            interpolate(&pts, x)
        };
        let widen = (1.0 + 1.0 / BASELINE_REPEATS as f64).sqrt();
        CoherenceExpected {
            c_v: pick(|c| c.c_v),
            npmi: pick(|c| c.npmi),
            c_v_sd: pick(|c| c.c_v_sd).map(|s| s * widen),
            npmi_sd: pick(|c| c.npmi_sd).map(|s| s * widen),
        }
    }
}

/// Piecewise-linear interpolation through points sorted by x; clamped at the ends.
pub(crate) fn interpolate(pts: &[(f64, f64)], x: f64) -> Option<f64> {
    let first = pts.first()?;
    let last = pts.last()?;
    if x <= first.0 {
        return Some(first.1);
    }
    if x >= last.0 {
        return Some(last.1);
    }
    pts.windows(2).find(|w| x <= w[1].0).map(|w| {
        let (x0, y0) = w[0];
        let (x1, y1) = w[1];
        if x1 > x0 {
            y0 + (y1 - y0) * (x - x0) / (x1 - x0)
        } else {
            y1
        }
    })
}

/// Seeded sample of `k` of `0..n` (partial Fisher–Yates with SplitMix64), sorted.
pub(crate) fn sample_indices(n: usize, k: usize, seed: u64) -> Vec<usize> {
    bertopic_rng::SplitMix64::new(seed).sample_sorted(n, k)
}
