//! Saving and loading a fitted model: a folder with `model.json` (human-readable metadata:
//! config, topics and their words, provenance, checksums) and `model.safetensors` (every array
//! that grows with the documents or the vocabulary). No opaque blobs.
//!
//! Format 2 (this release) keeps the per-document topics and probabilities, the vocabulary, the
//! topics' representative document texts and the c-TF-IDF matrices (CSR: `indptr`, `indices`,
//! `values`) in the tensors, and stores the
//! training embeddings once: UMAP's state leaves them out and is given the facade's
//! `embeddings` back at load. Format 1 (everything but the embeddings-sized arrays in JSON, the
//! embeddings twice) still loads.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Read;
use std::path::Path;

use ndarray::Array2;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use bertopic_fs::{hex, DirPolicy, DirWriter};

use crate::cluster;
use crate::error::{BertopicError, Result};
use crate::loaders::{StageLoaders, StageNotice};
use crate::model::{EmbeddingInfo, Topic, TopicModel};
use crate::params::CheckedParams;
use crate::reduce;
use crate::represent::{CsrMatrix, RepresentParams, TopicRepresentation};
use crate::stages::StageTimings;

/// Version of the saved-model format. Bump on any incompatible change and keep a loader for
/// the older versions (or a clear error naming them).
pub const FORMAT_VERSION: u32 = 2;
/// The oldest format this release still reads.
const OLDEST_FORMAT: u32 = 1;

const JSON: &str = "model.json";
const TENSORS: &str = "model.safetensors";
/// Tensor of the training documents' text hashes ([`crate::predict`]); absent in older models.
const TEXT_HASHES: &str = "doc_text_hashes";
/// The facade's training embeddings; a stage state whose `training_data` names it was saved
/// without its own copy.
const EMBEDDINGS: &str = "embeddings";
const DOC_TOPICS: &str = "doc_topics";
const DOC_PROBS: &str = "doc_probs";
const VOCAB_UTF8: &str = "representation.vocabulary.utf8";
const VOCAB_OFFSETS: &str = "representation.vocabulary.offsets";
const IDF: &str = "representation.idf";
/// The topics' representative document texts (UTF-8 bytes, I64 offsets per text, I64 count per
/// topic): thousands of topics times a few abstracts each outgrew the rest of model.json.
const REPR_DOCS_UTF8: &str = "topics.representative_docs.utf8";
const REPR_DOCS_OFFSETS: &str = "topics.representative_docs.offsets";
const REPR_DOCS_COUNTS: &str = "topics.representative_docs.counts";

/// The files of a saved model.
pub const MODEL_FILES: &[&str] = &[JSON, TENSORS];

/// Every file a model folder may hold: the model and the reports written beside it. A folder
/// holding anything else is not ours, and saving into it is refused (see [`crate::fs`]).
pub const MODEL_FOLDER_FILES: &[&str] = &[
    JSON,
    TENSORS,
    "topic_info.csv",
    "document_topics.csv",
    "experiment.json",
    "coherence_curve.csv",
    "coherence_curve.svg",
    "monitoring.jsonl",
    // The online state of a model fitted batch by batch (`bertopic update`).
    "online.safetensors",
];

#[derive(Serialize, Deserialize)]
struct StageState {
    kind: String,
    params: serde_json::Value,
    /// Array names in the safetensors file, in order.
    arrays: Vec<String>,
    /// The tensor holding the rows the stage was fitted on, when its state leaves them out
    /// (format 2: `"embeddings"`, the facade's copy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    training_data: Option<String>,
}

/// `model.json` of format 2: metadata only; sizes of the arrays are in the tensors' shapes.
#[derive(Serialize, Deserialize)]
struct ModelJson {
    format_version: u32,
    crate_version: String,
    /// Checked again when read: a hand-edited file cannot bring invalid values in.
    params: CheckedParams,
    embedding: Option<EmbeddingInfo>,
    /// Training documents (rows of `embeddings`, `doc_topics`, `doc_probs`).
    n_documents: usize,
    topics: Vec<Topic>,
    cluster_to_topic: Vec<(i64, i64)>,
    timings: StageTimings,
    representation: RepresentationMeta,
    reducer: StageState,
    clusterer: StageState,
    /// sha256 of model.safetensors.
    tensors_sha256: String,
    /// Training coherence and OOV rate for `bertopic monitor`; optional, so models saved
    /// before it existed still load (monitoring then skips the comparisons that need it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    monitor_baseline: Option<crate::baseline::TrainingBaseline>,
}

/// The per-topic part of a [`TopicRepresentation`]; its vocabulary, idf and matrices are
/// tensors.
#[derive(Serialize, Deserialize)]
struct RepresentationMeta {
    topic_ids: Vec<i64>,
    n_terms: usize,
    avg_nr_samples: f64,
    words: Vec<Vec<(String, f64)>>,
    sizes: Vec<usize>,
    representative_docs: Vec<Vec<usize>>,
    params: RepresentParams,
}

/// `model.json` of format 1: the c-TF-IDF matrices, vocabulary and per-document arrays inline.
#[derive(Deserialize)]
struct ModelJsonV1 {
    params: CheckedParams,
    embedding: Option<EmbeddingInfo>,
    topics: Vec<Topic>,
    cluster_to_topic: Vec<(i64, i64)>,
    doc_topics: Vec<i64>,
    doc_probs: Vec<f64>,
    timings: StageTimings,
    representation: TopicRepresentation,
    reducer: StageState,
    clusterer: StageState,
    tensors_sha256: String,
    #[serde(default)]
    monitor_baseline: Option<crate::baseline::TrainingBaseline>,
}

