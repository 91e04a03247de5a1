//! Placeholder; replaced by the sotu-chunks c_v bench.
fn main() {}
