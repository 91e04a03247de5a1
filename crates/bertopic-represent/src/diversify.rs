//! Maximal Marginal Relevance and KeyBERT-inspired re-ranking of topic words.

use std::collections::HashMap;
use std::fmt::Display;

use ndarray::{ArrayView1, ArrayView2};

use crate::model::call_embed;
use crate::{Embed, RepresentError};

/// Cosine similarity of two vectors, accumulated in `f64`; 0 when either is all zeros.
pub fn cosine(a: ArrayView1<'_, f32>, b: ArrayView1<'_, f32>) -> f64 {
    let (mut dot, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b.iter()) {
        let (x, y) = (f64::from(x), f64::from(y));
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na > 0.0 && nb > 0.0 {
        dot / (na.sqrt() * nb.sqrt())
    } else {
        0.0
    }
}

/// Maximal Marginal Relevance (KeyBERT / BERTopic): picks `top_n` of `words` that are similar
/// to `doc_embedding` yet dissimilar to each other. The first pick is the most similar word;
/// each next maximises `(1 − diversity)·sim(word, doc) − diversity·max sim(word, picked)`
/// (ties → earlier word). Returns the words in pick order.
pub fn mmr(
    doc_embedding: ArrayView1<'_, f32>,
    word_embeddings: ArrayView2<'_, f32>,
    words: &[String],
    top_n: usize,
    diversity: f32,
) -> Result<Vec<String>, RepresentError> {
    if word_embeddings.nrows() != words.len() {
        return Err(RepresentError::LengthMismatch {
            what: "word embeddings and words",
            left: word_embeddings.nrows(),
            right: words.len(),
        });
    }
    if !words.is_empty() && word_embeddings.ncols() != doc_embedding.len() {
        return Err(RepresentError::Shape(format!(
            "word embeddings have {} dimensions, the document embedding {}",
            word_embeddings.ncols(),
            doc_embedding.len()
        )));
    }
    if !(0.0..=1.0).contains(&diversity) {
        return Err(RepresentError::InvalidParams(format!(
            "mmr diversity must be in [0, 1] (got {diversity})"
        )));
    }
    let n = words.len();
    let k = top_n.min(n);
    if k == 0 {
        return Ok(Vec::new());
    }
    let d = f64::from(diversity);
    let to_doc: Vec<f64> = (0..n)
        .map(|i| cosine(word_embeddings.row(i), doc_embedding))
        .collect();
    let first = argmax(&to_doc);
    let mut picked = vec![first];
    // Highest similarity of each candidate to any picked word, updated incrementally.
    let mut max_sim: Vec<f64> = (0..n)
        .map(|i| cosine(word_embeddings.row(i), word_embeddings.row(first)))
        .collect();
    let mut taken = vec![false; n];
    taken[first] = true;
    while picked.len() < k {
        let mut best: Option<(usize, f64)> = None;
        for i in (0..n).filter(|&i| !taken[i]) {
            let score = (1.0 - d) * to_doc[i] - d * max_sim[i];
            if best.is_none_or(|(_, b)| score > b) {
                best = Some((i, score));
            }
        }
        let Some((next, _)) = best else { break };
        taken[next] = true;
        picked.push(next);
        for (i, m) in max_sim.iter_mut().enumerate() {
            *m = m.max(cosine(word_embeddings.row(i), word_embeddings.row(next)));
        }
    }
    Ok(picked.into_iter().map(|i| words[i].clone()).collect())
}

fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// KeyBERT-inspired re-ranking (BERTopic's `KeyBERTInspired`): for each topic, scores its
/// `candidates` by cosine similarity between their embeddings (from `embed`, called once on
/// all distinct candidates) and the topic's row of `topic_embeddings` (BERTopic: the mean
/// embedding of the topic's representative documents), and keeps the `top_n` best with that
/// similarity as weight, descending (ties → earlier candidate).
pub fn keybert_rerank<E: Display>(
    candidates: &[Vec<String>],
    topic_embeddings: ArrayView2<'_, f32>,
    embed: &Embed<'_, E>,
    top_n: usize,
) -> Result<Vec<Vec<(String, f64)>>, RepresentError> {
    if candidates.len() != topic_embeddings.nrows() {
        return Err(RepresentError::LengthMismatch {
            what: "candidate lists and topic embeddings",
            left: candidates.len(),
            right: topic_embeddings.nrows(),
        });
    }
    let mut unique: Vec<String> = candidates.iter().flatten().cloned().collect();
    unique.sort();
    unique.dedup();
    let emb = call_embed(embed, &unique)?;
    if !unique.is_empty() && emb.ncols() != topic_embeddings.ncols() {
        return Err(RepresentError::Shape(format!(
            "word embeddings have {} dimensions, topic embeddings {}",
            emb.ncols(),
            topic_embeddings.ncols()
        )));
    }
    let pos: HashMap<&str, usize> = unique
        .iter()
        .enumerate()
        .map(|(i, w)| (w.as_str(), i))
        .collect();
    Ok(candidates
        .iter()
        .enumerate()
        .map(|(t, cand)| {
            let mut scored: Vec<(usize, f64)> = cand
                .iter()
                .enumerate()
                .map(|(k, w)| (k, cosine(emb.row(pos[w.as_str()]), topic_embeddings.row(t))))
                .collect();
            scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let mut seen = std::collections::HashSet::new();
            scored
                .into_iter()
                .filter(|(k, _)| seen.insert(cand[*k].as_str()))
                .take(top_n)
                .map(|(k, s)| (cand[k].clone(), s))
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{arr1, arr2, Array2};

    #[test]
    fn mmr_zero_diversity_is_similarity_order() {
        let words: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let we = arr2(&[[1.0f32, 0.0], [0.9, 0.1], [0.0, 1.0]]);
        let doc = arr1(&[1.0f32, 0.0]);
        let r = mmr(doc.view(), we.view(), &words, 3, 0.0).unwrap();
        assert_eq!(r, vec!["a", "b", "c"]);
        // Full diversity: after "a", the orthogonal "c" beats the near-duplicate "b".
        let r = mmr(doc.view(), we.view(), &words, 2, 1.0).unwrap();
        assert_eq!(r, vec!["a", "c"]);
    }

    #[test]
    fn mmr_rejects_bad_shapes() {
        let words = vec!["a".to_string()];
        let we = arr2(&[[1.0f32, 0.0]]);
        assert!(mmr(arr1(&[1.0f32]).view(), we.view(), &words, 1, 0.5).is_err());
        assert!(mmr(arr1(&[1.0f32, 0.0]).view(), we.view(), &[], 1, 0.5).is_err());
        assert!(mmr(arr1(&[1.0f32, 0.0]).view(), we.view(), &words, 1, 2.0).is_err());
    }

    #[test]
    fn keybert_ranks_by_cosine() {
        let cands = vec![vec!["x".to_string(), "y".to_string()]];
        let topics = arr2(&[[0.0f32, 1.0]]);
        let embed = |ws: &[String]| -> Result<Array2<f32>, String> {
            Ok(Array2::from_shape_fn((ws.len(), 2), |(i, j)| {
                let y = ws[i] == "y";
                if (j == 1) == y {
                    1.0
                } else {
                    0.0
                }
            }))
        };
        let r = keybert_rerank(&cands, topics.view(), &embed, 2).unwrap();
        assert_eq!(r[0][0].0, "y");
        assert!((r[0][0].1 - 1.0).abs() < 1e-12);
        assert_eq!(r[0][1], ("x".to_string(), 0.0));
        let failing = |_: &[String]| -> Result<Array2<f32>, String> { Err("model missing".into()) };
        assert!(matches!(
            keybert_rerank(&cands, topics.view(), &failing, 2),
            Err(RepresentError::Embedding(_))
        ));
    }
}
