//! MLflow tracking and registry against the real thing: a `mlflow server` started here (SQLite
//! backend, proxied artifacts) and MLflow's own Python client reading back what `bertopic`
//! logged. The Python comes from the throw-away venv `cargo xtask mlflow-venv` makes
//! (`cargo xtask test` makes it and sets `BERTOPIC_MLFLOW_PYTHON`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

// The real `mlflow server` fixture, shared with bertopic-track's reader tests.
use bertopic_testdata::mlflow::{self, free_port, MlflowServer as Server};
use serde_json::Value;

/// [`mlflow::py_json`] with `BERTOPIC_BIN` set: some snippets run the CLI themselves.
fn py_json(code: &str, args: &[&str], env: &[(&str, &str)]) -> Value {
    let mut env = env.to_vec();
    env.push(("BERTOPIC_BIN", env!("CARGO_BIN_EXE_bertopic")));
    mlflow::py_json(code, args, &env)
}

/// What MLflow holds about an experiment's runs, read with its Python client.
const READ_RUNS: &str = r#"
import json, sys, mlflow
from mlflow import MlflowClient
mlflow.set_tracking_uri(sys.argv[1])
c = MlflowClient()
exp = c.get_experiment_by_name(sys.argv[2])
df = mlflow.search_runs([exp.experiment_id])
runs = []
for rid in df["run_id"]:
    r = c.get_run(rid)
    hist = {k: [[m.step, m.value] for m in c.get_metric_history(rid, k)] for k in r.data.metrics}
    def walk(path=None):
        out = []
        for a in c.list_artifacts(rid, path):
            out.extend(walk(a.path) if a.is_dir else [a.path])
        return out
    runs.append({"run_id": rid, "status": r.info.status, "params": r.data.params,
                 "metrics": r.data.metrics, "tags": r.data.tags, "history": hist,
                 "artifacts": walk()})
print(json.dumps(runs))
"#;

/// The SOTU 200-row sample and its rows of the corpus' precomputed MiniLM embeddings (matched
/// by title and text), so training needs no model.
fn sotu_sample(dir: &Path) -> (PathBuf, PathBuf) {
    let npy = dir.join("sotu200.npy");
    common::corpus_sample_embeddings("sotu-chunks", &npy);
    (common::shared().join("data/sotu-chunks-200.csv"), npy)
}

fn run_bertopic(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bertopic"))
        .args(args)
        .env_remove("MLFLOW_TRACKING_URI")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn train_args<'a>(sample: &'a str, npy: &'a str, out: &'a str, reg: &'a str) -> Vec<&'a str> {
    vec![
        "train",
        "--input",
        sample,
        "--embeddings",
        npy,
        "--output",
        out,
        "--registry",
        reg,
        "--format",
        "json",
    ]
}

fn experiment_json(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("experiment.json")).unwrap()).unwrap()
}

