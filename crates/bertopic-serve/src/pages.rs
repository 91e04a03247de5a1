//! The three tabs, rendered on the server as plain HTML forms and inline SVG charts.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use bertopic::drift::TopicDrift;
use bertopic::monitor::{self, HistoryEntry, MonitorReport};
use bertopic::preprocess::ReadOptions;
use bertopic::viz::{self, esc, Segment, Series};
use serde::Deserialize;

use crate::api::{self, heavy, topic_label, ModelQuery};
use crate::error::{Result, ServeError};
use crate::jobs::{self, Job, Settings, Status, Submission};
use crate::state::AppState;

type St = State<Arc<AppState>>;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/train") }))
        .route("/train", get(train_page).post(train_submit))
        .route("/train/jobs/{id}", get(job_page))
        .route("/train/jobs/{id}/register", post(register))
        .route("/train/jobs/{id}/documents", get(documents))
        .route("/train/jobs/{id}/files/{file}", get(download))
        .route("/monitor", get(monitor_page).post(monitor_submit))
        .route("/tracking", get(tracking))
        .route("/tracking/runs/{run_id}", get(tracking_run))
}

/// An error shown as a page (with `#error`) and its status.
pub(crate) struct PageError(ServeError);

impl<E: Into<ServeError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let body = format!(
            "<h2>{}</h2><p id=\"error\" class=\"error\">{}</p><p><a href=\"javascript:history.back()\">Back</a></p>",
            status.canonical_reason().unwrap_or("Error"),
            esc(&self.0.to_string())
        );
        (status, page("Error", None, &body, None)).into_response()
    }
}

type PageResult = std::result::Result<Response, PageError>;

pub(crate) async fn not_found() -> PageError {
    PageError(ServeError::NotFound(
        "no such page: the tabs are /train, /monitor and /tracking".into(),
    ))
}

const STYLE: &str = "body{font-family:Helvetica,Arial,sans-serif;margin:0;color:#222;background:#fafafa}\
header{background:#263238;color:#fff;padding:10px 24px;display:flex;gap:24px;align-items:center}\
header b{font-size:18px;margin-right:24px}header a{color:#cfd8dc;text-decoration:none;padding:6px 10px;border-radius:4px}\
header a.active{background:#455a64;color:#fff}main{padding:16px 24px;max-width:1300px}\
table{border-collapse:collapse;margin:8px 0;background:#fff}td,th{border:1px solid #ddd;padding:4px 8px;font-size:13px;text-align:left;vertical-align:top}\
th{background:#eceff1}form.card,div.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px 16px;margin:12px 0}\
label{display:inline-block;min-width:230px}.row{margin:6px 0}.error{color:#b71c1c;font-weight:bold}\
.LOW{color:#2e7d32}.MEDIUM{color:#ef6c00}.HIGH{color:#c62828}.muted{color:#777;font-size:12px}\
button{padding:6px 14px}svg{max-width:100%;height:auto}.charts{display:flex;flex-wrap:wrap;gap:12px}";

/// The page frame: header with the three tabs, then `body`.
fn page(title: &str, active: Option<&str>, body: &str, refresh: Option<u32>) -> Html<String> {
    let tab = |id: &str, href: &str, text: &str| {
        format!(
            "<a id=\"tab-{id}\" href=\"{href}\"{}>{text}</a>",
            if active == Some(id) {
                " class=\"active\""
            } else {
                ""
            }
        )
    };
    let meta = refresh.map_or(String::new(), |s| {
        format!("<meta http-equiv=\"refresh\" content=\"{s}\">")
    });
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">{meta}<title>{} · BERTopic</title>\
         <style>{STYLE}</style></head><body><header><b>BERTopic</b>{}{}{}</header><main>{body}</main></body></html>",
        esc(title),
        tab("train", "/train", "Training &amp; Analysis"),
        tab("monitor", "/monitor", "Model Monitoring"),
        tab("tracking", "/tracking", "Tracking"),
    ))
}

// ---------------------------------------------------------------- Training & Analysis

