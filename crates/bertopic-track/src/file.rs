//! MLflow's `mlruns/` file-store layout, written through bertopic-fs.
//!
//! ```text
//! mlruns/
//!   0/meta.yaml                      the Default experiment (MLflow expects it)
//!   <experiment_id>/meta.yaml        name, artifact_location, lifecycle_stage, times
//!   <experiment_id>/<run_id>/
//!     meta.yaml                      run_id, run_name, status (1 running … 5 killed), times
//!     params/<key>                   the value
//!     metrics/<key>                  one line per point: "<timestamp_ms> <value> <step>"
//!     tags/<key>                     the value
//!     artifacts/…                    the files
//! ```
//!
//! Keys with `/` become sub-folders, as in MLflow. Every file is replaced atomically
//! ([`bertopic_fs::write_file`]); a metric file is rewritten whole with the new lines.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::batch::{split_batch, Limits};
use crate::error::{Result, TrackError};
use crate::{
    check_artifact_path, new_run_id, now_ms, Metric, Param, RunInfo, RunStatus, Tag, Tracker,
    PARENT_RUN_TAG, RUN_NAME_TAG,
};

/// An `mlruns/` folder that MLflow's file store (and `mlflow ui`) reads.
#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
}

impl FileStore {
    /// The store at `root` (created on the first write).
    pub fn new(root: impl Into<PathBuf>) -> FileStore {
        FileStore { root: root.into() }
    }

    /// The `mlruns` folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn abs_root(&self) -> Result<PathBuf> {
        fs::create_dir_all(&self.root).map_err(|e| TrackError::io(&self.root, e))?;
        fs::canonicalize(&self.root).map_err(|e| TrackError::io(&self.root, e))
    }

    /// Makes `mlruns/0` (MLflow's Default experiment) and `.trash` when missing, as MLflow does
    /// on first use, so a reader finds the layout it expects.
    fn ensure_root(&self) -> Result<PathBuf> {
        let root = self.abs_root()?;
        let trash = root.join(".trash");
        fs::create_dir_all(&trash).map_err(|e| TrackError::io(&trash, e))?;
        if !root.join("0").join("meta.yaml").is_file() {
            self.write_experiment(&root, "0", "Default")?;
        }
        Ok(root)
    }

    fn write_experiment(&self, root: &Path, id: &str, name: &str) -> Result<()> {
        let dir = root.join(id);
        let t = now_ms();
        let meta = format!(
            "artifact_location: {}\ncreation_time: {t}\nexperiment_id: {}\n\
             last_update_time: {t}\nlifecycle_stage: active\nname: {}\n",
            yaml_str(&file_uri(&dir)),
            yaml_str(id),
            yaml_str(name)
        );
        bertopic_fs::write_file(&dir.join("meta.yaml"), meta.as_bytes())?;
        Ok(())
    }

    /// (id, name, lifecycle_stage) of every experiment with a readable meta.yaml.
    fn list_experiments(&self, root: &Path) -> Result<Vec<(String, String, String)>> {
        let mut out = Vec::new();
        for e in fs::read_dir(root).map_err(|e| TrackError::io(root, e))? {
            let e = e.map_err(|err| TrackError::io(root, err))?;
            let id = e.file_name().to_string_lossy().into_owned();
            if !id.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            let Ok(text) = fs::read_to_string(e.path().join("meta.yaml")) else {
                continue;
            };
            if let Some(name) = yaml_field(&text, "name") {
                let stage = yaml_field(&text, "lifecycle_stage").unwrap_or_default();
                out.push((id, name, stage));
            }
        }
        Ok(out)
    }

    fn run_dir(&self, run_id: &str) -> Result<(PathBuf, String)> {
        check_run_id(run_id)?;
        let root = self.abs_root()?;
        for e in fs::read_dir(&root).map_err(|e| TrackError::io(&root, e))? {
            let e = e.map_err(|err| TrackError::io(&root, err))?;
            let d = e.path().join(run_id);
            if d.join("meta.yaml").is_file() {
                return Ok((d, e.file_name().to_string_lossy().into_owned()));
            }
        }
        Err(TrackError::Store {
            path: root,
            reason: format!("no run {run_id} in this mlruns folder"),
        })
    }

    fn write_run_meta(
        &self,
        dir: &Path,
        exp: &str,
        run_id: &str,
        name: &str,
        status: RunStatus,
        (start, end): (u64, Option<u64>),
    ) -> Result<()> {
        let meta = format!(
            "artifact_uri: {}\nend_time: {}\nentry_point_name: ''\nexperiment_id: {}\n\
             lifecycle_stage: active\nrun_id: {run_id}\nrun_name: {}\nsource_name: ''\n\
             source_type: 4\nsource_version: ''\nstart_time: {start}\nstatus: {}\ntags: []\n\
             user_id: {}\n",
            yaml_str(&file_uri(&dir.join("artifacts"))),
            end.map(|e| e.to_string()).unwrap_or_else(|| "null".into()),
            yaml_str(exp),
            yaml_str(name),
            status.number(),
            yaml_str(&user())
        );
        bertopic_fs::write_file(&dir.join("meta.yaml"), meta.as_bytes())?;
        Ok(())
    }

    fn write_value(&self, dir: &Path, key: &str, value: &str) -> Result<()> {
        bertopic_fs::write_file(&dir.join(key), value.as_bytes())?;
        Ok(())
    }
}

