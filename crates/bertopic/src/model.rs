use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cluster::FittedClusterer;
use crate::coherence::{CoherenceOptions, CoherenceResult, Measure, ReferenceCorpus};
use crate::embed::Embedder;
use crate::error::{BertopicError, Result};
use crate::params::{BertopicParams, CheckedParams, Representation};
use crate::predict::{self, KnownIndex, PredictOptions, PredictStrategy};
use crate::preprocess::{Language, Tokenizer};
use crate::reduce::FittedReducer;
use crate::represent::{self, RepresentInput, RepresentParams, Representer, TopicRepresentation};
use crate::stages::{check_inputs, StageTimings};

/// One topic: its id (−1 = outliers), size, words and label.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Topic {
    /// Topic id, BERTopic's numbering: −1 = outliers, then 0, 1, … by size.
    pub id: i64,
    /// Training documents in the topic.
    pub count: usize,
    /// Top words with their c-TF-IDF weights, best first.
    pub words: Vec<(String, f64)>,
    /// BERTopic's default name: `{id}_` + the top four words joined by `_`.
    pub name: String,
    /// A readable label (seed fallback or LLM), when one was made.
    pub label: Option<String>,
    /// The most representative training documents.
    pub representative_docs: Vec<String>,
}

/// A row of [`TopicModel::topic_info`], BERTopic's `get_topic_info()` columns.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TopicInfo {
    /// Topic id (−1 = outliers).
    pub topic: i64,
    /// Training documents in the topic.
    pub count: usize,
    /// BERTopic's default name (`{id}_word_word_word_word`).
    pub name: String,
    /// The topic's words, best first.
    pub representation: Vec<String>,
    /// The most representative training documents.
    pub representative_docs: Vec<String>,
}

/// A row of [`TopicModel::document_info`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DocumentInfo {
    /// Index of the training document (0-based, training order).
    pub document: usize,
    /// Its topic (−1 = outlier).
    pub topic: i64,
    /// The topic's name.
    pub name: String,
    /// HDBSCAN's membership probability of the document in its topic.
    pub probability: f64,
}

/// How [`TopicModel::reduce_outliers`] assigns outlier documents to topics.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum OutlierStrategy {
    /// Cosine similarity of the document's c-TF-IDF vector with each topic's.
    CTfidf,
    /// Cosine similarity of the document's embedding with each topic embedding.
    Embeddings,
}

/// Which embedding model produced the training embeddings, for `transform` and provenance.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EmbeddingInfo {
    /// Model id or folder, as given.
    pub model_id: String,
    /// Fingerprint of the model files (changes when the weights change).
    pub fingerprint: String,
    /// Embedding width.
    pub dim: usize,
}

/// A fitted topic model.
pub struct TopicModel {
    pub(crate) params: CheckedParams,
    pub(crate) reducer: Box<dyn FittedReducer>,
    pub(crate) clusterer: Box<dyn FittedClusterer>,
    /// Clusterer label → topic id (after size ordering and merges); missing = outlier.
    pub(crate) cluster_to_topic: BTreeMap<i64, i64>,
    pub(crate) topics: Vec<Topic>,
    pub(crate) representation: TopicRepresentation,
    pub(crate) topic_embeddings: Array2<f32>,
    pub(crate) doc_topics: Vec<i64>,
    pub(crate) doc_probs: Vec<f64>,
    pub(crate) embedding: Option<EmbeddingInfo>,
    pub(crate) timings: StageTimings,
    /// Training embeddings are kept for the embedding outlier strategy and topic merges.
    pub(crate) embeddings: Array2<f32>,
    /// Embeds topic words for MMR / KeyBERT; not saved (set again or loaded lazily).
    pub(crate) word_embedder: Option<Arc<dyn Embedder>>,
    /// Training-corpus figures drift monitoring compares a batch with (`None` for models
    /// saved before they were recorded); see [`crate::monitor`].
    pub(crate) monitor_baseline: Option<crate::baseline::TrainingBaseline>,
    /// Hash of each training document's normalised text, so `transform` recognises training
    /// documents (see [`crate::predict`]); empty for models saved before it was stored.
    pub(crate) doc_text_hashes: Vec<u64>,
    /// Lookups for prediction, built from the fields above on first use.
    pub(crate) known: OnceLock<KnownIndex>,
    /// Set when a loaded model's reducer or clusterer could not be rebuilt (see
    /// [`crate::loaders`]).
    pub(crate) stage_notice: Option<crate::loaders::StageNotice>,
}

impl std::fmt::Debug for TopicModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TopicModel")
            .field("n_topics", &self.n_topics())
            .field("n_documents", &self.doc_topics.len())
            .finish_non_exhaustive()
    }
}