async fn train_page(State(state): St) -> Html<String> {
    let mut jobs_html = String::new();
    for j in state.jobs.list().iter().take(20) {
        let r = j.record();
        let _ = write!(
            jobs_html,
            "<li><a class=\"job-link\" href=\"/train/jobs/{id}\">{id}</a> {} — {} <span class=\"muted\">{}</span></li>",
            esc(&r.settings.name),
            r.status.as_str(),
            esc(&r.settings.filename),
            id = j.id,
        );
    }
    if jobs_html.is_empty() {
        jobs_html.push_str("<li class=\"muted\">none yet</li>");
    }
    let key_note = if std::env::var_os("GROQ_API_KEY").is_some()
        || std::env::var_os("OPENAI_API_KEY").is_some()
    {
        "a key is set in the server's environment; a key typed here is used instead"
    } else {
        "or set GROQ_API_KEY / OPENAI_API_KEY for the server"
    };
    let body = format!(
        "<h2>Train a topic model</h2>\
         <form id=\"train-form\" class=\"card\" method=\"post\" action=\"/train\" enctype=\"multipart/form-data\">\
         <div class=\"row\"><label for=\"csv\">Corpus (CSV: Title, Abstract)</label><input type=\"file\" id=\"csv\" name=\"file\" accept=\".csv,.tsv,.jsonl,.txt\" required> <span class=\"muted\">at most {max_mb} MB</span></div>\
         <div class=\"row\"><label for=\"model-name\">Model name</label><input id=\"model-name\" name=\"name\" value=\"topics\" pattern=\"[A-Za-z0-9][A-Za-z0-9._-]*\" required></div>\
         <div class=\"row\"><label for=\"trials\">Tuning trials</label><input id=\"trials\" name=\"trials\" type=\"number\" min=\"0\" max=\"100\" value=\"5\"> <span class=\"muted\">0 = one fit with the minimum topic size below</span></div>\
         <div class=\"row\"><label for=\"min-topic-size\">Minimum topic size</label><input id=\"min-topic-size\" name=\"min_topic_size\" type=\"number\" min=\"2\" value=\"10\"></div>\
         <div class=\"row\"><label for=\"language\">Language</label><select id=\"language\" name=\"language\"><option value=\"english\">English</option><option value=\"indonesian\">Indonesian</option><option value=\"multilingual\">Multilingual</option></select></div>\
         <div class=\"row\"><label for=\"seed\">Seed</label><input id=\"seed\" name=\"seed\" type=\"number\" min=\"0\" value=\"42\"></div>\
         <div class=\"row\"><label for=\"representation\">Topic words</label><select id=\"representation\" name=\"representation\"><option value=\"ctfidf\">c-TF-IDF</option><option value=\"mmr\">MMR (diverse)</option><option value=\"keybert\">KeyBERT-inspired</option></select></div>\
         <div class=\"row\"><label for=\"labels\">Topic labels</label><select id=\"labels\" name=\"labels\"><option value=\"words\">from the topic words</option><option value=\"llm\">from an LLM (Groq)</option></select> \
         <input id=\"llm-key\" name=\"llm_key\" type=\"password\" placeholder=\"API key (kept in memory only)\" autocomplete=\"off\"> <span class=\"muted\">{key_note}</span></div>\
         <button id=\"start-training\" type=\"submit\">Start training</button></form>\
         <h3>Jobs</h3><ul id=\"jobs\">{jobs_html}</ul>",
        max_mb = state.config.max_upload_bytes >> 20,
    );
    page("Training", Some("train"), &body, None)
}

/// Reads a multipart field, turning an over-limit body into a 413.
async fn field_bytes(field: Field<'_>) -> Result<Vec<u8>> {
    field
        .bytes()
        .await
        .map(|b| b.to_vec())
        .map_err(multipart_error)
}

fn multipart_error(e: MultipartError) -> ServeError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ServeError::TooLarge(
            "the upload is over the server's size limit (--max-upload-mb): upload a smaller file"
                .into(),
        )
    } else {
        ServeError::BadRequest(format!("the form could not be read: {}", e.body_text()))
    }
}

fn text_field(bytes: Vec<u8>, name: &str) -> Result<String> {
    String::from_utf8(bytes)
        .map(|s| s.trim().to_string())
        .map_err(|_| ServeError::BadRequest(format!("form field `{name}` is not UTF-8 text")))
}

fn number<T: std::str::FromStr>(v: Option<&String>, name: &str, default: T) -> Result<T> {
    match v.map(String::as_str).filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(s) => s.parse().map_err(|_| {
            ServeError::BadRequest(format!("`{name}` must be a whole number, not `{s}`"))
        }),
    }
}