/// At most this many files written at once by [`write_files`].
const PARALLEL_WRITES: usize = 4;

/// Writes each file atomically, up to [`PARALLEL_WRITES`] at a time; stops at the first error.
fn write_files(writes: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failed = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..PARALLEL_WRITES.min(writes.len()))
            .map(|_| {
                s.spawn(|| -> Result<()> {
                    use std::sync::atomic::Ordering::Relaxed;
                    loop {
                        let i = next.fetch_add(1, Relaxed);
                        if i >= writes.len() || failed.load(Relaxed) {
                            return Ok(());
                        }
                        let (path, bytes) = &writes[i];
                        if let Err(e) = bertopic_fs::write_file(path, bytes) {
                            failed.store(true, Relaxed);
                            return Err(e.into());
                        }
                    }
                })
            })
            .collect();
        let mut res = Ok(());
        for w in workers {
            let r = w.join().unwrap_or_else(|_| {
                Err(TrackError::Invalid("a file-store writer panicked".into()))
            });
            if res.is_ok() {
                res = r;
            }
        }
        res
    })
}

impl Tracker for FileStore {
    fn experiment(&self, name: &str) -> Result<String> {
        if name.trim().is_empty() {
            return Err(TrackError::Invalid("the experiment name is empty".into()));
        }
        let root = self.ensure_root()?;
        let found = self.list_experiments(&root)?;
        if let Some((id, _, stage)) = found.iter().find(|(_, n, _)| n == name) {
            if stage == "deleted" {
                return Err(TrackError::Store {
                    path: root.join(id),
                    reason: format!(
                        "experiment {name:?} is deleted: restore it in MLflow or choose another \
                         name"
                    ),
                });
            }
            return Ok(id.clone());
        }
        // The id is derived from the name, so concurrent first runs of one experiment agree on
        // it; `create_dir` decides who writes meta.yaml.
        let digest = crate::sha256_hex(name.as_bytes());
        let mut id = u64::from_str_radix(&digest[..15], 16).unwrap_or(1) % 1_000_000_000_000_000;
        loop {
            let dir = root.join(id.to_string());
            match fs::create_dir(&dir) {
                Ok(()) => {
                    self.write_experiment(&root, &id.to_string(), name)?;
                    return Ok(id.to_string());
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    // Another process may be writing its meta.yaml right now: wait briefly.
                    for _ in 0..50 {
                        if dir.join("meta.yaml").is_file() {
                            break;
                        }
                        std::thread::sleep(std::time::Duration::from_millis(20));
                    }
                    let text = fs::read_to_string(dir.join("meta.yaml")).unwrap_or_default();
                    if yaml_field(&text, "name").as_deref() == Some(name) {
                        return Ok(id.to_string());
                    }
                    id += 1;
                }
                Err(e) => return Err(TrackError::io(&dir, e)),
            }
        }
    }

