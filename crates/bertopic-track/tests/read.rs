//! The read side ([`TrackingReader`]) against what was really written: our own writer into an
//! `mlruns/` folder, MLflow's Python client into its file store, and a real `mlflow server`
//! (written by our REST client, checked against MLflow's Python client).

use std::collections::BTreeMap;

use bertopic_testdata::mlflow::{py_json, MlflowServer};
use bertopic_track::{
    Auth, FileStore, Metric, MlflowRest, Param, RunInfo, RunStatus, RunSummary, Tag, Tracker,
    TrackingReader, TrackingUri, PARENT_RUN_TAG,
};
use serde_json::Value;

fn metric(key: &str, value: f64, ts: u64, step: i64) -> Metric {
    Metric {
        key: key.into(),
        value,
        timestamp_ms: ts,
        step,
    }
}

/// A parent run with two child trials, written through `t` (any back-end); returns
/// (experiment id, parent, children). Start times are 5 ms apart so newest-first is defined.
fn write_runs(t: &dyn Tracker, experiment: &str) -> (String, RunInfo, Vec<RunInfo>) {
    let exp = t.experiment(experiment).unwrap();
    let parent = t
        .start_run(&exp, Some("train"), None, &[Tag::new("corpus.rows", "200")])
        .unwrap();
    t.log_batch(
        &parent.run_id,
        &[
            metric("best_c_v", 0.25, 10, 0),
            metric("best_c_v", 0.5, 20, 2),
            metric("best_c_v", 0.125, 30, 1),
        ],
        &[Param::new("seed", 42), Param::new("umap/n_neighbors", 15)],
        &[],
    )
    .unwrap();
    t.put_artifact(&parent, "topic_info.csv", b"Topic,Count\n0,12\n")
        .unwrap();
    t.put_artifact(&parent, "model/model.json", b"{}").unwrap();
    t.put_artifact(&parent, "model/embeddings/x.npy", b"12345")
        .unwrap();
    let mut children = Vec::new();
    for (i, status) in [RunStatus::Finished, RunStatus::Failed]
        .into_iter()
        .enumerate()
    {
        std::thread::sleep(std::time::Duration::from_millis(5));
        let c = t
            .start_run(&exp, Some(&format!("trial-{i}")), Some(&parent.run_id), &[])
            .unwrap();
        t.log_batch(
            &c.run_id,
            &[metric("c_v", 0.1 * (i + 1) as f64, 5, 0)],
            &[Param::new("min_cluster_size", 5 + i)],
            &[],
        )
        .unwrap();
        t.end_run(&c.run_id, status).unwrap();
        children.push(c);
    }
    t.end_run(&parent.run_id, RunStatus::Finished).unwrap();
    (exp, parent, children)
}

