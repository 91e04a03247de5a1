//! Approximate topic distributions: sliding windows of tokens compared with the topics'
//! c-TF-IDF rows (BERTopic's `approximate_distribution`, c-TF-IDF variant).

use ndarray::{Array2, Axis};
use serde::{Deserialize, Serialize};

use crate::error::{BertopicError, Result};
use crate::preprocess::{Language, Tokenizer, TokenizerConfig};
use crate::TopicModel;

/// Settings of [`TopicModel::approximate_distribution`], with BERTopic's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistributionParams {
    /// Tokens per window.
    pub window: usize,
    /// Tokens between the starts of consecutive windows.
    pub stride: usize,
    /// Window–topic similarities below this count as 0.
    pub min_similarity: f64,
    /// Also take the shorter windows at the start and the end of a document.
    pub padding: bool,
    /// Also return a distribution per token (the sum of the windows that contain it).
    pub calculate_tokens: bool,
    /// Joins a window's tokens before they are counted.
    pub separator: String,
}

impl Default for DistributionParams {
    fn default() -> Self {
        DistributionParams {
            window: 4,
            stride: 1,
            min_similarity: 0.1,
            padding: false,
            calculate_tokens: false,
            separator: " ".into(),
        }
    }
}

/// Per-token topic distribution of one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenDistribution {
    /// The document's tokens as written (sklearn's token pattern, stop words kept).
    pub tokens: Vec<String>,
    /// Tokens × topics: summed similarities of the windows that contain each token.
    pub values: Array2<f64>,
}

/// What [`TopicModel::approximate_distribution`] returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicDistribution {
    /// Topic ids of the columns (outliers left out, as BERTopic).
    pub topics: Vec<i64>,
    /// Documents × topics, each row summing to 1 (or all 0 when no window matches a topic).
    pub documents: Array2<f64>,
    /// Per document, with [`DistributionParams::calculate_tokens`].
    pub tokens: Option<Vec<TokenDistribution>>,
}

/// Documents handled at once: bounds the windows × topics similarity block.
const BATCH: usize = 256;

impl TopicModel {
    /// BERTopic's `approximate_distribution` (c-TF-IDF variant): each document is cut into
    /// windows of `window` tokens every `stride` tokens (a shorter document is one window);
    /// each window's c-TF-IDF vector (fitted vocabulary and idf) is compared by cosine with
    /// every topic's; similarities below `min_similarity` are dropped, and a document's
    /// distribution is the L1-normalised sum over its windows. Works on any documents, not
    /// only the training ones.
    pub fn approximate_distribution(
        &self,
        docs: &[String],
        params: &DistributionParams,
    ) -> Result<TopicDistribution> {
        if params.window == 0 || params.stride == 0 {
            return Err(BertopicError::InvalidParams(format!(
                "window ({}) and stride ({}) must be at least 1",
                params.window, params.stride
            )));
        }
        if !params.min_similarity.is_finite() {
            return Err(BertopicError::InvalidParams(
                "min_similarity must be a finite number".into(),
            ));
        }
        // sklearn's `build_tokenizer()`: the token pattern only (case and stop words kept); the
        // windows are then counted with the model's own analyzer.
        let raw = Tokenizer::new(TokenizerConfig {
            language: Language::None,
            lowercase: false,
            ngram_range: (1, 1),
            ..TokenizerConfig::default()
        })?;
        let terms = self.term_tokenizer()?;
        let analyzer = |s: &str| terms.terms(s);
        let (topics, cols) = self.topic_rows();
        let k = cols.len();
        let mut documents = Array2::<f64>::zeros((docs.len(), k));
        let mut tokens_out = params.calculate_tokens.then(Vec::new);
        for (b, batch) in docs.chunks(BATCH).enumerate() {
            let tokens: Vec<Vec<String>> = batch.iter().map(|d| raw.words(d)).collect();
            let mut sentences = Vec::new();
            let mut spans: Vec<(usize, usize)> = Vec::new();
            let mut bounds = vec![0usize];
            for toks in &tokens {
                for (start, len) in windows(toks.len(), params) {
                    sentences.push(toks[start..start + len].join(&params.separator));
                    spans.push((start, len));
                }
                bounds.push(sentences.len());
            }
            let sims = self
                .representation
                .doc_topic_similarity(&sentences, &analyzer)?
                .select(Axis(1), &cols)
                .mapv(|s| if s < params.min_similarity { 0.0 } else { s });
            for (d, toks) in tokens.iter().enumerate() {
                let (lo, hi) = (bounds[d], bounds[d + 1]);
                let mut row = documents.row_mut(b * BATCH + d);
                for w in lo..hi {
                    row += &sims.row(w);
                }
                let total: f64 = row.iter().map(|v| v.abs()).sum();
                if total > 0.0 {
                    row.mapv_inplace(|v| v / total);
                }
                if let Some(out) = tokens_out.as_mut() {
                    let mut values = Array2::<f64>::zeros((toks.len(), k));
                    for (w, &(start, len)) in spans.iter().enumerate().take(hi).skip(lo) {
                        for t in start..start + len {
                            let mut r = values.row_mut(t);
                            r += &sims.row(w);
                        }
                    }
                    out.push(TokenDistribution {
                        tokens: toks.clone(),
                        values,
                    });
                }
            }
        }
        Ok(TopicDistribution {
            topics,
            documents,
            tokens: tokens_out,
        })
    }
}

