//! Saving and loading a fitted model: a folder with `model.json` (config, topics, vocabulary,
//! provenance, checksums) and `model.safetensors` (every array). No opaque blobs.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cluster;
use crate::error::{BertopicError, Result};
use crate::model::{EmbeddingInfo, Topic, TopicModel};
use crate::params::BERTopicParams;
use crate::pipeline::StageTimings;
use crate::reduce;
use crate::represent::TopicRepresentation;

/// Version of the saved-model format. Bump on any incompatible change and keep a loader for
/// the older versions (or a clear error naming them).
pub const FORMAT_VERSION: u32 = 1;

const JSON: &str = "model.json";
const TENSORS: &str = "model.safetensors";

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
    params: BERTopicParams,
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
    /// Saves the model into folder `dir`, atomically: it is written beside `dir` and renamed
    /// into place, so a crash never leaves a half-written model.
    pub fn save(&self, dir: &Path) -> Result<()> {
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
        };
        // Compact: the representation's sparse matrices make up most of the file, and pretty
        // printing put one number per line (19 MB instead of 10 MB for 10k documents).
        let json = serde_json::to_vec(&json)
            .map_err(|e| format_err(dir, format!("cannot serialise model.json: {e}")))?;
        write_dir_atomically(dir, &[(JSON, &json), (TENSORS, &tensors)])
    }

    /// Loads a model saved by [`save`](Self::save), checking the format version and checksum.
    pub fn load(dir: &Path) -> Result<TopicModel> {
        let json_path = dir.join(JSON);
        let raw = fs::read(&json_path).map_err(|e| BertopicError::io(&json_path, e))?;
        let version: serde_json::Value = serde_json::from_slice(&raw)
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
        let t_path = dir.join(TENSORS);
        let bytes = fs::read(&t_path).map_err(|e| BertopicError::io(&t_path, e))?;
        let sha = hex(&Sha256::digest(&bytes));
        if sha != json.tensors_sha256 {
            return Err(format_err(
                dir,
                format!(
                    "model.safetensors is corrupted (sha256 {sha}, expected {}); restore it from a backup or retrain",
                    json.tensors_sha256
                ),
            ));
        }
        let st = SafeTensors::deserialize(&bytes)
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
        Ok(TopicModel {
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
        })
    }
}

fn format_err(dir: &Path, reason: String) -> BertopicError {
    BertopicError::ModelFormat {
        path: dir.to_path_buf(),
        reason,
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `files` into a fresh sibling folder, then swaps it into place with renames.
pub(crate) fn write_dir_atomically(dir: &Path, files: &[(&str, &[u8])]) -> Result<()> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| BertopicError::io(&parent, e))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| BertopicError::io(&tmp, e))?;
    }
    fs::create_dir_all(&tmp).map_err(|e| BertopicError::io(&tmp, e))?;
    for (file, bytes) in files {
        let p = tmp.join(file);
        fs::write(&p, bytes).map_err(|e| BertopicError::io(&p, e))?;
        fs::File::open(&p)
            .and_then(|f| f.sync_all())
            .map_err(|e| BertopicError::io(&p, e))?;
    }
    if dir.exists() {
        // Keep other files a user put in the folder (CSV reports) by moving ours in one by one
        // would not be atomic; instead swap the whole folder and carry foreign files over.
        for entry in fs::read_dir(dir).map_err(|e| BertopicError::io(dir, e))? {
            let entry = entry.map_err(|e| BertopicError::io(dir, e))?;
            let fname = entry.file_name();
            if files.iter().any(|(f, _)| fname == **f) {
                continue;
            }
            let dst = tmp.join(&fname);
            fs::rename(entry.path(), &dst).map_err(|e| BertopicError::io(entry.path(), e))?;
        }
        let old = parent.join(format!(".{name}.old-{}", std::process::id()));
        fs::rename(dir, &old).map_err(|e| BertopicError::io(dir, e))?;
        fs::rename(&tmp, dir).map_err(|e| BertopicError::io(dir, e))?;
        fs::remove_dir_all(&old).map_err(|e| BertopicError::io(&old, e))?;
    } else {
        fs::rename(&tmp, dir).map_err(|e| BertopicError::io(dir, e))?;
    }
    Ok(())
}
