//! The crate's error type.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Which sample an input belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The data the model was trained on.
    Training,
    /// The new batch being monitored.
    Batch,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Training => "training",
            Side::Batch => "batch",
        })
    }
}

/// Everything that can go wrong when computing drift signals. Each message says what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DriftError {
    /// The batch has nothing to measure.
    #[error("{signal}: the batch is empty ({what}); pass a batch with at least one document, or skip this signal")]
    EmptyBatch {
        /// The signal that failed.
        signal: &'static str,
        /// What was empty.
        what: &'static str,
    },
    /// The training side has nothing to compare against.
    #[error(
        "{signal}: the training side is empty ({what}); pass the data the model was trained on"
    )]
    EmptyTraining {
        /// The signal that failed.
        signal: &'static str,
        /// What was empty.
        what: &'static str,
    },
    /// MMD needs two rows per side (the unbiased estimator divides by `n (n - 1)`).
    #[error("embedding drift: the {side} sample has {rows} row(s) but MMD needs at least 2 per side; monitor a batch of at least 2 documents, or skip the embedding signal")]
    TooFewRows {
        /// The side with too few rows.
        side: Side,
        /// How many rows it has.
        rows: usize,
    },
    /// Training and batch embeddings have different widths.
    #[error("embedding drift: dimension mismatch: training embeddings have {training} dimensions but batch embeddings have {batch}; embed the batch with the same embedding model the topic model was trained with")]
    DimensionMismatch {
        /// Columns of the training embeddings.
        training: usize,
        /// Columns of the batch embeddings.
        batch: usize,
    },
    /// Embeddings with zero columns.
    #[error(
        "embedding drift: the embeddings have 0 dimensions; pass the documents' embedding vectors"
    )]
    ZeroDimension,
    /// A NaN or infinite number in the input.
    #[error("{what} contains a NaN or infinite value ({location}); remove or recompute it before monitoring")]
    NonFinite {
        /// Which input.
        what: String,
        /// Where in it (row, field).
        location: String,
    },
    /// A number outside its valid range in the input (negative share, similarity > 1, ...).
    #[error("{what} is out of range: {problem}")]
    OutOfRange {
        /// Which input.
        what: String,
        /// What is wrong and what is expected.
        problem: String,
    },
    /// Two inputs that must have the same length do not.
    #[error("{what}: lengths differ ({left} vs {right}); pass aligned inputs of equal length")]
    LengthMismatch {
        /// Which inputs.
        what: &'static str,
        /// Length of the first input.
        left: usize,
        /// Length of the second input.
        right: usize,
    },
    /// A configuration value is invalid.
    #[error("invalid drift configuration: `{field}` {problem}")]
    InvalidConfig {
        /// The offending field, as a path (`embedding.n_permutations`).
        field: &'static str,
        /// What is wrong and what is expected.
        problem: String,
    },
    /// A topic id appears twice in one list.
    #[error("{signal}: topic {topic} is listed more than once on the {side} side; pass each topic id once")]
    DuplicateTopic {
        /// The signal that failed.
        signal: &'static str,
        /// The side with the duplicate.
        side: Side,
        /// The repeated id.
        topic: i64,
    },
    /// Cosine matching was requested but a topic has no embedding.
    #[error("topic drift: cosine similarity was requested but {side} topic {topic} has no embedding; give every topic an embedding or use Jaccard similarity")]
    MissingTopicEmbedding {
        /// The side of the topic.
        side: Side,
        /// The topic without an embedding.
        topic: i64,
    },
    /// Topic embeddings of different widths.
    #[error("topic drift: {side} topic {topic} has an embedding of {found} dimensions but {expected} were expected; all topic embeddings must come from the same embedding model")]
    TopicEmbeddingDimension {
        /// The side of the topic.
        side: Side,
        /// The topic with the odd embedding.
        topic: i64,
        /// The dimension of the first topic embedding seen.
        expected: usize,
        /// This topic's dimension.
        found: usize,
    },
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, DriftError>;

/// Error unless `x` is finite.
pub(crate) fn finite(x: f64, what: &str, location: &str) -> Result<()> {
    if x.is_finite() {
        Ok(())
    } else {
        Err(DriftError::NonFinite {
            what: what.to_string(),
            location: location.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_both_dimensions_and_the_fix() {
        let e = DriftError::DimensionMismatch {
            training: 384,
            batch: 768,
        };
        let msg = e.to_string();
        assert!(msg.contains("384") && msg.contains("768"), "{msg}");
        assert!(msg.contains("same embedding model"), "{msg}");
        let e = DriftError::TooFewRows {
            side: Side::Batch,
            rows: 1,
        };
        assert!(e.to_string().contains("batch sample has 1 row(s)"));
    }
}
