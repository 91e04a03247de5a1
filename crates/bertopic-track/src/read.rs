//! The read side of tracking: experiments, runs, artifacts and registered models, from either
//! back-end, with the same types (for the web app's Tracking tab).
//!
//! A damaged or half-written entry (a run folder without its meta.yaml, a metric file with no
//! parsable line, a server record without an id) never fails a whole listing: it is left out
//! and named in [`Listing::skipped`]. Only a failure to read the listing itself (server down,
//! folder unreadable, unknown experiment or run) is an error.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{json, Value};

use crate::error::{Result, TrackError};
use crate::file::{check_run_id, yaml_field};
use crate::{
    check_artifact_path, walk_files, FileStore, MlflowRest, ModelVersionInfo, PARENT_RUN_TAG,
    RUN_NAME_TAG,
};

/// An experiment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExperimentSummary {
    /// MLflow's experiment id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `active` or `deleted`.
    pub lifecycle: String,
    /// Milliseconds since the Unix epoch, when known.
    pub creation_time: Option<u64>,
}

/// A run with its parameters, latest metric values and tags.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    /// MLflow's run id.
    pub run_id: String,
    /// The experiment it belongs to.
    pub experiment_id: String,
    /// Display name (`mlflow.runName`), empty when none.
    pub name: String,
    /// MLflow's status name: `RUNNING`, `SCHEDULED`, `FINISHED`, `FAILED` or `KILLED`.
    pub status: String,
    /// Milliseconds since the Unix epoch.
    pub start_time: Option<u64>,
    /// Milliseconds since the Unix epoch; `None` while running.
    pub end_time: Option<u64>,
    /// The parent run of a child run (tag `mlflow.parentRunId`), e.g. a tuning trial's.
    pub parent_run_id: Option<String>,
    /// Parameters.
    pub params: BTreeMap<String, String>,
    /// Each metric's latest value (highest step, then latest timestamp, as MLflow picks it).
    pub metrics: BTreeMap<String, f64>,
    /// Tags, MLflow's own (`mlflow.*`) included.
    pub tags: BTreeMap<String, String>,
}

/// One entry of a run's artifact folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactEntry {
    /// Path relative to the run's artifact root, `/`-separated (e.g. `model/MLmodel`).
    pub path: String,
    /// Whether it is a folder (list it with its `path`).
    pub is_dir: bool,
    /// Size in bytes of a file; `None` for a folder.
    pub size: Option<u64>,
}

/// A registered model with its versions and aliases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisteredModelSummary {
    /// The model's name.
    pub name: String,
    /// Its versions, newest (highest number) first; each carries the aliases pointing at it.
    pub versions: Vec<ModelVersionInfo>,
    /// Alias → version number.
    pub aliases: BTreeMap<String, String>,
}

/// An entry left out of a listing, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// What was skipped: a file or folder, or a server record.
    pub what: String,
    /// Why.
    pub reason: String,
}

/// The entries that could be read, and those that could not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Listing<T> {
    /// The readable entries, in the order the method documents.
    pub items: Vec<T>,
    /// Entries left out (damaged, half-written or unexpected), for a warning.
    pub skipped: Vec<Skipped>,
}

impl<T> Default for Listing<T> {
    fn default() -> Self {
        Listing {
            items: Vec::new(),
            skipped: Vec::new(),
        }
    }
}

impl<T> Listing<T> {
    fn skip(&mut self, what: impl Into<String>, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            what: what.into(),
            reason: reason.into(),
        });
    }
}

/// Reads what a [`Tracker`](crate::Tracker) recorded. Both back-ends implement it:
/// [`MlflowRest`] (an `mlflow server`) and [`FileStore`] (an `mlruns/` folder).
pub trait TrackingReader: Send + Sync {
    /// Every experiment, deleted ones included (see [`ExperimentSummary::lifecycle`]), sorted
    /// by name.
    fn experiments(&self) -> Result<Listing<ExperimentSummary>>;

