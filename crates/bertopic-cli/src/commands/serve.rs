//! `bertopic serve`: the web app and the JSON API.

use std::net::SocketAddr;

use bertopic::tracking::{TrackingUri, DEFAULT_EXPERIMENT};
use bertopic_serve::{ServeConfig, Server};

use crate::args::ServeArgs;
use crate::out::{self, CliResult, Out};

pub(crate) fn run(a: ServeArgs, o: Out) -> CliResult {
    let registry = a.registry.open().root().to_path_buf();
    let tracking = if TrackingUri::configured(a.tracking_uri.as_deref()) {
        Some(TrackingUri::resolve(a.tracking_uri.as_deref())?)
    } else {
        None
    };
    let config = ServeConfig {
        addr: SocketAddr::new(a.host, a.port),
        data: a
            .data
            .unwrap_or_else(|| bertopic_serve::default_data(&registry)),
        registry,
        tracking,
        experiment: a
            .experiment
            .unwrap_or_else(|| DEFAULT_EXPERIMENT.to_string()),
        model: a.model,
        max_upload_bytes: (a.max_upload_mb as usize) << 20,
        max_body_bytes: (a.max_body_mb as usize) << 20,
        max_documents: a.max_documents as usize,
        cache: !a.no_cache,
    };
    let (registry, data) = (config.registry.clone(), config.data.clone());
    let server = Server::start(config)?;
    // On stdout and first: scripts and tests read the address (the real port with --port 0).
    out::println(&format!("listening on http://{}", server.addr()))?;
    o.info(format!(
        "registry {}, data {}; Ctrl-C or SIGTERM stops the server",
        registry.display(),
        data.display()
    ));
    server.run_until_signal()?;
    o.info("stopped");
    Ok(())
}
