//! Merging fitted models (BERTopic's `merge_models`): the first model is the base; each topic
//! of a later model whose topic embedding is less than `min_similarity` cosine-similar to every
//! topic of the merged set so far is appended as a new topic, every other topic maps onto its
//! most similar topic of that set.
//!
//! As in BERTopic, the comparison includes the outlier topics' embeddings (the mean embedding of
//! the outlier documents): a later topic whose closest match is the merged set's outlier topic
//! maps to −1. The similarities of one later model are all taken against the merged set as it
//! was before that model, so two new topics of one model are both added even when they resemble
//! each other.
//!
//! The merged model keeps the base model's topics (words, c-TF-IDF rows, representative
//! documents, labels) unchanged; sizes are recounted over the documents of all models. It holds
//! every input model's training documents (embeddings, text hashes), each with its mapped topic,
//! so the documents of any input model keep their topic when predicted. New documents are
//! assigned to the topic with the most similar topic embedding, as BERTopic does for merged
//! models: the base model's UMAP and HDBSCAN know nothing of the added topics. The merge is
//! recorded in the saved parameters ([`VariantParams::merged`](super::VariantParams::merged)),
//! which is how a loaded model knows to predict that way.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ndarray::{concatenate, Array2, ArrayView2, Axis};

use crate::error::{BertopicError, Result};
use crate::fs::{DirPolicy, DirWriter};
use crate::io::MODEL_FOLDER_FILES;
use crate::model::{cosine_matrix, Topic, TopicModel};
use crate::predict::MAX_TEXT_HASHES;
use crate::report;
use crate::represent::{word_label, CsrMatrix, TopicRepresentation};
use crate::stages::StageTimings;

pub use crate::variant_params::{MergeRecord, MergedInput};

/// BERTopic's default `min_similarity` for merging models.
pub const DEFAULT_MIN_SIMILARITY: f64 = 0.7;

/// A merged model and, per input model, where its topics went.
#[derive(Debug)]
pub struct Merged {
    /// The merged model.
    pub model: TopicModel,
    /// Per input model (same order), its topic ids → merged topic ids. The first is the
    /// identity; −1 always maps to −1.
    pub mappings: Vec<BTreeMap<i64, i64>>,
    /// Topics added by each input model (the first adds none: it is the base).
    pub added: Vec<Vec<i64>>,
}

impl TopicModel {
    /// Merges `models` as BERTopic's `merge_models` does (see [`crate::variants::merge`]):
    /// `models[0]` is the base; a later model's topic is added when its topic embedding's best
    /// cosine similarity with the merged set is below `min_similarity` (BERTopic's default:
    /// [`DEFAULT_MIN_SIMILARITY`]), otherwise it maps onto that most similar topic.
    ///
    /// The models must share their embedding model (same weights fingerprint when recorded,
    /// else the same `embedding_model` and dimension).
    pub fn merge(models: &[&TopicModel], min_similarity: f64) -> Result<Merged> {
        merge_models(models, min_similarity)
    }
}

/// Where one topic row of the merged model comes from.
#[derive(Clone, Copy)]
struct Source {
    model: usize,
    row: usize,
    id: i64,
}

/// See [`TopicModel::merge`].
pub fn merge_models(models: &[&TopicModel], min_similarity: f64) -> Result<Merged> {
    merge_named(models, min_similarity, &|i| format!("model {i} (0-based)"))
}