    /// At most `max` active runs of experiment `experiment_id`, newest (latest start) first;
    /// child runs are included (see [`RunSummary::parent_run_id`]). An unknown experiment is an
    /// error.
    fn runs(&self, experiment_id: &str, max: usize) -> Result<Listing<RunSummary>>;

    /// One run (of any experiment, deleted ones included) by id, with the parts of it that
    /// could not be read.
    fn run(&self, run_id: &str) -> Result<(RunSummary, Vec<Skipped>)>;

    /// The entries of artifact folder `path` of run `run_id` (`""` = the artifact root), one
    /// level deep, folders first, then by path (a trailing `/` is ignored). A missing folder
    /// lists empty, as in MLflow.
    /// `path` must be relative without `.`/`..` parts: it never leaves the run's artifacts.
    fn artifacts(&self, run_id: &str, path: &str) -> Result<Listing<ArtifactEntry>>;

    /// Every registered model, sorted by name, with its versions and aliases.
    fn registered_models(&self) -> Result<Listing<RegisteredModelSummary>>;

    /// The MLflow UI's address (the tracking server's URL), `None` for a file store.
    fn ui_url(&self) -> Option<String>;

    /// Where this reader reads, for messages (never holds credentials).
    fn location(&self) -> String;
}

// --- MLflow REST ----------------------------------------------------------------------------

impl TrackingReader for MlflowRest {
    fn experiments(&self) -> Result<Listing<ExperimentSummary>> {
        let mut out = Listing::default();
        let mut token = String::new();
        loop {
            let mut body = json!({"max_results": self.page_size(), "view_type": "ALL"});
            if !token.is_empty() {
                body["page_token"] = json!(token);
            }
            let v = self.api("POST", "experiments/search", body)?;
            for (i, e) in records(&v, "experiments").iter().enumerate() {
                match (text(&e["experiment_id"]), text(&e["name"])) {
                    (Some(id), Some(name)) => out.items.push(ExperimentSummary {
                        id,
                        name,
                        lifecycle: text(&e["lifecycle_stage"]).unwrap_or_default(),
                        creation_time: number(&e["creation_time"]),
                    }),
                    _ => out.skip(
                        format!("experiments/search record {i}"),
                        "no experiment_id or name",
                    ),
                }
            }
            match next_page(&v) {
                Some(t) => token = t,
                None => break,
            }
        }
        sort_experiments(&mut out.items);
        Ok(out)
    }

    fn runs(&self, experiment_id: &str, max: usize) -> Result<Listing<RunSummary>> {
        let mut out = Listing::default();
        let mut token = String::new();
        while out.items.len() < max {
            let mut body = json!({
                "experiment_ids": [experiment_id],
                "max_results": (max - out.items.len()).min(self.page_size()),
                "order_by": ["attributes.start_time DESC"],
                "run_view_type": "ACTIVE_ONLY",
            });
            if !token.is_empty() {
                body["page_token"] = json!(token);
            }
            let v = self.api("POST", "runs/search", body)?;
            for (i, r) in records(&v, "runs").iter().enumerate() {
                match rest_run(r, experiment_id) {
                    Ok(run) => out.items.push(run),
                    Err(reason) => out.skip(format!("runs/search record {i}"), reason),
                }
            }
            match next_page(&v) {
                Some(t) => token = t,
                None => break,
            }
        }
        if out.items.is_empty() && out.skipped.is_empty() {
            // The server answers an unknown experiment with no runs; say it is unknown, as the
            // file store does.
            self.api_get("experiments/get", &[("experiment_id", experiment_id)])?;
        }
        // The server sorts already; this keeps ties (equal start times) in one order.
        sort_runs(&mut out.items);
        out.items.truncate(max);
        Ok(out)
    }

