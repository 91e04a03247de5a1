//! The Tracking tab: the tracker's experiments and runs, and the registered models.

use std::fmt::Write as _;

use bertopic::tracking::{RunSummary, TrackingReader, TrackingUri};
use bertopic::viz::esc;

use crate::api;
use crate::error::Result;
use crate::state::AppState;

pub(crate) fn render(state: &AppState) -> Result<String> {
    let mut o = String::from("<h2>Tracking</h2>");
    match &state.config.tracking {
        Some(uri) => {
            let _ = write!(
                o,
                "<p>Tracking URI: <code id=\"tracker\">{}</code></p>",
                esc(&uri.to_string())
            );
            // The registry below is useful on its own: a tracker that cannot be read is
            // reported on the page, not turned into an error page.
            match tracker_html(uri) {
                Ok(html) => o.push_str(&html),
                Err(e) => {
                    let _ = write!(
                        o,
                        "<p id=\"tracker-error\" class=\"error\">cannot read the tracker: {}</p>",
                        esc(&e.to_string())
                    );
                }
            }
        }
        None => o.push_str(
            "<p>Tracking URI: <code id=\"tracker\">none configured</code> \
             <span class=\"muted\">(start the server with --tracking-uri or MLFLOW_TRACKING_URI to track training runs)</span></p>",
        ),
    }
    o.push_str("<h3>Registered models (local registry)</h3>");
    let _ = write!(
        o,
        "<p class=\"muted\">{}</p><table id=\"registered-models\"><tr><th>Name</th><th>Version</th><th>Aliases</th><th>Registered</th><th>Metrics</th><th></th></tr>",
        esc(&state.registry.root().display().to_string())
    );
    for m in api::model_rows(state)? {
        let metrics: Vec<String> = m
            .metrics
            .iter()
            .map(|(k, v)| format!("{k} {v:.4}"))
            .collect();
        let _ = write!(
            o,
            "<tr class=\"model-row\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><a href=\"/monitor?model={u}\">monitor</a></td></tr>",
            esc(&m.name),
            m.version,
            esc(&m.aliases.join(", ")),
            esc(&m.created),
            esc(&metrics.join(", ")),
            u = esc(&m.uri),
        );
    }
    o.push_str("</table>");
    Ok(o)
}

/// Experiments shown, and runs per experiment.
const MAX_EXPERIMENTS: usize = 10;
const MAX_RUNS: usize = 100;
/// Parent runs whose artifacts are listed (one request each).
const MAX_ARTIFACT_RUNS: usize = 5;

fn time(ms: Option<u64>) -> String {
    ms.map_or(String::new(), |ms| bertopic::registry::rfc3339(ms / 1000))
}

fn compact<V: std::fmt::Display>(m: &std::collections::BTreeMap<String, V>, max: usize) -> String {
    let mut v: Vec<String> = m
        .iter()
        .take(max)
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if m.len() > max {
        v.push(format!("… {} more", m.len() - max));
    }
    esc(&v.join(", "))
}

fn metrics(m: &std::collections::BTreeMap<String, f64>) -> String {
    let short: std::collections::BTreeMap<String, String> = m
        .iter()
        .map(|(k, v)| (k.clone(), format!("{v:.4}")))
        .collect();
    compact(&short, 8)
}

fn run_row(o: &mut String, r: &RunSummary, child: bool, children: usize) {
    let _ = write!(
        o,
        "<tr class=\"run-row{}\"><td>{}<a href=\"/tracking/runs/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
        if child { " child" } else { "" },
        if child { "&nbsp;&nbsp;↳ " } else { "" },
        esc(&r.run_id),
        esc(&r.name),
        esc(&r.status),
        time(r.start_time),
        if child { String::new() } else { format!("{children} trial run(s)") },
        compact(&r.params, 8),
        metrics(&r.metrics),
        esc(&r.run_id),
    );
}

