//! `bertopic train`.

use bertopic::fs::DirPolicy;
use bertopic::jobs::{self, TrainEvent, TrainJob};
use bertopic::preprocess::Language;
use bertopic::tune::TuneParams;
use bertopic::{report, BertopicParams, Representation};

use bertopic::represent::LlmParams;

use std::process::ExitCode;

use bertopic::track::TrackingSession;
use bertopic::tracking::RunStatus;

use crate::args::{Format, LabelsArg, RepresentationArg, TrainArgs};
use crate::commands::track;
use crate::out::{self, CliResult, Out};

/// Exit status: 0, 1 (error: nothing tracked as finished), or [`track::TRACKING_FAILED_STATUS`]
/// (the model is saved but MLflow did not get the run).
pub(crate) fn run(a: TrainArgs, o: Out) -> ExitCode {
    match train(a, o) {
        Ok(code) => code,
        Err(e) => ExitCode::from(out::report(e.as_ref())),
    }
}

fn train(a: TrainArgs, o: Out) -> CliResult<ExitCode> {
    // Everything that can be checked without reading the corpus is checked first.
    let representation = representation(&a)?;
    representation.validate()?;
    if let Some(name) = &a.register {
        bertopic::registry::validate_name(name)?;
    }
    let language: Language = a.language.parse()?;
    let mut params = BertopicParams {
        language,
        seed: a.seed,
        min_topic_size: a.min_cluster_size,
        nr_topics: a.nr_topics,
        top_n_words: a.top_n_words,
        embedding_model: a.precision.spec(
            a.model
                .as_deref()
                .unwrap_or_else(|| jobs::default_model(language)),
        ),
        representation,
        quality: a.quality.preset(),
        ..BertopicParams::default()
    };
    params.umap.n_neighbors = a.n_neighbors;
    params.umap.n_components = a.n_components;
    params.variants.zeroshot_topic_list = a.zeroshot_topics.clone();
    params.variants.zeroshot_min_similarity = a.zeroshot_min_similarity;
    params.variants.seed_topic_list = a
        .seed_topic
        .iter()
        .map(|t| t.split(',').map(|w| w.trim().to_string()).collect())
        .collect();
    let tune = match a.trials {
        Some(trials) => Some(TuneParams {
            max_trials: Some(trials),
            n_neighbors: a.tune_neighbors.clone(),
            objective: a.objective.parse()?,
            outlier_penalty: a.outlier_penalty,
            ..TuneParams::default()
        }),
        None => None,
    };
    let mut job = TrainJob::new(&a.input.input, &a.output);
    job.params = params;
    job.read = a.input.options();
    job.output_policy = if a.allow_other_files {
        DirPolicy::AllowOtherFiles
    } else {
        DirPolicy::OursOnly
    };
    job.embeddings = a.embeddings.clone();
    job.tune = tune;
    job.cache = !a.no_cache;
    job.progress = !o.quiet;
    job.llm_labels = llm_params(&a)?;
    job.monitoring_baseline = !a.no_monitoring_baseline;
    job.labels = a
        .labels_column
        .as_ref()
        .map(|column| bertopic::variants::LabelColumn {
            column: column.clone(),
            unknown: a.unknown_label.clone(),
        });

    // The MLflow run is opened first (its duration covers the job; a failed job marks it
    // FAILED), on a background thread so that training does not wait for the server; one
    // that cannot be reached is tried again after the model is saved.
    let mut session = match track::options(&a.tracking, &a.output, a.register.as_deref())? {
        Some(opts) => Some(TrackingSession::begin_in_background(opts)?),
        None => None,
    };
    // Ctrl-C marks the run KILLED instead of leaving it RUNNING forever.
    let _interrupt = session.as_ref().map(|s| s.interrupt_guard());

    let trained = jobs::train(&job, &mut |ev| match ev {
        TrainEvent::Read(summary) => o.info(format!("{summary}")),
        TrainEvent::LoadingModel { model, documents } => o.info(if documents {
            format!("embedding documents with {model}")
        } else {
            format!("loading {model} to embed topic words")
        }),
        TrainEvent::Embedded { n, seconds } => {
            o.detail(format!("embedded {n} documents in {seconds:.1} s"))
        }
        TrainEvent::Trial(exp) => {
            // Its child run is logged now, beside the next trials, not after training.
            if let Some(s) = &session {
                s.trial(exp);
            }
            if let Some(t) = exp.trials.last() {
                o.info(format!(
                    "trial {} min_cluster_size={} {} = {} ({} topics)",
                    t.id,
                    t.params.min_cluster_size,
                    exp.objective,
                    t.objective
                        .map(|v| format!("{v:.4}"))
                        .unwrap_or_else(|| "invalid".into()),
                    t.metrics.n_topics
                ));
            }
        }
        TrainEvent::ClassLabels { known, n, classes } => o.info(if known == n {
            format!("supervised: {n} labelled documents in {classes} classes")
        } else {
            format!("semi-supervised: {known} of {n} documents labelled, {classes} classes")
        }),
        TrainEvent::Labelled { n, fell_back } => {
            o.info(format!(
                "{} of {n} topics labelled by the LLM",
                n - fell_back.len()
            ));
            for (topic, why) in fell_back {
                out::warn(format!("topic {topic} keeps its word label: {why}"));
            }
        }
        _ => {}
    });
    let outcome = match trained {
        Ok(outcome) => outcome,
        Err(e) => {
            if let Some(s) = session {
                s.abort(RunStatus::Failed);
            }
            return Err(e.into());
        }
    };
    let model = &outcome.model;
    // The upload starts now, beside the tables and the local registry copy (the model and
    // its CSVs are already saved); its outcome is reported last.
    let upload = session.take().map(|mut s| {
        if a.input.input != std::path::Path::new("-") {
            s.options_mut()
                .corpus(&a.input.input, outcome.summary.records_read);
        }
        if let Some(e) = s.start_error() {
            out::warn(format!(
                "tracking: {e}; the upload is tried again now that the model is saved"
            ));
        }
        (track::failure_hint(&a.output, s.options()), s)
    });
    let (shown, tracked) = std::thread::scope(|scope| {
        let upload = upload.map(|(hint, s)| {
            let output = &a.output;
            (hint, scope.spawn(move || s.finish(output, Some(model))))
        });
        let shown = show(&a, o, &outcome);
        let tracked = upload.map(|(hint, h)| {
            let res = h.join().unwrap_or_else(|_| {
                Err(bertopic::BertopicError::Mismatch(
                    "the tracking thread panicked".into(),
                ))
            });
            (hint, res)
        });
        (shown, tracked)
    });
    shown?;
    if let Some((hint, res)) = tracked {
        match res {
            Ok(t) => {
                track::report(o, &t);
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
            Err(e) => {
                out::warn(format!("tracking failed: {e}\n{hint}"));
                return Ok(ExitCode::from(track::TRACKING_FAILED_STATUS));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The tables, the stage timings and the local registry entry of a trained model.
fn show(a: &TrainArgs, o: Out, outcome: &jobs::TrainOutcome) -> CliResult<()> {
    let model = &outcome.model;
    if let Some(exp) = &outcome.experiment {
        o.info(report::experiment_table(exp));
    }
    let info = model.topic_info();
    match a.format {
        Format::Json => out::println(&serde_json::to_string_pretty(&info)?)?,
        Format::Table if !o.quiet => out::println(&report::topic_table(&info, 30))?,
        Format::Table => {}
    }
    let t = model.timings();
    o.detail(format!(
        "stages: embed {:.2} s, reduce {:.2} s, cluster {:.2} s, represent {:.2} s",
        t.embed_s, t.reduce_s, t.cluster_s, t.represent_s
    ));
    if let Some(name) = &a.register {
        let metrics = report::model_metrics(model, outcome.experiment.as_ref());
        let v = a.registry.open().register(name, &a.output, metrics)?;
        o.info(format!("registered as {} ({})", v.uri(), v.path.display()));
    }
    o.info(format!(
        "{} topics ({} words), {:.1}% outliers; model, topic_info.csv and document_topics.csv in {}",
        model.n_topics(),
        model.representation(),
        100.0 * model.outlier_fraction(),
        a.output.display(),
    ));
    Ok(())
}

/// LLM settings for `--labels llm`; the key is read from the environment, never from a flag
/// (flags show up in shell history and process lists).
fn llm_params(a: &TrainArgs) -> CliResult<Option<LlmParams>> {
    if a.labels == LabelsArg::Words {
        if a.llm_url.is_some() || a.llm_model.is_some() {
            return Err("--llm-url and --llm-model apply only with --labels llm".into());
        }
        return Ok(None);
    }
    let mut p = LlmParams::default();
    if let Some(url) = &a.llm_url {
        p.endpoint = url.clone();
    }
    if let Some(m) = &a.llm_model {
        p.model = m.clone();
    }
    p.api_key = ["GROQ_API_KEY", "OPENAI_API_KEY"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()));
    if p.api_key.is_none() {
        out::warn("--labels llm: neither GROQ_API_KEY nor OPENAI_API_KEY is set; topics keep word labels unless the endpoint needs no key");
    }
    Ok(Some(p))
}

fn representation(a: &TrainArgs) -> CliResult<Representation> {
    match (a.representation, a.diversity) {
        (RepresentationArg::Ctfidf, None) => Ok(Representation::CTfidf),
        (RepresentationArg::Mmr, None) => Ok(Representation::mmr_default()),
        (RepresentationArg::Mmr, Some(d)) => Ok(Representation::mmr(d)),
        (RepresentationArg::Keybert, None) => Ok(Representation::keybert()),
        (_, Some(_)) => Err(
            "--diversity applies only to --representation mmr; drop it or add --representation mmr"
                .into(),
        ),
    }
}
