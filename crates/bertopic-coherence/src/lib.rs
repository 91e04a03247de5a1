//! bertopic-coherence (work in progress).
