use serde::{Deserialize, Serialize};

use crate::cluster::HdbscanParams;
use crate::error::{BertopicError, Result};
use crate::preprocess::{Language, TokenizerConfig};
use crate::reduce::UmapParams;
use crate::represent::{CtfidfParams, VectorizerParams};

/// Hyperparameters of the whole pipeline, with BERTopic's defaults.
///
/// Plain data: build it with struct update syntax or through [`crate::BERTopicBuilder`], then
/// [`validate`](Self::validate) it (the builder does this for you).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct BERTopicParams {
    /// Language of the documents: picks the stop words and BERTopic's English-only cleaning.
    pub language: Language,
    /// Remove the language's stop words from topic words. BERTopic's own default is `false`
    /// (which yields topics like `the_of_and`); the seed pipeline and this crate use `true`.
    pub stop_words: bool,
    /// Words per topic (BERTopic `top_n_words`).
    pub top_n_words: usize,
    /// N-gram range of topic terms (BERTopic `n_gram_range`).
    pub ngram_range: (usize, usize),
    /// Smallest topic size; sets HDBSCAN's `min_cluster_size` (BERTopic `min_topic_size`).
    pub min_topic_size: usize,
    /// Merge topics down to this many after fitting (BERTopic `nr_topics`); `None` keeps all.
    pub nr_topics: Option<usize>,
    /// Seed for every randomised stage.
    pub seed: u64,
    /// Embedding model id or folder.
    pub embedding_model: String,
    /// UMAP settings. `umap.seed` is set from `seed` above; [`validate`](Self::validate)
    /// refuses another value there (other than UMAP's default, which means "not set").
    pub umap: UmapParams,
    /// HDBSCAN settings. `hdbscan.min_cluster_size` is set from `min_topic_size` above;
    /// [`validate`](Self::validate) refuses another value there (other than HDBSCAN's default).
    pub hdbscan: HdbscanParams,
    /// Vocabulary settings.
    pub vectorizer: VectorizerParams,
    /// c-TF-IDF weighting.
    pub ctfidf: CtfidfParams,
    /// Representative documents kept per topic.
    pub n_representative_docs: usize,
    /// How the final topic words are chosen from the c-TF-IDF candidates (BERTopic
    /// `representation_model`). Models saved before this field existed load as
    /// [`Representation::CTfidf`], which is what they used.
    pub representation: Representation,
}

impl Default for BERTopicParams {
    fn default() -> Self {
        BERTopicParams {
            language: Language::English,
            stop_words: true,
            top_n_words: 10,
            ngram_range: (1, 1),
            min_topic_size: 10,
            nr_topics: None,
            seed: 42,
            embedding_model: crate::embed::DEFAULT_MODEL.to_string(),
            umap: UmapParams::default(),
            hdbscan: HdbscanParams::default(),
            vectorizer: VectorizerParams::default(),
            ctfidf: CtfidfParams::default(),
            n_representative_docs: 3,
            representation: Representation::CTfidf,
        }
    }
}

