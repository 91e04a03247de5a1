//! Drift monitoring of a saved model on a new batch of documents: what `bertopic monitor` runs.
//!
//! [`monitor`] assigns the batch with the model (UMAP transform + HDBSCAN prediction, timed),
//! then computes every signal of [`crate::drift`] against what the model keeps of its training
//! data, and combines them into one LOW / MEDIUM / HIGH [`MonitorReport`]:
//!
//! - **topic keywords** (re-represent): each topic's words recomputed from its batch documents
//!   with the model's own vocabulary, analyzer and idf (c-TF-IDF, top `top_n_words`), compared
//!   by Jaccard with the topic's training c-TF-IDF words, against the overlap a batch without
//!   drift shows at the same number of documents per topic ([`KeywordBaseline`], recorded at
//!   training time; models saved without it keep fixed thresholds, do not vote on keywords,
//!   and a note says so);
//! - **topic distribution**: the batch's topic shares (outliers included) vs those of training
//!   documents assigned the way a batch is ([`ReferenceTopics`]: leave-one-out k-NN, recorded
//!   at training time; older models use the fitted topics of a training sample and a note
//!   says so), against a label-permutation null at the batch's size;
//! - **embeddings**: MMD permutation test of the batch embeddings against a seeded sample of the
//!   training embeddings (sample sizes from [`DriftConfig`]);
//! - **vocabulary**: share of the batch's tokens (the model's tokenizer) outside the model's
//!   vocabulary, against the training share when recorded;
//! - **quality**: c_v and NPMI of the model's topics on the batch, against the training values
//!   recorded at training time ([`TopicModel::record_training_baseline`]; `bertopic train`
//!   records them, with their spread, at sizes 25..5000 so a batch is compared at its size).
//!   Models saved without them are still monitored, without the drop check, and a note says
//!   so. Reported without voting by default ([`monitor_config`]).
//!
//! The signals with a no-drift null share the p thresholds ([`drift::FamilyWise`], Bonferroni
//! by default), so the report as a whole raises a false alarm on a batch without drift with
//! probability at most `p_medium` (0.01), not once per signal; a note lists the thresholds
//! each signal was held to.
//!
//! Results are deterministic for a given seed. [`append_history`] adds one line per run to
//! `monitoring.jsonl` in the model folder, [`read_history`] and [`history_table`] read it back.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::coherence::Measure;
use crate::drift::{
    self, DriftConfig, DriftReport, Level, QualityInputs, Signals, TopicDrift, TopicKeywords,
};
use crate::error::{BertopicError, Result};
use crate::preprocess::{Language, Tokenizer, TokenizerConfig};
use crate::represent::{preprocess_text, top_terms, weigh_row};
use crate::TopicModel;

use crate::baseline::{sample_indices, BASELINE_REPEATS, BASELINE_SIZES, REFERENCE_SEED};
pub use crate::baseline::{
    CoherenceAtSize, CoherenceExpected, KeywordBaseline, KeywordNullAtSize, ReferenceTopics,
    TrainingBaseline, KEYWORD_NULL_REPEATS, KEYWORD_NULL_SIZES, REFERENCE_ROWS,
};
pub use crate::error::MonitorError;

/// The history file in a model folder: one JSON line ([`HistoryEntry`]) per monitor run.
pub const HISTORY_FILE: &str = "monitoring.jsonl";

/// Fewest documents a batch needs (the embedding test compares two samples of ≥ 2 rows).
pub const MIN_BATCH_DOCS: usize = 2;

/// How [`monitor`] runs.
#[derive(Debug, Clone)]
pub struct MonitorOptions {
    /// Thresholds, sample sizes and voting (see [`MonitorOptions::default`]).
    /// `bertopic monitor --config FILE` reads it from JSON ([`read_config`]).
    pub config: DriftConfig,
    /// Seed of the embedding sample, its permutations and the topic-share permutations
    /// (overrides `config.embedding.seed` and `config.distribution.seed`).
    pub seed: Option<u64>,
    /// Where the batch came from (a file name), recorded in the report and the history.
    pub source: Option<String>,
}

impl Default for MonitorOptions {
    /// [`monitor_config`]: the drift defaults, quality reporting without voting.
    fn default() -> Self {
        MonitorOptions {
            config: monitor_config(),
            seed: None,
            source: None,
        }
    }
}

/// The monitor's default configuration: [`DriftConfig::default`] except that the quality
/// signal (coherence drop) is reported without voting. Its baseline is now held out
/// ([`TrainingBaseline::held_out`]) and stayed LOW on all 42 same-distribution arXiv batches and
/// on unseen State of the Union passages (`tests/drift.rs`), but it flagged none of the
/// arXiv batches mixed with foreign papers that the other signals missed, and each voting
/// signal takes a share of the family-wise p threshold from the others. Its reasons go to
/// the notes; `"voting": {"quality": true}` in a config file turns it on.
pub fn monitor_config() -> DriftConfig {
    let mut config = DriftConfig::default();
    config.voting.quality = false;
    config
}

