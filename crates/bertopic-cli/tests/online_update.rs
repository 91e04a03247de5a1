//! `bertopic update` end to end: start an online model on one half of the arXiv 200-row sample,
//! continue it with the other half, predict with the result (precomputed embeddings, no model).

use std::path::Path;

mod common;
use common::{bertopic, ok, sample_embeddings, shared};

/// Writes rows `range` of the sample to `{name}.csv` / `{name}.npy`.
fn part(dir: &Path, name: &str, range: std::ops::Range<usize>) -> (String, String) {
    let all_npy = dir.join("all.npy");
    if !all_npy.exists() {
        sample_embeddings(&all_npy);
    }
    let all = bertopic::embed::read_npy(&all_npy).expect("npy");
    let mut r =
        csv::Reader::from_path(shared().join("data/arxiv-cs-abstracts-200.csv")).expect("sample");
    let csv_path = dir.join(format!("{name}.csv"));
    let mut w = csv::Writer::from_path(&csv_path).expect("part");
    w.write_record(r.headers().expect("header")).expect("write");
    for rec in r.records().skip(range.start).take(range.len()) {
        w.write_record(&rec.expect("record")).expect("write");
    }
    w.flush().expect("flush");
    let npy_path = dir.join(format!("{name}.npy"));
    bertopic::embed::write_npy(&npy_path, &all.slice(ndarray::s![range, ..]).to_owned())
        .expect("npy");
    (
        csv_path.to_string_lossy().into_owned(),
        npy_path.to_string_lossy().into_owned(),
    )
}

#[test]
fn update_starts_continues_and_predicts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (csv1, npy1) = part(tmp.path(), "first", 0..100);
    let (csv2, npy2) = part(tmp.path(), "second", 100..200);
    let o1 = tmp.path().join("online-1");
    let o2 = tmp.path().join("online-2");
    let s = |p: &Path| p.to_string_lossy().into_owned();
    ok(&[
        "update",
        "--input",
        &csv1,
        "--embeddings",
        &npy1,
        "--n-clusters",
        "6",
        "--decay",
        "0.05",
        "--output",
        &s(&o1),
    ]);
    let before = std::fs::read(o1.join("online.safetensors")).expect("online state written");
    // Settings belong to the model once it exists.
    let out = bertopic(&[
        "update",
        "--model",
        &s(&o1),
        "--input",
        &csv2,
        "--embeddings",
        &npy2,
        "--n-clusters",
        "3",
        "--output",
        &s(&o2),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--model continues"));
    ok(&[
        "update",
        "--model",
        &s(&o1),
        "--input",
        &csv2,
        "--embeddings",
        &npy2,
        "--output",
        &s(&o2),
    ]);
    assert_eq!(
        std::fs::read(o1.join("online.safetensors")).expect("still there"),
        before,
        "the --model folder is not changed"
    );
    let online = bertopic::variants::OnlineTopicModel::load(&o2).expect("online model");
    assert_eq!((online.batches(), online.docs_seen()), (2, 200));
    assert!(o2.join("topic_info.csv").exists());

    let pred = tmp.path().join("pred.csv");
    ok(&[
        "predict",
        "--model",
        &s(&o2),
        "--input",
        &csv1,
        "--embeddings",
        &npy1,
        "--output",
        &s(&pred),
    ]);
    let mut r = csv::Reader::from_path(&pred).expect("assignments");
    let topics: Vec<i64> = r
        .records()
        .map(|rec| rec.expect("record")[1].parse().expect("topic"))
        .collect();
    assert_eq!(topics.len(), 100);
    assert!(topics.iter().all(|t| (0..6).contains(t)), "{topics:?}");
}
