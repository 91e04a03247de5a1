//! HDBSCAN (BERTopic's defaults) on a reduced embedding stored as `.npy`, for the stage swap of
//! issue #22: run our clustering on umap-learn's 5-D output and compare with Python's hdbscan.
//!
//! ```text
//! cargo run -p bertopic-cluster --example hdbscan_npy -- umap.npy [min_cluster_size] [labels.txt]
//! ```
//!
//! Prints the cluster count and outlier share; writes one label per line when a path is given.

use std::error::Error;

use bertopic_cluster::{FittedClusterer, Hdbscan, HdbscanParams};
use ndarray::Array2;

/// Reads a 2-D `.npy` with the workspace's one parser (`bertopic_fs::npy`; values come back as
/// f32, which holds umap-learn's float32 output exactly).
fn read_npy(path: &str) -> Result<Array2<f64>, Box<dyn Error>> {
    let m =
        bertopic_fs::npy::parse_npy(&std::fs::read(path)?).map_err(|e| format!("{path}: {e}"))?;
    let values: Vec<f64> = m.values.iter().map(|&v| v as f64).collect();
    Ok(Array2::from_shape_vec((m.rows, m.cols), values)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .ok_or("usage: hdbscan_npy FILE.npy [min_cluster_size] [labels.txt]")?;
    let min_cluster_size = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(10);
    let data = read_npy(path)?;
    let fitted = Hdbscan::new(HdbscanParams {
        min_cluster_size,
        ..HdbscanParams::default()
    })?
    .fit_concrete(data.view())?;
    let labels = fitted.labels();
    let outliers = labels.iter().filter(|&&l| l < 0).count() as f64 / labels.len() as f64;
    println!(
        "{{\"input\": \"{path}\", \"topics\": {}, \"outliers\": {outliers:.4}}}",
        fitted.n_clusters()
    );
    if let Some(out) = args.get(2) {
        let text: String = labels.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(out, text)?;
    }
    Ok(())
}
