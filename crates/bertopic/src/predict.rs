//! Assigning documents to a fitted model's topics
//! ([`TopicModel::transform_embeddings_with`](crate::TopicModel::transform_embeddings_with)).
//!
//! Two steps, each document on its own:
//!
//! 1. **Known documents keep their topic.** A document whose embedding is bit-for-bit one of the
//!    training rows, or whose normalised text (whitespace runs collapsed, trimmed) hashes like a
//!    training document's, gets the topic and probability the fit gave that row. Python
//!    BERTopic only does this when the *whole* batch equals the training data (umap-learn's
//!    shortcut); here it is per document, so a batch mixing old and new documents keeps the old
//!    ones in place.
//! 2. **Other documents** follow the [`PredictStrategy`]: by default a similarity-weighted vote
//!    of their nearest training documents' fitted topics in the embedding space
//!    ([`PredictStrategy::Knn`]), or Python BERTopic's UMAP transform followed by HDBSCAN's
//!    approximate prediction ([`PredictStrategy::Umap`]).
//!
//! The text hashes are stored in the model: 8 bytes per training document (the first 8 bytes
//! of the SHA-256 of the normalised text) for at most [`MAX_TEXT_HASHES`] documents; rows past
//! that bound are recognised by their embedding only. The embeddings themselves are saved with
//! every model, so the embedding index is rebuilt from them when first needed. Models saved
//! before the text hashes existed load as before and match known documents by embedding only.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

use ndarray::{s, Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{BertopicError, Result};

/// Training documents whose text hash is kept in the model (8 bytes each, 32 MiB at most).
/// Beyond it, documents are recognised as known by their embedding only.
pub const MAX_TEXT_HASHES: usize = 1 << 22;

/// How [`TopicModel::transform`](crate::TopicModel::transform) assigns documents that are not
/// training documents (training documents always keep their fitted topic, see the
/// [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PredictStrategy {
    /// Similarity-weighted vote of the nearest training documents' fitted topics in the
    /// embedding space ([`KnnParams`]). A document next to a training document gets that
    /// document's topic, so small edits do not move it; cheaper than UMAP + HDBSCAN.
    #[default]
    Knn,
    /// UMAP transform, then HDBSCAN approximate prediction: Python BERTopic's `transform`.
    Umap,
}

impl PredictStrategy {
    /// The strategy's name as the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            PredictStrategy::Knn => "knn",
            PredictStrategy::Umap => "umap",
        }
    }
}

/// Settings of the [`PredictStrategy::Knn`] vote.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KnnParams {
    /// Training documents that vote (UMAP's default neighbourhood size).
    pub k: usize,
    /// Cosine similarity from which the nearest training document alone decides: a
    /// near-duplicate or lightly edited document takes its topic (and probability). Above 1
    /// the rule never applies.
    pub duplicate_similarity: f32,
    /// Neighbour weights are `exp((similarity - best similarity) / temperature)`: closer
    /// neighbours count more. Must be positive.
    pub temperature: f32,
    /// A document is an outlier (−1) when the winning topic's share of the vote (outlier
    /// neighbours included) is below this.
    pub min_share: f64,
}

impl Default for KnnParams {
    fn default() -> Self {
        KnnParams {
            k: 15,
            duplicate_similarity: 0.98,
            temperature: 0.05,
            min_share: 0.3,
        }
    }
}

impl KnnParams {
    /// Rejects settings the vote cannot use.
    pub fn validate(&self) -> Result<()> {
        if self.k == 0 {
            return Err(BertopicError::InvalidParams(
                "knn prediction needs k of at least 1".into(),
            ));
        }
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return Err(BertopicError::InvalidParams(format!(
                "knn temperature must be positive, got {}",
                self.temperature
            )));
        }
        if !(0.0..=1.0).contains(&self.min_share) {
            return Err(BertopicError::InvalidParams(format!(
                "knn min_share must lie in [0, 1], got {}",
                self.min_share
            )));
        }
        if !(self.duplicate_similarity.is_finite()) {
            return Err(BertopicError::InvalidParams(
                "knn duplicate_similarity must be finite".into(),
            ));
        }
        Ok(())
    }
}

