//! Behaviour of `fit` and the fitted representation on small hand-made corpora.

use bertopic_represent::{
    fit, fit_with_embedder, RepresentError, RepresentParams, TopicRepresentation, VectorizerParams,
};
use ndarray::Array2;
use proptest::prelude::*;

fn ws(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_lowercase).collect()
}

fn corpus() -> (Vec<String>, Vec<i64>) {
    let docs = [
        "oil gas prices",
        "gas oil energy",
        "energy prices oil",
        "moon rocket space",
        "space moon landing",
        "rocket launch space",
        "misc words here oil",
    ];
    (
        docs.iter().map(|s| s.to_string()).collect(),
        vec![0, 0, 0, 1, 1, 1, -1],
    )
}

#[test]
fn topics_sizes_and_representative_docs() {
    let (docs, labels) = corpus();
    let rep = fit(&docs, &labels, &ws, &RepresentParams::default()).unwrap();
    assert_eq!(rep.topic_ids, vec![-1, 0, 1]);
    assert_eq!(rep.sizes, vec![1, 3, 3]);
    assert_eq!(rep.words[1][0].0, "oil");
    assert_eq!(rep.representative_docs[1].len(), 3);
    assert_eq!(rep.representative_docs[0], vec![6]);
    rep.check().unwrap();
    // Every representative doc belongs to its topic.
    for (t, ds) in rep.representative_docs.iter().enumerate() {
        assert!(ds.iter().all(|&d| labels[d] == rep.topic_ids[t]));
    }
}

#[test]
fn doc_topic_similarity_picks_the_right_topic() {
    let (docs, labels) = corpus();
    let rep = fit(&docs, &labels, &ws, &RepresentParams::default()).unwrap();
    let new = vec![
        "oil and gas".to_string(),
        "a rocket to the moon".to_string(),
        "zzz".to_string(),
    ];
    let s = rep.doc_topic_similarity(&new, &ws).unwrap();
    assert_eq!(s.shape(), &[3, 3]);
    assert!(s[[0, 1]] > s[[0, 2]] && s[[1, 2]] > s[[1, 1]]);
    assert!(s.row(2).iter().all(|&v| v == 0.0));
    assert!(s.iter().all(|v| (0.0..=1.0 + 1e-12).contains(v)));
}

#[test]
fn pruning_follows_sklearn() {
    let (docs, labels) = corpus();
    let p = RepresentParams {
        vectorizer: VectorizerParams {
            min_df: 2,
            ..Default::default()
        },
        ..Default::default()
    };
    let rep = fit(&docs, &labels, &ws, &p).unwrap();
    // Only terms present in two or more topics survive.
    assert_eq!(rep.vocabulary, vec!["oil"]);
    let p = RepresentParams {
        vectorizer: VectorizerParams {
            max_features: Some(2),
            ..Default::default()
        },
        ..Default::default()
    };
    let rep = fit(&docs, &labels, &ws, &p).unwrap();
    assert_eq!(rep.vocabulary, vec!["oil", "space"]);
    let p = RepresentParams {
        vectorizer: VectorizerParams {
            min_df: 5,
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(matches!(
        fit(&docs, &labels, &ws, &p),
        Err(RepresentError::NoTermsAfterPruning(_)) | Err(RepresentError::InvalidParams(_))
    ));
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let (docs, labels) = corpus();
    assert!(matches!(
        fit(&docs, &labels[..2], &ws, &RepresentParams::default()),
        Err(RepresentError::LengthMismatch { .. })
    ));
    assert!(matches!(
        fit(&[], &[], &ws, &RepresentParams::default()),
        Err(RepresentError::NoDocuments)
    ));
    let none = |_: &str| Vec::<String>::new();
    assert!(matches!(
        fit(&docs, &labels, &none, &RepresentParams::default()),
        Err(RepresentError::EmptyVocabulary)
    ));
    let p = RepresentParams {
        top_n_words: 0,
        ..Default::default()
    };
    assert!(fit(&docs, &labels, &ws, &p).is_err());
    let p = RepresentParams {
        mmr_diversity: Some(0.3),
        ..Default::default()
    };
    assert!(matches!(
        fit(&docs, &labels, &ws, &p),
        Err(RepresentError::InvalidParams(_))
    ));
    // A corrupt (e.g. hand-edited) representation is reported, not indexed out of bounds.
    let mut rep = fit(&docs, &labels, &ws, &RepresentParams::default()).unwrap();
    rep.idf.pop();
    assert!(matches!(
        rep.doc_topic_similarity(&docs, &ws),
        Err(RepresentError::Corrupt(_))
    ));
}

#[test]
fn serde_round_trip() {
    let (docs, labels) = corpus();
    let rep = fit(&docs, &labels, &ws, &RepresentParams::default()).unwrap();
    let json = serde_json::to_string(&rep).unwrap();
    let back: TopicRepresentation = serde_json::from_str(&json).unwrap();
    assert_eq!(back, rep);
    TopicRepresentation::default().check().unwrap();
}

/// Deterministic fake embedding: bag of letters.
fn letters(texts: &[String]) -> Result<Array2<f32>, String> {
    Ok(Array2::from_shape_fn((texts.len(), 26), |(i, j)| {
        texts[i]
            .bytes()
            .filter(|b| (*b as usize).wrapping_sub(b'a' as usize) == j)
            .count() as f32
    }))
}

#[test]
fn mmr_and_keybert_via_embedder() {
    let (docs, labels) = corpus();
    let p = RepresentParams {
        top_n_words: 2,
        mmr_diversity: Some(0.5),
        ..Default::default()
    };
    let rep = fit_with_embedder(&docs, &labels, &ws, &p, Some(&letters)).unwrap();
    for (t, w) in rep.words.iter().enumerate() {
        assert!(w.len() <= 2);
        // MMR keeps c-TF-IDF order: weights are non-increasing.
        assert!(w.windows(2).all(|p| p[0].1 >= p[1].1), "topic {t}");
    }
    let emb = letters(&docs).unwrap();
    let kb = rep.keybert(emb.view(), &letters, 100).unwrap();
    assert_eq!(kb.len(), rep.topic_ids.len());
    assert!(kb
        .iter()
        .all(|w| w.len() <= 2 && w.iter().all(|(_, s)| s.is_finite())));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn fit_never_panics_and_is_deterministic(
        docs in prop::collection::vec("[a-e ]{0,30}", 1..30),
        seed in prop::collection::vec(-1i64..4, 30),
        bm25 in any::<bool>(),
        reduce in any::<bool>(),
    ) {
        let labels: Vec<i64> = docs.iter().enumerate().map(|(i, _)| seed[i]).collect();
        let p = RepresentParams {
            ctfidf: bertopic_represent::CtfidfParams { bm25_weighting: bm25, reduce_frequent_words: reduce },
            ..Default::default()
        };
        let chars = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        let a = fit(&docs, &labels, &chars, &p);
        let b = fit(&docs, &labels, &chars, &p);
        match (a, b) {
            (Ok(a), Ok(b)) => {
                prop_assert!(a.ctfidf.values.iter().all(|v| v.is_finite()));
                prop_assert!(a.idf.iter().all(|v| v.is_finite()));
                prop_assert_eq!(&a, &b);
                let s = a.doc_topic_similarity(&docs, &chars).unwrap();
                prop_assert!(s.iter().all(|v| v.is_finite()));
            }
            (Err(RepresentError::EmptyVocabulary), Err(RepresentError::EmptyVocabulary)) => {}
            (a, b) => prop_assert!(false, "unexpected {:?} / {:?}", a.err(), b.err()),
        }
    }
}
