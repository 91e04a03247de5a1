//! The web app and JSON API behind `bertopic serve`.
//!
//! Three tabs, rendered on the server (no JavaScript needed, no CDN: the app works offline):
//! **Training & Analysis** (upload a CSV, train in the background with live progress, the
//! coherence curve, topics, a document explorer, CSV exports, "register this model"),
//! **Model Monitoring** (a registered model against a new batch: the drift report with its
//! charts, and the monitoring history) and **Tracking** (experiments, runs and registered
//! models). Beside them a JSON API: `POST /api/v1/predict`, `GET /api/v1/topics`,
//! `GET /api/v1/models`, `POST /api/v1/monitor`, `GET /healthz` and `GET /metrics`
//! (Prometheus).
//!
//! Models come from the local registry ([`bertopic::registry`]); training runs are tracked in
//! MLflow when a tracking URI is configured ([`bertopic::track`]). The server binds to
//! 127.0.0.1 unless told otherwise; it has no authentication or TLS of its own, so expose it
//! through a reverse proxy that adds them.
//!
//! ```no_run
//! # fn main() -> bertopic_serve::Result<()> {
//! let server = bertopic_serve::Server::start(bertopic_serve::ServeConfig::default())?;
//! println!("listening on http://{}", server.addr());
//! server.run_until_signal() // SIGINT or SIGTERM: graceful shutdown
//! # }
//! ```

#![warn(missing_docs)]

mod api;
mod drain;
mod error;
mod jobs;
mod metrics;
mod pages;
mod state;
mod tracking_tab;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use bertopic::registry::Registry;
use bertopic::tracking::TrackingUri;

pub use error::{Result, ServeError};

use state::AppState;

/// How the server runs. [`Default`] gives `bertopic serve`'s defaults.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address to bind (default 127.0.0.1:8501; port 0 picks a free one).
    pub addr: SocketAddr,
    /// The model registry the tabs and the API read and register into.
    pub registry: PathBuf,
    /// Uploads and training jobs (default: `serve` beside the registry folder).
    pub data: PathBuf,
    /// Where training runs are tracked, and what the Tracking tab shows.
    pub tracking: Option<TrackingUri>,
    /// MLflow experiment of the training runs.
    pub experiment: String,
    /// The API's model when a request names none (else `@production`, else the newest).
    pub model: Option<String>,
    /// Largest CSV upload, bytes.
    pub max_upload_bytes: usize,
    /// Largest JSON body, bytes.
    pub max_body_bytes: usize,
    /// Most documents in one API request.
    pub max_documents: usize,
    /// Training jobs read and write the on-disk embedding cache (API requests never write it).
    pub cache: bool,
}

impl Default for ServeConfig {
    fn default() -> Self {
        let registry = Registry::default_root();
        ServeConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 8501)),
            data: default_data(&registry),
            registry,
            tracking: None,
            experiment: bertopic::tracking::DEFAULT_EXPERIMENT.to_string(),
            model: None,
            max_upload_bytes: 50 << 20,
            max_body_bytes: 10 << 20,
            max_documents: 10_000,
            cache: true,
        }
    }
}

/// `serve` beside the registry folder.
pub fn default_data(registry: &std::path::Path) -> PathBuf {
    registry
        .parent()
        .map_or_else(|| PathBuf::from("serve"), |p| p.join("serve"))
}

impl ServeConfig {
    fn validate(&self) -> Result<()> {
        if self.max_upload_bytes == 0 || self.max_body_bytes == 0 || self.max_documents == 0 {
            return Err(ServeError::Config(
                "size limits must be positive".to_string(),
            ));
        }
        if let Some(m) = &self.model {
            if bertopic::registry::ModelUri::is_uri(m) {
                m.parse::<bertopic::registry::ModelUri>()?;
            } else {
                bertopic::registry::validate_name(m)?;
            }
        }
        Ok(())
    }
}

/// The routes, with the request metrics around them.
fn router(state: Arc<AppState>) -> Router {
    // Past a limit, up to one more limit's worth of the body is drained so that the client
    // reads the 413 (see `drain`); a body over twice the limit is cut off.
    let upload_limit = state.config.max_upload_bytes.saturating_add(64 << 10);
    let pages = pages::routes()
        .layer(DefaultBodyLimit::max(upload_limit))
        .layer(middleware::from_fn_with_state(
            upload_limit,
            drain::drain_oversized,
        ));
    let api = Router::new()
        .route("/api/v1/predict", post(api::predict))
        .route("/api/v1/topics", get(api::topics))
        .route("/api/v1/models", get(api::models))
        .route("/api/v1/monitor", post(api::monitor))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            state.config.max_body_bytes,
            drain::drain_oversized,
        ));
    Router::new()
        .merge(pages)
        .merge(api)
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .fallback(pages::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Counts each request by its route pattern and status, and times it.
async fn observe(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_string();
    let start = Instant::now();
    let res = next.run(req).await;
    state
        .metrics
        .request(&route, res.status().as_u16(), start.elapsed());
    res
}

/// A running server: its own tokio runtime on a background thread.
pub struct Server {
    addr: SocketAddr,
    state: Arc<AppState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<()>>>,
}

impl Server {
    /// Checks the configuration, binds the address and starts serving.
    pub fn start(config: ServeConfig) -> Result<Server> {
        config.validate()?;
        let listener =
            std::net::TcpListener::bind(config.addr).map_err(|source| ServeError::Bind {
                addr: config.addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| ServeError::Bind {
            addr: config.addr,
            source,
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| ServeError::Bind { addr, source })?;
        let state = Arc::new(AppState::new(config));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("bertopic-serve")
            .build()
            .map_err(|e| ServeError::Internal(format!("cannot start the async runtime: {e}")))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = router(state.clone());
        let st = state.clone();
        let thread = std::thread::Builder::new()
            .name("bertopic-serve".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)
                        .map_err(|source| ServeError::Bind { addr, source })?;
                    axum::serve(listener, app)
                        .with_graceful_shutdown(async move {
                            tokio::select! {
                                _ = stopped => {}
                                _ = shutdown_signal() => {}
                            }
                            // Before in-flight requests drain: running training jobs stop
                            // with the process, so their MLflow runs are marked KILLED now.
                            st.jobs.interrupt_all();
                        })
                        .await
                        .map_err(|e| ServeError::Internal(format!("the server failed: {e}")))
                })
            })
            .map_err(|e| ServeError::Internal(format!("cannot start the server thread: {e}")))?;
        Ok(Server {
            addr,
            state,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The bound address (the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The registry the server uses.
    pub fn registry(&self) -> &Registry {
        &self.state.registry
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully: no new connections,
    /// in-flight requests finish, running training jobs are marked interrupted and their
    /// tracked runs KILLED.
    pub fn run_until_signal(mut self) -> Result<()> {
        // The stop handle stays alive (dropping it would stop the server): a signal ends it.
        self.join()
    }

    /// Shuts down gracefully now (see [`run_until_signal`](Self::run_until_signal)).
    pub fn shutdown(mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.join()
    }

    fn join(&mut self) -> Result<()> {
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| ServeError::Internal("the server thread panicked".into()))?,
            None => Ok(()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
            let _ = self.join();
        }
    }
}

/// SIGINT (Ctrl-C) or SIGTERM (`docker stop`, systemd).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