/// Options of [`TopicModel::transform_embeddings_with`](crate::TopicModel::transform_embeddings_with).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PredictOptions {
    /// How documents that are not training documents are assigned.
    pub strategy: PredictStrategy,
    /// The [`PredictStrategy::Knn`] vote's settings.
    pub knn: KnnParams,
    /// Give training documents (same embedding or same normalised text) their fitted topic.
    pub keep_known: bool,
}

impl Default for PredictOptions {
    fn default() -> Self {
        PredictOptions {
            strategy: PredictStrategy::default(),
            knn: KnnParams::default(),
            keep_known: true,
        }
    }
}

impl PredictOptions {
    /// The defaults with another strategy.
    pub fn with_strategy(strategy: PredictStrategy) -> Self {
        PredictOptions {
            strategy,
            ..PredictOptions::default()
        }
    }
}

/// The stored hash of a document's text: whitespace runs collapsed and the ends trimmed, then
/// the first 8 bytes of its SHA-256 (little-endian). `None` for a blank text, which is never
/// matched (callers without texts pass empty strings).
pub(crate) fn text_hash(text: &str) -> Option<u64> {
    let mut h = Sha256::new();
    let mut any = false;
    for word in text.split_whitespace() {
        if any {
            h.update(b" ");
        }
        h.update(word.as_bytes());
        any = true;
    }
    if !any {
        return None;
    }
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    Some(u64::from_le_bytes(b))
}

/// Text hashes of the first [`MAX_TEXT_HASHES`] training documents (0 for a blank text).
pub(crate) fn training_text_hashes(docs: &[String]) -> Vec<u64> {
    docs[..docs.len().min(MAX_TEXT_HASHES)]
        .par_iter()
        .map(|d| text_hash(d).unwrap_or(0))
        .collect()
}

/// An in-memory hash of an embedding row's bits (not stored; matches are checked bit for bit).
fn row_hash(row: ndarray::ArrayView1<f32>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for v in row {
        v.to_bits().hash(&mut h);
    }
    h.finish()
}

/// What prediction looks up in the training data, built once per model when first needed.
pub(crate) struct KnownIndex {
    /// Embedding-bits hash → first training row with it.
    by_embedding: HashMap<u64, u32>,
    /// Stored text hash → first training row with it.
    by_text: HashMap<u64, u32>,
    /// 1 / L2 norm of each training embedding (0 for a zero row).
    pub(crate) inv_norms: Vec<f32>,
}

impl KnownIndex {
    pub(crate) fn build(embeddings: &Array2<f32>, text_hashes: &[u64]) -> KnownIndex {
        let hashes: Vec<u64> = (0..embeddings.nrows())
            .into_par_iter()
            .map(|i| row_hash(embeddings.row(i)))
            .collect();
        let mut by_embedding = HashMap::with_capacity(hashes.len());
        for (i, h) in hashes.into_iter().enumerate() {
            by_embedding.entry(h).or_insert(i as u32);
        }
        let mut by_text = HashMap::with_capacity(text_hashes.len());
        for (i, &h) in text_hashes.iter().enumerate() {
            if h != 0 {
                by_text.entry(h).or_insert(i as u32);
            }
        }
        let inv_norms = (0..embeddings.nrows())
            .into_par_iter()
            .map(|i| {
                let n = embeddings.row(i).dot(&embeddings.row(i)).sqrt();
                if n > 0.0 {
                    1.0 / n
                } else {
                    0.0
                }
            })
            .collect();
        KnownIndex {
            by_embedding,
            by_text,
            inv_norms,
        }
    }

