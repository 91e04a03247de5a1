//! JSON Lines streaming for Spark and Kubernetes (#18): `embed` / `predict` with `--input -
//! --output -` carry ids through, `--shard i/N` splits the input disjointly, bad JSON names
//! its line, a closed standard output ends the command quietly, and `counts` + `topic-words`
//! give the single-machine topic words.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

mod common;
use common::{ok, sample_embeddings, shared};

/// Runs bertopic with `stdin` on standard input.
fn piped(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bertopic"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the bertopic binary runs");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_string();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(data.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn lines(out: &Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// The arXiv sample as JSON Lines with ids and the precomputed embeddings, and a model trained
/// on it (no embedding model needed).
fn fixture(dir: &Path) -> (Vec<Value>, String) {
    let npy = dir.join("emb.npy");
    sample_embeddings(&npy);
    let corpus = shared().join("data/arxiv-cs-abstracts-200.csv");
    let model = dir.join("model");
    ok(&[
        "train",
        "--input",
        corpus.to_str().unwrap(),
        "--embeddings",
        npy.to_str().unwrap(),
        "--output",
        model.to_str().unwrap(),
        "--min-cluster-size",
        "5",
        "--no-cache",
        "--quiet",
    ]);
    let emb = bertopic::embed::read_npy(&npy).unwrap();
    let mut r = csv::Reader::from_path(&corpus).unwrap();
    let records = r
        .records()
        .enumerate()
        .map(|(i, rec)| {
            let rec = rec.unwrap();
            json!({
                "id": format!("paper-{i}"),
                "Title": &rec[0],
                "Abstract": &rec[1],
                "embedding": emb.row(i).to_vec(),
            })
        })
        .collect();
    (records, model.to_str().unwrap().to_string())
}

fn as_input(records: &[Value]) -> String {
    records.iter().map(|r| format!("{r}\n")).collect()
}

fn topics(out: &[Value]) -> BTreeMap<String, (i64, f64)> {
    out.iter()
        .map(|o| {
            (
                o["id"].as_str().unwrap().to_string(),
                (
                    o["topic"].as_i64().unwrap(),
                    o["probability"].as_f64().unwrap(),
                ),
            )
        })
        .collect()
}

#[test]
fn predict_stream_shards_counts_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (records, model) = fixture(dir.path());
    let input = as_input(&records);
    let predict = |extra: &[&str], stdin: &str| {
        let mut args = vec![
            "-q", "predict", "--model", &model, "--input", "-", "--output", "-",
        ];
        args.extend_from_slice(extra);
        piped(&args, stdin)
    };

    // Every id comes back once, in input order, with a topic.
    let all = lines(&predict(&["--batch-size", "7"], &input));
    let ids: Vec<&str> = all.iter().map(|o| o["id"].as_str().unwrap()).collect();
    let want: Vec<String> = (0..200).map(|i| format!("paper-{i}")).collect();
    assert_eq!(ids, want);
    let all = topics(&all);
    // Same assignments as the CSV path on the same file and embeddings (training documents
    // keep their fitted topics).
    let csv_out = dir.path().join("p.csv");
    let npy = dir.path().join("emb.npy");
    ok(&[
        "predict",
        "-q",
        "--model",
        &model,
        "--input",
        shared()
            .join("data/arxiv-cs-abstracts-200.csv")
            .to_str()
            .unwrap(),
        "--embeddings",
        npy.to_str().unwrap(),
        "--output",
        csv_out.to_str().unwrap(),
    ]);
    let mut r = csv::Reader::from_path(&csv_out).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        let row: usize = rec[0].parse().unwrap();
        let topic: i64 = rec[1].parse().unwrap();
        assert_eq!(all[&format!("paper-{}", row - 1)].0, topic, "row {row}");
    }

    // Three shards are disjoint and together give the whole run.
    let mut union = BTreeMap::new();
    for i in 0..3 {
        let shard = format!("{i}/3");
        let part = topics(&lines(&predict(&["--shard", &shard], &input)));
        assert!((66..=67).contains(&part.len()));
        for (id, t) in part {
            assert!(union.insert(id, t).is_none(), "shards overlap");
        }
    }
    assert_eq!(union, all);

    // Without an id, the line number is the id.
    let first = json!({"Title": records[0]["Title"], "Abstract": records[0]["Abstract"],
                       "embedding": records[0]["embedding"]});
    let out = lines(&predict(&[], &format!("\n{first}\n")));
    assert_eq!(out[0]["id"], json!(2));

    // Bad JSON: a typed error naming the line, no panic.
    let bad = format!(
        "{}{}\n{{\"id\": 3, oops}}\n",
        as_input(&records[..1]),
        records[1]
    );
    let out = predict(&[], &bad);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("line 3") && err.contains("invalid JSON"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    // --shard needs JSON Lines out.
    let out = common::bertopic(&[
        "predict", "--model", &model, "--input", "x.csv", "--shard", "0/2",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--shard needs JSON Lines"));

    // Map-reduce topic words = single-machine topic words on the same assignments.
    let with_topics: Vec<Value> = records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r["topic"] = json!(all[r["id"].as_str().unwrap()].0);
            r
        })
        .collect();
    let mut counts = Vec::new();
    for (i, part) in [&with_topics[..50], &with_topics[50..]].iter().enumerate() {
        let path = dir.path().join(format!("counts-{i}.json"));
        let out = piped(&["-q", "counts", "--model", &model], &as_input(part));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(&path, &out.stdout).unwrap();
        counts.push(path.to_str().unwrap().to_string());
    }
    let mut args = vec!["-q", "topic-words", "--model", model.as_str(), "--counts"];
    args.extend(counts.iter().map(String::as_str));
    let merged = ok(&args);
    let single = piped(
        &["-q", "topic-words", "--model", &model, "--input", "-"],
        &as_input(&with_topics),
    );
    assert!(single.status.success());
    assert_eq!(merged, String::from_utf8_lossy(&single.stdout));
    assert!(merged.lines().count() > 3, "{merged}");
}

/// A reader that stops early (`| head -1`) ends the stream with status 0, no panic.
#[test]
fn closed_stdout_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let (records, model) = fixture(dir.path());
    // Enough output to fill the pipe after the reader is gone.
    let input = as_input(&records).repeat(40);
    let mut child = Command::new(env!("CARGO_BIN_EXE_bertopic"))
        .args([
            "predict", "--model", &model, "--input", "-", "--output", "-",
        ])
        .args(["--batch-size", "50"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let mut first = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("paper-0"), "{first}");
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked") && !err.contains("error"), "{err}");
}

/// `embed` streams one line per record with the real model: the same vectors as the `.npy`
/// path, `null` for a text that cleans to nothing.
#[test]
fn embed_stream_matches_the_npy_path() {
    let dir = tempfile::tempdir().unwrap();
    let texts = [
        "The moon landing was a triumph",
        "Oil prices rose sharply this winter",
    ];
    let input = format!(
        "{}\n{}\n{}\n",
        json!({"id": "a", "text": texts[0]}),
        json!({"id": "b", "text": "  \t "}),
        json!({"id": "c", "text": texts[1]})
    );
    let out = lines(&piped(
        &["-q", "embed", "--input", "-", "--output", "-", "--no-cache"],
        &input,
    ));
    let ids: Vec<&str> = out.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert!(out[1]["embedding"].is_null());
    let txt = dir.path().join("docs.txt");
    std::fs::write(&txt, texts.join("\n")).unwrap();
    let npy = dir.path().join("docs.npy");
    ok(&[
        "embed",
        "-q",
        "--input",
        txt.to_str().unwrap(),
        "--output",
        npy.to_str().unwrap(),
        "--no-cache",
    ]);
    let m = bertopic::embed::read_npy(&npy).unwrap();
    for (row, o) in [(0, &out[0]), (1, &out[2])] {
        let v: Vec<f32> = serde_json::from_value(o["embedding"].clone()).unwrap();
        assert_eq!(v.len(), m.ncols());
        let worst = v
            .iter()
            .zip(m.row(row))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "row {row}: max difference {worst}");
    }
}
