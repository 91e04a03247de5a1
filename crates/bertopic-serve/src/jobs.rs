//! Training jobs started from the Training tab: each runs `bertopic::jobs::train` on its own
//! thread, one at a time (training takes every core), and reports its progress as lines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use bertopic::jobs::{self, Corpus, TrainEvent, TrainJob};
use bertopic::preprocess::{Language, ReadOptions};
use bertopic::represent::LlmParams;
use bertopic::track::{TrackOptions, TrackingSession};
use bertopic::tracking::{RunStatus, Tracker, TrackingUri};
use bertopic::tune::{Experiment, TuneParams};
use bertopic::{report, BertopicParams, Representation, TopicModel};
use serde::{Deserialize, Serialize};

use crate::error::{Result, ServeError};
use crate::metrics::lock;

/// The uploaded corpus inside a job's folder.
pub(crate) const UPLOAD_FILE: &str = "upload.csv";
/// The model folder inside a job's folder.
pub(crate) const MODEL_DIR: &str = "model";
/// A job's record, rewritten at each state change so the list survives a restart.
const JOB_FILE: &str = "job.json";

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    Queued,
    Running,
    Done,
    Failed,
    /// The server stopped while the job was queued or running.
    Interrupted,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Done => "done",
            Status::Failed => "failed",
            Status::Interrupted => "interrupted",
        }
    }

    pub(crate) fn active(self) -> bool {
        matches!(self, Status::Queued | Status::Running)
    }
}

/// What the form asked for (never the LLM key).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Settings {
    /// The name the model is registered under.
    pub name: String,
    /// Uploaded file's name, as the browser gave it (shown only).
    pub filename: String,
    /// Tuning trials over min_cluster_size (0 = one fit).
    pub trials: usize,
    pub language: Language,
    pub seed: u64,
    pub representation: String,
    pub min_topic_size: usize,
    /// Topic labels from an LLM (else word labels).
    pub llm_labels: bool,
}

impl Settings {
    fn params(&self) -> Result<BertopicParams> {
        let representation = match self.representation.as_str() {
            "ctfidf" => Representation::CTfidf,
            "mmr" => Representation::mmr_default(),
            "keybert" => Representation::keybert(),
            other => {
                return Err(ServeError::BadRequest(format!(
                    "representation `{other}` is not one of ctfidf, mmr, keybert"
                )))
            }
        };
        let params = BertopicParams {
            language: self.language,
            seed: self.seed,
            min_topic_size: self.min_topic_size,
            embedding_model: jobs::default_model(self.language).to_string(),
            representation,
            ..BertopicParams::default()
        };
        // The facade checks again when the job runs; this refuses a bad form before it queues.
        params.checked().map_err(bertopic::BertopicError::from)?;
        Ok(params)
    }
}

/// A job's visible state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Record {
    pub id: String,
    pub settings: Settings,
    pub status: Status,
    /// Progress lines, oldest first.
    pub events: Vec<String>,
    pub error: Option<String>,
    pub experiment: Option<Experiment>,
    /// URIs this job's model was registered as.
    pub registered: Vec<String>,
    /// Creation time, Unix seconds.
    pub created: u64,
    /// The MLflow run the job was tracked as: (run id, artifact URI).
    #[serde(default)]
    pub tracked_run: Option<(String, String)>,
}

/// A job's training documents with their input record numbers, shared.
pub(crate) type Documents = Arc<Vec<(usize, String)>>;

/// One job; its state is shared with the thread that runs it.
pub(crate) struct Job {
    pub id: String,
    pub dir: PathBuf,
    record: Mutex<Record>,
    /// The tracked run while the job runs, so a shutdown can mark it KILLED.
    tracking: Mutex<Option<(Arc<dyn Tracker>, String)>>,
    model: Mutex<Option<Arc<TopicModel>>>,
    /// The training documents, read from the upload once (explorer pages and exports reuse them).
    documents: Mutex<Option<Documents>>,
}

impl Job {
    pub(crate) fn record(&self) -> Record {
        lock(&self.record).clone()
    }

    fn update(&self, f: impl FnOnce(&mut Record)) {
        let mut r = lock(&self.record);
        f(&mut r);
        // The record on disk only lists jobs after a restart: a failed write costs nothing now.
        if let Ok(json) = serde_json::to_vec_pretty(&*r) {
            let _ = bertopic::fs::write_file(&self.dir.join(JOB_FILE), &json);
        }
    }

    fn event(&self, line: String) {
        self.update(|r| r.events.push(line));
    }