/// Checks the parent and child runs of a `train --trials N` against its experiment.json.
fn check_runs(runs: &[Value], model_dir: &Path, n_trials: usize) -> Value {
    let exp = experiment_json(model_dir);
    let trials = exp["trials"].as_array().unwrap();
    assert_eq!(trials.len(), n_trials);
    let parents: Vec<&Value> = runs
        .iter()
        .filter(|r| r["tags"].get("mlflow.parentRunId").is_none())
        .collect();
    assert_eq!(parents.len(), 1, "{runs:#?}");
    let parent = parents[0].clone();
    let pid = parent["run_id"].as_str().unwrap();
    assert_eq!(parent["status"], "FINISHED");
    assert_eq!(runs.len(), n_trials + 1);

    // Parameters and provenance.
    assert_eq!(parent["params"]["seed"], "42");
    assert_eq!(parent["params"]["tune.n_trials"], n_trials.to_string());
    let tags = &parent["tags"];
    assert_eq!(tags["bertopic.version"], bertopic::VERSION);
    assert_eq!(tags["bertopic.corpus.rows"], "200");
    let corpus = std::fs::read(common::shared().join("data/sotu-chunks-200.csv")).unwrap();
    assert_eq!(
        tags["bertopic.corpus.sha256"],
        bertopic::tracking::sha256_hex(&corpus)
    );
    let model: Value =
        serde_json::from_slice(&std::fs::read(model_dir.join("model.json")).unwrap()).unwrap();
    assert_eq!(
        tags["bertopic.embedding.model"],
        model["params"]["embedding_model"]
    );

    // Final metrics = the best trial's; the per-trial history has one point per trial.
    let best = exp["best_trial"].as_u64().unwrap();
    let best_trial = trials.iter().find(|t| t["id"] == best).unwrap();
    let c_v = best_trial["metrics"]["c_v"].as_f64().unwrap();
    assert!((parent["metrics"]["c_v"].as_f64().unwrap() - c_v).abs() < 1e-12);
    let hist = parent["history"]["trial.c_v"].as_array().unwrap();
    let mut got: Vec<(u64, f64)> = hist
        .iter()
        .map(|p| (p[0].as_u64().unwrap(), p[1].as_f64().unwrap()))
        .collect();
    got.sort_by_key(|p| p.0);
    let want: Vec<(u64, f64)> = trials
        .iter()
        .filter_map(|t| Some((t["id"].as_u64()?, t["metrics"]["c_v"].as_f64()?)))
        .collect();
    assert_eq!(got, want);

    // One finished child per trial, with its parameters and scores.
    for t in trials {
        let id = t["id"].to_string();
        let child = runs
            .iter()
            .find(|r| r["tags"]["bertopic.trial"].as_str() == Some(id.as_str()))
            .unwrap_or_else(|| panic!("no child run for trial {}", t["id"]));
        assert_eq!(child["tags"]["mlflow.parentRunId"], pid);
        assert_eq!(child["status"], "FINISHED");
        assert_eq!(
            child["params"]["min_cluster_size"],
            t["params"]["min_cluster_size"].to_string()
        );
        assert_eq!(
            child["metrics"]["n_topics"].as_f64().unwrap(),
            t["metrics"]["n_topics"].as_f64().unwrap()
        );
        if let Some(v) = t["metrics"]["c_v"].as_f64() {
            assert!((child["metrics"]["c_v"].as_f64().unwrap() - v).abs() < 1e-12);
        }
    }

    // Artifacts: the reports and the model folder with its MLmodel and loader.
    let arts: Vec<&str> = parent["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for a in [
        "topic_info.csv",
        "document_topics.csv",
        "experiment.json",
        "coherence_curve.svg",
        "coherence_curve.csv",
        "model/model.json",
        "model/model.safetensors",
        "model/MLmodel",
        "model/MANIFEST.sha256",
        "model/code/bertopic_pyfunc.py",
    ] {
        assert!(arts.contains(&a), "{a} missing from {arts:?}");
    }
    parent
}

#[test]
fn server_run_registry_and_pyfunc_match_what_train_logged() {
    let server = Server::start();
    let d = tempfile::tempdir().unwrap();
    let (sample, npy) = sotu_sample(d.path());
    let out = d.path().join("m");
    let reg = d.path().join("reg");
    let (s, n, o, r) = (
        sample.to_str().unwrap(),
        npy.to_str().unwrap(),
        out.to_str().unwrap(),
        reg.to_str().unwrap(),
    );
    let mut args = train_args(s, n, o, r);
    args.extend([
        "--trials",
        "5",
        "--register",
        "M",
        "--tracking-uri",
        &server.url,
    ]);
    let res = run_bertopic(&args, &[]);
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );

    let runs = py_json(READ_RUNS, &[&server.url, "BERTopic-Analysis"], &[]);
    let parent = check_runs(runs.as_array().unwrap(), &out, 5);
    let pid = parent["run_id"].as_str().unwrap();

    // The registered model version points at the run's model artifact, metrics as tags.
    let code = r#"
import json, sys, mlflow
from mlflow import MlflowClient
mlflow.set_tracking_uri(sys.argv[1])
vs = MlflowClient().search_model_versions("name='M'")
print(json.dumps([{"version": v.version, "run_id": v.run_id, "source": v.source,
                   "tags": v.tags, "status": v.status} for v in vs]))