    fn run(&self, run_id: &str) -> Result<(RunSummary, Vec<Skipped>)> {
        let v = self.api_get("runs/get", &[("run_id", run_id)])?;
        let run = rest_run(&v["run"], "").map_err(|reason| TrackError::Protocol {
            call: "GET runs/get".into(),
            reason,
        })?;
        Ok((run, Vec::new()))
    }

    fn artifacts(&self, run_id: &str, path: &str) -> Result<Listing<ArtifactEntry>> {
        let path = path.trim_end_matches('/');
        if !path.is_empty() {
            check_artifact_path(path)?;
        }
        let mut out = Listing::default();
        let mut token = String::new();
        loop {
            let mut q = vec![("run_id", run_id), ("path", path)];
            if !token.is_empty() {
                q.push(("page_token", token.as_str()));
            }
            let v = self.api_get("artifacts/list", &q)?;
            for (i, f) in records(&v, "files").iter().enumerate() {
                let Some(p) = text(&f["path"]) else {
                    out.skip(format!("artifacts/list record {i}"), "no path");
                    continue;
                };
                // Only direct children of `path`, and nothing that could escape the run.
                let parent = p.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
                if check_artifact_path(&p).is_err() || parent != path {
                    out.skip(p, format!("not an entry of artifact folder {path:?}"));
                    continue;
                }
                let is_dir = f["is_dir"].as_bool().unwrap_or(false);
                out.items.push(ArtifactEntry {
                    path: p,
                    is_dir,
                    size: if is_dir {
                        None
                    } else {
                        number(&f["file_size"])
                    },
                });
            }
            match next_page(&v) {
                Some(t) => token = t,
                None => break,
            }
        }
        sort_artifacts(&mut out.items);
        Ok(out)
    }

    fn registered_models(&self) -> Result<Listing<RegisteredModelSummary>> {
        let mut out: Listing<RegisteredModelSummary> = Listing::default();
        let page = self.page_size().to_string();
        let mut token = String::new();
        loop {
            let mut q = vec![("max_results", page.as_str())];
            if !token.is_empty() {
                q.push(("page_token", token.as_str()));
            }
            let v = self.api_get("registered-models/search", &q)?;
            for (i, m) in records(&v, "registered_models").iter().enumerate() {
                let Some(name) = text(&m["name"]) else {
                    out.skip(format!("registered-models/search record {i}"), "no name");
                    continue;
                };
                let mut aliases = BTreeMap::new();
                for a in m["aliases"].as_array().into_iter().flatten() {
                    match (text(&a["alias"]), text(&a["version"])) {
                        (Some(alias), Some(version)) => {
                            aliases.insert(alias, version);
                        }
                        _ => out.skip(format!("aliases of {name}"), "an alias without a version"),
                    }
                }
                out.items.push(RegisteredModelSummary {
                    name,
                    versions: Vec::new(),
                    aliases,
                });
            }
            match next_page(&v) {
                Some(t) => token = t,
                None => break,
            }
        }
        // One paged search for every version of every model, instead of a call per model.
        let mut versions: Vec<ModelVersionInfo> = Vec::new();
        let mut token = String::new();
        loop {
            let mut q = vec![("max_results", page.as_str())];
            if !token.is_empty() {
                q.push(("page_token", token.as_str()));
            }
            let v = self.api_get("model-versions/search", &q)?;
            for (i, mv) in records(&v, "model_versions").iter().enumerate() {
                match serde_json::from_value::<ModelVersionInfo>((*mv).clone()) {
                    Ok(mv) => versions.push(mv),
                    Err(e) => out.skip(format!("model-versions/search record {i}"), e.to_string()),
                }
            }
            match next_page(&v) {
                Some(t) => token = t,
                None => break,
            }
        }
        attach_versions(&mut out, versions);
        Ok(out)
    }

    fn ui_url(&self) -> Option<String> {
        Some(self.base().to_string())
    }

    fn location(&self) -> String {
        self.base().to_string()
    }
}