/// Reads a [`DriftConfig`] from a JSON file: every field optional (defaults fill the rest),
/// unknown keys refused, every value checked. The errors name the file and the key.
///
/// # Errors
/// [`MonitorError::BadConfig`] for unreadable, malformed or invalid configuration.
pub fn read_config(path: &Path) -> Result<DriftConfig> {
    let bad = |reason: String| {
        BertopicError::from(MonitorError::BadConfig {
            path: path.to_path_buf(),
            reason,
        })
    };
    let text = std::fs::read_to_string(path).map_err(|e| BertopicError::io(path, e))?;
    // Keys the file leaves out take the monitor's defaults (quality not voting).
    let mut value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let mut merged = serde_json::to_value(monitor_config()).map_err(|e| bad(e.to_string()))?;
    merge(&mut merged, value.take());
    let config: DriftConfig = serde_json::from_value(merged).map_err(|e| bad(e.to_string()))?;
    config.validate().map_err(|e| bad(e.to_string()))?;
    Ok(config)
}

/// Overlays `over` on `base`, object by object (a non-object value replaces).
fn merge(base: &mut serde_json::Value, over: serde_json::Value) {
    match (base, over) {
        (serde_json::Value::Object(b), serde_json::Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

/// About the monitored batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchInfo {
    /// Documents in the batch.
    pub docs: usize,
    /// Where the batch came from, when given.
    pub source: Option<String>,
    /// When the run finished (UTC, RFC 3339).
    pub timestamp: String,
    /// Seconds to assign the batch to topics (UMAP transform + HDBSCAN prediction).
    pub transform_seconds: f64,
    /// `transform_seconds` per document.
    pub seconds_per_doc: f64,
    /// Seconds of the whole monitoring call (assignment and every signal).
    pub total_seconds: f64,
    /// Seed used for the embedding test.
    pub seed: u64,
    /// Batch documents per topic (−1 = outliers).
    pub topic_counts: BTreeMap<i64, usize>,
}

/// What [`monitor`] returns: the drift report (its fields at the top level of the JSON) and the
/// batch information under `"batch"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorReport {
    /// The combined drift report: `level`, `reasons`, `notes`, one object per signal.
    #[serde(flatten)]
    pub drift: DriftReport,
    /// The batch.
    pub batch: BatchInfo,
}

impl MonitorReport {
    /// The overall level.
    pub fn level(&self) -> Level {
        self.drift.level
    }
}

impl TopicModel {
    /// Records the training figures monitoring compares batches with: c_v and NPMI of the
    /// topics on the training `docs` and their OOV rate. `bertopic train` calls it after the
    /// fit; they are saved with the model.
    pub fn record_training_baseline(&mut self, docs: &[String]) -> Result<()> {
        if docs.len() != self.doc_topics.len() {
            return Err(BertopicError::Mismatch(format!(
                "the training baseline needs the {} training documents (got {})",
                self.doc_topics.len(),
                docs.len()
            )));
        }
        let (c_v, npmi) = self.batch_coherence(docs);
        let oov_rate = self.leave_one_out_oov_rate(docs)?;
        let probe = OptimismProbe::new(self, docs)?;
        let model_words = self.coherence_topics();
        let mut by_size = Vec::new();
        for size in BASELINE_SIZES.into_iter().filter(|&k| k < docs.len()) {
            let (mut cv, mut np) = (Vec::new(), Vec::new());
            for rep in 0..BASELINE_REPEATS {
                let rows = sample_indices(docs.len(), size, size as u64 * 1_000 + rep);
                let sample: Vec<String> = rows.iter().map(|&i| docs[i].clone()).collect();
                let Ok(corpus) = self.reference_corpus(&sample) else {
                    continue;
                };
                let (a, b) = coherence_pair(&corpus, &model_words);
                // Held out: the same sample scored with words chosen without it, minus the
                // same sample scored with words chosen with it, is what choosing the words
                // on these very documents added (the optimism); a batch never gets it.
                let (all_cv, all_np) = coherence_pair(&corpus, &probe.all_words);
                let (out_cv, out_np) = coherence_pair(&corpus, &probe.words_without(&rows));
                let held = |x: Option<f64>, all: Option<f64>, out: Option<f64>| match (all, out) {
                    (Some(all), Some(out)) => x.map(|x| x - (all - out)),
                    _ => x,
                };
                cv.extend(held(a, all_cv, out_cv));
                np.extend(held(b, all_np, out_np));
            }
            let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
            let sd = |v: &[f64]| {
                let m = mean(v)?;
                (v.len() >= 2).then(|| {
                    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
                })
            };
            by_size.push(CoherenceAtSize {
                docs: size,
                c_v: mean(&cv),
                npmi: mean(&np),
                c_v_sd: sd(&cv),
                npmi_sd: sd(&np),
            });
        }
        // No entry for the whole training corpus: it cannot be held out. Larger batches are
        // compared with the largest sample.
        let keywords = Some(self.keyword_null(docs)?);
        let rows = sample_indices(self.embeddings.nrows(), REFERENCE_ROWS, REFERENCE_SEED);
        let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
        for t in self.leave_one_out_topics(&rows)? {
            *counts.entry(t).or_default() += 1;
        }
        self.monitor_baseline = Some(TrainingBaseline {
            docs: docs.len(),
            c_v,
            npmi,
            oov_rate,
            by_size,
            held_out: true,
            keywords,
            reference_topics: Some(ReferenceTopics {
                method: "leave_one_out_knn".into(),
                docs: rows.len(),
                counts: counts.into_iter().collect(),
            }),
        });
        Ok(())
    }

    /// The topics the k-NN vote of [`crate::predict`] (default settings, as [`monitor`]
    /// assigns a batch) gives the training rows `rows` when each row is left out of its own
    /// neighbours: how a new document like it is assigned. Deterministic on any thread count.
    ///
    /// The neighbours' topics were still fitted with the row present, so this is not quite an
    /// unseen document; `tests/drift.rs` measures how close it comes.
    ///
    /// # Errors
    /// A row index past the training rows.
    pub fn leave_one_out_topics(&self, rows: &[usize]) -> Result<Vec<i64>> {
        let n = self.embeddings.nrows();
        if let Some(&bad) = rows.iter().find(|&&r| r >= n) {
            return Err(BertopicError::Mismatch(format!(
                "training row {bad} does not exist: the model has {n} training rows"
            )));
        }
        let knn = crate::predict::KnnParams::default();
        let index = self.known.get_or_init(|| {
            crate::predict::KnownIndex::build(&self.embeddings, &self.doc_text_hashes)
        });
        let queries = self.embeddings.select(ndarray::Axis(0), rows);
        let neighbours = crate::predict::nearest(
            &self.embeddings,
            &index.inv_norms,
            queries.view(),
            knn.k + 1,
        );
        Ok(neighbours
            .into_iter()
            .zip(rows)
            .map(|(mut nb, &row)| {
                // The row itself is normally the nearest; an exact duplicate may tie with it.
                match nb.iter().position(|&(_, j)| j as usize == row) {
                    Some(at) => {
                        nb.remove(at);
                    }
                    None => nb.truncate(knn.k),
                }
                crate::predict::vote(&nb, &self.doc_topics, &self.doc_probs, &knn).0
            })
            .collect())
    }

    /// The keyword null of every non-outlier topic ([`KeywordBaseline`]). Topics run in
    /// parallel, each draw from its own seed, so the result does not depend on the thread
    /// count. Cost: one tokenisation of the training documents, then per topic and size 20
    /// sums over the drawn documents and a c-TF-IDF row (about a second for 6,000 abstracts).
    fn keyword_null(&self, docs: &[String]) -> Result<Vec<KeywordBaseline>> {
        use rayon::prelude::*;
        let terms = TermCounter::new(self)?;
        let per_doc: Vec<Vec<(usize, f64)>> = docs.par_iter().map(|d| terms.count(d)).collect();
        let mut members: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for (i, &t) in self.doc_topics.iter().enumerate() {
            if t >= 0 {
                members.entry(t).or_default().push(i);
            }
        }
        Ok(members
            .into_par_iter()
            .map(|(topic, rows)| {
                let all: Vec<&[(usize, f64)]> =
                    rows.iter().map(|&r| per_doc[r].as_slice()).collect();
                let totals = sum_counts(&all);
                let by_size = KEYWORD_NULL_SIZES
                    .into_iter()
                    .filter(|&c| 2 * c <= rows.len())
                    .map(|c| {
                        let js: Vec<f64> = (0..KEYWORD_NULL_REPEATS)
                            .map(|rep| {
                                let seed = (topic as u64)
                                    .wrapping_mul(0x1_0000_0001)
                                    .wrapping_add(c as u64 * 1_000 + rep);
                                let picked: Vec<&[(usize, f64)]> =
                                    sample_indices(rows.len(), c, seed)
                                        .into_iter()
                                        .map(|k| all[k])
                                        .collect();
                                let drawn = sum_counts(&picked);
                                let rest: Vec<(usize, f64)> = totals
                                    .iter()
                                    .map(|(&i, &(n, df))| {
                                        let (dn, ddf) = drawn.get(&i).copied().unwrap_or((0.0, 0));
                                        (i, (n - dn, df - ddf))
                                    })
                                    .filter(|(_, (n, _))| *n > 0.0)
                                    .map(|(i, (n, _))| (i, n))
                                    .collect();
                                let batch_words = terms.top_words(&drawn, c);
                                let reference = terms.top_weighted(&rest);
                                drift::jaccard(&batch_words, &reference).unwrap_or(0.0)
                            })
                            .collect();
                        let mean = js.iter().sum::<f64>() / js.len() as f64;
                        let var = js.iter().map(|j| (j - mean).powi(2)).sum::<f64>()
                            / (js.len() as f64 - 1.0).max(1.0);
                        KeywordNullAtSize {
                            docs: c,
                            mean,
                            sd: var.sqrt(),
                        }
                    })
                    .collect();
                KeywordBaseline {
                    topic,
                    training_docs: rows.len(),
                    by_size,
                }
            })
            .collect())
    }

    /// The recorded training figures, when the model has them.
    pub fn training_baseline(&self) -> Option<&TrainingBaseline> {
        self.monitor_baseline.as_ref()
    }

    /// Mean c_v and NPMI of the model's topics on `docs` (None where not computable).
    fn batch_coherence(&self, docs: &[String]) -> (Option<f64>, Option<f64>) {
        let topics = self.coherence_topics();
        if topics.is_empty() {
            return (None, None);
        }
        let Ok(corpus) = self.reference_corpus(docs) else {
            return (None, None);
        };
        coherence_pair(&corpus, &topics)
    }

    /// Unigram tokens of `docs` as the model's vectorizer sees them.
    fn unigram_tokens(&self, docs: &[String]) -> Result<Vec<String>> {
        let tokenizer = Tokenizer::new(TokenizerConfig {
            ngram_range: (1, 1),
            ..self.params.tokenizer_config()
        })?;
        let strip = self.params.language == Language::English;
        let mut tokens = Vec::new();
        for d in docs {
            let clean = preprocess_text(d, strip);
            tokenizer.for_each_term(&clean, |t| tokens.push(t.to_string()));
        }
        Ok(tokens)
    }

    /// Share of the training tokens that a model fitted without their document would not know:
    /// outside the vocabulary, or in no other training document.
    fn leave_one_out_oov_rate(&self, docs: &[String]) -> Result<Option<f64>> {
        let vocab: HashSet<&str> = self
            .representation
            .vocabulary
            .iter()
            .map(String::as_str)
            .collect();
        let per_doc: Vec<Vec<String>> = docs
            .iter()
            .map(|d| self.unigram_tokens(std::slice::from_ref(d)))
            .collect::<Result<_>>()?;
        let mut df: HashMap<&str, usize> = HashMap::new();
        for toks in &per_doc {
            let distinct: HashSet<&str> = toks.iter().map(String::as_str).collect();
            for t in distinct {
                *df.entry(t).or_default() += 1;
            }
        }
        let total: usize = per_doc.iter().map(Vec::len).sum();
        if total == 0 {
            return Ok(None);
        }
        let oov = per_doc
            .iter()
            .flatten()
            .filter(|t| !vocab.contains(t.as_str()) || df.get(t.as_str()) == Some(&1))
            .count();
        Ok(Some(oov as f64 / total as f64))
    }

    /// Training and batch top words of every non-outlier topic: the batch words are the topic's
    /// c-TF-IDF words recomputed from its batch documents with the model's vocabulary, analyzer
    /// and idf. Each topic carries its no-drift Jaccard at its batch count when the model
    /// recorded a keyword baseline.
    fn topic_keywords(&self, docs: &[String], topics: &[i64]) -> Result<Vec<TopicKeywords>> {
        let repr = &self.representation;
        let terms = TermCounter::new(self)?;
        let mut members: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for (i, &t) in topics.iter().enumerate() {
            members.entry(t).or_default().push(i);
        }
        let baselines: HashMap<i64, &KeywordBaseline> = self
            .monitor_baseline
            .iter()
            .flat_map(|b| b.keywords.iter().flatten())
            .map(|k| (k.topic, k))
            .collect();
        let mut out = Vec::new();
        for (row, &id) in repr.topic_ids.iter().enumerate() {
            if id < 0 {
                continue;
            }
            let (idx, val) = repr.ctfidf.row(row);
            let training_words = terms.words_of(top_terms(idx, val, terms.n));
            let batch_docs = members.get(&id).map_or(&[][..], Vec::as_slice);
            let counted: Vec<Vec<(usize, f64)>> =
                batch_docs.iter().map(|&d| terms.count(&docs[d])).collect();
            let refs: Vec<&[(usize, f64)]> = counted.iter().map(Vec::as_slice).collect();
            out.push(TopicKeywords {
                topic: id,
                training_words,
                batch_words: terms.top_words(&sum_counts(&refs), batch_docs.len()),
                batch_docs: batch_docs.len(),
                null: baselines.get(&id).and_then(|b| b.at(batch_docs.len())),
            });
        }
        Ok(out)
    }
}

/// Term counting and c-TF-IDF words with a model's vocabulary, analyzer and idf: the one
/// procedure behind both a batch's topic words and the keyword baseline's resamples.
struct TermCounter<'a> {
    repr: &'a crate::represent::TopicRepresentation,
    tokenizer: Tokenizer,
    strip: bool,
    index: HashMap<&'a str, usize>,
    reduce: bool,
    n: usize,
}

