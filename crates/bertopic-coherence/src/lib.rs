//! Topic coherence (c_v, c_npmi, c_uci, u_mass) computed as gensim 4.4's `CoherenceModel` does,
//! and topic diversity.
//!
//! Build a [`ReferenceCorpus`] once from the tokenised reference texts (the equivalent of
//! gensim's `texts` + `Dictionary(texts)`), then score any number of topic sets against it.
//!
//! What matches gensim:
//! - segmentation: c_v one-set, c_npmi/c_uci all ordered pairs (one-one), u_mass one-preceding;
//! - probabilities from boolean sliding windows (c_v 110 tokens, c_npmi/c_uci 10) or boolean
//!   documents (u_mass), including gensim's sliding-window quirk (a token that leaves the window
//!   is unmarked even if it still occurs inside it; see [`CoherenceOptions::gensim_window_quirk`]);
//! - `ε = 1e-12` inside the logarithms, c_v's cosine of NPMI context vectors (gamma 1),
//!   arithmetic means per topic and over topics.
//!
//! Topic words that are not in the dictionary are dropped, as gensim does, but counted in the
//! result ([`CoherenceResult::dropped_words`]): multi-word n-gram terms vanish silently in gensim.
//!
//! ```
//! use bertopic_coherence::{CoherenceOptions, Measure, ReferenceCorpus};
//!
//! let texts: Vec<Vec<String>> = [
//!     "apple banana fruit salad",
//!     "banana fruit smoothie",
//!     "engine car wheel road",
//!     "car road traffic engine",
//! ]
//! .iter()
//! .map(|t| t.split_whitespace().map(String::from).collect())
//! .collect();
//! let corpus = ReferenceCorpus::new(&texts);
//! let topics = vec![
//!     vec!["banana".to_string(), "fruit".to_string(), "apple".to_string()],
//!     vec!["car".to_string(), "engine".to_string(), "road".to_string(), "2-gram term".to_string()],
//! ];
//! let result = corpus
//!     .coherence(&topics, Measure::CNpmi, &CoherenceOptions::default())
//!     .unwrap();
//! assert_eq!(result.per_topic.len(), 2);
//! assert_eq!(result.dropped_words, 1);
//! assert!(result.mean.is_finite());
//! let c_v = corpus.coherence(&topics, "c_v".parse().unwrap(), &CoherenceOptions::default());
//! assert!(c_v.is_ok());
//! ```

#![warn(missing_docs)]

mod counting;
mod measures;

use counting::{PairIndex, Window, NONE};
use measures::Probabilities;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

/// A coherence measure, named as in gensim (`"c_v"`, `"c_npmi"`, `"c_uci"`, `"u_mass"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Measure {
    /// c_v: one-set segmentation, sliding window 110, cosine of NPMI context vectors.
    #[default]
    #[serde(rename = "c_v")]
    CV,
    /// c_npmi: one-one segmentation, sliding window 10, normalised PMI.
    #[serde(rename = "c_npmi")]
    CNpmi,
    /// c_uci: one-one segmentation, sliding window 10, PMI.
    #[serde(rename = "c_uci")]
    CUci,
    /// u_mass: one-preceding segmentation, document co-occurrence, log conditional probability.
    #[serde(rename = "u_mass")]
    UMass,
}

impl Measure {
    /// All measures, in gensim's documentation order.
    pub const ALL: [Measure; 4] = [Measure::CV, Measure::CNpmi, Measure::CUci, Measure::UMass];

    /// gensim's name of the measure.
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::CV => "c_v",
            Measure::CNpmi => "c_npmi",
            Measure::CUci => "c_uci",
            Measure::UMass => "u_mass",
        }
    }

    /// gensim's default sliding-window size; `None` for u_mass (whole documents).
    pub fn default_window_size(self) -> Option<usize> {
        match self {
            Measure::CV => Some(110),
            Measure::CNpmi | Measure::CUci => Some(10),
            Measure::UMass => None,
        }
    }

    /// Whether the measure scores word pairs (and so needs two known words per topic).
    fn needs_pairs(self) -> bool {
        !matches!(self, Measure::CV)
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Measure {
    type Err = CoherenceError;

    /// Parses gensim's names, ignoring case and surrounding spaces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Measure::ALL
            .into_iter()
            .find(|m| m.as_str() == wanted)
            .ok_or_else(|| CoherenceError::UnknownMeasure(s.to_string()))
    }
}

