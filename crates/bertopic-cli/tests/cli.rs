//! End-to-end tests of the `bertopic` binary with the real embedding model and shared corpora.
//! The model comes through the normal resolution chain (`cargo xtask fetch-model` puts it in
//! place; CI runs that first).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn shared() -> PathBuf {
    std::env::var_os("BERTOPIC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")))
}

fn bertopic(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bertopic"))
        .args(args)
        .output()
        .expect("the bertopic binary runs")
}

fn ok(args: &[&str]) -> String {
    let out = bertopic(args);
    assert!(
        out.status.success(),
        "bertopic {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// row → topic (None for records dropped by cleaning).
fn read_assignments(path: &Path) -> BTreeMap<usize, Option<i64>> {
    let mut r = csv::Reader::from_path(path).expect("assignments csv");
    assert_eq!(
        r.headers().expect("header"),
        vec!["row", "topic", "probability"]
    );
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            let topic = rec[1].parse().ok();
            (rec[0].parse().expect("row number"), topic)
        })
        .collect()
}

fn write_subset(src: &Path, dst: &Path, keep: impl Fn(usize) -> bool) {
    let mut r = csv::Reader::from_path(src).expect("corpus");
    let mut w = csv::Writer::from_path(dst).expect("subset");
    w.write_record(r.headers().expect("header")).expect("write");
    for (i, rec) in r.records().enumerate() {
        let rec = rec.expect("record");
        if keep(i) {
            w.write_record(&rec).expect("write");
        }
    }
    w.flush().expect("flush");
}

#[test]
fn train_save_load_predict_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = shared().join("data/arxiv-cs-abstracts-200.csv");
    let train_csv = dir.path().join("train.csv");
    let held_csv = dir.path().join("held.csv");
    write_subset(&corpus, &train_csv, |i| i % 5 != 4);
    write_subset(&corpus, &held_csv, |i| i % 5 == 4);
    let model = dir.path().join("model");
    let m = model.to_str().expect("utf-8 path");

    ok(&[
        "train",
        "--input",
        train_csv.to_str().unwrap(),
        "--output",
        m,
        "--min-cluster-size",
        "5",
        "--quiet",
    ]);
    for f in [
        "model.json",
        "model.safetensors",
        "topic_info.csv",
        "document_topics.csv",
    ] {
        assert!(model.join(f).is_file(), "{f} missing");
    }
    let trained = read_assignments(&model.join("document_topics.csv"));
    assert_eq!(trained.len(), 160, "one row per input record");

    // A new process loads the model and predicts the training documents.
    let pred = dir.path().join("pred.csv");
    ok(&[
        "predict",
        "--input",
        train_csv.to_str().unwrap(),
        "--model",
        m,
        "--output",
        pred.to_str().unwrap(),
        "--quiet",
    ]);
    let predicted = read_assignments(&pred);
    assert_eq!(predicted.len(), trained.len());
    let clustered: Vec<usize> = trained
        .iter()
        .filter(|(_, t)| matches!(t, Some(t) if *t >= 0))
        .map(|(r, _)| *r)
        .collect();
    assert!(
        clustered.len() >= 20,
        "too few clustered documents: {}",
        clustered.len()
    );
    let agree = clustered
        .iter()
        .filter(|r| predicted[r] == trained[r])
        .count();
    let rate = agree as f64 / clustered.len() as f64;
    assert!(
        rate >= 0.95,
        "fit and predict agree on {rate:.3} of clustered training documents"
    );

    // Held-out documents: a document put in a topic shares words with that topic.
    let held_pred = dir.path().join("held.csv.out");
    ok(&[
        "predict",
        "--input",
        held_csv.to_str().unwrap(),
        "--model",
        m,
        "--output",
        held_pred.to_str().unwrap(),
        "--quiet",
    ]);
    let held = read_assignments(&held_pred);
    assert_eq!(held.len(), 40);
    let topics_json = ok(&["topics", "--model", m, "--format", "json"]);
    let info: Vec<serde_json::Value> = serde_json::from_str(&topics_json).expect("topics json");
    let words: BTreeMap<i64, BTreeSet<String>> = info
        .iter()
        .map(|t| {
            let id = t["topic"].as_i64().expect("topic id");
            let ws = t["representation"]
                .as_array()
                .expect("words")
                .iter()
                .map(|w| w.as_str().unwrap_or("").to_string())
                .collect();
            (id, ws)
        })
        .collect();
    let mut texts = csv::Reader::from_path(&held_csv).expect("held");
    let mut assigned = 0;
    let mut sharing = 0;
    for (i, rec) in texts.records().enumerate() {
        let rec = rec.expect("record");
        let text = format!("{} {}", &rec[0], &rec[1]).to_lowercase();
        if let Some(Some(t)) = held.get(&(i + 1)) {
            if *t >= 0 {
                assigned += 1;
                if words[t].iter().any(|w| text.contains(w.as_str())) {
                    sharing += 1;
                }
            }
        }
    }
    assert!(assigned > 0, "no held-out document was assigned a topic");
    assert!(
        sharing as f64 >= 0.8 * assigned as f64,
        "only {sharing} of {assigned} held-out documents share a word with their topic"
    );
}

#[test]
fn missing_input_is_a_clear_error() {
    let out = bertopic(&[
        "train",
        "--input",
        "/nonexistent/papers.csv",
        "--output",
        "/tmp/x",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/nonexistent/papers.csv"),
        "error should name the file: {err}"
    );
}

#[test]
fn missing_column_names_the_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("bad.csv");
    std::fs::write(&p, "Name,Body\na,b\n").expect("write");
    let out = bertopic(&[
        "train",
        "--input",
        p.to_str().unwrap(),
        "--output",
        dir.path().join("m").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Title") || err.contains("Abstract"),
        "error should name the missing column: {err}"
    );
}

#[test]
fn version_prints_format() {
    let s = ok(&["version"]);
    assert!(s.contains("model format"));
    assert!(s.contains(env!("CARGO_PKG_VERSION")));
}