    fn start_run(
        &self,
        experiment_id: &str,
        name: Option<&str>,
        parent: Option<&str>,
        tags: &[Tag],
    ) -> Result<RunInfo> {
        let root = self.ensure_root()?;
        let exp_dir = root.join(experiment_id);
        if !experiment_id.chars().all(|c| c.is_ascii_digit())
            || !exp_dir.join("meta.yaml").is_file()
        {
            return Err(TrackError::Store {
                path: exp_dir,
                reason: format!("no experiment {experiment_id} in this mlruns folder"),
            });
        }
        let run_id = new_run_id();
        let dir = exp_dir.join(&run_id);
        for sub in ["params", "metrics", "tags", "artifacts"] {
            fs::create_dir_all(dir.join(sub)).map_err(|e| TrackError::io(dir.join(sub), e))?;
        }
        let run_name = name
            .map(str::to_string)
            .unwrap_or_else(|| run_id[..8].into());
        let mut all = vec![
            Tag::new(RUN_NAME_TAG, run_name.clone()),
            Tag::new("mlflow.user", user()),
            Tag::new("mlflow.source.type", "LOCAL"),
            Tag::new("mlflow.source.name", "bertopic"),
        ];
        if let Some(p) = parent {
            check_run_id(p)?;
            all.push(Tag::new(PARENT_RUN_TAG, p));
        }
        all.extend_from_slice(tags);
        split_batch(&Limits::default(), &[], &[], &all)?;
        for t in &all {
            self.write_value(&dir.join("tags"), &t.key, &t.value)?;
        }
        // meta.yaml last: a reader lists the run only once it is complete.
        self.write_run_meta(
            &dir,
            experiment_id,
            &run_id,
            &run_name,
            RunStatus::Running,
            (now_ms(), None),
        )?;
        Ok(RunInfo {
            artifact_uri: file_uri(&dir.join("artifacts")),
            run_id,
            experiment_id: experiment_id.to_string(),
        })
    }

    fn log_batch(
        &self,
        run_id: &str,
        metrics: &[Metric],
        params: &[Param],
        tags: &[Tag],
    ) -> Result<()> {
        split_batch(&Limits::default(), metrics, params, tags)?;
        let (dir, _) = self.run_dir(run_id)?;
        // One file per value, each written atomically (and synced): collected first, then
        // written a few at a time, since the disk's sync latency, not work, is the limit.
        let mut writes: Vec<(PathBuf, Vec<u8>)> = Vec::new();
        for p in params {
            let path = dir.join("params").join(&p.key);
            // MLflow refuses to change a logged parameter; so do we.
            match fs::read_to_string(&path) {
                Ok(old) if old != p.value => {
                    return Err(TrackError::Invalid(format!(
                        "parameter {:?} of run {run_id} is already {old:?}; MLflow does not \
                         allow changing it to {:?}",
                        p.key, p.value
                    )))
                }
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(TrackError::io(&path, e)),
            }
            writes.push((path, p.value.clone().into_bytes()));
        }
        for t in tags {
            writes.push((dir.join("tags").join(&t.key), t.value.clone().into_bytes()));
        }
        // One rewrite per metric key, with all its new points.
        let mut keys: Vec<&str> = metrics.iter().map(|m| m.key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            let path = dir.join("metrics").join(key);
            let mut text = match fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
                Err(e) => return Err(TrackError::io(&path, e)),
            };
            for m in metrics.iter().filter(|m| m.key == key) {
                text.push_str(&format!("{} {} {}\n", m.timestamp_ms, m.value, m.step));
            }
            writes.push((path, text.into_bytes()));
        }
        write_files(&writes)
    }

    fn put_artifact(&self, run: &RunInfo, path: &str, bytes: &[u8]) -> Result<()> {
        check_artifact_path(path)?;
        let (dir, _) = self.run_dir(&run.run_id)?;
        bertopic_fs::write_file(&dir.join("artifacts").join(path), bytes)?;
        Ok(())
    }

    fn end_run(&self, run_id: &str, status: RunStatus) -> Result<()> {
        let (dir, exp) = self.run_dir(run_id)?;
        let meta_path = dir.join("meta.yaml");
        let text = fs::read_to_string(&meta_path).map_err(|e| TrackError::io(&meta_path, e))?;
        let start = yaml_field(&text, "start_time")
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(now_ms);
        let name = yaml_field(&text, "run_name").unwrap_or_else(|| run_id.to_string());
        self.write_run_meta(&dir, &exp, run_id, &name, status, (start, Some(now_ms())))
    }

    fn location(&self) -> String {
        self.root.display().to_string()
    }
}

