//! The Tracking tab: the tracker's experiments and runs, and the registered models.

use std::fmt::Write as _;

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
            if uri.is_rest() {
                let _ = write!(
                    o,
                    "<p><a id=\"mlflow-link\" href=\"{u}\" target=\"_blank\" rel=\"noopener\">Open the MLflow UI</a></p>",
                    u = esc(uri.to_string().trim_end_matches('/'))
                );
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
