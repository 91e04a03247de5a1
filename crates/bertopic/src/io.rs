//! Saving and loading a fitted model: a folder with `model.json` (config, topics, vocabulary,
//! provenance, checksums) and `model.safetensors` (every array). No opaque blobs.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use ndarray::Array2;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use bertopic_fs::{hex, DirPolicy, DirWriter};

use crate::cluster;
use crate::error::{BertopicError, Result};
use crate::model::{EmbeddingInfo, Topic, TopicModel};
use crate::params::CheckedParams;
use crate::reduce;
use crate::represent::TopicRepresentation;
use crate::stages::StageTimings;

/// Version of the saved-model format. Bump on any incompatible change and keep a loader for
/// the older versions (or a clear error naming them).
pub const FORMAT_VERSION: u32 = 1;

const JSON: &str = "model.json";
const TENSORS: &str = "model.safetensors";
/// Tensor of the training documents' text hashes ([`crate::predict`]); absent in older models.
const TEXT_HASHES: &str = "doc_text_hashes";

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
}

#[derive(Serialize, Deserialize)]
struct ModelJson {
    format_version: u32,
    crate_version: String,
    /// Checked again when read: a hand-edited file cannot bring invalid values in.
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
    /// sha256 of model.safetensors.
    tensors_sha256: String,
    /// Training coherence and OOV rate for `bertopic monitor`; optional, so models saved
    /// before it existed still load (monitoring then skips the comparisons that need it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    monitor_baseline: Option<crate::baseline::TrainingBaseline>,
}

/// dtype, shape and little-endian bytes of one tensor.
type RawTensor = (Dtype, Vec<usize>, Vec<u8>);

enum Arr {
    F32(Vec<usize>, Vec<f32>),
    F64(Vec<usize>, Vec<f64>),
    I64(Vec<usize>, Vec<i64>),
}

