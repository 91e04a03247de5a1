//! Tracking against a real `mlflow server --app-name basic-auth` (MLflow's own basic
//! authentication, from the `mlflow[auth]` extra that `cargo xtask mlflow-venv` installs): wrong
//! credentials keep the model, warn with the 401 and the upload command, exit 4 and leak no
//! secret; the admin's credentials log the run, read back with MLflow's authenticated client.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bertopic_testdata::mlflow::{py_json, MlflowServer as Server, TRACKING_VARS};
use serde_json::Value;

fn run_bertopic(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bertopic"));
    for k in TRACKING_VARS {
        cmd.env_remove(k);
    }
    cmd.args(args).envs(env.iter().copied()).output().unwrap()
}

/// Every run of every experiment on the server, read with MLflow's Python client as the admin.
const READ_RUNS: &str = r#"
import json, sys, mlflow
from mlflow import MlflowClient
mlflow.set_tracking_uri(sys.argv[1])
c = MlflowClient()
runs = []
for exp in c.search_experiments():
    for r in c.search_runs([exp.experiment_id]):
        rid = r.info.run_id
        runs.append({"run_id": rid, "experiment": exp.name, "status": r.info.status,
                     "params": r.data.params, "metrics": r.data.metrics, "tags": r.data.tags,
                     "artifacts": [a.path for a in c.list_artifacts(rid)]
                                  + [a.path for a in c.list_artifacts(rid, "model")]})
print(json.dumps(runs))
"#;

fn server_runs(server: &Server) -> Vec<Value> {
    let (user, password) = server.admin().unwrap();
    let env = [
        ("MLFLOW_TRACKING_USERNAME", user),
        ("MLFLOW_TRACKING_PASSWORD", password),
    ];
    py_json(READ_RUNS, &[&server.url], &env)
        .as_array()
        .unwrap()
        .clone()
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Fails if `secret` is in the command's output or in any file under `dir`.
fn assert_no_secret(secret: &str, res: &Output, dir: &Path) {
    for (name, text) in [("stdout", &res.stdout), ("stderr", &res.stderr)] {
        assert!(
            !String::from_utf8_lossy(text).contains(secret),
            "the secret is in {name}"
        );
    }
    let files = files_under(dir);
    assert!(!files.is_empty(), "nothing written under {}", dir.display());
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the secret is in {}",
            f.display()
        );
    }
}

#[test]
fn wrong_credentials_keep_the_model_and_the_admin_logs_the_run() {
    let server = Server::start_with_auth();
    let (user, password) = server.admin().unwrap();
    let d = tempfile::tempdir().unwrap();
    let sample = common::shared().join("data/arxiv-cs-abstracts-200.csv");
    let npy = d.path().join("arxiv200.npy");
    common::sample_embeddings(&npy);
    let reg = d.path().join("reg");
    let train = |out: &Path, env: &[(&str, &str)]| {
        run_bertopic(
            &[
                "train",
                "--input",
                sample.to_str().unwrap(),
                "--embeddings",
                npy.to_str().unwrap(),
                "--output",
                out.to_str().unwrap(),
                "--registry",
                reg.to_str().unwrap(),
                "--trials",
                "2",
                "--tracking-uri",
                &server.url,
            ],
            env,
        )
    };

    // Wrong password for the real admin user, then a bearer token the server does not know
    // (basic-auth answers both with 401).
    let wrong_password = "wrong-pw-5c81e07d9a";
    let wrong_token = "wrong-token-3fa6b2d840";
    let cases = [
        (
            "basic",
            wrong_password,
            vec![
                ("MLFLOW_TRACKING_USERNAME", user),
                ("MLFLOW_TRACKING_PASSWORD", wrong_password),
            ],
        ),
        (
            "token",
            wrong_token,
            vec![("MLFLOW_TRACKING_TOKEN", wrong_token)],
        ),
    ];
    for (name, secret, env) in &cases {
        let out = d.path().join(format!("m-{name}"));
        let res = train(&out, env);
        let stderr = String::from_utf8_lossy(&res.stderr);
        assert_eq!(res.status.code(), Some(4), "{name}: {stderr}");
        for f in ["model.json", "topic_info.csv", "document_topics.csv"] {
            assert!(out.join(f).is_file(), "{name}: {f} not saved\n{stderr}");
        }
        assert!(stderr.contains("401"), "{name}: no 401 in\n{stderr}");
        assert!(
            stderr.contains("MLFLOW_TRACKING_USERNAME"),
            "{name}: the warning does not say which credentials to check\n{stderr}"
        );
        assert!(
            stderr.contains("bertopic track upload"),
            "{name}: no upload command in\n{stderr}"
        );
        assert_no_secret(secret, &res, d.path());
    }
    // The refused calls created nothing on the server.
    assert_eq!(server_runs(&server), Vec::<Value>::new());

    // The admin's credentials: the parent run and one child per trial, all finished.
    let out = d.path().join("m-admin");
    let res = train(
        &out,
        &[
            ("MLFLOW_TRACKING_USERNAME", user),
            ("MLFLOW_TRACKING_PASSWORD", password),
        ],
    );
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    assert_no_secret(password, &res, d.path());
    let runs = server_runs(&server);
    assert_eq!(runs.len(), 3, "parent + 2 trials: {runs:#?}");
    let parents: Vec<&Value> = runs
        .iter()
        .filter(|r| r["tags"].get("mlflow.parentRunId").is_none())
        .collect();
    assert_eq!(parents.len(), 1, "{runs:#?}");
    let parent = parents[0];
    assert_eq!(parent["status"], "FINISHED");
    assert_eq!(parent["params"]["tune.n_trials"], "2");
    assert_eq!(parent["tags"]["bertopic.corpus.rows"], "200");
    let corpus = std::fs::read(&sample).unwrap();
    assert_eq!(
        parent["tags"]["bertopic.corpus.sha256"],
        bertopic::tracking::sha256_hex(&corpus)
    );
    let arts: Vec<&str> = parent["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for a in ["topic_info.csv", "document_topics.csv", "model/model.json"] {
        assert!(arts.contains(&a), "{a} missing from {arts:?}");
    }
    for child in runs.iter().filter(|r| r["run_id"] != parent["run_id"]) {
        assert_eq!(child["tags"]["mlflow.parentRunId"], parent["run_id"]);
        assert_eq!(child["status"], "FINISHED");
    }

    // The command the warning names uploads a refused run once the credentials are right.
    let up = run_bertopic(
        &[
            "track",
            "upload",
            d.path().join("m-basic").to_str().unwrap(),
            "--tracking-uri",
            &server.url,
        ],
        &[
            ("MLFLOW_TRACKING_USERNAME", user),
            ("MLFLOW_TRACKING_PASSWORD", password),
        ],
    );
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    assert_no_secret(password, &up, d.path());
    assert_eq!(server_runs(&server).len(), 6, "two parents + 2 trials each");
}
