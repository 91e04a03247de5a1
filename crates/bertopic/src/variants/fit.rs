//! The fit of the variants: guided nudging, target-supervised reduction, zero-shot assignment,
//! supervised topics, and the model built from the resulting assignment.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use ndarray::{Array2, Axis};

use crate::cluster::FittedKMeans;
use crate::cluster::{Clusterer, FittedClusterer};
use crate::embed::Embedder;
use crate::error::{BertopicError, Result};
use crate::model::{order_by_size, EmbeddingInfo, TopicModel};
use crate::params::CheckedParams;
use crate::predict;
use crate::reduce::{FittedReducer, Pca, PcaParams, Reducer};
use crate::stages::{load_embedder, StageTimings};

use super::{guided, zeroshot};

/// The stages and inputs of one variant fit.
pub(crate) struct VariantFit<'a> {
    pub params: &'a CheckedParams,
    pub reducer: &'a dyn Reducer,
    pub clusterer: &'a dyn Clusterer,
    pub docs: &'a [String],
    pub embeddings: Array2<f32>,
    pub embedder: Option<Arc<dyn Embedder>>,
    /// One label per document (−1 = unknown), for supervised and semi-supervised fits.
    pub labels: Option<&'a [i64]>,
}

/// Fits a model with the variants of `f.params.variants` and the optional labels.
pub(crate) fn fit_variants(f: VariantFit<'_>) -> Result<TopicModel> {
    let p = f.params;
    let v = &p.variants;
    if let Some(y) = f.labels {
        check_labels(y, f.docs.len())?;
        if !v.seed_topic_list.is_empty() {
            // BERTopic silently replaces the labels by the seed labels; refusing is clearer.
            return Err(BertopicError::InvalidParams(
                "labels and seed_topic_list cannot be combined: guided modelling labels the \
                 documents itself; drop one of them"
                    .into(),
            ));
        }
    }
    let needs_embedder = !v.zeroshot_topic_list.is_empty() || !v.seed_topic_list.is_empty();
    let text_embedder = match (&f.embedder, needs_embedder) {
        (Some(e), true) => Some(Arc::clone(e)),
        (None, true) => Some(load_embedder(&p.embedding_model, false).map_err(|e| {
            BertopicError::NoEmbedder(format!(
                "zero-shot and guided topics embed the topic names / seed words, but the \
                 embedding model `{}` could not be loaded ({e}); give an embedder to the builder",
                p.embedding_model
            ))
        })?),
        _ => None,
    };
    let embed_names = |names: &[String]| -> Result<Array2<f32>> {
        let e = text_embedder
            .as_ref()
            .ok_or_else(|| BertopicError::NoEmbedder("no embedder for topic names".into()))?;
        if e.dim() != f.embeddings.ncols() {
            return Err(BertopicError::Mismatch(format!(
                "topic names are embedded with {} ({} dimensions) but the documents have {} \
                 dimensions: embed the documents with the same model",
                e.model_id(),
                e.dim(),
                f.embeddings.ncols()
            )));
        }
        Ok(e.embed(names)?)
    };

    let mut timings = StageTimings::default();
    // Supervised: every label known, so the labels are the topics and nothing is clustered.
    if let Some(y) = f.labels.filter(|y| y.iter().all(|&l| l >= 0)) {
        if !v.zeroshot_topic_list.is_empty() {
            // BERTopic would hand the full label list to the clusterer of the unclaimed
            // documents only (lengths differ); with every label known there is nothing left
            // for zero-shot names to decide.
            return Err(BertopicError::InvalidParams(
                "every document has a label (a supervised fit: the labels are the topics), so \
                 zero-shot topics have nothing to assign: drop the zero-shot topics, or mark \
                 unknown labels (-1) for a semi-supervised fit"
                    .into(),
            ));
        }
        let t = Instant::now();
        let (reducer, reduced) = Pca::new(PcaParams {
            n_components: p
                .umap
                .n_components
                .min(f.embeddings.ncols().saturating_sub(1)),
            seed: p.seed,
        })?
        .fit(f.embeddings.view())?;
        timings.reduce_s = t.elapsed().as_secs_f64();
        let order = order_by_size(y);
        let topics: Vec<i64> = y.iter().map(|l| order[l]).collect();
        let probs = vec![1.0; topics.len()];
        return build(
            p,
            f.docs,
            f.embeddings,
            reducer,
            &reduced,
            topics,
            probs,
            f.embedder,
            BTreeMap::new(),
            timings,
        );
    }

    let mut work = f.embeddings.clone();
    let mut target: Option<Vec<i64>> = f.labels.map(<[i64]>::to_vec);
    if !v.seed_topic_list.is_empty() {
        let joined: Vec<String> = v.seed_topic_list.iter().map(|s| s.join(" ")).collect();
        let seeds = embed_names(&joined)?;
        target = Some(guided::nudge(&mut work, &seeds));
    }
    let t = Instant::now();
    let (reducer, reduced) = match &target {
        Some(y) => f.reducer.fit_with_target(work.view(), y)?,
        None => f.reducer.fit(work.view())?,
    };
    timings.reduce_s = t.elapsed().as_secs_f64();
    let reduced64 = reduced.mapv(f64::from);

    // Zero-shot step 1 (BERTopic's `_zeroshot_topic_modeling`): each document's most similar
    // name, kept when it reaches the threshold; on the (guided) embeddings, as BERTopic.
    let assigned = if v.zeroshot_topic_list.is_empty() {
        Vec::new()
    } else {
        let names = embed_names(&v.zeroshot_topic_list)?;
        zeroshot::assign(&work, &names, v.zeroshot_min_similarity)
    };
    let rest: Vec<usize> = (0..work.nrows())
        .filter(|&i| assigned.get(i).is_none_or(Option::is_none))
        .collect();
    // BERTopic clusters the reducer's `transform` of the documents no name claimed, not their
    // rows of the fitted embedding (the same for PCA; for UMAP, transform re-places them
    // against the fitted graph). It does so even when no name claimed anything.
    let reduced_rest = if assigned.is_empty() {
        reduced64
    } else {
        reducer
            .transform(work.select(Axis(0), &rest).view())?
            .mapv(f64::from)
    };

    let t = Instant::now();
    if rest.len() == work.nrows() {
        // Nothing assigned (or no names): nothing to combine, so, as BERTopic, the clusterer's
        // topics by size with its probabilities: the default fit.
        let clusterer = f.clusterer.fit(reduced_rest.view())?;
        timings.cluster_s = t.elapsed().as_secs_f64();
        let mut model = TopicModel::assemble(
            p.clone(),
            f.docs,
            f.embeddings,
            reducer,
            clusterer,
            f.embedder,
        )?;
        model.timings = StageTimings {
            represent_s: model.timings.represent_s,
            ..timings
        };
        return Ok(model);
    }

    // Zero-shot step 2 (`_combine_zeroshot_topics`): the names used, in list order, are topics
    // 0..; the clusters of the other documents follow. BERTopic leaves those in the
    // clusterer's label order (its frequency sort skips zero-shot fits); ours numbers them by
    // size, as every other fit, so ids say the same thing everywhere.
    let used: Vec<usize> = {
        let mut u: Vec<usize> = assigned.iter().flatten().copied().collect();
        u.sort_unstable();
        u.dedup();
        u
    };
    let zs_id: BTreeMap<usize, i64> = used
        .iter()
        .enumerate()
        .map(|(new, &old)| (old, new as i64))
        .collect();
    let mut topics: Vec<i64> = assigned
        .iter()
        .map(|a| a.map_or(-1, |k| zs_id[&k]))
        .collect();
    let n_zs = used.len() as i64;
    // Too few leftovers for a cluster of min_topic_size: they stay outliers.
    if rest.len() > p.min_topic_size {
        let fitted = f.clusterer.fit(reduced_rest.view())?;
        let order = order_by_size(fitted.labels());
        for (&i, l) in rest.iter().zip(fitted.labels()) {
            let t = order.get(l).copied().unwrap_or(-1);
            topics[i] = if t >= 0 { t + n_zs } else { -1 };
        }
    }
    timings.cluster_s = t.elapsed().as_secs_f64();
    let labels: BTreeMap<i64, String> = zs_id
        .iter()
        .map(|(&k, &id)| (id, v.zeroshot_topic_list[k].clone()))
        .collect();
    let probs = vec![1.0; topics.len()];
    let mut model = build(
        p,
        f.docs,
        f.embeddings,
        reducer,
        &reduced,
        topics,
        probs,
        f.embedder,
        labels,
        timings,
    )?;
    // As BERTopic: the probability of a zero-shot model is the document's best cosine
    // similarity with a topic embedding, the outlier topic's included (clamped to [0, 1], the
    // model's probability range).
    if model.topic_embeddings.nrows() > 0 {
        let sims =
            crate::model::cosine_matrix(model.embeddings.view(), model.topic_embeddings.view());
        model.doc_probs = sims
            .rows()
            .into_iter()
            .map(|r| r.iter().copied().fold(0.0f64, f64::max).clamp(0.0, 1.0))
            .collect();
    }
    Ok(model)
}

