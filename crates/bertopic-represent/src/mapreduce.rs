//! Class-term counts that add up: count each partition of a corpus on its own machine, merge
//! the counts exactly, then weigh the merged counts with c-TF-IDF — the same representation
//! [`fit`](crate::fit) gives on the whole corpus with the same topic labels.
//!
//! Exactness rests on counting being additive: [`fit`](crate::fit) joins a topic's documents
//! with a space and counts the terms of the joined text, which for an analyzer whose terms never
//! span a space (single words, `ngram_range = (1, 1)`) equals the sum of each document's counts.
//! N-grams that would span two joined documents are not additive, so callers must refuse them.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::weigh_counts;
use crate::vectorizer::{prune, push_preprocessed, utf8, Counts};
use crate::{RepresentError, RepresentParams, TermStream, TopicRepresentation};

/// The `format` of serialised [`ClassTermCounts`].
pub const COUNTS_FORMAT: &str = "bertopic-class-term-counts/1";

/// Term counts of one topic over the documents counted so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassCounts {
    /// Documents of this topic.
    pub docs: usize,
    /// True while every document of the topic cleaned to nothing: a topic of a single such
    /// document is counted as `"emptydoc"`, as BERTopic does, and that can only be decided
    /// once all partitions are merged.
    pub blank: bool,
    /// Term → count (sorted, so the serialised form is deterministic).
    pub terms: BTreeMap<String, u64>,
}

/// Per-topic term counts of a part of a corpus (sparse; serialisable to JSON), mergeable
/// exactly with [`merge`](Self::merge) and turned into topic words with [`fit`](Self::fit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassTermCounts {
    /// Always [`COUNTS_FORMAT`].
    pub format: String,
    /// What the counts were made with (tokenizer and cleaning settings, as the caller
    /// describes them): counts made with different settings do not add up and are not merged.
    pub settings: String,
    /// Topic id → its counts.
    pub classes: BTreeMap<i64, ClassCounts>,
}

impl ClassTermCounts {
    /// No documents yet; `settings` describes the analyzer and cleaning (see [`Self::settings`]).
    pub fn new(settings: impl Into<String>) -> Self {
        ClassTermCounts {
            format: COUNTS_FORMAT.to_string(),
            settings: settings.into(),
            classes: BTreeMap::new(),
        }
    }

    /// Counts one document of topic `topic`: cleaned as [`fit`](crate::fit) cleans topic
    /// texts (`strip_non_alphanumeric`), then split into terms by `terms`.
    pub fn add(
        &mut self,
        doc: &str,
        topic: i64,
        terms: &TermStream<'_>,
        strip_non_alphanumeric: bool,
    ) {
        let mut buf = Vec::with_capacity(doc.len());
        push_preprocessed(&mut buf, doc, strip_non_alphanumeric);
        let class = self.classes.entry(topic).or_insert_with(|| ClassCounts {
            docs: 0,
            blank: true,
            terms: BTreeMap::new(),
        });
        class.docs += 1;
        class.blank &= buf.is_empty();
        let text = utf8(buf);
        terms(&text, &mut |t| match class.terms.get_mut(t) {
            Some(c) => *c += 1,
            None => {
                class.terms.insert(t.to_string(), 1);
            }
        });
    }

    /// Adds `other`'s counts to these. Merging is commutative and associative, so partitions
    /// may be merged in any order or as a tree.
    pub fn merge(&mut self, other: ClassTermCounts) -> Result<(), RepresentError> {
        if other.format != self.format {
            return Err(RepresentError::InvalidParams(format!(
                "class-term counts of format `{}` cannot be merged with `{}`",
                other.format, self.format
            )));
        }
        if other.settings != self.settings {
            return Err(RepresentError::InvalidParams(format!(
                "class-term counts made with different settings do not add up (`{}` vs `{}`): \
                 count every partition with the same model",
                other.settings, self.settings
            )));
        }
        for (topic, o) in other.classes {
            let c = self.classes.entry(topic).or_insert_with(|| ClassCounts {
                docs: 0,
                blank: true,
                terms: BTreeMap::new(),
            });
            c.docs += o.docs;
            c.blank &= o.blank;
            for (t, n) in o.terms {
                *c.terms.entry(t).or_insert(0) += n;
            }
        }
        Ok(())
    }

    /// Documents counted, over all topics.
    pub fn n_docs(&self) -> usize {
        self.classes.values().map(|c| c.docs).sum()
    }

