//! Vocabulary drift: the out-of-vocabulary (OOV) token rate of the batch.

use crate::config::DriftConfig;
use crate::error::{DriftError, Result};
use crate::level::{pct, points, Check, Level};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::BuildHasher;

const SIGNAL: &str = "vocabulary drift";

/// Anything that can say whether a token is in the model's vocabulary.
///
/// Implemented for `HashSet<String>`, `BTreeSet<String>`, `HashMap<String, V>` and
/// `BTreeMap<String, V>` (e.g. a vectorizer's token → column map), and for closures
/// `Fn(&str) -> bool`.
pub trait Vocabulary {
    /// Whether `token` is in the vocabulary.
    fn contains_token(&self, token: &str) -> bool;
}

impl<S: BuildHasher> Vocabulary for HashSet<String, S> {
    fn contains_token(&self, token: &str) -> bool {
        self.contains(token)
    }
}

impl Vocabulary for BTreeSet<String> {
    fn contains_token(&self, token: &str) -> bool {
        self.contains(token)
    }
}

impl<V, S: BuildHasher> Vocabulary for HashMap<String, V, S> {
    fn contains_token(&self, token: &str) -> bool {
        self.contains_key(token)
    }
}

impl<V> Vocabulary for BTreeMap<String, V> {
    fn contains_token(&self, token: &str) -> bool {
        self.contains_key(token)
    }
}

impl<F: Fn(&str) -> bool> Vocabulary for F {
    fn contains_token(&self, token: &str) -> bool {
        self(token)
    }
}

/// An OOV token and how often it occurs in the batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCount {
    /// The token.
    pub token: String,
    /// Occurrences in the batch.
    pub count: usize,
}

/// Result of vocabulary drift ([`vocabulary_drift`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VocabularyDrift {
    /// Batch tokens counted (occurrences).
    pub tokens: usize,
    /// Batch tokens not in the vocabulary (occurrences).
    pub oov_tokens: usize,
    /// Distinct batch tokens.
    pub distinct_tokens: usize,
    /// Distinct batch tokens not in the vocabulary.
    pub distinct_oov_tokens: usize,
    /// `oov_tokens / tokens`, with the absolute-rate thresholds.
    pub oov_rate: Check,
    /// The baseline OOV rate passed (measured on held-out training text), if any.
    pub baseline_oov_rate: Option<f64>,
    /// `oov_rate − baseline`, with the rise thresholds; `None` without a baseline.
    pub oov_rise: Option<Check>,
    /// Level: from `oov_rise` when a baseline was given, else from `oov_rate`.
    pub level: Level,
    /// The most frequent OOV tokens (count descending, then token ascending).
    pub top_oov: Vec<TokenCount>,
}

impl VocabularyDrift {
    /// Reason string when the level is above LOW.
    pub fn reasons(&self) -> Vec<String> {
        let examples = if self.top_oov.is_empty() {
            String::new()
        } else {
            let words: Vec<&str> = self
                .top_oov
                .iter()
                .take(5)
                .map(|t| t.token.as_str())
                .collect();
            format!(" (top new tokens: {})", words.join(", "))
        };
        let described = match (&self.oov_rise, self.baseline_oov_rate) {
            (Some(rise), Some(base)) => rise.crossed().map(|t| {
                format!(
                    "OOV rate {} vs baseline {} (+{} ≥ {})",
                    pct(self.oov_rate.value),
                    pct(base),
                    points(rise.value),
                    points(t)
                )
            }),
            _ => self.oov_rate.describe_with("OOV rate", pct),
        };
        described
            .map(|d| format!("{SIGNAL}: {d}{examples}"))
            .into_iter()
            .collect()
    }
}

