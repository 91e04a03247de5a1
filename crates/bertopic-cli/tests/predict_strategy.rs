//! `bertopic predict --strategy knn|umap` (#23): predicting the training file gives every
//! document the topic `train` gave it, whatever the strategy, even though predict re-embeds
//! the texts (train used the precomputed Python embeddings, so only the stored text hashes can
//! recognise them); an unknown strategy is refused; a library user's model with its own
//! reducer predicts with the topic-embedding fallback and one warning.

use std::collections::BTreeMap;
use std::path::Path;

use bertopic::ndarray::Array2;

mod common;
use common::{bertopic, ok, sample_embeddings, shared};

/// row → topic (None for records dropped by cleaning).
fn read_assignments(path: &Path) -> BTreeMap<usize, Option<i64>> {
    let mut r = csv::Reader::from_path(path).expect("assignments csv");
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            (rec[0].parse().expect("row number"), rec[1].parse().ok())
        })
        .collect()
}

#[test]
fn predicting_the_training_file_keeps_every_topic_with_either_strategy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = shared().join("data/arxiv-cs-abstracts-200.csv");
    let c = corpus.to_str().unwrap();
    let npy = dir.path().join("emb.npy");
    sample_embeddings(&npy);
    let model = dir.path().join("model");
    let m = model.to_str().unwrap();
    ok(&[
        "train",
        "--input",
        c,
        "--embeddings",
        npy.to_str().unwrap(),
        "--output",
        m,
        "--min-cluster-size",
        "5",
        "--no-cache",
        "--quiet",
    ]);
    let trained = read_assignments(&model.join("document_topics.csv"));
    assert_eq!(trained.len(), 200);
    for strategy in ["knn", "umap"] {
        let out = dir.path().join(format!("{strategy}.csv"));
        ok(&[
            "predict",
            "--input",
            c,
            "--model",
            m,
            "--strategy",
            strategy,
            "--no-cache",
            "--output",
            out.to_str().unwrap(),
            "--quiet",
        ]);
        assert_eq!(
            read_assignments(&out),
            trained,
            "--strategy {strategy}: every training document keeps its topic"
        );
    }
    let bad = bertopic(&["predict", "--input", c, "--model", m, "--strategy", "tsne"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("knn") && err.contains("umap"), "{err}");
}

#[test]
fn a_model_with_a_caller_reducer_predicts_by_topic_embeddings_with_one_warning() {
    let subjects = [
        ["rocket", "orbit", "moon", "launch", "astronaut"],
        ["oil", "gas", "energy", "price", "barrel"],
        ["goal", "match", "team", "league", "football"],
    ];
    let doc = |i: usize, tag: &str| {
        let w = &subjects[i % 3];
        format!(
            "{tag} the {} and the {} of the {}",
            w[i % 5],
            w[(i / 3) % 5],
            w[(i / 7) % 5]
        )
    };
    let docs: Vec<String> = (0..90).map(|i| doc(i, "old")).collect();
    let emb = |n: usize, shift: f32| {
        Array2::from_shape_fn((n, 12), |(i, j)| {
            let subject = if j % 3 == i % 3 { 1.0 } else { 0.0 };
            subject + ((i * 31 + j * 17) % 13) as f32 * 0.01 + shift * ((i + j) % 5) as f32
        })
    };
    let pca = bertopic::reduce::Pca::new(bertopic::reduce::PcaParams {
        n_components: 4,
        ..Default::default()
    })
    .unwrap();
    let fitted = bertopic::Bertopic::builder()
        .min_topic_size(10)
        .reducer(Box::new(pca))
        .build()
        .unwrap()
        .fit_with_embeddings(&docs, emb(90, 0.0))
        .unwrap();
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("model");
    fitted.save(&model).unwrap();
    // As a library user's model with their own reducer would be saved: its kind is one the
    // command line has no loader for (the facade's own test fits such a reducer, stages.rs).
    let json = model.join("model.json");
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(meta["reducer"]["kind"], "pca");
    meta["reducer"]["kind"] = "my-pca".into();
    std::fs::write(&json, serde_json::to_vec(&meta).unwrap()).unwrap();

    let new = emb(24, 0.05);
    let npy = dir.path().join("new.npy");
    bertopic::embed::write_npy(&npy, &new).unwrap();
    let input = dir.path().join("new.csv");
    let mut csv = String::from("Title,Abstract\n");
    for i in 0..24 {
        csv.push_str(&format!("new {i},{}\n", doc(i, "new")));
    }
    std::fs::write(&input, csv).unwrap();
    let out = bertopic(&[
        "predict",
        "--input",
        input.to_str().unwrap(),
        "--embeddings",
        npy.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--strategy",
        "umap",
        "--no-cache",
        "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stderr.matches("warning:").count(), 1, "{stderr}");
    assert!(stderr.contains("\"my-pca\""), "{stderr}");
    // The nearest topic embedding decides, as the library's fallback does.
    let loaded = bertopic::TopicModel::load(&model).unwrap();
    let (expected, _) = loaded.transform_light(&new).unwrap();
    let mut r = csv::Reader::from_reader(&out.stdout[..]);
    let got: Vec<i64> = r
        .records()
        .map(|rec| rec.expect("record")[1].parse().expect("topic"))
        .collect();
    assert_eq!(got, expected);
}
