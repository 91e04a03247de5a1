//! What every request shares: the configuration, the registry, loaded models and embedders.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bertopic::registry::{ModelUri, ModelVersion, Registry};
use bertopic::{jobs, Embedder, TopicModel};

use crate::error::{Result, ServeError};
use crate::jobs::Jobs;
use crate::metrics::{lock, Metrics};
use crate::ServeConfig;

/// Loaded models kept in memory (each holds its training embeddings).
const MODEL_CACHE: usize = 8;

/// A registered version, resolved from a request's `model` parameter.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    /// `models:/NAME/N`: the exact version, whatever alias or `latest` was asked for.
    pub uri: String,
    pub version: ModelVersion,
}

/// A registered version's folder and registration time.
type ModelKey = (PathBuf, u64);

pub(crate) struct AppState {
    pub config: ServeConfig,
    pub registry: Registry,
    pub jobs: Jobs,
    pub metrics: Metrics,
    /// Bounds the CPU-heavy requests (embedding, monitoring) running at once, so a burst of
    /// clients queues instead of oversubscribing the cores.
    pub heavy: tokio::sync::Semaphore,
    /// Keyed by version folder and registration time: a deleted and re-registered version
    /// number is a different model.
    models: Mutex<Vec<(ModelKey, Arc<TopicModel>)>>,
    embedders: Mutex<HashMap<String, Arc<dyn Embedder>>>,
}

impl AppState {
    pub(crate) fn new(config: ServeConfig) -> AppState {
        let permits = std::thread::available_parallelism().map_or(2, |n| n.get());
        AppState {
            registry: Registry::new(&config.registry),
            jobs: Jobs::new(config.data.join("jobs")),
            metrics: Metrics::default(),
            heavy: tokio::sync::Semaphore::new(permits),
            models: Mutex::new(Vec::new()),
            embedders: Mutex::new(HashMap::new()),
            config,
        }
    }

    /// The version a `model` parameter names (a `models:/` URI, or a bare registered name for
    /// its latest version). Without one: `--model`, else the newest version carrying the
    /// `production` alias, else the newest version registered.
    pub(crate) fn resolve(&self, model: Option<&str>) -> Result<Resolved> {
        let spec = model
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .or_else(|| self.config.model.clone());
        let version = match spec {
            Some(s) => {
                let uri: ModelUri = if ModelUri::is_uri(&s) {
                    s.parse()?
                } else {
                    format!("models:/{s}/latest").parse()?
                };
                self.registry.resolve(&uri)?
            }
            None => self.default_version()?,
        };
        Ok(Resolved {
            uri: version.uri().to_string(),
            version,
        })
    }

    fn default_version(&self) -> Result<ModelVersion> {
        let all = self.registry.list()?;
        let newest = |v: &&ModelVersion| (v.metadata.created_unix_ms, v.version);
        let mut production: Vec<&ModelVersion> = Vec::new();
        for name in self.registry.names()? {
            if let Some(&n) = self.registry.aliases(&name)?.get("production") {
                production.extend(all.iter().filter(|v| v.name == name && v.version == n));
            }
        }
        production
            .into_iter()
            .max_by_key(newest)
            .or_else(|| all.iter().max_by_key(newest))
            .cloned()
            .ok_or_else(|| {
                ServeError::NotFound(format!(
                    "no model is registered in {}: train one in the Training tab (or `bertopic \
                     train --register NAME`) first",
                    self.registry.root().display()
                ))
            })
    }

    /// The model of a registered version, loaded once and kept (a few at a time).
    pub(crate) fn model(&self, r: &Resolved) -> Result<Arc<TopicModel>> {
        let key = (r.version.path.clone(), r.version.metadata.created_unix_ms);
        if let Some((_, m)) = lock(&self.models).iter().find(|(k, _)| *k == key) {
            return Ok(m.clone());
        }
        // Loaded outside the lock: other requests keep being served meanwhile.
        let model = Arc::new(TopicModel::load(&r.version.path)?);
        let mut cache = lock(&self.models);
        if let Some((_, m)) = cache.iter().find(|(k, _)| *k == key) {
            return Ok(m.clone());
        }
        if cache.len() >= MODEL_CACHE {
            cache.remove(0);
        }
        cache.push((key, model.clone()));
        Ok(model)
    }

    /// The embedding model `spec`, loaded once. Requests never write the on-disk embedding
    /// cache (every request's documents would pile up there).
    pub(crate) fn embedder(&self, spec: &str) -> Result<Arc<dyn Embedder>> {
        // Held while loading: two first requests load the weights once, not twice.
        let mut map = lock(&self.embedders);
        if let Some(e) = map.get(spec) {
            return Ok(e.clone());
        }
        let e = jobs::embedder(spec, false, false)?;
        map.insert(spec.to_string(), e.clone());
        Ok(e)
    }
}
