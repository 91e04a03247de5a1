//! [`train`](super::train) tracked in MLflow, as `bertopic train --tracking-uri` runs it.

use std::path::Path;

use crate::error::{BertopicError, Result};
use crate::jobs::{train, TrainEvent, TrainJob, TrainOutcome};
use crate::track::{TrackOptions, TrackedRun, TrackingSession};
use crate::tracking::RunStatus;

/// What [`train_tracked`] produced; the model folder is saved whatever `tracked` says.
#[derive(Debug)]
pub struct TrackedTraining<R> {
    /// The trained model and its record.
    pub outcome: TrainOutcome,
    /// What the caller's `meanwhile` returned.
    pub meanwhile: R,
    /// The run's upload, when `tracking` was given; on failure the folder can be uploaded
    /// later ([`crate::track::upload_model_dir`]).
    pub tracked: Option<Result<TrackedRun>>,
}

/// Runs `job` and tracks it: the MLflow run is opened first, on a background thread, so
/// training does not wait for the server and the run's duration covers the job; each tuning
/// trial's child run is logged as it ends; a failed job marks the run `FAILED`, and Ctrl-C
/// `KILLED`. Once the model is saved, the run's upload (retried from scratch when the run
/// could not be opened, announced by [`TrainEvent::TrackingRetry`]) goes on beside
/// `meanwhile`, which gets the outcome (to print tables, register the model locally, …).
/// `tracking: None` trains untracked.
pub fn train_tracked<R>(
    job: &TrainJob,
    tracking: Option<TrackOptions>,
    on: &mut dyn FnMut(TrainEvent<'_>),
    meanwhile: impl FnOnce(&TrainOutcome) -> R,
) -> Result<TrackedTraining<R>> {
    let mut session = tracking
        .map(TrackingSession::begin_in_background)
        .transpose()?;
    let _interrupt = session.as_ref().map(|s| s.interrupt_guard());
    let trained = train(job, &mut |ev| {
        if let (TrainEvent::Trial(exp), Some(s)) = (&ev, &session) {
            // Its child run is logged now, beside the next trials, not after training.
            s.trial(exp);
        }
        on(ev);
    });
    let outcome = match trained {
        Ok(outcome) => outcome,
        Err(e) => {
            if let Some(s) = session {
                s.abort(RunStatus::Failed);
            }
            return Err(e);
        }
    };
    let upload = session.take().map(|mut s| {
        if job.input != Path::new("-") {
            s.options_mut()
                .corpus(&job.input, outcome.summary.records_read);
        }
        if let Some(e) = s.start_error() {
            on(TrainEvent::TrackingRetry(e));
        }
        s
    });
    let model = &outcome.model;
    let (meanwhile, tracked) = std::thread::scope(|scope| {
        let upload = upload.map(|s| scope.spawn(move || s.finish(&job.output, Some(model))));
        let meanwhile = meanwhile(&outcome);
        let tracked = upload.map(|h| {
            h.join().unwrap_or_else(|_| {
                Err(BertopicError::Mismatch(
                    "the tracking thread panicked".into(),
                ))
            })
        });
        (meanwhile, tracked)
    });
    Ok(TrackedTraining {
        outcome,
        meanwhile,
        tracked,
    })
}
