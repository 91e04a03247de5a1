//! `bertopic train --quality` (#22) on the 200-paper arXiv sample with its precomputed
//! embeddings: `--quality default` writes exactly what no flag writes (every file byte for byte,
//! model.json apart from its wall-clock timings), `--quality best` writes the facade's
//! `QualityPreset::Best` fit, and an unknown preset is refused by name.

use std::path::Path;

mod common;
use common::{bertopic, ok, sample_embeddings, shared};

use bertopic::{Bertopic, QualityPreset, TopicModel};

fn train(npy: &Path, out: &Path, extra: &[&str]) {
    let input = shared().join("data/arxiv-cs-abstracts-200.csv");
    let mut args = vec![
        "train",
        "-q",
        "--input",
        input.to_str().unwrap(),
        "--embeddings",
        npy.to_str().unwrap(),
        "--min-cluster-size",
        "5",
        "--output",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    ok(&args);
}

/// model.json without the stage timings (wall-clock seconds differ between any two runs).
fn model_json(dir: &Path) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("model.json")).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("timings");
    v
}

#[test]
fn quality_default_is_no_flag_and_best_is_the_facade_preset() {
    let tmp = tempfile::tempdir().unwrap();
    let npy = tmp.path().join("sample.npy");
    sample_embeddings(&npy);
    let (none, default, best) = (
        tmp.path().join("none"),
        tmp.path().join("default"),
        tmp.path().join("best"),
    );
    train(&npy, &none, &[]);
    train(&npy, &default, &["--quality", "default"]);
    train(&npy, &best, &["--quality", "best"]);

    let mut files: Vec<String> = std::fs::read_dir(&none)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert!(
        files.contains(&"document_topics.csv".to_string()),
        "{files:?}"
    );
    for f in &files {
        if f == "model.json" {
            assert_eq!(model_json(&none), model_json(&default));
        } else {
            assert_eq!(
                std::fs::read(none.join(f)).unwrap(),
                std::fs::read(default.join(f)).unwrap(),
                "{f} differs between no flag and --quality default"
            );
        }
    }
    assert!(model_json(&none)["params"].get("quality").is_none());

    // --quality best is the facade's preset on the same input: same topics per document.
    let m = TopicModel::load(&best).unwrap();
    assert_eq!(m.params().quality, QualityPreset::Best);
    let plain = TopicModel::load(&none).unwrap();
    let corpus = bertopic::jobs::Corpus::read(
        &shared().join("data/arxiv-cs-abstracts-200.csv"),
        &Default::default(),
    )
    .unwrap();
    let docs = corpus.texts();
    let facade = Bertopic::builder()
        .params(plain.params().clone())
        .quality(QualityPreset::Best)
        .build()
        .unwrap()
        .fit_with_embeddings(&docs, bertopic::embed::read_npy(&npy).unwrap())
        .unwrap();
    assert_eq!(m.document_topics(), facade.document_topics());
    let outliers = |t: &[i64]| t.iter().filter(|&&x| x < 0).count();
    // (the rule itself is checked in crates/bertopic/tests/quality_preset.rs)
    assert!(outliers(m.document_topics()) <= outliers(plain.document_topics()));

    let o = bertopic(&[
        "train",
        "--input",
        "x.csv",
        "--output",
        tmp.path().join("x").to_str().unwrap(),
        "--quality",
        "fast",
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("fast") && err.contains("best"), "{err}");
}