/// [`merge_models`], naming model `i` as `name(i)` in errors.
fn merge_named(
    models: &[&TopicModel],
    min_similarity: f64,
    name: &dyn Fn(usize) -> String,
) -> Result<Merged> {
    check_inputs(models, min_similarity, name)?;
    let base = models[0];

    // 1. Mapping, on topic embeddings only.
    let ids: Vec<Vec<i64>> = models
        .iter()
        .map(|m| m.topics.iter().map(|t| t.id).collect())
        .collect();
    let inputs: Vec<(&[i64], ArrayView2<f32>)> = ids
        .iter()
        .zip(models)
        .map(|(ids, m)| (ids.as_slice(), m.topic_embeddings.view()))
        .collect();
    let (mappings, added) = topic_mappings(&inputs, min_similarity);
    let mut sources: Vec<Source> = ids[0]
        .iter()
        .enumerate()
        .map(|(row, &id)| Source { model: 0, row, id })
        .collect();
    for (m, (mapping, new_ids)) in mappings.iter().zip(&added).enumerate().skip(1) {
        for (row, id) in ids[m].iter().enumerate() {
            if let Some(&to) = mapping.get(id).filter(|to| new_ids.contains(to)) {
                sources.push(Source {
                    model: m,
                    row,
                    id: to,
                });
            }
        }
    }

    // 2. Documents of every model, in model order, with their merged topics.
    let mut doc_topics = Vec::new();
    let mut doc_probs = Vec::new();
    let mut offsets = Vec::with_capacity(models.len());
    for (model, mapping) in models.iter().zip(&mappings) {
        offsets.push(doc_topics.len());
        doc_topics.extend(
            model
                .doc_topics
                .iter()
                .map(|t| mapping.get(t).copied().unwrap_or(-1)),
        );
        doc_probs.extend_from_slice(&model.doc_probs);
    }
    // Outlier documents from a later model need an outlier topic when the base has none.
    if !base.topics.iter().any(|t| t.id < 0) && doc_topics.contains(&-1) {
        let from = models.iter().enumerate().skip(1).find_map(|(m, model)| {
            let row = model.topics.iter().position(|t| t.id < 0)?;
            Some(Source {
                model: m,
                row,
                id: -1,
            })
        });
        if let Some(s) = from {
            sources.insert(0, s);
        }
    }
    let embeddings = concatenate(
        Axis(0),
        &models
            .iter()
            .map(|m| m.embeddings.view())
            .collect::<Vec<_>>(),
    )
    .map_err(|e| BertopicError::Mismatch(format!("cannot stack training embeddings: {e}")))?;
    let doc_text_hashes = if models
        .iter()
        .all(|m| m.doc_text_hashes.len() == m.doc_topics.len())
    {
        let mut h: Vec<u64> = models
            .iter()
            .flat_map(|m| m.doc_text_hashes.iter().copied())
            .collect();
        h.truncate(MAX_TEXT_HASHES);
        h
    } else {
        // One model has no (or capped) hashes: rows would no longer line up.
        Vec::new()
    };

    // 3. Topics, topic embeddings and the c-TF-IDF representation, row by row.
    let mut sizes: BTreeMap<i64, usize> = BTreeMap::new();
    for &t in &doc_topics {
        *sizes.entry(t).or_default() += 1;
    }
    let representation = merge_representation(models, &sources, &offsets, &sizes)?;
    let mut topic_embeddings = Array2::<f32>::zeros((sources.len(), embeddings.ncols()));
    let mut topics = Vec::with_capacity(sources.len());
    for (i, s) in sources.iter().enumerate() {
        let model = models[s.model];
        topic_embeddings
            .row_mut(i)
            .assign(&model.topic_embeddings.row(s.row));
        let t = &model.topics[s.row];
        let plain: Vec<String> = t.words.iter().map(|(w, _)| w.clone()).collect();
        topics.push(Topic {
            id: s.id,
            count: sizes.get(&s.id).copied().unwrap_or(0),
            // A topic added under a new id is named after it (BERTopic keeps the old prefix).
            name: if s.model == 0 {
                t.name.clone()
            } else {
                word_label(s.id, &plain)
            },
            ..t.clone()
        });
    }

    let mut params = base.params.clone().into_inner();
    params.variants.merged = Some(MergeRecord {
        min_similarity,
        inputs: models
            .iter()
            .zip(&mappings)
            .map(|(m, mapping)| MergedInput {
                n_documents: m.doc_topics.len(),
                mapping: mapping.clone(),
            })
            .collect(),
    });
    // The base's reduction and clustering are kept (copied through their saved state) so the
    // merged model saves like any other; prediction does not use them.
    let reducer = crate::loaders::copy_reducer(&*base.reducer)?;
    let clusterer = crate::loaders::copy_clusterer(&*base.clusterer)?;
    let model = TopicModel {
        params: params.check()?,
        reducer,
        clusterer,
        cluster_to_topic: base.cluster_to_topic.clone(),
        topics,
        representation,
        topic_embeddings,
        doc_topics,
        doc_probs,
        embedding: models.iter().find_map(|m| m.embedding.clone()),
        timings: StageTimings::default(),
        embeddings,
        word_embedder: base.word_embedder.clone(),
        // Drift baselines describe one training corpus, not the union.
        monitor_baseline: None,
        doc_text_hashes,
        known: OnceLock::new(),
        // A base stage that was not rebuilt stays a stand-in; prediction does not use it.
        stage_notice: base.stage_notice.clone(),
    };
    Ok(Merged {
        model,
        mappings,
        added,
    })
}

