//! `bertopic analyze …` end to end: a model trained on the 200-paper arXiv sample (with its
//! precomputed embeddings), each verb's output checked against the facade's (the CLI adds
//! nothing but reading and writing) and against the corpus.

use std::path::Path;

mod common;
use common::{bertopic, ok, sample_embeddings, shared};

use bertopic::analysis::{self, OverTimeParams};
use bertopic::jobs::Corpus;
use bertopic::TopicModel;

fn train(dir: &Path) -> (String, String) {
    let npy = dir.join("sample.npy");
    sample_embeddings(&npy);
    let input = shared().join("data/arxiv-cs-abstracts-200.csv");
    let model = dir.join("model");
    ok(&[
        "train",
        "-q",
        "--input",
        input.to_str().unwrap(),
        "--embeddings",
        npy.to_str().unwrap(),
        "--min-cluster-size",
        "5",
        "--output",
        model.to_str().unwrap(),
    ]);
    (
        model.to_str().unwrap().to_string(),
        input.to_str().unwrap().to_string(),
    )
}

#[test]
fn analyze_verbs_write_what_the_facade_computes() {
    let tmp = tempfile::tempdir().unwrap();
    let (model_dir, input) = train(tmp.path());
    let model = TopicModel::load(model_dir.as_ref()).unwrap();
    let corpus = Corpus::read(input.as_ref(), &Default::default()).unwrap();
    let texts = corpus.texts();

    let out = tmp.path().join("over_time.csv");
    ok(&[
        "analyze",
        "over-time",
        "-q",
        "-m",
        &model_dir,
        "-i",
        &input,
        "--nr-bins",
        "4",
        "-o",
        out.to_str().unwrap(),
    ]);
    let stamps = analysis::corpus_timestamps(&corpus).unwrap();
    let params = OverTimeParams {
        nr_bins: Some(4),
        ..OverTimeParams::default()
    };
    let rows = model
        .topics_over_time(&texts, &stamps, None, &params)
        .unwrap();
    assert_eq!(
        std::fs::read(&out).unwrap(),
        analysis::over_time_csv(&rows).unwrap()
    );
    // Every document is counted once, in one of at most 4 bins.
    assert_eq!(rows.iter().map(|r| r.frequency).sum::<usize>(), texts.len());
    let bins: std::collections::BTreeSet<_> = rows.iter().map(|r| r.timestamp).collect();
    assert!(bins.len() <= 4 && bins.len() >= 2, "{bins:?}");

    let per_class = ok(&["analyze", "per-class", "-q", "-m", &model_dir, "-i", &input]);
    let classes = analysis::corpus_classes(&corpus).unwrap();
    let rows = model
        .topics_per_class(&texts, &classes, None, true)
        .unwrap();
    assert_eq!(
        per_class.as_bytes(),
        analysis::per_class_csv(&rows).unwrap().as_slice()
    );
    assert!(per_class.starts_with("Topic,Words,Frequency,Class\n"));

    let tree = ok(&["analyze", "hierarchy", "-m", &model_dir, "--tree"]);
    let h = model.hierarchical_topics().unwrap();
    assert_eq!(tree, h.tree_text(None));
    assert_eq!(tree.matches("── Topic: ").count(), model.n_topics());
    let json = ok(&["analyze", "hierarchy", "-m", &model_dir, "--format", "json"]);
    let parsed: analysis::TopicHierarchy = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed, h);

    let distr = ok(&[
        "analyze",
        "distribution",
        "-q",
        "-m",
        &model_dir,
        "-i",
        &input,
    ]);
    let mut r = csv::Reader::from_reader(distr.as_bytes());
    assert_eq!(
        r.headers().unwrap(),
        vec!["Document", "Topic", "Probability"]
    );
    let mut per_doc = vec![0.0f64; texts.len()];
    for rec in r.records() {
        let rec = rec.unwrap();
        per_doc[rec[0].parse::<usize>().unwrap()] += rec[2].parse::<f64>().unwrap();
    }
    // Each document's shares sum to 1 (6 decimals each) or it matched no topic at all.
    assert!(per_doc.iter().all(|&s| s == 0.0 || (s - 1.0).abs() < 1e-4));
    assert!(per_doc.iter().filter(|&&s| s > 0.0).count() > texts.len() / 2);
}

#[test]
fn analyze_refuses_another_corpus_and_missing_dates() {
    let tmp = tempfile::tempdir().unwrap();
    let (model_dir, _) = train(tmp.path());
    let other = shared().join("data/sotu-chunks-200.csv");
    let out = bertopic(&[
        "analyze",
        "over-time",
        "-m",
        &model_dir,
        "-i",
        other.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("training documents"), "{err}");

    // A copy of the training corpus whose third record has no date.
    let src = shared().join("data/arxiv-cs-abstracts-200.csv");
    let dst = tmp.path().join("nodate.csv");
    let mut r = csv::Reader::from_path(&src).unwrap();
    let mut w = csv::Writer::from_path(&dst).unwrap();
    w.write_record(r.headers().unwrap()).unwrap();
    for (i, rec) in r.records().enumerate() {
        let mut rec: Vec<String> = rec.unwrap().iter().map(str::to_string).collect();
        if i == 2 {
            rec[3].clear();
        }
        w.write_record(&rec).unwrap();
    }
    w.flush().unwrap();
    let out = bertopic(&[
        "analyze",
        "over-time",
        "-m",
        &model_dir,
        "-i",
        dst.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("record 3 has no date"), "{err}");
}

#[test]
fn report_is_one_self_contained_html_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (model_dir, input) = train(tmp.path());
    let out = tmp.path().join("report.html");
    ok(&[
        "report",
        "-q",
        "-m",
        &model_dir,
        "-i",
        &input,
        "--nr-bins",
        "6",
        "-o",
        out.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    // No script and nothing fetched: the only URL is the SVG namespace.
    assert!(!html.contains("<script"));
    let urls = html.matches("http").count();
    assert_eq!(urls, html.matches("http://www.w3.org/2000/svg").count());
    for id in [
        "overview",
        "distance-map",
        "words",
        "hierarchy",
        "similarity",
        "documents",
        "over-time",
        "per-class",
    ] {
        assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
    }
    assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count());
    // One hoverable point per training document on the document map (200 < the sample bound).
    let model = TopicModel::load(model_dir.as_ref()).unwrap();
    let map = &html[html.find("<section id=\"documents\">").unwrap()..];
    let map = &map[..map.find("</section>").unwrap()];
    assert_eq!(
        map.matches("<circle").count(),
        model.document_topics().len()
    );
    // The model folder is not a report target: refused before anything is written.
    let bad = bertopic(&["report", "-m", &model_dir, "-o", &model_dir]);
    assert!(!bad.status.success());
}
