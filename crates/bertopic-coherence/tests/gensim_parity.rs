//! Parity with gensim 4.4's CoherenceModel on the reference file
//! `shared/reference/coherence-gensim.json` (numbers and tolerances read from the file).

use bertopic_coherence::{CoherenceOptions, Measure, ReferenceCorpus};
use serde_json::Value;

use bertopic_testdata::shared_dir as shared;

fn reference() -> Value {
    let path = shared().join("reference/coherence-gensim.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("coherence-gensim.json is valid JSON")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_string())
        .collect()
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

struct Fixture {
    reference: Value,
    corpus: ReferenceCorpus,
    topics: Vec<Vec<String>>,
}

fn fixture() -> Fixture {
    let reference = reference();
    let texts: Vec<Vec<String>> = reference["texts"]
        .as_array()
        .expect("texts")
        .iter()
        .map(strings)
        .collect();
    let topics = reference["topics"]
        .as_array()
        .expect("topics")
        .iter()
        .map(|t| strings(&t["words"]))
        .collect();
    Fixture {
        corpus: ReferenceCorpus::new(&texts),
        reference,
        topics,
    }
}

#[test]
fn dictionary_matches_gensim() {
    let f = fixture();
    let n_terms = f.reference["dictionary"]["n_terms"].as_u64().unwrap() as usize;
    assert_eq!(f.corpus.vocabulary_size(), n_terms);
    assert_eq!(f.corpus.n_documents(), 300);
}

#[test]
fn every_measure_matches_gensim() {
    let f = fixture();
    let tol = &f.reference["tolerance"];
    let mean_tol = tol["mean_abs"].as_f64().unwrap();
    let topic_tol = tol["per_topic_abs"].as_f64().unwrap();
    let results = f.reference["results"].as_object().unwrap();
    assert_eq!(results.len(), 4, "one result per measure");
    let opts = CoherenceOptions::default();
    for (name, expected) in results {
        let measure: Measure = name.parse().unwrap();
        let got = f.corpus.coherence(&f.topics, measure, &opts).unwrap();
        let window = expected["window_size"].as_u64().map(|w| w as usize);
        assert_eq!(got.window_size, window, "{name}: window size");
        assert_eq!(
            got.n_virtual_documents as u64,
            expected["n_virtual_documents"].as_u64().unwrap(),
            "{name}: number of virtual documents"
        );
        assert_eq!(got.dropped_words, 0);
        let per_topic = f64s(&expected["per_topic"]);
        assert_eq!(got.per_topic.len(), per_topic.len());
        for (k, (g, e)) in got.per_topic.iter().zip(&per_topic).enumerate() {
            assert!(
                (g - e).abs() <= topic_tol,
                "{name} topic {k}: rust {g} vs gensim {e} (|Δ| {} > {topic_tol})",
                (g - e).abs()
            );
        }
        let mean = expected["mean"].as_f64().unwrap();
        assert!(
            (got.mean - mean).abs() <= mean_tol,
            "{name} mean: rust {} vs gensim {mean}",
            got.mean
        );
        eprintln!(
            "{name}: mean {:.10} (gensim {mean:.10}), max per-topic |Δ| {:.2e}",
            got.mean,
            got.per_topic
                .iter()
                .zip(&per_topic)
                .map(|(g, e)| (g - e).abs())
                .fold(0.0, f64::max)
        );
    }
}

#[test]
fn topic0_word_counts_match_gensim_exactly() {
    let f = fixture();
    let opts = CoherenceOptions::default();
    for (name, expected) in f.reference["results"].as_object().unwrap() {
        let measure: Measure = name.parse().unwrap();
        let counts = f.corpus.word_counts(&f.topics[0], measure, &opts).unwrap();
        let want: Vec<Option<u64>> = expected["topic0_word_counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64())
            .collect();
        assert_eq!(counts.counts, want, "{name}: topic 0 word counts");
        assert_eq!(
            counts.n_virtual_documents as u64,
            expected["n_virtual_documents"].as_u64().unwrap()
        );
    }
}

#[test]
fn without_the_quirk_counts_are_plain_window_sets() {
    // The reference notes that a plain per-window set count differs (e.g. 'people' at w = 10);
    // the quirk-free mode must therefore give higher counts than gensim for c_npmi.
    let f = fixture();
    let plain = CoherenceOptions {
        gensim_window_quirk: false,
        ..CoherenceOptions::default()
    };
    let quirk = CoherenceOptions::default();
    let a = f
        .corpus
        .word_counts(&f.topics[0], Measure::CNpmi, &plain)
        .unwrap();
    let b = f
        .corpus
        .word_counts(&f.topics[0], Measure::CNpmi, &quirk)
        .unwrap();
    assert_eq!(a.n_virtual_documents, b.n_virtual_documents);
    assert!(a.counts.iter().zip(&b.counts).all(|(x, y)| x >= y));
    assert!(a.counts.iter().zip(&b.counts).any(|(x, y)| x > y));
}