impl<'a> TermCounter<'a> {
    fn new(model: &'a TopicModel) -> Result<Self> {
        let repr = &model.representation;
        Ok(TermCounter {
            repr,
            tokenizer: Tokenizer::new(model.params.tokenizer_config())?,
            strip: model.params.language == Language::English,
            index: repr
                .vocabulary
                .iter()
                .enumerate()
                .map(|(i, w)| (w.as_str(), i))
                .collect(),
            reduce: repr.params.ctfidf.reduce_frequent_words,
            n: model.params.top_n_words,
        })
    }

    /// Vocabulary term counts of one document, by term index.
    fn count(&self, doc: &str) -> Vec<(usize, f64)> {
        let clean = preprocess_text(doc, self.strip);
        let mut here: BTreeMap<usize, f64> = BTreeMap::new();
        self.tokenizer.for_each_term(&clean, |t| {
            if let Some(&i) = self.index.get(t) {
                *here.entry(i).or_default() += 1.0;
            }
        });
        here.into_iter().collect()
    }

    fn words_of(&self, top: Vec<(usize, f64)>) -> Vec<String> {
        top.into_iter()
            .filter_map(|(i, _)| self.repr.vocabulary.get(i).cloned())
            .collect()
    }

    /// Top words of summed counts (no document-frequency filter), as a training topic's.
    fn top_weighted(&self, counts: &[(usize, f64)]) -> Vec<String> {
        let weights = weigh_row(counts, &self.repr.idf, self.reduce);
        let (bi, bv): (Vec<usize>, Vec<f64>) = weights.into_iter().unzip();
        self.words_of(top_terms(&bi, &bv, self.n))
    }

