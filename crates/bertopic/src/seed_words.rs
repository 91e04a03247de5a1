//! Guided modelling's seed-word boost (BERTopic's `seed_topic_list`): seed words weigh 1.2× in
//! c-TF-IDF. It applies wherever topic words are fitted (the pipeline, tuning, every later
//! refit), so it sits below all of them, apart from the rest of guided modelling
//! ([`crate::variants`]), which uses the fitted model.

use std::collections::HashSet;

use crate::represent::TopicRepresentation;

/// BERTopic's c-TF-IDF idf multiplier for seed words.
pub(crate) const SEED_MULTIPLIER: f64 = 1.2;

/// Multiplies the idf (so every c-TF-IDF weight) of the seed words by 1.2, as BERTopic does
/// for `seed_topic_list`, and re-picks each topic's top words.
pub(crate) fn boost_seed_words(
    repr: &mut TopicRepresentation,
    seeds: &[Vec<String>],
    top_n: usize,
) {
    if seeds.is_empty() {
        return;
    }
    let words: HashSet<&str> = seeds.iter().flatten().map(String::as_str).collect();
    let boosted: Vec<bool> = repr
        .vocabulary
        .iter()
        .map(|t| words.contains(t.as_str()))
        .collect();
    if !boosted.iter().any(|&b| b) {
        return;
    }
    for (i, idf) in repr.idf.iter_mut().enumerate() {
        if boosted[i] {
            *idf *= SEED_MULTIPLIER;
        }
    }
    // c-TF-IDF is linear in idf, so scaling the seed columns equals refitting with the boost.
    for (c, v) in repr
        .ctfidf
        .indices
        .iter()
        .zip(repr.ctfidf.values.iter_mut())
    {
        if boosted[*c] {
            *v *= SEED_MULTIPLIER;
        }
    }
    repr.words = (0..repr.topic_ids.len())
        .map(|t| repr.top_words(t, top_n))
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 1.2x boost on the same assignments: every seed word ranks at least as high in every
    /// topic as without it, its weight is exactly 1.2x, and other words keep their weights.
    /// ("segmentation", 6 times, sits just below "frames", 7 times, until boosted.)
    #[test]
    fn boost_raises_seed_words_on_the_same_topics() {
        let docs: Vec<String> = [
            "frames frames frames segmentation segmentation image camera",
            "frames frames segmentation segmentation video",
            "frames frames segmentation segmentation pixels",
            "language translation of text and grammar",
            "grammar text language corpus tokens",
            "translation tokens corpus language text",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let labels = [0, 0, 0, 1, 1, 1];
        let analyzer = |t: &str| -> Vec<String> { t.split(' ').map(String::from).collect() };
        let params = bertopic_represent::RepresentParams::default();
        let plain = bertopic_represent::fit(&docs, &labels, &analyzer, &params).unwrap();
        let mut boosted = plain.clone();
        let seeds = vec![vec!["segmentation".to_string(), "camera".to_string()]];
        let n = plain.vocabulary.len();
        boost_seed_words(&mut boosted, &seeds, n);
        let mut some_raised = false;
        for (t, after) in boosted.words.iter().enumerate() {
            let before = plain.top_words(t, n);
            let rank = |words: &[(String, f64)], w: &str| words.iter().position(|(x, _)| x == w);
            for (w, pw) in &before {
                let bw = after.iter().find(|(x, _)| x == w).unwrap().1;
                if seeds[0].contains(w) {
                    assert_eq!(bw, pw * SEED_MULTIPLIER, "{w}");
                    let (b, p) = (rank(after, w), rank(&before, w));
                    assert!(b <= p, "seed word {w} in topic {t}: rank {b:?} vs {p:?}");
                    some_raised |= b < p;
                } else {
                    assert_eq!(bw, *pw, "{w}");
                }
            }
        }
        assert!(some_raised, "the boost moved no seed word up");
    }
}
