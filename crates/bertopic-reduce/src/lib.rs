//! bertopic-reduce (work in progress).
