//! User topic labels (BERTopic's `set_topic_labels`).

use std::collections::BTreeMap;

use crate::error::{BertopicError, Result};
use crate::TopicModel;

impl TopicModel {
    /// Sets readable labels for the given topics (BERTopic's `set_topic_labels` with a
    /// dictionary); other topics keep theirs. Labels are trimmed and saved with the model.
    /// Refuses unknown topics and empty labels, changing nothing.
    pub fn set_topic_labels(&mut self, labels: &BTreeMap<i64, String>) -> Result<()> {
        for (&id, label) in labels {
            self.topic(id)?;
            if label.trim().is_empty() {
                return Err(BertopicError::InvalidParams(format!(
                    "the label of topic {id} is empty"
                )));
            }
            if label.contains(['\n', '\r']) {
                return Err(BertopicError::InvalidParams(format!(
                    "the label of topic {id} spans several lines"
                )));
            }
        }
        for t in &mut self.topics {
            if let Some(l) = labels.get(&t.id) {
                t.label = Some(l.trim().to_string());
            }
        }
        Ok(())
    }

    /// [`set_topic_labels`](Self::set_topic_labels) with one label per topic, in
    /// [`topics`](Self::topics) order (the outlier topic first when present), as BERTopic's
    /// list form.
    pub fn set_topic_labels_list(&mut self, labels: &[String]) -> Result<()> {
        if labels.len() != self.topics.len() {
            return Err(BertopicError::Mismatch(format!(
                "{} labels for {} topics: give one per topic, outliers (-1) first when present",
                labels.len(),
                self.topics.len()
            )));
        }
        let map: BTreeMap<i64, String> = self
            .topics
            .iter()
            .map(|t| t.id)
            .zip(labels.iter().cloned())
            .collect();
        self.set_topic_labels(&map)
    }

    /// The label of a topic: the one set (or made at fit time), else its word name.
    pub fn topic_label(&self, id: i64) -> Result<&str> {
        let t = self.topic(id)?;
        Ok(t.label.as_deref().unwrap_or(&t.name))
    }
}
