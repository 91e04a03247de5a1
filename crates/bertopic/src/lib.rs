//! bertopic facade (work in progress).
