//! Experiment tracking into MLflow, with no Python in our process.
//!
//! A [`Tracker`] finds or creates an experiment by name, starts runs (child runs carry MLflow's
//! `mlflow.parentRunId` tag), logs parameters, metrics (with step and timestamp) and tags in
//! batches, uploads artifacts and ends runs `FINISHED`, `FAILED` or `KILLED`. Two back-ends:
//!
//! - [`MlflowRest`]: MLflow's REST API 2.0 at `http(s)://host:port` (`mlflow server`), plus
//!   MLflow's model registry (registered models, versions, aliases) and artifact download.
//! - [`FileStore`]: MLflow's own `mlruns/` file-store layout, written atomically through
//!   bertopic-fs; MLflow 3 reads it with
//!   `MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri ./mlruns`.
//!
//! Both also implement [`TrackingReader`], the read side (experiments, runs with their params,
//! latest metrics and tags, artifact listings, registered models with versions and aliases),
//! opened with [`TrackingUri::open_reader`].
//!
//! Where runs go is decided by [`TrackingUri::resolve`]: an explicit URI, else
//! `MLFLOW_TRACKING_URI`, else the embedded default [`DEFAULT_TRACKING_DIR`].
//!
//! ```
//! use bertopic_track::{FileStore, Metric, Param, RunStatus, Tracker};
//!
//! # fn main() -> bertopic_track::Result<()> {
//! let dir = tempfile::tempdir().unwrap();
//! let store = FileStore::new(dir.path().join("mlruns"));
//! let exp = store.experiment("BERTopic-Analysis")?;
//! let run = store.start_run(&exp, Some("train"), None, &[])?;
//! store.log_batch(&run.run_id, &[Metric::now("c_v", 0.61, 0)], &[Param::new("seed", "42")], &[])?;
//! store.put_artifact(&run, "notes/readme.txt", b"hello")?;
//! store.end_run(&run.run_id, RunStatus::Finished)?;
//! let metrics = dir.path().join("mlruns").join(&exp).join(&run.run_id).join("metrics/c_v");
//! assert!(std::fs::read_to_string(metrics).unwrap().ends_with(" 0.61 0\n"));
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod batch;
mod error;
mod file;
mod read;
mod rest;

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

pub use batch::{split_batch, Limits};
pub use error::{Result, TrackError};
pub use file::FileStore;
pub use read::{
    ArtifactEntry, ExperimentSummary, Listing, RegisteredModelSummary, RunSummary, Skipped,
    TrackingReader,
};
pub use rest::{Auth, MlflowRest, ModelVersionInfo, RetryPolicy};

/// The environment variable MLflow's own clients read for the tracking URI.
pub const TRACKING_URI_ENV: &str = "MLFLOW_TRACKING_URI";
/// Where runs go when neither a URI nor [`TRACKING_URI_ENV`] is given: MLflow's classic
/// file-store folder, relative to the working directory.
pub const DEFAULT_TRACKING_DIR: &str = "mlruns";
/// The experiment used when none is named (the seed's).
pub const DEFAULT_EXPERIMENT: &str = "BERTopic-Analysis";
/// MLflow's tag linking a child run to its parent.
pub const PARENT_RUN_TAG: &str = "mlflow.parentRunId";
/// MLflow's tag holding a run's display name.
pub const RUN_NAME_TAG: &str = "mlflow.runName";

/// How a run ended (MLflow's `RunStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Still running.
    Running,
    /// Completed.
    Finished,
    /// Stopped by an error.
    Failed,
    /// Stopped by the user (Ctrl-C).
    Killed,
}

impl RunStatus {
    /// MLflow's REST name (`FINISHED`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "RUNNING",
            RunStatus::Finished => "FINISHED",
            RunStatus::Failed => "FAILED",
            RunStatus::Killed => "KILLED",
        }
    }

    /// MLflow's protobuf number, as the file store writes it.
    pub fn number(self) -> u8 {
        match self {
            RunStatus::Running => 1,
            RunStatus::Finished => 3,
            RunStatus::Failed => 4,
            RunStatus::Killed => 5,
        }
    }
}

/// One parameter (logged once per run; MLflow refuses to change it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// Name.
    pub key: String,
    /// Value as text.
    pub value: String,
}

impl Param {
    /// A parameter.
    pub fn new(key: impl Into<String>, value: impl ToString) -> Param {
        Param {
            key: key.into(),
            value: value.to_string(),
        }
    }
}

/// One tag (may be overwritten).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// Name.
    pub key: String,
    /// Value.
    pub value: String,
}