    /// The training row this document is, by embedding bits first, then by text.
    pub(crate) fn find(
        &self,
        train: &Array2<f32>,
        row: ndarray::ArrayView1<f32>,
        text: &str,
    ) -> Option<usize> {
        if let Some(&j) = self.by_embedding.get(&row_hash(row)) {
            let j = j as usize;
            let same = train
                .row(j)
                .iter()
                .zip(row)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            if same {
                return Some(j);
            }
        }
        if self.by_text.is_empty() {
            return None;
        }
        text_hash(text).and_then(|h| self.by_text.get(&h).map(|&j| j as usize))
    }
}

/// Query rows per block of the k-NN product: fixed, so results do not depend on thread count.
const BLOCK: usize = 256;

/// The `k` most cosine-similar training rows of each query row, most similar first (ties by
/// row index), as (similarity, row).
pub(crate) fn nearest(
    train: &Array2<f32>,
    inv_norms: &[f32],
    queries: ArrayView2<f32>,
    k: usize,
) -> Vec<Vec<(f32, u32)>> {
    let k = k.min(train.nrows());
    let m = queries.nrows();
    let tt = train.t();
    let blocks: Vec<Vec<Vec<(f32, u32)>>> = (0..m.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| {
            let (r0, r1) = (b * BLOCK, ((b + 1) * BLOCK).min(m));
            let mut q = queries.slice(s![r0..r1, ..]).to_owned();
            for mut row in q.rows_mut() {
                let n = row.dot(&row).sqrt();
                if n > 0.0 {
                    row.mapv_inplace(|v| v / n);
                }
            }
            let sims = if q.nrows() < SMALL_BLOCK {
                // A matrix product packs the whole training matrix first, which costs more
                // than the few dot products themselves.
                small_block_dots(train, &q)
            } else {
                q.dot(&tt)
            };
            sims.rows()
                .into_iter()
                .map(|row| top_k(row, inv_norms, k))
                .collect()
        })
        .collect();
    blocks.into_iter().flatten().collect()
}

/// Query blocks smaller than this are multiplied row by row ([`small_block_dots`]).
const SMALL_BLOCK: usize = 8;
/// Training rows per task of [`small_block_dots`].
const CHUNK: usize = 1024;

/// `q · trainᵀ` one dot product at a time, the training rows split into fixed chunks over
/// threads: each value is computed the same way on any thread count.
fn small_block_dots(train: &Array2<f32>, q: &Array2<f32>) -> Array2<f32> {
    let n = train.nrows();
    let mut out = Array2::<f32>::zeros((q.nrows(), n));
    for (qrow, mut orow) in q.rows().into_iter().zip(out.rows_mut()) {
        let Some(o) = orow.as_slice_mut() else {
            unreachable!("a fresh array is contiguous")
        };
        o.par_chunks_mut(CHUNK).enumerate().for_each(|(c, chunk)| {
            for (v, j) in chunk.iter_mut().zip(c * CHUNK..) {
                *v = train.row(j).dot(&qrow);
            }
        });
    }
    out
}

fn top_k(row: ndarray::ArrayView1<f32>, inv_norms: &[f32], k: usize) -> Vec<(f32, u32)> {
    let mut best: Vec<(f32, u32)> = Vec::with_capacity(k + 1);
    let mut floor = f32::NEG_INFINITY;
    for (j, (&dot, &inv)) in row.iter().zip(inv_norms).enumerate() {
        let s = dot * inv;
        // Equal similarities keep the earlier row (inserted after its equals).
        if best.len() == k && s <= floor {
            continue;
        }
        let at = best.partition_point(|&(b, _)| b >= s);
        best.insert(at, (s, j as u32));
        if best.len() > k {
            best.pop();
        }
        if best.len() == k {
            floor = best[k - 1].0;
        }
    }
    best
}