    /// Top words of `docs` documents' summed counts and document frequencies, as a batch
    /// topic's. A topic's training words come from all its training documents, where a term
    /// of one document never wins; from a few batch documents it would (a rare name repeated
    /// in one abstract outweighs the topic's common words). So batch words must occur in at
    /// least 2 of the topic's batch documents.
    fn top_words(&self, counts: &BTreeMap<usize, (f64, usize)>, docs: usize) -> Vec<String> {
        let min_df = if docs >= 2 { 2 } else { 1 };
        let kept: Vec<(usize, f64)> = counts
            .iter()
            .filter(|(_, (_, df))| *df >= min_df)
            .map(|(&i, &(c, _))| (i, c))
            .collect();
        self.top_weighted(&kept)
    }
}

/// Mean c_v and NPMI of `topics` on `corpus` (None where not computable).
fn coherence_pair(
    corpus: &crate::coherence::ReferenceCorpus,
    topics: &[Vec<String>],
) -> (Option<f64>, Option<f64>) {
    if topics.is_empty() {
        return (None, None);
    }
    let opts = crate::coherence::CoherenceOptions::default();
    let mean = |m| {
        corpus
            .coherence(topics, m, &opts)
            .ok()
            .map(|r| r.mean)
            .filter(|v| v.is_finite())
    };
    (mean(Measure::CV), mean(Measure::CNpmi))
}

