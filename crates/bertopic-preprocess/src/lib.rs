//! bertopic-preprocess (work in progress).