    /// A line added to the job's progress after it finished (registration).
    pub(crate) fn note(&self, line: String) {
        self.event(line);
    }

    pub(crate) fn model_dir(&self) -> PathBuf {
        self.dir.join(MODEL_DIR)
    }

    /// The trained model (loaded from the job's folder once).
    pub(crate) fn model(&self) -> Result<Arc<TopicModel>> {
        if self.record().status != Status::Done {
            return Err(ServeError::Conflict(format!(
                "job {} has no model: it is {}",
                self.id,
                self.record().status.as_str()
            )));
        }
        let mut m = lock(&self.model);
        if let Some(model) = &*m {
            return Ok(model.clone());
        }
        let model = Arc::new(TopicModel::load(&self.model_dir())?);
        *m = Some(model.clone());
        Ok(model)
    }

    /// The training documents (as the model saw them) with their input record numbers.
    pub(crate) fn documents(&self) -> Result<Documents> {
        let mut d = lock(&self.documents);
        if let Some(docs) = &*d {
            return Ok(docs.clone());
        }
        let corpus = Corpus::read(&self.dir.join(UPLOAD_FILE), &ReadOptions::default())?;
        let docs = Arc::new(corpus.rows().into_iter().zip(corpus.texts()).collect());
        *d = Some(Arc::clone(&docs));
        Ok(docs)
    }

    pub(crate) fn registered(&self, uri: String) {
        self.update(|r| r.registered.push(uri));
    }

    /// Also registers the job's tracked run as the next version of `name` in an MLflow server
    /// (with `alias` when given); returns `models:/NAME/N`. `None`: the job was not tracked
    /// on a server.
    pub(crate) fn register_in_mlflow(
        &self,
        tracking: Option<&TrackingUri>,
        name: &str,
        alias: &str,
    ) -> Option<std::result::Result<String, bertopic::tracking::TrackError>> {
        let (Some(TrackingUri::Rest(url)), Some((run_id, artifact_uri))) =
            (tracking, self.record().tracked_run)
        else {
            return None;
        };
        let metrics = registry_metrics(self).ok().unwrap_or_default();
        Some((|| {
            let client = bertopic::tracking::MlflowRest::from_env(url)?;
            client.create_registered_model(name, "BERTopic topic model (bertopic)")?;
            let tags: Vec<bertopic::tracking::Tag> = metrics
                .into_iter()
                .map(|(k, v)| bertopic::tracking::Tag::new(k, v.to_string()))
                .collect();
            let source = format!(
                "{}/{}",
                artifact_uri.trim_end_matches('/'),
                bertopic::track::MODEL_ARTIFACT
            );
            let v = client.create_model_version(name, &source, &run_id, &tags)?;
            if !alias.is_empty() {
                client.set_alias(name, alias, &v.version)?;
            }
            Ok(format!("models:/{name}/{}", v.version))
        })())
    }
}

/// The jobs of this server (and those found in its data folder from earlier runs).
pub(crate) struct Jobs {
    root: PathBuf,
    jobs: Mutex<Vec<Arc<Job>>>,
    /// Held by the running job: training uses every core, so jobs run one after another.
    slot: Arc<Mutex<()>>,
    counter: AtomicU64,
}

/// A training request, checked.
pub(crate) struct Submission {
    pub settings: Settings,
    pub csv: Vec<u8>,
    /// Only in memory, only for this job.
    pub llm_key: Option<String>,
    pub tracking: Option<(TrackingUri, String)>,
    /// Use the on-disk embedding cache.
    pub cache: bool,
}

impl Jobs {
    pub(crate) fn new(root: PathBuf) -> Jobs {
        let jobs = load_records(&root);
        Jobs {
            root,
            jobs: Mutex::new(jobs),
            slot: Arc::new(Mutex::new(())),
            counter: AtomicU64::new(0),
        }
    }

    /// Newest first.
    pub(crate) fn list(&self) -> Vec<Arc<Job>> {
        let mut v = lock(&self.jobs).clone();
        v.reverse();
        v
    }

    /// The job `id`; ids are checked before any path is built from them.
    pub(crate) fn get(&self, id: &str) -> Result<Arc<Job>> {
        let valid =
            !id.is_empty() && id.len() <= 40 && id.bytes().all(|b| b.is_ascii_digit() || b == b'-');
        lock(&self.jobs)
            .iter()
            .find(|j| valid && j.id == id)
            .cloned()
            .ok_or_else(|| ServeError::NotFound(format!("no training job `{id}` on this server")))
    }