/// The vote of one document's neighbours: (topic, probability).
pub(crate) fn vote(
    neighbours: &[(f32, u32)],
    doc_topics: &[i64],
    doc_probs: &[f64],
    p: &KnnParams,
) -> (i64, f64) {
    let Some(&(s1, j1)) = neighbours.first() else {
        return (-1, 0.0);
    };
    if s1 >= p.duplicate_similarity {
        let t = doc_topics[j1 as usize];
        return (t, if t >= 0 { doc_probs[j1 as usize] } else { 0.0 });
    }
    let mut scores: BTreeMap<i64, f64> = BTreeMap::new();
    let mut total = 0.0f64;
    for &(s, j) in neighbours {
        let w = f64::from((s - s1) / p.temperature).exp();
        *scores.entry(doc_topics[j as usize]).or_default() += w;
        total += w;
    }
    // Ascending ids with a strict comparison: ties go to the smaller topic id.
    let mut best: Option<(i64, f64)> = None;
    for (&t, &w) in scores.iter().filter(|(&t, _)| t >= 0) {
        if best.is_none_or(|(_, b)| w > b) {
            best = Some((t, w));
        }
    }
    match best {
        Some((t, w)) if total > 0.0 && w / total >= p.min_share => (t, w / total),
        _ => (-1, 0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_hash_ignores_whitespace_layout_and_skips_blank_text() {
        assert_eq!(text_hash("a  b\n c "), text_hash("a b c"));
        assert_ne!(text_hash("a b c"), text_hash("a b d"));
        assert_eq!(text_hash(" \t\n"), None);
    }

    #[test]
    fn top_k_keeps_the_most_similar_first_and_breaks_ties_by_row() {
        let row = ndarray::arr1(&[0.1f32, 0.9, 0.5, 0.9, -1.0]);
        let inv = [1.0f32; 5];
        assert_eq!(
            top_k(row.view(), &inv, 3),
            vec![(0.9, 1), (0.9, 3), (0.5, 2)]
        );
    }

    #[test]
    fn small_and_large_blocks_find_the_same_neighbours() {
        let train = Array2::from_shape_fn((3000, 16), |(i, j)| {
            ((i * 2_654_435_761 + j * 40_503) % 100_003) as f32 / 100_003.0 - 0.5
        });
        let inv: Vec<f32> = train
            .rows()
            .into_iter()
            .map(|r| 1.0 / r.dot(&r).sqrt())
            .collect();
        let queries = train.slice(s![..20, ..]).mapv(|v| v + 0.01);
        let batch = nearest(&train, &inv, queries.view(), 5);
        for (i, in_batch) in batch.iter().enumerate() {
            let one = nearest(&train, &inv, queries.slice(s![i..i + 1, ..]), 5);
            let ids = |l: &[(f32, u32)]| l.iter().map(|&(_, j)| j).collect::<Vec<_>>();
            assert_eq!(ids(&one[0]), ids(in_batch));
            for (a, b) in one[0].iter().zip(in_batch) {
                assert!((a.0 - b.0).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn vote_weights_close_neighbours_and_flags_weak_votes() {
        let topics = [0, 0, 1, 1, 1, -1];
        let probs = [1.0, 0.8, 0.9, 0.7, 0.6, 0.0];
        let p = KnnParams::default();
        // A near-duplicate takes its neighbour's topic and probability.
        assert_eq!(vote(&[(0.99, 1), (0.5, 2)], &topics, &probs, &p), (0, 0.8));
        // Two close topic-0 neighbours outweigh three farther topic-1 ones.
        let (t, share) = vote(
            &[(0.8, 0), (0.79, 1), (0.6, 2), (0.6, 3), (0.6, 4)],
            &topics,
            &probs,
            &p,
        );
        assert_eq!(t, 0);
        assert!(share > 0.9);
        // Mostly outlier neighbours: outlier.
        let weak = KnnParams {
            min_share: 0.6,
            ..p
        };
        assert_eq!(
            vote(&[(0.7, 5), (0.7, 5), (0.7, 0)], &topics, &probs, &weak),
            (-1, 0.0)
        );
    }
}