impl TopicModel {
    pub(crate) fn assemble(
        params: CheckedParams,
        docs: &[String],
        embeddings: Array2<f32>,
        reducer: Box<dyn FittedReducer>,
        clusterer: Box<dyn FittedClusterer>,
        embedder: Option<Arc<dyn Embedder>>,
    ) -> Result<Self> {
        let labels = clusterer.labels().to_vec();
        if labels.len() != docs.len() {
            return Err(BertopicError::Mismatch(format!(
                "clusterer returned {} labels for {} documents",
                labels.len(),
                docs.len()
            )));
        }
        let cluster_to_topic = order_by_size(&labels);
        let doc_topics: Vec<i64> = labels
            .iter()
            .map(|l| cluster_to_topic.get(l).copied().unwrap_or(-1))
            .collect();
        let doc_probs = clusterer.probabilities().to_vec();
        let embedding = embedder.as_ref().map(|e| EmbeddingInfo {
            model_id: e.model_id(),
            fingerprint: e.fingerprint(),
            dim: e.dim(),
        });
        let mut model = TopicModel {
            params,
            reducer,
            clusterer,
            cluster_to_topic,
            topics: Vec::new(),
            representation: TopicRepresentation::default(),
            topic_embeddings: Array2::zeros((0, embeddings.ncols())),
            doc_topics,
            doc_probs,
            embedding,
            timings: StageTimings::default(),
            embeddings,
            word_embedder: embedder,
            monitor_baseline: None,
            doc_text_hashes: predict::training_text_hashes(docs),
            known: OnceLock::new(),
            stage_notice: None,
        };
        model.refresh_topics(docs)?;
        Ok(model)
    }

    /// Edits and analyses that refit words from the training texts take them back from the
    /// caller (the model keeps no texts). They must be the training documents, in order: the
    /// model keeps an 8-byte hash of each one's text (see [`crate::predict`]), so another
    /// corpus, a shuffled one or one read with other options is refused, naming the first row
    /// that differs, instead of silently giving wrong topic words. Models saved without the
    /// hashes check the count and that every representative document is among `docs`.
    pub(crate) fn check_training_docs(&self, what: &str, docs: &[String]) -> Result<()> {
        if docs.len() != self.doc_topics.len() {
            return Err(BertopicError::Mismatch(format!(
                "{what} needs the {} training documents of this model (got {}): pass the corpus \
                 the model was trained on, read with the same options",
                self.doc_topics.len(),
                docs.len()
            )));
        }
        if self.doc_text_hashes.is_empty() {
            return self.check_representative_docs(what, docs);
        }
        let n = self.doc_text_hashes.len().min(docs.len());
        let first_bad = (0..n)
            .into_par_iter()
            .find_first(|&i| predict::text_hash(&docs[i]).unwrap_or(0) != self.doc_text_hashes[i]);
        match first_bad {
            None => Ok(()),
            Some(i) => {
                let shown: String = docs[i].chars().take(60).collect();
                Err(BertopicError::Mismatch(format!(
                    "{what} needs the training documents of this model, in training order: \
                     document {i} (0-based, \"{shown}…\") is not the one the model was trained \
                     on; pass the corpus the model was trained on, read with the same options"
                )))
            }
        }
    }

    /// The check of [`check_training_docs`](Self::check_training_docs) for models without text
    /// hashes: each topic's stored representative documents must all be among `docs`.
    fn check_representative_docs(&self, what: &str, docs: &[String]) -> Result<()> {
        let given: std::collections::HashSet<&str> = docs.iter().map(String::as_str).collect();
        for t in &self.topics {
            if let Some(missing) = t
                .representative_docs
                .iter()
                .find(|d| !given.contains(d.as_str()))
            {
                let shown: String = missing.chars().take(60).collect();
                return Err(BertopicError::Mismatch(format!(
                    "{what} needs the training documents of this model: these {} documents are \
                     not them (topic {}'s representative document \"{shown}…\" is missing); pass \
                     the corpus the model was trained on, read with the same options",
                    docs.len(),
                    t.id
                )));
            }
        }
        Ok(())
    }

    /// The c-TF-IDF matrix rows of the non-outlier topics, with their ids.
    pub(crate) fn topic_rows(&self) -> (Vec<i64>, Vec<usize>) {
        self.representation
            .topic_ids
            .iter()
            .enumerate()
            .filter(|(_, &t)| t >= 0)
            .map(|(r, &t)| (t, r))
            .unzip()
    }

    /// The rows of `topics` and `topic_embeddings` of the non-outlier topics.
    pub(crate) fn topic_embedding_rows(&self) -> Vec<usize> {
        self.topics
            .iter()
            .enumerate()
            .filter(|(_, t)| t.id >= 0)
            .map(|(r, _)| r)
            .collect()
    }

    /// Recomputes words, sizes, labels and topic embeddings from `doc_topics`.
    pub(crate) fn refresh_topics(&mut self, docs: &[String]) -> Result<()> {
        self.refresh_topics_with(docs, None)
    }

