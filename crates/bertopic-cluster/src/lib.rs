//! bertopic-cluster (work in progress).
