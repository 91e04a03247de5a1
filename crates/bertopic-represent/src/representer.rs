//! The topic-word stage as a trait: c-TF-IDF words in, the words a topic shows out.
//!
//! [`CtfidfWords`] keeps the c-TF-IDF ranking (BERTopic without a `representation_model`);
//! [`MmrWords`] and [`KeyBertWords`] re-rank its candidates with word embeddings. A caller can
//! bring its own [`Representer`] the way it brings its own reducer or clusterer.

use ndarray::{Array2, ArrayView2};

use crate::{Embed, RepresentError, TopicRepresentation};

/// The error an embedding closure given to a [`Representer`] may return (kept as a message in
/// [`RepresentError::Embedding`]).
pub type EmbedFailure = Box<dyn std::error::Error + Send + Sync>;

/// What a [`Representer`] chooses words from.
pub struct RepresentInput<'a> {
    /// The fitted c-TF-IDF representation: candidate words per topic row, representative
    /// documents (best first) and topic ids.
    pub representation: &'a TopicRepresentation,
    /// One embedding row per training document (the rows representative documents index).
    pub doc_embeddings: ArrayView2<'a, f32>,
    /// Embeds words and phrases; `None` when no embedder is available.
    pub embed: Option<&'a Embed<'a, EmbedFailure>>,
    /// Words to keep per topic.
    pub top_n_words: usize,
}

impl RepresentInput<'_> {
    /// The embedding closure, or an error saying that `who` needs one.
    pub fn embedder(&self, who: &str) -> Result<&Embed<'_, EmbedFailure>, RepresentError> {
        self.embed.ok_or_else(|| {
            RepresentError::Embedding(format!(
                "the {who} representation embeds topic words, but no embedder was given"
            ))
        })
    }
}

/// Chooses each topic's words (BERTopic's `representation_model`), one list per row of
/// [`RepresentInput::representation`], best first, with weights.
///
/// ```
/// use bertopic_represent::{fit, CtfidfWords, RepresentInput, RepresentParams, Representer};
///
/// let docs: Vec<String> = ["oil gas prices", "gas oil energy", "space moon rocket", "moon landing"]
///     .iter().map(|s| s.to_string()).collect();
/// let analyzer = |s: &str| s.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>();
/// let rep = fit(&docs, &[0, 0, 1, 1], &analyzer, &RepresentParams::default()).unwrap();
/// let emb = ndarray::Array2::<f32>::zeros((4, 3));
/// let input = RepresentInput {
///     representation: &rep,
///     doc_embeddings: emb.view(),
///     embed: None,
///     top_n_words: 10,
/// };
/// assert!(!CtfidfWords.needs_embedder());
/// assert_eq!(CtfidfWords.words(&input).unwrap(), rep.words);
/// ```
pub trait Representer: Send + Sync {
    /// Short name (`ctfidf`, `mmr`, `keybert`, or the caller's).
    fn name(&self) -> &str;
    /// Whether [`words`](Self::words) needs [`RepresentInput::embed`].
    fn needs_embedder(&self) -> bool;
    /// Whether word embeddings are compared with [`RepresentInput::doc_embeddings`], so the
    /// embedder must be the documents' model (KeyBERT). Default: no.
    fn uses_document_embeddings(&self) -> bool {
        false
    }
    /// Words per topic row, best first, with their weights.
    fn words(&self, input: &RepresentInput<'_>) -> Result<Vec<Vec<(String, f64)>>, RepresentError>;
}

/// The top c-TF-IDF words, unchanged.
#[derive(Debug, Clone, Copy, Default)]
pub struct CtfidfWords;

impl Representer for CtfidfWords {
    fn name(&self) -> &str {
        "ctfidf"
    }
    fn needs_embedder(&self) -> bool {
        false
    }
    fn words(&self, input: &RepresentInput<'_>) -> Result<Vec<Vec<(String, f64)>>, RepresentError> {
        Ok(input.representation.words.clone())
    }
}

/// BERTopic's `MaximalMarginalRelevance` (see [`TopicRepresentation::words_mmr`]).
#[derive(Debug, Clone, Copy)]
pub struct MmrWords {
    /// 0 = pure relevance, 1 = pure diversity.
    pub diversity: f32,
}

impl Representer for MmrWords {
    fn name(&self) -> &str {
        "mmr"
    }
    fn needs_embedder(&self) -> bool {
        true
    }
    fn words(&self, input: &RepresentInput<'_>) -> Result<Vec<Vec<(String, f64)>>, RepresentError> {
        let embed = input.embedder(self.name())?;
        input.representation.words_mmr(embed, self.diversity)
    }
}

/// BERTopic's `KeyBERTInspired`: the top `nr_candidate_words` c-TF-IDF words re-ranked by
/// cosine similarity to the topic embedding, the mean embedding of the topic's first
/// `nr_repr_docs` representative documents.
#[derive(Debug, Clone, Copy)]
pub struct KeyBertWords {
    /// Representative documents averaged into the topic embedding.
    pub nr_repr_docs: usize,
    /// c-TF-IDF words considered per topic.
    pub nr_candidate_words: usize,
}

impl Representer for KeyBertWords {
    fn name(&self) -> &str {
        "keybert"
    }
    fn needs_embedder(&self) -> bool {
        true
    }
    fn uses_document_embeddings(&self) -> bool {
        true
    }
    fn words(&self, input: &RepresentInput<'_>) -> Result<Vec<Vec<(String, f64)>>, RepresentError> {
        let embed = input.embedder(self.name())?;
        let repr = input.representation;
        let topic_emb = topic_embeddings(repr, input.doc_embeddings, self.nr_repr_docs)?;
        let candidates: Vec<Vec<String>> = (0..repr.topic_ids.len())
            .map(|t| {
                repr.top_words(t, self.nr_candidate_words)
                    .into_iter()
                    .map(|(w, _)| w)
                    .collect()
            })
            .collect();
        crate::keybert_rerank(&candidates, topic_emb.view(), embed, input.top_n_words)
    }
}

/// Mean embedding of each topic row's first `nr_repr_docs` representative documents (zeros for
/// a topic without any): KeyBERT's topic embedding.
pub fn topic_embeddings(
    repr: &TopicRepresentation,
    doc_embeddings: ArrayView2<'_, f32>,
    nr_repr_docs: usize,
) -> Result<Array2<f32>, RepresentError> {
    let mut topic_emb = Array2::<f32>::zeros((repr.topic_ids.len(), doc_embeddings.ncols()));
    for (t, docs) in repr.representative_docs.iter().enumerate() {
        let chosen = &docs[..docs.len().min(nr_repr_docs)];
        for &d in chosen {
            if d >= doc_embeddings.nrows() {
                return Err(RepresentError::Shape(format!(
                    "representative document {d} but only {} embedding rows",
                    doc_embeddings.nrows()
                )));
            }
            let mut row = topic_emb.row_mut(t);
            row += &doc_embeddings.row(d);
        }
        if !chosen.is_empty() {
            let n = chosen.len() as f32;
            topic_emb.row_mut(t).mapv_inplace(|v| v / n);
        }
    }
    Ok(topic_emb)
}
