//! bertopic-drift (work in progress).
