use serde::{Deserialize, Serialize};

use crate::cluster::HdbscanParams;
/// Where it is defined: `error` (a leaf module), so the params and variants modules can both
/// use it without importing each other.
pub use crate::error::ParamError;
use crate::error::{BertopicError, Result};
use crate::preprocess::{Language, TokenizerConfig};
use crate::reduce::UmapParams;
use crate::represent::{
    CtfidfParams, CtfidfWords, KeyBertWords, MmrWords, Representer, VectorizerParams,
};

/// Hyperparameters of the whole pipeline, with BERTopic's defaults.
///
/// Plain, unchecked data (linfa's pattern): build it with struct update syntax or through
/// [`crate::BertopicBuilder`], then [`check`](Self::check) it once into the [`CheckedParams`]
/// that the pipeline and tuning take (the builder does this for you).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct BertopicParams {
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
    /// UMAP settings. `umap.seed` is set from `seed` above; [`check`](Self::check)
    /// refuses another value there (other than UMAP's default, which means "not set").
    pub umap: UmapParams,
    /// HDBSCAN settings. `hdbscan.min_cluster_size` is set from `min_topic_size` above;
    /// [`check`](Self::check) refuses another value there (other than HDBSCAN's default).
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
    /// Zero-shot and guided topic settings (see [`crate::variants`]); off by default, and
    /// models saved before they existed load with them off.
    pub variants: crate::variant_params::VariantParams,
    /// Opt-in post-fit steps by name (see [`crate::QualityPreset`]); BERTopic's plain
    /// pipeline by default. The default is not written to saved models, so they stay as they
    /// were before presets existed, and models without the field load as the default.
    #[serde(skip_serializing_if = "crate::QualityPreset::is_default")]
    pub quality: crate::QualityPreset,
}

/// The old name of [`BertopicParams`]: public names treat acronyms as words (Rust API
/// guidelines, C-CASE). Kept for one release.
#[deprecated(note = "renamed to `BertopicParams`")]
pub type BERTopicParams = BertopicParams;

impl Default for BertopicParams {
    fn default() -> Self {
        BertopicParams {
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
            variants: crate::variant_params::VariantParams::default(),
            quality: crate::QualityPreset::Default,
        }
    }
}

impl BertopicParams {
    /// Checks every field once and returns the checked form the pipeline takes (linfa's
    /// `ParamGuard::check`). Each refusal is a [`ParamError`] naming the field and the fix.
    ///
    /// ```
    /// use bertopic::{BertopicParams, CheckedParams};
    ///
    /// let checked: CheckedParams = BertopicParams { seed: 7, ..Default::default() }.check()?;
    /// // The shadowed stage fields are resolved, never left for a stage to guess.
    /// assert_eq!(checked.umap().seed, 7);
    /// assert_eq!(checked.hdbscan().min_cluster_size, 10);
    ///
    /// let err = BertopicParams { top_n_words: 0, ..Default::default() }.check().unwrap_err();
    /// assert_eq!(err.field(), "top_n_words");
    /// # Ok::<(), bertopic::ParamError>(())
    /// ```
    pub fn check(self) -> std::result::Result<CheckedParams, ParamError> {
        self.check_ref()?;
        Ok(CheckedParams(self))
    }

    /// [`check`](Self::check) without taking the parameters (they are cloned when valid).
    pub fn checked(&self) -> std::result::Result<CheckedParams, ParamError> {
        self.clone().check()
    }