    /// [`refresh_topics`](Self::refresh_topics) with a caller's representer instead of the
    /// configured representation.
    fn refresh_topics_with(
        &mut self,
        docs: &[String],
        custom: Option<&dyn Representer>,
    ) -> Result<()> {
        let start = std::time::Instant::now();
        let keep_docs = self.params.n_representative_docs;
        let mut fit_params: BertopicParams = (*self.params).clone();
        if let (None, Representation::KeyBert(k)) = (custom, self.params.representation) {
            // Representative documents are ranked best first, so the stored ones are a prefix
            // of KeyBERT's larger set.
            fit_params.n_representative_docs = keep_docs.max(k.nr_repr_docs);
        }
        let mut repr = fit_representation(&fit_params, docs, &self.doc_topics)?;
        match custom {
            Some(r) => self.apply_representer(&mut repr, r)?,
            None => self.rerank_words(&mut repr)?,
        }
        for r in &mut repr.representative_docs {
            r.truncate(keep_docs);
        }
        repr.params.n_representative_docs = keep_docs;
        self.topic_embeddings =
            topic_embeddings(&self.embeddings, &self.doc_topics, &repr.topic_ids);
        self.topics = repr
            .topic_ids
            .iter()
            .enumerate()
            .map(|(i, &id)| {
                let words = repr.words[i].clone();
                let plain: Vec<String> = words.iter().map(|(w, _)| w.clone()).collect();
                Topic {
                    id,
                    count: repr.sizes[i],
                    name: represent::word_label(id, &plain),
                    label: (id >= 0).then(|| represent::readable_label(&plain)),
                    representative_docs: repr.representative_docs[i]
                        .iter()
                        .filter_map(|&d| docs.get(d).cloned())
                        .collect(),
                    words,
                }
            })
            .collect();
        self.representation = repr;
        self.timings.represent_s = start.elapsed().as_secs_f64();
        Ok(())
    }

    /// Replaces `repr.words` by the configured representation's choice (c-TF-IDF: unchanged).
    fn rerank_words(&mut self, repr: &mut TopicRepresentation) -> Result<()> {
        let representer = self.params.representation.representer();
        self.apply_representer(repr, representer.as_ref())
    }

    /// Replaces `repr.words` by `representer`'s choice, embedding words with the model's word
    /// embedder when it needs one.
    fn apply_representer(
        &mut self,
        repr: &mut TopicRepresentation,
        representer: &dyn Representer,
    ) -> Result<()> {
        if !representer.needs_embedder() {
            repr.words = representer.words(&RepresentInput {
                representation: repr,
                doc_embeddings: self.embeddings.view(),
                embed: None,
                top_n_words: self.params.top_n_words,
            })?;
            return Ok(());
        }
        let embedder = self.word_embedder_for(representer.name())?;
        if representer.uses_document_embeddings() && embedder.dim() != self.embeddings.ncols() {
            // Words are compared with documents, so both must live in one embedding space.
            return Err(BertopicError::Mismatch(format!(
                "the {} representation compares word embeddings of {} ({} dimensions) with \
                 the document embeddings ({} dimensions): embed the documents with the same model",
                representer.name(),
                embedder.model_id(),
                embedder.dim(),
                self.embeddings.ncols()
            )));
        }
        let embed = |texts: &[String]| {
            embedder
                .embed(texts)
                .map_err(|e| represent::EmbedFailure::from(Box::new(e)))
        };
        repr.words = representer.words(&RepresentInput {
            representation: repr,
            doc_embeddings: self.embeddings.view(),
            embed: Some(&embed),
            top_n_words: self.params.top_n_words,
        })?;
        Ok(())
    }

    /// The embedder for topic words: the one set, else the configured model, loaded now.
    fn word_embedder_for(&mut self, representation: &str) -> Result<Arc<dyn Embedder>> {
        if let Some(e) = &self.word_embedder {
            return Ok(Arc::clone(e));
        }
        let spec = self.params.embedding_model.clone();
        let e = crate::stages::load_embedder(&spec, false).map_err(|e| {
            BertopicError::NoEmbedder(format!(
                "the {representation} representation embeds topic words, but the embedding model `{spec}` \
                 could not be loaded ({e}); give an embedder to the builder \
                 (BertopicBuilder::embedder) or to the model (TopicModel::set_word_embedder)"
            ))
        })?;
        self.word_embedder = Some(Arc::clone(&e));
        Ok(e)
    }

    /// Sets the embedder used to embed topic words for MMR / KeyBERT (for example after
    /// [`load`](Self::load), which does not restore one). Without it, the model's
    /// `embedding_model` is loaded when words must be re-ranked.
    pub fn set_word_embedder(&mut self, embedder: Arc<dyn Embedder>) {
        self.word_embedder = Some(embedder);
    }

    /// How this model's topic words are chosen.
    pub fn representation(&self) -> Representation {
        self.params.representation
    }

    /// Switches the representation and recomputes topic words from the training `docs`
    /// (BERTopic's `update_topics(docs, representation_model=...)`); topics are unchanged.
    pub fn set_representation(
        &mut self,
        docs: &[String],
        representation: Representation,
    ) -> Result<()> {
        let params = self.params.with_representation(representation)?;
        self.check_training_docs("set_representation", docs)?;
        let old = std::mem::replace(&mut self.params, params);
        if let Err(e) = self.refresh_topics(docs) {
            self.params = old;
            return Err(e);
        }
        Ok(())
    }

    /// Recomputes topic words from the training `docs` with a caller's [`Representer`] (a
    /// topic-word stage of one's own, as a reducer or clusterer can be); topics and their
    /// documents are unchanged. The words are saved with the model, but the configured
    /// [`representation`](Self::representation) is kept: edits that refit words later (topic
    /// merges and reduction, outlier reassignment) use it again, so call this after them.
    pub fn represent_with(&mut self, docs: &[String], representer: &dyn Representer) -> Result<()> {
        self.check_training_docs("represent_with", docs)?;
        self.refresh_topics_with(docs, Some(representer))
    }