impl BERTopicParams {
    /// Checks ranges that the stages cannot check themselves.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(BertopicError::InvalidParams(m));
        if self.top_n_words == 0 {
            return bad("top_n_words must be at least 1".into());
        }
        if self.min_topic_size < 2 {
            return bad(format!(
                "min_topic_size must be at least 2 (got {})",
                self.min_topic_size
            ));
        }
        let (lo, hi) = self.ngram_range;
        if lo == 0 || lo > hi {
            return bad(format!(
                "ngram_range must satisfy 1 <= min <= max (got ({lo}, {hi}))"
            ));
        }
        if let Some(n) = self.nr_topics {
            if n < 1 {
                return bad("nr_topics must be at least 1".into());
            }
        }
        // Upper bounds stop absurd values (a wrapped -1) before they overflow counts downstream.
        let u = &self.umap;
        if !(2..=100_000).contains(&u.n_neighbors) {
            return bad(format!(
                "n_neighbors must be between 2 and 100000 (got {}); BERTopic's default is 15",
                u.n_neighbors
            ));
        }
        if !(1..=1_000).contains(&u.n_components) {
            return bad(format!(
                "n_components must be between 1 and 1000 (got {}); BERTopic's default is 5",
                u.n_components
            ));
        }
        let ok = (0.0..f32::INFINITY).contains(&u.min_dist)
            && u.spread.is_finite()
            && u.spread > 0.0
            && u.learning_rate.is_finite()
            && u.learning_rate > 0.0;
        if !ok {
            return bad(format!(
                "UMAP min_dist ({}) must be >= 0, spread ({}) and learning_rate ({}) > 0, all finite",
                u.min_dist, u.spread, u.learning_rate
            ));
        }
        // `seed` and `min_topic_size` set these two stage fields; a different value there would
        // be overridden without a word, so it is refused (the stage default means "not set").
        if u.seed != self.seed && u.seed != UmapParams::default().seed {
            return bad(format!(
                "umap.seed ({}) differs from seed ({}): set seed, it seeds every stage",
                u.seed, self.seed
            ));
        }
        let mcs = self.hdbscan.min_cluster_size;
        if mcs != self.min_topic_size && mcs != HdbscanParams::default().min_cluster_size {
            return bad(format!(
                "hdbscan.min_cluster_size ({mcs}) differs from min_topic_size ({}): set \
                 min_topic_size, it is HDBSCAN's min_cluster_size",
                self.min_topic_size
            ));
        }
        if self.min_topic_size > 10_000_000 {
            return bad(format!(
                "min_topic_size {} is larger than any corpus",
                self.min_topic_size
            ));
        }
        self.representation.validate()
    }

    /// UMAP settings with the pipeline seed applied.
    pub fn umap_params(&self) -> UmapParams {
        UmapParams {
            seed: self.seed,
            ..self.umap.clone()
        }
    }

    /// HDBSCAN settings with `min_topic_size` applied.
    pub fn hdbscan_params(&self) -> HdbscanParams {
        HdbscanParams {
            min_cluster_size: self.min_topic_size,
            ..self.hdbscan.clone()
        }
    }

    /// The tokenizer used for topic terms (and, with unigrams, for coherence).
    pub fn tokenizer_config(&self) -> TokenizerConfig {
        TokenizerConfig {
            language: if self.stop_words {
                self.language
            } else {
                Language::None
            },
            ngram_range: self.ngram_range,
            ..TokenizerConfig::default()
        }
    }
}

/// How topic words are chosen (BERTopic's `representation_model`).
///
/// Every variant starts from the c-TF-IDF ranking; [`Mmr`](Self::Mmr) and
/// [`KeyBert`](Self::KeyBert) re-rank its candidates with word embeddings, so they need an
/// embedder: the one given to [`BERTopicBuilder::embedder`](crate::BERTopicBuilder::embedder),
/// the encoder of [`BERTopic::fit`](crate::BERTopic::fit), or else the configured
/// `embedding_model`, loaded when first needed (as BERTopic does). The choice is saved with the
/// model.
///
/// ```
/// use bertopic::{BERTopic, BertopicError, Representation};
///
/// // BERTopic's defaults when a re-ranker is chosen: diversity 0.1; 5 documents, 100 candidates.
/// assert_eq!(Representation::mmr_default(), Representation::mmr(0.1));
/// assert_eq!(Representation::keybert().name(), "keybert");
/// let r: Representation = "mmr".parse()?;
/// assert_eq!(r, Representation::mmr(0.1));
///
/// let builder = BERTopic::builder().representation(Representation::mmr(0.3));
/// assert!(builder.build().is_ok());
/// // Out-of-range settings are refused when the model is built.
/// let err = BERTopic::builder().representation(Representation::mmr(1.5)).build();
/// assert!(matches!(err, Err(BertopicError::InvalidParams(_))));
/// # Ok::<(), BertopicError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Representation {
    /// The top c-TF-IDF words (BERTopic without a representation model). The default.
    #[default]
    #[serde(rename = "ctfidf")]
    CTfidf,
    /// Maximal Marginal Relevance over the top `max(30, top_n_words)` c-TF-IDF words: keeps
    /// words close to the topic yet unlike each other (BERTopic `MaximalMarginalRelevance`).
    Mmr(MmrParams),
    /// KeyBERT-inspired re-ranking: candidate words scored by cosine similarity to the mean
    /// embedding of the topic's most representative documents (BERTopic `KeyBERTInspired`).
    /// The words' weights become those similarities.
    #[serde(rename = "keybert")]
    KeyBert(KeyBertParams),
}

