//! The Spark driver `deploy/spark/bertopic_spark.py` for real (#18): pyspark from the
//! throw-away venv `cargo xtask spark-venv` makes, in `local-cluster[2,1,1024]` mode (two
//! executor processes), on the State of the Union 200-row sample with the real embedding
//! model, checked against a single-machine run of the same steps: the same topics, the same
//! topic for every document, the same topic words.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::{json, Value};

mod common;
use common::{ok, shared};

fn spark_python() -> PathBuf {
    let p = std::env::var_os("BERTOPIC_SPARK_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "BERTOPIC_SPARK_PYTHON is not set: run `cargo xtask spark-venv` and point it at \
             target/spark-venv/bin/python (`cargo xtask test` does both)"
            )
        });
    assert!(
        p.exists(),
        "BERTOPIC_SPARK_PYTHON={} does not exist",
        p.display()
    );
    p
}

/// Rows of a Parquet folder, read with pyarrow from the Spark venv.
fn parquet(python: &Path, dir: &Path) -> Vec<Value> {
    let out = Command::new(python)
        .args([
            "-c",
            "import json, sys, pyarrow.parquet as pq; print(json.dumps(pq.read_table(sys.argv[1]).to_pylist()))",
        ])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// topic → (count, words) of a topic_info.csv.
fn info_csv(text: &str) -> BTreeMap<i64, (u64, Vec<String>)> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let words = rec[3].split(' ').map(str::to_string).collect();
            (rec[0].parse().unwrap(), (rec[1].parse().unwrap(), words))
        })
        .collect()
}

#[test]
#[ignore = "needs pyspark and Java 17: `cargo xtask test` makes target/spark-venv and runs this \
            with BERTOPIC_SPARK_PYTHON (or: cargo test --workspace --test spark -- --ignored)"]
fn spark_driver_matches_a_single_machine_run() {
    let python = spark_python();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The corpus as JSON Lines with ids.
    let mut r = csv::Reader::from_path(shared().join("data/sotu-chunks-200.csv")).unwrap();
    let records: Vec<Value> = r
        .records()
        .enumerate()
        .map(|(i, rec)| {
            let rec = rec.unwrap();
            json!({"id": format!("sotu-{i:03}"), "Title": &rec[0], "Abstract": &rec[1]})
        })
        .collect();
    let corpus = d.join("corpus.jsonl");
    let text: String = records.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(&corpus, text).unwrap();
    let out = d.join("spark");
    let bin = env!("CARGO_BIN_EXE_bertopic");
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/spark/bertopic_spark.py");
    let train_args = ["--min-cluster-size", "5"];

    let start = Instant::now();
    let run = Command::new(&python)
        .arg(&driver)
        .args(["--master", "local-cluster[2,1,1024]", "--partitions", "3"])
        .args(["--sample-size", "150", "--seed", "7", "--bertopic", bin])
        .arg("--input")
        .arg(&corpus)
        .arg("--output")
        .arg(&out)
        .args(train_args.iter().map(|a| format!("--train-arg={a}")))
        .env_remove("MLFLOW_TRACKING_URI")
        .output()
        .unwrap();
    let wall = start.elapsed().as_secs_f64();
    assert!(
        run.status.success(),
        "the Spark driver failed:\n{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    eprintln!("spark driver wall time {wall:.1} s; summary {summary}");
    assert_eq!(summary["documents"], 200);
    assert_eq!(summary["sample"], 150);
    assert_eq!(summary["partitions"], 3);

    // The single-machine run: train on the same sample (embedding it here), predict the corpus.
    let sample = out.join("sample.jsonl");
    let sample_ids: Vec<String> = std::fs::read_to_string(&sample)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(sample_ids.len(), 150);
    let reference = d.join("reference");
    let r = reference.to_str().unwrap();
    let mut args = vec![
        "-q",
        "train",
        "--input",
        sample.to_str().unwrap(),
        "--output",
        r,
    ];
    args.extend(["--seed", "7"]);
    args.extend(train_args);
    ok(&args);
    let spark_model = out.join("model");
    let topics = |m: &str| -> Value {
        serde_json::from_str(&ok(&["topics", "--model", m, "--format", "json"])).unwrap()
    };
    let want_topics = topics(r);
    assert_eq!(
        topics(spark_model.to_str().unwrap()),
        want_topics,
        "the same topics"
    );
    assert!(want_topics.as_array().unwrap().len() >= 3, "{want_topics}");

    let predicted = d.join("reference.csv");
    ok(&[
        "-q",
        "predict",
        "--model",
        r,
        "--input",
        corpus.to_str().unwrap(),
        "--output",
        predicted.to_str().unwrap(),
    ]);
    // The CSV writes probabilities with 6 decimals.
    let mut want: BTreeMap<String, (i64, String)> = BTreeMap::new();
    for rec in csv::Reader::from_path(&predicted).unwrap().records() {
        let rec = rec.unwrap();
        let row: usize = rec[0].parse().unwrap();
        want.insert(
            format!("sotu-{:03}", row - 1),
            (rec[1].parse().unwrap(), rec[2].to_string()),
        );
    }
    let got: BTreeMap<String, (i64, f64)> = parquet(&python, &out.join("document_topics.parquet"))
        .iter()
        .map(|o| {
            (
                o["id"].as_str().unwrap().to_string(),
                (
                    o["topic"].as_i64().unwrap(),
                    o["probability"].as_f64().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(got.len(), 200);
    for (id, (t, p)) in &want {
        let (gt, gp) = got[id];
        assert_eq!(gt, *t, "document {id}: topic");
        assert_eq!(&format!("{gp:.6}"), p, "document {id}: probability");
    }

    // Topic words over the whole corpus on one machine, with the same assignments.
    let with_topics: String = records
        .iter()
        .map(|rec| {
            let mut rec = rec.clone();
            rec["topic"] = json!(want[rec["id"].as_str().unwrap()].0);
            format!("{rec}\n")
        })
        .collect();
    let assigned = d.join("assigned.jsonl");
    std::fs::write(&assigned, with_topics).unwrap();
    let single = info_csv(&ok(&[
        "-q",
        "topic-words",
        "--model",
        r,
        "--input",
        assigned.to_str().unwrap(),
    ]));
    let spark_info: BTreeMap<i64, (u64, Vec<String>)> =
        parquet(&python, &out.join("topic_info.parquet"))
            .iter()
            .map(|o| {
                let words = o["words"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|w| w.as_str().unwrap().to_string())
                    .collect();
                (
                    o["topic"].as_i64().unwrap(),
                    (o["count"].as_u64().unwrap(), words),
                )
            })
            .collect();
    assert_eq!(spark_info, single, "the same topic words");
    assert_eq!(
        spark_info.values().map(|(c, _)| c).sum::<u64>(),
        200,
        "every document is counted once"
    );
}
