//! `bertopic train --labels-column` end to end on the arXiv 200-row sample with its precomputed
//! embeddings: supervised (every row labelled), semi-supervised (half the labels unknown, the
//! same model as the library's `fit_with_labels`), refused labels, and `--trials` refusing
//! labels and variants.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

mod common;
use common::{bertopic, ok, sample_embeddings, shared};

/// row → topic of a `document_topics.csv`.
fn topics_of(dir: &Path) -> BTreeMap<usize, i64> {
    let mut r = csv::Reader::from_path(dir.join("document_topics.csv")).expect("assignments");
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            (rec[0].parse().expect("row"), rec[1].parse().expect("topic"))
        })
        .collect()
}

/// The sample with `edit(row, label) -> label` applied to its Label column (rows 1-based).
fn sample_with(dst: &Path, edit: impl Fn(usize, &str) -> String) {
    let mut r =
        csv::Reader::from_path(shared().join("data/arxiv-cs-abstracts-200.csv")).expect("sample");
    let mut w = csv::Writer::from_path(dst).expect("csv");
    w.write_record(r.headers().expect("header")).expect("write");
    for (i, rec) in r.records().enumerate() {
        let rec = rec.expect("record");
        let label = edit(i + 1, &rec[2]);
        w.write_record([&rec[0], &rec[1], label.as_str(), &rec[3]])
            .expect("write");
    }
    w.flush().expect("flush");
}

fn train_args<'a>(csv: &'a str, npy: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "train",
        "--input",
        csv,
        "--embeddings",
        npy,
        "--output",
        out,
        "--min-cluster-size",
        "5",
        "--no-monitoring-baseline",
    ]
}

#[test]
fn supervised_and_semi_supervised_from_a_label_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let npy = d.join("sample.npy");
    sample_embeddings(&npy);
    let npy = npy.to_str().unwrap();
    let csv = shared().join("data/arxiv-cs-abstracts-200.csv");
    let csv = csv.to_str().unwrap();
    let labels: Vec<String> = csv::Reader::from_path(csv)
        .expect("sample")
        .records()
        .map(|r| r.expect("record")[2].to_string())
        .collect();

    // Supervised: the labels are the topics, numbered by size (cs.CV, 100 rows, is topic 0).
    let sup = d.join("sup");
    let mut args = train_args(csv, npy, sup.to_str().unwrap());
    args.extend(["--labels-column", "Label"]);
    let out = bertopic(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("supervised: 200 labelled documents in 12 classes"),
        "{stderr}"
    );
    let topics = topics_of(&sup);
    let mut label_of: BTreeMap<i64, BTreeSet<&str>> = BTreeMap::new();
    for (&row, &t) in &topics {
        label_of
            .entry(t)
            .or_default()
            .insert(labels[row - 1].as_str());
    }
    let distinct: BTreeSet<&str> = labels.iter().map(String::as_str).collect();
    assert_eq!(label_of.len(), distinct.len(), "one topic per label");
    assert!(label_of.values().all(|l| l.len() == 1), "{label_of:?}");
    assert_eq!(label_of[&0], BTreeSet::from(["cs.CV"]));

    // Semi-supervised: odd rows keep their label, even rows are `?` (unknown). The model is
    // the library's fit_with_labels on the same documents and class ids.
    let half = d.join("half.csv");
    sample_with(&half, |row, l| {
        if row % 2 == 1 {
            l.to_string()
        } else {
            "?".into()
        }
    });
    let semi = d.join("semi");
    let mut args = train_args(half.to_str().unwrap(), npy, semi.to_str().unwrap());
    args.extend([
        "--labels-column",
        "Label",
        "--unknown-label",
        "?",
        "--quiet",
    ]);
    ok(&args);
    let (docs, _) = bertopic::preprocess::read_corpus(&half, &Default::default()).expect("read");
    let texts: Vec<String> = docs.iter().map(|d| d.text.clone()).collect();
    let mut ids: BTreeMap<&str, i64> = BTreeMap::new();
    let y: Vec<i64> = docs
        .iter()
        .map(|d| match d.label.as_deref() {
            Some("?") | None => -1,
            Some(l) => {
                let n = ids.len() as i64;
                *ids.entry(l).or_insert(n)
            }
        })
        .collect();
    let embeddings = bertopic::embed::read_npy(Path::new(npy)).expect("npy");
    let lib = bertopic::Bertopic::builder()
        .min_topic_size(5)
        .build()
        .expect("valid")
        .fit_with_labels(&texts, embeddings, &y)
        .expect("library fit");
    let cli: Vec<i64> = topics_of(&semi).values().copied().collect();
    assert_eq!(cli, lib.document_topics(), "CLI = fit_with_labels");
    let unsup = d.join("unsup");
    ok(
        &train_args(half.to_str().unwrap(), npy, unsup.to_str().unwrap())
            .into_iter()
            .chain(["--quiet"])
            .collect::<Vec<_>>(),
    );
    assert_ne!(
        topics_of(&unsup).values().copied().collect::<Vec<_>>(),
        cli,
        "the labels changed nothing"
    );
}

#[test]
fn bad_labels_and_tuning_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let npy = d.join("sample.npy");
    sample_embeddings(&npy);
    let npy = npy.to_str().unwrap();
    let fails = |args: &[&str], wants: &[&str]| {
        let out = bertopic(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        for w in wants {
            assert!(stderr.contains(w), "{args:?}: `{w}` not in: {stderr}");
        }
        assert!(!stderr.contains("panicked"), "{stderr}");
    };
    // Numeric labels with a negative one on row 7: the error names the file, row and column.
    let bad = d.join("bad.csv");
    sample_with(&bad, |row, _| {
        if row == 7 {
            "-3".into()
        } else {
            (row % 3).to_string()
        }
    });
    let out = d.join("out");
    let bad_s = bad.to_str().unwrap();
    let mut args = train_args(bad_s, npy, out.to_str().unwrap());
    args.extend(["--labels-column", "Label"]);
    fails(&args, &["bad.csv row 7, column `Label`", "-3"]);
    assert!(!out.exists(), "no output on error");
    // A column that is not there.
    let csv = shared().join("data/arxiv-cs-abstracts-200.csv");
    let csv = csv.to_str().unwrap();
    let mut args = train_args(csv, npy, out.to_str().unwrap());
    args.extend(["--labels-column", "Category"]);
    fails(&args, &["no document has a label in column `Category`"]);
    // Tuning fits plain models: labels and variants are refused, not silently dropped.
    let mut args = train_args(csv, npy, out.to_str().unwrap());
    args.extend(["--labels-column", "Label", "--trials", "2"]);
    fails(&args, &["--trials", "--labels-column"]);
    let mut args = train_args(csv, npy, out.to_str().unwrap());
    args.extend(["--zeroshot-topics", "computer vision", "--trials", "2"]);
    fails(&args, &["--trials", "--zeroshot-topics"]);
    // --unknown-label needs --labels-column.
    let mut args = train_args(csv, npy, out.to_str().unwrap());
    args.extend(["--unknown-label", "?"]);
    fails(&args, &["--labels-column"]);
    assert!(!out.exists());
}
