//! End-to-end tests of `bertopic monitor` on the shared arXiv corpus with its precomputed MiniLM
//! embeddings (no embedding model needed): report file, history, `--fail-on`, bad inputs.

use std::path::{Path, PathBuf};

mod common;
use common::{bertopic, ok, shared};

const BIG: [&str; 3] = ["cs.CV", "cs.CL", "cs.AI"];

/// Writes the chosen records of the arXiv corpus (CSV, in that order) and their embeddings.
fn subset(dir: &Path, name: &str, rows: &[usize]) -> (PathBuf, PathBuf) {
    let data = shared().join("data");
    let mut r = csv::Reader::from_path(data.join("arxiv-cs-abstracts.csv")).expect("corpus");
    let header = r.headers().expect("header").clone();
    let records: Vec<csv::StringRecord> = r.records().map(|x| x.expect("record")).collect();
    let csv_path = dir.join(format!("{name}.csv"));
    let mut w = csv::Writer::from_path(&csv_path).expect("csv");
    w.write_record(&header).expect("write");
    for &i in rows {
        w.write_record(&records[i]).expect("write");
    }
    w.flush().expect("flush");
    let all = bertopic::embed::read_npy(&data.join("arxiv-cs-abstracts.minilm.npy")).expect("npy");
    let npy = dir.join(format!("{name}.npy"));
    bertopic::embed::write_npy(&npy, &all.select(ndarray::Axis(0), rows)).expect("write npy");
    (csv_path, npy)
}

