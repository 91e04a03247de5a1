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

/// A model saved in format 1 (model.json holding the c-TF-IDF matrices, vocabulary and
/// per-document arrays; the training embeddings stored twice) loads and answers exactly as it
/// did when it was saved: `answers.json` was written beside it by the format-1 code (commit
/// bd701cb, this file's ignored `write_format1_fixture` test of that commit). Saved again
/// it is format 2 and still answers the same.
#[test]
fn a_format1_model_loads_and_answers_as_before() {
    let dir = fixture("model-format1");
    // Compared as the bytes written: floats are not parsed back (no rounding in between).
    let expected = std::fs::read(dir.join("answers.json")).unwrap();
    let answers = |m: &TopicModel| serde_json::to_vec_pretty(&answers(m)).unwrap();
    let old: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("model/model.json")).unwrap()).unwrap();
    assert_eq!(old["format_version"], 1);
    let model = TopicModel::load(&dir.join("model")).unwrap();
    assert!(
        answers(&model) == expected,
        "the format-1 model answers differently"
    );

    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("model");
    model.save(&path).unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path.join("model.json")).unwrap()).unwrap();
    assert_eq!(json["format_version"], bertopic::FORMAT_VERSION);
    assert_eq!(bertopic::FORMAT_VERSION, 2);
    let again = TopicModel::load(&path).unwrap();
    assert_eq!(again.topics(), model.topics());
    assert!(
        answers(&again) == expected,
        "saved again, it answers differently"
    );
}

/// Format 2: model.json holds nothing that grows with the documents or the vocabulary, the
/// tensors hold those arrays and the training embeddings once (UMAP's state refers to them),
/// and save → load → save writes the same bytes.
#[test]
fn format2_keeps_large_arrays_in_the_tensors_and_the_embeddings_once() {
    let (docs, emb) = corpus();
    let model = Bertopic::builder()
        .min_topic_size(10)
        .seed(42)
        .build()
        .unwrap()
        .fit_with_embeddings(&docs, emb)
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("model");
    model.save(&path).unwrap();

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path.join("model.json")).unwrap()).unwrap();
    for key in ["doc_topics", "doc_probs"] {
        assert!(json.get(key).is_none(), "{key} is in model.json");
    }
    let rep = json["representation"].as_object().unwrap();
    for key in ["vocabulary", "counts", "ctfidf", "idf"] {
        assert!(
            !rep.contains_key(key),
            "representation.{key} is in model.json"
        );
    }
    assert_eq!(json["n_documents"], 150);
    assert!(json["topics"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["representative_docs"]
            .as_array()
            .is_some_and(|d| d.is_empty())));
    assert_eq!(json["reducer"]["training_data"], "embeddings");
    assert!(json["reducer"]["arrays"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a != "reducer.train_data"));

    // Any safetensors reader reads the file; the embeddings are in it once.
    let bytes = std::fs::read(path.join("model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let names = st.names();
    for name in [
        "embeddings",
        "doc_topics",
        "doc_probs",
        "representation.vocabulary.utf8",
        "representation.counts.indices",
        "representation.ctfidf.values",
        "representation.idf",
        "topics.representative_docs.utf8",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    let big = st
        .tensors()
        .into_iter()
        .filter(|(_, t)| t.shape() == [150, 12])
        .count();
    assert_eq!(big, 1, "the 150 x 12 training embeddings are stored once");

    let loaded = TopicModel::load(&path).unwrap();
    assert_eq!(answers(&loaded), answers(&model));
    assert_eq!(loaded.topics(), model.topics());
    assert!(loaded.topics()[0].representative_docs.len() == 3);
    let path2 = tmp.path().join("again");
    loaded.save(&path2).unwrap();
    for f in ["model.json", "model.safetensors"] {
        assert!(
            std::fs::read(path.join(f)).unwrap() == std::fs::read(path2.join(f)).unwrap(),
            "{f} differs after save -> load -> save"
        );
    }

    // A damaged file is a typed error, never a panic.
    std::fs::write(path2.join("model.safetensors"), &bytes[..bytes.len() / 2]).unwrap();
    let Err(err) = TopicModel::load(&path2) else {
        panic!("a truncated model.safetensors loaded");
    };
    assert!(err.to_string().contains("ends early"), "{err}");
}
