//! `bertopic predict --strategy knn|umap` (#23): predicting the training file gives every
//! document the topic `train` gave it, whatever the strategy, even though predict re-embeds
//! the texts (train used the precomputed Python embeddings, so only the stored text hashes can
//! recognise them); an unknown strategy is refused.

use std::collections::BTreeMap;
use std::path::Path;

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
