//! bertopic-registry: reserved crate, nothing implemented yet.
//!
//! Planned (see shared/DESIGN.md): a versioned model store with atomic writes and aliases, and experiment tracking (MLflow file store and REST).
//! No public API exists yet, so nothing can be called by mistake.
