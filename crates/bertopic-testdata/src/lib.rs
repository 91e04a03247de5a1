//! Where the workspace's tests, benches and examples find the team's `shared/` folder (corpora and
//! reference values from the Python stack): one copy of the lookup instead of one per crate, so
//! every caller fails the same way, with one line, when the folder is missing.
#![warn(missing_docs)]

use std::path::{Path, PathBuf};

pub mod mlflow;

/// The `shared/` folder beside the repository, or `$BERTOPIC_SHARED`.
///
/// When it is missing (a bare clone), the calling test, example or bench fails with one line that
/// says where it looked and names `BERTOPIC_SHARED`, rather than with an I/O error and a trace.
pub fn shared_dir() -> PathBuf {
    let dir = std::env::var_os("BERTOPIC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")));
    if !dir.join("data").is_dir() {
        missing(&dir);
    }
    dir
}

/// A file under `shared/data/`.
pub fn data(name: &str) -> PathBuf {
    shared_dir().join("data").join(name)
}

/// A file under `shared/reference/`.
pub fn reference(name: &str) -> PathBuf {
    shared_dir().join("reference").join(name)
}

/// For each data row of `arxiv-cs-abstracts-200.csv` (file order), its 0-based data row in
/// `arxiv-cs-abstracts.csv`. The sample is a plain copy of those rows, matched here by title and
/// abstract, so a test can take the sample's rows of the full corpus' `.npy` embeddings.
pub fn arxiv_sample_rows() -> Vec<usize> {
    let key = |r: csv::StringRecord| (r[0].to_string(), r[1].to_string());
    let records = |name: &str| {
        let path = data(name);
        let mut reader = csv::Reader::from_path(&path)
            .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", path.display())));
        reader
            .records()
            .map(|r| key(r.unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())))))
            .collect::<Vec<_>>()
    };
    let index: std::collections::HashMap<_, usize> = records("arxiv-cs-abstracts.csv")
        .into_iter()
        .enumerate()
        .map(|(i, k)| (k, i))
        .collect();
    records("arxiv-cs-abstracts-200.csv")
        .iter()
        .map(|k| {
            *index.get(k).unwrap_or_else(|| {
                fail("a row of arxiv-cs-abstracts-200.csv is not in arxiv-cs-abstracts.csv")
            })
        })
        .collect()
}

/// A reference file under `shared/reference/`, parsed as JSON; fails with one line naming the file.
pub fn reference_json(name: &str) -> serde_json::Value {
    let path = reference(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", path.display())));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| fail(&format!("{} is not valid JSON: {e}", path.display())))
}

fn missing(dir: &Path) -> ! {
    fail(&format!(
        "shared corpora not found: {} has no data/ folder; put the shared folder beside the \
         repository or set BERTOPIC_SHARED=/path/to/shared",
        dir.display()
    ))
}

/// Fails with a single line. `resume_unwind` skips the panic hook, so no "panicked at" line and
/// no backtrace follow (CI sets `RUST_BACKTRACE=1`); the test harness still reports a failure.
fn fail(line: &str) -> ! {
    eprintln!("{line}");
    std::panic::resume_unwind(Box::new(line.to_string()))
}

/// `n` rows of `dim` floats (row-major): the rows of `base` as they are, then copies of them in
/// turn, each value moved by seeded uniform noise in ±0.005. How the UMAP bench and examples
/// reach sizes above the shared corpora; one copy so their figures stay comparable.
pub fn tile_rows(base: &[f32], dim: usize, n: usize) -> Vec<f32> {
    assert!(
        dim > 0 && base.len().is_multiple_of(dim) && !base.is_empty(),
        "base must hold whole rows"
    );
    let m = base.len() / dim;
    let mut state = 12345u64;
    let mut out = Vec::with_capacity(n * dim);
    for i in 0..n {
        for j in 0..dim {
            let x = base[(i % m) * dim + j];
            if i < m {
                out.push(x);
                continue;
            }
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            out.push(x + ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.01);
        }
    }
    out
}

/// `n` rows for the scale benches (`examples/scale_bench.rs`, bertopic-reduce's `knn_bench`):
/// the `m` real rows of `base` first; row r ≥ m is built from real row i = r mod m and one of
/// its `k` nearest real neighbours j (`neighbours`: row i's k indices at `i·k..`):
/// (1 − t)·x_i + t·x_j with t uniform in [0, 0.5), plus uniform noise of ±0.005 per coordinate,
/// then scaled to unit length (MiniLM's rows are). Pure noise around x_i makes the copies of a
/// row each other's nearest neighbours, and from 15 copies on the k-NN graph falls apart into
/// cliques of copies, which no real corpus looks like; leaning towards real neighbours fills
/// the same manifold more densely instead.
pub fn tile_towards_neighbours(
    base: ndarray::ArrayView2<f32>,
    n: usize,
    neighbours: &[u32],
    k: usize,
) -> ndarray::Array2<f32> {
    let (m, d) = base.dim();
    assert!(
        m > 0 && k > 0 && neighbours.len() >= m * k,
        "k neighbours per base row"
    );
    // SplitMix64 of `z`: a seeded, stateless stream (row r, draw t -> `mix(key(r, t))`).
    let mix = |z: u64| bertopic_rng::mix(z.wrapping_add(bertopic_rng::GAMMA));
    // Uniform in [0, 1) from 24 bits.
    let unit = |z: u64| (z >> 40) as f32 / (1u64 << 24) as f32;
    let mut out = ndarray::Array2::<f32>::zeros((n, d));
    for (r, mut row) in out.rows_mut().into_iter().enumerate() {
        let i = r % m;
        let xi = base.row(i);
        if r < m {
            row.assign(&xi);
            continue;
        }
        let key = (r as u64).wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x5CA1_E000_0000_0042;
        let j = neighbours[i * k + (mix(key) % k as u64) as usize] as usize;
        let t = 0.5 * unit(mix(key ^ 1));
        let xj = base.row(j);
        for (c, x) in row.iter_mut().enumerate() {
            let noise = (unit(mix(key.wrapping_add(2 + c as u64))) - 0.5) * 0.01;
            *x = (1.0 - t) * xi[c] + t * xj[c] + noise;
        }
        let norm = row.dot(&row).sqrt();
        if norm > 0.0 {
            row.mapv_inplace(|v| v / norm);
        }
    }
    out
}
