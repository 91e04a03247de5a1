//! Fitting a topic representation and using it on new documents.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Display;

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ctfidf::{self, top_terms, weigh_row};
use crate::terms::TermIndex;
use crate::vectorizer::{fit_counts, push_preprocessed, transform_counts, utf8, Counts};
use crate::{mmr, Analyzer, CsrMatrix, Embed, RepresentError, RepresentParams, TermStream};

/// A fitted topic representation: vocabulary, c-TF-IDF matrix (topics × terms), top words,
/// sizes and representative documents. Rows follow [`topic_ids`](Self::topic_ids).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TopicRepresentation {
    /// Terms in sklearn's order (sorted by code point).
    pub vocabulary: Vec<String>,
    /// Topic of each row, ascending (−1, the outliers, first when present).
    pub topic_ids: Vec<i64>,
    /// Term counts per topic (topics × vocabulary).
    pub counts: CsrMatrix,
    /// c-TF-IDF weights per topic (topics × vocabulary), not normalised (as BERTopic).
    pub ctfidf: CsrMatrix,
    /// idf of every vocabulary term.
    pub idf: Vec<f64>,
    /// `A`: mean number of terms per topic, truncated to an integer.
    pub avg_nr_samples: f64,
    /// Top words per topic with their weights, best first (ties by vocabulary order).
    pub words: Vec<Vec<(String, f64)>>,
    /// Number of documents per topic.
    pub sizes: Vec<usize>,
    /// Indices (into the fitted `docs`) of each topic's most representative documents, best first.
    pub representative_docs: Vec<Vec<usize>>,
    /// The settings used.
    pub params: RepresentParams,
}

/// Fits the representation of `docs` grouped by their topic `labels` (−1 = outliers, kept as a
/// topic of its own, as BERTopic does). `analyzer` turns a text into terms (sklearn's
/// `CountVectorizer` analyzer: tokens, stop words removed, n-grams).
///
/// Each topic's documents are joined with `" "`, cleaned as BERTopic does (see
/// [`preprocess_text`](crate::preprocess_text)) and counted; weights follow BERTopic's `ClassTfidfTransformer`.
pub fn fit(
    docs: &[String],
    labels: &[i64],
    analyzer: &Analyzer<'_>,
    params: &RepresentParams,
) -> Result<TopicRepresentation, RepresentError> {
    fit_with_embedder::<String>(docs, labels, analyzer, params, None)
}

/// [`fit`], then, when `params.mmr_diversity` is set, diversifies topic words with
/// [`TopicRepresentation::words_mmr`] using `embed` (texts → one embedding row each).
pub fn fit_with_embedder<E: Display>(
    docs: &[String],
    labels: &[i64],
    analyzer: &Analyzer<'_>,
    params: &RepresentParams,
    embed: Option<&Embed<'_, E>>,
) -> Result<TopicRepresentation, RepresentError> {
    fit_impl(docs, labels, &stream_of(analyzer), params, embed)
}

/// [`fit`] with a streaming analyzer: the same result bit for bit when `terms` passes the
/// terms `analyzer` would return, in the same order, but without a `String` per term (with
/// `bertopic-preprocess`: `&|s: &str, f: &mut dyn FnMut(&str)| tokenizer.for_each_term(s, f)`).
pub fn fit_streaming(
    docs: &[String],
    labels: &[i64],
    terms: &TermStream<'_>,
    params: &RepresentParams,
) -> Result<TopicRepresentation, RepresentError> {
    fit_impl::<String>(docs, labels, terms, params, None)
}

/// An [`Analyzer`] as a [`TermStream`].
fn stream_of<'a>(analyzer: &'a Analyzer<'_>) -> impl Fn(&str, &mut dyn FnMut(&str)) + Sync + 'a {
    move |s: &str, f: &mut dyn FnMut(&str)| analyzer(s).iter().for_each(|t| f(t))
}

