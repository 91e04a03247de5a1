//! Training runs in MLflow: what `bertopic train --tracking-uri` and `bertopic track upload`
//! log, built on [`crate::tracking`] (the `bertopic-track` crate).
//!
//! One parent run per training job (parameters, final metrics, provenance tags, artifacts, the
//! model folder under `model/` with an `MLmodel` file whose `python_function` flavor runs the
//! `bertopic` binary) and one child run per tuning trial (its parameters and coherence
//! metrics, tagged `mlflow.parentRunId`). Everything is logged from the saved model folder, so
//! a run whose tracking failed can be uploaded later from the same folder
//! ([`upload_model_dir`]).
//!
//! The model is always saved before anything is sent: a tracking failure never loses it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Instant;

use serde_json::Value;

use crate::error::{BertopicError, Result};
use crate::registry::{ModelUri, VersionSpec};
use crate::tracking::{
    self, Metric, MlflowRest, ModelVersionInfo, Param, RunInfo, RunStatus, Tag, TrackError,
    Tracker, TrackingUri,
};
use crate::tune::Experiment;
use crate::{report, TopicModel, MODEL_FOLDER_FILES};

/// The artifact folder holding the model.
pub const MODEL_ARTIFACT: &str = "model";
/// The Python module of the `python_function` flavor (shipped as model code).
pub const PYFUNC_MODULE: &str = "bertopic_pyfunc";
/// Artifact listing the sha256 of every model file, checked after a download.
pub const MANIFEST_FILE: &str = "MANIFEST.sha256";
/// The environment variable the Python loader reads for the `bertopic` binary (else `PATH`).
pub const BIN_ENV: &str = "BERTOPIC_BIN";

/// The files logged at the run's artifact root, when the model folder has them.
const ROOT_ARTIFACTS: &[&str] = &[
    "topic_info.csv",
    "document_topics.csv",
    "experiment.json",
    "coherence_curve.csv",
    "coherence_curve.svg",
];

const PYFUNC_SOURCE: &str = include_str!("bertopic_pyfunc.py");

/// Where and how to track.
#[derive(Debug, Clone)]
pub struct TrackOptions {
    /// The tracking URI (see [`TrackingUri::resolve`]).
    pub uri: TrackingUri,
    /// The experiment's name (default [`tracking::DEFAULT_EXPERIMENT`]).
    pub experiment: String,
    /// The parent run's name (default: the model folder's name).
    pub run_name: Option<String>,
    /// Also create this registered model's next version in MLflow (MLflow servers only).
    pub register: Option<String>,
    /// Tags added to the parent run (provenance: git commit, corpus fingerprint, …).
    pub tags: Vec<Tag>,
}

impl TrackOptions {
    /// Options for `uri` and the default experiment.
    pub fn new(uri: TrackingUri) -> TrackOptions {
        TrackOptions {
            uri,
            experiment: tracking::DEFAULT_EXPERIMENT.to_string(),
            run_name: None,
            register: None,
            tags: Vec::new(),
        }
    }

    /// Adds the corpus fingerprint tags: sha256 of the file and its record count.
    pub fn corpus(&mut self, path: &Path, records: usize) {
        if let Ok(bytes) = std::fs::read(path) {
            self.tags.push(Tag::new(
                "bertopic.corpus.sha256",
                tracking::sha256_hex(&bytes),
            ));
        }
        self.tags
            .push(Tag::new("bertopic.corpus.path", path.display().to_string()));
        self.tags
            .push(Tag::new("bertopic.corpus.rows", records.to_string()));
    }
}

/// What was tracked.
#[derive(Debug, Clone)]
pub struct TrackedRun {
    /// Where (server URL or mlruns folder).
    pub location: String,
    /// The experiment's id.
    pub experiment_id: String,
    /// The parent run.
    pub run: RunInfo,
    /// Child runs logged (one per trial), live during tuning or at the end.
    pub trials: usize,
    /// The MLflow model version created for [`TrackOptions::register`].
    pub model_version: Option<ModelVersionInfo>,
    /// Seconds spent logging after training (what tracking adds to the job's wall time).
    pub seconds: f64,
    /// Where the logging time went, in seconds per step (`open`, `live trials`, `params`,
    /// `trials`, `artifacts`, `model version`, …). Steps run side by side, so they may add
    /// up to more than [`seconds`](Self::seconds); those before `finish` (`open`, `live
    /// trials`) overlapped training.
    pub phases: Vec<(&'static str, f64)>,
}

/// The parent run and its experiment, or why they could not be opened.
type Opened = std::result::Result<(String, RunInfo), TrackError>;

/// The parent run, opened now or on a background thread: the first caller that needs it waits
/// for it (once).
struct Opening {
    cell: OnceLock<Opened>,
    pending: Mutex<Option<JoinHandle<(Opened, f64)>>>,
    seconds: Mutex<f64>,
}

impl Opening {
    fn open(tracker: &dyn Tracker, opts: &TrackOptions) -> (Opened, f64) {
        let t0 = Instant::now();
        let opened = tracker.experiment(&opts.experiment).and_then(|exp| {
            let run = tracker.start_run(&exp, opts.run_name.as_deref(), None, &[])?;
            Ok((exp, run))
        });
        (opened, t0.elapsed().as_secs_f64())
    }

    fn now(tracker: &dyn Tracker, opts: &TrackOptions) -> Arc<Opening> {
        let (opened, secs) = Opening::open(tracker, opts);
        Opening::ready(opened, secs)
    }