impl TopicModel {
    /// Saves the model into folder `dir`, atomically: a new folder is written beside `dir` and
    /// swapped in whole, so a crash never leaves a half-written model. An existing `dir` is
    /// replaced only if it holds nothing but a model folder's files ([`MODEL_FOLDER_FILES`]);
    /// otherwise the save is refused and nothing is touched.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let w = DirWriter::begin(dir, MODEL_FOLDER_FILES, DirPolicy::OursOnly)?;
        self.save_into(&w)?;
        Ok(w.commit()?)
    }

    /// Writes the model's files into an open folder output, to be committed together with the
    /// reports a run writes beside them.
    pub fn save_into(&self, out: &DirWriter) -> Result<()> {
        let dir = out.target();
        let mut t = TensorsOut::default();
        t.push(EMBEDDINGS, self.embeddings.shape(), f32s(&self.embeddings));
        t.push(
            "topic_embeddings",
            self.topic_embeddings.shape(),
            f32s(&self.topic_embeddings),
        );
        if !self.doc_text_hashes.is_empty() {
            // Optional (models saved before it load without it); bit-cast: safetensors has no U64
            // in the dtypes every reader supports.
            let h: Vec<i64> = self.doc_text_hashes.iter().map(|&h| h as i64).collect();
            t.push(TEXT_HASHES, &[h.len()], Data::I64(h.into()));
        }
        let n = self.doc_topics.len();
        t.push(DOC_TOPICS, &[n], Data::I64((&self.doc_topics[..]).into()));
        t.push(
            DOC_PROBS,
            &[self.doc_probs.len()],
            Data::F64((&self.doc_probs[..]).into()),
        );
        let r = &self.representation;
        let (utf8, offsets) = strings(&r.vocabulary);
        t.push(VOCAB_UTF8, &[utf8.len()], Data::U8(utf8.into()));
        t.push(VOCAB_OFFSETS, &[offsets.len()], Data::I64(offsets.into()));
        t.push(IDF, &[r.idf.len()], Data::F64((&r.idf[..]).into()));
        let texts = self.topics.iter().flat_map(|t| &t.representative_docs);
        let (utf8, offsets) = strings(texts);
        let per_topic: Vec<i64> = self
            .topics
            .iter()
            .map(|t| t.representative_docs.len() as i64)
            .collect();
        t.push(REPR_DOCS_UTF8, &[utf8.len()], Data::U8(utf8.into()));
        t.push(
            REPR_DOCS_OFFSETS,
            &[offsets.len()],
            Data::I64(offsets.into()),
        );
        t.push(
            REPR_DOCS_COUNTS,
            &[per_topic.len()],
            Data::I64(per_topic.into()),
        );
        push_csr(&mut t, dir, "representation.counts", &r.counts, None)?;
        // c-TF-IDF weighs the counts entry by entry: the same sparsity pattern is stored once.
        let shared = r.ctfidf.indptr == r.counts.indptr && r.ctfidf.indices == r.counts.indices;
        push_csr(
            &mut t,
            dir,
            "representation.ctfidf",
            &r.ctfidf,
            shared.then_some(()),
        )?;
        // UMAP keeps the rows it was fitted on: the same embeddings as ours, stored once.
        let (rs, training_data) = match self.reducer.save_state_without_data(self.embeddings.view())
        {
            Some(s) => (s, Some(EMBEDDINGS.to_string())),
            None => (self.reducer.save_state(), None),
        };
        let mut reducer_names = Vec::new();
        for a in rs.arrays {
            let name = format!("reducer.{}", a.name);
            t.push(&name, &a.shape, Data::F32(a.data.into()));
            reducer_names.push(name);
        }
        let cs = self.clusterer.save_state();
        let mut clusterer_names = Vec::new();
        for a in cs.arrays {
            let name = format!("clusterer.{}", a.name);
            let data = match a.data {
                cluster::ArrayData::F64(v) => Data::F64(v.into()),
                cluster::ArrayData::I64(v) => Data::I64(v.into()),
            };
            t.push(&name, &a.shape, data);
            clusterer_names.push(name);
        }
        let tensors = t.serialize(dir)?;
        let json = ModelJson {
            format_version: FORMAT_VERSION,
            crate_version: crate::VERSION.to_string(),
            params: self.params.clone(),
            embedding: self.embedding.clone(),
            n_documents: n,
            topics: self
                .topics
                .iter()
                .map(|t| Topic {
                    representative_docs: Vec::new(),
                    ..t.clone()
                })
                .collect(),
            cluster_to_topic: self
                .cluster_to_topic
                .iter()
                .map(|(&a, &b)| (a, b))
                .collect(),
            timings: self.timings,
            representation: RepresentationMeta {
                topic_ids: r.topic_ids.clone(),
                n_terms: r.vocabulary.len(),
                avg_nr_samples: r.avg_nr_samples,
                words: r.words.clone(),
                sizes: r.sizes.clone(),
                representative_docs: r.representative_docs.clone(),
                params: r.params.clone(),
            },
            reducer: StageState {
                kind: rs.kind,
                params: rs.params,
                arrays: reducer_names,
                training_data,
            },
            clusterer: StageState {
                kind: cs.kind,
                params: cs.params,
                arrays: clusterer_names,
                training_data: None,
            },
            tensors_sha256: hex(&Sha256::digest(&tensors)),
            monitor_baseline: self.monitor_baseline.clone(),
        };
        // Pretty: nothing in it grows with the corpus any more, and people read it.
        let json = serde_json::to_vec_pretty(&json)
            .map_err(|e| format_err(dir, format!("cannot serialise model.json: {e}")))?;
        out.write(TENSORS, &tensors)?;
        out.write(JSON, &json)?;
        Ok(())
    }

    /// Loads a model saved by [`save`](Self::save) (this format or an older one), checking the
    /// format version, the checksum and the model's internal consistency (topic ids, array
    /// shapes, dimensions). A model replaced by a concurrent save while it is read is read
    /// again, not reported as corrupt. The tensors are read straight into their arrays, never
    /// whole into memory first.
    ///
    /// A reducer or clusterer of a kind that is not built in (a caller's own stage) is not
    /// rebuilt: the model loads with a [`StageNotice`] ([`stage_notice`](Self::stage_notice));
    /// [`load_with`](Self::load_with) takes the caller's loaders.
    pub fn load(dir: &Path) -> Result<TopicModel> {
        Self::load_with(dir, &StageLoaders::new())
    }

    /// [`load`](Self::load), rebuilding stages of kinds that are not built in with the
    /// caller's `loaders` (see [`crate::loaders`]). Built-in kinds load as with `load`.
    pub fn load_with(dir: &Path, loaders: &StageLoaders) -> Result<TopicModel> {
        let json_path = dir.join(JSON);
        let t_path = dir.join(TENSORS);
        let mut attempt = 0;
        let (raw, tensors) = loop {
            let raw = fs::read(&json_path).map_err(|e| missing_or_io(dir, &json_path, e))?;
            let file = fs::File::open(&t_path).map_err(|e| missing_or_io(dir, &t_path, e))?;
            let tensors = Tensors::read(file).map_err(|e| match e {
                ReadError::Io(e) => BertopicError::io(&t_path, e),
                ReadError::Format(m) => format_err(dir, m),
            });
            // A save swaps the whole folder: if model.json changed while we read, the two files
            // may come from different saves.
            let again = fs::read(&json_path).map_err(|e| missing_or_io(dir, &json_path, e))?;
            attempt += 1;
            if again == raw || attempt == 5 {
                break (raw, tensors?);
            }
        };
        Self::from_parts(dir, &raw, tensors, loaders)
    }

    /// Builds a model from the bytes of `model.json` and `model.safetensors` with every check
    /// [`load`](Self::load) makes; `dir` only names the model in errors. Public for fuzzing.
    #[doc(hidden)]
    pub fn from_bytes(dir: &Path, raw: &[u8], bytes: &[u8]) -> Result<TopicModel> {
        let tensors = Tensors::read(bytes).map_err(|e| match e {
            ReadError::Io(e) => format_err(dir, format!("model.safetensors unreadable: {e}")),
            ReadError::Format(m) => format_err(dir, m),
        })?;
        Self::from_parts(dir, raw, tensors, &StageLoaders::new())
    }

    fn from_parts(
        dir: &Path,
        raw: &[u8],
        mut t: Tensors,
        loaders: &StageLoaders,
    ) -> Result<TopicModel> {
        // Only the version first: the rest is read straight into the structs of that format,
        // never into a tree of JSON values.
        #[derive(Deserialize)]
        struct Version {
            format_version: Option<serde_json::Value>,
        }
        let version: Version = serde_json::from_slice(raw)
            .map_err(|e| format_err(dir, format!("model.json is not valid JSON: {e}")))?;
        let version = match version.format_version.as_ref().map(|v| v.as_u64()) {
            Some(Some(v))
                if (u64::from(OLDEST_FORMAT)..=u64::from(FORMAT_VERSION)).contains(&v) =>
            {
                v
            }
            Some(Some(v)) => {
                return Err(format_err(
                    dir,
                    format!(
                        "format version {v} is not supported by bertopic {} (reads versions \
                         {OLDEST_FORMAT} to {FORMAT_VERSION}); retrain the model or use the \
                         bertopic release that wrote it",
                        crate::VERSION
                    ),
                ))
            }
            _ => {
                return Err(format_err(
                    dir,
                    "model.json has no format_version: not a bertopic model".into(),
                ))
            }
        };
        let mismatch = |e: serde_json::Error| {
            format_err(
                dir,
                format!("model.json does not match format {version}: {e}"),
            )
        };
        let model = if version == 1 {
            let json: ModelJsonV1 = serde_json::from_slice(raw).map_err(mismatch)?;
            let (embeddings, stages) = open_tensors(
                dir,
                &mut t,
                &json.tensors_sha256,
                [&json.reducer, &json.clusterer],
                loaders,
            )?;
            TopicModel {
                params: json.params,
                reducer: stages.reducer,
                clusterer: stages.clusterer,
                cluster_to_topic: json
                    .cluster_to_topic
                    .into_iter()
                    .collect::<BTreeMap<_, _>>(),
                topics: json.topics,
                representation: json.representation,
                topic_embeddings: t.array2(dir, "topic_embeddings")?,
                doc_topics: json.doc_topics,
                doc_probs: json.doc_probs,
                embedding: json.embedding,
                timings: json.timings,
                doc_text_hashes: text_hashes(dir, &mut t)?,
                embeddings,
                word_embedder: None,
                monitor_baseline: json.monitor_baseline,
                known: std::sync::OnceLock::new(),
                stage_notice: stages.notice,
            }
        } else {
            let json: ModelJson = serde_json::from_slice(raw).map_err(mismatch)?;
            let (embeddings, stages) = open_tensors(
                dir,
                &mut t,
                &json.tensors_sha256,
                [&json.reducer, &json.clusterer],
                loaders,
            )?;
            let doc_topics = t.vec1(dir, DOC_TOPICS, Tensor::into_i64)?;
            let doc_probs = t.vec1(dir, DOC_PROBS, Tensor::into_f64)?;
            if doc_topics.len() != json.n_documents {
                return Err(format_err(
                    dir,
                    format!(
                        "model.json says {} documents, the tensors hold {}; the model was edited \
                         or damaged: retrain it or restore the folder",
                        json.n_documents,
                        doc_topics.len()
                    ),
                ));
            }
            TopicModel {
                params: json.params,
                reducer: stages.reducer,
                clusterer: stages.clusterer,
                cluster_to_topic: json
                    .cluster_to_topic
                    .into_iter()
                    .collect::<BTreeMap<_, _>>(),
                topics: topics_with_docs(dir, &mut t, json.topics)?,
                representation: representation(dir, &mut t, json.representation)?,
                topic_embeddings: t.array2(dir, "topic_embeddings")?,
                doc_topics,
                doc_probs,
                embedding: json.embedding,
                timings: json.timings,
                doc_text_hashes: text_hashes(dir, &mut t)?,
                embeddings,
                word_embedder: None,
                monitor_baseline: json.monitor_baseline,
                known: std::sync::OnceLock::new(),
                stage_notice: stages.notice,
            }
        };
        model.check_consistency().map_err(|reason| {
            format_err(
                dir,
                format!(
                    "{reason}; the model was edited or damaged: retrain it or restore the folder"
                ),
            )
        })?;
        Ok(model)
    }

    /// Checks what a hand-edited or damaged model.json could break: every topic id referred to
    /// exists, per-document arrays agree, array shapes match the recorded dimensions.
    fn check_consistency(&self) -> std::result::Result<(), String> {
        let mut ids = std::collections::BTreeSet::new();
        for t in &self.topics {
            if t.id < -1 || !ids.insert(t.id) {
                return Err(format!("topic id {} is invalid or repeated", t.id));
            }
        }
        let known = |id: i64| id == -1 || ids.contains(&id);
        for (&cluster, &topic) in &self.cluster_to_topic {
            if !known(topic) {
                return Err(format!(
                    "cluster_to_topic maps cluster {cluster} to topic {topic}, which does not exist"
                ));
            }
        }
        if let Some((i, t)) = self.doc_topics.iter().enumerate().find(|(_, &t)| !known(t)) {
            return Err(format!(
                "document {i} is assigned to topic {t}, which does not exist"
            ));
        }
        let n = self.doc_topics.len();
        if self.doc_probs.len() != n {
            return Err(format!(
                "{} document probabilities for {n} documents",
                self.doc_probs.len()
            ));
        }
        if let Some(p) = self.doc_probs.iter().find(|p| !(0.0..=1.0).contains(*p)) {
            return Err(format!("document probability {p} is outside [0, 1]"));
        }
        if self.doc_text_hashes.len() > n.min(crate::predict::MAX_TEXT_HASHES) {
            return Err(format!(
                "{} text hashes for {n} documents",
                self.doc_text_hashes.len()
            ));
        }
        if self.embeddings.nrows() != n {
            return Err(format!(
                "{} training embedding rows for {n} documents",
                self.embeddings.nrows()
            ));
        }
        let dim = self.embeddings.ncols();
        if let Some(info) = &self.embedding {
            if info.dim != dim {
                return Err(format!(
                    "model.json says the embeddings have {} dimensions, the stored arrays have {dim}",
                    info.dim
                ));
            }
        }
        if self.topic_embeddings.ncols() != dim && self.topic_embeddings.nrows() > 0 {
            return Err(format!(
                "topic embeddings have {} dimensions, document embeddings {dim}",
                self.topic_embeddings.ncols()
            ));
        }
        let r = &self.representation;
        if r.topic_ids.iter().any(|&t| !known(t)) {
            return Err("the representation lists a topic that does not exist".into());
        }
        if self.topic_embeddings.nrows() != r.topic_ids.len() && self.topic_embeddings.nrows() > 0 {
            return Err(format!(
                "{} topic embeddings for {} topics",
                self.topic_embeddings.nrows(),
                r.topic_ids.len()
            ));
        }
        for m in [&r.counts, &r.ctfidf] {
            let ok = m.n_rows == r.topic_ids.len()
                && m.n_cols == r.vocabulary.len()
                && m.indptr.len() == m.n_rows + 1
                && m.indices.len() == m.values.len()
                && m.indptr.windows(2).all(|w| w[0] <= w[1])
                && m.indptr.last().copied() == Some(m.indices.len())
                && m.indices.iter().all(|&c| c < m.n_cols);
            if !ok {
                return Err("a c-TF-IDF matrix does not match the topics and vocabulary".into());
            }
        }
        if r.idf.len() != r.vocabulary.len() {
            return Err(format!(
                "{} idf values for {} vocabulary terms",
                r.idf.len(),
                r.vocabulary.len()
            ));
        }
        if r.representative_docs.iter().flatten().any(|&d| d >= n) {
            return Err("a representative document index is out of range".into());
        }
        Ok(())
    }
}

