//! BERTopic's analysis toolkit on a fitted [`TopicModel`]: topics over time,
//! topics per class, the topic hierarchy and its text tree, topic search, approximate topic
//! distributions per document (and per token), the topic similarity matrix and user labels.
//!
//! Each is a method of the fitted model, computed from its c-TF-IDF representation (vocabulary,
//! idf, per-topic rows) or its topic embeddings, as BERTopic 0.17 computes them; each result
//! type can be written as CSV (BERTopic's column names) or serialised to JSON. The methods that
//! need the training documents take them (the model keeps no texts) and check that they are
//! the training corpus.

mod corpus;
mod distribution;
mod hierarchy;
mod labels;
mod over_time;
mod per_class;
mod search;
mod similarity;
mod time;

use std::collections::BTreeMap;

pub use corpus::{corpus_classes, corpus_timestamps};
pub use distribution::{
    distribution_csv, DistributionParams, TokenDistribution, TopicDistribution,
};
pub use hierarchy::{HierarchyNode, TopicHierarchy};
pub use over_time::{over_time_csv, OverTimeParams, TopicTimeRow};
pub use per_class::{per_class_csv, TopicClassRow};
pub use search::{search_csv, TopicMatch};
pub use similarity::{SimilarityBasis, TopicSimilarity};
pub use time::Timestamp;

use crate::error::{BertopicError, Result};
use crate::preprocess::Tokenizer;
use crate::represent;
use crate::TopicModel;

/// Number of words BERTopic joins into the `Words` column of its over-time and per-class tables.
pub const WORDS_IN_TABLES: usize = 5;

/// A sparse row: (vocabulary index, weight), indices ascending.
type Row = Vec<(usize, f64)>;

