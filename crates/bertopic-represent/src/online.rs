//! Online class-term counts: BERTopic's `OnlineCountVectorizer.update_bow` on per-topic counts.
//! Each batch is counted with [`ClassTermCounts`]; before it is added, the running counts are
//! multiplied by `1 − decay`, and after it, terms whose count summed over all topics is below
//! `delete_min_df` leave the vocabulary. So memory is bounded by topics × the kept vocabulary,
//! not by the documents seen, and c-TF-IDF is weighed from the running counts.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::weigh_rows;
use crate::{ClassTermCounts, RepresentError, RepresentParams, TopicRepresentation};

/// The `format` of serialised [`OnlineClassTermCounts`].
pub const ONLINE_COUNTS_FORMAT: &str = "bertopic-online-class-term-counts/1";

/// Running, decayed per-topic term counts (sparse; serialisable).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnlineClassTermCounts {
    /// Always [`ONLINE_COUNTS_FORMAT`].
    pub format: String,
    /// What the counts are made with (see [`ClassTermCounts::settings`]); batches counted
    /// with other settings are refused.
    pub settings: String,
    /// Fraction of the previous counts forgotten at each batch (BERTopic `decay`), in [0, 1].
    pub decay: Option<f64>,
    /// Terms whose count over all topics falls below this are dropped after each batch
    /// (BERTopic `delete_min_df`).
    pub delete_min_df: Option<f64>,
    /// Batches added.
    pub batches: u64,
    /// Topic → documents counted over all batches (not decayed: BERTopic's topic sizes).
    pub docs: BTreeMap<i64, usize>,
    /// Topic → term → running count.
    pub terms: BTreeMap<i64, BTreeMap<String, f64>>,
}

impl OnlineClassTermCounts {
    /// No batches yet; checks `decay` ∈ [0, 1] and `delete_min_df` ≥ 0.
    pub fn new(
        settings: impl Into<String>,
        decay: Option<f64>,
        delete_min_df: Option<f64>,
    ) -> Result<Self, RepresentError> {
        if let Some(d) = decay {
            if !d.is_finite() || !(0.0..=1.0).contains(&d) {
                return Err(RepresentError::InvalidParams(format!(
                    "decay must be in [0, 1] (got {d}): the fraction of the previous counts \
                     forgotten at each batch"
                )));
            }
        }
        if let Some(m) = delete_min_df {
            if !m.is_finite() || m < 0.0 {
                return Err(RepresentError::InvalidParams(format!(
                    "delete_min_df must be a finite count ≥ 0 (got {m})"
                )));
            }
        }
        Ok(OnlineClassTermCounts {
            format: ONLINE_COUNTS_FORMAT.to_string(),
            settings: settings.into(),
            decay,
            delete_min_df,
            batches: 0,
            docs: BTreeMap::new(),
            terms: BTreeMap::new(),
        })
    }

    /// Adds one batch: decays the running counts, adds the batch's, drops rare terms.
    pub fn update(&mut self, batch: ClassTermCounts) -> Result<(), RepresentError> {
        if batch.settings != self.settings {
            return Err(RepresentError::InvalidParams(format!(
                "a batch counted with settings `{}` cannot update counts made with `{}`",
                batch.settings, self.settings
            )));
        }
        if let Some(decay) = self.decay.filter(|&d| d > 0.0) {
            let keep = 1.0 - decay;
            for terms in self.terms.values_mut() {
                terms.values_mut().for_each(|c| *c *= keep);
                terms.retain(|_, c| *c > 0.0);
            }
        }
        for (topic, class) in batch.classes {
            *self.docs.entry(topic).or_insert(0) += class.docs;
            let terms = self.terms.entry(topic).or_default();
            for (t, n) in class.terms {
                *terms.entry(t).or_insert(0.0) += n as f64;
            }
        }
        if let Some(min) = self.delete_min_df {
            let mut totals: BTreeMap<&str, f64> = BTreeMap::new();
            for terms in self.terms.values() {
                for (t, c) in terms {
                    *totals.entry(t.as_str()).or_insert(0.0) += c;
                }
            }
            let drop: BTreeSet<String> = totals
                .into_iter()
                .filter(|&(_, c)| c < min)
                .map(|(t, _)| t.to_string())
                .collect();
            if !drop.is_empty() {
                for terms in self.terms.values_mut() {
                    terms.retain(|t, _| !drop.contains(t));
                }
            }
        }
        self.batches += 1;
        Ok(())
    }

    /// Distinct terms kept.
    pub fn vocabulary_len(&self) -> usize {
        self.terms
            .values()
            .flat_map(|t| t.keys())
            .collect::<BTreeSet<_>>()
            .len()
    }