/// What [`load_stages`] rebuilt.
struct LoadedStages {
    reducer: Box<dyn reduce::FittedReducer>,
    clusterer: Box<dyn cluster::FittedClusterer>,
    /// Set when a stage is a stand-in (its kind is neither built in nor in the loaders).
    notice: Option<StageNotice>,
}

/// The checks and reads both formats start with: the tensors file is the one model.json
/// names (sha256), then the training embeddings and the two stages.
fn open_tensors(
    dir: &Path,
    t: &mut Tensors,
    expected_sha: &str,
    [rj, cj]: [&StageState; 2],
    loaders: &StageLoaders,
) -> Result<(Array2<f32>, LoadedStages)> {
    if t.sha256 != expected_sha {
        return Err(format_err(
            dir,
            format!(
                "model.safetensors is corrupted (sha256 {}, expected {expected_sha}); restore \
                 it from a backup or retrain",
                t.sha256
            ),
        ));
    }
    let embeddings = t.array2(dir, EMBEDDINGS)?;
    let stages = load_stages(dir, t, rj, cj, &embeddings, loaders)?;
    Ok((embeddings, stages))
}

/// The reducer and clusterer from their saved states; a reducer saved without its training
/// rows gets `embeddings` back. A kind neither built in nor in `loaders` loads as a stand-in,
/// named by the notice.
fn load_stages(
    dir: &Path,
    t: &mut Tensors,
    rj: &StageState,
    cj: &StageState,
    embeddings: &Array2<f32>,
    loaders: &StageLoaders,
) -> Result<LoadedStages> {
    let mut rarrays = Vec::new();
    for name in &rj.arrays {
        let (shape, data) = t.take(dir, name)?.into_f32(dir, name)?;
        rarrays.push(reduce::NamedArray {
            name: name.strip_prefix("reducer.").unwrap_or(name).to_string(),
            shape,
            data,
        });
    }
    let state = reduce::SavedState {
        kind: rj.kind.clone(),
        params: rj.params.clone(),
        arrays: rarrays,
    };
    let rows = match rj.training_data.as_deref() {
        None => None,
        Some(EMBEDDINGS) => Some(embeddings.view()),
        Some(other) => {
            return Err(format_err(
                dir,
                format!("the reducer's training data is {other:?}; only \"{EMBEDDINGS}\" is known"),
            ))
        }
    };
    let (reducer, reducer_loaded) = loaders.load_reducer(state, rows)?;
    let mut carrays = Vec::new();
    for name in &cj.arrays {
        let tensor = t.take(dir, name)?;
        let data = match tensor.data {
            TData::F64(v) => cluster::ArrayData::F64(v),
            TData::I64(v) => cluster::ArrayData::I64(v),
            _ => {
                return Err(format_err(
                    dir,
                    format!(
                        "tensor {name} has dtype {}, expected F64 or I64",
                        tensor.dtype
                    ),
                ))
            }
        };
        carrays.push(cluster::NamedArray {
            name: name.strip_prefix("clusterer.").unwrap_or(name).to_string(),
            shape: tensor.shape,
            data,
        });
    }
    let (clusterer, clusterer_loaded) = loaders.load_clusterer(cluster::SavedState {
        kind: cj.kind.clone(),
        params: cj.params.clone(),
        arrays: carrays,
    })?;
    let notice = StageNotice::new(
        dir,
        (!reducer_loaded).then_some(rj.kind.as_str()),
        (!clusterer_loaded).then_some(cj.kind.as_str()),
    );
    Ok(LoadedStages {
        reducer,
        clusterer,
        notice,
    })
}

