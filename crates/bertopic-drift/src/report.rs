//! [`DriftReport`]: the signals and one verdict.

use crate::config::DriftConfig;
use crate::distribution::DistributionDrift;
use crate::embedding::EmbeddingDrift;
use crate::level::Level;
use crate::quality::QualityDrift;
use crate::topic::TopicDrift;
use crate::vocabulary::VocabularyDrift;
use serde::{Deserialize, Serialize};

/// The five signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// Topic drift (keywords or matching).
    Topic,
    /// Topic distribution drift.
    Distribution,
    /// Embedding drift.
    Embedding,
    /// Vocabulary drift.
    Vocabulary,
    /// Quality (coherence drop).
    Quality,
}

/// The signals computed for one batch; leave out (`None`) what was not measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signals {
    /// From [`crate::keyword_drift`] or [`crate::match_topics`] (`.into()`).
    pub topic: Option<TopicDrift>,
    /// From [`crate::topic_distribution_drift`].
    pub distribution: Option<DistributionDrift>,
    /// From [`crate::embedding_drift`].
    pub embedding: Option<EmbeddingDrift>,
    /// From [`crate::vocabulary_drift`].
    pub vocabulary: Option<VocabularyDrift>,
    /// From [`crate::quality_drift`].
    pub quality: Option<QualityDrift>,
}

/// The drift report: overall level, reasons, and one object per signal (`null` when not
/// measured), each with its values, thresholds and level.
///
/// JSON shape (abridged):
/// ```json
/// {
///   "level": "HIGH",
///   "reasons": ["embedding drift: MMD² 0.0123, p = 0.005 < 0.01"],
///   "notes": [],
///   "voting": ["topic", "distribution", "embedding", "vocabulary", "quality"],
///   "topic_drift": {"mode": "re_represent", "mean_jaccard": {"value": 0.71, "medium": 0.6,
///                   "high": 0.4, "direction": "below", "level": "LOW"}, "level": "LOW", ...},
///   "distribution_drift": {"js_distance": {...}, "psi": {...}, "outlier": {...}, ...},
///   "embedding_drift": {"mmd2": 0.0123, "p_value": {...}, "level": "HIGH", ...},
///   "vocabulary_drift": null,
///   "quality": null
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    /// The highest level among the voting signals present.
    pub level: Level,
    /// Why the level is what it is: one line per voting check above LOW, in signal order.
    pub reasons: Vec<String>,
    /// Informational lines: unscored topics, subsampling, and reasons of non-voting signals.
    pub notes: Vec<String>,
    /// The signals present that voted.
    pub voting: Vec<SignalKind>,
    /// Topic drift.
    pub topic_drift: Option<TopicDrift>,
    /// Topic distribution drift.
    pub distribution_drift: Option<DistributionDrift>,
    /// Embedding drift.
    pub embedding_drift: Option<EmbeddingDrift>,
    /// Vocabulary drift.
    pub vocabulary_drift: Option<VocabularyDrift>,
    /// Quality on the batch.
    pub quality: Option<QualityDrift>,
}

impl DriftReport {
    /// Combines the signals into one report: level = max over the voting signals present
    /// (`config.voting`); reasons of non-voting signals go to the notes, prefixed
    /// `"not voting: "`. Deterministic: same signals, same report.
    pub fn from_signals(signals: Signals, config: &DriftConfig) -> DriftReport {
        let v = &config.voting;
        let summary = |level, reasons, notes| Summary {
            level,
            reasons,
            notes,
        };
        let parts = [
            (
                SignalKind::Topic,
                v.topic,
                signals
                    .topic
                    .as_ref()
                    .map(|s| summary(s.level(), s.reasons(), s.notes())),
            ),
            (
                SignalKind::Distribution,
                v.distribution,
                signals
                    .distribution
                    .as_ref()
                    .map(|s| summary(s.level, s.reasons(), Vec::new())),
            ),
            (
                SignalKind::Embedding,
                v.embedding,
                signals
                    .embedding
                    .as_ref()
                    .map(|s| summary(s.level, s.reasons(), s.notes())),
            ),
            (
                SignalKind::Vocabulary,
                v.vocabulary,
                signals
                    .vocabulary
                    .as_ref()
                    .map(|s| summary(s.level, s.reasons(), Vec::new())),
            ),
            (
                SignalKind::Quality,
                v.quality,
                signals
                    .quality
                    .as_ref()
                    .map(|s| summary(s.level, s.reasons(), Vec::new())),
            ),
        ];
        let mut level = Level::Low;
        let mut reasons = Vec::new();
        let mut notes = Vec::new();
        let mut voting = Vec::new();
        for (kind, votes, part) in parts {
            let Some(part) = part else { continue };
            if votes {
                voting.push(kind);
                level = level.max(part.level);
                reasons.extend(part.reasons);
            } else {
                notes.extend(part.reasons.into_iter().map(|r| format!("not voting: {r}")));
            }
            notes.extend(part.notes);
        }
        DriftReport {
            level,
            reasons,
            notes,
            voting,
            topic_drift: signals.topic,
            distribution_drift: signals.distribution,
            embedding_drift: signals.embedding,
            vocabulary_drift: signals.vocabulary,
            quality: signals.quality,
        }
    }
}