/// The mapping step of [`merge_models`] alone, on each model's topic ids and topic embeddings
/// (rows in id order, the outlier topic −1 included when the model has one): per model, its
/// topic ids → merged ids, and the ids each model added (see the [module docs](self)).
pub fn topic_mappings(
    models: &[(&[i64], ArrayView2<f32>)],
    min_similarity: f64,
) -> (Vec<BTreeMap<i64, i64>>, Vec<Vec<i64>>) {
    let Some(&(base_ids, base_emb)) = models.first() else {
        return (Vec::new(), Vec::new());
    };
    let mut merged_emb = base_emb.to_owned();
    let mut merged_ids: Vec<i64> = base_ids.to_vec();
    let mut base_map: BTreeMap<i64, i64> = base_ids.iter().map(|&t| (t, t)).collect();
    base_map.insert(-1, -1);
    let mut mappings = vec![base_map];
    let mut added = vec![Vec::new()];
    for &(ids, emb) in &models[1..] {
        // Against the merged set as it was before this model.
        let sims = cosine_matrix(emb, merged_emb.view());
        let mut next = merged_ids.iter().copied().max().unwrap_or(-1);
        let mut mapping = BTreeMap::from([(-1, -1)]);
        let mut new_rows = Vec::new();
        let mut new_ids = Vec::new();
        for (row, &id) in ids.iter().enumerate() {
            if id < 0 {
                continue;
            }
            // The first of equal maxima wins, as numpy's argmax.
            let (best, sim) = sims.row(row).iter().enumerate().fold(
                (0usize, f64::NEG_INFINITY),
                |acc, (j, &s)| if s > acc.1 { (j, s) } else { acc },
            );
            if sim >= min_similarity {
                mapping.insert(id, merged_ids[best]);
            } else {
                next += 1;
                mapping.insert(id, next);
                new_rows.push(row);
                new_ids.push(next);
            }
        }
        if !new_rows.is_empty() {
            let rows = emb.select(Axis(0), &new_rows);
            merged_emb = concatenate![Axis(0), merged_emb, rows];
            merged_ids.extend(&new_ids);
        }
        mappings.push(mapping);
        added.push(new_ids);
    }
    (mappings, added)
}

/// At least one model, a usable threshold, one embedding model, and topic rows that line up.
fn check_inputs(
    models: &[&TopicModel],
    min_similarity: f64,
    label: &dyn Fn(usize) -> String,
) -> Result<()> {
    let Some(base) = models.first() else {
        return Err(BertopicError::InvalidParams(
            "merging needs at least one model".into(),
        ));
    };
    if !min_similarity.is_finite() || !(-1.0..=1.0).contains(&min_similarity) {
        return Err(BertopicError::InvalidParams(format!(
            "min_similarity must be a cosine similarity in [-1, 1] (got {min_similarity}); \
             BERTopic's default is {DEFAULT_MIN_SIMILARITY}"
        )));
    }
    let name = |m: &TopicModel| match &m.embedding {
        Some(e) => format!("{} (fingerprint {})", e.model_id, e.fingerprint),
        None => m.params.embedding_model.clone(),
    };
    for (i, m) in models.iter().enumerate() {
        let same = match (&base.embedding, &m.embedding) {
            (Some(a), Some(b)) => a.fingerprint == b.fingerprint && a.dim == b.dim,
            _ => {
                base.params.embedding_model == m.params.embedding_model
                    && base.embeddings.ncols() == m.embeddings.ncols()
            }
        };
        if !same {
            return Err(BertopicError::EmbeddingModelMismatch {
                model: label(i),
                first: label(0),
                expected: name(base),
                found: name(m),
            });
        }
        let rows_match = m.topic_embeddings.nrows() == m.topics.len()
            && m.representation.topic_ids.len() == m.topics.len()
            && m.representation
                .topic_ids
                .iter()
                .zip(&m.topics)
                .all(|(&a, t)| a == t.id);
        if !rows_match {
            return Err(BertopicError::Mismatch(format!(
                "{} has {} topics but {} topic embeddings and {} c-TF-IDF rows in another \
                 order: refit or reload it before merging",
                label(i),
                m.topics.len(),
                m.topic_embeddings.nrows(),
                m.representation.topic_ids.len()
            )));
        }
    }
    Ok(())
}