/// The (start, length) of each window over `n` tokens, BERTopic's order: the padded leading
/// windows first (with `padding`), then one every `stride` tokens; without padding only full
/// windows are kept. A document shorter than the window is one window (possibly empty).
fn windows(n: usize, p: &DistributionParams) -> Vec<(usize, usize)> {
    if n < p.window {
        return vec![(0, n)];
    }
    let mut out = Vec::new();
    if p.padding {
        let t = p.window.div_ceil(p.stride) - 1;
        for i in 0..t {
            out.push((0, p.window - (t - i) * p.stride));
        }
    }
    for start in (0..n).step_by(p.stride) {
        let len = p.window.min(n - start);
        if p.padding || len == p.window {
            out.push((start, len));
        }
    }
    out
}

/// `Document,Topic,Probability` rows with a non-zero share (long format, best topic first).
pub fn distribution_csv(d: &TopicDistribution) -> Result<Vec<u8>> {
    let mut rows = Vec::new();
    for (i, row) in d.documents.rows().into_iter().enumerate() {
        let mut cells: Vec<(i64, f64)> = d
            .topics
            .iter()
            .zip(row.iter())
            .filter(|(_, &p)| p > 0.0)
            .map(|(&t, &p)| (t, p))
            .collect();
        cells.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        for (t, p) in cells {
            rows.push(vec![i.to_string(), t.to_string(), format!("{p:.6}")]);
        }
    }
    super::csv_bytes(&["Document", "Topic", "Probability"], rows.into_iter())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_like_bertopic() {
        let p = DistributionParams::default();
        assert_eq!(windows(2, &p), vec![(0, 2)]);
        assert_eq!(windows(0, &p), vec![(0, 0)]);
        assert_eq!(windows(5, &p), vec![(0, 4), (1, 4)]);
        let padded = DistributionParams {
            padding: true,
            ..DistributionParams::default()
        };
        // Leading windows of 1, 2, 3 tokens, then every start with what is left.
        assert_eq!(
            windows(5, &padded),
            vec![
                (0, 1),
                (0, 2),
                (0, 3),
                (0, 4),
                (1, 4),
                (2, 3),
                (3, 2),
                (4, 1)
            ]
        );
        let strided = DistributionParams {
            stride: 2,
            ..DistributionParams::default()
        };
        assert_eq!(windows(7, &strided), vec![(0, 4), (2, 4)]);
    }
}
