//! Embedding drift (MMD² permutation test) at the default sizes: 2,000 training vs 2,000 batch
//! rows of dimension 384 (a MiniLM-sized embedding): 200 permutations (the bar), and
//! the default 1,000 on a shifted batch, where the early stop never fires (the worst case).

use bertopic_drift::{embedding_drift, DriftConfig};
use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;
use std::time::Duration;

const ROWS: usize = 2000;
const DIM: usize = 384;

/// Seeded rows, roughly normal per coordinate (sum of four uniforms), shifted by `shift`.
fn sample(seed: u64, shift: f32) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((ROWS, DIM), |_| {
        (0..4).map(|_| rng.random::<f32>() - 0.5).sum::<f32>() + shift
    })
}

fn bench_mmd(c: &mut Criterion) {
    let training = sample(1, 0.0);
    let batch = sample(2, 0.02);
    let default = DriftConfig::default();
    assert_eq!(default.embedding.n_permutations, 1000);
    let mut config = default.clone();
    config.embedding.n_permutations = 200;
    config.embedding.stop_after_exceedances = 0;
    let mut group = c.benchmark_group("mmd");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("2000x2000x384_200perms", |b| {
        b.iter(|| {
            embedding_drift(black_box(training.view()), black_box(batch.view()), &config)
                .expect("valid input")
        })
    });
    let shifted = embedding_drift(training.view(), batch.view(), &default).expect("valid input");
    assert_eq!(
        shifted.permutations_run, 1000,
        "the shifted batch runs them all"
    );
    group.bench_function("2000x2000x384_1000perms_default_shifted", |b| {
        b.iter(|| {
            embedding_drift(
                black_box(training.view()),
                black_box(batch.view()),
                &default,
            )
            .expect("valid input")
        })
    });
    group.finish();
}

criterion_group!(benches, bench_mmd);
criterion_main!(benches);