    pub(crate) fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut m = BTreeMap::new();
        for j in lock(&self.jobs).iter() {
            *m.entry(j.record().status.as_str()).or_default() += 1;
        }
        m
    }

    /// Checks the upload, stores it and starts the job.
    pub(crate) fn submit(&self, s: Submission) -> Result<Arc<Job>> {
        bertopic::registry::validate_name(&s.settings.name)?;
        let params = s.settings.params()?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let job = {
            let mut jobs = lock(&self.jobs);
            if let Some(j) = jobs
                .iter()
                .find(|j| j.record().settings.name == s.settings.name && j.record().status.active())
            {
                return Err(ServeError::Conflict(format!(
                    "a training job for `{}` is already {} (job {}): wait for it to finish or pick \
                     another model name",
                    s.settings.name,
                    j.record().status.as_str(),
                    j.id
                )));
            }
            let id = format!("{now}-{}", self.counter.fetch_add(1, Ordering::Relaxed));
            let job = Arc::new(Job {
                dir: self.root.join(&id),
                record: Mutex::new(Record {
                    id: id.clone(),
                    settings: s.settings.clone(),
                    status: Status::Queued,
                    events: Vec::new(),
                    error: None,
                    experiment: None,
                    registered: Vec::new(),
                    created: now,
                    tracked_run: None,
                }),
                id,
                tracking: Mutex::new(None),
                model: Mutex::new(None),
                documents: Mutex::new(None),
            });
            jobs.push(job.clone());
            job
        };
        // The upload is stored and read before the job is accepted, so a bad CSV is a 400 now.
        let input = job.dir.join(UPLOAD_FILE);
        let checked = bertopic::fs::write_file(&input, &s.csv)
            .map_err(ServeError::from_fs)
            .and_then(|()| Ok(Corpus::read(&input, &ReadOptions::default())?));
        let corpus = match checked {
            Ok(c) => c,
            Err(e) => {
                lock(&self.jobs).retain(|j| j.id != job.id);
                let _ = std::fs::remove_dir_all(&job.dir);
                return Err(match e {
                    ServeError::Bertopic(b) => ServeError::BadRequest(format!(
                        "the uploaded file `{}` cannot be used: {b}",
                        s.settings.filename
                    )),
                    other => other,
                });
            }
        };
        job.event(format!("{}", corpus.summary));
        let mut train = TrainJob::new(&input, job.model_dir());
        train.params = params;
        train.tune = (s.settings.trials > 0).then(|| TuneParams {
            max_trials: Some(s.settings.trials),
            ..TuneParams::default()
        });
        train.progress = false;
        train.cache = s.cache;
        if s.settings.llm_labels {
            train.llm_labels = Some(LlmParams {
                api_key: s.llm_key.clone().or_else(env_llm_key),
                ..LlmParams::default()
            });
        }
        let tracking = s.tracking.map(|(uri, experiment)| {
            let mut o = TrackOptions::new(uri);
            o.experiment = experiment;
            o.run_name = Some(format!("{}-{}", s.settings.name, job.id));
            o
        });
        let slot = self.slot.clone();
        let worker = job.clone();
        std::thread::Builder::new()
            .name(format!("train-{}", job.id))
            .spawn(move || run(&worker, &train, tracking, &slot))
            .map_err(|e| ServeError::Internal(format!("cannot start the training thread: {e}")))?;
        Ok(job)
    }

    /// Marks queued and running jobs interrupted and their tracked runs KILLED (shutdown).
    pub(crate) fn interrupt_all(&self) {
        for job in lock(&self.jobs).iter() {
            if !job.record().status.active() {
                continue;
            }
            if let Some((tracker, run_id)) = lock(&job.tracking).take() {
                let _ = tracker.end_run(&run_id, RunStatus::Killed);
            }
            job.update(|r| {
                r.status = Status::Interrupted;
                r.events
                    .push("the server stopped before the job finished".into());
            });
        }
    }
}

impl ServeError {
    fn from_fs(e: bertopic::fs::FsError) -> ServeError {
        ServeError::Bertopic(e.into())
    }
}

