//! `bertopic merge` and `bertopic topics set` end to end, on the arXiv 200-row sample split by
//! label, with its precomputed embeddings (no embedding model is loaded).

use std::collections::BTreeMap;
use std::path::Path;

mod common;
use common::{bertopic, ok, sample_embeddings, shared};

/// Writes the sample's rows with `Label == label` to `csv` and their embeddings to `npy`.
fn split(dir: &Path, label: &str) -> (String, String) {
    let all_npy = dir.join("all.npy");
    if !all_npy.exists() {
        sample_embeddings(&all_npy);
    }
    let all = bertopic::embed::read_npy(&all_npy).expect("npy");
    let mut r =
        csv::Reader::from_path(shared().join("data/arxiv-cs-abstracts-200.csv")).expect("sample");
    let csv_path = dir.join(format!("{label}.csv"));
    let mut w = csv::Writer::from_path(&csv_path).expect("subset");
    w.write_record(r.headers().expect("header")).expect("write");
    let mut rows = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.expect("record");
        if &rec[2] == label {
            w.write_record(&rec).expect("write");
            rows.push(i);
        }
    }
    w.flush().expect("flush");
    let npy_path = dir.join(format!("{label}.npy"));
    bertopic::embed::write_npy(&npy_path, &all.select(ndarray::Axis(0), &rows)).expect("npy");
    (
        csv_path.to_string_lossy().into_owned(),
        npy_path.to_string_lossy().into_owned(),
    )
}

/// row → topic of a `row,topic,probability` file.
fn topics_of(path: &Path) -> BTreeMap<usize, i64> {
    let mut r = csv::Reader::from_path(path).expect("assignments");
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            (rec[0].parse().expect("row"), rec[1].parse().expect("topic"))
        })
        .collect()
}

fn train(csv: &str, npy: &str, out: &Path) {
    ok(&[
        "train",
        "--input",
        csv,
        "--embeddings",
        npy,
        "--output",
        out.to_str().expect("utf-8"),
        "--min-cluster-size",
        "5",
        "--no-monitoring-baseline",
        "--quiet",
    ]);
}

#[test]
fn merge_then_predict_and_set_topics_from_a_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (cv_csv, cv_npy) = split(d, "cs.CV");
    let (cl_csv, cl_npy) = split(d, "cs.CL");
    let (cv, cl, merged) = (d.join("cv"), d.join("cl"), d.join("merged"));
    train(&cv_csv, &cv_npy, &cv);
    train(&cl_csv, &cl_npy, &cl);

    let json = ok(&[
        "merge",
        "--model",
        cv.to_str().unwrap(),
        "--model",
        cl.to_str().unwrap(),
        "--output",
        merged.to_str().unwrap(),
        "--format",
        "json",
        "--quiet",
    ]);
    let report: serde_json::Value = serde_json::from_str(&json).expect("json mapping");
    let cl_map: BTreeMap<i64, i64> = report[1]["mapping"]
        .as_object()
        .expect("mapping")
        .iter()
        .map(|(k, v)| (k.parse().expect("id"), v.as_i64().expect("id")))
        .collect();
    assert!(merged.join("model.json").is_file() && merged.join("topic_info.csv").is_file());

    // A new process predicts the cs.CL documents with the merged model: each keeps the
    // merged topic of its cs.CL topic.
    let pred = d.join("pred.csv");
    ok(&[
        "predict",
        "--input",
        &cl_csv,
        "--embeddings",
        &cl_npy,
        "--model",
        merged.to_str().unwrap(),
        "--output",
        pred.to_str().unwrap(),
        "--quiet",
    ]);
    let trained = topics_of(&cl.join("document_topics.csv"));
    let predicted = topics_of(&pred);
    let expected: BTreeMap<usize, i64> = trained.iter().map(|(&r, t)| (r, cl_map[t])).collect();
    assert_eq!(predicted, expected);
    // The topic table of the merged model prints (the `topics` verb without a subcommand).
    assert!(ok(&["topics", "--model", merged.to_str().unwrap()]).contains("topic"));

    // A folder that is not ours is never replaced.
    let foreign = d.join("foreign");
    std::fs::create_dir(&foreign).expect("mkdir");
    std::fs::write(foreign.join("notes.txt"), "mine").expect("write");
    let out = bertopic(&[
        "merge",
        "--model",
        cv.to_str().unwrap(),
        "--model",
        cl.to_str().unwrap(),
        "--output",
        foreign.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert_eq!(
        std::fs::read_to_string(foreign.join("notes.txt")).unwrap(),
        "mine"
    );
    assert!(!foreign.join("model.json").exists());

    // Manual topics: the train's document_topics.csv, edited (topic 1 folded into 0), given back.
    let edited = d.join("edited.csv");
    let text = std::fs::read_to_string(cv.join("document_topics.csv")).expect("csv");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for l in lines.iter_mut().skip(1) {
        let mut f: Vec<&str> = l.split(',').collect();
        if f[1] == "1" {
            f[1] = "0";
        }
        *l = f.join(",");
    }
    std::fs::write(&edited, lines.join("\n") + "\n").expect("write");
    let manual = d.join("manual");
    ok(&[
        "topics",
        "set",
        "--model",
        cv.to_str().unwrap(),
        "--input",
        &cv_csv,
        "--assignments",
        edited.to_str().unwrap(),
        "--output",
        manual.to_str().unwrap(),
        "--quiet",
    ]);
    let before = topics_of(&cv.join("document_topics.csv"));
    let after = topics_of(&manual.join("document_topics.csv"));
    let folded: BTreeMap<usize, i64> = before
        .iter()
        .map(|(&r, &t)| (r, if t == 1 { 0 } else { t }))
        .collect();
    assert_eq!(after, folded);

    // A bad line is named.
    lines[3] = "3,vision,0.5".into();
    std::fs::write(&edited, lines.join("\n") + "\n").expect("write");
    let out = bertopic(&[
        "topics",
        "set",
        "--model",
        cv.to_str().unwrap(),
        "--input",
        &cv_csv,
        "--assignments",
        edited.to_str().unwrap(),
        "--output",
        d.join("never").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("line 4") && err.contains("vision"), "{err}");
    assert!(!d.join("never").exists());
}