    /// Number of topics, the outlier class not counted.
    pub fn n_topics(&self) -> usize {
        self.topics.iter().filter(|t| t.id >= 0).count()
    }

    /// The hyperparameters this model was fitted with.
    pub fn params(&self) -> &BertopicParams {
        &self.params
    }

    /// Set when this model was loaded without rebuilding its reducer or clusterer (a caller's
    /// stage kind that no loader knew, see [`crate::loaders`]): what that changes, to show the
    /// user once. `None` for fitted models and fully loaded ones.
    pub fn stage_notice(&self) -> Option<&crate::loaders::StageNotice> {
        self.stage_notice.as_ref()
    }

    /// The hyperparameters, in the checked form [`crate::tune`] and the pipeline take.
    pub fn checked_params(&self) -> &CheckedParams {
        &self.params
    }

    /// All topics, outliers (−1) first when present, then 0, 1, … by decreasing size.
    pub fn topics(&self) -> &[Topic] {
        &self.topics
    }

    /// One topic by id.
    pub fn topic(&self, id: i64) -> Result<&Topic> {
        self.topics
            .iter()
            .find(|t| t.id == id)
            .ok_or(BertopicError::UnknownTopic(id))
    }

    /// BERTopic's `get_topic_info()`: one row per topic.
    pub fn topic_info(&self) -> Vec<TopicInfo> {
        self.topics
            .iter()
            .map(|t| TopicInfo {
                topic: t.id,
                count: t.count,
                name: t.name.clone(),
                representation: t.words.iter().map(|(w, _)| w.clone()).collect(),
                representative_docs: t.representative_docs.clone(),
            })
            .collect()
    }

    /// Topic of each training document, in input order.
    pub fn document_topics(&self) -> &[i64] {
        &self.doc_topics
    }

    /// Membership probability of each training document.
    pub fn document_probabilities(&self) -> &[f64] {
        &self.doc_probs
    }

    /// BERTopic's `get_document_info()`: topic, name and probability per training document.
    pub fn document_info(&self) -> Vec<DocumentInfo> {
        let names: BTreeMap<i64, &str> = self
            .topics
            .iter()
            .map(|t| (t.id, t.name.as_str()))
            .collect();
        self.doc_topics
            .iter()
            .zip(&self.doc_probs)
            .enumerate()
            .map(|(i, (&t, &p))| DocumentInfo {
                document: i,
                topic: t,
                name: names.get(&t).copied().unwrap_or("").to_string(),
                probability: p,
            })
            .collect()
    }

    /// Seconds spent per stage during the fit.
    pub fn timings(&self) -> StageTimings {
        self.timings
    }

    /// Embedding model used at training time, when known.
    pub fn embedding_info(&self) -> Option<&EmbeddingInfo> {
        self.embedding.as_ref()
    }