pub(crate) fn check_run_id(id: &str) -> Result<()> {
    if !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(TrackError::Invalid(format!("{id:?} is not a run id")))
    }
}

/// The user MLflow would record.
fn user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

/// `file:///abs/path` (percent-encoding the few characters a URI path cannot hold).
fn file_uri(p: &Path) -> String {
    let mut s = String::from("file://");
    for c in p.to_string_lossy().chars() {
        match c {
            ' ' => s.push_str("%20"),
            '%' => s.push_str("%25"),
            '#' => s.push_str("%23"),
            '?' => s.push_str("%3F"),
            c => s.push(c),
        }
    }
    s
}

/// A YAML scalar for any string: JSON's double-quoted form, which YAML reads the same way.
fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "''".into())
}

/// The value of a top-level `key: value` line of a meta.yaml we or MLflow wrote.
pub(crate) fn yaml_field(text: &str, key: &str) -> Option<String> {
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')))?;
    let v = line.trim();
    if v.starts_with('"') {
        serde_json::from_str(v).ok()
    } else if let Some(inner) = v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        Some(inner.replace("''", "'"))
    } else {
        Some(v.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_mlflow() {
        let d = tempfile::tempdir().unwrap();
        let s = FileStore::new(d.path().join("mlruns"));
        let exp = s.experiment("E: 'quoted' \"x\"").unwrap();
        assert_eq!(s.experiment("E: 'quoted' \"x\"").unwrap(), exp);
        let parent = s.start_run(&exp, Some("p"), None, &[]).unwrap();
        let child = s
            .start_run(&exp, None, Some(&parent.run_id), &[Tag::new("k", "v")])
            .unwrap();
        s.log_batch(
            &child.run_id,
            &[
                Metric {
                    key: "c_v".into(),
                    value: 0.25,
                    timestamp_ms: 7,
                    step: 1,
                },
                Metric {
                    key: "c_v".into(),
                    value: 0.5,
                    timestamp_ms: 8,
                    step: 2,
                },
            ],
            &[Param::new("a/b", "1")],
            &[],
        )
        .unwrap();
        s.end_run(&child.run_id, RunStatus::Killed).unwrap();
        let run = d.path().join("mlruns").join(&exp).join(&child.run_id);
        assert_eq!(
            fs::read_to_string(run.join("metrics/c_v")).unwrap(),
            "7 0.25 1\n8 0.5 2\n"
        );
        assert_eq!(fs::read_to_string(run.join("params/a/b")).unwrap(), "1");
        assert_eq!(
            fs::read_to_string(run.join("tags").join(PARENT_RUN_TAG)).unwrap(),
            parent.run_id
        );
        let meta = fs::read_to_string(run.join("meta.yaml")).unwrap();
        assert!(meta.contains("status: 5\n"), "{meta}");
        assert!(!meta.contains("end_time: null"), "{meta}");
        assert!(d.path().join("mlruns/0/meta.yaml").is_file());
        let e = s
            .log_batch(&child.run_id, &[], &[Param::new("a/b", "2")], &[])
            .unwrap_err();
        assert!(e.to_string().contains("already"), "{e}");
    }

    #[test]
    fn yaml_round_trip() {
        let v = "it's \"odd\": # yes";
        let text = format!("name: {}\n", yaml_str(v));
        assert_eq!(yaml_field(&text, "name").as_deref(), Some(v));
        assert_eq!(
            yaml_field("experiment_id: '12'\n", "experiment_id").as_deref(),
            Some("12")
        );
    }
}
