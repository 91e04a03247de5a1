//! Online topic modelling (BERTopic's `partial_fit`): a model updated batch by batch with
//! bounded memory. Each batch is reduced by incremental PCA, clustered by mini-batch k-means
//! (the clusters are the topics: no outlier topic) and counted into running per-topic term
//! counts (decayed by `decay`, pruned by `delete_min_df`, as BERTopic's
//! `OnlineCountVectorizer`); c-TF-IDF is recomputed from the running counts after every batch.
//!
//! Nothing grows with the number of documents seen except the vocabulary, which
//! `delete_min_df` bounds: the model keeps the PCA components, the k centres, the running
//! counts, one embedding sum per topic and the last batch (as BERTopic keeps `topics_` of the
//! last batch only).
//!
//! [`OnlineTopicModel::model`] is an ordinary [`TopicModel`] (saved with `model.json`, loaded
//! by `bertopic predict`); [`OnlineTopicModel::save`] also writes the online state
//! (`online.safetensors`, f64, so a loaded model continues exactly as if never saved).
//!
//! ```
//! use bertopic::variants::{OnlineParams, OnlineTopicModel};
//! use bertopic::Bertopic;
//! # fn main() -> bertopic::Result<()> {
//! let online = Bertopic::builder()
//!     .online(OnlineParams { n_clusters: 2, n_components: 2, ..Default::default() })
//!     .build()?
//!     .online_model()?;
//! # let _ = online;
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::Array2;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};

use crate::cluster::{MiniBatchKMeans, MiniBatchKMeansParams, MiniBatchKMeansState};
use crate::error::{BertopicError, Result};
use crate::fs::{DirPolicy, DirWriter};
use crate::model::{EmbeddingInfo, Topic, TopicModel};
use crate::params::{CheckedParams, Representation};
use crate::preprocess::{Language, Tokenizer};
use crate::reduce::{IncrementalPca, IncrementalPcaState};
use crate::represent::{self, ClassTermCounts, OnlineClassTermCounts, RepresentParams};
use crate::stages::{check_inputs, StageTimings};
use crate::{Embedder, MODEL_FOLDER_FILES};

/// The file of a model folder that holds the online state.
pub const ONLINE_STATE_FILE: &str = "online.safetensors";

pub use crate::variant_params::OnlineParams;

const STATE_FORMAT: &str = "bertopic-online-state/1";

/// A topic model updated batch by batch (see the [module docs](self)).
pub struct OnlineTopicModel {
    params: CheckedParams,
    ipca: IncrementalPca,
    kmeans: MiniBatchKMeans,
    counts: OnlineClassTermCounts,
    /// Per cluster: the sum of its documents' embeddings (k × d; 0 × 0 before the first batch).
    embedding_sums: Array2<f64>,
    docs_seen: u64,
    embedding: Option<EmbeddingInfo>,
    model: Option<TopicModel>,
}

impl std::fmt::Debug for OnlineTopicModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnlineTopicModel")
            .field("batches", &self.counts.batches)
            .field("docs_seen", &self.docs_seen)
            .finish_non_exhaustive()
    }
}

/// The online state besides the arrays (the safetensors metadata).
#[derive(Serialize, Deserialize)]
struct StateMeta {
    format: String,
    docs_seen: u64,
    embedding: Option<EmbeddingInfo>,
    ipca: IncrementalPcaState,
    kmeans: MiniBatchKMeansState,
    counts: OnlineClassTermCounts,
}