/// Record indices by whether their label is one of the three big categories.
fn rows_by_label() -> (Vec<usize>, Vec<usize>) {
    let mut r = csv::Reader::from_path(shared().join("data/arxiv-cs-abstracts.csv")).expect("csv");
    let (mut big, mut other) = (Vec::new(), Vec::new());
    for (i, rec) in r.records().enumerate() {
        let rec = rec.expect("record");
        if BIG.contains(&&rec[2]) {
            big.push(i);
        } else {
            other.push(i);
        }
    }
    (big, other)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn history_lines(model: &Path) -> usize {
    std::fs::read_to_string(model.join("monitoring.jsonl")).map_or(0, |t| t.lines().count())
}

#[test]
fn monitor_reports_history_fail_on_and_bad_inputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (big, other) = rows_by_label();
    // Every 12th big-category paper trains (~1,500), the next ones are the same-kind batch.
    let train: Vec<usize> = big.iter().copied().step_by(12).collect();
    let same: Vec<usize> = big.iter().copied().skip(5).step_by(60).take(250).collect();
    let foreign: Vec<usize> = other.iter().copied().step_by(4).take(250).collect();
    let (train_csv, train_npy) = subset(d, "train", &train);
    let (same_csv, same_npy) = subset(d, "same", &same);
    let (foreign_csv, foreign_npy) = subset(d, "foreign", &foreign);
    let model = d.join("model");
    ok(&[
        "train",
        "--input",
        s(&train_csv),
        "--embeddings",
        s(&train_npy),
        "--output",
        s(&model),
        "--min-cluster-size",
        "15",
        "--quiet",
    ]);
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(model.join("model.json")).expect("model.json"))
            .expect("json");
    assert!(
        saved["monitor_baseline"]["c_v"].as_f64().is_some(),
        "train records the training baseline: {}",
        saved["monitor_baseline"]
    );

    // Same-kind batch: a report file, one history line, exit 0 even with --fail-on high.
    let report = d.join("same-report.json");
    let out = bertopic(&[
        "monitor",
        "--input",
        s(&same_csv),
        "--embeddings",
        s(&same_npy),
        "--model",
        s(&model),
        "--output",
        s(&report),
        "--fail-on",
        "high",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("drift level: "), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("report json");
    for key in [
        "level",
        "reasons",
        "notes",
        "topic_drift",
        "distribution_drift",
        "embedding_drift",
        "vocabulary_drift",
        "quality",
        "batch",
    ] {
        assert!(json.get(key).is_some(), "report has no `{key}`: {json}");
    }
    assert_eq!(json["batch"]["docs"], 250);
    assert_eq!(json["topic_drift"]["mode"], "re_represent");
    assert_eq!(
        json["embedding_drift"]["level"], "LOW",
        "same-kind batch: {}",
        json["embedding_drift"]
    );
    assert_eq!(history_lines(&model), 1);

    // Foreign batch: HIGH, exit 3 with --fail-on medium, still recorded.
    let out = bertopic(&[
        "monitor",
        "--input",
        s(&foreign_csv),
        "--embeddings",
        s(&foreign_npy),
        "--model",
        s(&model),
        "--fail-on",
        "medium",
        "--format",
        "json",
        "--quiet",
    ]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout json");
    assert_eq!(json["level"], "HIGH", "{}", json["reasons"]);
    assert_eq!(json["embedding_drift"]["level"], "HIGH");
    assert_eq!(history_lines(&model), 2);

    // Same seed, same verdict and values.
    let again = ok(&[
        "monitor",
        "--input",
        s(&foreign_csv),
        "--embeddings",
        s(&foreign_npy),
        "--model",
        s(&model),
        "--format",
        "json",
        "--quiet",
    ]);
    let again: serde_json::Value = serde_json::from_str(&again).expect("json");
    assert_eq!(again["embedding_drift"], json["embedding_drift"]);
    assert_eq!(again["topic_drift"], json["topic_drift"]);

    // History: table and JSON, oldest first.
    let table = ok(&["monitor", "--history", "--model", s(&model)]);
    assert_eq!(table.lines().count(), 4, "{table}");
    assert!(
        table.lines().nth(2).unwrap_or("").contains("HIGH"),
        "{table}"
    );
    let hist: Vec<serde_json::Value> = serde_json::from_str(&ok(&[
        "monitor",
        "--history",
        "--model",
        s(&model),
        "--format",
        "json",
    ]))
    .expect("history json");
    assert_eq!(hist.len(), 3);
    assert_eq!(hist[1]["level"], "HIGH");
    assert_eq!(hist[0]["docs"], 250);
    assert!(hist[1]["signals"]["embedding"]["p_value"].as_f64().unwrap() < 0.01);

    // Bad inputs: non-zero exit, a clear message, nothing appended, no report written.
    let empty = d.join("empty.csv");
    std::fs::write(&empty, "Title,Abstract,Label,Date\n").expect("write");
    let (one_csv, one_npy) = subset(d, "one", &same[..1]);
    let wide = d.join("wide.npy");
    bertopic::embed::write_npy(
        &wide,
        &ndarray::Array2::from_shape_fn((250, 768), |(i, j)| ((i * 7 + j * 3) % 11) as f32),
    )
    .expect("npy");
    let bad_report = d.join("bad.json");
    let cases: [(&str, Vec<&str>, &str); 3] = [
        ("empty batch", vec!["--input", s(&empty)], "empty"),
        (
            "one document",
            vec!["--input", s(&one_csv), "--embeddings", s(&one_npy)],
            "at least 2",
        ),
        (
            "wrong dimension",
            vec!["--input", s(&same_csv), "--embeddings", s(&wide)],
            "768 dimensions",
        ),
    ];
    for (what, args, needle) in cases {
        let mut all = vec!["monitor", "--model", s(&model), "--output", s(&bad_report)];
        all.extend(args);
        let out = bertopic(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        assert!(err.contains(needle), "{what}: `{needle}` not in {err}");
        assert!(!err.contains("panicked"), "{what}: {err}");
        assert_eq!(history_lines(&model), 3, "{what} appended to the history");
        assert!(!bad_report.exists(), "{what} wrote a report");
    }
    let out = bertopic(&[
        "monitor",
        "--input",
        s(&same_csv),
        "--embeddings",
        s(&wide),
        "--model",
        s(&model),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("384"), "names both dimensions: {err}");

    // --config: a typo or a bad value is refused naming the key and the file, before any
    // work; a valid file changes thresholds and voting.
    let bad_configs = [
        (r#"{"distribution": {"js_mediun": 0.2}}"#, "js_mediun"),
        (
            r#"{"distribution": {"js_medium": 0.5, "js_high": 0.2}}"#,
            "distribution.js_medium",
        ),
        (
            r#"{"distribution": {"n_permutations": 50}}"#,
            "distribution.n_permutations",
        ),
        ("{not json", "thresholds.json"),
    ];
    let config = d.join("thresholds.json");
    for (text, needle) in bad_configs {
        std::fs::write(&config, text).expect("write");
        let out = bertopic(&[
            "monitor",
            "--input",
            s(&same_csv),
            "--embeddings",
            s(&same_npy),
            "--model",
            s(&model),
            "--config",
            s(&config),
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{text}: {err}");
        assert!(
            err.contains(needle) && err.contains("thresholds.json"),
            "{text}: {err}"
        );
        assert_eq!(history_lines(&model), 3, "{text} appended to the history");
    }
    std::fs::write(
        &config,
        r#"{"voting": {"embedding": false}, "distribution": {"js_medium": 0.2, "js_high": 0.3}}"#,
    )
    .expect("write");
    let json: serde_json::Value = serde_json::from_str(&ok(&[
        "monitor",
        "--input",
        s(&foreign_csv),
        "--embeddings",
        s(&foreign_npy),
        "--model",
        s(&model),
        "--config",
        s(&config),
        "--format",
        "json",
        "--quiet",
    ]))
    .expect("json");
    let voting: Vec<&str> = json["voting"]
        .as_array()
        .expect("voting")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(
        !voting.contains(&"embedding") && voting.contains(&"topic"),
        "{voting:?}"
    );
    assert!(
        json["distribution_drift"]["js_distance"]["medium"]
            .as_f64()
            .unwrap()
            >= 0.2,
        "{}",
        json["distribution_drift"]["js_distance"]
    );
    assert_eq!(history_lines(&model), 4);
    assert!(
        saved["monitor_baseline"]["keywords"]
            .as_array()
            .is_some_and(|k| !k.is_empty()),
        "train records the keyword baseline"
    );

    // train records the topic-share reference (leave-one-out k-NN topics of training
    // documents) and a held-out coherence baseline.
    let baseline = &saved["monitor_baseline"];
    let reference = &baseline["reference_topics"];
    assert_eq!(reference["method"], "leave_one_out_knn", "{reference}");
    let counted: u64 = reference["counts"]
        .as_array()
        .expect("counts")
        .iter()
        .map(|c| c[1].as_u64().expect("count"))
        .sum();
    assert_eq!(Some(counted), reference["docs"].as_u64(), "{reference}");
    assert_eq!(baseline["held_out"], true);
    // A model saved before them is still monitored, with notes that say to retrain.
    let old = d.join("old-model");
    std::fs::create_dir(&old).expect("mkdir");
    for entry in std::fs::read_dir(&model).expect("model dir") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("name").to_owned();
        if path.is_file() && name != "model.json" && name != "monitoring.jsonl" {
            std::fs::copy(&path, old.join(name)).expect("copy");
        }
    }
    let mut older = saved.clone();
    let b = older["monitor_baseline"].as_object_mut().expect("baseline");
    b.remove("reference_topics");
    b.remove("held_out");
    std::fs::write(
        old.join("model.json"),
        serde_json::to_vec(&older).expect("json"),
    )
    .expect("write");
    let json: serde_json::Value = serde_json::from_str(&ok(&[
        "monitor",
        "--input",
        s(&same_csv),
        "--embeddings",
        s(&same_npy),
        "--model",
        s(&old),
        "--format",
        "json",
        "--quiet",
    ]))
    .expect("json");
    let notes = json["notes"].to_string();
    assert!(
        notes.contains("no reference topics") && notes.contains("in-sample"),
        "{notes}"
    );
    assert!(notes.contains("family-wise (Bonferroni"), "{notes}");
}

#[test]
fn history_of_a_model_never_monitored_and_help() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = ok(&["monitor", "--history", "--model", s(dir.path())]);
    assert!(out.contains("no monitoring runs"), "{out}");
    let help = ok(&["monitor", "--help"]);
    assert!(
        help.contains("--fail-on") && help.contains("Exit status"),
        "{help}"
    );
    let out = bertopic(&["monitor", "--model", s(dir.path())]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "--input is required without --history"
    );
}

#[test]
fn a_model_trained_without_the_monitoring_baseline_still_monitors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (big, other) = rows_by_label();
    let train: Vec<usize> = big.iter().copied().step_by(20).collect();
    let foreign: Vec<usize> = other.iter().copied().step_by(9).take(200).collect();
    let (train_csv, train_npy) = subset(d, "train", &train);
    let (foreign_csv, foreign_npy) = subset(d, "foreign", &foreign);
    let model = d.join("model");
    ok(&[
        "train",
        "--input",
        s(&train_csv),
        "--embeddings",
        s(&train_npy),
        "--output",
        s(&model),
        "--min-cluster-size",
        "15",
        "--no-monitoring-baseline",
        "--quiet",
    ]);
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(model.join("model.json")).expect("model.json"))
            .expect("json");
    assert!(
        saved.get("monitor_baseline").is_none_or(|b| b.is_null()),
        "--no-monitoring-baseline records none: {}",
        saved["monitor_baseline"]
    );
    let out = bertopic(&[
        "monitor",
        "--input",
        s(&foreign_csv),
        "--embeddings",
        s(&foreign_npy),
        "--model",
        s(&model),
        "--format",
        "json",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("report json");
    // Never-seen categories are still caught by the signals that need no training reference.
    assert_ne!(report["level"], "LOW", "{}", report["reasons"]);
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("retrain"),
        "the notes say to retrain: {notes}"
    );
    assert_eq!(history_lines(&model), 1);
}
