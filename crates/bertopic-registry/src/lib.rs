//! bertopic-registry (work in progress).
