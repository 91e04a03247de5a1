use std::sync::Arc;
use std::time::Instant;

use ndarray::Array2;

use crate::cluster::{Clusterer, Hdbscan};
use crate::embed::Embedder;
use crate::error::Result;
use crate::model::TopicModel;
use crate::params::{BertopicParams, CheckedParams, Representation};
use crate::reduce::{Reducer, Umap};
use crate::stages::{check_inputs, load_embedder};

/// An unfitted topic model: hyperparameters plus the stages to run.
///
/// Build one with [`Bertopic::builder`]; every stage can be replaced through its trait.
pub struct Bertopic {
    params: CheckedParams,
    embedder: Option<Arc<dyn Embedder>>,
    reducer: Box<dyn Reducer>,
    clusterer: Box<dyn Clusterer>,
}

/// Builder for [`Bertopic`] with BERTopic's defaults.
#[derive(Default)]
pub struct BertopicBuilder {
    params: BertopicParams,
    embedder: Option<Arc<dyn Embedder>>,
    reducer: Option<Box<dyn Reducer>>,
    clusterer: Option<Box<dyn Clusterer>>,
}

/// The old name of [`Bertopic`]: public names treat acronyms as words (Rust API guidelines,
/// C-CASE). Kept for one release.
#[deprecated(note = "renamed to `Bertopic`")]
pub type BERTopic = Bertopic;

/// The old name of [`BertopicBuilder`]; kept for one release.
#[deprecated(note = "renamed to `BertopicBuilder`")]
pub type BERTopicBuilder = BertopicBuilder;