/// The coherence topics' c-TF-IDF words recomputed from all their training documents, or from
/// those outside a sample: what the quality baseline's optimism correction compares.
struct OptimismProbe<'a> {
    terms: TermCounter<'a>,
    /// Term counts of each training document.
    per_doc: Vec<Vec<(usize, f64)>>,
    /// Training topic of each document.
    doc_topics: &'a [i64],
    /// The coherence topics' ids, in [`TopicModel::coherence_topics`] order, with their summed
    /// counts.
    topics: Vec<(i64, Counts)>,
    /// Their words from all their documents.
    all_words: Vec<Vec<String>>,
}

impl<'a> OptimismProbe<'a> {
    fn new(model: &'a TopicModel, docs: &[String]) -> Result<Self> {
        use rayon::prelude::*;
        let terms = TermCounter::new(model)?;
        let per_doc: Vec<Vec<(usize, f64)>> = docs.par_iter().map(|d| terms.count(d)).collect();
        let mut members: BTreeMap<i64, Vec<&[(usize, f64)]>> = BTreeMap::new();
        for (i, &t) in model.doc_topics.iter().enumerate() {
            members.entry(t).or_default().push(per_doc[i].as_slice());
        }
        let topics: Vec<(i64, Counts)> = model
            .topics
            .iter()
            .filter(|t| t.id >= 0 && t.count >= 3)
            .map(|t| {
                let docs = members.get(&t.id).map_or(&[][..], Vec::as_slice);
                (t.id, sum_counts(docs))
            })
            .collect();
        let all_words = topics
            .iter()
            .map(|(_, c)| terms.top_weighted(&plain(c)))
            .collect();
        Ok(OptimismProbe {
            terms,
            per_doc,
            doc_topics: &model.doc_topics,
            topics,
            all_words,
        })
    }

    /// Each topic's words from its documents outside `held` (its words from all of them when
    /// `held` has every one).
    fn words_without(&self, held: &[usize]) -> Vec<Vec<String>> {
        let mut drawn: HashMap<i64, Vec<&[(usize, f64)]>> = HashMap::new();
        for &i in held {
            drawn
                .entry(self.doc_topics[i])
                .or_default()
                .push(self.per_doc[i].as_slice());
        }
        self.topics
            .iter()
            .zip(&self.all_words)
            .map(|((id, totals), all)| {
                let Some(out) = drawn.get(id) else {
                    return all.clone();
                };
                let out = sum_counts(out);
                let rest: Vec<(usize, f64)> = totals
                    .iter()
                    .map(|(&i, &(n, _))| (i, n - out.get(&i).map_or(0.0, |&(dn, _)| dn)))
                    .filter(|&(_, n)| n > 0.0)
                    .collect();
                if rest.is_empty() {
                    all.clone()
                } else {
                    self.terms.top_weighted(&rest)
                }
            })
            .collect()
    }
}

/// Summed term counts and document frequencies by term index ([`sum_counts`]).
type Counts = BTreeMap<usize, (f64, usize)>;

/// Summed counts without their document frequencies.
fn plain(counts: &Counts) -> Vec<(usize, f64)> {
    counts.iter().map(|(&i, &(n, _))| (i, n)).collect()
}

/// Summed term counts and document frequencies of documents' term counts.
fn sum_counts(docs: &[&[(usize, f64)]]) -> BTreeMap<usize, (f64, usize)> {
    let mut counts: BTreeMap<usize, (f64, usize)> = BTreeMap::new();
    for d in docs {
        for &(i, c) in *d {
            let e = counts.entry(i).or_default();
            e.0 += c;
            e.1 += 1;
        }
    }
    counts
}