    fn ready(opened: Opened, secs: f64) -> Arc<Opening> {
        Arc::new(Opening {
            cell: OnceLock::from(opened),
            pending: Mutex::new(None),
            seconds: Mutex::new(secs),
        })
    }

    fn in_background(tracker: Arc<dyn Tracker>, opts: TrackOptions) -> Arc<Opening> {
        let handle = std::thread::spawn(move || Opening::open(tracker.as_ref(), &opts));
        Arc::new(Opening {
            cell: OnceLock::new(),
            pending: Mutex::new(Some(handle)),
            seconds: Mutex::new(0.0),
        })
    }

    /// Waits for the opening thread when it is still running.
    fn get(&self) -> &Opened {
        self.cell.get_or_init(|| {
            let handle = lock(&self.pending).take();
            let (opened, secs) = match handle.map(JoinHandle::join) {
                Some(Ok(r)) => r,
                _ => (
                    Err(TrackError::Protocol {
                        call: "opening the run".into(),
                        reason: "the opening thread panicked".into(),
                    }),
                    0.0,
                ),
            };
            *lock(&self.seconds) = secs;
            opened
        })
    }

    fn seconds(&self) -> f64 {
        *lock(&self.seconds)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A trial sent to the live logger.
struct LiveTrial {
    objective: crate::coherence::Measure,
    trial: crate::tune::Trial,
}

/// What the live logger did: trial id → child run id, the trials whose `trial.*` points are
/// in the parent run's history, the first error (after which it stops and
/// [`TrackingSession::finish`] logs the rest), and its busy time.
#[derive(Default)]
struct LiveLog {
    logged: BTreeMap<usize, String>,
    history: std::collections::BTreeSet<usize>,
    error: Option<TrackError>,
    seconds: f64,
}

/// Logs each trial's child run while tuning goes on, so that only the last trial's few
/// requests (if any) are left for the end of the job.
struct LiveLogger {
    tx: mpsc::Sender<LiveTrial>,
    handle: JoinHandle<LiveLog>,
}

impl LiveLogger {
    fn start(tracker: Arc<dyn Tracker>, opening: Arc<Opening>, open: OpenRuns) -> LiveLogger {
        let (tx, rx) = mpsc::channel::<LiveTrial>();
        let handle = std::thread::spawn(move || {
            let mut out = LiveLog::default();
            for msg in rx {
                if out.error.is_some() {
                    continue; // the rest is logged (or reported) by finish
                }
                // No parent run: finish starts one and logs every trial itself.
                let Ok((exp_id, run)) = opening.get() else {
                    continue;
                };
                let t0 = Instant::now();
                let now = tracking::now_ms();
                let history = history_metrics(&msg.trial, now);
                let logged = tracker
                    .log_batch(&run.run_id, &history, &[], &[])
                    .and_then(|()| {
                        out.history.insert(msg.trial.id);
                        log_trial(
                            tracker.as_ref(),
                            exp_id,
                            &run.run_id,
                            msg.objective,
                            &msg.trial,
                            false,
                            now,
                            &open,
                        )
                    });
                match logged {
                    Ok(child) => {
                        out.logged.insert(msg.trial.id, child);
                    }
                    Err(e) => out.error = Some(e),
                }
                out.seconds += t0.elapsed().as_secs_f64();
            }
            out
        });
        LiveLogger { tx, handle }
    }

    /// Waits until every trial sent is logged (or failed).
    fn stop(self) -> LiveLog {
        drop(self.tx);
        self.handle.join().unwrap_or_else(|_| LiveLog {
            error: Some(TrackError::Protocol {
                call: "logging trial runs".into(),
                reason: "the logging thread panicked".into(),
            }),
            ..LiveLog::default()
        })
    }
}

/// A parent run opened before training, so that its duration covers the job and a failed job
/// is marked `FAILED`. Opening it never fails the job: an error is kept and the whole upload
/// is tried again by [`finish`](Self::finish). Trials passed to [`trial`](Self::trial) are
/// logged as child runs while training goes on.
pub struct TrackingSession {
    opts: TrackOptions,
    tracker: Arc<dyn Tracker>,
    opening: Arc<Opening>,
    live: Option<LiveLogger>,
    open_trials: OpenRuns,
}

/// Trial (child) runs started and not yet ended, so that Ctrl-C can mark them `KILLED` too
/// instead of leaving them `RUNNING` forever.
type OpenRuns = Arc<OpenTrials>;

#[derive(Default)]
struct OpenTrials {
    /// Held (shared) from a trial run's creation until its id is in `ids`; the interrupt
    /// handler takes it exclusively, so a run created at the moment of Ctrl-C is not missed.
    starting: std::sync::RwLock<()>,
    ids: Mutex<BTreeSet<String>>,
}

impl OpenTrials {
    /// Waits for trial runs being created, then takes every open id.
    fn take_all(&self) -> BTreeSet<String> {
        let _no_new = self.starting.write().unwrap_or_else(|e| e.into_inner());
        std::mem::take(&mut *self.ids())
    }

    /// A poisoned lock only means a logging thread panicked; the set is still usable.
    fn ids(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.ids.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl TrackingSession {
    /// Opens the tracker and starts the parent run (status RUNNING) before returning.
    pub fn begin(opts: TrackOptions) -> Result<TrackingSession> {
        let tracker: Arc<dyn Tracker> = Arc::from(opts.uri.open()?);
        let opening = Opening::now(tracker.as_ref(), &opts);
        Ok(TrackingSession::with(opts, tracker, opening))
    }

    /// Like [`begin`](Self::begin), but the parent run is started on a background thread, so
    /// that training does not wait for the server (the first call that needs the run waits
    /// for it instead). Only a tracking URI that cannot be used at all is an error here.
    pub fn begin_in_background(opts: TrackOptions) -> Result<TrackingSession> {
        let tracker: Arc<dyn Tracker> = Arc::from(opts.uri.open()?);
        let opening = Opening::in_background(tracker.clone(), opts.clone());
        Ok(TrackingSession::with(opts, tracker, opening))
    }

    fn with(opts: TrackOptions, tracker: Arc<dyn Tracker>, opening: Arc<Opening>) -> Self {
        let open_trials = OpenRuns::default();
        let live = Some(LiveLogger::start(
            tracker.clone(),
            opening.clone(),
            open_trials.clone(),
        ));
        TrackingSession {
            opts,
            tracker,
            opening,
            live,
            open_trials,
        }
    }

    /// The options (to add tags known only after training, like the corpus fingerprint).
    pub fn options_mut(&mut self) -> &mut TrackOptions {
        &mut self.opts
    }

    /// The options.
    pub fn options(&self) -> &TrackOptions {
        &self.opts
    }

    /// Why the run could not be started (it is tried again at the end). Waits for a run
    /// opened in the background.
    pub fn start_error(&self) -> Option<&TrackError> {
        self.opening.get().as_ref().err()
    }

    /// The parent run, once started (waits for a run opened in the background).
    pub fn run(&self) -> Option<&RunInfo> {
        self.opening.get().as_ref().ok().map(|(_, r)| r)
    }

    /// The tracker and run id, for marking the run `KILLED` from a signal handler (waits for
    /// a run opened in the background; [`interrupt_guard`](Self::interrupt_guard) does not).
    pub fn handle(&self) -> Option<(Arc<dyn Tracker>, String)> {
        self.run().map(|r| (self.tracker.clone(), r.run_id.clone()))
    }

    /// Like [`kill_run_on_interrupt`] for this session's run, without waiting for it to be
    /// opened: a signal that comes first waits for the run, then marks it `KILLED`, with any
    /// trial run that was being logged at that moment.
    pub fn interrupt_guard(&self) -> InterruptGuard {
        let tracker = self.tracker.clone();
        let opening = self.opening.clone();
        let open_trials = self.open_trials.clone();
        interrupt::install(Box::new(move || {
            for child in open_trials.take_all() {
                let _ = tracker.end_run(&child, RunStatus::Killed);
                eprintln!("interrupted: MLflow trial run {child} marked KILLED");
            }
            if let Ok((_, run)) = opening.get() {
                let _ = tracker.end_run(&run.run_id, RunStatus::Killed);
                eprintln!("interrupted: MLflow run {} marked KILLED", run.run_id);
            }
        }))
    }

    /// Logs the child run of `exp`'s last trial in the background (call it on each
    /// `TrainEvent::Trial`). A failure is kept; [`finish`](Self::finish) logs what is missing.
    pub fn trial(&self, exp: &Experiment) {
        if let (Some(live), Some(t)) = (&self.live, exp.trials.last()) {
            // A closed channel means the logger is gone; finish then logs the trial.
            let _ = live.tx.send(LiveTrial {
                objective: exp.objective,
                trial: t.clone(),
            });
        }
    }

    /// Ends the run with `status` (`FAILED` after a failed job); best effort.
    pub fn abort(mut self, status: RunStatus) {
        if let Some(live) = self.live.take() {
            live.stop();
        }
        if let Ok((_, run)) = self.opening.get() {
            let _ = self.tracker.end_run(&run.run_id, status);
        }
    }

    /// Logs the saved model folder `dir` into the run and ends it `FINISHED`. When the run
    /// could not be started, the upload is tried once more from scratch. A failure part-way
    /// marks the run `FAILED` (best effort); the folder can be uploaded again later with
    /// [`upload_model_dir`]. `model` is the folder's model when the caller has it in memory
    /// (saves reading it back).
    pub fn finish(mut self, dir: &Path, model: Option<&TopicModel>) -> Result<TrackedRun> {
        let started = Instant::now();
        let live = self.live.take().map(LiveLogger::stop).unwrap_or_default();
        let mut phases = vec![
            ("open", self.opening.seconds()),
            ("live trials", live.seconds),
        ];
        let (exp, run) = match self.opening.get() {
            Ok(r) => r.clone(),
            Err(_) => {
                let exp = self.tracker.experiment(&self.opts.experiment)?;
                let run = self
                    .tracker
                    .start_run(&exp, self.opts.run_name.as_deref(), None, &[])?;
                (exp, run)
            }
        };
        phases.push((
            "wait for live trials and open",
            started.elapsed().as_secs_f64(),
        ));
        let res = log_model_dir(
            self.tracker.as_ref(),
            &self.opts,
            &exp,
            &run,
            dir,
            model,
            &live,
            &self.open_trials,
        );
        let status = if res.is_ok() {
            RunStatus::Finished
        } else {
            RunStatus::Failed
        };
        let t_end = Instant::now();
        let ended = self.tracker.end_run(&run.run_id, status);
        let mut tracked = res?;
        ended?;
        tracked.seconds = started.elapsed().as_secs_f64();
        phases.append(&mut tracked.phases);
        phases.push(("end run", t_end.elapsed().as_secs_f64()));
        tracked.phases = phases;
        Ok(tracked)
    }
}

impl Drop for TrackingSession {
    fn drop(&mut self) {
        // A session dropped without finish or abort: let the logger finish what it was sent.
        if let Some(live) = self.live.take() {
            live.stop();
        }
    }
}

/// Logs one `bertopic monitor` run: a run tagged `bertopic.job = monitor` in the options'
/// experiment (beside the training runs, so a model's training and its monitoring are found
/// in one place), with the batch as parameters, the verdict and every signal's level, value and
/// p-value as metrics (levels as 0 = LOW, 1 = MEDIUM, 2 = HIGH, so the MLflow UI charts the
/// trend across runs), and the JSON report as the artifact `drift_report.json`. `model` is the
/// model reference as given (folder or `models:/…`). The run ends `FINISHED`, or `FAILED` when
/// logging failed part-way (best effort).
pub fn log_monitor_run(
    opts: &TrackOptions,
    model: &str,
    report: &crate::monitor::MonitorReport,
) -> Result<TrackedRun> {
    let started = std::time::Instant::now();
    let tracker = opts.uri.open()?;
    let exp = tracker.experiment(&opts.experiment)?;
    let mut tags = opts.tags.clone();
    tags.push(Tag::new("bertopic.job", "monitor"));
    tags.push(Tag::new("bertopic.model", model));
    tags.push(Tag::new("bertopic.version", crate::VERSION));
    let name = opts.run_name.as_deref().unwrap_or("monitor");
    let run = tracker.start_run(&exp, Some(name), None, &tags)?;
    let logged = log_monitor_report(tracker.as_ref(), &run, model, report);
    let status = if logged.is_ok() {
        RunStatus::Finished
    } else {
        RunStatus::Failed
    };
    let ended = tracker.end_run(&run.run_id, status);
    logged?;
    ended?;
    Ok(TrackedRun {
        location: tracker.location(),
        experiment_id: exp,
        run,
        trials: 0,
        model_version: None,
        seconds: started.elapsed().as_secs_f64(),
        phases: Vec::new(),
    })
}

fn log_monitor_report(
    tracker: &dyn Tracker,
    run: &RunInfo,
    model: &str,
    report: &crate::monitor::MonitorReport,
) -> Result<()> {
    let level = |l: crate::drift::Level| match l {
        crate::drift::Level::Low => 0.0,
        crate::drift::Level::Medium => 1.0,
        crate::drift::Level::High => 2.0,
    };
    let entry = crate::monitor::HistoryEntry::from(report);
    let mut params = vec![
        Param::new("model", model),
        Param::new("batch_docs", entry.docs),
        Param::new("seed", entry.seed),
    ];
    if let Some(src) = entry.source.as_deref().filter(|s| !s.is_empty()) {
        params.push(Param::new("batch_source", src));
    }
    let mut metrics = vec![
        Metric::now("drift_level", level(entry.level), 0),
        Metric::now("seconds_per_doc", entry.seconds_per_doc, 0),
    ];
    for (name, sig) in &entry.signals {
        metrics.push(Metric::now(format!("{name}.level"), level(sig.level), 0));
        // MLflow's JSON cannot carry NaN or infinity: such a value is left out, not sent.
        if let Some(v) = sig.value.filter(|v| v.is_finite()) {
            metrics.push(Metric::now(format!("{name}.{}", sig.metric), v, 0));
        }
        if let Some(p) = sig.p_value.filter(|v| v.is_finite()) {
            metrics.push(Metric::now(format!("{name}.p_value"), p, 0));
        }
    }
    let tags = [Tag::new("bertopic.drift_level", entry.level.to_string())];
    tracker.log_batch(&run.run_id, &metrics, &params, &tags)?;
    let json = serde_json::to_vec_pretty(report)
        .map_err(|e| BertopicError::Mismatch(format!("cannot serialise the drift report: {e}")))?;
    tracker.put_artifact(run, "drift_report.json", &json)?;
    Ok(())
}

/// Logs a saved model folder as a new run: what `bertopic track upload DIR` does.
pub fn upload_model_dir(opts: &TrackOptions, dir: &Path) -> Result<TrackedRun> {
    // Fail on an unreadable folder before anything is created in MLflow.
    let model = TopicModel::load(dir)?;
    // The run is opened here, not by a session, so that an error stops the upload at once.
    let tracker: Arc<dyn Tracker> = Arc::from(opts.uri.open()?);
    let exp = tracker.experiment(&opts.experiment)?;
    let run = tracker.start_run(&exp, opts.run_name.as_deref(), None, &[])?;
    let opening = Opening::ready(Ok((exp, run)), 0.0);
    let session = TrackingSession::with(opts.clone(), tracker, opening);
    session.finish(dir, Some(&model))
}

/// While the returned guard lives, Ctrl-C (SIGINT) or SIGTERM marks run `run_id` `KILLED`
/// and ends the process with status 130 (the model folder, written atomically, is left as it
/// was before the job). Dropping the guard restores the default handlers.
pub fn kill_run_on_interrupt(tracker: Arc<dyn Tracker>, run_id: String) -> InterruptGuard {
    interrupt::install(Box::new(move || {
        let _ = tracker.end_run(&run_id, RunStatus::Killed);
        eprintln!("interrupted: MLflow run {run_id} marked KILLED");
    }))
}

pub use interrupt::InterruptGuard;

mod interrupt {
    //! A self-pipe: the signal handler only writes one byte (async-signal-safe); a thread
    //! waiting on the pipe makes the HTTP call and exits.

    use std::sync::atomic::{AtomicI32, Ordering};

    static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);

    /// Restores the default Ctrl-C behaviour when dropped.
    pub struct InterruptGuard {
        write_fd: i32,
    }

    extern "C" fn on_signal(_: libc::c_int) {
        let fd = PIPE_WRITE.load(Ordering::SeqCst);
        if fd >= 0 {
            let b = 1u8;
            // SAFETY: write(2) is async-signal-safe; the buffer is a live local byte.
            unsafe { libc::write(fd, &b as *const u8 as *const libc::c_void, 1) };
        }
    }

    /// `on_kill` marks the run (it may wait for the run to be opened); the process then exits.
    pub(super) fn install(on_kill: Box<dyn FnOnce() + Send>) -> InterruptGuard {
        let mut fds = [-1i32; 2];
        // SAFETY: fds is a valid array of two ints for pipe(2) to fill.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return InterruptGuard { write_fd: -1 };
        }
        let (read_fd, write_fd) = (fds[0], fds[1]);
        PIPE_WRITE.store(write_fd, Ordering::SeqCst);
        std::thread::spawn(move || {
            let mut b = 0u8;
            // SAFETY: reading one byte into a live local from our own pipe.
            let n = unsafe { libc::read(read_fd, &mut b as *mut u8 as *mut libc::c_void, 1) };
            // SAFETY: closing our own descriptor once.
            unsafe { libc::close(read_fd) };
            if n == 1 && b == 1 {
                on_kill();
                std::process::exit(130);
            }
        });
        let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // SAFETY: installing a handler that only calls write(2).
        unsafe {
            libc::signal(libc::SIGINT, handler);
            libc::signal(libc::SIGTERM, handler);
        }
        InterruptGuard { write_fd }
    }

    impl Drop for InterruptGuard {
        fn drop(&mut self) {
            if self.write_fd < 0 {
                return;
            }
            // SAFETY: restoring the default dispositions, then waking the waiting thread with
            // a 0 byte (stop) and closing our end of the pipe.
            unsafe {
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                libc::signal(libc::SIGTERM, libc::SIG_DFL);
                PIPE_WRITE.store(-1, Ordering::SeqCst);
                let b = 0u8;
                libc::write(self.write_fd, &b as *const u8 as *const libc::c_void, 1);
                libc::close(self.write_fd);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename them
fn log_model_dir(
    tracker: &dyn Tracker,
    opts: &TrackOptions,
    exp_id: &str,
    run: &RunInfo,
    dir: &Path,
    model: Option<&TopicModel>,
    live: &LiveLog,
    open: &OpenRuns,
) -> Result<TrackedRun> {
    let loaded;
    let model = match model {
        Some(m) => m,
        None => {
            loaded = TopicModel::load(dir)?;
            &loaded
        }
    };
    let experiment: Option<Experiment> = match std::fs::read(dir.join("experiment.json")) {
        Ok(bytes) => Some(serde_json::from_slice(&bytes).map_err(|e| {
            BertopicError::Mismatch(format!("{}: {e}", dir.join("experiment.json").display()))
        })?),
        Err(_) => None,
    };

    // Parameters: the model's (flattened: umap.n_neighbors, …) and the search's.
    let mut params = Vec::new();
    flatten(
        "",
        &serde_json::to_value(model.params()).unwrap_or(Value::Null),
        &mut params,
    );
    if let Some(exp) = &experiment {
        flatten(
            "tune.",
            &serde_json::to_value(&exp.tune_params).unwrap_or(Value::Null),
            &mut params,
        );
        params.push(Param::new("tune.n_trials", exp.trials.len()));
    }
    // Final metrics at step 0, and the history points of the trials not logged live.
    let now = tracking::now_ms();
    let mut metrics: Vec<Metric> = report::model_metrics(model, experiment.as_ref())
        .into_iter()
        .filter(|(_, v)| v.is_finite())
        .map(|(k, v)| Metric {
            key: k,
            value: v,
            timestamp_ms: now,
            step: 0,
        })
        .collect();
    if let Some(exp) = &experiment {
        for t in exp.trials.iter().filter(|t| !live.history.contains(&t.id)) {
            metrics.extend(history_metrics(t, now));
        }
    }
    let mut tags = vec![
        Tag::new("bertopic.version", crate::VERSION),
        Tag::new("bertopic.model_format", crate::FORMAT_VERSION.to_string()),
        Tag::new("bertopic.model_folder", absolute(dir).display().to_string()),
        Tag::new("mlflow.source.name", "bertopic train"),
    ];
    // The embedding model's id is a parameter; its weights' hash is known when the model
    // embedded (not for precomputed embeddings with c-TF-IDF words).
    tags.push(Tag::new(
        "bertopic.embedding.model",
        model.params().embedding_model.clone(),
    ));
    if let Some(e) = model.embedding_info() {
        tags.push(Tag::new(
            "bertopic.embedding.fingerprint",
            e.fingerprint.clone(),
        ));
        let sha = e.fingerprint.split('+').next().unwrap_or_default();
        if sha.len() == 64 && sha.chars().all(|c| c.is_ascii_hexdigit()) {
            tags.push(Tag::new("bertopic.embedding.weights_sha256", sha));
        }
    }
    tags.extend(opts.tags.iter().cloned());

    // The registered model (MLflow servers only) needs nothing from this run: created beside
    // the uploads, with the same client.
    let registry = match (&opts.register, &opts.uri) {
        (Some(name), TrackingUri::Rest(url)) => Some((name, MlflowRest::from_env(url)?)),
        _ => None,
    };

    // Everything is a chain of small requests or one large upload, so the server's latency,
    // not our CPU, is the limit: the parameters, the trial runs left, the registered model
    // and the artifacts all go up side by side.
    let timed = |f: &dyn Fn() -> Result<usize>| {
        let t0 = Instant::now();
        (f(), t0.elapsed().as_secs_f64())
    };
    let joined = |h: std::thread::ScopedJoinHandle<'_, (Result<usize>, f64)>, what: &str| {
        h.join().unwrap_or_else(|_| {
            (
                Err(BertopicError::Mismatch(format!("{what} panicked"))),
                0.0,
            )
        })
    };
    let ((batch, t_batch), (trials, t_trials), (registered, t_reg), (uploaded, t_art)) =
        std::thread::scope(|s| {
            let batch = s.spawn(|| {
                timed(&|| {
                    tracker.log_batch(&run.run_id, &metrics, &params, &tags)?;
                    Ok(0)
                })
            });
            let children = s.spawn(|| {
                timed(&|| {
                    log_trials(
                        tracker,
                        exp_id,
                        run,
                        experiment.as_ref(),
                        now,
                        &live.logged,
                        open,
                    )
                })
            });
            let reg = s.spawn(|| {
                timed(&|| {
                    if let Some((name, client)) = &registry {
                        client.create_registered_model(name, "BERTopic topic model (bertopic)")?;
                    }
                    Ok(0)
                })
            });
            let uploaded = timed(&|| log_artifacts(tracker, run, dir));
            (
                joined(batch, "parameter logging"),
                joined(children, "trial logging"),
                joined(reg, "model registration"),
                uploaded,
            )
        });
    batch?;
    let trials = trials?;
    registered?;
    uploaded?;
    let mut phases = vec![
        ("params", t_batch),
        ("trials", t_trials),
        ("artifacts", t_art),
    ];

    // The version's source is the uploaded model folder, so it comes last.
    let t_version = Instant::now();
    let model_version = match &registry {
        Some((name, client)) => {
            let mtags: Vec<Tag> = report::model_metrics(model, experiment.as_ref())
                .into_iter()
                .map(|(k, v)| Tag::new(k, v.to_string()))
                .collect();
            let v = client.create_model_version(
                name,
                &format!(
                    "{}/{MODEL_ARTIFACT}",
                    run.artifact_uri.trim_end_matches('/')
                ),
                &run.run_id,
                &mtags,
            )?;
            phases.push(("registered model", t_reg));
            phases.push(("model version", t_version.elapsed().as_secs_f64()));
            Some(v)
        }
        None => None,
    };
    Ok(TrackedRun {
        location: tracker.location(),
        experiment_id: exp_id.to_string(),
        run: run.clone(),
        trials,
        model_version,
        seconds: 0.0,
        phases,
    })
}

/// One child run per trial (tag `mlflow.parentRunId`), with its parameters and scores: those
/// not already logged live, then the best trial's tag (known only now) on its live run.
fn log_trials(
    tracker: &dyn Tracker,
    exp_id: &str,
    run: &RunInfo,
    experiment: Option<&Experiment>,
    now: u64,
    logged_live: &BTreeMap<usize, String>,
    open: &OpenRuns,
) -> Result<usize> {
    let Some(exp) = experiment else {
        return Ok(0);
    };
    let todo: Vec<&crate::tune::Trial> = exp
        .trials
        .iter()
        .filter(|t| !logged_live.contains_key(&t.id))
        .collect();
    // A few trials at a time: each is three small requests, so latency, not work, dominates.
    let per = todo.len().div_ceil(4).max(1);
    std::thread::scope(|s| -> Result<()> {
        let handles: Vec<_> = todo
            .chunks(per)
            .map(|chunk| {
                s.spawn(move || -> Result<()> {
                    for t in chunk {
                        let best = exp.best_trial == Some(t.id);
                        log_trial(
                            tracker,
                            exp_id,
                            &run.run_id,
                            exp.objective,
                            t,
                            best,
                            now,
                            open,
                        )?;
                    }
                    Ok(())
                })
            })
            .collect();
        if let Some(child) = exp.best_trial.and_then(|b| logged_live.get(&b)) {
            tracker.log_batch(child, &[], &[], &[Tag::new("bertopic.best_trial", "true")])?;
        }
        for h in handles {
            h.join()
                .map_err(|_| BertopicError::Mismatch("trial logging panicked".into()))??;
        }
        Ok(())
    })?;
    Ok(exp.trials.len())
}

/// One trial's child run, ended `FINISHED`; returns its id. While it is being logged its id is
/// in `open` (for the interrupt handler).
#[allow(clippy::too_many_arguments)]
fn log_trial(
    tracker: &dyn Tracker,
    exp_id: &str,
    parent_run_id: &str,
    objective: crate::coherence::Measure,
    t: &crate::tune::Trial,
    best: bool,
    now: u64,
    open: &OpenRuns,
) -> std::result::Result<String, TrackError> {
    let mut ctags = vec![Tag::new("bertopic.trial", t.id.to_string())];
    if best {
        ctags.push(Tag::new("bertopic.best_trial", "true"));
    }
    if let Some(why) = &t.invalid_reason {
        ctags.push(Tag::new("bertopic.invalid_reason", why.clone()));
    }
    let child = {
        let _starting = open.starting.read().unwrap_or_else(|e| e.into_inner());
        let child = tracker.start_run(
            exp_id,
            Some(&format!("trial-{}", t.id)),
            Some(parent_run_id),
            &ctags,
        )?;
        open.ids().insert(child.run_id.clone());
        child
    };
    let cparams = [
        Param::new("min_cluster_size", t.params.min_cluster_size),
        Param::new("n_neighbors", t.params.n_neighbors),
        Param::new("n_components", t.params.n_components),
        Param::new("objective", objective),
    ];
    let cmetrics: Vec<Metric> = trial_metrics(t)
        .into_iter()
        .map(|(k, v)| Metric {
            key: k.to_string(),
            value: v,
            timestamp_ms: now,
            step: 0,
        })
        .collect();
    let logged = tracker
        .log_batch(&child.run_id, &cmetrics, &cparams, &[])
        .and_then(|()| tracker.end_run(&child.run_id, RunStatus::Finished));
    if logged.is_err() {
        // Not left RUNNING: the parent is marked FAILED by the caller, so is the trial.
        let _ = tracker.end_run(&child.run_id, RunStatus::Failed);
    }
    open.ids().remove(&child.run_id);
    logged.map(|()| child.run_id)
}

/// At most this many artifact uploads at once: enough to hide the server's per-request
/// latency, few enough not to starve a small server (`mlflow server` defaults to 4 workers).
const PARALLEL_UPLOADS: usize = 4;

/// The reports at the artifact root; the model folder under `model/` with its `MLmodel`,
/// loader code and sha256 manifest. Up to [`PARALLEL_UPLOADS`] at a time, largest first;
/// the manifest and `MLmodel` last, so a model folder with an `MLmodel` is complete.
fn log_artifacts(tracker: &dyn Tracker, run: &RunInfo, dir: &Path) -> Result<usize> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for name in ROOT_ARTIFACTS {
        let p = dir.join(name);
        if p.is_file() {
            let bytes = std::fs::read(&p).map_err(|e| BertopicError::io(&p, e))?;
            files.push((name.to_string(), bytes));
        }
    }
    let mut manifest = String::new();
    for name in MODEL_FOLDER_FILES {
        let p = dir.join(name);
        if p.is_file() {
            let bytes = std::fs::read(&p).map_err(|e| BertopicError::io(&p, e))?;
            manifest.push_str(&format!("{}  {name}\n", tracking::sha256_hex(&bytes)));
            files.push((format!("{MODEL_ARTIFACT}/{name}"), bytes));
        }
    }
    files.push((
        format!("{MODEL_ARTIFACT}/code/{PYFUNC_MODULE}.py"),
        PYFUNC_SOURCE.as_bytes().to_vec(),
    ));
    files.push((
        format!("{MODEL_ARTIFACT}/requirements.txt"),
        b"mlflow\npandas\n".to_vec(),
    ));
    files.sort_by_key(|(_, b)| std::cmp::Reverse(b.len()));
    let next = AtomicUsize::new(0);
    let failed = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| -> Result<()> {
        let workers: Vec<_> = (0..PARALLEL_UPLOADS.min(files.len()))
            .map(|_| {
                s.spawn(|| -> Result<()> {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= files.len() || failed.load(Ordering::Relaxed) {
                            return Ok(());
                        }
                        let (path, bytes) = &files[i];
                        if let Err(e) = tracker.put_artifact(run, path, bytes) {
                            failed.store(true, Ordering::Relaxed);
                            return Err(e.into());
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            w.join()
                .map_err(|_| BertopicError::Mismatch("artifact upload panicked".into()))??;
        }
        Ok(())
    })?;
    tracker.put_artifact(
        run,
        &format!("{MODEL_ARTIFACT}/{MANIFEST_FILE}"),
        manifest.as_bytes(),
    )?;
    tracker.put_artifact(
        run,
        &format!("{MODEL_ARTIFACT}/MLmodel"),
        mlmodel(&run.run_id).as_bytes(),
    )?;
    Ok(files.len() + 2)
}

/// A trial's points in the parent run's `trial.*` history (step = trial id), which the MLflow
/// UI draws as the coherence curve.
fn history_metrics(t: &crate::tune::Trial, now: u64) -> Vec<Metric> {
    trial_metrics(t)
        .into_iter()
        .map(|(k, v)| Metric {
            key: format!("trial.{k}"),
            value: v,
            timestamp_ms: now,
            step: t.id as i64,
        })
        .collect()
}

/// A trial's scores and timings (absent scores are left out).
fn trial_metrics(t: &crate::tune::Trial) -> Vec<(&'static str, f64)> {
    let m = &t.metrics;
    let mut out: Vec<(&'static str, f64)> = [
        ("c_v", m.c_v),
        ("c_npmi", m.c_npmi),
        ("u_mass", m.u_mass),
        ("topic_diversity", m.diversity),
        ("objective", t.objective),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    out.extend([
        ("n_topics", m.n_topics as f64),
        ("outlier_fraction", m.outlier_fraction),
        ("dropped_words", m.dropped_words as f64),
        ("cluster_seconds", t.timings.cluster_s),
        ("coherence_seconds", t.timings.coherence_s),
    ]);
    out.retain(|(_, v)| v.is_finite());
    out
}

/// `{"umap": {"n_neighbors": 15}}` → `umap.n_neighbors = 15`; lists stay JSON text.
fn flatten(prefix: &str, v: &Value, out: &mut Vec<Param>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&format!("{prefix}{k}."), v, out);
            }
        }
        _ if prefix.is_empty() => {}
        other => {
            let key = prefix.trim_end_matches('.').to_string();
            let value = match other {
                Value::String(s) => s.clone(),
                Value::Null => "None".into(),
                v => v.to_string(),
            };
            out.push(Param { key, value });
        }
    }
}

/// The `MLmodel` file: a `python_function` flavor whose loader module (under `code/`) runs the
/// `bertopic` binary; the model files sit beside it.
fn mlmodel(run_id: &str) -> String {
    format!(
        "artifact_path: {MODEL_ARTIFACT}\n\
         flavors:\n  \
           bertopic:\n    \
             bertopic_version: {ver}\n    \
             model_format: {fmt}\n  \
           python_function:\n    \
             code: code\n    \
             loader_module: {PYFUNC_MODULE}\n    \
             predict_fn: predict\n\
         model_uuid: {uuid}\n\
         run_id: {run_id}\n\
         utc_time_created: '{time}'\n",
        ver = crate::VERSION,
        fmt = crate::FORMAT_VERSION,
        uuid = tracking::new_run_id(),
        time = crate::registry::rfc3339(tracking::now_ms() / 1000),
    )
}

fn absolute(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Where models downloaded from MLflow are kept: `$XDG_CACHE_HOME/bertopic/mlflow-models`, else
/// `~/.cache/bertopic/mlflow-models`.
pub fn default_model_cache() -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    match (env("XDG_CACHE_HOME"), env("HOME")) {
        (Some(c), _) => c.join("bertopic/mlflow-models"),
        (None, Some(h)) => h.join(".cache/bertopic/mlflow-models"),
        (None, None) => PathBuf::from(".bertopic-mlflow-models"),
    }
}

/// The MLflow model version a `models:/NAME/latest|N|@alias` URI points at.
pub fn mlflow_version(client: &MlflowRest, uri: &ModelUri) -> Result<ModelVersionInfo> {
    Ok(match &uri.version {
        VersionSpec::Number(n) => client.model_version(&uri.name, &n.to_string())?,
        VersionSpec::Alias(a) => client.model_version_by_alias(&uri.name, a)?,
        VersionSpec::Latest => client.model_versions(&uri.name)?.pop().ok_or_else(|| {
            BertopicError::Mismatch(format!(
                "MLflow at {} has no versions of model {:?}: register one with \
                     `bertopic train ... --register {} --tracking-uri {}`",
                client.base(),
                uri.name,
                uri.name,
                client.base()
            ))
        })?,
    })
}

/// Resolves a model URI against MLflow's registry at `url`: the version's files are downloaded
/// once into `cache` (`<cache>/<server>/<name>/<version>/`, checked against the run's sha256
/// manifest, renamed into place whole) and that folder is returned. A cached copy is checked
/// again before it is used.
pub fn resolve_mlflow_model(url: &str, uri: &ModelUri, cache: &Path) -> Result<PathBuf> {
    let client = MlflowRest::from_env(url)?;
    let v = mlflow_version(&client, uri)?;
    let server: String = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let parent = cache.join(server).join(&v.name);
    let dir = parent.join(&v.version);
    if dir.is_dir() && verify_manifest(&dir).is_ok() {
        return Ok(dir);
    }
    let staging = crate::fs::StagingDir::new(&parent, &v.version)?;
    client.download_artifacts(&v.source, staging.path())?;
    verify_manifest(staging.path())?;
    if dir.is_dir() {
        // A damaged copy (or one another process just finished): replace only a bad one.
        if verify_manifest(&dir).is_ok() {
            return Ok(dir);
        }
        std::fs::remove_dir_all(&dir).map_err(|e| BertopicError::io(&dir, e))?;
    }
    match std::fs::rename(staging.path(), &dir) {
        Ok(()) => {
            staging.keep();
        }
        Err(_) if dir.is_dir() && verify_manifest(&dir).is_ok() => {}
        Err(e) => return Err(BertopicError::io(&dir, e)),
    }
    Ok(dir)
}

/// Checks downloaded model files against the run's [`MANIFEST_FILE`]: every listed file must
/// be present with its sha256.
pub fn verify_manifest(dir: &Path) -> Result<()> {
    let path = dir.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| BertopicError::io(&path, e))?;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (sum, name) = line
            .split_once("  ")
            .ok_or_else(|| BertopicError::ModelFormat {
                path: path.clone(),
                reason: format!("bad manifest line {line:?}"),
            })?;
        if name.contains('/') || name.contains("..") {
            return Err(BertopicError::ModelFormat {
                path: path.clone(),
                reason: format!("manifest names a file outside the model: {name:?}"),
            });
        }
        let f = dir.join(name);
        let bytes = std::fs::read(&f).map_err(|e| BertopicError::io(&f, e))?;
        if tracking::sha256_hex(&bytes) != sum {
            return Err(BertopicError::ModelFormat {
                path: f,
                reason: "sha256 differs from the run's manifest: the download is damaged; \
                         remove the cache folder and try again"
                    .into(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_flatten_with_dotted_keys() {
        let mut out = Vec::new();
        flatten(
            "",
            &serde_json::json!({"seed": 42, "umap": {"n_neighbors": 15}, "model": "m", "x": null,
                "l": [1, 2]}),
            &mut out,
        );
        let got: Vec<(String, String)> = out.into_iter().map(|p| (p.key, p.value)).collect();
        assert!(got.contains(&("umap.n_neighbors".into(), "15".into())));
        assert!(got.contains(&("model".into(), "m".into())));
        assert!(got.contains(&("x".into(), "None".into())));
        assert!(got.contains(&("l".into(), "[1,2]".into())));
    }
}