"#;
    let versions = py_json(code, &[&server.url], &[]);
    let v = &versions.as_array().unwrap()[0];
    assert_eq!(versions.as_array().unwrap().len(), 1);
    assert_eq!(v["version"], "1");
    assert_eq!(v["run_id"], pid);
    assert_eq!(v["status"], "READY");
    assert!(v["source"].as_str().unwrap().ends_with("/artifacts/model"));
    assert_eq!(
        v["tags"]["n_topics"],
        parent["metrics"]["n_topics"].as_f64().unwrap().to_string()
    );

    // mlflow.pyfunc.load_model(...).predict(df) runs our binary: same answer as `bertopic
    // predict` on the same rows.
    let first = d.path().join("first5.csv");
    let mut w = csv::Writer::from_path(&first).unwrap();
    let mut rd = csv::Reader::from_path(&sample).unwrap();
    w.write_record(["Title", "Abstract"]).unwrap();
    for rec in rd.records().take(5) {
        let rec = rec.unwrap();
        w.write_record([&rec[0], &rec[1]]).unwrap();
    }
    w.flush().unwrap();
    let code = r#"
import json, sys, mlflow, pandas as pd
mlflow.set_tracking_uri(sys.argv[1])
m = mlflow.pyfunc.load_model("models:/M/1")
p = m.predict(pd.read_csv(sys.argv[2]))
print(json.dumps({"topic": [int(x) for x in p["topic"]], "probability": [float(x) for x in p["probability"]]}))
"#;
    let got = py_json(code, &[&server.url, first.to_str().unwrap()], &[]);
    let direct = run_bertopic(
        &["predict", "--model", o, "--input", first.to_str().unwrap()],
        &[],
    );
    assert!(
        direct.status.success(),
        "{}",
        String::from_utf8_lossy(&direct.stderr)
    );
    let mut rd = csv::Reader::from_reader(direct.stdout.as_slice());
    let want: Vec<i64> = rd
        .records()
        .map(|r| r.unwrap()[1].parse().unwrap())
        .collect();
    let got_topics: Vec<i64> = got["topic"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_i64().unwrap())
        .collect();
    assert_eq!(got_topics, want);

    // Aliases in MLflow's registry, read back by its client; models:/M@champion then resolves
    // against MLflow (download, checksum) and predicts the same.
    let promoted = run_bertopic(
        &[
            "registry",
            "promote",
            "M",
            "1",
            "--alias",
            "champion",
            "--tracking-uri",
            &server.url,
        ],
        &[],
    );
    assert!(
        promoted.status.success(),
        "{}",
        String::from_utf8_lossy(&promoted.stderr)
    );
    let code = r#"
import json, sys, mlflow
from mlflow import MlflowClient
mlflow.set_tracking_uri(sys.argv[1])
v = MlflowClient().get_model_version_by_alias("M", "champion")
print(json.dumps({"version": v.version, "aliases": list(v.aliases)}))
"#;
    assert_eq!(
        py_json(code, &[&server.url], &[]),
        serde_json::json!({"version": "1", "aliases": ["champion"]})
    );
    let cache = d.path().join("cache");
    let via_alias = run_bertopic(
        &[
            "predict",
            "--model",
            "models:/M@champion",
            "--input",
            first.to_str().unwrap(),
        ],
        &[
            ("MLFLOW_TRACKING_URI", server.url.as_str()),
            ("XDG_CACHE_HOME", cache.to_str().unwrap()),
        ],
    );
    assert!(
        via_alias.status.success(),
        "{}",
        String::from_utf8_lossy(&via_alias.stderr)
    );
    assert_eq!(via_alias.stdout, direct.stdout);
    // The aliased version is not deleted without --force.
    let refused = run_bertopic(
        &[
            "registry",
            "delete",
            "M",
            "1",
            "--tracking-uri",
            &server.url,
        ],
        &[],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("champion"));
}