    /// The topic representation of the merged counts: vocabulary pruning, c-TF-IDF weights and
    /// top words exactly as [`fit`](crate::fit) computes them on the same documents and labels
    /// (`terms` and `params` must be the ones used for counting). Representative documents
    /// need the documents themselves, so they are left empty.
    pub fn fit(
        &self,
        terms: &TermStream<'_>,
        params: &RepresentParams,
    ) -> Result<TopicRepresentation, RepresentError> {
        params.validate()?;
        if self.classes.is_empty() {
            return Err(RepresentError::NoDocuments);
        }
        // A topic of one blank document is the text "emptydoc" (see `fit`).
        let mut emptydoc: BTreeMap<String, u64> = BTreeMap::new();
        terms("emptydoc", &mut |t| {
            *emptydoc.entry(t.to_string()).or_insert(0) += 1
        });
        let class_terms = |c: &ClassCounts| -> Vec<(String, u64)> {
            let mut m = c.terms.clone();
            if c.docs == 1 && c.blank {
                for (t, n) in &emptydoc {
                    *m.entry(t.clone()).or_insert(0) += n;
                }
            }
            m.into_iter().collect()
        };
        let per_class: Vec<Vec<(String, u64)>> = self.classes.values().map(class_terms).collect();
        // BTreeSet order on String is byte order, which for UTF-8 is code-point order: the
        // sorted vocabulary `fit` builds.
        let vocabulary: Vec<String> = per_class
            .iter()
            .flat_map(|r| r.iter().map(|(t, _)| t.as_str()))
            .collect::<BTreeSet<&str>>()
            .into_iter()
            .map(str::to_string)
            .collect();
        let rows: Vec<Vec<(usize, u64)>> = per_class
            .iter()
            .map(|r| {
                r.iter()
                    .filter(|(_, n)| *n > 0)
                    .map(|(t, n)| {
                        let i = vocabulary
                            .binary_search_by(|v| v.as_str().cmp(t))
                            .unwrap_or_else(|_| unreachable!("every term is in the vocabulary"));
                        (i, *n)
                    })
                    .collect()
            })
            .collect();
        let counts: Counts = prune(vocabulary, rows, &params.vectorizer)?;
        let topic_ids: Vec<i64> = self.classes.keys().copied().collect();
        let sizes: Vec<usize> = self.classes.values().map(|c| c.docs).collect();
        Ok(weigh_counts(counts, topic_ids, sizes, params))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str, f: &mut dyn FnMut(&str)) {
        s.split_whitespace()
            .map(str::to_lowercase)
            .filter(|w| w.len() > 1)
            .for_each(|w| f(&w));
    }

    fn docs() -> (Vec<String>, Vec<i64>) {
        let docs = [
            "Oil and gas prices rose",
            "gas, oil; energy!",
            "",
            "Moon landing: rocket",
            "rocket to the moon",
            "!!!",
            "energy prices fall",
            "a",
            "the moon and the oil",
        ];
        let labels = [0, 0, 2, 1, 1, 3, 0, -1, -1];
        (
            docs.iter().map(|s| s.to_string()).collect(),
            labels.to_vec(),
        )
    }

    /// Counting any split of the corpus and merging in any order gives `fit`'s representation
    /// (including the "emptydoc" rule for a topic of one blank document, topic 2 and 3 here).
    #[test]
    fn merged_partitions_equal_single_fit() {
        let (docs, labels) = docs();
        for params in [
            RepresentParams::default(),
            RepresentParams {
                vectorizer: crate::VectorizerParams {
                    min_df: 2,
                    ..Default::default()
                },
                ..Default::default()
            },
        ] {
            let want = crate::fit_streaming(&docs, &labels, &words, &params).unwrap();
            for split in [1, 4, 8] {
                let mut a = ClassTermCounts::new("ws");
                let mut b = ClassTermCounts::new("ws");
                for (i, (d, &l)) in docs.iter().zip(&labels).enumerate() {
                    let part = if i < split { &mut a } else { &mut b };
                    part.add(d, l, &words, params.strip_non_alphanumeric);
                }
                let json = serde_json::to_string(&a).unwrap();
                let mut merged: ClassTermCounts = serde_json::from_str(&json).unwrap();
                merged.merge(b).unwrap();
                assert_eq!(merged.n_docs(), docs.len());
                let got = merged.fit(&words, &params).unwrap();
                assert_eq!(got.vocabulary, want.vocabulary);
                assert_eq!(got.topic_ids, want.topic_ids);
                assert_eq!(got.sizes, want.sizes);
                assert_eq!(got.counts, want.counts);
                assert_eq!(got.ctfidf, want.ctfidf);
                assert_eq!(got.words, want.words);
            }
        }
    }

    #[test]
    fn refuses_other_settings() {
        let mut a = ClassTermCounts::new("english,1-1");
        let b = ClassTermCounts::new("english,1-2");
        assert!(a.merge(b).is_err());
        assert!(matches!(
            a.fit(&words, &RepresentParams::default()),
            Err(RepresentError::NoDocuments)
        ));
    }
}
