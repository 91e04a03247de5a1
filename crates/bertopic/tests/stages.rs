//! Caller-supplied stages: a custom topic-word representer on a fitted model, and a search
//! (`tune_with_stages`) over a clusterer other than HDBSCAN. Synthetic embeddings: no model.

use bertopic::cluster::{Clusterer, KMeans, KMeansParams};
use bertopic::ndarray::Array2;
use bertopic::represent::{RepresentError, RepresentInput};
use bertopic::tune::{self, TuneParams, TuneStages};
use bertopic::{Bertopic, BertopicParams, Representer};

fn corpus() -> (Vec<String>, Array2<f32>) {
    let subjects = [
        ["rocket", "orbit", "moon", "launch", "astronaut"],
        ["oil", "gas", "energy", "price", "barrel"],
        ["goal", "match", "team", "league", "football"],
    ];
    let docs: Vec<String> = (0..90)
        .map(|i| {
            let w = &subjects[i % 3];
            format!(
                "the {} and the {} of the {}",
                w[i % 5],
                w[(i / 3) % 5],
                w[(i / 7) % 5]
            )
        })
        .collect();
    let embeddings = Array2::from_shape_fn((90, 12), |(i, j)| {
        let subject = if j % 3 == i % 3 { 1.0 } else { 0.0 };
        subject + ((i * 31 + j * 17) % 13) as f32 * 0.01
    });
    (docs, embeddings)
}

/// Keeps the c-TF-IDF order but shouts the words: easy to tell from the default.
struct Shout;

impl Representer for Shout {
    fn name(&self) -> &str {
        "shout"
    }
    fn needs_embedder(&self) -> bool {
        false
    }
    fn words(&self, input: &RepresentInput<'_>) -> Result<Vec<Vec<(String, f64)>>, RepresentError> {
        Ok(input
            .representation
            .words
            .iter()
            .map(|ws| ws.iter().map(|(w, s)| (w.to_uppercase(), *s)).collect())
            .collect())
    }
}

#[test]
fn a_custom_representer_replaces_the_words_and_keeps_the_topics() {
    let (docs, embeddings) = corpus();
    let mut model = Bertopic::builder()
        .min_topic_size(10)
        .build()
        .unwrap()
        .fit_with_embeddings(&docs, embeddings)
        .unwrap();
    let before: Vec<(i64, Vec<String>)> = model
        .topics()
        .iter()
        .map(|t| (t.id, t.words.iter().map(|(w, _)| w.clone()).collect()))
        .collect();
    let assigned = model.document_topics().to_vec();
    model.represent_with(&docs, &Shout).unwrap();
    assert_eq!(model.document_topics(), &assigned[..]);
    for (t, (id, words)) in model.topics().iter().zip(&before) {
        assert_eq!(t.id, *id);
        let now: Vec<String> = t.words.iter().map(|(w, _)| w.clone()).collect();
        let shouted: Vec<String> = words.iter().map(|w| w.to_uppercase()).collect();
        assert_eq!(now, shouted);
    }
    // Another corpus is refused, as for every edit that refits words.
    let mut other = docs.clone();
    other.swap(0, 1);
    assert!(model.represent_with(&other, &Shout).is_err());
}

#[test]
fn tuning_runs_the_given_clusterer() {
    let (docs, embeddings) = corpus();
    let base = BertopicParams::default().check().unwrap();
    // k-means with k = the trial's min_topic_size / 4 (3 for 12, 4 for 16): the search must
    // reach the caller's stage, whose topic counts HDBSCAN would not give.
    let stages = TuneStages {
        clusterer: Box::new(|p: &bertopic::CheckedParams| {
            let k = KMeans::new(KMeansParams {
                n_clusters: p.min_topic_size / 4,
                seed: p.seed,
                ..KMeansParams::default()
            })?;
            Ok(Box::new(k) as Box<dyn Clusterer>)
        }),
        ..TuneStages::default()
    };
    let search = TuneParams {
        min_cluster_sizes: Some(vec![12, 16]),
        max_trials: None,
        ..TuneParams::default()
    };
    let out =
        tune::tune_with_stages(&base, &search, &docs, &embeddings, None, &stages, |_| {}).unwrap();
    let topics: Vec<usize> = out
        .experiment
        .trials
        .iter()
        .map(|t| t.metrics.n_topics)
        .collect();
    assert_eq!(topics, vec![3, 4]);
    // A bad grid value fails the search before any work, naming the field.
    let bad = TuneParams {
        n_neighbors: vec![1],
        ..search
    };
    let err = tune::tune_with_stages(&base, &bad, &docs, &embeddings, None, &stages, |_| {})
        .err()
        .expect("n_neighbors 1 is refused");
    assert!(
        matches!(&err, bertopic::BertopicError::Param(e) if e.field() == "umap.n_neighbors"),
        "{err}"
    );
}
