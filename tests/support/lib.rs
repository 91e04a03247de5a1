//! Helpers shared by the workspace-level examples, integration tests and benches:
//! where the shared corpora live, and clustering scores against human labels.

use std::path::PathBuf;

/// The `shared/` folder beside the repository (corpora, reference values), or `$BERTOPIC_SHARED`.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("BERTOPIC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared")))
}

/// A file under `shared/data/`.
pub fn data(name: &str) -> PathBuf {
    shared_dir().join("data").join(name)
}