impl BertopicBuilder {
    /// Replaces all hyperparameters at once ([`BertopicParams`] or [`CheckedParams`]).
    pub fn params(mut self, params: impl Into<BertopicParams>) -> Self {
        self.params = params.into();
        self
    }
    /// Language of the documents (stop words, cleaning).
    pub fn language(mut self, language: crate::preprocess::Language) -> Self {
        self.params.language = language;
        self
    }
    /// Smallest topic size (HDBSCAN `min_cluster_size`).
    pub fn min_topic_size(mut self, n: usize) -> Self {
        self.params.min_topic_size = n;
        self
    }
    /// Seed for UMAP and every randomised step.
    pub fn seed(mut self, seed: u64) -> Self {
        self.params.seed = seed;
        self
    }
    /// Words per topic.
    pub fn top_n_words(mut self, n: usize) -> Self {
        self.params.top_n_words = n;
        self
    }
    /// Merge topics down to `n` after fitting.
    pub fn nr_topics(mut self, n: usize) -> Self {
        self.params.nr_topics = Some(n);
        self
    }
    /// Opt-in post-fit steps by name ([`QualityPreset`](crate::QualityPreset)); the default
    /// is BERTopic's plain pipeline. Saved with the model.
    pub fn quality(mut self, preset: crate::QualityPreset) -> Self {
        self.params.quality = preset;
        self
    }
    /// N-gram range of topic terms.
    pub fn ngram_range(mut self, lo: usize, hi: usize) -> Self {
        self.params.ngram_range = (lo, hi);
        self
    }
    /// How topic words are chosen (BERTopic `representation_model`); c-TF-IDF by default.
    /// [`Representation::Mmr`] and [`Representation::KeyBert`] embed candidate words with the
    /// embedder (see [`Representation`]).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use bertopic::embed::{EmbedError, Embedder};
    /// use bertopic::{Bertopic, Representation};
    ///
    /// /// A toy embedder (letter counts) standing in for a sentence encoder.
    /// struct Letters;
    /// impl Embedder for Letters {
    ///     fn embed(&self, texts: &[String]) -> Result<ndarray::Array2<f32>, EmbedError> {
    ///         Ok(ndarray::Array2::from_shape_fn((texts.len(), 26), |(i, j)| {
    ///             texts[i].bytes().filter(|b| b.to_ascii_lowercase() == b'a' + j as u8).count() as f32
    ///         }))
    ///     }
    ///     fn dim(&self) -> usize { 26 }
    ///     fn model_id(&self) -> String { "letters".into() }
    ///     fn fingerprint(&self) -> String { "letters".into() }
    /// }
    ///
    /// # fn main() -> bertopic::Result<()> {
    /// // Two kinds of short texts whose letter counts differ.
    /// let texts: Vec<String> = (0..80)
    ///     .map(|i| match i % 2 {
    ///         0 => format!("zebra zoo jazz buzz {i} fizz quiz"),
    ///         _ => format!("apple banana mango papaya {i} salad"),
    ///     })
    ///     .collect();
    /// let model = Bertopic::builder()
    ///     .embedder(Arc::new(Letters))
    ///     .representation(Representation::mmr(0.3))
    ///     .min_topic_size(5)
    ///     .build()?
    ///     .fit(&texts)?;
    /// assert_eq!(model.representation(), Representation::mmr(0.3));
    /// for topic in model.topics() {
    ///     assert!(topic.words.len() <= 10);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn representation(mut self, representation: Representation) -> Self {
        self.params.representation = representation;
        self
    }
    /// Zero-shot topics (BERTopic `zeroshot_topic_list`): documents at least
    /// `min_similarity` cosine-similar to a name's embedding join that name's topic (labelled
    /// with the name); the rest are clustered as usual. BERTopic's default threshold is 0.7.
    pub fn zeroshot_topic_list(mut self, names: Vec<String>, min_similarity: f64) -> Self {
        self.params.variants.zeroshot_topic_list = names;
        self.params.variants.zeroshot_min_similarity = min_similarity;
        self
    }
    /// Guided topics (BERTopic `seed_topic_list`): seed words nudge similar documents towards
    /// their seed topic and weigh 1.2× in c-TF-IDF.
    pub fn seed_topic_list(mut self, seeds: Vec<Vec<String>>) -> Self {
        self.params.variants.seed_topic_list = seeds;
        self
    }
    /// Online topic modelling (BERTopic's `partial_fit`): build, then call
    /// [`Bertopic::online_model`] and feed it batches (see [`crate::variants::online`]).
    pub fn online(mut self, online: crate::variants::OnlineParams) -> Self {
        self.params.variants.online = Some(online);
        self
    }
    /// Embedding model id or folder used when no embedder is given.
    pub fn embedding_model(mut self, spec: impl Into<String>) -> Self {
        self.params.embedding_model = spec.into();
        self
    }
    /// Use this embedder instead of loading `embedding_model`.
    pub fn embedder(mut self, embedder: Arc<dyn Embedder>) -> Self {
        self.embedder = Some(embedder);
        self
    }
    /// Use this reducer instead of UMAP.
    pub fn reducer(mut self, reducer: Box<dyn Reducer>) -> Self {
        self.reducer = Some(reducer);
        self
    }
    /// Use this clusterer instead of HDBSCAN.
    pub fn clusterer(mut self, clusterer: Box<dyn Clusterer>) -> Self {
        self.clusterer = Some(clusterer);
        self
    }
    /// Checks the parameters (once: the pipeline takes the [`CheckedParams`]) and creates the
    /// default stages where none were given.
    pub fn build(self) -> Result<Bertopic> {
        let params = self.params.clone().check()?;
        self.build_checked(params)
    }

    fn build_checked(self, params: CheckedParams) -> Result<Bertopic> {
        let reducer = match self.reducer {
            Some(r) => r,
            None => Box::new(Umap::new(params.umap())?),
        };
        let clusterer = match self.clusterer {
            Some(c) => c,
            None => Box::new(Hdbscan::new(params.hdbscan())?),
        };
        Ok(Bertopic {
            params,
            embedder: self.embedder,
            reducer,
            clusterer,
        })
    }
}

impl Bertopic {
    /// A builder with BERTopic's defaults.
    pub fn builder() -> BertopicBuilder {
        BertopicBuilder::default()
    }

    /// A model of parameters checked before (they are not checked again) with the default
    /// stages: UMAP, HDBSCAN and, unless `embedder` is given, the configured embedding model.
    pub fn new(params: CheckedParams, embedder: Option<Arc<dyn Embedder>>) -> Result<Bertopic> {
        BertopicBuilder {
            embedder,
            ..BertopicBuilder::default()
        }
        .build_checked(params)
    }

    /// The validated hyperparameters.
    pub fn params(&self) -> &BertopicParams {
        &self.params
    }

    /// The hyperparameters in their checked form.
    pub fn checked_params(&self) -> &CheckedParams {
        &self.params
    }

    /// The embedder: the one given to the builder, or the configured model loaded now.
    pub fn embedder(&self) -> Result<Arc<dyn Embedder>> {
        match &self.embedder {
            Some(e) => Ok(Arc::clone(e)),
            None => load_embedder(&self.params.embedding_model, false),
        }
    }

