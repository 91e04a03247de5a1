//! MLflow's REST API 2.0 over a blocking `ureq` client.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::batch::{split_batch, Limits};
use crate::error::{Result, TrackError};
use crate::{
    check_artifact_path, now_ms, Metric, Param, RunInfo, RunStatus, Tag, Tracker, PARENT_RUN_TAG,
    RUN_NAME_TAG,
};

/// How the client authenticates. Debug output never shows the secret.
#[derive(Clone, Default)]
pub enum Auth {
    /// No `Authorization` header.
    #[default]
    None,
    /// `Authorization: Bearer <token>` (`MLFLOW_TRACKING_TOKEN`).
    Bearer(String),
    /// `Authorization: Basic …` (`MLFLOW_TRACKING_USERNAME` / `MLFLOW_TRACKING_PASSWORD`).
    Basic {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::None => "Auth::None",
            Auth::Bearer(_) => "Auth::Bearer(<redacted>)",
            Auth::Basic { .. } => "Auth::Basic(<redacted>)",
        })
    }
}

impl Auth {
    /// Credentials from MLflow's environment variables: a token wins over user and password.
    pub fn from_env() -> Auth {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        if let Some(t) = var("MLFLOW_TRACKING_TOKEN") {
            return Auth::Bearer(t);
        }
        match (
            var("MLFLOW_TRACKING_USERNAME"),
            var("MLFLOW_TRACKING_PASSWORD"),
        ) {
            (Some(user), Some(password)) => Auth::Basic { user, password },
            _ => Auth::None,
        }
    }

    fn header(&self) -> Option<String> {
        use base64::Engine;
        match self {
            Auth::None => None,
            Auth::Bearer(t) => Some(format!("Bearer {t}")),
            Auth::Basic { user, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            )),
        }
    }
}

/// Retries of transient failures (transport errors, HTTP 429 and 5xx).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all (1 = no retry).
    pub attempts: u32,
    /// Wait before the first retry; doubled each time.
    pub first_backoff: Duration,
    /// Longest wait between attempts.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
        }
    }
}

/// A registered model version in MLflow's registry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ModelVersionInfo {
    /// The registered model's name.
    pub name: String,
    /// The version number (MLflow sends it as a string).
    pub version: String,
    /// Where the version's files are (`mlflow-artifacts:/…/artifacts/model`).
    #[serde(default)]
    pub source: String,
    /// The run that logged it.
    #[serde(default)]
    pub run_id: String,
    /// `READY`, `PENDING_REGISTRATION`, …
    #[serde(default)]
    pub status: String,
    /// Aliases pointing at this version.
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// A client of MLflow's REST API (`mlflow server`).
#[derive(Debug, Clone)]
pub struct MlflowRest {
    base: String,
    auth: Auth,
    agent: ureq::Agent,
    retry: RetryPolicy,
    limits: Limits,
    page: usize,
}

const API: &str = "/api/2.0/mlflow/";
const ARTIFACTS: &str = "/api/2.0/mlflow-artifacts/artifacts";

enum Body<'a> {
    None,
    Json(Value),
    Bytes(&'a [u8]),
}

impl MlflowRest {
    /// A client of the server at `base` (`http://host:port`) with `auth`. Timeouts: 10 s to
    /// connect, 120 s per read or write (artifact uploads).
    pub fn new(base: &str, auth: Auth) -> MlflowRest {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout_read(Duration::from_secs(120))
            .timeout_write(Duration::from_secs(120))
            .user_agent(concat!("bertopic-track/", env!("CARGO_PKG_VERSION")))
            .build();
        MlflowRest {
            base: base.trim_end_matches('/').to_string(),
            auth,
            agent,
            retry: RetryPolicy::default(),
            limits: Limits::default(),
            page: 1000,
        }
    }

    /// A client with credentials from the environment ([`Auth::from_env`]).
    pub fn from_env(base: &str) -> Result<MlflowRest> {
        Ok(MlflowRest::new(base, Auth::from_env()))
    }