impl Arr {
    fn bytes(&self) -> RawTensor {
        match self {
            Arr::F32(s, d) => (
                Dtype::F32,
                s.clone(),
                d.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ),
            Arr::F64(s, d) => (
                Dtype::F64,
                s.clone(),
                d.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ),
            Arr::I64(s, d) => (
                Dtype::I64,
                s.clone(),
                d.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ),
        }
    }
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
        let mut arrays: Vec<(String, Arr)> = Vec::new();
        arrays.push((
            "embeddings".into(),
            Arr::F32(
                self.embeddings.shape().to_vec(),
                self.embeddings.iter().copied().collect(),
            ),
        ));
        arrays.push((
            "topic_embeddings".into(),
            Arr::F32(
                self.topic_embeddings.shape().to_vec(),
                self.topic_embeddings.iter().copied().collect(),
            ),
        ));
        if !self.doc_text_hashes.is_empty() {
            // Optional (models saved before it load without it); bit-cast: safetensors has no U64
            // in the dtypes every reader supports.
            arrays.push((
                TEXT_HASHES.into(),
                Arr::I64(
                    vec![self.doc_text_hashes.len()],
                    self.doc_text_hashes.iter().map(|&h| h as i64).collect(),
                ),
            ));
        }
        let rs = self.reducer.save_state();
        let mut reducer_names = Vec::new();
        for a in rs.arrays {
            let name = format!("reducer.{}", a.name);
            reducer_names.push(name.clone());
            arrays.push((name, Arr::F32(a.shape, a.data)));
        }
        let cs = self.clusterer.save_state();
        let mut clusterer_names = Vec::new();
        for a in cs.arrays {
            let name = format!("clusterer.{}", a.name);
            clusterer_names.push(name.clone());
            let arr = match a.data {
                cluster::ArrayData::F64(v) => Arr::F64(a.shape, v),
                cluster::ArrayData::I64(v) => Arr::I64(a.shape, v),
            };
            arrays.push((name, arr));
        }
        let owned: Vec<(String, RawTensor)> =
            arrays.iter().map(|(n, a)| (n.clone(), a.bytes())).collect();
        let views = owned
            .iter()
            .map(|(n, (dt, shape, bytes))| {
                TensorView::new(*dt, shape.clone(), bytes)
                    .map(|v| (n.clone(), v))
                    .map_err(|e| format_err(dir, format!("tensor {n}: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let tensors = safetensors::tensor::serialize(views, None)
            .map_err(|e| format_err(dir, format!("cannot serialise tensors: {e}")))?;
        let json = ModelJson {
            format_version: FORMAT_VERSION,
            crate_version: crate::VERSION.to_string(),
            params: self.params.clone(),
            embedding: self.embedding.clone(),
            topics: self.topics.clone(),
            cluster_to_topic: self
                .cluster_to_topic
                .iter()
                .map(|(&a, &b)| (a, b))
                .collect(),
            doc_topics: self.doc_topics.clone(),
            doc_probs: self.doc_probs.clone(),
            timings: self.timings,
            representation: self.representation.clone(),
            reducer: StageState {
                kind: rs.kind,
                params: rs.params,
                arrays: reducer_names,
            },
            clusterer: StageState {
                kind: cs.kind,
                params: cs.params,
                arrays: clusterer_names,
            },
            tensors_sha256: hex(&Sha256::digest(&tensors)),
            monitor_baseline: self.monitor_baseline.clone(),
        };
        // Compact: the representation's sparse matrices make up most of the file, and pretty
        // printing put one number per line (19 MB instead of 10 MB for 10k documents).
        let json = serde_json::to_vec(&json)
            .map_err(|e| format_err(dir, format!("cannot serialise model.json: {e}")))?;
        out.write(TENSORS, &tensors)?;
        out.write(JSON, &json)?;
        Ok(())
    }

    /// Loads a model saved by [`save`](Self::save), checking the format version, the checksum
    /// and the model's internal consistency (topic ids, array shapes, dimensions). A model
    /// replaced by a concurrent save while it is read is read again, not reported as corrupt.
    pub fn load(dir: &Path) -> Result<TopicModel> {
        let json_path = dir.join(JSON);
        let t_path = dir.join(TENSORS);
        let mut attempt = 0;
        let (raw, bytes) = loop {
            let raw = fs::read(&json_path).map_err(|e| missing_or_io(dir, &json_path, e))?;
            let bytes = fs::read(&t_path).map_err(|e| missing_or_io(dir, &t_path, e))?;
            // A save swaps the whole folder: if model.json changed while we read, the two files
            // may come from different saves.
            let again = fs::read(&json_path).map_err(|e| missing_or_io(dir, &json_path, e))?;
            attempt += 1;
            if again == raw || attempt == 5 {
                break (raw, bytes);
            }
        };
        Self::from_bytes(dir, &raw, &bytes)
    }

    /// Builds a model from the bytes of `model.json` and `model.safetensors` with every check
    /// [`load`](Self::load) makes; `dir` only names the model in errors. Public for fuzzing.
    #[doc(hidden)]
    pub fn from_bytes(dir: &Path, raw: &[u8], bytes: &[u8]) -> Result<TopicModel> {
        let version: serde_json::Value = serde_json::from_slice(raw)
            .map_err(|e| format_err(dir, format!("model.json is not valid JSON: {e}")))?;
        match version.get("format_version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(FORMAT_VERSION) => {}
            Some(v) => {
                return Err(format_err(
                    dir,
                    format!(
                        "format version {v} is not supported by bertopic {} (reads version {FORMAT_VERSION}); \
                         retrain the model or use the bertopic release that wrote it",
                        crate::VERSION
                    ),
                ))
            }
            None => return Err(format_err(dir, "model.json has no format_version: not a bertopic model".into())),
        }
        let json: ModelJson = serde_json::from_value(version).map_err(|e| {
            format_err(
                dir,
                format!("model.json does not match format {FORMAT_VERSION}: {e}"),
            )
        })?;
        let sha = hex(&Sha256::digest(bytes));
        if sha != json.tensors_sha256 {
            return Err(format_err(
                dir,
                format!(
                    "model.safetensors is corrupted (sha256 {sha}, expected {}); restore it from a backup or retrain",
                    json.tensors_sha256
                ),
            ));
        }
        let st = SafeTensors::deserialize(bytes)
            .map_err(|e| format_err(dir, format!("model.safetensors unreadable: {e}")))?;
        let get = |name: &str| -> Result<(Vec<usize>, Dtype, Vec<u8>)> {
            let t = st
                .tensor(name)
                .map_err(|e| format_err(dir, format!("tensor {name} missing: {e}")))?;
            Ok((t.shape().to_vec(), t.dtype(), t.data().to_vec()))
        };
        let f32s = |name: &str| -> Result<(Vec<usize>, Vec<f32>)> {
            let (shape, dt, data) = get(name)?;
            if dt != Dtype::F32 {
                return Err(format_err(
                    dir,
                    format!("tensor {name} has dtype {dt:?}, expected F32"),
                ));
            }
            Ok((
                shape,
                data.chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            ))
        };
        let to_array2 = |name: &str| -> Result<Array2<f32>> {
            let (shape, data) = f32s(name)?;
            if shape.len() != 2 {
                return Err(format_err(dir, format!("tensor {name} is not 2-d")));
            }
            Array2::from_shape_vec((shape[0], shape[1]), data)
                .map_err(|e| format_err(dir, format!("tensor {name}: {e}")))
        };
        let embeddings = to_array2("embeddings")?;
        let doc_text_hashes = if st.names().contains(&TEXT_HASHES) {
            let (shape, dt, data) = get(TEXT_HASHES)?;
            if dt != Dtype::I64 || shape.len() != 1 {
                return Err(format_err(
                    dir,
                    format!("tensor {TEXT_HASHES} is not a 1-d I64 array"),
                ));
            }
            data.chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                .collect()
        } else {
            Vec::new()
        };
        let topic_embeddings = to_array2("topic_embeddings")?;
        let mut rarrays = Vec::new();
        for name in &json.reducer.arrays {
            let (shape, data) = f32s(name)?;
            rarrays.push(reduce::NamedArray {
                name: name.strip_prefix("reducer.").unwrap_or(name).to_string(),
                shape,
                data,
            });
        }
        let reducer = reduce::load_state(&reduce::SavedState {
            kind: json.reducer.kind.clone(),
            params: json.reducer.params.clone(),
            arrays: rarrays,
        })?;
        let mut carrays = Vec::new();
        for name in &json.clusterer.arrays {
            let (shape, dt, data) = get(name)?;
            let data = match dt {
                Dtype::F64 => cluster::ArrayData::F64(
                    data.chunks_exact(8)
                        .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                        .collect(),
                ),
                Dtype::I64 => cluster::ArrayData::I64(
                    data.chunks_exact(8)
                        .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                        .collect(),
                ),
                other => {
                    return Err(format_err(
                        dir,
                        format!("tensor {name} has unexpected dtype {other:?}"),
                    ))
                }
            };
            carrays.push(cluster::NamedArray {
                name: name.strip_prefix("clusterer.").unwrap_or(name).to_string(),
                shape,
                data,
            });
        }
        let clusterer = cluster::load_state(&cluster::SavedState {
            kind: json.clusterer.kind.clone(),
            params: json.clusterer.params.clone(),
            arrays: carrays,
        })?;
        let model = TopicModel {
            params: json.params,
            reducer,
            clusterer,
            cluster_to_topic: json
                .cluster_to_topic
                .into_iter()
                .collect::<BTreeMap<_, _>>(),
            topics: json.topics,
            representation: json.representation,
            topic_embeddings,
            doc_topics: json.doc_topics,
            doc_probs: json.doc_probs,
            embedding: json.embedding,
            timings: json.timings,
            embeddings,
            word_embedder: None,
            monitor_baseline: json.monitor_baseline,
            doc_text_hashes,
            known: std::sync::OnceLock::new(),
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