impl OnlineTopicModel {
    /// An empty online model. `params.variants.online` must be set; zero-shot and guided topics
    /// and the MMR / KeyBERT representations are not available online.
    pub fn new(params: CheckedParams) -> Result<Self> {
        let online = params.variants.online.clone().ok_or_else(|| {
            BertopicError::InvalidParams(
                "an online model needs online settings: set BertopicParams::variants.online \
                 (BertopicBuilder::online)"
                    .into(),
            )
        })?;
        if !params.variants.zeroshot_topic_list.is_empty()
            || !params.variants.seed_topic_list.is_empty()
            || params.representation != Representation::CTfidf
        {
            return Err(BertopicError::InvalidParams(
                "online topic modelling supports the c-TF-IDF representation without zero-shot \
                 or seed topics: remove those settings"
                    .into(),
            ));
        }
        let (_, settings) = counting(&params)?;
        Ok(OnlineTopicModel {
            ipca: IncrementalPca::new(online.n_components)?,
            kmeans: MiniBatchKMeans::new(MiniBatchKMeansParams {
                n_clusters: online.n_clusters,
                seed: params.seed,
                reassignment_ratio: online.reassignment_ratio,
            })?,
            counts: OnlineClassTermCounts::new(settings, online.decay, online.delete_min_df)?,
            embedding_sums: Array2::zeros((0, 0)),
            docs_seen: 0,
            embedding: None,
            model: None,
            params,
        })
    }

    /// The settings.
    pub fn params(&self) -> &CheckedParams {
        &self.params
    }

    /// Batches fitted so far.
    pub fn batches(&self) -> u64 {
        self.counts.batches
    }

    /// Documents seen so far.
    pub fn docs_seen(&self) -> u64 {
        self.docs_seen
    }

    /// Terms in the running vocabulary.
    pub fn vocabulary_len(&self) -> usize {
        self.counts.vocabulary_len()
    }

    /// The topic model after the last batch (`None` before the first).
    pub fn model(&self) -> Option<&TopicModel> {
        self.model.as_ref()
    }

    /// Takes the topic model after the last batch.
    pub fn into_model(self) -> Option<TopicModel> {
        self.model
    }

    /// Embeds `docs` with `embedder` and fits them as the next batch; the embedding model is
    /// recorded (and must stay the same across batches).
    pub fn partial_fit_with(&mut self, docs: &[String], embedder: &dyn Embedder) -> Result<()> {
        let info = EmbeddingInfo {
            model_id: embedder.model_id(),
            fingerprint: embedder.fingerprint(),
            dim: embedder.dim(),
        };
        if let Some(old) = &self.embedding {
            if old.fingerprint != info.fingerprint {
                return Err(BertopicError::Mismatch(format!(
                    "this online model was updated with embeddings of {} and cannot take a batch \
                     embedded by {}: embed every batch with the same model",
                    old.model_id, info.model_id
                )));
            }
        }
        let embeddings = embedder.embed(docs)?;
        self.partial_fit(docs, &embeddings)?;
        self.embedding = Some(info);
        if let Some(m) = &mut self.model {
            m.embedding = self.embedding.clone();
        }
        Ok(())
    }