    /// Replaces the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> MlflowRest {
        self.retry = retry;
        self
    }

    /// Replaces the batch limits (a server configured with lower ones).
    pub fn with_limits(mut self, limits: Limits) -> MlflowRest {
        self.limits = limits;
        self
    }

    /// Replaces the number of records asked for per search request when reading (default
    /// 1,000, MLflow's own default page size; at least 1).
    pub fn with_page_size(mut self, records: usize) -> MlflowRest {
        self.page = records.max(1);
        self
    }

    pub(crate) fn page_size(&self) -> usize {
        self.page
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// One call with retries; returns the body. `call` names it in errors.
    fn send(
        &self,
        method: &str,
        url: &str,
        query: &[(&str, &str)],
        body: Body<'_>,
        call: &str,
    ) -> Result<Vec<u8>> {
        let mut wait = self.retry.first_backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self.agent.request(method, url);
            for (k, v) in query {
                req = req.query(k, v);
            }
            if let Some(h) = self.auth.header() {
                req = req.set("Authorization", &h);
            }
            let res = match &body {
                Body::None => req.call(),
                Body::Json(v) => req.send_json(v.clone()),
                Body::Bytes(b) => req
                    .set("Content-Type", "application/octet-stream")
                    .send_bytes(b),
            };
            let (reason, retry_after) = match res {
                Ok(resp) => return read_body(resp, call),
                Err(ureq::Error::Status(status, resp)) => {
                    let retry_after = resp
                        .header("Retry-After")
                        .and_then(|s| s.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let text = resp.into_string().unwrap_or_default();
                    if status == 401 || status == 403 {
                        return Err(TrackError::Unauthorized {
                            call: call.to_string(),
                            status,
                            uri: self.base.clone(),
                        });
                    }
                    if status != 429 && status < 500 {
                        let (code, message) = mlflow_error(&text);
                        return Err(TrackError::Rejected {
                            call: call.to_string(),
                            status,
                            code,
                            message,
                        });
                    }
                    (format!("HTTP {status} {}", snippet(&text)), retry_after)
                }
                Err(ureq::Error::Transport(t)) => (t.to_string(), None),
            };
            if attempt >= self.retry.attempts {
                return Err(TrackError::Unavailable {
                    call: call.to_string(),
                    uri: self.base.clone(),
                    attempts: attempt,
                    reason,
                });
            }
            let pause = retry_after.unwrap_or(wait).min(self.retry.max_backoff);
            std::thread::sleep(pause);
            wait = (wait * 2).min(self.retry.max_backoff);
        }
    }

    pub(crate) fn api(&self, method: &str, endpoint: &str, body: Value) -> Result<Value> {
        let call = format!("{method} {endpoint}");
        let url = format!("{}{API}{endpoint}", self.base);
        let bytes = self.send(method, &url, &[], Body::Json(body), &call)?;
        parse_json(&bytes, &call)
    }

    pub(crate) fn api_get(&self, endpoint: &str, query: &[(&str, &str)]) -> Result<Value> {
        let call = format!("GET {endpoint}");
        let url = format!("{}{API}{endpoint}", self.base);
        let bytes = self.send("GET", &url, query, Body::None, &call)?;
        parse_json(&bytes, &call)
    }

    /// The artifact-proxy path of a run's artifact root (`mlflow-artifacts:/1/abc/artifacts`
    /// → `1/abc/artifacts`). Other artifact stores would need their own clients.
    fn proxy_path(&self, artifact_uri: &str) -> Result<String> {
        let rest = artifact_uri
            .strip_prefix("mlflow-artifacts:")
            .ok_or_else(|| TrackError::Uri {
                uri: artifact_uri.to_string(),
                reason: "the run's artifacts are not served through the tracking server: start \
                         `mlflow server` with its default proxied artifacts (no \
                         --no-serve-artifacts)"
                    .into(),
            })?;
        // `mlflow-artifacts://host:port/path` or `mlflow-artifacts:/path`.
        let path = match rest.strip_prefix("//") {
            Some(r) => r.split_once('/').map(|(_, p)| p).unwrap_or(""),
            None => rest,
        };
        Ok(path.trim_matches('/').to_string())
    }

    // --- Runs -----------------------------------------------------------------------------

    /// The run's status and info (`runs/get`).
    pub fn run_status(&self, run_id: &str) -> Result<String> {
        let v = self.api_get("runs/get", &[("run_id", run_id)])?;
        Ok(v["run"]["info"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    // --- Artifacts ------------------------------------------------------------------------

    /// Files under artifact folder `path` of the proxy (`<exp>/<run>/artifacts/model`),
    /// recursively: (path relative to `path`, size).
    fn list_proxy(&self, path: &str) -> Result<Vec<(String, u64)>> {
        let mut out = Vec::new();
        let mut todo = vec![String::new()];
        while let Some(rel) = todo.pop() {
            let full = if rel.is_empty() {
                path.to_string()
            } else {
                format!("{path}/{rel}")
            };
            let call = "GET mlflow-artifacts/artifacts (list)";
            let url = format!("{}{ARTIFACTS}", self.base);
            let bytes = self.send("GET", &url, &[("path", &full)], Body::None, call)?;
            let v = parse_json(&bytes, call)?;
            for f in v["files"].as_array().into_iter().flatten() {
                let name = f["path"].as_str().unwrap_or_default();
                let name = name.rsplit('/').next().unwrap_or(name);
                let child = if rel.is_empty() {
                    name.to_string()
                } else {
                    format!("{rel}/{name}")
                };
                check_artifact_path(&child)?;
                if f["is_dir"].as_bool().unwrap_or(false) {
                    todo.push(child);
                } else {
                    let size = f["file_size"]
                        .as_u64()
                        .or_else(|| f["file_size"].as_str().and_then(|s| s.parse().ok()))
                        .unwrap_or(0);
                    out.push((child, size));
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Downloads every file under `source` (an `mlflow-artifacts:` URI, e.g. a model version's
    /// source) into `dest` (written through bertopic-fs); returns the files' relative paths.
    /// Sizes are checked against the listing.
    pub fn download_artifacts(&self, source: &str, dest: &Path) -> Result<Vec<String>> {
        let root = self.proxy_path(source)?;
        let files = self.list_proxy(&root)?;
        if files.is_empty() {
            return Err(TrackError::Protocol {
                call: "GET mlflow-artifacts/artifacts (list)".into(),
                reason: format!("no files under {source}"),
            });
        }
        let mut names = Vec::new();
        for (rel, size) in files {
            let call = "GET mlflow-artifacts/artifacts (download)";
            let url = format!(
                "{}{ARTIFACTS}/{}",
                self.base,
                encode_path(&format!("{root}/{rel}"))
            );
            let bytes = self.send("GET", &url, &[], Body::None, call)?;
            if size != 0 && bytes.len() as u64 != size {
                return Err(TrackError::Protocol {
                    call: call.into(),
                    reason: format!("{rel}: {} bytes received, {size} listed", bytes.len()),
                });
            }
            let target: PathBuf = rel.split('/').fold(dest.to_path_buf(), |p, c| p.join(c));
            bertopic_fs::write_file(&target, &bytes)?;
            names.push(rel);
        }
        Ok(names)
    }

    // --- Model registry -------------------------------------------------------------------

    /// Creates registered model `name` (an existing one is fine).
    pub fn create_registered_model(&self, name: &str, description: &str) -> Result<()> {
        match self.api(
            "POST",
            "registered-models/create",
            json!({"name": name, "description": description}),
        ) {
            Ok(_) => Ok(()),
            Err(e) if e.mlflow_code() == Some("RESOURCE_ALREADY_EXISTS") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Creates the next version of `name` from `source` (a folder of `run_id`'s artifacts),
    /// with `tags`. MLflow numbers versions itself, so concurrent callers get distinct ones.
    pub fn create_model_version(
        &self,
        name: &str,
        source: &str,
        run_id: &str,
        tags: &[Tag],
    ) -> Result<ModelVersionInfo> {
        let tags: Vec<Value> = tags
            .iter()
            .map(|t| json!({"key": t.key, "value": t.value}))
            .collect();
        let v = self.api(
            "POST",
            "model-versions/create",
            json!({"name": name, "source": source, "run_id": run_id, "tags": tags}),
        )?;
        model_version(&v["model_version"], "POST model-versions/create")
    }

    /// Points `alias` of `name` at `version`.
    pub fn set_alias(&self, name: &str, alias: &str, version: &str) -> Result<()> {
        self.api(
            "POST",
            "registered-models/alias",
            json!({"name": name, "alias": alias, "version": version}),
        )?;
        Ok(())
    }

    /// Version `version` of `name`.
    pub fn model_version(&self, name: &str, version: &str) -> Result<ModelVersionInfo> {
        let v = self.api_get(
            "model-versions/get",
            &[("name", name), ("version", version)],
        )?;
        model_version(&v["model_version"], "GET model-versions/get")
    }

    /// The version `alias` of `name` points at.
    pub fn model_version_by_alias(&self, name: &str, alias: &str) -> Result<ModelVersionInfo> {
        let v = self.api_get(
            "registered-models/alias",
            &[("name", name), ("alias", alias)],
        )?;
        model_version(&v["model_version"], "GET registered-models/alias")
    }

    /// Removes `alias` of `name`.
    pub fn delete_alias(&self, name: &str, alias: &str) -> Result<()> {
        let call = "DELETE registered-models/alias";
        let url = format!("{}{API}registered-models/alias", self.base);
        self.send(
            "DELETE",
            &url,
            &[("name", name), ("alias", alias)],
            Body::None,
            call,
        )?;
        Ok(())
    }

    /// Deletes version `version` of `name`.
    pub fn delete_model_version(&self, name: &str, version: &str) -> Result<()> {
        self.api(
            "DELETE",
            "model-versions/delete",
            json!({"name": name, "version": version}),
        )?;
        Ok(())
    }

    /// Every version of `name`, oldest first.
    pub fn model_versions(&self, name: &str) -> Result<Vec<ModelVersionInfo>> {
        let filter = format!("name='{}'", name.replace('\'', "\\'"));
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let mut q = vec![("filter", filter.as_str()), ("max_results", "1000")];
            if !token.is_empty() {
                q.push(("page_token", token.as_str()));
            }
            let v = self.api_get("model-versions/search", &q)?;
            for mv in v["model_versions"].as_array().into_iter().flatten() {
                out.push(model_version(mv, "GET model-versions/search")?);
            }
            match v["next_page_token"].as_str() {
                Some(t) if !t.is_empty() => token = t.to_string(),
                _ => break,
            }
        }
        out.sort_by_key(|m| m.version.parse::<u64>().unwrap_or(0));
        Ok(out)
    }
}

impl Tracker for MlflowRest {
    fn experiment(&self, name: &str) -> Result<String> {
        if name.trim().is_empty() {
            return Err(TrackError::Invalid("the experiment name is empty".into()));
        }
        let get = || -> Result<Option<String>> {
            match self.api_get("experiments/get-by-name", &[("experiment_name", name)]) {
                Ok(v) => {
                    let e = &v["experiment"];
                    if e["lifecycle_stage"].as_str() == Some("deleted") {
                        return Err(TrackError::Invalid(format!(
                            "experiment {name:?} is deleted on {}: restore it in MLflow or \
                             choose another name",
                            self.base
                        )));
                    }
                    Ok(e["experiment_id"].as_str().map(str::to_string))
                }
                Err(e) if e.mlflow_code() == Some("RESOURCE_DOES_NOT_EXIST") => Ok(None),
                Err(e) => Err(e),
            }
        };
        if let Some(id) = get()? {
            return Ok(id);
        }
        match self.api("POST", "experiments/create", json!({"name": name})) {
            Ok(v) => v["experiment_id"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| TrackError::Protocol {
                    call: "POST experiments/create".into(),
                    reason: "no experiment_id".into(),
                }),
            // Another process created it between our two calls.
            Err(e) if e.mlflow_code() == Some("RESOURCE_ALREADY_EXISTS") => get()?.ok_or(e),
            Err(e) => Err(e),
        }
    }

    fn start_run(
        &self,
        experiment_id: &str,
        name: Option<&str>,
        parent: Option<&str>,
        tags: &[Tag],
    ) -> Result<RunInfo> {
        let mut all: Vec<Tag> = vec![
            Tag::new("mlflow.user", std::env::var("USER").unwrap_or_default()),
            Tag::new("mlflow.source.type", "LOCAL"),
            Tag::new("mlflow.source.name", "bertopic"),
        ];
        if let Some(n) = name {
            all.push(Tag::new(RUN_NAME_TAG, n));
        }
        if let Some(p) = parent {
            all.push(Tag::new(PARENT_RUN_TAG, p));
        }
        all.extend_from_slice(tags);
        // runs/create takes few tags; the rest go in log-batch requests.
        let (first, rest) = all.split_at(all.len().min(self.limits.tags));
        split_batch(&self.limits, &[], &[], first)?;
        let tag_json: Vec<Value> = first
            .iter()
            .map(|t| json!({"key": t.key, "value": t.value}))
            .collect();
        let mut body = json!({
            "experiment_id": experiment_id,
            "start_time": now_ms(),
            "tags": tag_json,
        });
        if let Some(n) = name {
            body["run_name"] = json!(n);
        }
        let v = self.api("POST", "runs/create", body)?;
        let info = &v["run"]["info"];
        let run = RunInfo {
            run_id: info["run_id"].as_str().unwrap_or_default().to_string(),
            experiment_id: experiment_id.to_string(),
            artifact_uri: info["artifact_uri"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        };
        if run.run_id.is_empty() {
            return Err(TrackError::Protocol {
                call: "POST runs/create".into(),
                reason: "no run_id".into(),
            });
        }
        if !rest.is_empty() {
            self.log_batch(&run.run_id, &[], &[], rest)?;
        }
        Ok(run)
    }

    fn log_batch(
        &self,
        run_id: &str,
        metrics: &[Metric],
        params: &[Param],
        tags: &[Tag],
    ) -> Result<()> {
        for (m, p, t) in split_batch(&self.limits, metrics, params, tags)? {
            let body = json!({
                "run_id": run_id,
                "metrics": m.iter().map(|m| json!({
                    "key": m.key, "value": m.value, "timestamp": m.timestamp_ms, "step": m.step
                })).collect::<Vec<_>>(),
                "params": p.iter().map(|p| json!({"key": p.key, "value": p.value}))
                    .collect::<Vec<_>>(),
                "tags": t.iter().map(|t| json!({"key": t.key, "value": t.value}))
                    .collect::<Vec<_>>(),
            });
            self.api("POST", "runs/log-batch", body)?;
        }
        Ok(())
    }

    fn put_artifact(&self, run: &RunInfo, path: &str, bytes: &[u8]) -> Result<()> {
        check_artifact_path(path)?;
        let root = self.proxy_path(&run.artifact_uri)?;
        let url = format!(
            "{}{ARTIFACTS}/{}",
            self.base,
            encode_path(&format!("{root}/{path}"))
        );
        let call = format!("PUT mlflow-artifacts/artifacts/…/{path}");
        self.send("PUT", &url, &[], Body::Bytes(bytes), &call)?;
        Ok(())
    }

    fn end_run(&self, run_id: &str, status: RunStatus) -> Result<()> {
        self.api(
            "POST",
            "runs/update",
            json!({"run_id": run_id, "status": status.as_str(), "end_time": now_ms()}),
        )?;
        Ok(())
    }

    fn location(&self) -> String {
        self.base.clone()
    }
}

fn read_body(resp: ureq::Response, call: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut buf).map_err(|e| {
        TrackError::Protocol {
            call: call.to_string(),
            reason: format!("reading the answer: {e}"),
        }
    })?;
    Ok(buf)
}

fn parse_json(bytes: &[u8], call: &str) -> Result<Value> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(bytes).map_err(|e| TrackError::Protocol {
        call: call.to_string(),
        reason: format!(
            "not JSON ({e}): {}",
            snippet(&String::from_utf8_lossy(bytes))
        ),
    })
}

fn model_version(v: &Value, call: &str) -> Result<ModelVersionInfo> {
    serde_json::from_value(v.clone()).map_err(|e| TrackError::Protocol {
        call: call.to_string(),
        reason: format!("model_version: {e}"),
    })
}

/// MLflow's `{"error_code": …, "message": …}`, or the start of another body.
fn mlflow_error(text: &str) -> (String, String) {
    match serde_json::from_str::<Value>(text) {
        Ok(v) if v.get("error_code").is_some() => (
            v["error_code"].as_str().unwrap_or_default().to_string(),
            v["message"].as_str().unwrap_or_default().to_string(),
        ),
        _ => (String::new(), snippet(text)),
    }
}

fn snippet(text: &str) -> String {
    let t = text.trim();
    match t.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t.to_string(),
    }
}

/// Percent-encodes each `/`-separated part of an artifact path for a URL path.
fn encode_path(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    /// A one-shot local HTTP responder: answers each connection with the next canned status
    /// and body and records the requests' first line and headers.
    fn responder(
        answers: Vec<(u16, &'static str)>,
    ) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let h = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for (status, body) in answers {
                let (mut s, _) = l.accept().unwrap();
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut head = String::new();
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    r.read_line(&mut line).unwrap();
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap();
                    }
                    if line == "\r\n" || line.is_empty() {
                        break;
                    }
                    head.push_str(&line);
                }
                let mut body_in = vec![0; len];
                r.read_exact(&mut body_in).unwrap();
                seen.push(format!("{head}\n{}", String::from_utf8_lossy(&body_in)));
                write!(
                    s,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .unwrap();
            }
            seen
        });
        (url, h)
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            attempts: 3,
            first_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(20),
        }
    }

    #[test]
    fn unauthorized_names_the_call_and_hides_the_token() {
        let (url, h) = responder(vec![(401, "{}")]);
        let c = MlflowRest::new(&url, Auth::Bearer("s3cr3t-token".into())).with_retry(fast());
        let e = c.experiment("E").unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(e, TrackError::Unauthorized { status: 401, .. }),
            "{msg}"
        );
        assert!(
            msg.contains("experiments/get-by-name") && !msg.contains("s3cr3t"),
            "{msg}"
        );
        let seen = h.join().unwrap();
        assert!(seen[0].contains("Bearer s3cr3t-token"), "{seen:?}");
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }

    #[test]
    fn retries_5xx_then_succeeds_and_4xx_is_typed() {
        let (url, h) = responder(vec![
            (503, "busy"),
            (429, "slow down"),
            (
                200,
                r#"{"experiment":{"experiment_id":"7","lifecycle_stage":"active"}}"#,
            ),
            (
                400,
                r#"{"error_code":"INVALID_PARAMETER_VALUE","message":"bad key"}"#,
            ),
        ]);
        let c = MlflowRest::new(
            &url,
            Auth::Basic {
                user: "u".into(),
                password: "p".into(),
            },
        )
        .with_retry(fast());
        assert_eq!(c.experiment("E").unwrap(), "7");
        let e = c.end_run("abc", RunStatus::Failed).unwrap_err();
        assert_eq!(e.mlflow_code(), Some("INVALID_PARAMETER_VALUE"));
        assert!(e.to_string().contains("POST runs/update"), "{e}");
        let seen = h.join().unwrap();
        assert_eq!(seen.len(), 4);
        assert!(seen[0].contains("Basic dTpw"), "{seen:?}");
        assert!(seen[3].contains("\"FAILED\""), "{seen:?}");
    }

    #[test]
    fn server_down_is_unavailable_after_retries() {
        // A port with no listener (bound, then closed).
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = MlflowRest::new(&format!("http://127.0.0.1:{port}"), Auth::None).with_retry(fast());
        let e = c.experiment("E").unwrap_err();
        assert!(e.is_transient(), "{e}");
        assert!(e.to_string().contains("3 attempt"), "{e}");
    }

    #[test]
    fn proxy_paths() {
        let c = MlflowRest::new("http://h:1", Auth::None);
        assert_eq!(
            c.proxy_path("mlflow-artifacts:/1/abc/artifacts").unwrap(),
            "1/abc/artifacts"
        );
        assert_eq!(
            c.proxy_path("mlflow-artifacts://h:1/1/abc/artifacts")
                .unwrap(),
            "1/abc/artifacts"
        );
        assert!(c.proxy_path("/tmp/x").is_err());
        assert_eq!(encode_path("1/a b/c%"), "1/a%20b/c%25");
    }
}