async fn train_submit(State(state): St, mut form: Multipart) -> PageResult {
    let mut fields = BTreeMap::new();
    let mut upload: Option<(String, Vec<u8>)> = None;
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let filename = field.file_name().unwrap_or("upload.csv").to_string();
            upload = Some((filename, field_bytes(field).await?));
        } else {
            let v = text_field(field_bytes(field).await?, &name)?;
            fields.insert(name, v);
        }
    }
    let (filename, csv) = upload
        .filter(|(_, b)| !b.is_empty())
        .ok_or_else(|| ServeError::BadRequest("choose a CSV file to upload".into()))?;
    let language = fields
        .get("language")
        .map_or("english", String::as_str)
        .parse()
        .map_err(|e: bertopic::preprocess::PreprocessError| {
            ServeError::BadRequest(e.to_string())
        })?;
    let settings = Settings {
        name: fields.get("name").cloned().unwrap_or_default(),
        filename,
        trials: number(fields.get("trials"), "trials", 5)?,
        language,
        seed: number(fields.get("seed"), "seed", 42)?,
        representation: fields
            .get("representation")
            .cloned()
            .unwrap_or_else(|| "ctfidf".into()),
        min_topic_size: number(fields.get("min_topic_size"), "min_topic_size", 10)?,
        llm_labels: fields.get("labels").map(String::as_str) == Some("llm"),
    };
    if settings.trials > 100 {
        return Err(ServeError::BadRequest("at most 100 tuning trials".into()).into());
    }
    let submission = Submission {
        settings,
        csv,
        llm_key: fields.get("llm_key").filter(|k| !k.is_empty()).cloned(),
        tracking: state
            .config
            .tracking
            .clone()
            .map(|u| (u, state.config.experiment.clone())),
        cache: state.config.cache,
    };
    let st = state.clone();
    let job = tokio::task::spawn_blocking(move || st.jobs.submit(submission))
        .await
        .map_err(ServeError::from)??;
    Ok(Redirect::to(&format!("/train/jobs/{}", job.id)).into_response())
}

async fn job_page(State(state): St, Path(id): Path<String>) -> PageResult {
    let job = state.jobs.get(&id)?;
    let r = job.record();
    let mut body = format!(
        "<h2>Training job {id} — {name}</h2><p>Status: <b id=\"job-status\">{status}</b> \
         <span class=\"muted\">{file}; {trials} trial(s), seed {seed}, {repr}, {lang:?}</span></p>",
        id = esc(&job.id),
        name = esc(&r.settings.name),
        status = r.status.as_str(),
        file = esc(&r.settings.filename),
        trials = r.settings.trials,
        seed = r.settings.seed,
        repr = esc(&r.settings.representation),
        lang = r.settings.language,
    );
    body.push_str("<ol id=\"progress\">");
    for e in &r.events {
        let _ = write!(body, "<li>{}</li>", esc(e));
    }
    body.push_str("</ol>");
    if let Some(e) = &r.error {
        let _ = write!(body, "<p id=\"error\" class=\"error\">{}</p>", esc(e));
    }
    if r.status == Status::Done {
        let j = job.clone();
        let model = tokio::task::spawn_blocking(move || j.model())
            .await
            .map_err(ServeError::from)??;
        if let Some(exp) = &r.experiment {
            body.push_str("<h3>Coherence by minimum cluster size</h3><div id=\"coherence-chart\">");
            body.push_str(&bertopic::report::curve_svg(exp));
            body.push_str("</div>");
            if let Some(best) = exp
                .best_trial
                .and_then(|b| exp.trials.iter().find(|t| t.id == b))
            {
                let _ = write!(
                    body,
                    "<p id=\"best-trial\">Best: trial {} — min_cluster_size {}, {} {:.4}, {} topics</p>",
                    best.id + 1,
                    best.params.min_cluster_size,
                    exp.objective,
                    best.objective.unwrap_or(f64::NAN),
                    best.metrics.n_topics
                );
            }
        }
        body.push_str("<h3>Topics</h3><table id=\"topic-table\"><tr><th>Topic</th><th>Documents</th><th>Label</th><th>Top words</th></tr>");
        for t in model.topics() {
            let words: Vec<&str> = t.words.iter().take(10).map(|(w, _)| w.as_str()).collect();
            let _ = write!(
                body,
                "<tr class=\"topic-row\"><td><a href=\"/train/jobs/{id}/documents?topic={t}\">{t}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                t.count,
                esc(t.label.as_deref().unwrap_or(&t.name)),
                esc(&words.join(", ")),
                id = job.id,
                t = t.id,
            );
        }
        let _ = write!(
            body,
            "</table><p><a id=\"docs-link\" href=\"/train/jobs/{id}/documents\">Explore documents</a> · \
             <a id=\"export-topics\" href=\"/train/jobs/{id}/files/topic_info.csv\">topic_info.csv</a> · \
             <a id=\"export-docs\" href=\"/train/jobs/{id}/files/document_topics.csv\">document_topics.csv</a></p>",
            id = job.id
        );
        for uri in &r.registered {
            let _ = write!(
                body,
                "<p id=\"registered\">registered as <a href=\"/monitor?model={u}\">{u}</a></p>",
                u = esc(uri)
            );
        }
        let _ = write!(
            body,
            "<form id=\"register-form\" class=\"card\" method=\"post\" action=\"/train/jobs/{id}/register\">\
             <b>Register this model</b><div class=\"row\"><label for=\"register-name\">Name</label><input id=\"register-name\" name=\"name\" value=\"{name}\" required></div>\
             <div class=\"row\"><label for=\"register-alias\">Alias (optional)</label><input id=\"register-alias\" name=\"alias\" placeholder=\"production\"></div>\
             <button id=\"register-button\" type=\"submit\">Register</button></form>",
            id = job.id,
            name = esc(&r.settings.name)
        );
    }
    let refresh = r.status.active().then_some(2);
    Ok(page(&format!("Job {}", job.id), Some("train"), &body, refresh).into_response())
}