/// Checks what `r` reads back of [`write_runs`]'s runs.
fn check_runs(r: &dyn TrackingReader, exp: &str, parent: &RunInfo, children: &[RunInfo]) {
    let runs = r.runs(exp, 100).unwrap();
    assert!(runs.skipped.is_empty(), "{:?}", runs.skipped);
    let ids: Vec<&str> = runs.items.iter().map(|r| r.run_id.as_str()).collect();
    // Newest first: the second trial, the first, then the parent (started before both).
    assert_eq!(
        ids,
        [&children[1].run_id, &children[0].run_id, &parent.run_id]
    );
    let p = &runs.items[2];
    assert_eq!(p.name, "train");
    assert_eq!(p.status, "FINISHED");
    assert_eq!(p.parent_run_id, None);
    assert_eq!(p.experiment_id, exp);
    // The latest point is the highest step, not the last one logged.
    assert_eq!(p.metrics, BTreeMap::from([("best_c_v".to_string(), 0.5)]));
    assert_eq!(p.params["seed"], "42");
    assert_eq!(p.params["umap/n_neighbors"], "15");
    assert_eq!(p.tags["corpus.rows"], "200");
    assert!(
        p.start_time.is_some() && p.end_time >= p.start_time,
        "{p:?}"
    );
    for (i, (c, status)) in runs.items[..2]
        .iter()
        .rev()
        .zip(["FINISHED", "FAILED"])
        .enumerate()
    {
        assert_eq!(c.parent_run_id.as_deref(), Some(parent.run_id.as_str()));
        assert_eq!(c.tags[PARENT_RUN_TAG], parent.run_id);
        assert_eq!(c.name, format!("trial-{i}"));
        assert_eq!(c.status, status);
        assert_eq!(c.params["min_cluster_size"], (5 + i).to_string());
        assert_eq!(c.metrics["c_v"], 0.1 * (i + 1) as f64);
    }
    // One run by id reads the same as in the listing.
    for listed in &runs.items {
        let (one, skipped) = r.run(&listed.run_id).unwrap();
        assert_eq!(&one, listed);
        assert!(skipped.is_empty(), "{skipped:?}");
    }
    assert!(r.run("ffffffffffffffffffffffffffffffff").is_err());
    // `max` keeps the newest.
    let two = r.runs(exp, 2).unwrap();
    assert_eq!(
        two.items
            .iter()
            .map(|r| r.run_id.as_str())
            .collect::<Vec<_>>(),
        ids[..2]
    );
    assert!(r.runs(exp, 0).unwrap().items.is_empty());

    // Artifacts: one level at a time, folders first, sizes of files.
    let root = r.artifacts(&parent.run_id, "").unwrap();
    let got: Vec<(&str, bool, Option<u64>)> = root
        .items
        .iter()
        .map(|a| (a.path.as_str(), a.is_dir, a.size))
        .collect();
    assert_eq!(
        got,
        [("model", true, None), ("topic_info.csv", false, Some(17))]
    );
    let model = r.artifacts(&parent.run_id, "model").unwrap();
    let got: Vec<(&str, bool, Option<u64>)> = model
        .items
        .iter()
        .map(|a| (a.path.as_str(), a.is_dir, a.size))
        .collect();
    assert_eq!(
        got,
        [
            ("model/embeddings", true, None),
            ("model/model.json", false, Some(2))
        ]
    );
    let deep = r.artifacts(&parent.run_id, "model/embeddings/").unwrap();
    assert_eq!(deep.items[0].path, "model/embeddings/x.npy");
    assert_eq!(deep.items[0].size, Some(5));
    assert!(r
        .artifacts(&parent.run_id, "no/such/folder")
        .unwrap()
        .items
        .is_empty());
    for bad in ["../x", "model/../../..", "/etc", "a//b"] {
        let e = r.artifacts(&parent.run_id, bad).unwrap_err();
        assert!(e.to_string().contains("must be relative"), "{bad}: {e}");
    }
}

#[test]
fn file_store_reads_back_what_the_tracker_wrote() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("mlruns");
    let reader = FileStore::new(&root);
    // Nothing tracked yet: empty, and nothing created.
    assert!(reader.experiments().unwrap().items.is_empty());
    assert!(reader.registered_models().unwrap().items.is_empty());
    assert!(!root.exists());

    let (exp, parent, children) = write_runs(&FileStore::new(&root), "BERTopic-Analysis");
    let r = TrackingUri::File(root.clone()).open_reader().unwrap();
    assert_eq!(r.ui_url(), None);
    let exps = r.experiments().unwrap();
    assert!(exps.skipped.is_empty(), "{:?}", exps.skipped);
    let names: Vec<(&str, &str, &str)> = exps
        .items
        .iter()
        .map(|e| (e.id.as_str(), e.name.as_str(), e.lifecycle.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            (exp.as_str(), "BERTopic-Analysis", "active"),
            ("0", "Default", "active")
        ]
    );
    assert!(exps.items.iter().all(|e| e.creation_time.is_some()));
    check_runs(r.as_ref(), &exp, &parent, &children);
    // Our writer has no model registry in mlruns/ (bertopic-registry is the embedded one).
    assert!(r.registered_models().unwrap().items.is_empty());

    // Half-written entries are left out and reported; the rest still reads.
    let exp_dir = root.join(&exp);
    std::fs::create_dir_all(exp_dir.join("0123456789abcdef0123456789abcdef/params")).unwrap();
    std::fs::write(
        exp_dir.join(&parent.run_id).join("metrics/torn"),
        "1796120215",
    )
    .unwrap();
    let runs = r.runs(&exp, 100).unwrap();
    assert_eq!(runs.items.len(), 3);
    let skipped: Vec<&str> = runs.skipped.iter().map(|s| s.what.as_str()).collect();
    assert_eq!(skipped.len(), 2, "{:?}", runs.skipped);
    assert!(skipped[0].ends_with("0123456789abcdef0123456789abcdef"));
    assert!(skipped[1].ends_with("torn"));
    assert!(!runs.items[2].metrics.contains_key("torn"));
    let (one, skipped) = r.run(&parent.run_id).unwrap();
    assert_eq!(one, runs.items[2]);
    assert_eq!(skipped.len(), 1);
    assert!(skipped[0].what.ends_with("torn"), "{skipped:?}");
    // An experiment folder whose meta.yaml has no name.
    std::fs::create_dir_all(root.join("12")).unwrap();
    std::fs::write(root.join("12/meta.yaml"), "lifecycle_stage: active\n").unwrap();
    let exps = r.experiments().unwrap();
    assert_eq!(exps.items.len(), 2);
    assert_eq!(exps.skipped.len(), 1, "{:?}", exps.skipped);

    // Unknown or malformed ids are typed errors, never a path outside the store.
    assert!(r.runs("999", 10).is_err());
    assert!(r.runs("../0", 10).is_err());
    assert!(r.artifacts("ffffffffffffffffffffffffffffffff", "").is_err());
    assert!(r.artifacts("../../etc", "").is_err());
}