/// Settings of [`Representation::Mmr`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MmrParams {
    /// 0 = pure relevance (c-TF-IDF order), 1 = pure diversity. BERTopic's default 0.1.
    pub diversity: f32,
}

impl Default for MmrParams {
    fn default() -> Self {
        MmrParams { diversity: 0.1 }
    }
}

/// Settings of [`Representation::KeyBert`], with BERTopic's `KeyBERTInspired` defaults.
///
/// The number of words kept is the pipeline's `top_n_words` (10 by default, as BERTopic's
/// `KeyBERTInspired(top_n_words=10)`). BERTopic's `nr_samples` (500 random documents per topic
/// scored for representativeness) has no counterpart: every document of the topic is scored,
/// which is deterministic and equals BERTopic for topics of up to 500 documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KeyBertParams {
    /// Representative documents whose mean embedding is the topic embedding (default 5).
    pub nr_repr_docs: usize,
    /// c-TF-IDF words considered per topic (default 100).
    pub nr_candidate_words: usize,
}

impl Default for KeyBertParams {
    fn default() -> Self {
        KeyBertParams {
            nr_repr_docs: 5,
            nr_candidate_words: 100,
        }
    }
}

impl Representation {
    /// Names accepted by [`FromStr`](std::str::FromStr) and shown by [`name`](Self::name).
    pub const NAMES: [&'static str; 3] = ["ctfidf", "mmr", "keybert"];

    /// MMR with the given diversity (validated when the model is built).
    pub fn mmr(diversity: f32) -> Self {
        Representation::Mmr(MmrParams { diversity })
    }

    /// MMR with BERTopic's default diversity 0.1.
    pub fn mmr_default() -> Self {
        Representation::Mmr(MmrParams::default())
    }

    /// KeyBERT-inspired re-ranking with BERTopic's defaults.
    pub fn keybert() -> Self {
        Representation::KeyBert(KeyBertParams::default())
    }

    /// Short name: `ctfidf`, `mmr` or `keybert`.
    pub fn name(&self) -> &'static str {
        match self {
            Representation::CTfidf => "ctfidf",
            Representation::Mmr(_) => "mmr",
            Representation::KeyBert(_) => "keybert",
        }
    }

    /// Whether topic words must be embedded (an embedder is needed).
    pub fn needs_embedder(&self) -> bool {
        !matches!(self, Representation::CTfidf)
    }

    /// Checks the ranges.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Representation::CTfidf => Ok(()),
            Representation::Mmr(MmrParams { diversity }) => {
                // `contains` is false for NaN, so NaN is refused too.
                if (0.0..=1.0).contains(&diversity) {
                    Ok(())
                } else {
                    Err(BertopicError::InvalidParams(format!(
                        "MMR diversity must be in [0, 1] (got {diversity}); BERTopic's default is 0.1"
                    )))
                }
            }
            Representation::KeyBert(p) => {
                if p.nr_repr_docs == 0 {
                    return Err(BertopicError::InvalidParams(
                        "KeyBERT nr_repr_docs must be at least 1 (BERTopic's default is 5)".into(),
                    ));
                }
                if p.nr_candidate_words == 0 {
                    return Err(BertopicError::InvalidParams(
                        "KeyBERT nr_candidate_words must be at least 1 (BERTopic's default is 100)"
                            .into(),
                    ));
                }
                Ok(())
            }
        }
    }
}

impl std::fmt::Display for Representation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Representation::CTfidf => write!(f, "ctfidf"),
            Representation::Mmr(p) => write!(f, "mmr(diversity={})", p.diversity),
            Representation::KeyBert(p) => write!(
                f,
                "keybert(nr_repr_docs={}, nr_candidate_words={})",
                p.nr_repr_docs, p.nr_candidate_words
            ),
        }
    }
}

impl std::str::FromStr for Representation {
    type Err = BertopicError;