    /// Fits the next batch: `docs` with one embedding row each (BERTopic's
    /// `partial_fit(docs, embeddings)`). The first batch needs at least `n_clusters` documents.
    pub fn partial_fit(&mut self, docs: &[String], embeddings: &Array2<f32>) -> Result<()> {
        check_inputs(docs, embeddings)?;
        if docs.is_empty() {
            return Err(BertopicError::InvalidParams(
                "the batch is empty: give at least one document".into(),
            ));
        }
        let d = embeddings.ncols();
        if self.docs_seen > 0 && d != self.embedding_sums.ncols() {
            return Err(BertopicError::Mismatch(format!(
                "the batch embeddings have {d} dimensions, earlier batches {}: embed every batch \
                 with the same model",
                self.embedding_sums.ncols()
            )));
        }
        let k = self.kmeans.state().params.n_clusters;
        if self.docs_seen == 0 && docs.len() < k.max(self.ipca.state().n_components) {
            return Err(BertopicError::InvalidParams(format!(
                "the first batch has {} documents; it needs at least n_clusters ({k}) and \
                 n_components ({}): start with a larger batch or fewer clusters",
                docs.len(),
                self.ipca.state().n_components
            )));
        }
        // Every stage is validated before any state changes, so a refused batch changes nothing.
        let mut ipca = self.ipca.clone();
        let mut kmeans = self.kmeans.clone();
        let mut counts = self.counts.clone();
        let start = std::time::Instant::now();
        ipca.partial_fit(embeddings.view())?;
        let reduced = ipca.transform(embeddings.view())?;
        let reduce_s = start.elapsed().as_secs_f64();
        let start = std::time::Instant::now();
        let labels = kmeans.partial_fit(reduced.view())?;
        let cluster_s = start.elapsed().as_secs_f64();
        let start = std::time::Instant::now();
        let (tokenizer, settings) = counting(&self.params)?;
        let strip = self.params.language == Language::English;
        let terms = |s: &str, f: &mut dyn FnMut(&str)| tokenizer.for_each_term(s, f);
        let mut batch = ClassTermCounts::new(settings);
        for (doc, &t) in docs.iter().zip(&labels) {
            batch.add(doc, t, &terms, strip);
        }
        counts.update(batch)?;
        let mut sums = if self.docs_seen == 0 {
            Array2::<f64>::zeros((k, d))
        } else {
            self.embedding_sums.clone()
        };
        for (row, &t) in embeddings.rows().into_iter().zip(&labels) {
            let mut s = sums.row_mut(t as usize);
            s.zip_mut_with(&row, |a, &b| *a += f64::from(b));
        }
        let model = self.snapshot(
            &ipca,
            &kmeans,
            &counts,
            &sums,
            docs,
            embeddings,
            labels,
            StageTimings {
                embed_s: 0.0,
                reduce_s,
                cluster_s,
                represent_s: 0.0,
            },
            start,
        )?;
        self.ipca = ipca;
        self.kmeans = kmeans;
        self.counts = counts;
        self.embedding_sums = sums;
        self.docs_seen += docs.len() as u64;
        self.model = Some(model);
        Ok(())
    }