    /// Topic embeddings (mean document embedding per topic), rows in [`topics`](Self::topics) order.
    pub fn topic_embeddings(&self) -> ArrayView2<'_, f32> {
        self.topic_embeddings.view()
    }

    /// Topics and probabilities of new documents, embedding them with `embedder`, with the
    /// default [`PredictOptions`] (training documents keep their fitted topic, others follow
    /// the k-NN vote).
    pub fn transform(
        &self,
        docs: &[String],
        embedder: &dyn Embedder,
    ) -> Result<(Vec<i64>, Vec<f64>)> {
        self.transform_with(docs, embedder, &PredictOptions::default())
    }

    /// [`transform`](Self::transform) with explicit [`PredictOptions`] (for example
    /// [`PredictStrategy::Umap`], Python BERTopic's UMAP + HDBSCAN path).
    pub fn transform_with(
        &self,
        docs: &[String],
        embedder: &dyn Embedder,
        options: &PredictOptions,
    ) -> Result<(Vec<i64>, Vec<f64>)> {
        if let Some(info) = &self.embedding {
            if info.fingerprint != embedder.fingerprint() {
                return Err(BertopicError::Mismatch(format!(
                    "the model was trained with embeddings of {} ({}), but the embedder is {} ({}): \
                     use the same model",
                    info.model_id,
                    info.fingerprint,
                    embedder.model_id(),
                    embedder.fingerprint()
                )));
            }
        }
        let embeddings = embedder.embed(docs)?;
        self.transform_embeddings_with(docs, &embeddings, options)
    }

    /// Topics and probabilities of new documents from their precomputed embeddings, with the
    /// default [`PredictOptions`].
    pub fn transform_embeddings(
        &self,
        docs: &[String],
        embeddings: &Array2<f32>,
    ) -> Result<(Vec<i64>, Vec<f64>)> {
        self.transform_embeddings_with(docs, embeddings, &PredictOptions::default())
    }

    /// Topics and probabilities of new documents from their precomputed embeddings. A
    /// training document (same embedding bits, or same text up to whitespace) gets its fitted
    /// topic and probability when `options.keep_known`; the others follow `options.strategy`
    /// (see [`crate::predict`]). `docs` may be empty strings when only embeddings are known.
    /// Deterministic on any thread count.
    pub fn transform_embeddings_with(
        &self,
        docs: &[String],
        embeddings: &Array2<f32>,
        options: &PredictOptions,
    ) -> Result<(Vec<i64>, Vec<f64>)> {
        check_inputs(docs, embeddings)?;
        if embeddings.ncols() != self.embeddings.ncols() {
            return Err(BertopicError::Mismatch(format!(
                "embeddings have {} dimensions, the model was trained on {}",
                embeddings.ncols(),
                self.embeddings.ncols()
            )));
        }
        options.knn.validate()?;
        if docs.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let index = self
            .known
            .get_or_init(|| KnownIndex::build(&self.embeddings, &self.doc_text_hashes));
        let mut topics = vec![-1i64; docs.len()];
        let mut probs = vec![0.0f64; docs.len()];
        let mut rest: Vec<usize> = Vec::with_capacity(docs.len());
        for (i, doc) in docs.iter().enumerate() {
            let known = options
                .keep_known
                .then(|| index.find(&self.embeddings, embeddings.row(i), doc))
                .flatten();
            match known {
                Some(j) => {
                    topics[i] = self.doc_topics[j];
                    probs[i] = self.doc_probs[j];
                }
                None => rest.push(i),
            }
        }
        if rest.is_empty() {
            return Ok((topics, probs));
        }
        let selected;
        let new = if rest.len() == docs.len() {
            embeddings.view()
        } else {
            selected = embeddings.select(Axis(0), &rest);
            selected.view()
        };
        let online = self.params.variants.online.is_some();
        // As BERTopic predicts merged models: the nearest topic embedding (the base model's
        // reduction and clustering know nothing of the topics other models added). The same
        // when a caller's reducer or clusterer was not rebuilt at load (`crate::loaders`) and
        // the strategy needs them.
        let light = self.params.variants.merged.is_some()
            || (self.stage_notice.is_some()
                && (online || options.strategy == PredictStrategy::Umap));
        let (t, p) = match options.strategy {
            _ if light => {
                let (t, p) = self.transform_light(&new.to_owned())?;
                (t, p.into_iter().map(|s| s.clamp(0.0, 1.0)).collect())
            }
            // An online model keeps only its last batch: new documents go through its
            // incremental PCA and mini-batch k-means, as BERTopic's `transform` does.
            _ if online => {
                let reduced = self.reducer.transform(new)?;
                let (labels, probs) = self.clusterer.predict(reduced.mapv(f64::from).view())?;
                let topics = labels
                    .iter()
                    .map(|l| self.cluster_to_topic.get(l).copied().unwrap_or(-1))
                    .collect();
                (topics, probs)
            }
            PredictStrategy::Knn => {
                let nbrs = predict::nearest(&self.embeddings, &index.inv_norms, new, options.knn.k);
                nbrs.iter()
                    .map(|n| predict::vote(n, &self.doc_topics, &self.doc_probs, &options.knn))
                    .unzip()
            }
            PredictStrategy::Umap => {
                let reduced = self.reducer.transform(new)?;
                let (labels, probs) = self.clusterer.predict(reduced.mapv(f64::from).view())?;
                let topics: Vec<i64> = labels
                    .iter()
                    .map(|l| self.cluster_to_topic.get(l).copied().unwrap_or(-1))
                    .collect();
                (topics, probs)
            }
        };
        for ((&i, t), p) in rest.iter().zip(t).zip(p) {
            topics[i] = t;
            probs[i] = p;
        }
        Ok((topics, probs))
    }

    /// Light prediction without UMAP or HDBSCAN, as BERTopic does for models loaded from
    /// safetensors: each document goes to the topic whose embedding (mean document embedding)
    /// is most cosine-similar; the similarity is returned as the probability. Never −1.
    pub fn transform_light(&self, embeddings: &Array2<f32>) -> Result<(Vec<i64>, Vec<f64>)> {
        if embeddings.ncols() != self.topic_embeddings.ncols() {
            return Err(BertopicError::Mismatch(format!(
                "embeddings have {} dimensions, the topic embeddings {}",
                embeddings.ncols(),
                self.topic_embeddings.ncols()
            )));
        }
        let rows = self.topic_embedding_rows();
        if rows.is_empty() {
            return Ok((vec![-1; embeddings.nrows()], vec![0.0; embeddings.nrows()]));
        }
        let te = self.topic_embeddings.select(Axis(0), &rows);
        let sims = cosine_matrix(embeddings.view(), te.view());
        let mut topics = Vec::with_capacity(sims.nrows());
        let mut probs = Vec::with_capacity(sims.nrows());
        for row in sims.rows() {
            let (best, sim) =
                row.iter()
                    .enumerate()
                    .fold(
                        (0, f64::NEG_INFINITY),
                        |acc, (j, &v)| if v > acc.1 { (j, v) } else { acc },
                    );
            topics.push(self.topics[rows[best]].id);
            probs.push(sim);
        }
        Ok((topics, probs))
    }

    /// Assigns outlier documents (topic −1) to their most similar topic when the similarity
    /// reaches `threshold`; returns the new topic of every document (BERTopic's
    /// `reduce_outliers`). Call [`update_topics`](Self::update_topics) to refit the words.
    pub fn reduce_outliers(
        &self,
        docs: &[String],
        topics: &[i64],
        strategy: OutlierStrategy,
        threshold: f64,
        embeddings: Option<&Array2<f32>>,
    ) -> Result<Vec<i64>> {
        if docs.len() != topics.len() {
            return Err(BertopicError::Mismatch(format!(
                "{} documents but {} topics",
                docs.len(),
                topics.len()
            )));
        }
        let outliers: Vec<usize> = (0..docs.len()).filter(|&i| topics[i] == -1).collect();
        let mut out = topics.to_vec();
        if outliers.is_empty() {
            return Ok(out);
        }
        let ids: Vec<i64> = self
            .topics
            .iter()
            .map(|t| t.id)
            .filter(|&i| i >= 0)
            .collect();
        let sims: Array2<f64> = match strategy {
            OutlierStrategy::CTfidf => {
                let tokenizer = Tokenizer::new(self.params.tokenizer_config())?;
                let analyzer = |s: &str| tokenizer.terms(s);
                let sub: Vec<String> = outliers.iter().map(|&i| docs[i].clone()).collect();
                let all = self.representation.doc_topic_similarity(&sub, &analyzer)?;
                // Columns follow representation.topic_ids; keep the non-outlier ones.
                let cols = self.topic_rows().1;
                all.select(Axis(1), &cols)
            }
            OutlierStrategy::Embeddings => {
                let emb = embeddings.unwrap_or(&self.embeddings);
                if emb.nrows() != docs.len() {
                    return Err(BertopicError::Mismatch(format!(
                        "{} documents but {} embedding rows",
                        docs.len(),
                        emb.nrows()
                    )));
                }
                let rows = self.topic_embedding_rows();
                let te = self.topic_embeddings.select(Axis(0), &rows);
                let de = emb.select(Axis(0), &outliers);
                cosine_matrix(de.view(), te.view())
            }
        };
        for (k, &doc) in outliers.iter().enumerate() {
            let row = sims.row(k);
            let mut best: Option<(usize, f64)> = None;
            for (j, &s) in row.iter().enumerate() {
                if s.is_finite() && best.is_none_or(|(_, b)| s > b) {
                    best = Some((j, s));
                }
            }
            if let Some((j, s)) = best {
                if s >= threshold {
                    out[doc] = ids[j];
                }
            }
        }
        Ok(out)
    }

    /// Replaces the document topics (for example after `reduce_outliers`) and refits topic
    /// words, sizes and embeddings. Topic ids are kept; empty topics disappear.
    pub fn update_topics(&mut self, docs: &[String], topics: &[i64]) -> Result<()> {
        self.check_training_docs("update_topics", docs)?;
        if topics.len() != docs.len() {
            return Err(BertopicError::Mismatch(format!(
                "update_topics needs one topic per training document (got {} docs, {} topics)",
                docs.len(),
                topics.len()
            )));
        }
        self.doc_topics = topics.to_vec();
        self.refresh_topics(docs)?;
        // Clusters of a topic that lost all its documents become outliers (a saved model must
        // not refer to a topic it does not have).
        let ids: std::collections::BTreeSet<i64> = self.topics.iter().map(|t| t.id).collect();
        for t in self.cluster_to_topic.values_mut() {
            if !ids.contains(t) {
                *t = -1;
            }
        }
        Ok(())
    }

    /// Merges the given groups of topics (BERTopic's `merge_topics`); each group becomes one
    /// topic; topics are then renumbered by size.
    pub fn merge_topics(&mut self, docs: &[String], groups: &[Vec<i64>]) -> Result<()> {
        let mut map: BTreeMap<i64, i64> = BTreeMap::new();
        for g in groups {
            let Some(&target) = g.iter().filter(|&&t| t >= 0).min() else {
                continue;
            };
            for &t in g {
                if t < 0 {
                    return Err(BertopicError::InvalidParams(
                        "the outlier topic -1 cannot be merged".into(),
                    ));
                }
                self.topic(t)?;
                map.insert(t, target);
            }
        }
        self.apply_mapping(docs, &map)
    }

    /// Reduces the number of topics to `nr_topics` by average-linkage agglomerative clustering
    /// of the topics' c-TF-IDF vectors (cosine), as BERTopic's `reduce_topics` does.
    pub fn reduce_topics(&mut self, docs: &[String], nr_topics: usize) -> Result<()> {
        if nr_topics == 0 {
            return Err(BertopicError::InvalidParams(
                "nr_topics must be at least 1".into(),
            ));
        }
        let ids: Vec<i64> = self
            .topics
            .iter()
            .map(|t| t.id)
            .filter(|&i| i >= 0)
            .collect();
        if ids.len() <= nr_topics {
            return Ok(());
        }
        let cols = self.topic_rows().1;
        let vectors = self.representation.dense_ctfidf().select(Axis(0), &cols);
        let sims = cosine_matrix(vectors.view(), vectors.view());
        let groups = average_linkage(&sims, nr_topics);
        let mut map = BTreeMap::new();
        for (i, &g) in groups.iter().enumerate() {
            map.insert(ids[i], g as i64);
        }
        self.apply_mapping(docs, &map)
    }

    /// Maps topic ids (absent = unchanged), then renumbers all topics by size.
    fn apply_mapping(&mut self, docs: &[String], map: &BTreeMap<i64, i64>) -> Result<()> {
        self.check_training_docs("merging topics", docs)?;
        let mapped: Vec<i64> = self
            .doc_topics
            .iter()
            .map(|t| map.get(t).copied().unwrap_or(*t))
            .collect();
        let order = order_by_size(&mapped);
        self.doc_topics = mapped
            .iter()
            .map(|t| order.get(t).copied().unwrap_or(-1))
            .collect();
        self.cluster_to_topic = self
            .cluster_to_topic
            .iter()
            .map(|(&c, t)| {
                let m = map.get(t).copied().unwrap_or(*t);
                (c, order.get(&m).copied().unwrap_or(-1))
            })
            .collect();
        self.refresh_topics(docs)
    }

    /// Coherence of this model's topics (outliers excluded, topics of at least 3 documents, as
    /// the seed does) against the tokenised `docs`.
    pub fn coherence(&self, docs: &[String], measure: Measure) -> Result<CoherenceResult> {
        let corpus = self.reference_corpus(docs)?;
        Ok(corpus.coherence(
            &self.coherence_topics(),
            measure,
            &CoherenceOptions::default(),
        )?)
    }

    /// The tokenised documents as a coherence reference corpus (unigrams, stop words removed).
    pub fn reference_corpus(&self, docs: &[String]) -> Result<ReferenceCorpus> {
        reference_corpus(&self.params, docs)
    }

    /// Topic words used for coherence: non-outlier topics with at least 3 documents.
    pub fn coherence_topics(&self) -> Vec<Vec<String>> {
        self.topics
            .iter()
            .filter(|t| t.id >= 0 && t.count >= 3)
            .map(|t| t.words.iter().map(|(w, _)| w.clone()).collect())
            .collect()
    }

    /// Fraction of training documents in the outlier topic.
    pub fn outlier_fraction(&self) -> f64 {
        if self.doc_topics.is_empty() {
            return 0.0;
        }
        self.doc_topics.iter().filter(|&&t| t == -1).count() as f64 / self.doc_topics.len() as f64
    }
}