fn fit_impl<E: Display>(
    docs: &[String],
    labels: &[i64],
    analyzer: &TermStream<'_>,
    params: &RepresentParams,
    embed: Option<&Embed<'_, E>>,
) -> Result<TopicRepresentation, RepresentError> {
    params.validate()?;
    if docs.len() != labels.len() {
        return Err(RepresentError::LengthMismatch {
            what: "documents and topic labels",
            left: docs.len(),
            right: labels.len(),
        });
    }
    if docs.is_empty() {
        return Err(RepresentError::NoDocuments);
    }
    if params.mmr_diversity.is_some() && embed.is_none() {
        return Err(RepresentError::InvalidParams(
            "mmr_diversity needs word embeddings: call fit_with_embedder with an embedder".into(),
        ));
    }
    // Group documents by topic, topics ascending, documents in input order.
    let mut groups: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, &l) in labels.iter().enumerate() {
        groups.entry(l).or_default().push(i);
    }
    let topic_ids: Vec<i64> = groups.keys().copied().collect();
    let members: Vec<Vec<usize>> = groups.into_values().collect();
    // Each topic's documents joined with " " and cleaned in one pass (cleaning is per
    // character, so cleaning the parts equals cleaning the joined text).
    let class_texts: Vec<String> = members
        .par_iter()
        .map(|m| {
            let len = m.iter().map(|&i| docs[i].len() + 1).sum();
            let mut joined = Vec::with_capacity(len);
            for (k, &i) in m.iter().enumerate() {
                if k > 0 {
                    joined.push(b' ');
                }
                push_preprocessed(&mut joined, &docs[i], params.strip_non_alphanumeric);
            }
            if joined.is_empty() {
                joined.extend_from_slice(b"emptydoc");
            }
            utf8(joined)
        })
        .collect();
    let counts = fit_counts(&class_texts, analyzer, &params.vectorizer)?;
    drop(class_texts);
    let sizes = members.iter().map(Vec::len).collect();
    let mut rep = weigh_counts(counts, topic_ids, sizes, params);
    rep.representative_docs =
        rep.representative_docs_of(docs, &members, analyzer, params.n_representative_docs);
    if let (Some(div), Some(embed)) = (params.mmr_diversity, embed) {
        rep.words = rep.words_mmr(embed, div)?;
    }
    Ok(rep)
}

/// c-TF-IDF weights and top words from class-term `counts` (rows follow `topic_ids`); the
/// representative documents are left empty (one empty list per topic). The single step after
/// counting, shared by [`fit`] and [`crate::ClassTermCounts::fit`] so both weigh identically.
pub(crate) fn weigh_counts(
    counts: Counts,
    topic_ids: Vec<i64>,
    sizes: Vec<usize>,
    params: &RepresentParams,
) -> TopicRepresentation {
    let rows: Vec<Vec<(usize, f64)>> = counts
        .rows
        .iter()
        .map(|r| r.iter().map(|&(i, c)| (i, c as f64)).collect())
        .collect();
    weigh_rows(counts.vocabulary, rows, topic_ids, sizes, params)
}

/// [`weigh_counts`] on real-valued counts (decayed online counts), rows sorted by term index.
pub(crate) fn weigh_rows(
    vocabulary: Vec<String>,
    rows: Vec<Vec<(usize, f64)>>,
    topic_ids: Vec<i64>,
    sizes: Vec<usize>,
    params: &RepresentParams,
) -> TopicRepresentation {
    let n_topics = topic_ids.len();
    let n_terms = vocabulary.len();
    let counts_csr = to_csr(&rows, n_terms);
    let mut totals = vec![0.0f64; n_terms];
    for r in &rows {
        for &(i, c) in r {
            totals[i] += c;
        }
    }
    let avg = ctfidf::avg_nr_samples(&counts_csr.row_sums());
    let idf = ctfidf::idf(&totals, avg, params.ctfidf.bm25_weighting);
    let weights: Vec<Vec<(usize, f64)>> = rows
        .iter()
        .map(|r| weigh_row(r, &idf, params.ctfidf.reduce_frequent_words))
        .collect();
    let ctfidf_csr = to_csr(&weights, n_terms);
    let mut rep = TopicRepresentation {
        vocabulary,
        topic_ids,
        counts: counts_csr,
        ctfidf: ctfidf_csr,
        idf,
        avg_nr_samples: avg,
        words: Vec::new(),
        sizes,
        representative_docs: vec![Vec::new(); n_topics],
        params: params.clone(),
    };
    rep.words = (0..rep.topic_ids.len())
        .map(|t| rep.top_words(t, params.top_n_words))
        .collect();
    rep
}

