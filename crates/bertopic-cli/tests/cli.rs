//! End-to-end tests of the `bertopic` binary with the real embedding model and shared corpora.
//! The model comes through the normal resolution chain (`cargo xtask fetch-model` puts it in
//! place; CI runs that first).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{bertopic, ok, sample_embeddings, shared};

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

/// `--device cuda` in a binary built without the `cuda` feature (every CI build) fails at once,
/// before reading the input, saying how to rebuild; even `predict` with given embeddings, which
/// would load no encoder, refuses rather than ignore the flag.
#[cfg(not(feature = "cuda"))]
#[test]
fn device_cuda_without_the_feature_says_how_to_rebuild() {
    for cmd in ["embed", "train", "predict"] {
        let mut args = vec![cmd, "--input", "/nonexistent/in.csv", "--device", "cuda:1"];
        args.extend(match cmd {
            "predict" => &[
                "--model",
                "/nonexistent/model",
                "--embeddings",
                "/nonexistent/e.npy",
            ][..],
            _ => &["--output", "/nonexistent/out"][..],
        });
        let out = bertopic(&args);
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("cuda:1") && err.contains("built without the `cuda` feature"),
            "{cmd}: {err}"
        );
        assert!(err.contains("--features cuda"), "{cmd}: {err}");
    }
    let out = bertopic(&["serve", "--device", "tpu"]);
    assert_eq!(out.status.code(), Some(2), "a bad device is a usage error");
}

#[test]
fn version_prints_format() {
    let s = ok(&["version"]);
    assert!(s.contains("model format"));
    assert!(s.contains(env!("CARGO_PKG_VERSION")));
}

/// topic_info.csv as (topic, count, words).
fn read_topic_info(path: &Path) -> Vec<(i64, usize, String)> {
    let mut r = csv::Reader::from_path(path).expect("topic_info.csv");
    assert_eq!(
        r.headers().expect("header"),
        vec![
            "Topic",
            "Count",
            "Name",
            "Representation",
            "Representative_Docs"
        ]
    );
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            (
                rec[0].parse().expect("topic"),
                rec[1].parse().expect("count"),
                rec[3].to_string(),
            )
        })
        .collect()
}

fn model_json(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("model.json")).expect("model.json"))
        .expect("json")
}