    /// Checks ranges that the stages cannot check themselves.
    #[deprecated(
        note = "use `check()`, which returns the `CheckedParams` that `fit` and `tune` take"
    )]
    pub fn validate(&self) -> Result<()> {
        Ok(self.check_ref()?)
    }

    fn check_ref(&self) -> std::result::Result<(), ParamError> {
        let bad = |field: &'static str, m: String| Err(ParamError::new(field, m));
        if self.top_n_words == 0 {
            return bad("top_n_words", "top_n_words must be at least 1".into());
        }
        if self.min_topic_size < 2 {
            return bad(
                "min_topic_size",
                format!(
                    "min_topic_size must be at least 2 (got {})",
                    self.min_topic_size
                ),
            );
        }
        let (lo, hi) = self.ngram_range;
        if lo == 0 || lo > hi {
            return bad(
                "ngram_range",
                format!("ngram_range must satisfy 1 <= min <= max (got ({lo}, {hi}))"),
            );
        }
        if self.nr_topics == Some(0) {
            return bad("nr_topics", "nr_topics must be at least 1".into());
        }
        // Upper bounds stop absurd values (a wrapped -1) before they overflow counts downstream.
        let u = &self.umap;
        if !(2..=100_000).contains(&u.n_neighbors) {
            return bad(
                "umap.n_neighbors",
                format!(
                    "n_neighbors must be between 2 and 100000 (got {}); BERTopic's default is 15",
                    u.n_neighbors
                ),
            );
        }
        if !(1..=1_000).contains(&u.n_components) {
            return bad(
                "umap.n_components",
                format!(
                    "n_components must be between 1 and 1000 (got {}); BERTopic's default is 5",
                    u.n_components
                ),
            );
        }
        let ok = (0.0..f32::INFINITY).contains(&u.min_dist)
            && u.spread.is_finite()
            && u.spread > 0.0
            && u.learning_rate.is_finite()
            && u.learning_rate > 0.0;
        if !ok {
            return bad(
                "umap.min_dist",
                format!(
                    "UMAP min_dist ({}) must be >= 0, spread ({}) and learning_rate ({}) > 0, all finite",
                    u.min_dist, u.spread, u.learning_rate
                ),
            );
        }
        // `seed` and `min_topic_size` set these two stage fields; a different value there would
        // be overridden without a word, so it is refused (the stage default means "not set").
        if u.seed != self.seed && u.seed != UmapParams::default().seed {
            return bad(
                "umap.seed",
                format!(
                    "umap.seed ({}) differs from seed ({}): set seed, it seeds every stage",
                    u.seed, self.seed
                ),
            );
        }
        let mcs = self.hdbscan.min_cluster_size;
        if mcs != self.min_topic_size && mcs != HdbscanParams::default().min_cluster_size {
            return bad(
                "hdbscan.min_cluster_size",
                format!(
                    "hdbscan.min_cluster_size ({mcs}) differs from min_topic_size ({}): set \
                     min_topic_size, it is HDBSCAN's min_cluster_size",
                    self.min_topic_size
                ),
            );
        }
        if self.min_topic_size > 10_000_000 {
            return bad(
                "min_topic_size",
                format!(
                    "min_topic_size {} is larger than any corpus",
                    self.min_topic_size
                ),
            );
        }
        self.variants.check()?;
        // An online model has no outlier topic and refits its words batch by batch, so the
        // post-fit steps have nothing to act on there.
        if !self.quality.is_default() && self.variants.online.is_some() {
            return bad(
                "quality",
                format!(
                    "quality preset {:?} applies to the UMAP + HDBSCAN pipeline, not to an online \
                     model: use the default preset with online",
                    self.quality.as_str()
                ),
            );
        }
        self.representation.check()
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

/// [`BertopicParams`] that passed [`check`](BertopicParams::check): every range holds and the
/// shadowed stage fields agree with the pipeline's, so the pipeline and tuning take this form
/// and never check again. Read the fields through `Deref`; change them by going back with
/// [`into_inner`](Self::into_inner) and checking again.
///
/// Saved models and experiment records keep the fields as given (`umap.seed` and
/// `hdbscan.min_cluster_size` may hold the stage defaults, meaning "not set"): read the stage
/// settings through [`umap`](Self::umap) and [`hdbscan`](Self::hdbscan), which resolve them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct CheckedParams(BertopicParams);

impl CheckedParams {
    /// BERTopic's defaults, which are valid.
    pub fn defaults() -> Self {
        CheckedParams(BertopicParams::default())
    }

    /// The unchecked parameters, to change and check again.
    pub fn into_inner(self) -> BertopicParams {
        self.0
    }

    /// UMAP's settings, seeded with the pipeline `seed`.
    pub fn umap(&self) -> UmapParams {
        self.0.umap_params()
    }

    /// HDBSCAN's settings, with `min_cluster_size` = `min_topic_size`.
    pub fn hdbscan(&self) -> HdbscanParams {
        self.0.hdbscan_params()
    }

    /// The tokenizer of topic terms (and, with unigrams, of coherence).
    pub fn tokenizer(&self) -> TokenizerConfig {
        self.0.tokenizer_config()
    }

    /// These parameters with another representation, checked.
    pub fn with_representation(
        &self,
        representation: Representation,
    ) -> std::result::Result<CheckedParams, ParamError> {
        BertopicParams {
            representation,
            ..self.0.clone()
        }
        .check()
    }

    /// A tuning trial's parameters: another reduction (`n_neighbors`, `n_components`) and
    /// `min_topic_size`, checked.
    pub(crate) fn with_trial(
        &self,
        n_neighbors: usize,
        n_components: usize,
        min_topic_size: usize,
    ) -> std::result::Result<CheckedParams, ParamError> {
        let mut p = self.0.clone();
        p.umap.n_neighbors = n_neighbors;
        p.umap.n_components = n_components;
        p.min_topic_size = min_topic_size;
        // An explicit `hdbscan.min_cluster_size` follows `min_topic_size` (the stage default
        // means "not set" and stays, so saved models keep their bytes).
        if p.hdbscan.min_cluster_size != HdbscanParams::default().min_cluster_size {
            p.hdbscan.min_cluster_size = min_topic_size;
        }
        p.check()
    }
}

impl std::ops::Deref for CheckedParams {
    type Target = BertopicParams;

    fn deref(&self) -> &BertopicParams {
        &self.0
    }
}

impl AsRef<BertopicParams> for CheckedParams {
    fn as_ref(&self) -> &BertopicParams {
        &self.0
    }
}

impl From<CheckedParams> for BertopicParams {
    fn from(c: CheckedParams) -> Self {
        c.0
    }
}

impl TryFrom<BertopicParams> for CheckedParams {
    type Error = ParamError;

    fn try_from(p: BertopicParams) -> std::result::Result<Self, ParamError> {
        p.check()
    }
}

impl<'de> Deserialize<'de> for CheckedParams {
    /// Reads [`BertopicParams`] and checks them: a saved file cannot smuggle in invalid values.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        BertopicParams::deserialize(d)?
            .check()
            .map_err(serde::de::Error::custom)
    }
}