fn to_csr(rows: &[Vec<(usize, f64)>], n_cols: usize) -> CsrMatrix {
    let mut m = CsrMatrix {
        n_rows: rows.len(),
        n_cols,
        indptr: Vec::with_capacity(rows.len() + 1),
        indices: Vec::new(),
        values: Vec::new(),
    };
    m.indptr.push(0);
    for r in rows {
        for &(i, v) in r {
            m.indices.push(i);
            m.values.push(v);
        }
        m.indptr.push(m.indices.len());
    }
    m
}

/// Marks a term absent from the topic row in the dense position table.
const NOT_IN_ROW: usize = usize::MAX;

fn norm(v: &[(usize, f64)]) -> f64 {
    v.iter().map(|&(_, w)| w * w).sum::<f64>().sqrt()
}

impl TopicRepresentation {
    /// Checks that the parts fit together (useful after loading from disk).
    pub fn check(&self) -> Result<(), RepresentError> {
        self.counts.check()?;
        self.ctfidf.check()?;
        let n = self.topic_ids.len();
        let v = self.vocabulary.len();
        let ok = self.ctfidf.n_rows == n
            && self.counts.n_rows == n
            && self.ctfidf.n_cols == v
            && self.counts.n_cols == v
            && self.idf.len() == v
            && self.words.len() == n
            && self.sizes.len() == n
            && self.representative_docs.len() == n;
        if !ok {
            return Err(RepresentError::Corrupt(format!(
                "{n} topics and {v} terms, but matrices/idf/words/sizes/representative_docs disagree"
            )));
        }
        Ok(())
    }

    /// Row of `topic_id`, if present.
    pub fn topic_index(&self, topic_id: i64) -> Option<usize> {
        self.topic_ids.binary_search(&topic_id).ok()
    }

    /// The `n` best (term, weight) pairs of row `row` by c-TF-IDF weight.
    pub fn top_words(&self, row: usize, n: usize) -> Vec<(String, f64)> {
        let (idx, val) = self.ctfidf.row(row);
        top_terms(idx, val, n)
            .into_iter()
            .filter_map(|(i, w)| self.vocabulary.get(i).map(|t| (t.clone(), w)))
            .collect()
    }

    /// Term counts of new `texts` over the fitted vocabulary (sklearn's
    /// `CountVectorizer.transform`), one sparse row per text. With `clean`, each text is first
    /// cleaned as the fit cleaned its class documents ([`preprocess_text`](crate::preprocess_text)),
    /// which is what BERTopic's `_c_tf_idf(fit=False)` does for per-time or per-class documents.
    /// Weigh the rows with [`weigh_row`](crate::weigh_row) and [`idf`](Self::idf) for c-TF-IDF.
    pub fn transform_counts(
        &self,
        texts: &[String],
        terms: &TermStream<'_>,
        clean: bool,
    ) -> CsrMatrix {
        let index = self.term_index();
        let rows: Vec<Vec<(usize, f64)>> = texts
            .par_iter()
            .map(|t| {
                let cleaned;
                let text = if clean {
                    cleaned = crate::preprocess_text(t, self.params.strip_non_alphanumeric);
                    cleaned.as_str()
                } else {
                    t.as_str()
                };
                transform_counts(text, terms, &index)
                    .into_iter()
                    .map(|(i, c)| (i, c as f64))
                    .collect()
            })
            .collect();
        to_csr(&rows, self.vocabulary.len())
    }

    /// Dense c-TF-IDF matrix (topics × vocabulary).
    pub fn dense_ctfidf(&self) -> Array2<f64> {
        self.ctfidf.to_dense()
    }