#[derive(Deserialize)]
struct RegisterForm {
    name: String,
    #[serde(default)]
    alias: String,
}

async fn register(
    State(state): St,
    Path(id): Path<String>,
    Form(f): Form<RegisterForm>,
) -> PageResult {
    let job = state.jobs.get(&id)?;
    let st = state.clone();
    tokio::task::spawn_blocking(move || -> Result<()> {
        let name = f.name.trim();
        let alias = f.alias.trim();
        bertopic::registry::validate_name(name)?;
        if !alias.is_empty() {
            bertopic::registry::validate_alias(alias)?;
        }
        let metrics = jobs::registry_metrics(&job)?;
        let v = st.registry.register(name, &job.model_dir(), metrics)?;
        if !alias.is_empty() {
            st.registry.set_alias(name, alias, v.version)?;
        }
        job.registered(v.uri().to_string());
        // The local registry is what this server serves; MLflow's copy is a convenience, so
        // its failure is reported on the job page and not an error.
        match job.register_in_mlflow(st.config.tracking.as_ref(), name, alias) {
            Some(Ok(uri)) => job.note(format!("registered in MLflow as {uri}")),
            Some(Err(e)) => job.note(format!("MLflow registration failed: {e}")),
            None => {}
        }
        Ok(())
    })
    .await
    .map_err(ServeError::from)??;
    Ok(Redirect::to(&format!("/train/jobs/{id}")).into_response())
}

#[derive(Deserialize)]
struct DocQuery {
    topic: Option<String>,
    q: Option<String>,
    /// 1-based page of the matches.
    page: Option<usize>,
}

/// Rows on one explorer page.
const EXPLORER_ROWS: usize = 100;
/// Characters of a document shown in its row (the whole text is its tooltip).
const EXPLORER_CHARS: usize = 400;

/// Percent-encodes a query-string value.
fn url_encode(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                o.push(b as char)
            }
            _ => {
                let _ = write!(o, "%{b:02X}");
            }
        }
    }
    o
}

