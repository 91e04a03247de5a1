//! `bertopic registry list | register | promote | show | delete`.

use bertopic::tracking::{MlflowRest, TrackingUri};
use bertopic::{report, TopicModel};

use crate::args::{DeleteArgs, Format, ListArgs, PromoteArgs, RegisterArgs, ShowArgs};
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

/// The MLflow server a registry verb acts on: `flag`, else `MLFLOW_TRACKING_URI` when it is an
/// http(s) URI; `None` = the local registry.
pub(crate) fn mlflow_server(flag: Option<&str>) -> CliResult<Option<String>> {
    if !TrackingUri::configured(flag) {
        return Ok(None);
    }
    match TrackingUri::resolve(flag)? {
        TrackingUri::Rest(url) => Ok(Some(url)),
        TrackingUri::File(dir) if flag.is_some() => Err(format!(
            "--tracking-uri {}: registry verbs need an MLflow server (http://host:port); \
             leave it out to use the local registry",
            dir.display()
        )
        .into()),
        TrackingUri::File(_) => Ok(None),
    }
}

pub(crate) fn promote(a: PromoteArgs, o: Out) -> CliResult {
    bertopic::registry::validate_name(&a.name)?;
    bertopic::registry::validate_alias(&a.alias)?;
    match mlflow_server(a.target.tracking_uri.as_deref())? {
        Some(url) => {
            let c = MlflowRest::from_env(&url)?;
            c.set_alias(&a.name, &a.alias, &a.version.to_string())?;
            o.info(format!(
                "MLflow at {url}: {} → version {}",
                a.alias, a.version
            ));
        }
        None => {
            let before = a
                .target
                .registry
                .open()
                .set_alias(&a.name, &a.alias, a.version)?;
            o.info(match before {
                Some(b) if b != a.version => {
                    format!("{} moved from version {b} to {}", a.alias, a.version)
                }
                _ => format!("{} → version {}", a.alias, a.version),
            });
        }
    }
    out::println(&format!("models:/{}@{}", a.name, a.alias))
}

pub(crate) fn show(a: ShowArgs) -> CliResult {
    // (version, aliases, created, source)
    let rows: Vec<(u64, Vec<String>, String, String)> =
        match mlflow_server(a.target.tracking_uri.as_deref())? {
            Some(url) => MlflowRest::from_env(&url)?
                .model_versions(&a.name)?
                .into_iter()
                .map(|v| {
                    (
                        v.version.parse().unwrap_or(0),
                        v.aliases,
                        String::new(),
                        v.source,
                    )
                })
                .collect(),
            None => {
                let r = a.target.registry.open();
                let aliases = r.aliases(&a.name)?;
                r.versions(&a.name)?
                    .into_iter()
                    .map(|v| {
                        let mine = aliases
                            .iter()
                            .filter(|(_, n)| **n == v.version)
                            .map(|(k, _)| k.clone())
                            .collect();
                        (v.version, mine, v.metadata.created, v.metadata.source)
                    })
                    .collect()
            }
        };
    match a.format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = rows
                .iter()
                .map(|(v, al, created, source)| {
                    serde_json::json!({"name": a.name, "version": v, "aliases": al,
                        "created": created, "source": source})
                })
                .collect();
            out::println(&serde_json::to_string_pretty(&rows)?)
        }
        Format::Table => {
            let mut s = String::new();
            for (v, al, created, source) in &rows {
                let al = if al.is_empty() {
                    String::new()
                } else {
                    format!("@{}", al.join(" @"))
                };
                s.push_str(&format!(
                    "{:>4}  {:<20}  {:<20}  {source}\n",
                    v, al, created
                ));
            }
            out::stdout(s.as_bytes())
        }
    }
}

pub(crate) fn delete(a: DeleteArgs, o: Out) -> CliResult {
    bertopic::registry::validate_name(&a.name)?;
    match mlflow_server(a.target.tracking_uri.as_deref())? {
        Some(url) => {
            let c = MlflowRest::from_env(&url)?;
            let v = c.model_version(&a.name, &a.version.to_string())?;
            if !v.aliases.is_empty() && !a.force {
                return Err(format!(
                    "MLflow model {} version {} is aliased as {}: move the alias first \
                     (`bertopic registry promote`) or delete with --force, which removes the \
                     alias too",
                    a.name,
                    a.version,
                    v.aliases.join(", ")
                )
                .into());
            }
            for al in &v.aliases {
                c.delete_alias(&a.name, al)?;
            }
            c.delete_model_version(&a.name, &v.version)?;
        }
        None => {
            let removed = a
                .target
                .registry
                .open()
                .delete_version(&a.name, a.version, a.force)?;
            if !removed.is_empty() {
                o.info(format!("removed aliases: {}", removed.join(", ")));
            }
        }
    }
    o.info(format!("deleted models:/{}/{}", a.name, a.version));
    Ok(())
}