/// Errors of coherence computation; each says what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CoherenceError {
    /// A measure name that is not one of gensim's.
    #[error(
        "unknown coherence measure {0:?}: use one of \"c_v\", \"c_npmi\", \"c_uci\", \"u_mass\""
    )]
    UnknownMeasure(String),
    /// An option with a value that cannot work.
    #[error("invalid coherence option {name} = {value}: {reason}")]
    InvalidOption {
        /// Option name.
        name: &'static str,
        /// The rejected value.
        value: String,
        /// What is allowed.
        reason: &'static str,
    },
    /// No topics were given.
    #[error("no topics to score: pass at least one topic (a list of words)")]
    NoTopics,
    /// None of a topic's words occurs in the reference texts.
    #[error(
        "topic {topic} has no word that occurs in the reference texts (words: {words:?}); \
         tokenise the reference texts the way the topic words were made, or leave the topic out"
    )]
    NoKnownWords {
        /// Index of the topic in the input.
        topic: usize,
        /// The topic's words (up to the first 2 × top_n).
        words: Vec<String>,
    },
    /// A pair-based measure needs at least two known words in every topic.
    #[error(
        "topic {topic} has only {known} word(s) that occur in the reference texts, but {measure} \
         scores word pairs and needs at least 2; leave the topic out or use c_v"
    )]
    TooFewKnownWords {
        /// Index of the topic in the input.
        topic: usize,
        /// Number of known words.
        known: usize,
        /// The measure asked for.
        measure: Measure,
    },
}

/// Options of a coherence computation (defaults: gensim's `CoherenceModel` defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CoherenceOptions {
    /// Number of (known) words taken from the start of each topic; gensim's `topn` (10).
    pub top_n: usize,
    /// Sliding-window size; `None` uses gensim's default for the measure (c_v 110, c_npmi 10,
    /// c_uci 10). Ignored by u_mass, which uses whole documents (as gensim does).
    pub window_size: Option<usize>,
    /// Reproduce gensim's sliding-window accumulator (default `true`): when the window slides
    /// it unmarks the token that left even if that word still occurs inside the window. With
    /// `false`, each window counts the plain set of its words (slightly higher counts).
    pub gensim_window_quirk: bool,
}

impl Default for CoherenceOptions {
    fn default() -> Self {
        Self {
            top_n: 10,
            window_size: None,
            gensim_window_quirk: true,
        }
    }
}

impl CoherenceOptions {
    /// Checks the options: `top_n ≥ 1`, `window_size ≥ 1` when given.
    pub fn validate(&self) -> Result<(), CoherenceError> {
        if self.top_n == 0 {
            return Err(CoherenceError::InvalidOption {
                name: "top_n",
                value: "0".into(),
                reason: "must be at least 1 (gensim's default is 10)",
            });
        }
        if self.window_size == Some(0) {
            return Err(CoherenceError::InvalidOption {
                name: "window_size",
                value: "0".into(),
                reason: "must be at least 1, or None for the measure's default",
            });
        }
        Ok(())
    }

    /// The window used for `measure`: `None` means whole documents (u_mass).
    pub fn effective_window_size(&self, measure: Measure) -> Option<usize> {
        match measure {
            Measure::UMass => None,
            _ => self.window_size.or(measure.default_window_size()),
        }
    }

    fn window(&self, measure: Measure) -> Window {
        match self.effective_window_size(measure) {
            Some(size) => Window::Sliding {
                size,
                gensim_quirk: self.gensim_window_quirk,
            },
            None => Window::Document,
        }
    }
}

/// Coherence of a topic set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoherenceResult {
    /// The measure computed.
    pub measure: Measure,
    /// Arithmetic mean of `per_topic` (gensim's `get_coherence()`).
    pub mean: f64,
    /// Coherence of each topic, in input order (gensim's `get_coherence_per_topic()`).
    pub per_topic: Vec<f64>,
    /// Sliding-window size used; `None` for u_mass (whole documents).
    pub window_size: Option<usize>,
    /// Number of virtual documents: sliding windows, or documents (empty ones included) for
    /// u_mass.
    pub n_virtual_documents: usize,
    /// Topic words that are not in the dictionary and were dropped, over all topics.
    pub dropped_words: usize,
    /// Dropped words per topic.
    pub dropped_per_topic: Vec<usize>,
}

/// Occurrence counts of single words (for inspection and debugging).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WordCounts {
    /// Number of virtual documents (see [`CoherenceResult::n_virtual_documents`]).
    pub n_virtual_documents: usize,
    /// Per input word: the number of virtual documents in which it is present, `None` if the
    /// word is not in the dictionary.
    pub counts: Vec<Option<u64>>,
}