/// Monitors a batch: assigns `texts` (with their `embeddings`, one row each, from the model's
/// embedding model) to the model's topics and measures every drift signal against the
/// training data. Nothing is written; see [`append_history`].
///
/// # Errors
/// [`MonitorError`] for an empty or one-document batch, embeddings of another width or row
/// count; a drift signal's error for invalid configuration or non-finite values.
pub fn monitor(
    model: &TopicModel,
    texts: &[String],
    embeddings: &Array2<f32>,
    opts: &MonitorOptions,
) -> Result<MonitorReport> {
    let start = Instant::now();
    let mut config = opts.config.clone();
    if let Some(seed) = opts.seed {
        config.embedding.seed = seed;
        config.distribution.seed = seed;
    }
    config.validate()?;
    match texts.len() {
        0 => return Err(MonitorError::EmptyBatch.into()),
        n if n < MIN_BATCH_DOCS => return Err(MonitorError::TooFewDocuments { docs: n }.into()),
        _ => {}
    }
    let dim = model.embeddings.ncols();
    if embeddings.ncols() != dim {
        return Err(MonitorError::DimensionMismatch {
            batch: embeddings.ncols(),
            model: dim,
            model_id: model.embedding.as_ref().map_or_else(
                || model.params.embedding_model.clone(),
                |e| e.model_id.clone(),
            ),
        }
        .into());
    }
    if embeddings.nrows() != texts.len() {
        return Err(MonitorError::RowMismatch {
            docs: texts.len(),
            rows: embeddings.nrows(),
        }
        .into());
    }

    let t = Instant::now();
    let (topics, _probs) = model.transform_embeddings(texts, embeddings)?;
    let transform_seconds = t.elapsed().as_secs_f64();

    let keywords = model.topic_keywords(texts, &topics)?;
    let keyword_null = keywords.iter().any(|k| k.null.is_some());
    let has_topic_words = keywords.iter().any(|k| k.batch_docs > 0);
    let baseline_has_keywords = model
        .monitor_baseline
        .as_ref()
        .is_some_and(|b| b.keywords.is_some());
    if !baseline_has_keywords {
        // Fixed keyword thresholds sit inside the sampling noise of a batch of a few hundred
        // documents (tests/drift.rs): without the no-drift baseline the signal only informs.
        config.voting.topic = false;
    }
    // The voting tests share the p thresholds (Bonferroni by default), so that the report as
    // a whole, not each signal, keeps the false-alarm rate `p_medium`.
    let per_test = config.per_test(keyword_null && has_topic_words);
    let family_note = family_wise_note(&per_test);
    let config = per_test.config;
    // A batch made only of outliers has no topic words to compare: the signal is left out
    // (distribution drift reports the outlier share).
    let topic = if has_topic_words {
        Some(drift::keyword_drift(&keywords, &config)?)
    } else {
        None
    };
    let mut batch_counts: BTreeMap<i64, usize> = BTreeMap::new();
    for &t in &topics {
        *batch_counts.entry(t).or_default() += 1;
    }
    let reference = model
        .monitor_baseline
        .as_ref()
        .and_then(|b| b.reference_topics.as_ref());
    let distribution = match reference {
        // Training documents assigned as the batch is (leave-one-out k-NN, recorded at train
        // time): like with like.
        Some(r) => drift::topic_distribution_drift_from_counts(
            &r.counts.iter().copied().collect(),
            &batch_counts,
            &config,
        )?,
        // Older models: the fitted topics of a seeded sample of training documents (a
        // training row keeps its fitted topic in `transform`). Fitted labels have more
        // outliers than predictions and a slightly different mix (tests/drift.rs).
        None => {
            let n_train = model.embeddings.nrows();
            let rows = sample_indices(
                n_train,
                config.embedding.max_rows_per_side.min(n_train),
                config.embedding.seed,
            );
            let (training_topics, _) = model.transform_embeddings(
                &vec![String::new(); rows.len()],
                &model.embeddings.select(ndarray::Axis(0), &rows),
            )?;
            drift::topic_distribution_drift(&training_topics, &topics, &config)?
        }
    };
    let embedding = drift::embedding_drift(model.embeddings.view(), embeddings.view(), &config)?;
    let baseline = model.monitor_baseline.as_ref();
    let tokens = model.unigram_tokens(texts)?;
    let vocabulary = if tokens.is_empty() {
        None
    } else {
        let vocab: HashSet<&str> = model
            .representation
            .vocabulary
            .iter()
            .map(String::as_str)
            .collect();
        let known = |t: &str| vocab.contains(t);
        Some(drift::vocabulary_drift(
            &tokens,
            &known,
            baseline.and_then(|b| b.oov_rate),
            &config,
        )?)
    };
    let (batch_c_v, batch_npmi) = model.batch_coherence(texts);
    let expected =
        baseline.map_or_else(CoherenceExpected::default, |b| b.coherence_at(texts.len()));
    let quality = drift::quality_drift(
        &QualityInputs {
            batch_c_v,
            training_c_v: expected.c_v,
            batch_npmi,
            training_npmi: expected.npmi,
            training_c_v_sd: expected.c_v_sd,
            training_npmi_sd: expected.npmi_sd,
            inference_seconds: Some(transform_seconds),
            batch_docs: Some(texts.len()),
        },
        &config,
    )?;
    let mut report = DriftReport::from_signals(
        Signals {
            topic: topic.map(Into::into),
            distribution: Some(distribution),
            embedding: Some(embedding),
            vocabulary,
            quality: Some(quality),
        },
        &config,
    );
    if let Some(b) = baseline.filter(|b| !b.by_size.is_empty()) {
        report.notes.push(format!(
            "quality: the training c_v / NPMI are taken at the batch size ({} documents) from \
             samples of the {} training documents (coherence depends on corpus size)",
            texts.len(),
            b.docs
        ));
    }
    if baseline.is_some_and(|b| !b.held_out && !b.by_size.is_empty()) {
        report.notes.push(
            "quality: the model's coherence baseline is in-sample (saved before bertopic held \
             it out), so it expects more than unseen documents reach; retrain the model"
                .into(),
        );
    }
    if baseline.is_none() {
        report.notes.push(
            "quality: the model has no training baseline (saved before bertopic recorded one): \
             c_v and NPMI are reported without a drop check and the OOV rate without a rise \
             check; retrain the model to enable them"
                .into(),
        );
    }
    if !baseline_has_keywords {
        report.notes.push(
            "topic drift: the model has no keyword baseline (saved before bertopic recorded \
             one), so the keyword Jaccard is judged by fixed thresholds and does not vote; \
             retrain the model to enable it"
                .into(),
        );
    } else if !keyword_null && keywords.iter().any(|k| k.batch_docs > 0) {
        report.notes.push(
            "topic drift: no topic of the batch has a no-drift keyword baseline at its size \
             (topics too small to resample); fixed thresholds were used"
                .into(),
        );
    }
    if let Some(note) = family_note {
        report.notes.push(note);
    }
    if reference.is_none() {
        report.notes.push(
            "topic distribution: the model has no reference topics (saved before bertopic \
             recorded them), so the batch's predicted topics are compared with the fitted \
             topics of training documents, which differ a little from predictions; retrain the \
             model to compare like with like"
                .into(),
        );
    }
    if !keywords.iter().any(|k| k.batch_docs > 0) {
        report.notes.push(
            "topic drift: every batch document is an outlier; no topic words to compare".into(),
        );
    }
    if tokens.is_empty() {
        report
            .notes
            .push("vocabulary: the batch has no tokens; the OOV rate is not measured".into());
    }
    let topic_counts = batch_counts;
    Ok(MonitorReport {
        drift: report,
        batch: BatchInfo {
            docs: texts.len(),
            source: opts.source.clone(),
            timestamp: rfc3339_now(),
            transform_seconds,
            seconds_per_doc: transform_seconds / texts.len() as f64,
            total_seconds: start.elapsed().as_secs_f64(),
            seed: config.embedding.seed,
            topic_counts,
        },
    })
}