    /// `ctfidf` (also `c-tf-idf`), `mmr` or `keybert` (also `keybert-inspired`), case-insensitive,
    /// each with BERTopic's defaults.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ctfidf" | "c-tf-idf" | "c_tf_idf" => Ok(Representation::CTfidf),
            "mmr" => Ok(Representation::mmr_default()),
            "keybert" | "keybert-inspired" | "keybertinspired" => Ok(Representation::keybert()),
            other => Err(BertopicError::InvalidParams(format!(
                "unknown representation `{other}`: use one of {}",
                Representation::NAMES.join(", ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn representation_validation() {
        assert!(Representation::CTfidf.validate().is_ok());
        assert!(Representation::mmr(0.0).validate().is_ok());
        assert!(Representation::mmr(1.0).validate().is_ok());
        for bad in [-0.1, 1.01, f32::NAN, f32::INFINITY] {
            let e = Representation::mmr(bad).validate().unwrap_err();
            assert!(matches!(e, BertopicError::InvalidParams(_)), "{e}");
            assert!(e.to_string().contains("[0, 1]"), "{e}");
        }
        let zero_docs = Representation::KeyBert(KeyBertParams {
            nr_repr_docs: 0,
            ..KeyBertParams::default()
        });
        assert!(zero_docs.validate().is_err());
        let zero_words = Representation::KeyBert(KeyBertParams {
            nr_candidate_words: 0,
            ..KeyBertParams::default()
        });
        assert!(zero_words.validate().is_err());
        let p = BERTopicParams {
            representation: Representation::mmr(2.0),
            ..BERTopicParams::default()
        };
        assert!(p.validate().is_err());
    }

    #[test]
    fn shadowed_stage_fields_are_refused_not_overridden() {
        let mut p = BERTopicParams {
            seed: 7,
            ..BERTopicParams::default()
        };
        assert!(p.validate().is_ok(), "UMAP's default seed means not set");
        p.umap.seed = 7;
        assert!(p.validate().is_ok());
        p.umap.seed = 3;
        let e = p.validate().unwrap_err().to_string();
        assert!(e.contains("umap.seed (3) differs from seed (7)"), "{e}");

        let mut p = BERTopicParams {
            min_topic_size: 25,
            ..BERTopicParams::default()
        };
        assert!(p.validate().is_ok());
        p.hdbscan.min_cluster_size = 25;
        assert!(p.validate().is_ok());
        p.hdbscan.min_cluster_size = 40;
        let e = p.validate().unwrap_err().to_string();
        assert!(
            e.contains("min_cluster_size (40) differs from min_topic_size (25)"),
            "{e}"
        );
    }

    #[test]
    fn representation_defaults_names_and_parsing() {
        assert_eq!(
            BERTopicParams::default().representation,
            Representation::CTfidf
        );
        assert_eq!(Representation::mmr_default(), Representation::mmr(0.1));
        assert_eq!(
            Representation::keybert(),
            Representation::KeyBert(KeyBertParams {
                nr_repr_docs: 5,
                nr_candidate_words: 100
            })
        );
        for name in Representation::NAMES {
            let r: Representation = name.parse().unwrap();
            assert_eq!(r.name(), name);
        }
        assert_eq!(
            "KeyBERT".parse::<Representation>().unwrap().name(),
            "keybert"
        );
        let e = "bm25".parse::<Representation>().unwrap_err().to_string();
        assert!(e.contains("ctfidf, mmr, keybert"), "{e}");
    }

    #[test]
    fn representation_serde_and_old_params() {
        let j = serde_json::to_value(Representation::mmr(0.25)).unwrap();
        assert_eq!(j, serde_json::json!({"kind": "mmr", "diversity": 0.25}));
        let j = serde_json::to_value(Representation::keybert()).unwrap();
        assert_eq!(
            j,
            serde_json::json!({"kind": "keybert", "nr_repr_docs": 5, "nr_candidate_words": 100})
        );
        let back: Representation = serde_json::from_value(j).unwrap();
        assert_eq!(back, Representation::keybert());
        let c: Representation = serde_json::from_str(r#"{"kind":"ctfidf"}"#).unwrap();
        assert_eq!(c, Representation::CTfidf);
        // Params written before `representation` existed (they had an unused `mmr_diversity`).
        let mut old = serde_json::to_value(BERTopicParams::default()).unwrap();
        let obj = old.as_object_mut().unwrap();
        obj.remove("representation");
        obj.insert("mmr_diversity".into(), serde_json::Value::Null);
        let p: BERTopicParams = serde_json::from_value(old).unwrap();
        assert_eq!(p.representation, Representation::CTfidf);
    }
}
