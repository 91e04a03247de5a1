//! Fit UMAP on the first N rows of a .npy (tiled with noise beyond its length); prints timings.
//! `cargo run --release --example fit_npy -- <path.npy> <n>`
use bertopic_reduce::{read_npy_f32, Reducer, Umap, UmapParams};
use ndarray::{s, Array2};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).ok_or("usage: fit_npy <path.npy> <n>")?;
    let n: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(1000);
    let all = read_npy_f32(std::path::Path::new(path))?;
    let (m, d) = all.dim();
    let data = if n <= m {
        all.slice(s![..n, ..]).to_owned()
    } else {
        let base = all.as_slice().ok_or("a .npy reads in standard layout")?;
        Array2::from_shape_vec((n, d), bertopic_testdata::tile_rows(base, d, n))?
    };
    let t = std::time::Instant::now();
    let (_f, emb) = Umap::new(UmapParams::default())?.fit(data.view())?;
    println!(
        "n={n} fit {:.3} s, emb[0]={:?}",
        t.elapsed().as_secs_f64(),
        emb.row(0)
    );
    Ok(())
}
