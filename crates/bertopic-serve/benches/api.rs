//! `POST /api/v1/predict` through HTTP on 127.0.0.1: 1 document and 100 documents per request
//! (issue #17's bars: 1 document < 20 ms p50, 100 documents < 1 s).
//!
//! ```text
//! cargo bench -p bertopic-serve --bench api
//! ```
//! Setup trains a model on the 200 arXiv abstracts committed in `examples/data/` (embedding
//! them with all-MiniLM-L6-v2, which must be fetched: `bertopic fetch-model`), registers it in a
//! temporary registry and starts the server in-process. Every request embeds its documents (the
//! server never reads or writes the embedding cache), so the figures include the encoder.
//! The 50-client load test is `cargo run --release --example serve_load` at the workspace root.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use bertopic::preprocess::{read_corpus, ReadOptions};
use bertopic::Bertopic;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn sample_texts() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/data/arxiv-cs-abstracts-200.csv");
    let (docs, _) = read_corpus(&path, &ReadOptions::default())
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    docs.into_iter().map(|d| d.text).collect()
}

fn predict(agent: &ureq::Agent, url: &str, docs: &[String]) {
    let body: serde_json::Value = agent
        .post(url)
        .send_json(serde_json::json!({ "documents": docs }))
        .unwrap_or_else(|e| panic!("predict failed: {e}"))
        .into_json()
        .expect("predict answered JSON");
    assert_eq!(
        body["topics"].as_array().map(Vec::len),
        Some(docs.len()),
        "one topic per document: {body}"
    );
}

fn bench_predict(c: &mut Criterion) {
    let texts = sample_texts();
    let tmp = tempfile::tempdir().expect("temp dir");
    let model = Bertopic::builder()
        .min_topic_size(5)
        .seed(42)
        .build()
        .expect("params")
        .fit(&texts)
        .expect("fit on the arXiv sample (is the model fetched? `bertopic fetch-model`)");
    let dir = tmp.path().join("model");
    model.save(&dir).expect("save");
    let registry = tmp.path().join("registry");
    bertopic::registry::Registry::new(&registry)
        .register("bench", &dir, BTreeMap::new())
        .expect("register");
    let server = bertopic_serve::Server::start(bertopic_serve::ServeConfig {
        registry,
        data: tmp.path().join("serve"),
        addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        ..bertopic_serve::ServeConfig::default()
    })
    .expect("server starts");
    let url = format!("http://{}/api/v1/predict", server.addr());
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .build();
    // The first request loads the model and the encoder weights.
    predict(&agent, &url, &texts[..1]);

    let mut g = c.benchmark_group("predict_http");
    for n in [1usize, 100] {
        // 100 abstracts take seconds each on 2 cores: criterion's minimum sample count.
        g.sample_size(if n == 1 { 30 } else { 10 });
        // A different window of documents each iteration, all of them embedded by the server.
        let mut start = 0usize;
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter(|| {
                let docs: Vec<String> = (0..n)
                    .map(|i| texts[(start + i) % texts.len()].clone())
                    .collect();
                start += n;
                predict(&agent, &url, &docs);
            })
        });
    }
    g.finish();
    server.shutdown().expect("graceful shutdown");
}

criterion_group!(benches, bench_predict);
criterion_main!(benches);
