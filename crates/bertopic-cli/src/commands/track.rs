//! `bertopic track upload`, and the tracking options `train` shares.

use std::path::Path;

use bertopic::track::{self, TrackOptions, TrackedRun};
use bertopic::tracking::{Tag, TrackingUri, DEFAULT_EXPERIMENT};

use crate::args::{TrackingArgs, UploadArgs};
use crate::out::{CliResult, Out};

/// Exit status of `train` when the model was saved but tracking failed (documented in the
/// README and `train --help`).
pub(crate) const TRACKING_FAILED_STATUS: u8 = 4;

/// The tracking options, or `None` when nothing asks for tracking (no `--tracking-uri`, no
/// `--experiment`, no `MLFLOW_TRACKING_URI`).
pub(crate) fn options(
    t: &TrackingArgs,
    output: &Path,
    register: Option<&str>,
) -> CliResult<Option<TrackOptions>> {
    let configured = TrackingUri::configured(t.tracking_uri.as_deref());
    if !configured && t.experiment.is_none() {
        return Ok(None);
    }
    let mut opts = TrackOptions::new(TrackingUri::resolve(t.tracking_uri.as_deref())?);
    opts.experiment = t
        .experiment
        .clone()
        .unwrap_or_else(|| DEFAULT_EXPERIMENT.to_string());
    opts.run_name = t
        .run_name
        .clone()
        .or_else(|| output.file_name().map(|n| n.to_string_lossy().into_owned()));
    opts.register = register.map(str::to_string);
    let commit = env!("BERTOPIC_GIT_COMMIT");
    if commit != "unknown" {
        opts.tags.push(Tag::new("mlflow.source.git.commit", commit));
    }
    Ok(Some(opts))
}

/// The lines printed after a tracked run.
pub(crate) fn report(o: Out, t: &TrackedRun) {
    o.info(format!(
        "tracked in MLflow at {}: experiment {}, run {} ({} trial runs, {:.2} s)",
        t.location, t.experiment_id, t.run.run_id, t.trials, t.seconds
    ));
    if let Some(v) = &t.model_version {
        o.info(format!(
            "MLflow model version models:/{}/{} (source {})",
            v.name, v.version, v.source
        ));
    }
}

/// [`report`], then (with --verbose) where the tracking time went.
pub(crate) fn report_with_phases(o: Out, t: &TrackedRun) {
    report(o, t);
    let phases: Vec<String> = t
        .phases
        .iter()
        .map(|(k, v)| format!("{k} {v:.2} s"))
        .collect();
    o.detail(format!(
        "tracking: {:.2} s after training; {}",
        t.seconds,
        phases.join(", ")
    ));
}

/// The warning for a tracking failure after the model was saved, with the command to retry.
pub(crate) fn failure_hint(dir: &Path, opts: &TrackOptions) -> String {
    let mut cmd = format!(
        "bertopic track upload {} --tracking-uri {} --experiment {:?}",
        dir.display(),
        opts.uri,
        opts.experiment
    );
    if let Some(name) = &opts.register {
        cmd.push_str(&format!(" --register {name}"));
    }
    format!(
        "the model and its CSVs are saved in {}; upload the run later with:\n  {cmd}",
        dir.display()
    )
}

pub(crate) fn upload(a: UploadArgs, o: Out) -> CliResult {
    let mut opts = options(&a.tracking, &a.dir, a.register.as_deref())?.unwrap_or_else(|| {
        // `track upload` always tracks: the embedded default when nothing else is given.
        TrackOptions::new(TrackingUri::File(
            bertopic::tracking::DEFAULT_TRACKING_DIR.into(),
        ))
    });
    if let Some(name) = &a.register {
        bertopic::registry::validate_name(name)?;
        if !opts.uri.is_rest() {
            return Err(format!(
                "--register creates an MLflow model version and needs an MLflow server \
                 (--tracking-uri http://host:port); {} is a file store",
                opts.uri
            )
            .into());
        }
    }
    if opts.run_name.is_none() {
        opts.run_name = Some("upload".into());
    }
    let t = track::upload_model_dir(&opts, &a.dir)?;
    report(o, &t);
    Ok(())
}