#[test]
fn four_concurrent_registrations_get_four_versions() {
    let server = Server::start();
    let d = tempfile::tempdir().unwrap();
    let (sample, npy) = sotu_sample(d.path());
    let reg = d.path().join("reg");
    let children: Vec<Child> = (0..4)
        .map(|i| {
            let out = d.path().join(format!("m{i}"));
            Command::new(env!("CARGO_BIN_EXE_bertopic"))
                .args(train_args(
                    sample.to_str().unwrap(),
                    npy.to_str().unwrap(),
                    out.to_str().unwrap(),
                    reg.to_str().unwrap(),
                ))
                .args(["--register", "same-name", "--tracking-uri", &server.url])
                .env_remove("MLFLOW_TRACKING_URI")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let code = r#"
import json, sys, mlflow
from mlflow import MlflowClient
mlflow.set_tracking_uri(sys.argv[1])
c = MlflowClient()
vs = c.search_model_versions("name='same-name'")
exp = c.get_experiment_by_name("BERTopic-Analysis")
runs = mlflow.search_runs([exp.experiment_id])
print(json.dumps({"versions": sorted(int(v.version) for v in vs),
                  "run_ids": sorted(v.run_id for v in vs),
                  "runs": sorted(runs["run_id"]), "status": sorted(set(runs["status"]))}))
"#;
    let got = py_json(code, &[&server.url], &[]);
    assert_eq!(got["versions"], serde_json::json!([1, 2, 3, 4]));
    assert_eq!(got["runs"], got["run_ids"], "every run has its own version");
    assert_eq!(got["status"], serde_json::json!(["FINISHED"]));
}

#[test]
fn file_store_is_read_by_mlflow() {
    let d = tempfile::tempdir().unwrap();
    let (sample, npy) = sotu_sample(d.path());
    let out = d.path().join("m");
    let mlruns = d.path().join("mlruns");
    let mut args = train_args(
        sample.to_str().unwrap(),
        npy.to_str().unwrap(),
        out.to_str().unwrap(),
        "unused-registry",
    );
    args.extend(["--trials", "4", "--tracking-uri", mlruns.to_str().unwrap()]);
    args.extend(["--experiment", "SOTU"]);
    let res = run_bertopic(&args, &[]);
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let uri = format!("file://{}", mlruns.display());
    let runs = py_json(
        READ_RUNS,
        &[&uri, "SOTU"],
        &[("MLFLOW_ALLOW_FILE_STORE", "true")],
    );
    check_runs(runs.as_array().unwrap(), &out, 4);
    // The artifacts are the saved files, byte for byte.
    let parent = runs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["tags"].get("mlflow.parentRunId").is_none())
        .unwrap();
    let code = r#"
import sys, mlflow
mlflow.set_tracking_uri(sys.argv[1])
p = mlflow.artifacts.download_artifacts(run_id=sys.argv[2], artifact_path="model/model.json", dst_path=sys.argv[3])
print('"' + p + '"')
"#;
    let dst = d.path().join("dl");
    let p = py_json(
        code,
        &[
            &uri,
            parent["run_id"].as_str().unwrap(),
            dst.to_str().unwrap(),
        ],
        &[("MLFLOW_ALLOW_FILE_STORE", "true")],
    );
    assert_eq!(
        std::fs::read(p.as_str().unwrap()).unwrap(),
        std::fs::read(out.join("model.json")).unwrap()
    );
}

#[test]
fn server_down_keeps_the_model_warns_and_upload_works_later() {
    let d = tempfile::tempdir().unwrap();
    let (sample, npy) = sotu_sample(d.path());
    let out = d.path().join("m");
    let url = format!("http://127.0.0.1:{}", free_port());
    let reg = d.path().join("reg");
    let mut args = train_args(
        sample.to_str().unwrap(),
        npy.to_str().unwrap(),
        out.to_str().unwrap(),
        reg.to_str().unwrap(),
    );
    args.extend(["--trials", "3", "--tracking-uri", &url]);
    let res = run_bertopic(&args, &[]);
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(4), "{stderr}");
    assert!(out.join("model.json").is_file() && out.join("document_topics.csv").is_file());
    assert!(stderr.contains("bertopic track upload"), "{stderr}");

    // The command the warning names uploads the saved run once a server is there.
    let server = Server::start();
    let up = run_bertopic(
        &[
            "track",
            "upload",
            out.to_str().unwrap(),
            "--tracking-uri",
            &server.url,
        ],
        &[],
    );
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let runs = py_json(READ_RUNS, &[&server.url, "BERTopic-Analysis"], &[]);
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 4, "parent + 3 trials");
}

