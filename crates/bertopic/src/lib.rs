//! BERTopic in Rust: sentence embeddings → UMAP → HDBSCAN → c-TF-IDF topic words.
//!
//! This facade wires the stage crates together, the way ripgrep's `grep` crate fronts its
//! parts. Each stage is a small trait with one good default, re-exported here as a module:
//! [`preprocess`], [`embed`], [`reduce`], [`cluster`], [`represent`], [`coherence`].
//! Topic words come from c-TF-IDF or a re-ranking [`Representation`] (MMR, KeyBERT-inspired),
//! chosen with [`BERTopicBuilder::representation`].
//!
//! ```no_run
//! use bertopic::BERTopic;
//! # fn main() -> bertopic::Result<()> {
//! let (docs, _summary) = bertopic::preprocess::read_corpus(
//!     "../shared/data/arxiv-cs-abstracts-200.csv".as_ref(),
//!     &Default::default(),
//! )?;
//! let texts: Vec<String> = docs.into_iter().map(|d| d.text).collect();
//! let model = BERTopic::builder().min_topic_size(5).seed(42).build()?.fit(&texts)?;
//! for row in model.topic_info() {
//!     println!("{} {} {}", row.topic, row.count, row.name);
//! }
//! # Ok(()) }
//! ```

pub use bertopic_cluster as cluster;
pub use bertopic_coherence as coherence;
pub use bertopic_embed as embed;
pub use bertopic_preprocess as preprocess;
pub use bertopic_reduce as reduce;
pub use bertopic_represent as represent;

mod error;
mod io;
mod model;
mod params;
mod pipeline;
pub mod report;
pub mod tune;

pub use error::{BertopicError, Result};
pub use io::FORMAT_VERSION;
pub use model::{DocumentInfo, EmbeddingInfo, OutlierStrategy, Topic, TopicInfo, TopicModel};
pub use params::{BERTopicParams, KeyBertParams, MmrParams, Representation};
pub use pipeline::{load_embedder, BERTopic, BERTopicBuilder, StageTimings};

/// Version of this crate, recorded in saved models.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