/// How topic words are chosen (BERTopic's `representation_model`).
///
/// Every variant starts from the c-TF-IDF ranking; [`Mmr`](Self::Mmr) and
/// [`KeyBert`](Self::KeyBert) re-rank its candidates with word embeddings, so they need an
/// embedder: the one given to [`BertopicBuilder::embedder`](crate::BertopicBuilder::embedder),
/// the encoder of [`Bertopic::fit`](crate::Bertopic::fit), or else the configured
/// `embedding_model`, loaded when first needed (as BERTopic does). The choice is saved with the
/// model.
///
/// ```
/// use bertopic::{Bertopic, BertopicError, Representation};
///
/// // BERTopic's defaults when a re-ranker is chosen: diversity 0.1; 5 documents, 100 candidates.
/// assert_eq!(Representation::mmr_default(), Representation::mmr(0.1));
/// assert_eq!(Representation::keybert().name(), "keybert");
/// let r: Representation = "mmr".parse()?;
/// assert_eq!(r, Representation::mmr(0.1));
///
/// let builder = Bertopic::builder().representation(Representation::mmr(0.3));
/// assert!(builder.build().is_ok());
/// // Out-of-range settings are refused when the model is built.
/// let err = Bertopic::builder().representation(Representation::mmr(1.5)).build();
/// assert!(matches!(err, Err(BertopicError::Param(ref e)) if e.field() == "representation.diversity"));
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

    /// This choice as the topic-word stage the fitted model runs.
    pub fn representer(&self) -> Box<dyn Representer> {
        match *self {
            Representation::CTfidf => Box::new(CtfidfWords),
            Representation::Mmr(p) => Box::new(MmrWords {
                diversity: p.diversity,
            }),
            Representation::KeyBert(k) => Box::new(KeyBertWords {
                nr_repr_docs: k.nr_repr_docs,
                nr_candidate_words: k.nr_candidate_words,
            }),
        }
    }

    /// Checks the ranges.
    pub fn validate(&self) -> Result<()> {
        Ok(self.check()?)
    }

    /// Checks the ranges; the error names the field (`representation.diversity`, ...).
    pub fn check(&self) -> std::result::Result<(), ParamError> {
        match *self {
            Representation::CTfidf => Ok(()),
            Representation::Mmr(MmrParams { diversity }) => {
                // `contains` is false for NaN, so NaN is refused too.
                if (0.0..=1.0).contains(&diversity) {
                    Ok(())
                } else {
                    Err(ParamError::new(
                        "representation.diversity",
                        format!(
                            "MMR diversity must be in [0, 1] (got {diversity}); BERTopic's default is 0.1"
                        ),
                    ))
                }
            }
            Representation::KeyBert(p) => {
                if p.nr_repr_docs == 0 {
                    return Err(ParamError::new(
                        "representation.nr_repr_docs",
                        "KeyBERT nr_repr_docs must be at least 1 (BERTopic's default is 5)",
                    ));
                }
                if p.nr_candidate_words == 0 {
                    return Err(ParamError::new(
                        "representation.nr_candidate_words",
                        "KeyBERT nr_candidate_words must be at least 1 (BERTopic's default is 100)",
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

    /// The deprecated pre-C-CASE names still compile and name the same types.
    #[test]
    #[allow(deprecated)]
    fn old_names_are_aliases() {
        let p: crate::BERTopicParams = BertopicParams::default();
        let b: crate::BERTopicBuilder = crate::BERTopic::builder().params(p);
        let _: crate::Bertopic = b.build().unwrap();
    }

    #[test]
    fn representation_validation() {
        assert!(Representation::CTfidf.validate().is_ok());
        assert!(Representation::mmr(0.0).validate().is_ok());
        assert!(Representation::mmr(1.0).validate().is_ok());
        for bad in [-0.1, 1.01, f32::NAN, f32::INFINITY] {
            let e = Representation::mmr(bad).validate().unwrap_err();
            assert!(
                matches!(e, BertopicError::Param(ref p) if p.field() == "representation.diversity"),
                "{e}"
            );
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
        let p = BertopicParams {
            representation: Representation::mmr(2.0),
            ..BertopicParams::default()
        };
        assert_eq!(p.check().unwrap_err().field(), "representation.diversity");
    }

    #[test]
    fn shadowed_stage_fields_are_refused_not_overridden() {
        let mut p = BertopicParams {
            seed: 7,
            ..BertopicParams::default()
        };
        assert!(p.checked().is_ok(), "UMAP's default seed means not set");
        p.umap.seed = 7;
        assert!(p.checked().is_ok());
        p.umap.seed = 3;
        let e = p.checked().unwrap_err();
        assert_eq!(e.field(), "umap.seed");
        assert!(
            e.message().contains("umap.seed (3) differs from seed (7)"),
            "{e}"
        );

        let mut p = BertopicParams {
            min_topic_size: 25,
            ..BertopicParams::default()
        };
        assert!(p.checked().is_ok());
        p.hdbscan.min_cluster_size = 25;
        assert!(p.checked().is_ok());
        p.hdbscan.min_cluster_size = 40;
        let e = p.checked().unwrap_err();
        assert_eq!(e.field(), "hdbscan.min_cluster_size");
        assert!(
            e.to_string()
                .contains("min_cluster_size (40) differs from min_topic_size (25)"),
            "{e}"
        );
    }

    #[test]
    fn check_names_the_field_and_resolves_shadowed_stage_fields() {
        let cases: [(&str, BertopicParams); 6] = [
            (
                "top_n_words",
                BertopicParams {
                    top_n_words: 0,
                    ..Default::default()
                },
            ),
            (
                "min_topic_size",
                BertopicParams {
                    min_topic_size: 1,
                    ..Default::default()
                },
            ),
            (
                "ngram_range",
                BertopicParams {
                    ngram_range: (2, 1),
                    ..Default::default()
                },
            ),
            (
                "nr_topics",
                BertopicParams {
                    nr_topics: Some(0),
                    ..Default::default()
                },
            ),
            (
                "umap.n_neighbors",
                BertopicParams {
                    umap: UmapParams {
                        n_neighbors: 1,
                        ..Default::default()
                    },
                    ..Default::default()
                },
            ),
            (
                "umap.n_components",
                BertopicParams {
                    umap: UmapParams {
                        n_components: 0,
                        ..Default::default()
                    },
                    ..Default::default()
                },
            ),
        ];
        for (field, p) in cases {
            let e = p.check().unwrap_err();
            assert_eq!(e.field(), field, "{e}");
            // The facade error keeps the message users saw before the typed error.
            let shown = BertopicError::from(e.clone()).to_string();
            assert_eq!(shown, format!("invalid parameter: {}", e.message()));
        }
        let c = BertopicParams {
            seed: 9,
            min_topic_size: 4,
            ..Default::default()
        }
        .check()
        .unwrap();
        assert_eq!((c.umap().seed, c.hdbscan().min_cluster_size), (9, 4));
        // Saved as given: the checked form serialises exactly as the unchecked one.
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            serde_json::to_string(&c.clone().into_inner()).unwrap()
        );
        let t = c.with_trial(20, 3, 6).unwrap();
        assert_eq!((t.umap().n_neighbors, t.umap().n_components), (20, 3));
        assert_eq!(t.hdbscan().min_cluster_size, 6);
        assert_eq!(
            c.with_trial(1, 3, 6).unwrap_err().field(),
            "umap.n_neighbors"
        );
        // Deserialising checks too.
        let bad = r#"{"top_n_words": 0}"#;
        let e = serde_json::from_str::<CheckedParams>(bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("top_n_words must be at least 1"), "{e}");
    }

    #[test]
    fn representation_defaults_names_and_parsing() {
        assert_eq!(
            BertopicParams::default().representation,
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
        let mut old = serde_json::to_value(BertopicParams::default()).unwrap();
        let obj = old.as_object_mut().unwrap();
        obj.remove("representation");
        obj.insert("mmr_diversity".into(), serde_json::Value::Null);
        let p: BertopicParams = serde_json::from_value(old).unwrap();
        assert_eq!(p.representation, Representation::CTfidf);
    }
}