/// c-TF-IDF representation of `docs` grouped by `labels`, with the pipeline's tokenizer.
pub(crate) fn fit_representation(
    params: &BertopicParams,
    docs: &[String],
    labels: &[i64],
) -> Result<TopicRepresentation> {
    let tokenizer = Tokenizer::new(params.tokenizer_config())?;
    // Terms are streamed to the counter (no String per term): same terms, same output.
    let stream = |s: &str, f: &mut dyn FnMut(&str)| tokenizer.for_each_term(s, f);
    let rp = RepresentParams {
        top_n_words: params.top_n_words,
        vectorizer: params.vectorizer.clone(),
        ctfidf: params.ctfidf.clone(),
        strip_non_alphanumeric: params.language == Language::English,
        n_representative_docs: params.n_representative_docs,
        ..RepresentParams::default()
    };
    let mut repr = represent::fit_streaming(docs, labels, &stream, &rp)?;
    // Guided modelling: seed words weigh 1.2× in c-TF-IDF, on every refit.
    crate::seed_words::boost_seed_words(
        &mut repr,
        &params.variants.seed_topic_list,
        params.top_n_words,
    );
    Ok(repr)
}

/// What a tuning trial needs of a clustering: topic words, sizes and the outlier share.
pub(crate) struct TopicWords {
    pub n_topics: usize,
    pub outlier_fraction: f64,
    /// Words of non-outlier topics with at least 3 documents (the seed's rule).
    pub coherence_topics: Vec<Vec<String>>,
}