    /// c-TF-IDF weights and top words of the running counts (topics ascending, sizes = documents
    /// counted). The vectorizer's `min_df` / `max_df` / `max_features` do not apply here
    /// (`delete_min_df` is the online pruning, as in BERTopic); representative documents are
    /// left empty.
    pub fn fit(&self, params: &RepresentParams) -> Result<TopicRepresentation, RepresentError> {
        params.validate()?;
        if self.docs.is_empty() {
            return Err(RepresentError::NoDocuments);
        }
        let vocabulary: Vec<String> = self
            .terms
            .values()
            .flat_map(|t| t.keys().map(String::as_str))
            .collect::<BTreeSet<&str>>()
            .into_iter()
            .map(str::to_string)
            .collect();
        if vocabulary.is_empty() {
            return Err(RepresentError::EmptyVocabulary);
        }
        let topic_ids: Vec<i64> = self.docs.keys().copied().collect();
        let empty = BTreeMap::new();
        let rows: Vec<Vec<(usize, f64)>> = topic_ids
            .iter()
            .map(|t| {
                // Both sides are sorted, so the indices come out ascending.
                self.terms
                    .get(t)
                    .unwrap_or(&empty)
                    .iter()
                    .map(|(term, &c)| {
                        let i = vocabulary
                            .binary_search_by(|v| v.as_str().cmp(term))
                            .unwrap_or_else(|_| unreachable!("every term is in the vocabulary"));
                        (i, c)
                    })
                    .collect()
            })
            .collect();
        let sizes = topic_ids.iter().map(|t| self.docs[t]).collect();
        Ok(weigh_rows(vocabulary, rows, topic_ids, sizes, params))
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

    fn batch(docs: &[(&str, i64)]) -> ClassTermCounts {
        let mut c = ClassTermCounts::new("ws");
        for (d, t) in docs {
            c.add(d, *t, &words, true);
        }
        c
    }

    /// Without decay or deletion, the running counts of batches equal one fit on all of them.
    #[test]
    fn no_decay_equals_one_fit() {
        let all = [
            ("oil gas prices", 0),
            ("gas oil energy", 0),
            ("moon rocket", 1),
            ("rocket launch moon", 1),
            ("energy prices fall", 0),
        ];
        let mut online = OnlineClassTermCounts::new("ws", None, None).unwrap();
        online.update(batch(&all[..2])).unwrap();
        online.update(batch(&all[2..])).unwrap();
        let docs: Vec<String> = all.iter().map(|(d, _)| d.to_string()).collect();
        let labels: Vec<i64> = all.iter().map(|(_, t)| *t).collect();
        let params = RepresentParams::default();
        let want = crate::fit_streaming(&docs, &labels, &words, &params).unwrap();
        let got = online.fit(&params).unwrap();
        assert_eq!(got.vocabulary, want.vocabulary);
        assert_eq!(got.counts, want.counts);
        assert_eq!(got.ctfidf, want.ctfidf);
        assert_eq!(got.words, want.words);
        assert_eq!(got.sizes, vec![3, 2]);
    }

    /// Decay multiplies the old counts before the batch is added; delete_min_df drops terms
    /// whose decayed total falls below it, and a term seen again comes back.
    #[test]
    fn decay_and_delete_min_df() {
        let mut online = OnlineClassTermCounts::new("ws", Some(0.5), Some(1.0)).unwrap();
        online
            .update(batch(&[("oil oil gas", 0), ("moon", 1)]))
            .unwrap();
        assert_eq!(online.terms[&0]["oil"], 2.0);
        online.update(batch(&[("oil rocket", 1)])).unwrap();
        // oil: 2 × 0.5 in topic 0, 1 in topic 1; gas 0.5 and moon 0.5 fall below 1.
        assert_eq!(online.terms[&0].get("oil"), Some(&1.0));
        assert_eq!(online.terms[&1].get("oil"), Some(&1.0));
        assert!(!online.terms[&0].contains_key("gas"));
        assert!(!online.terms[&1].contains_key("moon"));
        assert_eq!(online.vocabulary_len(), 2);
        online.update(batch(&[("moon moon", 1)])).unwrap();
        assert_eq!(online.terms[&1].get("moon"), Some(&2.0));
        assert_eq!(online.docs, BTreeMap::from([(0, 1), (1, 3)]));
        let rep = online.fit(&RepresentParams::default()).unwrap();
        assert_eq!(rep.topic_ids, vec![0, 1]);
        assert_eq!(rep.sizes, vec![1, 3]);
        rep.check().unwrap();
    }

    #[test]
    fn refuses_bad_settings() {
        assert!(OnlineClassTermCounts::new("ws", Some(1.5), None).is_err());
        assert!(OnlineClassTermCounts::new("ws", None, Some(-1.0)).is_err());
        let mut online = OnlineClassTermCounts::new("ws", None, None).unwrap();
        assert!(online.update(ClassTermCounts::new("other")).is_err());
        assert!(matches!(
            online.fit(&RepresentParams::default()),
            Err(RepresentError::NoDocuments)
        ));
    }
}
