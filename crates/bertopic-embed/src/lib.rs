//! bertopic-embed (work in progress).