impl TopicModel {
    /// The topic of each document: `topics` when given, else the training assignment; checks
    /// lengths and that every topic exists in the model.
    pub(crate) fn analysis_topics<'a>(
        &'a self,
        what: &str,
        docs: &[String],
        topics: Option<&'a [i64]>,
    ) -> Result<&'a [i64]> {
        if docs.is_empty() {
            return Err(BertopicError::InvalidParams(format!(
                "{what} needs at least one document"
            )));
        }
        let topics = match topics {
            Some(t) => t,
            None => {
                self.check_training_docs(what, docs)?;
                &self.doc_topics
            }
        };
        if topics.len() != docs.len() {
            return Err(BertopicError::Mismatch(format!(
                "{what}: {} documents but {} topics",
                docs.len(),
                topics.len()
            )));
        }
        for &t in topics {
            if self.representation.topic_index(t).is_none() {
                return Err(BertopicError::UnknownTopic(t));
            }
        }
        Ok(topics)
    }

    /// The pipeline's tokenizer (stop words, n-grams) as built at fit time.
    pub(crate) fn term_tokenizer(&self) -> Result<Tokenizer> {
        Ok(Tokenizer::new(self.params.tokenizer_config())?)
    }

    /// c-TF-IDF rows of groups of documents, with the fitted vocabulary and idf: each group's
    /// documents are joined with a space, cleaned and counted, as BERTopic's
    /// `_c_tf_idf(documents_per_topic, fit=False)`.
    pub(crate) fn local_ctfidf(&self, docs: &[String], groups: &[Vec<usize>]) -> Result<Vec<Row>> {
        let tokenizer = self.term_tokenizer()?;
        let stream = |s: &str, f: &mut dyn FnMut(&str)| tokenizer.for_each_term(s, f);
        let joined: Vec<String> = groups
            .iter()
            .map(|g| {
                g.iter()
                    .map(|&i| docs[i].as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let counts = self.representation.transform_counts(&joined, &stream, true);
        Ok((0..counts.n_rows)
            .map(|r| self.weigh(counts.row(r)))
            .collect())
    }

    /// c-TF-IDF weights of one row of counts with the fitted idf.
    pub(crate) fn weigh(&self, (idx, val): (&[usize], &[f64])) -> Row {
        let counts: Row = idx.iter().copied().zip(val.iter().copied()).collect();
        represent::weigh_row(
            &counts,
            &self.representation.idf,
            self.representation.params.ctfidf.reduce_frequent_words,
        )
    }

    /// The model's c-TF-IDF row of `topic`, L1-normalised (BERTopic's `global_c_tf_idf`).
    pub(crate) fn global_row_l1(&self, topic: i64) -> Result<Row> {
        let r = self
            .representation
            .topic_index(topic)
            .ok_or(BertopicError::UnknownTopic(topic))?;
        let (idx, val) = self.representation.ctfidf.row(r);
        Ok(l1(idx.iter().copied().zip(val.iter().copied()).collect()))
    }

    /// The `n` best words of a sparse row (weight descending, ties by vocabulary order).
    pub(crate) fn row_words(&self, row: &Row, n: usize) -> Vec<(String, f64)> {
        let idx: Vec<usize> = row.iter().map(|&(i, _)| i).collect();
        let val: Vec<f64> = row.iter().map(|&(_, v)| v).collect();
        represent::top_terms(&idx, &val, n)
            .into_iter()
            .filter_map(|(i, w)| {
                self.representation
                    .vocabulary
                    .get(i)
                    .map(|t| (t.clone(), w))
            })
            .collect()
    }
}

/// Documents grouped by topic (topics ascending, documents in input order), over `selection`.
pub(crate) fn group_by_topic(topics: &[i64], selection: &[usize]) -> BTreeMap<i64, Vec<usize>> {
    let mut groups: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for &d in selection {
        groups.entry(topics[d]).or_default().push(d);
    }
    groups
}

/// Row divided by the sum of absolute values (sklearn's `normalize(norm="l1")`; zero stays zero).
pub(crate) fn l1(mut row: Row) -> Row {
    let s: f64 = row.iter().map(|(_, v)| v.abs()).sum();
    if s > 0.0 {
        for (_, v) in &mut row {
            *v /= s;
        }
    }
    row
}

/// `(a + b) / 2` of two sparse rows.
pub(crate) fn average(a: &Row, b: &Row) -> Row {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(&(ia, va)), Some(&(ib, vb))) if ia == ib => {
                out.push((ia, (va + vb) / 2.0));
                i += 1;
                j += 1;
            }
            (Some(&(ia, va)), Some(&(ib, _))) if ia < ib => {
                out.push((ia, va / 2.0));
                i += 1;
            }
            (Some(&(ia, va)), None) => {
                out.push((ia, va / 2.0));
                i += 1;
            }
            (_, Some(&(ib, vb))) => {
                out.push((ib, vb / 2.0));
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

/// Cosine similarity of two sparse rows (0 when either is all zero).
pub(crate) fn sparse_cosine(a: (&[usize], &[f64]), b: (&[usize], &[f64])) -> f64 {
    let (mut i, mut j, mut dot) = (0, 0, 0.0);
    while i < a.0.len() && j < b.0.len() {
        match a.0[i].cmp(&b.0[j]) {
            std::cmp::Ordering::Equal => {
                dot += a.1[i] * b.1[j];
                i += 1;
                j += 1;
            }
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
        }
    }
    let na = a.1.iter().map(|v| v * v).sum::<f64>().sqrt();
    let nb = b.1.iter().map(|v| v * v).sum::<f64>().sqrt();
    if na > 0.0 && nb > 0.0 {
        dot / (na * nb)
    } else {
        0.0
    }
}

/// CSV bytes of a header and rows.
pub(crate) fn csv_bytes(
    header: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).map_err(BertopicError::Csv)?;
    for r in rows {
        w.write_record(&r).map_err(BertopicError::Csv)?;
    }
    w.into_inner()
        .map_err(|e| BertopicError::Csv(csv::Error::from(e.into_error())))
}

/// The first [`WORDS_IN_TABLES`] words joined by `", "`, BERTopic's `Words` column.
pub fn words_column(words: &[(String, f64)]) -> String {
    words
        .iter()
        .take(WORDS_IN_TABLES)
        .map(|(w, _)| w.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_merges_sparse_rows() {
        let a = vec![(0, 1.0), (2, 2.0)];
        let b = vec![(1, 4.0), (2, 2.0), (5, 1.0)];
        assert_eq!(
            average(&a, &b),
            vec![(0, 0.5), (1, 2.0), (2, 2.0), (5, 0.5)]
        );
        assert_eq!(l1(vec![(0, 1.0), (3, 3.0)]), vec![(0, 0.25), (3, 0.75)]);
        assert_eq!(l1(vec![(0, 0.0)]), vec![(0, 0.0)]);
    }

    #[test]
    fn sparse_cosine_matches_dense() {
        let c = sparse_cosine((&[0, 2], &[1.0, 1.0]), (&[1, 2], &[1.0, 1.0]));
        assert!((c - 0.5).abs() < 1e-15);
        assert_eq!(sparse_cosine((&[], &[]), (&[1], &[1.0])), 0.0);
    }
}
