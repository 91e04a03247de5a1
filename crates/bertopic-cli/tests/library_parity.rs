//! A library user gets what the command line gets: the facade's `jobs::train` with its
//! defaults and `bertopic train` write the same files, byte for byte (model.json compared
//! without its wall-clock stage timings).

use std::fs;
use std::path::Path;

mod common;
use common::{ok, sample_embeddings, shared};

fn model_json_without_timings(dir: &Path) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("model.json")).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("timings");
    v
}

#[test]
fn facade_train_and_cli_train_write_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = shared().join("data/arxiv-cs-abstracts-200.csv");
    let npy = dir.path().join("e.npy");
    sample_embeddings(&npy);
    let cli = dir.path().join("cli");
    ok(&[
        "train",
        "-q",
        "--input",
        corpus.to_str().unwrap(),
        "--embeddings",
        npy.to_str().unwrap(),
        "--output",
        cli.to_str().unwrap(),
        "--no-cache",
    ]);
    let lib = dir.path().join("lib");
    let mut job = bertopic::jobs::TrainJob::new(&corpus, &lib);
    job.embeddings = Some(npy.clone());
    job.cache = false;
    bertopic::jobs::train(&job, &mut |_| {}).unwrap();

    for name in ["model.safetensors", "topic_info.csv", "document_topics.csv"] {
        assert!(
            fs::read(cli.join(name)).unwrap() == fs::read(lib.join(name)).unwrap(),
            "{name} differs"
        );
    }
    assert_eq!(
        model_json_without_timings(&cli),
        model_json_without_timings(&lib)
    );
}
