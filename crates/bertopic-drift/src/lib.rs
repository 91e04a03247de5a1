//! Drift monitoring for a deployed topic model: is a new batch of documents still the kind of
//! data the model was trained on?
//!
//! The crate knows nothing about how topics were made. Every signal takes plain data (topic ids,
//! word lists, counts, `ndarray` embeddings, tokens) and returns a serialisable result with its
//! value, thresholds and [`Level`]; [`DriftReport::from_signals`] combines them into one verdict.
//! One [`DriftConfig`] (serde, every default documented on its field) holds every threshold,
//! seed and sample size.
//!
//! | signal | function | value | default levels |
//! |---|---|---|---|
//! | topic drift, re-represent | [`keyword_drift`] | batch-share-weighted mean Jaccard of top words | `< 0.6` MEDIUM, `< 0.4` HIGH; with a [`JaccardNull`]: of the no-drift expectation, and p `≤ 0.01`/`0.001` |
//! | topic drift, refit | [`match_topics`] | optimal one-to-one matching, share-weighted similarity | Jaccard as above; cosine `< 0.8` / `< 0.6` |
//! | topic distribution | [`topic_distribution_drift`] | JS distance, PSI, outlier share rise | JS `≥ 0.13`/`0.21`, PSI `≥ 0.1`/`0.25`, rise `≥ 5`/`15` points, each beyond the permutation noise and with p `≤ 0.01`/`0.001` |
//! | embeddings | [`embedding_drift`] | unbiased MMD², permutation p-value | `p < 0.01` MEDIUM, and MMD² `≥ 0.001` HIGH |
//! | vocabulary | [`vocabulary_drift`] | OOV token rate (or its rise over a baseline) | `≥ 10%`/`25%` (rise `≥ 5`/`15` points) |
//! | quality | [`quality_drift`] | c_v / NPMI drop, seconds per document | c_v drop `≥ 0.05`/`0.10`, NPMI `≥ 0.03`/`0.06`; with the training spread at the batch size, also p `≤ 0.01`/`0.001` |
//!
//! The overall level is the highest level of the signals that vote ([`Voting`], all by
//! default), and `reasons` say which checks fired, e.g.
//! `"embedding drift: MMD² 0.0123, p = 0.001 < 0.0025"`. The p thresholds in the table are
//! for the whole report: pass [`DriftConfig::per_test`]'s configuration to the signal
//! functions and the voting signals share them ([`FamilyWise`], below).
//!
//! # Topic drift: why re-represent is the default
//!
//! The seed project refitted a model on the batch and compared topic keyword sets by Jaccard.
//! Re-represent mode instead keeps the trained model: assign the batch documents to the existing
//! topics, recompute each topic's top words from its batch documents (e.g. c-TF-IDF) and compare
//! them with the training top words. Topic ids stay the same, so no matching is needed and a
//! change is attributable to a topic; there is no refit randomness (UMAP/HDBSCAN on a new sample
//! gives different topics even without drift); and it costs one representation pass instead of
//! a full fit. Topics with fewer than `min_docs_per_topic` batch documents are listed as not
//! scored rather than scored on noise. Refit mode ([`match_topics`]) is there for when a refit
//! is wanted anyway: it matches the two topic sets with the Hungarian algorithm
//! ([`max_weight_assignment`]) and reports vanished and new topics.
//!
//! # Size-aware thresholds: why topic keywords and topic shares need a null
//!
//! Fixed thresholds assume that a batch without drift reproduces the training figures. For
//! the two topic signals it does not, and the gap depends on the batch size: 200 documents
//! spread over 60 topics give JS distances around 0.25–0.3 and a re-represented keyword
//! Jaccard around 0.25 by sampling noise alone (measured on arXiv, `tests/drift.rs`), past
//! the fixed HIGH thresholds 0.21 and 0.4. Both signals therefore compare the batch with a
//! **null distribution at the batch's own size**, and a level needs the value to be both
//! significant against that null (p-value `≤ p_medium` = 0.01, `≤ p_high` = 0.001) and large
//! by the seed's absolute thresholds applied to the shift beyond the noise, so a large real
//! shift stays HIGH and a tiny but significant one stays LOW:
//!
//! - topic shares: a label-permutation test (training and batch labels pooled and
//!   relabelled, 20,000 seeded permutations, 0.1–0.2 s); see [`topic_distribution_drift`];
//! - topic keywords: each topic's no-drift Jaccard at its batch count ([`JaccardNull`], mean
//!   and spread over resamples of training documents, which the caller provides, e.g. from a
//!   baseline saved with the model); see [`keyword_drift`].
//!
//! Set `distribution.n_permutations = 0`, or pass no nulls, for the fixed thresholds.
//!
//! # One false-alarm rate for the report: family-wise thresholds
//!
//! The verdict is the highest level of the voting signals, so a batch without drift is flagged
//! whenever any one of them fires: with `k` signals each tested at `p_medium`, up to `k` times
//! as often as `p_medium` says. Measured on arXiv with four voting signals at 0.01 each:
//! 4 false alarms in 40 same-distribution batches of 200 (`tests/drift.rs`).
//! [`DriftConfig::per_test`] therefore shares each p threshold among the voting signals that
//! have a no-drift null (weighted Bonferroni, [`FamilyWise::Bonferroni`], the default):
//! `p / k` per signal, split again among a signal's statistics (topic shares: JS, PSI and the
//! outlier rise). The report's false-alarm rate is then at most `p_medium` whatever the
//! dependence between the signals. Holm's step-down procedure would flag no more batches:
//! its first step is this same test, and one rejection already sets the level. The price is
//! resolution: the permutation tests need enough permutations to reach `p / k`, hence the
//! defaults of 20,000 topic-share permutations (0.1–0.2 s) and up to 1,000 for MMD.
//!
//! # Embedding drift
//!
//! [`embedding_drift`] runs a two-sample MMD test with an RBF kernel whose bandwidth is the
//! median pairwise distance of the pooled sample, on a seeded subsample of at most 2,000 rows per
//! side. The statistic is the **unbiased** MMD² estimator; the p-value is
//! `(#{permuted ≥ observed} + 1) / (n_permutations + 1)`. The kernel matrix is built once
//! (upper half only, it is symmetric) and whole chunks of permutations are scored by dense
//! matrix products over it, so 2,000 vs 2,000 rows of dimension 384 with 200 permutations take
//! about 0.7–0.8 s on two cores. The default is up to 1,000 permutations (the family-wise
//! thresholds need p-values below 0.0033), stopped as soon as `stop_after_exceedances` (10)
//! of them reach the observed statistic: Besag and Clifford's sequential p-value
//! `h / L`, which never stops before LOW is certain, so it changes no level. A batch without
//! drift then costs about as much as 200 permutations did; a drifting one runs all 1,000
//! (`benches/mmd.rs`, 2,000 vs 2,000: 0.78 s with 200 permutations, 1.72 s with 1,000, on
//! two shared cores). Results are identical for any number of rayon threads.
//! With thousands of rows a harmless shift is already significant, so HIGH also asks for
//! MMD² of at least `high_min_mmd2`.
//!
//! A domain-classifier AUC (the default of the most used drift library) is **not** a signal
//! here, because it was measured and added nothing (`tests/drift.rs`: a seeded 5-fold,
//! class-balanced, L2 logistic regression on the raw embeddings, up to 2,000 training rows
//! against the batch, out-of-fold AUC with a Mann–Whitney p-value). On the arXiv cases it
//! flagged the same batches as MMD: unseen same-category papers AUC 0.49; never-seen
//! categories 0.83 (MMD p at its floor 0.005 too); 500-paper mixes first significant at 15–20%
//! foreign papers like MMD (10%: AUC 0.50, p = 0.47); and it raised a false alarm at p < 0.01
//! in 1 of 20 same-distribution batches. It cost 2.5–6 s per batch on two cores, against
//! 0.1–0.3 s for the MMD test on the same rows.
//!
//! # Determinism and errors
//!
//! Same inputs and config give the same report: outputs are sorted by id, the only randomness is
//! the seeded subsample and permutations. Bad input (empty batch, one-row batch for MMD,
//! dimension mismatch, NaN, duplicate topic ids, invalid config) gives a [`DriftError`] whose
//! message says what to do; nothing panics on bad input.
//!
//! # Example
//!
//! ```
//! use bertopic_drift::{
//!     embedding_drift, keyword_drift, topic_distribution_drift, vocabulary_drift, DriftConfig,
//!     DriftReport, Level, Signals, TopicKeywords,
//! };
//! use ndarray::Array2;
//! use std::collections::HashSet;
//!
//! let words = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
//! let config = DriftConfig::default();
//!
//! // Topic 0 kept 3 of 5 words (Jaccard 0.6), topic 1 now talks about something else (0):
//! // weighted by batch share, 0.4 · 0.6 + 0.6 · 0 = 0.24 < 0.4, HIGH.
//! let topics = vec![
//!     TopicKeywords {
//!         topic: 0,
//!         training_words: words("tax budget deficit spending"),
//!         batch_words: words("tax budget deficit debt"),
//!         batch_docs: 40,
//!         null: None,
//!     },
//!     TopicKeywords {
//!         topic: 1,
//!         training_words: words("war troops army peace"),
//!         batch_words: words("virus vaccine mask health"),
//!         batch_docs: 60,
//!         null: None,
//!     },
//! ];
//! let topic = keyword_drift(&topics, &config)?;
//! assert_eq!(topic.level, Level::High);
//!
//! // Topic labels per document (-1 = outlier).
//! let distribution = topic_distribution_drift(&[0, 0, 1, 1, -1], &[0, 1, 1, -1, -1], &config)?;
//!
//! // Embeddings: the batch moved away from the training data.
//! let training = Array2::from_shape_fn((20, 3), |(i, j)| ((i * 7 + j * 3) % 5) as f32);
//! let batch = training.mapv(|x| x + 4.0);
//! let embedding = embedding_drift(training.view(), batch.view(), &config)?;
//! assert_eq!(embedding.level, Level::High);
//!
//! let vocabulary: HashSet<String> = words("tax budget war").into_iter().collect();
//! let vocab = vocabulary_drift(["tax", "vaccine", "budget", "war"], &vocabulary, None, &config)?;
//!
//! let report = DriftReport::from_signals(
//!     Signals {
//!         topic: Some(topic.into()),
//!         distribution: Some(distribution),
//!         embedding: Some(embedding),
//!         vocabulary: Some(vocab),
//!         quality: None,
//!     },
//!     &config,
//! );
//! assert_eq!(report.level, Level::High);
//! assert!(report.reasons.iter().any(|r| r.starts_with("embedding drift: MMD² ")));
//!
//! let json = serde_json::to_value(&report).unwrap();
//! assert_eq!(json["level"], "HIGH");
//! assert_eq!(json["topic_drift"]["mean_jaccard"]["high"], 0.4);
//! # Ok::<(), bertopic_drift::DriftError>(())
//! ```

