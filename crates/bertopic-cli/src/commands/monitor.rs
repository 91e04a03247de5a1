//! `bertopic monitor`: drift of a new batch against a saved model, and the run history.

use std::path::Path;
use std::process::ExitCode;

use bertopic::drift::Level;
use bertopic::jobs::{self, Corpus};
use bertopic::monitor::{self, MonitorOptions, MonitorReport};
use bertopic::preprocess::ReadOptions;
use bertopic::TopicModel;

use crate::args::{FailOn, Format, MonitorArgs};
use crate::commands::track;
use crate::out::{self, CliResult, Out};

/// Exit status when the level reaches `--fail-on`.
const FAIL_ON_STATUS: u8 = 3;

pub(crate) fn run(a: MonitorArgs, o: Out) -> ExitCode {
    let result = if a.history { history(&a) } else { check(&a, o) };
    match result {
        Ok(code) => code,
        Err(e) => ExitCode::from(out::report(e.as_ref())),
    }
}

fn history(a: &MonitorArgs) -> CliResult<ExitCode> {
    let dir = a.registry.model_dir(&a.model)?;
    let entries = monitor::read_history(&dir)?;
    match a.format {
        Format::Json => out::println(&serde_json::to_string_pretty(&entries)?)?,
        Format::Table if entries.is_empty() => out::println(&format!(
            "no monitoring runs recorded for {} yet",
            dir.display()
        ))?,
        Format::Table => out::stdout(monitor::history_table(&entries).as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

fn check(a: &MonitorArgs, o: Out) -> CliResult<ExitCode> {
    let input = a.input.as_deref().ok_or("--input is required")?;
    let output = a.output.as_deref().filter(|p| *p != Path::new("-"));
    if let Some(out) = output {
        let inputs: Vec<&Path> = std::iter::once(input)
            .chain(a.embeddings.as_deref())
            .chain(a.config.as_deref())
            .collect();
        bertopic::fs::check_output_file(out, &inputs)?;
    }
    // Read before the model and the batch, so a bad file fails fast.
    let config = match &a.config {
        Some(p) => monitor::read_config(p)?,
        None => monitor::monitor_config(),
    };
    let dir = a.registry.model_dir(&a.model)?;
    o.detail(format!("model {}", dir.display()));
    let model = TopicModel::load(&dir)?;
    let read = ReadOptions {
        format: a.input_format.map(Into::into),
        text_columns: a.text_columns.clone(),
        skip_bad_rows: a.skip_bad_rows,
        dedupe: false,
        min_docs: 1,
        ..ReadOptions::default()
    };
    let corpus = Corpus::read(input, &read)?;
    o.info(format!("{}", corpus.summary));
    let texts = corpus.texts();
    let embeddings = match &a.embeddings {
        Some(p) => jobs::load_embeddings(p, &corpus)?,
        None => {
            let spec = &model.params().embedding_model;
            let e = jobs::embedder(spec, !a.no_cache, !o.quiet)?;
            let m = e.embed(&texts)?;
            jobs::check_embeddings(&m, &corpus.rows(), spec)?;
            m
        }
    };
    let opts = MonitorOptions {
        config,
        seed: a.seed,
        source: Some(input.display().to_string()),
    };
    let report = monitor::monitor(&model, &texts, &embeddings, &opts)?;
    let json = serde_json::to_string_pretty(&report)?;
    if let Some(out) = output {
        bertopic::fs::write_file(out, format!("{json}\n").as_bytes())?;
        o.info(format!("report written to {}", out.display()));
    }
    monitor::append_history(&dir, &report)?;
    match a.format {
        Format::Json => out::println(&json)?,
        Format::Table => out::stdout(summary(&report).as_bytes())?,
    }
    // After the report and history are written: a tracking failure loses nothing.
    let mut tracking_failed = false;
    if let Some(opts) = track::options(&a.tracking, Path::new("monitor"), None)? {
        match bertopic::track::log_monitor_run(&opts, &a.model, &report) {
            Ok(t) => track::report(o, &t),
            Err(e) => {
                out::warn(format!(
                    "tracking failed: {e}; the report and the history line are written"
                ));
                tracking_failed = true;
            }
        }
    }
    let threshold = a.fail_on.map(|f| match f {
        FailOn::Medium => Level::Medium,
        FailOn::High => Level::High,
    });
    match threshold {
        Some(t) if report.level() >= t => {
            o.info(format!(
                "drift level {} reached --fail-on {}: exit status {FAIL_ON_STATUS}",
                report.level(),
                t.to_string().to_lowercase()
            ));
            Ok(ExitCode::from(FAIL_ON_STATUS))
        }
        _ if tracking_failed => Ok(ExitCode::from(track::TRACKING_FAILED_STATUS)),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// The verdict, its reasons and one line per signal.
fn summary(r: &MonitorReport) -> String {
    let d = &r.drift;
    let mut s = format!(
        "drift level: {}\nbatch: {} documents, {:.2} ms/doc to assign, {:.1} s in all\n",
        d.level,
        r.batch.docs,
        r.batch.seconds_per_doc * 1000.0,
        r.batch.total_seconds
    );
    for reason in &d.reasons {
        s.push_str(&format!("  reason: {reason}\n"));
    }
    let entry = monitor::HistoryEntry::from(r);
    for (name, sig) in &entry.signals {
        let value = sig.value.map_or("-".into(), |v| format!("{v:.4}"));
        let p = sig
            .p_value
            .map_or(String::new(), |p| format!(", p = {p:.3}"));
        s.push_str(&format!(
            "  {name:<12} {:<6} {} {value}{p}\n",
            sig.level.to_string(),
            sig.metric
        ));
    }
    for note in &d.notes {
        s.push_str(&format!("  note: {note}\n"));
    }
    s
}