    /// An empty online model of these parameters (the builder's [`online`](BertopicBuilder::online)
    /// settings must be set); fit it batch by batch with
    /// [`OnlineTopicModel::partial_fit`](crate::variants::OnlineTopicModel::partial_fit).
    pub fn online_model(&self) -> Result<crate::variants::OnlineTopicModel> {
        crate::variants::OnlineTopicModel::new(self.params.clone())
    }

    /// Embeds `docs` and fits the topic model.
    pub fn fit(&self, docs: &[String]) -> Result<TopicModel> {
        let embedder = self.embedder()?;
        let start = Instant::now();
        let embeddings = embedder.embed(docs)?;
        let embed_s = start.elapsed().as_secs_f64();
        let mut model = self.fit_inner(docs, embeddings, Some(embedder))?;
        model.timings.embed_s = embed_s;
        Ok(model)
    }

    /// Fits on precomputed embeddings (one row per document), like BERTopic's
    /// `fit(docs, embeddings)`. An MMR or KeyBERT representation still embeds topic words: with
    /// the builder's embedder, else the configured `embedding_model` (loaded only then).
    pub fn fit_with_embeddings(
        &self,
        docs: &[String],
        embeddings: Array2<f32>,
    ) -> Result<TopicModel> {
        self.fit_inner(docs, embeddings, self.embedder.clone())
    }

    /// Fits and returns the topic and probability of every training document.
    pub fn fit_transform(&self, docs: &[String]) -> Result<(TopicModel, Vec<i64>, Vec<f64>)> {
        let model = self.fit(docs)?;
        let topics = model.document_topics().to_vec();
        let probs = model.document_probabilities().to_vec();
        Ok((model, topics, probs))
    }

    /// Supervised and semi-supervised fit on precomputed embeddings (BERTopic's `fit(docs,
    /// embeddings, y=labels)`): one label per document, −1 = unknown. All labels known: the
    /// labels are the topics (numbered by size) and nothing is clustered. Some unknown: UMAP
    /// is fitted with the labels as a categorical target (umap-learn's `fit(X, y)`, target
    /// weight 0.5), then HDBSCAN clusters as usual.
    pub fn fit_with_labels(
        &self,
        docs: &[String],
        embeddings: Array2<f32>,
        labels: &[i64],
    ) -> Result<TopicModel> {
        check_inputs(docs, &embeddings)?;
        self.fit_variant(docs, embeddings, self.embedder.clone(), Some(labels))
    }

    fn fit_variant(
        &self,
        docs: &[String],
        embeddings: Array2<f32>,
        embedder: Option<Arc<dyn Embedder>>,
        labels: Option<&[i64]>,
    ) -> Result<TopicModel> {
        let mut model = crate::variants::fit_variants(crate::variants::VariantFit {
            params: &self.params,
            reducer: self.reducer.as_ref(),
            clusterer: self.clusterer.as_ref(),
            docs,
            embeddings,
            embedder,
            labels,
        })?;
        if let Some(n) = self.params.nr_topics {
            model.reduce_topics(docs, n)?;
        }
        model.apply_post_fit(docs, &self.params.quality.post_fit())?;
        Ok(model)
    }

    fn fit_inner(
        &self,
        docs: &[String],
        embeddings: Array2<f32>,
        embedder: Option<Arc<dyn Embedder>>,
    ) -> Result<TopicModel> {
        check_inputs(docs, &embeddings)?;
        if !self.params.variants.is_default() {
            return self.fit_variant(docs, embeddings, embedder, None);
        }
        let t = Instant::now();
        let (reducer, reduced) = self.reducer.fit(embeddings.view())?;
        let reduce_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let clusterer = self.clusterer.fit(reduced.mapv(f64::from).view())?;
        let cluster_s = t.elapsed().as_secs_f64();
        let mut model = TopicModel::assemble(
            self.params.clone(),
            docs,
            embeddings,
            reducer,
            clusterer,
            embedder,
        )?;
        model.timings.reduce_s = reduce_s;
        model.timings.cluster_s = cluster_s;
        if let Some(n) = self.params.nr_topics {
            model.reduce_topics(docs, n)?;
        }
        model.apply_post_fit(docs, &self.params.quality.post_fit())?;
        Ok(model)
    }
}