#[test]
fn oversized_batches_are_split_not_lost() {
    use bertopic::tracking::{Auth, Metric, MlflowRest, Param, Tag, Tracker};
    let server = Server::start();
    let c = MlflowRest::new(&server.url, Auth::None);
    let exp = c.experiment("batches").unwrap();
    let run = c.start_run(&exp, Some("big"), None, &[]).unwrap();
    // 2,500 metric points, 230 params, 150 tags: over every per-request count limit.
    let metrics: Vec<Metric> = (0..2500)
        .map(|i| Metric {
            key: format!("m{}", i % 5),
            value: i as f64,
            timestamp_ms: 1,
            step: i,
        })
        .collect();
    // Values at MLflow's length limits: 100 params + 100 tags in one request would be a 1.4 MB
    // body, over the server's 1 MB.
    let params: Vec<Param> = (0..230)
        .map(|i| Param::new(format!("p{i}"), format!("{i:06}").repeat(1000)))
        .collect();
    let tags: Vec<Tag> = (0..150)
        .map(|i| Tag::new(format!("t{i}"), "x".repeat(8000)))
        .collect();
    c.log_batch(&run.run_id, &metrics, &params, &tags).unwrap();
    let code = r#"
import json, sys, mlflow
from mlflow import MlflowClient
mlflow.set_tracking_uri(sys.argv[1])
c = MlflowClient()
r = c.get_run(sys.argv[2])
n = sum(len(c.get_metric_history(sys.argv[2], k)) for k in r.data.metrics)
print(json.dumps({"points": n, "params": len(r.data.params),
                  "tags": len([t for t in r.data.tags if t.startswith("t")]),
                  "long": len(r.data.tags["t149"]), "param": r.data.params["p229"][:12]}))
"#;
    let got = py_json(code, &[&server.url, &run.run_id], &[]);
    assert_eq!(
        got,
        serde_json::json!({"points": 2500, "params": 230, "tags": 150, "long": 8000,
            "param": "000229000229"})
    );
}

#[test]
fn ctrl_c_marks_the_run_killed() {
    let server = Server::start();
    let d = tempfile::tempdir().unwrap();
    // The full corpus with its embeddings: long enough to interrupt.
    let data = common::shared().join("data");
    let out = d.path().join("m");
    let mut child = Command::new(env!("CARGO_BIN_EXE_bertopic"))
        .args(["train", "--input"])
        .arg(data.join("sotu-chunks.csv"))
        .arg("--embeddings")
        .arg(data.join("sotu-chunks.minilm.npy"))
        .arg("--output")
        .arg(&out)
        .args(["--trials", "10", "--tracking-uri", &server.url])
        .env_remove("MLFLOW_TRACKING_URI")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the parent run (RUNNING) has its first trial run, then interrupt while the
    // other trials are tuned and logged.
    let code = r#"
import json, sys, time, mlflow
mlflow.set_tracking_uri(sys.argv[1])
for _ in range(600):
    e = mlflow.get_experiment_by_name("BERTopic-Analysis")
    if e is not None:
        df = mlflow.search_runs([e.experiment_id])
        col = "tags.mlflow.parentRunId"
        if col in df.columns and df[col].notna().any():
            print(json.dumps(list(df[df[col].isna()]["status"])))
            break
    time.sleep(0.2)
"#;
    let seen = py_json(code, &[&server.url], &[]);
    assert_eq!(seen, serde_json::json!(["RUNNING"]));
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "train ignored Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.code(), Some(130));
    let code = r#"
import json, sys, mlflow
mlflow.set_tracking_uri(sys.argv[1])
e = mlflow.get_experiment_by_name("BERTopic-Analysis")
df = mlflow.search_runs([e.experiment_id])
col = "tags.mlflow.parentRunId"
parents = df[df[col].isna()] if col in df.columns else df
children = df[df[col].notna()] if col in df.columns else df.iloc[0:0]
print(json.dumps({"parent": list(parents["status"]), "trials": sorted(set(children["status"]))}))
"#;
    let runs = py_json(code, &[&server.url], &[]);
    assert_eq!(runs["parent"], serde_json::json!(["KILLED"]), "{runs}");
    // No trial run is left RUNNING: each ended FINISHED, or KILLED if it was being logged.
    for status in runs["trials"].as_array().unwrap() {
        assert!(
            status == "FINISHED" || status == "KILLED",
            "a trial run was left {status}: {runs}"
        );
    }
}