impl Tag {
    /// A tag.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Tag {
        Tag {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// One point of a metric's history.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// Name.
    pub key: String,
    /// Value (non-finite values are refused: MLflow's JSON cannot carry them).
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// Step (e.g. the trial number).
    pub step: i64,
}

impl Metric {
    /// A metric point stamped with the current time.
    pub fn now(key: impl Into<String>, value: f64, step: i64) -> Metric {
        Metric {
            key: key.into(),
            value,
            timestamp_ms: now_ms(),
            step,
        }
    }
}

/// A started run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    /// MLflow's run id (32 hex digits).
    pub run_id: String,
    /// The experiment's id.
    pub experiment_id: String,
    /// Where the run's artifacts live (`mlflow-artifacts:/…` or `file:///…`).
    pub artifact_uri: String,
}

/// Something that records runs: MLflow's REST API or its file store.
///
/// Implementations validate keys and split batches to MLflow's limits themselves.
pub trait Tracker: Send + Sync {
    /// The experiment named `name` (created when missing); returns its id.
    fn experiment(&self, name: &str) -> Result<String>;

    /// Starts a run in experiment `experiment_id`; `parent` makes it a child run (tag
    /// [`PARENT_RUN_TAG`]). `tags` are set at creation.
    fn start_run(
        &self,
        experiment_id: &str,
        name: Option<&str>,
        parent: Option<&str>,
        tags: &[Tag],
    ) -> Result<RunInfo>;

    /// Logs metrics, parameters and tags of a run (split into as many requests as needed).
    fn log_batch(
        &self,
        run_id: &str,
        metrics: &[Metric],
        params: &[Param],
        tags: &[Tag],
    ) -> Result<()>;

    /// Stores `bytes` as artifact `path` (relative, `/`-separated) of `run`.
    fn put_artifact(&self, run: &RunInfo, path: &str, bytes: &[u8]) -> Result<()>;

    /// Ends a run with `status`.
    fn end_run(&self, run_id: &str, status: RunStatus) -> Result<()>;

    /// Where this tracker writes, for messages (never holds credentials).
    fn location(&self) -> String;

    /// Uploads the local file `file` as artifact `dest` (relative path) of `run`.
    fn log_artifact(&self, run: &RunInfo, file: &Path, dest: &str) -> Result<()> {
        let bytes = std::fs::read(file).map_err(|e| TrackError::io(file, e))?;
        self.put_artifact(run, dest, &bytes)
    }

    /// Uploads every file under `dir` (recursively, in name order) below artifact folder `dest`
    /// (`""` = the run's artifact root). Symbolic links are skipped.
    fn log_artifacts(&self, run: &RunInfo, dir: &Path, dest: &str) -> Result<()> {
        for (file, rel) in walk_files(dir)? {
            let path = join_artifact(dest, &rel);
            self.log_artifact(run, &file, &path)?;
        }
        Ok(())
    }
}

/// Where runs go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackingUri {
    /// An MLflow tracking server (`http://…` or `https://…`).
    Rest(String),
    /// An `mlruns/` folder (a path or a `file:` URI).
    File(PathBuf),
}

impl TrackingUri {
    /// The tracking URI: `explicit` (e.g. `--tracking-uri`), else `MLFLOW_TRACKING_URI`, else
    /// the embedded default `./mlruns`.
    pub fn resolve(explicit: Option<&str>) -> Result<TrackingUri> {
        let env = std::env::var(TRACKING_URI_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty());
        match explicit.map(str::to_string).or(env) {
            Some(uri) => uri.parse(),
            None => Ok(TrackingUri::File(PathBuf::from(DEFAULT_TRACKING_DIR))),
        }
    }

    /// Whether a tracking URI was configured (flag or environment), as opposed to the default.
    pub fn configured(explicit: Option<&str>) -> bool {
        explicit.is_some() || std::env::var(TRACKING_URI_ENV).is_ok_and(|v| !v.trim().is_empty())
    }

    /// Opens the tracker for this URI (REST credentials from the environment).
    pub fn open(&self) -> Result<Box<dyn Tracker>> {
        Ok(match self {
            TrackingUri::Rest(url) => Box::new(MlflowRest::from_env(url)?),
            TrackingUri::File(dir) => Box::new(FileStore::new(dir)),
        })
    }

    /// Opens the read side for this URI ([`TrackingReader`]; REST credentials from the
    /// environment). Nothing is created: a missing `mlruns/` folder reads as empty.
    pub fn open_reader(&self) -> Result<Box<dyn TrackingReader>> {
        Ok(match self {
            TrackingUri::Rest(url) => Box::new(MlflowRest::from_env(url)?),
            TrackingUri::File(dir) => Box::new(FileStore::new(dir)),
        })
    }

    /// Whether this is an MLflow server (which has a model registry we can write).
    pub fn is_rest(&self) -> bool {
        matches!(self, TrackingUri::Rest(_))
    }
}

impl std::fmt::Display for TrackingUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrackingUri::Rest(u) => f.write_str(u),
            TrackingUri::File(p) => write!(f, "{}", p.display()),
        }
    }
}

impl std::str::FromStr for TrackingUri {
    type Err = TrackError;

