//! Topic search: the topics whose embeddings are closest to a query (BERTopic's `find_topics`).

use ndarray::ArrayView1;
use serde::{Deserialize, Serialize};

use crate::embed::Embedder;
use crate::error::{BertopicError, Result};
use crate::TopicModel;

/// A topic found by [`TopicModel::find_topics`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicMatch {
    /// Topic id.
    pub topic: i64,
    /// Cosine similarity of the query embedding with the topic embedding.
    pub similarity: f64,
}

impl TopicModel {
    /// BERTopic's `find_topics`: embeds `query` with `embedder` (the model's embedding model)
    /// and returns the `top_n` topics whose embeddings (mean document embedding) are most
    /// similar, best first. As in BERTopic, the outlier topic is a candidate too.
    pub fn find_topics(
        &self,
        query: &str,
        embedder: &dyn Embedder,
        top_n: usize,
    ) -> Result<Vec<TopicMatch>> {
        if query.trim().is_empty() {
            return Err(BertopicError::InvalidParams(
                "find_topics needs a non-empty query".into(),
            ));
        }
        let e = embedder.embed(&[query.to_string()])?;
        if e.nrows() != 1 {
            return Err(BertopicError::Mismatch(format!(
                "the embedder returned {} rows for one query",
                e.nrows()
            )));
        }
        self.find_topics_by_embedding(e.row(0), top_n)
    }

    /// [`find_topics`](Self::find_topics) for an already embedded query.
    pub fn find_topics_by_embedding(
        &self,
        query: ArrayView1<'_, f32>,
        top_n: usize,
    ) -> Result<Vec<TopicMatch>> {
        if top_n == 0 {
            return Err(BertopicError::InvalidParams(
                "top_n must be at least 1".into(),
            ));
        }
        let te = &self.topic_embeddings;
        if query.len() != te.ncols() {
            return Err(BertopicError::Mismatch(format!(
                "the query embedding has {} dimensions but the topic embeddings {}: embed the \
                 query with the model's embedding model ({})",
                query.len(),
                te.ncols(),
                self.params.embedding_model
            )));
        }
        let qn = query
            .iter()
            .map(|&v| f64::from(v) * f64::from(v))
            .sum::<f64>()
            .sqrt();
        let mut out: Vec<TopicMatch> = self
            .topics
            .iter()
            .zip(te.rows())
            .map(|(t, row)| {
                let dot: f64 = row
                    .iter()
                    .zip(query.iter())
                    .map(|(&a, &b)| f64::from(a) * f64::from(b))
                    .sum();
                let tn = row
                    .iter()
                    .map(|&v| f64::from(v) * f64::from(v))
                    .sum::<f64>()
                    .sqrt();
                let similarity = if qn > 0.0 && tn > 0.0 {
                    dot / (qn * tn)
                } else {
                    0.0
                };
                TopicMatch {
                    topic: t.id,
                    similarity,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            b.similarity
                .total_cmp(&a.similarity)
                .then(a.topic.cmp(&b.topic))
        });
        out.truncate(top_n);
        Ok(out)
    }
}

/// `Topic,Similarity,Name` rows of [`TopicModel::find_topics`] results.
pub fn search_csv(model: &TopicModel, found: &[TopicMatch]) -> Result<Vec<u8>> {
    super::csv_bytes(
        &["Topic", "Similarity", "Name"],
        found.iter().map(|m| {
            vec![
                m.topic.to_string(),
                format!("{:.6}", m.similarity),
                model.topic_label(m.topic).unwrap_or("").to_string(),
            ]
        }),
    )
}