/// Vocabulary drift: the share of batch tokens the model's vocabulary does not know.
///
/// Pass the batch tokens as the model's vectorizer sees them (same tokenisation, lower-casing
/// and stop-word removal), and the vocabulary as a set, a token → column map or a closure.
/// Without `baseline_oov_rate` the level comes from the absolute OOV rate; with it (the OOV
/// rate of held-out training text, which is not 0 when the vectorizer prunes rare words) from
/// the rise over it.
///
/// ```
/// use std::collections::HashSet;
/// let vocab: HashSet<String> = ["tax", "budget"].iter().map(|s| s.to_string()).collect();
/// let batch = ["tax", "covid", "budget", "covid"];
/// let d = bertopic_drift::vocabulary_drift(batch, &vocab, None, &Default::default()).unwrap();
/// assert_eq!(d.oov_rate.value, 0.5);
/// assert_eq!(d.top_oov[0].token, "covid");
/// // A closure works too.
/// let d = bertopic_drift::vocabulary_drift(batch, &|t: &str| t.len() > 3, None, &Default::default());
/// assert_eq!(d.unwrap().oov_tokens, 1);
/// ```
///
/// # Errors
/// No tokens, a baseline outside `[0, 1]`, invalid config.
pub fn vocabulary_drift<I, S, V>(
    tokens: I,
    vocabulary: &V,
    baseline_oov_rate: Option<f64>,
    config: &DriftConfig,
) -> Result<VocabularyDrift>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
    V: Vocabulary + ?Sized,
{
    let cfg = &config.vocabulary;
    cfg.validate()?;
    if let Some(b) = baseline_oov_rate {
        if !(b.is_finite() && (0.0..=1.0).contains(&b)) {
            return Err(DriftError::OutOfRange {
                what: "baseline OOV rate".into(),
                problem: format!("is {b}; pass a share in [0, 1] (e.g. 0.12 for 12%)"),
            });
        }
    }
    // token -> (count, in vocabulary); lookups by &str avoid an allocation per repeat.
    let mut seen: HashMap<String, (usize, bool)> = HashMap::new();
    let mut total = 0usize;
    for t in tokens {
        let t = t.as_ref();
        total += 1;
        match seen.get_mut(t) {
            Some(entry) => entry.0 += 1,
            None => {
                seen.insert(t.to_string(), (1, vocabulary.contains_token(t)));
            }
        }
    }
    if total == 0 {
        return Err(DriftError::EmptyBatch {
            signal: SIGNAL,
            what: "no tokens",
        });
    }
    let mut oov: Vec<TokenCount> = seen
        .iter()
        .filter(|(_, (_, known))| !known)
        .map(|(t, (c, _))| TokenCount {
            token: t.clone(),
            count: *c,
        })
        .collect();
    let oov_tokens: usize = oov.iter().map(|t| t.count).sum();
    let distinct_oov_tokens = oov.len();
    oov.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.token.cmp(&b.token)));
    oov.truncate(cfg.top_oov);

    let rate = oov_tokens as f64 / total as f64;
    let oov_rate = Check::above(rate, cfg.medium_rate, cfg.high_rate);
    let oov_rise =
        baseline_oov_rate.map(|b| Check::above(rate - b, cfg.medium_rise, cfg.high_rise));
    Ok(VocabularyDrift {
        tokens: total,
        oov_tokens,
        distinct_tokens: seen.len(),
        distinct_oov_tokens,
        level: oov_rise.map_or(oov_rate.level, |c| c.level),
        oov_rate,
        baseline_oov_rate,
        oov_rise,
        top_oov: oov,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab(words: &str) -> HashSet<String> {
        words.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn counts_and_rates_by_hand() {
        // 10 tokens, 3 OOV occurrences (zoom ×2, mask ×1) -> rate 0.3 -> HIGH (>= 0.25).
        let tokens = "tax tax budget zoom deficit zoom mask tax budget deficit";
        let v = vocab("tax budget deficit");
        let d = vocabulary_drift(tokens.split(' '), &v, None, &DriftConfig::default()).unwrap();
        assert_eq!((d.tokens, d.oov_tokens), (10, 3));
        assert_eq!((d.distinct_tokens, d.distinct_oov_tokens), (5, 2));
        assert!((d.oov_rate.value - 0.3).abs() < 1e-12);
        assert_eq!(d.level, Level::High);
        assert_eq!(
            d.top_oov,
            vec![
                TokenCount {
                    token: "zoom".into(),
                    count: 2
                },
                TokenCount {
                    token: "mask".into(),
                    count: 1
                }
            ]
        );
        assert_eq!(
            d.reasons(),
            vec!["vocabulary drift: OOV rate 30% ≥ 25% (top new tokens: zoom, mask)".to_string()]
        );
    }

    #[test]
    fn baseline_turns_the_check_into_a_rise() {
        let v = vocab("a b c");
        let tokens = ["a", "b", "x", "c", "a", "b", "c", "a", "y", "z"]; // 3/10 OOV
        let d = vocabulary_drift(tokens, &v, Some(0.22), &DriftConfig::default()).unwrap();
        let rise = d.oov_rise.unwrap();
        assert!((rise.value - 0.08).abs() < 1e-12);
        assert_eq!(rise.level, Level::Medium);
        assert_eq!(d.level, Level::Medium); // not the absolute rate's HIGH
        assert!(
            d.reasons()[0].contains("vs baseline 22%"),
            "{:?}",
            d.reasons()
        );
        let d = vocabulary_drift(tokens, &v, Some(0.28), &DriftConfig::default()).unwrap();
        assert_eq!(d.level, Level::Low);
        assert!(d.reasons().is_empty());
    }

    #[test]
    fn other_vocabulary_kinds() {
        let map: BTreeMap<String, usize> = [("a".to_string(), 0), ("b".to_string(), 1)].into();
        let d = vocabulary_drift(["a", "c"], &map, None, &DriftConfig::default()).unwrap();
        assert_eq!(d.oov_tokens, 1);
        let set: BTreeSet<String> = ["a".to_string()].into();
        let owned = vec!["a".to_string(), "a".to_string()];
        let d = vocabulary_drift(&owned, &set, None, &DriftConfig::default()).unwrap();
        assert_eq!((d.oov_tokens, d.level), (0, Level::Low));
        let d = vocabulary_drift(["q"], &|_: &str| false, None, &DriftConfig::default()).unwrap();
        assert_eq!(d.oov_rate.value, 1.0);
    }

    #[test]
    fn errors() {
        let v = vocab("a");
        assert!(matches!(
            vocabulary_drift(Vec::<String>::new(), &v, None, &DriftConfig::default()),
            Err(DriftError::EmptyBatch { .. })
        ));
        assert!(matches!(
            vocabulary_drift(["a"], &v, Some(1.5), &DriftConfig::default()),
            Err(DriftError::OutOfRange { .. })
        ));
    }
}