/// Writes runs, nested runs, artifacts and a registered model with MLflow's Python client to
/// the tracking URI argv[1], then prints what MLflow itself reads back.
const PY_WRITE: &str = r#"
import json, sys, mlflow
from mlflow import MlflowClient
mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment("Written by MLflow")
with mlflow.start_run(run_name="py parent") as p:
    mlflow.log_params({"a": 1, "b/c": "x y"})
    for step, v in enumerate([0.5, 0.75, 0.25]):
        mlflow.log_metric("m", v, step=step)
    mlflow.set_tag("note", "a long value " * 20)
    mlflow.log_text("hello", "dir/x.txt")
    with mlflow.start_run(run_name="py child", nested=True) as ch:
        mlflow.log_metric("c", 2.0)
c = MlflowClient()
with mlflow.start_run(run_name="deleted later") as gone_run:
    mlflow.log_metric("z", 1.0)
c.delete_run(gone_run.info.run_id)
c.delete_experiment(c.create_experiment("Deleted experiment"))
c.create_registered_model("PyModel")
for _ in range(3):
    c.create_model_version("PyModel", f"runs:/{p.info.run_id}/dir", p.info.run_id)
c.set_registered_model_alias("PyModel", "champion", "2")
c.set_registered_model_alias("PyModel", "old", "1")
exp = c.get_experiment_by_name("Written by MLflow")
runs = []
for r in c.search_runs([exp.experiment_id], order_by=["attributes.start_time DESC"]):
    runs.append({"run_id": r.info.run_id, "name": r.info.run_name, "status": r.info.status,
                 "start_time": r.info.start_time, "end_time": r.info.end_time,
                 "params": r.data.params, "metrics": r.data.metrics, "tags": r.data.tags})
models = []
for m in c.search_registered_models():
    vs = c.search_model_versions(f"name='{m.name}'")
    models.append({"name": m.name, "aliases": m.aliases,
                   "versions": sorted([[int(v.version), v.run_id, v.source, v.status] for v in vs],
                                      reverse=True)})
from mlflow.entities import ViewType
exps = sorted([e.experiment_id, e.name, e.lifecycle_stage]
              for e in c.search_experiments(view_type=ViewType.ALL))
print(json.dumps({"experiment_id": exp.experiment_id, "runs": runs, "models": models,
                  "experiments": exps}))
"#;

