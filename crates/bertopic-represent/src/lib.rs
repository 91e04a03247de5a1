//! bertopic-represent (work in progress).