/// Experiments, runs (trial runs under their parent), artifacts and MLflow's registered models.
fn tracker_html(uri: &TrackingUri) -> bertopic::tracking::Result<String> {
    let reader: Box<dyn TrackingReader> = uri.open_reader()?;
    let mut o = String::new();
    if let Some(url) = reader.ui_url() {
        let _ = write!(
            o,
            "<p><a id=\"mlflow-link\" href=\"{u}\" target=\"_blank\" rel=\"noopener\">Open the MLflow UI</a></p>",
            u = esc(url.trim_end_matches('/'))
        );
    }
    let experiments = reader.experiments()?;
    o.push_str("<h3>Experiments</h3><table id=\"experiments\"><tr><th>Id</th><th>Name</th><th>State</th><th>Created</th></tr>");
    for e in &experiments.items {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&e.id),
            esc(&e.name),
            esc(&e.lifecycle),
            time(e.creation_time)
        );
    }
    o.push_str("</table><h3>Runs</h3><table id=\"runs\"><tr><th>Run</th><th>Status</th><th>Started</th><th>Trials</th><th>Params</th><th>Metrics</th><th>Id</th></tr>");
    let mut skipped: Vec<String> = experiments
        .skipped
        .iter()
        .map(|s| format!("{}: {}", s.what, s.reason))
        .collect();
    let mut parents_listed = Vec::new();
    for e in experiments.items.iter().take(MAX_EXPERIMENTS) {
        let runs = reader.runs(&e.id, MAX_RUNS)?;
        skipped.extend(
            runs.skipped
                .iter()
                .map(|s| format!("{}: {}", s.what, s.reason)),
        );
        if runs.items.is_empty() {
            continue;
        }
        let _ = write!(o, "<tr><th colspan=\"7\">{}</th></tr>", esc(&e.name));
        let known: Vec<&str> = runs.items.iter().map(|r| r.run_id.as_str()).collect();
        for parent in runs.items.iter().filter(|r| {
            r.parent_run_id
                .as_deref()
                .is_none_or(|p| !known.contains(&p))
        }) {
            let mut children: Vec<&RunSummary> = runs
                .items
                .iter()
                .filter(|r| r.parent_run_id.as_deref() == Some(parent.run_id.as_str()))
                .collect();
            // Trials in the order they ran (their start times can tie to the millisecond).
            children.sort_by_key(|r| (r.start_time, trial_number(&r.name), r.name.clone()));
            run_row(&mut o, parent, false, children.len());
            for c in &children {
                run_row(&mut o, c, true, 0);
            }
            parents_listed.push(parent.run_id.clone());
        }
    }
    o.push_str("</table>");
    let mut artifacts = String::new();
    for run in parents_listed.iter().take(MAX_ARTIFACT_RUNS) {
        match reader.artifacts(run, "") {
            Ok(list) if !list.items.is_empty() => {
                let files: Vec<String> = list
                    .items
                    .iter()
                    .map(|a| format!("{}{}", a.path, if a.is_dir { "/" } else { "" }))
                    .collect();
                let _ = write!(
                    artifacts,
                    "<li><code>{}</code>: {}</li>",
                    esc(run),
                    esc(&files.join(", "))
                );
            }
            Ok(_) => {}
            Err(e) => skipped.push(format!("artifacts of {run}: {e}")),
        }
    }
    if !artifacts.is_empty() {
        let _ = write!(
            o,
            "<h3>Artifacts of the newest runs</h3><ul id=\"artifacts\">{artifacts}</ul>"
        );
    }
    let models = reader.registered_models()?;
    if !models.items.is_empty() {
        o.push_str("<h3>Registered models in MLflow</h3><table id=\"mlflow-models\"><tr><th>Name</th><th>Versions</th><th>Aliases</th></tr>");
        for m in &models.items {
            let versions: Vec<String> = m
                .versions
                .iter()
                .map(|v| format!("{} ({})", v.version, v.status))
                .collect();
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&m.name),
                esc(&versions.join(", ")),
                compact(&m.aliases, 10)
            );
        }
        o.push_str("</table>");
    }
    skipped.extend(
        models
            .skipped
            .iter()
            .map(|s| format!("{}: {}", s.what, s.reason)),
    );
    if !skipped.is_empty() {
        o.push_str("<details><summary>Records that could not be read</summary><ul>");
        for s in &skipped {
            let _ = write!(o, "<li>{}</li>", esc(s));
        }
        o.push_str("</ul></details>");
    }
    Ok(o)
}

