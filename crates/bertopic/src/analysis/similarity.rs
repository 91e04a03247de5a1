//! The topic similarity matrix (what BERTopic's `visualize_heatmap` draws).

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use super::sparse_cosine;
use crate::model::cosine_matrix;
use crate::TopicModel;

/// What [`TopicModel::topic_similarity`] compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SimilarityBasis {
    /// Topic embeddings (mean document embedding), BERTopic's `visualize_heatmap` default.
    #[default]
    Embeddings,
    /// The topics' c-TF-IDF rows.
    CTfidf,
}

/// Cosine similarities between the non-outlier topics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicSimilarity {
    /// Topic ids of the rows and columns.
    pub topics: Vec<i64>,
    /// Symmetric matrix, 1 on the diagonal (0 for a topic without words or embedding).
    pub matrix: Array2<f64>,
}

impl TopicModel {
    /// Cosine similarity between every pair of topics (outliers left out), from their
    /// embeddings or c-TF-IDF rows.
    pub fn topic_similarity(&self, basis: SimilarityBasis) -> TopicSimilarity {
        match basis {
            SimilarityBasis::Embeddings => {
                let rows = self.topic_embedding_rows();
                let te = self.topic_embeddings.select(ndarray::Axis(0), &rows);
                TopicSimilarity {
                    topics: rows.iter().map(|&r| self.topics[r].id).collect(),
                    matrix: cosine_matrix(te.view(), te.view()),
                }
            }
            SimilarityBasis::CTfidf => {
                let (ids, rows) = self.topic_rows();
                let m = &self.representation.ctfidf;
                let matrix = Array2::from_shape_fn((rows.len(), rows.len()), |(i, j)| {
                    sparse_cosine(m.row(rows[i]), m.row(rows[j]))
                });
                TopicSimilarity {
                    topics: ids,
                    matrix,
                }
            }
        }
    }
}
