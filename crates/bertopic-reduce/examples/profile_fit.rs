//! Per-stage timing of a UMAP fit (k-NN, fuzzy graph, spectral init, schedule, SGD) on a .npy of
//! embeddings, repeated to take the best total on a noisy machine.
//! `cargo run --release -p bertopic-reduce --example profile_fit -- <path.npy> [n] [repeats] [exact_knn_max] [n_components]`
//! (default: the sotu MiniLM embeddings, all rows, 3 repeats, the default exact k-NN limit; n
//! beyond the file's rows tiles it with small noise, like the bench).
use bertopic_reduce::{read_npy_f32, Reducer, Umap, UmapParams};
use ndarray::{s, Array2};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let default = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/sotu-chunks.minilm.npy"
    );
    let path = args.get(1).map(String::as_str).unwrap_or(default);
    let all = read_npy_f32(std::path::Path::new(path))?;
    let n: usize = args
        .get(2)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(all.nrows());
    let repeats: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(3);
    let data = if n <= all.nrows() {
        all.slice(s![..n, ..]).to_owned()
    } else {
        let d = all.ncols();
        let base = all.as_slice().ok_or("a .npy reads in standard layout")?;
        Array2::from_shape_vec((n, d), bertopic_testdata::tile_rows(base, d, n))?
    };
    // The fit prints its stage laps when this is set.
    std::env::set_var("BERTOPIC_REDUCE_TIMING", "1");
    let mut params = UmapParams::default();
    if let Some(m) = args.get(4) {
        params.exact_knn_max = m.parse()?;
    }
    if let Some(c) = args.get(5) {
        params.n_components = c.parse()?;
    }
    let umap = Umap::new(params)?;
    let mut best = f64::INFINITY;
    for r in 0..repeats {
        let t = std::time::Instant::now();
        let (_f, emb) = umap.fit(data.view())?;
        let secs = t.elapsed().as_secs_f64();
        best = best.min(secs);
        // FNV-1a over the output bits: equal hashes = bit-identical embeddings across versions.
        let hash = emb.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, x| {
            (h ^ x.to_bits() as u64).wrapping_mul(0x0000_0100_0000_01b3)
        });
        eprintln!("run {r}: n={n} fit {secs:.3} s, embedding hash {hash:016x}");
    }
    println!("n={n}: best fit of {repeats} = {best:.3} s");
    Ok(())
}