fn text_hashes(dir: &Path, t: &mut Tensors) -> Result<Vec<u64>> {
    if !t.map.contains_key(TEXT_HASHES) {
        return Ok(Vec::new());
    }
    Ok(t.vec1(dir, TEXT_HASHES, Tensor::into_i64)?
        .into_iter()
        .map(|h| h as u64)
        .collect())
}

/// A format-2 representation: the per-topic metadata plus its tensors.
fn representation(
    dir: &Path,
    t: &mut Tensors,
    meta: RepresentationMeta,
) -> Result<TopicRepresentation> {
    let vocabulary = read_strings(dir, t, VOCAB_UTF8, VOCAB_OFFSETS, "vocabulary")?;
    if vocabulary.len() != meta.n_terms {
        return Err(format_err(
            dir,
            format!(
                "the stored vocabulary has {} terms, model.json says {}",
                vocabulary.len(),
                meta.n_terms
            ),
        ));
    }
    let counts = read_csr(dir, t, "representation.counts", meta.n_terms, None)?;
    let ctfidf = read_csr(dir, t, "representation.ctfidf", meta.n_terms, Some(&counts))?;
    Ok(TopicRepresentation {
        vocabulary,
        topic_ids: meta.topic_ids,
        counts,
        ctfidf,
        idf: t.vec1(dir, IDF, Tensor::into_f64)?,
        avg_nr_samples: meta.avg_nr_samples,
        words: meta.words,
        sizes: meta.sizes,
        representative_docs: meta.representative_docs,
        params: meta.params,
    })
}

