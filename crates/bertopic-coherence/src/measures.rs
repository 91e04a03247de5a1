//! Confirmation measures on top of the counts, with gensim's formulas and segmentations.

use crate::counting::{Counts, PairIndex};

/// Added inside every logarithm, as gensim does, so that unseen pairs stay finite.
pub(crate) const EPSILON: f64 = 1e-12;

/// Probabilities from the counts (`count / number of virtual documents`).
pub(crate) struct Probabilities<'a> {
    pub(crate) counts: &'a Counts,
    pub(crate) index: &'a PairIndex,
    pub(crate) n: f64,
}

impl Probabilities<'_> {
    fn p(&self, a: u32) -> f64 {
        self.counts.occurrences[a as usize] as f64 / self.n
    }

    fn p_joint(&self, a: u32, b: u32) -> f64 {
        self.counts.co(self.index, a, b) as f64 / self.n
    }

    /// PMI: `log((P(a,b) + ε) / (P(a) P(b)))`.
    fn log_ratio(&self, a: u32, b: u32) -> f64 {
        let denominator = self.p(a) * self.p(b);
        if denominator == 0.0 {
            // Cannot happen for dictionary words (each occurs in some window); stay finite.
            return 0.0;
        }
        ((self.p_joint(a, b) + EPSILON) / denominator).ln()
    }

    /// NPMI: PMI / `-log(P(a,b) + ε)`.
    fn normalized_log_ratio(&self, a: u32, b: u32) -> f64 {
        self.log_ratio(a, b) / -(self.p_joint(a, b) + EPSILON).ln()
    }

    /// `log((P(w', w*) + ε) / P(w*))`.
    fn log_conditional(&self, w_prime: u32, w_star: u32) -> f64 {
        let p_star = self.p(w_star);
        if p_star == 0.0 {
            // gensim scores a zero-count conditioning word as 0.
            return 0.0;
        }
        ((self.p_joint(w_prime, w_star) + EPSILON) / p_star).ln()
    }

    /// Mean over all ordered pairs of distinct positions (gensim's one-one segmentation).
    pub(crate) fn one_one(&self, topic: &[u32], normalize: bool) -> f64 {
        let mut sum = 0.0;
        let mut n = 0usize;
        for (i, &a) in topic.iter().enumerate() {
            for (j, &b) in topic.iter().enumerate() {
                if i == j {
                    continue;
                }
                sum += if normalize {
                    self.normalized_log_ratio(a, b)
                } else {
                    self.log_ratio(a, b)
                };
                n += 1;
            }
        }
        sum / n as f64
    }

    /// u_mass: mean over pairs (later word, earlier word) of the log conditional probability
    /// given the earlier word (gensim's one-preceding segmentation).
    pub(crate) fn one_preceding(&self, topic: &[u32]) -> f64 {
        let mut sum = 0.0;
        let mut n = 0usize;
        for (i, &w_prime) in topic.iter().enumerate().skip(1) {
            for &w_star in &topic[..i] {
                sum += self.log_conditional(w_prime, w_star);
                n += 1;
            }
        }
        sum / n as f64
    }

    /// c_v: for every topic word, the cosine between its NPMI context vector and the topic's
    /// (one-set segmentation, gamma = 1), averaged over the topic's words.
    ///
    /// Context vectors have one coordinate per distinct topic word; a repeated word adds into
    /// its coordinate, as gensim's sparse vectors do.
    pub(crate) fn one_set_cosine(&self, topic: &[u32]) -> f64 {
        let n = topic.len();
        let mut coords: Vec<u32> = topic.to_vec();
        coords.sort_unstable();
        coords.dedup();
        let m = coords.len();
        let coord_of: Vec<usize> = topic
            .iter()
            .map(|w| coords.binary_search(w).unwrap_or(0))
            .collect();
        // NPMI between distinct words (symmetric).
        let mut npmi = vec![0.0f64; m * m];
        for a in 0..m {
            for b in a..m {
                let v = self.normalized_log_ratio(coords[a], coords[b]);
                npmi[a * m + b] = v;
                npmi[b * m + a] = v;
            }
        }
        let sim = |i: usize, j: usize| npmi[coord_of[i] * m + coord_of[j]];
        // Topic vector: coordinate of word j sums NPMI(w_i, w_j) over all topic words w_i.
        let mut topic_vec = vec![0.0f64; m];
        for j in 0..n {
            for i in 0..n {
                topic_vec[coord_of[j]] += sim(i, j);
            }
        }
        let topic_norm = topic_vec.iter().map(|v| v * v).sum::<f64>().sqrt();
        let mut word_vec = vec![0.0f64; m];
        let mut sum = 0.0;
        for i in 0..n {
            word_vec.iter_mut().for_each(|v| *v = 0.0);
            for j in 0..n {
                word_vec[coord_of[j]] += sim(i, j);
            }
            let dot: f64 = word_vec.iter().zip(&topic_vec).map(|(a, b)| a * b).sum();
            let norm = word_vec.iter().map(|v| v * v).sum::<f64>().sqrt();
            let denominator = norm * topic_norm;
            // gensim would give NaN for an all-zero vector; 0 keeps the mean usable.
            sum += if denominator > 0.0 {
                dot / denominator
            } else {
                0.0
            };
        }
        sum / n as f64
    }
}
