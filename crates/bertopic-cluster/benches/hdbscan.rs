//! HDBSCAN fit on 5-d points (the shared reference points tiled with small seeded noise).
use std::time::Duration;

use bertopic_cluster::{Clusterer, Hdbscan, HdbscanParams};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use ndarray::Array2;

fn points(n: usize) -> Array2<f64> {
    let v = bertopic_testdata::reference_json("hdbscan-reference.json");
    let base: Vec<Vec<f64>> = v["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect();
    let mut state = 7u64;
    let mut noise = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 0.05
    };
    let flat: Vec<f64> = (0..n)
        .flat_map(|i| base[i % base.len()].clone())
        .map(|x| x + noise())
        .collect();
    Array2::from_shape_vec((n, 5), flat).unwrap()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("hdbscan_fit");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    let h = Hdbscan::new(HdbscanParams::default()).unwrap();
    for n in [1_000, 10_000, 20_000] {
        let x = points(n);
        g.bench_with_input(BenchmarkId::from_parameter(n), &x, |b, x| {
            b.iter(|| h.fit(x.view()).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