/// Strings as one UTF-8 byte array and `len + 1` offsets into it.
fn strings<'s>(items: impl IntoIterator<Item = &'s String>) -> (Vec<u8>, Vec<i64>) {
    let (mut utf8, mut offsets) = (Vec::new(), vec![0i64]);
    for s in items {
        utf8.extend_from_slice(s.as_bytes());
        offsets.push(utf8.len() as i64);
    }
    (utf8, offsets)
}

/// Reads what [`strings`] wrote.
fn read_strings(
    dir: &Path,
    t: &mut Tensors,
    utf8_name: &str,
    offsets_name: &str,
    what: &str,
) -> Result<Vec<String>> {
    let utf8 = t.vec1(dir, utf8_name, Tensor::into_u8)?;
    let offsets = t.vec1(dir, offsets_name, Tensor::into_i64)?;
    let bad = |why: &str| format_err(dir, format!("the stored {what} {why}"));
    if offsets.first() != Some(&0) {
        return Err(bad("has no leading offset 0"));
    }
    let mut out = Vec::with_capacity(offsets.len() - 1);
    for w in offsets.windows(2) {
        let (a, b) = (w[0], w[1]);
        if a > b || b as u64 > utf8.len() as u64 {
            return Err(bad("has offsets out of order or out of range"));
        }
        let s = std::str::from_utf8(&utf8[a as usize..b as usize])
            .map_err(|_| bad("holds a text that is not UTF-8"))?;
        out.push(s.to_string());
    }
    Ok(out)
}