async fn documents(
    State(state): St,
    Path(id): Path<String>,
    Query(dq): Query<DocQuery>,
) -> PageResult {
    let job = state.jobs.get(&id)?;
    let topic: Option<i64> =
        match dq.topic.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(t) => Some(t.parse().map_err(|_| {
                ServeError::BadRequest(format!("topic `{t}` is not a topic number"))
            })?),
        };
    let q = dq.q.unwrap_or_default();
    let j = job.clone();
    let (model, docs) =
        tokio::task::spawn_blocking(move || Ok::<_, ServeError>((j.model()?, j.documents()?)))
            .await
            .map_err(ServeError::from)??;
    let needle = q.to_lowercase();
    let topics = model.document_topics();
    let probs = model.document_probabilities();
    let mut rows = String::new();
    let page_no = dq.page.unwrap_or(1).max(1);
    let first = (page_no - 1).saturating_mul(EXPLORER_ROWS);
    let mut shown = 0;
    let mut matched = 0;
    for (i, (row, text)) in docs.iter().enumerate() {
        let t = topics.get(i).copied().unwrap_or(-1);
        if topic.is_some_and(|want| want != t)
            || (!needle.is_empty() && !text.to_lowercase().contains(&needle))
        {
            continue;
        }
        matched += 1;
        if matched > first && shown < EXPLORER_ROWS {
            shown += 1;
            let mut short: String = text.chars().take(EXPLORER_CHARS).collect();
            if short.len() < text.len() {
                short.push('…');
            }
            let _ = write!(
                rows,
                "<tr class=\"doc-row\"><td>{row}</td><td>{t}</td><td>{:.3}</td><td title=\"{}\">{}</td></tr>",
                probs.get(i).copied().unwrap_or(0.0),
                esc(text),
                esc(&short)
            );
        }
    }
    let mut options = String::from("<option value=\"\">all topics</option>");
    for t in model.topics() {
        let _ = write!(
            options,
            "<option value=\"{id}\"{sel}>{id}: {}</option>",
            esc(t.label.as_deref().unwrap_or(&t.name)),
            id = t.id,
            sel = if topic == Some(t.id) { " selected" } else { "" }
        );
    }
    let body = format!(
        "<h2>Documents of job {id}</h2><p><a href=\"/train/jobs/{id}\">back to the job</a></p>\
         <form id=\"doc-search\" class=\"card\" method=\"get\"><input name=\"q\" value=\"{q}\" placeholder=\"search text\"> \
         <select name=\"topic\">{options}</select> <button type=\"submit\">Search</button></form>\
         <p id=\"doc-count\">{matched} document(s){more}</p>\
         <table id=\"doc-table\"><tr><th>Row</th><th>Topic</th><th>Probability</th><th>Text</th></tr>{rows}</table>",
        id = esc(&job.id),
        q = esc(&q),
        more = if matched > EXPLORER_ROWS {
            let link = |p: usize, text: &str| {
                format!(
                    " <a href=\"?q={}&amp;topic={}&amp;page={p}\">{text}</a>",
                    url_encode(&q),
                    topic.map_or(String::new(), |t| t.to_string())
                )
            };
            let last = matched.div_ceil(EXPLORER_ROWS);
            format!(
                "; page {page_no} of {last}{}{}",
                if page_no > 1 { link(page_no - 1, "previous") } else { String::new() },
                if page_no < last { link(page_no + 1, "next") } else { String::new() },
            )
        } else {
            String::new()
        },
    );
    Ok(page("Documents", Some("train"), &body, None).into_response())
}

async fn download(State(state): St, Path((id, file)): Path<(String, String)>) -> PageResult {
    let job = state.jobs.get(&id)?;
    let j = job.clone();
    // Only these two names: nothing in the request becomes part of a path.
    let (name, bytes) = tokio::task::spawn_blocking(move || -> Result<(&'static str, Vec<u8>)> {
        match file.as_str() {
            "topic_info.csv" => {
                j.model()?; // only a finished job has files
                let path = j.model_dir().join("topic_info.csv");
                let bytes = std::fs::read(&path).map_err(|e| {
                    ServeError::Internal(format!("cannot read {}: {e}", path.display()))
                })?;
                Ok(("topic_info.csv", bytes))
            }
            "document_topics.csv" => Ok(("document_topics.csv", document_csv(&j)?)),
            other => Err(ServeError::NotFound(format!(
                "no file `{other}`: the exports are topic_info.csv and document_topics.csv"
            ))),
        }
    })
    .await
    .map_err(ServeError::from)??;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}-{name}\"", job.id),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `row,topic,probability,label,text` of every training document.
