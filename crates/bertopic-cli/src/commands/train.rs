//! `bertopic train`.

use bertopic::fs::DirPolicy;
use bertopic::jobs::{self, TrainEvent, TrainJob};
use bertopic::preprocess::Language;
use bertopic::{report, BertopicParams};

use bertopic::represent::LlmParams;

use std::process::ExitCode;

use crate::args::{Format, LabelsArg, TrainArgs};
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
    let representation = a.representation.with_diversity(a.diversity)?;
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
    let tune = a.tune_params()?;
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

    let tracking = track::options(&a.tracking, &a.output, a.register.as_deref())?;
    let hint = tracking.as_ref().map(|t| track::failure_hint(&a.output, t));
    let trained = jobs::train_tracked(&job, tracking, &mut |ev| event(o, ev), |outcome| {
        show(&a, o, outcome)
    })?;
    trained.meanwhile?;
    match trained.tracked {
        Some(Ok(t)) => track::report_with_phases(o, &t),
        Some(Err(e)) => {
            out::warn(format!(
                "tracking failed: {e}\n{}",
                hint.unwrap_or_default()
            ));
            return Ok(ExitCode::from(track::TRACKING_FAILED_STATUS));
        }
        None => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// The progress lines of a training job.
fn event(o: Out, ev: TrainEvent<'_>) {
    match ev {
        TrainEvent::Embedded { .. } => o.detail(ev.to_string()),
        TrainEvent::Trial(exp) if exp.trials.is_empty() => {}
        TrainEvent::TrackingRetry(_) => out::warn(ev.to_string()),
        TrainEvent::Labelled { fell_back, .. } => {
            o.info(ev.to_string());
            for (topic, why) in fell_back {
                out::warn(format!("topic {topic} keeps its word label: {why}"));
            }
        }
        _ => o.info(ev.to_string()),
    }
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
    o.detail(format!("stages: {}", model.timings()));
    if let Some(name) = &a.register {
        let metrics = report::model_metrics(model, outcome.experiment.as_ref());
        let v = a.registry.open().register(name, &a.output, metrics)?;
        o.info(format!("registered as {} ({})", v.uri(), v.path.display()));
    }
    o.info(outcome.to_string());
    Ok(())
}

/// LLM settings for `--labels llm` (the key comes from the environment, never from a flag).
fn llm_params(a: &TrainArgs) -> CliResult<Option<LlmParams>> {
    if a.labels == LabelsArg::Words {
        if a.llm_url.is_some() || a.llm_model.is_some() {
            return Err("--llm-url and --llm-model apply only with --labels llm".into());
        }
        return Ok(None);
    }
    let p = jobs::llm_params(a.llm_url.as_deref(), a.llm_model.as_deref());
    if p.api_key.is_none() {
        out::warn("--labels llm: neither GROQ_API_KEY nor OPENAI_API_KEY is set; topics keep word labels unless the endpoint needs no key");
    }
    Ok(Some(p))
}