    fn term_index(&self) -> TermIndex<'_> {
        TermIndex::new(&self.vocabulary)
    }

    /// c-TF-IDF vector of one text (raw text, as BERTopic's `transform` path: no cleaning).
    fn doc_vector(
        &self,
        text: &str,
        analyzer: &TermStream<'_>,
        index: &TermIndex<'_>,
    ) -> Vec<(usize, f64)> {
        let counts: Vec<(usize, f64)> = transform_counts(text, analyzer, index)
            .into_iter()
            .map(|(i, c)| (i, c as f64))
            .collect();
        weigh_row(&counts, &self.idf, self.params.ctfidf.reduce_frequent_words)
    }

    /// Cosine similarity (documents × topics, columns in [`topic_ids`](Self::topic_ids) order)
    /// between the c-TF-IDF vectors of `docs` and of each topic, as BERTopic's
    /// `reduce_outliers(strategy="c-tf-idf")`. Documents without known terms get 0.
    pub fn doc_topic_similarity(
        &self,
        docs: &[String],
        analyzer: &Analyzer<'_>,
    ) -> Result<Array2<f64>, RepresentError> {
        self.check()?;
        let n_topics = self.topic_ids.len();
        // Column-major copy so each document term visits only the topics that contain it.
        let mut by_term: Vec<Vec<(usize, f64)>> = vec![Vec::new(); self.vocabulary.len()];
        let mut topic_norm = vec![0.0; n_topics];
        for (t, tn) in topic_norm.iter_mut().enumerate() {
            let (idx, val) = self.ctfidf.row(t);
            for (&i, &w) in idx.iter().zip(val) {
                by_term[i].push((t, w));
            }
            *tn = val.iter().map(|w| w * w).sum::<f64>().sqrt();
        }
        let index = self.term_index();
        let analyzer = stream_of(analyzer);
        let rows: Vec<Vec<f64>> = docs
            .par_iter()
            .map(|d| {
                let v = self.doc_vector(d, &analyzer, &index);
                let dn = norm(&v);
                let mut dots = vec![0.0; n_topics];
                for &(i, w) in &v {
                    for &(t, tw) in &by_term[i] {
                        dots[t] += w * tw;
                    }
                }
                dots.iter()
                    .zip(&topic_norm)
                    .map(|(&d, &tn)| {
                        if dn > 0.0 && tn > 0.0 {
                            d / (dn * tn)
                        } else {
                            0.0
                        }
                    })
                    .collect()
            })
            .collect();
        let mut out = Array2::zeros((docs.len(), n_topics));
        for (r, row) in rows.iter().enumerate() {
            for (c, &v) in row.iter().enumerate() {
                out[[r, c]] = v;
            }
        }
        Ok(out)
    }

    /// Indices of the `n` documents of each topic whose c-TF-IDF vector is most similar
    /// (cosine) to the topic's, best first, ties by document order. BERTopic scores a random
    /// sample of up to 500 documents per topic; this scores all of them (deterministic).
    fn representative_docs_of(
        &self,
        docs: &[String],
        members: &[Vec<usize>],
        analyzer: &TermStream<'_>,
        n: usize,
    ) -> Vec<Vec<usize>> {
        if n == 0 {
            return vec![Vec::new(); members.len()];
        }
        let index = self.term_index();
        let topic_norm: Vec<f64> = (0..members.len())
            .map(|t| {
                self.ctfidf
                    .row(t)
                    .1
                    .iter()
                    .map(|w| w * w)
                    .sum::<f64>()
                    .sqrt()
            })
            .collect();
        // Scored in chunks of one topic's documents, not per topic: the outlier topic alone
        // can hold 40 % of the documents and would otherwise run on one thread. Within a chunk
        // the topic's row is spread into a dense term → position table, so each document term
        // is one load instead of a binary search. Same products summed in the same order.
        const CHUNK: usize = 64;
        let items: Vec<(usize, &[usize])> = members
            .iter()
            .enumerate()
            .flat_map(|(t, m)| m.chunks(CHUNK).map(move |c| (t, c)))
            .collect();
        let n_terms = self.vocabulary.len();
        let chunk_scores: Vec<Vec<f64>> = items
            .par_iter()
            .map_init(
                || vec![NOT_IN_ROW; n_terms],
                |pos, &(t, chunk)| {
                    let (idx, val) = self.ctfidf.row(t);
                    for (p, &i) in idx.iter().enumerate() {
                        if let Some(slot) = pos.get_mut(i) {
                            *slot = p;
                        }
                    }
                    let tn = topic_norm[t];
                    let out = chunk
                        .iter()
                        .map(|&d| {
                            let v = self.doc_vector(&docs[d], analyzer, &index);
                            let dn = norm(&v);
                            let dot: f64 = v
                                .iter()
                                .filter_map(|&(i, w)| match pos.get(i) {
                                    Some(&p) if p != NOT_IN_ROW => Some(w * val[p]),
                                    _ => None,
                                })
                                .sum();
                            if dn > 0.0 && tn > 0.0 {
                                dot / (dn * tn)
                            } else {
                                0.0
                            }
                        })
                        .collect();
                    for &i in idx {
                        if let Some(slot) = pos.get_mut(i) {
                            *slot = NOT_IN_ROW;
                        }
                    }
                    out
                },
            )
            .collect();
        let mut scores = vec![0.0f64; docs.len()];
        for (&(_, chunk), s) in items.iter().zip(&chunk_scores) {
            for (&d, &v) in chunk.iter().zip(s) {
                scores[d] = v;
            }
        }
        members
            .iter()
            .map(|m| {
                let mut scored: Vec<(usize, f64)> = m.iter().map(|&d| (d, scores[d])).collect();
                scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                scored.truncate(n);
                scored.into_iter().map(|(d, _)| d).collect()
            })
            .collect()
    }

    /// BERTopic's `MaximalMarginalRelevance`: per topic, takes the top max(30, top_n_words)
    /// c-TF-IDF words as candidates, embeds them and their space-joined string with `embed`,
    /// picks `top_n_words` with [`mmr`](crate::mmr()) and returns them in c-TF-IDF order.
    pub fn words_mmr<E: Display>(
        &self,
        embed: &Embed<'_, E>,
        diversity: f32,
    ) -> Result<Vec<Vec<(String, f64)>>, RepresentError> {
        if !(0.0..=1.0).contains(&diversity) {
            return Err(RepresentError::InvalidParams(format!(
                "mmr diversity must be in [0, 1] (got {diversity})"
            )));
        }
        let top_n = self.params.top_n_words.max(1);
        let candidates: Vec<Vec<(String, f64)>> = (0..self.topic_ids.len())
            .map(|t| self.top_words(t, top_n.max(30)))
            .collect();
        // One call for all distinct words and one for the topic strings: embedding is the cost.
        let mut unique: Vec<String> = candidates
            .iter()
            .flatten()
            .map(|(w, _)| w.clone())
            .collect();
        unique.sort();
        unique.dedup();
        let word_emb = call_embed(embed, &unique)?;
        let joined: Vec<String> = candidates
            .iter()
            .map(|c| {
                c.iter()
                    .map(|(w, _)| w.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let topic_emb = call_embed(embed, &joined)?;
        let pos: HashMap<&str, usize> = unique
            .iter()
            .enumerate()
            .map(|(i, w)| (w.as_str(), i))
            .collect();
        let mut out = Vec::with_capacity(candidates.len());
        for (t, cand) in candidates.iter().enumerate() {
            if cand.is_empty() {
                out.push(Vec::new());
                continue;
            }
            let words: Vec<String> = cand.iter().map(|(w, _)| w.clone()).collect();
            let rows: Vec<usize> = words.iter().map(|w| pos[w.as_str()]).collect();
            let we = word_emb.select(ndarray::Axis(0), &rows);
            let chosen = mmr(topic_emb.row(t), we.view(), &words, top_n, diversity)?;
            out.push(
                cand.iter()
                    .filter(|(w, _)| chosen.contains(w))
                    .cloned()
                    .collect(),
            );
        }
        Ok(out)
    }

    /// BERTopic's `KeyBERTInspired`: topic embedding = mean embedding of the topic's
    /// representative documents (rows of `doc_embeddings`, the fitted documents'
    /// embeddings); the top `nr_candidate_words` c-TF-IDF words are re-ranked by cosine
    /// similarity to it and the best `top_n_words` are returned with that similarity.
    pub fn keybert<E: Display>(
        &self,
        doc_embeddings: ArrayView2<'_, f32>,
        embed: &Embed<'_, E>,
        nr_candidate_words: usize,
    ) -> Result<Vec<Vec<(String, f64)>>, RepresentError> {
        self.check()?;
        let topic_emb = crate::topic_embeddings(self, doc_embeddings, usize::MAX)?;
        let candidates: Vec<Vec<String>> = (0..self.topic_ids.len())
            .map(|t| {
                self.top_words(t, nr_candidate_words)
                    .into_iter()
                    .map(|(w, _)| w)
                    .collect()
            })
            .collect();
        crate::keybert_rerank(
            &candidates,
            topic_emb.view(),
            embed,
            self.params.top_n_words,
        )
    }
}

pub(crate) fn call_embed<E: Display>(
    embed: &Embed<'_, E>,
    texts: &[String],
) -> Result<Array2<f32>, RepresentError> {
    if texts.is_empty() {
        return Ok(Array2::zeros((0, 0)));
    }
    let e = embed(texts).map_err(|e| RepresentError::Embedding(e.to_string()))?;
    if e.nrows() != texts.len() {
        return Err(RepresentError::Embedding(format!(
            "the embedder returned {} rows for {} texts",
            e.nrows(),
            texts.len()
        )));
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Representative-document scores computed the plain way: per document, cosine between its
    /// c-TF-IDF vector and its topic's row found by binary search.
    fn reference_representative(
        rep: &TopicRepresentation,
        docs: &[String],
        members: &[Vec<usize>],
        analyzer: &TermStream<'_>,
        n: usize,
    ) -> Vec<Vec<usize>> {
        let index = rep.term_index();
        members
            .iter()
            .enumerate()
            .map(|(t, m)| {
                let (idx, val) = rep.ctfidf.row(t);
                let tn = val.iter().map(|w| w * w).sum::<f64>().sqrt();
                let mut scored: Vec<(usize, f64)> = m
                    .iter()
                    .map(|&d| {
                        let v = rep.doc_vector(&docs[d], analyzer, &index);
                        let dn = norm(&v);
                        let dot: f64 = v
                            .iter()
                            .filter_map(|&(i, w)| idx.binary_search(&i).ok().map(|p| w * val[p]))
                            .sum();
                        let s = if dn > 0.0 && tn > 0.0 {
                            dot / (dn * tn)
                        } else {
                            0.0
                        };
                        (d, s)
                    })
                    .collect();
                scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                scored.into_iter().take(n).map(|(d, _)| d).collect()
            })
            .collect()
    }

    #[test]
    fn representative_docs_match_binary_search_reference() {
        // A deterministic corpus: 600 documents over a 300-word vocabulary, 7 topics (one large).
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut docs = Vec::new();
        let mut labels = Vec::new();
        for _ in 0..600 {
            let n = 1 + (next() % 25) as usize;
            let words: Vec<String> = (0..n).map(|_| format!("w{}", next() % 300)).collect();
            docs.push(words.join(" "));
            let l = next() % 10;
            labels.push(if l < 4 { -1 } else { l as i64 - 4 });
        }
        docs.push("unseen words only".into());
        labels.push(2);
        let analyzer = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        let params = RepresentParams {
            n_representative_docs: 5,
            ..RepresentParams::default()
        };
        let rep = fit(&docs, &labels, &analyzer, &params).unwrap();
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); rep.topic_ids.len()];
        for (d, l) in labels.iter().enumerate() {
            members[rep.topic_index(*l).unwrap()].push(d);
        }
        let want = reference_representative(&rep, &docs, &members, &stream_of(&analyzer), 5);
        assert_eq!(rep.representative_docs, want);
        let streamed = |s: &str, f: &mut dyn FnMut(&str)| s.split_whitespace().for_each(f);
        assert_eq!(
            fit_streaming(&docs, &labels, &streamed, &params).unwrap(),
            rep
        );
    }
}
