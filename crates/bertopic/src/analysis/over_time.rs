//! Topics over time: per-timestamp topic frequencies and c-TF-IDF words (BERTopic's
//! `topics_over_time`).

use serde::{Deserialize, Serialize};

use super::{average, csv_bytes, group_by_topic, l1, words_column, Row, Timestamp};
use crate::error::{BertopicError, Result};
use crate::TopicModel;

/// Settings of [`TopicModel::topics_over_time`], with BERTopic's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverTimeParams {
    /// Cut the time span into this many equal-width bins first (pandas `cut`: right-closed
    /// intervals, the first widened by 0.1 % of the span); each bin is reported at its left
    /// edge. `None` keeps every distinct timestamp (BERTopic warns above 100 of them).
    pub nr_bins: Option<usize>,
    /// Average each topic's per-timestamp c-TF-IDF row (L1-normalised) with its global row, so
    /// words stay recognisable when a timestamp has few documents.
    pub global_tuning: bool,
    /// Average each topic's row with its row at the previous timestamp where it also occurs.
    ///
    /// BERTopic 0.17.4 documents this but writes the average into a temporary copy
    /// (`c_tf_idf.tolil()[...] = ...`), so there it changes nothing; this crate applies it as
    /// documented. Set it to `false` for BERTopic's observable output.
    pub evolution_tuning: bool,
}

impl Default for OverTimeParams {
    fn default() -> Self {
        OverTimeParams {
            nr_bins: None,
            global_tuning: true,
            evolution_tuning: true,
        }
    }
}

/// One row of [`TopicModel::topics_over_time`]: a topic at a timestamp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicTimeRow {
    /// Topic id (−1 = outliers).
    pub topic: i64,
    /// The topic's top words at this timestamp with their (tuned) c-TF-IDF weights.
    pub words: Vec<(String, f64)>,
    /// Documents of this topic at this timestamp.
    pub frequency: usize,
    /// The timestamp (the bin's left edge when binned).
    pub timestamp: Timestamp,
}

impl TopicModel {
    /// BERTopic's `topics_over_time`: for every timestamp (or time bin, oldest first), each
    /// topic present there with its document count and words from the c-TF-IDF of its
    /// documents at that time (fitted vocabulary and idf), optionally averaged with the
    /// previous timestamp's and the global representation (see [`OverTimeParams`]).
    ///
    /// `docs` are the training documents and `timestamps` one per document; `topics` defaults
    /// to the training assignment (give it to analyse other documents).
    pub fn topics_over_time(
        &self,
        docs: &[String],
        timestamps: &[Timestamp],
        topics: Option<&[i64]>,
        params: &OverTimeParams,
    ) -> Result<Vec<TopicTimeRow>> {
        let topics = self.analysis_topics("topics_over_time", docs, topics)?;
        if timestamps.len() != docs.len() {
            return Err(BertopicError::Mismatch(format!(
                "topics_over_time: {} documents but {} timestamps",
                docs.len(),
                timestamps.len()
            )));
        }
        let stamps = match params.nr_bins {
            Some(0) => {
                return Err(BertopicError::InvalidParams(
                    "nr_bins must be at least 1 (or unset to keep every timestamp)".into(),
                ))
            }
            Some(n) => bin_left_edges(timestamps, n),
            None => timestamps.to_vec(),
        };
        let mut order: Vec<usize> = (0..docs.len()).collect();
        order.sort_by_key(|&i| (stamps[i], i));
        let top_n = self.params.top_n_words;
        let mut out = Vec::new();
        let mut previous: Vec<(i64, Row)> = Vec::new();
        let mut start = 0;
        while start < order.len() {
            let t = stamps[order[start]];
            let end = start + order[start..].partition_point(|&i| stamps[i] == t);
            let groups = group_by_topic(topics, &order[start..end]);
            let ids: Vec<i64> = groups.keys().copied().collect();
            let members: Vec<Vec<usize>> = groups.into_values().collect();
            let local = self.local_ctfidf(docs, &members)?;
            let mut current: Vec<(i64, Row)> = Vec::with_capacity(ids.len());
            for ((&topic, m), row) in ids.iter().zip(&members).zip(local) {
                let mut row = if params.global_tuning || params.evolution_tuning {
                    l1(row)
                } else {
                    row
                };
                if params.evolution_tuning {
                    if let Ok(p) = previous.binary_search_by_key(&topic, |(t, _)| *t) {
                        row = average(&row, &previous[p].1);
                    }
                }
                if params.global_tuning {
                    row = average(&self.global_row_l1(topic)?, &row);
                }
                out.push(TopicTimeRow {
                    topic,
                    words: self.row_words(&row, top_n),
                    frequency: m.len(),
                    timestamp: t,
                });
                current.push((topic, row));
            }
            previous = current;
            start = end;
        }
        Ok(out)
    }
}