    /// The topic model of the current state; the last batch is its training set.
    #[allow(clippy::too_many_arguments)]
    fn snapshot(
        &self,
        ipca: &IncrementalPca,
        kmeans: &MiniBatchKMeans,
        counts: &OnlineClassTermCounts,
        sums: &Array2<f64>,
        docs: &[String],
        embeddings: &Array2<f32>,
        labels: Vec<i64>,
        mut timings: StageTimings,
        represent_start: std::time::Instant,
    ) -> Result<TopicModel> {
        let p = &self.params;
        let rp = RepresentParams {
            top_n_words: p.top_n_words,
            vectorizer: p.vectorizer.clone(),
            ctfidf: p.ctfidf.clone(),
            strip_non_alphanumeric: p.language == Language::English,
            n_representative_docs: 0,
            ..RepresentParams::default()
        };
        let repr = counts.fit(&rp)?;
        let d = embeddings.ncols();
        let mut topic_embeddings = Array2::<f32>::zeros((repr.topic_ids.len(), d));
        for (i, (&t, &size)) in repr.topic_ids.iter().zip(&repr.sizes).enumerate() {
            let sum = sums.row(t as usize);
            topic_embeddings
                .row_mut(i)
                .zip_mut_with(&sum, |o, &s| *o = (s / size.max(1) as f64) as f32);
        }
        let topics: Vec<Topic> = repr
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
                    label: Some(represent::readable_label(&plain)),
                    representative_docs: Vec::new(),
                    words,
                }
            })
            .collect();
        // Cluster j is topic j (BERTopic's online topic ids); a centre that never took a
        // document has no topic, and its points are outliers.
        let cluster_to_topic: BTreeMap<i64, i64> = repr.topic_ids.iter().map(|&t| (t, t)).collect();
        timings.represent_s = represent_start.elapsed().as_secs_f64();
        Ok(TopicModel {
            params: self.params.clone(),
            reducer: ipca.to_fitted()?,
            clusterer: Box::new(kmeans.to_fitted(labels.clone())?),
            cluster_to_topic,
            topics,
            representation: repr,
            topic_embeddings,
            doc_probs: vec![1.0; labels.len()],
            doc_topics: labels,
            embedding: self.embedding.clone(),
            timings,
            embeddings: embeddings.clone(),
            word_embedder: None,
            monitor_baseline: None,
            doc_text_hashes: crate::predict::training_text_hashes(docs),
            known: std::sync::OnceLock::new(),
            stage_notice: None,
        })
    }

    /// Saves the topic model and the online state into folder `dir`, atomically (as
    /// [`TopicModel::save`]; `topic_info.csv` is written beside them).
    pub fn save(&self, dir: &Path, policy: DirPolicy) -> Result<()> {
        let model = self.model.as_ref().ok_or_else(|| {
            BertopicError::InvalidParams(
                "nothing to save: fit a batch with partial_fit first".into(),
            )
        })?;
        let out = DirWriter::begin(dir, MODEL_FOLDER_FILES, policy)?;
        self.write_into(model, &out)?;
        Ok(out.commit()?)
    }

    pub(crate) fn write_into(&self, model: &TopicModel, out: &DirWriter) -> Result<()> {
        model.save_into(out)?;
        out.write(
            "topic_info.csv",
            &crate::report::topic_info_csv(&model.topic_info())?,
        )?;
        out.write(ONLINE_STATE_FILE, &self.state_bytes(out.target())?)?;
        Ok(())
    }

    fn state_bytes(&self, dir: &Path) -> Result<Vec<u8>> {
        let fail = |reason: String| BertopicError::ModelFormat {
            path: dir.to_path_buf(),
            reason,
        };
        // Arrays go to tensors (exact f64 bits); the metadata keeps the small rest.
        let mut ipca = self.ipca.state().clone();
        let mut kmeans = self.kmeans.state().clone();
        let mut counts = self.counts.clone();
        let mut arrays: Vec<(&str, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
        let f64s = |v: &[f64]| -> Vec<u8> { v.iter().flat_map(|x| x.to_le_bytes()).collect() };
        let (k, d) = (ipca.n_components, ipca.dim);
        arrays.push(("ipca.mean", Dtype::F64, vec![d], f64s(&ipca.mean)));
        arrays.push((
            "ipca.components",
            Dtype::F64,
            vec![k, d],
            f64s(&ipca.components),
        ));
        arrays.push((
            "ipca.singular_values",
            Dtype::F64,
            vec![k],
            f64s(&ipca.singular_values),
        ));
        ipca.mean.clear();
        ipca.components.clear();
        ipca.singular_values.clear();
        let (c, cd) = (kmeans.params.n_clusters, kmeans.dim);
        arrays.push((
            "kmeans.centers",
            Dtype::F64,
            vec![c, cd],
            f64s(&kmeans.centers),
        ));
        arrays.push(("kmeans.counts", Dtype::F64, vec![c], f64s(&kmeans.counts)));
        kmeans.centers.clear();
        kmeans.counts.clear();
        // Running counts: one value per (topic, term) in the metadata's map order.
        let values: Vec<f64> = counts
            .terms
            .values()
            .flat_map(|t| t.values().copied())
            .collect();
        arrays.push((
            "counts.values",
            Dtype::F64,
            vec![values.len()],
            f64s(&values),
        ));
        for t in counts.terms.values_mut() {
            t.values_mut().for_each(|v| *v = 0.0);
        }
        let sums = self.embedding_sums.as_standard_layout();
        arrays.push((
            "embedding_sums",
            Dtype::F64,
            self.embedding_sums.shape().to_vec(),
            f64s(sums.as_slice().unwrap_or(&[])),
        ));
        let meta = StateMeta {
            format: STATE_FORMAT.into(),
            docs_seen: self.docs_seen,
            embedding: self.embedding.clone(),
            ipca,
            kmeans,
            counts,
        };
        let meta = serde_json::to_string(&meta).map_err(|e| fail(e.to_string()))?;
        let views = arrays
            .iter()
            .map(|(n, dt, shape, bytes)| {
                TensorView::new(*dt, shape.clone(), bytes)
                    .map(|v| (n.to_string(), v))
                    .map_err(|e| fail(format!("tensor {n}: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let info = std::collections::HashMap::from([("state".to_string(), meta)]);
        safetensors::tensor::serialize(views, Some(info))
            .map_err(|e| fail(format!("cannot serialise the online state: {e}")))
    }

    /// Loads a folder saved by [`save`](Self::save) to continue it with more batches.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(ONLINE_STATE_FILE);
        let bytes = std::fs::read(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                BertopicError::ModelFormat {
                    path: dir.to_path_buf(),
                    reason: format!(
                        "{ONLINE_STATE_FILE} is missing: not an online model (start one with \
                         `bertopic update` without --model, or OnlineTopicModel::new)"
                    ),
                }
            } else {
                BertopicError::io(&path, e)
            }
        })?;
        let model = TopicModel::load(dir)?;
        let mut online = OnlineTopicModel::new(model.checked_params().clone())?;
        let fail = |reason: String| BertopicError::ModelFormat {
            path: dir.to_path_buf(),
            reason: format!("{ONLINE_STATE_FILE}: {reason}"),
        };
        let (_, header) = SafeTensors::read_metadata(&bytes).map_err(|e| fail(e.to_string()))?;
        let meta = header
            .metadata()
            .as_ref()
            .and_then(|m| m.get("state"))
            .ok_or_else(|| fail("no `state` metadata".into()))?;
        let mut meta: StateMeta =
            serde_json::from_str(meta).map_err(|e| fail(format!("bad state: {e}")))?;
        if meta.format != STATE_FORMAT {
            return Err(fail(format!(
                "format `{}` is not `{STATE_FORMAT}`: use the bertopic release that wrote it",
                meta.format
            )));
        }
        let st = SafeTensors::deserialize(&bytes).map_err(|e| fail(e.to_string()))?;
        let get = |name: &str| -> Result<(Vec<usize>, Vec<f64>)> {
            let t = st
                .tensor(name)
                .map_err(|e| fail(format!("tensor {name}: {e}")))?;
            if t.dtype() != Dtype::F64 {
                return Err(fail(format!("tensor {name} is not F64")));
            }
            let v = t
                .data()
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                .collect();
            Ok((t.shape().to_vec(), v))
        };
        meta.ipca.mean = get("ipca.mean")?.1;
        meta.ipca.components = get("ipca.components")?.1;
        meta.ipca.singular_values = get("ipca.singular_values")?.1;
        meta.kmeans.centers = get("kmeans.centers")?.1;
        meta.kmeans.counts = get("kmeans.counts")?.1;
        let values = get("counts.values")?.1;
        let n_values: usize = meta.counts.terms.values().map(BTreeMap::len).sum();
        if n_values != values.len() {
            return Err(fail(format!(
                "{} count values for {n_values} (topic, term) pairs",
                values.len()
            )));
        }
        let mut it = values.into_iter();
        for t in meta.counts.terms.values_mut() {
            for v in t.values_mut() {
                *v = it.next().unwrap_or(0.0);
            }
        }
        let (shape, sums) = get("embedding_sums")?;
        if shape.len() != 2 {
            return Err(fail("embedding_sums is not 2-d".into()));
        }
        online.embedding_sums = Array2::from_shape_vec((shape[0], shape[1]), sums)
            .map_err(|e| fail(format!("embedding_sums: {e}")))?;
        online.ipca = IncrementalPca::from_state(meta.ipca)?;
        online.kmeans = MiniBatchKMeans::from_state(meta.kmeans)?;
        if meta.counts.settings != online.counts.settings {
            return Err(fail(
                "the running counts were made with other tokenizer settings than model.json's"
                    .into(),
            ));
        }
        online.counts = meta.counts;
        online.docs_seen = meta.docs_seen;
        online.embedding = meta.embedding;
        online.model = Some(model);
        Ok(online)
    }
}

/// The tokenizer of `params` and the settings string its counts carry.
fn counting(params: &CheckedParams) -> Result<(Tokenizer, String)> {
    let cfg = params.tokenizer_config();
    let strip = params.language == Language::English;
    let settings = format!(
        "{};strip_non_alphanumeric={strip}",
        serde_json::to_string(&cfg).map_err(|e| BertopicError::Mismatch(e.to_string()))?
    );
    Ok((Tokenizer::new(cfg)?, settings))
}
