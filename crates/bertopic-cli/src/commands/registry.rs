//! `bertopic registry list | register | promote | show | delete`.

use bertopic::jobs::models::{self, RegistryTarget};
use bertopic::{report, TopicModel};

use crate::args::{
    DeleteArgs, Format, ListArgs, PromoteArgs, RegisterArgs, RegistryTarget as TargetArgs, ShowArgs,
};
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

/// The MLflow server a registry verb acts on (`None` = the local registry).
pub(crate) fn mlflow_server(flag: Option<&str>) -> CliResult<Option<String>> {
    Ok(models::mlflow_server(flag)?)
}

fn target(t: &TargetArgs) -> CliResult<RegistryTarget> {
    Ok(RegistryTarget::resolve(
        t.tracking_uri.as_deref(),
        t.registry.open(),
    )?)
}

pub(crate) fn promote(a: PromoteArgs, o: Out) -> CliResult {
    let target = target(&a.target)?;
    let before = models::promote(&target, &a.name, &a.alias, a.version)?;
    o.info(match (&target, before) {
        (RegistryTarget::Mlflow(url), _) => {
            format!("MLflow at {url}: {} → version {}", a.alias, a.version)
        }
        (_, Some(b)) if b != a.version => {
            format!("{} moved from version {b} to {}", a.alias, a.version)
        }
        _ => format!("{} → version {}", a.alias, a.version),
    });
    out::println(&format!("models:/{}@{}", a.name, a.alias))
}

pub(crate) fn show(a: ShowArgs) -> CliResult {
    let rows = models::versions(&target(&a.target)?, &a.name)?;
    match a.format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    serde_json::json!({"name": a.name, "version": r.version, "aliases": r.aliases,
                        "created": r.created, "source": r.source})
                })
                .collect();
            out::println(&serde_json::to_string_pretty(&rows)?)
        }
        Format::Table => {
            let mut s = String::new();
            for r in &rows {
                let al = if r.aliases.is_empty() {
                    String::new()
                } else {
                    format!("@{}", r.aliases.join(" @"))
                };
                s.push_str(&format!(
                    "{:>4}  {:<20}  {:<20}  {}\n",
                    r.version, al, r.created, r.source
                ));
            }
            out::stdout(s.as_bytes())
        }
    }
}

pub(crate) fn delete(a: DeleteArgs, o: Out) -> CliResult {
    let target = target(&a.target)?;
    let removed = models::delete(&target, &a.name, a.version, a.force)?;
    if matches!(target, RegistryTarget::Local(_)) && !removed.is_empty() {
        o.info(format!("removed aliases: {}", removed.join(", ")));
    }
    o.info(format!("deleted models:/{}/{}", a.name, a.version));
    Ok(())
}
