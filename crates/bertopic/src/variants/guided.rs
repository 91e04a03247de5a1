//! Guided topic modelling (BERTopic's `seed_topic_list`): seed-topic embeddings nudge the
//! documents most similar to them, and seed words get a higher c-TF-IDF weight.

use ndarray::{Array2, Axis};

use crate::model::cosine_matrix;

/// BERTopic's weight of the seed topic in a nudged document embedding.
const SEED_WEIGHT: f32 = 0.25;
/// Labels each document with its most similar seed topic, or −1 when the mean document
/// embedding is more similar than every seed topic, and moves each labelled document a quarter
/// of the way to its seed topic's embedding. Returns the labels (the reduction's target).
pub(crate) fn nudge(embeddings: &mut Array2<f32>, seeds: &Array2<f32>) -> Vec<i64> {
    let mean = embeddings
        .mean_axis(Axis(0))
        .unwrap_or_else(|| ndarray::Array1::zeros(embeddings.ncols()));
    let mut targets = seeds.clone();
    targets.push_row(mean.view()).ok();
    let sims = cosine_matrix(embeddings.view(), targets.view());
    let n_seeds = seeds.nrows();
    let labels: Vec<i64> = sims
        .rows()
        .into_iter()
        .map(|r| {
            let mut best = (0usize, f64::NEG_INFINITY);
            for (j, &s) in r.iter().enumerate() {
                if s > best.1 {
                    best = (j, s);
                }
            }
            if best.0 == n_seeds {
                -1
            } else {
                best.0 as i64
            }
        })
        .collect();
    for (mut row, &l) in embeddings.rows_mut().into_iter().zip(&labels) {
        if l >= 0 {
            let seed = seeds.row(l as usize);
            row.zip_mut_with(&seed, |x, &s| {
                *x = *x * (1.0 - SEED_WEIGHT) + s * SEED_WEIGHT
            });
        }
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nudges_towards_the_nearest_seed_only() {
        let mut e = ndarray::arr2(&[[1.0f32, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 0.7]]);
        let seeds = ndarray::arr2(&[[1.0f32, 0.1, 0.0], [0.0, 1.0, 0.1]]);
        let y = nudge(&mut e, &seeds);
        assert_eq!(y, vec![0, 1, -1]);
        assert!((e[[0, 1]] - 0.025).abs() < 1e-6);
        assert_eq!(e.row(2).to_vec(), vec![0.5, 0.5, 0.7]);
    }
}