/// `monitor --tracking-uri` logs each run to the server (verdict and signals as metrics, the
/// report as an artifact), read back with MLflow's client; with the server gone, the report and
/// the history line are still written and the exit status says tracking failed.
#[test]
fn monitor_runs_are_logged_and_a_dead_server_loses_nothing() {
    let d = tempfile::tempdir().unwrap();
    let (sample, npy) = sotu_sample(d.path());
    let (sample, npy) = (sample.to_str().unwrap(), npy.to_str().unwrap());
    let model = d.path().join("m");
    let model = model.to_str().unwrap();
    let res = run_bertopic(&train_args(sample, npy, model, "unused-registry"), &[]);
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );

    let server = Server::start();
    let report = d.path().join("report.json");
    let monitor = |uri: &str, output: &Path| {
        run_bertopic(
            &[
                "monitor",
                "--input",
                sample,
                "--embeddings",
                npy,
                "--model",
                model,
                "--output",
                output.to_str().unwrap(),
                "--tracking-uri",
                uri,
                "--experiment",
                "Monitoring",
            ],
            &[],
        )
    };
    for _ in 0..2 {
        let res = monitor(&server.url, &report);
        assert!(
            res.status.success(),
            "{}",
            String::from_utf8_lossy(&res.stderr)
        );
    }
    let written: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let runs = py_json(READ_RUNS, &[&server.url, "Monitoring"], &[]);
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 2, "one run per monitor call");
    let level = match written["level"].as_str().unwrap() {
        "LOW" => 0.0,
        "MEDIUM" => 1.0,
        _ => 2.0,
    };
    for r in runs {
        assert_eq!(r["status"], "FINISHED");
        assert_eq!(r["tags"]["bertopic.job"], "monitor");
        assert_eq!(r["tags"]["bertopic.model"], model);
        assert_eq!(r["params"]["batch_docs"], "200");
        // Both calls saw the same batch with the same seed: the same verdict as the report.
        assert_eq!(r["metrics"]["drift_level"].as_f64(), Some(level), "{r}");
        assert_eq!(r["tags"]["bertopic.drift_level"], written["level"]);
        assert!(r["metrics"]["embedding.level"].is_number(), "{r}");
        assert!(r["metrics"]["embedding.p_value"].is_number(), "{r}");
        let artifacts: Vec<&str> = r["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(artifacts, ["drift_report.json"]);
    }

    // The server goes away: nothing is lost, exit status 4, a warning names the failure.
    let url = server.url.clone();
    drop(server);
    let history = std::path::Path::new(model).join("monitoring.jsonl");
    let lines_before = std::fs::read_to_string(&history).unwrap().lines().count();
    let report2 = d.path().join("report2.json");
    let res = monitor(&url, &report2);
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("tracking failed"), "{stderr}");
    assert!(report2.is_file(), "the report is written");
    let lines_after = std::fs::read_to_string(&history).unwrap().lines().count();
    assert_eq!(
        lines_after,
        lines_before + 1,
        "the history line is appended"
    );
}

/// The server dies while `train` runs (after the run was opened, before the upload): the model
/// and its CSVs are saved, the warning names the upload command, the exit status is 4.
#[test]
fn server_killed_mid_run_keeps_the_model() {
    let d = tempfile::tempdir().unwrap();
    let data = common::shared().join("data");
    // The full corpus with its embeddings: training takes long enough to kill the server
    // after the run is opened and before the upload.
    let input = data.join("sotu-chunks.csv");
    let npy = data.join("sotu-chunks.minilm.npy");
    let out = d.path().join("m");
    let reg = d.path().join("reg");
    let server = Server::start();
    let mut args = train_args(
        input.to_str().unwrap(),
        npy.to_str().unwrap(),
        out.to_str().unwrap(),
        reg.to_str().unwrap(),
    );
    args.extend(["--trials", "2", "--tracking-uri", &server.url]);
    let child = Command::new(env!("CARGO_BIN_EXE_bertopic"))
        .args(&args)
        .env_remove("MLFLOW_TRACKING_URI")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let code = r#"
import json, sys, mlflow
mlflow.set_tracking_uri(sys.argv[1])
exp = mlflow.get_experiment_by_name("BERTopic-Analysis")
runs = [] if exp is None else mlflow.search_runs([exp.experiment_id])["status"].tolist()
print(json.dumps(runs))
"#;
    let t = Instant::now();
    loop {
        let runs = py_json(code, &[&server.url], &[]);
        if runs
            .as_array()
            .is_some_and(|r| r.iter().any(|s| s == "RUNNING"))
        {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "no RUNNING run appeared"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(server);
    let res = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("tracking failed"), "{stderr}");
    assert!(stderr.contains("bertopic track upload"), "{stderr}");
    for f in [
        "model.json",
        "model.safetensors",
        "topic_info.csv",
        "document_topics.csv",
    ] {
        assert!(out.join(f).is_file(), "{f} is saved");
    }
}
