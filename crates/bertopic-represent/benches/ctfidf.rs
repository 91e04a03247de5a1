//! c-TF-IDF fit on sotu-chunks (10,598 docs, Title + " " + Abstract) with 140 pseudo-topics
//! (contiguous chunks, the first chunk playing the outliers), using the sklearn-compatible
//! tokenizer of bertopic-preprocess. Python anchor: BERTopic's c-TF-IDF stage, 1.87 s warm.

use std::time::Duration;

use bertopic_preprocess::{Tokenizer, TokenizerConfig};
use bertopic_represent::{fit, fit_streaming, RepresentParams};
use criterion::{criterion_group, criterion_main, Criterion};

fn load() -> Vec<String> {
    let mut rdr = csv::Reader::from_path(bertopic_testdata::data("sotu-chunks.csv"))
        .expect("sotu-chunks.csv");
    rdr.records()
        .filter_map(Result::ok)
        .map(|r| format!("{} {}", r.get(0).unwrap_or(""), r.get(1).unwrap_or("")))
        .collect()
}

fn bench(c: &mut Criterion) {
    let docs = load();
    let n_topics = 140;
    let chunk = docs.len().div_ceil(n_topics);
    let labels: Vec<i64> = (0..docs.len()).map(|i| (i / chunk) as i64 - 1).collect();
    let tokenizer = Tokenizer::new(TokenizerConfig::default()).expect("tokenizer");
    let analyzer = |s: &str| tokenizer.terms(s);
    let stream = |s: &str, f: &mut dyn FnMut(&str)| tokenizer.for_each_term(s, f);
    let params = RepresentParams::default();
    let mut g = c.benchmark_group("ctfidf");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("fit_sotu_140_topics", |b| {
        b.iter(|| fit(&docs, &labels, &analyzer, &params).expect("fit"))
    });
    g.bench_function("fit_streaming_sotu_140_topics", |b| {
        b.iter(|| fit_streaming(&docs, &labels, &stream, &params).expect("fit"))
    });
    let rep = fit(&docs, &labels, &analyzer, &params).expect("fit");
    let outliers: Vec<String> = docs.iter().take(chunk).cloned().collect();
    g.bench_function("doc_topic_similarity_76_docs", |b| {
        b.iter(|| rep.doc_topic_similarity(&outliers, &analyzer).expect("sim"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