/// The tokenised reference texts and their dictionary (every token that occurs in them).
#[derive(Debug, Clone, Default)]
pub struct ReferenceCorpus {
    token_to_id: HashMap<String, u32>,
    /// All documents' tokens as dictionary ids, concatenated.
    tokens: Vec<u32>,
    /// Document `k` is `tokens[offsets[k]..offsets[k + 1]]`.
    offsets: Vec<usize>,
}

/// Topics mapped to dense word ids.
struct PreparedTopics {
    /// Per topic, the dense ids of its first `top_n` known words (repeats kept, as in gensim).
    topics: Vec<Vec<u32>>,
    /// Dense id → dictionary id; dense ids are given in order of first appearance.
    dense_to_dictionary: Vec<u32>,
    dropped_per_topic: Vec<usize>,
}

impl ReferenceCorpus {
    /// Builds the corpus; the dictionary is every distinct token of `texts` (gensim's
    /// unfiltered `Dictionary(texts)`). Token order within a text matters for sliding windows.
    pub fn new(texts: &[Vec<String>]) -> Self {
        let mut token_to_id: HashMap<String, u32> = HashMap::new();
        let total: usize = texts.iter().map(Vec::len).sum();
        let mut tokens = Vec::with_capacity(total);
        let mut offsets = Vec::with_capacity(texts.len() + 1);
        offsets.push(0);
        for text in texts {
            for token in text {
                let id = match token_to_id.get(token.as_str()) {
                    Some(&id) => id,
                    None => {
                        let id = token_to_id.len() as u32;
                        token_to_id.insert(token.clone(), id);
                        id
                    }
                };
                tokens.push(id);
            }
            offsets.push(tokens.len());
        }
        Self {
            token_to_id,
            tokens,
            offsets,
        }
    }

