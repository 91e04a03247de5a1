//! Training documents keep their topic through save/load (the stored text hashes), models saved
//! before the hashes existed still load and predict, and bad k-NN settings are refused.
//! Synthetic embeddings (one direction per subject plus a little noise): nothing to download.

use bertopic::ndarray::Array2;
use bertopic::{Bertopic, BertopicError, KnnParams, PredictOptions, PredictStrategy, TopicModel};
use sha2::{Digest, Sha256};

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
        // The last term makes every row distinct (the pattern repeats every 39 rows).
        subject + ((i * 31 + j * 17) % 13) as f32 * 0.03 + (i * (j == 0) as usize) as f32 * 1e-3
    });
    (docs, emb)
}

fn fit() -> (TopicModel, Vec<String>, Array2<f32>) {
    let (docs, emb) = corpus();
    let model = Bertopic::builder()
        .min_topic_size(10)
        .seed(42)
        .build()
        .unwrap()
        .fit_with_embeddings(&docs, emb.clone())
        .unwrap();
    (model, docs, emb)
}

/// Every value moved a little: no embedding is bit-for-bit a training row any more.
fn nudged(emb: &Array2<f32>) -> Array2<f32> {
    let mut e = emb.clone();
    for (i, v) in e.iter_mut().enumerate() {
        *v += if i % 2 == 0 { 1e-4 } else { -1e-4 };
    }
    e
}

fn umap(keep_known: bool) -> PredictOptions {
    PredictOptions {
        keep_known,
        ..PredictOptions::with_strategy(PredictStrategy::Umap)
    }
}

#[test]
fn saved_models_recognise_training_texts_and_embeddings() {
    let (model, docs, emb) = fit();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model");
    model.save(&path).unwrap();
    let loaded = TopicModel::load(&path).unwrap();
    let fitted = model.document_topics();
    let blank = vec![String::new(); docs.len()];
    let moved = nudged(&emb);
    for m in [&model, &loaded] {
        // Same embedding bits: the fitted topic and probability, whatever the strategy.
        for opts in [PredictOptions::default(), umap(true)] {
            let (t, p) = m.transform_embeddings_with(&blank, &emb, &opts).unwrap();
            assert_eq!(t, fitted);
            assert_eq!(p, model.document_probabilities());
        }
        // Same text (whitespace aside), slightly different embedding: the fitted topic.
        let spaced: Vec<String> = docs
            .iter()
            .map(|d| format!("  {}\n", d.replace(' ', "  ")))
            .collect();
        let (t, _) = m
            .transform_embeddings_with(&spaced, &moved, &umap(true))
            .unwrap();
        assert_eq!(t, fitted);
    }
    // The default path keeps near-duplicates in place without any lookup.
    let knn_only = PredictOptions {
        keep_known: false,
        ..PredictOptions::default()
    };
    let (t, _) = loaded
        .transform_embeddings_with(&blank, &moved, &knn_only)
        .unwrap();
    assert_eq!(t, fitted);
    // Both strategies agree between the original and the reloaded model.
    for opts in [PredictOptions::default(), umap(false)] {
        assert_eq!(
            model
                .transform_embeddings_with(&blank, &moved, &opts)
                .unwrap(),
            loaded
                .transform_embeddings_with(&blank, &moved, &opts)
                .unwrap()
        );
    }
}

/// A model folder as saved before the text hashes existed: the same files without the
/// `doc_text_hashes` tensor (and model.json's checksum updated to match).
fn strip_text_hashes(path: &std::path::Path) {
    let st_path = path.join("model.safetensors");
    let bytes = std::fs::read(&st_path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert!(
        st.names().contains(&"doc_text_hashes"),
        "new models store the text hashes"
    );
    let kept: Vec<(String, safetensors::tensor::TensorView<'_>)> = st
        .tensors()
        .into_iter()
        .filter(|(n, _)| n != "doc_text_hashes")
        .collect();
    let old = safetensors::tensor::serialize(kept, None).unwrap();
    let json_path = path.join("model.json");
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    let sha: String = Sha256::digest(&old)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    json["tensors_sha256"] = serde_json::Value::String(sha);
    std::fs::write(&st_path, old).unwrap();
    std::fs::write(&json_path, serde_json::to_vec(&json).unwrap()).unwrap();
}

#[test]
fn models_saved_without_text_hashes_load_and_predict_as_before() {
    let (model, docs, emb) = fit();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model");
    model.save(&path).unwrap();
    strip_text_hashes(&path);
    let old = TopicModel::load(&path).unwrap();
    let fitted = model.document_topics();
    // Training embeddings are still recognised (they are part of every saved model).
    let (t, _) = old
        .transform_embeddings_with(&docs, &emb, &umap(true))
        .unwrap();
    assert_eq!(t, fitted);
    // Texts are not: with moved embeddings the UMAP path predicts exactly as without lookup.
    let moved = nudged(&emb);
    assert_eq!(
        old.transform_embeddings_with(&docs, &moved, &umap(true))
            .unwrap(),
        model
            .transform_embeddings_with(&docs, &moved, &umap(false))
            .unwrap()
    );
    // And the model saves again (without hashes) and reloads.
    let again = dir.path().join("again");
    old.save(&again).unwrap();
    TopicModel::load(&again).unwrap();
}

#[test]
fn bad_knn_settings_are_refused() {
    let (model, docs, emb) = fit();
    for knn in [
        KnnParams {
            k: 0,
            ..KnnParams::default()
        },
        KnnParams {
            temperature: 0.0,
            ..KnnParams::default()
        },
        KnnParams {
            min_share: 1.5,
            ..KnnParams::default()
        },
    ] {
        let opts = PredictOptions {
            knn,
            ..PredictOptions::default()
        };
        let err = model
            .transform_embeddings_with(&docs, &emb, &opts)
            .unwrap_err();
        assert!(matches!(err, BertopicError::InvalidParams(_)), "{err}");
    }
}
