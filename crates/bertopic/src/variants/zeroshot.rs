//! Zero-shot assignment: each document goes to its most similar topic name when the cosine
//! similarity reaches the threshold (BERTopic's zero-shot step 1).

use ndarray::Array2;

use crate::model::cosine_matrix;

/// Per document, the index of its zero-shot topic, or `None` when no name is similar enough.
/// Ties go to the earlier name.
pub(crate) fn assign(
    docs: &Array2<f32>,
    names: &Array2<f32>,
    min_similarity: f64,
) -> Vec<Option<usize>> {
    let sims = cosine_matrix(docs.view(), names.view());
    sims.rows()
        .into_iter()
        .map(|r| {
            let mut best: Option<(usize, f64)> = None;
            for (j, &s) in r.iter().enumerate() {
                if best.is_none_or(|(_, b)| s > b) {
                    best = Some((j, s));
                }
            }
            best.filter(|&(_, s)| s >= min_similarity).map(|(j, _)| j)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_and_argmax() {
        let docs = ndarray::arr2(&[[1.0f32, 0.0], [0.6, 0.8], [0.0, 1.0], [-1.0, 0.0]]);
        let names = ndarray::arr2(&[[1.0f32, 0.0], [0.0, 1.0]]);
        assert_eq!(
            assign(&docs, &names, 0.7),
            vec![Some(0), Some(1), Some(1), None]
        );
        assert_eq!(
            assign(&docs, &names, 0.9),
            vec![Some(0), None, Some(1), None]
        );
    }
}