/// The LLM key from the environment (the page's field wins).
fn env_llm_key() -> Option<String> {
    ["GROQ_API_KEY", "OPENAI_API_KEY"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
}

/// Jobs recorded in `root` by earlier runs of the server; those cut short are shown interrupted.
fn load_records(root: &Path) -> Vec<Arc<Job>> {
    let mut jobs = Vec::new();
    let Ok(entries) = std::fs::read_dir(root) else {
        return jobs;
    };
    for e in entries.flatten() {
        let dir = e.path();
        let Some(mut record) = std::fs::read(dir.join(JOB_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice::<Record>(&b).ok())
        else {
            continue;
        };
        if e.file_name().to_str() != Some(record.id.as_str()) {
            continue;
        }
        if record.status.active() {
            record.status = Status::Interrupted;
        }
        jobs.push(Arc::new(Job {
            id: record.id.clone(),
            dir,
            record: Mutex::new(record),
            tracking: Mutex::new(None),
            model: Mutex::new(None),
            documents: Mutex::new(None),
        }));
    }
    jobs.sort_by_key(|j| {
        let r = j.record();
        (r.created, r.id)
    });
    jobs
}

/// The job's thread: waits for the slot, trains, tracks.
fn run(job: &Job, train: &TrainJob, tracking: Option<TrackOptions>, slot: &Mutex<()>) {
    let _slot = lock(slot);
    if job.record().status != Status::Queued {
        return; // interrupted while queued
    }
    job.update(|r| r.status = Status::Running);
    // The handle slot stays locked while the run is opened: a shutdown meanwhile waits for the
    // run to exist, then marks it KILLED (instead of finding nothing and leaving it RUNNING).
    let mut handle = lock(&job.tracking);
    let mut session = tracking.map(TrackingSession::begin).and_then(|s| match s {
        Ok(s) => Some(s),
        Err(e) => {
            job.event(format!("tracking: {e}; training goes on untracked"));
            None
        }
    });
    if let Some(e) = session.as_ref().and_then(|s| s.start_error()) {
        job.event(format!(
            "tracking: {e}; training goes on and the upload is tried again at the end"
        ));
    }
    *handle = session.as_ref().and_then(|s| s.handle());
    drop(handle);
    let result = jobs::train(train, &mut |ev| {
        // Each trial's child run is logged now, beside the next trials, not after training.
        if let (TrainEvent::Trial(exp), Some(s)) = (&ev, &session) {
            s.trial(exp);
        }
        if let Some(line) = describe(&ev) {
            job.event(line);
        }
    });
    match result {
        Ok(outcome) => {
            let model = outcome.model;
            job.event(format!(
                "saved: {} topics, {:.1}% outliers",
                model.n_topics(),
                100.0 * model.outlier_fraction()
            ));
            // A run that could not be opened at the start is uploaded whole now.
            if let Some(mut s) = session.take() {
                s.options_mut()
                    .corpus(&train.input, outcome.summary.records_read);
                match s.finish(&train.output, Some(&model)) {
                    Ok(t) => {
                        job.event(format!(
                            "tracked at {}: run {} with {} trial runs",
                            t.location, t.run.run_id, t.trials
                        ));
                        job.update(|r| {
                            r.tracked_run = Some((t.run.run_id.clone(), t.run.artifact_uri.clone()))
                        });
                    }
                    Err(e) => job.event(format!("tracking failed (the model is saved): {e}")),
                }
            }
            // Until here a shutdown marks the run KILLED (the upload stops with the process).
            lock(&job.tracking).take();
            *lock(&job.model) = Some(Arc::new(model));
            job.update(|r| {
                r.experiment = outcome.experiment;
                r.status = Status::Done;
            });
        }
        Err(e) => {
            lock(&job.tracking).take();
            if let Some(s) = session.take() {
                s.abort(RunStatus::Failed);
            }
            job.update(|r| {
                r.error = Some(e.to_string());
                r.status = Status::Failed;
            });
        }
    }
}

/// A progress line for the job page: the facade's wording (what `bertopic train` prints), less
/// the read summary (shown when the upload was checked) and events with nothing to show yet.
fn describe(ev: &TrainEvent<'_>) -> Option<String> {
    match ev {
        TrainEvent::Read(_) => None,
        TrainEvent::Trial(exp) if exp.trials.is_empty() => None,
        TrainEvent::LoadingModel { .. }
        | TrainEvent::Embedded { .. }
        | TrainEvent::Trial(_)
        | TrainEvent::Labelled { .. } => Some(ev.to_string()),
        _ => None,
    }
}

/// Registry metrics of a job's model (what `train --register` records).
pub(crate) fn registry_metrics(job: &Job) -> Result<BTreeMap<String, f64>> {
    let model = job.model()?;
    Ok(report::model_metrics(
        &model,
        job.record().experiment.as_ref(),
    ))
}