#![warn(missing_docs)]

mod assignment;
mod config;
mod distribution;
mod embedding;
mod error;
mod level;
mod quality;
mod report;
mod topic;
mod vocabulary;

pub use assignment::max_weight_assignment;
pub use config::{
    DistributionDriftConfig, DriftConfig, EmbeddingDriftConfig, FamilyWise, PerTest,
    QualityDriftConfig, SimilarityChoice, TopicDriftConfig, VocabularyDriftConfig, Voting,
    MAX_ROWS_PER_SIDE_LIMIT,
};
pub use distribution::{
    js_distance, psi, topic_distribution_drift, topic_distribution_drift_from_counts,
    DistributionDrift, OutlierShift, ShareNull, TopicShare,
};
pub use embedding::{embedding_drift, EmbeddingDrift, MmdEstimator};
pub use error::{DriftError, Result, Side};
pub use level::{Check, Direction, Level};
pub use quality::{quality_drift, CoherenceChange, QualityDrift, QualityInputs};
pub use report::{DriftReport, SignalKind, Signals};
pub use topic::{
    jaccard, keyword_drift, match_topics, JaccardNull, KeywordDrift, KeywordNull, MatchedTopic,
    NotScored, NotScoredReason, Similarity, TopicDrift, TopicJaccard, TopicKeywords, TopicMatching,
    TopicSummary,
};
pub use vocabulary::{vocabulary_drift, TokenCount, Vocabulary, VocabularyDrift};