fn document_csv(job: &Job) -> Result<Vec<u8>> {
    let model = job.model()?;
    let docs = job.documents()?;
    let mut w = csv_writer();
    let csv_err = |e: csv::Error| ServeError::Internal(format!("cannot write the CSV: {e}"));
    w.write_record(["row", "topic", "probability", "label", "text"])
        .map_err(csv_err)?;
    for (i, (row, text)) in docs.iter().enumerate() {
        let t = model.document_topics().get(i).copied().unwrap_or(-1);
        let p = model
            .document_probabilities()
            .get(i)
            .copied()
            .unwrap_or(0.0);
        w.write_record([
            row.to_string(),
            t.to_string(),
            format!("{p:.6}"),
            topic_label(&model, t),
            text.clone(),
        ])
        .map_err(csv_err)?;
    }
    w.into_inner()
        .map_err(|e| ServeError::Internal(format!("cannot write the CSV: {e}")))
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::Writer::from_writer(Vec::new())
}

// ---------------------------------------------------------------- Model Monitoring

/// The `<option>`s of every registered version and alias.
fn model_options(state: &AppState, selected: Option<&str>) -> Result<String> {
    let mut o = String::new();
    for row in api::model_rows(state)? {
        let mut uris = vec![row.uri.clone()];
        uris.extend(
            row.aliases
                .iter()
                .map(|a| format!("models:/{}@{a}", row.name)),
        );
        for u in uris {
            let _ = write!(
                o,
                "<option value=\"{u}\"{}>{u}</option>",
                if selected == Some(u.as_str()) {
                    " selected"
                } else {
                    ""
                },
                u = esc(&u)
            );
        }
    }
    Ok(o)
}

async fn monitor_page(State(state): St, Query(q): Query<ModelQuery>) -> PageResult {
    let st = state.clone();
    let body = tokio::task::spawn_blocking(move || -> Result<String> {
        let options = model_options(&st, q.model.as_deref())?;
        if options.is_empty() {
            return Ok("<h2>Model monitoring</h2><p id=\"no-models\">No model is registered yet: \
                       train one in the <a href=\"/train\">Training tab</a> and register it.</p>"
                .into());
        }
        let mut body = format!(
            "<h2>Model monitoring</h2>\
             <form id=\"monitor-form\" class=\"card\" method=\"post\" action=\"/monitor\" enctype=\"multipart/form-data\">\
             <div class=\"row\"><label for=\"model\">Model</label><select id=\"model\" name=\"model\">{options}</select></div>\
             <div class=\"row\"><label for=\"batch\">New batch (CSV)</label><input type=\"file\" id=\"batch\" name=\"file\" required></div>\
             <button id=\"run-monitor\" type=\"submit\">Run the drift report</button></form>"
        );
        if let Some(m) = q.model.as_deref().filter(|m| !m.is_empty()) {
            let r = st.resolve(Some(m))?;
            body.push_str(&history_html(&monitor::read_history(&r.version.path)?, &r.uri));
        }
        Ok(body)
    })
    .await
    .map_err(ServeError::from)??;
    Ok(page("Monitoring", Some("monitor"), &body, None).into_response())
}

async fn monitor_submit(State(state): St, mut form: Multipart) -> PageResult {
    let mut model = None;
    let mut upload = None;
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        match field.name().unwrap_or_default() {
            "file" => {
                let name = field.file_name().unwrap_or("batch.csv").to_string();
                upload = Some((name, field_bytes(field).await?));
            }
            "model" => model = Some(text_field(field_bytes(field).await?, "model")?),
            _ => {}
        }
    }
    let (filename, bytes) = upload
        .filter(|(_, b)| !b.is_empty())
        .ok_or_else(|| ServeError::BadRequest("choose a batch file to upload".into()))?;
    let r = state.resolve(model.as_deref())?;
    let st = state.clone();
    let (report, history, uri, topics, tracked) = heavy(&state, move || {
        let texts = read_batch(&filename, &bytes)?;
        let (report, tracked) = api::monitor_docs(&st, &r, &texts, None, filename)?;
        let model = st.model(&r)?;
        let topics: BTreeMap<i64, String> = model
            .topics()
            .iter()
            .map(|t| (t.id, topic_label(&model, t.id)))
            .collect();
        let history = monitor::read_history(&r.version.path)?;
        Ok((report, history, r.uri, topics, tracked))
    })
    .await?;
    let mut body = report_html(&report, &topics, &uri);
    if let Some(line) = tracked {
        let _ = write!(
            body,
            "<p id=\"monitor-tracked\" class=\"muted\">{}</p>",
            esc(&line)
        );
    }
    body.push_str(&history_html(&history, &uri));
    Ok(page("Drift report", Some("monitor"), &body, None).into_response())
}

