//! `bertopic topics` (`topics set`) and `bertopic evaluate`.

use bertopic::fs::DirPolicy;
use bertopic::variants::manual::{self, SetTopicsJob};
use bertopic::{report, tune, TopicModel};

use crate::args::{EvaluateArgs, Format, SetTopicsArgs, TopicsAction, TopicsArgs};
use crate::out::{self, CliResult, Out};

pub(crate) fn topics(a: TopicsArgs, o: Out) -> CliResult {
    if let Some(TopicsAction::Set(s)) = a.action {
        return set(s, o);
    }
    let model = a.model.ok_or("--model is required")?;
    let model = TopicModel::load(&a.registry.model_dir(&model)?)?;
    let info = model.topic_info();
    match a.format {
        Format::Json => out::println(&serde_json::to_string_pretty(&info)?),
        Format::Table => out::stdout(report::topic_table(&info, usize::MAX).as_bytes()),
    }
}

fn set(a: SetTopicsArgs, o: Out) -> CliResult {
    let job = SetTopicsJob {
        model: a.registry.model_dir(&a.model)?,
        input: a.input.input.clone(),
        read: a.input.options(),
        assignments: a.assignments.clone(),
        output: a.output.clone(),
        output_policy: if a.allow_other_files {
            DirPolicy::AllowOtherFiles
        } else {
            DirPolicy::OursOnly
        },
    };
    let done = manual::set_topics(&job)?;
    let info = done.model.topic_info();
    match a.format {
        Format::Json => out::println(&serde_json::to_string_pretty(&info)?)?,
        Format::Table if !o.quiet => out::println(&report::topic_table(&info, 30))?,
        Format::Table => {}
    }
    o.info(format!(
        "{} of {} documents changed topic; {} topics; model, topic_info.csv and \
         document_topics.csv in {}",
        done.changed,
        done.model.document_topics().len(),
        done.model.n_topics(),
        a.output.display()
    ));
    Ok(())
}

pub(crate) fn evaluate(a: EvaluateArgs) -> CliResult {
    let raw = std::fs::read(&a.metrics)
        .map_err(|e| format!("cannot read {}: {e}", a.metrics.display()))?;
    let exp: tune::Experiment = serde_json::from_slice(&raw).map_err(|e| {
        format!(
            "{} is not an experiment record written by `bertopic train --trials`: {e}",
            a.metrics.display()
        )
    })?;
    match a.format {
        Format::Json => out::println(&serde_json::to_string_pretty(&exp)?),
        Format::Table => out::stdout(report::experiment_table(&exp).as_bytes()),
    }
}