/// The note that says how the p thresholds were shared (`None` when nothing was corrected).
fn family_wise_note(per: &drift::PerTest) -> Option<String> {
    let c = &per.config;
    let mut parts = Vec::new();
    let num = |x: f64| format!("{}", (x * 1e6).round() / 1e6);
    if per.topic > 1.0 {
        parts.push(format!("topic keywords p ≤ {}", num(c.topic.p_medium)));
    }
    if per.distribution > 1.0 {
        parts.push(format!(
            "topic shares p ≤ {} for each of JS, PSI and the outlier rise",
            num(c.distribution.p_medium)
        ));
    }
    if per.embedding > 1.0 {
        parts.push(format!("embeddings p < {}", num(c.embedding.p_medium)));
    }
    if per.quality > 1.0 {
        parts.push(format!(
            "quality p ≤ {} for c_v and NPMI",
            num(c.quality.p_medium)
        ));
    }
    (!parts.is_empty()).then(|| {
        format!(
            "family-wise (Bonferroni over {} voting signals with a no-drift null): MEDIUM needs \
             {}",
            per.signals,
            parts.join(", ")
        )
    })
}

/// One line of `monitoring.jsonl`: the verdict and each signal's headline value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When the run finished (UTC, RFC 3339).
    pub timestamp: String,
    /// Where the batch came from.
    pub source: Option<String>,
    /// Documents in the batch.
    pub docs: usize,
    /// Assignment seconds per document.
    pub seconds_per_doc: f64,
    /// Seed of the embedding test.
    pub seed: u64,
    /// Overall level.
    pub level: Level,
    /// Why.
    pub reasons: Vec<String>,
    /// Per signal: level and headline value.
    pub signals: BTreeMap<String, SignalEntry>,
}

/// A signal's level and headline value in the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalEntry {
    /// The signal's level.
    pub level: Level,
    /// What `value` is (`mean_jaccard`, `js_distance`, `mmd2`, `oov_rate`, `c_v`).
    pub metric: String,
    /// The headline value (None when not measured, e.g. no topic scored).
    pub value: Option<f64>,
    /// The p-value against the signal's no-drift null: the embedding permutation test, the
    /// topic-share permutation test (of the JS distance), the keyword baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
}

