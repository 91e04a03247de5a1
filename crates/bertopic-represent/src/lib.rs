//! Topic representation for bertopic: vocabulary (sklearn `CountVectorizer` rules), BERTopic's
//! class-based TF-IDF, top words, representative documents, Maximal Marginal Relevance,
//! KeyBERT-inspired re-ranking and topic labels (word labels and an OpenAI-compatible LLM).
//!
//! The crate does not tokenise: [`fit`] takes an *analyzer* (text → terms), so the caller
//! decides about stop words and n-grams (the `bertopic` facade wires `bertopic-preprocess`).
//! [`fit_streaming`] takes a streaming analyzer ([`TermStream`]) instead and gives the same
//! result bit for bit without allocating a `String` per term.
//!
//! ```
//! use bertopic_represent::{fit, word_label, RepresentParams};
//!
//! let docs: Vec<String> = ["oil gas prices", "gas oil energy", "space moon rocket", "moon landing"]
//!     .iter().map(|s| s.to_string()).collect();
//! let labels = [0, 0, 1, 1];
//! let analyzer = |s: &str| s.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>();
//! let rep = fit(&docs, &labels, &analyzer, &RepresentParams::default()).unwrap();
//! let words: Vec<String> = rep.words[1].iter().map(|(w, _)| w.clone()).collect();
//! assert_eq!(words[0], "moon");
//! assert_eq!(word_label(1, &words), "1_moon_landing_rocket_space");
//! ```

#![warn(missing_docs)]

mod ctfidf;
mod diversify;
mod error;
mod labels;
mod llm;
mod mapreduce;
mod model;
mod online;
mod params;
mod representer;
mod sparse;
mod terms;
mod vectorizer;

pub use ctfidf::{avg_nr_samples, idf, top_terms, weigh_row};
pub use diversify::{cosine, keybert_rerank, mmr};
pub use error::RepresentError;
pub use labels::{readable_label, word_label, GENERIC_WORDS};
pub use llm::{sanitize_label, LabelOutcome, LlmLabeller, LlmParams, GROQ_ENDPOINT};
pub use mapreduce::{ClassCounts, ClassTermCounts, COUNTS_FORMAT};
pub use model::{fit, fit_streaming, fit_with_embedder, TopicRepresentation};
pub use online::{OnlineClassTermCounts, ONLINE_COUNTS_FORMAT};
pub use params::{CtfidfParams, RepresentParams, VectorizerParams};
pub use representer::{
    topic_embeddings, CtfidfWords, EmbedFailure, KeyBertWords, MmrWords, RepresentInput,
    Representer,
};
pub use sparse::CsrMatrix;
pub use vectorizer::preprocess_text;

/// Text → terms (tokens after stop-word removal, then n-grams), like sklearn's
/// `CountVectorizer.build_analyzer()`. `Sync` so documents can be analysed in parallel.
pub type Analyzer<'a> = dyn Fn(&str) -> Vec<String> + Sync + 'a;

/// An [`Analyzer`] that streams: called with a text and a sink, it passes each term to the sink
/// in the order the analyzer would return them, so no `String` is allocated per term (see
/// [`fit_streaming`]). `Sync` so documents can be analysed in parallel.
pub type TermStream<'a> = dyn Fn(&str, &mut dyn FnMut(&str)) + Sync + 'a;

/// Texts → one embedding row each (words for MMR/KeyBERT, topic strings for MMR); the error is
/// reported as [`RepresentError::Embedding`].
pub type Embed<'a, E> = dyn Fn(&[String]) -> Result<ndarray::Array2<f32>, E> + 'a;