/// Topic words for clusterer `labels` without building a whole model.
pub(crate) fn score_topics(
    params: &BertopicParams,
    docs: &[String],
    labels: &[i64],
) -> Result<TopicWords> {
    let order = order_by_size(labels);
    let topics: Vec<i64> = labels
        .iter()
        .map(|l| order.get(l).copied().unwrap_or(-1))
        .collect();
    let repr = fit_representation(params, docs, &topics)?;
    let mut coherence_topics = Vec::new();
    for (i, &id) in repr.topic_ids.iter().enumerate() {
        if id >= 0 && repr.sizes[i] >= 3 {
            coherence_topics.push(repr.words[i].iter().map(|(w, _)| w.clone()).collect());
        }
    }
    Ok(TopicWords {
        n_topics: repr.topic_ids.iter().filter(|&&t| t >= 0).count(),
        outlier_fraction: topics.iter().filter(|&&t| t == -1).count() as f64
            / topics.len().max(1) as f64,
        coherence_topics,
    })
}

/// Tokenises `docs` for coherence with the pipeline's tokenizer (unigrams).
pub(crate) fn reference_corpus(
    params: &BertopicParams,
    docs: &[String],
) -> Result<ReferenceCorpus> {
    let cfg = crate::preprocess::TokenizerConfig {
        ngram_range: (1, 1),
        ..params.tokenizer_config()
    };
    let tokenizer = Tokenizer::new(cfg)?;
    let texts: Vec<Vec<String>> = docs.iter().map(|d| tokenizer.words(d)).collect();
    Ok(ReferenceCorpus::new(&texts))
}