    fn from_str(s: &str) -> Result<TrackingUri> {
        let s = s.trim();
        // Never echo user:password@ back into a message.
        let shown = match (s.find("://"), s.find('@')) {
            (Some(i), Some(j)) if j > i => format!("{}://…{}", &s[..i], &s[j..]),
            _ => s.to_string(),
        };
        let bad = |reason: &str| TrackError::Uri {
            uri: shown.clone(),
            reason: reason.to_string(),
        };
        if s.is_empty() {
            return Err(bad("empty"));
        }
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            if s.contains('@') {
                // user:password@host would put a secret into every message and log line.
                return Err(bad(
                    "credentials in the URI are not accepted: set MLFLOW_TRACKING_USERNAME and \
                     MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN) instead",
                ));
            }
            return Ok(TrackingUri::Rest(s.trim_end_matches('/').to_string()));
        }
        if let Some(rest) = s.strip_prefix("file://") {
            if !rest.starts_with('/') {
                return Err(bad(
                    "a file URI needs an absolute path: file:///path/to/mlruns",
                ));
            }
            return Ok(TrackingUri::File(PathBuf::from(rest)));
        }
        if let Some(rest) = s.strip_prefix("file:") {
            return Ok(TrackingUri::File(PathBuf::from(rest)));
        }
        if let Some((scheme, _)) = s.split_once("://") {
            if scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+')
            {
                return Err(bad(&format!(
                    "the {scheme} scheme is not supported: use an MLflow server \
                     (http://host:port, e.g. `mlflow server --backend-store-uri {s}`) or an \
                     mlruns folder"
                )));
            }
        }
        Ok(TrackingUri::File(PathBuf::from(s)))
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A new run id: 32 lowercase hex digits, like MLflow's (uuid4 hex). Unique across processes
/// and threads (time, process id, a counter and a stack address are hashed).
pub fn new_run_id() -> String {
    use sha2::{Digest, Sha256};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let local = 0u8;
    let mut h = Sha256::new();
    h.update(nanos.to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    h.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    h.update((&local as *const u8 as usize).to_le_bytes());
    let d = h.finalize();
    bertopic_fs::hex(&d[..16])
}

/// SHA-256 of a byte string, as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    bertopic_fs::hex(&Sha256::digest(bytes))
}

/// `dest/rel` without doubled or leading slashes.
fn join_artifact(dest: &str, rel: &str) -> String {
    let dest = dest.trim_matches('/');
    if dest.is_empty() {
        rel.to_string()
    } else {
        format!("{dest}/{rel}")
    }
}

/// Every regular file under `dir` with its `/`-separated path relative to `dir`, sorted.
pub(crate) fn walk_files(dir: &Path) -> Result<Vec<(PathBuf, String)>> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(PathBuf, String)>) -> Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| TrackError::io(dir, e))?
            .filter_map(|e| e.ok())
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let path = e.path();
            let ft = e.file_type().map_err(|err| TrackError::io(&path, err))?;
            if ft.is_dir() {
                walk(base, &path, out)?;
            } else if ft.is_file() {
                let rel = path
                    .strip_prefix(base)
                    .unwrap_or(&path)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((path, rel));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    Ok(out)
}

/// Refuses artifact paths that would leave the run's folder (`..`, absolute, empty parts).
pub(crate) fn check_artifact_path(path: &str) -> Result<()> {
    let ok = !path.is_empty()
        && !path.starts_with('/')
        && path
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != ".." && !p.contains('\\'));
    if ok {
        Ok(())
    } else {
        Err(TrackError::Invalid(format!(
            "artifact path {path:?} must be relative, `/`-separated, without `.` or `..` parts"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_parse() {
        assert_eq!(
            "http://127.0.0.1:5000/".parse::<TrackingUri>().unwrap(),
            TrackingUri::Rest("http://127.0.0.1:5000".into())
        );
        assert_eq!(
            "file:///tmp/mlruns".parse::<TrackingUri>().unwrap(),
            TrackingUri::File("/tmp/mlruns".into())
        );
        assert_eq!(
            "runs/mlruns".parse::<TrackingUri>().unwrap(),
            TrackingUri::File("runs/mlruns".into())
        );
        let e = "sqlite:///mlflow.db".parse::<TrackingUri>().unwrap_err();
        assert!(e.to_string().contains("mlflow server"), "{e}");
        let e = "https://me:secret@host".parse::<TrackingUri>().unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
    }

    #[test]
    fn run_ids_are_uuid_hex_and_distinct() {
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| new_run_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids
            .iter()
            .all(|i| i.len() == 32 && i.chars().all(|c| c.is_ascii_hexdigit())));
    }

    #[test]
    fn artifact_paths_stay_inside() {
        for bad in ["", "/etc/passwd", "a/../b", "a//b", "./a", "a\\b"] {
            assert!(check_artifact_path(bad).is_err(), "{bad}");
        }
        check_artifact_path("model/model.json").unwrap();
    }
}