/// What one signal contributes to the verdict.
struct Summary {
    level: Level,
    reasons: Vec<String>,
    notes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        keyword_drift, quality_drift, topic_distribution_drift, vocabulary_drift, QualityInputs,
        TopicKeywords,
    };
    use std::collections::HashSet;

    fn signals(config: &DriftConfig) -> Signals {
        let topics = vec![TopicKeywords {
            topic: 0,
            training_words: vec!["a".into(), "b".into()],
            batch_words: vec!["a".into(), "b".into()],
            batch_docs: 20,
            null: None,
        }];
        let vocab: HashSet<String> = ["a".to_string()].into();
        Signals {
            topic: Some(keyword_drift(&topics, config).unwrap().into()),
            // PSI 0.4 ln 2 = 0.277 -> HIGH; outlier rise 0.2 -> HIGH.
            distribution: Some(
                topic_distribution_drift(
                    &[-1, -1, 0, 0, 0, 0, 1, 1, 1, 1],
                    &[-1, -1, -1, -1, 0, 0, 1, 1, 1, 1],
                    config,
                )
                .unwrap(),
            ),
            embedding: None,
            // 1 of 8 OOV = 12.5% -> MEDIUM.
            vocabulary: Some(
                vocabulary_drift(
                    ["a", "a", "a", "a", "a", "a", "a", "z"],
                    &vocab,
                    None,
                    config,
                )
                .unwrap(),
            ),
            quality: Some(
                quality_drift(
                    &QualityInputs {
                        inference_seconds: Some(1.0),
                        batch_docs: Some(10),
                        ..Default::default()
                    },
                    config,
                )
                .unwrap(),
            ),
        }
    }

    /// The defaults with fixed distribution thresholds: ten labels per side are far too few
    /// for the permutation null to call anything significant.
    fn fixed() -> DriftConfig {
        let mut c = DriftConfig::default();
        c.distribution.n_permutations = 0;
        c
    }

    #[test]
    fn level_is_the_max_of_voting_signals() {
        let c = fixed();
        let r = DriftReport::from_signals(signals(&c), &c);
        assert_eq!(r.level, Level::High);
        assert_eq!(
            r.voting,
            vec![
                SignalKind::Topic,
                SignalKind::Distribution,
                SignalKind::Vocabulary,
                SignalKind::Quality
            ]
        );
        assert_eq!(r.reasons.len(), 4, "{:?}", r.reasons); // JS, PSI, outlier, OOV
        assert!(r.reasons[3].starts_with("vocabulary drift: OOV rate 12.5% ≥ 10%"));
    }

    #[test]
    fn non_voting_signals_move_to_notes() {
        let mut c = fixed();
        c.voting.distribution = false;
        let r = DriftReport::from_signals(signals(&c), &c);
        assert_eq!(r.level, Level::Medium);
        assert_eq!(r.reasons.len(), 1);
        assert_eq!(
            r.notes
                .iter()
                .filter(|n| n.starts_with("not voting: "))
                .count(),
            3
        );
        assert!(r.distribution_drift.is_some());
    }

    #[test]
    fn empty_report_is_low() {
        let r = DriftReport::from_signals(Signals::default(), &DriftConfig::default());
        assert_eq!(r.level, Level::Low);
        assert!(r.reasons.is_empty() && r.voting.is_empty());
    }

    #[test]
    fn json_has_the_documented_top_level_and_round_trips() {
        let c = fixed();
        let r = DriftReport::from_signals(signals(&c), &c);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["level"], "HIGH");
        assert!(json["reasons"].is_array());
        assert_eq!(json["topic_drift"]["mode"], "re_represent");
        assert_eq!(json["topic_drift"]["level"], "LOW");
        assert_eq!(json["distribution_drift"]["psi"]["high"], 0.25);
        assert_eq!(json["distribution_drift"]["psi"]["level"], "HIGH");
        assert_eq!(json["vocabulary_drift"]["oov_rate"]["value"], 0.125);
        assert!(json["embedding_drift"].is_null());
        assert_eq!(json["voting"][0], "topic");
        let back: DriftReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
    }
}
