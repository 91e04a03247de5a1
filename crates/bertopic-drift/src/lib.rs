//! bertopic-drift: reserved crate, nothing implemented yet.
//!
//! Planned (see shared/DESIGN.md): topic drift (Jaccard of matched topics), distribution drift (JS divergence / PSI) and embedding drift (MMD) with LOW / MEDIUM / HIGH levels.
//! No public API exists yet, so nothing can be called by mistake.
