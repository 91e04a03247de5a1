//! UMAP fit speed on real MiniLM embeddings (arxiv .npy, 20,000 × 384): 1k, 10k (500 epochs),
//! 10,598 (> 10k so 200 epochs, the size of the umap-learn anchor), and 50k tiled with small
//! noise when BERTOPIC_BENCH_50K is set (it takes minutes).
use bertopic_reduce::{read_npy_f32, Reducer, Umap, UmapParams};
use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::{s, Array2};
use std::time::Duration;

use bertopic_testdata::{shared_dir as shared, tile_rows};

fn bench(c: &mut Criterion) {
    // A missing shared folder fails the bench with one line (no silent skip, no backtrace).
    let all = read_npy_f32(&shared().join("data/arxiv-cs-abstracts.minilm.npy"))
        .expect("arxiv-cs-abstracts.minilm.npy reads");
    let umap = Umap::new(UmapParams::default()).expect("default params are valid");
    let mut g = c.benchmark_group("umap_fit_384_to_5");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .warm_up_time(Duration::from_secs(1));
    let mut sizes = vec![1_000usize, 10_000, 10_598];
    if std::env::var_os("BERTOPIC_BENCH_50K").is_some() {
        sizes.push(50_000);
    }
    for n in sizes {
        let data = if n <= all.nrows() {
            all.slice(s![..n, ..]).to_owned()
        } else {
            let d = all.ncols();
            let base = all.as_slice().expect("a .npy reads in standard layout");
            Array2::from_shape_vec((n, d), tile_rows(base, d, n)).expect("n rows of d")
        };
        g.bench_function(format!("n={n}"), |b| {
            b.iter(|| umap.fit(data.view()).expect("fit"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
