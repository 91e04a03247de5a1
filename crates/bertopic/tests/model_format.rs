//! Saved-model format: a model saved by an older format still loads and predicts as it did.
//! Synthetic embeddings (one direction per subject plus a little noise): nothing to download.

use std::path::PathBuf;

use bertopic::ndarray::Array2;
use bertopic::{Bertopic, PredictOptions, PredictStrategy, TopicModel};

fn corpus() -> (Vec<String>, Array2<f32>) {
    let subjects = [
        ["rocket", "orbit", "moon", "launch", "astronaut"],
        ["oil", "gas", "energy", "price", "barrel"],
        ["goal", "match", "team", "league", "football"],
    ];
    let docs: Vec<String> = (0..150)
        .map(|i| {
            let w = &subjects[i % 3];
            format!(
                "doc {i}: the {} and the {} of the {}",
                w[i % 5],
                w[(i / 3) % 5],
                w[(i / 7) % 5]
            )
        })
        .collect();
    let emb = Array2::from_shape_fn((150, 12), |(i, j)| {
        let subject = if j % 3 == i % 3 { 1.0 } else { 0.0 };
        subject + ((i * 31 + j * 17) % 13) as f32 * 0.03 + (i * (j == 0) as usize) as f32 * 1e-3
    });
    (docs, emb)
}

/// New documents: every training embedding moved a little, so none is a training row.
fn queries() -> Array2<f32> {
    let (_, mut e) = corpus();
    for (i, v) in e.iter_mut().enumerate() {
        *v += if i % 3 == 0 { 2e-2 } else { -1e-2 };
    }
    e
}

fn strategies() -> Vec<(&'static str, PredictOptions)> {
    vec![
        (
            "knn",
            PredictOptions {
                keep_known: false,
                ..PredictOptions::default()
            },
        ),
        (
            "umap",
            PredictOptions {
                keep_known: false,
                ..PredictOptions::with_strategy(PredictStrategy::Umap)
            },
        ),
    ]
}

/// What a model answers: its topics, its documents' topics and probabilities, and its
/// predictions for [`queries`] under each strategy.
fn answers(model: &TopicModel) -> serde_json::Value {
    let q = queries();
    let blank = vec![String::new(); q.nrows()];
    let mut predictions = serde_json::Map::new();
    for (name, opts) in strategies() {
        let (t, p) = model.transform_embeddings_with(&blank, &q, &opts).unwrap();
        predictions.insert(name.into(), serde_json::json!({"topics": t, "probs": p}));
    }
    serde_json::json!({
        "topics": model.topic_info().iter().map(|t| serde_json::json!({
            "id": t.topic, "count": t.count, "name": t.name, "words": t.representation,
        })).collect::<Vec<_>>(),
        "document_topics": model.document_topics(),
        "document_probabilities": model.document_probabilities(),
        "predictions": predictions,
    })
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Writes the format-1 fixture. Run once, at the commit that still saved format 1.
#[test]
#[ignore = "writes tests/data/model-format1; run only with the format-1 saver"]
fn write_format1_fixture() {
    let (docs, emb) = corpus();
    let model = Bertopic::builder()
        .min_topic_size(10)
        .seed(42)
        .build()
        .unwrap()
        .fit_with_embeddings(&docs, emb)
        .unwrap();
    let dir = fixture("model-format1");
    model.save(&dir.join("model")).unwrap();
    let loaded = TopicModel::load(&dir.join("model")).unwrap();
    let a = answers(&loaded);
    assert_eq!(a, answers(&model));
    std::fs::write(
        dir.join("answers.json"),
        serde_json::to_vec_pretty(&a).unwrap(),
    )
    .unwrap();
}