/// The array `key` of an answer (absent = empty: MLflow leaves out empty lists).
fn records<'a>(v: &'a Value, key: &str) -> Vec<&'a Value> {
    v[key]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn next_page(v: &Value) -> Option<String> {
    v["next_page_token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// A string field (MLflow sends ids and versions as strings; numbers are accepted too).
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A non-negative integer field (int64 fields may come as JSON strings).
fn number(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// A metric value (`NaN`/`Infinity` come as strings).
fn float(v: &Value) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// `[{key, value}, …]` into a map.
fn key_values(v: &Value) -> BTreeMap<String, String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|kv| Some((text(&kv["key"])?, text(&kv["value"]).unwrap_or_default())))
        .collect()
}

fn rest_run(r: &Value, experiment_id: &str) -> std::result::Result<RunSummary, String> {
    let info = &r["info"];
    let run_id = text(&info["run_id"])
        .or_else(|| text(&info["run_uuid"]))
        .ok_or("no run_id")?;
    let data = &r["data"];
    let tags = key_values(&data["tags"]);
    let mut metrics: BTreeMap<String, (i64, u64, f64)> = BTreeMap::new();
    for m in data["metrics"].as_array().into_iter().flatten() {
        let (Some(key), Some(value)) = (text(&m["key"]), float(&m["value"])) else {
            continue;
        };
        let point = (
            m["step"].as_i64().unwrap_or(0),
            number(&m["timestamp"]).unwrap_or(0),
            value,
        );
        latest(&mut metrics, key, point);
    }
    Ok(RunSummary {
        experiment_id: text(&info["experiment_id"]).unwrap_or_else(|| experiment_id.into()),
        name: text(&info["run_name"])
            .or_else(|| tags.get(RUN_NAME_TAG).cloned())
            .unwrap_or_default(),
        status: text(&info["status"]).unwrap_or_default(),
        start_time: number(&info["start_time"]),
        end_time: number(&info["end_time"]),
        parent_run_id: tags.get(PARENT_RUN_TAG).cloned(),
        params: key_values(&data["params"]),
        metrics: metrics.into_iter().map(|(k, (_, _, v))| (k, v)).collect(),
        tags,
        run_id,
    })
}

/// Keeps the point MLflow reports as a metric's latest: highest step, then latest timestamp.
fn latest(map: &mut BTreeMap<String, (i64, u64, f64)>, key: String, point: (i64, u64, f64)) {
    match map.get(&key) {
        Some(old) if (old.0, old.1) > (point.0, point.1) => {}
        _ => {
            map.insert(key, point);
        }
    }
}

fn sort_experiments(items: &mut [ExperimentSummary]) {
    items.sort_by(|a, b| {
        (a.name.to_lowercase(), &a.name, &a.id).cmp(&(b.name.to_lowercase(), &b.name, &b.id))
    });
}

fn sort_runs(items: &mut [RunSummary]) {
    items.sort_by(|a, b| {
        b.start_time
            .cmp(&a.start_time)
            .then_with(|| a.run_id.cmp(&b.run_id))
    });
}

fn sort_artifacts(items: &mut [ArtifactEntry]) {
    items.sort_by(|a, b| b.is_dir.cmp(&a.is_dir).then_with(|| a.path.cmp(&b.path)));
}

/// Puts each version under its model, newest first, with the aliases pointing at it. A
/// version of a model the search did not return (registered in between) is reported.
fn attach_versions(out: &mut Listing<RegisteredModelSummary>, versions: Vec<ModelVersionInfo>) {
    let mut skipped = Vec::new();
    for mut mv in versions {
        match out.items.iter_mut().find(|m| m.name == mv.name) {
            Some(m) => {
                mv.aliases = m
                    .aliases
                    .iter()
                    .filter(|(_, v)| **v == mv.version)
                    .map(|(a, _)| a.clone())
                    .collect();
                m.versions.push(mv);
            }
            None => skipped.push(Skipped {
                what: format!("version {} of {}", mv.version, mv.name),
                reason: "its registered model was not listed (registered meanwhile?)".into(),
            }),
        }
    }
    out.skipped.extend(skipped);
    for m in &mut out.items {
        m.versions.sort_by(|a, b| {
            let n = |v: &ModelVersionInfo| v.version.parse::<u64>().unwrap_or(0);
            n(b).cmp(&n(a)).then_with(|| b.version.cmp(&a.version))
        });
    }
    out.items.sort_by(|a, b| a.name.cmp(&b.name));
}

// --- mlruns/ file store ---------------------------------------------------------------------

/// MLflow's run status numbers (protobuf `RunStatus`) as names.
fn status_name(n: &str) -> String {
    match n.trim() {
        "1" => "RUNNING",
        "2" => "SCHEDULED",
        "3" => "FINISHED",
        "4" => "FAILED",
        "5" => "KILLED",
        other => other,
    }
    .to_string()
}

fn is_run_id(name: &str) -> bool {
    name.len() >= 16 && name.chars().all(|c| c.is_ascii_hexdigit())
}

/// Sub-folders of `dir` (sorted), or an empty list when `dir` does not exist.
fn subdirs(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(TrackError::io(dir, e)),
    };
    let mut out = Vec::new();
    for e in entries {
        let e = e.map_err(|err| TrackError::io(dir, err))?;
        // `file_type` does not follow links: a symbolic link is never listed.
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            out.push((e.file_name().to_string_lossy().into_owned(), e.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// A `<key>` file tree (params/, tags/) as a map; unreadable files are reported.
fn read_values<T>(dir: &Path, out: &mut Listing<T>) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    if !dir.is_dir() {
        return map;
    }
    match walk_files(dir) {
        Ok(files) => {
            for (file, key) in files {
                match fs::read_to_string(&file) {
                    Ok(v) => {
                        map.insert(key, v);
                    }
                    Err(e) => out.skip(file.display().to_string(), e.to_string()),
                }
            }
        }
        Err(e) => out.skip(dir.display().to_string(), e.to_string()),
    }
    map
}

/// Each metric's latest value from metrics/ (lines `<timestamp> <value> <step>`).
fn read_metrics<T>(dir: &Path, out: &mut Listing<T>) -> BTreeMap<String, f64> {
    let mut latest_points = BTreeMap::new();
    for (key, text) in read_values(dir, out) {
        let mut found = false;
        for line in text.lines() {
            let mut parts = line.split_whitespace();
            let (Some(ts), Some(value)) = (parts.next(), parts.next()) else {
                continue;
            };
            let (Ok(ts), Ok(value)) = (ts.parse::<u64>(), value.parse::<f64>()) else {
                continue;
            };
            let step = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            latest(&mut latest_points, key.clone(), (step, ts, value));
            found = true;
        }
        if !found {
            out.skip(
                dir.join(&key).display().to_string(),
                "no `<timestamp> <value> <step>` line (being written or damaged)",
            );
        }
    }
    latest_points
        .into_iter()
        .map(|(k, (_, _, v))| (k, v))
        .collect()
}

impl FileStore {
    /// Experiment folders: the root's and, for deleted experiments, `.trash`'s.
    fn experiment_dirs(&self) -> Result<Vec<(String, PathBuf)>> {
        let mut dirs = subdirs(self.root())?;
        dirs.extend(subdirs(&self.root().join(".trash"))?);
        dirs.retain(|(id, _)| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()));
        Ok(dirs)
    }

    fn experiment_dir(&self, experiment_id: &str) -> Result<PathBuf> {
        if !experiment_id.is_empty() && experiment_id.chars().all(|c| c.is_ascii_digit()) {
            for dir in [
                self.root().join(experiment_id),
                self.root().join(".trash").join(experiment_id),
            ] {
                if dir.join("meta.yaml").is_file() {
                    return Ok(dir);
                }
            }
        }
        Err(TrackError::Store {
            path: self.root().to_path_buf(),
            reason: format!("no experiment {experiment_id:?} in this mlruns folder"),
        })
    }

    fn find_run_dir(&self, run_id: &str) -> Result<PathBuf> {
        check_run_id(run_id)?;
        for (_, exp) in self.experiment_dirs()? {
            let d = exp.join(run_id);
            if d.join("meta.yaml").is_file() {
                return Ok(d);
            }
        }
        Err(TrackError::Store {
            path: self.root().to_path_buf(),
            reason: format!("no run {run_id} in this mlruns folder"),
        })
    }
}

/// A meta.yaml's top-level fields. Values PyYAML folded onto indented continuation lines are
/// joined with a space (its plain-scalar folding); quoting is undone by [`yaml_field`].
fn yaml_map(text: &str) -> BTreeMap<String, String> {
    let mut joined: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with(' ') && !line.trim().is_empty() {
            if let Some(last) = joined.last_mut() {
                last.push(' ');
                last.push_str(line.trim());
                continue;
            }
        }
        joined.push(line.to_string());
    }
    let mut map = BTreeMap::new();
    for line in &joined {
        if line.starts_with(['-', '#', ' ']) {
            continue;
        }
        if let Some((key, _)) = line.split_once(':') {
            if let Some(v) = yaml_field(line, key) {
                map.insert(key.to_string(), v);
            }
        }
    }
    map
}

/// The fields of `dir/meta.yaml`, or why it cannot be read.
fn read_meta(dir: &Path) -> std::result::Result<BTreeMap<String, String>, String> {
    let path = dir.join("meta.yaml");
    match fs::read_to_string(&path) {
        Ok(t) => Ok(yaml_map(&t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err("no meta.yaml (still being created, or damaged)".into())
        }
        Err(e) => Err(e.to_string()),
    }
}

fn opt_u64(meta: &BTreeMap<String, String>, key: &str) -> Option<u64> {
    meta.get(key).and_then(|v| v.parse().ok())
}

/// A run's summary from its meta.yaml (params, metrics and tags come from [`fill_run`]).
fn file_run(run_id: String, experiment_id: &str, meta: &BTreeMap<String, String>) -> RunSummary {
    RunSummary {
        run_id,
        experiment_id: experiment_id.to_string(),
        name: meta.get("run_name").cloned().unwrap_or_default(),
        status: meta
            .get("status")
            .map(|s| status_name(s))
            .unwrap_or_default(),
        start_time: opt_u64(meta, "start_time"),
        end_time: opt_u64(meta, "end_time"),
        parent_run_id: None,
        params: BTreeMap::new(),
        metrics: BTreeMap::new(),
        tags: BTreeMap::new(),
    }
}

/// Reads params/, metrics/ and tags/ of the run in `dir` into `run`.
fn fill_run<T>(dir: &Path, run: &mut RunSummary, out: &mut Listing<T>) {
    run.params = read_values(&dir.join("params"), out);
    run.metrics = read_metrics(&dir.join("metrics"), out);
    run.tags = read_values(&dir.join("tags"), out);
    run.parent_run_id = run.tags.get(PARENT_RUN_TAG).cloned();
    if run.name.is_empty() {
        run.name = run.tags.get(RUN_NAME_TAG).cloned().unwrap_or_default();
    }
}

impl TrackingReader for FileStore {
    /// A missing `mlruns/` folder lists no experiments.
    fn experiments(&self) -> Result<Listing<ExperimentSummary>> {
        let mut out = Listing::default();
        for (id, dir) in self.experiment_dirs()? {
            let meta = match read_meta(&dir) {
                Ok(m) => m,
                Err(reason) => {
                    out.skip(dir.display().to_string(), reason);
                    continue;
                }
            };
            let Some(name) = meta.get("name").cloned() else {
                out.skip(dir.join("meta.yaml").display().to_string(), "no name");
                continue;
            };
            let lifecycle = match meta.get("lifecycle_stage") {
                Some(s) => s.clone(),
                None if dir.parent().is_some_and(|p| p.ends_with(".trash")) => "deleted".into(),
                None => "active".into(),
            };
            out.items.push(ExperimentSummary {
                id,
                name,
                lifecycle,
                creation_time: opt_u64(&meta, "creation_time"),
            });
        }
        sort_experiments(&mut out.items);
        Ok(out)
    }

    fn runs(&self, experiment_id: &str, max: usize) -> Result<Listing<RunSummary>> {
        let exp = self.experiment_dir(experiment_id)?;
        let mut out = Listing::default();
        // meta.yaml first for every run; params, metrics and tags only for the `max` kept.
        let mut found = Vec::new();
        for (name, dir) in subdirs(&exp)? {
            if !is_run_id(&name) {
                continue;
            }
            let meta = match read_meta(&dir) {
                Ok(m) => m,
                Err(reason) => {
                    out.skip(dir.display().to_string(), reason);
                    continue;
                }
            };
            if meta.get("lifecycle_stage").map(String::as_str) == Some("deleted") {
                continue;
            }
            found.push(file_run(name, experiment_id, &meta));
        }
        sort_runs(&mut found);
        found.truncate(max);
        for mut run in found {
            fill_run(&exp.join(&run.run_id), &mut run, &mut out);
            out.items.push(run);
        }
        Ok(out)
    }

    fn run(&self, run_id: &str) -> Result<(RunSummary, Vec<Skipped>)> {
        let dir = self.find_run_dir(run_id)?;
        let meta = read_meta(&dir).map_err(|reason| TrackError::Store {
            path: dir.clone(),
            reason,
        })?;
        let exp = dir
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut run = file_run(run_id.to_string(), &exp, &meta);
        let mut out: Listing<()> = Listing::default();
        fill_run(&dir, &mut run, &mut out);
        Ok((run, out.skipped))
    }

    /// Lists `<run>/artifacts/<path>`. Symbolic links are not followed (left out and reported).
    fn artifacts(&self, run_id: &str, path: &str) -> Result<Listing<ArtifactEntry>> {
        let path = path.trim_end_matches('/');
        if !path.is_empty() {
            check_artifact_path(path)?;
        }
        let root = self.find_run_dir(run_id)?.join("artifacts");
        let dir = path
            .split('/')
            .filter(|p| !p.is_empty())
            .fold(root, |d, p| d.join(p));
        let mut out = Listing::default();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            // A missing folder, or a file given as a folder, lists empty (MLflow's answer).
            Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound) || dir.is_file() => {
                return Ok(out)
            }
            Err(e) => return Err(TrackError::io(&dir, e)),
        };
        for e in entries {
            let e = e.map_err(|err| TrackError::io(&dir, err))?;
            let name = e.file_name().to_string_lossy().into_owned();
            let rel = if path.is_empty() {
                name
            } else {
                format!("{path}/{name}")
            };
            match e.metadata() {
                Ok(m) if m.is_dir() => out.items.push(ArtifactEntry {
                    path: rel,
                    is_dir: true,
                    size: None,
                }),
                Ok(m) if m.is_file() => out.items.push(ArtifactEntry {
                    path: rel,
                    is_dir: false,
                    size: Some(m.len()),
                }),
                Ok(_) => out.skip(rel, "not a regular file or folder (a symbolic link?)"),
                Err(err) => out.skip(rel, err.to_string()),
            }
        }
        sort_artifacts(&mut out.items);
        Ok(out)
    }

    /// Reads MLflow's file-store model registry (`mlruns/models/<name>/meta.yaml`,
    /// `version-<n>/meta.yaml`, `aliases/<alias>`), which MLflow's Python client writes for a
    /// `file:` tracking URI. Our own writer never registers models there (bertopic's embedded
    /// registry is `bertopic-registry`), so for a store only bertopic wrote this is empty.
    fn registered_models(&self) -> Result<Listing<RegisteredModelSummary>> {
        let mut out: Listing<RegisteredModelSummary> = Listing::default();
        let mut versions = Vec::new();
        for (folder, dir) in subdirs(&self.root().join("models"))? {
            let name = match read_meta(&dir) {
                Ok(meta) => meta.get("name").cloned().unwrap_or(folder),
                Err(reason) => {
                    out.skip(dir.display().to_string(), reason);
                    continue;
                }
            };
            let mut aliases = BTreeMap::new();
            let alias_dir = dir.join("aliases");
            for (alias, version) in read_values(&alias_dir, &mut out) {
                aliases.insert(alias, version.trim().to_string());
            }
            for (vdir_name, vdir) in subdirs(&dir)? {
                let Some(number) = vdir_name.strip_prefix("version-") else {
                    continue;
                };
                match read_meta(&vdir) {
                    Ok(meta) => versions.push(ModelVersionInfo {
                        name: name.clone(),
                        version: meta
                            .get("version")
                            .cloned()
                            .unwrap_or_else(|| number.to_string()),
                        source: meta.get("source").cloned().unwrap_or_default(),
                        run_id: meta.get("run_id").cloned().unwrap_or_default(),
                        status: meta.get("status").cloned().unwrap_or_default(),
                        aliases: Vec::new(),
                    }),
                    Err(reason) => out.skip(vdir.display().to_string(), reason),
                }
            }
            out.items.push(RegisteredModelSummary {
                name,
                versions: Vec::new(),
                aliases,
            });
        }
        attach_versions(&mut out, versions);
        Ok(out)
    }

    fn ui_url(&self) -> Option<String> {
        None
    }

    fn location(&self) -> String {
        self.root().display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_server_records_are_skipped_not_fatal() {
        let r = json!({"info": {"status": "FINISHED"}});
        assert!(rest_run(&r, "1").is_err());
        let r = json!({
            "info": {"run_uuid": "ab", "start_time": "12", "status": "FAILED"},
            "data": {"metrics": [
                {"key": "m", "value": 1.0, "step": 2, "timestamp": 5},
                {"key": "m", "value": 3.0, "step": 1, "timestamp": 9},
                {"key": "n", "value": "NaN"},
                {"key": "bad"}
            ], "params": "not a list", "tags": [{"key": "mlflow.parentRunId", "value": "p"}]}
        });
        let run = rest_run(&r, "1").unwrap();
        assert_eq!(run.run_id, "ab");
        assert_eq!(run.start_time, Some(12));
        assert_eq!(run.metrics["m"], 1.0);
        assert!(run.metrics["n"].is_nan());
        assert!(!run.metrics.contains_key("bad"));
        assert!(run.params.is_empty());
        assert_eq!(run.parent_run_id.as_deref(), Some("p"));
    }

    #[test]
    fn folded_yaml_values_are_joined() {
        let m = yaml_map("name: a long\n  name here\nstatus: 3\ntags: []\n- x\nrun_id: '7'\n");
        assert_eq!(m["name"], "a long name here");
        assert_eq!(m["status"], "3");
        assert_eq!(m["run_id"], "7");
    }

    #[test]
    fn half_written_metric_files_are_reported() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("ok"), "1 0.5 0\n2 0.25 3\n3 0.75 1\n").unwrap();
        fs::write(d.path().join("torn"), "17968").unwrap();
        let mut l: Listing<()> = Listing::default();
        let m = read_metrics(d.path(), &mut l);
        assert_eq!(m.len(), 1);
        assert_eq!(m["ok"], 0.25);
        assert_eq!(l.skipped.len(), 1);
        assert!(l.skipped[0].what.ends_with("torn"), "{:?}", l.skipped);
    }
}