/// The c-TF-IDF representation of the merged topics: the sorted union of the vocabularies the
/// rows use, each source row's columns moved into it. Base terms keep the base idf; a term
/// only an added topic uses takes the idf of the first model that brought it.
fn merge_representation(
    models: &[&TopicModel],
    sources: &[Source],
    offsets: &[usize],
    sizes: &BTreeMap<i64, usize>,
) -> Result<TopicRepresentation> {
    let base = &models[0].representation;
    let mut vocab: BTreeSet<&str> = base.vocabulary.iter().map(String::as_str).collect();
    for s in sources.iter().filter(|s| s.model != 0) {
        let r = &models[s.model].representation;
        let (cols, _) = r.counts.row(s.row);
        vocab.extend(cols.iter().map(|&c| r.vocabulary[c].as_str()));
        let (cols, _) = r.ctfidf.row(s.row);
        vocab.extend(cols.iter().map(|&c| r.vocabulary[c].as_str()));
    }
    let vocabulary: Vec<String> = vocab.iter().map(|s| s.to_string()).collect();
    let column: HashMap<&str, usize> = vocab.iter().enumerate().map(|(i, &w)| (w, i)).collect();
    let mut idf = vec![f64::NAN; vocabulary.len()];
    // Each contributing model once, base first (a model's vocabulary is long).
    let mut contributing: Vec<usize> = sources.iter().map(|s| s.model).collect();
    contributing.push(0);
    contributing.sort_unstable();
    contributing.dedup();
    for m in contributing {
        let r = &models[m].representation;
        for (w, &v) in r.vocabulary.iter().zip(&r.idf) {
            if let Some(&c) = column.get(w.as_str()) {
                if idf[c].is_nan() {
                    idf[c] = v;
                }
            }
        }
    }
    // Terms no source brought are not in the union, so every idf is set.
    let idf: Vec<f64> = idf
        .into_iter()
        .map(|v| if v.is_nan() { 0.0 } else { v })
        .collect();

    let mut counts = Csr::new(vocabulary.len());
    let mut ctfidf = Csr::new(vocabulary.len());
    let mut out = TopicRepresentation {
        vocabulary: Vec::new(),
        topic_ids: Vec::with_capacity(sources.len()),
        counts: CsrMatrix::default(),
        ctfidf: CsrMatrix::default(),
        idf,
        avg_nr_samples: base.avg_nr_samples,
        words: Vec::with_capacity(sources.len()),
        sizes: Vec::with_capacity(sources.len()),
        representative_docs: Vec::with_capacity(sources.len()),
        params: base.params.clone(),
    };
    for s in sources {
        let r = &models[s.model].representation;
        let remap = |c: usize| column[r.vocabulary[c].as_str()];
        counts.push(&r.counts, s.row, remap);
        ctfidf.push(&r.ctfidf, s.row, remap);
        out.topic_ids.push(s.id);
        out.words.push(r.words[s.row].clone());
        out.sizes.push(sizes.get(&s.id).copied().unwrap_or(0));
        out.representative_docs.push(
            r.representative_docs
                .get(s.row)
                .map(|d| d.iter().map(|&i| i + offsets[s.model]).collect())
                .unwrap_or_default(),
        );
    }
    out.vocabulary = vocabulary;
    out.counts = counts.finish();
    out.ctfidf = ctfidf.finish();
    out.check()?;
    Ok(out)
}

/// A CSR matrix built row by row.
struct Csr {
    m: CsrMatrix,
}

impl Csr {
    fn new(n_cols: usize) -> Csr {
        Csr {
            m: CsrMatrix {
                n_cols,
                ..CsrMatrix::default()
            },
        }
    }

    /// Appends row `row` of `from`, its columns renumbered by `remap` (kept sorted).
    fn push(&mut self, from: &CsrMatrix, row: usize, remap: impl Fn(usize) -> usize) {
        let (cols, vals) = from.row(row);
        let mut entries: Vec<(usize, f64)> = cols
            .iter()
            .map(|&c| remap(c))
            .zip(vals.iter().copied())
            .collect();
        entries.sort_by_key(|e| e.0);
        for (c, v) in entries {
            self.m.indices.push(c);
            self.m.values.push(v);
        }
        self.m.indptr.push(self.m.indices.len());
        self.m.n_rows += 1;
    }

    fn finish(self) -> CsrMatrix {
        self.m
    }
}

/// What [`merge_job`] did.
#[derive(Debug)]
pub struct MergeOutcome {
    /// The merged model (already saved).
    pub merged: Merged,
    /// The model folder written.
    pub output: PathBuf,
}

/// `bertopic merge`: loads the model folders, merges them in order and saves the merged model
/// with its `topic_info.csv` into `output`, under the same rules as `bertopic train` (the
/// folder is locked first, swapped in whole, and a folder holding files bertopic did not write
/// is refused unless `policy` allows them).
pub fn merge_job(
    inputs: &[PathBuf],
    min_similarity: f64,
    output: &Path,
    policy: DirPolicy,
) -> Result<MergeOutcome> {
    if inputs.is_empty() {
        return Err(BertopicError::InvalidParams(
            "merging needs at least one model folder".into(),
        ));
    }
    let out = DirWriter::begin(output, MODEL_FOLDER_FILES, policy)?;
    let models = inputs
        .iter()
        .map(|p| TopicModel::load(p))
        .collect::<Result<Vec<_>>>()?;
    let refs: Vec<&TopicModel> = models.iter().collect();
    let merged = merge_named(&refs, min_similarity, &|i| inputs[i].display().to_string())?;
    merged.model.save_into(&out)?;
    out.write(
        "topic_info.csv",
        &report::topic_info_csv(&merged.model.topic_info())?,
    )?;
    out.commit()?;
    Ok(MergeOutcome {
        merged,
        output: output.to_path_buf(),
    })
}
