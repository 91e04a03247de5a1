//! The model registry verbs (`bertopic registry promote | show | delete`) on either registry:
//! the local one ([`crate::registry::Registry`]) or an MLflow server's.

use crate::error::{BertopicError, Result};
use crate::registry::{validate_alias, validate_name, Registry};
use crate::tracking::{MlflowRest, TrackingUri};

/// The registry a verb acts on.
#[derive(Debug)]
pub enum RegistryTarget {
    /// The local registry.
    Local(Registry),
    /// The MLflow server at this URL.
    Mlflow(String),
}

impl RegistryTarget {
    /// The MLflow server named by `tracking_uri` (a `--tracking-uri`), else by
    /// `MLFLOW_TRACKING_URI` when that is an http(s) URI; else `local`.
    pub fn resolve(tracking_uri: Option<&str>, local: Registry) -> Result<RegistryTarget> {
        Ok(match mlflow_server(tracking_uri)? {
            Some(url) => RegistryTarget::Mlflow(url),
            None => RegistryTarget::Local(local),
        })
    }
}

/// The MLflow server a registry verb acts on: `tracking_uri`, else `MLFLOW_TRACKING_URI` when
/// it is an http(s) URI; `None` = the local registry. A file store given explicitly is refused:
/// it holds no registry.
pub fn mlflow_server(tracking_uri: Option<&str>) -> Result<Option<String>> {
    if !TrackingUri::configured(tracking_uri) {
        return Ok(None);
    }
    match TrackingUri::resolve(tracking_uri)? {
        TrackingUri::Rest(url) => Ok(Some(url)),
        TrackingUri::File(dir) if tracking_uri.is_some() => Err(BertopicError::Mismatch(format!(
            "--tracking-uri {}: registry verbs need an MLflow server (http://host:port); \
             leave it out to use the local registry",
            dir.display()
        ))),
        TrackingUri::File(_) => Ok(None),
    }
}

/// One version of a registered model, as `bertopic registry show` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRow {
    /// The version number.
    pub version: u64,
    /// The aliases pointing at it.
    pub aliases: Vec<String>,
    /// When it was registered (RFC 3339; empty for MLflow's).
    pub created: String,
    /// The folder or artifact location it was registered from.
    pub source: String,
}

/// Every version of `name`, oldest first.
pub fn versions(target: &RegistryTarget, name: &str) -> Result<Vec<VersionRow>> {
    Ok(match target {
        RegistryTarget::Mlflow(url) => MlflowRest::from_env(url)?
            .model_versions(name)?
            .into_iter()
            .map(|v| VersionRow {
                version: v.version.parse().unwrap_or(0),
                aliases: v.aliases,
                created: String::new(),
                source: v.source,
            })
            .collect(),
        RegistryTarget::Local(r) => {
            let aliases = r.aliases(name)?;
            r.versions(name)?
                .into_iter()
                .map(|v| VersionRow {
                    version: v.version,
                    aliases: aliases
                        .iter()
                        .filter(|(_, n)| **n == v.version)
                        .map(|(k, _)| k.clone())
                        .collect(),
                    created: v.metadata.created,
                    source: v.metadata.source,
                })
                .collect()
        }
    })
}

/// Points `alias` of `name` at `version`; returns the version it pointed at before (local
/// registry only: MLflow does not say).
pub fn promote(
    target: &RegistryTarget,
    name: &str,
    alias: &str,
    version: u64,
) -> Result<Option<u64>> {
    validate_name(name)?;
    validate_alias(alias)?;
    match target {
        RegistryTarget::Mlflow(url) => {
            MlflowRest::from_env(url)?.set_alias(name, alias, &version.to_string())?;
            Ok(None)
        }
        RegistryTarget::Local(r) => Ok(r.set_alias(name, alias, version)?),
    }
}

/// Deletes `version` of `name`. A version an alias points at is refused unless `force`, which
/// removes those aliases too; returns the aliases removed.
pub fn delete(
    target: &RegistryTarget,
    name: &str,
    version: u64,
    force: bool,
) -> Result<Vec<String>> {
    validate_name(name)?;
    match target {
        RegistryTarget::Mlflow(url) => {
            let c = MlflowRest::from_env(url)?;
            let v = c.model_version(name, &version.to_string())?;
            if !v.aliases.is_empty() && !force {
                return Err(BertopicError::Mismatch(format!(
                    "MLflow model {name} version {version} is aliased as {}: move the alias \
                     first (`bertopic registry promote`) or delete with --force, which removes \
                     the alias too",
                    v.aliases.join(", ")
                )));
            }
            for al in &v.aliases {
                c.delete_alias(name, al)?;
            }
            c.delete_model_version(name, &v.version)?;
            Ok(v.aliases)
        }
        RegistryTarget::Local(r) => Ok(r.delete_version(name, version, force)?),
    }
}
