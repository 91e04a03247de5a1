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

/// Reads a little-endian float32/float64 C-order 2-D `.npy` (format versions 1–3).
fn read_npy(path: &str) -> Result<Array2<f64>, Box<dyn Error>> {
    let bytes = std::fs::read(path)?;
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(format!("{path}: not a .npy file").into());
    }
    let (hlen, start) = if bytes[6] == 1 {
        (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10)
    } else {
        (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        )
    };
    let header = std::str::from_utf8(&bytes[start..start + hlen])?;
    if header.contains("'fortran_order': True") {
        return Err(format!("{path}: Fortran order is not supported").into());
    }
    let shape: Vec<usize> = header
        .split("'shape': (")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .ok_or("no shape in the .npy header")?
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()?;
    let [rows, cols] = shape[..] else {
        return Err(format!("{path}: expected a 2-D array, got shape {shape:?}").into());
    };
    let body = &bytes[start + hlen..];
    let values: Vec<f64> = if header.contains("'<f4'") {
        body.chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")) as f64)
            .collect()
    } else if header.contains("'<f8'") {
        body.chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect()
    } else {
        return Err(format!("{path}: only little-endian float32/float64 are supported").into());
    };
    Ok(Array2::from_shape_vec((rows, cols), values)?)
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