/// Labels must be one per document, each −1 (unknown) or a class id ≥ 0.
fn check_labels(y: &[i64], n: usize) -> Result<()> {
    if y.len() != n {
        return Err(BertopicError::Mismatch(format!(
            "{} labels for {n} documents: give one label per document (-1 = unknown)",
            y.len()
        )));
    }
    if let Some(i) = y.iter().position(|&l| l < -1) {
        return Err(BertopicError::InvalidParams(format!(
            "label of document {i} (0-based) is {}: labels are class ids >= 0, or -1 for unknown",
            y[i]
        )));
    }
    Ok(())
}

/// A model from a finished assignment of documents to topics (ids 0.., −1 = outlier). The
/// saved clusterer is a nearest-centroid model of the topics in the reduced space, so
/// `PredictStrategy::Umap` still places new documents.
#[allow(clippy::too_many_arguments)]
pub(crate) fn build(
    params: &CheckedParams,
    docs: &[String],
    embeddings: Array2<f32>,
    reducer: Box<dyn FittedReducer>,
    reduced: &Array2<f32>,
    topics: Vec<i64>,
    probs: Vec<f64>,
    embedder: Option<Arc<dyn Embedder>>,
    custom_labels: BTreeMap<i64, String>,
    timings: StageTimings,
) -> Result<TopicModel> {
    let k = topics.iter().copied().max().unwrap_or(-1) + 1;
    let clusterer: Box<dyn FittedClusterer> = Box::new(FittedKMeans::from_groups(
        reduced.mapv(f64::from).view(),
        &topics,
        k.max(1) as usize,
    )?);
    let cluster_to_topic: BTreeMap<i64, i64> = (-1..k).map(|t| (t, t)).collect();
    let embedding = embedder.as_ref().map(|e| EmbeddingInfo {
        model_id: e.model_id(),
        fingerprint: e.fingerprint(),
        dim: e.dim(),
    });
    let mut model = TopicModel {
        params: params.clone(),
        reducer,
        clusterer,
        cluster_to_topic,
        topics: Vec::new(),
        representation: Default::default(),
        topic_embeddings: Array2::zeros((0, embeddings.ncols())),
        doc_topics: topics,
        doc_probs: probs,
        embedding,
        timings,
        embeddings,
        word_embedder: embedder,
        monitor_baseline: None,
        doc_text_hashes: predict::training_text_hashes(docs),
        known: OnceLock::new(),
        stage_notice: None,
    };
    model.refresh_topics(docs)?;
    // Named topics (zero-shot names) keep their name as label, as BERTopic's custom labels.
    for t in &mut model.topics {
        if let Some(name) = custom_labels.get(&t.id) {
            t.label = Some(name.clone());
        }
    }
    Ok(model)
}
