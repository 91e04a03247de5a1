//! `bertopic topics` and `bertopic evaluate`.

use bertopic::{report, tune, TopicModel};

use crate::args::{EvaluateArgs, Format, TopicsArgs};
use crate::out::{self, CliResult};

pub(crate) fn topics(a: TopicsArgs) -> CliResult {
    let model = TopicModel::load(&a.registry.model_dir(&a.model)?)?;
    let info = model.topic_info();
    match a.format {
        Format::Json => out::println(&serde_json::to_string_pretty(&info)?),
        Format::Table => out::stdout(report::topic_table(&info, usize::MAX).as_bytes()),
    }
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