impl From<&MonitorReport> for HistoryEntry {
    fn from(r: &MonitorReport) -> Self {
        let d = &r.drift;
        let mut signals = BTreeMap::new();
        let mut add = |name: &str, level, metric: &str, value, p_value| {
            signals.insert(
                name.to_string(),
                SignalEntry {
                    level,
                    metric: metric.into(),
                    value,
                    p_value,
                },
            );
        };
        match &d.topic_drift {
            Some(TopicDrift::ReRepresent(k)) => add(
                "topic",
                k.level,
                "mean_jaccard",
                k.mean_jaccard.map(|c| c.value),
                k.null.map(|n| n.p_value),
            ),
            Some(TopicDrift::Matching(m)) => add(
                "topic",
                m.level,
                "weighted_similarity",
                Some(m.weighted_similarity.value),
                None,
            ),
            None => {}
        }
        if let Some(x) = &d.distribution_drift {
            add(
                "distribution",
                x.level,
                "js_distance",
                Some(x.js_distance.value),
                x.null.as_ref().map(|n| n.js_p_value),
            );
        }
        if let Some(x) = &d.embedding_drift {
            add(
                "embedding",
                x.level,
                "mmd2",
                Some(x.mmd2),
                Some(x.p_value.value),
            );
        }
        if let Some(x) = &d.vocabulary_drift {
            add(
                "vocabulary",
                x.level,
                "oov_rate",
                Some(x.oov_rate.value),
                None,
            );
        }
        if let Some(x) = &d.quality {
            add(
                "quality",
                x.level,
                "c_v",
                x.c_v.as_ref().map(|c| c.batch),
                None,
            );
        }
        HistoryEntry {
            timestamp: r.batch.timestamp.clone(),
            source: r.batch.source.clone(),
            docs: r.batch.docs,
            seconds_per_doc: r.batch.seconds_per_doc,
            seed: r.batch.seed,
            level: d.level,
            reasons: d.reasons.clone(),
            signals,
        }
    }
}

/// Appends the run to `monitoring.jsonl` in `model_dir` (atomic, locked: see
/// [`crate::fs::append_line`]).
pub fn append_history(model_dir: &Path, report: &MonitorReport) -> Result<()> {
    let line = serde_json::to_string(&HistoryEntry::from(report))
        .map_err(|e| BertopicError::Mismatch(format!("cannot serialise the history line: {e}")))?;
    Ok(crate::fs::append_line(
        &model_dir.join(HISTORY_FILE),
        &line,
    )?)
}

/// The monitoring history of `model_dir`, oldest first (empty when there is none).
pub fn read_history(model_dir: &Path) -> Result<Vec<HistoryEntry>> {
    let path = model_dir.join(HISTORY_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !model_dir.is_dir() {
                return Err(BertopicError::io(model_dir, e));
            }
            return Ok(Vec::new());
        }
        Err(e) => return Err(BertopicError::io(&path, e)),
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str::<HistoryEntry>(l).map_err(|e| {
                BertopicError::from(MonitorError::BadHistory {
                    path: path.clone(),
                    line: i + 1,
                    reason: e.to_string(),
                })
            })
        })
        .collect()
}

/// The history as an aligned text table, one row per run.
pub fn history_table(entries: &[HistoryEntry]) -> String {
    let mut rows = vec![[
        "timestamp".to_string(),
        "source".into(),
        "docs".into(),
        "level".into(),
        "topic jaccard".into(),
        "distr JS".into(),
        "MMD² (p)".into(),
        "OOV".into(),
        "c_v".into(),
        "ms/doc".into(),
    ]];
    for e in entries {
        let cell = |name: &str, fmt: &dyn Fn(&SignalEntry) -> String| {
            e.signals.get(name).map_or_else(
                || "-".to_string(),
                |s| format!("{} {}", fmt(s), short(s.level)),
            )
        };
        let num = |digits: usize| {
            move |s: &SignalEntry| s.value.map_or("-".into(), |v| format!("{v:.digits$}"))
        };
        rows.push([
            e.timestamp.clone(),
            e.source.clone().unwrap_or_else(|| "-".into()),
            e.docs.to_string(),
            e.level.to_string(),
            cell("topic", &num(2)),
            cell("distribution", &num(3)),
            cell("embedding", &|s: &SignalEntry| {
                format!(
                    "{} ({})",
                    s.value.map_or("-".into(), |v| format!("{v:.4}")),
                    s.p_value.map_or("-".into(), |p| format!("{p:.3}"))
                )
            }),
            cell("vocabulary", &|s: &SignalEntry| {
                s.value.map_or("-".into(), |v| format!("{:.1}%", v * 100.0))
            }),
            cell("quality", &num(3)),
            format!("{:.2}", e.seconds_per_doc * 1000.0),
        ]);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(s, &w)| format!("{s:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// One letter for a level in the table (L / M / H).
fn short(level: Level) -> &'static str {
    match level {
        Level::Low => "L",
        Level::Medium => "M",
        Level::High => "H",
    }
}

/// The current time as `YYYY-MM-DDTHH:MM:SSZ`.
fn rfc3339_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    crate::registry::rfc3339(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_and_interpolation() {
        let s = sample_indices(100, 10, 3);
        assert_eq!(s.len(), 10);
        assert!(s.windows(2).all(|w| w[0] < w[1]) && s[9] < 100);
        assert_eq!(s, sample_indices(100, 10, 3));
        assert_eq!(sample_indices(5, 10, 1), vec![0, 1, 2, 3, 4]);
        let pts = [(0.0, 1.0), (2.0, 3.0)];
        assert_eq!(crate::baseline::interpolate(&pts, 1.0), Some(2.0));
        assert_eq!(crate::baseline::interpolate(&pts, -1.0), Some(1.0));
        assert_eq!(crate::baseline::interpolate(&pts, 5.0), Some(3.0));
        assert_eq!(crate::baseline::interpolate(&[], 5.0), None);
    }
}