/// The batch's texts, read like `bertopic monitor` reads a file (no de-duplication).
fn read_batch(filename: &str, bytes: &[u8]) -> Result<Vec<String>> {
    let dir = tempfile_dir()?;
    // The extension tells the reader the format (CSV, TSV, JSONL, text).
    let ext = std::path::Path::new(filename)
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| e.chars().all(|c| c.is_ascii_alphanumeric()) && e.len() <= 5)
        .unwrap_or("csv");
    let path = dir.path.join(format!("batch.{ext}"));
    std::fs::write(&path, bytes)
        .map_err(|e| ServeError::Internal(format!("cannot store the batch: {e}")))?;
    let read = ReadOptions {
        dedupe: false,
        min_docs: 1,
        ..ReadOptions::default()
    };
    let corpus = bertopic::jobs::Corpus::read(&path, &read).map_err(|e| {
        ServeError::BadRequest(format!(
            "the uploaded batch `{filename}` cannot be used: {e}"
        ))
    })?;
    Ok(corpus.texts())
}

/// A private folder removed when dropped (uploads are parsed from a file).
struct TempDir {
    path: std::path::PathBuf,
}

fn tempfile_dir() -> Result<TempDir> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let path = std::env::temp_dir().join(format!(
        "bertopic-serve-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir(&path)
        .map_err(|e| ServeError::Internal(format!("cannot make {}: {e}", path.display())))?;
    Ok(TempDir { path })
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn report_html(r: &MonitorReport, labels: &BTreeMap<i64, String>, uri: &str) -> String {
    let d = &r.drift;
    let level = d.level.to_string();
    let mut o = format!(
        "<h2>Drift report — {}</h2><p>Drift level: <b id=\"drift-level\" class=\"{level}\">{level}</b> \
         <span class=\"muted\">{} documents, {:.2} ms/doc to assign, {:.1} s in all</span></p><ul id=\"reasons\">",
        esc(uri),
        r.batch.docs,
        r.batch.seconds_per_doc * 1000.0,
        r.batch.total_seconds
    );
    for reason in &d.reasons {
        let _ = write!(o, "<li>{}</li>", esc(reason));
    }
    if d.reasons.is_empty() {
        o.push_str("<li>no voting signal is above LOW</li>");
    }
    o.push_str("</ul><table id=\"signals\"><tr><th>Signal</th><th>Level</th><th>Votes</th><th>Metric</th><th>Value</th><th>p</th></tr>");
    let votes = |name: &str| {
        d.voting
            .iter()
            .any(|k| format!("{k:?}").eq_ignore_ascii_case(name))
    };
    for (name, s) in &HistoryEntry::from(r).signals {
        let _ = write!(
            o,
            "<tr><td>{name}</td><td class=\"{l}\">{l}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if votes(name) { "yes" } else { "no (reported only)" },
            esc(&s.metric),
            s.value.map_or("–".into(), |v| format!("{v:.4}")),
            s.p_value.map_or(String::new(), |p| format!("{p:.3}")),
            l = s.level
        );
    }
    o.push_str("</table>");
    if !d.notes.is_empty() {
        o.push_str("<details><summary>Notes</summary><ul>");
        for n in &d.notes {
            let _ = write!(o, "<li>{}</li>", esc(n));
        }
        o.push_str("</ul></details>");
    }
    let label = |t: i64| {
        if t < 0 {
            return "outliers".to_string();
        }
        let l = labels.get(&t).cloned().unwrap_or_default();
        let short: String = l.chars().take(14).collect();
        format!("{t} {short}")
    };
    o.push_str("<div class=\"charts\">");
    if let Some(TopicDrift::ReRepresent(k)) = &d.topic_drift {
        let bars: Vec<(String, f64)> = k
            .scored
            .iter()
            .map(|t| (label(t.topic), t.jaccard))
            .collect();
        let _ = write!(
            o,
            "<div id=\"topic-drift-chart\">{}</div>",
            viz::bars(
                "Keyword overlap with training (Jaccard) per topic",
                &bars,
                viz::color(0),
                620.0
            )
        );
    }
    if let Some(x) = &d.distribution_drift {
        let segments = |batch: bool| -> Vec<Segment> {
            x.topics
                .iter()
                .map(|t| {
                    let share = if batch {
                        t.batch_share
                    } else {
                        t.training_share
                    };
                    Segment {
                        value: share,
                        color: viz::topic_color(t.topic).to_string(),
                        title: format!("{}: {:.1}%", label(t.topic), 100.0 * share),
                    }
                })
                .collect()
        };
        let legend: Vec<(String, String)> = x
            .topics
            .iter()
            .take(14)
            .map(|t| (viz::topic_color(t.topic).to_string(), label(t.topic)))
            .collect();
        let _ = write!(
            o,
            "<div id=\"topic-share-chart\">{}</div>",
            viz::stacked_bars(
                "Topic shares: training vs batch",
                &[
                    ("training".into(), segments(false)),
                    ("batch".into(), segments(true)),
                ],
                &legend,
                640.0
            )
        );
    }
    o.push_str("</div>");
    o
}

fn history_html(entries: &[HistoryEntry], uri: &str) -> String {
    let mut o = format!(
        "<h3>Monitoring history of {}</h3><div id=\"history\">",
        esc(uri)
    );
    if entries.is_empty() {
        o.push_str("<p class=\"muted\">no monitoring runs yet</p></div>");
        return o;
    }
    let ticks: Vec<(f64, String)> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (i as f64, e.timestamp.get(5..16).unwrap_or("").to_string()))
        .collect();
    let series = |name: &str, color: usize, f: &dyn Fn(&HistoryEntry) -> Option<f64>| Series {
        name: name.to_string(),
        color: viz::color(color).to_string(),
        points: entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                f(e).map(|v| {
                    (
                        i as f64,
                        v,
                        format!("{}: {v:.4} ({})", e.timestamp, e.level),
                    )
                })
            })
            .collect(),
    };
    let signal =
        |name: &'static str| move |e: &HistoryEntry| e.signals.get(name).and_then(|s| s.value);
    let level = |e: &HistoryEntry| Some(api::level_number(e.level) as f64);
    let ms = |e: &HistoryEntry| Some(e.seconds_per_doc * 1000.0);
    let c_v = signal("quality");
    let jaccard = signal("topic");
    let _ = write!(
        o,
        "<div id=\"history-charts\" class=\"charts\">{}{}{}</div>",
        viz::lines(
            "Coherence (c_v) and keyword overlap on each batch",
            &[
                series("c_v", 0, &c_v),
                series("mean keyword Jaccard", 1, &jaccard)
            ],
            &ticks,
            ("run", "value"),
            640.0,
            300.0
        ),
        viz::lines(
            "Drift level (0 LOW, 1 MEDIUM, 2 HIGH)",
            &[series("level", 3, &level)],
            &ticks,
            ("run", "level"),
            640.0,
            300.0
        ),
        viz::lines(
            "Topic assignment time (embedding excluded)",
            &[series("ms per document", 2, &ms)],
            &ticks,
            ("run", "ms/doc"),
            640.0,
            300.0
        ),
    );
    o.push_str("<table><tr><th>When</th><th>Source</th><th>Documents</th><th>Level</th><th>Reasons</th></tr>");
    for e in entries.iter().rev().take(50) {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"{l}\">{l}</td><td>{}</td></tr>",
            esc(&e.timestamp),
            esc(e.source.as_deref().unwrap_or("")),
            e.docs,
            esc(&e.reasons.join("; ")),
            l = e.level
        );
    }
    o.push_str("</table></div>");
    o
}

// ---------------------------------------------------------------- Tracking

async fn tracking(State(state): St) -> PageResult {
    let st = state.clone();
    let body = tokio::task::spawn_blocking(move || crate::tracking_tab::render(&st))
        .await
        .map_err(ServeError::from)??;
    Ok(page("Tracking", Some("tracking"), &body, None).into_response())
}

async fn tracking_run(State(state): St, Path(run_id): Path<String>) -> PageResult {
    let st = state.clone();
    let body = tokio::task::spawn_blocking(move || crate::tracking_tab::run_page(&st, &run_id))
        .await
        .map_err(ServeError::from)??;
    Ok(page("Run", Some("tracking"), &body, None).into_response())
}
