//! BERTopic's modelling variants beyond the default fit: zero-shot topics
//! ([`VariantParams::zeroshot_topic_list`]), guided topics ([`VariantParams::seed_topic_list`])
//! and supervised / semi-supervised fits
//! ([`Bertopic::fit_with_labels`](crate::Bertopic::fit_with_labels), labels from a corpus column
//! with [`labels`]); merging fitted models
//! ([`merge`], [`TopicModel::merge`](crate::TopicModel::merge)) and manual topics from given
//! assignments ([`manual`]).
//!
//! The settings live in [`BertopicParams::variants`](crate::BertopicParams::variants), so they
//! are saved with the model (`model.json`) and a loaded model refits its words the same way.

mod fit;
mod guided;
pub mod labels;
pub mod manual;
pub mod merge;
pub mod online;
mod zeroshot;

pub use crate::variant_params::VariantParams;

pub(crate) use fit::{fit_variants, VariantFit};
pub use labels::{class_ids, ClassLabels, LabelColumn};
pub use merge::{merge_models, MergeRecord, Merged, MergedInput};
pub use online::{OnlineParams, OnlineTopicModel};