/// Our reader agrees with MLflow's Python client on everything it wrote.
fn check_against_python(r: &dyn TrackingReader, py: &Value) {
    let exp = py["experiment_id"].as_str().unwrap();
    // Deleted experiments too (a file store keeps them in .trash), with their lifecycle.
    let exps = r.experiments().unwrap();
    assert!(exps.skipped.is_empty(), "{:?}", exps.skipped);
    let mut got: Vec<Value> = exps
        .items
        .iter()
        .map(|e| serde_json::json!([e.id, e.name, e.lifecycle]))
        .collect();
    got.sort_by_key(|v| v.to_string());
    let mut want: Vec<Value> = py["experiments"].as_array().unwrap().clone();
    want.sort_by_key(|v| v.to_string());
    assert_eq!(got, want);
    assert!(exps.items.iter().any(|e| e.lifecycle == "deleted"));
    let runs = r.runs(exp, 10).unwrap();
    assert!(runs.skipped.is_empty(), "{:?}", runs.skipped);
    let want = py["runs"].as_array().unwrap();
    // The deleted run is left out, as MLflow's search leaves it out.
    assert_eq!(runs.items.len(), want.len());
    assert_eq!(want.len(), 2);
    for (got, want) in runs.items.iter().zip(want) {
        let as_map =
            |v: &Value| -> BTreeMap<String, String> { serde_json::from_value(v.clone()).unwrap() };
        let metrics: BTreeMap<String, f64> =
            serde_json::from_value(want["metrics"].clone()).unwrap();
        let expected = RunSummary {
            run_id: want["run_id"].as_str().unwrap().into(),
            experiment_id: exp.into(),
            name: want["name"].as_str().unwrap().into(),
            status: want["status"].as_str().unwrap().into(),
            start_time: want["start_time"].as_u64(),
            end_time: want["end_time"].as_u64(),
            parent_run_id: want["tags"][PARENT_RUN_TAG].as_str().map(str::to_string),
            params: as_map(&want["params"]),
            metrics,
            tags: as_map(&want["tags"]),
        };
        assert_eq!(got, &expected);
        assert_eq!(r.run(&got.run_id).unwrap().0, expected);
    }
    assert!(
        runs.items[0].parent_run_id.is_some(),
        "the child started last"
    );
    let parent = &runs.items[1].run_id;
    let arts = r.artifacts(parent, "dir").unwrap();
    assert_eq!(arts.items.len(), 1);
    assert_eq!(arts.items[0].path, "dir/x.txt");
    assert_eq!(arts.items[0].size, Some(5));

    let models = r.registered_models().unwrap();
    assert!(models.skipped.is_empty(), "{:?}", models.skipped);
    let want = &py["models"].as_array().unwrap()[0];
    assert_eq!(models.items.len(), 1);
    let m = &models.items[0];
    assert_eq!(m.name, want["name"].as_str().unwrap());
    let aliases: BTreeMap<String, String> = want["aliases"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.to_string().trim_matches('"').to_string()))
        .collect();
    assert_eq!(m.aliases, aliases);
    let got: Vec<Value> = m
        .versions
        .iter()
        .map(|v| {
            serde_json::json!([
                v.version.parse::<u64>().unwrap(),
                v.run_id,
                v.source,
                v.status
            ])
        })
        .collect();
    assert_eq!(&Value::from(got), &want["versions"]);
    for v in &m.versions {
        let pointing: Vec<&String> = m
            .aliases
            .iter()
            .filter(|(_, n)| **n == v.version)
            .map(|(a, _)| a)
            .collect();
        assert_eq!(v.aliases.iter().collect::<Vec<_>>(), pointing);
    }
}

#[test]
fn file_store_written_by_mlflow_reads_the_same_as_mlflow() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("mlruns");
    let uri = format!("file://{}", root.display());
    let py = py_json(PY_WRITE, &[&uri], &[("MLFLOW_ALLOW_FILE_STORE", "true")]);
    let r = FileStore::new(&root);
    check_against_python(&r, &py);
}

#[test]
fn server_reads_the_same_as_mlflow_and_pages() {
    let server = MlflowServer::start();
    let py = py_json(PY_WRITE, &[&server.url], &[]);
    // A page size of 1 makes every listing take several requests.
    let r = MlflowRest::new(&server.url, Auth::None).with_page_size(1);
    assert_eq!(r.ui_url().as_deref(), Some(server.url.as_str()));
    check_against_python(&r, &py);

    // Runs our REST writer logged read back the same way as from the file store.
    let w = MlflowRest::new(&server.url, Auth::None);
    let (exp, parent, children) = write_runs(&w, "BERTopic-Analysis");
    check_runs(&r, &exp, &parent, &children);
    let big = MlflowRest::new(&server.url, Auth::None);
    check_runs(&big, &exp, &parent, &children);
    w.create_registered_model("BERTopic-Model", "").unwrap();
    let v = w
        .create_model_version(
            "BERTopic-Model",
            &format!("{}/model", parent.artifact_uri),
            &parent.run_id,
            &[],
        )
        .unwrap();
    w.set_alias("BERTopic-Model", "production", &v.version)
        .unwrap();
    let models = r.registered_models().unwrap();
    let names: Vec<&str> = models.items.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["BERTopic-Model", "PyModel"]);
    let m = &models.items[0];
    assert_eq!(m.aliases["production"], v.version);
    assert_eq!(m.versions.len(), 1);
    assert_eq!(m.versions[0].run_id, parent.run_id);
    assert_eq!(m.versions[0].aliases, ["production"]);

    // Unknown ids are typed errors naming the call.
    let e = r.runs("987654", 5).unwrap_err();
    assert_eq!(e.mlflow_code(), Some("RESOURCE_DOES_NOT_EXIST"), "{e}");
    let e = r
        .artifacts("ffffffffffffffffffffffffffffffff", "")
        .unwrap_err();
    assert!(e.to_string().contains("artifacts/list"), "{e}");
}
