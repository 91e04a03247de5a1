//! Topics per class: per-class topic frequencies and c-TF-IDF words (BERTopic's
//! `topics_per_class`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{average, csv_bytes, group_by_topic, l1, words_column};
use crate::error::{BertopicError, Result};
use crate::TopicModel;

/// One row of [`TopicModel::topics_per_class`]: a topic within a class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicClassRow {
    /// Topic id (−1 = outliers).
    pub topic: i64,
    /// The topic's top words within the class, with their (tuned) c-TF-IDF weights.
    pub words: Vec<(String, f64)>,
    /// Documents of this topic in this class.
    pub frequency: usize,
    /// The class.
    pub class: String,
}

impl TopicModel {
    /// BERTopic's `topics_per_class`: for every class (in sorted order; BERTopic iterates a
    /// Python `set`, whose order is arbitrary), each topic present in it with its document
    /// count and words from the c-TF-IDF of its documents in that class (fitted vocabulary and
    /// idf), with `global_tuning` averaged with the topic's global row (both L1-normalised).
    ///
    /// `docs` are the training documents and `classes` one per document; `topics` defaults to
    /// the training assignment.
    pub fn topics_per_class(
        &self,
        docs: &[String],
        classes: &[String],
        topics: Option<&[i64]>,
        global_tuning: bool,
    ) -> Result<Vec<TopicClassRow>> {
        let topics = self.analysis_topics("topics_per_class", docs, topics)?;
        if classes.len() != docs.len() {
            return Err(BertopicError::Mismatch(format!(
                "topics_per_class: {} documents but {} classes",
                docs.len(),
                classes.len()
            )));
        }
        let mut by_class: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, c) in classes.iter().enumerate() {
            by_class.entry(c.as_str()).or_default().push(i);
        }
        let top_n = self.params.top_n_words;
        let mut out = Vec::new();
        for (class, selection) in by_class {
            let groups = group_by_topic(topics, &selection);
            let ids: Vec<i64> = groups.keys().copied().collect();
            let members: Vec<Vec<usize>> = groups.into_values().collect();
            let local = self.local_ctfidf(docs, &members)?;
            for ((&topic, m), row) in ids.iter().zip(&members).zip(local) {
                let row = if global_tuning {
                    average(&self.global_row_l1(topic)?, &l1(row))
                } else {
                    row
                };
                out.push(TopicClassRow {
                    topic,
                    words: self.row_words(&row, top_n),
                    frequency: m.len(),
                    class: class.to_string(),
                });
            }
        }
        Ok(out)
    }
}

/// `Topic,Words,Frequency,Class` (BERTopic's columns; Words = the first five words).
pub fn per_class_csv(rows: &[TopicClassRow]) -> Result<Vec<u8>> {
    csv_bytes(
        &["Topic", "Words", "Frequency", "Class"],
        rows.iter().map(|r| {
            vec![
                r.topic.to_string(),
                words_column(&r.words),
                r.frequency.to_string(),
                r.class.clone(),
            ]
        }),
    )
}