/// The left edge of each timestamp's bin, as pandas `cut(x, bins=n)` makes them: `n + 1`
/// equally spaced edges from the minimum to the maximum (whole seconds, truncated like pandas'
/// integer datetime ranges), the first moved down by 0.1 % of the span, intervals closed on the
/// right. A single distinct value gets a span of ±0.1 % around it.
pub(crate) fn bin_left_edges(ts: &[Timestamp], n: usize) -> Vec<Timestamp> {
    let (Some(mn), Some(mx)) = (ts.iter().min(), ts.iter().max()) else {
        return Vec::new();
    };
    let (mut lo, mut hi) = (mn.0 as f64, mx.0 as f64);
    let mut edges: Vec<f64>;
    if mn == mx {
        let adj = if lo != 0.0 { 0.001 * lo.abs() } else { 0.001 };
        lo -= adj;
        hi += adj;
        edges = (0..=n)
            .map(|i| lo + (hi - lo) * i as f64 / n as f64)
            .collect();
    } else {
        let span = hi - lo;
        edges = (0..=n)
            .map(|i| lo + (span * i as f64 / n as f64).trunc())
            .collect();
        edges[n] = hi;
        edges[0] -= (span * 0.001).trunc();
    }
    ts.iter()
        .map(|t| {
            let x = t.0 as f64;
            let below = edges.partition_point(|&e| e < x);
            let bin = below.saturating_sub(1).min(n - 1);
            Timestamp(edges[bin].trunc() as i64)
        })
        .collect()
}

/// `Topic,Words,Frequency,Timestamp` (BERTopic's columns; Words = the first five words).
pub fn over_time_csv(rows: &[TopicTimeRow]) -> Result<Vec<u8>> {
    csv_bytes(
        &["Topic", "Words", "Frequency", "Timestamp"],
        rows.iter().map(|r| {
            vec![
                r.topic.to_string(),
                words_column(&r.words),
                r.frequency.to_string(),
                r.timestamp.to_string(),
            ]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_like_pandas_cut() {
        let ts: Vec<Timestamp> = [0i64, 10, 20, 30, 40].map(Timestamp).to_vec();
        // Edges 0, 20, 40 (the first lowered by trunc(0.04) = 0); intervals closed on the right.
        let b = bin_left_edges(&ts, 2);
        assert_eq!(b, [0, 0, 0, 20, 20].map(Timestamp).to_vec());
        let ts: Vec<Timestamp> = [1000i64, 2000, 3000].map(Timestamp).to_vec();
        let b = bin_left_edges(&ts, 2);
        // Edges 998 (1000 − 0.1 % of the span), 2000, 3000; 2000 lies in (998, 2000].
        assert_eq!(b, [998, 998, 2000].map(Timestamp).to_vec());
        let same = bin_left_edges(&[Timestamp(5000); 3], 4);
        assert!(same.iter().all(|&t| t == same[0]));
    }
}