    /// Number of reference texts (empty ones included).
    pub fn n_documents(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Total number of tokens.
    pub fn n_tokens(&self) -> usize {
        self.tokens.len()
    }

    /// Number of distinct tokens (dictionary size).
    pub fn vocabulary_size(&self) -> usize {
        self.token_to_id.len()
    }

    /// Whether `word` occurs in the reference texts.
    pub fn contains(&self, word: &str) -> bool {
        self.token_to_id.contains_key(word)
    }

    /// Scores `topics` (each a list of words, most important first) with `measure`.
    ///
    /// Words not in the dictionary are dropped (and counted); then the first `opts.top_n`
    /// remaining words of each topic are used. Errors: invalid options, no topics, a topic with
    /// no known word, or (pair measures) a topic with a single known word.
    pub fn coherence(
        &self,
        topics: &[Vec<String>],
        measure: Measure,
        opts: &CoherenceOptions,
    ) -> Result<CoherenceResult, CoherenceError> {
        opts.validate()?;
        if topics.is_empty() {
            return Err(CoherenceError::NoTopics);
        }
        let prepared = self.prepare(topics, opts.top_n);
        for (k, topic) in prepared.topics.iter().enumerate() {
            if topic.is_empty() {
                return Err(CoherenceError::NoKnownWords {
                    topic: k,
                    words: topics[k].iter().take(2 * opts.top_n).cloned().collect(),
                });
            }
            if measure.needs_pairs() && topic.len() < 2 {
                return Err(CoherenceError::TooFewKnownWords {
                    topic: k,
                    known: topic.len(),
                    measure,
                });
            }
        }
        let n_words = prepared.dense_to_dictionary.len();
        let index = PairIndex::from_topics(n_words, &prepared.topics);
        let counts = counting::count(
            &self.tokens,
            &self.offsets,
            &self.to_dense(&prepared.dense_to_dictionary),
            n_words,
            &index,
            opts.window(measure),
        );
        let probabilities = Probabilities {
            counts: &counts,
            index: &index,
            n: counts.n_virtual as f64,
        };
        let per_topic: Vec<f64> = prepared
            .topics
            .iter()
            .map(|topic| match measure {
                Measure::CV => probabilities.one_set_cosine(topic),
                Measure::CNpmi => probabilities.one_one(topic, true),
                Measure::CUci => probabilities.one_one(topic, false),
                Measure::UMass => probabilities.one_preceding(topic),
            })
            .collect();
        let mean = per_topic.iter().sum::<f64>() / per_topic.len() as f64;
        Ok(CoherenceResult {
            measure,
            mean,
            per_topic,
            window_size: opts.effective_window_size(measure),
            n_virtual_documents: counts.n_virtual as usize,
            dropped_words: prepared.dropped_per_topic.iter().sum(),
            dropped_per_topic: prepared.dropped_per_topic,
        })
    }

    /// Occurrence counts of `words` in the virtual documents that `measure` uses (what gensim's
    /// accumulator reports for single words). Only `opts.window_size` and
    /// `opts.gensim_window_quirk` matter here.
    pub fn word_counts(
        &self,
        words: &[String],
        measure: Measure,
        opts: &CoherenceOptions,
    ) -> Result<WordCounts, CoherenceError> {
        opts.validate()?;
        let mut dense_to_dictionary: Vec<u32> = Vec::new();
        let mut dense_of: HashMap<u32, u32> = HashMap::new();
        let dense: Vec<Option<u32>> = words
            .iter()
            .map(|w| {
                self.token_to_id.get(w.as_str()).map(|&id| {
                    *dense_of.entry(id).or_insert_with(|| {
                        dense_to_dictionary.push(id);
                        (dense_to_dictionary.len() - 1) as u32
                    })
                })
            })
            .collect();
        let n_words = dense_to_dictionary.len();
        let index = PairIndex::from_topics(n_words, &[]);
        let counts = counting::count(
            &self.tokens,
            &self.offsets,
            &self.to_dense(&dense_to_dictionary),
            n_words,
            &index,
            opts.window(measure),
        );
        Ok(WordCounts {
            n_virtual_documents: counts.n_virtual as usize,
            counts: dense
                .iter()
                .map(|d| d.map(|d| counts.occurrences[d as usize]))
                .collect(),
        })
    }

    fn to_dense(&self, dense_to_dictionary: &[u32]) -> Vec<u32> {
        let mut to_dense = vec![NONE; self.vocabulary_size()];
        for (dense, &id) in dense_to_dictionary.iter().enumerate() {
            to_dense[id as usize] = dense as u32;
        }
        to_dense
    }

    fn prepare(&self, topics: &[Vec<String>], top_n: usize) -> PreparedTopics {
        let mut dense_to_dictionary: Vec<u32> = Vec::new();
        let mut dense_of: HashMap<u32, u32> = HashMap::new();
        let mut prepared = Vec::with_capacity(topics.len());
        let mut dropped_per_topic = Vec::with_capacity(topics.len());
        for topic in topics {
            let mut ids = Vec::with_capacity(top_n.min(topic.len()));
            let mut dropped = 0;
            // gensim drops unknown words first, then keeps the first `topn` ids.
            for word in topic {
                if ids.len() == top_n {
                    break;
                }
                match self.token_to_id.get(word.as_str()) {
                    Some(&id) => {
                        let d = *dense_of.entry(id).or_insert_with(|| {
                            dense_to_dictionary.push(id);
                            (dense_to_dictionary.len() - 1) as u32
                        });
                        ids.push(d);
                    }
                    None => dropped += 1,
                }
            }
            prepared.push(ids);
            dropped_per_topic.push(dropped);
        }
        PreparedTopics {
            topics: prepared,
            dense_to_dictionary,
            dropped_per_topic,
        }
    }
}

/// Topic diversity: the number of distinct words among all topics' first `top_n` words divided
/// by `n_topics × top_n` (BERTopic/OCTIS). A topic with fewer than `top_n` words contributes the
/// words it has. Returns 0 for no topics or `top_n == 0`.
pub fn topic_diversity(topics: &[Vec<String>], top_n: usize) -> f64 {
    if topics.is_empty() || top_n == 0 {
        return 0.0;
    }
    let unique: HashSet<&str> = topics
        .iter()
        .flat_map(|t| t.iter().take(top_n).map(String::as_str))
        .collect();
    unique.len() as f64 / (topics.len() * top_n) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(raw: &[&str]) -> Vec<Vec<String>> {
        raw.iter()
            .map(|t| t.split_whitespace().map(String::from).collect())
            .collect()
    }

    fn words(raw: &str) -> Vec<String> {
        raw.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn measure_names_round_trip() {
        for m in Measure::ALL {
            assert_eq!(m.to_string().parse::<Measure>().unwrap(), m);
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(json, format!("\"{m}\""));
            assert_eq!(serde_json::from_str::<Measure>(&json).unwrap(), m);
        }
        assert_eq!(" C_V ".parse::<Measure>().unwrap(), Measure::CV);
        assert!(matches!(
            "cv".parse::<Measure>(),
            Err(CoherenceError::UnknownMeasure(_))
        ));
    }

    #[test]
    fn errors_name_the_problem() {
        let corpus = ReferenceCorpus::new(&texts(&["a b c", "b c d"]));
        let opts = CoherenceOptions::default();
        assert_eq!(
            corpus.coherence(&[], Measure::CV, &opts),
            Err(CoherenceError::NoTopics)
        );
        let err = corpus
            .coherence(&[words("a b"), words("x y")], Measure::CV, &opts)
            .unwrap_err();
        assert!(matches!(err, CoherenceError::NoKnownWords { topic: 1, .. }));
        assert!(err.to_string().contains("topic 1"));
        let err = corpus
            .coherence(&[words("a x")], Measure::UMass, &opts)
            .unwrap_err();
        assert!(matches!(
            err,
            CoherenceError::TooFewKnownWords {
                topic: 0,
                known: 1,
                ..
            }
        ));
        // c_v scores a one-word topic (cosine of a vector with itself).
        let one = corpus
            .coherence(&[words("a x")], Measure::CV, &opts)
            .unwrap();
        assert!((one.per_topic[0] - 1.0).abs() < 1e-12);
        let bad = CoherenceOptions {
            top_n: 0,
            ..CoherenceOptions::default()
        };
        assert!(matches!(
            corpus.coherence(&[words("a b")], Measure::CV, &bad),
            Err(CoherenceError::InvalidOption { name: "top_n", .. })
        ));
        let bad = CoherenceOptions {
            window_size: Some(0),
            ..CoherenceOptions::default()
        };
        assert!(matches!(
            corpus.coherence(&[words("a b")], Measure::CV, &bad),
            Err(CoherenceError::InvalidOption {
                name: "window_size",
                ..
            })
        ));
    }

    #[test]
    fn unknown_words_are_dropped_before_truncation_and_counted() {
        let corpus = ReferenceCorpus::new(&texts(&["a b c d", "b c d e", ""]));
        let opts = CoherenceOptions {
            top_n: 3,
            ..CoherenceOptions::default()
        };
        let topics = vec![words("a new_york b c d"), words("x y b c")];
        let r = corpus.coherence(&topics, Measure::UMass, &opts).unwrap();
        assert_eq!(r.dropped_per_topic, vec![1, 2]);
        assert_eq!(r.dropped_words, 3);
        assert_eq!(r.n_virtual_documents, 3);
        assert_eq!(r.window_size, None);
        // Same as the clean topics truncated to 3 known words.
        let clean = corpus
            .coherence(&[words("a b c"), words("b c")], Measure::UMass, &opts)
            .unwrap();
        assert_eq!(r.per_topic, clean.per_topic);
    }

    #[test]
    fn u_mass_by_hand() {
        // 3 documents (one empty); topic [b, a]: one pair (w' = a, w* = b).
        let corpus = ReferenceCorpus::new(&texts(&["a b", "b c", ""]));
        let r = corpus
            .coherence(
                &[words("b a")],
                Measure::UMass,
                &CoherenceOptions::default(),
            )
            .unwrap();
        let expected = ((1.0f64 / 3.0 + 1e-12) / (2.0 / 3.0)).ln();
        assert!((r.mean - expected).abs() < 1e-15);
    }

    #[test]
    fn npmi_and_uci_by_hand() {
        // Window 2 over "a b c a": windows [a b], [b c], [c a] → P(a) = 2/3, P(b) = 2/3,
        // P(a, b) = 1/3.
        let corpus = ReferenceCorpus::new(&texts(&["a b c a"]));
        let opts = CoherenceOptions {
            window_size: Some(2),
            ..CoherenceOptions::default()
        };
        let pmi = ((1.0f64 / 3.0 + 1e-12) / (4.0 / 9.0)).ln();
        let uci = corpus
            .coherence(&[words("a b")], Measure::CUci, &opts)
            .unwrap();
        assert!((uci.mean - pmi).abs() < 1e-12);
        let npmi = corpus
            .coherence(&[words("a b")], Measure::CNpmi, &opts)
            .unwrap();
        assert!((npmi.mean - pmi / -(1.0f64 / 3.0 + 1e-12).ln()).abs() < 1e-12);
        assert_eq!(npmi.n_virtual_documents, 3);
    }

    #[test]
    fn diversity() {
        let topics = vec![words("a b c"), words("a d e"), words("f")];
        assert!((topic_diversity(&topics, 2) - 4.0 / 6.0).abs() < 1e-15);
        assert_eq!(topic_diversity(&[], 10), 0.0);
        assert_eq!(topic_diversity(&topics, 0), 0.0);
    }
}
