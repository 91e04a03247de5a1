//! Recall and time of the approximate k-NN (RP forest + NN-descent) against the exact one, on
//! real embeddings tiled beyond the file's rows the way `examples/scale_bench.rs` tiles them
//! (each new row leans towards one of its source row's 15 nearest real neighbours, plus ±0.005
//! seeded noise, then unit length).
//!
//! `cargo run --release -p bertopic-reduce --example knn_bench -- <path.npy> <n> [exact-cache]`
//!
//! The exact graph takes minutes from 100k rows; with `exact-cache` (a file path) it is read
//! from there when present and written there otherwise; `-` skips it (the approximate graph's
//! time only, no recall).

use std::time::Instant;

use bertopic_reduce::{knn, read_npy_f32, Metric};
use ndarray::Array2;

/// Same rows as `examples/scale_bench.rs`'s `tiled`.
fn tiled(base: &Array2<f32>, n: usize) -> Result<Array2<f32>, Box<dyn std::error::Error>> {
    const TILE_NEIGHBOURS: usize = 15;
    let m = base.nrows();
    if n <= m {
        return Ok(base.slice(ndarray::s![..n, ..]).to_owned());
    }
    let g = knn(base.view(), TILE_NEIGHBOURS, Metric::Cosine, 42, usize::MAX)?;
    Ok(bertopic_testdata::tile_towards_neighbours(
        base.view(),
        n,
        &g.indices,
        TILE_NEIGHBOURS,
    ))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .ok_or("usage: knn_bench <path.npy> <n> [exact-cache]")?;
    let n: usize = args.get(1).ok_or("missing <n>")?.parse()?;
    let x = tiled(&read_npy_f32(path.as_ref())?, n)?;
    let k = 14;
    let t = Instant::now();
    let approx = knn(x.view(), k, Metric::Cosine, 42, 0)?;
    let approx_s = t.elapsed().as_secs_f64();
    if args.get(2).is_some_and(|a| a == "-") {
        println!("n={n} k={k} approx_s={approx_s:.1} (no exact graph: no recall)");
        return Ok(());
    }
    let cache = args.get(2).map(std::path::PathBuf::from);
    let t = Instant::now();
    let exact: Vec<u32> = match cache.as_ref().and_then(|c| std::fs::read(c).ok()) {
        Some(b) if b.len() == n * k * 4 => b
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        _ => {
            let e = knn(x.view(), k, Metric::Cosine, 42, usize::MAX)?.indices;
            if let Some(c) = &cache {
                let bytes: Vec<u8> = e.iter().flat_map(|v| v.to_le_bytes()).collect();
                std::fs::write(c, bytes)?;
            }
            e
        }
    };
    let exact_s = t.elapsed().as_secs_f64();
    let hits: usize = (0..n)
        .map(|i| {
            let e = &exact[i * k..(i + 1) * k];
            approx.indices[i * k..(i + 1) * k]
                .iter()
                .filter(|j| e.contains(j))
                .count()
        })
        .sum();
    println!(
        "n={n} k={k} recall={:.4} approx_s={approx_s:.1} exact_s={exact_s:.1}{}",
        hits as f64 / (n * k) as f64,
        if cache.is_some() {
            " (exact may be cached)"
        } else {
            ""
        }
    );
    Ok(())
}
