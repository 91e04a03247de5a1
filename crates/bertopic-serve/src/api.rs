//! The JSON API under `/api/v1`, `/healthz` and `/metrics`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bertopic::drift::Level;
use bertopic::monitor::{self, MonitorOptions, MonitorReport};
use bertopic::track::{self, TrackOptions};
use bertopic::{jobs, PredictOptions, TopicModel};
use serde::{Deserialize, Serialize};

use crate::error::{Result, ServeError};
use crate::state::{AppState, Resolved};

/// A JSON error body: `{"error": "..."}` with the error's status.
pub(crate) struct ApiError(pub ServeError);

impl<E: Into<ServeError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Body {
            error: String,
        }
        let body = Body {
            error: self.0.to_string(),
        };
        (self.0.status(), Json(body)).into_response()
    }
}

/// A rejected JSON body becomes a typed error: 413 over the size limit, else 400 with serde's
/// reason (which names the line and column).
fn json_body<T>(body: std::result::Result<Json<T>, JsonRejection>) -> Result<T> {
    match body {
        Ok(Json(v)) => Ok(v),
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ServeError::TooLarge(
            "the request body is over the server's limit (--max-body-mb): send fewer documents per request"
                .into(),
        )),
        Err(r) => Err(ServeError::BadRequest(format!(
            "the body is not the expected JSON: {}",
            r.body_text()
        ))),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ModelQuery {
    /// `models:/NAME/N`, `models:/NAME@alias`, `models:/NAME/latest` or a bare name.
    pub model: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PredictRequest {
    documents: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct PredictResponse {
    model: String,
    topics: Vec<i64>,
    probabilities: Vec<f64>,
    labels: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MonitorRequest {
    documents: Vec<String>,
    #[serde(default)]
    seed: Option<u64>,
}

/// Checks a request's documents: at least one, at most the limit, none blank.
pub(crate) fn check_documents(docs: &[String], max: usize) -> Result<()> {
    if docs.is_empty() {
        return Err(ServeError::BadRequest(
            "`documents` is empty: send at least one document".into(),
        ));
    }
    if docs.len() > max {
        return Err(ServeError::TooLarge(format!(
            "{} documents in one request; the limit is {max} (--max-documents): split the batch",
            docs.len()
        )));
    }
    if let Some(i) = docs.iter().position(|d| d.trim().is_empty()) {
        return Err(ServeError::BadRequest(format!(
            "documents[{i}] is empty or blank: every document needs some text"
        )));
    }
    Ok(())
}

/// The label a topic shows: its readable label when it has one, else its name.
pub(crate) fn topic_label(model: &TopicModel, topic: i64) -> String {
    model
        .topic(topic)
        .map(|t| t.label.clone().unwrap_or_else(|| t.name.clone()))
        .unwrap_or_else(|_| topic.to_string())
}

/// Runs CPU-heavy work off the async threads, one per core at a time.
pub(crate) async fn heavy<T: Send + 'static>(
    state: &Arc<AppState>,
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let _permit = state
        .heavy
        .acquire()
        .await
        .map_err(|_| ServeError::Internal("the server is shutting down".into()))?;
    tokio::task::spawn_blocking(work).await?
}

/// Topics of `docs` with the resolved model.
pub(crate) fn predict_docs(
    state: &AppState,
    r: &Resolved,
    docs: &[String],
) -> Result<(Arc<TopicModel>, Vec<i64>, Vec<f64>)> {
    let model = state.model(r)?;
    let embedder = state.embedder(&model.params().embedding_model)?;
    let (topics, probs) =
        model.transform_with(docs, embedder.as_ref(), &PredictOptions::default())?;
    Ok((model, topics, probs))
}

pub(crate) async fn predict(
    State(state): State<Arc<AppState>>,
    Query(q): Query<ModelQuery>,
    body: std::result::Result<Json<PredictRequest>, JsonRejection>,
) -> std::result::Result<Json<PredictResponse>, ApiError> {
    let req = json_body(body)?;
    check_documents(&req.documents, state.config.max_documents)?;
    let r = state.resolve(q.model.as_deref())?;
    let st = state.clone();
    let docs = req.documents;
    let (r, model, topics, probs) = heavy(&state, move || {
        let (model, topics, probs) = predict_docs(&st, &r, &docs)?;
        Ok((r, model, topics, probs))
    })
    .await?;
    state.metrics.documents_predicted(topics.len());
    let labels = topics.iter().map(|&t| topic_label(&model, t)).collect();
    Ok(Json(PredictResponse {
        model: r.uri,
        topics,
        probabilities: probs,
        labels,
    }))
}

#[derive(Debug, Serialize)]
pub(crate) struct TopicRow {
    topic: i64,
    count: usize,
    name: String,
    label: String,
    words: Vec<String>,
}

pub(crate) fn topic_rows(model: &TopicModel) -> Vec<TopicRow> {
    model
        .topics()
        .iter()
        .map(|t| TopicRow {
            topic: t.id,
            count: t.count,
            name: t.name.clone(),
            label: t.label.clone().unwrap_or_else(|| t.name.clone()),
            words: t.words.iter().map(|(w, _)| w.clone()).collect(),
        })
        .collect()
}

pub(crate) async fn topics(
    State(state): State<Arc<AppState>>,
    Query(q): Query<ModelQuery>,
) -> std::result::Result<Json<serde_json::Value>, ApiError> {
    let r = state.resolve(q.model.as_deref())?;
    let st = state.clone();
    let (r, model) = tokio::task::spawn_blocking(move || {
        let m = st.model(&r)?;
        Ok::<_, ServeError>((r, m))
    })
    .await
    .map_err(ServeError::from)??;
    Ok(Json(serde_json::json!({
        "model": r.uri,
        "topics": topic_rows(&model),
    })))
}

#[derive(Debug, Serialize)]
pub(crate) struct ModelRow {
    pub name: String,
    pub version: u64,
    pub uri: String,
    pub aliases: Vec<String>,
    pub created: String,
    pub metrics: BTreeMap<String, f64>,
}

/// Every registered version, newest first per name, with its aliases.
pub(crate) fn model_rows(state: &AppState) -> Result<Vec<ModelRow>> {
    let mut rows = Vec::new();
    for name in state.registry.names()? {
        let aliases = state.registry.aliases(&name)?;
        let mut versions = state.registry.versions(&name)?;
        versions.sort_by_key(|v| std::cmp::Reverse(v.version));
        for v in versions {
            rows.push(ModelRow {
                uri: v.uri().to_string(),
                aliases: aliases
                    .iter()
                    .filter(|(_, &n)| n == v.version)
                    .map(|(a, _)| a.clone())
                    .collect(),
                created: v.metadata.created.clone(),
                metrics: v.metadata.metrics.clone(),
                name: v.name,
                version: v.version,
            });
        }
    }
    Ok(rows)
}

pub(crate) async fn models(
    State(state): State<Arc<AppState>>,
) -> std::result::Result<Json<serde_json::Value>, ApiError> {
    let st = state.clone();
    let rows = tokio::task::spawn_blocking(move || model_rows(&st))
        .await
        .map_err(ServeError::from)??;
    Ok(Json(serde_json::json!({ "models": rows })))
}

/// Monitors `docs` against the resolved model, appends the history line, records the level
/// and, with a tracker configured, logs the run there (what happened to that, as a line; a
/// tracking failure loses nothing: the report and history are written first).
pub(crate) fn monitor_docs(
    state: &AppState,
    r: &Resolved,
    docs: &[String],
    seed: Option<u64>,
    source: String,
) -> Result<(MonitorReport, Option<String>)> {
    let model = state.model(r)?;
    let spec = &model.params().embedding_model;
    let embeddings = state
        .embedder(spec)?
        .embed(docs)
        .map_err(bertopic::BertopicError::from)?;
    let rows: Vec<usize> = (1..=docs.len()).collect();
    jobs::check_embeddings(&embeddings, &rows, spec)?;
    let opts = MonitorOptions {
        seed,
        source: Some(source),
        ..MonitorOptions::default()
    };
    let report = monitor::monitor(&model, docs, &embeddings, &opts)?;
    monitor::append_history(&r.version.path, &report)?;
    state
        .metrics
        .drift_level(&r.uri, level_number(report.level()));
    let tracked = state.config.tracking.as_ref().map(|uri| {
        let mut opts = TrackOptions::new(uri.clone());
        opts.experiment = state.config.experiment.clone();
        match track::log_monitor_run(&opts, &r.uri, &report) {
            Ok(t) => format!("logged to {} as run {}", t.location, t.run.run_id),
            Err(e) => format!("tracking failed (the report and history are kept): {e}"),
        }
    });
    Ok((report, tracked))
}

pub(crate) fn level_number(l: Level) -> u8 {
    match l {
        Level::Low => 0,
        Level::Medium => 1,
        Level::High => 2,
    }
}

pub(crate) async fn monitor(
    State(state): State<Arc<AppState>>,
    Query(q): Query<ModelQuery>,
    body: std::result::Result<Json<MonitorRequest>, JsonRejection>,
) -> std::result::Result<Json<MonitorReport>, ApiError> {
    let req = json_body(body)?;
    check_documents(&req.documents, state.config.max_documents)?;
    if req.documents.len() < monitor::MIN_BATCH_DOCS {
        return Err(ServeError::BadRequest(format!(
            "monitoring needs at least {} documents (the embedding test compares two samples)",
            monitor::MIN_BATCH_DOCS
        ))
        .into());
    }
    let r = state.resolve(q.model.as_deref())?;
    let st = state.clone();
    let (report, _tracked) = heavy(&state, move || {
        monitor_docs(&st, &r, &req.documents, req.seed, "api".into())
    })
    .await?;
    Ok(Json(report))
}

pub(crate) async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "version": bertopic::VERSION }))
}

pub(crate) async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let jobs = state.jobs.counts();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(&jobs),
    )
}
