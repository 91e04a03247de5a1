//! `bertopic registry list | register`.

use bertopic::{report, TopicModel};

use crate::args::{Format, ListArgs, RegisterArgs};
use crate::out::{self, CliResult, Out};

pub(crate) fn register(a: RegisterArgs, o: Out) -> CliResult {
    // Load it first: only real models go into the registry.
    let model = TopicModel::load(&a.model)?;
    let v = a
        .registry
        .open()
        .register(&a.name, &a.model, report::model_metrics(&model, None))?;
    o.info(format!("registered {} as {}", a.model.display(), v.uri()));
    out::println(&v.uri().to_string())
}

pub(crate) fn list(a: ListArgs) -> CliResult {
    let registry = a.registry.open();
    let (versions, broken) = match &a.name {
        Some(n) => registry.scan(n)?,
        None => (registry.list()?, registry.broken()?),
    };
    // A damaged version is named, and the others stay usable.
    for b in &broken {
        out::warn(format!(
            "{} version {} is damaged ({}): {}",
            b.name,
            b.version,
            b.path.display(),
            b.reason
        ));
    }
    match a.format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = versions
                .iter()
                .map(|v| {
                    serde_json::json!({
                        "name": v.name,
                        "version": v.version,
                        "uri": v.uri().to_string(),
                        "path": v.path,
                        "created": v.metadata.created,
                        "source": v.metadata.source,
                        "metrics": v.metadata.metrics,
                    })
                })
                .collect();
            out::println(&serde_json::to_string_pretty(&rows)?)
        }
        Format::Table => {
            let mut s = String::new();
            if versions.is_empty() {
                s.push_str(&format!(
                    "no models registered in {}\n",
                    registry.root().display()
                ));
            }
            for v in &versions {
                let topics = v
                    .metadata
                    .metrics
                    .get("n_topics")
                    .map(|n| format!("{n} topics"))
                    .unwrap_or_default();
                s.push_str(&format!(
                    "{:<24} {:>4}  {}  {:<10}  {}\n",
                    v.name, v.version, v.metadata.created, topics, v.metadata.source
                ));
            }
            out::stdout(s.as_bytes())
        }
    }
}