/// Gives format-2 topics back their representative document texts.
fn topics_with_docs(dir: &Path, t: &mut Tensors, mut topics: Vec<Topic>) -> Result<Vec<Topic>> {
    let texts = read_strings(
        dir,
        t,
        REPR_DOCS_UTF8,
        REPR_DOCS_OFFSETS,
        "representative documents",
    )?;
    let counts = t.vec1(dir, REPR_DOCS_COUNTS, Tensor::into_i64)?;
    let total = counts
        .iter()
        .try_fold(0u64, |a, &c| u64::try_from(c).ok().map(|c| a + c));
    if counts.len() != topics.len() || total != Some(texts.len() as u64) {
        return Err(format_err(
            dir,
            "the stored representative documents do not match the topics".into(),
        ));
    }
    let mut texts = texts.into_iter();
    for (topic, &c) in topics.iter_mut().zip(&counts) {
        topic.representative_docs = texts.by_ref().take(c as usize).collect();
    }
    Ok(topics)
}

/// Writes a CSR matrix as `{prefix}.indptr` (I64), `{prefix}.indices` (I32) and
/// `{prefix}.values` (F64); with `pattern_shared`, only the values (the pattern is the
/// counts').
fn push_csr<'a>(
    t: &mut TensorsOut<'a>,
    dir: &Path,
    prefix: &str,
    m: &'a CsrMatrix,
    pattern_shared: Option<()>,
) -> Result<()> {
    if pattern_shared.is_none() {
        let indptr: Vec<i64> = m.indptr.iter().map(|&p| p as i64).collect();
        let indices = m
            .indices
            .iter()
            .map(|&c| i32::try_from(c))
            .collect::<std::result::Result<Vec<i32>, _>>()
            .map_err(|_| format_err(dir, format!("{prefix}: a column index exceeds i32")))?;
        t.push(
            &format!("{prefix}.indptr"),
            &[indptr.len()],
            Data::I64(indptr.into()),
        );
        t.push(
            &format!("{prefix}.indices"),
            &[indices.len()],
            Data::I32(indices),
        );
    }
    t.push(
        &format!("{prefix}.values"),
        &[m.values.len()],
        Data::F64((&m.values[..]).into()),
    );
    Ok(())
}

/// Reads what [`push_csr`] wrote; a matrix stored without its pattern takes `pattern`'s.
fn read_csr(
    dir: &Path,
    t: &mut Tensors,
    prefix: &str,
    n_cols: usize,
    pattern: Option<&CsrMatrix>,
) -> Result<CsrMatrix> {
    let values = t.vec1(dir, &format!("{prefix}.values"), Tensor::into_f64)?;
    let indptr_name = format!("{prefix}.indptr");
    let (indptr, indices) = match pattern {
        Some(p) if !t.map.contains_key(&indptr_name) => (p.indptr.clone(), p.indices.clone()),
        _ => {
            let indptr = t.vec1(dir, &indptr_name, Tensor::into_i64)?;
            let indices = t.vec1(dir, &format!("{prefix}.indices"), Tensor::into_i32)?;
            let bad = || format_err(dir, format!("{prefix} holds a negative index"));
            (
                indptr
                    .into_iter()
                    .map(|v| usize::try_from(v).map_err(|_| bad()))
                    .collect::<Result<Vec<_>>>()?,
                indices
                    .into_iter()
                    .map(|v| usize::try_from(v).map_err(|_| bad()))
                    .collect::<Result<Vec<_>>>()?,
            )
        }
    };
    if indptr.is_empty() {
        return Err(format_err(dir, format!("{prefix}.indptr is empty")));
    }
    // Shapes are checked against the topics and vocabulary by `check_consistency`.
    Ok(CsrMatrix {
        n_rows: indptr.len() - 1,
        n_cols,
        indptr,
        indices,
        values,
    })
}

