//! Prediction bench (issue #23): a model fitted on a seeded 70 % of the shared arXiv corpus
//! (MiniLM embeddings, seed 42) assigns 1 and 1,000 of the other documents, along the default
//! k-NN vote and along the UMAP + HDBSCAN path (training documents are not among them, so the
//! known-document lookup finds nothing and every document takes the strategy's path).

use std::time::Duration;

use bertopic::ndarray::Axis;
use bertopic::{Bertopic, PredictOptions, PredictStrategy};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn predict(c: &mut Criterion) {
    let (docs, emb) =
        bertopic_suite::corpus_with_embeddings("arxiv-cs-abstracts").expect("shared corpus");
    let texts: Vec<String> = docs.into_iter().map(|d| d.text).collect();
    let (train, test) = bertopic_suite::predict::split(texts.len(), 0.7, 42);
    let tr_texts: Vec<String> = train.iter().map(|&i| texts[i].clone()).collect();
    let model = Bertopic::builder()
        .seed(42)
        .build()
        .expect("defaults are valid")
        .fit_with_embeddings(&tr_texts, emb.select(Axis(0), &train))
        .expect("fit");
    let mut g = c.benchmark_group("predict");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for n in [1usize, 1000] {
        let rows = &test[..n];
        let t: Vec<String> = rows.iter().map(|&i| texts[i].clone()).collect();
        let e = emb.select(Axis(0), rows);
        for strategy in [PredictStrategy::Knn, PredictStrategy::Umap] {
            let opts = PredictOptions::with_strategy(strategy);
            // The lookup tables are built once per model; build them before timing.
            model
                .transform_embeddings_with(&t, &e, &opts)
                .expect("predict");
            g.bench_with_input(BenchmarkId::new(strategy.name(), n), &n, |b, _| {
                b.iter(|| {
                    model
                        .transform_embeddings_with(&t, &e, &opts)
                        .expect("predict")
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, predict);
criterion_main!(benches);