#[test]
fn train_with_each_representation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = shared().join("data/arxiv-cs-abstracts-200.csv");
    let npy = dir.path().join("sample.npy");
    sample_embeddings(&npy);
    let train = |name: &str, extra: &[&str]| -> PathBuf {
        let out = dir.path().join(name);
        let mut args = vec![
            "train",
            "--input",
            corpus.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
            "--embeddings",
            npy.to_str().unwrap(),
            "--min-cluster-size",
            "5",
            "--no-cache",
            "--quiet",
        ];
        args.extend_from_slice(extra);
        ok(&args);
        out
    };
    // c-TF-IDF with precomputed embeddings needs no model at all.
    let plain = train("plain", &[]);
    assert_eq!(
        model_json(&plain)["params"]["representation"]["kind"],
        "ctfidf"
    );
    let plain_info = read_topic_info(&plain.join("topic_info.csv"));
    assert!(plain_info.iter().filter(|t| t.0 >= 0).count() >= 2);
    assert_eq!(
        model_json(&plain)["params"]["embedding_model"],
        bertopic::embed::DEFAULT_MODEL
    );
    // --language multilingual defaults to BERTopic's multilingual model (recorded for predict).
    let multi = train("multi", &["--language", "multilingual"]);
    assert_eq!(
        model_json(&multi)["params"]["embedding_model"],
        bertopic::embed::MULTILINGUAL_MODEL
    );

    let mmr = train("mmr", &["--representation", "mmr", "--diversity", "0.5"]);
    let j = model_json(&mmr);
    assert_eq!(j["params"]["representation"]["kind"], "mmr");
    assert_eq!(j["params"]["representation"]["diversity"], 0.5);
    let mmr_info = read_topic_info(&mmr.join("topic_info.csv"));
    let keybert = train("keybert", &["--representation", "keybert"]);
    assert_eq!(
        model_json(&keybert)["params"]["representation"]["kind"],
        "keybert"
    );
    let kb_info = read_topic_info(&keybert.join("topic_info.csv"));
    for other in [&mmr_info, &kb_info] {
        // Same topics and sizes: only the words change.
        let ids = |v: &[(i64, usize, String)]| v.iter().map(|t| (t.0, t.1)).collect::<Vec<_>>();
        assert_eq!(ids(other), ids(&plain_info));
        assert!(
            other.iter().zip(&plain_info).any(|(a, b)| a.2 != b.2),
            "the representation changed no word list"
        );
        for t in other {
            assert_eq!(t.2.split(' ').count(), 10, "topic {}: {}", t.0, t.2);
        }
    }
    // `topics` shows the saved words.
    let shown = ok(&[
        "topics",
        "--model",
        mmr.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let shown: Vec<serde_json::Value> = serde_json::from_str(&shown).expect("json");
    for (s, t) in shown.iter().zip(&mmr_info) {
        let ws: Vec<&str> = s["representation"]
            .as_array()
            .expect("words")
            .iter()
            .filter_map(|w| w.as_str())
            .collect();
        assert_eq!(ws.join(" "), t.2);
    }
}

#[test]
fn representation_flags_are_checked() {
    let corpus = shared().join("data/arxiv-cs-abstracts-200.csv");
    let c = corpus.to_str().unwrap();
    let out = bertopic(&["train", "-i", c, "-o", "/tmp/unused", "--diversity", "0.3"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--representation mmr"), "{err}");
    let out = bertopic(&[
        "train",
        "-i",
        c,
        "-o",
        "/tmp/unused",
        "--representation",
        "mmr",
        "--diversity",
        "1.5",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[0, 1]"), "{err}");
    let out = bertopic(&[
        "train",
        "-i",
        c,
        "-o",
        "/tmp/unused",
        "--representation",
        "bm25",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ctfidf") && err.contains("keybert"), "{err}");
    let help = ok(&["train", "--help"]);
    assert!(help.contains("--representation mmr --diversity"), "{help}");
}

fn bertopic_env(args: &[&str], env: &[(&str, &Path)]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bertopic"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("the bertopic binary runs")
}

#[test]
fn train_register_predict_through_the_registry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = shared().join("data/arxiv-cs-abstracts-200.csv");
    let c = corpus.to_str().unwrap();
    let npy = dir.path().join("sample.npy");
    sample_embeddings(&npy);
    let n = npy.to_str().unwrap();
    let reg = dir.path().join("registry");
    let r = reg.to_str().unwrap();
    let train = |out: &str, seed: &str| {
        let o = dir.path().join(out);
        ok(&[
            "train",
            "-i",
            c,
            "-o",
            o.to_str().unwrap(),
            "--embeddings",
            n,
            "--min-cluster-size",
            "5",
            "--seed",
            seed,
            "--register",
            "arxiv200",
            "--registry",
            r,
            "--no-cache",
            "--quiet",
        ]);
        o
    };
    let first = train("run1", "42");
    let second = train("run2", "7");
    assert!(reg.join("arxiv200/1/model.json").is_file());
    assert!(reg.join("arxiv200/2/registry.json").is_file());

    // `registry list` (JSON) shows both versions with their metadata.
    let listed = ok(&["registry", "list", "--registry", r, "--format", "json"]);
    let listed: Vec<serde_json::Value> = serde_json::from_str(&listed).expect("json");
    let versions: Vec<(String, u64)> = listed
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap_or("").to_string(),
                v["version"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        versions,
        vec![("arxiv200".to_string(), 1), ("arxiv200".to_string(), 2)]
    );
    assert_eq!(listed[1]["uri"], "models:/arxiv200/2");
    assert!(listed[0]["metrics"]["n_topics"].as_f64().unwrap_or(0.0) >= 2.0);
    assert!(listed[0]["source"].as_str().unwrap_or("").ends_with("run1"));
    let table = ok(&["registry", "list", "arxiv200", "--registry", r]);
    assert_eq!(table.lines().count(), 2, "{table}");

    // predict through models:/NAME/latest (root from $BERTOPIC_REGISTRY) equals predicting
    // with the second run's folder; models:/NAME/1 with the first.
    let predict = |model: &str, out: &str| -> BTreeMap<usize, Option<i64>> {
        let p = dir.path().join(out);
        let o = bertopic_env(
            &[
                "predict",
                "-i",
                c,
                "--model",
                model,
                "--embeddings",
                n,
                "-o",
                p.to_str().unwrap(),
                "--quiet",
            ],
            &[("BERTOPIC_REGISTRY", &reg)],
        );
        assert!(
            o.status.success(),
            "predict {model}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        read_assignments(&p)
    };
    let latest = predict("models:/arxiv200/latest", "latest.csv");
    assert_eq!(latest.len(), 200);
    assert_eq!(latest, predict(second.to_str().unwrap(), "second.csv"));
    assert_eq!(
        predict("models:/arxiv200/1", "v1.csv"),
        predict(first.to_str().unwrap(), "first.csv")
    );
    let topics = ok(&[
        "topics",
        "--model",
        "models:/arxiv200/1",
        "--registry",
        r,
        "--format",
        "json",
    ]);
    assert_eq!(
        topics,
        ok(&[
            "topics",
            "--model",
            first.to_str().unwrap(),
            "--format",
            "json"
        ])
    );

    // Clear errors: unknown name, unknown version, malformed URI, bad name.
    let err = |args: &[&str]| -> String {
        let o = bertopic_env(args, &[("BERTOPIC_REGISTRY", &reg)]);
        assert!(!o.status.success(), "{args:?} should fail");
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let e = err(&["topics", "--model", "models:/nope/latest"]);
    assert!(
        e.contains("no model named `nope`") && e.contains("arxiv200"),
        "{e}"
    );
    let e = err(&["topics", "--model", "models:/arxiv200/9"]);
    assert!(e.contains("no version 9") && e.contains("1, 2"), "{e}");
    let e = err(&["topics", "--model", "models:/arxiv200"]);
    assert!(
        e.contains("models:/NAME/latest") && e.contains("models:/NAME/<version>"),
        "{e}"
    );
    let e = err(&["train", "-i", c, "-o", "/tmp/unused", "--register", "a/b"]);
    assert!(e.contains("invalid model name"), "{e}");
}

/// Several processes registering at once each get their own version.
#[test]
fn concurrent_processes_register_distinct_versions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = shared().join("data/arxiv-cs-abstracts-200.csv");
    let npy = dir.path().join("sample.npy");
    sample_embeddings(&npy);
    let model = dir.path().join("model");
    let m = model.to_str().unwrap();
    ok(&[
        "train",
        "-i",
        corpus.to_str().unwrap(),
        "-o",
        m,
        "--embeddings",
        npy.to_str().unwrap(),
        "--min-cluster-size",
        "5",
        "--no-cache",
        "--quiet",
    ]);
    let reg = dir.path().join("registry");
    let children: Vec<_> = (0..6)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_bertopic"))
                .args(["registry", "register", "shared", "--model", m, "--quiet"])
                .env("BERTOPIC_REGISTRY", &reg)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let mut uris: Vec<String> = children
        .into_iter()
        .map(|c| {
            let o = c.wait_with_output().expect("wait");
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            String::from_utf8_lossy(&o.stdout).trim().to_string()
        })
        .collect();
    uris.sort();
    let want: Vec<String> = (1..=6).map(|v| format!("models:/shared/{v}")).collect();
    assert_eq!(uris, want);
    // A folder that is not a saved model is refused before anything is copied.
    let o = bertopic_env(
        &[
            "registry",
            "register",
            "junk",
            "--model",
            dir.path().to_str().unwrap(),
        ],
        &[("BERTOPIC_REGISTRY", &reg)],
    );
    assert!(!o.status.success());
    assert!(!reg.join("junk").exists());
}
