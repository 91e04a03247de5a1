//! Parity with gensim on a large realistic case: Python BERTopic's 139 topics on sotu-chunks
//! (812k tokens, so the counting runs in many parallel chunks). Reference numbers and
//! tolerances come from `tests/data/sotu-bertopic-gensim.json` (see
//! `scripts/make_sotu_fixture.py`).

mod support;

use bertopic_coherence::{CoherenceOptions, Measure, ReferenceCorpus};
use serde_json::Value;

#[test]
fn bertopic_topics_on_sotu_match_gensim() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sotu-bertopic-gensim.json"
    );
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("valid JSON");
    let texts = support::sotu::sotu_texts(&support::sotu::shared());
    let corpus = ReferenceCorpus::new(&texts);
    assert_eq!(
        corpus.n_documents() as u64,
        fixture["n_texts"].as_u64().unwrap()
    );
    assert_eq!(
        corpus.n_tokens() as u64,
        fixture["n_tokens"].as_u64().unwrap()
    );
    assert_eq!(
        corpus.vocabulary_size() as u64,
        fixture["n_terms"].as_u64().unwrap()
    );
    let topics: Vec<Vec<String>> = serde_json::from_value(fixture["topics"].clone()).unwrap();
    let mean_tol = fixture["tolerance"]["mean_abs"].as_f64().unwrap();
    let topic_tol = fixture["tolerance"]["per_topic_abs"].as_f64().unwrap();
    for (name, expected) in fixture["results"].as_object().unwrap() {
        let measure: Measure = name.parse().unwrap();
        let got = corpus
            .coherence(&topics, measure, &CoherenceOptions::default())
            .unwrap();
        assert_eq!(
            got.dropped_words as u64,
            fixture["dropped_words"].as_u64().unwrap(),
            "topic words missing from the texts"
        );
        assert_eq!(
            got.n_virtual_documents as u64,
            expected["n_virtual_documents"].as_u64().unwrap(),
            "{name}: virtual documents"
        );
        let per_topic: Vec<f64> = serde_json::from_value(expected["per_topic"].clone()).unwrap();
        assert_eq!(got.per_topic.len(), per_topic.len());
        for (k, (g, e)) in got.per_topic.iter().zip(&per_topic).enumerate() {
            assert!(
                (g - e).abs() <= topic_tol,
                "{name} topic {k}: rust {g} vs gensim {e}"
            );
        }
        let mean = expected["mean"].as_f64().unwrap();
        assert!(
            (got.mean - mean).abs() <= mean_tol,
            "{name} mean: rust {} vs gensim {mean}",
            got.mean
        );
    }
}
