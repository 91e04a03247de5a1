//! End-to-end bench: fit after embedding (UMAP + HDBSCAN + c-TF-IDF) on the shared corpora
//! with their precomputed MiniLM embeddings. Python BERTopic's warm fit on sotu-chunks is the
//! anchor (shared/reference/README.md).

use std::time::Duration;

use bertopic::Bertopic;
use criterion::{criterion_group, criterion_main, Criterion};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn load(name: &str) -> (Vec<String>, ndarray::Array2<f32>) {
    let (docs, emb) = bertopic_suite::corpus_with_embeddings(name).expect("shared corpus");
    (docs.into_iter().map(|d| d.text).collect(), emb)
}

fn fit_after_embedding(c: &mut Criterion) {
    let mut g = c.benchmark_group("pipeline_fit");
    g.sample_size(10).measurement_time(Duration::from_secs(30));
    for name in ["arxiv-cs-abstracts-200", "sotu-chunks"] {
        let (texts, emb) = load(name);
        let topic_model = Bertopic::builder()
            .seed(42)
            .build()
            .expect("defaults are valid");
        g.bench_function(name, |b| {
            b.iter(|| {
                topic_model
                    .fit_with_embeddings(&texts, emb.clone())
                    .expect("fit")
            })
        });
        let m = topic_model
            .fit_with_embeddings(&texts, emb.clone())
            .expect("fit");
        let t = m.timings();
        eprintln!(
            "{name}: {} topics, {:.1}% outliers; reduce {:.2} s, cluster {:.2} s, represent {:.2} s",
            m.n_topics(),
            100.0 * m.outlier_fraction(),
            t.reduce_s,
            t.cluster_s,
            t.represent_s
        );
    }
    g.finish();
}

criterion_group!(benches, fit_after_embedding);
criterion_main!(benches);