/// Whether `id` can be a run id (MLflow's are 32 hex digits); checked before it reaches the
/// tracker, where a file store would turn it into a path.
fn valid_run_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// One run: every param, metric and tag, and its artifacts.
pub(crate) fn run_page(state: &AppState, run_id: &str) -> Result<String> {
    use crate::error::ServeError;
    if !valid_run_id(run_id) {
        return Err(ServeError::NotFound(format!("no run `{run_id}`")));
    }
    let uri =
        state.config.tracking.as_ref().ok_or_else(|| {
            ServeError::NotFound("no tracker is configured (--tracking-uri)".into())
        })?;
    let unreadable = |e: bertopic::tracking::TrackError| {
        ServeError::NotFound(format!("run `{run_id}` cannot be read from {uri}: {e}"))
    };
    let reader = uri.open_reader().map_err(unreadable)?;
    let (run, skipped) = reader.run(run_id).map_err(unreadable)?;
    let mut o = format!(
        "<h2>Run {}</h2><p><a href=\"/tracking\">back to Tracking</a></p><p>Status <b id=\"run-status\">{}</b>, \
         started {}, ended {}{}</p>",
        esc(&run.name),
        esc(&run.status),
        time(run.start_time),
        time(run.end_time),
        run.parent_run_id.as_deref().map_or(String::new(), |p| format!(
            ", trial of <a href=\"/tracking/runs/{p}\">{p}</a>",
            p = esc(p)
        )),
    );
    let table = |o: &mut String, id: &str, title: &str, rows: Vec<(String, String)>| {
        let _ = write!(o, "<h3>{title}</h3><table id=\"{id}\">");
        for (k, v) in rows {
            let _ = write!(o, "<tr><th>{}</th><td>{}</td></tr>", esc(&k), esc(&v));
        }
        o.push_str("</table>");
    };
    table(
        &mut o,
        "run-params",
        "Parameters",
        run.params.clone().into_iter().collect(),
    );
    table(
        &mut o,
        "run-metrics",
        "Metrics (latest)",
        run.metrics
            .iter()
            .map(|(k, v)| (k.clone(), format!("{v}")))
            .collect(),
    );
    table(
        &mut o,
        "run-tags",
        "Tags",
        run.tags.clone().into_iter().collect(),
    );
    match reader.artifacts(run_id, "") {
        Ok(list) => {
            o.push_str("<h3>Artifacts</h3><ul id=\"run-artifacts\">");
            for a in &list.items {
                let _ = write!(
                    o,
                    "<li>{}{}{}</li>",
                    esc(&a.path),
                    if a.is_dir { "/" } else { "" },
                    a.size.map_or(String::new(), |s| format!(
                        " <span class=\"muted\">{s} bytes</span>"
                    ))
                );
            }
            o.push_str("</ul>");
        }
        Err(e) => {
            let _ = write!(
                o,
                "<p class=\"error\">artifacts cannot be listed: {}</p>",
                esc(&e.to_string())
            );
        }
    }
    if !skipped.is_empty() {
        o.push_str("<details><summary>Parts that could not be read</summary><ul>");
        for s in &skipped {
            let _ = write!(o, "<li>{}: {}</li>", esc(&s.what), esc(&s.reason));
        }
        o.push_str("</ul></details>");
    }
    Ok(o)
}

/// `trial-12` → 12, so trial runs sort as numbers.
fn trial_number(name: &str) -> Option<u64> {
    name.rsplit('-').next()?.parse().ok()
}