/// An array borrowed from the model (or made for saving), in a safetensors dtype.
enum Data<'a> {
    F32(Cow<'a, [f32]>),
    F64(Cow<'a, [f64]>),
    I64(Cow<'a, [i64]>),
    I32(Vec<i32>),
    U8(Cow<'a, [u8]>),
}

impl Data<'_> {
    fn dtype(&self) -> &'static str {
        match self {
            Data::F32(_) => "F32",
            Data::F64(_) => "F64",
            Data::I64(_) => "I64",
            Data::I32(_) => "I32",
            Data::U8(_) => "U8",
        }
    }

    fn elem_size(&self) -> usize {
        match self {
            Data::F64(_) | Data::I64(_) => 8,
            Data::F32(_) | Data::I32(_) => 4,
            Data::U8(_) => 1,
        }
    }

    fn len(&self) -> usize {
        match self {
            Data::F32(v) => v.len(),
            Data::F64(v) => v.len(),
            Data::I64(v) => v.len(),
            Data::I32(v) => v.len(),
            Data::U8(v) => v.len(),
        }
    }

    fn write_le(&self, out: &mut Vec<u8>) {
        match self {
            Data::F32(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Data::F64(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Data::I64(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Data::I32(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Data::U8(v) => out.extend_from_slice(v),
        }
    }
}

/// A 2-d array's values in row-major order, borrowed when the array is laid out so.
fn f32s(a: &Array2<f32>) -> Data<'_> {
    match a.as_slice() {
        Some(s) => Data::F32(Cow::Borrowed(s)),
        None => Data::F32(Cow::Owned(a.iter().copied().collect())),
    }
}

/// The tensors of a model, written as one safetensors file without a byte copy of each array
/// first.
#[derive(Default)]
struct TensorsOut<'a> {
    tensors: Vec<(String, Vec<usize>, Data<'a>)>,
}

impl<'a> TensorsOut<'a> {
    fn push(&mut self, name: &str, shape: &[usize], data: Data<'a>) {
        self.tensors.push((name.to_string(), shape.to_vec(), data));
    }

    /// The safetensors layout: an 8-byte header length, the JSON header padded with spaces to
    /// a multiple of 8, then the data; 8-byte dtypes first so every tensor is aligned to its
    /// element size.
    fn serialize(mut self, dir: &Path) -> Result<Vec<u8>> {
        self.tensors
            .sort_by(|a, b| b.2.elem_size().cmp(&a.2.elem_size()).then(a.0.cmp(&b.0)));
        let mut header = serde_json::Map::new();
        let mut offset = 0usize;
        for (name, shape, data) in &self.tensors {
            if shape.iter().product::<usize>() != data.len() {
                return Err(format_err(
                    dir,
                    format!("tensor {name}: shape {shape:?} for {} values", data.len()),
                ));
            }
            let end = offset + data.len() * data.elem_size();
            header.insert(
                name.clone(),
                serde_json::json!({"dtype": data.dtype(), "shape": shape, "data_offsets": [offset, end]}),
            );
            offset = end;
        }
        let mut header = serde_json::to_vec(&header)
            .map_err(|e| format_err(dir, format!("cannot serialise the tensor header: {e}")))?;
        header.resize(header.len().div_ceil(8) * 8, b' ');
        let mut out = Vec::with_capacity(8 + header.len() + offset);
        out.extend_from_slice(&(header.len() as u64).to_le_bytes());
        out.extend_from_slice(&header);
        for (_, _, data) in &self.tensors {
            data.write_le(&mut out);
        }
        Ok(out)
    }
}

/// A tensor read from model.safetensors.
struct Tensor {
    dtype: String,
    shape: Vec<usize>,
    data: TData,
}

enum TData {
    F32(Vec<f32>),
    F64(Vec<f64>),
    I64(Vec<i64>),
    I32(Vec<i32>),
    U8(Vec<u8>),
}

macro_rules! into_vec {
    ($name:ident, $variant:ident, $ty:ty) => {
        fn $name(self, dir: &Path, name: &str) -> Result<(Vec<usize>, Vec<$ty>)> {
            match self.data {
                TData::$variant(v) => Ok((self.shape, v)),
                _ => Err(format_err(
                    dir,
                    format!(
                        "tensor {name} has dtype {}, expected {}",
                        self.dtype,
                        stringify!($variant)
                    ),
                )),
            }
        }
    };
}

impl Tensor {
    into_vec!(into_f32, F32, f32);
    into_vec!(into_f64, F64, f64);
    into_vec!(into_i64, I64, i64);
    into_vec!(into_i32, I32, i32);
    into_vec!(into_u8, U8, u8);
}

enum ReadError {
    Io(std::io::Error),
    Format(String),
}

/// Every tensor of a safetensors file by name, and the file's sha256.
struct Tensors {
    map: HashMap<String, Tensor>,
    sha256: String,
}

#[derive(Deserialize)]
struct HeaderEntry {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: [usize; 2],
}

/// Headers larger than this are not ours (ours are a few KB).
const MAX_HEADER: u64 = 100 << 20;
/// Bytes read at a time: the file is hashed and decoded in pieces of this size.
const CHUNK: usize = 1 << 20;

impl Tensors {
    /// Reads a safetensors file from `r` into typed arrays, hashing it on the way, with the
    /// checks `safetensors` makes (offsets contiguous, sizes matching shapes, nothing after
    /// the last tensor).
    fn read(mut r: impl Read) -> std::result::Result<Tensors, ReadError> {
        let bad = |m: String| ReadError::Format(format!("model.safetensors unreadable: {m}"));
        let mut hasher = Sha256::new();
        let mut len = [0u8; 8];
        r.read_exact(&mut len).map_err(|e| eof_or_io(e, &bad))?;
        hasher.update(len);
        let n = u64::from_le_bytes(len);
        if n > MAX_HEADER {
            return Err(bad(format!("header of {n} bytes")));
        }
        let mut header = vec![0u8; n as usize];
        r.read_exact(&mut header).map_err(|e| eof_or_io(e, &bad))?;
        hasher.update(&header);
        let mut entries: BTreeMap<String, serde_json::Value> = serde_json::from_slice(&header)
            .map_err(|e| bad(format!("header is not a JSON object: {e}")))?;
        entries.remove("__metadata__");
        let mut list = Vec::with_capacity(entries.len());
        for (name, v) in entries {
            let e: HeaderEntry =
                serde_json::from_value(v).map_err(|e| bad(format!("header entry {name}: {e}")))?;
            list.push((name, e));
        }
        list.sort_by_key(|(_, e)| e.data_offsets);
        let mut map = HashMap::with_capacity(list.len());
        let mut at = 0usize;
        let mut buf = vec![0u8; CHUNK];
        for (name, e) in list {
            let size = match e.dtype.as_str() {
                "F64" | "I64" => 8,
                "F32" | "I32" => 4,
                "U8" => 1,
                other => return Err(bad(format!("tensor {name} has unsupported dtype {other}"))),
            };
            let [start, end] = e.data_offsets;
            let count = e
                .shape
                .iter()
                .try_fold(1usize, |a, &d| a.checked_mul(d))
                .ok_or_else(|| bad(format!("tensor {name}: shape overflows")))?;
            if start != at || end < start || Some(end - start) != count.checked_mul(size) {
                return Err(bad(format!(
                    "tensor {name}: offsets {start}..{end} do not follow the previous tensor at \
                     {at} or do not match shape {:?}",
                    e.shape
                )));
            }
            at = end;
            let mut data = match size {
                8 if e.dtype == "F64" => TData::F64(Vec::new()),
                8 => TData::I64(Vec::new()),
                4 if e.dtype == "F32" => TData::F32(Vec::new()),
                4 => TData::I32(Vec::new()),
                _ => TData::U8(Vec::new()),
            };
            // Grow with the bytes actually read: a lying header cannot make us allocate more
            // than the file holds.
            let mut left = end - start;
            while left > 0 {
                let take = left.min(CHUNK);
                let piece = &mut buf[..take];
                r.read_exact(piece).map_err(|e| eof_or_io(e, &bad))?;
                hasher.update(&*piece);
                match &mut data {
                    TData::F64(v) => v.extend(
                        piece
                            .chunks_exact(8)
                            .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8]))),
                    ),
                    TData::I64(v) => v.extend(
                        piece
                            .chunks_exact(8)
                            .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8]))),
                    ),
                    TData::F32(v) => v.extend(
                        piece
                            .chunks_exact(4)
                            .map(|c| f32::from_le_bytes(c.try_into().unwrap_or([0; 4]))),
                    ),
                    TData::I32(v) => v.extend(
                        piece
                            .chunks_exact(4)
                            .map(|c| i32::from_le_bytes(c.try_into().unwrap_or([0; 4]))),
                    ),
                    TData::U8(v) => v.extend_from_slice(piece),
                }
                left -= take;
            }
            map.insert(
                name,
                Tensor {
                    dtype: e.dtype,
                    shape: e.shape,
                    data,
                },
            );
        }
        let mut rest = [0u8; 1];
        loop {
            match r.read(&mut rest) {
                Ok(0) => break,
                Ok(_) => return Err(bad("bytes after the last tensor".into())),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ReadError::Io(e)),
            }
        }
        Ok(Tensors {
            map,
            sha256: hex(&hasher.finalize()),
        })
    }

    /// Takes tensor `name` out (each is used once).
    fn take(&mut self, dir: &Path, name: &str) -> Result<Tensor> {
        self.map
            .remove(name)
            .ok_or_else(|| format_err(dir, format!("tensor {name} missing")))
    }

    fn array2(&mut self, dir: &Path, name: &str) -> Result<Array2<f32>> {
        let (shape, data) = self.take(dir, name)?.into_f32(dir, name)?;
        if shape.len() != 2 {
            return Err(format_err(dir, format!("tensor {name} is not 2-d")));
        }
        Array2::from_shape_vec((shape[0], shape[1]), data)
            .map_err(|e| format_err(dir, format!("tensor {name}: {e}")))
    }

    /// A 1-d tensor's values, of the type `into` takes.
    fn vec1<T>(
        &mut self,
        dir: &Path,
        name: &str,
        into: impl FnOnce(Tensor, &Path, &str) -> Result<(Vec<usize>, Vec<T>)>,
    ) -> Result<Vec<T>> {
        let (shape, data) = into(self.take(dir, name)?, dir, name)?;
        if shape.len() != 1 {
            return Err(format_err(dir, format!("tensor {name} is not 1-d")));
        }
        Ok(data)
    }
}

/// A file that ends early is damaged, not an I/O failure.
fn eof_or_io(e: std::io::Error, bad: &impl Fn(String) -> ReadError) -> ReadError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        bad("the file ends early".into())
    } else {
        ReadError::Io(e)
    }
}

/// A missing model file is named as such: the folder is not (or no longer) a saved model.
fn missing_or_io(dir: &Path, path: &Path, e: std::io::Error) -> BertopicError {
    if e.kind() == std::io::ErrorKind::NotFound {
        format_err(
            dir,
            format!(
                "{} is missing: not a folder written by `bertopic train` (or by TopicModel::save)",
                path.file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default()
            ),
        )
    } else {
        BertopicError::io(path, e)
    }
}

fn format_err(dir: &Path, reason: String) -> BertopicError {
    BertopicError::ModelFormat {
        path: dir.to_path_buf(),
        reason,
    }
}