/// Renumbers labels by cluster size (largest = 0); ties by label. −1 stays −1.
pub(crate) fn order_by_size(labels: &[i64]) -> BTreeMap<i64, i64> {
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for &l in labels.iter().filter(|&&l| l >= 0) {
        *counts.entry(l).or_default() += 1;
    }
    let mut order: Vec<(i64, usize)> = counts.into_iter().collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut map: BTreeMap<i64, i64> = order
        .into_iter()
        .enumerate()
        .map(|(new, (old, _))| (old, new as i64))
        .collect();
    map.insert(-1, -1);
    map
}

/// Mean embedding of each topic's documents, rows in `ids` order.
fn topic_embeddings(embeddings: &Array2<f32>, doc_topics: &[i64], ids: &[i64]) -> Array2<f32> {
    let mut out = Array2::<f32>::zeros((ids.len(), embeddings.ncols()));
    let index: BTreeMap<i64, usize> = ids.iter().enumerate().map(|(i, &t)| (t, i)).collect();
    let mut counts = vec![0usize; ids.len()];
    for (row, t) in embeddings.rows().into_iter().zip(doc_topics) {
        if let Some(&i) = index.get(t) {
            let mut o = out.row_mut(i);
            o += &row;
            counts[i] += 1;
        }
    }
    for (i, &c) in counts.iter().enumerate() {
        if c > 0 {
            out.row_mut(i).mapv_inplace(|v| v / c as f32);
        }
    }
    out
}

/// Cosine similarity of every row of `a` with every row of `b`.
pub(crate) fn cosine_matrix<A>(a: ArrayView2<A>, b: ArrayView2<A>) -> Array2<f64>
where
    A: Copy + Into<f64>,
{
    let norm =
        |r: ndarray::ArrayView1<A>| r.iter().map(|&v| v.into() * v.into()).sum::<f64>().sqrt();
    let na: Vec<f64> = a.rows().into_iter().map(norm).collect();
    let nb: Vec<f64> = b.rows().into_iter().map(norm).collect();
    let mut out = Array2::<f64>::zeros((a.nrows(), b.nrows()));
    for (i, ra) in a.rows().into_iter().enumerate() {
        for (j, rb) in b.rows().into_iter().enumerate() {
            let dot: f64 = ra
                .iter()
                .zip(rb.iter())
                .map(|(&x, &y)| x.into() * y.into())
                .sum();
            let d = na[i] * nb[j];
            out[[i, j]] = if d > 0.0 { dot / d } else { 0.0 };
        }
    }
    out
}

/// Average-linkage agglomerative clustering on a similarity matrix (distance = 1 − sim) down to
/// `k` groups. Returns a group id per row; groups are numbered by their smallest member.
/// Ties merge the lowest index pair first, so the result is deterministic.
pub(crate) fn average_linkage(sims: &Array2<f64>, k: usize) -> Vec<usize> {
    let n = sims.nrows();
    let mut members: Vec<Option<Vec<usize>>> = (0..n).map(|i| Some(vec![i])).collect();
    let mut dist = sims.mapv(|s| 1.0 - s);
    let mut alive = n;
    while alive > k.max(1) {
        let mut best = (f64::INFINITY, 0, 0);
        for i in 0..n {
            if members[i].is_none() {
                continue;
            }
            for j in (i + 1)..n {
                if members[j].is_some() && dist[[i, j]] < best.0 {
                    best = (dist[[i, j]], i, j);
                }
            }
        }
        let (_, i, j) = best;
        let (ni, nj) = (
            members[i].as_ref().map_or(0, Vec::len) as f64,
            members[j].as_ref().map_or(0, Vec::len) as f64,
        );
        for m in 0..n {
            if m != i && m != j && members[m].is_some() {
                let d = (dist[[i, m]] * ni + dist[[j, m]] * nj) / (ni + nj);
                dist[[i, m]] = d;
                dist[[m, i]] = d;
            }
        }
        let moved = members[j].take().unwrap_or_default();
        if let Some(v) = members[i].as_mut() {
            v.extend(moved);
        }
        alive -= 1;
    }
    let mut group = vec![0usize; n];
    for (g, m) in members.iter().flatten().enumerate() {
        for &i in m {
            group[i] = g;
        }
    }
    group
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_by_size_largest_first_ties_by_label() {
        let m = order_by_size(&[3, 3, 1, 1, 5, -1, 5, 5]);
        assert_eq!(m[&5], 0);
        assert_eq!(m[&1], 1);
        assert_eq!(m[&3], 2);
        assert_eq!(m[&-1], -1);
    }

    #[test]
    fn average_linkage_merges_most_similar() {
        let sims = ndarray::arr2(&[
            [1.0, 0.9, 0.1, 0.0],
            [0.9, 1.0, 0.2, 0.1],
            [0.1, 0.2, 1.0, 0.8],
            [0.0, 0.1, 0.8, 1.0],
        ]);
        assert_eq!(average_linkage(&sims, 2), vec![0, 0, 1, 1]);
        assert_eq!(average_linkage(&sims, 4), vec![0, 1, 2, 3]);
    }
}
